import type { Amount } from "../../core/money.ts";
import type { DocumentType } from "../catalog.ts";
import type { BusinessApplicationHeader, Iso20022Message } from "../message.ts";
import { hashLockOf } from "../../core/hash-lock.ts";
import { assertExpiry, assertHashLock, assertPreimage, assertPvpId, formatTags, parseTags, PvpProfileError, requireTag } from "./tags.ts";

/**
 * Builders and readers of the PvP profile (docs/iso20022-pvp-profile.md): each builder returns a typed
 * message with its Business Application Header; `buildMessage` renders it. Readers check the profile and
 * throw {@link PvpProfileError} with a stable code.
 */

/** Business service the PvP messages declare: the CBPR+ profile they follow. */
export const pvpBusinessService = "swift.cbprplus.02";

/** Identification of the pacs.009 a status, notification, cancellation or return refers to. */
export interface PvpOriginal {
  messageId: string;
  createdAt: string;
  instructionId: string;
  endToEndId: string;
  uetr: string;
}

interface Envelope {
  messageId: string;
  /** ISO date-time with offset. */
  createdAt: string;
  /** BIC of the sender (AppHdr Fr, instructing agent or assigner). */
  from: string;
  /** BIC of the receiver (AppHdr To, instructed agent or assignee). */
  to: string;
  pvpId: string;
}

function header(messageType: DocumentType, envelope: Envelope): BusinessApplicationHeader {
  return {
    from: envelope.from,
    to: envelope.to,
    businessMessageId: envelope.messageId,
    messageDefinitionId: messageType,
    businessService: pvpBusinessService,
    createdAt: envelope.createdAt,
    related: [],
  };
}

function expectType<T extends DocumentType>(message: Iso20022Message, messageType: T): Iso20022Message<T> {
  if (message.messageType !== messageType) throw new PvpProfileError("PVP_MESSAGE_TYPE", `expected ${messageType}, got ${message.messageType}`);
  return message as Iso20022Message<T>;
}

function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new PvpProfileError("PVP_TAG_MISSING", `the PvP profile carries exactly one ${what}; found ${items.length}`);
  return items[0]!;
}

/** A value the PvP profile needs that the message leaves out: refused, never read as "". */
function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === "") throw new PvpProfileError("PVP_FIELD_MISSING", `${what} is missing`);
  return value;
}

const reasonPattern = /^[A-Z0-9]{4}$/;
function assertReason(code: string): void {
  if (!reasonPattern.test(code)) throw new PvpProfileError("PVP_REASON_INVALID", `reason ${code} is not a 4-character ISO external code`);
}

const originalGroup = (original: PvpOriginal) => ({
  originalMessageId: original.messageId,
  originalMessageNameId: "pacs.009.001.08",
  originalCreatedAt: original.createdAt,
});

function originalOf(transaction: {
  originalGroup?: { originalMessageId: string; originalCreatedAt?: string };
  originalInstructionId?: string;
  originalEndToEndId?: string;
  originalUetr?: string;
}): PvpOriginal {
  return {
    messageId: required(transaction.originalGroup?.originalMessageId, "OrgnlGrpInf/OrgnlMsgId"),
    createdAt: required(transaction.originalGroup?.originalCreatedAt, "OrgnlGrpInf/OrgnlCreDtTm"),
    instructionId: required(transaction.originalInstructionId, "OrgnlInstrId"),
    endToEndId: required(transaction.originalEndToEndId, "OrgnlEndToEndId"),
    uetr: required(transaction.originalUetr, "OrgnlUETR"),
  };
}

// pacs.009: the PvP instruction ------------------------------------------------------------------------

export interface PvpInstruction extends Envelope {
  uetr: string;
  endToEndId: string;
  amount: Amount;
  /** ISO date of settlement. */
  settlementDate: string;
  /** BIC of the institution whose account is debited (the paying central bank or bank). */
  debtor: string;
  /** BIC of the institution credited. */
  creditor: string;
  /** H = SHA-256(preimage), 64 lowercase hex. */
  hashLock: string;
  /** When the lock on this leg expires (T_B), with offset. */
  expiry: string;
}

