import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestMint } from "../../src/stablecoin/mint-flow.ts";
import { mintRows } from "../../src/stablecoin/store.ts";
import { createStablecoinWorld, type StablecoinWorld } from "./support.ts";

describe("mint and redeem against the embedded DT ledger and a real EVM", () => {
  let world: StablecoinWorld;
  beforeAll(async () => {
    world = await createStablecoinWorld();
  });
  afterAll(() => world.close());

  // Each test reads what it changed as a difference, and mints what it redeems, so either runs alone or in any order.

  it("mints exactly the deposited amount to the exchange once its DT reaches the segregated wallet", async () => {
    const [supply, collateral] = [await world.supply(), await world.collateral()];
    const request = await requestMint(world.db, world.exchange, 150_000n);
    expect(request.state).toBe("awaiting_deposit");
    await world.deposit(request.reference, 150_000n);
    expect(await world.follower().step()).toBe(true);
    expect((await mintRows.get(world.db, request.id))?.state).toBe("deposited");
    await world.mintWorker().drain();
    const done = await mintRows.get(world.db, request.id);
    expect(done?.state).toBe("minted");
    expect(await world.supply()).toBe(supply + 150_000n);
    expect(await world.collateral()).toBe(collateral + 150_000n);
  });

  it("pays DT for a confirmed Redeemed log, once", async () => {
    const minted = await requestMint(world.db, world.exchange, 80_000n);
    await world.deposit(minted.reference, 80_000n);
    await world.follower().step();
    await world.mintWorker().drain();
    expect((await mintRows.get(world.db, minted.id))?.state).toBe("minted");
    const [supply, collateral] = [await world.supply(), await world.collateral()];
    const before = await world.dtBalance(world.exchange.dtAccount);
    await world.redeem(50_000n);
    const worker = world.redeemWorker();
    await worker.drain();
    await world.mineBlocks(2);
    await worker.drain();
    await world.redeemWorker().drain();
    expect(await world.dtBalance(world.exchange.dtAccount)).toBe(before + 50_000n);
    expect(await world.supply()).toBe(supply - 50_000n);
    expect(await world.collateral()).toBe(collateral - 50_000n);
  });
});
