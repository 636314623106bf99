import type { FastifyInstance } from "fastify";
import { CodedError } from "../core/errors.ts";
import { typedRoutes } from "../server/app.ts";
import { errorSchema } from "../server/errors.ts";
import { ruleCodes } from "./validation/findings.ts";
import { isValidationProfile, UnknownProfileError, validationProfile, validationProfiles } from "./validation/profiles.ts";
import { WorkQueueFullError, type BoundedWorkLimits } from "./validation/bounded-work.ts";
import { DEFAULT_VALIDATION_LIMITS, ValidationPool } from "./validation/validation-pool.ts";
import { defaultLimits, XmlRefusedError } from "./xml/safe-reader.ts";

const findingSchema = {
  type: "object",
  required: ["code", "severity", "path", "message"],
  properties: {
    code: { type: "string", enum: Object.keys(ruleCodes) },
    severity: { type: "string", enum: ["error", "warning"] },
    path: { type: "string" },
    message: { type: "string" },
  },
} as const;

export const validationReportSchema = {
  type: "object",
  required: ["messageType", "profile", "release", "valid", "errors", "warnings"],
  properties: {
    messageType: { type: ["string", "null"] },
    profile: { type: "string", enum: [...validationProfiles] },
    release: { type: ["string", "null"], description: "the CBPR+ release whose rules applied (SR2026 under cbpr+, SR2025 under cbpr+@sr2025)" },
    valid: { type: "boolean" },
    errors: { type: "array", items: findingSchema },
    warnings: { type: "array", items: findingSchema },
  },
} as const;

/**
 * ISO 20022 HTTP routes. `POST /iso20022/validate` takes the raw XML (application/xml or text/xml; the
 * server's content-type parser hands it over as a string) and answers the same report as the CLI: 200
 * whether or not the message is valid, since the report is the answer. `?profile=cbpr+|cbpr+@sr2025|hvps+|iso` picks the
 * rules (default cbpr+; `+` is `%2B` in a query string), `?strict=true` turns warnings into errors.
 * Validation runs in a worker thread behind a bounded queue (`limits`): a full queue is 503
 * VALIDATION_QUEUE_FULL with Retry-After, and the event loop stays free for everyone else.
 * Register it among the gateway's features (`src/gateway/serve.ts`).
 */
export function iso20022RoutesWith(limits: BoundedWorkLimits = DEFAULT_VALIDATION_LIMITS) {
  return async function iso20022Routes(app: FastifyInstance): Promise<void> {
    const pool = new ValidationPool(limits);
    app.addHook("onClose", () => pool.close());
    registerValidateRoute(app, pool);
  };
}

/** The routes with the default validation limits. */
export const iso20022Routes = iso20022RoutesWith();

function registerValidateRoute(app: FastifyInstance, pool: ValidationPool): void {
  typedRoutes(app).post(
    "/iso20022/validate",
    {
      // A few bytes over the XML limit so the safe reader, not fastify, reports XML_TOO_LARGE.
      bodyLimit: defaultLimits.maxBytes + 1024,
      config: { access: ["operator", "bank", "correspondent", "exchange"] },
      schema: {
        summary: "Validate an ISO 20022 message (safe XML, XSD, CBPR+)",
        body: { type: "string" },
        querystring: {
          type: "object",
          properties: { profile: { type: "string", description: validationProfiles.join(" | ") }, strict: { type: "boolean", default: false } },
        },
        response: { 200: validationReportSchema, 400: errorSchema, 413: errorSchema, 415: errorSchema, 429: errorSchema, 503: errorSchema },
      },
      // A full queue is refused before the body is read: a flood costs the flooder, not the server.
      onRequest: async (_request, reply) => {
        try {
          pool.assertRoom();
        } catch (error) {
          if (error instanceof WorkQueueFullError) reply.header("retry-after", String(error.retryAfterSeconds));
          throw error;
        }
      },
      // fastify stops reading an oversized body; answer with the same code the safe reader uses.
      errorHandler(error) {
        if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") throw new XmlRefusedError("XML_TOO_LARGE", `message is larger than ${defaultLimits.maxBytes} bytes`);
        throw error;
      },
    },
    async (request, reply) => {
      const { profile, strict } = request.query;
      // An unknown profile is refused, not silently replaced by the default.
      if (profile !== undefined && !isValidationProfile(profile)) throw new UnknownProfileError(profile);
      if (typeof request.body !== "string") throw new CodedError("ISO20022_XML_REQUIRED", "send the message as application/xml or text/xml");
      try {
        return await pool.validate(request.body, { profile: validationProfile(profile), strict });
      } catch (error) {
        if (error instanceof WorkQueueFullError) reply.header("retry-after", String(error.retryAfterSeconds));
        throw error;
      }
    },
  );
}
