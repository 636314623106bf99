import type { FastifyInstance } from "fastify";
import { ApiError, errorSchema } from "../server/errors.ts";
import { ruleCodes } from "./validation/findings.ts";
import { validateMessage } from "./validation/validate.ts";
import { defaultLimits } from "./xml/safe-reader.ts";

const findingSchema = {
  type: "object",
  required: ["code", "path", "message"],
  properties: {
    code: { type: "string", enum: Object.keys(ruleCodes) },
    path: { type: "string" },
    message: { type: "string" },
  },
} as const;

export const validationReportSchema = {
  type: "object",
  required: ["messageType", "valid", "errors"],
  properties: {
    messageType: { type: ["string", "null"] },
    valid: { type: "boolean" },
    errors: { type: "array", items: findingSchema },
  },
} as const;

/**
 * ISO 20022 HTTP routes. `POST /iso20022/validate` takes the raw XML (application/xml or text/xml; the
 * server's content-type parser hands it over as a string) and answers the same report as the CLI: 200
 * whether or not the message is valid, since the report is the answer. Register it among the gateway's
 * features (`src/gateway/run.ts`).
 */
export async function iso20022Routes(app: FastifyInstance): Promise<void> {
  app.post(
    "/iso20022/validate",
    {
      // A few bytes over the XML limit so the safe reader, not fastify, reports XML_TOO_LARGE.
      bodyLimit: defaultLimits.maxBytes + 1024,
      config: { access: ["operator", "bank", "correspondent", "exchange"] },
      schema: {
        summary: "Validate an ISO 20022 message (safe XML, XSD, CBPR+)",
        body: { type: "string" },
        response: { 200: validationReportSchema, 413: errorSchema, 415: errorSchema },
      },
      // fastify stops reading an oversized body; answer with the same code the safe reader uses.
      errorHandler(error, _request, reply) {
        if ((error as { code?: string }).code === "FST_ERR_CTP_BODY_TOO_LARGE") {
          return reply.code(413).send({ code: "XML_TOO_LARGE", message: `message is larger than ${defaultLimits.maxBytes} bytes` });
        }
        throw error;
      },
    },
    async (request) => {
      if (typeof request.body !== "string") throw new ApiError(415, "ISO20022_XML_REQUIRED", "send the message as application/xml or text/xml");
      return validateMessage(request.body);
    },
  );
}
