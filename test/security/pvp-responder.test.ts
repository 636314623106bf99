import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PvpEngine } from "../../src/pvp/engine.ts";
import type { CorrespondentTerms, ResponderSettings } from "../../src/pvp/inbound.ts";
import { cancellationRequestMessage, instructionMessage } from "../../src/pvp/protocol/pvp-messages.ts";
import { ed25519PrivateKey, generateEd25519, signRequest } from "../../src/identity/http-signature.ts";
import { pvpRoutes } from "../../src/pvp/routes.ts";
import { createTestGateway, type TestGateway } from "../support/gateway-app.ts";
import type { TestDatabase } from "../support/database.ts";
import { engineWith, FOREIGN_CB, NBK } from "../support/pvp/harness.ts";
import { SimulatedLedger } from "../support/pvp/simulated-ledger.ts";

/**
 * The responder side: what a correspondent's pacs.009 can make this gateway (here the AED central bank's)
 * lock and pay is configured per correspondent; the message's debtor and creditor choose nothing.
 * Refusals are answered pacs.002 RJCT with an ISO reason and lock nothing.
 */
const SECOND_CB = "SECNGB2L";
const STRANGER = "THRDUS33";
/** Its limit was set in KZT: it says nothing about an AED leg, so such a leg is refused, not compared. */
const LIMIT_IN_KZT = "LIMTKZKA";

const TERMS: Record<string, CorrespondentTerms> = {
  [NBK]: { liquidityAccounts: ["LIQ-FOR-NBK"], settlementAccount: "NOSTRO-NBK", maxAmount: 1_000_000n },
  [SECOND_CB]: { liquidityAccounts: ["LIQ-FOR-SECN"], settlementAccount: "NOSTRO-SECN", maxAmount: 1_000_000n },
  [LIMIT_IN_KZT]: { liquidityAccounts: ["LIQ-FOR-NBK"], settlementAccount: "NOSTRO-LIMT", maxAmount: 1_000_000n, maxAmountCurrency: "KZT" },
};