/** pacs.009 carrying `/PVP/<id>/HLCK/<H>/EXPY/<expiry>` in RmtInf/Ustrd (at most 138 of 140 characters). */
export function buildPvpInstruction(instruction: PvpInstruction): Iso20022Message<"pacs.009.001.08"> {
  assertPvpId(instruction.pvpId);
  assertHashLock(instruction.hashLock);
  assertExpiry(instruction.expiry);
  return {
    messageType: "pacs.009.001.08",
    header: header("pacs.009.001.08", instruction),
    document: {
      groupHeader: { messageId: instruction.messageId, createdAt: instruction.createdAt, numberOfTransactions: "1", settlementMethod: "INDA" },
      transactions: [
        {
          instructionId: instruction.messageId,
          endToEndId: instruction.endToEndId,
          uetr: instruction.uetr,
          interbankSettlementAmount: instruction.amount,
          interbankSettlementDate: instruction.settlementDate,
          instructingAgent: { bic: instruction.from },
          instructedAgent: { bic: instruction.to },
          debtor: { bic: instruction.debtor },
          creditor: { bic: instruction.creditor },
          remittanceInformation: [formatTags([["PVP", instruction.pvpId], ["HLCK", instruction.hashLock], ["EXPY", instruction.expiry]])],
        },
      ],
    },
  };
}

export function readPvpInstruction(message: Iso20022Message): PvpInstruction {
  const { document, header: head } = expectType(message, "pacs.009.001.08");
  const transaction = only(document.transactions, "transaction");
  const tags = parseTags(transaction.remittanceInformation);
  const instruction: PvpInstruction = {
    messageId: document.groupHeader.messageId,
    createdAt: document.groupHeader.createdAt,
    from: required(head?.from ?? transaction.instructingAgent?.bic, "AppHdr Fr BICFI (or InstgAgt BICFI)"),
    to: required(head?.to ?? transaction.instructedAgent?.bic, "AppHdr To BICFI (or InstdAgt BICFI)"),
    pvpId: requireTag(tags, "PVP"),
    uetr: required(transaction.uetr, "UETR"),
    endToEndId: transaction.endToEndId,
    amount: transaction.interbankSettlementAmount,
    settlementDate: required(transaction.interbankSettlementDate, "IntrBkSttlmDt"),
    debtor: required(transaction.debtor.bic, "Dbtr BICFI"),
    creditor: required(transaction.creditor.bic, "Cdtr BICFI"),
    hashLock: requireTag(tags, "HLCK"),
    expiry: requireTag(tags, "EXPY"),
  };
  assertPvpId(instruction.pvpId);
  assertHashLock(instruction.hashLock);
  assertExpiry(instruction.expiry);
  return instruction;
}

// pacs.002: locked (ACSP), settled (ACSC), rejected (RJCT) --------------------------------------------

export type PvpStatus =
  | (Envelope & { status: "ACSP"; original: PvpOriginal; hashLock: string; expiry: string })
  | (Envelope & { status: "ACSC"; original: PvpOriginal; preimage: string })
  | (Envelope & { status: "RJCT"; original: PvpOriginal; reason: string });

/**
 * pacs.002 for one PvP leg. StsRsnInf/AddtlInf (105 characters each) carries the tags over two lines:
 * `/PVP/<id>` (+ `/EXPY/<expiry>` for ACSP), then `/HLCK/<H>` (ACSP) or `/PRIM/<preimage>` (ACSC).
 * RJCT carries its ISO reason code in StsRsnInf/Rsn/Cd and `/PVP/<id>`.
 */
