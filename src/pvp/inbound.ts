import { createHash } from "node:crypto";
import type { Hex } from "viem";
import { CodedError } from "../core/errors.ts";
import { peerAgentOf } from "../core/ledger-name.ts";
import { amountToDecimal } from "../core/money.ts";
import type { ValidationProfile } from "../iso20022/validation/profiles.ts";
import { bareHex, PvpMessageError, readInbound, type InboundPvpMessage, type InboundStatusRequest, type MessageFinding } from "../iso20022/pvp/envelope.ts";
import { newPvpRecord, opensHashLock, type PvpRecord } from "./pvp.ts";
import { PVP_REASON_CODES } from "./reason-codes.ts";
import type { PvpPatch } from "./store.ts";
import { mayLock, withinMaxLock, type TimelockPolicy } from "./timelock-policy.ts";

/** How this gateway answers pacs.009 instructions as responder: its ledger and what each correspondent may do. */
export interface ResponderSettings {
  /** Ledger name (leg adapter) where this gateway locks the legs it is instructed to lock. */
  ledger: string;
  /** What a correspondent (by BIC) may make us pay, from the directory; undefined refuses its instructions. */
  termsOf(bic: string): CorrespondentTerms | undefined;
}

/**
 * What one correspondent's pacs.009 may make this gateway lock and pay, all from configuration: the
 * message's debtor and creditor are only the correspondent's description of the parties and never choose
 * an account here.
 */
export interface CorrespondentTerms {
  /** Our accounts set aside to pay the legs this correspondent instructs; the first one pays. */
  liquidityAccounts: readonly string[];
  /** The correspondent's own account on our ledger: every leg it instructs is paid to it (the creditor side). */
  settlementAccount: string;
  /** Largest leg one instruction may make us lock, in minor units of the ledger's currency. */
  maxAmount: bigint;
  /** The currency of `maxAmount`; unset = whatever the instruction's currency is. */
  maxAmountCurrency?: string;
}

export type InboundOutcome =
  | { status: "accepted"; pvpId: string | undefined; businessMessageId: string }
  | { status: "duplicate"; pvpId: string | undefined; businessMessageId: string };

export type InboundRefusalCode =
  | "MESSAGE_INVALID"
  | "MESSAGE_NOT_PVP"
  | "SENDER_MISMATCH"
  | "NOT_FOR_US"
  | "BUSINESS_MESSAGE_ID_REUSED"
  | "STATUS_REQUEST_TOO_SOON"
  | "NOT_A_RESPONDER"
  | "UNKNOWN_PVP"
  | "PVP_PREIMAGE_MISMATCH"
  | "PEER_TERMS_MISMATCH";

/** A correspondent's message refused with nothing applied; `details` lists the rules it broke, if any. */
export class InboundRefusal extends CodedError<InboundRefusalCode> {
  declare readonly details: MessageFinding[];
  constructor(code: InboundRefusalCode, message: string, findings: MessageFinding[] = []) {
    super(code, message, findings);
  }
}

/** An inbound message about a PvP, read and checked against who sent it and to whom. */
export interface InboundRead {
  message: InboundPvpMessage;
  businessMessageId: string;
}

/** Any inbound message read and checked: one about a PvP, or a status request (answered, not applied). */
export interface InboundReceived {
  message: InboundPvpMessage | InboundStatusRequest;
  businessMessageId: string;
}

/**
 * Reads one message from an authenticated correspondent: validates it (XSD, CBPR+, PvP profile) and
 * refuses it when its AppHdr sender is not the caller or its addressee is not this gateway.
 */
export function readInboundMessage(xml: string, sender: string, ourAgent: string, profile: ValidationProfile): InboundReceived {
  let read: ReturnType<typeof readInbound>;
  try {
    read = readInbound(xml, profile);
  } catch (error) {
    if (error instanceof PvpMessageError) throw new InboundRefusal(error.code, error.message, error.details);
    throw new InboundRefusal("MESSAGE_INVALID", error instanceof Error ? error.message : "invalid message");
  }
  if (read.from !== sender) throw new InboundRefusal("SENDER_MISMATCH", `AppHdr/Fr ${read.from} is not the authenticated correspondent ${sender}`);
  if (read.to !== ourAgent) throw new InboundRefusal("NOT_FOR_US", `AppHdr/To ${read.to} is not this gateway (${ourAgent})`);
  return { message: read.message, businessMessageId: read.businessMessageId };
}

export function uetrOf(message: InboundPvpMessage): string {
  switch (message.kind) {
    case "instruction":
      return message.instruction.uetr;
    case "status":
      return message.status.original.uetr;
    case "cancellation_request":
      return message.request.original.uetr;
    case "resolution":
      return message.resolution.original.uetr;
  }
}

export function messageTypeOf(message: InboundPvpMessage): string {
  return { instruction: "pacs.009.001.08", status: "pacs.002.001.10", cancellation_request: "camt.056.001.08", resolution: "camt.029.001.09" }[message.kind];
}

