import type { Amount } from "../../core/money.ts";
import { isoDateTime, pvpEnvelope, type InstructionReference, type MessageParties } from "../../iso20022/pvp/envelope.ts";

/**
 * The PvP profile as the engine's older callers (tests, the DvP notices) name it: the ids, the inbound
 * reader and one function per message, each a single call to the ISO 20022 envelope module
 * (src/iso20022/pvp/envelope.ts), where the engine's own code goes directly with a typed message value.
 */
export {
  accountIdOf,
  bareHex,
  isoDateTime,
  maxStatusRequests,
  messageIdOf,
  pvpEnvelope,
  pvpMessageCodes,
  PvpMessageError,
  readInbound,
  renderValidated,
  statusRequestIdOf,
  type InboundPvpMessage,
  type InstructionReference,
  type MessageFinding,
  type MessageParties,
  type PvpEnvelope,
  type PvpMessageKind,
  type PvpOutbound,
} from "../../iso20022/pvp/envelope.ts";

export function instructionMessage(
  parties: MessageParties,
  terms: { uetr: string; amount: Amount; hashLock: string; expiry: Date; debtor: string; creditor: string },
): { xml: string; reference: InstructionReference } {
  const sent = pvpEnvelope({ kind: "instruction", parties, ...terms });
  return { xml: sent.xml, reference: { messageId: sent.businessMessageId, createdAt: isoDateTime(parties.createdAt), instructionId: sent.businessMessageId, endToEndId: parties.pvpRef.slice(0, 35), uetr: terms.uetr } };
}

export function lockedMessage(parties: MessageParties, original: InstructionReference, hashLock: string, expiry: Date): string {
  return pvpEnvelope({ kind: "locked", parties, original, hashLock, expiry }).xml;
}

/** ACSC with the preimage: from the initiator it is the reveal, from the responder the settlement report. */
export function settledMessage(parties: MessageParties, original: InstructionReference, preimage: string, kind: "reveal" | "settled"): string {
  return pvpEnvelope({ kind, parties, original, preimage }).xml;
}

/** pacs.028: asks the peer for the current status of the PvP the instruction opened (recovery). */
export function statusRequestMessage(parties: MessageParties, businessMessageId: string, original: InstructionReference): string {
  return pvpEnvelope({ kind: "statusRequest", parties, businessMessageId, original }).xml;
}

export function rejectedMessage(parties: MessageParties, original: InstructionReference, reason: string): string {
  return pvpEnvelope({ kind: "rejected", parties, original, reason }).xml;
}

export function cancellationRequestMessage(parties: MessageParties, original: InstructionReference, amount: Amount, reason: string): string {
  return pvpEnvelope({ kind: "cancellationRequest", parties, original, amount, reason }).xml;
}

export function resolutionMessage(parties: MessageParties, original: InstructionReference, outcome: "CNCL" | "RJCR", reason?: string): string {
  if (outcome === "CNCL") return pvpEnvelope({ kind: "cancelled", parties, original }).xml;
  return pvpEnvelope({ kind: "cancellationRefused", parties, original, ...(reason === undefined ? {} : { reason }) }).xml;
}

export function notificationMessage(parties: MessageParties, original: InstructionReference, entry: { account: string; amount: Amount; creditDebit: "CRDT" | "DBIT" }): string {
  return pvpEnvelope({ kind: entry.creditDebit === "DBIT" ? "debitNotice" : "creditNotice", parties, original, account: entry.account, amount: entry.amount }).xml;
}

/** pacs.002 RJCT to the PvP's own bank: the PvP was rejected or unwound, with its ISO reason code. */
export function rejectionToBankMessage(parties: MessageParties, original: InstructionReference, reason: string): string {
  return pvpEnvelope({ kind: "bankRejection", parties, original, reason }).xml;
}
