import type { FastifyInstance } from "fastify";
import { pageSchema } from "../core/paging.ts";
import type { Database } from "../persistence/database.ts";
import { typedRoutes } from "../server/app.ts";
import { errorSchema } from "../server/errors.ts";
import { fetchKeySet, parsePublishedKeySet } from "./published-keys.ts";
import { CORRESPONDENT_STATUSES, correspondentStore, correspondentToJson, limitOf, VALIDATION_PROFILES } from "./store.ts";

const operatorOnly = { access: ["operator"] as const };
const tags = ["correspondents"];
const bicPattern = "^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$";

const keySchema = {
  type: "object",
  additionalProperties: false,
  required: ["keyId", "publicKey"],
  properties: {
    keyId: { type: "string", minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:-]+$" },
    publicKey: { type: "string", minLength: 43, maxLength: 66, description: "raw Ed25519 public key, 32 bytes as hex or base64" },
  },
} as const;

const editable = {
  name: { type: "string", minLength: 1, maxLength: 140 },
  baseUrl: { type: "string", minLength: 1, maxLength: 2048, description: "its gateway's base URL; messages go to <baseUrl>/iso20022/inbound" },
  liquidityAccounts: { type: "array", maxItems: 32, items: { type: "string", minLength: 1, maxLength: 128 }, description: "accounts on our ledger that may pay when it instructs us" },
  settlementAccount: { type: ["string", "null"], minLength: 1, maxLength: 128, description: "its own account on our ledger, paid by every leg it instructs us to lock; null = it may not instruct us" },
  maxAmount: { type: ["string", "null"], pattern: "^\\d{1,18}(\\.\\d{1,4})?$", description: "largest PvP leg it may instruct, decimal with at most the currency's decimals (ISO 4217); null = no limit" },
  maxAmountCurrency: { type: "string", pattern: "^[A-Z]{3}$", description: "the currency of maxAmount (default KZT); legs in another currency are refused while a limit is set" },
  validationProfile: { type: "string", enum: [...VALIDATION_PROFILES] },
} as const;

const correspondentSchema = {
  type: "object",
  required: ["bic", "name", "baseUrl", "status", "liquidityAccounts", "validationProfile", "signingKeys"],
  properties: {
    bic: { type: "string" },
    name: { type: "string" },
    baseUrl: { type: "string" },
    status: { type: "string", enum: [...CORRESPONDENT_STATUSES] },
    principalId: { type: "string" },
    liquidityAccounts: { type: "array", items: { type: "string" } },
    settlementAccount: { type: ["string", "null"] },
    maxAmount: { type: ["string", "null"] },
    maxAmountCurrency: { type: ["string", "null"] },
    validationProfile: { type: "string" },
    signingKeys: {
      type: "array",
      items: {
        type: "object",
        properties: { keyId: { type: "string" }, publicKey: { type: "string" }, createdAt: { type: "string" }, revokedAt: { type: ["string", "null"] } },
      },
    },
    createdAt: { type: "string" },
    updatedAt: { type: "string" },
  },
} as const;

const bicParams = { type: "object", additionalProperties: false, required: ["bic"], properties: { bic: { type: "string", pattern: bicPattern } } } as const;


/**
 * The operator API of the directory of correspondents. Every change is read by every gateway process
 * within seconds (the directory's refresh), with no restart.
 */
