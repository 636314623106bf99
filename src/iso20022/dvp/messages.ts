import { CodedError } from "../../core/errors.ts";
import type { Amount } from "../amount.ts";
import type { DocumentType } from "../catalog.ts";
import type { BusinessApplicationHeader, Iso20022Message } from "../message.ts";
import type { DvpReference } from "../messages/securities.ts";
import { isIsin } from "../../core/isin.ts";
import { hasExplicitOffset, isValidBic } from "../validation/identifiers.ts";

/**
 * Builders and readers of the DvP settlement messages on the securities side: sese.023 (instruction),
 * sese.024 (status advice), sese.025 (confirmation). The hash-lock travels in SplmtryData under the
 * gateway's own namespace (see messages/securities.ts); holdings are chain addresses in BlckChainAdrOrWllt.
 * Readers check what a DvP needs and throw {@link DvpMessageError} with a stable code; they never return
 * a half-read instruction.
 */

export type DvpMessageCode =
  | "DVP_MESSAGE_TYPE"
  | "DVP_FIELD_MISSING"
  | "DVP_FIELD_INVALID"
  | "DVP_ISIN_INVALID"
  | "DVP_HASH_LOCK_INVALID"
  | "DVP_QUANTITY_INVALID"
  | "DVP_AMOUNT_INVALID"
  | "DVP_STATUS_INVALID";

/** A settlement message that does not carry what a DvP needs (or carries it malformed). */
export class DvpMessageError extends CodedError<DvpMessageCode> {}

/** Business service the DvP settlement messages declare in their AppHdr. */
export const dvpBusinessService = "tenge-gateway.dvp.01";

/** The cash side settles in Digital Tenge. */
export const DVP_CASH_CURRENCY = "KZT";

export interface DvpEnvelope {
  messageId: string;
  /** ISO date-time with offset. */
  createdAt: string;
  /** BIC of the sender (the broker instructing, or the CSD / gateway reporting). */
  from: string;
  /** BIC of the receiver. */
  to: string;
}

/** A settlement party on either side: the broker (BIC), its securities account and holding address. */
export interface DvpSettlementParty {
  bic: string;
  /** The holding on the chain (an EVM address). */
  holdingAddress: string;
  safekeepingAccount?: string;
  /** The depository (CSD) the party settles through. */
  depositoryBic?: string;
}

/** What a sese.023 instructs for one side of a DvP. */
export interface DvpSettlementInstruction {
  envelope: DvpEnvelope;
  /** The instructing party's own reference (Max35Text). */
  transactionId: string;
  /** deliver: the seller's instruction (DELI); receive: the buyer's (RECE). */
  side: "deliver" | "receive";
  isin: string;
  /** Units of the security in its smallest unit, with the security's decimals. */
  quantity: { units: bigint; decimals: number };
  /** The cash against which the securities move, in KZT tiyn. */
  settlementAmount: Amount;
  tradeDate: string;
  settlementDate: string;
  delivering: DvpSettlementParty;
  receiving: DvpSettlementParty;
  reference: DvpReference;
}

const maxText35 = /^.{1,35}$/u;
const hexHashLock = /^[0-9a-f]{64}$/;
const isoDate = /^\d{4}-\d{2}-\d{2}$/;
const decimal = /^(\d{1,18})(?:\.(\d{1,17}))?$/;
const evmAddress = /^0x[0-9a-fA-F]{40}$/;
const reasonCode = /^[A-Z0-9]{4}$/;

function header(messageType: DocumentType, envelope: DvpEnvelope): BusinessApplicationHeader {
  return {
    from: envelope.from,
    to: envelope.to,
    businessMessageId: envelope.messageId,
    messageDefinitionId: messageType,
    businessService: dvpBusinessService,
    createdAt: envelope.createdAt,
    related: [],
  };
}

function envelopeOf(message: Iso20022Message): DvpEnvelope {
  const from = required(message.header?.from, "AppHdr Fr BICFI");
  const to = required(message.header?.to, "AppHdr To BICFI");
  return { messageId: required(message.header?.businessMessageId, "AppHdr BizMsgIdr"), createdAt: required(message.header?.createdAt, "AppHdr CreDt"), from, to };
}

