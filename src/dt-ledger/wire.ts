import type { Address, Hex } from "viem";
import type {
  AccountActivity,
  AccountBalance,
  AccountEntry,
  DigitalAccount,
  Hold,
  IssuanceAllotmentChange,
  LedgerEvent,
  SignedCollateralStatement,
  SignedIssuanceAllotment,
  TransferReceipt,
} from "../ledger/dt-ledger-port.ts";
import type { IssuanceAllotment } from "../ledger/issuance-allotment.ts";

/**
 * JSON forms of the port's values, shared by the event log, the HTTP service and the HTTP adapter:
 * bigint tiyn and heights as decimal strings, times as ISO 8601, bytes as 0x-hex.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const str = (value: Json | undefined): string => {
  if (typeof value !== "string") throw new Error("malformed DT ledger JSON: expected a string");
  return value;
};
const big = (value: Json | undefined): bigint => BigInt(str(value));
const date = (value: Json | undefined): Date => new Date(str(value));
const obj = (value: Json | undefined): JsonObject => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("malformed DT ledger JSON: expected an object");
  return value;
};
const optional = <T>(value: Json | undefined, read: (value: Json) => T): T | undefined =>
  value === null || value === undefined ? undefined : read(value);

export function accountToJson(account: DigitalAccount): JsonObject {
  return {
    id: account.id,
    participantId: account.participantId,
    kind: account.kind,
    holderName: account.holderName,
    status: account.status,
    openedAt: account.openedAt.toISOString(),
  };
}

export function accountFromJson(json: Json): DigitalAccount {
  const o = obj(json);
  return {
    id: str(o["id"]),
    participantId: str(o["participantId"]),
    kind: str(o["kind"]) as DigitalAccount["kind"],
    holderName: str(o["holderName"]),
    status: str(o["status"]) as DigitalAccount["status"],
    openedAt: date(o["openedAt"]),
  };
}

export function balanceToJson(balance: AccountBalance): JsonObject {
  return {
    accountId: balance.accountId,
    available: balance.available.toString(),
    held: balance.held.toString(),
    height: balance.height.toString(),
  };
}

export function balanceFromJson(json: Json): AccountBalance {
  const o = obj(json);
  return { accountId: str(o["accountId"]), available: big(o["available"]), held: big(o["held"]), height: big(o["height"]) };
}

export function receiptToJson(receipt: TransferReceipt): JsonObject {
  return {
    transactionId: receipt.transactionId,
    height: receipt.height.toString(),
    from: receipt.from,
    to: receipt.to,
    amount: receipt.amount.toString(),
    reference: receipt.reference,
    paymentType: receipt.paymentType,
    bookedAt: receipt.bookedAt.toISOString(),
  };
}

export function receiptFromJson(json: Json): TransferReceipt {
  const o = obj(json);
  return {
    transactionId: str(o["transactionId"]),
    height: big(o["height"]),
    from: str(o["from"]),
    to: str(o["to"]),
    amount: big(o["amount"]),
    reference: str(o["reference"]),
    paymentType: str(o["paymentType"]) as TransferReceipt["paymentType"],
    bookedAt: date(o["bookedAt"]),
  };
}

export function holdToJson(hold: Hold): JsonObject {
  return {
    id: hold.id,
    from: hold.from,
    beneficiary: hold.beneficiary,
    amount: hold.amount.toString(),
    condition: "hashLock" in hold.condition ? { hashLock: hold.condition.hashLock } : { eventId: hold.condition.eventId },
    expiresAt: hold.expiresAt.toISOString(),
    reference: hold.reference,
    status: hold.status,
    createdHeight: hold.createdHeight.toString(),
    settledHeight: hold.settledHeight?.toString() ?? null,
    preimage: hold.preimage ?? null,
  };
}

export function holdFromJson(json: Json): Hold {
  const o = obj(json);
  const condition = obj(o["condition"]);
  return {
    id: str(o["id"]),
    from: str(o["from"]),
    beneficiary: str(o["beneficiary"]),
    amount: big(o["amount"]),
    condition: typeof condition["hashLock"] === "string" ? { hashLock: condition["hashLock"] as Hex } : { eventId: str(condition["eventId"]) },
    expiresAt: date(o["expiresAt"]),
    reference: str(o["reference"]),
    status: str(o["status"]) as Hold["status"],
    createdHeight: big(o["createdHeight"]),
    settledHeight: optional(o["settledHeight"], big),
    preimage: optional(o["preimage"], (value) => str(value) as Hex),
  };
}

export function eventToJson(event: LedgerEvent): JsonObject {
  const base = { id: event.id, type: event.type, height: event.height.toString(), at: event.at.toISOString() };
  switch (event.type) {
    case "issued":
    case "redeemed":
      return { ...base, accountId: event.accountId, amount: event.amount.toString(), reference: event.reference };
    case "payment":
      return {
        ...base,
        from: event.from,
        to: event.to,
        amount: event.amount.toString(),
        reference: event.reference,
        paymentType: event.paymentType,
        transactionId: event.transactionId,
      };
    case "hold_created":
      return { ...base, hold: holdToJson(event.hold) };
    case "hold_refunded":
      return { ...base, hold: holdToJson(event.hold), ...(event.earlyConsent ? { earlyConsent: { by: event.earlyConsent.by, message: event.earlyConsent.message } } : {}) };
    case "hold_released":
      return { ...base, hold: holdToJson(event.hold), preimage: event.preimage ?? null };
    case "account_opened":
      return { ...base, account: accountToJson(event.account) };
    case "account_closed":
      return { ...base, accountId: event.accountId };
  }
}

export function eventFromJson(json: Json): LedgerEvent {
  const o = obj(json);
  const base = { id: str(o["id"]), height: big(o["height"]), at: date(o["at"]) };
  const type = str(o["type"]) as LedgerEvent["type"];
  switch (type) {
    case "issued":
    case "redeemed":
      return { ...base, type, accountId: str(o["accountId"]), amount: big(o["amount"]), reference: str(o["reference"]) };
    case "payment":
      return {
        ...base,
        type,
        from: str(o["from"]),
        to: str(o["to"]),
        amount: big(o["amount"]),
        reference: str(o["reference"]),
        paymentType: str(o["paymentType"]) as TransferReceipt["paymentType"],
        transactionId: str(o["transactionId"]),
      };
    case "hold_created":
      return { ...base, type, hold: holdFromJson(o["hold"] ?? null) };
    case "hold_refunded": {
      const consent = o["earlyConsent"] === undefined || o["earlyConsent"] === null ? undefined : obj(o["earlyConsent"]);
      return { ...base, type, hold: holdFromJson(o["hold"] ?? null), ...(consent ? { earlyConsent: { by: str(consent["by"]), message: str(consent["message"]) } } : {}) };
    }
    case "hold_released":
      return { ...base, type, hold: holdFromJson(o["hold"] ?? null), preimage: optional(o["preimage"], (value) => str(value) as Hex) };
    case "account_opened":
      return { ...base, type, account: accountFromJson(o["account"] ?? null) };
    case "account_closed":
      return { ...base, type, accountId: str(o["accountId"]) };
    default:
      throw new Error(`unknown DT ledger event type ${String(type)}`);
  }
}

function entryToJson(entry: AccountEntry): JsonObject {
  return {
    entryId: entry.entryId,
    transactionId: entry.transactionId,
    height: entry.height.toString(),
    bookedAt: entry.bookedAt.toISOString(),
    kind: entry.kind,
    direction: entry.direction,
    amount: entry.amount.toString(),
    reference: entry.reference,
    counterparty: entry.counterparty ? { ...entry.counterparty } : null,
    holdId: entry.holdId ?? null,
    paymentType: entry.paymentType ?? null,
  };
}

function entryFromJson(json: Json): AccountEntry {
  const o = obj(json);
  return {
    entryId: str(o["entryId"]),
    transactionId: str(o["transactionId"]),
    height: big(o["height"]),
    bookedAt: date(o["bookedAt"]),
    kind: str(o["kind"]) as AccountEntry["kind"],
    direction: str(o["direction"]) as AccountEntry["direction"],
    amount: big(o["amount"]),
    reference: str(o["reference"]),
    counterparty: optional(o["counterparty"], (value) => {
      const c = obj(value);
      return { accountId: str(c["accountId"]), holderName: str(c["holderName"]), participantId: str(c["participantId"]) };
    }),
    holdId: optional(o["holdId"], str),
    paymentType: optional(o["paymentType"], (value) => str(value) as AccountEntry["paymentType"] & string),
  };
}

export function activityToJson(activity: AccountActivity): JsonObject {
  return {
    account: accountToJson(activity.account),
    fromHeight: activity.fromHeight.toString(),
    toHeight: activity.toHeight.toString(),
    openingBalance: activity.openingBalance.toString(),
    closingBalance: activity.closingBalance.toString(),
    entries: activity.entries.map(entryToJson),
    nextFromHeight: activity.nextFromHeight?.toString() ?? null,
  };
}

export function activityFromJson(json: Json): AccountActivity {
  const o = obj(json);
  const entries = o["entries"];
  if (!Array.isArray(entries)) throw new Error("malformed DT ledger JSON: entries must be an array");
  return {
    account: accountFromJson(o["account"] ?? null),
    fromHeight: big(o["fromHeight"]),
    toHeight: big(o["toHeight"]),
    openingBalance: big(o["openingBalance"]),
    closingBalance: big(o["closingBalance"]),
    entries: entries.map(entryFromJson),
    ...(typeof o["nextFromHeight"] === "string" ? { nextFromHeight: big(o["nextFromHeight"]) } : {}),
  };
}

export function statementToJson(signed: SignedCollateralStatement): JsonObject {
  return {
    statement: {
      account: signed.statement.account,
      balance: signed.statement.balance.toString(),
      paidOut: signed.statement.paidOut.toString(),
      height: signed.statement.height.toString(),
      timestamp: signed.statement.timestamp.toString(),
    },
    domain: { chainId: signed.domain.chainId, verifyingContract: signed.domain.verifyingContract },
    signature: signed.signature,
    signer: signed.signer,
  };
}

export function statementFromJson(json: Json): SignedCollateralStatement {
  const o = obj(json);
  const statement = obj(o["statement"]);
  const domain = obj(o["domain"]);
  return {
    statement: {
      account: str(statement["account"]),
      balance: big(statement["balance"]),
      paidOut: big(statement["paidOut"]),
      height: big(statement["height"]),
      timestamp: big(statement["timestamp"]),
    },
    domain: { chainId: Number(domain["chainId"]), verifyingContract: str(domain["verifyingContract"]) as Hex },
    signature: str(o["signature"]) as Hex,
    signer: str(o["signer"]) as Hex,
  };
}

/** An allotment as stored (dt_ledger.issuance_allotments.allotment) and sent: every uint256 a decimal string. */
export function allotmentToJson(allotment: IssuanceAllotment): JsonObject {
  return {
    account: allotment.account,
    sequence: allotment.sequence.toString(),
    credited: allotment.credited.toString(),
    moved: allotment.moved.toString(),
    height: allotment.height.toString(),
    timestamp: allotment.timestamp.toString(),
    chains: allotment.chains.map((entry) => ({ chainId: entry.chainId.toString(), token: entry.token, issuanceLimit: entry.issuanceLimit.toString() })),
  };
}

