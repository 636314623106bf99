import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PvpEngine } from "../../src/pvp/engine.ts";
import { pvpRoutes } from "../../src/pvp/routes.ts";
import { createTestGateway, type TestGateway } from "../support/gateway-app.ts";
import { engineWith, FOREIGN_CB } from "../support/pvp/harness.ts";
import { SimulatedLedger } from "../support/pvp/simulated-ledger.ts";

/**
 * `GET /pvp` pages by an opaque keyset cursor over (creation time, id): PvPs created in the same instant
 * are each listed exactly once, however the pages fall.
 */
describe("GET /pvp pages with a keyset cursor", () => {
  const SAME_INSTANT = new Date("2026-12-07T12:00:00.123Z");
  let gateway: TestGateway;
  let engine: PvpEngine;
  let operatorKey: string;
  let bankKey: string;
  const created: string[] = [];

  beforeAll(async () => {
    gateway = await createTestGateway({
      features: [
        async (app) =>
          pvpRoutes({
            // The engine needs the gateway's database, made with the app: routes reach it once it exists.
            engine: new Proxy({} as PvpEngine, { get: (_target, name) => Reflect.get(engine, name, engine) }),
            // Only listing is exercised here; creating goes through the engine directly.
            authority: { dtLedger: undefined, ledgerAccountOwner: async () => undefined },
            agentOfPrincipal: () => undefined,
          })(app),
      ],
    });
    const dt = new SimulatedLedger("dt", () => SAME_INSTANT.getTime());
    const foreign = new SimulatedLedger("evm", () => SAME_INSTANT.getTime());
    engine = engineWith(gateway.testDb.db, [dt, foreign], { clock: { now: () => SAME_INSTANT } });
    const operator = await gateway.identity.createPrincipal("operator", "ops");
    operatorKey = (await gateway.identity.issueApiKey(operator)).apiKey;
    const bank = await gateway.identity.createPrincipal("bank", "a bank");
    bankKey = (await gateway.identity.issueApiKey(bank)).apiKey;
    for (let index = 0; index < 12; index++) {
      const pvp = await engine.create({
        createdBy: index % 3 === 0 ? bank : "bank-other",
        counterpartyAgent: FOREIGN_CB,
        dtLeg: { ledger: "dt", payer: "KZ-BANK-A", beneficiary: "KZ-NOSTRO-B", amount: 100_000n + BigInt(index), currency: "KZT" },
        foreignLeg: { ledger: "evm", payer: "0xBankB", beneficiary: "0xBankA", amount: 20_000n, currency: "AED" },
      });
      created.push(pvp.id);
    }
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
  });

  const list = (key: string, query: string) => gateway.app.inject({ method: "GET", url: `/pvp?${query}`, headers: { authorization: `Bearer ${key}` } });

  /** Follows `next` from the first page to the last, returning every id seen in order. */
  async function walk(key: string, limit: number, filter = ""): Promise<string[]> {
    const seen: string[] = [];
    let before: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const answer = await list(key, `limit=${limit}${filter}${before ? `&before=${encodeURIComponent(before)}` : ""}`);
      expect(answer.statusCode).toBe(200);
      const body = answer.json() as { items: Array<{ id: string; createdAt: string }>; next: string | null };
      expect(body.items.length).toBeLessThanOrEqual(limit);
      seen.push(...body.items.map((item) => item.id));
      if (body.next === null) return seen;
      before = body.next;
    }
    throw new Error("paging did not end");
  }

  it("twelve PvPs of one millisecond, page size 1: each exactly once, newest first by id within the instant", async () => {
    const seen = await walk(operatorKey, 1);
    expect(seen).toHaveLength(12);
    expect(new Set(seen)).toEqual(new Set(created));
    expect(seen).toEqual([...created].sort().reverse());
  });

  it("any page size gives the same sequence, and a bank's walk holds only its own PvPs", async () => {
    const byOne = await walk(operatorKey, 1);
    for (const limit of [2, 5, 12, 50]) expect(await walk(operatorKey, limit)).toEqual(byOne);
    const own = await walk(bankKey, 1);
    expect(own).toHaveLength(4);
    expect(own).toEqual(byOne.filter((id) => own.includes(id)));
  });

  it("a cursor that this gateway did not issue is 400 INVALID_CURSOR", async () => {
    for (const before of ["2026-12-07T12:00:00Z", "bm90LWEtY3Vyc29y", Buffer.from(JSON.stringify(["x", "y"])).toString("base64url")]) {
      const answer = await list(operatorKey, `limit=1&before=${encodeURIComponent(before)}`);
      expect([answer.statusCode, answer.json().code]).toEqual([400, "INVALID_CURSOR"]);
    }
  });
});