/** Whether the message holds the preimage (ACSC): kept, but shown only once the PvP is settled. */
export function carriesPreimage(message: InboundPvpMessage): boolean {
  return message.kind === "status" && message.status.status === "ACSC";
}

/** What the timeline shows of a message; never the preimage. */
export function messageSummaryOf(message: InboundPvpMessage): Record<string, unknown> {
  switch (message.kind) {
    case "instruction":
      return { amount: amountToDecimal(message.instruction.amount), currency: message.instruction.amount.currency, expiry: message.instruction.expiry };
    case "status":
      return message.status.status === "RJCT" ? { status: "RJCT", reason: message.status.reason } : { status: message.status.status };
    case "cancellation_request":
      return { reason: message.request.reason };
    case "resolution":
      return { outcome: message.resolution.outcome, ...(message.resolution.reason ? { reason: message.resolution.reason } : {}) };
  }
}

/**
 * Which of the sender's PvPs a message can be about, by role, in the order to look. ACSC from the initiator
 * is the reveal to the responder; any other status is a report to the initiator.
 */
export function rolesAddressed(message: InboundPvpMessage): ReadonlyArray<"initiator" | "responder"> {
  switch (message.kind) {
    case "instruction":
    case "cancellation_request":
      return ["responder"];
    case "resolution":
      return ["initiator"];
    case "status":
      return ["initiator", "responder"];
  }
}

/** What this gateway checks an instruction against, besides the correspondent's terms. */
export interface ResponderChecks {
  ourAgent: string;
  policy: TimelockPolicy;
  ledgerCarries(ledger: string, currency: string): boolean;
  sealPreimage(pvpId: string, preimage: Hex): string;
}

/** What an accepted message does here: open a responder PvP, change one, or nothing. */
export type InboundChange = { kind: "open"; pvp: PvpRecord } | { kind: "update"; pvpId: string; patch: PvpPatch } | { kind: "none"; pvpId: string };

const hex0x = (bare: string) => `0x${bare.toLowerCase()}` as Hex;

/** Decides what a fresh message changes, from the message and the PvP it is about; refuses what cannot apply. */
export function inboundChange(
  checks: ResponderChecks,
  message: InboundPvpMessage,
  pvp: PvpRecord | undefined,
  sender: string,
  responder: ResponderSettings | undefined,
  now: Date,
  businessMessageId?: string,
): InboundChange {
  if (message.kind === "instruction") {
    // A second pacs.009 for a UETR already taken is a replay under a new BizMsgIdr: nothing to do.
    if (pvp) return { kind: "none", pvpId: pvp.id };
    if (!responder) throw new InboundRefusal("NOT_A_RESPONDER", "this gateway does not answer PvP instructions");
    return { kind: "open", pvp: responderPvp(checks, message.instruction, sender, responder, now) };
  }
  if (!pvp) throw new InboundRefusal("UNKNOWN_PVP", "no PvP with this UETR here");
  if (pvp.counterpartyAgent !== sender) throw new InboundRefusal("SENDER_MISMATCH", "the PvP belongs to another correspondent");
  // Reports on a peer leg come only from the gateway the instruction went to (PvPs written before creation
  // bound `peer:<BIC>` to the counterparty could name another BIC).
  const instructed = peerAgentOf(pvp.foreignLeg.ledger);
  if (pvp.role === "initiator" && instructed !== undefined && instructed !== sender) {
    throw new InboundRefusal("SENDER_MISMATCH", `reports on this PvP are accepted only from ${instructed}, the BIC it was instructed to`);
  }
  const update = (patch: PvpPatch): InboundChange => ({ kind: "update", pvpId: pvp.id, patch });
  const none: InboundChange = { kind: "none", pvpId: pvp.id };
  switch (message.kind) {
    case "status": {
      const status = message.status;
      if (pvp.role === "responder") {
        if (status.status !== "ACSC") return none;
        const preimage = hex0x(status.preimage);
        if (!opensHashLock(pvp.hashLock, preimage)) throw new InboundRefusal("PVP_PREIMAGE_MISMATCH", "the preimage does not hash to the leg's hash-lock");
        return pvp.sealedPreimage === undefined ? update({ preimage: checks.sealPreimage(pvp.id, preimage) }) : none;
      }
      if (status.status === "ACSP") {
        // A lock report is believed only for the terms we instructed: our hash-lock, and an expiry no later
        // than ours (a later one could outlive our DT leg). Anything else leaves the PvP to time out and refund.
        const sameLock = status.hashLock.toLowerCase() === bareHex(pvp.hashLock);
        if (!sameLock || Date.parse(status.expiry) > pvp.foreignLeg.expiresAt.getTime()) {
          throw new InboundRefusal("PEER_TERMS_MISMATCH", "the reported lock does not carry the instructed hash-lock and expiry");
        }
        // Only a first report: an ACSP overtaken on the way by the peer's final report (RJCT, CNCL, ACSC)
        // is stale, and taking it would wait for ever on a lock the peer already released or paid.
        return pvp.peerStatus === undefined ? update({ peerStatus: "locked" }) : none;
      }
      if (status.status === "ACSC") {
        if (!opensHashLock(pvp.hashLock, hex0x(status.preimage))) throw new InboundRefusal("PVP_PREIMAGE_MISMATCH", "the preimage does not hash to the leg's hash-lock");
        return update({ peerStatus: "claimed" });
      }
      // After ACSP, a rejection means the peer refunded its lock; before, that it never locked. A final
      // report stands: the RJCT that follows a camt.029 for the same refund does not turn it into "rejected".
      if (pvp.peerStatus === undefined || pvp.peerStatus === "locked") return update({ peerStatus: pvp.peerStatus === "locked" ? "refunded" : "rejected", peerReason: status.reason });
      return none;
    }
    case "cancellation_request":
      // The initiator's signed camt.056 is its side's consent to our early refund of the leg we locked for it.
      // Its reason (CUST: asked for; DS24: the initiator aborted on time) is the one our RJCT after the CNCL carries.
      return update({ cancelRequested: true, peerReason: message.request.reason, ...(businessMessageId && pvp.peerCancellation === undefined ? { peerCancellation: businessMessageId } : {}) });
    case "resolution":
      if (message.resolution.outcome === "CNCL" && pvp.peerStatus !== "claimed") {
        // The CNCL answering our camt.056 is the counterparty's consent to our early refund of the DT hold.
        const consent = businessMessageId && pvp.cancelRequested && pvp.peerCancellation === undefined ? { peerCancellation: businessMessageId } : {};
        // A final report stands (an RJCT for the same refund may have come first).
        const final = pvp.peerStatus === "refunded" || pvp.peerStatus === "rejected";
        if (final) return Object.keys(consent).length > 0 ? update(consent) : none;
        return update({ peerStatus: pvp.peerStatus === "locked" ? "refunded" : "rejected", peerReason: PVP_REASON_CODES.cancelled.code, ...consent });
      }
      return none;
  }
}

