import type { FastifyInstance, FastifyRequest } from "fastify";
import { pageSchema } from "../core/paging.ts";
import { AmountError } from "../core/money.ts";
import { typedRoutes } from "../server/app.ts";
import { errorSchema } from "../server/errors.ts";
import { CURRENCY, currencySchema, formatKzt, kztSchema, parseKzt } from "./kzt.ts";
import { DEPOSIT_STATUSES, EXCHANGE_STATUSES, MINT_STATES, REDEMPTION_STATES, type Deposit, type Exchange, type MintRequest, type Redemption } from "./model.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { Caller, StablecoinService } from "./service.ts";

export interface StablecoinRouteOptions {
  service: StablecoinService;
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
  required: ["id", "reference", "chainId", "exchangeId", "amount", "currency", "toAddress", "state", "createdAt", "updatedAt"],
  properties: {
    id: { type: "string" },
    chainId: { type: "integer", description: "the EVM chain the request mints on" },
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
    moveId: { type: ["string", "null"], description: "on a move's mint: the move between chains it completes (no DT to pay)" },
    payment: {
      type: "object",
      description: "How to fund the request: pay exactly this amount to this DT account with this reference (not on a re-mint or a move's mint)",
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
  properties: { limit: limitSchema, before: beforeSchema, state: { type: "string" }, chainId: { type: "integer", minimum: 1, description: "only this chain's" } },
  additionalProperties: false,
} as const;

/** The page a list query asks for. */
function pageOf(query: { limit: number; before?: string; state?: string; chainId?: number }) {
  return { limit: query.limit, ...(query.before ? { before: query.before } : {}), ...(query.state ? { state: query.state } : {}), ...(query.chainId === undefined ? {} : { chainId: query.chainId }) };
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

function mintJsonOf(mint: MintRequest, intakeAccount: string, defaultChainId: number) {
  return {
    ...mint,
    // Null only before the component adopted a request from before several chains: it is the first chain's.
    chainId: mint.chainId ?? defaultChainId,
    amount: formatKzt(mint.amount),
    currency: CURRENCY,
    mintedBlock: mint.mintedBlock === null ? null : mint.mintedBlock.toString(),
    createdAt: mint.createdAt.toISOString(),
    updatedAt: mint.updatedAt.toISOString(),
    depositedAt: iso(mint.depositedAt),
    mintedAt: iso(mint.mintedAt),
    // Re-mints and moves' mints have no deposit behind them: nothing to pay.
    ...(mint.reversesRedemption || mint.moveId ? {} : { payment: { toAccount: intakeAccount, amount: formatKzt(mint.amount), currency: CURRENCY, reference: mint.reference } }),
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

/**
 * A KZT amount field of a request body. The schema leaves its type open so that every bad value (missing,
 * not a string, bad format) is refused here with the one code INVALID_AMOUNT.
 */
const kztInput = { description: 'KZT as a string with up to 2 decimals, like "2500.00"' } as const;

function amountOf(value: unknown, field: string): bigint {
  if (typeof value !== "string") throw new AmountError("INVALID_AMOUNT", `${field} must be a KZT amount as a string with up to 2 decimals, like "2500.00"`);
  try {
    return parseKzt(value);
  } catch {
    throw new AmountError("INVALID_AMOUNT", `${field} must be a KZT amount as a string with up to 2 decimals, like "2500.00"`);
  }
}

/**
 * Exchange and operator API of the stablecoin. Exchanges see and act on their own requests only; the
 * operator onboards exchanges, sees everything and deals with held deposits and failed redemptions.
 */
export function stablecoinRoutes(options: StablecoinRouteOptions) {
  const { service } = options;
  const intakeAccount = service.intakeAccount;
  const mintJson = (mint: MintRequest) => mintJsonOf(mint, intakeAccount, service.defaultChainId);

  /** The caller as the service sees it (an `exchange` principal acts for its exchange). */
  async function callerOf(request: FastifyRequest): Promise<Caller> {
    const principal = request.principal!;
    return principal.role === "exchange" ? { kind: "exchange", exchange: await service.exchangeOf(principal.id) } : { kind: "operator", principalId: principal.id };
  }

  async function callerExchange(request: FastifyRequest): Promise<Exchange> {
    const caller = await callerOf(request);
    if (caller.kind !== "exchange") throw new Error("an exchange-only route reached without an exchange principal");
    return caller.exchange;
  }

  return async function routes(app: FastifyInstance): Promise<void> {
    app.addHook("preHandler", options.rateLimiter.hook());
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
            required: ["name", "dtAccount", "evmAddresses"],
            additionalProperties: false,
            properties: {
              id: { type: "string", pattern: "^[a-z0-9_-]{3,40}$" },
              name: { type: "string", minLength: 1, maxLength: 140 },
              dtAccount: { type: "string", minLength: 1, maxLength: 64 },
              evmAddresses: { type: "array", minItems: 1, maxItems: 20, items: { type: "string" } },
              perMintLimit: kztInput,
              dailyLimit: kztInput,
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
        const onboarded = await service.onboardExchange({
          ...(body.id ? { id: body.id } : {}),
          name: body.name,
          dtAccount: body.dtAccount,
          evmAddresses: body.evmAddresses,
          perMintLimit: amountOf(body.perMintLimit, "perMintLimit"),
          dailyLimit: amountOf(body.dailyLimit, "dailyLimit"),
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
      async () => ({ items: (await service.listExchanges()).map(exchangeJson), next: null }),
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
              perMintLimit: kztInput,
              dailyLimit: kztInput,
              evmAddresses: { type: "array", minItems: 1, maxItems: 20, items: { type: "string" } },
            },
          },
          response: { 200: exchangeSchema, 400: errorSchema, 404: errorSchema },
        },
      },
      async (request) => {
        const body = request.body;
        const updated = await service.updateExchange(request.params.id, {
          ...(body.status ? { status: body.status } : {}),
          ...(body.perMintLimit !== undefined ? { perMintLimit: amountOf(body.perMintLimit, "perMintLimit") } : {}),
          ...(body.dailyLimit !== undefined ? { dailyLimit: amountOf(body.dailyLimit, "dailyLimit") } : {}),
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
        const exchange = await callerExchange(request);
        const today = await service.today(exchange);
        return {
          exchange: exchangeJson(exchange),
          today: { requested: formatKzt(today.requested), minted: formatKzt(today.minted), currency: CURRENCY },
        };
      },
    );

    // ---- chains --------------------------------------------------------------------------------------------
    typed.get(
      "/stablecoin/chains",
      {
        config: { access: ["exchange", "operator"] },
        schema: {
          tags: ["stablecoin"],
          summary: "The chains the stablecoin is minted on, the default (first) one first",
          response: {
            200: {
              type: "object",
              properties: {
                items: {
                  type: "array",
                  items: { type: "object", required: ["chainId", "token", "default"], properties: { chainId: { type: "integer" }, token: { type: "string" }, default: { type: "boolean" } } },
                },
              },
            },
          },
        },
      },
      async () => ({ items: service.chains.map((chain, index) => ({ chainId: chain.chainId, token: chain.token, default: index === 0 })) }),
    );

    // ---- mints ---------------------------------------------------------------------------------------------
    typed.post(
      "/stablecoin/mints",
      {
        config: { access: ["exchange"] },
        schema: {
          tags: ["stablecoin"],
          summary: "Ask for a mint; then pay the DT into payment.toAccount (the collateral intake) with the returned reference",
          body: {
            type: "object",
            additionalProperties: false,
            properties: {
              amount: kztInput,
              toAddress: { type: "string" },
              chainId: { type: "integer", minimum: 1, description: "the EVM chain to mint on (default: the first configured; GET /stablecoin/chains lists them)" },
            },
          },
          response: { 201: mintSchema, 400: errorSchema, 403: errorSchema, 422: errorSchema, 429: errorSchema },
        },
      },
      async (request, reply) => {
        const exchange = await callerExchange(request);
        const body = request.body;
        const amount = amountOf(body.amount, "amount");
        if (amount <= 0n) throw new AmountError("INVALID_AMOUNT", "the amount must be positive");
        const mint = await service.requestMint(exchange, amount, body.toAddress, body.chainId);
        request.log.info({ event: "stablecoin.mint_requested", mint: mint.id, exchange: exchange.id, chain: mint.chainId, amount: mint.amount.toString() }, "mint requested");
        return reply.status(201).send(mintJson(mint));
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
        const page = await service.listMints(await callerOf(request), pageOf(request.query));
        return { items: page.items.map((mint) => mintJson(mint)), next: page.next };
      },
    );

    typed.get(
      "/stablecoin/mints/:id",
      { config: { access: ["exchange", "operator"] }, schema: { tags: ["stablecoin"], summary: "One mint request", params: idParams, response: { 200: mintSchema, 404: errorSchema } } },
      async (request) => {
        const mint = await service.getMint(await callerOf(request), request.params.id);
        return mintJson(mint);
      },
    );

    typed.post(
      "/stablecoin/mints/:id/cancel",
      { config: { access: ["exchange"] }, schema: { tags: ["stablecoin"], summary: "Cancel a request that has not been paid", params: idParams, response: { 200: mintSchema, 404: errorSchema, 409: errorSchema } } },
      async (request) => {
        return mintJson(await service.cancelMint(await callerExchange(request), request.params.id));
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
        const page = await service.listRedemptions(await callerOf(request), pageOf(request.query));
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
        const rerouted = await service.rerouteRedemption(id, dtAccount, request.principal!.id);
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
        const { redemption, mint } = await service.remintRedemption(id, request.principal!.id);
        request.log.info({ event: "stablecoin.redemption_reminted", redemption: id, mint: mint.id, by: request.principal!.id }, "redemption re-minted");
        options.onChange?.();
        return reply.status(202).send({ redemption: redemptionJson(redemption), mint: mintJson(mint) });
      },
    );

    typed.post(
      "/stablecoin/redemptions/:id/retry",
      { config: { access: ["operator"] }, schema: { tags: ["stablecoin"], summary: "Try a failed DT payout again", params: idParams, response: { 202: { type: "object", properties: { id: { type: "string" }, state: { type: "string" } } }, 409: errorSchema } } },
      async (request, reply) => {
        const id = request.params.id;
        await service.retryRedemption(id);
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
        const page = await service.listDeposits({ ...(query.status ? { status: query.status } : {}), limit: query.limit, ...(query.before ? { before: query.before } : {}) });
        return { items: page.items.map(depositJson), next: page.next };
      },
    );

    typed.post(
      "/stablecoin/deposits/:id/return",
      {
        config: { access: ["operator"] },
        schema: { tags: ["stablecoin"], summary: "Pay a held deposit back to its sender", params: idParams, response: { 200: depositSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema, 503: errorSchema } },
      },
      async (request) => {
        const id = request.params.id;
        const returned = await service.returnDeposit(id);
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