export function buildPvpStatus(status: PvpStatus): Iso20022Message<"pacs.002.001.10"> {
  assertPvpId(status.pvpId);
  let reason: { code?: string; additionalInformation: string[] };
  if (status.status === "ACSP") {
    assertHashLock(status.hashLock);
    assertExpiry(status.expiry);
    reason = { additionalInformation: [formatTags([["PVP", status.pvpId], ["EXPY", status.expiry]]), formatTags([["HLCK", status.hashLock]])] };
  } else if (status.status === "ACSC") {
    assertPreimage(status.preimage);
    reason = { additionalInformation: [formatTags([["PVP", status.pvpId]]), formatTags([["PRIM", status.preimage]])] };
  } else {
    assertReason(status.reason);
    reason = { code: status.reason, additionalInformation: [formatTags([["PVP", status.pvpId]])] };
  }
  return {
    messageType: "pacs.002.001.10",
    header: header("pacs.002.001.10", status),
    document: {
      groupHeader: { messageId: status.messageId, createdAt: status.createdAt },
      transactions: [
        {
          originalGroup: originalGroup(status.original),
          originalInstructionId: status.original.instructionId,
          originalEndToEndId: status.original.endToEndId,
          originalUetr: status.original.uetr,
          status: status.status,
          reasons: [reason],
          instructingAgent: { bic: status.from },
          instructedAgent: { bic: status.to },
        },
      ],
    },
  };
}

/**
 * Reads a PvP status. With `expectedHashLock`, an ACSC whose preimage does not hash to it is refused, so a
 * settle report is acted on only when it proves the secret.
 */
export function readPvpStatus(message: Iso20022Message, expectedHashLock?: string): PvpStatus {
  const { document, header: head } = expectType(message, "pacs.002.001.10");
  const transaction = only(document.transactions, "transaction");
  const reasons = transaction.reasons;
  const tags = parseTags(reasons.flatMap((reason) => reason.additionalInformation));
  const common = {
    messageId: document.groupHeader.messageId,
    createdAt: document.groupHeader.createdAt,
    from: required(head?.from ?? transaction.instructingAgent?.bic, "AppHdr Fr BICFI (or InstgAgt BICFI)"),
    to: required(head?.to ?? transaction.instructedAgent?.bic, "AppHdr To BICFI (or InstdAgt BICFI)"),
    pvpId: requireTag(tags, "PVP"),
    original: originalOf(transaction),
  };
  assertPvpId(common.pvpId);
  switch (transaction.status) {
    case "ACSP": {
      const status = { ...common, status: "ACSP" as const, hashLock: requireTag(tags, "HLCK"), expiry: requireTag(tags, "EXPY") };
      assertHashLock(status.hashLock);
      assertExpiry(status.expiry);
      return status;
    }
    case "ACSC": {
      const preimage = requireTag(tags, "PRIM");
      assertPreimage(preimage);
      const hashLock = hashLockOf(`0x${preimage}`).slice(2);
      if (expectedHashLock !== undefined && hashLock !== expectedHashLock) {
        throw new PvpProfileError("PVP_PREIMAGE_MISMATCH", "the revealed preimage does not hash to the leg's hash-lock");
      }
      return { ...common, status: "ACSC", preimage };
    }
    case "RJCT": {
      const reason = reasons.find((candidate) => candidate.code !== undefined)?.code;
      if (reason === undefined) throw new PvpProfileError("PVP_REASON_INVALID", "a PvP rejection carries an ISO reason code");
      return { ...common, status: "RJCT", reason };
    }
    default:
      throw new PvpProfileError("PVP_STATUS_UNEXPECTED", `status ${transaction.status ?? "(none)"} is not ACSP, ACSC or RJCT`);
  }
}

// camt.054: notification to the account holder --------------------------------------------------------

export interface PvpNotification extends Envelope {
  notificationId: string;
  /** The digital account (DA) notified: IBAN or the ledger's account id. */
  account: { iban?: string; otherId?: string };
  amount: Amount;
  creditDebit: "CRDT" | "DBIT";
  /** ISO date the entry was booked. */
  bookingDate: string;
  original: Pick<PvpOriginal, "instructionId" | "endToEndId" | "uetr">;
}

