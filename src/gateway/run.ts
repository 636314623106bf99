import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { ConfigError, type GatewayConfig } from "../config/config.ts";
import { identityRoutes } from "../identity/routes.ts";
import { IdentityStore } from "../identity/store.ts";
import { iso20022Routes } from "../iso20022/routes.ts";
import type { Database } from "../persistence/database.ts";
import { DataDirectoryInUseError, lockDirectory } from "../persistence/pglite.ts";
import { buildGatewayApp, type FeatureRoutes } from "../server/app.ts";
import type { ReadinessCheck } from "../server/health.ts";
import { createLogger, type Logger } from "../server/logger.ts";
import { createMetricsRegistry } from "../server/metrics.ts";
import { startEmbeddedPvp } from "../pvp/embedded.ts";
import { createStablecoinComponent } from "../stablecoin/component.ts";
import { ensureDemoExchange } from "../stablecoin/exchanges.ts";
import { requestMint } from "../stablecoin/mint-flow.ts";
import { attestationKey, loadStablecoinEnvironment } from "../stablecoin/stablecoin-config.ts";
import { gatewayMigrations } from "./components.ts";
import { openGatewayDatabase } from "./database.ts";
import { startEmbeddedStack, type EmbeddedStack } from "./embedded.ts";

export interface RunningGateway {
  app: FastifyInstance;
  db: Database;
  /** The embedded DT ledger, chain and demo parties, when EMBEDDED is on. */
  embedded: EmbeddedStack | undefined;
  logger: Logger;
  /** Base URL the server listens on. */
  url: string;
  /** Links worth printing at start. */
  links: Record<string, string>;
  /** Stops accepting requests, lets in-flight ones finish, stops workers, closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Environment of the feature settings (stablecoin, PvP); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

const DEMO_MINT_TIYN = 100_000_000n;

/** What a feature adds to the running gateway: routes, readiness checks, background workers. */
interface Feature {
  routes: FeatureRoutes[];
  readiness: ReadinessCheck[];
  start(): void;
  stop(): Promise<void>;
}

/** Starts the whole gateway from its configuration: database, embedded parts, features, HTTP server. */
export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger(config.logLevel);
  if (config.embedded) resetEmbeddedState(config.dataDir);
  const db = await openGatewayDatabase(config);
  const stops: Array<() => Promise<void>> = [];
  try {
    const identity = new IdentityStore(db);
    const metrics = createMetricsRegistry();
    const links: Record<string, string> = {};
    const features: Feature[] = [];
    const baseUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
    let embedded: EmbeddedStack | undefined;
    let demoMint: (() => Promise<void>) | undefined;
    if (config.embedded) {
      embedded = await startEmbeddedStack({
        db,
        directory: join(config.dataDir, "embedded"),
        chainHost: config.embeddedChainHost,
        chainPort: config.embeddedChainPort,
        chainBlockIntervalMs: config.embeddedChainBlockIntervalMs,
      });
      stops.push(() => embedded!.stop());
      const credentials: Record<string, unknown> = { operator: await createDemoOperator(identity) };

      const environment = loadStablecoinEnvironment(env);
      const stablecoin = await createStablecoinComponent({
        db,
        logger,
        metrics,
        ledger: embedded.gatewayLedger,
        chain: {
          rpcUrl: embedded.chain.rpcUrl,
          token: embedded.deployment.contracts.TengeStablecoin.address,
          minterKey: environment.minterKey ?? embedded.keys.minter,
          startBlock: embedded.deployment.contracts.TengeStablecoin.blockNumber,
        },
        segregatedAccount: embedded.deployment.stablecoin.segregatedAccount,
        attestationKey: attestationKey(environment, config.dataDir),
        publicRpcUrl: environment.publicRpcUrl ?? embedded.chain.rpcUrl,
        publicUrl: baseUrl,
        settings: environment.settings,
      });
      features.push(stablecoin);
      const exchangeKey = embedded.chain.accounts[3] as Hex;
      const demoExchange = await ensureDemoExchange(stablecoin.exchanges, {
        dtAccount: embedded.demo.accounts.kase.id,
        evmAddress: privateKeyToAddress(exchangeKey),
      });
      credentials["exchange"] = {
        id: demoExchange.exchange.id,
        apiKey: demoExchange.apiKey,
        dtAccount: embedded.demo.accounts.kase.id,
        evmPrivateKey: exchangeKey,
      };
      // The demo starts with one mint: the exchange asks, pays 1,000,000.00 DT into the segregated wallet,
      // and the gateway's workers mint it, so the collateral page has something to verify.
      demoMint = async () => {
        const mint = await requestMint(db, demoExchange.exchange, DEMO_MINT_TIYN);
        await embedded!.dtLedger.transfer(embedded!.demo.accounts.kase.participantId, {
          idempotencyKey: `demo:mint:${mint.id}`,
          from: embedded!.demo.accounts.kase.id,
          to: embedded!.demo.accounts.segregatedWallet.id,
          amount: DEMO_MINT_TIYN,
          reference: mint.reference,
        });
      };
      // PvP: the DT leg on the embedded DT ledger, the foreign leg an ERC-20 demo CBDC behind the HTLC contract.
      const pvp = await startEmbeddedPvp({
        db,
        dtLedger: embedded.gatewayLedger,
        rpcUrl: embedded.chain.rpcUrl,
        chainId: embedded.chain.chainId,
        hashTimeLock: embedded.deployment.contracts.HashTimeLock.address,
        foreignCbdc: embedded.deployment.contracts.DemoForeignCbdc!.address,
        issuerKey: embedded.keys.deployer,
        foreignPayerKey: embedded.keys.htlcOperator,
        logger,
      });
      features.push({ ...pvp.component, routes: [pvp.component.routes] });
      credentials["pvp"] = {
        foreignCbdc: embedded.deployment.contracts.DemoForeignCbdc!.address,
        foreignPayer: pvp.foreignPayer,
        foreignBeneficiary: privateKeyToAddress(embedded.chain.accounts[4] as Hex),
        dtPayer: embedded.demo.accounts.aigerim.id,
        dtBeneficiary: embedded.demo.accounts.coffeeShop.id,
      };
      credentials["dtLedger"] = { participants: embedded.demo.participants, accounts: embedded.demo.accounts };
      links["demo credentials"] = writeDemoCredentials(config.dataDir, credentials);
      Object.assign(links, embedded.links);
    }

    const app = await buildGatewayApp({
      db,
      logger,
      metrics,
      migrationSets: gatewayMigrations(),
      bodyLimitBytes: config.bodyLimitBytes,
      signatureMaxSkewSeconds: config.signatureMaxSkewSeconds,
      readiness: [...(embedded?.readiness ?? []), ...features.flatMap((feature) => feature.readiness)],
      features: [identityRoutes(identity), iso20022Routes, ...features.flatMap((feature) => feature.routes)],
    });
    const address = await app.listen({ host: config.host, port: config.port });
    const url = config.publicUrl ?? address.replace("://[::1]", "://localhost");
    for (const feature of features) {
      feature.start();
      stops.push(() => feature.stop());
    }
    if (embedded && demoMint) await demoMint();
    Object.assign(links, {
      ...(features.length > 0 ? { "collateral page": `${url}/collateral` } : {}),
      health: `${url}/healthz`,
      readiness: `${url}/readyz`,
      "API docs": `${url}/docs`,
      OpenAPI: `${url}/docs/json`,
      metrics: `${url}/metrics`,
    });
    let closing: Promise<void> | undefined;
    return {
      app,
      db,
      embedded,
      logger,
      url,
      links,
      close() {
        closing ??= (async () => {
          await app.close();
          for (const stop of stops.reverse()) await stop();
          await db.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await db.close();
    throw error;
  }
}

/**
 * The embedded chain lives in memory, so the embedded demo state (DT ledger, gateway records) starts fresh
 * at every start to stay consistent with it. Refused while another process runs on the same directory.
 */
function resetEmbeddedState(dataDir: string): void {
  const directory = join(dataDir, "embedded");
  let unlock: () => void;
  try {
    unlock = lockDirectory(join(directory, "pglite"));
  } catch (error) {
    if (error instanceof DataDirectoryInUseError) throw new ConfigError("DATA_DIR", `is in use (DATA_DIR_IN_USE): ${error.message}`);
    throw error;
  }
  unlock();
  rmSync(directory, { recursive: true, force: true });
}

/** The embedded stack gets one operator so a newcomer can use the operator API at once. */
async function createDemoOperator(identity: IdentityStore) {
  const id = await identity.createPrincipal("operator", "Demo operator", "demo-operator");
  const { apiKey, credentialId } = await identity.issueApiKey(id, "created by the embedded start");
  return { principal: id, credentialId, apiKey };
}

/** Demo secrets go to a file only the owner can read, never to the log. */
function writeDemoCredentials(dataDir: string, credentials: Record<string, unknown>): string {
  mkdirSync(dataDir, { recursive: true });
  const file = resolve(join(dataDir, "demo-credentials.json"));
  const text = JSON.stringify(credentials, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value), 2);
  writeFileSync(file, `${text}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}
