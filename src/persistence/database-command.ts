import type { CommandIo, CommandModule } from "../core/cli-command.ts";
import type { Database } from "./database.ts";

/**
 * What the command line gives a feature's commands that work on the gateway's database: an opener of that
 * database with its schema up to date, from the command's settings (DATABASE_URL, DATA_DIR, TENGE_CONFIG_FILE).
 * The command line knows the migrations of every feature; a feature's commands do not.
 */
export interface DatabaseCommandIo extends CommandIo {
  /**
   * Opens the database; the caller closes it. `lasting`: the command writes records that must last, so the
   * embedded demo's directory, which starts fresh at every start, is refused (EMBEDDED_STATE_NOT_KEPT).
   */
  openDatabase(options: { lasting: boolean }): Promise<Database>;
}

/** A command that works on the gateway's database. */
export type DatabaseCommand = CommandModule<DatabaseCommandIo>;