type Instruction = Extract<InboundPvpMessage, { kind: "instruction" }>["instruction"];

/** The responder's PvP for a pacs.009: to lock under our terms, or refused (RJCT) with nothing locked. */
function responderPvp(checks: ResponderChecks, instruction: Instruction, sender: string, responder: ResponderSettings, now: Date): PvpRecord {
  const expiresAt = new Date(instruction.expiry);
  const terms = responder.termsOf(sender);
  const refusal = refusalOf(checks, responder, terms, instruction, now, expiresAt);
  const hashLock = hex0x(instruction.hashLock);
  return newPvpRecord({
    // Derived from the sender and the UETR (UETRs are scoped per correspondent), so the same instruction
    // always makes the same row id.
    id: `rsp${createHash("sha256").update(`${sender}:${instruction.uetr}`).digest("hex").slice(0, 24)}`,
    pvpRef: instruction.pvpId,
    role: "responder",
    uetr: instruction.uetr,
    hashLock,
    dtLeg: undefined,
    foreignLeg: {
      ledger: responder.ledger,
      // A refused instruction locks nothing, so it names no account of ours.
      payer: refusal || !terms ? "" : terms.liquidityAccounts[0]!,
      beneficiary: refusal || !terms ? "" : terms.settlementAccount,
      amount: instruction.amount.minorUnits,
      currency: instruction.amount.currency,
      hashLock,
      expiresAt,
    },
    ourAgent: checks.ourAgent,
    counterpartyAgent: sender,
    createdBy: `correspondent:${sender}`,
    instruction: {
      messageId: instruction.messageId,
      createdAt: instruction.createdAt,
      instructionId: instruction.messageId,
      endToEndId: instruction.endToEndId,
      uetr: instruction.uetr,
    },
    refusedFor: refusal,
    now,
  });
}

/** The ISO reason an instruction is refused for, or undefined when this gateway may lock it. */
function refusalOf(
  checks: ResponderChecks,
  responder: ResponderSettings,
  terms: CorrespondentTerms | undefined,
  instruction: Instruction,
  now: Date,
  expiresAt: Date,
): string | undefined {
  if (!terms || terms.liquidityAccounts.length === 0 || terms.settlementAccount === "") return PVP_REASON_CODES.notAllowed.code;
  if (!checks.ledgerCarries(responder.ledger, instruction.amount.currency)) return PVP_REASON_CODES.notAllowedCurrency.code;
  if (instruction.amount.minorUnits <= 0n || instruction.amount.minorUnits > terms.maxAmount) return PVP_REASON_CODES.amountTooLarge.code;
  // A limit in another currency says nothing about this amount: refused rather than compared across decimals.
  if (terms.maxAmountCurrency !== undefined && terms.maxAmountCurrency !== instruction.amount.currency) return PVP_REASON_CODES.amountTooLarge.code;
  if (!withinMaxLock(checks.policy, now, expiresAt)) return PVP_REASON_CODES.invalidDate.code;
  if (!mayLock(checks.policy, now, expiresAt)) return PVP_REASON_CODES.timeout.code;
  return undefined;
}
