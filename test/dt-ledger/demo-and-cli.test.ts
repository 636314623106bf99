import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { seedDemoLedger } from "../../src/dt-ledger/demo.ts";
import type { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { migratedLedger, TestClock } from "./support.ts";

describe("demo DT platform", () => {
  let database: TestDatabase;
  let ledger: DtLedger;
  beforeAll(async () => {
    database = await createTestDatabase();
    ledger = await migratedLedger(database.db, new TestClock());
  });
  afterAll(() => database.drop());

  it("seeds the NBK, banks, the Treasury, the gateway and funded accounts, once", async () => {
    const demo = await seedDemoLedger(ledger);
    expect(demo.participants.nbk.role).toBe("central_bank");
    expect(demo.accounts.segregatedWallet).toMatchObject({ kind: "segregated_wallet", participantId: demo.participants.gateway.id });
    const balance = await ledger.balance(demo.participants.halyk.id, demo.accounts.aigerim.id);
    expect(balance.available).toBe(demo.accounts.aigerim.balance);
    const seeds = Object.fromEntries(Object.values(demo.participants).map((participant) => [participant.id, participant.signingSeed]));
    const again = await seedDemoLedger(ledger, seeds);
    expect(again.accounts.aigerim.id).toBe(demo.accounts.aigerim.id);
    expect(again.participants.halyk.publicKey).toBe(demo.participants.halyk.publicKey);
    expect((await ledger.balance(demo.participants.halyk.id, demo.accounts.aigerim.id)).available).toBe(demo.accounts.aigerim.balance);
    const supply = (await ledger.monitoring(demo.participants.nbk.id)).supply;
    expect(supply).toBe(Object.values(demo.accounts).reduce((sum, account) => sum + account.balance, 0n));
  });
});

describe("tenge-gateway dt-ledger commands", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "dt-ledger-cli-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function run(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    // The commands open PGlite under DATA_DIR: no DATABASE_URL, so the test does not touch a shared server.
    const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line), env: { DATA_DIR: dataDir } });
    return { code, out: out.join("\n"), err: err.join("\n") };
  }

  it("documents serve with --help", async () => {
    const result = await run(["dt-ledger", "serve", "--help"]);
    expect(result.code).toBe(0);
    expect(result.out).toContain("DT_LEDGER_OPERATOR_KEY");
  });

  it("registers and lists participants, refusing bad usage with exit code 2", async () => {
    const key = "11".repeat(32);
    expect((await run(["dt-ledger", "participants", "add", "--id", "HSBKKZKX", "--name", "Halyk Bank", "--role", "bank", "--public-key", key])).code).toBe(0);
    const listed = await run(["dt-ledger", "participants", "list"]);
    expect(listed.out).toMatch(/HSBKKZKX\s+bank\s+key\s+Halyk Bank/);
    expect((await run(["dt-ledger", "participants", "add", "--id", "X", "--role", "pope"])).code).toBe(2);
    expect((await run(["dt-ledger", "serve", "--bogus"])).code).toBe(2);
  });
});
