/**
 * `npm run bench:dvp`: DvPs settled per second (create -> SETTLED) at several concurrency levels, the cash
 * leg on the embedded DT ledger over this machine's PostgreSQL and the securities leg (a SecurityToken in the
 * HashTimeLock, with its compliance check and approveDelivery) on an in-process Hardhat (EDR) chain over
 * JSON-RPC. Beside each level, the ceiling: the same ledger operations (DT hold, securities lock, securities
 * claim, DT release) through the same adapters, without the engine's state machine, outbox, timeline and
 * messages (each settled DvP also renders and validates two sese.024, two sese.025 and two camt.054).
 * Each concurrent worker has its own seller holding (one signer key each) and buyer account.
 *
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) names the server; a fresh database is
 * created and dropped. DVP_BENCH_LEVELS (default 1,4) and DVP_BENCH_DVPS (default 20 per level) size it.
 * Last line: JSON with dvpPerSecond, ceilingPerSecond and ratio at the highest level, and the load average.
 */
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { createPublicClient, createWalletClient, getAddress, http, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hashLockOf } from "../src/core/hash-lock.ts";
import { DvpDesk } from "../src/dvp/desk.ts";
import { SecuritiesHtlcLeg } from "../src/dvp/legs/securities-htlc-leg.ts";
import { dvpNotices } from "../src/dvp/notices.ts";
import { DEMO_BOND, deploySecurity } from "../src/evm/deploy-security.ts";
import { startEmbeddedChain } from "../src/evm/embedded-chain.ts";
import { evmChain } from "../src/evm/evm-chain.ts";
import { hashTimeLockAbi, hashTimeLockBytecode } from "../src/evm/generated/contracts.ts";
import { PvpEngine } from "../src/pvp/engine.ts";
import { legDirectory, type LegInstruction } from "../src/pvp/leg-port.ts";
import { dtLedgerLeg } from "../src/pvp/legs/dt-ledger-leg.ts";
import { defaultTimelockPolicy } from "../src/pvp/timelock-policy.ts";
import { createTestDatabase } from "../test/support/database.ts";
import { startDtStack } from "../test/support/pvp/dt-stack.ts";
import { migratePvp, NBK } from "../test/support/pvp/harness.ts";

process.env["DATABASE_URL"] ??= "postgres://postgres@127.0.0.1:5432/test";
const levels = (process.env["DVP_BENCH_LEVELS"] ?? "1,4").split(",").map(Number);
const perLevel = Number(process.env["DVP_BENCH_DVPS"] ?? 20);
const workers = Math.max(...levels);
const round = (value: number) => Math.round(value * 100) / 100;

