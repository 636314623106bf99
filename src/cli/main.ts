import { ConfigError, loadConfig } from "../config/config.ts";
import { PRIVATE_UMASK } from "../persistence/data-directory.ts";
import { CommandFailure, UsageError, type CommandIo } from "../core/cli-command.ts";
import { chainFaultOf } from "../evm/operator-faults.ts";
import type { DatabaseCommandIo } from "../persistence/database-command.ts";
import { commands } from "./commands.ts";

const processIo: CommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

function overview(): string {
  const width = Math.max(...commands.map((entry) => entry.words.join(" ").length));
  return [
    "Usage: npx tenge-gateway <command> [options]",
    "",
    "Commands:",
    ...commands.map((entry) => `  ${entry.words.join(" ").padEnd(width)}  ${entry.summary}`),
    "",
    "Run `npx tenge-gateway <command> --help` for a command's options.",
  ].join("\n");
}

/** Runs the CLI and returns the exit code: 0 done, 1 failed, 2 bad usage or configuration. */
export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
  // Every file this process creates (database, keys, demo credentials) is readable by its owner only.
  process.umask(PRIVATE_UMASK);
  const entry = commands
    .filter((candidate) => candidate.words.every((word, index) => argv[index] === word))
    .sort((a, b) => b.words.length - a.words.length)[0];
  if (!entry) {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
      io.out(overview());
      return 0;
    }
    const group = commands.filter((candidate) => candidate.words[0] === argv[0]);
    if (group.length > 0 && (argv.length === 1 || argv[1] === "--help")) {
      io.out(group.map((candidate) => `npx tenge-gateway ${candidate.words.join(" ")}: ${candidate.summary}`).join("\n"));
      return argv.length === 1 ? 2 : 0;
    }
    io.err(`tenge-gateway: unknown command "${argv.join(" ")}"; run npx tenge-gateway --help`);
    return 2;
  }
  const args = argv.slice(entry.words.length);
  const command = await entry.load();
  if (args.includes("--help") || args.includes("-h")) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(args, { ...io, openDatabase: gatewayDatabaseOpener(io.env) });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      io.err(`tenge-gateway ${entry.words.join(" ")}: ${error.message}`);
      return 2;
    }
    if ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`tenge-gateway ${entry.words.join(" ")}: ${(error as Error).message}; see --help`);
      return 2;
    }
    if (error instanceof CommandFailure) {
      io.err(`tenge-gateway ${entry.words.join(" ")}: ${error.code}: ${error.message}`);
      return 1;
    }
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      const { address, port } = error as { address?: string; port?: number };
      io.err(`tenge-gateway ${entry.words.join(" ")}: ${address}:${port} is in use (EADDRINUSE): stop what listens there or choose another port (see --help)`);
      return 2;
    }
    // A chain call that failed for a reason the operator fixes outside: one line with the fix, not a stack.
    const fault = chainFaultOf(error);
    if (fault) {
      io.err(`tenge-gateway ${entry.words.join(" ")}: ${fault}: ${CHAIN_FAULT_FIXES[fault](urlOf(error))}`);
      return 1;
    }
    throw error;
  }
}

const CHAIN_FAULT_FIXES: Record<NonNullable<ReturnType<typeof chainFaultOf>>, (url: string | undefined) => string> = {
  RPC_UNREACHABLE: (url) => `the EVM node${url ? ` at ${url}` : ""} does not answer: start it, or fix the RPC URL (--rpc-url, EVM_RPC_URL)`,
  NO_GAS: () => "the sending key has too little of the chain's native currency for gas: fund its address (keys generate printed it)",
  MINTER_ALLOWANCE_SPENT: () => "the minter has spent its mint allowance: the master minter raises it (configureMinter)",
};

/**
 * The gateway's database as the settings in `env` name it, its schema brought up to date with every
 * feature's migrations: what the feature commands that work on the database are given.
 */
function gatewayDatabaseOpener(env: NodeJS.ProcessEnv): DatabaseCommandIo["openDatabase"] {
  return async ({ lasting }) => {
    const config = loadConfig(env);
    // Loaded when a command opens the database, so other commands do not load every feature's migrations.
    const { openGatewayDatabase, refuseEmbeddedDirectory } = await import("../gateway/database.ts");
    if (lasting) refuseEmbeddedDirectory(config);
    return openGatewayDatabase(config);
  };
}

/** The RPC URL a failed chain call went to (viem names it on the request error), if any. */
function urlOf(error: unknown): string | undefined {
  for (let current = error as { url?: unknown; cause?: unknown } | undefined, depth = 0; current && depth < 10; current = current.cause as typeof current, depth++) {
    if (typeof current.url === "string") return current.url;
  }
  return undefined;
}
