import { randomUUID, sign } from "node:crypto";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { correspondentStore } from "../../src/correspondents/store.ts";
import { termsRoutes } from "../../src/correspondents/terms-routes.ts";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { ed25519PrivateKey, ed25519RawPublicKey, generateEd25519 } from "../../src/identity/http-signature.ts";
import { identityRoutes } from "../../src/identity/routes.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { pvpComponent, type PvpComponent } from "../../src/pvp/component.ts";
import { dtLedgerLeg } from "../../src/pvp/legs/dt-ledger-leg.ts";
import { buildGatewayApp } from "../../src/server/app.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startDtStack, type DtStack } from "../support/pvp/dt-stack.ts";
import { FOREIGN_CB } from "../support/pvp/harness.ts";
import { SimulatedLedger } from "../support/pvp/simulated-ledger.ts";

/**
 * Consent on the foreign leg: where the gateway locks the counterparty's funds with a key it holds, the
 * amounts, rate and DT beneficiary come from the counterparty (standing terms in the directory, or a quote it
 * signed), never from the bank's request alone. Each attack is the red team's, over HTTP, and each refusal is
 * checked on the ledgers and tables: no PvP, no DT hold, no foreign lock, no limit taken, no quote consumed.
 */
const FOREIGN_PAYER = "0x1111111111111111111111111111111111111111";
const HALYK_RECEIVES = "0x2222222222222222222222222222222222222222";
const EVIL = "EVILAEAD";

