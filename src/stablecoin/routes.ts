import type { FastifyError, FastifyInstance, FastifyRequest } from "fastify";
import { pageSchema } from "../core/paging.ts";
import { AmountError } from "../core/money.ts";
import { isDtLedgerError } from "../ledger/dt-ledger-port.ts";
import type { Database } from "../persistence/database.ts";
import { typedRoutes } from "../server/app.ts";
import { ApiError, errorSchema } from "../server/errors.ts";
import { StablecoinError } from "./errors.ts";
import { EXCHANGE_STATUSES, type Exchange, type ExchangeStore } from "./exchanges.ts";
import { CURRENCY, currencySchema, formatKzt, kztSchema, parseKzt } from "./kzt.ts";
import { cancelMint, MintError, requestMint, type MintRequest } from "./mint-flow.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { remintRedemption, rerouteRedemption, retryRedemption, type Redemption } from "./redeem-flow.ts";
import { MINT_STATES, REDEMPTION_STATES } from "./state-machines.ts";
import type { StablecoinLedger } from "./stablecoin-ledger.ts";
import { DEPOSIT_STATUSES, depositRows, mintedToday, mintRows, redemptionRows, requestedToday, type Deposit, type ListFilter } from "./store.ts";

export interface StablecoinRouteOptions {
  db: Database;
  exchanges: ExchangeStore;
  ledger: Pick<StablecoinLedger, "transfer">;
  /** The collateral intake: where mint deposits are paid, and held ones are returned from. */
  intakeAccount: string;
  rateLimiter: RateLimiter;
  /** Called when a request may have work for the workers (wakes them). */
  onChange?(): void;
}

const exchangeSchema = {
  type: "object",
  required: ["id", "name", "dtAccount", "evmAddresses", "perMintLimit", "dailyLimit", "currency", "status", "createdAt"],
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    dtAccount: { type: "string" },
    evmAddresses: { type: "array", items: { type: "string" } },
    perMintLimit: kztSchema,
    dailyLimit: kztSchema,
    currency: currencySchema,
    status: { type: "string", enum: [...EXCHANGE_STATUSES] },
    createdAt: { type: "string", format: "date-time" },
  },
} as const;

const mintSchema = {
  type: "object",
  required: ["id", "reference", "exchangeId", "amount", "currency", "toAddress", "state", "createdAt", "updatedAt"],
  properties: {
    id: { type: "string" },
    reference: { type: "string" },
    exchangeId: { type: "string" },
    amount: kztSchema,
    currency: currencySchema,
    toAddress: { type: "string" },
    state: { type: "string", enum: [...MINT_STATES] },
    depositEventId: { type: ["string", "null"] },
    mintedTxHash: { type: ["string", "null"] },
    mintedBlock: { type: ["string", "null"] },
    attempts: { type: "integer" },
    failureCode: { type: ["string", "null"] },
    failureMessage: { type: ["string", "null"] },
    createdAt: { type: "string", format: "date-time" },
    updatedAt: { type: "string", format: "date-time" },
    depositedAt: { type: ["string", "null"], format: "date-time" },
    mintedAt: { type: ["string", "null"], format: "date-time" },
    reversesRedemption: { type: ["string", "null"], description: "on a re-mint: the refused redemption whose tokens it mints back" },
    payment: {
      type: "object",
      description: "How to fund the request: pay exactly this amount to this DT account with this reference (not on a re-mint)",
      properties: { toAccount: { type: "string" }, amount: kztSchema, currency: currencySchema, reference: { type: "string" } },
    },
  },
} as const;

const redemptionSchema = {
  type: "object",
  required: ["id", "chainId", "txHash", "logIndex", "blockNumber", "holder", "amount", "currency", "dtAccount", "state"],
  properties: {
    id: { type: "string", description: "chainId:txHash:logIndex, the idempotency key of the payout" },
    chainId: { type: "integer" },
    txHash: { type: "string" },
    logIndex: { type: "integer" },
    blockNumber: { type: "string" },
    blockHash: { type: "string" },
    holder: { type: "string" },
    amount: kztSchema,
    currency: currencySchema,
    dtAccount: { type: "string" },
    exchangeId: { type: ["string", "null"] },
    state: { type: "string", enum: [...REDEMPTION_STATES] },
    payoutTransactionId: { type: ["string", "null"] },
    failureCode: { type: ["string", "null"] },
    failureMessage: { type: ["string", "null"] },
    attempts: { type: "integer" },
    createdAt: { type: "string", format: "date-time" },
    paidAt: { type: ["string", "null"], format: "date-time" },
  },
} as const;

