/**
 * `npm run bench:pvp`: PvPs settled per second and end-to-end latency (create -> SETTLED, p50/p99) at
 * several concurrency levels, with the DT leg on the embedded DT ledger over this machine's PostgreSQL
 * and the foreign leg on an in-process Hardhat (EDR) chain over JSON-RPC on loopback. Beside each level,
 * the ceiling: the same ledger operations (DT hold, HTLC lock, HTLC claim, DT release) issued directly
 * through the same adapters, without the gateway's state machine, outbox and timeline. And the raw bound:
 * what the two ledgers themselves allow for one PvP's operations, at the same concurrency with the same
 * signer setup (one key sends every EVM transaction): DT hold and release on the DtLedger itself, HTLC
 * lock and claim as raw signed transactions (nonces counted locally, gas and fees fixed once) each waited
 * for by its receipt. The raw runs use their own funded key, so their nonces never cross the adapter's.
 * Rounds (PVP_BENCH_ROUNDS, default 2) alternate the order of raw, ceiling and gateway at each level.
 *
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) names the server; a fresh database is
 * created and dropped. Last line: JSON with pvpPerSecond, ceilingPerSecond, ratio, rawBoundPerSecond and
 * ratioToRaw (at the highest level), and the machine's load average.
 */
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { createPublicClient, encodeFunctionData, erc20Abi, http, maxUint256, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { marketFees } from "../src/evm/fees.ts";
import { demoForeignCbdcAbi } from "../src/evm/generated/contracts.ts";
import { HashTimeLockContract } from "../src/evm/hash-time-lock-contract.ts";
import { hashLockOf } from "../src/core/hash-lock.ts";
import { hashTimeLockSwapId } from "../src/evm/hash-time-lock.ts";
import { signCall, type EvmCall } from "../src/evm/signed-transaction.ts";
import { gasLimitOf } from "../src/evm/transaction-sender.ts";
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
const rounds = Number(process.env["PVP_BENCH_ROUNDS"] ?? 2);
// PVP_BENCH_KINDS=gateway (say) runs only those paths at each level: for a CPU profile of one of them.
const onlyKinds = process.env["PVP_BENCH_KINDS"]?.split(",");

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
  for (let index = 0; index < Math.max(2, ...levels); index++) {
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
    const dtInstruction: LegInstruction = { key: `${key}:dt`, pvpId: key, pvp, side: "dt", reference: undefined, terms: { ledger: "dt", payer, beneficiary, amount: 100n, currency: "KZT", hashLock, expiresAt: new Date(now + 3_600_000) } };
    const foreignInstruction: LegInstruction = { key: `${key}:foreign`, pvpId: key, pvp, side: "foreign", reference: undefined, terms: { ledger: "evm", payer: evm.payer, beneficiary: evm.beneficiary, amount: 10n, currency: "AED", hashLock, expiresAt: new Date(now + 1_800_000) } };
    const { reference } = await dtLeg.lock(dtInstruction);
    await evmLeg.lock(foreignInstruction);
    await evmLeg.claim(foreignInstruction, preimage);
    await dtLeg.claim({ ...dtInstruction, reference }, preimage);
    return performance.now() - started;
  };

  // The raw bound: the same four operations on the ledgers themselves, no adapter in between.
  const rawKey = evm.chain.accounts[3]!;
  const rawAccount = privateKeyToAccount(rawKey);
  const client = createPublicClient({ transport: http(evm.chain.rpcUrl, { batch: false }), pollingInterval: 50 });
  const htlc = new HashTimeLockContract(client as never, evm.hashTimeLock);
  let rawNonce = await client.getTransactionCount({ address: rawAccount.address, blockTag: "pending" });
  // Signing and handing over go one at a time in nonce order (a node that mines at once refuses a gap).
  let rawQueue: Promise<unknown> = Promise.resolve();
  const sendRaw = async (call: EvmCall & { gas: bigint }, fees: Awaited<ReturnType<typeof marketFees>>) => {
    const sent = rawQueue.then(async () => {
      const signed = await signCall(rawAccount, { chainId: evm.chain.chainId, call, nonce: BigInt(rawNonce), fees });
      const hash = await client.sendRawTransaction({ serializedTransaction: signed.raw });
      rawNonce++;
      return hash;
    });
    rawQueue = sent.catch(() => undefined);
    const hash = await sent;
    for (;;) {
      const receipt = await client.getTransactionReceipt({ hash }).catch(() => undefined);
      if (receipt) {
        if (receipt.status !== "success") throw new Error(`raw transaction ${hash} reverted`);
        return receipt;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  {
    // Fund the raw key like the payer and let the HTLC take its tokens.
    const deployer = privateKeyToAccount(evm.chain.accounts[0]!);
    const fees = await marketFees(client as never);
    const issue = { to: evm.token, data: encodeFunctionData({ abi: demoForeignCbdcAbi, functionName: "issue", args: [rawAccount.address, 10n ** 15n] }), gas: 200_000n };
    const signed = await signCall(deployer, { chainId: evm.chain.chainId, call: issue, nonce: BigInt(await client.getTransactionCount({ address: deployer.address, blockTag: "pending" })), fees });
    await client.waitForTransactionReceipt({ hash: await client.sendRawTransaction({ serializedTransaction: signed.raw }) });
    await sendRaw({ to: evm.token, data: encodeFunctionData({ abi: erc20Abi, functionName: "approve", args: [evm.hashTimeLock, maxUint256] }), gas: 100_000n }, fees);
  }
  const gateway = dt.demo.participants.gateway.id;
  let rawCount = 0;
  let rawGas: { lock: bigint; claim: bigint } | undefined;
  let rawFees: Awaited<ReturnType<typeof marketFees>> | undefined;
  const raw = async (worker: number) => {
    const payer = payers[worker]!;
    const started = performance.now();
    const preimage = `0x${randomBytes(32).toString("hex")}` as Hex;
    const hashLock = hashLockOf(preimage);
    const key = `raw${rawCount++}-${randomBytes(4).toString("hex")}`;
    const now = Date.now();
    const salt = `0x${randomBytes(32).toString("hex")}` as Hex;
    const terms = { sender: rawAccount.address, receiver: evm.beneficiary, token: evm.token, amount: 10n, hashLock, expiry: BigInt(Math.floor(now / 1000) + 1800) };
    const hold = await dt.ledger.hold(gateway, { idempotencyKey: `${key}:hold`, from: payer, beneficiary, amount: 100n, condition: { hashLock }, expiresAt: new Date(now + 3_600_000), reference: `PVP ${key}` });
    const lock = htlc.lockCall(salt, terms);
    const claim = htlc.claimCall(hashTimeLockSwapId(rawAccount.address, salt), terms, preimage);
    rawFees ??= await marketFees(client as never);
    // Gas measured once, on the first PvP, then fixed with the adapter's margin (gasLimitOf).
    const lockGas = rawGas?.lock ?? gasLimitOf(await client.estimateGas({ account: rawAccount.address, to: lock.to, data: lock.data }));
    await sendRaw({ ...lock, gas: lockGas }, rawFees);
    const claimGas = rawGas?.claim ?? gasLimitOf(await client.estimateGas({ account: rawAccount.address, to: claim.to, data: claim.data }));
    rawGas ??= { lock: lockGas, claim: claimGas };
    await sendRaw({ ...claim, gas: claimGas }, rawFees);
    await dt.ledger.release(gateway, { idempotencyKey: `${key}:release`, holdId: hold.id, preimage });
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

  await pool(4, 2, raw);
  await pool(4, 2, direct);
  await pool(4, 2, viaGateway);
  let last = { pvpPerSecond: 0, ceilingPerSecond: 0, ratio: 0, rawBoundPerSecond: 0, ratioToRaw: 0 };
  type Figures = Awaited<ReturnType<typeof pool>>;
  const merge = (runs: Figures[]) => ({
    perSecond: runs.length / runs.reduce((sum, run) => sum + 1 / run.perSecond, 0),
    p50: runs.reduce((sum, run) => sum + run.p50, 0) / runs.length,
    p99: Math.max(...runs.map((run) => run.p99)),
  });
  for (const concurrency of levels) {
    const runs: Record<"raw" | "ceiling" | "gateway", Figures[]> = { raw: [], ceiling: [], gateway: [] };
    const kinds = { raw, ceiling: direct, gateway: viaGateway };
    for (let round = 0; round < rounds; round++) {
      // Alternate the order so load that comes and goes touches each kind alike.
      const order = (["raw", "ceiling", "gateway"] as const).slice();
      if (round % 2 === 1) order.reverse();
      for (const kind of order) if (!onlyKinds || onlyKinds.includes(kind)) runs[kind].push(await pool(perLevel, concurrency, kinds[kind]));
    }
    const [rawBound, ceiling, gateway] = [merge(runs.raw), merge(runs.ceiling), merge(runs.gateway)];
    last = {
      pvpPerSecond: round(gateway.perSecond),
      ceilingPerSecond: round(ceiling.perSecond),
      ratio: round(gateway.perSecond / ceiling.perSecond),
      rawBoundPerSecond: round(rawBound.perSecond),
      ratioToRaw: round(gateway.perSecond / rawBound.perSecond),
    };
    console.log(
      JSON.stringify({
        concurrency,
        pvps: perLevel * rounds,
        pvpPerSecond: last.pvpPerSecond,
        p50Ms: round(gateway.p50),
        p99Ms: round(gateway.p99),
        ceilingPerSecond: last.ceilingPerSecond,
        ceilingP50Ms: round(ceiling.p50),
        ceilingP99Ms: round(ceiling.p99),
        ratio: last.ratio,
        rawBoundPerSecond: last.rawBoundPerSecond,
        rawP50Ms: round(rawBound.p50),
        rawP99Ms: round(rawBound.p99),
        ratioToRaw: last.ratioToRaw,
        notSettled,
        load: loadavg().map(round),
      }),
    );
  }
  await worker.stop();
  console.log(JSON.stringify({ ...last, concurrency: levels[levels.length - 1], notSettled, engine: "postgres", foreignLedger: "hardhat-edr-json-rpc", load: loadavg().map(round) }));
} finally {
  await evm.close();
  await testDb.drop();
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
