import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { DtLedgerError, type TransferReceipt } from "../../src/ledger/dt-ledger-port.ts";
import { createTestDatabase, testEngine, type TestDatabase } from "../support/database.ts";
import { BANK_A, BANK_B, key, migratedLedger, NBK, newSecret, OPERATOR_KEY, PARTICIPANTS, TestClock } from "./support.ts";

/**
 * Two ledgers on two separate connection pools (two processes' worth on PostgreSQL; on PGlite both share
 * the one in-process connection) spend from the same accounts at once.
 */
describe(`concurrent spending (${testEngine})`, () => {
  let database: TestDatabase;
  let first: DtLedger;
  let second: DtLedger;
  const clock = new TestClock();

  beforeAll(async () => {
    database = await createTestDatabase();
    first = await migratedLedger(database.db, clock);
    for (const participant of PARTICIPANTS) await first.registerParticipant(participant);
    const otherDb = database.url ? await database.openAnother() : database.db;
    second = new DtLedger({ db: otherDb, operatorKey: OPERATOR_KEY, now: clock.now });
  });
  afterAll(() => database.drop());

  async function fundedAccounts(count: number, tokens: number, tokenAmount: bigint, participantId = BANK_A): Promise<string[]> {
    const accounts: string[] = [];
    for (let i = 0; i < count; i++) {
      const account = await first.openAccount(participantId, { idempotencyKey: key(), kind: "individual", holderName: `Holder ${i}` });
      for (let t = 0; t < tokens; t++) {
        await first.issue(NBK, { idempotencyKey: key(), accountId: account.id, amount: tokenAmount, reference: "" });
      }
      accounts.push(account.id);
    }
    return accounts;
  }

  async function notaryIsConsistent(): Promise<void> {
    const check = await database.db.query<{ spent: bigint; notarised: bigint; mismatched: bigint }>(
      `SELECT (SELECT count(*)::int8 FROM dt_ledger.tokens WHERE spent_in IS NOT NULL) AS spent,
              (SELECT count(*)::int8 FROM dt_ledger.spends) AS notarised,
              (SELECT count(*)::int8 FROM dt_ledger.spends s JOIN dt_ledger.tokens t ON t.id = s.token_id
                WHERE t.spent_in IS DISTINCT FROM s.transaction_id) AS mismatched`,
    );
    const row = check.rows[0]!;
    expect(row.spent).toBe(row.notarised);
    expect(row.mismatched).toBe(0n);
  }

  it("lets exactly one of two payments racing for the same single token through", async () => {
    const [payer] = await fundedAccounts(1, 1, 1_000n);
    const [payeeA, payeeB] = await fundedAccounts(2, 0, 0n, BANK_B);
    const outcomes = await Promise.allSettled([
      first.transfer(BANK_A, { idempotencyKey: key(), from: payer!, to: payeeA!, amount: 700n, reference: "" }),
      second.transfer(BANK_A, { idempotencyKey: key(), from: payer!, to: payeeB!, amount: 700n, reference: "" }),
    ]);
    expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(1);
    const failure = outcomes.find((outcome) => outcome.status === "rejected") as PromiseRejectedResult;
    expect((failure.reason as DtLedgerError).code).toBe("INSUFFICIENT_FUNDS");
    const balances = await Promise.all([payer!, payeeA!, payeeB!].map((account) => first.balance(NBK, account)));
    expect(balances.map((balance) => balance.available).reduce((sum, amount) => sum + amount, 0n)).toBe(1_000n);
    await notaryIsConsistent();
  });

  it("lets both of two payments from one token through when the token covers both (the second spends the change)", async () => {
    for (let round = 0; round < 5; round++) {
      const [payer] = await fundedAccounts(1, 1, 1_000n);
      const [payeeA, payeeB] = await fundedAccounts(2, 0, 0n, BANK_B);
      const { hashLock } = newSecret();
      const outcomes = await Promise.allSettled([
        first.transfer(BANK_A, { idempotencyKey: key(), from: payer!, to: payeeA!, amount: 300n, reference: "" }),
        second.hold(BANK_A, {
          idempotencyKey: key(),
          from: payer!,
          beneficiary: payeeB!,
          amount: 400n,
          condition: { hashLock },
          expiresAt: new Date(clock.now().getTime() + 60_000),
          reference: "",
        }),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "fulfilled"]);
      expect(await first.balance(NBK, payer!)).toMatchObject({ available: 300n, held: 400n });
    }
    await notaryIsConsistent();
  });

  it("conserves supply and loses no update under many concurrent payments and holds from the same accounts", async () => {
    const accounts = await fundedAccounts(4, 6, 1_000n);
    const supplyBefore = (await first.monitoring(NBK)).supply;
    const receipts: TransferReceipt[] = [];
    const released: { from: string; to: string; amount: bigint }[] = [];
    let refused = 0;
    let random = 7;
    const next = (n: number) => {
      random = (random * 1_103_515_245 + 12_345) % 2_147_483_648;
      return random % n;
    };

    const worker = async (ledger: DtLedger, rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        const from = accounts[next(accounts.length)]!;
        const to = accounts.filter((account) => account !== from)[next(accounts.length - 1)]!;
        const amount = BigInt(1 + next(1_500));
        try {
          if (next(4) === 0) {
            const secret = newSecret();
            const hold = await ledger.hold(BANK_A, {
              idempotencyKey: key(),
              from,
              beneficiary: to,
              amount,
              condition: { hashLock: secret.hashLock },
              expiresAt: new Date(clock.now().getTime() + 60_000),
              reference: "race",
            });
            await ledger.release(BANK_B, { idempotencyKey: key(), holdId: hold.id, preimage: secret.preimage });
            released.push({ from, to, amount });
          } else {
            receipts.push(await ledger.transfer(BANK_A, { idempotencyKey: key(), from, to, amount, reference: "race" }));
          }
        } catch (error) {
          if (!(error instanceof DtLedgerError && error.code === "INSUFFICIENT_FUNDS")) throw error;
          refused++;
        }
      }
    };
    await Promise.all([worker(first, 40), worker(second, 40), worker(first, 40), worker(second, 40)]);

    expect(receipts.length + released.length + refused).toBe(160);
    expect(receipts.length + released.length).toBeGreaterThan(0);
    const expected = new Map(accounts.map((account) => [account, 6_000n]));
    for (const movement of [...receipts, ...released]) {
      expected.set(movement.from, expected.get(movement.from)! - movement.amount);
      expected.set(movement.to, expected.get(movement.to)! + movement.amount);
    }
    for (const account of accounts) {
      const balance = await first.balance(NBK, account);
      expect({ account, available: balance.available, held: balance.held }).toEqual({ account, available: expected.get(account), held: 0n });
    }
    expect((await first.monitoring(NBK)).supply).toBe(supplyBefore);
    await notaryIsConsistent();
    const heights = await database.db.query<{ count: bigint; max: bigint }>("SELECT count(*)::int8 AS count, max(height) AS max FROM dt_ledger.transactions");
    expect(heights.rows[0]!.count).toBe(heights.rows[0]!.max);
  });
});