const depositSchema = {
  type: "object",
  properties: {
    eventId: { type: "string" },
    ledgerTransactionId: { type: "string" },
    fromAccount: { type: "string" },
    amount: kztSchema,
    currency: currencySchema,
    reference: { type: "string" },
    height: { type: "string" },
    bookedAt: { type: "string", format: "date-time" },
    status: { type: "string", enum: [...DEPOSIT_STATUSES] },
    holdReason: { type: ["string", "null"] },
    mintId: { type: ["string", "null"] },
    exchangeId: { type: ["string", "null"] },
    returnTransactionId: { type: ["string", "null"] },
  },
} as const;

const limitSchema = { type: "integer", minimum: 1, maximum: 500, default: 50 } as const;
const beforeSchema = { type: "string", maxLength: 400, description: "the `next` of the previous page (opaque)" } as const;

const listQuery = {
  type: "object",
  properties: { limit: limitSchema, before: beforeSchema, state: { type: "string" } },
  additionalProperties: false,
} as const;

/** The list filter of a query: an exchange sees its own items only. */
function listFilter(exchange: Exchange | undefined, query: { limit: number; before?: string; state?: string }): ListFilter {
  return { ...(exchange ? { exchangeId: exchange.id } : {}), limit: query.limit, ...(query.before ? { before: query.before } : {}), ...(query.state ? { state: query.state } : {}) };
}

const idParams = { type: "object", required: ["id"], properties: { id: { type: "string", maxLength: 200 } } } as const;

const exchangeJson = (exchange: Exchange) => ({
  ...exchange,
  perMintLimit: formatKzt(exchange.perMintLimit),
  dailyLimit: formatKzt(exchange.dailyLimit),
  currency: CURRENCY,
  createdAt: exchange.createdAt.toISOString(),
});

const iso = (date: Date | null) => (date ? date.toISOString() : null);

function mintJson(mint: MintRequest, intakeAccount: string) {
  return {
    ...mint,
    amount: formatKzt(mint.amount),
    currency: CURRENCY,
    mintedBlock: mint.mintedBlock === null ? null : mint.mintedBlock.toString(),
    createdAt: mint.createdAt.toISOString(),
    updatedAt: mint.updatedAt.toISOString(),
    depositedAt: iso(mint.depositedAt),
    mintedAt: iso(mint.mintedAt),
    ...(mint.reversesRedemption ? {} : { payment: { toAccount: intakeAccount, amount: formatKzt(mint.amount), currency: CURRENCY, reference: mint.reference } }),
  };
}

const redemptionJson = (redemption: Redemption) => ({
  ...redemption,
  blockNumber: redemption.blockNumber.toString(),
  amount: formatKzt(redemption.amount),
  currency: CURRENCY,
  createdAt: redemption.createdAt.toISOString(),
  paidAt: iso(redemption.paidAt),
});

/** Request fields that hold KZT amounts: any schema refusal of one (missing, not a string, bad format) is INVALID_AMOUNT. */
const AMOUNT_FIELDS = new Set(["amount", "perMintLimit", "dailyLimit"]);

/** The KZT amount field a schema validation failure is about, if it is about one. */
function refusedAmountField(error: FastifyError): string | undefined {
  for (const item of error.validation ?? []) {
    const field = item.params["missingProperty"] ?? item.instancePath.split("/").pop();
    if (typeof field === "string" && AMOUNT_FIELDS.has(field)) return field;
  }
  return undefined;
}

/**
 * Exchange and operator API of the stablecoin. Exchanges see and act on their own requests only; the
 * operator onboards exchanges, sees everything and deals with held deposits and failed redemptions.
 */
