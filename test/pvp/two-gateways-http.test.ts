import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { correspondentStore } from "../../src/correspondents/store.ts";
import { composeGateway, type ComposedGateway } from "../../src/gateway/features.ts";
import { ed25519PrivateKey, generateEd25519, signRequest } from "../../src/identity/http-signature.ts";
import { identityRoutes } from "../../src/identity/routes.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import * as pvpCli from "../../src/pvp/cli.ts";
import type { PvpComponent } from "../../src/pvp/component.ts";
import { dtLedgerLeg } from "../../src/pvp/legs/dt-ledger-leg.ts";
import { buildGatewayApp } from "../../src/server/app.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import { loadStablecoinEnvironment } from "../../src/stablecoin/stablecoin-config.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startDtStack, type DtStack } from "../support/pvp/dt-stack.ts";
import { FOREIGN_CB, NBK } from "../support/pvp/harness.ts";

const policy = { clockDriftMs: 2_000, timeToActMs: 10_000, lockWindowMs: 30_000 };

interface Gateway {
  testDb: TestDatabase;
  identity: IdentityStore;
  ledger: DtStack;
  app: FastifyInstance;
  url: string;
  pvp: PvpComponent;
  composed: ComposedGateway;
}

/**
 * One tenge-gateway instance built by the composition root: its own database and embedded ledger, the PvP
 * component with `peer:<BIC>` legs from its directory of correspondents, an HTTP server. As responder it
 * pays through its own account for its BIC and through a correspondent's liquidity account for the other's.
 */
