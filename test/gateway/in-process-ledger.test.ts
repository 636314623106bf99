import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey } from "viem/accounts";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { registerParticipant } from "../../src/dt-ledger/participants.ts";
import { dtLedgerMigrations } from "../../src/dt-ledger/schema.ts";
import { connectGatewayDatabase } from "../../src/gateway/database.ts";
import { startGateway } from "../../src/gateway/run.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

/** A central bank running the DT ledger inside the gateway, on the gateway's own database. */
describe("the DT ledger in-process on the gateway's database (DT_LEDGER_IN_PROCESS)", () => {
  const dir = mkdtempSync(join(tmpdir(), "tg-in-process-"));
  let testDb: TestDatabase | undefined;

  afterAll(async () => {
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses to start for a participant the ledger does not know, then runs once it is registered", async () => {
    testDb = await createTestDatabase();
    if (testDb.url) await testDb.db.close();
    const keyFile = join(dir, "operator-key");
    writeFileSync(keyFile, generatePrivateKey());
    chmodSync(keyFile, 0o600);
    const env: NodeJS.ProcessEnv = {
      ...(testDb.url ? { DATABASE_URL: testDb.url } : { DATA_DIR: join(dir, "data"), EMBEDDED: "false" }),
      PORT: "0",
      LOG_LEVEL: "silent",
      DT_LEDGER_IN_PROCESS: "true",
      DT_LEDGER_PARTICIPANT: "TENGEGW",
      DT_LEDGER_OPERATOR_KEY_FILE: keyFile,
    };
    const config = loadConfig(env);
    await expect(startGateway(config, { env })).rejects.toThrow(/^DT_LEDGER_PARTICIPANT names TENGEGW, which is not a participant of the in-process DT ledger/);

    const db = await connectGatewayDatabase(config);
    await migrate(db, [dtLedgerMigrations]);
    await registerParticipant(db, { id: "TENGEGW", name: "Tenge Gateway", role: "gateway" });
    await db.close();

    const gateway = await startGateway(config, { env });
    try {
      expect(gateway.features.find((feature) => feature.name === "dt-ledger")).toMatchObject({ on: true, detail: "in-process on the gateway's database as TENGEGW" });
      expect(gateway.features.find((feature) => feature.name === "pvp")).toMatchObject({ on: false, detail: "PVP_AGENT_BIC unset" });
      const ready = await fetch(`${gateway.url}/readyz`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { checks: Array<{ name: string; ok: boolean }> };
      expect(body.checks).toContainEqual({ name: "dt-ledger (in-process)", ok: true });
      // Without the feature's settings there are no routes of it.
      expect((await fetch(`${gateway.url}/proof-of-collateral`)).status).toBe(404);
    } finally {
      await gateway.close();
    }
  }, 60_000);
});
