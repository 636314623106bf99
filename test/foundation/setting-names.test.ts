import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { ConfigError, loadConfig } from "../../src/config/config.ts";
import { checkSettingNames, editDistance, nearestSetting } from "../../src/config/setting-names.ts";
import { loadDtLedgerServiceConfig } from "../../src/dt-ledger/config.ts";
import { describeConnectionProblem } from "../../src/persistence/connection-problem.ts";

const dir = mkdtempSync(join(tmpdir(), "tg-names-"));

function problem(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return "accepted";
}

async function cli(argv: string[], env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line), env });
  return { code, out, err };
}

describe("a misspelt or unknown setting stops the start", () => {
  it("names the setting a near-miss most likely means (PROT, EMBEDED, LOG_LEVL)", () => {
    expect(problem({ PROT: "19110" })).toBe("PROT is not a setting (did you mean PORT?); rename or unset it");
    expect(problem({ EMBEDED: "false" })).toBe("EMBEDED is not a setting (did you mean EMBEDDED?); rename or unset it");
    expect(problem({ LOG_LEVL: "debug" })).toBe("LOG_LEVL is not a setting (did you mean LOG_LEVEL?); rename or unset it");
    expect(problem({ DATABSE_URL: "postgres://x/y" })).toMatch(/^DATABSE_URL is not a setting \(did you mean DATABASE_URL\?\)/);
    expect(problem({ port: "9000" })).toMatch(/^port is not a setting \(did you mean PORT\?\)/);
  });

  it("refuses an unknown variable with one of our prefixes, naming the closest setting", () => {
    expect(problem({ PVP_AGENT: "NBRKKZKX" })).toBe("PVP_AGENT is not a setting of tenge-gateway (closest: PVP_AGENT_BIC); rename or unset it (see docs/deploy.md)");
    expect(problem({ STABLECOIN_CONFIRMATIONS: "3" })).toMatch(/^STABLECOIN_CONFIRMATIONS is not a setting/);
  });

  it("accepts a minter key per chain of STABLECOIN_CHAINS, and nothing else that looks like one", () => {
    expect(() => checkSettingNames({ env: { STABLECOIN_MINTER_KEY_31338: "x", STABLECOIN_MINTER_KEY_56_FILE: "x" } })).not.toThrow();
    expect(problem({ STABLECOIN_MINTER_KEY_BSC: "x" })).toMatch(/^STABLECOIN_MINTER_KEY_BSC is not a setting/);
  });

  it("leaves other programs' variables alone: this process's environment and the usual suspects", () => {
    expect(() => checkSettingNames({ env: process.env })).not.toThrow();
    const unrelated = ["PATH", "HOME", "HOSTNAME", "PWD", "OLDPWD", "TERM", "USER", "SHELL", "LANG", "PGPORT", "PGHOST", "PGDATA", "PGUSER",
      "NODE_ENV", "NODE_OPTIONS", "npm_config_port", "npm_package_name", "INIT_CWD", "MODE", "PROD", "DEV", "BASE_URL", "TMPDIR", "DEBUG", "CI", "HTTP_PROXY", "NO_PROXY"];
    expect(() => checkSettingNames({ env: Object.fromEntries(unrelated.map((name) => [name, "x"])) })).not.toThrow();
  });

  it("refuses any unknown key of TENGE_CONFIG_FILE, since every key there is meant for us", () => {
    const file = join(dir, "gateway.json");
    writeFileSync(file, JSON.stringify({ PORT: 9090, LOG_LEVL: "debug" }), { mode: 0o600 });
    expect(problem({ TENGE_CONFIG_FILE: file })).toBe("TENGE_CONFIG_FILE has the key LOG_LEVL, which is not a setting (did you mean LOG_LEVEL?); rename or remove it");
    writeFileSync(file, JSON.stringify({ PORT: 9090, WORKERS: 4 }), { mode: 0o600 });
    expect(problem({ TENGE_CONFIG_FILE: file })).toMatch(/^TENGE_CONFIG_FILE has the key WORKERS, which is not a setting/);
  });

  it("accepts the variables PVP_FOREIGN_LEDGERS_FILE names for payer keys, whatever their names", () => {
    const ledgers = join(dir, "ledgers.json");
    writeFileSync(ledgers, JSON.stringify({ "evm:fcb": { payerKeys: [{ env: "PVP_PAYER_KEY_FCB" }] } }));
    expect(problem({ PVP_FOREIGN_LEDGERS_FILE: ledgers, PVP_PAYER_KEY_FCB: "0x00", EMBEDDED: "false" })).toBe("accepted");
    expect(problem({ PVP_PAYER_KEY_FCB: "0x00" })).toMatch(/^PVP_PAYER_KEY_FCB is not a setting/);
  });

  it("exits 2 from `start` with one line before anything starts", async () => {
    const result = await cli(["start"], { PROT: "19110", DATA_DIR: dir });
    expect(result.code).toBe(2);
    expect(result.err).toEqual(["tenge-gateway start: PROT is not a setting (did you mean PORT?); rename or unset it"]);
  });

  it("measures typos as edits, a swap of neighbours counting once", () => {
    expect(editDistance("PROT", "PORT")).toBe(1);
    expect(editDistance("HOME", "HOST")).toBe(2);
    expect(nearestSetting("HOME")).toBeUndefined();
    expect(nearestSetting("PGPORT")).toBeUndefined();
  });
});

