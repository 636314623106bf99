import type { Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { moveId, type MoveLedger } from "../../src/stablecoin/move-flow.ts";
import { moveRows } from "../../src/stablecoin/store.ts";
import { CHAIN_A, CHAIN_B, createTwoChainWorld, type TwoChainWorld } from "./move-support.ts";

/**
 * Following MovedOut logs on two EDR chains: each chain's own cursor, the source's confirmations, a
 * reorganisation of the source before them, and logs that are not what they claim. The ledger here counts its
 * calls: nothing that is not a final burn on the source chain may reach it.
 */
describe("moves: following MovedOut logs", () => {
  let world: TwoChainWorld;
  const asks: string[] = [];
  let ledger: MoveLedger;

  beforeAll(async () => {
    world = await createTwoChainWorld();
    ledger = {
      issuanceAllotment: (request) => {
        asks.push(request.reference);
        return world.gatewayLedger.issuanceAllotment(request);
      },
    };
  }, 120_000);
  afterAll(async () => world?.close());

  it("records a move once per log, and confirms it only after the source chain's confirmations", async () => {
    const worker = world.moveWorker(ledger, { confirmations: 3 });
    const hash = await world.moveOut(world.a, 1_000n, CHAIN_B);
    for (const source of world.sources()) await worker.scan(source);
    // The reorganisation window is scanned again: the same log is still one move.
    for (const source of world.sources()) await worker.scan(source);
    const id = moveId(CHAIN_A, hash, 0);
    const seen = await moveRows.get(world.db, id);
    expect(seen).toMatchObject({ state: "seen", sourceChainId: CHAIN_A, amount: 1_000n, destinationChainId: BigInt(CHAIN_B), recipient: world.recipient, exchangeId: world.exchange.id });
    const [source] = world.sources({ confirmations: 3 });
    expect(await worker.confirm(source!)).toBe(0);
    await world.a.mineBlocks(2);
    expect(await worker.confirm(source!)).toBe(1);
    expect((await moveRows.get(world.db, id))!.state).toBe("confirmed");
    const page = await moveRows.list(world.db, { limit: 10 });
    expect(page.items.filter((move) => move.txHash === hash.toLowerCase())).toHaveLength(1);
  });

  it("a reorganisation of the source before its confirmations removes the move: nothing is allotted", async () => {
    const worker = world.moveWorker(ledger, { confirmations: 3 });
    const before = await world.a.balanceOf(world.holder);
    const snapshot = await world.a.rpc<string>("evm_snapshot");
    const hash = await world.moveOut(world.a, 2_000n, CHAIN_B);
    for (const source of world.sources()) await worker.scan(source);
    const id = moveId(CHAIN_A, hash, 0);
    expect((await moveRows.get(world.db, id))!.state).toBe("seen");
    expect(await world.a.rpc<boolean>("evm_revert", [snapshot])).toBe(true);
    await world.a.mineBlocks(4);
    const asked = asks.length;
    await worker.drain();
    expect((await moveRows.get(world.db, id))!.state).toBe("removed");
    expect(asks.slice(asked)).not.toContain(`move:${id}`);
    expect(await world.a.balanceOf(world.holder)).toBe(before);
  });

  it.each([
    ["the token's Transfer log of the same transaction", 1],
    ["a log index the receipt does not have", 7],
  ])("a forged move (%s, read as a MovedOut of a larger amount) is removed, never allotted", async (_what, logIndex) => {
    const worker = world.moveWorker(ledger, { confirmations: 1 });
    const hash = await world.moveOut(world.a, 10n, CHAIN_B);
    const receipt = await world.a.tokenChain.receipt(hash);
    const forged = moveId(CHAIN_A, hash, logIndex);
    await world.db.transaction((tx) =>
      moveRows.insert(tx, {
        id: forged,
        sourceChainId: CHAIN_A,
        txHash: hash,
        logIndex,
        blockNumber: receipt!.blockNumber,
        blockHash: receipt!.blockHash as Hex,
        holder: world.holder,
        amount: 900_000n,
        destinationChainId: BigInt(CHAIN_B),
        recipient: world.recipient,
      }),
    );
    const asked = asks.length;
    await worker.confirm(world.sources()[0]!);
    expect((await moveRows.get(world.db, forged))!.state).toBe("removed");
    expect(asks.slice(asked)).not.toContain(`move:${forged}`);
  });
});
