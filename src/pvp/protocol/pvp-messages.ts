import { CodedError } from "../../core/errors.ts";
import type { Amount } from "../../core/money.ts";
import { buildMessage, type Iso20022Message } from "../../iso20022/message.ts";
import {
  buildPvpCancellationRequest,
  buildPvpInstruction,
  buildPvpNotification,
  buildPvpResolution,
  buildPvpStatus,
  buildPvpStatusRequest,
  readPvpCancellationRequest,
  readPvpInstruction,
  readPvpResolution,
  readPvpStatus,
  type PvpCancellationRequest,
  type PvpInstruction,
  type PvpOriginal,
  type PvpResolution,
  type PvpStatus,
} from "../../iso20022/pvp/messages.ts";
import { assertPvpId, PvpProfileError } from "../../iso20022/pvp/tags.ts";
import type { ValidationProfile } from "../../iso20022/validation/profiles.ts";
import { readValidatedMessage } from "../../iso20022/validation/validate.ts";

/**
 * The PvP engine's side of the ISO 20022 PvP profile (docs/iso20022-pvp-profile.md): which message says
 * what between two gateways, built and read by the ISO 20022 layer and validated (XSD + CBPR+) both before
 * sending and on receipt.
 *
 *   initiator -> responder  pacs.009            instruction: lock the foreign leg under H until T_B
 *   responder -> initiator  pacs.002 ACSP       the foreign leg is locked
 *   initiator -> responder  pacs.002 ACSC+PRIM  the preimage: settle the foreign leg (the reveal)
 *   responder -> initiator  pacs.002 ACSC+PRIM  the foreign leg is settled
 *   responder -> initiator  pacs.002 RJCT       never locked, or refunded (ISO reason code)
 *   initiator -> responder  camt.056            cancel before the reveal
 *   responder -> initiator  camt.029 CNCL/RJCR  cancellation done (leg refunded) or refused
 */
export type InboundPvpMessage =
  | { kind: "instruction"; instruction: PvpInstruction }
  | { kind: "status"; status: PvpStatus }
  | { kind: "cancellation_request"; request: PvpCancellationRequest }
  | { kind: "resolution"; resolution: PvpResolution };

/** A message failed the ISO 20022 layer or the PvP profile; `findings` lists the rule codes. */
export class PvpMessageError extends CodedError<"MESSAGE_INVALID" | "MESSAGE_NOT_PVP"> {
  declare readonly details: MessageFinding[];
  constructor(code: "MESSAGE_INVALID" | "MESSAGE_NOT_PVP", message: string, findings: MessageFinding[] = []) {
    super(code, message, findings);
  }
}

/** One rule a message broke: its code, where, and what. */
export interface MessageFinding {
  code: string;
  path: string;
  message: string;
}

/**
 * Renders a message and checks it the same way a receiver will, warnings counted as errors (what we send
 * follows the guidelines too); a message that fails is never sent.
 */
export function renderValidated(message: Iso20022Message): string {
  const xml = buildMessage(message);
  const report = readValidatedMessage(xml, { strict: true });
  if (!report.valid) {
    throw new PvpMessageError("MESSAGE_INVALID", `outbound ${message.messageType} fails validation: ${report.errors.map((error) => error.code).join(", ")}`, report.errors);
  }
  return xml;
}

/**
 * Validates an inbound message under the sender's validation profile (the correspondent directory's
 * `profile`, read with `validationProfile()`; cbpr+ by default) and reads it as a PvP profile message.
 */
