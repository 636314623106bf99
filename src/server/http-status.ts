/**
 * The one table from an error code to its HTTP status. Routes throw `CodedError`s; the error handler
 * (`errors.ts`) looks the code up here. A code missing from the table is a client error (400).
 * Each feature keeps its codes under its own heading.
 */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  // -- server --
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_FOUND: 404,

  // -- identity and access --

  // -- correspondents --

  // -- pvp --

  // -- stablecoin --
  EXCHANGE_NOT_FOUND: 404,
  INVALID_EVM_ADDRESS: 400,
  INVALID_LIMITS: 400,
  DT_ACCOUNT_TAKEN: 409,
  EXCHANGE_ID_TAKEN: 409,
  NOT_AN_EXCHANGE: 403,
  EXCHANGE_SUSPENDED: 403,
  OVER_PER_MINT_LIMIT: 422,
  OVER_DAILY_LIMIT: 422,
  ADDRESS_NOT_REGISTERED: 422,
  MINT_NOT_FOUND: 404,
  NOT_CANCELLABLE: 409,
  DEPOSIT_NOT_FOUND: 404,
  DEPOSIT_NOT_HELD: 409,
  NOT_FAILED: 409,
  NOT_REMINTABLE: 409,
  RATE_LIMITED: 429,
  INVALID_CURSOR: 400,

  // -- iso20022 --

  // -- dt ledger --

  // -- proof of collateral --
};

export function httpStatusOf(code: string): number {
  return STATUS_BY_CODE[code] ?? 400;
}