function expectType<T extends DocumentType>(message: Iso20022Message, messageType: T): Iso20022Message<T> {
  if (message.messageType !== messageType) throw new DvpMessageError("DVP_MESSAGE_TYPE", `expected ${messageType}, got ${message.messageType}`);
  return message as Iso20022Message<T>;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === "") throw new DvpMessageError("DVP_FIELD_MISSING", `${what} is missing`);
  return value;
}

function check(condition: boolean, code: DvpMessageCode, message: string): void {
  if (!condition) throw new DvpMessageError(code, message);
}

/** `1500` units at 0 decimals -> "1500"; 1505n at 2 decimals -> "15.05". */
export function unitsToDecimal(units: bigint, decimals: number): string {
  check(units > 0n, "DVP_QUANTITY_INVALID", "a DvP moves a positive quantity");
  if (decimals === 0) return units.toString();
  const digits = units.toString().padStart(decimals + 1, "0");
  return `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`.replace(/\.?0+$/, "");
}

/** "15.05" at 2 decimals -> 1505n; more decimals than the security has, zero or bad syntax are refused. */
export function unitsFromDecimal(text: string, decimals: number): bigint {
  const match = decimal.exec(text);
  check(match !== null, "DVP_QUANTITY_INVALID", `quantity "${text.slice(0, 40)}" is not a decimal number`);
  const fraction = (match![2] ?? "").replace(/0+$/, "");
  check(fraction.length <= decimals, "DVP_QUANTITY_INVALID", `the security has ${decimals} decimals; quantity "${text}" has more`);
  const units = BigInt(match![1]! + fraction.padEnd(decimals, "0"));
  check(units > 0n, "DVP_QUANTITY_INVALID", "a DvP moves a positive quantity");
  return units;
}

function assertReference(reference: DvpReference): void {
  check(maxText35.test(reference.dvpId), "DVP_FIELD_INVALID", "a DvP id is 1 to 35 characters");
  check(hexHashLock.test(reference.hashLock), "DVP_HASH_LOCK_INVALID", "a hash-lock is 64 lowercase hex characters (SHA-256)");
  if (reference.expiresAt !== undefined) {
    check(hasExplicitOffset(reference.expiresAt) && !Number.isNaN(Date.parse(reference.expiresAt)), "DVP_FIELD_INVALID", "a lock expiry is an ISO 8601 date-time with an explicit offset");
  }
}

function assertParty(party: DvpSettlementParty, side: string): void {
  check(isValidBic(party.bic), "DVP_FIELD_INVALID", `the ${side} party's BIC is not a BIC`);
  check(evmAddress.test(party.holdingAddress), "DVP_FIELD_INVALID", `the ${side} party's holding address is not a 0x-prefixed 20-byte address`);
  if (party.depositoryBic !== undefined) check(isValidBic(party.depositoryBic), "DVP_FIELD_INVALID", `the ${side} depository's BIC is not a BIC`);
}

/** The account details (QtyAndAcctDtls) name the instructing side's own holding: the same as its party's. */
function assertOwnHolding(holdingAddress: string | undefined, own: DvpSettlementParty): void {
  if (holdingAddress === undefined) return;
  check(holdingAddress.toLowerCase() === own.holdingAddress.toLowerCase(), "DVP_FIELD_INVALID", "QtyAndAcctDtls names another holding than the instructing party's");
}

function assertCash(amount: Amount): void {
  check(amount.currency === DVP_CASH_CURRENCY, "DVP_AMOUNT_INVALID", `the cash side of a DvP settles in ${DVP_CASH_CURRENCY}, not ${amount.currency}`);
  check(amount.minorUnits > 0n, "DVP_AMOUNT_INVALID", "a DvP settlement amount is positive");
}

function assertInstruction(instruction: DvpSettlementInstruction): void {
  check(maxText35.test(instruction.transactionId), "DVP_FIELD_INVALID", "a transaction id is 1 to 35 characters");
  check(isIsin(instruction.isin), "DVP_ISIN_INVALID", `"${instruction.isin.slice(0, 24)}" is not an ISIN (ISO 6166, check digit)`);
  check(isoDate.test(instruction.tradeDate) && isoDate.test(instruction.settlementDate), "DVP_FIELD_INVALID", "trade and settlement dates are ISO dates (YYYY-MM-DD)");
  check(instruction.settlementDate >= instruction.tradeDate, "DVP_FIELD_INVALID", "the settlement date is not before the trade date");
  assertCash(instruction.settlementAmount);
  assertParty(instruction.delivering, "delivering");
  assertParty(instruction.receiving, "receiving");
  assertReference(instruction.reference);
}