describe("PvP responder: a correspondent makes us pay only what is configured for it", () => {
  let testDb: TestDatabase;
  let ledger: SimulatedLedger;
  let engine: PvpEngine;
  let gateway: TestGateway;
  let url: string;
  const responder: ResponderSettings = { ledger: "local", termsOf: (bic) => TERMS[bic] };
  /** The correspondents' principals here, with the Ed25519 keys they sign their requests with. */
  const keys = new Map<string, { keyId: string; seed: Uint8Array }>();
  const agentOf = new Map<string, string>();

  beforeAll(async () => {
    ledger = new SimulatedLedger("local", () => Date.now(), { asset: { currency: "AED", decimals: 2 } });
    for (const account of ["LIQ-FOR-NBK", "LIQ-FOR-SECN"]) ledger.fund(account, 100_000_000n);
    gateway = await createTestGateway({
      features: async (db) => {
        engine = engineWith(db, [ledger], { ourAgent: FOREIGN_CB, clock: { now: () => new Date() } });
        return [pvpRoutes({ engine, responder, authority: { dtLedger: undefined, ledgerAccountOwner: async () => undefined }, agentOfPrincipal: (id) => agentOf.get(id) })];
      },
    });
    testDb = gateway.testDb;
    for (const bic of [NBK, SECOND_CB]) {
      const pair = generateEd25519();
      const principal = await gateway.identity.createPrincipal("correspondent", bic, `corr-${bic}`, { bic });
      const keyId = await gateway.identity.registerSigningKey(principal, Buffer.from(pair.publicKey).toString("hex"), `${bic}-1`, "test");
      keys.set(bic, { keyId, seed: pair.seed });
      agentOf.set(principal, bic);
    }
    url = await gateway.app.listen({ host: "127.0.0.1", port: 0 });
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
  });

  /** POST /iso20022/inbound as the correspondent `from`, signed with its registered key: the HTTP answer. */
  async function post(xml: string, from: string): Promise<{ status: number; code: unknown }> {
    const key = keys.get(from)!;
    const target = new URL("/iso20022/inbound", url);
    const headers = signRequest({ method: "POST", url: target, body: Buffer.from(xml, "utf8") }, { keyId: key.keyId, privateKey: ed25519PrivateKey(key.seed) });
    const response = await fetch(target, { method: "POST", headers: { ...headers, "content-type": "application/xml" }, body: xml });
    const body = (await response.json()) as { code?: unknown };
    return { status: response.status, code: body.code };
  }

  function instruction(from: string, overrides: { uetr?: string; minorUnits?: bigint; currency?: string; expiry?: Date; debtor?: string; creditor?: string; pvpRef?: string } = {}) {
    const pvpRef = overrides.pvpRef ?? `pvp${randomBytes(12).toString("hex")}`;
    return instructionMessage(
      { pvpRef, from, to: FOREIGN_CB, createdAt: new Date() },
      {
        uetr: overrides.uetr ?? randomUUID(),
        amount: { currency: overrides.currency ?? "AED", minorUnits: overrides.minorUnits ?? 10_000n },
        hashLock: randomBytes(32).toString("hex"),
        expiry: overrides.expiry ?? new Date(Date.now() + 3_600_000),
        debtor: overrides.debtor ?? FOREIGN_CB,
        creditor: overrides.creditor ?? from,
      },
    );
  }

  const receive = (xml: string, from: string) => engine.receive(xml, from, responder);

  /** Drives the responder PvP and returns its state, reason and what the ledger locked for it. */
  async function outcome(pvpId: string) {
    for (let round = 0; round < 5; round++) await engine.processNow(pvpId);
    const pvp = (await engine.get(pvpId))!;
    const sent = await testDb.db.query<{ summary: Record<string, unknown> | string }>(
      "SELECT summary FROM pvp_message WHERE pvp_id = $1 AND direction = 'out' AND message_type = 'pacs.002.001.10'",
      [pvpId],
    );
    const summaries = sent.rows.map((row) => (typeof row.summary === "string" ? JSON.parse(row.summary) : row.summary) as Record<string, unknown>);
    return { state: pvp.state, reason: pvp.reasonCode, lock: ledger.locks.get(`${pvpId}:foreign`), sent: summaries };
  }

  it("locks from the sender's configured liquidity and pays its own account, whatever the message names", async () => {
    const { xml } = instruction(NBK);
    const answer = await receive(xml, NBK);
    expect(answer.status).toBe("accepted");
    const result = await outcome(answer.pvpId!);
    expect(result.state).toBe("LOCKED");
    expect(result.lock).toMatchObject({ payer: "LIQ-FOR-NBK", beneficiary: "NOSTRO-NBK", amount: 10_000n });
    expect(result.sent).toEqual([{ status: "ACSP" }]);
  });

  it("a correspondent naming another correspondent as debtor or creditor still moves only its own configured accounts", async () => {
    const { xml } = instruction(NBK, { debtor: SECOND_CB, creditor: SECOND_CB });
    const answer = await receive(xml, NBK);
    const result = await outcome(answer.pvpId!);
    expect(result.lock).toMatchObject({ payer: "LIQ-FOR-NBK", beneficiary: "NOSTRO-NBK" });
    expect([...ledger.locks.values()].some((lock) => lock.payer === "LIQ-FOR-SECN")).toBe(false);
  });

  it.each([
    ["above its limit per PvP", NBK, { minorUnits: 1_000_001n }, "AM02"],
    ["under a limit set in another currency", LIMIT_IN_KZT, { minorUnits: 1n }, "AM02"],
    ["from a correspondent with no terms here", STRANGER, {}, "AG01"],
    ["in another currency than our ledger's", NBK, { currency: "USD" }, "AM03"],
    ["with an expiry beyond the longest lock (2099)", NBK, { expiry: new Date("2099-01-01T00:00:00Z") }, "DT01"],
  ] as const)("an instruction %s is answered RJCT and locks nothing", async (_what, from, overrides, reason) => {
    const locksBefore = ledger.locks.size;
    const answer = await receive(instruction(from, overrides).xml, from);
    expect(answer.status).toBe("accepted");
    const result = await outcome(answer.pvpId!);
    expect(result).toMatchObject({ state: "REJECTED", reason, lock: undefined });
    // To the correspondent (and recorded for our side), never an ACSP.
    expect(result.sent).toContainEqual({ status: "RJCT", reason });
    expect(result.sent).not.toContainEqual({ status: "ACSP" });
    expect(ledger.locks.size).toBe(locksBefore);
  });

  it("the same BizMsgIdr with other bytes is refused 409 and recorded; the same bytes stay an idempotent duplicate", async () => {
    const pvpRef = `pvp${randomBytes(12).toString("hex")}`;
    const uetr = randomUUID();
    const first = instruction(NBK, { pvpRef, uetr });
    const accepted = await receive(first.xml, NBK);
    expect((await receive(first.xml, NBK)).status).toBe("duplicate");
    const altered = instruction(NBK, { pvpRef, uetr, minorUnits: 20_000n });
    expect(await post(altered.xml, NBK)).toEqual({ status: 409, code: "BUSINESS_MESSAGE_ID_REUSED" });
    const conflicts = await testDb.db.query<{ xml: string }>("SELECT xml FROM pvp_message_conflict WHERE counterparty = $1 AND business_message_id = $2", [NBK, first.reference.messageId]);
    expect(conflicts.rows.map((row) => row.xml)).toEqual([altered.xml]);
    // The first message is the one acted on.
    const result = await outcome(accepted.pvpId!);
    expect(result.lock?.amount).toBe(10_000n);
  });

  it("UETRs are scoped per sender: another correspondent reusing a UETR never reaches the first one's PvP", async () => {
    const uetr = randomUUID();
    const nbk = instruction(NBK, { uetr });
    const nbkPvp = (await receive(nbk.xml, NBK)).pvpId!;
    const timelineBefore = (await testDb.db.query("SELECT seq FROM pvp_timeline WHERE pvp_id = $1", [nbkPvp])).rowCount;
    // A cancellation naming NBK's UETR from the second correspondent finds nothing of NBK's.
    const cancel = cancellationRequestMessage({ pvpRef: `pvp${randomBytes(12).toString("hex")}`, from: SECOND_CB, to: FOREIGN_CB, createdAt: new Date() }, nbk.reference, { currency: "AED", minorUnits: 10_000n }, "CUST");
    expect(await post(cancel, SECOND_CB)).toEqual({ status: 404, code: "UNKNOWN_PVP" });
    // Its own instruction under the same UETR becomes its own PvP, paid from its own liquidity.
    const second = await receive(instruction(SECOND_CB, { uetr }).xml, SECOND_CB);
    expect(second.status).toBe("accepted");
    expect(second.pvpId).not.toBe(nbkPvp);
    expect((await outcome(second.pvpId!)).lock).toMatchObject({ payer: "LIQ-FOR-SECN", beneficiary: "NOSTRO-SECN" });
    expect((await engine.get(nbkPvp))!.cancelRequested).toBe(false);
    expect((await testDb.db.query("SELECT seq FROM pvp_timeline WHERE pvp_id = $1", [nbkPvp])).rowCount).toBe(timelineBefore);
  });
});
