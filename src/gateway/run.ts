import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { ConfigError, type GatewayConfig } from "../config/config.ts";
import { identityRoutes } from "../identity/routes.ts";
import { IdentityStore } from "../identity/store.ts";
import { iso20022Routes } from "../iso20022/routes.ts";
import type { Database } from "../persistence/database.ts";
import { ensurePrivateDirectory } from "../persistence/data-directory.ts";
import { DataDirectoryInUseError, lockDirectory } from "../persistence/pglite.ts";
import { buildGatewayApp } from "../server/app.ts";
import type { FeatureStatus } from "../server/health.ts";
import { createLogger, type Logger } from "../server/logger.ts";
import { createMetricsRegistry } from "../server/metrics.ts";
import { ensureDemoExchange } from "../stablecoin/exchanges.ts";
import { requestMint } from "../stablecoin/mint-flow.ts";
import { attestationKey } from "../stablecoin/stablecoin-config.ts";
import { gatewayMigrations } from "./components.ts";
import { openGatewayDatabase } from "./database.ts";
import { startEmbeddedStack, type EmbeddedStack } from "./embedded.ts";
import { composeGateway, type ComposedGateway } from "./features.ts";
import { connectPorts, type GatewayPorts } from "./ports.ts";
import { loadDeploymentSettings, type DeploymentSettings } from "./settings.ts";

export interface RunningGateway {
  app: FastifyInstance;
  db: Database;
  /** The embedded DT ledger, chain and demo parties, when EMBEDDED is on. */
  embedded: EmbeddedStack | undefined;
  /** The features as composed (components, directory of correspondents, which feature is on). */
  composed: ComposedGateway;
  logger: Logger;
  /** Base URL the server listens on. */
  url: string;
  /** Links worth printing at start. */
  links: Record<string, string>;
  /** One line per feature: on with what it runs on, or off and why. */
  features: FeatureStatus[];
  /** Stops accepting requests, lets in-flight ones finish, stops workers, closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Environment of the feature settings (stablecoin, PvP); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Feature settings already validated (the CLI checks them before anything starts). */
  settings?: DeploymentSettings;
}

const DEMO_MINT_TIYN = 100_000_000n;

/**
 * Starts the whole gateway from its configuration: settings checked first, then the database, the ports
 * (external systems, or the embedded stack), the features composed on them, and the HTTP server.
 */
