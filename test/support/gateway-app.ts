import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { identityRoutes } from "../../src/identity/routes.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { buildGatewayApp, type FeatureRoutes } from "../../src/server/app.ts";
import type { ReadinessCheck } from "../../src/server/health.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import type { PrincipalRateLimit } from "../../src/server/rate-limit.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";

export interface TestGateway {
  app: FastifyInstance;
  testDb: TestDatabase;
  identity: IdentityStore;
  /** Every JSON log line written so far. */
  logLines: string[];
  close(): Promise<void>;
}

/** A gateway app on a fresh, migrated database, with its log captured; `features` may be built on that database. */
export async function createTestGateway(
  options: { features?: FeatureRoutes[] | ((db: TestDatabase["db"]) => Promise<FeatureRoutes[]>); readiness?: ReadinessCheck[]; bodyLimitBytes?: number; principalRateLimit?: PrincipalRateLimit; clock?: () => number } = {},
): Promise<TestGateway> {
  const testDb = await createTestDatabase();
  await migrate(testDb.db, gatewayMigrations());
  const identity = new IdentityStore(testDb.db);
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const app = await buildGatewayApp({
    db: testDb.db,
    logger: createLogger("info", sink),
    metrics: createMetricsRegistry(),
    migrationSets: gatewayMigrations(),
    bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024,
    signatureMaxSkewSeconds: 300,
    readiness: options.readiness ?? [],
    features: [identityRoutes(identity), ...(typeof options.features === "function" ? await options.features(testDb.db) : (options.features ?? []))],
    ...(options.principalRateLimit ? { principalRateLimit: options.principalRateLimit } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    app,
    testDb,
    identity,
    logLines,
    async close() {
      await app.close();
      await testDb.drop();
    },
  };
}
