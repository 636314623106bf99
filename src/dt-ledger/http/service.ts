import swagger from "@fastify/swagger";
import type { FastifyInstance, FastifyRequest } from "fastify";
import Fastify, { type FastifyBaseLogger } from "fastify";
import { isAddress } from "viem";
import type { KeyObject } from "node:crypto";
import { signedMessageOf } from "../../identity/access-plugin.ts";
import {
  SignatureError,
  ed25519PublicKey,
  verifySignatureHeaders,
  verifySignedBody,
  type AcceptedSignature,
} from "../../identity/http-signature.ts";
import { DtLedgerError, type ActivityRequest, type IssuanceAllotmentChange } from "../../ledger/dt-ledger-port.ts";
import type { Queryable } from "../../persistence/database.ts";
import { errorSchema, installErrorHandler } from "../../server/errors.ts";
import { installJsonBodyParser, typedRoutes } from "../../server/app.ts";
import { installQueryIntegers, STRICT_AJV } from "../../server/request-types.ts";
import type { Logger } from "../../server/logger.ts";
import type { DtLedger } from "../ledger.ts";
import {
  accountToJson,
  activityToJson,
  balanceToJson,
  eventToJson,
  holdToJson,
  receiptToJson,
  signedAllotmentToJson,
  statementToJson,
} from "../wire.ts";
import { buildMessage } from "../../iso20022/message.ts";
import { camt053Statement, camt054Notification, reportReceiver } from "../iso-reports.ts";
import * as schema from "./schemas.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** DT ledger service routes: "participant" needs a request signed with a registered participant key. */
    dtLedgerAccess?: "public" | "participant";
  }
  interface FastifyRequest {
    /** The participant whose registered key signed the request. */
    dtParticipant?: string;
    /** Its signature, verified over the headers, waiting for the body's digest. */
    dtSignature?: AcceptedSignature;
  }
}

export interface DtLedgerServiceOptions {
  ledger: DtLedger;
  logger?: Logger;
  /** Largest accepted distance between a signature's `created` and the server clock. */
  maxSkewSeconds?: number;
  bodyLimitBytes?: number;
  /** The authorities (host[:port]) requests must be signed for; unset: the Host header as received. */
  authorities?: readonly string[];
}

/**
 * The DT ledger as its own HTTP service, as the gateway would reach the real DT platform: every call but
 * the health check is signed by a registered participant (RFC 9421, Ed25519) and authorised by the ledger.
 */
