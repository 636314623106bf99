/** What a CLI command does once selected: `tenge-gateway <words...> [options]`. */
export interface CommandModule {
  /** Full help printed by `--help`: usage line, options, environment, examples. */
  help: string;
  /** Returns the process exit code. */
  run(args: string[], io: CommandIo): Promise<number>;
}

/** An entry of the command table; the module is loaded only when the command runs. */
export interface CommandEntry {
  words: string[];
  summary: string;
  load(): Promise<CommandModule>;
}

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

/** Wrong usage of a command: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
