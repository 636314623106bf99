import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeGateway, type ComposedGateway } from "../../src/gateway/features.ts";
import type { GatewayPorts } from "../../src/gateway/ports.ts";
import type { Database } from "../../src/persistence/database.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import { loadStablecoinEnvironment } from "../../src/stablecoin/stablecoin-config.ts";
import { testEngine } from "../support/database.ts";
import { createStablecoinWorld, type StablecoinWorld } from "../stablecoin/support.ts";

/**
 * Two gateway processes on one database, each built by the composition root with its own connection
 * pool (PostgreSQL; PGlite shares its one connection): the timed attestation is issued once per interval
 * between them, and each serves the latest one whichever issued it.
 */
describe("two compositions on one database: one attestation per interval across processes", () => {
  let world: StablecoinWorld;
  const processes: ComposedGateway[] = [];

  beforeAll(async () => {
    world = await createStablecoinWorld();
    const secondDb: Database = testEngine === "postgres" ? await world.testDb.openAnother() : world.db;
    const ports: GatewayPorts = {
      dtLedger: { port: world.gatewayLedger, description: "test" },
      stablecoinChains: [{ chainId: world.chain.chainId, rpcUrl: world.chain.rpcUrl, token: world.token, startBlock: 0n, segregatedAccount: world.segregatedAccount, minterKey: world.minterKey, publicRpcUrl: world.chain.rpcUrl, description: "test" }],
      foreignLegs: [],
      readiness: [],
      stop: async () => {},
    };
    const attestationKey = new Uint8Array(32).fill(7);
    for (const db of [world.db, secondDb]) {
      processes.push(
        await composeGateway({
          db,
          logger: createLogger("silent", new Writable({ write: (_chunk, _encoding, done) => done() })),
          metrics: createMetricsRegistry(),
          ports,
          settings: { dtLedger: undefined, stablecoinChains: [], pvp: undefined, stablecoin: loadStablecoinEnvironment({ COLLATERAL_ATTESTATION_INTERVAL_SECONDS: "1", STABLECOIN_POLL_MS: "50" }) },
          attestationKey,
          pvpSecretKey: undefined,
          publicUrl: "http://127.0.0.1",
        }),
      );
    }
  }, 120_000);

  afterAll(async () => {
    for (const composed of processes) for (const feature of composed.features) await feature.stop();
    await world?.close();
  });

  const count = async (sql: string) => Number((await world.db.query<{ count: string | number }>(sql)).rows[0]!.count);

  it("asked at the same moment, exactly one process issues; the other serves the same document", async () => {
    const [first, second] = processes.map((composed) => composed.stablecoin!.attestations);
    const outcomes = await Promise.all([first!.renewForInterval(86_400_000), second!.renewForInterval(86_400_000)]);
    expect([...outcomes].sort()).toEqual(["issued", "loaded"]);
    expect(await count("SELECT count(*) AS count FROM proof_of_collateral.attestations")).toBe(1);
    // The loser may have looked before the winner's document was written; its next look finds it.
    const [issuer, loader] = outcomes[0] === "issued" ? [first!, second!] : [second!, first!];
    await loader.reload();
    expect(loader.cachedJson).toBeDefined();
    expect(loader.cachedJson).toBe(issuer.cachedJson);
  });

  it("with both processes' timers running, every interval has one attestation, never two", async () => {
    for (const composed of processes) composed.stablecoin!.start();
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    for (const composed of processes) await composed.stablecoin!.stop();
    const slots = await count("SELECT count(*) AS count FROM proof_of_collateral.attestation_slots WHERE interval_ms = 1000");
    const attestations = await count("SELECT count(*) AS count FROM proof_of_collateral.attestations");
    expect(slots).toBeGreaterThanOrEqual(2);
    // One attestation per claimed slot (plus the one of the first test), whichever process claimed it.
    expect(attestations).toBe(slots + 1);
    const latest = processes.map((composed) => composed.stablecoin!.attestations);
    await Promise.all(latest.map((service) => service.reload()));
    expect(latest[0]!.cachedJson).toBe(latest[1]!.cachedJson);
  }, 30_000);
});