async function startGateway(agent: string, signingSeed: Uint8Array, responderLedger?: string): Promise<Gateway> {
  const testDb = await createTestDatabase();
  await migrate(testDb.db, gatewayMigrations());
  const identity = new IdentityStore(testDb.db);
  const ledger = await startDtStack(testDb.db, () => new Date());
  const logger = createLogger("silent", new Writable({ write: (_chunk, _encoding, done) => done() }));
  const metrics = createMetricsRegistry();
  const composed = await composeGateway({
    db: testDb.db,
    logger,
    metrics,
    // As responder, the foreign gateway's ledger stands for an AED CBDC: the same DT stack under another name and asset.
    ports: { dtLedger: { port: ledger.port, description: "test" }, stablecoinChains: [], foreignLegs: responderLedger ? [{ ...dtLedgerLeg({ port: ledger.port, ledger: responderLedger }), assets: [{ currency: "AED", decimals: 2 }] }] : [], readiness: [], stop: async () => {} },
    settings: {
      dtLedger: undefined,
      stablecoinChains: [],
      stablecoin: loadStablecoinEnvironment({}),
      pvp: { agent, signing: { keyId: `${agent}-key`, seed: signingSeed }, secretKey: undefined, foreignLedgers: [], responderLedger: responderLedger ?? "dt", maxLockSeconds: 86_400, homeCurrency: "KZT", statusRequestAfterSeconds: 30, pollIntervalMs: 200 },
    },
    attestationKey: undefined,
    pvpSecretKey: randomBytes(32),
    publicUrl: "http://127.0.0.1",
    pvp: { policy },
  });
  const app = await buildGatewayApp({
    db: testDb.db,
    logger,
    metrics,
    migrationSets: gatewayMigrations(),
    bodyLimitBytes: 1024 * 1024,
    signatureMaxSkewSeconds: 300,
    features: [identityRoutes(identity), ...composed.features.flatMap((feature) => feature.routes)],
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  for (const feature of composed.features) feature.start();
  return { testDb, identity, ledger, app, url, pvp: composed.pvp!, composed };
}

describe("two tenge-gateway instances settle a PvP over HTTP (ISO 20022 PvP profile, RFC 9421 signatures)", () => {
  let nbk: Gateway;
  let foreign: Gateway;
  let bankKey: string;
  let nbkSeed: Uint8Array;

  beforeAll(async () => {
    const nbkKeys = generateEd25519();
    nbkSeed = nbkKeys.seed;
    const foreignKeys = generateEd25519();
    nbk = await startGateway(NBK, nbkKeys.seed);
    foreign = await startGateway(FOREIGN_CB, foreignKeys.seed, "fcb");
    // The directory of correspondents: each side registers the other's gateway and public key; no restart.
    await correspondentStore.add(nbk.testDb.db, { bic: FOREIGN_CB, name: "Foreign central bank", baseUrl: foreign.url, signingKeys: [{ keyId: `${FOREIGN_CB}-key`, publicKey: Buffer.from(foreignKeys.publicKey).toString("hex") }] });
    await correspondentStore.add(foreign.testDb.db, {
      bic: NBK,
      name: "National Bank of Kazakhstan",
      baseUrl: nbk.url,
      signingKeys: [{ keyId: `${NBK}-key`, publicKey: Buffer.from(nbkKeys.publicKey).toString("hex") }],
      // Legs the NBK instructs are paid from the foreign side's kase account to the NBK's account there.
      liquidityAccounts: [foreign.ledger.demo.accounts.kase.id],
      settlementAccount: foreign.ledger.demo.accounts.coffeeShop.id,
    });
    await Promise.all([nbk.composed.directory.refresh(), foreign.composed.directory.refresh()]);
    const bank = await nbk.identity.createPrincipal("bank", "Halyk Bank", "bank-halyk", { bic: "HSBKKZKX", dtParticipant: nbk.ledger.demo.accounts.aigerim.participantId });
    bankKey = (await nbk.identity.issueApiKey(bank)).apiKey;
  }, 120_000);

  afterAll(async () => {
    for (const gateway of [nbk, foreign]) {
      if (!gateway) continue;
      for (const feature of gateway.composed.features) await feature.stop();
      await gateway.app.close();
      await gateway.testDb.drop();
    }
  });

  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${nbk.url}${path}`, { ...init, headers: { authorization: `Bearer ${bankKey}`, "content-type": "application/json", ...init.headers } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it("settles: the foreign gateway locks on its ledger (ACSP), settles on the reveal (ACSC), and the DT hold is released", async () => {
    const payer = nbk.ledger.demo.accounts.aigerim.id;
    const beneficiary = nbk.ledger.demo.accounts.altynExchange.id;
    const payerBefore = await nbk.ledger.available(payer);
    const foreignPayerBefore = await foreign.ledger.available(foreign.ledger.demo.accounts.kase.id);
    const foreignBeneficiaryBefore = await foreign.ledger.available(foreign.ledger.demo.accounts.coffeeShop.id);
    const created = await api("/pvp", {
      method: "POST",
      body: JSON.stringify({
        counterpartyAgent: FOREIGN_CB,
        dtLeg: { payer, beneficiary, amount: "12500.00", currency: "KZT" },
        foreignLeg: { ledger: `peer:${FOREIGN_CB}`, payer: FOREIGN_CB, beneficiary: NBK, amount: "95.40", currency: "AED" },
      }),
    });
    expect(created.status).toBe(201);
    // Amounts come back as they went in: decimal strings in the currency's major unit.
    expect(created.body["dtLeg"]).toMatchObject({ amount: "12500.00", currency: "KZT" });
    expect(created.body["foreignLeg"]).toMatchObject({ amount: "95.40", currency: "AED" });
    const id = String(created.body["id"]);
    let view = created.body;
    for (let attempt = 0; attempt < 200 && !["SETTLED", "REFUNDED", "REJECTED"].includes(String(view["state"])); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      view = (await api(`/pvp/${id}`)).body;
    }
    expect(view["state"]).toBe("SETTLED");
    expect(await nbk.ledger.available(payer)).toBe(payerBefore - 1_250_000n);
    expect(await foreign.ledger.available(foreign.ledger.demo.accounts.kase.id)).toBe(foreignPayerBefore - 9_540n);
    expect(await foreign.ledger.available(foreign.ledger.demo.accounts.coffeeShop.id)).toBe(foreignBeneficiaryBefore + 9_540n);
    const messages = view["messages"] as Array<{ direction: string; messageType: string; summary: Record<string, unknown> }>;
    const sent = messages.filter((message) => message.direction === "out").map((message) => message.messageType);
    expect(sent).toEqual(expect.arrayContaining(["pacs.009.001.08", "pacs.002.001.10", "camt.054.001.08"]));
    const received = messages.filter((message) => message.direction === "in").map((message) => message.summary["status"]);
    expect(received).toEqual(expect.arrayContaining(["ACSP", "ACSC"]));
    const timeline = view["timeline"] as Array<{ kind: string; toState: string | null }>;
    expect(timeline.filter((entry) => entry.kind === "transition").map((entry) => entry.toState)).toEqual(["INITIATED", "DT_LOCKED", "REVEALING", "CLAIMING_DT", "SETTLED"]);
    // The banks' camt.054 notifications are there as XML.
    const notice = (view["messages"] as Array<{ businessMessageId: string; messageType: string; counterparty: string; summary: Record<string, unknown> }>).find((message) => message.summary["creditDebit"] === "DBIT");
    // The debit goes to the bank that created the PvP: its institution's BIC, in the log and the AppHdr.
    expect(notice!.counterparty).toBe("HSBKKZKX");
    const xml = await fetch(`${nbk.url}/pvp/${id}/messages/${notice!.businessMessageId}`, { headers: { authorization: `Bearer ${bankKey}` } });
    expect(xml.headers.get("content-type")).toContain("application/xml");
    const debit = await xml.text();
    expect(debit).toContain("<CdtDbtInd>DBIT</CdtDbtInd>");
    expect(debit).toMatch(/<To>\s*<FIId>\s*<FinInstnId>\s*<BICFI>HSBKKZKX<\/BICFI>/);
    // The preimage never appears in the API's view of the PvP.
    const hold = await nbk.ledger.port.getHold(String((view["dtLeg"] as Record<string, unknown>)["reference"]));
    expect(JSON.stringify(view)).not.toContain(hold.preimage!.slice(2));
  });

  it("the CLI lists and shows the PvP through the API (tenge-gateway pvp list / show)", async () => {
    const lines: string[] = [];
    const io = { out: (line: string) => void lines.push(line), err: (line: string) => void lines.push(line), env: { TENGE_GATEWAY_URL: nbk.url, TENGE_API_KEY: bankKey } };
    expect(await pvpCli.list.run(["--state", "SETTLED"], io)).toBe(0);
    const id = lines[0]!.split(/\s+/)[0]!;
    expect(lines[0]).toContain("SETTLED");
    lines.length = 0;
    expect(await pvpCli.show.run([id], io)).toBe(0);
    expect(lines[0]).toContain(`${id}  SETTLED  initiator`);
    expect(lines[1]).toMatch(/^DT leg {5}: 12500\.00 KZT /);
    expect(lines[2]).toMatch(/^foreign leg: 95\.40 AED /);
    expect(lines.some((line) => line.includes("REVEALING -> CLAIMING_DT (foreign_claimed)"))).toBe(true);
    // A settled PvP is never among those stuck past an expiry.
    lines.length = 0;
    expect(await pvpCli.list.run(["--past-expiry"], io)).toBe(0);
    expect(lines).toEqual([]);
  });

  it("answers a replayed message (same BizMsgIdr) as a duplicate and changes nothing", async () => {
    const [row] = (
      await nbk.testDb.db.query<{ xml: string; business_message_id: string }>(
        `SELECT xml, business_message_id FROM pvp_message WHERE direction = 'out' AND message_type = 'pacs.009.001.08' LIMIT 1`,
      )
    ).rows;
    expect(row).toBeDefined();
    const before = await foreign.testDb.db.query(`SELECT count(*)::int8 AS n FROM pvp`);
    const body = Buffer.from(row!.xml, "utf8");
    const headers = signRequest({ method: "POST", url: `${foreign.url}/iso20022/inbound`, body }, { keyId: `${NBK}-key`, privateKey: ed25519PrivateKey(nbkSeed) });
    const response = await fetch(`${foreign.url}/iso20022/inbound`, { method: "POST", headers: { ...headers, "content-type": "application/xml" }, body });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ status: "duplicate", businessMessageId: row!.business_message_id });
    const after = await foreign.testDb.db.query(`SELECT count(*)::int8 AS n FROM pvp`);
    expect(after.rows).toEqual(before.rows);
  });

  it("refuses an inbound message that carries no RFC 9421 signature", async () => {
    const unsigned = await fetch(`${foreign.url}/iso20022/inbound`, { method: "POST", headers: { "content-type": "application/xml" }, body: "<Envelope/>" });
    expect(unsigned.status).toBe(401);
  });
});
