import { CodedError } from "./errors.ts";

/**
 * What a CLI command does once selected: `tenge-gateway <words...> [options]`. `Io` is what it is given
 * beyond output and environment (a database opener, for commands that write to the gateway's database):
 * the command line passes it down, so a feature's commands never reach up for it.
 */
export interface CommandModule<Io extends CommandIo = CommandIo> {
  /** Full help printed by `--help`: usage line, options, environment, examples. */
  help: string;
  /** Returns the process exit code. */
  run(args: string[], io: Io): Promise<number>;
}

/** An entry of the command table; the module is loaded only when the command runs. */
export interface CommandEntry<Io extends CommandIo = CommandIo> {
  words: string[];
  summary: string;
  load(): Promise<CommandModule<Io>>;
}

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

/** Wrong usage of a command: printed as one line, exit code 2. */
export class UsageError extends CodedError<"USAGE"> {
  constructor(message: string) {
    super("USAGE", message);
  }
}

/**
 * A failure the user can cause and fix outside the command line itself (a gateway not running, a port in
 * use): printed as one line `CODE: message`, exit code 1.
 */
export class CommandFailure extends CodedError {

  /** A request that never got an answer (`fetch failed`), with the network's reason (ECONNREFUSED, ...). */
  static unreachable(what: string, url: URL | string, error: unknown): CommandFailure {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    return new CommandFailure(`${what.toUpperCase().replaceAll(" ", "_")}_UNREACHABLE`, `cannot reach the ${what} at ${String(url)} (${reason})`);
  }
}