/** camt.054 for a booked PvP entry; `/PVP/<id>` in the entry's RmtInf/Ustrd. */
export function buildPvpNotification(notification: PvpNotification): Iso20022Message<"camt.054.001.08"> {
  assertPvpId(notification.pvpId);
  return {
    messageType: "camt.054.001.08",
    header: header("camt.054.001.08", notification),
    document: {
      groupHeader: { messageId: notification.messageId, createdAt: notification.createdAt },
      notifications: [
        {
          id: notification.notificationId,
          account: { ...notification.account, currency: notification.amount.currency },
          entries: [
            {
              amount: notification.amount,
              creditDebit: notification.creditDebit,
              status: "BOOK",
              bookingDate: notification.bookingDate,
              valueDate: notification.bookingDate,
              bankTransactionCode: { domain: "PMNT", family: notification.creditDebit === "CRDT" ? "RCDT" : "ICDT", subFamily: "XBCT" },
              transactions: [
                {
                  instructionId: notification.original.instructionId,
                  endToEndId: notification.original.endToEndId,
                  uetr: notification.original.uetr,
                  amount: notification.amount,
                  creditDebit: notification.creditDebit,
                  remittanceInformation: [formatTags([["PVP", notification.pvpId]])],
                },
              ],
            },
          ],
        },
      ],
    },
  };
}

export function readPvpNotification(message: Iso20022Message): PvpNotification {
  const { document, header: head } = expectType(message, "camt.054.001.08");
  const notification = only(document.notifications, "notification");
  const entry = only(notification.entries, "entry");
  const transaction = only(entry.transactions, "transaction detail");
  const tags = parseTags(transaction.remittanceInformation);
  const result: PvpNotification = {
    messageId: document.groupHeader.messageId,
    createdAt: document.groupHeader.createdAt,
    from: required(head?.from, "AppHdr Fr BICFI"),
    to: required(head?.to, "AppHdr To BICFI"),
    pvpId: requireTag(tags, "PVP"),
    notificationId: notification.id,
    account: {},
    amount: required(entry.amount, "Amt"),
    creditDebit: entry.creditDebit === "DBIT" ? "DBIT" : "CRDT",
    bookingDate: required(entry.bookingDate, "BookgDt/Dt"),
    original: { instructionId: required(transaction.instructionId, "Refs/InstrId"), endToEndId: required(transaction.endToEndId, "Refs/EndToEndId"), uetr: required(transaction.uetr, "UETR") },
  };
  if (notification.account.iban !== undefined) result.account.iban = notification.account.iban;
  if (notification.account.otherId !== undefined) result.account.otherId = notification.account.otherId;
  return result;
}

// camt.056 / camt.029: cancellation and its resolution ------------------------------------------------

export interface PvpCancellationRequest extends Envelope {
  caseId: string;
  original: PvpOriginal;
  originalAmount: Amount;
  originalSettlementDate: string;
  /** ISO ExternalCancellationReason1Code, e.g. TECH, DUPL, AGNT, CUST. */
  reason: string;
}

export function buildPvpCancellationRequest(request: PvpCancellationRequest): Iso20022Message<"camt.056.001.08"> {
  assertPvpId(request.pvpId);
  assertReason(request.reason);
  return {
    messageType: "camt.056.001.08",
    header: header("camt.056.001.08", request),
    document: {
      assignment: { id: request.messageId, assigner: { bic: request.from }, assignee: { bic: request.to }, createdAt: request.createdAt },
      transactions: [
        {
          case: { id: request.caseId, creator: { bic: request.from } },
          originalGroup: originalGroup(request.original),
          originalInstructionId: request.original.instructionId,
          originalEndToEndId: request.original.endToEndId,
          originalUetr: request.original.uetr,
          originalInterbankSettlementAmount: request.originalAmount,
          originalInterbankSettlementDate: request.originalSettlementDate,
          reasons: [{ code: request.reason, additionalInformation: [formatTags([["PVP", request.pvpId]])] }],
        },
      ],
    },
  };
}

