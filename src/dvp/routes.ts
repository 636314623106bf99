import type { FastifyInstance } from "fastify";
import { CodedError } from "../core/errors.ts";
import { pageQuerySchema, pageSchema } from "../core/paging.ts";
import { readSettlementInstruction } from "../iso20022/dvp/messages.ts";
import { readValidatedMessage } from "../iso20022/validation/validate.ts";
import { historyToJson } from "../pvp/routes.ts";
import { isAgent } from "../pvp/message-counterparty.ts";
import { PVP_STATES } from "../pvp/state-machine.ts";
import { typedRoutes } from "../server/app.ts";
import { errorSchema } from "../server/errors.ts";
import { DvpError, type DvpDesk } from "./desk.ts";
import { dvpToJson } from "./dvp.ts";

const bicPattern = "^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$";

const partyInput = {
  type: "object",
  additionalProperties: false,
  required: ["bic", "holding", "cashAccount"],
  properties: {
    bic: { type: "string", pattern: bicPattern, description: "the broker's institution" },
    holding: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$", description: "its holding on the securities ledger (registered to it)" },
    cashAccount: { type: "string", minLength: 1, maxLength: 64, description: "its digital account on DT (serviced by its DT participant)" },
    transactionId: { type: "string", pattern: "^[A-Za-z0-9-]{1,35}$", description: "its own reference, answered in sese.024/025 (drawn when omitted)" },
  },
} as const;

const partyOutput = { type: "object", properties: { bic: { type: "string" }, holding: { type: "string" }, cashAccount: { type: "string" }, transactionId: { type: "string" } } } as const;
const legOutput = {
  type: "object",
  properties: { ledger: { type: "string" }, payer: { type: "string" }, beneficiary: { type: "string" }, expiresAt: { type: "string" }, reference: { type: ["string", "null"] } },
} as const;

const dvpSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    state: { type: "string", enum: [...PVP_STATES] },
    awaitingAffirmation: { type: "boolean", description: "true until the other broker affirms; nothing is locked before" },
    isin: { type: "string" },
    quantity: { type: "string" },
    amount: { type: "string", description: "KZT, decimal" },
    currency: { type: "string" },
    tradeDate: { type: "string" },
    settlementDate: { type: "string" },
    seller: partyOutput,
    buyer: partyOutput,
    instructedBy: { type: "string", enum: ["seller", "buyer", "both"] },
    hashLock: { type: "string" },
    cashLeg: legOutput,
    securitiesLeg: legOutput,
    reasonCode: { type: ["string", "null"] },
    lastError: { type: ["object", "null"], properties: { at: { type: "string" }, message: { type: "string" } } },
    cancelRequested: { type: "boolean" },
    createdBy: { type: "string" },
    createdAt: { type: "string" },
    updatedAt: { type: "string" },
  },
} as const;

const detailSchema = {
  type: "object",
  properties: {
    ...dvpSchema.properties,
    timeline: {
      type: "array",
      items: {
        type: "object",
        properties: { at: { type: "string" }, kind: { type: "string" }, fromState: { type: ["string", "null"] }, toState: { type: ["string", "null"] }, event: { type: ["string", "null"] }, detail: { type: "object", additionalProperties: true } },
      },
    },
    messages: {
      type: "array",
      items: {
        type: "object",
        properties: { businessMessageId: { type: "string" }, direction: { type: "string" }, messageType: { type: "string" }, counterparty: { type: "string" }, at: { type: "string" }, summary: { type: "object", additionalProperties: true } },
      },
    },
  },
} as const;

const idParams = { type: "object", required: ["id"], properties: { id: { type: "string", maxLength: 64 } } } as const;

/**
 * DvP HTTP API (docs/dvp.md): a broker instructs its side of a trade, the other broker affirms it (JSON or
 * its sese.023), both read and may cancel before the reveal; operators instruct both sides at once and see
 * every DvP. Messages for the brokers (sese.024, sese.025, camt.054) are read per DvP.
 */
