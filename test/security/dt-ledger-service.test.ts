import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { httpDtLedger } from "../../src/dt-ledger/http/client-adapter.ts";
import { buildDtLedgerApp } from "../../src/dt-ledger/http/service.ts";
import type { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { revokeParticipant } from "../../src/dt-ledger/participants.ts";
import { ed25519PrivateKey, generateEd25519, signRequest } from "../../src/identity/http-signature.ts";
import { ACTIVITY_PAGE_MAX, DtLedgerError } from "../../src/ledger/dt-ledger-port.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { BANK_A, BANK_B, GATEWAY, key, migratedLedger, NBK, PARTICIPANTS, TestClock } from "../dt-ledger/support.ts";

/** The DT ledger service as an attacker meets it: who is refused, what a request may cost, what it writes. */
let database: TestDatabase;
let ledger: DtLedger;
let app: FastifyInstance;
let baseUrl: string;
const keys = new Map<string, Uint8Array>();

beforeAll(async () => {
  database = await createTestDatabase();
  ledger = await migratedLedger(database.db, new TestClock());
  for (const participant of PARTICIPANTS) {
    const pair = generateEd25519();
    keys.set(participant.id, pair.seed);
    await ledger.registerParticipant({ ...participant, publicKey: pair.publicKey });
  }
  app = await buildDtLedgerApp({ ledger, maxSkewSeconds: 60, bodyLimitBytes: 4096 });
  await app.listen({ host: "127.0.0.1", port: 0 });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const port = (participantId: string) => httpDtLedger({ baseUrl, participantId, signingKey: ed25519PrivateKey(keys.get(participantId)!) });
const signedHeaders = (participantId: string, method: string, path: string, body?: string) => ({
  ...signRequest({ method, url: `${baseUrl}${path}`, body }, { keyId: participantId, privateKey: ed25519PrivateKey(keys.get(participantId)!) }),
  ...(body === undefined ? {} : { "content-type": "application/json" }),
});
const head = async () => (await database.db.query<{ height: bigint }>("SELECT height FROM dt_ledger.head")).rows[0]!.height;
const transactions = async () => (await database.db.query<{ n: bigint }>("SELECT count(*)::int8 AS n FROM dt_ledger.transactions")).rows[0]!.n;
async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DtLedgerError) return error.code;
    throw error;
  }
  return "accepted";
}

describe("DT ledger service: participants can be revoked", () => {
  it("refuses every signed request of a revoked participant, and serves the others", async () => {
    const treasury = port("KKMFKZ2A");
    await treasury.openAccount({ idempotencyKey: key(), kind: "government_agency", holderName: "Ministry" });
    await revokeParticipant(database.db, "KKMFKZ2A");
    expect(await refusal(treasury.openAccount({ idempotencyKey: key(), kind: "government_agency", holderName: "Ministry 2" }))).toBe("UNAUTHENTICATED");
    const response = await fetch(`${baseUrl}/v1/events`, { headers: signedHeaders("KKMFKZ2A", "GET", "/v1/events") });
    expect([response.status, ((await response.json()) as { code: string }).code]).toEqual([401, "UNKNOWN_KEY"]);
    expect((await port(BANK_B).events({ limit: 1 })).events).toBeDefined();
  });

  it("revokes and lists through the CLI (dt-ledger participants revoke), refusing an unknown id", async () => {
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(line), env: { DATA_DIR: mkdtempSync(join(tmpdir(), "tg-revoke-")) } };
    const publicKey = Buffer.from(generateEd25519().publicKey).toString("hex");
    expect(await main(["dt-ledger", "participants", "add", "--id", "ATYNKZKA", "--name", "ATF Bank", "--role", "bank", "--public-key", publicKey], io)).toBe(0);
    expect(await main(["dt-ledger", "participants", "revoke", "--id", "ATYNKZKA"], io)).toBe(0);
    expect(await main(["dt-ledger", "participants", "list"], io)).toBe(0);
    expect(out.find((line) => line.startsWith("ATYNKZKA"))).toMatch(/ATYNKZKA\s+bank\s+revoked/);
    expect(await main(["dt-ledger", "participants", "revoke", "--id", "NOBODY1"], io)).toBe(2);
  }, 60_000);
});

