import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";

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

/** The swap id the HashTimeLock contract assigns: keccak256(abi.encode(sender, salt)). */
export function hashTimeLockSwapId(sender: Address, salt: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [sender, salt]));
}

/** @deprecated the hash-lock lives in `src/core/hash-lock.ts`; this re-export stays for branches written before the move. */
export { hashLockOf, PreimageLengthError } from "../core/hash-lock.ts";
