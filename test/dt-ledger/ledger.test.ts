import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { spendAndCreate } from "../../src/dt-ledger/notary.ts";
import { parseCursor, readEvents } from "../../src/dt-ledger/events.ts";
import { startHoldSweeper } from "../../src/dt-ledger/hold-sweeper.ts";
import { DtLedgerError, type DtLedgerErrorCode } from "../../src/ledger/dt-ledger-port.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { BANK_A, BANK_B, GATEWAY, key, migratedLedger, NBK, newSecret, OPERATOR_KEY, PARTICIPANTS, TestClock, TREASURY } from "./support.ts";

async function refusal(promise: Promise<unknown>): Promise<DtLedgerErrorCode> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DtLedgerError) return error.code;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("embedded DT ledger", () => {
  let database: TestDatabase;
  let clock: TestClock;
  let ledger: DtLedger;

  beforeAll(async () => {
    database = await createTestDatabase();
    clock = new TestClock();
    ledger = await migratedLedger(database.db, clock);
    for (const participant of PARTICIPANTS) await ledger.registerParticipant(participant);
  });
  afterAll(() => database.drop());

  async function account(participantId = BANK_A, amount = 0n, kind: "individual" | "government_agency" = "individual") {
    const opened = await ledger.openAccount(participantId, { idempotencyKey: key(), kind, holderName: "Holder" });
    if (amount > 0n) await ledger.issue(NBK, { idempotencyKey: key(), accountId: opened.id, amount, reference: "conversion" });
    return opened.id;
  }

  async function unspentTokens(accountId: string) {
    const result = await database.db.query<{ id: bigint; amount: bigint; hold_id: string | null }>(
      "SELECT id, amount, hold_id FROM dt_ledger.tokens WHERE account_id = $1 AND spent_in IS NULL ORDER BY amount DESC",
      [accountId],
    );
    return result.rows;
  }

  describe("conversions at the NBK", () => {
    it("issues and redeems DT, changing the money supply by exactly that much", async () => {
      const before = await ledger.monitoring(NBK);
      const holder = await account(BANK_A, 10_000n);
      await ledger.redeem(NBK, { idempotencyKey: key(), accountId: holder, amount: 2_500n, reference: "to non-cash" });
      const after = await ledger.monitoring(NBK);
      expect(after.supply - before.supply).toBe(7_500n);
      expect(after.issued - before.issued).toBe(10_000n);
      expect(after.redeemed - before.redeemed).toBe(2_500n);
      expect(after.supply).toBe(after.issued - after.redeemed);
      expect((await ledger.balance(BANK_A, holder)).available).toBe(7_500n);
    });

    it("lets only the NBK issue, redeem and monitor", async () => {
      const holder = await account(BANK_A, 100n);
      expect(await refusal(ledger.issue(BANK_A, { idempotencyKey: key(), accountId: holder, amount: 1n, reference: "" }))).toBe("FORBIDDEN_OPERATION");
      expect(await refusal(ledger.redeem(GATEWAY, { idempotencyKey: key(), accountId: holder, amount: 1n, reference: "" }))).toBe("FORBIDDEN_OPERATION");
      expect(await refusal(ledger.monitoring(BANK_A))).toBe("FORBIDDEN_OPERATION");
      expect((await ledger.balance(BANK_A, holder)).available).toBe(100n);
    });

    it("refuses to redeem more than is available, or held tokens", async () => {
      const holder = await account(BANK_A, 1_000n);
      const other = await account(BANK_B);
      await ledger.hold(BANK_A, {
        idempotencyKey: key(),
        from: holder,
        beneficiary: other,
        amount: 600n,
        condition: { hashLock: newSecret().hashLock },
        expiresAt: new Date(clock.now().getTime() + 60_000),
        reference: "",
      });
      expect(await refusal(ledger.redeem(NBK, { idempotencyKey: key(), accountId: holder, amount: 401n, reference: "" }))).toBe("INSUFFICIENT_FUNDS");
      expect(await refusal(ledger.issue(NBK, { idempotencyKey: key(), accountId: holder, amount: 0n, reference: "" }))).toBe("INVALID_AMOUNT");
      expect(await ledger.balance(BANK_A, holder)).toMatchObject({ available: 400n, held: 600n });
    });

    it("lets the Treasury open government agencies' accounts, which pay as government payments", async () => {
      const agency = await account(TREASURY, 1_000n, "government_agency");
      const citizen = await account(BANK_A);
      const receipt = await ledger.transfer(TREASURY, { idempotencyKey: key(), from: agency, to: citizen, amount: 10n, reference: "benefit" });
      expect(receipt.paymentType).toBe("government_payment");
    });
  });

  describe("UTXO tokens and the notary", () => {
    it("consumes a 5000 DT token paying 150 DT and creates 150 and 4850", async () => {
      const payer = await account(BANK_A, 500_000n);
      const payee = await account(BANK_B);
      await ledger.transfer(BANK_A, { idempotencyKey: key(), from: payer, to: payee, amount: 15_000n, reference: "" });
      expect((await unspentTokens(payer)).map((token) => token.amount)).toEqual([485_000n]);
      expect((await unspentTokens(payee)).map((token) => token.amount)).toEqual([15_000n]);
    });

    it("combines several tokens, largest first, when one is not enough", async () => {
      const payer = await account(BANK_A);
      for (const amount of [300n, 500n, 200n]) await ledger.issue(NBK, { idempotencyKey: key(), accountId: payer, amount, reference: "" });
      const payee = await account(BANK_A);
      await ledger.transfer(BANK_A, { idempotencyKey: key(), from: payer, to: payee, amount: 700n, reference: "" });
      expect((await unspentTokens(payer)).map((token) => token.amount)).toEqual([200n, 100n]);
    });

    it("refuses to spend a token twice, whatever path tries it", async () => {
      const payer = await account(BANK_A, 1_000n);
      const [token] = await unspentTokens(payer);
      const payee = await account(BANK_A);
      await ledger.transfer(BANK_A, { idempotencyKey: key(), from: payer, to: payee, amount: 1_000n, reference: "" });
      const replay = database.db.transaction(
        (tx) => spendAndCreate(tx, crypto.randomUUID(), [{ id: token!.id, amount: token!.amount }], [{ accountId: payer, amount: token!.amount }]),
        { retries: 0 },
      );
      expect(await refusal(replay)).toBe("DOUBLE_SPEND");
      expect((await ledger.balance(BANK_A, payer)).available).toBe(0n);
      expect((await ledger.balance(BANK_A, payee)).available).toBe(1_000n);
    });

    it("applies concurrent retries of one request once", async () => {
      const payer = await account(BANK_A, 1_000n);
      const payee = await account(BANK_A);
      const request = { idempotencyKey: key(), from: payer, to: payee, amount: 100n, reference: "" };
      const receipts = await Promise.all([ledger.transfer(BANK_A, request), ledger.transfer(BANK_A, request), ledger.transfer(BANK_A, request)]);
      expect(new Set(receipts.map((receipt) => receipt.transactionId)).size).toBe(1);
      expect((await ledger.balance(BANK_A, payee)).available).toBe(100n);
    });
  });

  describe("heights and events", () => {
    it("numbers committed ledger transactions 1, 2, 3... without gaps", async () => {
      const result = await database.db.query<{ count: bigint; max: bigint; head: bigint }>(
        "SELECT count(*)::int8 AS count, max(height) AS max, (SELECT height FROM dt_ledger.head) AS head FROM dt_ledger.transactions",
      );
      expect(result.rows[0]!.count).toBe(result.rows[0]!.max);
      expect(result.rows[0]!.head).toBe(result.rows[0]!.max);
    });

    it("keeps events for a reader that comes back with its cursor after a restart", async () => {
      const { cursor } = await ledger.events(NBK, { limit: 1000, after: (await ledger.events(NBK, { limit: 1000 })).cursor });
      const holder = await account(BANK_A, 42n);
      const restarted = new DtLedger({ db: database.db, operatorKey: OPERATOR_KEY, now: clock.now });
      const page = await restarted.events(BANK_A, { after: cursor });
      expect(page.events.map((event) => event.type)).toEqual(["account_opened", "issued"]);
      expect(page.events[1]).toMatchObject({ accountId: holder, amount: 42n });
    });

    it("moves a reader's cursor past events it may not see, so quiet participants do not re-scan the log", async () => {
      const { cursor } = await ledger.events(NBK, { limit: 1000, after: (await ledger.events(NBK, { limit: 1000 })).cursor });
      for (let i = 0; i < 3; i++) await account(BANK_A, 1n);
      const page = await readEvents(database.db, { participantId: BANK_B, after: cursor, limit: 10, waitMs: 0, scanWindow: 4 });
      expect(page.events).toEqual([]);
      expect(parseCursor(page.cursor)[0]).toBeGreaterThan(parseCursor(cursor)[0]);
      const rest = await readEvents(database.db, { participantId: BANK_A, after: cursor, limit: 10, waitMs: 0, scanWindow: 4 });
      expect(rest.events.map((event) => event.type)).toEqual(["account_opened", "issued", "account_opened", "issued"]);
    });

    it("refuses a malformed cursor", async () => {
      expect(await refusal(ledger.events(BANK_A, { after: "yesterday" }))).toBe("INVALID_REQUEST");
    });
  });

  describe("accounts", () => {
    it("closes only an empty account, once", async () => {
      const holder = await account(BANK_A, 5n);
      expect(await refusal(ledger.closeAccount(BANK_A, { idempotencyKey: key(), accountId: holder }))).toBe("ACCOUNT_NOT_EMPTY");
      expect(await refusal(ledger.closeAccount(BANK_B, { idempotencyKey: key(), accountId: holder }))).toBe("FORBIDDEN_ACCOUNT");
      await ledger.redeem(NBK, { idempotencyKey: key(), accountId: holder, amount: 5n, reference: "" });
      expect((await ledger.closeAccount(BANK_A, { idempotencyKey: key(), accountId: holder })).status).toBe("closed");
      expect(await refusal(ledger.closeAccount(BANK_A, { idempotencyKey: key(), accountId: holder }))).toBe("ACCOUNT_CLOSED");
      expect(await refusal(ledger.issue(NBK, { idempotencyKey: key(), accountId: holder, amount: 1n, reference: "" }))).toBe("ACCOUNT_CLOSED");
    });

    it("refuses unknown participants", async () => {
      expect(await refusal(ledger.openAccount("NOBODY", { idempotencyKey: key(), kind: "individual", holderName: "X" }))).toBe("UNAUTHENTICATED");
    });
  });

  describe("expired holds", () => {
    it("are refunded by the sweeper once, even with several sweepers at once", async () => {
      const owner = await account(BANK_A, 1_000n);
      const beneficiary = await account(BANK_B);
      const holds = [];
      for (let i = 0; i < 5; i++) {
        holds.push(
          await ledger.hold(BANK_A, {
            idempotencyKey: key(),
            from: owner,
            beneficiary,
            amount: 100n,
            condition: { hashLock: newSecret().hashLock },
            expiresAt: new Date(clock.now().getTime() + 1_000 + i),
            reference: `H${i}`,
          }),
        );
      }
      expect(await ledger.balance(BANK_A, owner)).toMatchObject({ available: 500n, held: 500n });
      expect(await ledger.refundExpiredHolds()).toBe(0);
      clock.advance(10_000);
      const other = new DtLedger({ db: database.url ? await database.openAnother() : database.db, now: clock.now });
      const counts = await Promise.all([ledger.refundExpiredHolds(), other.refundExpiredHolds(), ledger.refundExpiredHolds()]);
      expect(counts.reduce((sum, count) => sum + count, 0)).toBe(5);
      expect(await ledger.balance(BANK_A, owner)).toMatchObject({ available: 1_000n, held: 0n });
      for (const hold of holds) expect((await ledger.getHold(BANK_A, hold.id)).status).toBe("refunded");
    });

    it("are refunded by the sweeper the host process runs", async () => {
      const owner = await account(BANK_A, 300n);
      const beneficiary = await account(BANK_B);
      const hold = await ledger.hold(GATEWAY, {
        idempotencyKey: key(),
        from: owner,
        beneficiary,
        amount: 300n,
        condition: { eventId: "E-1" },
        expiresAt: new Date(clock.now().getTime() + 1_000),
        reference: "",
      });
      clock.advance(2_000);
      const sweeper = startHoldSweeper(ledger, { intervalMs: 10 });
      const { events } = await ledger.events(GATEWAY, { after: `${hold.createdHeight}.0`, waitMs: 10_000 });
      await sweeper.stop();
      expect(events.map((event) => event.type)).toContain("hold_refunded");
      expect((await ledger.balance(BANK_A, owner)).available).toBe(300n);
    });

    it("never put the preimage in an error message", async () => {
      const owner = await account(BANK_A, 10n);
      const beneficiary = await account(BANK_B);
      const secret = newSecret();
      const hold = await ledger.hold(BANK_A, {
        idempotencyKey: key(),
        from: owner,
        beneficiary,
        amount: 10n,
        condition: { hashLock: secret.hashLock },
        expiresAt: new Date(clock.now().getTime() + 1_000),
        reference: "",
      });
      const wrong = newSecret().preimage;
      const error = await ledger.release(BANK_A, { idempotencyKey: key(), holdId: hold.id, preimage: wrong }).then(
        () => new Error("released"),
        (caught: unknown) => caught as Error,
      );
      expect(error).toBeInstanceOf(DtLedgerError);
      expect(error.message).not.toContain(wrong.slice(2));
      clock.advance(5_000);
      const late = await ledger.release(BANK_A, { idempotencyKey: key(), holdId: hold.id, preimage: secret.preimage }).then(
        () => new Error("released"),
        (caught: unknown) => caught as Error,
      );
      expect(late).toBeInstanceOf(DtLedgerError);
      expect(late.message).not.toContain(secret.preimage.slice(2));
    });
  });
});
