import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CodedError } from "../core/errors.ts";
import type { Database, Queryable } from "./database.ts";

/** One versioned SQL file: `NNNN_what_it_does.sql`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migrations of one component (gateway core, DT ledger, ...), tracked separately. */
export interface MigrationSet {
  component: string;
  migrations: Migration[];
}

/** Migration files that cannot be applied as they are: misnamed, misnumbered, or changed after they ran. */
export class MigrationError extends CodedError<"MIGRATION_INVALID"> {
  constructor(message: string) {
    super("MIGRATION_INVALID", message);
  }
}

/** Reads `NNNN_name.sql` files from a directory (a `file:` URL beside the component's code). */
export function migrationsFrom(component: string, directory: URL): MigrationSet {
  const files = readdirSync(fileURLToPath(directory)).filter((file) => file.endsWith(".sql")).sort();
  const migrations = files.map((file) => {
    const match = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!match) throw new MigrationError(`${component}: migration file "${file}" is not named NNNN_name.sql`);
    return { version: Number(match[1]), name: match[2]!, sql: readFileSync(new URL(file, directory), "utf8") };
  });
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new MigrationError(`${component}: migration versions must run 1, 2, 3...; found ${migration.version} at ${index + 1}`);
    }
  });
  return { component, migrations };
}

export interface AppliedMigration {
  component: string;
  version: number;
  name: string;
}

// Any fixed 64-bit number works; every tenge-gateway process agrees on it.
const MIGRATION_LOCK = 7_311_853_001n;

const checksum = (sql: string) => createHash("sha256").update(sql).digest("hex");

/**
 * Applies every pending migration of `sets` in one transaction under an advisory lock, so two processes
 * starting at once apply them once: the second waits for the lock, then finds nothing left to do.
 * A migration already applied whose file has since changed is refused (its checksum is recorded).
 */
export async function migrate(db: Database, sets: MigrationSet[]): Promise<AppliedMigration[]> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      component text NOT NULL,
      version integer NOT NULL,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (component, version)
    )`);
    const applied: AppliedMigration[] = [];
    for (const set of sets) {
      const done = await appliedVersions(tx, set.component);
      for (const migration of set.migrations) {
        const recorded = done.get(migration.version);
        if (recorded !== undefined) {
          if (recorded !== checksum(migration.sql)) {
            throw new MigrationError(
              `${set.component} migration ${migration.version}_${migration.name} was changed after it was applied`,
            );
          }
          continue;
        }
        await tx.exec(migration.sql);
        await tx.query("INSERT INTO schema_migrations (component, version, name, checksum) VALUES ($1, $2, $3, $4)", [
          set.component,
          migration.version,
          migration.name,
          checksum(migration.sql),
        ]);
        applied.push({ component: set.component, version: migration.version, name: migration.name });
      }
    }
    return applied;
  });
}

/** Components whose latest migration is not applied yet (empty when the schema is current). */
export async function pendingMigrations(db: Queryable, sets: MigrationSet[]): Promise<string[]> {
  const exists = await db.query<{ present: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  if (!exists.rows[0]?.present) return sets.filter((set) => set.migrations.length > 0).map((set) => set.component);
  const pending: string[] = [];
  for (const set of sets) {
    const done = await appliedVersions(db, set.component);
    if (set.migrations.some((migration) => !done.has(migration.version))) pending.push(set.component);
  }
  return pending;
}

async function appliedVersions(db: Queryable, component: string): Promise<Map<number, string>> {
  const result = await db.query<{ version: number; checksum: string }>(
    "SELECT version, checksum FROM schema_migrations WHERE component = $1",
    [component],
  );
  return new Map(result.rows.map((row) => [row.version, row.checksum]));
}
