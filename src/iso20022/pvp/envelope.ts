import { CodedError } from "../../core/errors.ts";
import type { Amount } from "../../core/money.ts";
import { buildMessage, type Iso20022Message } from "../message.ts";
import type { ValidationProfile } from "../validation/profiles.ts";
import { readValidatedMessage } from "../validation/validate.ts";
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
  readPvpStatusRequest,
  type PvpCancellationRequest,
  type PvpInstruction,
  type PvpOriginal,
  type PvpResolution,
  type PvpStatus,
  type PvpStatusRequest,
} from "./messages.ts";
import { assertPvpId, PvpProfileError } from "./tags.ts";

/**
 * The one way between the PvP engine and the wire (docs/iso20022-pvp-profile.md): the engine decides what
 * to say as a typed {@link PvpOutbound} value and `pvpEnvelope` turns it into the validated AppHdr +
 * Document with its BizMsgIdr; `readInbound` turns a correspondent's XML, validated, into a typed
 * {@link InboundPvpMessage}. Nothing here knows the engine.
 *
 *   initiator -> responder  pacs.009            instruction: lock the foreign leg under H until T_B
 *   responder -> initiator  pacs.002 ACSP       the foreign leg is locked
 *   initiator -> responder  pacs.002 ACSC+PRIM  the preimage: settle the foreign leg (the reveal)
 *   responder -> initiator  pacs.002 ACSC+PRIM  the foreign leg is settled
 *   responder -> initiator  pacs.002 RJCT       never locked, or refunded (ISO reason code)
 *   initiator -> responder  camt.056            cancel before the reveal
 *   responder -> initiator  camt.029 CNCL/RJCR  cancellation done (leg refunded) or refused
 *   either -> its own banks camt.054, pacs.002  debit and credit notices, rejection
 *   initiator -> responder  pacs.028            status request (recovery)
 */
export type InboundPvpMessage =
  | { kind: "instruction"; instruction: PvpInstruction }
  | { kind: "status"; status: PvpStatus }
  | { kind: "cancellation_request"; request: PvpCancellationRequest }
  | { kind: "resolution"; resolution: PvpResolution };

