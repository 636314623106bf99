import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ed25519PrivateKey, generateEd25519, signRequest } from "../../src/identity/http-signature.ts";
import { httpDtLedger } from "../../src/dt-ledger/http/client-adapter.ts";
import { validateMessage } from "../../src/iso20022/validation/validate.ts";
import { buildDtLedgerApp } from "../../src/dt-ledger/http/service.ts";
import type { DtLedgerPort } from "../../src/ledger/dt-ledger-port.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { dtLedgerPortContract } from "./port-contract.ts";
import { BANK_A, GATEWAY, migratedLedger, NBK, PARTICIPANTS, TestClock } from "./support.ts";

async function serveLedger() {
  const database = await createTestDatabase();
  const clock = new TestClock();
  const ledger = await migratedLedger(database.db, clock);
  const keys = new Map<string, Uint8Array>();
  for (const participant of PARTICIPANTS) {
    const pair = generateEd25519();
    keys.set(participant.id, pair.seed);
    await ledger.registerParticipant({ ...participant, publicKey: pair.publicKey });
  }
  const app = await buildDtLedgerApp({ ledger, maxSkewSeconds: 60 });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const portFor = (participantId: string) =>
    httpDtLedger({ baseUrl, participantId, signingKey: ed25519PrivateKey(keys.get(participantId)!) });
  return { database, clock, ledger, app, baseUrl, keys, portFor };
}

dtLedgerPortContract("HTTP", async () => {
  const served = await serveLedger();
  return {
    ledger: served.ledger,
    clock: served.clock,
    portFor: (participantId: string): DtLedgerPort => served.portFor(participantId),
    close: async () => {
      await served.app.close();
      await served.database.drop();
    },
  };
});

