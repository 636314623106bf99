/**
 * The one base of every expected failure in the gateway: a stable `code` callers can act on, a message safe
 * to show, optional `details`. The server maps codes to HTTP statuses in one table
 * (`src/server/http-status.ts`); the PvP maps them to ISO 20022 reason codes in one table
 * (`src/pvp/reason-codes.ts`). Unexpected failures are plain `Error`s and never leak their message.
 */
export class CodedError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly details: unknown;
  constructor(code: Code, message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

export function isCodedError(error: unknown): error is CodedError {
  return error instanceof CodedError;
}
