import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import type { GatewayConfig } from "../config/config.ts";
import { identityRoutes } from "../identity/routes.ts";
import { iso20022Routes } from "../iso20022/routes.ts";
import { IdentityStore } from "../identity/store.ts";
import type { Database } from "../persistence/database.ts";
import { lockDirectory } from "../persistence/pglite.ts";
import { buildGatewayApp } from "../server/app.ts";
import { createLogger, type Logger } from "../server/logger.ts";
import { createMetricsRegistry } from "../server/metrics.ts";
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
}

/** Starts the whole gateway from its configuration: database, embedded parts, HTTP server. */
export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger(config.logLevel);
  if (config.embedded) resetEmbeddedState(config.dataDir);
  const db = await openGatewayDatabase(config);
  const stops: Array<() => Promise<void>> = [];
  try {
    const identity = new IdentityStore(db);
    const links: Record<string, string> = {};
    let embedded: EmbeddedStack | undefined;
    if (config.embedded) {
      embedded = await startEmbeddedStack({
        db,
        directory: join(config.dataDir, "embedded"),
        chainHost: config.embeddedChainHost,
        chainPort: config.embeddedChainPort,
      });
      stops.push(() => embedded!.stop());
      const file = await ensureDemoOperator(identity, config.dataDir);
      if (file) links["demo credentials"] = file;
      Object.assign(links, embedded.links);
    }
    const app = await buildGatewayApp({
      db,
      logger,
      metrics: createMetricsRegistry(),
      migrationSets: gatewayMigrations(),
      bodyLimitBytes: config.bodyLimitBytes,
      signatureMaxSkewSeconds: config.signatureMaxSkewSeconds,
      readiness: embedded?.readiness ?? [],
      features: [identityRoutes(identity), iso20022Routes],
    });
    const address = await app.listen({ host: config.host, port: config.port });
    const url = config.publicUrl ?? address.replace("://[::1]", "://localhost");
    Object.assign(links, {
      "health": `${url}/healthz`,
      "readiness": `${url}/readyz`,
      "API docs": `${url}/docs`,
      "OpenAPI": `${url}/docs/json`,
      "metrics": `${url}/metrics`,
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
  const unlock = lockDirectory(join(directory, "pglite"));
  unlock();
  rmSync(directory, { recursive: true, force: true });
}

/**
 * The embedded stack gets one operator so a newcomer can use the operator API at once. Its API key goes to
 * a file only the owner can read, never to the log.
 */
async function ensureDemoOperator(identity: IdentityStore, dataDir: string): Promise<string | undefined> {
  const principals = await identity.list();
  if (principals.some((principal) => principal.role === "operator")) return undefined;
  const id = await identity.createPrincipal("operator", "Demo operator", "demo-operator");
  const { apiKey, credentialId } = await identity.issueApiKey(id, "created by the embedded start");
  mkdirSync(dataDir, { recursive: true });
  const file = resolve(join(dataDir, "demo-credentials.json"));
  writeFileSync(file, `${JSON.stringify({ operator: { principal: id, credentialId, apiKey } }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}