export async function buildDtLedgerApp(options: DtLedgerServiceOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    ajv: STRICT_AJV,
  });
  installJsonBodyParser(app);
  installErrorHandler(app);
  installQueryIntegers(app);
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Digital Tenge ledger (embedded)",
        version: "1",
        description: "Participants sign every request (RFC 9421, Ed25519, keyid = participant id); amounts are tiyn.",
      },
    },
  });
  await app.register(dtLedgerRoutes, {
    ledger: options.ledger,
    maxSkewSeconds: options.maxSkewSeconds ?? 300,
    ...(options.authorities ? { authorities: options.authorities } : {}),
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}

export interface DtLedgerRoutesOptions {
  ledger: DtLedger;
  maxSkewSeconds: number;
  /** BIC that sends ISO 20022 reports as the platform operator (default the NBK's, NBRKKZKX). */
  operatorBic?: string;
  /** The authorities (host[:port]) requests must be signed for; unset: the Host header as received. */
  authorities?: readonly string[];
}

/**
 * The DT ledger service's routes, under /v1. Refusals of the ledger are thrown as they are: the same error
 * handler as the gateway's gives each code its status (`src/server/http-status.ts`).
 */
export async function dtLedgerRoutes(fastify: FastifyInstance, options: DtLedgerRoutesOptions): Promise<void> {
  const { ledger } = options;
  const app = typedRoutes(fastify);
  app.addHook("onRoute", (route) => {
    if (route.config?.dtLedgerAccess === undefined) throw new Error(`DT ledger route ${route.url} declares no dtLedgerAccess`);
  });
  // The signer is known before the body is read (401 before 400/413); the body's digest once it is read.
  app.addHook("onRequest", async (request) => {
    if (request.routeOptions.config.dtLedgerAccess !== "participant") return;
    request.dtSignature = await refusing(request, () => verifySignatureHeaders(signedMessageOf(request), {
      maxSkewSeconds: options.maxSkewSeconds,
      ...(options.authorities ? { authorities: options.authorities } : {}),
      lookupKey: (keyId) => activeParticipantKey(ledger.db, keyId),
    }));
  });
  app.addHook("preValidation", async (request) => {
    const pending = request.dtSignature;
    if (!pending) return;
    request.dtParticipant = await refusing(request, () =>
      verifySignedBody(pending, { headers: request.headers, body: request.rawBody }, { rememberNonce: (keyId, nonce, keepUntil) => rememberNonce(ledger.db, keyId, nonce, keepUntil) }),
    );
  });
  const who = (request: FastifyRequest): string => request.dtParticipant!;
  const participant = { dtLedgerAccess: "participant" } as const;
  const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema, 503: errorSchema };
  const big = (value: string): bigint => BigInt(value);

  app.get("/v1/health", {
    config: { dtLedgerAccess: "public" },
    schema: { response: { 200: { type: "object", required: ["status", "height"], properties: { status: { type: "string" }, height: { type: "string" } } } } },
  }, async () => {
    const head = await ledger.db.query<{ height: bigint }>("SELECT height FROM dt_ledger.head");
    return { status: "ok", height: head.rows[0]!.height.toString() };
  });

  app.post("/v1/accounts", {
    config: participant,
    schema: { body: schema.openAccountBody, response: { 201: schema.accountSchema, ...errors } },
  }, async (request, reply) => {
    const body = request.body;
    const account = await ledger.openAccount(who(request), body);
    return reply.status(201).send(accountToJson(account));
  });

  app.get("/v1/accounts/:accountId", {
    config: participant,
    schema: { params: schema.accountParams, response: { 200: schema.accountSchema, ...errors } },
  }, async (request) => accountToJson(await ledger.account(who(request), request.params.accountId)));

  app.get("/v1/accounts/:accountId/servicer", {
    config: participant,
    schema: { params: schema.accountParams, response: { 200: schema.servicerSchema, ...errors } },
  }, async (request) => ({ accountId: request.params.accountId, participantId: await ledger.servicer(who(request), request.params.accountId) }));

  app.post("/v1/accounts/:accountId/close", {
    config: participant,
    schema: { params: schema.accountParams, body: schema.keyOnlyBody, response: { 200: schema.accountSchema, ...errors } },
  }, async (request) =>
    accountToJson(await ledger.closeAccount(who(request), { idempotencyKey: request.body.idempotencyKey, accountId: request.params.accountId })));

  app.get("/v1/accounts/:accountId/balance", {
    config: participant,
    schema: { params: schema.accountParams, response: { 200: schema.balanceSchema, ...errors } },
  }, async (request) => balanceToJson(await ledger.balance(who(request), request.params.accountId)));

  app.get("/v1/accounts/:accountId/activity", {
    config: participant,
    schema: { params: schema.accountParams, querystring: schema.activityQuery, response: { 200: schema.activitySchema, ...errors } },
  }, async (request) => {
    const activity = await ledger.activity(who(request), activityRequest(request.params.accountId, request.query));
    return activityToJson(activity);
  });

  // The same activity as ISO 20022 reports: camt.053 statement, camt.054 notification (application/xml).
  for (const [path, render] of [["camt053", camt053Statement], ["camt054", camt054Notification]] as const) {
    app.get(`/v1/accounts/:accountId/${path}`, {
      config: participant,
      schema: { params: schema.accountParams, querystring: schema.activityQuery, response: { 200: { type: "string" }, ...errors } },
    }, async (request, reply) => {
      const activity = await ledger.activity(who(request), activityRequest(request.params.accountId, request.query));
      const operatorBic = options.operatorBic ?? "NBRKKZKX";
      const message = render(activity, { from: operatorBic, to: reportReceiver(activity, operatorBic), createdAt: new Date() });
      return reply.type("application/xml").send(buildMessage(message));
    });
  }

  app.get(
    "/v1/accounts/:accountId/collateral-statement",
    {
      config: participant,
      schema: { params: schema.accountParams, querystring: schema.statementQuery, response: { 200: schema.statementSchema, ...errors } },
    },
    async (request) => {
      const { chainId, verifyingContract } = request.query;
      if (!isAddress(verifyingContract, { strict: false })) throw new DtLedgerError("INVALID_REQUEST", "verifyingContract must be a 0x address");
      const domain = { chainId, verifyingContract };
      return statementToJson(await ledger.collateralStatement(who(request), { accountId: request.params.accountId, domain }));
    },
  );

  // Only the wallet's servicer may ask for an allotment; it and the central bank may read the latest.
  app.post("/v1/accounts/:accountId/issuance-allotments", {
    config: participant,
    schema: { params: schema.accountParams, body: schema.allotmentBody, response: { 201: schema.signedAllotmentSchema, ...errors } },
  }, async (request, reply) => {
    const { reference, change } = request.body;
    const signed = await ledger.issuanceAllotment(who(request), { accountId: request.params.accountId, reference, change: changeFromBody(change) });
    return reply.status(201).send(signedAllotmentToJson(signed));
  });

  app.get("/v1/accounts/:accountId/issuance-allotments/latest", {
    config: participant,
    schema: { params: schema.accountParams, response: { 200: schema.latestAllotmentSchema, ...errors } },
  }, async (request) => {
    const latest = await ledger.latestIssuanceAllotment(who(request), request.params.accountId);
    return { latest: latest ? signedAllotmentToJson(latest) : null };
  });

  for (const [path, operation] of [["/v1/issuances", "issue"], ["/v1/redemptions", "redeem"]] as const) {
    app.post(path, {
      config: participant,
      schema: { body: schema.conversionBody, response: { 201: schema.conversionSchema, ...errors } },
    }, async (request, reply) => {
      const receipt = await ledger[operation](who(request), { ...request.body, amount: big(request.body.amount) });
      return reply.status(201).send({
        ...receipt,
        height: receipt.height.toString(),
        amount: receipt.amount.toString(),
        bookedAt: receipt.bookedAt.toISOString(),
      });
    });
  }

  app.post("/v1/transfers", {
    config: participant,
    schema: { body: schema.transferBody, response: { 201: schema.receiptSchema, ...errors } },
  }, async (request, reply) => {
    const receipt = await ledger.transfer(who(request), { ...request.body, amount: big(request.body.amount) });
    return reply.status(201).send(receiptToJson(receipt));
  });

  app.post("/v1/holds", {
    config: participant,
    schema: { body: schema.holdBody, response: { 201: schema.holdSchema, ...errors } },
  }, async (request, reply) => {
    const body = request.body;
    const hold = await ledger.hold(who(request), { ...body, amount: big(body.amount), expiresAt: new Date(body.expiresAt) });
    return reply.status(201).send(holdToJson(hold));
  });

  app.get("/v1/holds/:holdId", {
    config: participant,
    schema: { params: schema.holdParams, response: { 200: schema.holdSchema, ...errors } },
  }, async (request) => holdToJson(await ledger.getHold(who(request), request.params.holdId)));

  app.post("/v1/holds/:holdId/release", {
    config: participant,
    schema: { params: schema.holdParams, body: schema.releaseBody, response: { 200: schema.holdSchema, ...errors } },
  }, async (request) => {
    const release = { ...request.body, holdId: request.params.holdId };
    return holdToJson(await ledger.release(who(request), release));
  });

  app.post("/v1/holds/:holdId/refund", {
    config: participant,
    schema: { params: schema.holdParams, body: schema.refundBody, response: { 200: schema.holdSchema, ...errors } },
  }, async (request) => {
    const { idempotencyKey, earlyConsent } = request.body;
    return holdToJson(await ledger.refund(who(request), { idempotencyKey, holdId: request.params.holdId, ...(earlyConsent ? { earlyConsent } : {}) }));
  });

  app.get("/v1/events", {
    config: participant,
    schema: { querystring: schema.eventsQuery, response: { 200: schema.eventPageSchema, ...errors } },
  }, async (request) => {
    const page = await ledger.events(who(request), request.query);
    return { events: page.events.map(eventToJson), cursor: page.cursor };
  });

  app.get("/v1/monitoring", {
    config: participant,
    schema: { response: { 200: schema.monitoringSchema, ...errors } },
  }, async (request) => {
    const view = await ledger.monitoring(who(request));
    return Object.fromEntries(Object.entries(view).map(([name, value]) => [name, value.toString()]));
  });
}

