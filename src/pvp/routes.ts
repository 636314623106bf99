import type { FastifyInstance } from "fastify";
import { CodedError } from "../core/errors.ts";
import { amountFromDecimal } from "../core/money.ts";
import { pageQuerySchema, pageSchema } from "../core/paging.ts";
import type { ValidationProfile } from "../iso20022/validation/profiles.ts";
import { typedRoutes } from "../server/app.ts";
import { errorSchema } from "../server/errors.ts";
import { authorizePvpCreation, mayAccess, PvpForbidden, PvpOutsideTerms, type PvpAuthority } from "./authorization.ts";
import { QuoteError, type ConsumedQuote } from "./quotes.ts";
import { PvpError, type PvpEngine } from "./engine.ts";
import type { ResponderSettings } from "./inbound.ts";
import { counterpartyName } from "./message-counterparty.ts";
import { pvpToJson } from "./pvp.ts";
import { PVP_STATES } from "./state-machine.ts";
import type { MessageRecord, TimelineEntry } from "./store.ts";

/**
 * An exchange's timeline and message log as the API shows them: times as ISO strings, and never a message's XML
 * or whether it carries a preimage (the XML is served on its own route, to the parties only). PvP and DvP both use it.
 */
export function historyToJson(timeline: readonly TimelineEntry[], messages: readonly MessageRecord[]) {
  return {
    timeline: timeline.map((entry) => ({ ...entry, at: entry.at.toISOString() })),
    messages: messages.map(({ xml: _xml, carriesPreimage: _carriesPreimage, ...message }) => ({ ...message, counterparty: counterpartyName(message.counterparty), at: message.at.toISOString() })),
  };
}

export interface PvpRouteDependencies {
  engine: PvpEngine;
  responder?: ResponderSettings;
  /** Decides whose money a bank may move in a new PvP. */
  authority: PvpAuthority;
  /** The BIC of a correspondent principal (directory of correspondents), or undefined. */
  agentOfPrincipal(principalId: string): string | undefined;
  /** The validation profile of a correspondent's messages (its directory entry; `cbpr+` by default). */
  profileOf?(agent: string): ValidationProfile;
  /** The quotes PvPs consumed, newest first (operators). */
  quotes?(limit: number): Promise<ConsumedQuote[]>;
}

const bicPattern = "^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$";
const decimalPattern = "^\\d{1,15}(\\.\\d{1,5})?$";

const legProperties = {
  payer: { type: "string", minLength: 1, maxLength: 128 },
  beneficiary: { type: "string", minLength: 1, maxLength: 128 },
  amount: { type: "string", pattern: decimalPattern, description: "decimal amount in the currency, e.g. 15000.00" },
  currency: { type: "string", pattern: "^[A-Z]{3}$" },
  expiresAt: { type: "string", format: "date-time" },
} as const;

const dtLegInput = {
  type: "object",
  additionalProperties: false,
  required: ["payer", "beneficiary", "amount", "currency"],
  properties: legProperties,
} as const;

const foreignLegInput = {
  type: "object",
  additionalProperties: false,
  required: ["ledger", "payer", "beneficiary", "amount", "currency"],
  properties: { ledger: { type: "string", minLength: 1, maxLength: 64, description: "leg adapter: evm, peer:<BIC>, ..." }, ...legProperties },
} as const;

const quoteInput = {
  type: "object",
  additionalProperties: false,
  required: ["payload", "signature", "keyId"],
  description: "a quote the counterparty signed (docs/pvp.md#consent); without one its standing terms apply",
  properties: {
    payload: { type: "string", minLength: 2, maxLength: 2048, description: "the signed JSON text of the quote" },
    signature: { type: "string", pattern: "^[0-9a-fA-F]{128}$", description: "Ed25519 signature over the payload's UTF-8 bytes, hex" },
    keyId: { type: "string", minLength: 1, maxLength: 128, description: "a signing key registered for the counterparty" },
  },
} as const;