export function stablecoinRoutes(options: StablecoinRouteOptions) {
  const { db, exchanges, intakeAccount } = options;

  async function callerExchange(request: FastifyRequest): Promise<Exchange | undefined> {
    const principal = request.principal!;
    if (principal.role !== "exchange") return undefined;
    const exchange = await exchanges.byPrincipal(principal.id);
    if (!exchange) throw new StablecoinError("NOT_AN_EXCHANGE", "this principal is not linked to an onboarded exchange");
    return exchange;
  }

  return async function routes(app: FastifyInstance): Promise<void> {
    app.addHook("preHandler", options.rateLimiter.hook());
    app.setErrorHandler((error: FastifyError, _request, reply) => {
      const field = refusedAmountField(error);
      if (field) throw new AmountError("INVALID_AMOUNT", `${field} must be a KZT amount as a string with up to 2 decimals, like "2500.00"`);
      throw error;
      return reply;
    });
    const typed = typedRoutes(app);

    // ---- operator: exchanges --------------------------------------------------------------------------
    typed.post(
      "/stablecoin/exchanges",
      {
        config: { access: ["operator"] },
        schema: {
          tags: ["stablecoin"],
          summary: "Onboard an exchange: creates its principal and returns its API key once",
          body: {
            type: "object",
            required: ["name", "dtAccount", "evmAddresses", "perMintLimit", "dailyLimit"],
            additionalProperties: false,
            properties: {
              id: { type: "string", pattern: "^[a-z0-9_-]{3,40}$" },
              name: { type: "string", minLength: 1, maxLength: 140 },
              dtAccount: { type: "string", minLength: 1, maxLength: 64 },
              evmAddresses: { type: "array", minItems: 1, maxItems: 20, items: { type: "string" } },
              perMintLimit: kztSchema,
              dailyLimit: kztSchema,
            },
          },
          response: {
            201: {
              type: "object",
              properties: { exchange: exchangeSchema, credentials: { type: "object", properties: { principal: { type: "string" }, credentialId: { type: "string" }, apiKey: { type: "string" } } } },
            },
            400: errorSchema,
            409: errorSchema,
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const onboarded = await exchanges.onboard({
          ...(body.id ? { id: body.id } : {}),
          name: body.name,
          dtAccount: body.dtAccount,
          evmAddresses: body.evmAddresses,
          perMintLimit: parseKzt(body.perMintLimit),
          dailyLimit: parseKzt(body.dailyLimit),
        });
        request.log.info({ event: "stablecoin.exchange_onboarded", exchange: onboarded.exchange.id, credential: onboarded.credentialId }, "exchange onboarded");
        return reply.status(201).send({
          exchange: exchangeJson(onboarded.exchange),
          credentials: { principal: onboarded.exchange.principalId, credentialId: onboarded.credentialId, apiKey: onboarded.apiKey },
        });
      },
    );

    typed.get(
      "/stablecoin/exchanges",
      { config: { access: ["operator"] }, schema: { tags: ["stablecoin"], summary: "List exchanges", response: { 200: pageSchema(exchangeSchema) } } } as const,
      // Exchanges are few: one page, so `next` is always null.
      async () => ({ items: (await exchanges.list()).map(exchangeJson), next: null }),
    );

    typed.patch(
      "/stablecoin/exchanges/:id",
      {
        config: { access: ["operator"] },
        schema: {
          tags: ["stablecoin"],
          summary: "Change an exchange's status, limits or addresses",
          params: idParams,
          body: {
            type: "object",
            additionalProperties: false,
            properties: {
              status: { type: "string", enum: [...EXCHANGE_STATUSES] },
              perMintLimit: kztSchema,
              dailyLimit: kztSchema,
              evmAddresses: { type: "array", minItems: 1, maxItems: 20, items: { type: "string" } },
            },
          },
          response: { 200: exchangeSchema, 400: errorSchema, 404: errorSchema },
        },
      },
      async (request) => {
        const body = request.body;
        const updated = await exchanges.update(request.params.id, {
          ...(body.status ? { status: body.status } : {}),
          ...(body.perMintLimit ? { perMintLimit: parseKzt(body.perMintLimit) } : {}),
          ...(body.dailyLimit ? { dailyLimit: parseKzt(body.dailyLimit) } : {}),
          ...(body.evmAddresses ? { evmAddresses: body.evmAddresses } : {}),
        });
        return exchangeJson(updated);
      },
    );

    // ---- exchange: its own profile -----------------------------------------------------------------------
    typed.get(
      "/stablecoin/exchange",
      {
        config: { access: ["exchange"] },
        schema: {
          tags: ["stablecoin"],
          summary: "The calling exchange: limits and today's use",
          response: { 200: { type: "object", properties: { exchange: exchangeSchema, today: { type: "object", properties: { requested: kztSchema, minted: kztSchema, currency: currencySchema } } } } },
        },
      },
      async (request) => {
        const exchange = (await callerExchange(request))!;
        const now = new Date();
        return {
          exchange: exchangeJson(exchange),
          today: { requested: formatKzt(await requestedToday(db, exchange.id, now)), minted: formatKzt(await mintedToday(db, exchange.id, now)), currency: CURRENCY },
        };
      },
    );

    // ---- mints ---------------------------------------------------------------------------------------------
    typed.post(
      "/stablecoin/mints",
      {
        config: { access: ["exchange"] },
        schema: {
          tags: ["stablecoin"],
          summary: "Ask for a mint; then pay the DT into payment.toAccount (the collateral intake) with the returned reference",
          body: { type: "object", required: ["amount"], additionalProperties: false, properties: { amount: kztSchema, toAddress: { type: "string" } } },
          response: { 201: mintSchema, 400: errorSchema, 403: errorSchema, 422: errorSchema, 429: errorSchema },
        },
      },
      async (request, reply) => {
        const exchange = (await callerExchange(request))!;
        const body = request.body;
        const amount = parseKzt(body.amount);
        if (amount <= 0n) throw new AmountError("INVALID_AMOUNT", "the amount must be positive");
        const mint = await requestMint(db, exchange, amount, body.toAddress);
        request.log.info({ event: "stablecoin.mint_requested", mint: mint.id, exchange: exchange.id, amount: mint.amount.toString() }, "mint requested");
        return reply.status(201).send(mintJson(mint, intakeAccount));
      },
    );

    typed.get(
      "/stablecoin/mints",
      {
        config: { access: ["exchange", "operator"] },
        schema: {
          tags: ["stablecoin"],
          summary: "Mint requests, newest first (an exchange sees its own)",
          querystring: listQuery,
          response: { 200: pageSchema(mintSchema), 400: errorSchema },
        },
      },
      async (request) => {
        const page = await mintRows.list(db, listFilter(await callerExchange(request), request.query));
        return { items: page.items.map((mint) => mintJson(mint, intakeAccount)), next: page.next };
      },
    );

    typed.get(
      "/stablecoin/mints/:id",
      { config: { access: ["exchange", "operator"] }, schema: { tags: ["stablecoin"], summary: "One mint request", params: idParams, response: { 200: mintSchema, 404: errorSchema } } },
      async (request) => {
        const exchange = await callerExchange(request);
        const mint = await mintRows.get(db, request.params.id);
        // Another exchange's request answers exactly like a missing one.
        if (!mint || (exchange && mint.exchangeId !== exchange.id)) throw new MintError("MINT_NOT_FOUND", "no such mint request");
        return mintJson(mint, intakeAccount);
      },
    );

    typed.post(
      "/stablecoin/mints/:id/cancel",
      { config: { access: ["exchange"] }, schema: { tags: ["stablecoin"], summary: "Cancel a request that has not been paid", params: idParams, response: { 200: mintSchema, 404: errorSchema, 409: errorSchema } } },
      async (request) => {
        const exchange = (await callerExchange(request))!;
        return mintJson(await cancelMint(db, exchange.id, request.params.id), intakeAccount);
      },
    );

    // ---- redemptions -------------------------------------------------------------------------------------
    typed.get(
      "/stablecoin/redemptions",
      {
        config: { access: ["exchange", "operator"] },
        schema: {
          tags: ["stablecoin"],
          summary: "Redemptions seen on chain and their DT payouts, newest first (an exchange sees its own)",
          querystring: listQuery,
          response: { 200: pageSchema(redemptionSchema), 400: errorSchema },
        },
      },
      async (request) => {
        const page = await redemptionRows.list(db, listFilter(await callerExchange(request), request.query));
        return { items: page.items.map(redemptionJson), next: page.next };
      },
    );

    typed.post(
      "/stablecoin/redemptions/:id/reroute",
      {
        config: { access: ["operator"] },
        schema: {
          tags: ["stablecoin"],
          summary: "Pay a refused redemption to a corrected DT account (audited, once per failure)",
          params: idParams,
          body: { type: "object", required: ["dtAccount"], additionalProperties: false, properties: { dtAccount: { type: "string", minLength: 1, maxLength: 64 } } },
          response: { 202: redemptionSchema, 409: errorSchema },
        },
      },
      async (request, reply) => {
        const id = request.params.id;
        const { dtAccount } = request.body;
        const rerouted = await rerouteRedemption(db, id, dtAccount, request.principal!.id);
        if (!rerouted) throw new StablecoinError("NOT_FAILED", `redemption ${id} is not in the failed state`);
        request.log.info({ event: "stablecoin.redemption_rerouted", redemption: id, by: request.principal!.id, dtAccount }, "redemption re-routed");
        options.onChange?.();
        return reply.status(202).send(redemptionJson(rerouted));
      },
    );

    typed.post(
      "/stablecoin/redemptions/:id/remint",
      {
        config: { access: ["operator"] },
        schema: {
          tags: ["stablecoin"],
          summary: "Mint a refused redemption's tokens back to the redeemer instead of paying DT (audited, once)",
          params: idParams,
          response: { 202: { type: "object", properties: { redemption: redemptionSchema, mint: mintSchema } }, 409: errorSchema },
        },
      },
      async (request, reply) => {
        const id = request.params.id;
        const { redemption, mint } = await remintRedemption(db, id, request.principal!.id);
        request.log.info({ event: "stablecoin.redemption_reminted", redemption: id, mint: mint.id, by: request.principal!.id }, "redemption re-minted");
        options.onChange?.();
        return reply.status(202).send({ redemption: redemptionJson(redemption), mint: mintJson(mint, intakeAccount) });
      },
    );

    typed.post(
      "/stablecoin/redemptions/:id/retry",
      { config: { access: ["operator"] }, schema: { tags: ["stablecoin"], summary: "Try a failed DT payout again", params: idParams, response: { 202: { type: "object", properties: { id: { type: "string" }, state: { type: "string" } } }, 409: errorSchema } } },
      async (request, reply) => {
        const id = request.params.id;
        if (!(await retryRedemption(db, id))) throw new StablecoinError("NOT_FAILED", `redemption ${id} is not in the failed state`);
        options.onChange?.();
        return reply.status(202).send({ id, state: "confirmed" });
      },
    );

    // ---- operator: deposits --------------------------------------------------------------------------------
    typed.get(
      "/stablecoin/deposits",
      {
        config: { access: ["operator"] },
        schema: {
          tags: ["stablecoin"],
          summary: "DT deposits into the collateral intake, newest first (status=held: those waiting for an operator)",
          querystring: {
            type: "object",
            properties: { status: { type: "string", enum: [...DEPOSIT_STATUSES] }, limit: { ...limitSchema, default: 100 }, before: beforeSchema },
            additionalProperties: false,
          },
          response: { 200: pageSchema(depositSchema), 400: errorSchema },
        },
      },
      async (request) => {
        const query = request.query;
        const page = await depositRows.list(db, { ...(query.status ? { status: query.status } : {}), limit: query.limit, ...(query.before ? { before: query.before } : {}) });
        return { items: page.items.map(depositJson), next: page.next };
      },
    );

    typed.post(
      "/stablecoin/deposits/:id/return",
      {
        config: { access: ["operator"] },
        schema: { tags: ["stablecoin"], summary: "Pay a held deposit back to its sender", params: idParams, response: { 200: depositSchema, 404: errorSchema, 409: errorSchema, 502: errorSchema } },
      },
      async (request) => {
        const id = request.params.id;
        const deposit = await depositRows.get(db, id);
        if (!deposit) throw new StablecoinError("DEPOSIT_NOT_FOUND", `no deposit ${id}`);
        if (deposit.status !== "held") throw new StablecoinError("DEPOSIT_NOT_HELD", `deposit ${id} is ${deposit.status}`);
        // Outside any database transaction (the embedded ledger may share the gateway's PGlite). The event id
        // keys the return, so a repeated or concurrent request gets the same payment back, never a second.
        let receipt: { transactionId: string };
        try {
          receipt = await options.ledger.transfer({
            idempotencyKey: `deposit-return:${id}`,
            from: intakeAccount,
            to: deposit.fromAccount,
            amount: deposit.amount,
            reference: `RETURN ${deposit.reference.slice(0, 100)}`,
            // A return, not a payout: the token matches payouts with redemptions (docs/contracts.md).
            returnOf: deposit.ledgerTransactionId,
          });
        } catch (error) {
          if (isDtLedgerError(error)) throw new ApiError(502, `DT_${error.code}`, `the DT ledger refused the return: ${error.message}`);
          throw error;
        }
        const returned = await depositRows.markReturned(db, id, receipt.transactionId);
        if (!returned) throw new StablecoinError("DEPOSIT_NOT_HELD", `deposit ${id} was returned by another request`);
        request.log.info({ event: "stablecoin.deposit_returned", deposit: id }, "held deposit returned");
        options.onChange?.();
        return depositJson(returned);
      },
    );
  };
}

function depositJson(deposit: Deposit) {
  return {
    ...deposit,
    amount: formatKzt(deposit.amount),
    currency: CURRENCY,
    height: deposit.height.toString(),
    bookedAt: deposit.bookedAt.toISOString(),
  };
}
