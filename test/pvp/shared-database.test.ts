import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Hex } from "viem";
import type { HashLockedLegPort, LegInstruction } from "../../src/pvp/leg-port.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { engineWith, FOREIGN_CB, migratePvp, VirtualClock } from "../support/pvp/harness.ts";
import { SimulatedLedger } from "../support/pvp/simulated-ledger.ts";

/** Counts every ledger call per leg and operation, to show that no step ran twice. */
function counting(ledger: SimulatedLedger, calls: Map<string, number>): HashLockedLegPort {
  const count = (leg: LegInstruction, what: string) => calls.set(`${leg.key}:${what}`, (calls.get(`${leg.key}:${what}`) ?? 0) + 1);
  return {
    ledger: ledger.ledger,
    lock: (leg) => (count(leg, "lock"), ledger.lock(leg)),
    claim: (leg, preimage: Hex) => (count(leg, "claim"), ledger.claim(leg, preimage)),
    refund: (leg, options) => (count(leg, "refund"), ledger.refund(leg, options)),
    observe: (leg) => ledger.observe(leg),
    now: () => ledger.now(),
  };
}

describe("several gateway processes on one database", () => {
  let testDb: TestDatabase;
  beforeEach(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
  });
  afterEach(async () => {
    await testDb.drop();
  });

  it("drive every PvP to SETTLED with each lock and claim sent to its ledger exactly once", async () => {
    const clock = new VirtualClock();
    const dt = new SimulatedLedger("dt", () => clock.ms);
    const foreign = new SimulatedLedger("evm", () => clock.ms);
    dt.fund("DA-A", 10_000_000n);
    foreign.fund("0xB", 10_000_000n);
    const calls = new Map<string, number>();
    const legs = [counting(dt, calls), counting(foreign, calls)];
    // Separate connection pools when PostgreSQL is available, as separate processes would have.
    const secondDb = testDb.url ? await testDb.openAnother() : testDb.db;
    const engines = [engineWith(testDb.db, legs, { clock, worker: "one", concurrency: 4 }), engineWith(secondDb, legs, { clock, worker: "two", concurrency: 4 })];
    const ids: string[] = [];
    for (let index = 0; index < 40; index++) {
      const pvp = await engines[index % 2]!.create({
        createdBy: "bank",
        counterpartyAgent: FOREIGN_CB,
        dtLeg: { ledger: "dt", payer: "DA-A", beneficiary: "DA-B", amount: 1_000n, currency: "KZT" },
        foreignLeg: { ledger: "evm", payer: "0xB", beneficiary: "0xA", amount: 100n, currency: "AED" },
      });
      ids.push(pvp.id);
    }
    for (let round = 0; round < 50; round++) {
      await Promise.all(engines.map((engine) => engine.runOnce(8)));
      const states = await Promise.all(ids.map(async (id) => (await engines[0]!.get(id))!.state));
      if (states.every((state) => state === "SETTLED")) break;
      clock.advance(200);
    }
    for (const id of ids) expect((await engines[0]!.get(id))!.state).toBe("SETTLED");
    expect(calls.size).toBe(ids.length * 4);
    expect([...calls.entries()].filter(([, times]) => times !== 1)).toEqual([]);
  });
});
