import type { FastifyInstance, FastifyRequest } from "fastify";

/**
 * Validator settings of every HTTP service here: JSON keeps its types. `{"amount": 5}`, `{"amount": ["5"]}`
 * and `1234567890123456.7` are refused (400 INVALID_REQUEST) instead of being turned into strings, and a
 * string never becomes a number or a boolean.
 */
export const STRICT_AJV = { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true } } as const;

/** Canonical decimal integers only: no sign tricks, exponents, hex, spaces or leading zeros. */
const QUERY_INTEGER = /^-?(0|[1-9][0-9]{0,14})$/;

/**
 * A query string is text, so an `integer` query parameter is read from its canonical decimal digits (and a
 * `boolean` one from `true` or `false`) and nothing else (`limit=0x10`, `limit=1e2`, `limit= 5` and a repeated `limit` stay strings and fail validation).
 */
export function installQueryIntegers(app: FastifyInstance): void {
  // A hook of the routes whose query declares integers or booleans only; the others run nothing for it.
  app.addHook("onRoute", (route) => {
    const properties = (route.schema?.querystring as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties;
    if (!properties) return;
    const typed = Object.entries(properties).filter(([, property]) => property.type === "integer" || property.type === "boolean");
    if (typed.length === 0) return;
    const readQuery = async (request: FastifyRequest) => {
      const query = request.query as Record<string, unknown> | undefined;
      if (typeof query !== "object" || query === null) return;
      for (const [name, property] of typed) {
        const value = query[name];
        if (property.type === "integer" && typeof value === "string" && QUERY_INTEGER.test(value)) query[name] = Number(value);
        // A boolean query parameter is exactly `true` or `false`; anything else stays text and fails validation.
        if (property.type === "boolean" && (value === "true" || value === "false")) query[name] = value === "true";
      }
    };
    route.preValidation = [readQuery, ...(route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation])];
  });
}
