import type { FastifyInstance } from "fastify";
import type { GatewayConfig } from "../config/config.ts";
import type { Database } from "../persistence/database.ts";
import { ensurePrivateDirectory } from "../persistence/data-directory.ts";
import type { FeatureStatus } from "../server/health.ts";
import { createLogger, type Logger } from "../server/logger.ts";
import { openGatewayDatabase } from "./database.ts";
import type { EmbeddedStack } from "./embedded.ts";
import { EMBEDDED_RESTART_NOTICE, prepareEmbeddedStart, startEmbeddedDemo, type EmbeddedDemo } from "./embedded-demo.ts";
import type { EmbeddedPeer } from "./embedded-peer.ts";
import type { ComposedGateway } from "./features.ts";
import { connectPorts, type GatewayPorts } from "./ports.ts";
import { composeServer } from "./serve.ts";
import { loadDeploymentSettings, type DeploymentSettings } from "./settings.ts";

export interface RunningGateway {
  app: FastifyInstance;
  db: Database;
  /** The embedded DT ledger, chain and demo parties, when EMBEDDED is on. */
  embedded: EmbeddedStack | undefined;
  /** The embedded foreign central bank's gateway, when EMBEDDED is on. */
  peer: EmbeddedPeer | undefined;
  /** What a restart keeps and what it does not (embedded stack), said once at start. */
  restart: string | undefined;
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

/**
 * Starts the whole gateway from its configuration: settings checked first, then the database, the ports
 * (external systems, or the embedded stack), the features composed on them, and the HTTP server.
 */
export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<RunningGateway> {
  let settings = options.settings ?? loadDeploymentSettings(config, options.env ?? process.env);
  const logger = options.logger ?? createLogger(config.logLevel);
  if (config.embedded) prepareEmbeddedStart(config.dataDir);
  ensurePrivateDirectory(config.dataDir);
  const db = await openGatewayDatabase(config);
  const stops: Array<() => Promise<void>> = [];
  try {
    const links: Record<string, string> = {};
    const baseUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
    let embedded: EmbeddedDemo | undefined;
    let ports: GatewayPorts;
    if (config.embedded) {
      embedded = await startEmbeddedDemo({ config, db, settings, logger });
      stops.push(() => embedded!.stop());
      ports = embedded.ports;
      settings = embedded.settings;
    } else {
      ports = await connectPorts(settings, db, logger);
      stops.push(() => ports.stop());
    }
    const server = await composeServer({
      db,
      logger,
      ports,
      settings,
      attestationKey: settings.stablecoin.attestationSecret ?? embedded?.attestationKey,
      pvpSecretKey: settings.pvp?.secretKey ?? embedded?.pvpSecretKey,
      publicUrl: baseUrl,
      host: config.host,
      port: config.port,
      portVariable: "PORT",
      bodyLimitBytes: config.bodyLimitBytes,
      signatureMaxSkewSeconds: config.signatureMaxSkewSeconds,
      principalRateLimit: { perSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst },
      validationLimits: { concurrency: config.validationConcurrency, queue: config.validationQueue },
      // A request signed for another service that shares the signer's key is refused: PUBLIC_URL names our
      // authority; without it, it is the address we listen on (composeServer).
      ...(config.publicUrl ? { signatureAuthorities: [new URL(config.publicUrl).host] } : {}),
    });
    const composed = server.composed;
    stops.push(() => server.close());
    for (const feature of composed.status) {
      logger.info({ event: "feature", feature: feature.name, on: feature.on, detail: feature.detail }, `feature ${feature.name}: ${feature.on ? "on" : "off"} (${feature.detail})`);
    }
    await embedded?.seed(composed, server.identity);

    const address = await server.listen();
    const url = config.publicUrl ?? address;
    if (embedded) Object.assign(links, await embedded.welcome(url));
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
      app: server.app,
      db,
      embedded: embedded?.stack,
      peer: embedded?.peer,
      restart: embedded ? EMBEDDED_RESTART_NOTICE : undefined,
      composed,
      logger,
      url,
      links,
      features: composed.status,
      close() {
        closing ??= (async () => {
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
