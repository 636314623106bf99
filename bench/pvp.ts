/**
 * `npm run bench:pvp`: PvPs settled per second and end-to-end latency (create -> SETTLED, p50/p99) at
 * several concurrency levels, with the DT leg on the embedded DT ledger over this machine's PostgreSQL
 * and the foreign leg on an in-process Hardhat (EDR) chain over JSON-RPC on loopback. Beside each level,
 * the ceiling: the same ledger operations (DT hold, HTLC lock, HTLC claim, DT release) issued directly
 * through the same adapters, without the gateway's state machine, outbox and timeline.
 *
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) names the server; a fresh database is
 * created and dropped. Last line: JSON with pvpPerSecond, ceilingPerSecond, ratio (at the highest level).
 */
import { randomBytes } from "node:crypto";
import type { Hex } from "viem";
import { hashLockOf } from "../src/core/hash-lock.ts";
import { PvpEngine } from "../src/pvp/engine.ts";
import { legDirectory, type LegInstruction } from "../src/pvp/leg-port.ts";
import { dtLedgerLeg } from "../src/pvp/legs/dt-ledger-leg.ts";
import { EvmHtlcLeg } from "../src/pvp/legs/evm-htlc-leg.ts";
import { defaultTimelockPolicy } from "../src/pvp/timelock-policy.ts";
import { createTestDatabase } from "../test/support/database.ts";
import { startDtStack } from "../test/support/pvp/dt-stack.ts";
import { startEvmStack } from "../test/support/pvp/evm-stack.ts";
import { FOREIGN_CB, migratePvp, NBK } from "../test/support/pvp/harness.ts";

process.env["DATABASE_URL"] ??= "postgres://postgres@127.0.0.1:5432/test";
const levels = (process.env["PVP_BENCH_LEVELS"] ?? "1,4,16").split(",").map(Number);
const perLevel = Number(process.env["PVP_BENCH_PVPS"] ?? 60);

