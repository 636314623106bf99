import type { FastifyInstance, FastifyRequest } from "fastify";
import { pageSchema } from "../core/paging.ts";
import { typedRoutes } from "../server/app.ts";
import { errorSchema } from "../server/errors.ts";
import { moveActionJson, moveActionSchema, moveJson, moveSchema } from "./move-json.ts";
import { MOVE_STATES } from "./model.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { Caller, StablecoinService } from "./service.ts";

export interface MoveRouteOptions {
  service: StablecoinService;
  rateLimiter: RateLimiter;
  /** Wakes the workers after an operator's refund. */
  onChange?(): void;
}

const idParams = { type: "object", required: ["id"], properties: { id: { type: "string", maxLength: 200 } } } as const;

/**
 * Moves of stablecoin between chains: exchanges see their own (the holder's address is theirs), operators
 * see every move and may have one refunded on its source chain. A move starts on chain (`moveOut` by the
 * holder), never here: the gateway holds no exchange key.
 */
export function moveRoutes(options: MoveRouteOptions) {
  const { service } = options;

  async function callerOf(request: FastifyRequest): Promise<Caller> {
    const principal = request.principal!;
    return principal.role === "exchange" ? { kind: "exchange", exchange: await service.exchangeOf(principal.id) } : { kind: "operator", principalId: principal.id };
  }

  return async function routes(app: FastifyInstance): Promise<void> {
    app.addHook("preHandler", options.rateLimiter.hook());
    const typed = typedRoutes(app);

    typed.get(
      "/stablecoin/moves",
      {
        config: { access: ["exchange", "operator"] },
        schema: {
          tags: ["stablecoin"],
          summary: "Moves between chains (MovedOut logs and their mints), newest first (an exchange sees its own)",
          querystring: {
            type: "object",
            properties: {
              limit: { type: "integer", minimum: 1, maximum: 500, default: 50 },
              before: { type: "string", maxLength: 400, description: "the `next` of the previous page (opaque)" },
              state: { type: "string", enum: [...MOVE_STATES] },
            },
            additionalProperties: false,
          },
          response: { 200: pageSchema(moveSchema), 400: errorSchema },
        },
      },
      async (request) => {
        const { limit, before, state } = request.query;
        const page = await service.listMoves(await callerOf(request), { limit, ...(before ? { before } : {}), ...(state ? { state } : {}) });
        return { items: page.items.map(moveJson), next: page.next };
      },
    );

    typed.get(
      "/stablecoin/moves/:id",
      {
        config: { access: ["exchange", "operator"] },
        schema: {
          tags: ["stablecoin"],
          summary: "One move, with the operators' actions on it (operators only)",
          params: idParams,
          response: { 200: { type: "object", properties: { move: moveSchema, actions: { type: "array", items: moveActionSchema } } }, 404: errorSchema },
        },
      },
      async (request) => {
        const { move, actions } = await service.getMove(await callerOf(request), request.params.id);
        return { move: moveJson(move), actions: actions.map(moveActionJson) };
      },
    );

    typed.post(
      "/stablecoin/moves/:id/refund",
      {
        config: { access: ["operator"] },
        schema: {
          tags: ["stablecoin"],
          summary: "Mint a confirmed move back to its holder on the source chain instead of the destination (audited, once)",
          params: idParams,
          body: { type: "object", required: ["reason"], additionalProperties: false, properties: { reason: { type: "string", minLength: 1, maxLength: 500 } } },
          response: { 202: moveSchema, 404: errorSchema, 409: errorSchema },
        },
      },
      async (request, reply) => {
        const id = request.params.id;
        const refunded = await service.refundMove(id, request.principal!.id, request.body.reason);
        request.log.info({ event: "stablecoin.move_refund", move: id, by: request.principal!.id }, "move refund requested");
        options.onChange?.();
        return reply.status(202).send(moveJson(refunded));
      },
    );
  };
}
