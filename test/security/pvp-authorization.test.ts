import { createHash, randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { correspondentStore } from "../../src/correspondents/store.ts";
import { termsStore } from "../../src/correspondents/terms.ts";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { identityRoutes } from "../../src/identity/routes.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { pvpComponent, type PvpComponent } from "../../src/pvp/component.ts";
import { dtLedgerLeg } from "../../src/pvp/legs/dt-ledger-leg.ts";
import { PreimageSeal } from "../../src/pvp/preimage-seal.ts";
import { buildGatewayApp } from "../../src/server/app.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startDtStack, type DtStack } from "../support/pvp/dt-stack.ts";
import { FOREIGN_CB } from "../support/pvp/harness.ts";
import { SimulatedLedger } from "../support/pvp/simulated-ledger.ts";

/**
 * Who may move whose money through POST /pvp: a bank only from digital accounts its DT participant
 * services, and on a foreign ledger only between accounts registered for the counterparty and for itself.
 * Every refusal is checked on the DT ledger itself: nothing held, no PvP written.
 */
const FOREIGN_PAYER = "0x1111111111111111111111111111111111111111";
const HALYK_RECEIVES = "0x2222222222222222222222222222222222222222";
const CENTERCREDIT_RECEIVES = "0x3333333333333333333333333333333333333333";
const ATTACKER_ADDRESS = "0x4444444444444444444444444444444444444444";

describe("PvP authorization: whose money a caller may move", () => {
  let testDb: TestDatabase;
  let dt: DtStack;
  let app: FastifyInstance;
  let pvp: PvpComponent;
  let identity: IdentityStore;
  const preimageKey = randomBytes(32);
  const keys: Record<"halyk" | "centerCredit" | "unbound" | "operator", string> = { halyk: "", centerCredit: "", unbound: "", operator: "" };

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migrate(testDb.db, gatewayMigrations());
    identity = new IdentityStore(testDb.db);
    dt = await startDtStack(testDb.db, () => new Date());
    const evm = new SimulatedLedger("evm", () => Date.now(), { asset: { currency: "AED", decimals: 2 } });
    const kwdToken = new SimulatedLedger("evm-kwd", () => Date.now(), { asset: { currency: "KWD", decimals: 2 } });
    pvp = pvpComponent({ db: testDb.db, ourAgent: "NBRKKZKX", legs: [dtLedgerLeg({ port: dt.port }), evm, kwdToken], dtLedger: dt.port, preimageKey });
    app = await buildGatewayApp({
      db: testDb.db,
      logger: createLogger("silent", new Writable({ write: (_chunk, _encoding, done) => done() })),
      metrics: createMetricsRegistry(),
      migrationSets: gatewayMigrations(),
      bodyLimitBytes: 1024 * 1024,
      signatureMaxSkewSeconds: 300,
      features: [identityRoutes(identity), pvp.routes],
    });
    const { halyk, centerCredit } = dt.demo.participants;
    await identity.createPrincipal("bank", "Halyk Bank", "halyk", { bic: halyk.id, dtParticipant: halyk.id });
    await identity.createPrincipal("bank", "Bank CenterCredit", "centercredit", { bic: centerCredit.id, dtParticipant: centerCredit.id });
    // A bank registered before institutions existed: no BIC, no participant.
    await identity.createPrincipal("bank", "Old bank", "unbound");
    await identity.createPrincipal("operator", "Ops", "ops");
    for (const [name, id] of [["halyk", "halyk"], ["centerCredit", "centercredit"], ["unbound", "unbound"], ["operator", "ops"]] as const) {
      keys[name] = (await identity.issueApiKey(id)).apiKey;
    }
    await identity.registerLedgerAccount(FOREIGN_CB, "evm", FOREIGN_PAYER);
    await identity.registerLedgerAccount(halyk.id, "evm", HALYK_RECEIVES);
    await identity.registerLedgerAccount(centerCredit.id, "evm", CENTERCREDIT_RECEIVES);
    // The counterparty's standing terms (test/security/pvp-consent.test.ts tries them): the PvPs here pay its
    // DT settlement account, which is the Altyn exchange's account in this test, at 125 KZT per AED.
    await correspondentStore.add(testDb.db, { bic: FOREIGN_CB, name: "Central Bank of the UAE", baseUrl: "https://fcb.example" });
    await termsStore.setReferenceRate(testDb.db, "AED", "125", "test");
    await termsStore.setTerms(
      testDb.db,
      { counterpartyAgent: FOREIGN_CB, foreignLedger: "evm", foreignCurrency: "AED", maxForeignAmount: 10_000_000n, dailyForeignAmount: 10n ** 12n, rateBandBps: 100, dtBeneficiaries: [dt.demo.accounts.altynExchange.id] },
      "test",
    );
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await testDb?.drop();
  });

  const body = (overrides: { dtPayer?: string; dtLeg?: Record<string, unknown>; foreignLeg?: Record<string, unknown> } = {}) => ({
    counterpartyAgent: FOREIGN_CB,
    dtLeg: { payer: overrides.dtPayer ?? dt.demo.accounts.aigerim.id, beneficiary: dt.demo.accounts.altynExchange.id, amount: "15000.00", currency: "KZT", ...overrides.dtLeg },
    foreignLeg: { ledger: "evm", payer: FOREIGN_PAYER, beneficiary: HALYK_RECEIVES, amount: "120.00", currency: "AED", ...overrides.foreignLeg },
  });
  const create = (as: keyof typeof keys, payload: unknown) =>
    app.inject({ method: "POST", url: "/pvp", headers: { authorization: `Bearer ${keys[as]}` }, payload: payload as Record<string, unknown> });
  const held = async (accountId: string) => (await inProcessBalance(accountId)).held;
  const inProcessBalance = (accountId: string) => dt.ledger.balance(dt.demo.participants.nbk.id, accountId);
  const pvpCount = async () => Number((await testDb.db.query<{ n: string }>("SELECT count(*)::text AS n FROM pvp")).rows[0]!.n);

  /** A refused request wrote no PvP and, after the worker ran, the account has no more held than before. */
  async function expectRefused(as: keyof typeof keys, payload: unknown, status: number, code: string, payer: string) {
    await pvp.engine.runOnce();
    const before = { pvps: await pvpCount(), held: await held(payer) };
    const answer = await create(as, payload);
    expect(answer.statusCode).toBe(status);
    expect(answer.json().code).toBe(code);
    await pvp.engine.runOnce();
    expect({ pvps: await pvpCount(), held: await held(payer) }).toEqual(before);
  }

  it("the rightful bank pays from its own customer's DA: 201 and the DT hold is placed", async () => {
    const answer = await create("halyk", body());
    expect(answer.statusCode).toBe(201);
    await pvp.engine.runOnce();
    expect(await held(dt.demo.accounts.aigerim.id)).toBe(1_500_000n);
  });

  it("a bank paying from another bank's customer gets 403 and nothing is held", async () => {
    expect(await held(dt.demo.accounts.daniyar.id)).toBe(0n);
    await expectRefused("halyk", body({ dtPayer: dt.demo.accounts.daniyar.id }), 403, "DT_PAYER_NOT_SERVICED", dt.demo.accounts.daniyar.id);
    // The other bank may pay from its own customer.
    expect((await create("centerCredit", body({ dtPayer: dt.demo.accounts.daniyar.id, foreignLeg: { beneficiary: CENTERCREDIT_RECEIVES } }))).statusCode).toBe(201);
  });

  it("a bank paying from the Treasury's accounts gets 403 and nothing is held", async () => {
    await expectRefused("halyk", body({ dtPayer: dt.demo.accounts.ministry.id }), 403, "DT_PAYER_NOT_SERVICED", dt.demo.accounts.ministry.id);
    expect(await held(dt.demo.accounts.ministry.id)).toBe(0n);
  });

  it("an unknown DA is refused like another bank's (no account enumeration)", async () => {
    const answer = await create("halyk", body({ dtPayer: "00000000-0000-0000-0000-000000000000" }));
    expect(answer.statusCode).toBe(403);
    expect(answer.json().code).toBe("DT_PAYER_NOT_SERVICED");
  });

  it("a bank not bound to an institution may create nothing", async () => {
    await expectRefused("unbound", body({ dtPayer: dt.demo.accounts.coffeeShop.id }), 403, "INSTITUTION_UNKNOWN", dt.demo.accounts.coffeeShop.id);
  });

  it("the foreign payer must be registered for the counterparty, the beneficiary for the bank", async () => {
    const payer = dt.demo.accounts.coffeeShop.id;
    await expectRefused("halyk", body({ dtPayer: payer, foreignLeg: { payer: HALYK_RECEIVES } }), 403, "FOREIGN_PAYER_NOT_REGISTERED", payer);
    await expectRefused("halyk", body({ dtPayer: payer, foreignLeg: { beneficiary: ATTACKER_ADDRESS } }), 403, "FOREIGN_BENEFICIARY_NOT_REGISTERED", payer);
    await expectRefused("halyk", body({ dtPayer: payer, foreignLeg: { beneficiary: CENTERCREDIT_RECEIVES } }), 403, "FOREIGN_BENEFICIARY_NOT_REGISTERED", payer);
    // EVM addresses match whatever their case.
    expect((await create("halyk", body({ dtPayer: payer, foreignLeg: { beneficiary: HALYK_RECEIVES.toUpperCase().replace("0X", "0x") } }))).statusCode).toBe(201);
  });

  it("operators act on everything, the Treasury's accounts included", async () => {
    const answer = await create("operator", body({ dtPayer: dt.demo.accounts.ministry.id, foreignLeg: { beneficiary: ATTACKER_ADDRESS } }));
    expect(answer.statusCode).toBe(201);
  });

  it("a bank sees and cancels only its own PvPs", async () => {
    const mine = (await create("halyk", body())).json().id as string;
    const asOther = (path: string, method: "GET" | "POST" = "GET") => app.inject({ method, url: path, headers: { authorization: `Bearer ${keys.centerCredit}` } });
    expect((await asOther(`/pvp/${mine}`)).statusCode).toBe(404);
    expect((await asOther(`/pvp/${mine}/cancel`, "POST")).statusCode).toBe(404);
    expect(((await asOther("/pvp")).json().items as Array<{ id: string }>).map((item) => item.id)).not.toContain(mine);
    const own = await app.inject({ url: `/pvp/${mine}`, headers: { authorization: `Bearer ${keys.halyk}` } });
    expect(own.statusCode).toBe(200);
  });

  describe("legs are validated before any ledger is touched (422)", () => {
    const payer = () => dt.demo.accounts.coffeeShop.id;

    it("an unknown ledger", async () => {
      // The operator passes every authorization check: validation alone refuses.
      await expectRefused("operator", body({ dtPayer: payer(), foreignLeg: { ledger: "nowhere" } }), 422, "UNKNOWN_LEDGER", payer());
    });

    it("a DT leg in anything but KZT", async () => {
      await expectRefused("halyk", body({ dtPayer: payer(), dtLeg: { currency: "JPY", amount: "15000" } }), 422, "DT_LEG_CURRENCY", payer());
    });

    it("a foreign leg whose currency or decimals are not the ledger's asset (1.000 KWD on a 2-decimal token)", async () => {
      const kwd = { ledger: "evm-kwd", currency: "KWD", amount: "1.000" };
      await identity.registerLedgerAccount(FOREIGN_CB, "evm-kwd", FOREIGN_PAYER);
      await identity.registerLedgerAccount("HSBKKZKX", "evm-kwd", HALYK_RECEIVES);
      await expectRefused("halyk", body({ dtPayer: payer(), foreignLeg: kwd }), 422, "LEG_ASSET_MISMATCH", payer());
      await expectRefused("halyk", body({ dtPayer: payer(), foreignLeg: { currency: "USD" } }), 422, "LEG_ASSET_MISMATCH", payer());
    });

    it("an amount with more decimals than its currency has (400, the ISO amount code)", async () => {
      await expectRefused("halyk", body({ dtPayer: payer(), dtLeg: { amount: "15000.001" } }), 400, "AMOUNT_TOO_MANY_DECIMALS", payer());
    });

    it("an expiry beyond the longest lock (24 h by default), on either leg", async () => {
      const far = "2099-01-01T00:00:00Z";
      await expectRefused("halyk", body({ dtPayer: payer(), dtLeg: { expiresAt: far } }), 422, "LOCK_TOO_LONG", payer());
      const foreign = new Date(Date.now() + 25 * 3600_000).toISOString();
      const dtExpiry = new Date(Date.now() + 26 * 3600_000).toISOString();
      await expectRefused("halyk", body({ dtPayer: payer(), foreignLeg: { expiresAt: foreign }, dtLeg: { expiresAt: dtExpiry } }), 422, "LOCK_TOO_LONG", payer());
    });
  });

  describe("preimages at rest", () => {
    it("a dump of the PvP tables shows no preimage; the sealed value opens only with the key and only on its row", async () => {
      const created = (await create("halyk", body())).json() as { id: string; hashLock: string };
      await pvp.engine.runOnce();
      const row = (await testDb.db.query<{ preimage: string; hash_lock: string }>("SELECT preimage, hash_lock FROM pvp WHERE id = $1", [created.id])).rows[0]!;
      expect(row.preimage).toMatch(/^aes256gcm:/);
      const preimage = new PreimageSeal(preimageKey).open(created.id, row.preimage);
      expect(`0x${createHash("sha256").update(Buffer.from(preimage.slice(2), "hex")).digest("hex")}`).toBe(row.hash_lock);
      expect(() => new PreimageSeal(randomBytes(32)).open(created.id, row.preimage)).toThrow();
      expect(() => new PreimageSeal(preimageKey).open("pvp-another-row", row.preimage)).toThrow();
      // Every text the gateway keeps about PvPs, as a dump would show it.
      const dump = await testDb.db.query<{ text: string }>(
        `SELECT row_to_json(p)::text AS text FROM pvp p UNION ALL SELECT row_to_json(o)::text FROM pvp_outbox o
          UNION ALL SELECT row_to_json(t)::text FROM pvp_timeline t UNION ALL SELECT row_to_json(m)::text FROM pvp_message m`,
      );
      const secret = preimage.slice(2);
      expect(dump.rows.length).toBeGreaterThan(3);
      for (const { text } of dump.rows) expect(text.toLowerCase()).not.toContain(secret);
    });
  });
});