const partyModel = (party: DvpSettlementParty) => ({
  ...(party.depositoryBic ? { depositoryBic: party.depositoryBic } : {}),
  party: { anyBic: party.bic, holdingAddress: party.holdingAddress, ...(party.safekeepingAccount ? { safekeepingAccount: party.safekeepingAccount } : {}) },
});

function partyOf(parties: { depositoryBic?: string; party?: { anyBic?: string; holdingAddress?: string; safekeepingAccount?: string } } | undefined, side: string): DvpSettlementParty {
  const party: DvpSettlementParty = {
    bic: required(parties?.party?.anyBic, `${side} party Pty1/Id/AnyBIC`),
    holdingAddress: required(parties?.party?.holdingAddress, `${side} party Pty1/BlckChainAdrOrWllt/Id`),
  };
  if (parties?.party?.safekeepingAccount) party.safekeepingAccount = parties.party.safekeepingAccount;
  if (parties?.depositoryBic) party.depositoryBic = parties.depositoryBic;
  return party;
}

/**
 * The sese.023 for one side of a DvP: delivery (or receipt) against payment in KZT, the ISIN and quantity,
 * both settlement parties with their holding addresses, and the DvP reference with the hash-lock.
 */
export function buildSettlementInstruction(instruction: DvpSettlementInstruction): Iso20022Message<"sese.023.001.11"> {
  assertInstruction(instruction);
  const own = instruction.side === "deliver" ? instruction.delivering : instruction.receiving;
  return {
    messageType: "sese.023.001.11",
    header: header("sese.023.001.11", instruction.envelope),
    document: {
      transactionId: instruction.transactionId,
      movementType: instruction.side === "deliver" ? "DELI" : "RECE",
      payment: "APMT",
      commonId: instruction.reference.dvpId,
      tradeIds: [],
      tradeDate: instruction.tradeDate,
      settlementDate: instruction.settlementDate,
      financialInstrument: { isin: instruction.isin },
      quantityUnits: unitsToDecimal(instruction.quantity.units, instruction.quantity.decimals),
      holdingAddress: own.holdingAddress,
      ...(own.safekeepingAccount ? { safekeepingAccount: own.safekeepingAccount } : {}),
      transactionType: "TRAD",
      delivering: partyModel(instruction.delivering),
      receiving: partyModel(instruction.receiving),
      settlementAmount: { amount: instruction.settlementAmount, creditDebit: instruction.side === "deliver" ? "CRDT" : "DBIT" },
      dvpReference: instruction.reference,
    },
  };
}

/** Reads a sese.023 as a DvP instruction; `decimals` are the security's (from its token), for the quantity. */
export function readSettlementInstruction(message: Iso20022Message, decimals: number): DvpSettlementInstruction {
  const document = expectType(message, "sese.023.001.11").document;
  check(document.payment === "APMT", "DVP_FIELD_INVALID", `a DvP settles against payment (APMT), not ${document.payment}`);
  check(document.movementType === "DELI" || document.movementType === "RECE", "DVP_FIELD_INVALID", "SctiesMvmntTp is DELI or RECE");
  const instruction: DvpSettlementInstruction = {
    envelope: envelopeOf(message),
    transactionId: document.transactionId,
    side: document.movementType === "DELI" ? "deliver" : "receive",
    isin: required(document.financialInstrument.isin, "FinInstrmId/ISIN"),
    quantity: { units: unitsFromDecimal(required(document.quantityUnits, "QtyAndAcctDtls/SttlmQty/Qty/Unit"), decimals), decimals },
    settlementAmount: required(document.settlementAmount?.amount, "SttlmAmt/Amt"),
    tradeDate: required(document.tradeDate, "TradDtls/TradDt/Dt/Dt"),
    settlementDate: required(document.settlementDate, "TradDtls/SttlmDt/Dt/Dt"),
    delivering: partyOf(document.delivering, "delivering"),
    receiving: partyOf(document.receiving, "receiving"),
    reference: required(document.dvpReference, "SplmtryData/Envlp/DvpRef"),
  };
  check(document.commonId === undefined || document.commonId === instruction.reference.dvpId, "DVP_FIELD_INVALID", "CmonId and the DvP reference name different DvPs");
  assertOwnHolding(document.holdingAddress, instruction.side === "deliver" ? instruction.delivering : instruction.receiving);
  assertInstruction(instruction);
  return instruction;
}