export function readPvpCancellationRequest(message: Iso20022Message): PvpCancellationRequest {
  const { document } = expectType(message, "camt.056.001.08");
  const transaction = only(document.transactions, "transaction");
  const reason = only(transaction.reasons, "cancellation reason");
  const tags = parseTags(reason.additionalInformation);
  return {
    messageId: document.assignment.id,
    createdAt: document.assignment.createdAt,
    from: required(document.assignment.assigner.bic, "Assgnr/Agt BICFI"),
    to: required(document.assignment.assignee.bic, "Assgne/Agt BICFI"),
    pvpId: requireTag(tags, "PVP"),
    caseId: required(transaction.case?.id, "Case/Id"),
    original: originalOf(transaction),
    originalAmount: required(transaction.originalInterbankSettlementAmount, "OrgnlIntrBkSttlmAmt"),
    originalSettlementDate: required(transaction.originalInterbankSettlementDate, "OrgnlIntrBkSttlmDt"),
    reason: required(reason.code ?? reason.proprietary, "reason code"),
  };
}

export interface PvpResolution extends Envelope {
  caseId: string;
  /** CNCL: cancelled (the hold is released); RJCR: cancellation refused (the reason says why). */
  outcome: "CNCL" | "RJCR";
  original: PvpOriginal;
  /** ISO reason code, required when the cancellation is refused (e.g. ARDT already returned, LEGL). */
  reason?: string;
}

export function buildPvpResolution(resolution: PvpResolution): Iso20022Message<"camt.029.001.09"> {
  assertPvpId(resolution.pvpId);
  if (resolution.outcome === "RJCR") assertReason(resolution.reason ?? "");
  const reasons = [{ additionalInformation: [formatTags([["PVP", resolution.pvpId]])], ...(resolution.reason ? { code: resolution.reason } : {}) }];
  return {
    messageType: "camt.029.001.09",
    header: header("camt.029.001.09", resolution),
    document: {
      assignment: { id: resolution.messageId, assigner: { bic: resolution.from }, assignee: { bic: resolution.to }, createdAt: resolution.createdAt },
      status: resolution.outcome,
      transactions: [
        {
          resolvedCase: { id: resolution.caseId, creator: { bic: resolution.to } },
          originalGroup: originalGroup(resolution.original),
          originalInstructionId: resolution.original.instructionId,
          originalEndToEndId: resolution.original.endToEndId,
          originalUetr: resolution.original.uetr,
          reasons,
        },
      ],
    },
  };
}

export function readPvpResolution(message: Iso20022Message): PvpResolution {
  const { document } = expectType(message, "camt.029.001.09");
  const transaction = only(document.transactions, "transaction");
  const tags = parseTags(transaction.reasons.flatMap((reason) => reason.additionalInformation));
  const outcome = document.status;
  if (outcome !== "CNCL" && outcome !== "RJCR") throw new PvpProfileError("PVP_STATUS_UNEXPECTED", `resolution ${outcome ?? "(none)"} is not CNCL or RJCR`);
  const resolution: PvpResolution = {
    messageId: document.assignment.id,
    createdAt: document.assignment.createdAt,
    from: required(document.assignment.assigner.bic, "Assgnr/Agt BICFI"),
    to: required(document.assignment.assignee.bic, "Assgne/Agt BICFI"),
    pvpId: requireTag(tags, "PVP"),
    caseId: required(transaction.resolvedCase?.id, "RslvdCase/Id"),
    outcome,
    original: originalOf(transaction),
  };
  const reason = transaction.reasons.find((candidate) => candidate.code !== undefined)?.code;
  if (reason !== undefined) resolution.reason = reason;
  return resolution;
}

// pacs.004: return of a settled leg -----------------------------------------------------------------

export interface PvpReturn extends Envelope {
  returnId: string;
  original: PvpOriginal;
  originalAmount: Amount;
  returnedAmount: Amount;
  settlementDate: string;
  /** ISO ExternalReturnReason1Code, e.g. AC04, AM09, NARR. */
  reason: string;
}

