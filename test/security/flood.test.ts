import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { identityRoutes } from "../../src/identity/routes.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { buildGatewayApp } from "../../src/server/app.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import { iso20022RoutesWith } from "../../src/iso20022/routes.ts";
import { pvpComponent, type PvpComponent } from "../../src/pvp/component.ts";
import { dtLedgerLeg } from "../../src/pvp/legs/dt-ledger-leg.ts";
import { peerGatewayLeg } from "../../src/pvp/legs/peer-gateway-leg.ts";
import { pacs008Sample, sample } from "../iso20022/fixtures.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startDtStack, type DtStack } from "../support/pvp/dt-stack.ts";
import { FOREIGN_CB } from "../support/pvp/harness.ts";

/**
 * The red team's flood (issue 18, medium finding 4): any authenticated principal sent 16 concurrent 1 MB
 * documents to `/iso20022/validate` and `/healthz` slowed to seconds; `/pvp` had no rate limit. Now each
 * principal has a token bucket (429 with Retry-After, nothing read or written) and validation runs in
 * worker threads behind a bounded queue (503 VALIDATION_QUEUE_FULL). Latency is measured in
 * `npm run bench:flood`, never here; this checks the refusals and that nothing of a refused request is written.
 */
describe("a principal's flood is refused, not served at everyone's cost", () => {
  let testDb: TestDatabase;
  let app: FastifyInstance;
  let identity: IdentityStore;
  let dt: DtStack;
  let pvp: PvpComponent;
  const now = 1_000_000;
  const keys = { flooder: "", creator: "", other: "" };

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migrate(testDb.db, gatewayMigrations());
    identity = new IdentityStore(testDb.db);
    dt = await startDtStack(testDb.db, () => new Date());
    const transport = { send: async () => {} };
    pvp = pvpComponent({
      db: testDb.db,
      ourAgent: "NBRKKZKX",
      legs: [dtLedgerLeg({ port: dt.port }), peerGatewayLeg({ agent: FOREIGN_CB, ourAgent: "NBRKKZKX", transport })],
      dtLedger: dt.port,
      preimageKey: new Uint8Array(32),
    });
    app = await buildGatewayApp({
      db: testDb.db,
      logger: createLogger("silent", new Writable({ write: (_chunk, _encoding, done) => done() })),
      metrics: createMetricsRegistry(),
      migrationSets: gatewayMigrations(),
      bodyLimitBytes: 2 * 1024 * 1024,
      signatureMaxSkewSeconds: 300,
      // A burst of 20 per principal, one more a second; the clock stands still, so nothing refills.
      principalRateLimit: { perSecond: 1, burst: 20 },
      clock: () => now,
      features: [identityRoutes(identity), iso20022RoutesWith({ concurrency: 1, queue: 2 }), pvp.routes],
    });
    const { halyk } = dt.demo.participants;
    for (const [name, id] of [["flooder", "bank-flood"], ["creator", "bank-create"], ["other", "bank-other"]] as const) {
      await identity.createPrincipal("bank", `Halyk ${name}`, id, { bic: halyk.id, dtParticipant: halyk.id });
      keys[name] = (await identity.issueApiKey(id)).apiKey;
    }
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await testDb?.drop();
  });

  const validate = (key: string, payload: string) =>
    app.inject({ method: "POST", url: "/iso20022/validate", headers: { "content-type": "application/xml", authorization: `Bearer ${key}` }, payload });
  const pvps = async () => Number((await testDb.db.query<{ n: string }>("SELECT count(*)::text AS n FROM pvp")).rows[0]!.n);

  it("16 concurrent 1 MB documents from one bank: beyond one running and two waiting they get 503; /healthz and another bank are served", async () => {
    const large = sample(pacs008Sample).replace("<Nm>C Consumer</Nm>", `<Nm>${"A".repeat(1_000_000)}</Nm>`);
    const flood = Promise.all(Array.from({ length: 16 }, () => validate(keys.flooder, large)));
    const health = await app.inject({ url: "/healthz" });
    expect(health.statusCode).toBe(200);
    const answers = await flood;
    const statuses = answers.map((answer) => answer.statusCode);
    // At most one runs and two wait at any moment; the others are turned away, not queued without bound.
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    const busy = answers.find((answer) => answer.statusCode === 503)!;
    expect(busy.json()).toMatchObject({ code: "VALIDATION_QUEUE_FULL" });
    expect(busy.headers["retry-after"]).toBe("1");
    expect((await validate(keys.other, sample(pacs008Sample))).statusCode).toBe(200);
    // Its bucket had 20: the next five documents are refused at the door, before the body is read.
    const late = [];
    for (let index = 0; index < 5; index++) late.push(await validate(keys.flooder, sample(pacs008Sample)));
    expect(late.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200, 429]);
    expect(late[4]!.json()).toMatchObject({ code: "RATE_LIMITED" });
    expect(Number(late[4]!.headers["retry-after"])).toBeGreaterThanOrEqual(1);
  });

  it("POST /pvp beyond the rate is 429 with Retry-After and writes no PvP; another bank still creates", async () => {
    const create = (key: string) =>
      app.inject({
        method: "POST",
        url: "/pvp",
        headers: { authorization: `Bearer ${key}` },
        payload: {
          counterpartyAgent: FOREIGN_CB,
          dtLeg: { payer: dt.demo.accounts.aigerim.id, beneficiary: dt.demo.accounts.kase.id, amount: "1.00", currency: "KZT" },
          foreignLeg: { ledger: `peer:${FOREIGN_CB}`, payer: FOREIGN_CB, beneficiary: "NBRKKZKX", amount: "0.01", currency: "AED" },
        },
      });
    const answers = [];
    for (let index = 0; index < 24; index++) answers.push(await create(keys.creator));
    expect(answers.map((answer) => answer.statusCode)).toEqual([...Array(20).fill(201), 429, 429, 429, 429]);
    expect(answers[20]!.json()).toMatchObject({ code: "RATE_LIMITED" });
    expect(Number(answers[20]!.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(await pvps()).toBe(20);
    expect((await create(keys.other)).statusCode).toBe(201);
    expect(await pvps()).toBe(21);
  });
});