/** Where an instruction stands, as the sese.024 reports it. */
export type DvpSettlementStatus =
  | { status: "accepted" }
  | { status: "rejected"; reason: string; information?: string }
  | { status: "pending"; reason?: string; information?: string }
  | { status: "failing"; reason?: string; information?: string };

export interface DvpStatusAdvice {
  envelope: DvpEnvelope;
  /** The instructing party's transaction id the advice answers. */
  transactionId: string;
  reference: DvpReference;
  advice: DvpSettlementStatus;
}

const reasoned = (reason: string | undefined, information: string | undefined) => ({
  ...(reason ? { reasonCode: reason } : { noSpecifiedReason: "NORE" }),
  ...(information ? { additionalReason: information } : {}),
});

function assertStatus(advice: DvpSettlementStatus): void {
  if ("reason" in advice && advice.reason !== undefined) check(reasonCode.test(advice.reason), "DVP_STATUS_INVALID", `reason ${advice.reason} is not a 4-character ISO code`);
  if ("information" in advice && advice.information !== undefined) check(advice.information.length <= 210, "DVP_STATUS_INVALID", "additional reason information is at most 210 characters");
}

/** The sese.024: accepted, rejected with an ISO reason (e.g. a compliance refusal), pending or failing. */
export function buildSettlementStatus(advice: DvpStatusAdvice): Iso20022Message<"sese.024.001.12"> {
  check(maxText35.test(advice.transactionId), "DVP_FIELD_INVALID", "a transaction id is 1 to 35 characters");
  assertReference(advice.reference);
  assertStatus(advice.advice);
  const status = advice.advice;
  return {
    messageType: "sese.024.001.12",
    header: header("sese.024.001.12", advice.envelope),
    document: {
      transaction: { accountOwnerTransactionId: advice.transactionId, commonId: advice.reference.dvpId },
      accepted: status.status === "accepted" ? { noSpecifiedReason: "NORE" } : {},
      rejected: status.status === "rejected" ? reasoned(status.reason, status.information) : {},
      settlementPending: status.status === "pending" ? reasoned(status.reason, status.information) : {},
      settlementFailing: status.status === "failing" ? reasoned(status.reason, status.information) : {},
      dvpReference: advice.reference,
    },
  };
}

/** Reads a sese.024; exactly one status (processing or settlement) must be given. */
export function readSettlementStatus(message: Iso20022Message): DvpStatusAdvice {
  const document = expectType(message, "sese.024.001.12").document;
  const given = (status: { noSpecifiedReason?: string; reasonCode?: string; additionalReason?: string }) =>
    status.noSpecifiedReason !== undefined || status.reasonCode !== undefined;
  const statuses: DvpSettlementStatus[] = [];
  const optional = (status: { reasonCode?: string; additionalReason?: string }) => ({
    ...(status.reasonCode ? { reason: status.reasonCode } : {}),
    ...(status.additionalReason ? { information: status.additionalReason } : {}),
  });
  if (given(document.accepted)) statuses.push({ status: "accepted" });
  if (given(document.rejected)) {
    statuses.push({ status: "rejected", reason: required(document.rejected.reasonCode, "PrcgSts/Rjctd/Rsn/Cd/Cd"), ...(document.rejected.additionalReason ? { information: document.rejected.additionalReason } : {}) });
  }
  if (given(document.settlementPending)) statuses.push({ status: "pending", ...optional(document.settlementPending) });
  if (given(document.settlementFailing)) statuses.push({ status: "failing", ...optional(document.settlementFailing) });
  check(statuses.length === 1, "DVP_STATUS_INVALID", `a DvP status advice reports exactly one status; found ${statuses.length}`);
  const advice: DvpStatusAdvice = {
    envelope: envelopeOf(message),
    transactionId: document.transaction.accountOwnerTransactionId,
    reference: required(document.dvpReference, "SplmtryData/Envlp/DvpRef"),
    advice: statuses[0]!,
  };
  assertReference(advice.reference);
  assertStatus(advice.advice);
  return advice;
}

/** What a sese.025 confirms: the securities moved (and the cash against them) at a time. */
export interface DvpSettlementConfirmation {
  envelope: DvpEnvelope;
  transactionId: string;
  side: "deliver" | "receive";
  isin: string;
  quantity: { units: bigint; decimals: number };
  settledAmount: Amount;
  tradeDate: string;
  /** When both legs settled, ISO date-time with offset. */
  settledAt: string;
  delivering: DvpSettlementParty;
  receiving: DvpSettlementParty;
  reference: DvpReference;
}

