import { CodedError } from "../errors.ts";

export const PVP_ERROR_CODES = [
  "TIMELOCK_POLICY",
  "PVP_NOT_FOUND",
  "PVP_NOT_CANCELLABLE",
  "PVP_INVALID",
  "LOCK_TOO_LONG",
  "DT_LEG_CURRENCY",
  "UNKNOWN_LEDGER",
  "LEG_ASSET_MISMATCH",
] as const;
export type PvpErrorCode = (typeof PVP_ERROR_CODES)[number];

/** A PvP request refused before anything is written (HTTP statuses in src/server/http-status.ts). */
export class PvpError extends CodedError<PvpErrorCode> {}
