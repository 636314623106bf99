import { randomBytes } from "node:crypto";
import { createPrivateKey } from "node:crypto";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { createSigner, httpbis } from "http-message-signatures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { contentDigest, ed25519PrivateKey, generateEd25519, NONCE_RETENTION_MARGIN_SECONDS, signRequest } from "../../src/identity/http-signature.ts";
import { identityRoutes } from "../../src/identity/routes.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { pvpComponent, type PvpComponent } from "../../src/pvp/component.ts";
import { dtLedgerLeg } from "../../src/pvp/legs/dt-ledger-leg.ts";
import { buildGatewayApp } from "../../src/server/app.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startDtStack } from "../support/pvp/dt-stack.ts";
import { FOREIGN_CB, NBK } from "../support/pvp/harness.ts";

/**
 * Who the gateway believes a caller is: RFC 9421 as the RFC says, signatures only between central banks,
 * credentials checked before the body is read, revocation that hits exactly what it names.
 */
const SKEW = 300;
let testDb: TestDatabase;
let identity: IdentityStore;
let app: FastifyInstance;
let strictApp: FastifyInstance;
let url: string;
let pvp: PvpComponent;
let bankKey: string;
let correspondentKey: string;
let operatorKey: string;
const bankSigner = generateEd25519();
const correspondentSigner = generateEd25519();

async function echoRoutes(instance: FastifyInstance) {
  instance.post(
    "/echo",
    {
      config: { access: ["bank"] },
      schema: { body: { type: "object", required: ["amount"], additionalProperties: false, properties: { amount: { type: "string" } } } },
    },
    async (request) => ({ principal: request.principal?.id, amount: (request.body as { amount: string }).amount }),
  );
}

const silent = () => createLogger("silent", new Writable({ write: (_chunk, _encoding, done) => done() }));

beforeAll(async () => {
  testDb = await createTestDatabase();
  await migrate(testDb.db, gatewayMigrations());
  identity = new IdentityStore(testDb.db);
  const ledger = await startDtStack(testDb.db, () => new Date());
  pvp = pvpComponent({
    db: testDb.db,
    ourAgent: NBK,
    legs: [dtLedgerLeg({ port: ledger.port })],
    correspondents: [{ agent: FOREIGN_CB, url: "http://127.0.0.1:1", principalId: "corr-fcb" }],
    signing: { keyId: `${NBK}-key`, privateKey: ed25519PrivateKey(generateEd25519().seed) },
    preimageKey: randomBytes(32),
    policy: { clockDriftMs: 2_000, timeToActMs: 10_000, lockWindowMs: 30_000 },
  });
  const options = {
    db: testDb.db,
    logger: silent(),
    metrics: createMetricsRegistry(),
    migrationSets: gatewayMigrations(),
    bodyLimitBytes: 4096,
    signatureMaxSkewSeconds: SKEW,
    features: [identityRoutes(identity), pvp.routes, echoRoutes],
  };
  app = await buildGatewayApp(options);
  url = await app.listen({ host: "127.0.0.1", port: 0 });
  strictApp = await buildGatewayApp({ ...options, metrics: createMetricsRegistry(), signatureAuthorities: ["gw.example"] });
  operatorKey = (await identity.issueApiKey(await identity.createPrincipal("operator", "Ops"))).apiKey;
  await identity.createPrincipal("bank", "Halyk Bank", "bank-halyk");
  bankKey = (await identity.issueApiKey("bank-halyk")).apiKey;
  await identity.registerSigningKey("bank-halyk", Buffer.from(bankSigner.publicKey).toString("hex"), "halyk-1");
  await identity.createPrincipal("correspondent", "Foreign central bank", "corr-fcb");
  correspondentKey = (await identity.issueApiKey("corr-fcb")).apiKey;
  await identity.registerSigningKey("corr-fcb", Buffer.from(correspondentSigner.publicKey).toString("hex"), `${FOREIGN_CB}-key`);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await strictApp?.close();
  await testDb?.drop();
});

const messagesStored = async () => (await testDb.db.query<{ n: bigint }>("SELECT count(*)::int8 AS n FROM pvp_message")).rows[0]!.n;

