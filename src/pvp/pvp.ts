import type { Hex } from "viem";
import { hashLockOf } from "../core/hash-lock.ts";
import { amountToDecimal } from "../core/money.ts";
import type { InstructionReference } from "../iso20022/pvp/envelope.ts";
import type { LegInstruction, LegSide, LegTerms, PvpSummary } from "./leg-port.ts";
import type { PvpRole, PvpState } from "./state-machine.ts";

/** One PvP as the gateway keeps it. Amounts are minor units; the preimage never leaves this record unasked. */
/** The two uses of the engine: cash against cash (PvP) and securities against DT cash (DvP, docs/dvp.md). */
export type ExchangeKind = "pvp" | "dvp";

export interface PvpRecord {
  id: string;
  kind: ExchangeKind;
  /** What a DvP trades (read by src/dvp); undefined for a PvP. */
  exchangeTerms: Record<string, unknown> | undefined;
  /** A DvP created by one broker waits for the other's affirmation: nothing is locked until then. */
  awaitingAffirmation: boolean;
  /** The PvP id in messages (`/PVP/` tag), shared by both gateways. */
  pvpRef: string;
  role: PvpRole;
  state: PvpState;
  version: number;
  uetr: string;
  hashLock: Hex;
  /** The secret in clear, in memory only: set by the engine when it opens `sealedPreimage`. */
  preimage: Hex | undefined;
  /** The secret as stored (sealed with the gateway's preimage key). */
  sealedPreimage: string | undefined;
  /** Undefined on the responder, which only learns the foreign leg. */
  dtLeg: LegTerms | undefined;
  foreignLeg: LegTerms;
  dtReference: string | undefined;
  foreignReference: string | undefined;
  ourAgent: string;
  counterpartyAgent: string;
  createdBy: string;
  /** BIC of the bank whose principal created the PvP (the addressee of its notices); undefined for operators and responders. */
  bankAgent: string | undefined;
  peerStatus: PeerLegStatus | undefined;
  peerReason: string | undefined;
  /**
   * The BizMsgIdr of the correspondent's signed message agreeing to cancel: the camt.029 CNCL answering our
   * camt.056 (initiator) or its own camt.056 (responder). Our early refund of a DT hold names it as consent.
   */
  peerCancellation?: string | undefined;
  cancelRequested: boolean;
  dtLockRefused: boolean;
  foreignLockRefused: boolean;
  dtLockIssued: boolean;
  foreignLockIssued: boolean;
  reasonCode: string | undefined;
  instruction: InstructionReference | undefined;
  createdAt: Date;
  updatedAt: Date;
  nextRunAt: Date;
  /** The last failure the engine met on this PvP, for operators (never a secret). */
  lastError?: { at: Date; message: string } | undefined;
}

/** What a correspondent last reported about the leg on its ledger. */
export type PeerLegStatus = "locked" | "claimed" | "rejected" | "refunded";

/** What a new PvP is made of; everything else starts the same for both roles. */
export interface NewPvp {
  id: string;
  kind?: ExchangeKind;
  exchangeTerms?: Record<string, unknown> | undefined;
  awaitingAffirmation?: boolean;
  pvpRef: string;
  role: PvpRole;
  uetr: string;
  hashLock: Hex;
  /** The initiator's secret, in clear and as stored; a responder learns it later. */
  preimage?: { clear: Hex; sealed: string };
  dtLeg: LegTerms | undefined;
  foreignLeg: LegTerms;
  ourAgent: string;
  counterpartyAgent: string;
  createdBy: string;
  bankAgent?: string | undefined;
  instruction: InstructionReference;
  /** A responder's instruction refused by our terms or policy: the ISO reason, and nothing is locked. */
  refusedFor?: string | undefined;
  now: Date;
}

