import { spawn } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "../../bin/tenge-gateway.js");

/** Every entry under `root` whose mode is not owner-only (directories 0700, files 0600). */
function notOwnerOnly(root: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    const mode = stat.mode & 0o777;
    if (mode !== (stat.isDirectory() ? 0o700 : 0o600)) found.push(`${relative(root, path) || "."} ${mode.toString(8)}`);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
  };
  walk(root);
  return found;
}

/** Runs a long-lived command until it prints `ready`, checks the data directory while it runs, then stops it. */
async function whileRunning(args: string[], env: Record<string, string>, ready: RegExp, check: () => void): Promise<void> {
  const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env["PATH"], LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      if (ready.test(stdout)) resolve();
    });
    child.on("exit", (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  try {
    check();
  } finally {
    child.kill("SIGTERM");
  }
  expect(await exited).toBe(0);
}

describe("secrets at rest: DATA_DIR is owner-only", () => {
  it("keeps the gateway's PGlite files, the embedded DT ledger and the demo credentials 0700/0600, fixing older loose modes", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tg-private-"));
    // State from an older version: a world-readable directory and file.
    mkdirSync(join(dataDir, "old"), { mode: 0o755 });
    writeFileSync(join(dataDir, "old", "notes.json"), "{}", { mode: 0o644 });
    const env = { DATA_DIR: dataDir, PORT: "0", EMBEDDED_CHAIN_PORT: "0", EMBEDDED_PEER_PORT: "0", EMBEDDED_DT_LEDGER_PORT: "0" };
    await whileRunning(["start"], env, /listening on http/, () => {
      expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(["embedded", "demo-credentials.json", "attestation-key.json"]));
      expect(notOwnerOnly(dataDir)).toEqual([]);
    });
    expect(notOwnerOnly(dataDir)).toEqual([]);
  }, 120_000);

  it("keeps the DT ledger service's own PGlite files and demo keys owner-only", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tg-private-ledger-"));
    await whileRunning(["dt-ledger", "serve", "--demo"], { DATA_DIR: dataDir, DT_LEDGER_PORT: "0" }, /DT ledger listening/, () => {
      expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(["dt-ledger", "dt-ledger-demo.json"]));
      expect(notOwnerOnly(dataDir)).toEqual([]);
    });
    expect(notOwnerOnly(dataDir)).toEqual([]);
  }, 120_000);
});
