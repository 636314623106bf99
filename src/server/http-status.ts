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
  PVP_INVALID: 400,
  PVP_NOT_FOUND: 404,
  PVP_NOT_CANCELLABLE: 409,
  TIMELOCK_POLICY: 422,
  LOCK_TOO_LONG: 422,
  DT_LEG_CURRENCY: 422,
  UNKNOWN_LEDGER: 422,
  LEG_ASSET_MISMATCH: 422,
  INSTITUTION_UNKNOWN: 403,
  DT_PAYER_NOT_SERVICED: 403,
  FOREIGN_PAYER_NOT_REGISTERED: 403,
  FOREIGN_BENEFICIARY_NOT_REGISTERED: 403,
  MESSAGE_NOT_FOUND: 404,
  NOT_A_CORRESPONDENT: 403,
  SENDER_MISMATCH: 403,
  UNKNOWN_PVP: 404,
  BUSINESS_MESSAGE_ID_REUSED: 409,
  NOT_A_RESPONDER: 422,
  PEER_TERMS_MISMATCH: 422,

  // -- stablecoin --

  // -- iso20022 --

  // -- dt ledger --

  // -- proof of collateral --
};

export function httpStatusOf(code: string): number {
  return STATUS_BY_CODE[code] ?? 400;
}