describe("dt-ledger serve refuses settings it would ignore", () => {
  it("refuses gateway settings it does not read, naming its own", async () => {
    const result = await cli(["dt-ledger", "serve"], { PORT: "8090", DATA_DIR: dir });
    expect(result.code).toBe(2);
    expect(result.err).toEqual(["tenge-gateway dt-ledger serve: PORT is a gateway setting that dt-ledger serve ignores: use DT_LEDGER_PORT for the DT ledger service"]);
    const typo = await cli(["dt-ledger", "serve"], { DT_LEDGER_PROT: "8090", DATA_DIR: dir });
    expect(typo.err).toEqual(["tenge-gateway dt-ledger serve: DT_LEDGER_PROT is not a setting (did you mean DT_LEDGER_PORT?); rename or unset it"]);
  });

  it("reads the statement signing key from DT_LEDGER_OPERATOR_KEY_FILE, without --demo", () => {
    const keyFile = join(dir, "operator.key");
    writeFileSync(keyFile, `0x${"11".repeat(32)}\n`);
    chmodSync(keyFile, 0o600);
    expect(loadDtLedgerServiceConfig({ DT_LEDGER_OPERATOR_KEY_FILE: keyFile }).operatorKey).toBe(`0x${"11".repeat(32)}`);
    chmodSync(keyFile, 0o644);
    expect(() => loadDtLedgerServiceConfig({ DT_LEDGER_OPERATOR_KEY_FILE: keyFile })).toThrow(/must not be readable by group or others/);
  });
});

describe("database errors say what is wrong and what to do", () => {
  it("explains authentication failures and refused permissions in words, never the password", () => {
    const url = "postgres://gateway:hunter2@db.example:5433/tenge";
    const auth = describeConnectionProblem(url, Object.assign(new Error("password authentication failed"), { code: "28P01" }));
    expect(auth).toBe('was refused by PostgreSQL at db.example:5433: authentication failed for user "gateway" (28P01): check the user and password in the URL and the server\'s pg_hba.conf');
    expect(auth).not.toContain("hunter2");
  });

  it("names a missing database and how to create it (on this machine's PostgreSQL when DATABASE_URL is set)", async () => {
    if (!process.env["DATABASE_URL"]) {
      const missing = describeConnectionProblem("postgres://postgres@127.0.0.1:5432/tenge", Object.assign(new Error("database does not exist"), { code: "3D000" }));
      expect(missing).toBe('names database "tenge" on 127.0.0.1:5432, which does not exist (3D000): create it (createdb -h 127.0.0.1 -p 5432 -U postgres tenge) or fix the name');
      return;
    }
    const server = new URL(process.env["DATABASE_URL"]);
    server.pathname = "/tenge_no_such_database";
    const result = await cli(["migrate"], { DATABASE_URL: server.toString(), DATA_DIR: dir });
    expect(result.code).toBe(2);
    expect(result.err).toEqual([
      `tenge-gateway migrate: DATABASE_URL names database "tenge_no_such_database" on ${server.hostname}:${server.port || 5432}, which does not exist (3D000): create it (createdb -h ${server.hostname} -p ${server.port || 5432} -U ${server.username} tenge_no_such_database) or fix the name`,
    ]);
  });

  it("says nobody answers at an address where no server listens", async () => {
    const probe = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:1/x" });
    const error = await probe.connect().then(() => undefined, (caught: unknown) => caught);
    expect(describeConnectionProblem("postgres://postgres@127.0.0.1:1/x", error)).toMatch(/^points at 127.0.0.1:1, where no PostgreSQL server answers \(ECONNREFUSED\)/);
  });
});
