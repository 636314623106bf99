import { describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { commands } from "../../src/cli/commands.ts";
import { configVariables } from "../../src/config/config.ts";
import { main } from "../../src/cli/main.ts";

const run = promisify(execFile);
const bin = join(import.meta.dirname, "../../bin/tenge-gateway.js");

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env: { PATH: process.env["PATH"], ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function listen(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = await listen();
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line), env: {} }, out, err };
}

describe("tenge-gateway CLI", () => {
  it("stops on a bad PORT with one line naming it and exit code 2", async () => {
    const result = await cli(["start"], { PORT: "80a80", DATA_DIR: mkdtempSync(join(tmpdir(), "tg-cli-")) });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual(['tenge-gateway start: PORT must be an integer from 0 to 65535, got "80a80"']);
  });

  it("stops on a malformed or unreachable DATABASE_URL with one line and exit code 2, never the password", async () => {
    const malformed = await cli(["migrate"], { DATABASE_URL: "postgres//nowhere" });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr.trim().split("\n")).toHaveLength(1);
    expect(malformed.stderr).toMatch(/^tenge-gateway migrate: DATABASE_URL must be a URL/);
    const unreachable = await cli(["start"], { DATABASE_URL: "postgres://postgres:s3cret@127.0.0.1:1/test" });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr.trim().split("\n")).toEqual([
      "tenge-gateway start: DATABASE_URL points at 127.0.0.1:1, where no PostgreSQL server answers (ECONNREFUSED): start the server (pg_isready -h 127.0.0.1 -p 1) or fix the host and port",
    ]);
    expect(unreachable.stderr).not.toContain("s3cret");
  });

  it("prints help for every command and an overview", async () => {
    for (const entry of commands) {
      const { io, out } = capture();
      expect(await main([...entry.words, "--help"], io)).toBe(0);
      expect(out.join("\n")).toMatch(/^Usage: npx tenge-gateway /);
    }
    const { io, out } = capture();
    expect(await main(["--help"], io)).toBe(0);
    for (const entry of commands) expect(out.join("\n")).toContain(entry.words.join(" "));
  });

  it("runs as `npx tenge-gateway` from the repository with Node >= 22.13 on PATH, as the README documents", async () => {
    // A user's shell: no variables of an enclosing npx (the test runner itself may run under one).
    const { stdout } = await run("npx", ["tenge-gateway", "pvp", "list", "--help"], {
      cwd: join(import.meta.dirname, "../.."),
      env: { PATH: process.env["PATH"], HOME: process.env["HOME"] },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/^Usage: npx tenge-gateway pvp list /);
  });

  it("`start --help` names every setting of the gateway, the embedded chain's included", async () => {
    const { io, out } = capture();
    expect(await main(["start", "--help"], io)).toBe(0);
    for (const variable of Object.values(configVariables)) expect(out.join("\n")).toContain(variable);
  });

  it("stops before the embedded stack starts when PORT is taken, naming PORT", async () => {
    const taken = await listen();
    try {
      const port = (taken.address() as { port: number }).port;
      const dataDir = mkdtempSync(join(tmpdir(), "tg-cli-"));
      const result = await cli(["start"], { PORT: String(port), EMBEDDED_CHAIN_PORT: "0", EMBEDDED_PEER_PORT: "0", EMBEDDED_DT_LEDGER_PORT: "0", DATA_DIR: dataDir });
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split("\n")).toEqual([`tenge-gateway start: PORT ${port} on 127.0.0.1 is in use (EADDRINUSE): stop what listens there, or set PORT=0 for a free port`]);
      // Nothing started: the embedded stack wrote nothing under DATA_DIR.
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      taken.close();
    }
  });

  it("stops with one line and exit code 2 when the embedded chain's port is taken, naming EMBEDDED_CHAIN_PORT", async () => {
    const taken = await listen();
    try {
      const port = (taken.address() as { port: number }).port;
      const result = await cli(["start"], { PORT: "0", EMBEDDED_CHAIN_PORT: String(port), DATA_DIR: mkdtempSync(join(tmpdir(), "tg-cli-")) });
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split("\n")).toEqual([
        `tenge-gateway start: EMBEDDED_CHAIN_PORT ${port} on 127.0.0.1 is in use (EADDRINUSE), perhaps by another chain node: stop it, or set EMBEDDED_CHAIN_PORT=0 for a free port`,
      ]);
    } finally {
      taken.close();
    }
  });

  it("says in one line with a code, exit code 1, when the gateway the CLI calls is not running", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await cli(["pvp", "list", "--url", url, "--api-key", "tgk_x"]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([`tenge-gateway pvp list: GATEWAY_UNREACHABLE: cannot reach the gateway at ${url} (ECONNREFUSED)`]);
    const verify = await cli(["collateral", "verify", "--url", url, "--rpc", url]);
    expect(verify.code).toBe(1);
    expect(verify.stderr.trim().split("\n")).toEqual([`tenge-gateway collateral verify: GATEWAY_UNREACHABLE: cannot reach the gateway at ${url}/proof-of-collateral (ECONNREFUSED)`]);
  });

  it("ends quietly with exit code 0 when the reader of its output goes away (`| head`)", async () => {
    const child = spawn(process.execPath, [bin, "--help"], { env: { PATH: process.env["PATH"] }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("refuses unknown commands and options with exit code 2", async () => {
    const unknown = capture();
    expect(await main(["launch"], unknown.io)).toBe(2);
    expect(unknown.err[0]).toContain('unknown command "launch"');
    const option = capture();
    expect(await main(["keys", "create", "--colour", "red"], option.io)).toBe(2);
  });

  it("refuses keys on the embedded demo's directory with one line saying why: it starts fresh at every start", async () => {
    const refused = await cli(["keys", "create", "--role", "exchange", "--name", "KASE Digital"], { DATA_DIR: mkdtempSync(join(tmpdir(), "tg-cli-")) });
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toMatch(/^tenge-gateway keys create: EMBEDDED is on \(EMBEDDED_STATE_NOT_KEPT\): the embedded demo starts fresh at every start/);
  });

  it("migrates, issues, lists and revokes keys against a lasting PGlite database (EMBEDDED=false)", async () => {
    const env = { DATA_DIR: mkdtempSync(join(tmpdir(), "tg-cli-")), EMBEDDED: "false" };
    const migrated = await cli(["migrate"], env);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain("applied identity 0001_identity");
    expect((await cli(["migrate"], env)).stdout.trim()).toBe("schema is up to date");
    const created = await cli(["keys", "create", "--role", "exchange", "--name", "KASE Digital", "--id", "kase", "--bic", "KASEKZKA"], env);
    expect(created.code).toBe(0);
    const issued = JSON.parse(created.stdout);
    expect(issued).toMatchObject({ principal: "kase", credentialId: expect.stringMatching(/^tgk_/), apiKey: expect.stringMatching(/^tgk_/) });
    const listed = await cli(["keys", "list"], env);
    expect(listed.stdout).toContain(issued.credentialId);
    expect(listed.stdout).not.toContain(issued.apiKey);
    const revoked = await cli(["keys", "revoke", "--principal", "kase"], env);
    expect(JSON.parse(revoked.stdout)).toEqual({ revoked: "kase", kind: "principal" });
    // A bank is bound to its institution: BIC and the DT participant servicing its accounts.
    expect((await cli(["keys", "create", "--role", "bank", "--name", "Halyk Bank", "--bic", "HSBKKZKX"], env)).code).toBe(2);
    const halyk = await cli(["keys", "create", "--role", "bank", "--name", "Halyk Bank", "--id", "halyk", "--bic", "HSBKKZKX", "--dt-participant", "HSBKKZKX"], env);
    expect(halyk.code).toBe(0);
    expect((await cli(["keys", "list"], env)).stdout).toContain('"institution":{"bic":"HSBKKZKX","dtParticipant":"HSBKKZKX"}');
    expect((await cli(["keys", "ledger-account", "--bic", "HSBKKZKX", "--ledger", "evm", "--account", "0x2222222222222222222222222222222222222222"], env)).code).toBe(0);
    const badRole = await cli(["keys", "create", "--role", "king", "--name", "x"], env);
    expect(badRole.code).toBe(2);
  }, 180_000);
});

describe("tenge-gateway start", () => {
  it("runs the embedded stack, serves readiness and OpenAPI until SIGTERM, then exits 0", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tg-start-"));
    const child = spawn(process.execPath, [bin, "start"], {
      env: { PATH: process.env["PATH"], PORT: "0", EMBEDDED_CHAIN_PORT: "0", EMBEDDED_PEER_PORT: "0", EMBEDDED_DT_LEDGER_PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", () => {
        const match = /listening on (http:\/\/\S+)/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      child.on("exit", (code) => reject(new Error(`exited early with ${code}`)));
    });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const readiness = (await ready.json()) as { checks: { name: string; ok: boolean }[]; features: { name: string; on: boolean }[] };
    expect(readiness.checks).toEqual(["database", "migrations", "dt-ledger (embedded)", "evm-chain (embedded, 31337)", "stablecoin-chain (31337)", "stablecoin-chain (31338)", "stablecoin-workers", "pvp leg dt", "pvp leg evm", "pvp leg securities"].map((name) => ({ name, ok: true })));
    // The embedded stack is one configuration of the composition root: every feature on, and said so at start.
    expect(readiness.features.map((feature) => [feature.name, feature.on])).toEqual([
      ["dt-ledger", true],
      ["stablecoin", true],
      ["proof-of-collateral", true],
      ["pvp", true],
      ["dvp", true],
    ]);
    expect(stdout).toContain("feature pvp: on (agent NBRKKZKX, ledgers dt, evm");
    expect(stdout).toContain("feature dvp: on (KZKD00001020 on securities)");
    // Its generated keys are readable by the owner only.
    for (const file of ["pvp-secret-key", "attestation-key.json", "demo-credentials.json"]) expect(statSync(join(dataDir, file)).mode & 0o777).toBe(0o600);
    // The demo mints (one per chain) are minted by the gateway's own workers and attested over both chains:
    // 1,000,000.00 on the first and 500,000.00 on the second, backed by 1,500,000.00 DT of collateral.
    let attested: { collateral: { balance: string }; totalSupply: string; chains: { chainId: number; supply: string }[] } | undefined;
    const done = () => attested?.totalSupply === "150000000" && attested.collateral.balance === "150000000";
    for (let attempt = 0; attempt < 100 && !done(); attempt++) {
      attested = ((await (await fetch(`${url}/proof-of-collateral`)).json()) as { attestation: typeof attested }).attestation;
      if (!done()) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(attested).toMatchObject({ collateral: { balance: "150000000" }, totalSupply: "150000000" });
    expect(attested!.chains.map((chain) => [chain.chainId, chain.supply])).toEqual([[31337, "100000000"], [31338, "50000000"]]);
    // The demo bank (Halyk) creates a PvP with the demo values, and may not pay from the Treasury's accounts.
    const demo = JSON.parse(readFileSync(join(dataDir, "demo-credentials.json"), "utf8")) as {
      bank: { apiKey: string; bic: string };
      pvp: Record<string, string>;
      dtLedger: { accounts: { ministry: { id: string } } };
    };
    expect(demo.bank.bic).toBe("HSBKKZKX");
    const pvpCreate = (dtPayer: string) =>
      cli(
        ["pvp", "create", "--counterparty", demo.pvp["counterparty"]!, "--dt-payer", dtPayer, "--dt-beneficiary", demo.pvp["dtBeneficiary"]!, "--dt-amount", "15000.00",
          "--foreign-ledger", "evm", "--foreign-payer", demo.pvp["foreignPayer"]!, "--foreign-beneficiary", demo.pvp["foreignBeneficiary"]!, "--foreign-amount", "120.00", "--foreign-currency", "AED"],
        { TENGE_GATEWAY_URL: url, TENGE_API_KEY: demo.bank.apiKey },
      );
    const created = await pvpCreate(demo.pvp["dtPayer"]!);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ state: "INITIATED", createdBy: "demo-bank-halyk" });
    const treasury = await pvpCreate(demo.dtLedger.accounts.ministry.id);
    expect(treasury.code).toBe(1);
    expect(treasury.stderr).toContain("DT_PAYER_NOT_SERVICED");
    const openapi = (await (await fetch(`${url}/docs/json`)).json()) as { openapi: string };
    expect(openapi.openapi).toMatch(/^3\./);
    expect(stdout).toContain(`${url}/docs`);
    // A second gateway on the same data directory is refused in one line; the first one runs on.
    const second = await cli(["start"], { PORT: "0", EMBEDDED_CHAIN_PORT: "0", DATA_DIR: dataDir });
    expect(second.code).toBe(2);
    expect(second.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(new RegExp(`^tenge-gateway start: DATA_DIR is in use \\(DATA_DIR_IN_USE\\): the embedded database in .* is held by process ${child.pid};`)),
    ]);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const exitCode = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.kill("SIGTERM");
    expect(await exitCode).toBe(0);
  }, 180_000); // the whole embedded stack in a child process: minutes on a loaded machine
});