describe("/iso20022/inbound accepts only RFC 9421 signed requests", () => {
  it("refuses a correspondent's bearer API key with 401 SIGNATURE_REQUIRED and stores nothing", async () => {
    const before = await messagesStored();
    const response = await fetch(`${url}/iso20022/inbound`, {
      method: "POST",
      headers: { authorization: `Bearer ${correspondentKey}`, "content-type": "application/xml" },
      body: "<Envelope/>",
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "SIGNATURE_REQUIRED" });
    expect(await messagesStored()).toBe(before);
  });

  it("lets the same correspondent's signed request through to message validation", async () => {
    const body = "<Envelope/>";
    const headers = signRequest({ method: "POST", url: `${url}/iso20022/inbound`, body }, { keyId: `${FOREIGN_CB}-key`, privateKey: ed25519PrivateKey(correspondentSigner.seed) });
    const response = await fetch(`${url}/iso20022/inbound`, { method: "POST", headers: { ...headers, "content-type": "application/xml" }, body });
    // Authenticated: the refusal is now about the XML, not the caller.
    expect(response.status).toBe(400);
    expect((await response.json()).code).not.toMatch(/SIGNATURE|UNAUTHENTICATED/);
  });
});

describe("authentication happens before the body is read", () => {
  const big = JSON.stringify({ amount: "x".repeat(8000) });

  it("answers 401, not 413 or 400, to an unauthenticated oversize or malformed body", async () => {
    const oversize = await app.inject({ method: "POST", url: "/echo", headers: { "content-type": "application/json" }, payload: big });
    expect([oversize.statusCode, oversize.json().code]).toEqual([401, "UNAUTHENTICATED"]);
    const malformed = await app.inject({ method: "POST", url: "/echo", headers: { "content-type": "application/json", authorization: "Bearer tgk_0000000000000000_nope" }, payload: "{amount:" });
    expect([malformed.statusCode, malformed.json().code]).toEqual([401, "INVALID_API_KEY"]);
    const forged = signRequest({ method: "POST", url: "http://localhost/echo", body: big }, { keyId: "halyk-1", privateKey: ed25519PrivateKey(generateEd25519().seed) });
    const badSignature = await app.inject({ method: "POST", url: "/echo", headers: { ...forged, "content-type": "application/json" }, payload: big });
    expect([badSignature.statusCode, badSignature.json().code]).toEqual([401, "SIGNATURE_INVALID"]);
  });

  it("answers 403 to a wrong role before looking at its body", async () => {
    const wrongRole = await app.inject({ method: "POST", url: "/echo", headers: { "content-type": "application/json", authorization: `Bearer ${correspondentKey}` }, payload: "{amount:" });
    expect([wrongRole.statusCode, wrongRole.json().code]).toEqual([403, "FORBIDDEN"]);
  });

  it("still answers 413 and 400 to an authenticated caller", async () => {
    const auth = { "content-type": "application/json", authorization: `Bearer ${bankKey}` };
    expect((await app.inject({ method: "POST", url: "/echo", headers: auth, payload: big })).statusCode).toBe(413);
    expect((await app.inject({ method: "POST", url: "/echo", headers: auth, payload: "{amount:" })).json().code).toBe("INVALID_JSON");
    expect((await app.inject({ method: "POST", url: "/echo", headers: auth, payload: { amount: "1.00" } })).json()).toEqual({ principal: "bank-halyk", amount: "1.00" });
  });

  it("refuses a signed request whose body is not the signed one, and does not spend its nonce", async () => {
    const body = JSON.stringify({ amount: "10.00" });
    const headers = signRequest({ method: "POST", url: "http://localhost/echo", body }, { keyId: "halyk-1", privateKey: ed25519PrivateKey(bankSigner.seed) });
    const swapped = await app.inject({ method: "POST", url: "/echo", headers: { ...headers, "content-type": "application/json" }, payload: JSON.stringify({ amount: "99.00" }) });
    expect([swapped.statusCode, swapped.json().code]).toEqual([401, "DIGEST_MISMATCH"]);
    const genuine = await app.inject({ method: "POST", url: "/echo", headers: { ...headers, "content-type": "application/json" }, payload: body });
    expect(genuine.json()).toEqual({ principal: "bank-halyk", amount: "10.00" });
  });
});

