/**
 * Proof of collateral and mint speed on the embedded stack (PGlite or PostgreSQL, in-process EDR chain):
 *  1. GET /proof-of-collateral requests/s through the full gateway app, beside a bare fastify route that
 *     sends the same bytes, in the same run (autocannon, loopback). Budget: >= 90% of the bare route.
 *  2. Mint turnaround, deposit seen -> mint confirmed, p50/p99 over BENCH_MINTS mints with the background
 *     workers running. Budget: p99 < 2 s.
 * Prints one line per figure, then a JSON line.
 *
 *   npm run bench:collateral
 *   BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_CONNECTIONS=20 BENCH_MINTS=50 DATABASE_URL=postgres://... npm run bench:collateral
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import autocannon from "autocannon";
import Fastify from "fastify";
import type { Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { inProcessDtLedger } from "../src/dt-ledger/in-process-adapter.ts";
import { DtLedger } from "../src/dt-ledger/ledger.ts";
import { dtLedgerMigrations } from "../src/dt-ledger/schema.ts";
import { deployContracts } from "../src/evm/deploy-contracts.ts";
import { startEmbeddedChain } from "../src/evm/embedded-chain.ts";
import { gatewayMigrations } from "../src/gateway/components.ts";
import { identityRoutes } from "../src/identity/routes.ts";
import { IdentityStore } from "../src/identity/store.ts";
import type { Database } from "../src/persistence/database.ts";
import { migrate } from "../src/persistence/migrations.ts";
import { openPglite } from "../src/persistence/pglite.ts";
import { openPostgres } from "../src/persistence/postgres.ts";
import { buildGatewayApp } from "../src/server/app.ts";
import { createLogger } from "../src/server/logger.ts";
import { createMetricsRegistry } from "../src/server/metrics.ts";
import { composeGateway } from "../src/gateway/features.ts";
import { loadStablecoinEnvironment } from "../src/stablecoin/stablecoin-config.ts";
import { requestMint } from "../src/stablecoin/mint-flow.ts";

const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 3);
const CONNECTIONS = Number(process.env["BENCH_CONNECTIONS"] ?? 10);
const MINTS = Number(process.env["BENCH_MINTS"] ?? 30);

async function openDatabase(name: string): Promise<Database> {
  const url = process.env["DATABASE_URL"];
  if (!url) return openPglite({ dataDir: "memory://" });
  const admin = await openPostgres({ connectionString: url, poolSize: 1 });
  const database = `tg_bench_${name}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.close();
  const target = new URL(url);
  target.pathname = `/${database}`;
  return openPostgres({ connectionString: target.toString(), poolSize: 10 });
}

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);

async function requestsPerSecond(url: string, seconds = SECONDS): Promise<number> {
  // The load comes from a worker thread, so the server under test keeps the main thread to itself.
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, workers: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

// One database for the gateway and the embedded DT ledger, as `npm start` runs them.
const gatewayDb = await openDatabase("gateway");
const ledgerDb = gatewayDb;
await migrate(gatewayDb, [dtLedgerMigrations, ...gatewayMigrations()]);
const chain = await startEmbeddedChain();
const [operatorKey, minterKey, holderKey] = chain.accounts as [Hex, Hex, Hex];
const dtLedger = new DtLedger({ db: ledgerDb, operatorKey });
await dtLedger.registerParticipant({ id: "NBRKKZKX", name: "National Bank of Kazakhstan", role: "central_bank" });
await dtLedger.registerParticipant({ id: "HSBKKZKX", name: "Halyk Bank", role: "bank" });
await dtLedger.registerParticipant({ id: "TENGEGW", name: "Tenge Gateway", role: "gateway" });
const gatewayLedger = inProcessDtLedger(dtLedger, "TENGEGW");
const bankLedger = inProcessDtLedger(dtLedger, "HSBKKZKX");
const wallet = await gatewayLedger.openAccount({ idempotencyKey: "segregated", kind: "segregated_wallet", holderName: "Collateral" });
const exchangeAccount = await bankLedger.openAccount({ idempotencyKey: "exchange", kind: "exchange", holderName: "Bench Exchange" });
await dtLedger.issue("NBRKKZKX", { idempotencyKey: "fund", accountId: exchangeAccount.id, amount: 10n ** 12n, reference: "funding" });
const deploymentsDir = mkdtempSync(join(tmpdir(), "tg-bench-"));
const { deployment } = await deployContracts({
  rpcUrl: chain.rpcUrl,
  deployerKey: operatorKey,
  collateralSigner: privateKeyToAddress(operatorKey),
  segregatedAccount: wallet.id,
  maxStatementAge: 3600n,
  minters: [{ address: privateKeyToAddress(minterKey), allowance: 10n ** 30n }],
  deploymentsDir,
});
rmSync(deploymentsDir, { recursive: true, force: true });

const logger = createLogger("warn");
const metrics = createMetricsRegistry();
// The gateway's composition root, on this benchmark's DT ledger and chain.
const composed = await composeGateway({
  db: gatewayDb,
  logger,
  metrics,
  ports: {
    dtLedger: { port: gatewayLedger, description: "bench" },
    stablecoinChains: [{ chainId: chain.chainId, rpcUrl: chain.rpcUrl, token: deployment.contracts.TengeStablecoin.address, startBlock: 0n, segregatedAccount: wallet.id, minterKey, publicRpcUrl: chain.rpcUrl, description: "bench" }],
    foreignLegs: [],
    readiness: [],
    stop: async () => {},
  },
  settings: { dtLedger: undefined, stablecoinChains: [], pvp: undefined, stablecoin: loadStablecoinEnvironment({ STABLECOIN_POLL_MS: "200", COLLATERAL_ATTESTATION_INTERVAL_SECONDS: "60" }) },
  attestationKey: ed25519.utils.randomSecretKey(),
  pvpSecretKey: undefined,
  publicUrl: "http://127.0.0.1",
});
const component = composed.stablecoin!;
const app = await buildGatewayApp({
  db: gatewayDb,
  logger,
  metrics,
  migrationSets: gatewayMigrations(),
  bodyLimitBytes: 1024 * 1024,
  signatureMaxSkewSeconds: 300,
  readiness: component.readiness,
  features: [
    identityRoutes(new IdentityStore(gatewayDb)),
    ...component.routes,
    // The same bytes from a one-line route inside the gateway app: separates the app's per-request cost
    // (access control, request logger, metrics) from the attestation route's own.
    async (gateway) => {
      gateway.get("/bench/trivial", { config: { access: "public" } }, async (_request, reply) =>
        reply.header("content-type", "application/json; charset=utf-8").send(component.attestations.cachedJson),
      );
    },
  ],
});
const exchange = (
  await component.exchanges.onboard({ name: "Bench Exchange", dtAccount: exchangeAccount.id, evmAddresses: [privateKeyToAddress(holderKey)], perMintLimit: 10n ** 10n, dailyLimit: 10n ** 11n })
).exchange;
component.start();

// --- 1. mint turnaround ------------------------------------------------------------------------------
for (let i = 0; i < MINTS; i++) {
  const request = await requestMint(gatewayDb, exchange, BigInt(1_000 + i));
  await bankLedger.transfer({ idempotencyKey: `bench-${i}`, from: exchangeAccount.id, to: component.intakeAccount, amount: request.amount, reference: request.reference });
  // One at a time, as a client would wait for its mint; each sample is deposit seen -> mint confirmed.
  for (;;) {
    const state = (await gatewayDb.query<{ state: string }>("SELECT state FROM stablecoin.mint_requests WHERE id = $1", [request.id])).rows[0]?.state;
    if (state === "minted") break;
    if (state === "failed") throw new Error(`mint ${request.id} failed`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
const samples = (
  await gatewayDb.query<{ ms: number }>("SELECT extract(epoch FROM (minted_at - deposited_at)) * 1000 AS ms FROM stablecoin.mint_requests WHERE state = 'minted'")
).rows
  .map((row) => Number(row.ms))
  .sort((a, b) => a - b);
const p50 = percentile(samples, 50);
const p99 = percentile(samples, 99);
console.log(`mint turnaround (deposit seen -> mint confirmed), ${samples.length} mints: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`);

// --- 2. /proof-of-collateral against a bare route -------------------------------------------------------
await component.attestations.renew();
await component.stop();
const gatewayAddress = await app.listen({ host: "127.0.0.1", port: 0 });
const body = component.attestations.cachedJson!;
const bare = Fastify({ logger: false });
bare.get("/bare", async (_request, reply) => reply.header("content-type", "application/json; charset=utf-8").send(body));
const bareAddress = await bare.listen({ host: "127.0.0.1", port: 0 });
await requestsPerSecond(`${bareAddress}/bare`, 1); // warm-up of both servers
await requestsPerSecond(`${gatewayAddress}/proof-of-collateral`, 1);
// Alternating rounds, so drift of the machine's speed falls on both routes alike.
const bareRounds: number[] = [];
const attestationRounds: number[] = [];
const trivialRounds: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  bareRounds.push(await requestsPerSecond(`${bareAddress}/bare`));
  attestationRounds.push(await requestsPerSecond(`${gatewayAddress}/proof-of-collateral`));
  trivialRounds.push(await requestsPerSecond(`${gatewayAddress}/bench/trivial`));
}
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const bareRps = mean(bareRounds);
const attestationRps = mean(attestationRounds);
const trivialRps = mean(trivialRounds);
const share = attestationRps / bareRps;
console.log(`bare fastify route, same ${body.length}-byte body: ${bareRps.toFixed(0)} req/s`);
console.log(`one-line route inside the gateway app, same body: ${trivialRps.toFixed(0)} req/s (${((trivialRps / bareRps) * 100).toFixed(1)}% of the bare route)`);
console.log(`GET /proof-of-collateral: ${attestationRps.toFixed(0)} req/s (${(share * 100).toFixed(1)}% of the bare route)`);

await bare.close();
await app.close();
await chain.close();
await gatewayDb.close();

console.log(
  JSON.stringify({
    bench: "collateral",
    database: process.env["DATABASE_URL"] ? "postgres" : "pglite",
    seconds: SECONDS,
    connections: CONNECTIONS,
    rounds: ROUNDS,
    proofOfCollateralRps: Math.round(attestationRps),
    bareRouteRps: Math.round(bareRps),
    shareOfBare: Number(share.toFixed(3)),
    gatewayTrivialRouteRps: Math.round(trivialRps),
    shareOfGatewayTrivialRoute: Number((attestationRps / trivialRps).toFixed(3)),
    mints: samples.length,
    mintTurnaroundP50Ms: Math.round(p50),
    mintTurnaroundP99Ms: Math.round(p99),
    budgets: { shareOfBareAtLeast: 0.9, shareOk: share >= 0.9, p99BelowMs: 2000, p99Ok: p99 < 2000 },
  }),
);
