import { createHash } from "node:crypto";
import type { Iso20022Message } from "../iso20022/message.ts";
import type { AccountActivity, AccountEntry } from "../ledger/dt-ledger-port.ts";

/**
 * ISO 20022 reports of a digital account's activity: camt.053 statements and camt.054 notifications, built
 * from the ledger's booked entries (the port's `activity()`), so they render the same whichever adapter
 * (in-process or HTTP) produced the activity.
 */
export interface ReportParties {
  /** BIC of the sender: the DT platform operator (the NBK). */
  from: string;
  /** BIC of the receiver: the participant (bank) that services the account. */
  to: string;
  /** Creation time of the report. */
  createdAt: Date;
}

const CURRENCY = "KZT";
const BIC = /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;

/** CBPR+ date-times carry an explicit numeric offset; the ledger books in UTC. */
export function isoDateTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

// Max35Text, deterministic: the same report of the same range always has the same id.
function reportId(kind: string, activity: AccountActivity): string {
  const digest = createHash("sha256")
    .update(`${kind}|${activity.account.id}|${activity.fromHeight}|${activity.toHeight}`)
    .digest("hex");
  return `DT${kind}${digest.slice(0, 28)}`.toUpperCase();
}

// Free text restricted to the CBPR+ (FIN X) character set.
function finX(text: string, max: number): string {
  return text.replace(/[^A-Za-z0-9/\-?:().,'+ ]/g, ".").slice(0, max) || ".";
}

/** The servicing participant when it has a BIC, otherwise the platform operator. */
export function reportReceiver(activity: AccountActivity, operatorBic: string): string {
  return BIC.test(activity.account.participantId) ? activity.account.participantId : operatorBic;
}

// Ledger ids are UUIDs (36 characters); without hyphens they fit Max35Text whole.
const compactId = (id: string) => finX(id.replace(/-/g, ""), 35);

function entry(item: AccountEntry) {
  const creditDebit = item.direction === "credit" ? "CRDT" : "DBIT";
  const amount = { currency: CURRENCY, minorUnits: item.amount };
  return {
    reference: finX(item.entryId, 35),
    amount,
    creditDebit,
    status: "BOOK",
    bookingDateTime: isoDateTime(item.bookedAt),
    valueDateTime: isoDateTime(item.bookedAt),
    accountServicerReference: compactId(item.transactionId),
    bankTransactionCode: { domain: "PMNT", family: creditDebit === "CRDT" ? "RCDT" : "ICDT", subFamily: "DMCT" },
    transactions: [
      {
        accountServicerReference: compactId(item.transactionId),
        endToEndId: finX(item.reference || "NOTPROVIDED", 35),
        amount,
        creditDebit,
        remittanceInformation: item.reference ? [finX(item.reference, 140)] : [],
      },
    ],
  };
}

function header(messageType: "camt.053.001.08" | "camt.054.001.08", messageId: string, parties: ReportParties) {
  return {
    from: parties.from,
    to: parties.to,
    businessMessageId: messageId,
    messageDefinitionId: messageType,
    businessService: "swift.cbprplus.02",
    createdAt: isoDateTime(parties.createdAt),
    related: [],
  };
}

/** camt.053: opening and closing booked balances and every entry between the activity's heights. */
export function camt053Statement(activity: AccountActivity, parties: ReportParties): Iso20022Message<"camt.053.001.08"> {
  const messageId = reportId("S", activity);
  const balance = (type: string, value: bigint) => ({
    type,
    amount: { currency: CURRENCY, minorUnits: value < 0n ? -value : value },
    creditDebit: value < 0n ? "DBIT" : "CRDT",
    dateTime: isoDateTime(parties.createdAt),
  });
  return {
    messageType: "camt.053.001.08",
    header: header("camt.053.001.08", messageId, parties),
    document: {
      groupHeader: { messageId, createdAt: isoDateTime(parties.createdAt) },
      statements: [
        {
          id: messageId,
          electronicSequenceNumber: activity.toHeight.toString(),
          createdAt: isoDateTime(parties.createdAt),
          account: { otherId: activity.account.id, currency: CURRENCY },
          balances: [balance("OPBD", activity.openingBalance), balance("CLBD", activity.closingBalance)],
          entries: activity.entries.map(entry),
        },
      ],
    },
  } as Iso20022Message<"camt.053.001.08">;
}

/** camt.054: a debit/credit notification of the entries booked between the activity's heights. */
export function camt054Notification(activity: AccountActivity, parties: ReportParties): Iso20022Message<"camt.054.001.08"> {
  const messageId = reportId("N", activity);
  return {
    messageType: "camt.054.001.08",
    header: header("camt.054.001.08", messageId, parties),
    document: {
      groupHeader: { messageId, createdAt: isoDateTime(parties.createdAt) },
      notifications: [
        {
          id: messageId,
          createdAt: isoDateTime(parties.createdAt),
          account: { otherId: activity.account.id, currency: CURRENCY },
          entries: activity.entries.map(entry),
        },
      ],
    },
  } as Iso20022Message<"camt.054.001.08">;
}
