import type { Address, Hex } from "viem";

/**
 * The stablecoin's model: what an exchange, a mint request, a deposit and a redemption are, their states and
 * the transition tables that move them. Pure types and constants, importing nothing of the project: the
 * stores return these, the flows and the service act on them, routes and the CLI show them.
 */

// ---- exchanges ---------------------------------------------------------------------------------------------

export const EXCHANGE_STATUSES = ["active", "suspended"] as const;
export type ExchangeStatus = (typeof EXCHANGE_STATUSES)[number];

/** An exchange allowed to mint and redeem: its DT account, its EVM addresses and its limits (tiyn). */
export interface Exchange {
  id: string;
  principalId: string;
  name: string;
  dtAccount: string;
  evmAddresses: Address[];
  perMintLimit: bigint;
  dailyLimit: bigint;
  status: ExchangeStatus;
  createdAt: Date;
}

// ---- mint requests -----------------------------------------------------------------------------------------

export const MINT_STATES = ["awaiting_deposit", "deposited", "signed", "submitted", "minted", "failed", "cancelled", "expired"] as const;
export type MintState = (typeof MINT_STATES)[number];

export interface MintRequest {
  id: string;
  reference: string;
  exchangeId: string;
  amount: bigint;
  toAddress: Address;
  state: MintState;
  depositEventId: string | null;
  mintedTxHash: Hex | null;
  mintedBlock: bigint | null;
  attempts: number;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
  depositedAt: Date | null;
  mintedAt: Date | null;
  /** Set on a re-mint: the refused redemption whose tokens it mints back (no deposit behind it). */
  reversesRedemption: string | null;
  /** The chain it mints on; null only on a request from before several chains, which the first chain takes. */
  chainId: number | null;
  /** Set on a move's mint (destination, or refund on the source): the move it completes (no deposit behind it). */
  moveId: string | null;
}

/**
 * The mint flow as a transition table. Every transition is applied inside the one database transaction that
 * also records its effects, and only from the states the table allows, so a stale worker (another process, or
 * one resumed after a crash) cannot move a request twice.
 */
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
  /** Gave up after too many attempts (or the ledger refused the move into the wallet); kept for an operator. */
  failed: { from: ["submitted", "deposited"], to: "failed" },
  /** The exchange withdrew a request before paying. */
  cancelled: { from: ["awaiting_deposit"], to: "cancelled" },
  /** Nothing was paid within STABLECOIN_MINT_REQUEST_TTL_SECONDS; a later deposit is held, not minted. */
  expired: { from: ["awaiting_deposit"], to: "expired" },
} as const satisfies Record<string, { from: readonly MintState[]; to: MintState }>;
export type MintTransition = keyof typeof mintTransitions;

/** What a mint transition may set besides the state (the store maps each field to its column). */
export interface MintPatch {
  depositEventId?: string;
  depositedAt?: Date;
  nextCheckAt?: Date;
  /** The statement the mint transaction carries or relies on, as JSON. */
  statement?: string;
  attempts?: number;
  submittedAt?: Date;
  mintedTxHash?: Hex;
  mintedBlock?: bigint;
  mintedAt?: Date;
  failureCode?: string | null;
  failureMessage?: string | null;
}

// ---- deposits ----------------------------------------------------------------------------------------------

/** Why a deposit is held for an operator instead of minted. */
export type HoldReason =
  | "UNKNOWN_REFERENCE"
  | "REFERENCE_ALREADY_USED"
  | "WRONG_SENDER"
  | "AMOUNT_MISMATCH"
  | "EXCHANGE_SUSPENDED"
  | "OVER_PER_MINT_LIMIT"
  | "OVER_DAILY_LIMIT"
  | "REQUEST_EXPIRED";

export const DEPOSIT_STATUSES = ["matched", "held", "returned"] as const;
export type DepositStatus = (typeof DEPOSIT_STATUSES)[number];

/** A DT payment into the collateral intake, as recorded (once per ledger event). */
export interface Deposit {
  eventId: string;
  ledgerTransactionId: string;
  fromAccount: string;
  amount: bigint;
  reference: string;
  height: bigint;
  bookedAt: Date;
  status: DepositStatus;
  holdReason: HoldReason | null;
  mintId: string | null;
  exchangeId: string | null;
  returnTransactionId: string | null;
}

// ---- redemptions -------------------------------------------------------------------------------------------

export const REDEMPTION_STATES = ["seen", "confirmed", "paying", "paid", "failed", "removed", "reminted"] as const;
export type RedemptionState = (typeof REDEMPTION_STATES)[number];

export interface Redemption {
  id: string;
  chainId: number;
  txHash: Hex;
  logIndex: number;
  blockNumber: bigint;
  blockHash: Hex;
  holder: Address;
  amount: bigint;
  dtAccount: string;
  exchangeId: string | null;
  state: RedemptionState;
  payoutTransactionId: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  attempts: number;
  createdAt: Date;
  paidAt: Date | null;
}