export function readInbound(
  xml: string,
  profile: ValidationProfile = "cbpr+",
): { message: InboundPvpMessage; businessMessageId: string; from: string; to: string } {
  const report = readValidatedMessage(xml, { profile });
  if (!report.valid || report.message === undefined) {
    throw new PvpMessageError("MESSAGE_INVALID", `message fails validation: ${report.errors.map((error) => error.code).join(", ")}`, report.errors);
  }
  const message = report.message;
  const header = message.header;
  if (header === undefined) throw new PvpMessageError("MESSAGE_NOT_PVP", "PvP messages travel with their Business Application Header");
  const { from, to } = header;
  if (from === undefined || to === undefined) throw new PvpMessageError("MESSAGE_NOT_PVP", "PvP messages name sender and receiver by BICFI in the AppHdr (Fr/To FIId)");
  try {
    let read: InboundPvpMessage;
    switch (message.messageType) {
      case "pacs.009.001.08":
        read = { kind: "instruction", instruction: readPvpInstruction(message) };
        break;
      case "pacs.002.001.10":
        read = { kind: "status", status: readPvpStatus(message) };
        break;
      case "camt.056.001.08":
        read = { kind: "cancellation_request", request: readPvpCancellationRequest(message) };
        break;
      case "camt.029.001.09":
        read = { kind: "resolution", resolution: readPvpResolution(message) };
        break;
      default:
        throw new PvpMessageError("MESSAGE_NOT_PVP", `${message.messageType} is not a message a correspondent sends in the PvP profile`);
    }
    return { message: read, businessMessageId: header.businessMessageId, from, to };
  } catch (error) {
    if (error instanceof PvpProfileError) throw new PvpMessageError("MESSAGE_NOT_PVP", error.message, [{ code: error.code, path: "/", message: error.message }]);
    throw error;
  }
}

/** The identifiers of the pacs.009 that opened a PvP, which every later message refers to. */
export type InstructionReference = PvpOriginal;

export interface MessageParties {
  /** The PvP id the instruction carries (`/PVP/`). */
  pvpRef: string;
  /** The id the BizMsgIdr is built on when it is not `pvpRef` (our local PvP id, for notices to our banks). */
  messageRef?: string;
  from: string;
  to: string;
  createdAt: Date;
}

/** ISO date-time with an explicit offset, second precision (CBPR+ wants the offset). */
export function isoDateTime(at: Date): string {
  return `${at.toISOString().slice(0, 19)}+00:00`;
}

/** A hash-lock or preimage as the profile writes it: 64 lowercase hex characters without 0x. */
export function bareHex(value: string): string {
  return value.replace(/^0x/, "").toLowerCase();
}

/**
 * Every message the gateway sends about a PvP, with the two-letter code that ends its BizMsgIdr. Messages
 * to the peer are named by the PvP id the instruction carries (`/PVP/`); notices to our own banks by our
 * local PvP id, so two peers using the same `/PVP/` id never make two notices share an id.
 */
export const pvpMessageCodes = {
  instruction: "IN",
  locked: "AP",
  settled: "AC",
  reveal: "RV",
  rejected: "RJ",
  cancellationRequest: "CR",
  cancellationCase: "CS",
  cancelled: "CC",
  cancellationRefused: "CJ",
  debitNotice: "ND",
  creditNotice: "NC",
  bankRejection: "BR",
} as const;

export type PvpMessageKind = keyof typeof pvpMessageCodes;

/**
 * Deterministic BizMsgIdr: `<pvpId>-<code>`, at most 32 + 3 = 35 characters. The suffix has a fixed length,
 * so the id gives back its PvP id and kind: two distinct messages never share one, and a resend keeps it.
 */
export function messageIdOf(pvpId: string, kind: PvpMessageKind): string {
  assertPvpId(pvpId);
  return `${pvpId}-${pvpMessageCodes[kind]}`;
}

/** How many status requests one PvP can number (three base-36 digits). */
export const maxStatusRequests = 36 ** 3 - 1;

/**
 * The BizMsgIdr of a PvP's n-th status request (pacs.028): `<pvpId>` + n in three base-36 digits. The last
 * three characters never hold '-', so no status request shares an id with a message of `messageIdOf`.
 */
export function statusRequestIdOf(pvpId: string, sequence: number): string {
  assertPvpId(pvpId);
  if (!Number.isInteger(sequence) || sequence < 1 || sequence > maxStatusRequests) throw new RangeError(`status request number ${sequence} is outside 1..${maxStatusRequests}`);
  return `${pvpId}${sequence.toString(36).toUpperCase().padStart(3, "0")}`;
}

function envelope(parties: MessageParties, kind: PvpMessageKind) {
  return {
    messageId: messageIdOf(parties.messageRef ?? parties.pvpRef, kind),
    createdAt: isoDateTime(parties.createdAt),
    from: parties.from,
    to: parties.to,
    pvpId: parties.pvpRef,
  };
}

