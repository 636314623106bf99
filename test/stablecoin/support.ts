import { mkdtempSync, rmSync } from "node:fs";
import { Writable } from "node:stream";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWalletClient, http, type Address, type Hex } from "viem";
import { privateKeyToAccount, privateKeyToAddress } from "viem/accounts";
import { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { inProcessDtLedger } from "../../src/dt-ledger/in-process-adapter.ts";
import { dtLedgerMigrations } from "../../src/dt-ledger/schema.ts";
import { deployContracts } from "../../src/evm/deploy-contracts.ts";
import { startEmbeddedChain, type EmbeddedChain } from "../../src/evm/embedded-chain.ts";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import type { DtLedgerPort } from "../../src/ledger/dt-ledger-port.ts";
import type { Database } from "../../src/persistence/database.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { identityRoutes } from "../../src/identity/routes.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { buildGatewayApp } from "../../src/server/app.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import { createStablecoinComponent, type StablecoinComponent, type StablecoinSettings } from "../../src/stablecoin/component.ts";
import { openCollateralIntake } from "../../src/stablecoin/collateral-intake.ts";
import { DepositFollower } from "../../src/stablecoin/deposit-follower.ts";
import { ExchangeStore, type Exchange } from "../../src/stablecoin/exchanges.ts";
import { MintWorker, type MintSettings } from "../../src/stablecoin/mint-flow.ts";
import { RedeemWorker, type RedeemSettings } from "../../src/stablecoin/redeem-flow.ts";
import { SimulatedCrash, type FaultPoint, type Faults } from "../../src/stablecoin/stablecoin-ledger.ts";
import { TokenChain } from "../../src/stablecoin/token-chain.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

export const NBK = "NBRKKZKX";
export const BANK = "HSBKKZKX";
export const GATEWAY = "TENGEGW";

/**
 * Everything a stablecoin integration test needs, all real: a fresh database (PostgreSQL with
 * DATABASE_URL, PGlite otherwise) holding the embedded DT ledger and the gateway's tables, an in-process
 * EVM chain (EDR) with the token deployed, one onboarded exchange with DT on its account.
 */
export interface StablecoinWorld {
  testDb: TestDatabase;
  db: Database;
  dtLedger: DtLedger;
  /** The gateway's view of the DT ledger (operates the segregated wallet). */
  gatewayLedger: DtLedgerPort;
  /** The exchange's bank's view (pays from the exchange's account). */
  bankLedger: DtLedgerPort;
  chain: EmbeddedChain;
  tokenChain: TokenChain;
  token: Address;
  operatorKey: Hex;
  minterKey: Hex;
  holderKey: Hex;
  segregatedAccount: string;
  /** The collateral intake mint deposits are paid into (the component opens the same account). */
  intakeAccount: string;
  exchanges: ExchangeStore;
  exchange: Exchange;
  exchangeApiKey: string;
  mintSettings: MintSettings;
  redeemSettings: RedeemSettings;
  /** The exchange pays DT into the collateral intake with a reference. */
  deposit(reference: string, amount: bigint, from?: string): Promise<void>;
  /** The exchange burns on chain, naming a DT account; returns the transaction hash. */
  redeem(amount: bigint, dtAccount?: string, holderKey?: Hex): Promise<Hex>;
  follower(faults?: Faults, db?: Database): DepositFollower;
  mintWorker(faults?: Faults, db?: Database): MintWorker;
  redeemWorker(faults?: Faults, db?: Database): RedeemWorker;
  supply(): Promise<bigint>;
  collateral(): Promise<bigint>;
  dtBalance(account: string): Promise<bigint>;
  mineBlocks(count: number): Promise<void>;
  rpc<T>(method: string, params?: unknown[]): Promise<T>;
  close(): Promise<void>;
}

export async function createStablecoinWorld(
  options: { confirmations?: number; redeemConfirmations?: number; exchangeFunds?: bigint; requireIssuanceAllotments?: boolean } = {},
): Promise<StablecoinWorld> {
  const testDb = await createTestDatabase();
  const db = testDb.db;
  // As in the embedded stack, the DT ledger lives in the gateway's own database (on PGlite: one connection,
  // so the flows must never call the ledger inside a database transaction).
  await migrate(db, [dtLedgerMigrations, ...gatewayMigrations()]);
  const chain = await startEmbeddedChain();
  const [operatorKey, minterKey, holderKey] = chain.accounts as [Hex, Hex, Hex];
  const dtLedger = new DtLedger({ db, operatorKey });
  await dtLedger.registerParticipant({ id: NBK, name: "National Bank of Kazakhstan", role: "central_bank" });
  await dtLedger.registerParticipant({ id: BANK, name: "Halyk Bank", role: "bank" });
  await dtLedger.registerParticipant({ id: GATEWAY, name: "Tenge Gateway", role: "gateway" });
  const gatewayLedger = inProcessDtLedger(dtLedger, GATEWAY);
  const bankLedger = inProcessDtLedger(dtLedger, BANK);
  const wallet = await gatewayLedger.openAccount({ idempotencyKey: "open-segregated", kind: "segregated_wallet", holderName: "Tenge Gateway collateral" });
  const intake = await openCollateralIntake(gatewayLedger, wallet.id);
  const exchangeAccount = await bankLedger.openAccount({ idempotencyKey: "open-exchange", kind: "exchange", holderName: "Demo Exchange" });
  await dtLedger.issue(NBK, { idempotencyKey: "fund-exchange", accountId: exchangeAccount.id, amount: options.exchangeFunds ?? 100_000_000n, reference: "funding" });

  const deploymentsDir = mkdtempSync(join(tmpdir(), "tg-deployments-"));
  const { deployment } = await deployContracts({
    rpcUrl: chain.rpcUrl,
    deployerKey: operatorKey,
    collateralSigner: privateKeyToAddress(operatorKey),
    segregatedAccount: wallet.id,
    maxStatementAge: 3600n,
    minters: [{ address: privateKeyToAddress(minterKey), allowance: 10n ** 30n }],
    deploymentsDir,
    ...(options.requireIssuanceAllotments ? { requireIssuanceAllotments: true } : {}),
  });
  rmSync(deploymentsDir, { recursive: true, force: true });
  const token = deployment.contracts.TengeStablecoin.address;
  const tokenChain = await TokenChain.connect({ rpcUrl: chain.rpcUrl, token, minterKey, pollingIntervalMs: 50 });
  const exchanges = new ExchangeStore(db);
  const onboarded = await exchanges.onboard({
    name: "Demo Exchange",
    dtAccount: exchangeAccount.id,
    evmAddresses: [privateKeyToAddress(holderKey)],
    perMintLimit: 10_000_000n,
    dailyLimit: 50_000_000n,
  });
  const mintSettings: MintSettings = {
    segregatedAccount: wallet.id,
    intakeAccount: intake,
    confirmations: options.confirmations ?? 1,
    stuckAfterMs: 60_000,
    recheckMs: 0,
    maxAttempts: 5,
  };
  const redeemSettings: RedeemSettings = {
    segregatedAccount: wallet.id,
    confirmations: options.redeemConfirmations ?? 2,
    reorgWindow: 16,
    startBlock: 0n,
    maxBlockRange: 1000n,
    retryMs: 0,
    // A restarted worker may repeat a claimed payout at once (the ledger's idempotency makes it safe).
    payLeaseMs: 0,
  };
  const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const response = await fetch(chain.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await response.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(body.error.message);
    return body.result as T;
  };
  const holderWallet = (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), transport: http(chain.rpcUrl), chain: tokenChain.client.chain! });
  return {
    testDb,
    db,
    dtLedger,
    gatewayLedger,
    bankLedger,
    chain,
    tokenChain,
    token,
    operatorKey,
    minterKey,
    holderKey,
    segregatedAccount: wallet.id,
    intakeAccount: intake,
    exchanges,
    exchange: onboarded.exchange,
    exchangeApiKey: onboarded.apiKey,
    mintSettings,
    redeemSettings,
    async deposit(reference, amount, from = exchangeAccount.id) {
      await bankLedger.transfer({ idempotencyKey: `deposit-${reference}-${amount}-${Math.random()}`, from, to: intake, amount, reference });
    },
    async redeem(amount, dtAccount = exchangeAccount.id, key = holderKey) {
      const hash = await holderWallet(key).writeContract({ address: token, abi: tengeStablecoinAbi, functionName: "redeem", args: [amount, dtAccount] });
      await tokenChain.client.waitForTransactionReceipt({ hash });
      return hash;
    },
    follower: (faults, other = db) => new DepositFollower({ db: other, ledger: gatewayLedger, intakeAccount: intake, waitMs: 0, ...(faults ? { faults } : {}) }),
    mintWorker: (faults, other = db) => new MintWorker({ db: other, ledger: gatewayLedger, chain: tokenChain, settings: mintSettings, ...(faults ? { faults } : {}) }),
    redeemWorker: (faults, other = db) => new RedeemWorker({ db: other, ledger: gatewayLedger, chain: tokenChain, settings: redeemSettings, ...(faults ? { faults } : {}) }),
    supply: () => tokenChain.totalSupply(),
    collateral: async () => (await gatewayLedger.balance(wallet.id)).available,
    dtBalance: async (account) => (await dtLedger.balance(BANK, account).catch(() => dtLedger.balance(GATEWAY, account))).available,
    async mineBlocks(count) {
      for (let i = 0; i < count; i++) await rpc("evm_mine");
    },
    rpc,
    async close() {
      await chain.close();
      await testDb.drop();
    },
  };
}