export function allotmentFromJson(json: Json): IssuanceAllotment {
  const o = obj(json);
  const chains = o["chains"];
  if (!Array.isArray(chains)) throw new Error("malformed DT ledger JSON: chains must be an array");
  return {
    account: str(o["account"]),
    sequence: big(o["sequence"]),
    credited: big(o["credited"]),
    moved: big(o["moved"]),
    height: big(o["height"]),
    timestamp: big(o["timestamp"]),
    chains: chains.map((value) => {
      const entry = obj(value);
      return { chainId: big(entry["chainId"]), token: str(entry["token"]) as Address, issuanceLimit: big(entry["issuanceLimit"]) };
    }),
  };
}

export function signedAllotmentToJson(signed: SignedIssuanceAllotment): JsonObject {
  return { allotment: allotmentToJson(signed.allotment), signature: signed.signature, signer: signed.signer };
}

export function signedAllotmentFromJson(json: Json): SignedIssuanceAllotment {
  const o = obj(json);
  return { allotment: allotmentFromJson(o["allotment"] ?? null), signature: str(o["signature"]) as Hex, signer: str(o["signer"]) as Address };
}

/** A requested change, keys in one order, so that a replayed reference can be compared with what it first asked. */
export function allotmentChangeToJson(change: IssuanceAllotmentChange): JsonObject {
  switch (change.kind) {
    case "credit":
      return { kind: change.kind, chainId: change.chainId.toString(), amount: change.amount.toString() };
    case "move":
      return { kind: change.kind, from: change.from.toString(), to: change.to.toString(), amount: change.amount.toString() };
    case "addChain":
      return { kind: change.kind, chainId: change.chainId.toString(), token: change.token };
  }
}

export function allotmentChangeFromJson(json: Json): IssuanceAllotmentChange {
  const o = obj(json);
  const kind = str(o["kind"]);
  switch (kind) {
    case "credit":
      return { kind, chainId: big(o["chainId"]), amount: big(o["amount"]) };
    case "move":
      return { kind, from: big(o["from"]), to: big(o["to"]), amount: big(o["amount"]) };
    case "addChain":
      return { kind, chainId: big(o["chainId"]), token: str(o["token"]) as Address };
    default:
      throw new Error(`unknown allotment change ${kind}`);
  }
}
