/**
 * `npm run test:runbook`: docs/deploy.md's runbook run as written. Its ```sh runbook blocks are joined, in order,
 * into one bash script (each block's first line announced, so a failure names the block) and run from the
 * repository's root on this machine's PostgreSQL server, from empty databases to the first settled PvP, mint,
 * redemption and verified proof of collateral. The run sets only the runbook's own names: a fresh STATE_DIR (a
 * temporary directory outside the repository), a fresh DB_PREFIX (databases dropped at the end) and free ports.
 * `npx tenge-gateway` and `npx hardhat` are what npx runs in the checkout: this repository's CLI and its Hardhat.
 *
 * Every process the script starts lives in the script's own process group, which is killed at the end, also on
 * failure, timeout or Ctrl+C. On failure the script's output and the tails of the logs under STATE_DIR are
 * printed and the directory kept.
 *
 * RUNBOOK_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the server; RUNBOOK_KEEP=1 keeps
 * the run directory after a pass.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { freePort } from "../topology/processes.ts";
import { runbookBlocks, runbookScript } from "./extract.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const TIMEOUT_MS = 8 * 60_000;
const server = new URL(process.env["RUNBOOK_POSTGRES_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres");

const directory = mkdtempSync(join(tmpdir(), "tenge-runbook-"));
const stateDir = join(directory, "state");
const prefix = `tg_runbook_${randomBytes(4).toString("hex")}`;
const [evmPort, dtPort, nbkPort, fcbPort] = [await freePort(), await freePort(), await freePort(), await freePort()];

const prelude = [
  "set -euo pipefail",
  `STATE_DIR=${stateDir}`,
  `PGHOST=${server.hostname} PGUSER=${decodeURIComponent(server.username) || "postgres"} DB_PREFIX=${prefix}`,
  `EVM_PORT=${evmPort} DT_PORT=${dtPort} NBK_PORT=${nbkPort} FCB_PORT=${fcbPort}`,
  // What `npx <bin>` resolves to in this checkout (an npx inside a Node 24 `npx -c` would refuse to run: EUSAGE).
  `npx() { case "$1" in tenge-gateway) shift; node ${join(ROOT, "bin", "tenge-gateway.js")} "$@" ;; hardhat) shift; ${join(ROOT, "node_modules", ".bin", "hardhat")} "$@" ;; *) echo "runbook: npx $1 is not this repository's" >&2; return 1 ;; esac; }`,
].join("\n");
// RUNBOOK_FILE: another copy of the document (to try a change, or a failure and its cleanup).
const markdown = readFileSync(process.env["RUNBOOK_FILE"] ?? join(ROOT, "docs", "deploy.md"), "utf8");
const blockCount = runbookBlocks(markdown).length;
const script = `${prelude}\n${runbookScript(markdown)}\necho "runbook: done"\n`;

// Files the runbook creates go outside the repository: the checkout's status (ignored files too) must not change.
const repositoryFiles = () => execFileSync("git", ["status", "--porcelain", "--ignored"], { cwd: ROOT, encoding: "utf8" });
const filesBefore = repositoryFiles();

const outputFile = join(directory, "runbook.out");
const fd = openSync(outputFile, "a");
// detached: the script leads a process group of its own; every background process of the runbook joins it.
const bash = spawn("bash", ["-c", script], {
  cwd: ROOT,
  detached: true,
  stdio: ["ignore", fd, fd],
  env: {
    PATH: `${dirname(process.execPath)}:${process.env["PATH"] ?? "/usr/bin:/bin"}`,
    HOME: process.env["HOME"] ?? directory,
    HARDHAT_DISABLE_TELEMETRY_PROMPT: "true",
    ...(server.password ? { PGPASSWORD: decodeURIComponent(server.password) } : {}),
  },
});
closeSync(fd);
const group = bash.pid!;
const exited = new Promise<number | string>((resolve) => bash.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));

/** Signals the whole group (the script and everything it started in the background); true while any member lives. */
const signalGroup = (signal: NodeJS.Signals | 0): boolean => {
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false;
  }
};
const stopGroup = async () => {
  if (!signalGroup("SIGTERM")) return;
  for (let waited = 0; waited < 10_000; waited += 200) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (!signalGroup(0)) return;
  }
  signalGroup("SIGKILL");
};
const dropDatabases = async () => {
  const client = new pg.Client({ connectionString: server.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${prefix}_%`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    console.error(`runbook: ${signal}, cleaning up`);
    void stopGroup().then(dropDatabases).finally(() => process.exit(130));
  });
}
process.once("exit", () => signalGroup("SIGKILL"));

console.error(`runbook: ${directory} (databases ${prefix}_*, ports ${evmPort}, ${dtPort}, ${nbkPort}, ${fcbPort})`);
const started = Date.now();
let timer: NodeJS.Timeout | undefined;
const outcome = await Promise.race([exited, new Promise<string>((resolve) => (timer = setTimeout(() => resolve("timeout"), TIMEOUT_MS)))]);
clearTimeout(timer);
const output = readFileSync(outputFile, "utf8");
const blocksRun = output.split("\n").filter((line) => line.startsWith("runbook: block at ")).length;
await stopGroup();
const written = repositoryFiles().split("\n").filter((line) => line && !filesBefore.split("\n").includes(line));
const passed = outcome === 0 && blocksRun === blockCount && output.trimEnd().endsWith("runbook: done") && written.length === 0;
if (written.length > 0) console.error(`runbook: wrote into the repository:\n${written.join("\n")}`);
await dropDatabases().catch((error: unknown) => console.error(`runbook: dropping the databases failed: ${String(error)}`));
const seconds = Math.round((Date.now() - started) / 1000);
if (passed) {
  console.log(JSON.stringify({ runbook: "passed", blocks: blocksRun, seconds }));
  if (process.env["RUNBOOK_KEEP"]) console.error(`runbook: kept ${directory} (RUNBOOK_KEEP)`);
  else rmSync(directory, { recursive: true, force: true });
  process.exit(0);
}
console.error(`runbook: FAILED (${outcome === "timeout" ? `timed out after ${TIMEOUT_MS / 1000} s` : `exit ${outcome}`}) after ${seconds} s\n--- the script's output ---\n${tail(output, 60)}`);
if (existsSync(stateDir)) {
  for (const name of readdirSync(stateDir).filter((each) => each.endsWith(".log"))) {
    console.error(`--- ${name} ---\n${tail(readFileSync(join(stateDir, name), "utf8"), 30)}`);
  }
}
console.error(`runbook: kept ${directory}`);
process.exit(1);

function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
