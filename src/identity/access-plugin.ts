import type { FastifyInstance, FastifyRequest } from "fastify";
import { ApiError } from "../server/errors.ts";
import { SignatureError, verifyRequest } from "./http-signature.ts";
import type { Access, Principal } from "./principal.ts";
import type { IdentityStore } from "./store.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Who may call the route; required on every route. */
    access?: Access;
  }
  interface FastifyRequest {
    /** The authenticated caller, or null on public routes. */
    principal: Principal | null;
  }
}

export interface AccessOptions {
  identity: IdentityStore;
  maxSkewSeconds: number;
}

/**
 * Authentication and authorisation for every route. A route declares `config.access`; a route without one
 * is refused at registration, so nothing is served by accident. Callers present an API key
 * (`Authorization: Bearer tgk_...`) or an Ed25519 request signature (RFC 9421). Missing or bad credentials
 * answer 401, a wrong role 403; both are logged with the key id, never the secret.
 */
export function installAccessControl(app: FastifyInstance, options: AccessOptions): void {
  app.decorateRequest("principal", null);
  app.addHook("onRoute", (route) => {
    if (route.config?.access === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no config.access`);
    }
  });
  app.addHook("preValidation", async (request) => {
    const access = request.routeOptions.config.access;
    // Only the not-found handler has no access rule (registration refuses such routes); let it answer 404.
    if (access === "public" || access === undefined) return;
    const principal = await authenticate(request, options);
    if (!access.includes(principal.role)) {
      request.log.warn({ event: "access.forbidden", principal: principal.id, role: principal.role, credential: principal.credentialId }, "role not allowed");
      throw new ApiError(403, "FORBIDDEN", `role ${principal.role} may not call this route`);
    }
    request.principal = principal;
  });
}

async function authenticate(request: FastifyRequest, options: AccessOptions): Promise<Principal> {
  const deny = (code: string, message: string, keyId?: string): never => {
    request.log.warn({ event: "access.unauthenticated", code, keyId }, "authentication failed");
    throw new ApiError(401, code, message);
  };
  if (request.headers["signature-input"] !== undefined || request.headers["signature"] !== undefined) {
    let principal: Principal | undefined;
    try {
      await verifyRequest(
        { method: request.method, url: request.url, body: request.rawBody, headers: request.headers },
        {
          maxSkewSeconds: options.maxSkewSeconds,
          lookupKey: async (keyId) => {
            const found = await options.identity.signingKey(keyId);
            principal = found?.principal;
            return found?.key;
          },
          rememberNonce: (keyId, nonce, expiresAt) => options.identity.rememberNonce(keyId, nonce, expiresAt),
        },
      );
    } catch (error) {
      if (error instanceof SignatureError) return deny(error.code, error.message);
      throw error;
    }
    return principal ?? deny("UNKNOWN_KEY", "the signing key is unknown or revoked");
  }
  const authorization = request.headers.authorization;
  const apiKey = authorization?.startsWith("Bearer ") ? authorization.slice(7).trim() : request.headers["x-api-key"];
  if (typeof apiKey !== "string" || apiKey === "") {
    return deny("UNAUTHENTICATED", "credentials required: an API key (Authorization: Bearer) or a request signature");
  }
  const principal = await options.identity.authenticateApiKey(apiKey);
  // Only the key's public id part is logged, never the secret.
  return principal ?? deny("INVALID_API_KEY", "the API key is unknown, revoked or wrong", apiKey.slice(0, 20));
}
