import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { loadConfig } from "../../src/config/config.ts";
import { correspondentStore } from "../../src/correspondents/store.ts";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { composeGateway, type ComposedGateway } from "../../src/gateway/features.ts";
import { loadDeploymentSettings, type PvpSettings } from "../../src/gateway/settings.ts";
import { ed25519PrivateKey, generateEd25519, signRequest } from "../../src/identity/http-signature.ts";
import { identityRoutes } from "../../src/identity/routes.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { buildGatewayApp } from "../../src/server/app.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import { loadStablecoinEnvironment } from "../../src/stablecoin/stablecoin-config.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startDtStack } from "../support/pvp/dt-stack.ts";

const silent = () => createLogger("silent", new Writable({ write: (_chunk, _encoding, done) => done() }));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const HOUR = 3_600_000;

interface Gateway {
  testDb: TestDatabase;
  app: FastifyInstance;
  composed: ComposedGateway;
  operatorKey: string;
  bankKey: string;
}

async function gateway(pvp: PvpSettings, clock: () => Date): Promise<Gateway> {
  const testDb = await createTestDatabase();
  await migrate(testDb.db, gatewayMigrations());
  const identity = new IdentityStore(testDb.db);
  const dt = await startDtStack(testDb.db, clock);
  const composed = await composeGateway({
    db: testDb.db,
    logger: silent(),
    metrics: createMetricsRegistry(),
    ports: { dtLedger: { port: dt.port, description: "test" }, stablecoinChains: [], foreignLegs: [], readiness: [], stop: async () => {} },
    settings: { dtLedger: undefined, stablecoinChains: [], stablecoin: loadStablecoinEnvironment({}), pvp },
    attestationKey: undefined,
    pvpSecretKey: randomBytes(32),
    publicUrl: "http://127.0.0.1",
    pvp: { clock: { now: clock } },
  });
  const app = await buildGatewayApp({
    db: testDb.db,
    logger: silent(),
    metrics: createMetricsRegistry(),
    migrationSets: gatewayMigrations(),
    bodyLimitBytes: 1024 * 1024,
    signatureMaxSkewSeconds: 300,
    features: [identityRoutes(identity), ...composed.features.flatMap((feature) => feature.routes)],
    featureStatus: composed.status,
  });
  const operatorKey = (await identity.issueApiKey(await identity.createPrincipal("operator", "Ops"))).apiKey;
  const bankKey = (await identity.issueApiKey(await identity.createPrincipal("bank", "Halyk"))).apiKey;
  return { testDb, app, composed, operatorKey, bankKey };
}

const pvpSettings = (agent: string, signing: PvpSettings["signing"]): PvpSettings => ({
  agent,
  signing,
  secretKey: undefined,
  foreignLedgers: [],
  responderLedger: "dt",
  maxLockSeconds: 86_400,
  homeCurrency: "KZT",
  statusRequestAfterSeconds: 30,
  pollIntervalMs: 1000,
});

