import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { ed25519PrivateKey, generateEd25519, signRequest } from "../../src/identity/http-signature.ts";
import { createTestGateway, type TestGateway } from "../support/gateway-app.ts";
import { testEngine } from "../support/database.ts";

let gateway: TestGateway;
let ledgerUp = true;
let operatorKey: string;
let bankKey: string;
const bankSigner = generateEd25519();

async function echoRoutes(app: FastifyInstance) {
  app.post(
    "/echo",
    {
      config: { access: ["bank", "correspondent"] },
      schema: {
        body: { type: "object", required: ["amount"], properties: { amount: { type: "string" } } },
        response: { 200: { type: "object", properties: { principal: { type: "string" }, amount: { type: "string" } } } },
      },
    },
    async (request) => ({ principal: request.principal?.id, amount: (request.body as { amount: string }).amount }),
  );
}

beforeAll(async () => {
  gateway = await createTestGateway({
    features: [echoRoutes],
    readiness: [{ name: "dt-ledger", check: async () => { if (!ledgerUp) throw new Error("connection refused"); } }],
    bodyLimitBytes: 4096,
  });
  const operator = await gateway.identity.createPrincipal("operator", "Ops");
  operatorKey = (await gateway.identity.issueApiKey(operator)).apiKey;
  const bank = await gateway.identity.createPrincipal("bank", "Bank A", "bank-a");
  bankKey = (await gateway.identity.issueApiKey(bank)).apiKey;
  await gateway.identity.registerSigningKey(bank, Buffer.from(bankSigner.publicKey).toString("hex"), "bank-a-1");
});
afterAll(() => gateway.close());

