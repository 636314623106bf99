import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpDtLedger } from "../../src/dt-ledger/http/client-adapter.ts";
import { ed25519PrivateKey } from "../../src/identity/http-signature.ts";
import { recoverCollateralStatementSigner } from "../../src/ledger/collateral-statement.ts";
import { openCollateralIntake } from "../../src/stablecoin/collateral-intake.ts";

interface DemoFile {
  participants: Record<string, { id: string; signingSeed: string }>;
  accounts: Record<string, { id: string; balance: string }>;
}

/** `tenge-gateway dt-ledger serve --demo` as a separate process, used over HTTP like the real platform. */
describe("tenge-gateway dt-ledger serve --demo", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "dt-ledger-serve-"));
  let child: ChildProcess;
  let baseUrl: string;
  let demo: DemoFile;

  beforeAll(async () => {
    // PGlite under DATA_DIR: the service must not touch the shared test server.
    const env = { ...process.env, DATA_DIR: dataDir, DT_LEDGER_PORT: "0", LOG_LEVEL: "warn", DATABASE_URL: "", DT_LEDGER_DATABASE_URL: "" };
    child = spawn(process.execPath, ["bin/tenge-gateway.js", "dt-ledger", "serve", "--demo"], { env, stdio: ["ignore", "pipe", "pipe"] });
    baseUrl = await new Promise<string>((resolve, reject) => {
      let output = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const match = /DT ledger listening on (http:\/\/\S+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      child.on("exit", (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
    });
    demo = JSON.parse(readFileSync(join(dataDir, "dt-ledger-demo.json"), "utf8")) as DemoFile;
  });

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  const portFor = (name: string) => {
    const participant = demo.participants[name]!;
    return httpDtLedger({ baseUrl, participantId: participant.id, signingKey: ed25519PrivateKey(Buffer.from(participant.signingSeed, "hex")) });
  };

  it("serves the demo banks' customers and the gateway's segregated wallet, signed by each participant", async () => {
    const halyk = portFor("halyk");
    const gateway = portFor("gateway");
    const kase = demo.accounts["kase"]!.id;
    const wallet = demo.accounts["segregatedWallet"]!.id;
    const intake = await openCollateralIntake(gateway, wallet);
    expect((await halyk.balance(kase)).available).toBe(BigInt(demo.accounts["kase"]!.balance));
    await halyk.transfer({ idempotencyKey: "serve-test-1", from: kase, to: intake, amount: 12_345n, reference: "MINT-SERVE" });
    await gateway.transfer({ idempotencyKey: "serve-test-1-moved", from: intake, to: wallet, amount: 12_345n, reference: "MINT-SERVE" });
    const domain = { chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const };
    const signed = await gateway.collateralStatement({ accountId: wallet, domain });
    expect(signed.statement.balance).toBe(12_345n);
    expect(await recoverCollateralStatementSigner(signed.statement, domain, signed.signature)).toBe(signed.signer);
    const { events } = await gateway.events({ limit: 1000 });
    expect(events.some((event) => event.type === "payment" && event.reference === "MINT-SERVE")).toBe(true);
  });

  /** `tenge-gateway dt-ledger pay` as a participant runs it: its own process, its key from a 0600 file. */
  const pay = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const run = spawn(process.execPath, ["bin/tenge-gateway.js", "dt-ledger", "pay", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      run.stdout!.on("data", (chunk: Buffer) => void (stdout += chunk.toString()));
      run.stderr!.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
      run.on("exit", (code) => resolve({ code, stdout, stderr }));
    });

  it("dt-ledger pay: a participant pays its mint from its own account, signed with its key; others' accounts are refused", async () => {
    const halyk = demo.participants["halyk"]!;
    const keyFile = join(dataDir, "halyk-seed");
    writeFileSync(keyFile, halyk.signingSeed, { mode: 0o600 });
    const kase = demo.accounts["kase"]!.id;
    // Mint deposits go to the gateway's collateral intake (the segregated wallet takes DT only from the gateway).
    const wallet = await openCollateralIntake(portFor("gateway"), demo.accounts["segregatedWallet"]!.id);
    const env = { DT_LEDGER_URL: baseUrl, DT_LEDGER_PARTICIPANT: halyk.id, DT_LEDGER_SIGNING_KEY_FILE: keyFile };
    const before = (await portFor("halyk").balance(kase)).available;
    const paid = await pay(["--from", kase, "--to", wallet, "--amount", "2500.00", "--reference", "MINT-CLI", "--idempotency-key", "cli-pay-1"], env);
    expect(paid.code, paid.stderr).toBe(0);
    expect(JSON.parse(paid.stdout)).toMatchObject({ from: kase, to: wallet, amount: "2500.00", currency: "KZT", reference: "MINT-CLI" });
    // The same idempotency key again: the same payment, not a second one.
    const again = await pay(["--from", kase, "--to", wallet, "--amount", "2500.00", "--reference", "MINT-CLI", "--idempotency-key", "cli-pay-1"], env);
    expect(JSON.parse(again.stdout).transactionId).toBe(JSON.parse(paid.stdout).transactionId);
    expect((await portFor("halyk").balance(kase)).available).toBe(before - 250_000n);
    expect(paid.stdout + paid.stderr).not.toContain(halyk.signingSeed);
    // Another bank's customer cannot be paid from by Halyk's key: one line with the ledger's code, exit 1.
    const refused = await pay(["--from", demo.accounts["daniyar"]!.id, "--to", wallet, "--amount", "1.00"], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/FORBIDDEN_ACCOUNT: /);
    expect(refused.stderr).not.toContain("    at ");
    // A bad amount is a usage error (exit 2), and nothing is paid.
    const bad = await pay(["--from", kase, "--to", wallet, "--amount", "1.001"], env);
    expect(bad.code).toBe(2);
    expect((await portFor("halyk").balance(kase)).available).toBe(before - 250_000n);
  });
});
