/**
 * `npm run bench:pvp-faults`: the long seeded fault-injection run (>= 10,000 PvPs by default) over
 * several seeds, both modes: the initiator driving both legs (PvPs and, a third of them, DvPs), and two
 * gateways exchanging ISO 20022 messages with faults. Prints one JSON line per scenario and, last, the totals with the violation count.
 *
 * PVP_FAULT_PVPS (default 10000) and PVP_FAULT_SEEDS (default 10) size the run; DATABASE_URL selects
 * PostgreSQL, otherwise PGlite in memory.
 */
import { createTestDatabase } from "../test/support/database.ts";
import { runFaultScenario, type FaultRunReport } from "../test/support/pvp/fault-run.ts";
import { migratePvp } from "../test/support/pvp/harness.ts";

const total = Number(process.env["PVP_FAULT_PVPS"] ?? 10_000);
const seeds = Number(process.env["PVP_FAULT_SEEDS"] ?? 10);
const perSeed = Math.ceil(total / seeds);
const started = performance.now();
const reports: FaultRunReport[] = [];
for (let index = 0; index < seeds; index++) {
  const mode = index % 4 === 3 ? "peer" : "chain";
  const testDb = await createTestDatabase();
  try {
    await migratePvp(testDb.db);
    const seedStarted = performance.now();
    const report = await runFaultScenario({
      db: testDb.db,
      seed: 1000 + index,
      pvps: perSeed,
      mode,
      crashRate: 0.02,
      outageRate: 0.2,
      network: { drop: 0.1, lostAck: 0.05, duplicate: 0.1, delay: 0.15, maxDelayMs: 6_000 },
      maxRounds: 100_000,
      // A third of the chain-mode exchanges are DvPs (securities against DT cash) under the same faults.
      dvpShare: mode === "chain" ? 0.3 : 0,
    });
    reports.push(report);
    console.log(JSON.stringify({ ...report, violations: report.violations.slice(0, 10), violationCount: report.violations.length, seconds: Math.round((performance.now() - seedStarted) / 100) / 10 }));
  } finally {
    await testDb.drop();
  }
}
const sum = (pick: (report: FaultRunReport) => number) => reports.reduce((acc, report) => acc + pick(report), 0);
console.log(
  JSON.stringify({
    pvps: sum((report) => report.pvps),
    settled: sum((report) => report.settled),
    refunded: sum((report) => report.refunded),
    rejected: sum((report) => report.rejected),
    dvps: sum((report) => report.dvps),
    dvpsSettled: sum((report) => report.dvpsSettled),
    crashes: sum((report) => report.crashes),
    outages: sum((report) => report.outages),
    violations: sum((report) => report.violations.length),
    seconds: Math.round((performance.now() - started) / 1000),
  }),
);