interface AllotmentChangeBody {
  kind: "credit" | "move" | "addChain";
  chainId?: string;
  from?: string;
  to?: string;
  amount?: string;
  token?: string;
}

/** The body's decimal strings as bigints; a field the kind needs and lacks stays unset for the ledger to refuse. */
function changeFromBody(body: AllotmentChangeBody): IssuanceAllotmentChange {
  const big = (value: string | undefined) => (value === undefined ? undefined : BigInt(value));
  return { kind: body.kind, chainId: big(body.chainId), from: big(body.from), to: big(body.to), amount: big(body.amount), token: body.token } as unknown as IssuanceAllotmentChange;
}

interface ActivityQuery {
  fromHeight?: string;
  toHeight?: string;
  limit?: number;
}

function activityRequest(accountId: string, query: ActivityQuery): ActivityRequest {
  return {
    accountId,
    ...(query.fromHeight === undefined ? {} : { fromHeight: BigInt(query.fromHeight) }),
    ...(query.toHeight === undefined ? {} : { toHeight: BigInt(query.toHeight) }),
    ...(query.limit === undefined ? {} : { limit: query.limit }),
  };
}

/** The Ed25519 key of a participant that may call over HTTP: registered with a key and not revoked. */
async function activeParticipantKey(db: Queryable, participantId: string): Promise<KeyObject | undefined> {
  const found = await db.query<{ public_key: Uint8Array | null }>(
    "SELECT public_key FROM dt_ledger.participants WHERE id = $1 AND revoked_at IS NULL",
    [participantId],
  );
  const raw = found.rows[0]?.public_key;
  return raw ? ed25519PublicKey(raw) : undefined;
}

async function rememberNonce(db: Queryable, keyId: string, nonce: string, keepUntil: Date): Promise<boolean> {
  const inserted = await db.query(
    "INSERT INTO dt_ledger.nonces (key_id, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1",
    [keyId, nonce, keepUntil],
  );
  // Occasional cleanup keeps the table to the nonces that could still be replayed in time.
  if (Math.random() < 0.01) await db.query("DELETE FROM dt_ledger.nonces WHERE expires_at < now()");
  return inserted.rowCount === 1;
}

/** A signature refusal (401 with its code) is logged with its code, never a key. */
async function refusing<T>(request: FastifyRequest, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SignatureError) request.log.warn({ event: "dt_ledger.unauthenticated", code: error.code }, "signature refused");
    throw error;
  }
}
