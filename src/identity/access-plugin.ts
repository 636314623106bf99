import type { FastifyInstance, FastifyRequest } from "fastify";
import { CodedError } from "../core/errors.ts";
import {
  SignatureError,
  verifySignatureHeaders,
  verifySignedBody,
  type AcceptedSignature,
  type SignatureFailure,
  type SignedMessage,
} from "./http-signature.ts";
import type { Access, Principal } from "./principal.ts";
import type { IdentityStore } from "./store.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Who may call the route; required on every route. */
    access?: Access;
    /** "signature": only RFC 9421 signed requests, never an API key (messages between central banks). */
    credentials?: "any" | "signature";
  }
  interface FastifyRequest {
    /** The authenticated caller, or null on public routes. */
    principal: Principal | null;
    /** A request signature that verified over the headers; its body digest is checked once the body is read. */
    pendingSignature: AcceptedSignature | null;
  }
}

export interface AccessOptions {
  identity: IdentityStore;
  maxSkewSeconds: number;
  /** The authorities (host[:port]) this gateway answers to; unset: the Host header as received. */
  authorities?: readonly string[];
}

/** A caller refused before its request is handled: not authenticated (401) or its role not allowed (403). */
export class AccessError extends CodedError<SignatureFailure | "SIGNATURE_REQUIRED" | "UNAUTHENTICATED" | "INVALID_API_KEY" | "FORBIDDEN"> {}

/** The request line and headers as a signature covers them. */
export function signedMessageOf(request: FastifyRequest): SignedMessage {
  // An HTTP/1.0 request may come without a Host: it then signs nothing we could match, and fails verification.
  return { method: request.method, scheme: request.protocol, authority: request.host || "", target: request.url, headers: request.headers };
}

/**
 * Authentication and authorisation for every route. A route declares `config.access`; a route without one
 * is refused at registration, so nothing is served by accident. Callers present an API key
 * (`Authorization: Bearer tgk_...`) or an Ed25519 request signature (RFC 9421). The caller is known, and
 * its role checked, before the body is read (`onRequest`): an unauthenticated request gets 401 and a wrong
 * role 403 before any 400 or 413. A signature is verified over the request line and headers first; once
 * the body is read within the limit, its Content-Digest is compared and the nonce spent (`preValidation`).
 * Refusals are logged with the key id, never the secret.
 */
export function installAccessControl(app: FastifyInstance, options: AccessOptions): void {
  app.decorateRequest("principal", null);
  app.decorateRequest("pendingSignature", null);
  const checkAccess = async (request: FastifyRequest) => {
    const access = request.routeOptions.config.access as Exclude<Access, "public">;
    const principal = await authenticate(request, options);
    if (!access.includes(principal.role)) {
      request.log.warn({ event: "access.forbidden", principal: principal.id, role: principal.role, credential: principal.credentialId }, "role not allowed");
      throw new AccessError("FORBIDDEN", `role ${principal.role} may not call this route`);
    }
    request.principal = principal;
  };
  const checkSignedBody = async (request: FastifyRequest) => {
    const pending = request.pendingSignature;
    if (!pending) return;
    try {
      await verifySignedBody(pending, { headers: request.headers, body: request.rawBody }, {
        rememberNonce: (keyId, nonce, keepUntil) => options.identity.rememberNonce(keyId, nonce, keepUntil),
      });
    } catch (error) {
      request.principal = null;
      if (error instanceof SignatureError) {
        request.log.warn({ event: "access.unauthenticated", code: error.code, keyId: pending.keyId }, "authentication failed");
      }
      throw error;
    }
  };
  // The checks are hooks of the routes that need them, not of every request: a public route (health, the
  // page, proof of collateral) runs none of this, and the not-found handler answers 404 without it.
  app.addHook("onRoute", (route) => {
    const access = route.config?.access;
    if (access === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no config.access`);
    }
    if (access === "public") return;
    route.onRequest = [checkAccess, ...hookList(route.onRequest)];
    route.preValidation = [checkSignedBody, ...hookList(route.preValidation)];
  });
}

/** A route's own hooks of one kind as a list (fastify takes one function or several). */
export function hookList<Hook>(hooks: Hook | Hook[] | undefined): Hook[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}

async function authenticate(request: FastifyRequest, options: AccessOptions): Promise<Principal> {
  const deny = (code: AccessError["code"], message: string, keyId?: string): never => {
    request.log.warn({ event: "access.unauthenticated", code, keyId }, "authentication failed");
    throw new AccessError(code, message);
  };
  if (request.headers["signature-input"] !== undefined || request.headers["signature"] !== undefined) {
    const principals = new Map<string, Principal>();
    try {
      request.pendingSignature = await verifySignatureHeaders(signedMessageOf(request), {
        maxSkewSeconds: options.maxSkewSeconds,
        ...(options.authorities ? { authorities: options.authorities } : {}),
        lookupKey: async (keyId) => {
          const found = await options.identity.signingKey(keyId);
          if (found) principals.set(keyId, found.principal);
          return found?.key;
        },
      });
    } catch (error) {
      if (error instanceof SignatureError) return deny(error.code, error.message);
      throw error;
    }
    return principals.get(request.pendingSignature.keyId) ?? deny("UNKNOWN_KEY", "the signing key is unknown or revoked");
  }
  if (request.routeOptions.config.credentials === "signature") {
    return deny("SIGNATURE_REQUIRED", "this route accepts only RFC 9421 signed requests, not API keys");
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
