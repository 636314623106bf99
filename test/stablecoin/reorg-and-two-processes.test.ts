import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/persistence/database.ts";
import { requestMint } from "../../src/stablecoin/mint-flow.ts";
import { mintRows, redemptionRows } from "../../src/stablecoin/store.ts";
import { testEngine } from "../support/database.ts";
import { createStablecoinWorld, eventually, startGatewayOn, type StablecoinWorld } from "./support.ts";

describe("chain reorganisations", () => {
  let world: StablecoinWorld;
  beforeAll(async () => {
    world = await createStablecoinWorld({ redeemConfirmations: 3 });
    const request = await requestMint(world.db, world.exchange, 100_000n);
    await world.deposit(request.reference, 100_000n);
    await world.follower().step();
    await world.mintWorker().drain();
  });
  afterAll(() => world.close());

  it("never pays a Redeemed log that a reorganisation removed", async () => {
    const balanceBefore = await world.dtBalance(world.exchange.dtAccount);
    const snapshot = await world.rpc<string>("evm_snapshot");
    const hash = await world.redeem(40_000n);
    const worker = world.redeemWorker();
    await worker.drain();
    const seen = (await redemptionRows.list(world.db, { limit: 10 })).items.find((item) => item.txHash === hash.toLowerCase());
    expect(seen?.state).toBe("seen");
    // The block with the redeem is replaced by a longer chain without it.
    expect(await world.rpc<boolean>("evm_revert", [snapshot])).toBe(true);
    await world.mineBlocks(5);
    await worker.drain();
    await world.mineBlocks(3);
    await worker.drain();
    const removed = (await redemptionRows.list(world.db, { limit: 10 })).items.find((item) => item.txHash === hash.toLowerCase());
    expect(removed?.state).toBe("removed");
    expect(await world.dtBalance(world.exchange.dtAccount)).toBe(balanceBefore);
    // The burn was undone too: supply and collateral still match.
    expect(await world.supply()).toBe(100_000n);
    expect(await world.collateral()).toBe(100_000n);
  });

  it("pays a log once it has the confirmations, and only then", async () => {
    const balanceBefore = await world.dtBalance(world.exchange.dtAccount);
    const hash = await world.redeem(10_000n);
    const worker = world.redeemWorker();
    await worker.drain();
    expect((await redemptionRows.list(world.db, { limit: 10 })).items.find((item) => item.txHash === hash.toLowerCase())?.state).toBe("seen");
    await world.mineBlocks(2);
    await worker.drain();
    expect((await redemptionRows.list(world.db, { limit: 10 })).items.find((item) => item.txHash === hash.toLowerCase())?.state).toBe("paid");
    expect(await world.dtBalance(world.exchange.dtAccount)).toBe(balanceBefore + 10_000n);
  });
});

describe(`two gateway processes on one database (${testEngine === "postgres" ? "two PostgreSQL pools" : "two workers sharing PGlite"})`, () => {
  let world: StablecoinWorld;
  beforeAll(async () => {
    world = await createStablecoinWorld({ redeemConfirmations: 1 });
  });
  afterAll(() => world.close());

  it("mints every deposit exactly once and pays every redemption exactly once", async () => {
    const secondDb: Database = testEngine === "postgres" ? await world.testDb.openAnother() : world.db;
    const one = await startGatewayOn(world, { settings: { pollMs: 20 } });
    const two = await startGatewayOn(world, { db: secondDb, settings: { pollMs: 20 } });
    try {
      const amounts = [1_000n, 2_000n, 3_000n, 4_000n, 5_000n, 6_000n, 7_000n, 8_000n];
      const requests = [];
      for (const amount of amounts) requests.push(await requestMint(world.db, world.exchange, amount));
      for (const request of requests) await world.deposit(request.reference, request.amount);
      const total = amounts.reduce((sum, amount) => sum + amount, 0n);
      await eventually(async () => ((await mintRows.list(world.db, { limit: 100, state: "minted" })).items.length === amounts.length ? true : undefined), "every mint");
      expect(await world.supply()).toBe(total);
      const mined = await world.db.query<{ mint_id: string; count: bigint }>(
        "SELECT mint_id, count(*)::int8 AS count FROM stablecoin.mint_transactions WHERE outcome = 'mined' GROUP BY mint_id",
      );
      expect(mined.rows.map((row) => Number(row.count))).toEqual(amounts.map(() => 1));
      const mintLogs = await world.tokenChain.client.getContractEvents({ address: world.token, abi: (await import("../../src/evm/generated/contracts.ts")).tengeStablecoinAbi, eventName: "Mint", fromBlock: 0n });
      expect(mintLogs).toHaveLength(amounts.length);

      const balanceBefore = await world.dtBalance(world.exchange.dtAccount);
      for (const amount of [500n, 700n, 900n]) await world.redeem(amount);
      await world.mineBlocks(1);
      await eventually(async () => ((await redemptionRows.list(world.db, { limit: 100, state: "paid" })).items.length === 3 ? true : undefined), "every payout");
      // Both processes keep running for a while; nothing is paid twice.
      await world.mineBlocks(2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await world.dtBalance(world.exchange.dtAccount)).toBe(balanceBefore + 2_100n);
      expect(await world.collateral()).toBe(total - 2_100n);
      expect(await world.supply()).toBe(total - 2_100n);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