/** A pacs.028: asks for the last report on a PvP and changes nothing on it (answered, not applied). */
export interface InboundStatusRequest {
  kind: "status_request";
  request: PvpStatusRequest;
}

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
): { message: InboundPvpMessage | InboundStatusRequest; businessMessageId: string; from: string; to: string } {
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
    let read: InboundPvpMessage | InboundStatusRequest;
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
      case "pacs.028.001.03":
        read = { kind: "status_request", request: readPvpStatusRequest(message) };
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

/** Who says it to whom, when, about which PvP. */
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

/**
 * Acct/Id/Othr/Id holds at most 34 characters: an EVM address (42) goes there losslessly as
 * `evm:` + base64url of its 20 bytes (31); ledger account ids that fit are kept as they are.
 */
export function accountIdOf(account: string): string {
  if (account.length <= 34) return account;
  if (/^0x[0-9a-fA-F]{40}$/.test(account)) return `evm:${Buffer.from(account.slice(2), "hex").toString("base64url")}`;
  throw new Error(`account ${account.slice(0, 40)}... does not fit an ISO 20022 account id (34 characters)`);
}

/** What the PvP side says, as a value: the kind names the message and its BizMsgIdr suffix. */
export type PvpOutbound =
  | { kind: "instruction"; parties: MessageParties; uetr: string; amount: Amount; hashLock: string; expiry: Date; debtor: string; creditor: string }
  | { kind: "locked"; parties: MessageParties; original: InstructionReference; hashLock: string; expiry: Date }
  /** ACSC with the preimage: from the initiator it is the reveal, from the responder the settlement report. */
  | { kind: "reveal" | "settled"; parties: MessageParties; original: InstructionReference; preimage: string }
  /** RJCT to the correspondent, or (bankRejection) to the PvP's own bank. */
  | { kind: "rejected" | "bankRejection"; parties: MessageParties; original: InstructionReference; reason: string }
  | { kind: "cancellationRequest"; parties: MessageParties; original: InstructionReference; amount: Amount; reason: string }
  | { kind: "cancelled"; parties: MessageParties; original: InstructionReference }
  | { kind: "cancellationRefused"; parties: MessageParties; original: InstructionReference; reason?: string }
  | { kind: "debitNotice" | "creditNotice"; parties: MessageParties; original: InstructionReference; account: string; amount: Amount }
  /** pacs.028, numbered apart from the fixed kinds (`statusRequestIdOf`). */
  | { kind: "statusRequest"; parties: MessageParties; businessMessageId: string; original: InstructionReference };

/** A message ready to send: the validated XML, its BizMsgIdr and message type. */
export interface PvpEnvelope {
  xml: string;
  businessMessageId: string;
  messageType: string;
}

/** Turns what the PvP side says into its validated envelope; a message that fails validation is never sent. */
export function pvpEnvelope(outbound: PvpOutbound): PvpEnvelope {
  const message = documentOf(outbound);
  return { xml: renderValidated(message), businessMessageId: message.header!.businessMessageId, messageType: message.messageType };
}

function headerOf(parties: MessageParties, kind: PvpMessageKind) {
  return {
    messageId: messageIdOf(parties.messageRef ?? parties.pvpRef, kind),
    createdAt: isoDateTime(parties.createdAt),
    from: parties.from,
    to: parties.to,
    pvpId: parties.pvpRef,
  };
}

function documentOf(outbound: PvpOutbound): Iso20022Message {
  const { parties } = outbound;
  switch (outbound.kind) {
    case "instruction": {
      const base = headerOf(parties, "instruction");
      return buildPvpInstruction({
        ...base,
        uetr: outbound.uetr,
        endToEndId: parties.pvpRef.slice(0, 35),
        amount: outbound.amount,
        settlementDate: base.createdAt.slice(0, 10),
        debtor: outbound.debtor,
        creditor: outbound.creditor,
        hashLock: outbound.hashLock,
        expiry: isoDateTime(outbound.expiry),
      });
    }
    case "locked":
      return buildPvpStatus({ ...headerOf(parties, "locked"), status: "ACSP", original: outbound.original, hashLock: outbound.hashLock, expiry: isoDateTime(outbound.expiry) });
    case "reveal":
    case "settled":
      return buildPvpStatus({ ...headerOf(parties, outbound.kind), status: "ACSC", original: outbound.original, preimage: outbound.preimage });
    case "rejected":
    case "bankRejection":
      return buildPvpStatus({ ...headerOf(parties, outbound.kind), status: "RJCT", original: outbound.original, reason: outbound.reason });
    case "cancellationRequest":
      return buildPvpCancellationRequest({
        ...headerOf(parties, "cancellationRequest"),
        caseId: messageIdOf(parties.pvpRef, "cancellationCase"),
        original: outbound.original,
        originalAmount: outbound.amount,
        originalSettlementDate: outbound.original.createdAt.slice(0, 10),
        reason: outbound.reason,
      });
    case "cancelled":
      return buildPvpResolution({ ...headerOf(parties, "cancelled"), caseId: messageIdOf(parties.pvpRef, "cancellationCase"), outcome: "CNCL", original: outbound.original });
    case "cancellationRefused":
      return buildPvpResolution({
        ...headerOf(parties, "cancellationRefused"),
        caseId: messageIdOf(parties.pvpRef, "cancellationCase"),
        outcome: "RJCR",
        original: outbound.original,
        ...(outbound.reason === undefined ? {} : { reason: outbound.reason }),
      });
    case "debitNotice":
    case "creditNotice": {
      const base = headerOf(parties, outbound.kind);
      const { original } = outbound;
      return buildPvpNotification({
        ...base,
        notificationId: base.messageId,
        account: { otherId: accountIdOf(outbound.account) },
        amount: outbound.amount,
        creditDebit: outbound.kind === "debitNotice" ? "DBIT" : "CRDT",
        bookingDate: base.createdAt.slice(0, 10),
        original: { instructionId: original.instructionId, endToEndId: original.endToEndId, uetr: original.uetr },
      });
    }
    case "statusRequest":
      return buildPvpStatusRequest({ messageId: outbound.businessMessageId, createdAt: isoDateTime(parties.createdAt), from: parties.from, to: parties.to, original: outbound.original });
  }
}