describe("DT ledger service: the caller is known before its body is read", () => {
  it("answers 401, not 413 or 400, to an unsigned oversize or malformed body", async () => {
    const big = JSON.stringify({ idempotencyKey: "k", from: "a", to: "b", amount: "1", reference: "x".repeat(8000) });
    const oversize = await fetch(`${baseUrl}/v1/transfers`, { method: "POST", headers: { "content-type": "application/json" }, body: big });
    expect([oversize.status, ((await oversize.json()) as { code: string }).code]).toEqual([401, "SIGNATURE_MISSING"]);
    const malformed = await fetch(`${baseUrl}/v1/transfers`, { method: "POST", headers: { "content-type": "application/json" }, body: "{amount:" });
    expect([malformed.status, ((await malformed.json()) as { code: string }).code]).toEqual([401, "SIGNATURE_MISSING"]);
  });

  it("answers 413 to a participant whose signed body is too large", async () => {
    const big = JSON.stringify({ idempotencyKey: "k", from: "a", to: "b", amount: "1", reference: "x".repeat(8000) });
    const response = await fetch(`${baseUrl}/v1/transfers`, { method: "POST", headers: signedHeaders(BANK_A, "POST", "/v1/transfers", big), body: big });
    expect(response.status).toBe(413);
  });
});

describe("DT ledger service: requests are bound to the service they were signed for", () => {
  it("refuses a request signed for another host when it knows its own, and serves one signed for it", async () => {
    const bound = await buildDtLedgerApp({ ledger, maxSkewSeconds: 60, authorities: ["ledger.example"] });
    try {
      const sign = (host: string) =>
        signRequest({ method: "GET", url: `https://${host}/v1/events`, body: undefined }, { keyId: BANK_A, privateKey: ed25519PrivateKey(keys.get(BANK_A)!) });
      const elsewhere = await bound.inject({ method: "GET", url: "/v1/events", headers: { ...sign("gateway.example"), host: "gateway.example" } });
      expect([elsewhere.statusCode, elsewhere.json().code]).toEqual([401, "SIGNATURE_AUTHORITY"]);
      const here = await bound.inject({ method: "GET", url: "/v1/events", headers: { ...sign("ledger.example"), host: "ledger.example" } });
      expect(here.statusCode).toBe(200);
    } finally {
      await bound.close();
    }
  });
});

describe("DT ledger service: strict request types", () => {
  it("refuses a tiyn amount sent as a JSON number, and books nothing", async () => {
    const before = await head();
    const body = JSON.stringify({ idempotencyKey: key(), from: "x", to: "y", amount: 100, reference: "r" });
    const response = await fetch(`${baseUrl}/v1/transfers`, { method: "POST", headers: signedHeaders(BANK_A, "POST", "/v1/transfers", body), body });
    expect([response.status, ((await response.json()) as { code: string }).code]).toEqual([400, "INVALID_REQUEST"]);
    expect(await head()).toBe(before);
  });

  it("reads integer query parameters from canonical digits only", async () => {
    const ok = await fetch(`${baseUrl}/v1/events?limit=5`, { headers: signedHeaders(BANK_A, "GET", "/v1/events?limit=5") });
    expect(ok.status).toBe(200);
    const hex = await fetch(`${baseUrl}/v1/events?limit=0x5`, { headers: signedHeaders(BANK_A, "GET", "/v1/events?limit=0x5") });
    expect([hex.status, ((await hex.json()) as { code: string }).code]).toEqual([400, "INVALID_REQUEST"]);
  });
});

