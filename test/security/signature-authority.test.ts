import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { registerParticipant } from "../../src/dt-ledger/participants.ts";
import { dtLedgerMigrations } from "../../src/dt-ledger/schema.ts";
import { connectGatewayDatabase } from "../../src/gateway/database.ts";
import { startGateway, type RunningGateway } from "../../src/gateway/run.ts";
import { ed25519PrivateKey, ed25519RawPublicKey, generateEd25519, signRequest } from "../../src/identity/http-signature.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

const MESSAGE = "<Document/>";

/** POST over plain node:http, so the Host header is exactly the one the attacker chose. */
function post(url: string, host: string, headers: Record<string, string>, body: string): Promise<{ status: number; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const sent = request({ hostname: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { ...headers, host, "content-type": "application/xml" } }, (response) => {
      let text = "";
      response.on("data", (chunk: Buffer) => (text += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, code: (JSON.parse(text) as { code?: string }).code }));
    });
    sent.on("error", reject);
    sent.end(body);
  });
}

/**
 * A started gateway without PUBLIC_URL (as the embedded stack runs) still knows its own authority: the
 * address it listens on. A message a correspondent signed for another service that shares its key, replayed
 * here with that service's Host, is refused.
 */
describe("signed requests are bound to our own authority even without PUBLIC_URL", () => {
  const dir = mkdtempSync(join(tmpdir(), "tg-authority-"));
  const signer = generateEd25519();
  let testDb: TestDatabase;
  let gateway: RunningGateway;

  beforeAll(async () => {
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
    const db = await connectGatewayDatabase(config);
    await migrate(db, [dtLedgerMigrations]);
    await registerParticipant(db, { id: "TENGEGW", name: "Tenge Gateway", role: "gateway" });
    await db.close();
    gateway = await startGateway(config, { env });
    const identity = new IdentityStore(gateway.db);
    await identity.createPrincipal("correspondent", "First Central Bank", "fcb", { bic: "FCBKAEAD" });
    await identity.registerSigningKey("fcb", Buffer.from(ed25519RawPublicKey(ed25519PrivateKey(signer.seed))).toString("hex"), "fcb-1");
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await testDb?.drop();
  });

  const signedFor = (authority: string) =>
    signRequest({ method: "POST", url: `http://${authority}/iso20022/validate`, body: MESSAGE }, { keyId: "fcb-1", privateKey: ed25519PrivateKey(signer.seed) });

  it("refuses a message signed for another authority, replayed with that authority as Host", async () => {
    const other = "ledger.example:8090";
    const replayed = await post(`${gateway.url}/iso20022/validate`, other, signedFor(other), MESSAGE);
    expect(replayed).toEqual({ status: 401, code: "SIGNATURE_AUTHORITY" });
  });

  it("serves the same correspondent's message signed for the address it listens on", async () => {
    const ours = new URL(gateway.url).host;
    const accepted = await post(`${gateway.url}/iso20022/validate`, ours, signedFor(ours), MESSAGE);
    expect(accepted.status).toBe(200);
  });
});