export function instructionMessage(
  parties: MessageParties,
  terms: { uetr: string; amount: Amount; hashLock: string; expiry: Date; debtor: string; creditor: string },
): { xml: string; reference: InstructionReference } {
  const base = envelope(parties, "instruction");
  const message = buildPvpInstruction({
    ...base,
    uetr: terms.uetr,
    endToEndId: parties.pvpRef.slice(0, 35),
    amount: terms.amount,
    settlementDate: base.createdAt.slice(0, 10),
    debtor: terms.debtor,
    creditor: terms.creditor,
    hashLock: terms.hashLock,
    expiry: isoDateTime(terms.expiry),
  });
  return {
    xml: renderValidated(message),
    reference: { messageId: base.messageId, createdAt: base.createdAt, instructionId: base.messageId, endToEndId: parties.pvpRef.slice(0, 35), uetr: terms.uetr },
  };
}

export function lockedMessage(parties: MessageParties, original: InstructionReference, hashLock: string, expiry: Date): string {
  return renderValidated(buildPvpStatus({ ...envelope(parties, "locked"), status: "ACSP", original, hashLock, expiry: isoDateTime(expiry) }));
}

/** ACSC with the preimage: from the initiator it is the reveal, from the responder the settlement report. */
export function settledMessage(parties: MessageParties, original: InstructionReference, preimage: string, kind: "reveal" | "settled"): string {
  return renderValidated(buildPvpStatus({ ...envelope(parties, kind), status: "ACSC", original, preimage }));
}

/** pacs.028: asks the peer for the current status of the PvP the instruction opened (recovery). */
export function statusRequestMessage(parties: Omit<MessageParties, "pvpRef"> & { pvpRef: string }, businessMessageId: string, original: InstructionReference): string {
  return renderValidated(buildPvpStatusRequest({ messageId: businessMessageId, createdAt: isoDateTime(parties.createdAt), from: parties.from, to: parties.to, original }));
}

export function rejectedMessage(parties: MessageParties, original: InstructionReference, reason: string): string {
  return renderValidated(buildPvpStatus({ ...envelope(parties, "rejected"), status: "RJCT", original, reason }));
}

export function cancellationRequestMessage(parties: MessageParties, original: InstructionReference, amount: Amount, reason: string): string {
  const base = envelope(parties, "cancellationRequest");
  return renderValidated(
    buildPvpCancellationRequest({ ...base, caseId: messageIdOf(parties.pvpRef, "cancellationCase"), original, originalAmount: amount, originalSettlementDate: original.createdAt.slice(0, 10), reason }),
  );
}

export function resolutionMessage(parties: MessageParties, original: InstructionReference, outcome: "CNCL" | "RJCR", reason?: string): string {
  const resolution: PvpResolution = { ...envelope(parties, outcome === "CNCL" ? "cancelled" : "cancellationRefused"), caseId: messageIdOf(parties.pvpRef, "cancellationCase"), outcome, original };
  if (reason !== undefined) resolution.reason = reason;
  return renderValidated(buildPvpResolution(resolution));
}

/**
 * Acct/Id/Othr/Id holds at most 34 characters: an EVM address (42) goes there losslessly as
 * `evm:` + base64url of its 20 bytes (31); ledger account ids that fit are kept as they are.
 */
export function accountIdOf(account: string): string {
  if (account.length <= 34) return account;
  if (/^0x[0-9a-fA-F]{40}$/.test(account)) return `evm:${Buffer.from(account.slice(2), "hex").toString("base64url")}`;
  throw new Error(`account ${account.slice(0, 40)}... does not fit an ISO 20022 account id (34 characters)`);
}

export function notificationMessage(
  parties: MessageParties,
  original: InstructionReference,
  entry: { account: string; amount: Amount; creditDebit: "CRDT" | "DBIT" },
): string {
  const base = envelope(parties, entry.creditDebit === "DBIT" ? "debitNotice" : "creditNotice");
  return renderValidated(
    buildPvpNotification({
      ...base,
      notificationId: base.messageId,
      account: { otherId: accountIdOf(entry.account) },
      amount: entry.amount,
      creditDebit: entry.creditDebit,
      bookingDate: base.createdAt.slice(0, 10),
      original: { instructionId: original.instructionId, endToEndId: original.endToEndId, uetr: original.uetr },
    }),
  );
}

/** pacs.002 RJCT to the PvP's own bank: the PvP was rejected or unwound, with its ISO reason code. */
export function rejectionToBankMessage(parties: MessageParties, original: InstructionReference, reason: string): string {
  return renderValidated(buildPvpStatus({ ...envelope(parties, "bankRejection"), status: "RJCT", original, reason }));
}
