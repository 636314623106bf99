import { migrationsFrom } from "../persistence/migrations.ts";

/** The embedded DT ledger's own schema (`dt_ledger`), migrated as its own component. */
export const dtLedgerMigrations = migrationsFrom("dt_ledger", new URL("./migrations/", import.meta.url));
