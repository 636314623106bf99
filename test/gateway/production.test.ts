import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { createPublicClient, http, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { seedDemoLedger, type DemoLedger } from "../../src/dt-ledger/demo.ts";
import { buildDtLedgerApp } from "../../src/dt-ledger/http/service.ts";
import { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { dtLedgerMigrations } from "../../src/dt-ledger/schema.ts";
import { deployContracts } from "../../src/evm/deploy-contracts.ts";
import { startEmbeddedChain, type EmbeddedChain } from "../../src/evm/embedded-chain.ts";
import { demoForeignCbdcAbi, tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { embeddedForeignLeg } from "../../src/gateway/embedded.ts";
import { startGateway, type RunningGateway } from "../../src/gateway/run.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

/**
 * A production deployment as docs/deploy.md describes it: the gateway started from settings alone, with
 * the DT platform served over HTTP on its own database, a JSON-RPC chain carrying the stablecoin and the
 * foreign CBDC's HTLC, and the gateway's own database (PostgreSQL with DATABASE_URL, else PGlite files).
 */
describe("a production gateway built from settings: external DT ledger over HTTP, JSON-RPC chain, every feature", () => {
  const dir = mkdtempSync(join(tmpdir(), "tg-production-"));
  let ledgerDb: TestDatabase;
  let gatewayDb: TestDatabase;
  let ledgerApp: FastifyInstance;
  let chain: EmbeddedChain;
  let demo: DemoLedger;
  let ledger: DtLedger;
  let gateway: RunningGateway;
  let foreignPayer: Address;
  let foreignCbdc: Address;
  /** The foreign ledgers file and payer key the NBK gateway uses: a foreign central bank's gateway answers on the same ledger. */
  let foreignLedger: { file: string; payerKey: Hex };
  let token: Address;
  let operatorKey: string;
  let bankKey: string;
  const beneficiary = privateKeyToAddress(generatePrivateKey());

  beforeAll(async () => {
    // The DT platform: its own database and HTTP service, the gateway a registered participant.
    ledgerDb = await createTestDatabase();
    await migrate(ledgerDb.db, [dtLedgerMigrations]);
    const operatorKeyHex = generatePrivateKey();
    ledger = new DtLedger({ db: ledgerDb.db, operatorKey: operatorKeyHex });
    demo = await seedDemoLedger(ledger);
    ledgerApp = await buildDtLedgerApp({ ledger, maxSkewSeconds: 60 });
    await ledgerApp.listen({ host: "127.0.0.1", port: 0 });
    const ledgerUrl = `http://127.0.0.1:${(ledgerApp.server.address() as AddressInfo).port}`;

    // The chain, with the contracts deployed as `tenge-gateway contracts deploy` does.
    chain = await startEmbeddedChain({ port: 0 });
    const [deployer, minter, payer] = chain.accounts as [Hex, Hex, Hex];
    const deploymentsDir = join(dir, "deployments");
    const { deployment } = await deployContracts({
      rpcUrl: chain.rpcUrl,
      deployerKey: deployer,
      collateralSigner: privateKeyToAddress(operatorKeyHex),
      segregatedAccount: demo.accounts.segregatedWallet.id,
      maxStatementAge: 3600n,
      minters: [{ address: privateKeyToAddress(minter), allowance: 10n ** 15n }],
      demoForeignCbdc: { name: "Demo Dirham", symbol: "dAED", decimals: 2 },
      deploymentsDir,
    });
    token = deployment.contracts.TengeStablecoin.address;
    foreignCbdc = deployment.contracts.DemoForeignCbdc!.address;
    // Funds the foreign bank's payer with demo dirhams.
    foreignPayer = (await embeddedForeignLeg({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, hashTimeLock: deployment.contracts.HashTimeLock.address, foreignCbdc, issuerKey: deployer, foreignPayerKey: payer })).foreignPayer;

    const minterFile = join(dir, "minter-key");
    writeFileSync(minterFile, minter);
    chmodSync(minterFile, 0o600);
    const ledgersFile = join(dir, "foreign-ledgers.json");
    writeFileSync(
      ledgersFile,
      JSON.stringify({
        "evm:fcb": {
          rpcUrl: chain.rpcUrl,
          chainId: chain.chainId,
          deploymentsFile: join(deploymentsDir, `${chain.chainId}.json`),
          tokens: { AED: { address: foreignCbdc, decimals: 2 } },
          payerKeys: [{ env: "FCB_PAYER_KEY" }],
        },
      }),
    );

    foreignLedger = { file: ledgersFile, payerKey: payer };
    gatewayDb = await createTestDatabase();
    const env: NodeJS.ProcessEnv = {
      ...(gatewayDb.url ? { DATABASE_URL: gatewayDb.url } : { DATA_DIR: join(dir, "gateway"), EMBEDDED: "false" }),
      PORT: "0",
      LOG_LEVEL: "silent",
      DT_LEDGER_URL: ledgerUrl,
      DT_LEDGER_PARTICIPANT: demo.participants.gateway.id,
      DT_LEDGER_SIGNING_KEY: demo.participants.gateway.signingSeed,
      STABLECOIN_DEPLOYMENTS_FILE: join(deploymentsDir, `${chain.chainId}.json`),
      STABLECOIN_RPC_URL: chain.rpcUrl,
      STABLECOIN_MINTER_KEY_FILE: minterFile,
      STABLECOIN_POLL_MS: "50",
      COLLATERAL_ATTESTATION_KEY: "ab".repeat(32),
      PVP_AGENT_BIC: "NBRKKZKX",
      PVP_SECRET_KEY: "cd".repeat(32),
      PVP_SIGNING_KEY: "ef".repeat(32),
      PVP_SIGNING_KEY_ID: "NBRKKZKX-1",
      PVP_FOREIGN_LEDGERS_FILE: ledgersFile,
      PVP_POLL_INTERVAL_MS: "100",
      FCB_PAYER_KEY: payer,
    };
    if (gatewayDb.url) await gatewayDb.db.close();
    gateway = await startGateway(loadConfig(env), { env });
    const identity = new IdentityStore(gateway.db);
    operatorKey = (await identity.issueApiKey(await identity.createPrincipal("operator", "Ops"))).apiKey;
    // Halyk Bank pays from its own customers' DAs; the foreign accounts are registered for each side.
    bankKey = (await identity.issueApiKey(await identity.createPrincipal("bank", "Halyk Bank", "halyk", { bic: "HSBKKZKX", dtParticipant: "HSBKKZKX" }))).apiKey;
    await identity.registerLedgerAccount("FCBKAEAD", "evm:fcb", foreignPayer);
    await identity.registerLedgerAccount("HSBKKZKX", "evm:fcb", beneficiary);
  }, 180_000);

  afterAll(async () => {
    await gateway?.close();
    await ledgerApp?.close();
    await chain?.close();
    await gatewayDb?.drop().catch(() => {});
    await ledgerDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async (key: string | undefined, path: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(`${gateway.url}${path}`, {
      method: init.method ?? "GET",
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };

  const eventually = async <T>(read: () => Promise<T>, done: (value: T) => boolean, attempts = 300): Promise<T> => {
    let value = await read();
    for (let attempt = 0; attempt < attempts && !done(value); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      value = await read();
    }
    return value;
  };

  it("says at start and in /readyz which features are on and names each external system", async () => {
    expect(gateway.features.map((feature) => [feature.name, feature.on])).toEqual([
      ["dt-ledger", true],
      ["stablecoin", true],
      ["proof-of-collateral", true],
      ["pvp", true],
      ["dvp", false],
    ]);
    expect(gateway.features.find((feature) => feature.name === "pvp")!.detail).toContain("evm:fcb");
    expect(gateway.features.find((feature) => feature.name === "dvp")!.detail).toBe("no securities ledger (DVP_SECURITIES_FILE unset)");
    expect(gateway.embedded).toBeUndefined();
    const ready = await eventually(() => api(undefined, "/readyz"), (response) => response.status === 200);
    expect(ready.status).toBe(200);
    const body = ready.json() as { features: Array<{ name: string; on: boolean }>; checks: Array<{ name: string; ok: boolean }> };
    expect(body.features.filter((feature) => feature.on).map((feature) => feature.name)).toEqual(["dt-ledger", "stablecoin", "proof-of-collateral", "pvp"]);
    const checks = body.checks.map((check) => check.name);
    expect(checks).toEqual(expect.arrayContaining([expect.stringMatching(/^dt-ledger \(http:\/\/127\.0\.0\.1:\d+\)$/), `stablecoin chain (${chain.chainId})`, `pvp ledger evm:fcb (${chain.chainId})`]));
    // No secret of the settings is shown anywhere.
    for (const secret of ["ab".repeat(32), "cd".repeat(32), "ef".repeat(32), demo.participants.gateway.signingSeed]) expect(ready.text).not.toContain(secret);
  });

  it("starts a foreign central bank's gateway without a DT ledger, answering PvPs on its own ledger", async () => {
    const foreignDb = await createTestDatabase();
    const env: NodeJS.ProcessEnv = {
      ...(foreignDb.url ? { DATABASE_URL: foreignDb.url } : { DATA_DIR: join(dir, "foreign-gateway"), EMBEDDED: "false" }),
      PORT: "0",
      LOG_LEVEL: "silent",
      PVP_AGENT_BIC: "FCBKAEAD",
      PVP_RESPONDER_LEDGER: "evm:fcb",
      PVP_HOME_CURRENCY: "AED",
      PVP_SECRET_KEY: "12".repeat(32),
      PVP_SIGNING_KEY: "34".repeat(32),
      PVP_SIGNING_KEY_ID: "FCBKAEAD-1",
      PVP_FOREIGN_LEDGERS_FILE: foreignLedger.file,
      FCB_PAYER_KEY: foreignLedger.payerKey,
    };
    if (foreignDb.url) await foreignDb.db.close();
    const foreign = await startGateway(loadConfig(env), { env });
    try {
      expect(foreign.features.map((feature) => [feature.name, feature.on])).toEqual([["dt-ledger", false], ["stablecoin", false], ["proof-of-collateral", false], ["pvp", true], ["dvp", false]]);
      expect(foreign.features.find((feature) => feature.name === "pvp")!.detail).toContain("responder only on evm:fcb (no DT ledger)");
      const ready = await fetch(`${foreign.url}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      await foreign.close();
      await foreignDb.drop().catch(() => {});
    }
  });

  it("settles a PvP: the DT leg held on the external DT ledger, the foreign leg on the evm:fcb HTLC", async () => {
    const payerBefore = (await ledger.balance(demo.participants.nbk.id, demo.accounts.aigerim.id)).available;
    // The gateway locks FCBKAEAD's AED with a key it holds, so only on FCBKAEAD's standing terms: the operator sets
    // the reference rate and the corridor's terms (limits, band, its DT settlement account) through the API.
    const directory = await api(operatorKey, "/operator/correspondents", { method: "POST", body: { bic: "FCBKAEAD", name: "Foreign central bank", baseUrl: "https://fcb.example" } });
    expect(directory.status, directory.text).toBe(201);
    const rate = await api(operatorKey, "/operator/reference-rates/AED", { method: "PUT", body: { rate: "12.50" } });
    expect(rate.status, rate.text).toBe(200);
    const terms = await api(operatorKey, "/operator/correspondents/FCBKAEAD/terms/evm:fcb/AED", {
      method: "PUT",
      body: { maxAmount: "1000.00", dailyLimit: "10000.00", rateBandBps: 100, dtBeneficiaries: [demo.accounts.coffeeShop.id] },
    });
    expect(terms.status, terms.text).toBe(200);
    const created = await api(bankKey, "/pvp", {
      method: "POST",
      body: {
        counterpartyAgent: "FCBKAEAD",
        dtLeg: { payer: demo.accounts.aigerim.id, beneficiary: demo.accounts.coffeeShop.id, amount: "1500.00", currency: "KZT" },
        foreignLeg: { ledger: "evm:fcb", payer: foreignPayer, beneficiary, amount: "120.00", currency: "AED" },
      },
    });
    expect(created.status, created.text).toBe(201);
    const id = String(created.json()["id"]);
    const done = await eventually(() => api(bankKey, `/pvp/${id}`), (response) => ["SETTLED", "REFUNDED", "REJECTED"].includes(String(response.json()["state"])));
    expect(done.json()["state"]).toBe("SETTLED");
    const client = createPublicClient({ transport: http(chain.rpcUrl) });
    expect(await client.readContract({ address: foreignCbdc, abi: demoForeignCbdcAbi, functionName: "balanceOf", args: [beneficiary] })).toBe(12_000n);
    expect((await ledger.balance(demo.participants.nbk.id, demo.accounts.aigerim.id)).available).toBe(payerBefore - 150_000n);
    expect((await api(bankKey, "/pvp")).status).toBe(200);
  });

  it("mints against the external DT ledger: an exchange pays into the mint's account (the collateral intake) and the gateway mints on the chain", async () => {
    const exchangeAddress = privateKeyToAddress(generatePrivateKey());
    const onboarded = await api(operatorKey, "/stablecoin/exchanges", {
      method: "POST",
      body: { name: "KASE", dtAccount: demo.accounts.kase.id, evmAddresses: [exchangeAddress], perMintLimit: "1000000.00", dailyLimit: "5000000.00" },
    });
    expect(onboarded.status, onboarded.text).toBe(201);
    const exchangeKey = String((onboarded.json()["credentials"] as Record<string, string>)["apiKey"]);
    const mint = await api(exchangeKey, "/stablecoin/mints", { method: "POST", body: { amount: "2500.00" } });
    expect(mint.status, mint.text).toBe(201);
    await ledger.transfer(demo.accounts.kase.participantId, {
      idempotencyKey: "test:mint-1",
      from: demo.accounts.kase.id,
      to: String((mint.json()["payment"] as Record<string, string>)["toAccount"]),
      amount: 250_000n,
      reference: String(mint.json()["reference"]),
    });
    const client = createPublicClient({ transport: http(chain.rpcUrl) });
    const balance = await eventually(() => client.readContract({ address: token, abi: tengeStablecoinAbi, functionName: "balanceOf", args: [exchangeAddress] }), (value) => value === 250_000n);
    expect(balance).toBe(250_000n);
  });

  it("exposes the figures the alert rules of docs/deploy.md use", async () => {
    const metrics = (await api(undefined, "/metrics")).text;
    for (const line of [
      'tenge_gateway_feature_enabled{feature="pvp"} 1',
      'tenge_gateway_feature_enabled{feature="stablecoin"} 1',
      "tenge_gateway_pvp_past_expiry 0",
      "tenge_gateway_pvp_outbox_pending 0",
      "tenge_gateway_pvp_outbox_oldest_seconds 0",
      'tenge_gateway_collateral_alert{code="UNDER_COLLATERALISED"} 0',
    ]) {
      expect(metrics).toContain(line);
    }
    expect(metrics).toMatch(/^tenge_gateway_collateral_attestation_timestamp_seconds \d+/m);
  });

  it("serves the proof of collateral and the public page", async () => {
    const proof = await eventually(() => api(undefined, "/proof-of-collateral"), (response) => response.status === 200 && JSON.parse(response.text).attestation.totalSupply === "250000");
    expect(proof.status).toBe(200);
    const attestation = (proof.json()["attestation"] as { collateral: { balance: string }; totalSupply: string });
    expect(BigInt(attestation.collateral.balance)).toBeGreaterThanOrEqual(BigInt(attestation.totalSupply));
    const page = await api(undefined, "/collateral");
    expect(page.status).toBe(200);
    expect(page.text).toContain("<html");
  });
});