describe("DT ledger service: limits", () => {
  it("pages account activity: at most the limit, whole heights, and a cursor to the rest", async () => {
    const bank = port(BANK_A);
    const account = await bank.openAccount({ idempotencyKey: key(), kind: "individual", holderName: "Aigerim" });
    for (let i = 1; i <= 5; i++) await ledger.issue(NBK, { idempotencyKey: key(), accountId: account.id, amount: BigInt(i) * 100n, reference: `issue-${i}` });
    const seen: bigint[] = [];
    let fromHeight: bigint | undefined;
    let pages = 0;
    do {
      const page = await bank.activity({ accountId: account.id, limit: 2, ...(fromHeight === undefined ? {} : { fromHeight }) });
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries.map((entry) => entry.amount));
      expect(page.closingBalance).toBe(page.openingBalance + page.entries.reduce((sum, entry) => sum + entry.amount, 0n));
      fromHeight = page.nextFromHeight;
      pages++;
    } while (fromHeight !== undefined);
    expect(seen).toEqual([100n, 200n, 300n, 400n, 500n]);
    expect(pages).toBe(3);
    expect(await refusal(bank.activity({ accountId: account.id, limit: ACTIVITY_PAGE_MAX + 1 }))).toBe("INVALID_REQUEST");
    const unbounded = await fetch(`${baseUrl}/v1/accounts/${account.id}/activity?limit=100000`, { headers: signedHeaders(BANK_A, "GET", `/v1/accounts/${account.id}/activity?limit=100000`) });
    expect(unbounded.status).toBe(400);
  });

  it("signs collateral statements without writing to the ledger", async () => {
    const gateway = port(GATEWAY);
    const wallet = await gateway.openAccount({ idempotencyKey: key(), kind: "segregated_wallet", holderName: "Collateral" });
    const domain = { chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const };
    const [height, booked] = [await head(), await transactions()];
    const first = await gateway.collateralStatement({ accountId: wallet.id, domain });
    const second = await port(NBK).collateralStatement({ accountId: wallet.id, domain });
    expect([await head(), await transactions()]).toEqual([height, booked]);
    expect(first.statement.height).toBe(height);
    expect(second.statement.height).toBe(height);
  });
});

describe("DT ledger service: an account is read only by its servicing participant and the central bank", () => {
  const domain = { chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const };
  const read = async (participantId: string, path: string) => {
    const response = await fetch(`${baseUrl}${path}`, { headers: signedHeaders(participantId, "GET", path) });
    return [response.status, ((await response.json()) as { code?: string }).code];
  };

  it("refuses another bank every read of a customer's account: header, balance, activity, camt reports", async () => {
    const account = await port(BANK_A).openAccount({ idempotencyKey: key(), kind: "individual", holderName: "Aigerim Nurlanovna" });
    for (const suffix of ["", "/balance", "/activity", "/camt053", "/camt054", "/servicer"]) {
      expect(await read(BANK_B, `/v1/accounts/${account.id}${suffix}`)).toEqual([403, "FORBIDDEN_ACCOUNT"]);
    }
    // The servicer and the central bank read it; the gateway learns only who services it.
    expect((await port(BANK_A).account(account.id)).holderName).toBe("Aigerim Nurlanovna");
    expect((await port(NBK).account(account.id)).holderName).toBe("Aigerim Nurlanovna");
    expect(await read(GATEWAY, `/v1/accounts/${account.id}`)).toEqual([403, "FORBIDDEN_ACCOUNT"]);
    expect(await port(GATEWAY).servicer(account.id)).toBe(BANK_A);
  });

  it("signs a segregated wallet's statement for its servicer and the central bank only", async () => {
    const wallet = await port(GATEWAY).openAccount({ idempotencyKey: key(), kind: "segregated_wallet", holderName: "Collateral" });
    const path = `/v1/accounts/${wallet.id}/collateral-statement?chainId=${domain.chainId}&verifyingContract=${domain.verifyingContract}`;
    expect(await read(BANK_B, path)).toEqual([403, "FORBIDDEN_ACCOUNT"]);
    expect((await port(GATEWAY).collateralStatement({ accountId: wallet.id, domain })).statement.account).toBe(wallet.id);
    expect((await port(NBK).collateralStatement({ accountId: wallet.id, domain })).statement.account).toBe(wallet.id);
  });

  it("shows a hold only to its parties", async () => {
    const payer = await port(BANK_A).openAccount({ idempotencyKey: key(), kind: "individual", holderName: "Payer" });
    await ledger.issue(NBK, { idempotencyKey: key(), accountId: payer.id, amount: 1_000n, reference: "issue" });
    const payee = await port(BANK_A).openAccount({ idempotencyKey: key(), kind: "individual", holderName: "Payee" });
    const hold = await port(BANK_A).hold({ idempotencyKey: key(), from: payer.id, beneficiary: payee.id, amount: 100n, condition: { hashLock: `0x${"11".repeat(32)}` }, expiresAt: new Date(Date.parse("2026-03-02T12:00:00Z")), reference: "r" });
    expect(await read(BANK_B, `/v1/holds/${hold.id}`)).toEqual([403, "FORBIDDEN_ACCOUNT"]);
    expect((await port(NBK).getHold(hold.id)).id).toBe(hold.id);
  });
});
