import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, type Hex } from "viem";
import { privateKeyToAccount, privateKeyToAddress } from "viem/accounts";
import { hardhat } from "viem/chains";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inProcessDtLedger } from "../../src/dt-ledger/in-process-adapter.ts";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { startEmbeddedStack, type EmbeddedStack } from "../../src/gateway/embedded.ts";
import { composeGateway, type ComposedGateway } from "../../src/gateway/features.ts";
import { identityRoutes } from "../../src/identity/routes.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { verifyAttestation } from "../../src/proof-of-collateral/page/verify-attestation.js";
import { buildGatewayApp } from "../../src/server/app.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import type { StablecoinComponent } from "../../src/stablecoin/component.ts";
import { ensureDemoExchange } from "../../src/stablecoin/exchanges.ts";
import { attestationKey, loadStablecoinEnvironment } from "../../src/stablecoin/stablecoin-config.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { eventually } from "./support.ts";

/**
 * The component composed on the embedded stack's ports by the gateway's composition root, as `npm start`
 * does: the embedded DT ledger shares the gateway's database, the demo exchange is the Kazakhstan Stock
 * Exchange's DT account, and a mint goes through end to end.
 */
describe("stablecoin on the embedded stack", () => {
  let testDb: TestDatabase;
  let embedded: EmbeddedStack;
  let composed: ComposedGateway;
  let stablecoin: StablecoinComponent;
  let app: Awaited<ReturnType<typeof buildGatewayApp>>;
  let exchangeApiKey: string;
  const dataDir = mkdtempSync(join(tmpdir(), "tg-embedded-stablecoin-"));

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const db = testDb.db;
    await migrate(db, gatewayMigrations());
    // As `npm start` runs it: the chain makes blocks on its own (EMBEDDED_CHAIN_BLOCK_INTERVAL_MS), here every 200 ms.
    embedded = await startEmbeddedStack({ db, directory: join(dataDir, "embedded"), chainHost: "127.0.0.1", chainPort: 0, chainBlockIntervalMs: 200, dtLedgerHost: "127.0.0.1", dtLedgerPort: 0 });
    const logger = createLogger("warn");
    const metrics = createMetricsRegistry();
    const environment = loadStablecoinEnvironment({ STABLECOIN_POLL_MS: "50" });
    // The same composition root as `npm start`, on the embedded stack's ports.
    composed = await composeGateway({
      db,
      logger,
      metrics,
      ports: embedded.ports,
      settings: { dtLedger: undefined, stablecoinChains: [], pvp: undefined, stablecoin: environment },
      attestationKey: attestationKey(environment, dataDir),
      pvpSecretKey: undefined,
      publicUrl: "http://127.0.0.1",
    });
    stablecoin = composed.stablecoin!;
    const demo = await ensureDemoExchange(stablecoin.exchanges, {
      dtAccount: embedded.demo.accounts.kase.id,
      evmAddress: privateKeyToAddress(embedded.chain.accounts[3] as Hex),
    });
    exchangeApiKey = demo.apiKey!;
    app = await buildGatewayApp({
      db,
      logger,
      metrics,
      migrationSets: gatewayMigrations(),
      bodyLimitBytes: 1024 * 1024,
      signatureMaxSkewSeconds: 300,
      readiness: [...embedded.readiness, ...stablecoin.readiness],
      features: [identityRoutes(new IdentityStore(db)), ...composed.features.flatMap((feature) => feature.routes)],
    });
    stablecoin.start();
  });
  afterAll(async () => {
    for (const feature of composed?.features ?? []) await feature.stop();
    await app?.close();
    await embedded?.stop();
    await testDb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("mints for the demo exchange's DT deposit and publishes a verifiable attestation", async () => {
    const created = await app.inject({ method: "POST", url: "/stablecoin/mints", headers: { authorization: `Bearer ${exchangeApiKey}` }, payload: { amount: "1000.00" } });
    expect(created.statusCode).toBe(201);
    const mint = created.json();
    // The exchange's bank pays from the exchange's DT account into the mint's account (the collateral intake).
    const halyk = inProcessDtLedger(embedded.dtLedger, embedded.demo.participants.halyk.id);
    await halyk.transfer({ idempotencyKey: "demo-deposit", from: embedded.demo.accounts.kase.id, to: mint.payment.toAccount, amount: 100_000n, reference: mint.reference });
    await eventually(async () => {
      const reply = await app.inject({ method: "GET", url: `/stablecoin/mints/${mint.id}`, headers: { authorization: `Bearer ${exchangeApiKey}` } });
      return reply.json().state === "minted" ? true : undefined;
    }, "the mint");
    const document = await eventually(async () => {
      const reply = await app.inject({ method: "GET", url: "/proof-of-collateral" });
      return reply.statusCode === 200 && reply.json().attestation.totalSupply === "100000" ? reply.json() : undefined;
    }, "the attestation");
    expect((await verifyAttestation(document, { rpcUrl: embedded.chain.rpcUrl })).verified).toBe(true);
    const ready = await app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(200);
  });

  it("pays a redemption once its confirmations pass, with no one sending transactions or mining by hand", async () => {
    const kase = embedded.demo.accounts.kase.id;
    const halyk = inProcessDtLedger(embedded.dtLedger, embedded.demo.participants.halyk.id);
    const before = (await halyk.balance(kase)).available;
    const transport = http(embedded.chain.rpcUrl);
    const client = createPublicClient({ chain: hardhat, transport });
    const holder = createWalletClient({ account: privateKeyToAccount(embedded.chain.accounts[3] as Hex), chain: hardhat, transport });
    const hash = await holder.writeContract({ address: embedded.deployment.contracts.TengeStablecoin.address, abi: tengeStablecoinAbi, functionName: "redeem", args: [40_000n, kase] });
    const receipt = await client.waitForTransactionReceipt({ hash });
    // The redemption needs 2 confirmations; only the chain's own blocks can give them here.
    const paid = await eventually(async () => {
      const reply = await app.inject({ method: "GET", url: "/stablecoin/redemptions", headers: { authorization: `Bearer ${exchangeApiKey}` } });
      if (reply.statusCode === 429) return undefined; // the exchange's rate limit, polled faster than it allows
      return (reply.json().items as Array<{ txHash: string; state: string }>).find((redemption) => redemption.txHash === hash && redemption.state === "paid");
    }, "the redemption's payout");
    expect(paid).toBeDefined();
    expect(await client.getBlockNumber()).toBeGreaterThan(receipt.blockNumber);
    expect((await halyk.balance(kase)).available).toBe(before + 40_000n);
  });
});
