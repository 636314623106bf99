import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { identityRoutes } from "../../src/identity/routes.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { buildGatewayApp } from "../../src/server/app.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import { moveId, type MoveLedger } from "../../src/stablecoin/move-flow.ts";
import { moveRoutes } from "../../src/stablecoin/move-routes.ts";
import { RateLimiter } from "../../src/stablecoin/rate-limit.ts";
import { StablecoinService } from "../../src/stablecoin/service.ts";
import { moveActionRows, moveRows } from "../../src/stablecoin/store.ts";
import { CHAIN_A, CHAIN_B, createTwoChainWorld, type TwoChainWorld } from "./move-support.ts";
import { BANK } from "./support.ts";

/**
 * The moves API: an exchange sees its own moves only, an operator sees all and may refund one (audited);
 * every wrong party is refused with nothing written.
 */
describe("moves API: who sees and who refunds a move", () => {
  let world: TwoChainWorld;
  let app: FastifyInstance;
  let operatorKey: string;
  let operatorId: string;
  let otherExchangeKey: string;
  const logLines: string[] = [];
  const moves: string[] = [];
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  // Never reached here: the API only reads moves and records refunds; the worker asks the ledger.
  const ledger: MoveLedger = { issuanceAllotment: () => Promise.reject(new Error("not in this test")) };

  beforeAll(async () => {
    world = await createTwoChainWorld();
    const identity = new IdentityStore(world.db);
    const service = new StablecoinService({ db: world.db, exchanges: world.exchanges });
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    });
    app = await buildGatewayApp({
      db: world.db,
      logger: createLogger("info", sink),
      metrics: createMetricsRegistry(),
      migrationSets: gatewayMigrations(),
      bodyLimitBytes: 1024 * 1024,
      signatureMaxSkewSeconds: 300,
      readiness: [],
      features: [identityRoutes(identity), moveRoutes({ service, rateLimiter: new RateLimiter(100, 1000) })],
    });
    operatorId = await identity.createPrincipal("operator", "Test operator");
    operatorKey = (await identity.issueApiKey(operatorId)).apiKey;
    const otherAccount = await world.dtLedger.openAccount(BANK, { idempotencyKey: "other-exchange", kind: "exchange", holderName: "Other Exchange" });
    otherExchangeKey = (await world.exchanges.onboard({ name: "Other Exchange", dtAccount: otherAccount.id, evmAddresses: [privateKeyToAddress(world.a.chain.accounts[6]!)], perMintLimit: 1_000n, dailyLimit: 1_000n })).apiKey;
    // Two confirmed moves of the demo exchange, and one still waiting for A's confirmations.
    const worker = world.moveWorker(ledger, { confirmations: 2 });
    for (const amount of [100n, 200n]) {
      moves.push(moveId(CHAIN_A, await world.moveOut(world.a, amount, CHAIN_B), 0));
      for (const source of world.sources()) await worker.scan(source);
    }
    await world.a.mineBlocks(2);
    await worker.confirm(world.sources({ confirmations: 2 })[0]!);
    moves.push(moveId(CHAIN_A, await world.moveOut(world.a, 300n, CHAIN_B), 0));
    for (const source of world.sources()) await worker.scan(source);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await world?.close();
  });

  it("lists an exchange's own moves newest first, page by page, with chain ids as numbers", async () => {
    const first = await app.inject({ method: "GET", url: "/stablecoin/moves?limit=2", headers: bearer(world.exchangeApiKey) });
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((move: { id: string }) => move.id)).toEqual([moves[2], moves[1]]);
    expect(first.json().items[0]).toMatchObject({ sourceChainId: CHAIN_A, destinationChainId: CHAIN_B, amount: "3.00", currency: "KZT", state: "seen", recipient: world.recipient });
    const second = await app.inject({ method: "GET", url: `/stablecoin/moves?limit=2&before=${encodeURIComponent(first.json().next)}`, headers: bearer(world.exchangeApiKey) });
    expect(second.json()).toMatchObject({ items: [{ id: moves[0], state: "confirmed" }], next: null });
    const one = await app.inject({ method: "GET", url: `/stablecoin/moves/${encodeURIComponent(moves[0]!)}`, headers: bearer(world.exchangeApiKey) });
    expect(one.statusCode).toBe(200);
    expect(one.json().move).toMatchObject({ id: moves[0], amount: "1.00" });
  });

  it("another exchange neither sees nor refunds someone's move, and nothing is written", async () => {
    const list = await app.inject({ method: "GET", url: "/stablecoin/moves", headers: bearer(otherExchangeKey) });
    expect(list.json()).toEqual({ items: [], next: null });
    const one = await app.inject({ method: "GET", url: `/stablecoin/moves/${encodeURIComponent(moves[0]!)}`, headers: bearer(otherExchangeKey) });
    expect(one.statusCode).toBe(404);
    expect(one.json().code).toBe("MOVE_NOT_FOUND");
    for (const key of [otherExchangeKey, world.exchangeApiKey]) {
      const refund = await app.inject({ method: "POST", url: `/stablecoin/moves/${encodeURIComponent(moves[0]!)}/refund`, headers: bearer(key), payload: { reason: "mine now" } });
      expect(refund.statusCode).toBe(403);
    }
    const anonymous = await app.inject({ method: "GET", url: "/stablecoin/moves" });
    expect(anonymous.statusCode).toBe(401);
    expect(await moveRows.get(world.db, moves[0]!)).toMatchObject({ state: "confirmed", targetChainId: null });
    expect(await moveActionRows.list(world.db, moves[0]!)).toEqual([]);
  });

  it("an operator refunds a confirmed move once, audited; an unconfirmed or unknown one is refused", async () => {
    const refund = await app.inject({ method: "POST", url: `/stablecoin/moves/${encodeURIComponent(moves[0]!)}/refund`, headers: bearer(operatorKey), payload: { reason: "exchange asked" } });
    expect(refund.statusCode).toBe(202);
    expect(refund.json()).toMatchObject({ state: "allotting", targetChainId: CHAIN_A, refundReason: "OPERATOR_REFUND" });
    const again = await app.inject({ method: "POST", url: `/stablecoin/moves/${encodeURIComponent(moves[0]!)}/refund`, headers: bearer(operatorKey), payload: { reason: "twice" } });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe("NOT_REFUNDABLE");
    const unconfirmed = await app.inject({ method: "POST", url: `/stablecoin/moves/${encodeURIComponent(moves[2]!)}/refund`, headers: bearer(operatorKey), payload: { reason: "too early" } });
    expect(unconfirmed.statusCode).toBe(409);
    const unknown = await app.inject({ method: "POST", url: "/stablecoin/moves/1:0xabc:0/refund", headers: bearer(operatorKey), payload: { reason: "none" } });
    expect(unknown.statusCode).toBe(404);
    const shown = await app.inject({ method: "GET", url: `/stablecoin/moves/${encodeURIComponent(moves[0]!)}`, headers: bearer(operatorKey) });
    expect(shown.json().actions).toEqual([{ action: "refund", principalId: operatorId, reason: "exchange asked", at: expect.any(String) }]);
    expect(logLines.some((line) => line.includes('"event":"stablecoin.move_refund"') && line.includes(operatorId))).toBe(true);
    expect(await moveRows.get(world.db, moves[2]!)).toMatchObject({ state: "seen" });
  });
});
