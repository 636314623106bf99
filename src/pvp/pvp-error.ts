import { CodedError } from "../core/errors.ts";

export type PvpErrorCode =
  | "TIMELOCK_POLICY"
  | "PVP_NOT_FOUND"
  | "PVP_NOT_CANCELLABLE"
  | "PVP_NOT_AFFIRMABLE"
  | "PVP_INVALID"
  | "LOCK_TOO_LONG"
  | "DT_LEG_CURRENCY"
  | "UNKNOWN_LEDGER"
  | "LEG_ASSET_MISMATCH";

/** A PvP request refused before anything is written (HTTP statuses in src/server/http-status.ts). */
export class PvpError extends CodedError<PvpErrorCode> {}