export function dvpRoutes(desk: DvpDesk): (app: FastifyInstance) => Promise<void> {
  return async (fastify) => {
    const app = typedRoutes(fastify);

    app.post(
      "/dvp",
      {
        config: { access: ["broker", "operator"] },
        schema: {
          summary: "Instruct a DvP: the buyer's KZT on DT against the seller's security, under one hash-lock",
          tags: ["dvp"],
          body: {
            type: "object",
            additionalProperties: false,
            required: ["isin", "quantity", "amount", "seller", "buyer"],
            properties: {
              side: { type: "string", enum: ["seller", "buyer"], description: "the calling broker's side; operators omit it and instruct both" },
              ledger: { type: "string", maxLength: 64, description: "securities ledger (default: the one delivering the ISIN)" },
              isin: { type: "string", pattern: "^[A-Z]{2}[A-Z0-9]{9}[0-9]$" },
              quantity: { type: "string", pattern: "^\\d{1,18}(\\.\\d{1,17})?$", description: "units of the security, decimal" },
              amount: { type: "string", pattern: "^\\d{1,15}(\\.\\d{1,2})?$", description: "KZT the buyer pays, decimal" },
              seller: partyInput,
              buyer: partyInput,
              tradeDate: { type: "string", format: "date" },
              settlementDate: { type: "string", format: "date" },
              securitiesExpiresAt: { type: "string", format: "date-time", description: "claimed first, so expires first" },
              cashExpiresAt: { type: "string", format: "date-time", description: "at least 2 x clock drift + time to act after the securities lock" },
            },
          },
          response: { 201: dvpSchema, 400: errorSchema, 403: errorSchema, 422: errorSchema },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const date = (value: string | undefined) => (value === undefined ? undefined : new Date(value));
        const dvp = await desk.create(request.principal!, {
          ...body,
          securitiesExpiresAt: date(body.securitiesExpiresAt),
          cashExpiresAt: date(body.cashExpiresAt),
        });
        request.log.info({ event: "dvp.created", dvpId: dvp.id, principal: request.principal!.id }, "DvP instructed");
        return reply.status(201).send(dvpToJson(dvp));
      },
    );

    app.get(
      "/dvp",
      {
        config: { access: ["broker", "operator"] },
        schema: {
          summary: "List DvPs naming the caller's institution (operators: all), newest first",
          tags: ["dvp"],
          querystring: { type: "object", additionalProperties: false, properties: { state: { type: "string", enum: PVP_STATES }, ...pageQuerySchema } },
          response: { 200: pageSchema(dvpSchema), 400: errorSchema },
        },
      },
      async (request) => {
        const query = request.query;
        const page = await desk.page(request.principal!, { ...(query.state ? { state: query.state } : {}), ...(query.before !== undefined ? { before: query.before } : {}), limit: query.limit ?? 50 });
        return { items: page.items.map(dvpToJson), next: page.next };
      },
    );

    app.get(
      "/dvp/:id",
      {
        config: { access: ["broker", "operator"] },
        schema: { summary: "A DvP: state, both legs, timeline and messages", tags: ["dvp"], params: idParams, response: { 200: detailSchema, 404: errorSchema } },
      },
      async (request) => {
        const dvp = await desk.visible(request.principal, request.params.id);
        const [timeline, messages] = await Promise.all([desk.timeline(dvp), desk.messages(dvp)]);
        return {
          ...dvpToJson(dvp),
          ...historyToJson(timeline, messages),
        };
      },
    );

    app.get(
      "/dvp/:id/messages/:messageId",
      {
        config: { access: ["broker", "operator"] },
        schema: {
          summary: "The XML of one message of a DvP (sese.024 status, sese.025 confirmation, camt.054 for the cash)",
          tags: ["dvp"],
          params: { type: "object", required: ["id", "messageId"], properties: { id: { type: "string", maxLength: 64 }, messageId: { type: "string", maxLength: 35 } } },
          response: { 200: { type: "string" }, 404: errorSchema },
        },
      },
      async (request, reply) => {
        const dvp = await desk.visible(request.principal, request.params.id);
        const message = (await desk.messages(dvp)).find((candidate) => candidate.businessMessageId === request.params.messageId);
        // A broker reads the messages addressed to it; operators all.
        const principal = request.principal!;
        if (!message || (principal.role !== "operator" && !isAgent(message.counterparty, principal.institution?.bic))) {
          throw new CodedError("MESSAGE_NOT_FOUND", `no message ${request.params.messageId} for the caller in DvP ${dvp.id}`);
        }
        return reply.type("application/xml").send(message.xml);
      },
    );

    app.post(
      "/dvp/:id/affirm",
      {
        config: { access: ["broker"] },
        schema: {
          summary: "The other broker affirms a DvP instructed by its counterparty; the cash is then held and the securities locked",
          tags: ["dvp"],
          params: idParams,
          body: { type: "object", additionalProperties: false, properties: { transactionId: partyInput.properties.transactionId } },
          response: { 202: dvpSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema },
        },
      },
      async (request, reply) => reply.status(202).send(dvpToJson(await desk.affirm(request.principal!, request.params.id, { transactionId: request.body?.transactionId }))),
    );

    app.post(
      "/dvp/instructions",
      {
        config: { access: ["broker"] },
        schema: {
          summary: "Affirm a DvP with a sese.023 (AppHdr + Document): CmonId and the DvpRef name the DvP, every term must match",
          tags: ["dvp", "iso20022"],
          consumes: ["application/xml", "text/xml"],
          body: { type: "string" },
          response: { 202: dvpSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema },
        },
      },
      async (request, reply) => {
        const report = readValidatedMessage(request.body, { strict: true });
        if (!report.valid || !report.message) throw new CodedError("MESSAGE_INVALID", `the sese.023 fails validation: ${report.errors.map((error) => error.code).join(", ")}`, { errors: report.errors.slice(0, 10) });
        if (report.messageType !== "sese.023.001.11") throw new DvpError("DVP_INVALID", `expected sese.023.001.11, got ${report.messageType}`);
        const dvpId = (report.message.document as { commonId?: string }).commonId ?? "";
        const dvp = await desk.visible(request.principal, dvpId);
        const instruction = readSettlementInstruction(report.message, dvp.exchangeTerms?.["decimals"] as number);
        return reply.status(202).send(dvpToJson(await desk.affirm(request.principal!, dvp.id, { instruction })));
      },
    );

    app.post(
      "/dvp/:id/cancel",
      {
        config: { access: ["broker", "operator"] },
        schema: { summary: "Cancel a DvP before the secret is revealed; both legs are refunded", tags: ["dvp"], params: idParams, response: { 202: dvpSchema, 404: errorSchema, 409: errorSchema } },
      },
      async (request, reply) => reply.status(202).send(dvpToJson(await desk.cancel(request.principal!, request.params.id))),
    );
  };
}
