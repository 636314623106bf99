import { Registry } from "prom-client";
import { privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MintWorker, requestMint } from "../../src/stablecoin/mint-flow.ts";
import { stablecoinFaultOf } from "../../src/stablecoin/operator-faults.ts";
import { mintRows } from "../../src/stablecoin/store.ts";
import { createLogger } from "../../src/server/logger.ts";
import { WorkerFaults } from "../../src/server/worker-faults.ts";
import { createStablecoinWorld, type StablecoinWorld } from "../stablecoin/support.ts";

/** A logger whose lines the test reads. */
function recordingLogger() {
  const lines: Array<{ level: number; msg: string; code?: string }> = [];
  const logger = createLogger("info", { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe("worker faults", () => {
  it("log once per interval while they last, show in /readyz and a metric, and clear on progress", async () => {
    let now = 0;
    const { logger, lines } = recordingLogger();
    const metrics = new Registry();
    const faults = new WorkerFaults({ logger, metrics, logIntervalMs: 60_000, now: () => now });
    const noGas = { code: "NO_GAS", reason: "the minter 0xabc has too little native currency for gas: fund it" };
    for (let poll = 0; poll < 66; poll++) {
      faults.report("minter", noGas);
      now += 500;
    }
    expect(lines.filter((line) => line.code === "NO_GAS")).toHaveLength(1);
    now += 60_000;
    faults.report("minter", noGas);
    expect(lines.filter((line) => line.code === "NO_GAS")).toHaveLength(2);
    await expect(faults.readiness().check()).rejects.toThrow("minter: NO_GAS: the minter 0xabc has too little native currency for gas: fund it");
    expect(await metrics.metrics()).toContain('tenge_gateway_worker_fault{worker="minter",code="NO_GAS"} 1');
    faults.clear("minter");
    await expect(faults.readiness().check()).resolves.toBeUndefined();
    expect(await metrics.metrics()).toContain('tenge_gateway_worker_fault{worker="minter",code="NO_GAS"} 0');
    expect(lines.at(-1)?.msg).toBe("minter progresses again (was NO_GAS)");
  });
});

describe("a minter without gas on a real EVM (EDR)", () => {
  let world: StablecoinWorld;
  beforeAll(async () => {
    world = await createStablecoinWorld();
  });
  afterAll(() => world.close());

  it("keeps the mint signed with failure code NO_GAS, degrades readiness with the fix, and mints once funded", async () => {
    const minter = privateKeyToAddress(world.minterKey);
    const faults = new WorkerFaults({ logger: recordingLogger().logger });
    const worker = new MintWorker({
      db: world.db,
      ledger: world.gatewayLedger,
      chain: world.tokenChain,
      settings: world.mintSettings,
      faultOf: (error) => stablecoinFaultOf(error, { minter, rpcUrl: world.chain.rpcUrl }),
      onFault: (fault) => (fault ? faults.report("minter", fault) : faults.clear("minter")),
      faultRetryMs: 0,
    });
    const balance = await world.rpc<string>("eth_getBalance", [minter, "latest"]);
    await world.rpc("hardhat_setBalance", [minter, "0x0"]);
    const supply = await world.supply();
    const request = await requestMint(world.db, world.exchange, 25_000n);
    await world.deposit(request.reference, 25_000n);
    await world.follower().step();
    expect(await worker.step()).toBe("signed");
    expect(await worker.step()).toBe("retry");
    const stuck = await mintRows.get(world.db, request.id);
    expect(stuck).toMatchObject({ state: "signed", failureCode: "NO_GAS" });
    expect(stuck?.failureMessage).toBe(`the minter ${minter} has too little native currency for gas: fund it`);
    await expect(faults.readiness().check()).rejects.toThrow(`minter: NO_GAS: the minter ${minter} has too little native currency for gas: fund it`);
    expect(await world.supply()).toBe(supply);

    await world.rpc("hardhat_setBalance", [minter, balance]);
    await worker.drain();
    expect(await mintRows.get(world.db, request.id)).toMatchObject({ state: "minted", failureCode: null });
    await expect(faults.readiness().check()).resolves.toBeUndefined();
    expect(await world.supply()).toBe(supply + 25_000n);
  });
});
