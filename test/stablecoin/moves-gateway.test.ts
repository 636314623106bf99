import { ed25519 } from "@noble/curves/ed25519.js";
import type { FastifyInstance } from "fastify";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { identityRoutes } from "../../src/identity/routes.ts";
import { IdentityStore } from "../../src/identity/store.ts";
import { buildGatewayApp } from "../../src/server/app.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import { createStablecoinComponent, type StablecoinComponent } from "../../src/stablecoin/component.ts";
import { moveId } from "../../src/stablecoin/move-flow.ts";
import { CHAIN_A, CHAIN_B, createTwoChainWorld, type TwoChainWorld } from "./move-support.ts";
import { eventually } from "./support.ts";

/**
 * The stablecoin component as `start` runs it, over two EDR chains: the holder burns on A with `moveOut`, and
 * the gateway's own workers (move worker, the chains' mint workers with their allotment relays) mint on B;
 * the exchange follows it on the API.
 */
describe("moves through the running stablecoin component on two chains", () => {
  let world: TwoChainWorld;
  let component: StablecoinComponent;
  let app: FastifyInstance;
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    world = await createTwoChainWorld();
    const logger = createLogger("warn", new Writable({ write: (_chunk, _encoding, done) => done() }));
    const metrics = createMetricsRegistry();
    component = await createStablecoinComponent({
      db: world.db,
      ledger: world.gatewayLedger,
      logger,
      metrics,
      chains: [world.a, world.b].map((chain) => ({ rpcUrl: chain.chain.rpcUrl, token: chain.token, minterKey: world.minterKey })),
      segregatedAccount: world.segregatedAccount,
      attestationKey: ed25519.utils.randomSecretKey(),
      settings: { pollMs: 50, attestationIntervalMs: 60_000, redeemConfirmations: 2 },
    });
    app = await buildGatewayApp({
      db: world.db,
      logger,
      metrics,
      migrationSets: gatewayMigrations(),
      bodyLimitBytes: 1024 * 1024,
      signatureMaxSkewSeconds: 300,
      readiness: component.readiness,
      features: [identityRoutes(new IdentityStore(world.db)), ...component.routes],
    });
    component.start();
  }, 120_000);
  afterAll(async () => {
    await component?.stop();
    await app?.close();
    await world?.close();
  });

  it("settles a move from A to B exactly once, shown to the exchange as moved", async () => {
    const before = { a: await world.a.balanceOf(world.holder), b: await world.b.balanceOf(world.recipient) };
    const hash = await world.moveOut(world.a, 12_345n, CHAIN_B);
    const id = moveId(CHAIN_A, hash, 0);
    const moved = await eventually(async () => {
      // No traffic, no blocks on EDR: the confirmations come from blocks mined here.
      await world.a.mineBlocks(1);
      await world.b.mineBlocks(1);
      const reply = await app.inject({ method: "GET", url: `/stablecoin/moves/${encodeURIComponent(id)}`, headers: bearer(world.exchangeApiKey) });
      return reply.statusCode === 200 && reply.json().move.state === "moved" ? reply.json().move : undefined;
    }, "the move", 60_000);
    expect(moved).toMatchObject({ sourceChainId: CHAIN_A, destinationChainId: CHAIN_B, targetChainId: CHAIN_B, amount: "123.45", currency: "KZT" });
    expect(await world.a.balanceOf(world.holder)).toBe(before.a - 12_345n);
    expect(await world.b.balanceOf(world.recipient)).toBe(before.b + 12_345n);
    const mint = await app.inject({ method: "GET", url: `/stablecoin/mints/${moved.mintId}`, headers: bearer(world.exchangeApiKey) });
    expect(mint.json()).toMatchObject({ state: "minted", chainId: CHAIN_B, moveId: id });
  });
});