/** A PvP as created, by the initiator (INITIATED) or by the responder on a pacs.009 (RECEIVED). */
export function newPvpRecord(fields: NewPvp): PvpRecord {
  return {
    id: fields.id,
    kind: fields.kind ?? "pvp",
    exchangeTerms: fields.exchangeTerms,
    awaitingAffirmation: fields.awaitingAffirmation ?? false,
    pvpRef: fields.pvpRef,
    role: fields.role,
    state: fields.role === "initiator" ? "INITIATED" : "RECEIVED",
    version: 0,
    uetr: fields.uetr,
    hashLock: fields.hashLock,
    preimage: fields.preimage?.clear,
    sealedPreimage: fields.preimage?.sealed,
    dtLeg: fields.dtLeg,
    foreignLeg: fields.foreignLeg,
    dtReference: undefined,
    foreignReference: undefined,
    ourAgent: fields.ourAgent,
    counterpartyAgent: fields.counterpartyAgent,
    createdBy: fields.createdBy,
    bankAgent: fields.bankAgent,
    peerStatus: undefined,
    peerReason: undefined,
    cancelRequested: false,
    dtLockRefused: false,
    foreignLockRefused: fields.refusedFor !== undefined,
    dtLockIssued: false,
    foreignLockIssued: false,
    reasonCode: fields.refusedFor,
    instruction: fields.instruction,
    createdAt: fields.now,
    updatedAt: fields.now,
    nextRunAt: fields.now,
  };
}

export function summaryOf(pvp: PvpRecord): PvpSummary {
  return {
    id: pvp.pvpRef,
    uetr: pvp.uetr,
    role: pvp.role,
    dtLeg: pvp.dtLeg,
    foreignLeg: pvp.foreignLeg,
    instruction: pvp.instruction,
    ourAgent: pvp.ourAgent,
    counterpartyAgent: pvp.counterpartyAgent,
  };
}

/** Whether a preimage opens a hash-lock (SHA-256 of exactly 32 bytes; any other value opens nothing). */
export function opensHashLock(hashLock: Hex, preimage: Hex): boolean {
  try {
    return hashLockOf(preimage) === hashLock.toLowerCase();
  } catch {
    return false;
  }
}

export function legOf(pvp: PvpRecord, side: LegSide): LegInstruction {
  const terms = side === "dt" ? pvp.dtLeg : pvp.foreignLeg;
  if (terms === undefined) throw new Error(`PvP ${pvp.id} has no ${side} leg here`);
  return {
    key: `${pvp.id}:${side}`,
    pvpId: pvp.id,
    pvp: summaryOf(pvp),
    side,
    terms,
    reference: side === "dt" ? pvp.dtReference : pvp.foreignReference,
    reported: pvp.peerStatus === undefined ? undefined : { status: pvp.peerStatus, reason: pvp.peerReason },
  };
}

/** A leg's terms as stored (JSON): bigint and Date as strings. */
export function legToJson(terms: LegTerms): Record<string, string> {
  return {
    ledger: terms.ledger,
    payer: terms.payer,
    beneficiary: terms.beneficiary,
    amount: terms.amount.toString(),
    currency: terms.currency,
    hashLock: terms.hashLock,
    expiresAt: terms.expiresAt.toISOString(),
  };
}

export function legFromJson(value: unknown): LegTerms {
  const json = value as Record<string, string>;
  return {
    ledger: String(json["ledger"]),
    payer: String(json["payer"]),
    beneficiary: String(json["beneficiary"]),
    amount: BigInt(json["amount"] ?? "0"),
    currency: String(json["currency"]),
    hashLock: String(json["hashLock"]) as Hex,
    expiresAt: new Date(String(json["expiresAt"])),
  };
}

/** JSON view of a PvP for the API and the CLI: never the preimage before the PvP is settled. */
export function pvpToJson(pvp: PvpRecord): Record<string, unknown> {
  // Amounts as requests give them: a decimal string in the currency's major unit ("15000.00" KZT).
  const leg = (terms: LegTerms | undefined, reference: string | undefined) =>
    terms === undefined ? null : { ...legToJson(terms), amount: amountToDecimal({ currency: terms.currency, minorUnits: terms.amount }), reference: reference ?? null };
  return {
    id: pvp.id,
    pvpRef: pvp.pvpRef,
    role: pvp.role,
    state: pvp.state,
    uetr: pvp.uetr,
    hashLock: pvp.hashLock,
    ourAgent: pvp.ourAgent,
    counterpartyAgent: pvp.counterpartyAgent,
    createdBy: pvp.createdBy,
    dtLeg: leg(pvp.dtLeg, pvp.dtReference),
    foreignLeg: leg(pvp.foreignLeg, pvp.foreignReference),
    peerStatus: pvp.peerStatus ?? null,
    reasonCode: pvp.reasonCode ?? null,
    lastError: pvp.lastError ? { at: pvp.lastError.at.toISOString(), message: pvp.lastError.message } : null,
    cancelRequested: pvp.cancelRequested,
    peerCancellation: pvp.peerCancellation ?? null,
    createdAt: pvp.createdAt.toISOString(),
    updatedAt: pvp.updatedAt.toISOString(),
  };
}
