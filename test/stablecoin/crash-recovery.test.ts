import { createWalletClient, http } from "viem";
import { privateKeyToAccount, privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { requestMint } from "../../src/stablecoin/mint-flow.ts";
import { retryRedemption } from "../../src/stablecoin/redeem-flow.ts";
import type { FaultPoint } from "../../src/stablecoin/stablecoin-ledger.ts";
import { mintRows, redemptionRows } from "../../src/stablecoin/store.ts";
import { crashOnceAt, createStablecoinWorld, surviving, type StablecoinWorld } from "./support.ts";

const MINT_POINTS: FaultPoint[] = [
  "deposit.before-commit",
  "mint.sign.after-statement",
  "mint.sign.before-commit",
  "mint.broadcast.after-send",
  "mint.confirm.before-commit",
];
const REDEEM_POINTS: FaultPoint[] = ["redeem.scan.before-commit", "redeem.confirm.before-commit", "redeem.pay.after-transfer"];

describe("exactly once across crashes", () => {
  let world: StablecoinWorld;
  beforeAll(async () => {
    world = await createStablecoinWorld({ redeemConfirmations: 1 });
  });
  afterAll(() => world.close());

  async function minedTransactions(mintId: string): Promise<number> {
    const found = await world.db.query<{ count: bigint }>("SELECT count(*)::int8 AS count FROM stablecoin.mint_transactions WHERE mint_id = $1 AND outcome = 'mined'", [mintId]);
    return Number(found.rows[0]!.count);
  }

  for (const point of MINT_POINTS) {
    it(`mints once when the gateway dies at ${point} and restarts`, async () => {
      const supplyBefore = await world.supply();
      const request = await requestMint(world.db, world.exchange, 7_000n);
      await world.deposit(request.reference, 7_000n);
      const crash = crashOnceAt(point);
      // The crashed process: its steps run until the fault fires.
      await surviving(async () => {
        while (await world.follower(crash).step()) {
          /* drain */
        }
        await world.mintWorker(crash).drain();
      });
      // The restarted process: fresh instances, no faults.
      while (await world.follower().step()) {
        /* drain */
      }
      await world.mintWorker().drain();
      expect(crash.fired).toBe(true);
      expect((await mintRows.get(world.db, request.id))?.state).toBe("minted");
      expect(await world.supply()).toBe(supplyBefore + 7_000n);
      expect(await minedTransactions(request.id)).toBe(1);
      expect(await world.supply()).toBeLessThanOrEqual(await world.collateral());
    });
  }

  for (const point of REDEEM_POINTS) {
    it(`pays a redemption once when the gateway dies at ${point} and restarts`, async () => {
      const balanceBefore = await world.dtBalance(world.exchange.dtAccount);
      const collateralBefore = await world.collateral();
      const hash = await world.redeem(3_000n);
      const crash = crashOnceAt(point);
      await surviving(() => world.redeemWorker(crash).drain());
      await world.redeemWorker().drain();
      await world.redeemWorker().drain();
      expect(crash.fired).toBe(true);
      const redemption = (await redemptionRows.list(world.db, { limit: 50 })).items.find((item) => item.txHash === hash.toLowerCase());
      expect(redemption?.state).toBe("paid");
      expect(await world.dtBalance(world.exchange.dtAccount)).toBe(balanceBefore + 3_000n);
      expect(await world.collateral()).toBe(collateralBefore - 3_000n);
    });
  }

  it("replaces a stuck mint transaction with higher fees and still mints once", async () => {
    const supplyBefore = await world.supply();
    await world.rpc("evm_setAutomine", [false]);
    try {
      const request = await requestMint(world.db, world.exchange, 4_000n);
      await world.deposit(request.reference, 4_000n);
      while (await world.follower().step()) {
        /* drain */
      }
      const worker = world.mintWorker();
      expect(await worker.step()).toBe("signed");
      expect(await worker.step()).toBe("broadcast");
      // Nothing is mined: the transaction is stuck. Once it is older than stuckAfterMs it is replaced.
      world.mintSettings.stuckAfterMs = 0;
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await worker.step()).toBe("replaced");
      expect(await worker.step()).toBe("broadcast");
      world.mintSettings.stuckAfterMs = 60_000;
      await world.rpc("evm_mine");
      await worker.drain();
      expect((await mintRows.get(world.db, request.id))?.state).toBe("minted");
      expect(await world.supply()).toBe(supplyBefore + 4_000n);
      const outcomes = await world.db.query<{ outcome: string }>("SELECT outcome FROM stablecoin.mint_transactions WHERE mint_id = $1 ORDER BY outcome", [request.id]);
      expect(outcomes.rows.map((row) => row.outcome)).toEqual(["dropped", "mined"]);
    } finally {
      world.mintSettings.stuckAfterMs = 60_000;
      await world.rpc("evm_setAutomine", [true]);
    }
  });

  it("resends a mint transaction the node dropped from its pool", async () => {
    const supplyBefore = await world.supply();
    await world.rpc("evm_setAutomine", [false]);
    try {
      const request = await requestMint(world.db, world.exchange, 2_500n);
      await world.deposit(request.reference, 2_500n);
      while (await world.follower().step()) {
        /* drain */
      }
      const worker = world.mintWorker();
      await worker.step();
      await worker.step();
      const recorded = await world.db.query<{ hash: string }>("SELECT hash FROM stablecoin.mint_transactions WHERE mint_id = $1", [request.id]);
      expect(await world.rpc("hardhat_dropTransaction", [recorded.rows[0]!.hash])).toBe(true);
      expect(await worker.step()).toBe("waiting");
      await world.rpc("evm_mine");
      await worker.drain();
      expect((await mintRows.get(world.db, request.id))?.state).toBe("minted");
      expect(await world.supply()).toBe(supplyBefore + 2_500n);
    } finally {
      await world.rpc("evm_setAutomine", [true]);
    }
  });

  it("keeps a payout the DT ledger refuses as failed and visible, never dropped", async () => {
    const hash = await world.redeem(1_000n, "DA-NO-SUCH-ACCOUNT");
    await world.redeemWorker().drain();
    const failed = (await redemptionRows.list(world.db, { limit: 50 })).items.find((item) => item.txHash === hash.toLowerCase());
    expect(failed?.state).toBe("failed");
    expect(failed?.failureCode).toBe("UNKNOWN_ACCOUNT");
    // Nothing left the segregated wallet for it, and nothing was dropped.
    expect(await world.collateral()).toBeGreaterThanOrEqual(await world.supply());
  });

  it("does not pay a holder that is not an onboarded exchange until an operator registers it and retries", async () => {
    const outsiderKey = world.chain.accounts[7]!;
    const outsider = privateKeyToAddress(outsiderKey);
    const wallet = createWalletClient({ account: privateKeyToAccount(world.holderKey), transport: http(world.chain.rpcUrl), chain: world.tokenChain.client.chain! });
    await world.tokenChain.client.waitForTransactionReceipt({
      hash: await wallet.writeContract({ address: world.token, abi: tengeStablecoinAbi, functionName: "transfer", args: [outsider, 1_500n] }),
    });
    const balanceBefore = await world.dtBalance(world.exchange.dtAccount);
    const hash = await world.redeem(1_500n, world.exchange.dtAccount, outsiderKey);
    await world.redeemWorker().drain();
    const held = (await redemptionRows.list(world.db, { limit: 50 })).items.find((item) => item.txHash === hash.toLowerCase())!;
    expect(held.state).toBe("failed");
    expect(held.failureCode).toBe("HOLDER_NOT_ONBOARDED");
    expect(await world.dtBalance(world.exchange.dtAccount)).toBe(balanceBefore);
    await world.exchanges.update(world.exchange.id, { evmAddresses: [...world.exchange.evmAddresses, outsider] });
    expect(await retryRedemption(world.db, held.id)).toBe(true);
    expect(await retryRedemption(world.db, held.id)).toBe(false);
    await world.redeemWorker().drain();
    const paid = (await redemptionRows.list(world.db, { limit: 50 })).items.find((item) => item.txHash === hash.toLowerCase())!;
    expect(paid.state).toBe("paid");
    expect(await world.dtBalance(world.exchange.dtAccount)).toBe(balanceBefore + 1_500n);
  });
});
