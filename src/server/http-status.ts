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

  // -- iso20022 --

  // -- dt ledger --

  // -- proof of collateral --

  // -- evm --
  PREIMAGE_LENGTH_INVALID: 400,
};

export function httpStatusOf(code: string): number {
  return STATUS_BY_CODE[code] ?? 400;
}