const testDb = await createTestDatabase();
const evm = await startEvmStack(10n ** 15n);
try {
  await migratePvp(testDb.db);
  const dt = await startDtStack(testDb.db, () => new Date());
  const evmLeg = await EvmHtlcLeg.connect({ rpcUrl: evm.chain.rpcUrl, hashTimeLock: evm.hashTimeLock, token: evm.token, currency: "AED", signerKeys: [evm.payerKey], confirmations: 1 });
  const dtLeg = dtLedgerLeg({ port: dt.port });
  const beneficiary = dt.demo.accounts.altynExchange.id;
  // One payer DA per concurrent worker: a DA's UTXO tokens are spent one hold at a time, so concurrent
  // holds from one account would queue on its token (or fail on a single-token account).
  const { inProcessDtLedger } = await import("../src/dt-ledger/in-process-adapter.ts");
  const halyk = inProcessDtLedger(dt.ledger, dt.demo.participants.halyk.id);
  const payers: string[] = [];
  for (let index = 0; index < Math.max(...levels); index++) {
    const account = await halyk.openAccount({ idempotencyKey: `bench:payer:${index}`, kind: "individual", holderName: `Bench payer ${index}` });
    await halyk.transfer({ idempotencyKey: `bench:fund:${index}`, from: dt.demo.accounts.aigerim.id, to: account.id, amount: 1_000_000n, reference: "bench float" });
    payers.push(account.id);
  }

  const percentile = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  };
  const pool = async (count: number, concurrency: number, one: (worker: number) => Promise<number>) => {
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        while (next < count) {
          next++;
          latencies.push(await one(worker));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { perSecond: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  };

  // The ceiling: one PvP's ledger operations in order, straight through the adapters.
  let directCount = 0;
  const direct = async (worker: number) => {
    const payer = payers[worker]!;
    const started = performance.now();
    const preimage = `0x${randomBytes(32).toString("hex")}` as Hex;
    const hashLock = hashLockOf(preimage);
    const key = `direct${directCount++}-${randomBytes(4).toString("hex")}`;
    const now = Date.now();
    const pvp = { id: key, uetr: "", role: "initiator" as const, dtLeg: undefined, foreignLeg: undefined as never, instruction: undefined, ourAgent: NBK, counterpartyAgent: FOREIGN_CB };
    const dtInstruction: LegInstruction = { key: `${key}:dt`, pvp, side: "dt", reference: undefined, terms: { ledger: "dt", payer, beneficiary, amount: 100n, currency: "KZT", hashLock, expiresAt: new Date(now + 3_600_000) } };
    const foreignInstruction: LegInstruction = { key: `${key}:foreign`, pvp, side: "foreign", reference: undefined, terms: { ledger: "evm", payer: evm.payer, beneficiary: evm.beneficiary, amount: 10n, currency: "AED", hashLock, expiresAt: new Date(now + 1_800_000) } };
    const { reference } = await dtLeg.lock(dtInstruction);
    await evmLeg.lock(foreignInstruction);
    await evmLeg.claim(foreignInstruction, preimage);
    await dtLeg.claim({ ...dtInstruction, reference }, preimage);
    return performance.now() - started;
  };

  const settled = new Map<string, () => void>();
  let notSettled = 0;
  const engine = new PvpEngine({
    db: testDb.db,
    legs: legDirectory([dtLeg, evmLeg]),
    policy: defaultTimelockPolicy,
    ourAgent: NBK,
    concurrency: Math.max(...levels),
    logger: {
      info(fields) {
        if (fields["event"] !== "pvp.transition") return;
        if (fields["to"] === "SETTLED") settled.get(String(fields["pvpId"]))?.();
        // A PvP that unwinds counts as not settled (and ends the wait for it).
        if (fields["to"] === "ABORTING" || fields["to"] === "REJECTED") {
          notSettled++;
          settled.get(String(fields["pvpId"]))?.();
        }
      },
      warn() {},
      error(fields) {
        console.error(JSON.stringify(fields));
      },
    },
  });
  const worker = engine.start();
  const viaGateway = async (worker: number) => {
    const payer = payers[worker]!;
    const started = performance.now();
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const pvp = await engine.create({
      createdBy: "bench",
      counterpartyAgent: FOREIGN_CB,
      dtLeg: { ledger: "dt", payer, beneficiary, amount: 100n, currency: "KZT" },
      foreignLeg: { ledger: "evm", payer: evm.payer, beneficiary: evm.beneficiary, amount: 10n, currency: "AED" },
    });
    settled.set(pvp.id, done);
    if (["SETTLED", "ABORTING", "REJECTED"].includes((await engine.get(pvp.id))?.state ?? "")) done();
    await finished;
    settled.delete(pvp.id);
    return performance.now() - started;
  };

  await pool(4, 2, direct);
  await pool(4, 2, viaGateway);
  let last = { pvpPerSecond: 0, ceilingPerSecond: 0, ratio: 0 };
  for (const concurrency of levels) {
    const ceiling = await pool(perLevel, concurrency, direct);
    const gateway = await pool(perLevel, concurrency, viaGateway);
    last = { pvpPerSecond: round(gateway.perSecond), ceilingPerSecond: round(ceiling.perSecond), ratio: round(gateway.perSecond / ceiling.perSecond) };
    console.log(
      JSON.stringify({
        concurrency,
        pvps: perLevel,
        pvpPerSecond: last.pvpPerSecond,
        p50Ms: round(gateway.p50),
        p99Ms: round(gateway.p99),
        ceilingPerSecond: last.ceilingPerSecond,
        ceilingP50Ms: round(ceiling.p50),
        ceilingP99Ms: round(ceiling.p99),
        ratio: last.ratio,
        notSettled,
      }),
    );
  }
  await worker.stop();
  console.log(JSON.stringify({ ...last, concurrency: levels[levels.length - 1], notSettled, engine: "postgres", foreignLedger: "hardhat-edr-json-rpc" }));
} finally {
  await evm.close();
  await testDb.drop();
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
