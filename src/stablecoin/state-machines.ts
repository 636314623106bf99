import type { Queryable } from "../persistence/database.ts";
import { moveState, type MintPatch, type RedemptionPatch } from "./store.ts";

/**
 * The mint and redeem flows as explicit transition tables. Every transition is applied by `moveMint` or
 * `moveRedemption` inside the one database transaction that also records its effects, and only from the
 * states the table allows, so a stale worker (another process, or one resumed after a crash) cannot move a
 * request twice.
 */
export const MINT_STATES = ["awaiting_deposit", "deposited", "signed", "submitted", "minted", "failed", "cancelled", "expired"] as const;
export type MintState = (typeof MINT_STATES)[number];

export const mintTransitions = {
  /** The exchange's DT arrived in the collateral intake with the request's reference. */
  depositMatched: { from: ["awaiting_deposit"], to: "deposited" },
  /** A fresh statement was obtained and the mint transaction signed and recorded (not sent yet). */
  signed: { from: ["deposited"], to: "signed" },
  /** The recorded transaction was sent to the chain. */
  broadcast: { from: ["signed"], to: "submitted" },
  /** A recorded transaction has a successful receipt with enough confirmations. */
  confirmed: { from: ["submitted"], to: "minted" },
  /** Stuck: a replacement with the same nonce and higher fees was signed and recorded. */
  replaced: { from: ["submitted"], to: "signed" },
  /** Every recorded transaction reverted or lost its nonce, so nothing was minted: sign again. */
  retry: { from: ["submitted"], to: "deposited" },
  /** Gave up after too many attempts; the deposit stays in the wallet for an operator. */
  failed: { from: ["submitted", "deposited"], to: "failed" },
  /** The exchange withdrew a request before paying. */
  cancelled: { from: ["awaiting_deposit"], to: "cancelled" },
  /** Nothing was paid within STABLECOIN_MINT_REQUEST_TTL_SECONDS; a later deposit is held, not minted. */
  expired: { from: ["awaiting_deposit"], to: "expired" },
} as const satisfies Record<string, { from: readonly MintState[]; to: MintState }>;

export const REDEMPTION_STATES = ["seen", "confirmed", "paying", "paid", "failed", "removed", "reminted"] as const;
export type RedemptionState = (typeof REDEMPTION_STATES)[number];

export const redemptionTransitions = {
  /** Enough confirmations, and the log is still in the canonical chain. */
  confirmed: { from: ["seen"], to: "confirmed" },
  /** A reorganisation took the log's block out of the chain: never paid. */
  removed: { from: ["seen", "confirmed"], to: "removed" },
  /** The log came back in a canonical block (the transaction was mined again). */
  reappeared: { from: ["removed"], to: "seen" },
  /** A worker took the payout (with a lease); the transfer comes next, outside any database transaction. */
  claimed: { from: ["confirmed"], to: "paying" },
  /** The DT left the segregated wallet for the named account. */
  paid: { from: ["paying"], to: "paid" },
  /** The DT ledger refused the payment, or the holder is unknown; kept for an operator. */
  failed: { from: ["confirmed", "paying"], to: "failed" },
  /** An operator asked to try the payment again (after fixing the cause). */
  retried: { from: ["failed"], to: "confirmed" },
  /** An operator named a corrected DT account for a refused payout; the payment is tried again to it. */
  rerouted: { from: ["failed"], to: "confirmed" },
  /** An operator had a refused payout's tokens minted back to the redeemer instead; never paid in DT. */
  reminted: { from: ["failed"], to: "reminted" },
} as const satisfies Record<string, { from: readonly RedemptionState[]; to: RedemptionState }>;

/**
 * Moves one mint request along `mintTransitions[name]`, setting `patch` too, if and only if it is in an
 * allowed state. Returns false when it is not (another worker got there first).
 */
export function moveMint(tx: Queryable, id: string, name: keyof typeof mintTransitions, patch: MintPatch = {}): Promise<boolean> {
  const transition = mintTransitions[name];
  return moveState(tx, { table: "stablecoin.mint_requests", id, patch }, transition.from, transition.to);
}

/** Moves one redemption along `redemptionTransitions[name]`, as `moveMint` does. */
export function moveRedemption(tx: Queryable, id: string, name: keyof typeof redemptionTransitions, patch: RedemptionPatch = {}): Promise<boolean> {
  const transition = redemptionTransitions[name];
  return moveState(tx, { table: "stablecoin.redemptions", id, patch }, transition.from, transition.to);
}
