import { randomBytes, randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { correspondentStore } from "../../src/correspondents/store.ts";
import { hashLockOf } from "../../src/core/hash-lock.ts";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { composeGateway, type ComposedGateway } from "../../src/gateway/features.ts";
import { ed25519PrivateKey, generateEd25519, signRequest } from "../../src/identity/http-signature.ts";
import { identityRoutes } from "../../src/identity/routes.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { bareHex, instructionMessage } from "../../src/pvp/protocol/pvp-messages.ts";
import { buildGatewayApp } from "../../src/server/app.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import { loadStablecoinEnvironment } from "../../src/stablecoin/stablecoin-config.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startDtStack, type DtStack } from "../support/pvp/dt-stack.ts";
import { FOREIGN_CB, NBK } from "../support/pvp/harness.ts";

const STRANGER = "STRGAEADXXX";

/**
 * `POST /iso20022/inbound` on a real gateway over HTTP: a correspondent's pacs.009, signed per RFC 9421
 * with its registered Ed25519 key, opens a responder PvP; a bad signature, a replayed request, an
 * unregistered key and a caller outside the directory are refused, and a refusal writes nothing.
 */
describe("/iso20022/inbound over HTTP with RFC 9421 signatures", () => {
  let testDb: TestDatabase;
  let ledger: DtStack;
  let composed: ComposedGateway;
  let app: FastifyInstance;
  let url: string;
  const correspondent = generateEd25519();
  const stranger = generateEd25519();

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migrate(testDb.db, gatewayMigrations());
    const identity = new IdentityStore(testDb.db);
    ledger = await startDtStack(testDb.db, () => new Date());
    const logger = createLogger("silent", new Writable({ write: (_chunk, _encoding, done) => done() }));
    composed = await composeGateway({
      db: testDb.db,
      logger,
      metrics: createMetricsRegistry(),
      ports: { dtLedger: { port: ledger.port, description: "test" }, stablecoinChains: [], foreignLegs: [], readiness: [], stop: async () => {} },
      settings: {
        dtLedger: undefined,
        stablecoinChains: [],
        stablecoin: loadStablecoinEnvironment({}),
        pvp: { agent: NBK, signing: { keyId: `${NBK}-key`, seed: generateEd25519().seed }, secretKey: undefined, foreignLedgers: [], responderLedger: "dt", maxLockSeconds: 86_400, homeCurrency: "KZT", statusRequestAfterSeconds: 30, pollIntervalMs: 1000 },
      },
      attestationKey: undefined,
      pvpSecretKey: randomBytes(32),
      publicUrl: "http://127.0.0.1",
    });
    app = await buildGatewayApp({
      db: testDb.db,
      logger,
      metrics: createMetricsRegistry(),
      migrationSets: gatewayMigrations(),
      bodyLimitBytes: 1024 * 1024,
      signatureMaxSkewSeconds: 300,
      features: [identityRoutes(identity), ...composed.features.flatMap((feature) => feature.routes)],
    });
    url = await app.listen({ host: "127.0.0.1", port: 0 });
    // The correspondent, with its key and the accounts its instructions may move here.
    await correspondentStore.add(testDb.db, {
      bic: FOREIGN_CB,
      name: "Foreign central bank",
      baseUrl: "http://127.0.0.1:9",
      signingKeys: [{ keyId: `${FOREIGN_CB}-1`, publicKey: Buffer.from(correspondent.publicKey).toString("hex") }],
      liquidityAccounts: [ledger.demo.accounts.kase.id],
      settlementAccount: ledger.demo.accounts.coffeeShop.id,
    });
    // A correspondent principal with a registered key but no entry in the directory.
    const outsider = await identity.createPrincipal("correspondent", "Not in the directory", "corr-outsider", { bic: STRANGER });
    await identity.registerSigningKey(outsider, Buffer.from(stranger.publicKey).toString("hex"), `${STRANGER}-1`, "test");
    await composed.directory.refresh();
  }, 120_000);

  afterAll(async () => {
    for (const feature of composed?.features ?? []) await feature.stop();
    await app?.close();
    await testDb?.drop();
  });

  /** A pacs.009 from the correspondent to us, as its gateway would send it. */
  const instruction = (from = FOREIGN_CB) => {
    const pvpRef = `pvp${randomBytes(12).toString("hex")}`;
    const hashLock = bareHex(hashLockOf(`0x${randomBytes(32).toString("hex")}`));
    return instructionMessage(
      { pvpRef, from, to: NBK, createdAt: new Date() },
      { uetr: randomUUID(), amount: { currency: "KZT", minorUnits: 150_000n }, hashLock, expiry: new Date(Date.now() + 3_600_000), debtor: "FCBKAEADXXX", creditor: "HSBKKZKXXXX" },
    ).xml;
  };

  const signed = (xml: string, keyId: string, seed: Uint8Array) =>
    signRequest({ method: "POST", url: new URL("/iso20022/inbound", url), body: Buffer.from(xml, "utf8") }, { keyId, privateKey: ed25519PrivateKey(seed) });

  const post = async (xml: string, headers: Record<string, string>) => {
    const response = await fetch(new URL("/iso20022/inbound", url), { method: "POST", headers: { ...headers, "content-type": "application/xml" }, body: xml });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  const written = async () => {
    const counts = await testDb.db.query<{ pvps: number; messages: number; timeline: number; outbox: number; conflicts: number }>(
      `SELECT (SELECT count(*)::int FROM pvp) AS pvps, (SELECT count(*)::int FROM pvp_message) AS messages,
              (SELECT count(*)::int FROM pvp_timeline) AS timeline, (SELECT count(*)::int FROM pvp_outbox) AS outbox,
              (SELECT count(*)::int FROM pvp_message_conflict) AS conflicts`,
    );
    return counts.rows[0];
  };

  it("accepts a signed pacs.009 from a correspondent: a responder PvP paid from its configured accounts", async () => {
    const xml = instruction();
    const answer = await post(xml, signed(xml, `${FOREIGN_CB}-1`, correspondent.seed));
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: "accepted", pvpId: expect.stringMatching(/^rsp/) });
    const pvp = await composed.pvp!.engine.get(String(answer.body["pvpId"]));
    expect(pvp).toMatchObject({ role: "responder", state: "RECEIVED", counterpartyAgent: FOREIGN_CB });
    expect(pvp!.foreignLeg).toMatchObject({ payer: ledger.demo.accounts.kase.id, beneficiary: ledger.demo.accounts.coffeeShop.id, amount: 150_000n });
  });

  it("refuses a bad signature, a replayed request, an unknown key and a caller outside the directory, writing nothing", async () => {
    const xml = instruction();
    const headers = signed(xml, `${FOREIGN_CB}-1`, correspondent.seed);
    const before = await written();

    // Signed by another key than the one registered under the key id.
    expect(await post(xml, signed(xml, `${FOREIGN_CB}-1`, stranger.seed))).toMatchObject({ status: 401 });
    // The body changed after signing (Content-Digest no longer matches).
    const altered = xml.replace("<IntrBkSttlmAmt Ccy=\"KZT\">1500.00</IntrBkSttlmAmt>", "<IntrBkSttlmAmt Ccy=\"KZT\">1500.01</IntrBkSttlmAmt>");
    expect(altered).not.toBe(xml);
    expect(await post(altered, headers)).toMatchObject({ status: 401, body: { code: "DIGEST_MISMATCH" } });
    // A key id nobody registered.
    expect(await post(xml, signed(xml, "UNKNOWN-1", correspondent.seed))).toMatchObject({ status: 401 });
    // A registered correspondent principal that is not in the directory of correspondents.
    expect(await post(xml, signed(xml, `${STRANGER}-1`, stranger.seed))).toMatchObject({ status: 403, body: { code: "NOT_A_CORRESPONDENT" } });
    // The directory's correspondent naming another sender in the AppHdr.
    const forged = instruction(STRANGER);
    expect(await post(forged, signed(forged, `${FOREIGN_CB}-1`, correspondent.seed))).toMatchObject({ status: 403, body: { code: "SENDER_MISMATCH" } });
    expect(await written()).toEqual(before);

    // The genuine request goes through once; the same signed request again is a replay.
    expect(await post(xml, headers)).toMatchObject({ status: 202, body: { status: "accepted" } });
    const after = await written();
    expect(await post(xml, headers)).toMatchObject({ status: 401, body: { code: "SIGNATURE_REPLAYED" } });
    // Signed afresh, the same message is a recognised duplicate and changes nothing.
    expect(await post(xml, signed(xml, `${FOREIGN_CB}-1`, correspondent.seed))).toMatchObject({ status: 202, body: { status: "duplicate" } });
    expect(await written()).toEqual(after);
  });
});
