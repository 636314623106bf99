import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { DtLedgerError, type DtLedgerErrorCode } from "../../src/ledger/dt-ledger-port.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { BANK_A, BANK_B, key, migratedLedger, NBK, newSecret, PARTICIPANTS, TestClock } from "./support.ts";

type Operation =
  | { op: "transfer"; from: number; to: number; amount: bigint }
  | { op: "hold"; from: number; to: number; amount: bigint; expiresInMs: number }
  | { op: "release"; hold: number; rightPreimage: boolean }
  | { op: "refund"; hold: number }
  | { op: "advance"; ms: number };

const ACCOUNTS = 4;
const amount = fc.bigInt({ min: -5n, max: 1_500n });
const account = fc.integer({ min: 0, max: ACCOUNTS - 1 });
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ op: fc.constant("transfer" as const), from: account, to: account, amount }),
  fc.record({ op: fc.constant("hold" as const), from: account, to: account, amount, expiresInMs: fc.integer({ min: 1, max: 10_000 }) }),
  fc.record({ op: fc.constant("release" as const), hold: fc.nat(20), rightPreimage: fc.boolean() }),
  fc.record({ op: fc.constant("refund" as const), hold: fc.nat(20) }),
  fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 5_000 }) }),
);

/**
 * Random sequences of payments, holds, releases, refunds and clock moves against a plain in-memory model
 * of balances and hold states: every outcome (success or refusal code) and every balance must agree.
 */
describe("DT ledger against a model", () => {
  let database: TestDatabase;
  let ledger: DtLedger;
  const clock = new TestClock();

  beforeAll(async () => {
    database = await createTestDatabase();
    ledger = await migratedLedger(database.db, clock);
    for (const participant of PARTICIPANTS) await ledger.registerParticipant(participant);
  });
  afterAll(() => database.drop());

  it("agrees with the model on every outcome and balance", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 5, maxLength: 25 }), async (operations) => {
        const ids: string[] = [];
        for (let i = 0; i < ACCOUNTS; i++) {
          const participant = i === ACCOUNTS - 1 ? BANK_B : BANK_A;
          const opened = await ledger.openAccount(participant, { idempotencyKey: key(), kind: "individual", holderName: `M${i}` });
          await ledger.issue(NBK, { idempotencyKey: key(), accountId: opened.id, amount: 2_000n, reference: "" });
          ids.push(opened.id);
        }
        const participantOf = (index: number) => (index === ACCOUNTS - 1 ? BANK_B : BANK_A);
        const available = ids.map(() => 2_000n);
        const held = ids.map(() => 0n);
        const holds: { id: string; from: number; to: number; amount: bigint; expiresAt: number; status: string; preimage: `0x${string}` }[] = [];

        for (const step of operations) {
          let expected: DtLedgerErrorCode | "ok";
          let attempt: () => Promise<unknown>;
          if (step.op === "advance") {
            clock.advance(step.ms);
            continue;
          }
          if (step.op === "transfer" || step.op === "hold") {
            expected =
              step.amount <= 0n ? "INVALID_AMOUNT" : step.from === step.to ? "SAME_ACCOUNT" : available[step.from]! < step.amount ? "INSUFFICIENT_FUNDS" : "ok";
            if (step.op === "transfer") {
              attempt = () =>
                ledger.transfer(participantOf(step.from), { idempotencyKey: key(), from: ids[step.from]!, to: ids[step.to]!, amount: step.amount, reference: "" });
            } else {
              const secret = newSecret();
              const expiresAt = clock.now().getTime() + step.expiresInMs;
              attempt = async () => {
                const hold = await ledger.hold(participantOf(step.from), {
                  idempotencyKey: key(),
                  from: ids[step.from]!,
                  beneficiary: ids[step.to]!,
                  amount: step.amount,
                  condition: { hashLock: secret.hashLock },
                  expiresAt: new Date(expiresAt),
                  reference: "",
                });
                holds.push({ id: hold.id, from: step.from, to: step.to, amount: step.amount, expiresAt, status: "held", preimage: secret.preimage });
              };
            }
          } else {
            const hold = holds[step.hold];
            if (!hold) continue;
            const expired = clock.now().getTime() >= hold.expiresAt;
            const settled = hold.status === "released" ? "ALREADY_RELEASED" : hold.status === "refunded" ? "ALREADY_REFUNDED" : undefined;
            if (step.op === "release") {
              expected = settled ?? (expired ? "HOLD_EXPIRED" : step.rightPreimage ? "ok" : "WRONG_PREIMAGE");
              const preimage = step.rightPreimage ? hold.preimage : newSecret().preimage;
              attempt = () => ledger.release(BANK_B, { idempotencyKey: key(), holdId: hold.id, preimage });
            } else {
              expected = settled ?? (expired ? "ok" : "NOT_YET_EXPIRED");
              attempt = () => ledger.refund(participantOf(hold.from), { idempotencyKey: key(), holdId: hold.id });
            }
          }
          const outcome = await attempt().then(
            () => "ok" as const,
            (error: unknown) => {
              if (error instanceof DtLedgerError) return error.code;
              throw error;
            },
          );
          expect({ step, outcome }).toEqual({ step, outcome: expected });
          if (outcome !== "ok") continue;
          if (step.op === "transfer") {
            available[step.from] = available[step.from]! - step.amount;
            available[step.to] = available[step.to]! + step.amount;
          } else if (step.op === "hold") {
            available[step.from] = available[step.from]! - step.amount;
            held[step.from] = held[step.from]! + step.amount;
          } else {
            const hold = holds[step.hold]!;
            held[hold.from] = held[hold.from]! - hold.amount;
            const receiver = step.op === "release" ? hold.to : hold.from;
            available[receiver] = available[receiver]! + hold.amount;
            hold.status = step.op === "release" ? "released" : "refunded";
          }
        }
        for (let i = 0; i < ACCOUNTS; i++) {
          const balance = await ledger.balance(NBK, ids[i]!);
          expect({ account: i, available: balance.available, held: balance.held }).toEqual({ account: i, available: available[i], held: held[i] });
        }
      }),
      { numRuns: 40 },
    );
  });
});
