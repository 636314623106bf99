import { ConfigError, type GatewayConfig } from "../config/config.ts";
import type { Database } from "../persistence/database.ts";
import { describeConnectionProblem } from "../persistence/connection-problem.ts";
import { migrate } from "../persistence/migrations.ts";
import { openDatabase } from "../persistence/open.ts";
import { DataDirectoryInUseError } from "../persistence/pglite.ts";
import { gatewayMigrations } from "./components.ts";

/**
 * Opens the gateway's database (PostgreSQL or embedded PGlite). Failing to reach it is a configuration
 * problem reported as one line naming the variable (without the password).
 */
export async function connectGatewayDatabase(config: GatewayConfig, poolSize = config.databasePoolSize): Promise<Database> {
  try {
    return await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize,
      name: config.embedded ? "embedded" : "gateway",
    });
  } catch (error) {
    if (error instanceof DataDirectoryInUseError) throw new ConfigError("DATA_DIR", `is in use (DATA_DIR_IN_USE): ${error.message}`);
    if (config.databaseUrl) {
      throw new ConfigError("DATABASE_URL", describeConnectionProblem(config.databaseUrl, error));
    }
    throw error;
  }
}

/** Opens the database and brings its schema up to date. */
export async function openGatewayDatabase(config: GatewayConfig): Promise<Database> {
  const db = await connectGatewayDatabase(config);
  try {
    await migrate(db, gatewayMigrations());
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

/**
 * Commands that write lasting records (keys, correspondents) refuse the embedded demo's directory: it
 * starts fresh at every `start`, so what they wrote would be gone at the next start without a word.
 */
export function refuseEmbeddedDirectory(config: GatewayConfig): void {
  if (!config.embedded) return;
  throw new ConfigError(
    "EMBEDDED",
    "is on (EMBEDDED_STATE_NOT_KEPT): the embedded demo starts fresh at every start, so records written to DATA_DIR would be gone; use the running gateway's operator API (the operator key is in DATA_DIR/demo-credentials.json), or EMBEDDED=false or DATABASE_URL for a database that lasts",
  );
}
