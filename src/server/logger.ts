import pino from "pino";

/** Paths that may carry secrets; pino replaces them before a line is written. */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  'req.headers["x-api-key"]',
  "req.headers.signature",
  "*.apiKey",
  "*.privateKey",
  "*.preimage",
  "*.secret",
  "*.seed",
  "*.password",
  "*.deployerKey",
];

export type Logger = pino.Logger;

/** JSON logs (pino) with secrets redacted; `destination` lets tests capture the lines. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: "tenge-gateway" },
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
  };
  return destination ? pino(options, destination) : pino(options);
}
