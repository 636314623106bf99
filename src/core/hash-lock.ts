import { hexToBytes, sha256, type Hex } from "viem";
import { CodedError } from "./errors.ts";

/** A preimage that is not exactly 32 bytes: the HTLC contract and the DT ledger refuse it. */
export class PreimageLengthError extends CodedError<"PREIMAGE_LENGTH_INVALID"> {
  constructor(length: number) {
    super("PREIMAGE_LENGTH_INVALID", `a preimage is exactly 32 bytes, got ${length}`, { length });
  }
}

/**
 * H = SHA-256(preimage), the lock both legs of a PvP share; the preimage must be exactly 32 bytes, as the
 * contract and the DT ledger require.
 */
export function hashLockOf(preimage: Hex): Hex {
  const bytes = hexToBytes(preimage);
  if (bytes.length !== 32) throw new PreimageLengthError(bytes.length);
  return sha256(bytes);
}
