import type { JsonSchemaToTsProvider } from "@fastify/type-provider-json-schema-to-ts";
import type { FastifyInstance } from "fastify";

/**
 * The route contract every feature's routes follow, as `cli-command.ts` is the command contract: handlers
 * typed from the JSON schemas a route declares, and one error body. Here, below every feature, so a layer
 * under the HTTP plumbing (identity's operator routes) can declare routes too.
 */

/**
 * Replies are not typed from the response schemas: the serializer writes them by the schema at run time
 * (a `Date` as ISO 8601, undeclared fields dropped), so every response schema reads as `unknown` here.
 */
type UntypedReplies = { SerializerSchemaOptions: { deserialize: [{ pattern: object; output: unknown }] } };

/**
 * The app typed from its route schemas: `request.body`, `params`, `query` take their types from the
 * JSON schemas (declared `as const`) a route registers, so handlers need no casts.
 */
export function typedRoutes(app: FastifyInstance) {
  return app.withTypeProvider<JsonSchemaToTsProvider<UntypedReplies>>();
}
export type TypedApp = ReturnType<typeof typedRoutes>;

/** JSON schema of every error body (a `CodedError` as the error handler answers it), for route response declarations. */
export const errorSchema = {
  type: "object",
  required: ["code", "message"],
  properties: {
    code: { type: "string" },
    message: { type: "string" },
    details: {},
  },
} as const;
