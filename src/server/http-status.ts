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
  UNAUTHENTICATED: 401,
  INVALID_API_KEY: 401,
  SIGNATURE_REQUIRED: 401,
  SIGNATURE_MISSING: 401,
  SIGNATURE_MALFORMED: 401,
  SIGNATURE_COMPONENTS: 401,
  SIGNATURE_ALGORITHM: 401,
  SIGNATURE_EXPIRED: 401,
  SIGNATURE_AUTHORITY: 401,
  DIGEST_MISMATCH: 401,
  DIGEST_UNSUPPORTED: 401,
  UNKNOWN_KEY: 401,
  SIGNATURE_INVALID: 401,
  SIGNATURE_REPLAYED: 401,
  FORBIDDEN: 403,
  PRINCIPAL_NOT_FOUND: 404,
  CREDENTIAL_NOT_FOUND: 404,
  DUPLICATE_ID: 409,
  DUPLICATE_KEY_ID: 409,
  LEDGER_ACCOUNT_TAKEN: 409,

  // -- correspondents --
  CORRESPONDENT_NOT_FOUND: 404,
  SIGNING_KEY_NOT_FOUND: 404,
  CORRESPONDENT_EXISTS: 409,

  // -- pvp --

  // -- stablecoin --

  // -- iso20022 --
  XML_TOO_LARGE: 413,
  ISO20022_XML_REQUIRED: 415,

  // -- dt ledger --
  // Validation 400, authentication 401, authorisation 403, unknown 404, state conflicts 409, business rules 422.
  INVALID_AMOUNT: 400,
  INVALID_REQUEST: 400,
  FORBIDDEN_ACCOUNT: 403,
  FORBIDDEN_OPERATION: 403,
  UNKNOWN_ACCOUNT: 404,
  UNKNOWN_HOLD: 404,
  ALREADY_RELEASED: 409,
  ALREADY_REFUNDED: 409,
  IDEMPOTENCY_CONFLICT: 409,
  DOUBLE_SPEND: 409,
  INSUFFICIENT_FUNDS: 422,
  ACCOUNT_CLOSED: 422,
  ACCOUNT_NOT_EMPTY: 422,
  SAME_ACCOUNT: 422,
  HOLD_EXPIRED: 422,
  WRONG_PREIMAGE: 422,
  WRONG_CONDITION: 422,
  NOT_YET_EXPIRED: 422,
  UNAVAILABLE: 503,

  // -- proof of collateral --
  NO_ATTESTATION_YET: 503,

  // -- evm --
  PREIMAGE_LENGTH_INVALID: 400,
};

export function httpStatusOf(code: string): number {
  return STATUS_BY_CODE[code] ?? 400;
}
