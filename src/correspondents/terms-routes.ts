import type { FastifyInstance } from "fastify";
import { amountFromDecimal } from "../core/money.ts";
import type { Database } from "../persistence/database.ts";
import { typedRoutes } from "../server/app.ts";
import { errorSchema } from "../server/errors.ts";
import { fxProviderKeyToJson, fxProviderStore } from "./fx-providers.ts";
import { standingTermsToJson, termsStore } from "./terms.ts";

const operatorOnly = { access: ["operator"] as const };
const tags = ["correspondents"];
const bic = { type: "string", pattern: "^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$" } as const;
const currency = { type: "string", pattern: "^[A-Z]{3}$" } as const;
const decimal = { type: "string", pattern: "^\\d{1,15}(\\.\\d{1,5})?$" } as const;

const termsSchema = {
  type: "object",
  properties: {
    counterpartyAgent: { type: "string" },
    foreignLedger: { type: "string" },
    foreignCurrency: { type: "string" },
    maxAmount: { type: "string", description: "largest foreign leg of one PvP, in the foreign currency" },
    dailyLimit: { type: "string", description: "largest sum of foreign legs created per UTC day" },
    usedToday: { type: "string" },
    rateBandBps: { type: "integer" },
    dtBeneficiaries: { type: "array", items: { type: "string" } },
    updatedBy: { type: "string" },
    updatedAt: { type: "string" },
  },
} as const;

const fxKeySchema = {
  type: "object",
  properties: {
    keyId: { type: "string" },
    providerId: { type: "string" },
    providerName: { type: "string" },
    publicKey: { type: "string" },
    namedBy: { type: "array", items: { type: "string" } },
    createdBy: { type: "string" },
    createdAt: { type: "string" },
    revokedAt: { type: ["string", "null"] },
  },
} as const;

const rateSchema = {
  type: "object",
  properties: { foreignCurrency: { type: "string" }, rate: { type: "string", description: "KZT per one unit of the foreign currency" }, setBy: { type: "string" }, setAt: { type: "string" } },
} as const;


/**
 * The operator API of the counterparties' consent: standing terms per corridor and the reference rates
 * they are judged against. Every change is audited (who, when, what) and readable at `/operator/consent/audit`.
 */