describe("RFC 9421 as the RFC says", () => {
  /** A request as the npm library http-message-signatures signs it by default (label sig, keyid alg created expires). */
  async function librarySigned(target: string, body: string) {
    const key = createPrivateKey(ed25519PrivateKey(bankSigner.seed).export({ format: "pem", type: "pkcs8" }));
    const signed = await httpbis.signMessage(
      { key: createSigner(key, "ed25519", "halyk-1"), fields: ["@method", "@authority", "@path", "@query", "content-digest", "content-type"] },
      { method: "POST", url: target, headers: { "content-type": "application/json", "content-digest": `${contentDigest(body)}, ${contentDigest(body, "sha-512")}` } },
    );
    return signed.headers as Record<string, string>;
  }

  it("accepts a request signed by a standard client library with its defaults over HTTP, and refuses its replay", async () => {
    const body = JSON.stringify({ amount: "42.00" });
    const headers = await librarySigned(`${url}/echo`, body);
    const first = await fetch(`${url}/echo`, { method: "POST", headers, body });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ principal: "bank-halyk", amount: "42.00" });
    const replay = await fetch(`${url}/echo`, { method: "POST", headers, body });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ code: "SIGNATURE_REPLAYED" });
  });

  it("refuses a request signed for another service that shares the key, where the gateway knows its authority", async () => {
    const body = JSON.stringify({ amount: "5.00" });
    const forLedger = signRequest({ method: "POST", url: "https://ledger.example/echo", body }, { keyId: "halyk-1", privateKey: ed25519PrivateKey(bankSigner.seed) });
    const replayed = await strictApp.inject({ method: "POST", url: "/echo", headers: { ...forLedger, host: "ledger.example", "content-type": "application/json" }, payload: body });
    expect([replayed.statusCode, replayed.json().code]).toEqual([401, "SIGNATURE_AUTHORITY"]);
    const forUs = signRequest({ method: "POST", url: "https://gw.example/echo", body }, { keyId: "halyk-1", privateKey: ed25519PrivateKey(bankSigner.seed) });
    const accepted = await strictApp.inject({ method: "POST", url: "/echo", headers: { ...forUs, host: "gw.example", "content-type": "application/json" }, payload: body });
    expect(accepted.statusCode).toBe(200);
  });

  it("keeps a nonce past the last moment its signature could be accepted, so pruning opens no replay window", async () => {
    const created = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ amount: "1.00" });
    const headers = signRequest({ method: "POST", url: "http://localhost/echo", body }, { keyId: "halyk-1", privateKey: ed25519PrivateKey(bankSigner.seed), created, nonce: "prune-boundary-1" });
    expect((await app.inject({ method: "POST", url: "/echo", headers: { ...headers, "content-type": "application/json" }, payload: body })).statusCode).toBe(200);
    const kept = await testDb.db.query<{ expires_at: Date }>("SELECT expires_at FROM identity.request_nonces WHERE nonce = 'prune-boundary-1'");
    // Accepted until created + skew (not floored to the second): the nonce must outlive that by the margin.
    expect(kept.rows[0]!.expires_at.getTime()).toBe((created + SKEW + NONCE_RETENTION_MARGIN_SECONDS) * 1000);
    expect(kept.rows[0]!.expires_at.getTime()).toBeGreaterThan((created + SKEW + 1) * 1000);
  });
});

describe("revocation names principals and credentials apart", () => {
  const auth = () => ({ authorization: `Bearer ${operatorKey}` });

  it("revoking a principal whose id looks like another bank's key id leaves that key working", async () => {
    const other = await identity.createPrincipal("bank", "Bank CenterCredit", "bank-bcc");
    const { credentialId, apiKey } = await identity.issueApiKey(other);
    // A principal registered under the other bank's credential id.
    await identity.createPrincipal("bank", "Look-alike", credentialId);
    const revoked = await app.inject({ method: "POST", url: `/operator/principals/${credentialId}/revoke`, headers: auth() });
    expect(revoked.json()).toEqual({ revoked: "principal", id: credentialId });
    const stillWorks = await app.inject({ method: "POST", url: "/echo", headers: { authorization: `Bearer ${apiKey}` }, payload: { amount: "1.00" } });
    expect(stillWorks.statusCode).toBe(200);
    // Revoking the credential itself, by the credential route, does stop it.
    await app.inject({ method: "POST", url: `/operator/credentials/${credentialId}/revoke`, headers: auth() });
    expect((await app.inject({ method: "POST", url: "/echo", headers: { authorization: `Bearer ${apiKey}` }, payload: { amount: "1.00" } })).statusCode).toBe(401);
  });

  it("answers 404 for a credential id on the principal route and the other way round, revoking nothing", async () => {
    const other = await identity.createPrincipal("bank", "Kaspi", "bank-kaspi");
    const { credentialId, apiKey } = await identity.issueApiKey(other);
    expect((await app.inject({ method: "POST", url: `/operator/principals/${credentialId}/revoke`, headers: auth() })).statusCode).toBe(404);
    expect((await app.inject({ method: "POST", url: `/operator/credentials/bank-kaspi/revoke`, headers: auth() })).statusCode).toBe(404);
    expect((await app.inject({ method: "POST", url: "/echo", headers: { authorization: `Bearer ${apiKey}` }, payload: { amount: "1.00" } })).statusCode).toBe(200);
    expect((await app.inject({ method: "POST", url: "/operator/revocations/bank-kaspi", headers: auth() })).statusCode).toBe(404);
  });
});