/** Another chain of the world's pool: its own EDR chain id, the token deployed with the same signer, wallet and minter. */
export interface ExtraChain {
  chain: EmbeddedChain;
  token: Address;
  tokenChain: TokenChain;
  close(): Promise<void>;
}

export async function addChain(world: StablecoinWorld, options: { chainId: number; requireIssuanceAllotments?: boolean }): Promise<ExtraChain> {
  const chain = await startEmbeddedChain({ chainId: options.chainId });
  const deploymentsDir = mkdtempSync(join(tmpdir(), "tg-deployments-"));
  try {
    const { deployment } = await deployContracts({
      rpcUrl: chain.rpcUrl,
      deployerKey: world.operatorKey,
      collateralSigner: privateKeyToAddress(world.operatorKey),
      segregatedAccount: world.segregatedAccount,
      maxStatementAge: 3600n,
      minters: [{ address: privateKeyToAddress(world.minterKey), allowance: 10n ** 30n }],
      deploymentsDir,
      ...(options.requireIssuanceAllotments === false ? {} : { requireIssuanceAllotments: true }),
    });
    const token = deployment.contracts.TengeStablecoin.address;
    const tokenChain = await TokenChain.connect({ rpcUrl: chain.rpcUrl, token, minterKey: world.minterKey, pollingIntervalMs: 50 });
    return { chain, token, tokenChain, close: () => chain.close() };
  } catch (error) {
    await chain.close();
    throw error;
  } finally {
    rmSync(deploymentsDir, { recursive: true, force: true });
  }
}

