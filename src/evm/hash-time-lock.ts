import { encodeAbiParameters, hexToBytes, keccak256, sha256, type Address, type Hex } from "viem";
import { CodedError } from "../errors.ts";

/** The terms of one HTLC swap, as locked and as passed back on claim and refund. */
export interface HashTimeLockTerms {
  sender: Address;
  receiver: Address;
  token: Address;
  amount: bigint;
  /** SHA-256 of the 32-byte preimage. */
  hashLock: Hex;
  /** Unix seconds (chain time) from which only a refund is possible. */
  expiry: bigint;
}

/** A preimage that is not exactly 32 bytes: the contract and the DT ledger refuse it. */
export class PreimageLengthError extends CodedError<"PREIMAGE_LENGTH_INVALID"> {
  constructor(length: number) {
    super("PREIMAGE_LENGTH_INVALID", `a preimage is exactly 32 bytes, got ${length}`, { length });
  }
}

/** The swap id the HashTimeLock contract assigns: keccak256(abi.encode(sender, salt)). */
export function hashTimeLockSwapId(sender: Address, salt: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [sender, salt]));
}

/** H = SHA-256(preimage); the preimage must be exactly 32 bytes, as the contract and the DT ledger require. */
export function hashLockOf(preimage: Hex): Hex {
  const bytes = hexToBytes(preimage);
  if (bytes.length !== 32) throw new PreimageLengthError(bytes.length);
  return sha256(bytes);
}
