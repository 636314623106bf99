import { join } from "node:path";
import type { Database } from "./database.ts";
import { openPglite } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";

export interface OpenDatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  poolSize?: number;
  /** Sub-directory of `dataDir` for PGlite, so separate services keep separate embedded databases. */
  name?: string;
}

/** PostgreSQL when a URL is given, otherwise PGlite stored under the data directory. */
export function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    return openPostgres({ connectionString: options.databaseUrl, poolSize: options.poolSize ?? 10 });
  }
  return openPglite({ dataDir: join(options.dataDir, options.name ?? "gateway", "pglite") });
}