describe("DT ledger service authentication", () => {
  let served: Awaited<ReturnType<typeof serveLedger>>;
  let database: TestDatabase;
  beforeAll(async () => {
    served = await serveLedger();
    database = served.database;
  });
  afterAll(async () => {
    await served.app.close();
    await database.drop();
  });

  const signed = (method: string, url: string, body: string | undefined, participantId = BANK_A): Record<string, string> => ({
    ...
    signRequest({ method, url: `${served.baseUrl}${url}`, body }, { keyId: participantId, privateKey: ed25519PrivateKey(served.keys.get(participantId)!) }),
  });

  it("serves the health check and its OpenAPI document without a signature", async () => {
    const response = await fetch(`${served.baseUrl}/v1/health`);
    expect(response.status).toBe(200);
    const openapi = (await (await fetch(`${served.baseUrl}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(["/v1/transfers", "/v1/holds/{holdId}/release", "/v1/events"]));
  });

  it("serves an account's camt.053 statement and camt.054 notification as valid ISO 20022 XML", async () => {
    const bank = served.portFor(BANK_A);
    const account = await bank.openAccount({ idempotencyKey: "camt-open", kind: "individual", holderName: "Aigerim" });
    await served.ledger.issue("NBRKKZKX", { idempotencyKey: "camt-issue", accountId: account.id, amount: 123_45n, reference: "conversion" });
    for (const report of ["camt053", "camt054"]) {
      const url = `/v1/accounts/${account.id}/${report}`;
      const response = await fetch(`${served.baseUrl}${url}`, { headers: signed("GET", url, undefined) });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("application/xml");
      const xml = await response.text();
      expect(validateMessage(xml)).toMatchObject({ messageType: `${report.slice(0, 4)}.${report.slice(4)}.001.08`, valid: true });
      expect(xml).toContain(">123.45<");
    }
    const foreign = `/v1/accounts/${account.id}/camt053`;
    const refused = await fetch(`${served.baseUrl}${foreign}`, { headers: signed("GET", foreign, undefined, "KCJBKZKX") });
    expect(refused.status).toBe(403);
  });

  it("refuses an unsigned request with 401 SIGNATURE_MISSING", async () => {
    const response = await fetch(`${served.baseUrl}/v1/monitoring`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "SIGNATURE_MISSING" });
  });

  it("refuses a body that is not the signed one", async () => {
    const body = JSON.stringify({ idempotencyKey: "k1", kind: "individual", holderName: "A" });
    const headers = signed("POST", "/v1/accounts", body);
    const response = await fetch(`${served.baseUrl}/v1/accounts`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: body.replace('"A"', '"B"'),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "DIGEST_MISMATCH" });
  });

  it("refuses a replayed request (same nonce) and an unknown key", async () => {
    const headers = signed("GET", "/v1/events", undefined);
    expect((await fetch(`${served.baseUrl}/v1/events`, { headers })).status).toBe(200);
    const replay = await fetch(`${served.baseUrl}/v1/events`, { headers });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ code: "SIGNATURE_REPLAYED" });
    const stranger: Record<string, string> = { ...signRequest(
      { method: "GET", url: `${served.baseUrl}/v1/events`, body: undefined },
      { keyId: "STRANGER", privateKey: ed25519PrivateKey(generateEd25519().seed) },
    ) };
    const unknown = await fetch(`${served.baseUrl}/v1/events`, { headers: stranger });
    expect(await unknown.json()).toMatchObject({ code: "UNKNOWN_KEY" });
  });

  it("refuses a signature made with another participant's key id", async () => {
    const headers: Record<string, string> = {
      ...signRequest(
        { method: "GET", url: `${served.baseUrl}/v1/monitoring`, body: undefined },
        { keyId: "NBRKKZKX", privateKey: ed25519PrivateKey(served.keys.get(BANK_A)!) },
      ),
    };
    const response = await fetch(`${served.baseUrl}/v1/monitoring`, { headers });
    expect(await response.json()).toMatchObject({ code: "SIGNATURE_INVALID" });
  });

  it("maps ledger refusals to statuses: 403 for monitoring by a bank, 400 for a malformed body", async () => {
    const monitoring = await fetch(`${served.baseUrl}/v1/monitoring`, { headers: signed("GET", "/v1/monitoring", undefined) });
    expect(monitoring.status).toBe(403);
    expect(await monitoring.json()).toMatchObject({ code: "FORBIDDEN_OPERATION" });
    const body = JSON.stringify({ idempotencyKey: "k2", from: "x", to: "y", amount: "1.5", reference: "" });
    const malformed = await fetch(`${served.baseUrl}/v1/transfers`, {
      method: "POST",
      headers: { ...signed("POST", "/v1/transfers", body), "content-type": "application/json" },
      body,
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: "INVALID_REQUEST" });
  });

  it("allots only on a signed request of the wallet's servicer: a stranger's key, the NBK's and a bank's are refused with nothing written", async () => {
    const gateway = served.portFor(GATEWAY);
    const wallet = await gateway.openAccount({ idempotencyKey: "allot-wallet", kind: "segregated_wallet", holderName: "Collateral" });
    const url = `/v1/accounts/${wallet.id}/issuance-allotments`;
    const body = JSON.stringify({ reference: "chain:31337:token", change: { kind: "addChain", chainId: "31337", token: "0x5FbDB2315678afecb367f032d93F642f64180aa3" } });
    const post = (headers: Record<string, string>, text = body) =>
      fetch(`${served.baseUrl}${url}`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: text });
    const stranger = signRequest({ method: "POST", url: `${served.baseUrl}${url}`, body }, { keyId: "STRANGER", privateKey: ed25519PrivateKey(generateEd25519().seed) });
    const unknown = await post({ ...stranger });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ code: "UNKNOWN_KEY" });
    for (const participant of [NBK, BANK_A]) {
      const refused = await post(signed("POST", url, body, participant));
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ code: "FORBIDDEN_ACCOUNT" });
    }
    const unsigned = await fetch(`${served.baseUrl}${url}/latest`);
    expect(unsigned.status).toBe(401);
    const latest = `${url}/latest`;
    expect(await (await fetch(`${served.baseUrl}${latest}`, { headers: signed("GET", latest, undefined, GATEWAY) })).json()).toEqual({ latest: null });
    // A chain id or amount that is not a decimal string is refused before the ledger is asked.
    const malformed = JSON.stringify({ reference: "mint:1", change: { kind: "credit", chainId: 31337, amount: "1" } });
    const refused = await post(signed("POST", url, malformed, GATEWAY), malformed);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: "INVALID_REQUEST" });
    const accepted = await post(signed("POST", url, body, GATEWAY));
    expect(accepted.status).toBe(201);
    expect(await accepted.json()).toMatchObject({ allotment: { sequence: "1", chains: [{ chainId: "31337", issuanceLimit: "0" }] } });
    const rows = await database.db.query<{ n: bigint }>("SELECT count(*)::int8 AS n FROM dt_ledger.issuance_allotments");
    expect(rows.rows[0]!.n).toBe(1n);
  });
});