export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const settings = options.settings ?? loadDeploymentSettings(config, options.env ?? process.env);
  const logger = options.logger ?? createLogger(config.logLevel);
  if (config.embedded) resetEmbeddedState(config.dataDir);
  ensurePrivateDirectory(config.dataDir);
  const db = await openGatewayDatabase(config);
  const stops: Array<() => Promise<void>> = [];
  try {
    const identity = new IdentityStore(db);
    const metrics = createMetricsRegistry();
    const links: Record<string, string> = {};
    const baseUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
    let embedded: EmbeddedStack | undefined;
    let ports: GatewayPorts;
    if (config.embedded) {
      embedded = await startEmbeddedStack({
        db,
        directory: join(config.dataDir, "embedded"),
        chainHost: config.embeddedChainHost,
        chainPort: config.embeddedChainPort,
        chainBlockIntervalMs: config.embeddedChainBlockIntervalMs,
      });
      stops.push(() => embedded!.stop());
      ports = embeddedPorts(embedded, settings);
    } else {
      ports = await connectPorts(settings, db, logger);
      stops.push(() => ports.stop());
    }
    const composed = await composeGateway({
      db,
      logger,
      metrics,
      ports,
      settings,
      // The embedded stack keeps its demo keys under DATA_DIR; a deployment must give them (checked in the settings).
      attestationKey: settings.stablecoin.attestationSecret ?? (config.embedded ? attestationKey(settings.stablecoin, config.dataDir) : undefined),
      pvpSecretKey: settings.pvp?.secretKey ?? (config.embedded ? embeddedPvpSecretKey(config.dataDir) : undefined),
      publicUrl: baseUrl,
    });
    const features = composed.features;
    stops.push(async () => {
      for (const feature of features) await feature.stop();
    });
    for (const feature of composed.status) {
      logger.info({ event: "feature", feature: feature.name, on: feature.on, detail: feature.detail }, `feature ${feature.name}: ${feature.on ? "on" : "off"} (${feature.detail})`);
    }
    const demoMint = embedded ? await seedEmbeddedDemo(db, embedded, composed, identity, config.dataDir, links) : undefined;

    const app = await buildGatewayApp({
      db,
      logger,
      metrics,
      migrationSets: gatewayMigrations(),
      bodyLimitBytes: config.bodyLimitBytes,
      signatureMaxSkewSeconds: config.signatureMaxSkewSeconds,
      // With a public URL, a request signed for another service that shares the signer's key is refused.
      ...(config.publicUrl ? { signatureAuthorities: [new URL(config.publicUrl).host] } : {}),
      readiness: [...ports.readiness, ...features.flatMap((feature) => feature.readiness)],
      features: [identityRoutes(identity), iso20022Routes, ...features.flatMap((feature) => feature.routes)],
      featureStatus: composed.status,
    });
    const address = await app.listen({ host: config.host, port: config.port });
    const url = config.publicUrl ?? address.replace("://[::1]", "://localhost");
    for (const feature of features) feature.start();
    if (demoMint) await demoMint();
    Object.assign(links, {
      ...(composed.stablecoin ? { "collateral page": `${url}/collateral` } : {}),
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
      composed,
      logger,
      url,
      links,
      features: composed.status,
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

/** The embedded stack's ports, with the stablecoin settings that still apply there (minter key, public RPC URL). */
function embeddedPorts(embedded: EmbeddedStack, settings: DeploymentSettings): GatewayPorts {
  const chain = embedded.ports.stablecoinChain!;
  return {
    ...embedded.ports,
    stablecoinChain: {
      ...chain,
      minterKey: settings.stablecoin.minterKey ?? chain.minterKey,
      publicRpcUrl: settings.stablecoin.publicRpcUrl ?? chain.publicRpcUrl,
    },
  };
}

/**
 * The demo parties of the embedded stack: an operator, an exchange with a first mint, the PvP demo
 * accounts, all written to DATA_DIR/demo-credentials.json. Returns the first mint, run once workers run.
 */
async function seedEmbeddedDemo(
  db: Database,
  embedded: EmbeddedStack,
  composed: ComposedGateway,
  identity: IdentityStore,
  dataDir: string,
  links: Record<string, string>,
): Promise<(() => Promise<void>) | undefined> {
  const credentials: Record<string, unknown> = { operator: await createDemoOperator(identity) };
  let demoMint: (() => Promise<void>) | undefined;
  const stablecoin = composed.stablecoin;
  if (stablecoin) {
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
      await embedded.dtLedger.transfer(embedded.demo.accounts.kase.participantId, {
        idempotencyKey: `demo:mint:${mint.id}`,
        from: embedded.demo.accounts.kase.id,
        to: embedded.demo.accounts.segregatedWallet.id,
        amount: DEMO_MINT_TIYN,
        reference: mint.reference,
      });
    };
  }
  if (composed.pvp) {
    const foreignBeneficiary = privateKeyToAddress(embedded.chain.accounts[4] as Hex);
    credentials["bank"] = await createDemoBank(identity, embedded.demo.participants.halyk, { foreignPayer: embedded.foreignPayer, foreignBeneficiary });
    credentials["pvp"] = {
      counterparty: DEMO_COUNTERPARTY,
      foreignCbdc: embedded.deployment.contracts.DemoForeignCbdc!.address,
      foreignPayer: embedded.foreignPayer,
      foreignBeneficiary,
      dtPayer: embedded.demo.accounts.aigerim.id,
      dtBeneficiary: embedded.demo.accounts.coffeeShop.id,
    };
  }
  credentials["dtLedger"] = { participants: embedded.demo.participants, accounts: embedded.demo.accounts };
  links["demo credentials"] = writeDemoCredentials(dataDir, credentials);
  Object.assign(links, embedded.links);
  return demoMint;
}

/** The embedded stack's preimage encryption key: generated once into DATA_DIR (owner-only). */
function embeddedPvpSecretKey(dataDir: string): Uint8Array {
  const file = join(dataDir, "pvp-secret-key");
  if (existsSync(file)) return new Uint8Array(Buffer.from(readFileSync(file, "utf8").trim(), "hex"));
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString("hex")}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return new Uint8Array(key);
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

/** The counterparty of the demo PvPs on the embedded chain (the foreign CBDC's central bank). */
const DEMO_COUNTERPARTY = "FCBKAEAD";

/**
 * The embedded stack's demo bank: Halyk Bank, whose participant services the demo payers' DAs, with the demo
 * foreign payer registered for the counterparty and the demo foreign beneficiary for Halyk.
 */
async function createDemoBank(identity: IdentityStore, halyk: { id: string; name: string }, evm: { foreignPayer: string; foreignBeneficiary: string }) {
  const principal = await identity.createPrincipal("bank", halyk.name, "demo-bank-halyk", { bic: halyk.id, dtParticipant: halyk.id });
  const { apiKey } = await identity.issueApiKey(principal, "created by the embedded start");
  await identity.registerLedgerAccount(DEMO_COUNTERPARTY, "evm", evm.foreignPayer);
  await identity.registerLedgerAccount(halyk.id, "evm", evm.foreignBeneficiary);
  return { principal, apiKey, bic: halyk.id };
}
