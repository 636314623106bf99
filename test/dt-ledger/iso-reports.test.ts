import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseXml } from "./xml2js-reader.ts";
import { camt053Statement, camt054Notification, reportReceiver } from "../../src/dt-ledger/iso-reports.ts";
import type { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { buildMessage, parseMessage } from "../../src/iso20022/message.ts";
import { validateMessage } from "../../src/iso20022/validation/validate.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { BANK_A, GATEWAY, key, migratedLedger, NBK, newSecret, PARTICIPANTS, TestClock } from "./support.ts";

let testDb: TestDatabase;
let ledger: DtLedger;
const clock = new TestClock();
let aigerim: string;
let shop: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  ledger = await migratedLedger(testDb.db, clock);
  for (const participant of PARTICIPANTS) await ledger.registerParticipant(participant);
  aigerim = (await ledger.openAccount(BANK_A, { idempotencyKey: key(), kind: "individual", holderName: "Aigerim" })).id;
  shop = (await ledger.openAccount(BANK_A, { idempotencyKey: key(), kind: "legal_entity", holderName: "Astana Coffee LLP" })).id;
  await ledger.issue(NBK, { idempotencyKey: key(), accountId: aigerim, amount: 500_000n, reference: "conversion" });
  await ledger.transfer(BANK_A, { idempotencyKey: key(), from: aigerim, to: shop, amount: 15_000n, reference: "INV-2026/11 coffee & cake" });
  const { preimage, hashLock } = newSecret();
  const hold = await ledger.hold(GATEWAY, {
    idempotencyKey: key(),
    from: aigerim,
    beneficiary: shop,
    amount: 20_050n,
    condition: { hashLock },
    expiresAt: new Date(clock.now().getTime() + 60_000),
    reference: "PVP 42",
  });
  await ledger.release(GATEWAY, { idempotencyKey: key(), holdId: hold.id, preimage });
});
afterAll(() => testDb.drop());

const parties = (activity: Parameters<typeof reportReceiver>[0]) => ({ from: NBK, to: reportReceiver(activity, NBK), createdAt: clock.now() });

describe("ISO 20022 reports of a digital account", () => {
  it("renders a camt.053 statement that passes XSD and CBPR+ validation and reads back exactly", async () => {
    const activity = await ledger.activity(BANK_A, { accountId: aigerim });
    const xml = buildMessage(camt053Statement(activity, parties(activity)));
    const report = validateMessage(xml);
    expect(report.errors).toEqual([]);
    expect(report.valid).toBe(true);

    const statement = parseMessage(xml);
    if (statement.messageType !== "camt.053.001.08") throw new Error(statement.messageType);
    const [only] = statement.document.statements;
    expect(statement.header?.to).toBe(BANK_A);
    expect(only!.account.otherId).toBe(aigerim);
    expect(only!.balances.map((balance) => [balance.type, balance.amount.minorUnits])).toEqual([
      ["OPBD", 0n],
      ["CLBD", 500_000n - 15_000n - 20_050n],
    ]);
    expect(only!.entries.map((entry) => [entry.creditDebit, entry.amount?.minorUnits])).toEqual([
      ["CRDT", 500_000n],
      ["DBIT", 15_000n],
      ["DBIT", 20_050n],
    ]);
    // Characters outside the CBPR+ set are replaced, never sent.
    expect(only!.entries[1]!.transactions[0]!.remittanceInformation).toEqual(["INV-2026/11 coffee . cake"]);
    expect(only!.entries[0]!.accountServicerReference).toMatch(/^[0-9a-f]{32}$/);
    // An independent reader sees the same amounts.
    const independent = await parseXml(xml);
    expect(JSON.stringify(independent)).toContain("4649.50");
  });

  it("renders a camt.054 notification of the entries at one height", async () => {
    const all = await ledger.activity(BANK_A, { accountId: shop });
    const last = all.entries.at(-1)!;
    const activity = await ledger.activity(BANK_A, { accountId: shop, fromHeight: last.height, toHeight: last.height });
    const xml = buildMessage(camt054Notification(activity, parties(activity)));
    expect(validateMessage(xml)).toMatchObject({ messageType: "camt.054.001.08", valid: true, errors: [] });
    const notification = parseMessage(xml);
    if (notification.messageType !== "camt.054.001.08") throw new Error(notification.messageType);
    const entries = notification.document.notifications[0]!.entries;
    expect(entries.map((entry) => [entry.creditDebit, entry.amount?.minorUnits])).toEqual([["CRDT", 20_050n]]);
  });

  it("gives the same report of the same range the same message id (idempotent delivery)", async () => {
    const activity = await ledger.activity(BANK_A, { accountId: aigerim });
    const first = camt053Statement(activity, parties(activity));
    const second = camt053Statement(await ledger.activity(BANK_A, { accountId: aigerim }), parties(activity));
    expect(first.document.groupHeader.messageId).toBe(second.document.groupHeader.messageId);
    expect(first.document.groupHeader.messageId.length).toBeLessThanOrEqual(35);
  });
});
