import type { Hex } from "viem";
import { CodedError } from "../core/errors.ts";

/**
 * One hash-locked leg of a PvP as the engine sees it, whatever ledger carries it: the DT ledger (a hold),
 * an EVM chain (the HashTimeLock contract) or another central bank's gateway (its own ledger, reached with
 * ISO 20022 messages). The engine only ever talks to this port.
 *
 * Every call is idempotent by `leg.key`: a retried lock never locks twice, a retried claim or refund of a
 * leg already claimed or refunded succeeds without doing anything.
 */
export interface HashLockedLegPort {
  /** Name of the ledger, as written in a PvP's legs (e.g. `dt`, `evm`, `peer:KZNBKZKX`). */
  readonly ledger: string;
  /**
   * The assets legs on this ledger are paid in. A PvP leg must name one of their currencies, and the currency's
   * ISO 4217 decimals must be the asset's, or minor units would mean another amount on the ledger. Undefined
   * for a correspondent's gateway, whose own ledger checks what it is instructed.
   */
  readonly assets?: readonly LedgerAsset[] | undefined;
  /** Locks the leg's amount from its payer for its beneficiary under its hash-lock until its expiry. */
  lock(leg: LegInstruction): Promise<LegLockReceipt>;
  /** Pays the leg to its beneficiary with the 32-byte preimage (reveals it on that ledger). */
  claim(leg: LegInstruction, preimage: Hex): Promise<void>;
  /**
   * Returns the leg to its payer. `early` asks for a refund before the expiry (a cancellation the
   * beneficiary's side agreed to); ledgers that cannot do that throw LegError NOT_YET_EXPIRED. `consent`,
   * when the beneficiary's side did agree, names its signed message (the DT ledger refunds early only so).
   * `reason` is the ISO cancellation reason of an early refund (peer legs send it in their camt.056).
   */
  refund(leg: LegInstruction, options: { early: boolean; consent?: LegRefundConsent | undefined; reason?: string | undefined }): Promise<void>;
  /** Where the leg stands on its ledger now, with the preimage when a claim revealed it. */
  observe(leg: LegInstruction): Promise<LegObservation>;
  /** The reference a lock gets, when the adapter can compute it without the ledger (EVM swap ids). */
  referenceOf?(leg: LegInstruction): string | undefined;
  /** The ledger's own clock (chain time for EVM legs): expiries are judged by it, not by the gateway's. */
  now(): Promise<Date>;
}

/** The beneficiary's side's agreement to an early refund: its BIC and the BizMsgIdr of its signed message. */
export interface LegRefundConsent {
  by: string;
  message: string;
}

export interface LedgerAsset {
  /** ISO 4217 code. */
  currency: string;
  /** Decimal places of the ledger's minor unit (KZT on the DT ledger: 2, tiyn). */
  decimals: number;
}

/** What the engine asks of a leg: the PvP it belongs to and the leg's terms. */
export interface LegInstruction {
  /** Stable per PvP and leg (`<pvpId>:dt`); adapters derive idempotency keys and salts from it. */
  key: string;
  /** Our local id of the PvP (its log and records are kept under it; `pvp.id` is the id the peers see). */
  pvpId: string;
  pvp: PvpSummary;
  /** Which of the two legs this is. */
  side: LegSide;
  terms: LegTerms;
  /** What the ledger answered at lock time (a hold id, a swap id), once known. */
  reference: string | undefined;
  /** What the correspondent last reported about this leg in messages (peer legs only). */
  reported?: { status: "locked" | "claimed" | "rejected" | "refunded"; reason: string | undefined } | undefined;
  /**
   * When the engine issued the claim or refund this call performs; retries keep it. A peer leg dates its
   * message with it, so a resend is byte for byte the first send (the peer takes it as a duplicate).
   */
  issuedAt?: Date;
}

export type LegSide = "dt" | "foreign";

export interface LegTerms {
  ledger: string;
  /** Account of the payer on that ledger (a DA id, an EVM address, a peer's account id). */
  payer: string;
  beneficiary: string;
  /** Minor units of `currency`. */
  amount: bigint;
  currency: string;
  hashLock: Hex;
  expiresAt: Date;
}

