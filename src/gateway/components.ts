import { migrationsFrom, type MigrationSet } from "../persistence/migrations.ts";

/** Every component's migrations, in the order they are applied. Features add theirs here. */
export function gatewayMigrations(): MigrationSet[] {
  return [
    migrationsFrom("identity", new URL("../identity/migrations/", import.meta.url)),
    migrationsFrom("pvp", new URL("../pvp/migrations/", import.meta.url)),
    migrationsFrom("stablecoin", new URL("../stablecoin/migrations/", import.meta.url)),
    migrationsFrom("proof_of_collateral", new URL("../proof-of-collateral/migrations/", import.meta.url)),
  ];
}
