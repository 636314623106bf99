import type { FastifyError, FastifyInstance } from "fastify";
import { CodedError } from "../core/errors.ts";
import { httpStatusOf } from "./http-status.ts";

/**
 * An error with its HTTP status on it: the base of a feature's own error class whose statuses come from the
 * feature's exhaustive table (e.g. `StablecoinError`), else a feature's `CodedError` listed in
 * `http-status.ts`.
 */
export class ApiError extends CodedError {
  readonly statusCode: number;
  constructor(statusCode: number, code: string, message: string, details?: unknown) {
    super(code, message, details);
    this.statusCode = statusCode;
  }
}

// The error body's schema lives with the route contract in core; features may import it from here.
export { errorSchema } from "../core/http-routes.ts";

const FRAMEWORK_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, "BODY_TOO_LARGE"],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, "UNSUPPORTED_MEDIA_TYPE"],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, "INVALID_JSON"],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, "INVALID_CONTENT_LENGTH"],
};

/** One place that turns every failure into `{ code, message }`; unexpected errors never leak internals. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | CodedError, request, reply) => {
    if (error instanceof CodedError) {
      const status = error instanceof ApiError ? error.statusCode : httpStatusOf(error.code);
      return reply.status(status).send({ code: error.code, message: error.message, details: error.details });
    }
    if (error.validation) {
      return reply.status(400).send({
        code: "INVALID_REQUEST",
        message: error.message,
        details: error.validation.map((item) => ({ path: item.instancePath, message: item.message })),
      });
    }
    const known = error.code ? FRAMEWORK_CODES[error.code] : undefined;
    if (known && error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      // Name the type to send: "Unsupported Media Type: undefined" leaves a newcomer guessing.
      const got = request.headers["content-type"];
      return reply.status(known[0]).send({ code: known[1], message: `${got ? `Content-Type ${got} is not accepted` : "the request has a body but no Content-Type"}: send Content-Type: application/json` });
    }
    if (known) return reply.status(known[0]).send({ code: known[1], message: error.message });
    if (error.statusCode && error.statusCode < 500) {
      return reply.status(error.statusCode).send({ code: error.code ?? "BAD_REQUEST", message: error.message });
    }
    request.log.error({ err: error }, "unhandled error");
    return reply.status(500).send({ code: "INTERNAL", message: "internal error; see the gateway log" });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: "NOT_FOUND", message: `no route ${request.method} ${request.url.split("?")[0]}` }),
  );
}