export function termsRoutes(db: Database) {
  return async function routes(fastify: FastifyInstance): Promise<void> {
    const app = typedRoutes(fastify);

    app.put(
      "/operator/correspondents/:bic/terms/:ledger/:currency",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Set a correspondent's standing terms for a corridor (its foreign ledger and currency against KZT): limits, rate band, its DT settlement accounts",
          params: { type: "object", additionalProperties: false, required: ["bic", "ledger", "currency"], properties: { bic, ledger: { type: "string", minLength: 1, maxLength: 64 }, currency } },
          body: {
            type: "object",
            additionalProperties: false,
            required: ["maxAmount", "dailyLimit", "rateBandBps", "dtBeneficiaries"],
            properties: {
              maxAmount: decimal,
              dailyLimit: decimal,
              rateBandBps: { type: "integer", minimum: 0, maximum: 10000 },
              dtBeneficiaries: { type: "array", minItems: 1, maxItems: 16, items: { type: "string", minLength: 1, maxLength: 128 } },
            },
          },
          response: { 200: termsSchema, 400: errorSchema, 404: errorSchema },
        },
      },
      async (request) => {
        const { bic: counterpartyAgent, ledger, currency: foreignCurrency } = request.params;
        const body = request.body;
        const terms = await termsStore.setTerms(
          db,
          {
            counterpartyAgent,
            foreignLedger: ledger,
            foreignCurrency,
            maxForeignAmount: amountFromDecimal(body.maxAmount, foreignCurrency).minorUnits,
            dailyForeignAmount: amountFromDecimal(body.dailyLimit, foreignCurrency).minorUnits,
            rateBandBps: body.rateBandBps,
            dtBeneficiaries: body.dtBeneficiaries,
          },
          request.principal!.id,
        );
        return standingTermsToJson(terms);
      },
    );

    app.delete(
      "/operator/correspondents/:bic/terms/:ledger/:currency",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Remove a corridor's standing terms: PvPs on it then need a signed quote",
          params: { type: "object", additionalProperties: false, required: ["bic", "ledger", "currency"], properties: { bic, ledger: { type: "string", minLength: 1, maxLength: 64 }, currency } },
          response: { 204: { type: "null" }, 404: errorSchema },
        },
      },
      async (request, reply) => {
        const { bic: counterpartyAgent, ledger, currency: foreignCurrency } = request.params;
        await termsStore.removeTerms(db, { counterpartyAgent, foreignLedger: ledger, foreignCurrency }, request.principal!.id);
        return reply.status(204).send();
      },
    );

    app.get(
      "/operator/terms",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Every corridor's standing terms, with what today's PvPs used of the daily limit",
          querystring: { type: "object", additionalProperties: false, properties: { counterparty: bic } },
          response: { 200: { type: "object", properties: { items: { type: "array", items: termsSchema }, next: { type: ["string", "null"] } } } },
        },
      },
      // One row per corridor: the whole list is one page.
      async (request) => ({ items: (await termsStore.listTerms(db, new Date(), request.query.counterparty)).map(standingTermsToJson), next: null }),
    );

    app.put(
      "/operator/reference-rates/:currency",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Set the reference rate of a currency: KZT per one unit of it (standing terms' rate bands are around it)",
          params: { type: "object", additionalProperties: false, required: ["currency"], properties: { currency } },
          body: { type: "object", additionalProperties: false, required: ["rate"], properties: { rate: { type: "string", pattern: "^\\d{1,12}(\\.\\d{1,9})?$" } } },
          response: { 200: rateSchema, 400: errorSchema },
        },
      },
      async (request) => {
        const rate = await termsStore.setReferenceRate(db, request.params.currency, request.body.rate, request.principal!.id);
        return { ...rate, setAt: rate.setAt.toISOString() };
      },
    );

    app.get(
      "/operator/reference-rates",
      { config: operatorOnly, schema: { tags, summary: "The reference rates", response: { 200: { type: "object", properties: { items: { type: "array", items: rateSchema }, next: { type: ["string", "null"] } } } } } },
      async () => ({ items: (await termsStore.referenceRates(db)).map((rate) => ({ ...rate, setAt: rate.setAt.toISOString() })), next: null }),
    );

    app.put(
      "/operator/correspondents/:bic/fx-providers",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Set the FX providers a correspondent lets sign quotes for it (on its word; an empty list: only its own signature counts)",
          params: { type: "object", additionalProperties: false, required: ["bic"], properties: { bic } },
          body: { type: "object", additionalProperties: false, required: ["providers"], properties: { providers: { type: "array", maxItems: 16, items: bic } } },
          response: { 200: { type: "object", properties: { counterpartyAgent: { type: "string" }, providers: { type: "array", items: { type: "string" } } } }, 400: errorSchema, 404: errorSchema },
        },
      },
      async (request) => ({
        counterpartyAgent: request.params.bic,
        providers: await fxProviderStore.setNamed(db, request.params.bic, request.body.providers, request.principal!.id),
      }),
    );

    app.post(
      "/operator/fx-providers/:provider/keys",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Register a quote-signing key of an FX provider (it signs quotes only; it authenticates no request)",
          params: { type: "object", additionalProperties: false, required: ["provider"], properties: { provider: bic } },
          body: {
            type: "object",
            additionalProperties: false,
            required: ["name", "keyId", "publicKey"],
            properties: {
              name: { type: "string", minLength: 1, maxLength: 140 },
              keyId: { type: "string", minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:-]+$" },
              publicKey: { type: "string", minLength: 43, maxLength: 66, description: "raw Ed25519 public key, 32 bytes as hex or base64" },
            },
          },
          response: { 201: fxKeySchema, 400: errorSchema },
        },
      },
      async (request, reply) => {
        const { name, keyId, publicKey } = request.body;
        const key = await fxProviderStore.addKey(db, { providerId: request.params.provider, providerName: name, keyId, publicKey }, request.principal!.id);
        return reply.status(201).send(fxProviderKeyToJson(key));
      },
    );

    app.post(
      "/operator/fx-providers/:provider/keys/:keyId/revoke",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Revoke an FX provider's quote-signing key: quotes signed with it are refused from now on",
          params: { type: "object", additionalProperties: false, required: ["provider", "keyId"], properties: { provider: bic, keyId: { type: "string", minLength: 1, maxLength: 128 } } },
          response: { 200: { type: "object", properties: { providerId: { type: "string" }, keyId: { type: "string" }, revoked: { type: "boolean" } } }, 404: errorSchema },
        },
      },
      async (request) => {
        await fxProviderStore.revokeKey(db, request.params.provider, request.params.keyId, request.principal!.id);
        return { providerId: request.params.provider, keyId: request.params.keyId, revoked: true };
      },
    );

    app.get(
      "/operator/fx-providers",
      {
        config: operatorOnly,
        schema: { tags, summary: "FX providers' quote-signing keys and the counterparties that name each provider", response: { 200: { type: "object", properties: { items: { type: "array", items: fxKeySchema }, next: { type: ["string", "null"] } } } } },
      },
      async () => ({ items: (await fxProviderStore.list(db)).map(fxProviderKeyToJson), next: null }),
    );

    app.get(
      "/operator/consent/audit",
      {
        config: operatorOnly,
        schema: {
          tags,
          summary: "Every change of standing terms and reference rates, newest first",
          querystring: { type: "object", additionalProperties: false, properties: { limit: { type: "integer", minimum: 1, maximum: 500, default: 100 } } },
          response: {
            200: {
              type: "object",
              properties: {
                items: {
                  type: "array",
                  items: { type: "object", properties: { id: { type: "string" }, at: { type: "string" }, actor: { type: "string" }, action: { type: "string" }, subject: { type: "string" }, detail: { type: "object", additionalProperties: true } } },
                },
              },
            },
          },
        },
      },
      async (request) => ({ items: (await termsStore.auditTrail(db, request.query.limit ?? 100)).map((entry) => ({ ...entry, at: entry.at.toISOString() })), next: null }),
    );
  };
}