export function buildPvpReturn(paymentReturn: PvpReturn): Iso20022Message<"pacs.004.001.09"> {
  assertPvpId(paymentReturn.pvpId);
  assertReason(paymentReturn.reason);
  return {
    messageType: "pacs.004.001.09",
    header: header("pacs.004.001.09", paymentReturn),
    document: {
      groupHeader: { messageId: paymentReturn.messageId, createdAt: paymentReturn.createdAt, numberOfTransactions: "1", settlementMethod: "INDA" },
      transactions: [
        {
          returnId: paymentReturn.returnId,
          originalGroup: originalGroup(paymentReturn.original),
          originalInstructionId: paymentReturn.original.instructionId,
          originalEndToEndId: paymentReturn.original.endToEndId,
          originalUetr: paymentReturn.original.uetr,
          originalInterbankSettlementAmount: paymentReturn.originalAmount,
          returnedInterbankSettlementAmount: paymentReturn.returnedAmount,
          interbankSettlementDate: paymentReturn.settlementDate,
          chargeBearer: "SHAR",
          instructingAgent: { bic: paymentReturn.from },
          instructedAgent: { bic: paymentReturn.to },
          reasons: [{ code: paymentReturn.reason, additionalInformation: [formatTags([["PVP", paymentReturn.pvpId]])] }],
        },
      ],
    },
  };
}

export function readPvpReturn(message: Iso20022Message): PvpReturn {
  const { document, header: head } = expectType(message, "pacs.004.001.09");
  const transaction = only(document.transactions, "transaction");
  const reason = only(transaction.reasons, "return reason");
  const tags = parseTags(reason.additionalInformation);
  return {
    messageId: document.groupHeader.messageId,
    createdAt: document.groupHeader.createdAt,
    from: required(head?.from ?? transaction.instructingAgent?.bic, "AppHdr Fr BICFI (or InstgAgt BICFI)"),
    to: required(head?.to ?? transaction.instructedAgent?.bic, "AppHdr To BICFI (or InstdAgt BICFI)"),
    pvpId: requireTag(tags, "PVP"),
    returnId: required(transaction.returnId, "RtrId"),
    original: originalOf(transaction),
    originalAmount: required(transaction.originalInterbankSettlementAmount, "OrgnlIntrBkSttlmAmt"),
    returnedAmount: transaction.returnedInterbankSettlementAmount,
    settlementDate: required(transaction.interbankSettlementDate, "IntrBkSttlmDt"),
    reason: required(reason.code ?? reason.proprietary, "reason code"),
  };
}

// pacs.028: status request (recovery) --------------------------------------------------------------------

/**
 * A status request about one PvP: "I have not heard back; what is the status of this payment?". It names
 * the pacs.009 that opened the PvP (OrgnlGrpInf, OrgnlInstrId, OrgnlEndToEndId, OrgnlUETR); the answer is
 * the current pacs.002 of that PvP. pacs.028 has no free-text field in CBPR+, so no PvP tags: the UETR
 * identifies the PvP.
 */
export interface PvpStatusRequest {
  messageId: string;
  createdAt: string;
  from: string;
  to: string;
  original: PvpOriginal;
}

export function buildPvpStatusRequest(request: PvpStatusRequest): Iso20022Message<"pacs.028.001.03"> {
  return {
    messageType: "pacs.028.001.03",
    header: { ...header("pacs.028.001.03", { ...request, pvpId: "" }) },
    document: {
      groupHeader: { messageId: request.messageId, createdAt: request.createdAt, instructingAgent: { bic: request.from }, instructedAgent: { bic: request.to } },
      transactions: [
        {
          statusRequestId: request.messageId,
          originalGroup: originalGroup(request.original),
          originalInstructionId: request.original.instructionId,
          originalEndToEndId: request.original.endToEndId,
          originalUetr: request.original.uetr,
        },
      ],
    },
  };
}

export function readPvpStatusRequest(message: Iso20022Message): PvpStatusRequest {
  const { document, header: head } = expectType(message, "pacs.028.001.03");
  const transaction = only(document.transactions, "transaction");
  return {
    messageId: document.groupHeader.messageId,
    createdAt: document.groupHeader.createdAt,
    from: required(head?.from ?? document.groupHeader.instructingAgent?.bic, "AppHdr Fr BICFI (or InstgAgt BICFI)"),
    to: required(head?.to ?? document.groupHeader.instructedAgent?.bic, "AppHdr To BICFI (or InstdAgt BICFI)"),
    original: originalOf(transaction),
  };
}