/** The sese.025 confirming a settled DvP side. */
export function buildSettlementConfirmation(confirmation: DvpSettlementConfirmation): Iso20022Message<"sese.025.001.11"> {
  check(maxText35.test(confirmation.transactionId), "DVP_FIELD_INVALID", "a transaction id is 1 to 35 characters");
  check(isIsin(confirmation.isin), "DVP_ISIN_INVALID", `"${confirmation.isin.slice(0, 24)}" is not an ISIN (ISO 6166, check digit)`);
  check(hasExplicitOffset(confirmation.settledAt) && !Number.isNaN(Date.parse(confirmation.settledAt)), "DVP_FIELD_INVALID", "the settlement time is an ISO 8601 date-time with an explicit offset");
  check(isoDate.test(confirmation.tradeDate), "DVP_FIELD_INVALID", "the trade date is an ISO date (YYYY-MM-DD)");
  assertCash(confirmation.settledAmount);
  assertParty(confirmation.delivering, "delivering");
  assertParty(confirmation.receiving, "receiving");
  assertReference(confirmation.reference);
  const own = confirmation.side === "deliver" ? confirmation.delivering : confirmation.receiving;
  return {
    messageType: "sese.025.001.11",
    header: header("sese.025.001.11", confirmation.envelope),
    document: {
      transaction: { accountOwnerTransactionId: confirmation.transactionId, movementType: confirmation.side === "deliver" ? "DELI" : "RECE", payment: "APMT", commonId: confirmation.reference.dvpId },
      tradeIds: [],
      tradeDate: confirmation.tradeDate,
      effectiveSettlementAt: confirmation.settledAt,
      financialInstrument: { isin: confirmation.isin },
      settledUnits: unitsToDecimal(confirmation.quantity.units, confirmation.quantity.decimals),
      holdingAddress: own.holdingAddress,
      transactionType: "TRAD",
      delivering: partyModel(confirmation.delivering),
      receiving: partyModel(confirmation.receiving),
      settledAmount: { amount: confirmation.settledAmount, creditDebit: confirmation.side === "deliver" ? "CRDT" : "DBIT" },
      dvpReference: confirmation.reference,
    },
  };
}

/** Reads a sese.025 as a DvP confirmation (`decimals`: the security's). */
export function readSettlementConfirmation(message: Iso20022Message, decimals: number): DvpSettlementConfirmation {
  const document = expectType(message, "sese.025.001.11").document;
  check(document.transaction.payment === "APMT", "DVP_FIELD_INVALID", `a DvP settles against payment (APMT), not ${document.transaction.payment}`);
  const movement = document.transaction.movementType;
  check(movement === "DELI" || movement === "RECE", "DVP_FIELD_INVALID", "SctiesMvmntTp is DELI or RECE");
  const confirmation: DvpSettlementConfirmation = {
    envelope: envelopeOf(message),
    transactionId: document.transaction.accountOwnerTransactionId,
    side: movement === "DELI" ? "deliver" : "receive",
    isin: required(document.financialInstrument.isin, "FinInstrmId/ISIN"),
    quantity: { units: unitsFromDecimal(required(document.settledUnits, "QtyAndAcctDtls/SttldQty/Qty/Unit"), decimals), decimals },
    settledAmount: required(document.settledAmount?.amount, "SttldAmt/Amt"),
    tradeDate: required(document.tradeDate, "TradDtls/TradDt/Dt/Dt"),
    settledAt: required(document.effectiveSettlementAt, "TradDtls/FctvSttlmDt/Dt/DtTm"),
    delivering: partyOf(document.delivering, "delivering"),
    receiving: partyOf(document.receiving, "receiving"),
    reference: required(document.dvpReference, "SplmtryData/Envlp/DvpRef"),
  };
  check(document.transaction.commonId === undefined || document.transaction.commonId === confirmation.reference.dvpId, "DVP_FIELD_INVALID", "CmonId and the DvP reference name different DvPs");
  assertOwnHolding(document.holdingAddress, confirmation.side === "deliver" ? confirmation.delivering : confirmation.receiving);
  // Rebuilding runs every check the builder runs.
  buildSettlementConfirmation(confirmation);
  return confirmation;
}
