import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { migrate, MigrationError, migrationsFrom, pendingMigrations } from "../../src/persistence/migrations.ts";
import { openPglite } from "../../src/persistence/pglite.ts";
import { createTestDatabase, testEngine, type TestDatabase } from "../support/database.ts";

let testDb: TestDatabase | undefined;
afterEach(async () => {
  await testDb?.drop();
  testDb = undefined;
});

function migrationDir(files: Record<string, string>): URL {
  const dir = mkdtempSync(join(tmpdir(), "tg-migrations-"));
  mkdirSync(dir, { recursive: true });
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return pathToFileURL(`${dir}/`);
}

describe(`migrations on ${testEngine}`, () => {
  it("applies every component's migrations once and reports nothing pending", async () => {
    testDb = await createTestDatabase();
    const sets = gatewayMigrations();
    expect(await pendingMigrations(testDb.db, sets)).toEqual(sets.map((set) => set.component));
    const applied = await migrate(testDb.db, sets);
    expect(applied.length).toBe(sets.reduce((sum, set) => sum + set.migrations.length, 0));
    expect(await pendingMigrations(testDb.db, sets)).toEqual([]);
    expect(await migrate(testDb.db, sets)).toEqual([]);
    const tables = await testDb.db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'identity' ORDER BY 1",
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual(["credentials", "ledger_accounts", "principals", "request_nonces"]);
  });

  it("rolls back a failing migration whole and applies nothing of it", async () => {
    testDb = await createTestDatabase();
    const set = migrationsFrom(
      "sample",
      migrationDir({ "0001_good.sql": "CREATE TABLE sample_a (id int);", "0002_bad.sql": "CREATE TABLE sample_b (id int); SELECT no_such_column FROM sample_a;" }),
    );
    await expect(migrate(testDb.db, [set])).rejects.toThrow(/no_such_column/);
    const tables = await testDb.db.query("SELECT 1 FROM information_schema.tables WHERE table_name IN ('sample_a', 'sample_b')");
    expect(tables.rowCount).toBe(0);
  });

  it("refuses a migration edited after it was applied", async () => {
    testDb = await createTestDatabase();
    await migrate(testDb.db, [migrationsFrom("sample", migrationDir({ "0001_first.sql": "CREATE TABLE sample_c (id int);" }))]);
    const edited = migrationsFrom("sample", migrationDir({ "0001_first.sql": "CREATE TABLE sample_c (id bigint);" }));
    await expect(migrate(testDb.db, [edited])).rejects.toThrow(MigrationError);
  });

  it("refuses badly named or numbered files", () => {
    expect(() => migrationsFrom("sample", migrationDir({ "first.sql": "" }))).toThrow(/NNNN_name\.sql/);
    expect(() => migrationsFrom("sample", migrationDir({ "0001_a.sql": "", "0003_c.sql": "" }))).toThrow(/1, 2, 3/);
  });
});

// Two processes share a database only on PostgreSQL (PGlite is single-process, guarded by its lock file).
if (testEngine === "postgres") describe("two migrators starting at once on PostgreSQL", () => {
  it("apply each migration exactly once", async () => {
    testDb = await createTestDatabase();
    const other = await testDb.openAnother();
    const sets = gatewayMigrations();
    const [first, second] = await Promise.all([migrate(testDb.db, sets), migrate(other, sets)]);
    const total = sets.reduce((sum, set) => sum + set.migrations.length, 0);
    expect(first.length + second.length).toBe(total);
    expect([first.length, second.length]).toContain(0);
    const recorded = await testDb.db.query("SELECT component, version FROM schema_migrations");
    expect(recorded.rowCount).toBe(total);
  });
});

describe("the embedded database directory", () => {
  it("cannot be opened twice at once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tg-pglite-"));
    const first = await openPglite({ dataDir: dir });
    await expect(openPglite({ dataDir: dir })).rejects.toThrow(/held by process/);
    await first.close();
    const again = await openPglite({ dataDir: dir });
    await again.close();
  });
});