export function correspondentRoutes(db: Database, onChange: () => Promise<void> | void = () => {}) {
  const respond = async <T>(work: () => Promise<T>): Promise<T> => {
    const result = await work();
    await onChange();
    return result;
  };
  return async function routes(fastify: FastifyInstance): Promise<void> {
    const app = typedRoutes(fastify);
    app.post(
      "/operator/correspondents",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Add a correspondent central bank to the directory, with its first signing keys",
          body: {
            type: "object",
            additionalProperties: false,
            required: ["bic", "name", "baseUrl"],
            properties: { bic: { type: "string", pattern: bicPattern }, ...editable, signingKeys: { type: "array", maxItems: 8, items: keySchema } },
          },
          response: { 201: correspondentSchema, 400: errorSchema, 409: errorSchema },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const record = await respond(async () => {
          const { maxAmount, maxAmountCurrency } = limitOf(body.maxAmount, body.maxAmountCurrency);
          return correspondentStore.add(db, {
            bic: body.bic,
            name: body.name,
            baseUrl: body.baseUrl,
            ...(body.liquidityAccounts ? { liquidityAccounts: body.liquidityAccounts } : {}),
            ...(body.settlementAccount ? { settlementAccount: body.settlementAccount } : {}),
            ...(maxAmount ? { maxAmount, maxAmountCurrency } : {}),
            ...(body.validationProfile ? { validationProfile: body.validationProfile } : {}),
            ...(body.signingKeys ? { signingKeys: body.signingKeys } : {}),
          });
        });
        return reply.status(201).send(correspondentToJson(record));
      },
    );

    app.get(
      "/operator/correspondents",
      {
        config: operatorOnly,
        schema: { tags, summary: "The directory of correspondents (public keys only)", response: { 200: pageSchema(correspondentSchema) } },
      },
      // The directory is small: one page, so `next` is always null.
      async () => ({ items: (await correspondentStore.list(db)).map(correspondentToJson), next: null }),
    );

    app.get(
      "/operator/correspondents/:bic",
      { config: operatorOnly, schema: { tags, summary: "One correspondent", params: bicParams, response: { 200: correspondentSchema, 404: errorSchema } } },
      async (request) => correspondentToJson(await respond(() => correspondentStore.require(db, request.params.bic))),
    );

    app.patch(
      "/operator/correspondents/:bic",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Change a correspondent's name, base URL, liquidity accounts, settlement account, largest amount or validation profile",
          params: bicParams,
          body: { type: "object", additionalProperties: false, minProperties: 1, properties: editable },
          response: { 200: correspondentSchema, 400: errorSchema, 404: errorSchema },
        },
      },
      async (request) => {
        const body = request.body;
        return correspondentToJson(
          await respond(async () => {
            const limit = limitOf(body.maxAmount, body.maxAmountCurrency);
            return correspondentStore.update(db, request.params.bic, {
              ...(body.name !== undefined ? { name: body.name } : {}),
              ...(body.baseUrl !== undefined ? { baseUrl: body.baseUrl } : {}),
              ...(body.liquidityAccounts !== undefined ? { liquidityAccounts: body.liquidityAccounts } : {}),
              ...(body.settlementAccount !== undefined ? { settlementAccount: body.settlementAccount } : {}),
              ...limit,
              ...(body.validationProfile !== undefined ? { validationProfile: body.validationProfile } : {}),
            });
          }),
        );
      },
    );

    app.post(
      "/operator/correspondents/:bic/keys",
      {
        config: operatorOnly,
        schema: { tags, summary: "Add a signing key (accepted from the next request on)", params: bicParams, body: keySchema, response: { 201: correspondentSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema } },
      },
      async (request, reply) => reply.status(201).send(correspondentToJson(await respond(() => correspondentStore.addKey(db, request.params.bic, request.body)))),
    );

    app.post(
      "/operator/correspondents/:bic/keys/:keyId/revoke",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Revoke a signing key (refused from the next request on)",
          params: { type: "object", additionalProperties: false, required: ["bic", "keyId"], properties: { bic: bicParams.properties.bic, keyId: { type: "string", minLength: 1, maxLength: 128 } } },
          response: { 200: correspondentSchema, 404: errorSchema },
        },
      },
      async (request) => correspondentToJson(await respond(() => correspondentStore.revokeKey(db, request.params.bic, request.params.keyId))),
    );

    app.post(
      "/operator/correspondents/:bic/keys/pin",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Pin the key set the correspondent publishes: fetched from <baseUrl>/iso20022/keys, or as given",
          params: bicParams,
          body: { type: "object", additionalProperties: false, properties: { keySet: { type: "object", description: "the set as GET /iso20022/keys answers; absent: fetched from the correspondent" } } },
          response: { 200: correspondentSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema, 502: errorSchema },
        },
      },
      async (request) => {
        const { bic } = request.params;
        const current = await correspondentStore.require(db, bic);
        const set = request.body?.keySet ? parsePublishedKeySet(request.body.keySet, bic) : await fetchKeySet(current.baseUrl, bic);
        return correspondentToJson(await respond(() => correspondentStore.pinKeys(db, bic, set)));
      },
    );

    for (const [action, status] of [
      ["suspend", "suspended"],
      ["activate", "active"],
    ] as const) {
      app.post(
        `/operator/correspondents/:bic/${action}`,
        {
          config: operatorOnly,
          schema: { tags, summary: action === "suspend" ? "Suspend a correspondent: its messages are refused" : "Make a suspended correspondent active again", params: bicParams, response: { 200: correspondentSchema, 404: errorSchema } },
        },
        async (request) => correspondentToJson(await respond(() => correspondentStore.setStatus(db, request.params.bic, status))),
      );
    }
  };
}
