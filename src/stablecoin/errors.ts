import { ApiError } from "../server/errors.ts";

/** Every code the stablecoin refuses with, and its HTTP status: a code without a status fails typecheck. */
export const STABLECOIN_HTTP_STATUS = {
  // exchanges (onboarding, update, lookup)
  EXCHANGE_NOT_FOUND: 404,
  INVALID_EVM_ADDRESS: 400,
  INVALID_LIMITS: 400,
  DT_ACCOUNT_TAKEN: 409,
  EXCHANGE_ID_TAKEN: 409,
  // the caller
  NOT_AN_EXCHANGE: 403,
  RATE_LIMITED: 429,
  // mint requests
  EXCHANGE_SUSPENDED: 403,
  OVER_PER_MINT_LIMIT: 422,
  OVER_DAILY_LIMIT: 422,
  ADDRESS_NOT_REGISTERED: 422,
  UNKNOWN_CHAIN: 422,
  MINT_NOT_FOUND: 404,
  NOT_CANCELLABLE: 409,
  // held deposits: the DT ledger refused the return for good (DT_REFUSAL_IS_PERMANENT), or for now
  DEPOSIT_NOT_FOUND: 404,
  DEPOSIT_NOT_HELD: 409,
  DEPOSIT_RETURN_REFUSED: 422,
  DT_LEDGER_UNAVAILABLE: 503,
  // failed redemptions
  NOT_FAILED: 409,
  NOT_REMINTABLE: 409,
  // moves between chains
  MOVE_NOT_FOUND: 404,
  NOT_REFUNDABLE: 409,
} as const satisfies Record<string, number>;

export type StablecoinErrorCode = keyof typeof STABLECOIN_HTTP_STATUS;

/**
 * A refused stablecoin call (API, CLI or a flow), with its status from the one table above; the gateway's
 * error handler answers with it.
 */
export class StablecoinError<Code extends StablecoinErrorCode = StablecoinErrorCode> extends ApiError {
  declare readonly code: Code;
  constructor(code: Code, message: string, details?: unknown) {
    super(STABLECOIN_HTTP_STATUS[code], code, message, details);
  }
}

export type ExchangeErrorCode = "EXCHANGE_NOT_FOUND" | "INVALID_EVM_ADDRESS" | "INVALID_LIMITS" | "DT_ACCOUNT_TAKEN" | "EXCHANGE_ID_TAKEN";
/** A refused exchange change (onboarding, update, lookup). */
export class ExchangeError extends StablecoinError<ExchangeErrorCode> {}

export type MintErrorCode = "EXCHANGE_SUSPENDED" | "OVER_PER_MINT_LIMIT" | "OVER_DAILY_LIMIT" | "ADDRESS_NOT_REGISTERED" | "UNKNOWN_CHAIN" | "MINT_NOT_FOUND" | "NOT_CANCELLABLE";
/** A refused mint request or cancellation. */
export class MintError extends StablecoinError<MintErrorCode> {}
