import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Database } from "../../src/persistence/database.ts";
import { openPglite } from "../../src/persistence/pglite.ts";
import { openPostgres } from "../../src/persistence/postgres.ts";

export interface TestDatabase {
  db: Database;
  /** Connection string of the fresh database (PostgreSQL only), for a second pool or process. */
  url: string | undefined;
  /** Opens another, independent connection to the same database (PostgreSQL only). */
  openAnother(): Promise<Database>;
  drop(): Promise<void>;
}

/** Which engine the integration tests run on: PostgreSQL when DATABASE_URL is set, PGlite otherwise. */
export const testEngine: "postgres" | "pglite" = process.env["DATABASE_URL"] ? "postgres" : "pglite";

/**
 * A fresh, empty database for one test file: a new database on the PostgreSQL server of DATABASE_URL
 * (dropped afterwards), or an in-memory PGlite.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env["DATABASE_URL"];
  if (!serverUrl) {
    const db = await openPglite({ dataDir: "memory://" });
    return {
      db,
      url: undefined,
      openAnother: () => Promise.reject(new Error("PGlite is single-process; use DATABASE_URL")),
      drop: () => db.close(),
    };
  }
  const name = `tg_test_${randomBytes(6).toString("hex")}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const others: Database[] = [];
  const db = await openPostgres({ connectionString: url.toString(), poolSize: 5 });
  return {
    db,
    url: url.toString(),
    async openAnother() {
      const other = await openPostgres({ connectionString: url.toString(), poolSize: 5 });
      others.push(other);
      return other;
    },
    async drop() {
      await Promise.all([db, ...others].map((each) => each.close().catch(() => {})));
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
