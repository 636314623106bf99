import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { installAccessControl } from "../identity/access-plugin.ts";
import { IdentityStore } from "../identity/store.ts";
import type { Database } from "../persistence/database.ts";
import { pendingMigrations, type MigrationSet } from "../persistence/migrations.ts";
import { installErrorHandler } from "./errors.ts";
import { installHealth, type FeatureStatus, type ReadinessCheck } from "./health.ts";
import type { Logger } from "./logger.ts";
import { installMetricsRoute, installRequestMetrics } from "./metrics.ts";
import { DEFAULT_PRINCIPAL_RATE_LIMIT, installPrincipalRateLimit, type PrincipalRateLimit } from "./rate-limit.ts";
import { installQueryIntegers, STRICT_AJV } from "./request-types.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The exact bytes of the body, for signatures and digests. */
    rawBody?: Buffer;
  }
}

/** A feature's routes, registered on the gateway app. */
export type FeatureRoutes = (app: FastifyInstance) => Promise<void>;

// The route contract lives in core (below identity, whose operator routes use it too); features may import it from here.
export { typedRoutes, type TypedApp } from "../core/http-routes.ts";

export interface GatewayAppOptions {
  db: Database;
  /** The principals and their keys, built once by the composition root (a fresh one over `db` if not given). */
  identity?: IdentityStore;
  logger: Logger;
  metrics: Registry;
  migrationSets: MigrationSet[];
  bodyLimitBytes: number;
  signatureMaxSkewSeconds: number;
  /** Authorities (host[:port]) signed requests must be addressed to, e.g. PUBLIC_URL's; unset: the Host received. */
  signatureAuthorities?: readonly string[];
  /** Ledgers and other dependencies `/readyz` checks besides the database. */
  readiness?: ReadinessCheck[];
  features?: FeatureRoutes[];
  /** Which features are on, listed by `/readyz`. */
  featureStatus?: FeatureStatus[];
  version?: string;
  /** Requests per principal on authenticated routes (default DEFAULT_PRINCIPAL_RATE_LIMIT). */
  principalRateLimit?: PrincipalRateLimit;
  /** Milliseconds clock for the rate limit (tests). */
  clock?: () => number;
}

export const XML_CONTENT_TYPES = ["application/xml", "text/xml"];

/**
 * Replaces fastify's body parsers with a JSON parser that keeps the exact bytes in `request.rawBody`
 * (request signatures cover them); malformed JSON is 400 INVALID_JSON. Shared by every HTTP service here.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body: Buffer, done) => {
    request.rawBody = body;
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString("utf8")));
    } catch {
      done(Object.assign(new Error("the body is not valid JSON"), { statusCode: 400, code: "INVALID_JSON" }), undefined);
    }
  });
}

/**
 * The gateway's HTTP server: JSON and XML bodies (raw bytes kept for signatures), access control on every
 * route, errors as `{ code, message }`, OpenAPI at /docs/json with a UI at /docs, metrics, health.
 */
export async function buildGatewayApp(options: GatewayAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    ajv: STRICT_AJV,
  });

  installJsonBodyParser(app);
  app.addContentTypeParser(XML_CONTENT_TYPES, { parseAs: "buffer" }, (request, body: Buffer, done) => {
    request.rawBody = body;
    done(null, body.toString("utf8"));
  });

  installErrorHandler(app);
  installQueryIntegers(app);
  // The documentation UI's own routes are public; everything else must declare its access.
  app.addHook("onRoute", (route) => {
    if (route.url.startsWith("/docs") && route.config?.access === undefined) {
      route.config = { ...route.config, access: "public" };
    }
    // A public route with its own log level (a high-volume read) logs through one child logger made once,
    // not one per request: pino rebuilds every log method of a child whose level is set.
    if (route.config?.access === "public" && route.logLevel && !route.childLoggerFactory) {
      let child: FastifyBaseLogger | undefined;
      route.childLoggerFactory = (logger, _bindings, childOptions) => (child ??= logger.child({ route: route.url }, childOptions));
    }
  });
  installAccessControl(app, {
    identity: options.identity ?? new IdentityStore(options.db),
    maxSkewSeconds: options.signatureMaxSkewSeconds,
    ...(options.signatureAuthorities ? { authorities: options.signatureAuthorities } : {}),
  });
  // After access control, so the principal is known; before the body is read, so a refusal costs nothing.
  installPrincipalRateLimit(app, options.principalRateLimit ?? DEFAULT_PRINCIPAL_RATE_LIMIT, options.clock);
  installRequestMetrics(app, options.metrics);

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "tenge-gateway",
        version: options.version ?? "0.1.0",
        description: "Digital Tenge gateway: cross-border PvP over ISO 20022 and the DT-backed stablecoin.",
      },
      components: {
        securitySchemes: {
          apiKey: { type: "http", scheme: "bearer", description: "API key tgk_..." },
          httpSignature: {
            type: "apiKey",
            in: "header",
            name: "Signature",
            description: "RFC 9421 Ed25519 signature covering at least @method @authority @path @query content-digest",
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });

  installMetricsRoute(app, options.metrics);
  installHealth(app, () => [
    { name: "database", check: async () => void (await options.db.query("SELECT 1")) },
    {
      name: "migrations",
      check: async () => {
        const pending = await pendingMigrations(options.db, options.migrationSets);
        if (pending.length > 0) throw new Error(`pending migrations: ${pending.join(", ")}`);
      },
    },
    ...(options.readiness ?? []),
  ], options.featureStatus);
  for (const feature of options.features ?? []) await app.register(feature);
  await app.ready();
  return app;
}
