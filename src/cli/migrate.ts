import { loadConfig } from "../config/config.ts";
import { gatewayMigrations } from "../gateway/components.ts";
import { connectGatewayDatabase } from "../gateway/database.ts";
import { migrate } from "../persistence/migrations.ts";
import type { CommandIo, CommandModule } from "../core/cli-command.ts";

const help = `Usage: npx tenge-gateway migrate

Applies every pending database migration and exits. Safe to run while other gateway processes start:
an advisory lock makes one of them apply the migrations and the others wait.

Environment: DATABASE_URL (PostgreSQL; unset = embedded PGlite under DATA_DIR), DATA_DIR (./.data),
TENGE_CONFIG_FILE (JSON file of the same variables). Every other setting of \`start\` is checked too, so a
misspelt one is found here first.`;

async function run(args: string[], io: CommandIo): Promise<number> {
  if (args.length > 0) {
    io.err(`tenge-gateway migrate: unexpected argument "${args[0]}"; see --help`);
    return 2;
  }
  const config = loadConfig(io.env);
  const db = await connectGatewayDatabase(config, 2);
  try {
    const applied = await migrate(db, gatewayMigrations());
    for (const item of applied) io.out(`applied ${item.component} ${String(item.version).padStart(4, "0")}_${item.name}`);
    io.out(applied.length === 0 ? "schema is up to date" : `${applied.length} migration(s) applied`);
    return 0;
  } finally {
    await db.close();
  }
}

export default { help, run } satisfies CommandModule;
