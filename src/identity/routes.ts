import type { FastifyInstance } from "fastify";
import { pageSchema } from "../core/paging.ts";
import { errorSchema, typedRoutes } from "../core/http-routes.ts";
import { BIC_PATTERN, ROLES } from "./principal.ts";
import { institutionFor, type IdentityStore } from "./store.ts";

const operatorOnly = { access: ["operator"] as const };
const tags = ["identity"];

const credentialSchema = {
  type: "object",
  required: ["id", "kind", "createdAt"],
  properties: {
    id: { type: "string" },
    kind: { type: "string", enum: ["api_key", "ed25519"] },
    label: { type: ["string", "null"] },
    publicKey: { type: ["string", "null"] },
    createdAt: { type: "string", format: "date-time" },
    revokedAt: { type: ["string", "null"], format: "date-time" },
  },
} as const;

const principalSchema = {
  type: "object",
  required: ["id", "role", "name"],
  properties: {
    id: { type: "string" },
    role: { type: "string", enum: [...ROLES] },
    name: { type: "string" },
    institution: {
      type: ["object", "null"],
      properties: { bic: { type: "string" }, dtParticipant: { type: "string" } },
    },
    createdAt: { type: "string", format: "date-time" },
    revokedAt: { type: ["string", "null"], format: "date-time" },
    credentials: { type: "array", items: credentialSchema },
  },
} as const;

const idParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 128 } },
} as const;

