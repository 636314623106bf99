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
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { startGateway, type RunningGateway } from "../../src/gateway/run.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

/**
 * `tenge-gateway start` with STABLECOIN_CHAINS, as docs/deploy.md describes it: the DT platform over HTTP on
 * its own database, two JSON-RPC chains (chain ids 31337 and 31338) each carrying the token (allotments
 * required), a minter key file per chain, and the gateway's database (PostgreSQL with DATABASE_URL).
 */
describe("a production gateway on two stablecoin chains (STABLECOIN_CHAINS)", () => {
  const dir = mkdtempSync(join(tmpdir(), "tg-production-chains-"));
  let ledgerDb: TestDatabase;
  let gatewayDb: TestDatabase;
  let ledgerApp: FastifyInstance;
  const chains: EmbeddedChain[] = [];
  const tokens: Address[] = [];
  let demo: DemoLedger;
  let ledger: DtLedger;
  let gateway: RunningGateway;
  let operatorKey: string;

  beforeAll(async () => {
    ledgerDb = await createTestDatabase();
    await migrate(ledgerDb.db, [dtLedgerMigrations]);
    const operatorKeyHex = generatePrivateKey();
    ledger = new DtLedger({ db: ledgerDb.db, operatorKey: operatorKeyHex });
    demo = await seedDemoLedger(ledger);
    ledgerApp = await buildDtLedgerApp({ ledger, maxSkewSeconds: 60 });
    await ledgerApp.listen({ host: "127.0.0.1", port: 0 });
    const ledgerUrl = `http://127.0.0.1:${(ledgerApp.server.address() as AddressInfo).port}`;

    const entries: Array<Record<string, unknown>> = [];
    const keys: Record<string, string> = {};
    for (const chainId of [31337, 31338]) {
      const chain = await startEmbeddedChain({ port: 0, chainId, accountCount: 3 });
      chains.push(chain);
      const [deployer, minter] = chain.accounts as [Hex, Hex];
      const { deployment } = await deployContracts({
        rpcUrl: chain.rpcUrl,
        deployerKey: deployer,
        collateralSigner: privateKeyToAddress(operatorKeyHex),
        segregatedAccount: demo.accounts.segregatedWallet.id,
        maxStatementAge: 3600n,
        minters: [{ address: privateKeyToAddress(minter), allowance: 10n ** 15n }],
        requireIssuanceAllotments: true,
        deploymentsDir: join(dir, "deployments"),
      });
      const token = deployment.contracts.TengeStablecoin;
      tokens.push(token.address);
      entries.push({ chainId, rpcUrl: chain.rpcUrl, token: token.address, htlc: deployment.contracts.HashTimeLock.address, startBlock: Number(token.blockNumber), redeemConfirmations: 1 });
      const minterFile = join(dir, `minter-${chainId}.key`);
      writeFileSync(minterFile, minter);
      chmodSync(minterFile, 0o600);
      keys[`STABLECOIN_MINTER_KEY_${chainId}_FILE`] = minterFile;
    }

    gatewayDb = await createTestDatabase();
    const env: NodeJS.ProcessEnv = {
      ...(gatewayDb.url ? { DATABASE_URL: gatewayDb.url } : { DATA_DIR: join(dir, "gateway"), EMBEDDED: "false" }),
      PORT: "0",
      LOG_LEVEL: "silent",
      DT_LEDGER_URL: ledgerUrl,
      DT_LEDGER_PARTICIPANT: demo.participants.gateway.id,
      DT_LEDGER_SIGNING_KEY: demo.participants.gateway.signingSeed,
      STABLECOIN_CHAINS: JSON.stringify(entries),
      ...keys,
      STABLECOIN_POLL_MS: "50",
      COLLATERAL_ATTESTATION_KEY: "ab".repeat(32),
    };
    if (gatewayDb.url) await gatewayDb.db.close();
    gateway = await startGateway(loadConfig(env), { env });
    const identity = new IdentityStore(gateway.db);
    operatorKey = (await identity.issueApiKey(await identity.createPrincipal("operator", "Ops"))).apiKey;
  }, 180_000);

  afterAll(async () => {
    await gateway?.close();
    await ledgerApp?.close();
    for (const chain of chains) await chain.close();
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

  it("says at start and in /readyz that the stablecoin runs on both chains", async () => {
    const stablecoin = gateway.features.find((feature) => feature.name === "stablecoin")!;
    expect(stablecoin.on).toBe(true);
    expect(stablecoin.detail).toContain("chain 31337");
    expect(stablecoin.detail).toContain("chain 31338");
    const ready = await api(undefined, "/readyz");
    expect(ready.status, ready.text).toBe(200);
    const names = (ready.json()["checks"] as Array<{ name: string }>).map((check) => check.name);
    expect(names).toEqual(expect.arrayContaining(["stablecoin chain (31337)", "stablecoin chain (31338)", "stablecoin-chain (31337)", "stablecoin-chain (31338)"]));
  });

  it("mints on the second chain against the external DT ledger, within that chain's allotment", async () => {
    const exchangeAddress = privateKeyToAddress(generatePrivateKey());
    const onboarded = await api(operatorKey, "/stablecoin/exchanges", {
      method: "POST",
      body: { name: "KASE", dtAccount: demo.accounts.kase.id, evmAddresses: [exchangeAddress], perMintLimit: "1000000.00", dailyLimit: "5000000.00" },
    });
    expect(onboarded.status, onboarded.text).toBe(201);
    const exchangeKey = String((onboarded.json()["credentials"] as Record<string, string>)["apiKey"]);
    const refused = await api(exchangeKey, "/stablecoin/mints", { method: "POST", body: { amount: "1.00", chainId: 1 } });
    expect(refused.status).toBe(422);
    expect(refused.json()["code"]).toBe("UNKNOWN_CHAIN");
    const mint = await api(exchangeKey, "/stablecoin/mints", { method: "POST", body: { amount: "2500.00", chainId: 31338 } });
    expect(mint.status, mint.text).toBe(201);
    expect(mint.json()["chainId"]).toBe(31338);
    await ledger.transfer(demo.accounts.kase.participantId, {
      idempotencyKey: "test:mint-second-chain",
      from: demo.accounts.kase.id,
      to: String((mint.json()["payment"] as Record<string, string>)["toAccount"]),
      amount: 250_000n,
      reference: String(mint.json()["reference"]),
    });
    const client = createPublicClient({ transport: http(chains[1]!.rpcUrl) });
    let balance = 0n;
    for (let attempt = 0; attempt < 300 && balance !== 250_000n; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      balance = await client.readContract({ address: tokens[1]!, abi: tengeStablecoinAbi, functionName: "balanceOf", args: [exchangeAddress] });
    }
    expect(balance).toBe(250_000n);
    const [, issuanceLimit] = await client.readContract({ address: tokens[1]!, abi: tengeStablecoinAbi, functionName: "issuance" });
    expect(issuanceLimit).toBe(250_000n);
    const first = createPublicClient({ transport: http(chains[0]!.rpcUrl) });
    expect(await first.readContract({ address: tokens[0]!, abi: tengeStablecoinAbi, functionName: "totalSupply" })).toBe(0n);
  });
});
