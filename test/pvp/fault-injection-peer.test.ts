import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { migratePvp } from "../support/pvp/harness.ts";
import { runFaultScenario } from "../support/pvp/fault-run.ts";

describe("seeded fault injection between two gateways (ISO 20022 messages)", () => {
  let testDb: TestDatabase;
  beforeEach(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
  });
  afterEach(async () => {
    await testDb.drop();
  });

  it("dropped, duplicated, delayed and reordered messages, lost acknowledgements, crashes and a peer that goes down: every PvP ends both settled or both refunded", async () => {
    const report = await runFaultScenario({
      db: testDb.db,
      seed: 11,
      pvps: 300,
      mode: "peer",
      crashRate: 0.02,
      outageRate: 0.2,
      network: { drop: 0.1, lostAck: 0.05, duplicate: 0.1, delay: 0.15, maxDelayMs: 6_000 },
    });
    console.log(JSON.stringify({ ...report, violations: report.violations.slice(0, 5) }));
    expect(report.violations).toEqual([]);
    expect(report.pvps).toBe(300);
    expect(report.settled).toBeGreaterThan(0);
    expect(report.refunded + report.rejected).toBeGreaterThan(0);
    expect(report.network?.duplicated).toBeGreaterThan(0);
    expect(report.network?.dropped).toBeGreaterThan(0);
  }, 240_000);

  it("messages lost after their acknowledgement, both ways, are recovered through status requests (pacs.028): every PvP still ends settled or refunded on both ledgers", async () => {
    const report = await runFaultScenario({
      db: testDb.db,
      seed: 23,
      pvps: 120,
      mode: "peer",
      crashRate: 0.01,
      outageRate: 0.05,
      network: { drop: 0.05, lostAck: 0.02, duplicate: 0.05, delay: 0.05, maxDelayMs: 3_000, vanish: 0.15 },
      statusRequestAfterMs: 5_000,
    });
    console.log(JSON.stringify({ ...report, violations: report.violations.slice(0, 5) }));
    expect(report.violations).toEqual([]);
    expect(report.network?.vanished).toBeGreaterThan(0);
    expect(report.statusRequests).toBeGreaterThan(0);
    expect(report.statusAnswers).toBeGreaterThan(0);
    // Lost instructions and reports are recovered in time to settle, not only refunded at expiry.
    expect(report.settled).toBeGreaterThan(report.pvps / 2);
  }, 240_000);
});
