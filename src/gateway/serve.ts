import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { ConfigError } from "../config/config.ts";
import { listeningAuthorities } from "../identity/http-signature.ts";
import { identityRoutes } from "../identity/routes.ts";
import { IdentityStore } from "../identity/store.ts";
import { iso20022RoutesWith } from "../iso20022/routes.ts";
import type { BoundedWorkLimits } from "../iso20022/validation/bounded-work.ts";
import { buildGatewayApp } from "../server/app.ts";
import { createMetricsRegistry } from "../server/metrics.ts";
import type { PrincipalRateLimit } from "../server/rate-limit.ts";
import { gatewayMigrations } from "./components.ts";
import { composeGateway, type ComposedGateway, type ComposeOptions } from "./features.ts";

export interface ServeGatewayOptions extends Omit<ComposeOptions, "metrics"> {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The setting that names the port, for the one line said when it is taken. */
  portVariable: string;
  bodyLimitBytes: number;
  signatureMaxSkewSeconds: number;
  /** Authorities signed requests must be addressed to (PUBLIC_URL's host); unset: the address listened on. */
  signatureAuthorities?: readonly string[];
  /** Per-principal request rate (RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST); default 100/s, burst 200. */
  principalRateLimit?: PrincipalRateLimit;
  /** ISO 20022 validation workers and queue (VALIDATION_CONCURRENCY, VALIDATION_QUEUE); default 1 and 8. */
  validationLimits?: BoundedWorkLimits;
}

/** A gateway composed and its HTTP app built, not yet listening. */
export interface ComposedServer {
  app: FastifyInstance;
  composed: ComposedGateway;
  identity: IdentityStore;
  metrics: Registry;
  /** Listens and starts the features' workers; returns the base URL. */
  listen(): Promise<string>;
  /** Stops accepting requests, lets in-flight ones finish, stops the workers (the database stays open). */
  close(): Promise<void>;
}

/**
 * One gateway process from its ports and settings: the features composed by `composeGateway`, the HTTP
 * app with every feature's routes and readiness checks. The main gateway and the embedded foreign central
 * bank's gateway are both built here, so they differ only in what they are given.
 */
export async function composeServer(options: ServeGatewayOptions): Promise<ComposedServer> {
  const metrics = createMetricsRegistry();
  // One identity store for the app's access control, the identity routes and the PvP authority.
  const identity = new IdentityStore(options.db);
  const composed = await composeGateway({ ...options, metrics, identity });
  // Without given authorities, the address we listen on is ours (known once listening: PORT may be 0);
  // until then nothing signed is accepted.
  const authorities: string[] = options.signatureAuthorities ? [...options.signatureAuthorities] : [];
  try {
    const app = await buildGatewayApp({
      db: options.db,
      identity,
      logger: options.logger,
      metrics,
      migrationSets: gatewayMigrations(),
      bodyLimitBytes: options.bodyLimitBytes,
      signatureMaxSkewSeconds: options.signatureMaxSkewSeconds,
      signatureAuthorities: authorities,
      ...(options.principalRateLimit ? { principalRateLimit: options.principalRateLimit } : {}),
      readiness: [...options.ports.readiness, ...composed.features.flatMap((feature) => feature.readiness)],
      features: [identityRoutes(identity), iso20022RoutesWith(options.validationLimits), ...composed.features.flatMap((feature) => feature.routes)],
      featureStatus: composed.status,
    });
    return {
      app,
      composed,
      identity,
      metrics,
      async listen() {
        const address = (await listenOn(app, options.host, options.port, options.portVariable)).replace("://[::1]", "://localhost");
        if (!options.signatureAuthorities) authorities.push(...listeningAuthorities(address));
        for (const feature of composed.features) feature.start();
        return address;
      },
      async close() {
        await app.close();
        for (const feature of composed.features) await feature.stop();
      },
    };
  } catch (error) {
    for (const feature of composed.features) await feature.stop().catch(() => {});
    throw error;
  }
}

/** Listens; a port already taken is one line naming the setting, never a stack trace. */
export async function listenOn(app: FastifyInstance, host: string, port: number, variable: string): Promise<string> {
  try {
    return await app.listen({ host, port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new ConfigError(variable, `${host}:${port} is in use (EADDRINUSE): stop what listens there or choose another port (0 picks a free one)`);
    }
    throw error;
  }
}
