import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { commands } from "../../src/cli/commands.ts";

const dir = mkdtempSync(join(tmpdir(), "tg-help-"));
const unreachableDb = "postgres://postgres@127.0.0.1:1/none";

/** Runs a command with an environment that records every variable it looks at, present or not. */
async function variablesRead(argv: string[], env: Record<string, string>): Promise<Set<string>> {
  const read = new Set<string>();
  const recording = new Proxy(env, {
    get(target, key) {
      if (typeof key === "string") read.add(key);
      return target[key as string];
    },
  });
  await main(argv, { out: () => {}, err: () => {}, env: recording });
  return read;
}

async function helpOf(words: string[]): Promise<string> {
  return (await commands.find((entry) => entry.words.join(" ") === words.join(" "))!.load()).help;
}

/** A variable counts as listed when the help names it, or names the secret it is the `_FILE` twin of. */
const listed = (help: string, variable: string) => help.includes(variable) || (variable.endsWith("_FILE") && help.includes(`${variable.slice(0, -5)}[_FILE]`));

describe("each command's --help lists every setting it reads", () => {
  it.each([
    [["start"], { DATABASE_URL: unreachableDb, PORT: "0" }],
    [["migrate"], { DATABASE_URL: unreachableDb }],
    [["dt-ledger", "serve"], { DT_LEDGER_DATABASE_URL: unreachableDb, DT_LEDGER_PORT: "0" }],
    [["dt-ledger", "participants", "list"], { DT_LEDGER_DATABASE_URL: unreachableDb }],
    [["dt-ledger", "participants", "revoke", "--id", "HSBKKZKX"], { DT_LEDGER_DATABASE_URL: unreachableDb }],
    [["dt-ledger", "accounts", "open", "--kind", "individual", "--holder", "A"], { DT_LEDGER_URL: "http://127.0.0.1:1", DT_LEDGER_PARTICIPANT: "HSBKKZKX", DT_LEDGER_SIGNING_KEY: "11".repeat(32) }],
    [["dt-ledger", "issue", "--account", "DA-1", "--amount", "1.00"], { DT_LEDGER_URL: "http://127.0.0.1:1", DT_LEDGER_PARTICIPANT: "NBRKKZKX", DT_LEDGER_SIGNING_KEY: "11".repeat(32) }],
    [["dt-ledger", "pay", "--from", "DA-1", "--to", "DA-2", "--amount", "1.00"], { DT_LEDGER_URL: "http://127.0.0.1:1", DT_LEDGER_PARTICIPANT: "HSBKKZKX", DT_LEDGER_SIGNING_KEY: "11".repeat(32) }],
    [["stablecoin", "redeem", "--amount", "1.00", "--dt-account", "DA-1"], { EVM_RPC_URL: "http://127.0.0.1:1", STABLECOIN_DEPLOYMENTS_FILE: join(dir, "none.json") }],
    [["contracts", "issue-demo-cbdc", "--to", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "--amount", "1"], { EVM_RPC_URL: "http://127.0.0.1:1", STABLECOIN_DEPLOYMENTS_FILE: join(dir, "none.json") }],
    [["keys", "generate", "--type", "secret", "--out", join(dir, "secret.key")], {}],
    [["keys", "create", "--role", "operator", "--name", "Operator"], { DATABASE_URL: unreachableDb }],
    [["keys", "list"], { DATABASE_URL: unreachableDb }],
    [["exchanges", "create", "--name", "X", "--dt-account", "DA-1", "--evm-address", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "--per-mint-limit", "1.00", "--daily-limit", "1.00"], { DATABASE_URL: unreachableDb }],
    [["exchanges", "list"], { DATABASE_URL: unreachableDb }],
    [["correspondents", "add", "--bic", "FCBKAEAD", "--name", "X", "--base-url", "http://127.0.0.1:1"], { DATABASE_URL: unreachableDb }],
    [["correspondents", "list"], { DATABASE_URL: unreachableDb }],
    [["correspondents", "terms", "list"], { DATABASE_URL: unreachableDb }],
    [["correspondents", "fx-providers", "list"], { DATABASE_URL: unreachableDb }],
    [["correspondents", "fx-providers", "set", "FCBKAEAD", "--provider", "FXPRAEAD"], { DATABASE_URL: unreachableDb }],
    [["redemptions", "reroute", "R-1", "--dt-account", "DA-1"], { DATABASE_URL: unreachableDb }],
    [["dt-ledger", "balance", "--account", "DA-1"], { DT_LEDGER_URL: "http://127.0.0.1:1", DT_LEDGER_PARTICIPANT: "HSBKKZKX", DT_LEDGER_SIGNING_KEY: "11".repeat(32) }],
    [["dt-ledger", "redeem", "--account", "DA-1", "--amount", "1.00"], { DT_LEDGER_URL: "http://127.0.0.1:1", DT_LEDGER_PARTICIPANT: "NBRKKZKX", DT_LEDGER_SIGNING_KEY: "11".repeat(32) }],
    [["dt-ledger", "participants", "add", "--id", "ABC", "--name", "X", "--role", "bank"], { DT_LEDGER_DATABASE_URL: unreachableDb }],
    [["contracts", "deploy"], { EVM_RPC_URL: "http://127.0.0.1:1", EVM_DEPLOYER_KEY: `0x${"11".repeat(32)}` }],
    [["collateral", "verify", "--url", "http://127.0.0.1:1", "--rpc", "http://127.0.0.1:1"], {}],
    [["pvp", "list"], { TENGE_GATEWAY_URL: "http://127.0.0.1:1", TENGE_API_KEY: "tgk_x" }],
  ] as Array<[string[], Record<string, string>]>)("%j", async (argv, env) => {
    const words = commands.filter((entry) => entry.words.every((word, index) => argv[index] === word)).sort((a, b) => b.words.length - a.words.length)[0]!.words;
    const help = await helpOf(words);
    const read = await variablesRead(argv, { DATA_DIR: dir, ...env });
    const unlisted = [...read].filter((variable) => /^[A-Z][A-Z0-9_]+$/.test(variable) && !listed(help, variable));
    expect(unlisted).toEqual([]);
  });
});