/** The redeem flow as a transition table (applied like the mint flow's). */
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
export type RedemptionTransition = keyof typeof redemptionTransitions;

/** What a redemption transition may set besides the state (the store maps each field to its column). */
export interface RedemptionPatch {
  nextCheckAt?: Date;
  attempts?: number;
  payoutTransactionId?: string;
  paidAt?: Date;
  failureCode?: string | null;
  failureMessage?: string | null;
  dtAccount?: string;
}

/** An operator's action on a refused redemption payout, kept as an audit record. */
export type RedemptionAction =
  | { action: "rerouted"; principalId: string; fromDtAccount: string; toDtAccount: string }
  | { action: "reminted"; principalId: string; fromDtAccount: string; mintId: string };

// ---- moves between chains ----------------------------------------------------------------------------------

export const MOVE_STATES = ["seen", "confirmed", "allotting", "minting", "moved", "refunded", "removed", "failed", "mint_failed"] as const;
export type MoveState = (typeof MOVE_STATES)[number];

/** Why a move is minted back on its source chain instead of on its destination. */
export type RefundReason =
  | "DESTINATION_UNKNOWN"
  | "RECIPIENT_NOT_REGISTERED"
  | "RECIPIENT_REFUSED"
  | "DESTINATION_REFUSED"
  | "ATTEMPTS_EXHAUSTED"
  | "OPERATOR_REFUND";

/**
 * A holder's burn on one chain (`moveOut`, its MovedOut log) to receive as much on another chain of the pool.
 * `targetChainId` is where it is minted: unset until the DT ledger is asked, then the destination, or the
 * source for a refund.
 */
export interface Move {
  id: string;
  sourceChainId: number;
  txHash: Hex;
  logIndex: number;
  blockNumber: bigint;
  blockHash: Hex;
  holder: Address;
  amount: bigint;
  /** As the log names it (any uint256; a chain the pool does not have is refunded). */
  destinationChainId: bigint;
  recipient: Address;
  exchangeId: string | null;
  state: MoveState;
  targetChainId: number | null;
  refundReason: RefundReason | null;
  /** Sequence of the allotment the DT ledger signed for this move. */
  allotmentSequence: bigint | null;
  /** The mint request that completes it. */
  mintId: string | null;
  attempts: number;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: Date;
  settledAt: Date | null;
}

/**
 * The move flow as a transition table (applied like the mint flow's). One allotment reference per move
 * (`move:<id>`), and `targetChainId` changes only while no allotment is known to apply, so the ledger raises
 * either the destination's limit or the source's, never both, and at most one mint request follows.
 */
export const moveTransitions = {
  /** Enough confirmations on the source chain, and the log is still canonical. */
  confirmed: { from: ["seen"], to: "confirmed" },
  /** A reorganisation took the burn out of the source chain: nothing is allotted or minted. */
  removed: { from: ["seen", "confirmed"], to: "removed" },
  /** The log came back in a canonical block. */
  reappeared: { from: ["removed"], to: "seen" },
  /** A worker decided the target (destination, or source as a refund) and asks the ledger, with a lease. */
  claimed: { from: ["confirmed"], to: "allotting" },
  /** The target changed before any allotment applied (refund), or the ledger showed which one did. */
  retargeted: { from: ["allotting", "failed"], to: "allotting" },
  /** The ledger signed the allotment; the target chain's mint request was opened in the same transaction. */
  allotted: { from: ["allotting"], to: "minting" },
  /** Minted on the destination. */
  moved: { from: ["minting"], to: "moved" },
  /** Minted back to the holder on the source chain. */
  refunded: { from: ["minting"], to: "refunded" },
  /** Kept for an operator before any allotment applied: holder not onboarded, or the refund refused too. */
  failed: { from: ["confirmed", "allotting"], to: "failed" },
  /**
   * The target chain's mint request failed. Its allotment applied there, so the move can only complete there
   * (an operator deals with the mint request); it is never asked for again, nor refunded.
   */
  mintFailed: { from: ["minting"], to: "mint_failed" },
} as const satisfies Record<string, { from: readonly MoveState[]; to: MoveState }>;
export type MoveTransition = keyof typeof moveTransitions;

/** What a move transition may set besides the state (the store maps each field to its column). */
export interface MovePatch {
  nextCheckAt?: Date;
  attempts?: number;
  targetChainId?: number;
  refundReason?: RefundReason | null;
  allotmentSequence?: bigint;
  settledAt?: Date;
  failureCode?: string | null;
  failureMessage?: string | null;
}

/** An operator's action on a move, kept as an audit record. */
export type MoveAction = { action: "refund"; principalId: string; reason: string };