const legOutput = {
  type: ["object", "null"],
  properties: {
    ledger: { type: "string" },
    payer: { type: "string" },
    beneficiary: { type: "string" },
    amount: { type: "string", description: "decimal amount in the currency's major unit, as in requests, e.g. 15000.00" },
    currency: { type: "string" },
    hashLock: { type: "string" },
    expiresAt: { type: "string" },
    reference: { type: ["string", "null"] },
  },
} as const;

const pvpSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    pvpRef: { type: "string" },
    role: { type: "string", enum: ["initiator", "responder"] },
    state: { type: "string", enum: [...PVP_STATES] },
    uetr: { type: "string" },
    hashLock: { type: "string" },
    ourAgent: { type: "string" },
    counterpartyAgent: { type: "string" },
    createdBy: { type: "string" },
    dtLeg: legOutput,
    foreignLeg: legOutput,
    peerStatus: { type: ["string", "null"] },
    reasonCode: { type: ["string", "null"] },
    lastError: {
      type: ["object", "null"],
      description: "the last failure met on this PvP (a refused or retried ledger command, an unreadable leg)",
      properties: { at: { type: "string" }, message: { type: "string" } },
    },
    cancelRequested: { type: "boolean" },
    peerCancellation: {
      type: ["string", "null"],
      description: "the BizMsgIdr of the correspondent's signed message agreeing to cancel (camt.029 CNCL, or its camt.056): the consent an early DT refund names",
    },
    createdAt: { type: "string" },
    updatedAt: { type: "string" },
  },
} as const;

const detailSchema = {
  type: "object",
  properties: {
    ...pvpSchema.properties,
    timeline: {
      type: "array",
      items: {
        type: "object",
        properties: {
          at: { type: "string" },
          kind: { type: "string" },
          fromState: { type: ["string", "null"] },
          toState: { type: ["string", "null"] },
          event: { type: ["string", "null"] },
          detail: { type: "object", additionalProperties: true },
        },
      },
    },
    messages: {
      type: "array",
      items: {
        type: "object",
        properties: {
          businessMessageId: { type: "string" },
          direction: { type: "string" },
          messageType: { type: "string" },
          counterparty: { type: "string" },
          at: { type: "string" },
          summary: { type: "object", additionalProperties: true },
        },
      },
    },
  },
} as const;

/** A bad amount is an `AmountError` (400 through the status table). */
function minorUnits(amount: string, currency: string): bigint {
  return amountFromDecimal(amount, currency).minorUnits;
}

const idParams = { type: "object", required: ["id"], properties: { id: { type: "string", maxLength: 64 } } } as const;

/**
 * PvP HTTP API: banks create, read and cancel PvPs (JSON); correspondent central banks post ISO 20022
 * messages (signed XML) to `/iso20022/inbound`.
 */
