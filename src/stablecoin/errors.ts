import { CodedError } from "../core/errors.ts";

export type StablecoinErrorCode = "NOT_AN_EXCHANGE" | "DEPOSIT_NOT_FOUND" | "DEPOSIT_NOT_HELD" | "NOT_FAILED" | "NOT_REMINTABLE" | "RATE_LIMITED";

/**
 * A refused stablecoin API call outside the mint and exchange rules (those are MintError and ExchangeError):
 * the caller, a deposit or redemption in the wrong state, the rate, a cursor. Statuses in
 * src/server/http-status.ts.
 */
export class StablecoinError extends CodedError<StablecoinErrorCode> {}
