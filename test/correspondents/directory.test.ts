import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { composeGateway, type ComposedGateway } from "../../src/gateway/features.ts";
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

describe("the directory of correspondents: operator API, authorization, key rotation without restart", () => {
  let testDb: TestDatabase;
  let app: FastifyInstance;
  let composed: ComposedGateway;
  let operatorKey: string;
  let bankKey: string;
  let correspondentKey: string;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migrate(testDb.db, gatewayMigrations());
    const identity = new IdentityStore(testDb.db);
    const dt = await startDtStack(testDb.db, () => new Date());
    composed = await composeGateway({
      db: testDb.db,
      logger: silent(),
      metrics: createMetricsRegistry(),
      ports: { dtLedger: { port: dt.port, description: "test" }, stablecoinChains: [], foreignLegs: [], readiness: [], stop: async () => {} },
      settings: {
        dtLedger: undefined,
        stablecoinChains: [],
        stablecoin: loadStablecoinEnvironment({}),
        pvp: { agent: "NBRKKZKX", signing: { keyId: "NBRKKZKX-1", seed: generateEd25519().seed }, secretKey: undefined, foreignLedgers: [], responderLedger: "dt", maxLockSeconds: 86_400, homeCurrency: "KZT", statusRequestAfterSeconds: 30, pollIntervalMs: 1000 },
      },
      attestationKey: undefined,
      pvpSecretKey: randomBytes(32),
      publicUrl: "http://127.0.0.1",
    });
    app = await buildGatewayApp({
      db: testDb.db,
      logger: silent(),
      metrics: createMetricsRegistry(),
      migrationSets: gatewayMigrations(),
      bodyLimitBytes: 1024 * 1024,
      signatureMaxSkewSeconds: 300,
      features: [identityRoutes(identity), ...composed.features.flatMap((feature) => feature.routes)],
      featureStatus: composed.status,
    });
    operatorKey = (await identity.issueApiKey(await identity.createPrincipal("operator", "Ops"))).apiKey;
    bankKey = (await identity.issueApiKey(await identity.createPrincipal("bank", "Halyk"))).apiKey;
    correspondentKey = (await identity.issueApiKey(await identity.createPrincipal("correspondent", "Some other central bank"))).apiKey;
  }, 60_000);

  afterAll(async () => {
    for (const feature of composed?.features ?? []) await feature.stop();
    await app?.close();
    await testDb?.drop();
  });

  const call = (key: string | undefined, method: "GET" | "POST" | "PATCH", url: string, payload?: unknown) =>
    app.inject({ method, url, headers: key ? { authorization: `Bearer ${key}` } : {}, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });

  const fcbKeys = generateEd25519();
  const fcb = { bic: "FCBKAEAD", name: "Foreign central bank", baseUrl: "https://gw.fcb.example", liquidityAccounts: ["DA-FCB-LIQ-1"], maxAmount: "5000000.00", signingKeys: [{ keyId: "FCBKAEAD-1", publicKey: hex(fcbKeys.publicKey) }] };

  const writes: Array<[("POST" | "PATCH"), string, unknown]> = [
    ["POST", "/operator/correspondents", { bic: "EVILXXXX", name: "x", baseUrl: "https://evil.example" }],
    ["PATCH", "/operator/correspondents/FCBKAEAD", { baseUrl: "https://evil.example" }],
    ["POST", "/operator/correspondents/FCBKAEAD/keys", { keyId: "evil-1", publicKey: hex(generateEd25519().publicKey) }],
    ["POST", "/operator/correspondents/FCBKAEAD/keys/FCBKAEAD-1/revoke", undefined],
    ["POST", "/operator/correspondents/FCBKAEAD/suspend", undefined],
  ];

  it("an operator adds a correspondent with its key, liquidity account, limit and default profile", async () => {
    const created = await call(operatorKey, "POST", "/operator/correspondents", fcb);
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({ bic: "FCBKAEAD", status: "active", liquidityAccounts: ["DA-FCB-LIQ-1"], maxAmount: "5000000.00", validationProfile: "cbpr+", principalId: "corr-FCBKAEAD" });
    expect(body.signingKeys).toEqual([expect.objectContaining({ keyId: "FCBKAEAD-1", publicKey: hex(fcbKeys.publicKey), revokedAt: null })]);
    expect((await call(operatorKey, "POST", "/operator/correspondents", fcb)).json().code).toBe("CORRESPONDENT_EXISTS");
    // The running gateway sees it at once: the responder pays through its liquidity account.
    expect(composed.directory.byBic("FCBKAEAD")?.liquidityAccounts).toEqual(["DA-FCB-LIQ-1"]);
  });

  it("a limit takes its currency's decimals from ISO 4217: 3 for BHD and KWD, 0 for JPY, 2 for KZT", async () => {
    for (const [bic, maxAmount, maxAmountCurrency, minorUnits] of [
      ["BHDCBHBM", "5000.125", "BHD", 5_000_125n],
      ["KWDCKWKW", "12.5", "KWD", 12_500n],
      ["JPYCJPJT", "1000000", "JPY", 1_000_000n],
      ["KZTCKZKA", "100.5", "KZT", 10_050n],
    ] as const) {
      const created = await call(operatorKey, "POST", "/operator/correspondents", { bic, name: bic, baseUrl: "https://gw.example", maxAmount, maxAmountCurrency });
      expect(created.statusCode, bic).toBe(201);
      const decimals = { BHD: 3, KWD: 3, JPY: 0, KZT: 2 }[maxAmountCurrency];
      expect(created.json()).toMatchObject({ maxAmountCurrency, maxAmount: decimals === 0 ? maxAmount : Number(maxAmount).toFixed(decimals) });
      expect(composed.directory.byBic(bic)).toMatchObject({ maxAmount: minorUnits, maxAmountCurrency });
    }
    // Changing the limit names its currency again; removing it removes both.
    const changed = await call(operatorKey, "PATCH", "/operator/correspondents/JPYCJPJT", { maxAmount: "2.5", maxAmountCurrency: "KWD" });
    expect(changed.json()).toMatchObject({ maxAmount: "2.500", maxAmountCurrency: "KWD" });
    const lone = await call(operatorKey, "PATCH", "/operator/correspondents/JPYCJPJT", { maxAmountCurrency: "JPY" });
    expect([lone.statusCode, lone.json().code]).toEqual([400, "CORRESPONDENT_INVALID"]);
    const removed = await call(operatorKey, "PATCH", "/operator/correspondents/JPYCJPJT", { maxAmount: null });
    expect(removed.json()).toMatchObject({ maxAmount: null, maxAmountCurrency: null });
    for (const bic of ["BHDCBHBM", "KWDCKWKW", "JPYCJPJT", "KZTCKZKA"]) await testDb.db.query("DELETE FROM pvp_correspondent WHERE bic = $1", [bic]);
  });

  it("refuses bad input with a code and writes nothing", async () => {
    const before = (await call(operatorKey, "GET", "/operator/correspondents")).json();
    for (const [payload, code] of [
      [{ ...fcb, bic: "NOTABIC" }, "FST_ERR_VALIDATION"],
      [{ ...fcb, bic: "ABCDKZKX", baseUrl: "ftp://x" }, "CORRESPONDENT_INVALID"],
      [{ ...fcb, bic: "ABCDKZKX", validationProfile: "swift" }, "FST_ERR_VALIDATION"],
      [{ ...fcb, bic: "ABCDKZKX", maxAmount: "1.234" }, "CORRESPONDENT_INVALID"],
      [{ ...fcb, bic: "ABCDKZKX", maxAmount: "1.5", maxAmountCurrency: "JPY" }, "CORRESPONDENT_INVALID"],
      [{ ...fcb, bic: "ABCDKZKX", maxAmount: "1.0005", maxAmountCurrency: "BHD" }, "CORRESPONDENT_INVALID"],
      [{ ...fcb, bic: "ABCDKZKX", maxAmount: "1", maxAmountCurrency: "XXQ" }, "CORRESPONDENT_INVALID"],
      [{ ...fcb, bic: "ABCDKZKX", maxAmount: "1.12345" }, "FST_ERR_VALIDATION"],
      [{ ...fcb, bic: "ABCDKZKX", signingKeys: [{ keyId: "k-1", publicKey: "00".repeat(31) + "zz" }] }, "INVALID_PUBLIC_KEY"],
      [{ ...fcb, bic: "ABCDKZKX", signingKeys: [{ keyId: "FCBKAEAD-1", publicKey: hex(generateEd25519().publicKey) }] }, "DUPLICATE_KEY_ID"],
    ] as const) {
      const response = await call(operatorKey, "POST", "/operator/correspondents", payload);
      expect(response.statusCode, JSON.stringify(payload)).toBeGreaterThanOrEqual(400);
      expect(response.json().code === code || (code === "FST_ERR_VALIDATION" && response.statusCode === 400)).toBe(true);
    }
    expect((await call(operatorKey, "GET", "/operator/correspondents")).json()).toEqual(before);
    // No principal was left behind by a refused add either.
    const principals = await testDb.db.query("SELECT 1 FROM identity.principals WHERE id = 'corr-ABCDKZKX'");
    expect(principals.rowCount).toBe(0);
  });

  it("only operators: a bank, a correspondent or nobody is refused on every route, and nothing is written", async () => {
    const before = (await call(operatorKey, "GET", "/operator/correspondents")).json();
    for (const [key, status] of [
      [bankKey, 403],
      [correspondentKey, 403],
      [undefined, 401],
    ] as const) {
      for (const [method, url, payload] of writes) expect((await call(key, method, url, payload)).statusCode, `${method} ${url}`).toBe(status);
      expect((await call(key, "GET", "/operator/correspondents")).statusCode).toBe(status);
      expect((await call(key, "GET", "/operator/correspondents/FCBKAEAD")).statusCode).toBe(status);
    }
    expect((await call(operatorKey, "GET", "/operator/correspondents")).json()).toEqual(before);
  });

  const inbound = (keyId: string, seed: Uint8Array) => {
    const body = "<NotAnIsoMessage/>";
    const headers = signRequest({ method: "POST", url: "http://localhost:80/iso20022/inbound", body }, { keyId, privateKey: ed25519PrivateKey(seed) });
    return app.inject({ method: "POST", url: "/iso20022/inbound", headers: { ...headers, "content-type": "application/xml" }, payload: body });
  };

  it("rotates a correspondent's key without a restart: the new key is accepted, the revoked one refused; suspension refuses its messages", async () => {
    // Signed by its registered key: authenticated and recognised, so the (bad) message itself is judged.
    expect((await inbound("FCBKAEAD-1", fcbKeys.seed)).statusCode).toBe(400);
    const next = generateEd25519();
    expect((await inbound("FCBKAEAD-2", next.seed)).statusCode).toBe(401);
    expect((await call(operatorKey, "POST", "/operator/correspondents/FCBKAEAD/keys", { keyId: "FCBKAEAD-2", publicKey: hex(next.publicKey) })).statusCode).toBe(201);
    expect((await inbound("FCBKAEAD-2", next.seed)).statusCode).toBe(400);
    const revoked = await call(operatorKey, "POST", "/operator/correspondents/FCBKAEAD/keys/FCBKAEAD-1/revoke");
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().signingKeys.find((key: { keyId: string }) => key.keyId === "FCBKAEAD-1").revokedAt).not.toBeNull();
    expect((await inbound("FCBKAEAD-1", fcbKeys.seed)).statusCode).toBe(401);
    expect((await call(operatorKey, "POST", "/operator/correspondents/FCBKAEAD/keys/NOPE/revoke")).json().code).toBe("SIGNING_KEY_NOT_FOUND");

    expect((await call(operatorKey, "POST", "/operator/correspondents/FCBKAEAD/suspend")).json().status).toBe("suspended");
    const refused = await inbound("FCBKAEAD-2", next.seed);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe("NOT_A_CORRESPONDENT");
    expect(composed.pvp!.routes).toBeDefined();
    expect((await call(operatorKey, "POST", "/operator/correspondents/FCBKAEAD/activate")).json().status).toBe("active");
    expect((await inbound("FCBKAEAD-2", next.seed)).statusCode).toBe(400);
  });

  it("an operator changes the responder settings; a PvP leg to the correspondent resolves from the directory", async () => {
    const changed = await call(operatorKey, "PATCH", "/operator/correspondents/FCBKAEAD", { liquidityAccounts: ["DA-FCB-LIQ-2"], settlementAccount: "DA-FCB-SETTLE", maxAmount: null, validationProfile: "iso" });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ liquidityAccounts: ["DA-FCB-LIQ-2"], settlementAccount: "DA-FCB-SETTLE", maxAmount: null, validationProfile: "iso" });
    expect(composed.directory.byBic("FCBKAEAD")?.liquidityAccounts).toEqual(["DA-FCB-LIQ-2"]);
    expect((await call(operatorKey, "PATCH", "/operator/correspondents/ZZZZKZKX", { name: "x" })).statusCode).toBe(404);
  });

  it("the CLI adds, lists, re-keys and suspends correspondents in the database and through the operator API", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tg-corr-"));
    const env = testDb.url ? { DATABASE_URL: testDb.url } : { DATA_DIR: dataDir, EMBEDDED: "false" };
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line), env });
      return { code, out, err };
    };
    try {
      const key = generateEd25519();
      const added = await run("correspondents", "add", "--bic", "KZTESTXX", "--name", "Test CB", "--base-url", "http://127.0.0.1:9", "--public-key", hex(key.publicKey), "--key-id", "KZTESTXX-1", "--liquidity-account", "DA-1", "--liquidity-account", "DA-2", "--max-amount", "100.50");
      expect(added.err).toEqual([]);
      expect(added.code).toBe(0);
      expect(JSON.parse(added.out[0]!)).toMatchObject({ bic: "KZTESTXX", liquidityAccounts: ["DA-1", "DA-2"], maxAmount: "100.50", maxAmountCurrency: "KZT" });
      expect((await run("correspondents", "keys", "add", "KZTESTXX", "--public-key", hex(generateEd25519().publicKey), "--key-id", "KZTESTXX-2")).code).toBe(0);
      expect((await run("correspondents", "keys", "revoke", "KZTESTXX", "KZTESTXX-1")).code).toBe(0);
      expect(JSON.parse((await run("correspondents", "suspend", "KZTESTXX")).out[0]!).status).toBe("suspended");
      const listed = await run("correspondents", "list");
      const record = listed.out.map((line) => JSON.parse(line)).find((item) => item.bic === "KZTESTXX");
      expect(record.status).toBe("suspended");
      expect(record.signingKeys.map((entry: { keyId: string; revokedAt: string | null }) => [entry.keyId, entry.revokedAt !== null])).toEqual([
        ["KZTESTXX-1", true],
        ["KZTESTXX-2", false],
      ]);
      // The same commands against a running gateway's operator API; a non-operator key is refused.
      const url = await app.listen({ host: "127.0.0.1", port: 0 });
      const viaApi = await run("correspondents", "keys", "add", "FCBKAEAD", "--public-key", hex(generateEd25519().publicKey), "--key-id", "FCBKAEAD-3", "--gateway", url, "--api-key", operatorKey);
      expect(viaApi.code).toBe(0);
      expect(JSON.parse(viaApi.out[0]!).signingKeys.map((key: { keyId: string }) => key.keyId)).toContain("FCBKAEAD-3");
      const listedViaApi = await run("correspondents", "list", "--gateway", url, "--api-key", operatorKey);
      expect(listedViaApi.out.map((line) => JSON.parse(line).bic)).toContain("FCBKAEAD");
      const refused = await run("correspondents", "suspend", "FCBKAEAD", "--gateway", url, "--api-key", bankKey);
      expect(refused.code).toBe(2);
      expect(refused.err).toEqual([expect.stringMatching(/^tenge-gateway correspondents suspend: 403 /)]);
      expect(composed.directory.byBic("FCBKAEAD")?.status).toBe("active");
      const missing = await run("correspondents", "show", "NONEKZKX");
      expect(missing.code).toBe(2);
      expect(missing.err).toEqual([expect.stringMatching(/^tenge-gateway correspondents show: CORRESPONDENT_NOT_FOUND/)]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