export function pvpRoutes(deps: PvpRouteDependencies): (app: FastifyInstance) => Promise<void> {
  const { engine } = deps;
  return async (fastify) => {
    const app = typedRoutes(fastify);

    app.post(
      "/pvp",
      {
        config: { access: ["bank", "operator"] },
        schema: {
          summary: "Create a PvP: a DT leg paid by the caller's customer and a foreign leg paid by the correspondent",
          tags: ["pvp"],
          body: {
            type: "object",
            additionalProperties: false,
            required: ["counterpartyAgent", "dtLeg", "foreignLeg"],
            properties: { counterpartyAgent: { type: "string", pattern: bicPattern }, dtLeg: dtLegInput, foreignLeg: foreignLegInput, quote: quoteInput },
          },
          response: { 201: pvpSchema, 400: errorSchema, 403: errorSchema, 422: errorSchema },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const principal = request.principal!;
        const expires = (value: string | undefined) => (value === undefined ? {} : { expiresAt: new Date(value) });
        const dtLeg = { ledger: "dt", payer: body.dtLeg.payer, beneficiary: body.dtLeg.beneficiary, currency: body.dtLeg.currency, amount: minorUnits(body.dtLeg.amount, body.dtLeg.currency) };
        const foreignLeg = {
          ledger: body.foreignLeg.ledger,
          payer: body.foreignLeg.payer,
          beneficiary: body.foreignLeg.beneficiary,
          currency: body.foreignLeg.currency,
          amount: minorUnits(body.foreignLeg.amount, body.foreignLeg.currency),
        };
        const refused = (error: unknown) => {
          if (error instanceof PvpForbidden || error instanceof PvpOutsideTerms || error instanceof QuoteError) {
            request.log.warn({ event: "pvp.refused", principal: principal.id, code: error.code }, "PvP refused: not the caller's money or not the counterparty's terms");
          }
          return error;
        };
        let consent: Awaited<ReturnType<typeof authorizePvpCreation>>;
        try {
          consent = await authorizePvpCreation(principal, { counterpartyAgent: body.counterpartyAgent, dtLeg, foreignLeg, quote: body.quote }, deps.authority);
        } catch (error) {
          throw refused(error);
        }
        const pvp = await engine
          .create({
            createdBy: principal.id,
            bankAgent: principal.institution?.bic,
            counterpartyAgent: body.counterpartyAgent,
            dtLeg: { ...dtLeg, ...expires(body.dtLeg.expiresAt) },
            foreignLeg: { ...foreignLeg, ...expires(body.foreignLeg.expiresAt) },
            consent,
          })
          .catch((error: unknown) => {
            throw refused(error);
          });
        return reply.status(201).send(pvpToJson(pvp));
      },
    );

    app.get(
      "/pvp",
      {
        config: { access: ["bank", "operator"] },
        schema: {
          summary: "List PvPs, newest first",
          tags: ["pvp"],
          querystring: {
            type: "object",
            additionalProperties: false,
            properties: {
              state: { type: "string", enum: PVP_STATES },
              role: { type: "string", enum: ["initiator", "responder"] },
              counterparty: { type: "string", pattern: bicPattern },
              ...pageQuerySchema,
              pastExpiry: { type: "boolean", description: "only PvPs not yet final with a leg past its expiry (stuck: look at lastError)" },
            },
          },
          response: { 200: pageSchema(pvpSchema), 400: errorSchema },
        },
      },
      async (request) => {
        const query = request.query;
        const page = await engine.page({
          ...(query.state ? { state: query.state } : {}),
          ...(query.role ? { role: query.role } : {}),
          ...(query.counterparty ? { counterpartyAgent: query.counterparty } : {}),
          ...(query.before !== undefined ? { before: query.before } : {}),
          ...(query.pastExpiry ? { pastExpiryAt: engine.now() } : {}),
          ...(request.principal?.role === "operator" ? {} : { createdBy: request.principal!.id }),
          limit: query.limit ?? 50,
        });
        return { items: page.items.map(pvpToJson), next: page.next };
      },
    );

    /** A PvP the caller may see (banks their own, operators all); anything else is not found. */
    const visiblePvp = async (principal: Parameters<typeof mayAccess>[0], id: string) => {
      const pvp = await engine.get(id);
      if (!pvp || !mayAccess(principal, pvp)) throw new PvpError("PVP_NOT_FOUND", `no PvP ${id}`);
      return pvp;
    };

    app.get(
      "/pvp/:id",
      {
        config: { access: ["bank", "operator"] },
        schema: {
          summary: "A PvP: state, both legs, and the timeline of every transition, command and message",
          tags: ["pvp"],
          params: idParams,
          response: { 200: detailSchema, 404: errorSchema },
        },
      },
      async (request) => {
        const pvp = await visiblePvp(request.principal, request.params.id);
        const [timeline, messages] = await Promise.all([engine.timeline(pvp), engine.messages(pvp)]);
        return {
          ...pvpToJson(pvp),
          ...historyToJson(timeline, messages),
        };
      },
    );

    app.get(
      "/pvp/:id/messages/:messageId",
      {
        config: { access: ["bank", "operator"] },
        schema: {
          summary: "The XML of one message of a PvP (camt.054 notifications, pacs.002 statuses, messages exchanged with the correspondent)",
          tags: ["pvp"],
          params: { type: "object", required: ["id", "messageId"], properties: { id: { type: "string", maxLength: 64 }, messageId: { type: "string", maxLength: 35 } } },
          response: { 200: { type: "string" }, 404: errorSchema },
        },
      },
      async (request, reply) => {
        const pvp = await visiblePvp(request.principal, request.params.id);
        const message = (await engine.messages(pvp)).find((candidate) => candidate.businessMessageId === request.params.messageId);
        if (!message) throw new CodedError("MESSAGE_NOT_FOUND", `no message ${request.params.messageId} in PvP ${pvp.id}`);
        // Messages that carry the preimage are shown only once the PvP is settled (the secret is public then).
        if (message.carriesPreimage && pvp.state !== "SETTLED") throw new CodedError("MESSAGE_NOT_FOUND", "this message is not shown before the PvP settles");
        return reply.type("application/xml").send(message.xml);
      },
    );

    app.post(
      "/pvp/:id/cancel",
      {
        config: { access: ["bank", "operator"] },
        schema: {
          summary: "Cancel a PvP before the secret is revealed (camt.056 to a peer); both legs are refunded",
          tags: ["pvp"],
          params: idParams,
          response: { 202: pvpSchema, 404: errorSchema, 409: errorSchema },
        },
      },
      async (request, reply) => {
        const existing = await visiblePvp(request.principal, request.params.id);
        return reply.status(202).send(pvpToJson(await engine.cancel(existing.id)));
      },
    );

    app.get(
      "/operator/pvp-quotes",
      {
        config: { access: ["operator"] },
        schema: {
          summary: "The quotes counterparties signed that PvPs consumed (each once), with the signed bytes and signature to verify again",
          tags: ["pvp"],
          querystring: { type: "object", additionalProperties: false, properties: { limit: { type: "integer", minimum: 1, maximum: 500, default: 100 } } },
          response: {
            200: {
              type: "object",
              properties: {
                items: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: {
                      quoteId: { type: "string" },
                      counterpartyAgent: { type: "string" },
                      keyId: { type: "string" },
                      payload: { type: "string" },
                      signature: { type: "string" },
                      pvpId: { type: "string" },
                      consumedBy: { type: "string" },
                      consumedAt: { type: "string" },
                    },
                  },
                },
              },
            },
          },
        },
      },
      async (request) => ({ items: ((await deps.quotes?.(request.query.limit ?? 100)) ?? []).map((quote) => ({ ...quote, consumedAt: quote.consumedAt.toISOString() })), next: null }),
    );

    app.post(
      "/iso20022/inbound",
      {
        config: { access: ["correspondent"], credentials: "signature" },
        schema: {
          summary: "Receive an ISO 20022 PvP message (AppHdr + Document) from a correspondent central bank, signed per RFC 9421",
          tags: ["pvp", "iso20022"],
          consumes: ["application/xml", "text/xml"],
          body: { type: "string" },
          response: {
            202: { type: "object", properties: { status: { type: "string", enum: ["accepted", "duplicate"] }, businessMessageId: { type: "string" }, pvpId: { type: ["string", "null"] } } },
            400: errorSchema,
            403: errorSchema,
            404: errorSchema,
            409: errorSchema,
            422: errorSchema,
          },
        },
      },
      async (request, reply) => {
        const agent = deps.agentOfPrincipal(request.principal!.id);
        if (!agent) throw new CodedError("NOT_A_CORRESPONDENT", "the caller is not in the directory of correspondents");
        const outcome = await engine.receive(request.body, agent, deps.responder, deps.profileOf?.(agent));
        return reply.status(202).send({ ...outcome, pvpId: outcome.pvpId ?? null });
      },
    );
  };
}