describe("our signing keys are published (GET /iso20022/keys) and a correspondent pins them, rotation with an overlap", () => {
  // The NBK rotated from key 1 to key 2 an hour ago, with a day of overlap, and announces key 3 for tomorrow.
  const t0 = new Date();
  let now = t0;
  const clock = () => now;
  const key1 = generateEd25519();
  const key2 = generateEd25519();
  const key3 = generateEd25519();
  const retiredKey = generateEd25519();
  let nbk: Gateway;
  let fcb: Gateway;
  let nbkUrl: string;

  beforeAll(async () => {
    nbk = await gateway(
      pvpSettings("NBRKKZKX", {
        keyId: "NBRKKZKX-2",
        seed: key2.seed,
        validFrom: new Date(t0.getTime() - HOUR),
        next: [{ keyId: "NBRKKZKX-3", publicKey: hex(key3.publicKey), validFrom: new Date(t0.getTime() + 24 * HOUR) }],
        retiring: [
          { keyId: "NBRKKZKX-1", publicKey: hex(key1.publicKey), validUntil: new Date(t0.getTime() + 23 * HOUR) },
          { keyId: "NBRKKZKX-0", publicKey: hex(retiredKey.publicKey), validUntil: new Date(t0.getTime() - 10 * HOUR) },
        ],
      }),
      clock,
    );
    nbkUrl = await nbk.app.listen({ host: "127.0.0.1", port: 0 });
    // The foreign central bank runs this gateway too: the NBK is in its directory, with no key pinned yet.
    fcb = await gateway(pvpSettings("FCBKAEAD", { keyId: "FCBKAEAD-1", seed: generateEd25519().seed }), () => new Date());
    await correspondentStore.add(fcb.testDb.db, { bic: "NBRKKZKX", name: "National Bank of Kazakhstan", baseUrl: nbkUrl });
    await fcb.composed.directory.refresh();
  }, 120_000);

  afterAll(async () => {
    for (const side of [nbk, fcb]) {
      for (const feature of side?.composed.features ?? []) await feature.stop();
      await side?.app.close();
      await side?.testDb.drop();
    }
  });

  /** A message to the foreign central bank signed by the NBK with one of its keys: 400 = authenticated (the body is no message), 401 = refused. */
  const toFcb = async (keyId: string, seed: Uint8Array) => {
    const body = "<NotAnIsoMessage/>";
    const headers = signRequest({ method: "POST", url: "http://localhost:80/iso20022/inbound", body }, { keyId, privateKey: ed25519PrivateKey(seed) });
    return (await fcb.app.inject({ method: "POST", url: "/iso20022/inbound", headers: { ...headers, "content-type": "application/xml" }, payload: body })).statusCode;
  };
  const pin = (key: string | undefined, body: unknown = {}) =>
    fcb.app.inject({ method: "POST", url: "/operator/correspondents/NBRKKZKX/keys/pin", headers: key ? { authorization: `Bearer ${key}` } : {}, payload: body as Record<string, unknown> });
  const pinned = async () =>
    (await correspondentStore.require(fcb.testDb.db, "NBRKKZKX")).signingKeys
      .map((key) => [key.keyId, key.revokedAt === null ? "open" : key.revokedAt.getTime() > Date.now() ? "until" : "revoked"])
      .sort(([a], [b]) => b!.localeCompare(a!));

  it("publishes the BIC and every key with its id, raw public key, validity and status, to anyone", async () => {
    const response = await nbk.app.inject({ method: "GET", url: "/iso20022/keys" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      agent: "NBRKKZKX",
      keys: [
        { keyId: "NBRKKZKX-3", algorithm: "ed25519", publicKey: hex(key3.publicKey), validFrom: new Date(t0.getTime() + 24 * HOUR).toISOString(), validUntil: null, status: "next" },
        { keyId: "NBRKKZKX-2", algorithm: "ed25519", publicKey: hex(key2.publicKey), validFrom: new Date(t0.getTime() - HOUR).toISOString(), validUntil: null, status: "active" },
        { keyId: "NBRKKZKX-1", algorithm: "ed25519", publicKey: hex(key1.publicKey), validFrom: null, validUntil: new Date(t0.getTime() + 23 * HOUR).toISOString(), status: "retiring" },
        { keyId: "NBRKKZKX-0", algorithm: "ed25519", publicKey: hex(retiredKey.publicKey), validFrom: null, validUntil: new Date(t0.getTime() - 10 * HOUR).toISOString(), status: "retired" },
      ],
    });
  });

  it("only an operator pins a correspondent's keys: a bank or nobody is refused and nothing is pinned", async () => {
    expect((await pin(fcb.bankKey)).statusCode).toBe(403);
    expect((await pin(undefined)).statusCode).toBe(401);
    expect(await pinned()).toEqual([]);
    expect(await toFcb("NBRKKZKX-2", key2.seed)).toBe(401);
  });

  it("the correspondent pins the fetched set: the active and the retiring key verify during the overlap, the retired one never", async () => {
    const response = await pin(fcb.operatorKey);
    expect(response.statusCode).toBe(200);
    expect(await pinned()).toEqual([
      ["NBRKKZKX-3", "open"],
      ["NBRKKZKX-2", "open"],
      ["NBRKKZKX-1", "until"],
    ]);
    expect(await toFcb("NBRKKZKX-2", key2.seed)).toBe(400);
    // A process not yet restarted still signs with the old key: accepted until the end of the overlap.
    expect(await toFcb("NBRKKZKX-1", key1.seed)).toBe(400);
    expect(await toFcb("NBRKKZKX-0", retiredKey.seed)).toBe(401);
  });

  it("after retirement the old key is refused: by the instant pinned, and by the set pinned again later", async () => {
    // The set pinned once the overlap is over lists key 1 as retired.
    now = new Date(t0.getTime() + 30 * HOUR);
    expect((await nbk.app.inject({ method: "GET", url: "/iso20022/keys" })).json().keys.find((key: { keyId: string }) => key.keyId === "NBRKKZKX-1").status).toBe("retired");
    expect((await pin(fcb.operatorKey)).statusCode).toBe(200);
    expect(await toFcb("NBRKKZKX-1", key1.seed)).toBe(401);
    expect(await toFcb("NBRKKZKX-2", key2.seed)).toBe(400);
    // A pinned retirement instant takes effect on its own: a retiring key whose validUntil has passed is refused.
    const set = (await nbk.app.inject({ method: "GET", url: "/iso20022/keys" })).json();
    set.keys.find((key: { keyId: string }) => key.keyId === "NBRKKZKX-2").status = "retiring";
    set.keys.find((key: { keyId: string }) => key.keyId === "NBRKKZKX-2").validUntil = new Date(Date.now() - 1000).toISOString();
    set.keys.find((key: { keyId: string }) => key.keyId === "NBRKKZKX-3").status = "active";
    expect((await pin(fcb.operatorKey, { keySet: set })).statusCode).toBe(200);
    expect(await toFcb("NBRKKZKX-2", key2.seed)).toBe(401);
    expect(await toFcb("NBRKKZKX-3", key3.seed)).toBe(400);
  });

  it("refuses a set that changes a pinned key, names another BIC or has no active key, and pins nothing of it", async () => {
    const before = await pinned();
    const set = (await nbk.app.inject({ method: "GET", url: "/iso20022/keys" })).json();
    const changed = structuredClone(set);
    changed.keys[0].publicKey = hex(generateEd25519().publicKey);
    changed.keys.push({ keyId: "NBRKKZKX-9", algorithm: "ed25519", publicKey: hex(generateEd25519().publicKey), validFrom: null, validUntil: null, status: "next" });
    for (const [keySet, status, code] of [
      [changed, 409, "KEY_SET_KEY_CHANGED"],
      [{ ...set, agent: "EVILXXXX" }, 422, "KEY_SET_AGENT_MISMATCH"],
      [{ ...set, keys: set.keys.filter((key: { status: string }) => key.status !== "active") }, 422, "KEY_SET_WITHOUT_ACTIVE_KEY"],
      [{ ...set, keys: [{ ...set.keys[0], publicKey: "zz" }] }, 422, "KEY_SET_INVALID"],
    ] as const) {
      const response = await pin(fcb.operatorKey, { keySet });
      expect([response.statusCode, response.json().code]).toEqual([status, code]);
    }
    expect(await pinned()).toEqual(before);
  });

  it("the CLI prints our published keys and pins a correspondent's set from a file", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tg-keys-"));
    const env = fcb.testDb.url ? { DATABASE_URL: fcb.testDb.url } : { DATA_DIR: dataDir, EMBEDDED: "false" };
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line), env });
      return { code, out, err };
    };
    try {
      const ours = await run("correspondents", "keys", "ours", "--gateway", nbkUrl);
      expect(ours.err).toEqual([]);
      expect(JSON.parse(ours.out[0]!)).toMatchObject({ agent: "NBRKKZKX", keys: expect.arrayContaining([expect.objectContaining({ keyId: "NBRKKZKX-2", status: "active" })]) });
      if (!fcb.testDb.url) return; // PGlite: the database is the test's own, in memory; the API path was covered above.
      const file = join(dataDir, "keys.json");
      writeFileSync(file, JSON.stringify({ agent: "NBRKKZKX", keys: [{ keyId: "NBRKKZKX-3", algorithm: "ed25519", publicKey: hex(key3.publicKey), validFrom: null, validUntil: null, status: "active" }] }));
      const pinnedByCli = await run("correspondents", "keys", "pin", "NBRKKZKX", "--file", file);
      expect(pinnedByCli.err).toEqual([]);
      expect(JSON.parse(pinnedByCli.out[0]!).signingKeys.filter((key: { revokedAt: string | null }) => key.revokedAt === null).map((key: { keyId: string }) => key.keyId)).toEqual(["NBRKKZKX-3"]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("rotation settings", () => {
  const seed = hex(generateEd25519().seed);
  const other = hex(generateEd25519().publicKey);
  const base = { PVP_AGENT_BIC: "NBRKKZKX", PVP_SECRET_KEY: "11".repeat(32), PVP_SIGNING_KEY: seed, PVP_SIGNING_KEY_ID: "NBRKKZKX-2", EMBEDDED: "true" };
  const load = (env: Record<string, string>) => loadDeploymentSettings(loadConfig(env), env).pvp?.signing;

  it("reads the next and retiring keys beside the active one", () => {
    const signing = load({ ...base, PVP_SIGNING_KEY_VALID_FROM: "2026-12-01T00:00:00Z", PVP_RETIRING_SIGNING_KEYS: `NBRKKZKX-1=${other}@2026-12-02T00:00:00Z`, PVP_NEXT_SIGNING_KEYS: "" });
    expect(signing).toMatchObject({ keyId: "NBRKKZKX-2", validFrom: new Date("2026-12-01T00:00:00Z"), next: [], retiring: [{ keyId: "NBRKKZKX-1", publicKey: other, validUntil: new Date("2026-12-02T00:00:00Z") }] });
  });

  it("refuses a malformed list, a key id used twice, and rotation settings without a signing key, with one line", () => {
    expect(() => load({ ...base, PVP_RETIRING_SIGNING_KEYS: `NBRKKZKX-1=${other}` })).toThrow(/PVP_RETIRING_SIGNING_KEYS.*keyId=publicKeyHex@instant/);
    expect(() => load({ ...base, PVP_NEXT_SIGNING_KEYS: `NBRKKZKX-2=${other}@2026-12-02T00:00:00Z` })).toThrow(/PVP_NEXT_SIGNING_KEYS.*key id appears twice/);
    expect(() => load({ ...base, PVP_SIGNING_KEY_VALID_FROM: "yesterday" })).toThrow(/PVP_SIGNING_KEY_VALID_FROM.*ISO 8601/);
    const { PVP_SIGNING_KEY: _seed, PVP_SIGNING_KEY_ID: _id, ...withoutKey } = base;
    expect(() => load({ ...withoutKey, PVP_NEXT_SIGNING_KEYS: `NBRKKZKX-3=${other}@2026-12-02T00:00:00Z` })).toThrow(/PVP_NEXT_SIGNING_KEYS.*PVP_SIGNING_KEY is not/);
  });
});