describe(`gateway server on ${testEngine}`, () => {
  it("answers liveness and readiness, and 503 with the reason when a ledger is down", async () => {
    expect((await gateway.app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
    const ready = await gateway.app.inject({ url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.map((check: { name: string }) => check.name)).toEqual(["database", "migrations", "dt-ledger"]);
    ledgerUp = false;
    const notReady = await gateway.app.inject({ url: "/readyz" });
    ledgerUp = true;
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().checks).toContainEqual({ name: "dt-ledger", ok: false, reason: "connection refused" });
  });

  it("serves an OpenAPI 3 document generated from the route schemas, and its UI", async () => {
    const document = (await gateway.app.inject({ url: "/docs/json" })).json();
    expect(document.openapi).toMatch(/^3\./);
    expect(document.info.title).toBe("tenge-gateway");
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/healthz", "/readyz", "/metrics", "/operator/principals", "/echo"]));
    expect(document.paths["/echo"].post.requestBody.content["application/json"].schema.required).toEqual(["amount"]);
    expect((await gateway.app.inject({ url: "/docs" })).statusCode).toBeLessThan(400);
  });

  it("exposes Prometheus metrics", async () => {
    const metrics = await gateway.app.inject({ url: "/metrics" });
    expect(metrics.headers["content-type"]).toContain("text/plain");
    expect(metrics.body).toContain("tenge_gateway_http_request_duration_seconds_bucket");
  });

  it("refuses a route that declares no access rule", async () => {
    await expect(
      createTestGateway({ features: [async (app) => void app.get("/open", async () => "oops")] }),
    ).rejects.toThrow(/declares no config.access/);
  });
});

describe("identity and access", () => {
  const echo = (headers: Record<string, string>, payload: unknown = { amount: "150.00" }) =>
    gateway.app.inject({ method: "POST", url: "/echo", headers: { "content-type": "application/json", ...headers }, payload: JSON.stringify(payload) });

  it("answers 401 without credentials and with a wrong key, 403 for a wrong role, and logs no secret", async () => {
    const none = await echo({});
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe("UNAUTHENTICATED");
    const wrong = await echo({ authorization: `Bearer ${bankKey.slice(0, -4)}AAAA` });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe("INVALID_API_KEY");
    const operator = await echo({ authorization: `Bearer ${operatorKey}` });
    expect(operator.statusCode).toBe(403);
    expect(operator.json().code).toBe("FORBIDDEN");
    // An API key is tgk_<16 hex>_<43 base64url>; the secret part may itself contain "_".
    const secretPart = bankKey.slice(21);
    expect(gateway.logLines.join("\n")).not.toContain(secretPart);
    expect(gateway.logLines.join("\n")).not.toContain(operatorKey.slice(21));
    expect(gateway.logLines.some((line) => line.includes("access.forbidden"))).toBe(true);
  });

  it("accepts a bank by API key and by Ed25519 request signature", async () => {
    const byKey = await echo({ authorization: `Bearer ${bankKey}` });
    expect(byKey.json()).toEqual({ principal: "bank-a", amount: "150.00" });
    const body = JSON.stringify({ amount: "99.99" });
    const headers = signRequest({ method: "POST", url: "http://localhost/echo", body }, { keyId: "bank-a-1", privateKey: ed25519PrivateKey(bankSigner.seed) });
    const signed = await gateway.app.inject({ method: "POST", url: "/echo", headers: { "content-type": "application/json", ...headers }, payload: body });
    expect(signed.statusCode).toBe(200);
    expect(signed.json()).toEqual({ principal: "bank-a", amount: "99.99" });
    const replay = await gateway.app.inject({ method: "POST", url: "/echo", headers: { "content-type": "application/json", ...headers }, payload: body });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe("SIGNATURE_REPLAYED");
  });

  it("registers and revokes credentials through the operator API", async () => {
    const auth = { authorization: `Bearer ${operatorKey}`, "content-type": "application/json" };
    const created = await gateway.app.inject({ method: "POST", url: "/operator/principals", headers: auth, payload: { role: "correspondent", name: "Bank of Elsewhere", bic: "ELSEGB2L" } });
    expect(created.statusCode).toBe(201);
    const id = created.json().id;
    const issued = await gateway.app.inject({ method: "POST", url: `/operator/principals/${id}/api-keys`, headers: auth, payload: {} });
    expect(issued.statusCode).toBe(201);
    const { apiKey, credentialId } = issued.json();
    expect((await echo({ authorization: `Bearer ${apiKey}` })).statusCode).toBe(200);
    const listed = (await gateway.app.inject({ url: "/operator/principals", headers: auth })).body;
    expect(listed).toContain(credentialId);
    expect(listed).not.toContain(apiKey.slice(21));
    const revoked = await gateway.app.inject({ method: "POST", url: `/operator/credentials/${credentialId}/revoke`, headers: auth });
    expect(revoked.json()).toEqual({ revoked: "credential", id: credentialId });
    expect((await echo({ authorization: `Bearer ${apiKey}` })).statusCode).toBe(401);
    const badKey = await gateway.app.inject({ method: "POST", url: `/operator/principals/${id}/signing-keys`, headers: auth, payload: { publicKey: "abcd" } });
    expect(badKey.json().code).toBe("INVALID_PUBLIC_KEY");
    const unknown = await gateway.app.inject({ method: "POST", url: "/operator/principals/nobody/revoke", headers: auth });
    expect(unknown.statusCode).toBe(404);
  });
});

describe("bad input", () => {
  const auth = () => ({ authorization: `Bearer ${bankKey}`, "content-type": "application/json" });

  it("refuses an oversize body with 413 BODY_TOO_LARGE", async () => {
    const response = await gateway.app.inject({ method: "POST", url: "/echo", headers: auth(), payload: JSON.stringify({ amount: "x".repeat(5000) }) });
    expect(response.statusCode).toBe(413);
    expect(response.json().code).toBe("BODY_TOO_LARGE");
  });

  it("refuses malformed JSON, schema violations, unknown media types and routes with codes", async () => {
    const malformed = await gateway.app.inject({ method: "POST", url: "/echo", headers: auth(), payload: "{amount:" });
    expect([malformed.statusCode, malformed.json().code]).toEqual([400, "INVALID_JSON"]);
    const invalid = await gateway.app.inject({ method: "POST", url: "/echo", headers: auth(), payload: JSON.stringify({ sum: 1 }) });
    expect([invalid.statusCode, invalid.json().code]).toEqual([400, "INVALID_REQUEST"]);
    const media = await gateway.app.inject({ method: "POST", url: "/echo", headers: { ...auth(), "content-type": "application/x-yaml" }, payload: "a: 1" });
    expect([media.statusCode, media.json().code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    expect(media.json().message).toBe("Content-Type application/x-yaml is not accepted: send Content-Type: application/json");
    const missing = await gateway.app.inject({ url: "/nowhere" });
    expect([missing.statusCode, missing.json().code]).toEqual([404, "NOT_FOUND"]);
  });
});