/** The parts of the PvP a leg adapter may need to build messages (peer gateways) or references. */
export interface PvpSummary {
  id: string;
  uetr: string;
  role: "initiator" | "responder";
  /** Undefined on the responder, which only learns the foreign leg from the pacs.009. */
  dtLeg: LegTerms | undefined;
  foreignLeg: LegTerms;
  /** The pacs.009 that opened the PvP (peer legs refer to it). */
  instruction: { messageId: string; createdAt: string; instructionId: string; endToEndId: string; uetr: string } | undefined;
  /** Agents (BICs) of the two sides: ours and the correspondent's. */
  ourAgent: string;
  counterpartyAgent: string;
}

export interface LegLockReceipt {
  /** The ledger's reference (hold id, swap id, UETR); stable across retries. */
  reference: string;
}

export type LegStatus = "absent" | "locked" | "claimed" | "refunded";

export interface LegObservation {
  status: LegStatus;
  /** The preimage when the leg was claimed and the ledger shows it. */
  preimage?: Hex;
  /** A peer's refusal (pacs.002 RJCT): the leg will never be locked. */
  refusal?: { reason: string };
  /** True when the lock exists but with other terms than instructed (amount, hash-lock, expiry, beneficiary). */
  termsMismatch?: boolean;
  /**
   * The status is what a correspondent last reported, not the ledger itself: once the secret went to
   * the correspondent, only its report (ACSC or RJCT) settles the leg's fate, never our clock.
   */
  reportedByPeer?: boolean;
}

export const LEG_ERROR_CODES = [
  "NOT_YET_EXPIRED",
  "EXPIRED",
  "INSUFFICIENT_FUNDS",
  "UNKNOWN_ACCOUNT",
  "ACCOUNT_CLOSED",
  "REJECTED",
  "WRONG_PREIMAGE",
  "UNAVAILABLE",
] as const;
export type LegErrorCode = (typeof LEG_ERROR_CODES)[number];

/**
 * A refusal by a leg's ledger. `permanent` refusals (insufficient funds, rejected terms) end the step;
 * the others (ledger down, not yet expired) are retried with backoff. Never carries a preimage or a key.
 */
export class LegError extends CodedError<LegErrorCode> {
  readonly permanent: boolean;
  constructor(code: LegErrorCode, message: string, options: { permanent?: boolean } = {}) {
    super(code, message);
    this.permanent = options.permanent ?? ["INSUFFICIENT_FUNDS", "UNKNOWN_ACCOUNT", "ACCOUNT_CLOSED", "REJECTED"].includes(code);
  }
}

/** An ISO 20022 message for a correspondent, with what its log entry needs. */
export interface PeerMessage {
  xml: string;
  businessMessageId: string;
  messageType: string;
}

/**
 * Delivers a signed ISO 20022 message to a correspondent's gateway; resolves on its acknowledgement. Peer
 * legs send through it, and so does the outbox for the messages the state machine writes.
 */
export interface PeerTransport {
  send(to: string, message: PeerMessage): Promise<void>;
}

/** The leg adapters of one gateway, by ledger name. */
export interface LegDirectory {
  leg(ledger: string): HashLockedLegPort;
  /** Makes sure a ledger named a moment ago (a correspondent just added) is known before `leg()` is asked. */
  prepare?(ledger: string): Promise<void>;
}

export function legDirectory(legs: readonly HashLockedLegPort[]): LegDirectory {
  const byName = new Map(legs.map((leg) => [leg.ledger, leg]));
  return {
    leg(ledger) {
      const found = byName.get(ledger);
      if (!found) throw new LegError("UNAVAILABLE", `no leg adapter for ledger ${ledger}`);
      return found;
    },
  };
}

/** Whether a ledger carries legs in `currency` at that currency's ISO decimals (true when it declares no assets). */
export function ledgerCarries(port: HashLockedLegPort, currency: string, isoDecimals: number | undefined): boolean {
  if (!port.assets) return true;
  return port.assets.some((asset) => asset.currency === currency && asset.decimals === isoDecimals);
}
