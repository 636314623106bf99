import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { migratePvp } from "../support/pvp/harness.ts";
import { runFaultScenario } from "../support/pvp/fault-run.ts";

// 700 PvPs here and 300 in fault-injection-peer.test.ts: the suite's 1,000-PvP run, split over two files so
// vitest runs them on both cores.
describe("seeded fault injection, initiator driving both legs (EVM-like foreign ledger), PvPs and DvPs", () => {
  let testDb: TestDatabase;
  beforeEach(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
  });
  afterEach(async () => {
    await testDb.drop();
  });

  it("crashes at every transition and command, two processes on one database, ledger outages, claims racing expiries: every PvP and DvP ends both settled or both refunded", async () => {
    const report = await runFaultScenario({ db: testDb.db, seed: 7, pvps: 700, mode: "chain", crashRate: 0.02, outageRate: 0.2, dvpShare: 0.3 });
    console.log(JSON.stringify({ ...report, violations: report.violations.slice(0, 5) }));
    expect(report.violations).toEqual([]);
    expect(report.pvps).toBe(700);
    expect(report.settled).toBeGreaterThan(0);
    expect(report.refunded + report.rejected).toBeGreaterThan(0);
    expect(report.crashes).toBeGreaterThan(0);
    expect(report.outages).toBeGreaterThan(0);
    // DvPs ran through the same faults: some settled, and the verdict above covers them from the ledgers.
    expect(report.dvps).toBeGreaterThan(100);
    expect(report.dvpsSettled).toBeGreaterThan(0);
  }, 480_000);
});