/** A faults hook that crashes once at `point` and then lets everything through. */
export function crashOnceAt(point: FaultPoint): Faults & { fired: boolean } {
  const hook = ((at: FaultPoint) => {
    if (at === point && !hook.fired) {
      hook.fired = true;
      throw new SimulatedCrash(`simulated crash at ${point}`);
    }
  }) as Faults & { fired: boolean };
  hook.fired = false;
  return hook;
}

/** Runs `work` and swallows exactly a simulated crash (a dead process's work simply stops). */
export async function surviving(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof SimulatedCrash)) throw error;
  }
}

export interface GatewayUnderTest {
  app: FastifyInstance;
  component: StablecoinComponent;
  identity: IdentityStore;
  operatorKey: string;
  operatorPrincipalId: string;
  logLines: string[];
  metrics: Registry;
  close(): Promise<void>;
}

/** The gateway app with the stablecoin component on the world's database, its log captured. */
export async function startGatewayOn(
  world: StablecoinWorld,
  options: { db?: Database; settings?: Partial<StablecoinSettings>; start?: boolean; listen?: boolean; clock?: () => number; extraChains?: ExtraChain[] } = {},
): Promise<GatewayUnderTest> {
  const db = options.db ?? world.db;
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const logger = createLogger("info", sink);
  const metrics = createMetricsRegistry();
  const component = await createStablecoinComponent({
    db,
    ledger: world.gatewayLedger,
    logger,
    metrics,
    chains: [
      { rpcUrl: world.chain.rpcUrl, token: world.token, minterKey: world.minterKey },
      ...(options.extraChains ?? []).map((extra) => ({ rpcUrl: extra.chain.rpcUrl, token: extra.token, minterKey: world.minterKey })),
    ],
    segregatedAccount: world.segregatedAccount,
    attestationKey: ed25519.utils.randomSecretKey(),
    publicRpcUrl: world.chain.rpcUrl,
    settings: { pollMs: 50, attestationIntervalMs: 60_000, redeemConfirmations: world.redeemSettings.confirmations, ...options.settings },
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const identity = new IdentityStore(db);
  const app = await buildGatewayApp({
    db,
    logger,
    metrics,
    migrationSets: gatewayMigrations(),
    bodyLimitBytes: 1024 * 1024,
    signatureMaxSkewSeconds: 300,
    readiness: component.readiness,
    features: [identityRoutes(identity), ...component.routes],
  });
  if (options.listen) await app.listen({ host: "127.0.0.1", port: 0 });
  const operatorId = await identity.createPrincipal("operator", "Test operator");
  const { apiKey } = await identity.issueApiKey(operatorId);
  if (options.start !== false) component.start();
  return {
    app,
    component,
    identity,
    operatorKey: apiKey,
    operatorPrincipalId: operatorId,
    logLines,
    metrics,
    async close() {
      await component.stop();
      await app.close();
    },
  };
}

/** Polls `probe` until it returns a value (not undefined), for flows driven by background workers. */
export async function eventually<T>(probe: () => Promise<T>, what: string, timeoutMs = 20_000): Promise<Exclude<T, undefined>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value as Exclude<T, undefined>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