describe("PvP consent: the counterparty's terms bind every foreign leg the gateway moves", () => {
  let testDb: TestDatabase;
  let dt: DtStack;
  let app: FastifyInstance;
  let pvp: PvpComponent;
  let evm: SimulatedLedger;
  let counterpartySettlement: string;
  const counterpartyKey = generateEd25519();
  const evilKey = generateEd25519();
  const keys = { halyk: "", operator: "" };

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migrate(testDb.db, gatewayMigrations());
    const identity = new IdentityStore(testDb.db);
    dt = await startDtStack(testDb.db, () => new Date());
    evm = new SimulatedLedger("evm", () => Date.now(), { asset: { currency: "AED", decimals: 2 } });
    evm.fund(FOREIGN_PAYER, 100_000_000n);
    const kwd = new SimulatedLedger("evm-kwd", () => Date.now(), { asset: { currency: "KWD", decimals: 3 } });
    kwd.fund(FOREIGN_PAYER, 10_000_000n);
    pvp = pvpComponent({ db: testDb.db, ourAgent: "NBRKKZKX", legs: [dtLedgerLeg({ port: dt.port }), evm, kwd], dtLedger: dt.port, preimageKey: new Uint8Array(32) });
    app = await buildGatewayApp({
      db: testDb.db,
      logger: createLogger("silent", new Writable({ write: (_chunk, _encoding, done) => done() })),
      metrics: createMetricsRegistry(),
      migrationSets: gatewayMigrations(),
      bodyLimitBytes: 1024 * 1024,
      signatureMaxSkewSeconds: 300,
      features: [identityRoutes(identity), pvp.routes, termsRoutes(testDb.db)],
    });
    const { halyk } = dt.demo.participants;
    await identity.createPrincipal("bank", "Halyk Bank", "halyk", { bic: halyk.id, dtParticipant: halyk.id });
    await identity.createPrincipal("operator", "Ops", "ops");
    keys.halyk = (await identity.issueApiKey("halyk")).apiKey;
    keys.operator = (await identity.issueApiKey("ops")).apiKey;
    const publicKey = (seed: Uint8Array) => Buffer.from(ed25519RawPublicKey(ed25519PrivateKey(seed))).toString("hex");
    await correspondentStore.add(testDb.db, { bic: FOREIGN_CB, name: "Central Bank of the UAE", baseUrl: "https://fcb.example", signingKeys: [{ keyId: "fcb-1", publicKey: publicKey(counterpartyKey.seed) }] });
    await correspondentStore.add(testDb.db, { bic: EVIL, name: "Another central bank", baseUrl: "https://evil.example", signingKeys: [{ keyId: "evil-1", publicKey: publicKey(evilKey.seed) }] });
    for (const ledger of ["evm", "evm-kwd"]) {
      await identity.registerLedgerAccount(FOREIGN_CB, ledger, FOREIGN_PAYER);
      await identity.registerLedgerAccount(halyk.id, ledger, HALYK_RECEIVES);
    }
    // The counterparty's KZT settlement account on DT (held at Halyk here, as in the embedded demo).
    counterpartySettlement = (await dt.ledger.openAccount(halyk.id, { idempotencyKey: "fcb-settlement", kind: "legal_entity", holderName: "FCBKAEAD settlement" })).id;
    // The operator sets the standing terms on the counterparty's word: the demo's, over the API.
    expect((await asOperator("PUT", "/operator/reference-rates/AED", { rate: "125.00" })).statusCode).toBe(200);
    const terms = await asOperator("PUT", `/operator/correspondents/${FOREIGN_CB}/terms/evm/AED`, { maxAmount: "100000.00", dailyLimit: "1000000.00", rateBandBps: 200, dtBeneficiaries: [counterpartySettlement] });
    expect(terms.statusCode).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await testDb?.drop();
  });

  const asOperator = (method: "GET" | "PUT" | "DELETE", url: string, payload?: Record<string, unknown>) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${keys.operator}` }, ...(payload ? { payload } : {}) });
  const body = (overrides: { dtLeg?: Record<string, unknown>; foreignLeg?: Record<string, unknown>; counterpartyAgent?: string; quote?: unknown } = {}) => ({
    counterpartyAgent: overrides.counterpartyAgent ?? FOREIGN_CB,
    dtLeg: { payer: dt.demo.accounts.aigerim.id, beneficiary: counterpartySettlement, amount: "15000.00", currency: "KZT", ...overrides.dtLeg },
    foreignLeg: { ledger: "evm", payer: FOREIGN_PAYER, beneficiary: HALYK_RECEIVES, amount: "120.00", currency: "AED", ...overrides.foreignLeg },
    ...(overrides.quote ? { quote: overrides.quote } : {}),
  });
  const create = (payload: unknown, as: keyof typeof keys = "halyk") =>
    app.inject({ method: "POST", url: "/pvp", headers: { authorization: `Bearer ${keys[as]}` }, payload: payload as Record<string, unknown> });
  const count = async (table: string) => Number((await testDb.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0]!.n);
  const usage = async () => (await testDb.db.query<{ s: string | null }>("SELECT sum(used)::text AS s FROM pvp_terms_usage")).rows[0]!.s ?? "0";
  const snapshot = async () => ({
    pvps: await count("pvp"),
    quotes: await count("pvp_quote"),
    usage: await usage(),
    held: (await dt.ledger.balance(dt.demo.participants.nbk.id, dt.demo.accounts.aigerim.id)).held,
    foreignPayer: evm.balance(FOREIGN_PAYER),
  });

  /** Refused with the status and code, and after the worker ran nothing anywhere changed. */
  async function expectRefused(payload: unknown, status: number, code: string, as: keyof typeof keys = "halyk") {
    await pvp.engine.runOnce();
    const before = await snapshot();
    const answer = await create(payload, as);
    expect({ status: answer.statusCode, code: answer.json().code }).toEqual({ status, code });
    await pvp.engine.runOnce();
    expect(await snapshot()).toEqual(before);
  }

  /** Drives a PvP until it is final; returns its state. */
  async function settle(id: string): Promise<string> {
    for (let round = 0; round < 20; round++) {
      await pvp.engine.runOnce();
      const state = (await pvp.engine.get(id))!.state;
      if (["SETTLED", "REFUNDED", "REJECTED"].includes(state)) return state;
    }
    return (await pvp.engine.get(id))!.state;
  }

  const signQuote = (fields: Record<string, unknown>, seed = counterpartyKey.seed, keyId = "fcb-1") => {
    const payload = JSON.stringify({
      quoteId: randomUUID(),
      counterpartyAgent: FOREIGN_CB,
      dtAmount: "15000.00",
      dtCurrency: "KZT",
      dtBeneficiary: counterpartySettlement,
      foreignLedger: "evm",
      foreignAmount: "120.00",
      foreignCurrency: "AED",
      rate: "125",
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
      ...fields,
    });
    return { payload, signature: sign(null, Buffer.from(payload), ed25519PrivateKey(seed)).toString("hex"), keyId };
  };

  it("the demo PvP (15,000.00 KZT for 120.00 AED to the counterparty's account) passes its standing terms and settles", async () => {
    const answer = await create(body());
    expect(answer.statusCode).toBe(201);
    const payerBefore = evm.balance(FOREIGN_PAYER);
    expect(await settle(answer.json().id)).toBe("SETTLED");
    expect(evm.balance(FOREIGN_PAYER)).toBe(payerBefore - 12_000n);
    expect(evm.balance(HALYK_RECEIVES)).toBe(12_000n);
  });

  it("the red team's PvP, 0.01 KZT between the bank's own customers against 500,000.00 AED, is refused with nothing locked", async () => {
    await expectRefused(body({ dtLeg: { amount: "0.01", beneficiary: dt.demo.accounts.coffeeShop.id }, foreignLeg: { amount: "500000.00" } }), 403, "DT_BENEFICIARY_NOT_COUNTERPARTY");
    // Paid to the counterparty's account, each remaining term refuses it on its own.
    await expectRefused(body({ dtLeg: { amount: "0.01" }, foreignLeg: { amount: "500000.00" } }), 422, "OVER_PVP_LIMIT");
    await expectRefused(body({ dtLeg: { amount: "0.01" } }), 422, "OUTSIDE_RATE_BAND");
    // 2% of 125.00 either way: 122.50 and 127.50 KZT per AED pass, 122.49 does not.
    await expectRefused(body({ dtLeg: { amount: "14698.80" } }), 422, "OUTSIDE_RATE_BAND");
    await expectRefused(body({ dtLeg: { amount: "15301.20" } }), 422, "OUTSIDE_RATE_BAND");
    expect((await create(body({ dtLeg: { amount: "14700.00" } }))).statusCode).toBe(201);
    expect((await create(body({ dtLeg: { amount: "15300.00" } }))).statusCode).toBe(201);
  });

  it("an operator is bound by the counterparty's consent too", async () => {
    await expectRefused(body({ dtLeg: { amount: "0.01" }, foreignLeg: { amount: "500000.00" } }), 422, "OVER_PVP_LIMIT", "operator");
  });

  it("a corridor without standing terms needs a quote (403), and KWD's 3 decimals are not taken for 2", async () => {
    await expectRefused(body({ foreignLeg: { ledger: "evm-kwd", currency: "KWD", amount: "1.000" } }), 403, "NO_COUNTERPARTY_CONSENT");
    expect((await asOperator("PUT", "/operator/reference-rates/KWD", { rate: "1650.5" })).statusCode).toBe(200);
    const set = await asOperator("PUT", `/operator/correspondents/${FOREIGN_CB}/terms/evm-kwd/KWD`, { maxAmount: "10.000", dailyLimit: "100.000", rateBandBps: 100, dtBeneficiaries: [counterpartySettlement] });
    expect(set.json()).toMatchObject({ maxAmount: "10.000", dailyLimit: "100.000" });
    // 1.000 KWD (1000 fils) at 1650.50 KZT is 1650.50 KZT (165050 tiyn).
    await expectRefused(body({ dtLeg: { amount: "16.51" }, foreignLeg: { ledger: "evm-kwd", currency: "KWD", amount: "1.000" } }), 422, "OUTSIDE_RATE_BAND");
    expect((await create(body({ dtLeg: { amount: "1650.50" }, foreignLeg: { ledger: "evm-kwd", currency: "KWD", amount: "1.000" } }))).statusCode).toBe(201);
  });

  it("the daily limit holds under concurrent creations: of five 120.00 AED PvPs against 300.00 left, exactly two pass", async () => {
    const evmUsage = async () => BigInt((await testDb.db.query<{ used: string }>("SELECT used::text AS used FROM pvp_terms_usage WHERE foreign_ledger = 'evm'")).rows[0]!.used);
    const used = await evmUsage();
    const limit = used + 30_000n;
    const decimal = (minor: bigint) => `${minor / 100n}.${(minor % 100n).toString().padStart(2, "0")}`;
    expect((await asOperator("PUT", `/operator/correspondents/${FOREIGN_CB}/terms/evm/AED`, { maxAmount: "120.00", dailyLimit: decimal(limit), rateBandBps: 200, dtBeneficiaries: [counterpartySettlement] })).statusCode).toBe(200);
    const pvpsBefore = await count("pvp");
    const answers = await Promise.all(Array.from({ length: 5 }, () => create(body())));
    const statuses = answers.map((answer) => answer.statusCode).sort();
    expect(statuses).toEqual([201, 201, 422, 422, 422]);
    for (const refused of answers.filter((answer) => answer.statusCode === 422)) expect(refused.json().code).toBe("OVER_DAILY_LIMIT");
    expect(await count("pvp")).toBe(pvpsBefore + 2);
    expect(await evmUsage()).toBe(limit - 6_000n);
    const listed = (await asOperator("GET", `/operator/terms?counterparty=${FOREIGN_CB}`)).json().items as Array<{ foreignLedger: string; usedToday: string }>;
    expect(listed.find((terms) => terms.foreignLedger === "evm")?.usedToday).toBe(decimal(limit - 6_000n));
  });

  describe("signed quotes", () => {
    it("a quote the counterparty signed carries a PvP outside the standing terms, once; a second use is refused", async () => {
      // 500.00 AED is over the per-PvP limit of the standing terms, but the counterparty quoted it.
      const quote = signQuote({ foreignAmount: "500.00", dtAmount: "62250.00", rate: "124.50" });
      const first = await create(body({ dtLeg: { amount: "62250.00" }, foreignLeg: { amount: "500.00" }, quote }));
      expect(first.statusCode).toBe(201);
      await expectRefused(body({ dtLeg: { amount: "62250.00" }, foreignLeg: { amount: "500.00" }, quote }), 422, "QUOTE_ALREADY_USED");
      const consumed = (await asOperator("GET", "/operator/pvp-quotes")).json().items as Array<{ quoteId: string; pvpId: string; payload: string }>;
      expect(consumed.find((entry) => entry.payload === quote.payload)?.pvpId).toBe(first.json().id);
    });

    it("two creations with one quote at once: exactly one passes", async () => {
      const quote = signQuote({});
      const answers = await Promise.all([create(body({ quote })), create(body({ quote })), create(body({ quote }))]);
      expect(answers.map((answer) => answer.statusCode).sort()).toEqual([201, 422, 422]);
      expect(await count(`pvp_quote WHERE payload = '${quote.payload.replaceAll("'", "''")}'`)).toBe(1);
    });

    it("a quote differing from the PvP, expired, malformed, or not signed by the counterparty is refused with nothing written", async () => {
      await expectRefused(body({ dtLeg: { amount: "0.01" }, quote: signQuote({}) }), 422, "QUOTE_TERMS_MISMATCH");
      await expectRefused(body({ dtLeg: { beneficiary: dt.demo.accounts.coffeeShop.id }, quote: signQuote({}) }), 422, "QUOTE_TERMS_MISMATCH");
      await expectRefused(body({ quote: signQuote({ rate: "200" }) }), 422, "QUOTE_TERMS_MISMATCH");
      await expectRefused(body({ quote: signQuote({ bankAgent: "KCJBKZKX" }) }), 422, "QUOTE_TERMS_MISMATCH");
      await expectRefused(body({ quote: signQuote({ expiresAt: new Date(Date.now() - 1000).toISOString() }) }), 422, "QUOTE_EXPIRED");
      await expectRefused(body({ quote: signQuote({ foreignAmount: 120 }) }), 422, "QUOTE_INVALID");
      // Signed by another central bank's registered key, or the bytes changed after signing.
      await expectRefused(body({ quote: signQuote({}, evilKey.seed, "evil-1") }), 403, "QUOTE_SIGNATURE_INVALID");
      await expectRefused(body({ quote: signQuote({ counterpartyAgent: EVIL }, evilKey.seed, "evil-1") }), 403, "QUOTE_SIGNATURE_INVALID");
      const tampered = signQuote({});
      await expectRefused(body({ dtLeg: { amount: "0.01" }, quote: { ...tampered, payload: tampered.payload.replace('"15000.00"', '"0.01"') } }), 403, "QUOTE_SIGNATURE_INVALID");
    });
  });

  describe("quotes signed by an FX provider the counterparty names", () => {
    const provider = generateEd25519();
    const rogue = generateEd25519();
    const hex = (seed: Uint8Array) => Buffer.from(ed25519RawPublicKey(ed25519PrivateKey(seed))).toString("hex");
    const asOperatorPost = (url: string, payload?: Record<string, unknown>) =>
      app.inject({ method: "POST", url, headers: { authorization: `Bearer ${keys.operator}` }, ...(payload ? { payload } : {}) });

    beforeAll(async () => {
      expect((await asOperatorPost("/operator/fx-providers/FXPRAEAD/keys", { name: "Dubai FX House", keyId: "fxpr-1", publicKey: hex(provider.seed) })).statusCode).toBe(201);
      // A provider registered here, but named only by another central bank.
      expect((await asOperatorPost("/operator/fx-providers/ROGUAEAD/keys", { name: "Rogue FX", keyId: "rogu-1", publicKey: hex(rogue.seed) })).statusCode).toBe(201);
      expect((await asOperator("PUT", `/operator/correspondents/${FOREIGN_CB}/fx-providers`, { providers: ["FXPRAEAD"] })).json().providers).toEqual(["FXPRAEAD"]);
      expect((await asOperator("PUT", `/operator/correspondents/${EVIL}/fx-providers`, { providers: ["ROGUAEAD"] })).statusCode).toBe(200);
    });

    it("a quote the named provider signed carries a PvP outside the standing terms", async () => {
      const quote = signQuote({ foreignAmount: "400.00", dtAmount: "50000.00", rate: "125" }, provider.seed, "fxpr-1");
      const answer = await create(body({ dtLeg: { amount: "50000.00" }, foreignLeg: { amount: "400.00" }, quote }));
      expect(answer.statusCode).toBe(201);
      const consumed = (await asOperator("GET", "/operator/pvp-quotes")).json().items as Array<{ keyId: string; pvpId: string }>;
      expect(consumed).toContainEqual(expect.objectContaining({ keyId: "fxpr-1", pvpId: answer.json().id }));
    });

    it("a provider the counterparty does not name, an unknown key, a wrong signer or a revoked key: 403, nothing written", async () => {
      const outside = { dtLeg: { amount: "50000.00" }, foreignLeg: { amount: "400.00" } };
      const terms = { foreignAmount: "400.00", dtAmount: "50000.00", rate: "125" };
      await expectRefused(body({ ...outside, quote: signQuote(terms, rogue.seed, "rogu-1") }), 403, "QUOTE_SIGNATURE_INVALID");
      await expectRefused(body({ ...outside, quote: signQuote(terms, rogue.seed, "nobody-1") }), 403, "QUOTE_SIGNATURE_INVALID");
      // The named provider's key id, signed with another key.
      await expectRefused(body({ ...outside, quote: signQuote(terms, rogue.seed, "fxpr-1") }), 403, "QUOTE_SIGNATURE_INVALID");
      // The named provider's quote for another counterparty than the PvP's.
      await expectRefused(body({ ...outside, counterpartyAgent: EVIL, quote: signQuote({ ...terms, counterpartyAgent: EVIL }, provider.seed, "fxpr-1") }), 403, "QUOTE_SIGNATURE_INVALID", "operator");
      const spare = generateEd25519();
      expect((await asOperatorPost("/operator/fx-providers/FXPRAEAD/keys", { name: "Dubai FX House", keyId: "fxpr-2", publicKey: hex(spare.seed) })).statusCode).toBe(201);
      expect((await asOperatorPost("/operator/fx-providers/FXPRAEAD/keys/fxpr-2/revoke")).json()).toEqual({ providerId: "FXPRAEAD", keyId: "fxpr-2", revoked: true });
      await expectRefused(body({ ...outside, quote: signQuote(terms, spare.seed, "fxpr-2") }), 403, "QUOTE_SIGNATURE_INVALID");
    });

    it("a provider key is one party's: a correspondent's public key or a taken key id is refused; only operators set them", async () => {
      const auditBefore = await count("pvp_consent_audit");
      expect((await asOperatorPost("/operator/fx-providers/FXPRAEAD/keys", { name: "Copy", keyId: "fxpr-9", publicKey: hex(counterpartyKey.seed) })).json().code).toBe("TERMS_INVALID");
      expect((await asOperatorPost("/operator/fx-providers/FXPRAEAD/keys", { name: "Copy", keyId: "fcb-1", publicKey: hex(generateEd25519().seed) })).json().code).toBe("TERMS_INVALID");
      expect((await asOperator("PUT", `/operator/correspondents/${FOREIGN_CB}/fx-providers`, { providers: [FOREIGN_CB] })).json().code).toBe("TERMS_INVALID");
      expect((await asOperator("PUT", "/operator/correspondents/NOPEAEAD/fx-providers", { providers: ["FXPRAEAD"] })).statusCode).toBe(404);
      const asBank = (method: "GET" | "PUT" | "POST", url: string, payload?: Record<string, unknown>) => app.inject({ method, url, headers: { authorization: `Bearer ${keys.halyk}` }, ...(payload ? { payload } : {}) });
      expect((await asBank("PUT", `/operator/correspondents/${FOREIGN_CB}/fx-providers`, { providers: ["ROGUAEAD"] })).statusCode).toBe(403);
      expect((await asBank("POST", "/operator/fx-providers/ROGUAEAD/keys", { name: "x", keyId: "x-1", publicKey: hex(generateEd25519().seed) })).statusCode).toBe(403);
      expect((await asBank("GET", "/operator/fx-providers")).statusCode).toBe(403);
      expect(await count("pvp_consent_audit")).toBe(auditBefore);
      const listed = (await asOperator("GET", "/operator/fx-providers")).json().items as Array<{ keyId: string; namedBy: string[]; revokedAt: string | null }>;
      expect(listed.find((key) => key.keyId === "fxpr-1")).toMatchObject({ namedBy: [FOREIGN_CB], revokedAt: null });
      const trail = (await asOperator("GET", "/operator/consent/audit")).json().items as Array<{ action: string; subject: string }>;
      expect(trail).toContainEqual(expect.objectContaining({ action: "fx_providers.named", subject: FOREIGN_CB }));
      expect(trail).toContainEqual(expect.objectContaining({ action: "fx_provider.key_revoked", subject: "FXPRAEAD" }));
    });
  });

  describe("a peer leg is the counterparty's own gateway", () => {
    it("peer:<BIC> naming another central bank than the counterparty is refused at creation, nothing written", async () => {
      await expectRefused(body({ foreignLeg: { ledger: `peer:${EVIL}`, payer: EVIL, beneficiary: "NBRKKZKX", amount: "10.00" }, dtLeg: { amount: "10.00" } }), 422, "PEER_NOT_COUNTERPARTY");
      await expectRefused(body({ counterpartyAgent: EVIL, foreignLeg: { ledger: `peer:${FOREIGN_CB}`, payer: FOREIGN_CB, beneficiary: "NBRKKZKX" } }), 422, "PEER_NOT_COUNTERPARTY", "operator");
    });
  });

  describe("terms, rates and quotes are the operator's to see and set, and audited", () => {
    it("every change is in the audit trail with who made it", async () => {
      const trail = (await asOperator("GET", "/operator/consent/audit")).json().items as Array<{ actor: string; action: string; subject: string; detail: Record<string, unknown> }>;
      expect(trail).toContainEqual(expect.objectContaining({ actor: "ops", action: "reference_rate.set", subject: "AED", detail: { rate: "125.00", quotedIn: "KZT" } }));
      expect(trail).toContainEqual(expect.objectContaining({ actor: "ops", action: "terms.set", subject: `${FOREIGN_CB}/evm/AED` }));
      const rates = (await asOperator("GET", "/operator/reference-rates")).json().items as Array<{ foreignCurrency: string; rate: string; setBy: string }>;
      expect(rates).toContainEqual(expect.objectContaining({ foreignCurrency: "AED", rate: "125.00", setBy: "ops" }));
    });

    it("a bank may neither read nor change them (403), and a bad rate or terms change nothing (400)", async () => {
      const asBank = (method: "GET" | "PUT", url: string, payload?: Record<string, unknown>) => app.inject({ method, url, headers: { authorization: `Bearer ${keys.halyk}` }, ...(payload ? { payload } : {}) });
      const auditBefore = await count("pvp_consent_audit");
      expect((await asBank("PUT", "/operator/reference-rates/AED", { rate: "1.00" })).statusCode).toBe(403);
      expect((await asBank("PUT", `/operator/correspondents/${FOREIGN_CB}/terms/evm/AED`, { maxAmount: "1.00", dailyLimit: "1.00", rateBandBps: 10000, dtBeneficiaries: ["x"] })).statusCode).toBe(403);
      for (const url of ["/operator/terms", "/operator/reference-rates", "/operator/pvp-quotes", "/operator/consent/audit"]) expect((await asBank("GET", url)).statusCode).toBe(403);
      expect((await asOperator("PUT", "/operator/reference-rates/AED", { rate: "0" })).json().code).toBe("TERMS_INVALID");
      const overLimit = await asOperator("PUT", `/operator/correspondents/${FOREIGN_CB}/terms/evm/AED`, { maxAmount: "2.00", dailyLimit: "1.00", rateBandBps: 10, dtBeneficiaries: ["x"] });
      expect(overLimit.json().code).toBe("TERMS_INVALID");
      expect((await asOperator("PUT", `/operator/correspondents/${FOREIGN_CB}/terms/evm/AED`, { maxAmount: "1.001", dailyLimit: "1.00", rateBandBps: 10, dtBeneficiaries: ["x"] })).statusCode).toBe(400);
      expect((await asOperator("PUT", `/operator/correspondents/${FOREIGN_CB}/terms/peer:${FOREIGN_CB}/AED`, { maxAmount: "1.00", dailyLimit: "1.00", rateBandBps: 10, dtBeneficiaries: ["x"] })).json().code).toBe("TERMS_INVALID");
      expect((await asOperator("PUT", "/operator/correspondents/NOPEAEAD/terms/evm/AED", { maxAmount: "1.00", dailyLimit: "1.00", rateBandBps: 10, dtBeneficiaries: ["x"] })).statusCode).toBe(404);
      expect(await count("pvp_consent_audit")).toBe(auditBefore);
      expect((await asOperator("GET", "/operator/reference-rates")).json().items).toContainEqual(expect.objectContaining({ foreignCurrency: "AED", rate: "125.00" }));
    });
  });
});