const testDb = await createTestDatabase();
const chain = await startEmbeddedChain({ accountCount: 2 + 2 * workers });
try {
  await migratePvp(testDb.db);
  const dt = await startDtStack(testDb.db, () => new Date());
  const keys = chain.accounts as Hex[];
  const transport = http(chain.rpcUrl);
  const client = createPublicClient({ transport });
  const agent = createWalletClient({ account: privateKeyToAccount(keys[0]!), transport, chain: evmChain(chain.chainId, chain.rpcUrl) });
  const deployed = await client.waitForTransactionReceipt({ hash: await agent.deployContract({ abi: hashTimeLockAbi, bytecode: hashTimeLockBytecode }) });
  const htlc = getAddress(deployed.contractAddress!);
  const sellerKeys = keys.slice(2, 2 + workers);
  const sellers = sellerKeys.map((key) => privateKeyToAccount(key).address);
  const buyers = keys.slice(2 + workers, 2 + 2 * workers).map((key) => privateKeyToAccount(key).address);
  const security = await deploySecurity(agent, client, 1, {
    ...DEMO_BOND,
    holders: [...sellers.map((address) => ({ address, units: 1_000_000n })), ...buyers.map((address) => ({ address, units: 0n }))],
    custodians: [htlc],
  });
  const securities = await SecuritiesHtlcLeg.connect({ rpcUrl: chain.rpcUrl, hashTimeLock: htlc, security: security.SecurityToken.address, signerKeys: sellerKeys, sender: { pollingIntervalMs: 5 } });
  const cash = dtLedgerLeg({ port: dt.port });
  const { inProcessDtLedger } = await import("../src/dt-ledger/in-process-adapter.ts");
  const halyk = inProcessDtLedger(dt.ledger, dt.demo.participants.halyk.id);
  const payers: string[] = [];
  for (let index = 0; index < workers; index++) {
    const account = await halyk.openAccount({ idempotencyKey: `bench:buyer:${index}`, kind: "legal_entity", holderName: `Bench buyer ${index}` });
    await halyk.transfer({ idempotencyKey: `bench:fund:${index}`, from: dt.demo.accounts.aigerim.id, to: account.id, amount: 1_000_000n, reference: "bench float" });
    payers.push(account.id);
  }
  const sellerCash = dt.demo.accounts.kase.id;

  const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? 0;
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
    return { perSecond: count / ((performance.now() - started) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  };

  // The ceiling: one DvP's ledger operations in order, straight through the adapters.
  let directCount = 0;
  const direct = async (worker: number) => {
    const started = performance.now();
    const preimage = `0x${randomBytes(32).toString("hex")}` as Hex;
    const hashLock = hashLockOf(preimage);
    const key = `direct${directCount++}-${randomBytes(4).toString("hex")}`;
    const now = Math.max(Date.now(), (await securities.now()).getTime());
    const summary = { id: key, uetr: "", role: "initiator" as const, dtLeg: undefined, foreignLeg: undefined as never, instruction: undefined, ourAgent: NBK, counterpartyAgent: NBK };
    const cashLeg: LegInstruction = { key: `${key}:dt`, pvpId: key, pvp: summary, side: "dt", reference: undefined, terms: { ledger: "dt", payer: payers[worker]!, beneficiary: sellerCash, amount: 100n, currency: "KZT", hashLock, expiresAt: new Date(now + 3_600_000) } };
    const bondLeg: LegInstruction = { key: `${key}:foreign`, pvpId: key, pvp: summary, side: "foreign", reference: undefined, terms: { ledger: "securities", payer: sellers[worker]!, beneficiary: buyers[worker]!, amount: 1n, currency: DEMO_BOND.isin, hashLock, expiresAt: new Date(now + 1_800_000) } };
    const { reference } = await cash.lock(cashLeg);
    await securities.lock(bondLeg);
    await securities.claim(bondLeg, preimage);
    await cash.claim({ ...cashLeg, reference }, preimage);
    return performance.now() - started;
  };

  const settled = new Map<string, () => void>();
  let notSettled = 0;
  const engine = new PvpEngine({
    db: testDb.db,
    legs: legDirectory([cash, securities]),
    policy: defaultTimelockPolicy,
    ourAgent: NBK,
    concurrency: workers,
    notices: dvpNotices,
    logger: {
      info(fields) {
        if (fields["event"] !== "pvp.transition") return;
        if (fields["to"] === "SETTLED") settled.get(String(fields["pvpId"]))?.();
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
  // An operator instructs both sides; the bench's holdings are registered to the brokers it names.
  const owner = async (_ledger: string, account: string) => (sellers.some((seller) => seller.toLowerCase() === account.toLowerCase()) ? "SELLKZKA" : "BUYRKZKA");
  const desk = new DvpDesk({ engine, securities: [securities], authority: { dtLedger: undefined, ledgerAccountOwner: owner } });
  const operator = { id: "bench", role: "operator" as const, name: "bench", credentialId: "bench" };
  const worker = engine.start();
  const viaGateway = async (index: number) => {
    const started = performance.now();
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const dvp = await desk.create(operator, {
      isin: DEMO_BOND.isin,
      quantity: "1",
      amount: "1.00",
      seller: { bic: "SELLKZKA", holding: sellers[index]! as Address, cashAccount: sellerCash },
      buyer: { bic: "BUYRKZKA", holding: buyers[index]! as Address, cashAccount: payers[index]! },
    });
    settled.set(dvp.id, done);
    if (["SETTLED", "ABORTING", "REJECTED"].includes((await engine.get(dvp.id, "dvp"))?.state ?? "")) done();
    await finished;
    return performance.now() - started;
  };

  let last = { dvpPerSecond: 0, ceilingPerSecond: 0, ratio: 0 };
  for (const level of levels) {
    const ceiling = await pool(perLevel, level, direct);
    const gateway = await pool(perLevel, level, viaGateway);
    last = { dvpPerSecond: round(gateway.perSecond), ceilingPerSecond: round(ceiling.perSecond), ratio: round(gateway.perSecond / ceiling.perSecond) };
    console.log(JSON.stringify({ concurrency: level, dvps: perLevel, ...last, dvpP50Ms: round(gateway.p50), dvpP99Ms: round(gateway.p99), ceilingP50Ms: round(ceiling.p50), ceilingP99Ms: round(ceiling.p99) }));
  }
  await worker.stop();
  console.log(JSON.stringify({ ...last, concurrency: levels[levels.length - 1], notSettled, engine: "postgres", securitiesLedger: "hardhat-edr-json-rpc", load: loadavg().map(round) }));
} finally {
  await chain.close();
  await testDb.drop();
}