/** The operator API that registers and revokes principals and their credentials. */
export function identityRoutes(identity: IdentityStore) {
  return async function routes(fastify: FastifyInstance): Promise<void> {
    const app = typedRoutes(fastify);
    app.post(
      "/operator/principals",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Register a principal (operator, bank, correspondent or exchange) bound to its institution",
          security: [{ apiKey: [] }],
          body: {
            type: "object",
            required: ["role", "name"],
            additionalProperties: false,
            properties: {
              role: { type: "string", enum: [...ROLES] },
              name: { type: "string", minLength: 1, maxLength: 200 },
              id: { type: "string", pattern: "^[A-Za-z0-9_.:-]{1,128}$" },
              bic: { type: "string", pattern: BIC_PATTERN, description: "the institution's BIC (banks, correspondents, exchanges)" },
              dtParticipant: { type: "string", minLength: 1, maxLength: 64, description: "banks: the DT participant that services their customers' accounts" },
            },
          },
          response: { 201: principalSchema, 400: errorSchema, 409: errorSchema },
        },
      },
      async (request, reply) => {
        const { role, name, id: wanted, bic, dtParticipant } = request.body;
        const institution = institutionFor(role, bic, dtParticipant);
        const id = await identity.createPrincipal(role, name, wanted, institution);
        request.log.info({ event: "identity.principal_created", principal: id, bic, by: request.principal?.id }, "principal registered");
        return reply.status(201).send({ id, role, name, institution: institution ?? null, credentials: [] });
      },
    );

    app.post(
      "/operator/institutions/:bic/ledger-accounts",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Register an account on a foreign ledger (EVM address) as the institution's: banks may name it in PvP foreign legs",
          security: [{ apiKey: [] }],
          params: { type: "object", required: ["bic"], properties: { bic: { type: "string", pattern: BIC_PATTERN } } },
          body: {
            type: "object",
            required: ["ledger", "account"],
            additionalProperties: false,
            properties: { ledger: { type: "string", minLength: 1, maxLength: 64 }, account: { type: "string", minLength: 1, maxLength: 128 } },
          },
          response: { 201: { type: "object", properties: { bic: { type: "string" }, ledger: { type: "string" }, account: { type: "string" } } }, 400: errorSchema, 409: errorSchema },
        },
      },
      async (request, reply) => {
        const { ledger, account } = request.body;
        await identity.registerLedgerAccount(request.params.bic, ledger, account);
        request.log.info({ event: "identity.ledger_account_registered", bic: request.params.bic, ledger, account, by: request.principal?.id }, "ledger account registered");
        return reply.status(201).send({ bic: request.params.bic, ledger, account });
      },
    );

    app.get(
      "/operator/institutions/:bic/ledger-accounts",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "The foreign-ledger accounts registered for an institution",
          security: [{ apiKey: [] }],
          params: { type: "object", required: ["bic"], properties: { bic: { type: "string", pattern: BIC_PATTERN } } },
          response: { 200: { type: "object", properties: { items: { type: "array", items: { type: "object", properties: { ledger: { type: "string" }, account: { type: "string" } } } } } } },
        },
      },
      async (request) => ({ items: await identity.ledgerAccounts(request.params.bic) }),
    );

    app.get(
      "/operator/principals",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "List principals and their credentials (never secrets)",
          security: [{ apiKey: [] }],
          response: { 200: pageSchema(principalSchema) },
        },
      },
      // Principals are few: one page, so `next` is always null.
      async () => ({ items: await identity.list(), next: null }),
    );

    app.post(
      "/operator/principals/:id/api-keys",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Issue an API key; the key is returned once and stored only as a hash",
          security: [{ apiKey: [] }],
          params: idParams,
          body: { type: "object", additionalProperties: false, properties: { label: { type: "string", maxLength: 200 } } },
          response: {
            201: {
              type: "object",
              required: ["credentialId", "apiKey"],
              properties: { credentialId: { type: "string" }, apiKey: { type: "string" } },
            },
            404: errorSchema,
          },
        },
      },
      async (request, reply) => {
        const issued = await identity.issueApiKey(request.params.id, request.body?.label);
        request.log.info({ event: "identity.api_key_issued", principal: request.params.id, credential: issued.credentialId }, "API key issued");
        return reply.status(201).send(issued);
      },
    );

    app.post(
      "/operator/principals/:id/signing-keys",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Register an Ed25519 public key for RFC 9421 request signatures",
          security: [{ apiKey: [] }],
          params: idParams,
          body: {
            type: "object",
            required: ["publicKey"],
            additionalProperties: false,
            properties: {
              publicKey: { type: "string", description: "32-byte Ed25519 public key, hex or base64" },
              keyId: { type: "string", pattern: "^[A-Za-z0-9_.:-]{1,128}$" },
              label: { type: "string", maxLength: 200 },
            },
          },
          response: {
            201: { type: "object", required: ["keyId"], properties: { keyId: { type: "string" } } },
            400: errorSchema,
            404: errorSchema,
            409: errorSchema,
          },
        },
      },
      async (request, reply) => {
        const { publicKey, keyId, label } = request.body;
        const id = await identity.registerSigningKey(request.params.id, publicKey, keyId, label);
        request.log.info({ event: "identity.signing_key_registered", principal: request.params.id, keyId: id }, "signing key registered");
        return reply.status(201).send({ keyId: id });
      },
    );

    // Principals and credentials are revoked by separate routes, so an id can never hit the wrong kind.
    for (const kind of ["principals", "credentials"] as const) {
      app.post(
        `/operator/${kind}/:id/revoke`,
        {
          config: operatorOnly,
          schema: {
            tags,
            summary: kind === "principals" ? "Revoke a principal and all its credentials" : "Revoke one credential (API key or signing key)",
            security: [{ apiKey: [] }],
            params: idParams,
            response: {
              200: { type: "object", required: ["revoked", "id"], properties: { revoked: { type: "string", enum: ["principal", "credential"] }, id: { type: "string" } } },
              404: errorSchema,
            },
          },
        },
        async (request) => {
          const id = request.params.id;
          if (kind === "principals") await identity.revokePrincipal(id);
          else await identity.revokeCredential(id);
          const revoked = kind === "principals" ? "principal" : "credential";
          request.log.info({ event: "identity.revoked", id, kind: revoked, by: request.principal?.id }, "revoked");
          return { revoked, id };
        },
      );
    }
  };
}
