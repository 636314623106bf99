import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DtLedgerError } from "../../src/ledger/dt-ledger-port.ts";
import { moveId, moveReference, refundMove, type MoveLedger, type MoveWorker } from "../../src/stablecoin/move-flow.ts";
import { StablecoinError } from "../../src/stablecoin/errors.ts";
import type { Faults } from "../../src/stablecoin/stablecoin-ledger.ts";
import { cursorRows, mintRows, moveRows } from "../../src/stablecoin/store.ts";
import { CHAIN_A, CHAIN_B, createTwoChainWorld, type PoolChain, type TwoChainWorld } from "./move-support.ts";
import { crashOnceAt, GATEWAY, surviving } from "./support.ts";

/**
 * Moves between two EDR chains end to end: burn on A, A's confirmations, the DT ledger's allotment under
 * `move:<id>`, the relay to the target chain, the mint there by the chain's mint worker, settled. The verdict
 * is read from the chains and the ledger (balances, issuance limits, the DT in the wallet), never only from
 * the gateway's rows. Exactly once across crashes at each step, a reorganisation of B after its mint, a
 * rescan of every log, and a replayed reference.
 */
// docs/contracts.md, "Gas": the budgets of moveOut, an allotment of two chains and a mint; the first move on a
// pair of fresh tokens pays for first-ever storage (moveOut's total, the destination's first statement,
// issued counter and holder).
const MOVE_OUT_GAS_BUDGET = 50_000n;
const ALLOTMENT_GAS_BUDGET = 90_000n;
const MINT_GAS_BUDGET = 61_000n;
const FIRST_MOVE_OUT_GAS = 66_000n;
const FIRST_MINT_ON_CHAIN_GAS = 140_000n;

describe("moves between chains: exactly once, no DT moved", () => {
  let world: TwoChainWorld;

  beforeAll(async () => {
    world = await createTwoChainWorld();
  }, 120_000);
  afterAll(async () => world?.close());

  const limitOn = async (chainId: number): Promise<bigint> => {
    const latest = await world.dtLedger.latestIssuanceAllotment(GATEWAY, world.segregatedAccount);
    return latest!.allotment.chains.find((entry) => entry.chainId === BigInt(chainId))!.issuanceLimit;
  };
  const walletDt = async () => (await world.gatewayLedger.balance(world.segregatedAccount)).available;
  const figures = async (address: Address) => ({
    a: await world.a.balanceOf(world.holder),
    b: await world.b.balanceOf(address),
    supplyA: await world.a.supply(),
    supplyB: await world.b.supply(),
    limitA: await limitOn(CHAIN_A),
    limitB: await limitOn(CHAIN_B),
    dt: await walletDt(),
  });

  /** Runs the move through: A's confirmations, the ask, the relay and the mint on `target`, the settlement. */
  async function runThrough(worker: MoveWorker, target: PoolChain, options: { mintFaults?: Faults } = {}): Promise<void> {
    await world.a.mineBlocks(2);
    await surviving(() => worker.drain());
    await surviving(() => worker.drain());
    // The relay of the ledger's newest allotment to the target chain (anyone may send it).
    await world.relayLatest(target);
    await surviving(() => world.mintWorker(target, options.mintFaults).drain());
    await world.mintWorker(target).drain();
    await surviving(() => worker.drain());
    await worker.drain();
  }

  it("moves 25.00 from A to B once: burned on A, minted on B, B's limit raised by exactly that, no DT moved", async () => {
    const before = await figures(world.recipient);
    const hash = await world.moveOut(world.a, 2_500n, CHAIN_B);
    const worker = world.moveWorker(world.moveLedger);
    await world.a.mineBlocks(2);
    await worker.drain();
    const relayGas = await world.relayLatest(world.b);
    await runThrough(worker, world.b);
    const id = moveId(CHAIN_A, hash, 0);
    const move = await moveRows.get(world.db, id);
    expect(move).toMatchObject({ state: "moved", targetChainId: CHAIN_B, refundReason: null });
    const mint = await mintRows.get(world.db, move!.mintId!);
    expect(mint).toMatchObject({ state: "minted", chainId: CHAIN_B, toAddress: world.recipient, amount: 2_500n, moveId: id });
    // Gas of the three transactions of a move, within the budgets of docs/contracts.md ("Gas").
    const moveOutGas = (await world.a.tokenChain.receipt(hash))!.gasUsed;
    const mintGas = (await world.b.tokenChain.receipt(mint!.mintedTxHash!))!.gasUsed;
    expect(moveOutGas).toBeLessThanOrEqual(FIRST_MOVE_OUT_GAS);
    expect(relayGas).toBeLessThanOrEqual(ALLOTMENT_GAS_BUDGET);
    expect(mintGas).toBeLessThanOrEqual(FIRST_MINT_ON_CHAIN_GAS);
    // The next move, as every later one: moveOut, allotment and a plain mint to a holder, each within budget.
    const next = await world.moveOut(world.a, 100n, CHAIN_B);
    await world.a.mineBlocks(2);
    await worker.drain();
    const nextRelayGas = await world.relayLatest(world.b);
    await runThrough(worker, world.b);
    const nextMint = await mintRows.get(world.db, (await moveRows.get(world.db, moveId(CHAIN_A, next, 0)))!.mintId!);
    const nextGas = { moveOut: (await world.a.tokenChain.receipt(next))!.gasUsed, allotment: nextRelayGas!, mint: (await world.b.tokenChain.receipt(nextMint!.mintedTxHash!))!.gasUsed };
    expect(nextGas.moveOut).toBeLessThanOrEqual(MOVE_OUT_GAS_BUDGET);
    expect(nextGas.allotment).toBeLessThanOrEqual(ALLOTMENT_GAS_BUDGET);
    expect(nextGas.mint).toBeLessThanOrEqual(MINT_GAS_BUDGET);
    before.a -= 100n;
    before.b += 100n;
    before.supplyA -= 100n;
    before.supplyB += 100n;
    before.limitB += 100n;
    const after = await figures(world.recipient);
    expect(after).toEqual({ ...before, a: before.a - 2_500n, b: before.b + 2_500n, supplyA: before.supplyA - 2_500n, supplyB: before.supplyB + 2_500n, limitB: before.limitB + 2_500n });
    // Every log scanned again from the first block (a duplicate of every MovedOut): no second move, no second mint.
    await world.db.transaction((tx) => cursorRows.set(tx, `move-scan:${CHAIN_A}:${world.a.token.toLowerCase()}`, "0"));
    await runThrough(worker, world.b);
    expect(await figures(world.recipient)).toEqual(after);
  });

  it.each(["move.allot.after-allotment", "move.allot.before-commit", "move.settle.before-commit", "move.scan.before-commit", "move.confirm.before-commit"] as const)(
    "a crash at %s still moves exactly once",
    async (point) => {
      const before = await figures(world.recipient);
      const hash = await world.moveOut(world.a, 300n, CHAIN_B);
      const crash = crashOnceAt(point);
      await runThrough(world.moveWorker(world.moveLedger, { faults: crash }), world.b);
      expect(crash.fired).toBe(true);
      expect(await moveRows.get(world.db, moveId(CHAIN_A, hash, 0))).toMatchObject({ state: "moved" });
      expect(await figures(world.recipient)).toEqual({ ...before, a: before.a - 300n, b: before.b + 300n, supplyA: before.supplyA - 300n, supplyB: before.supplyB + 300n, limitB: before.limitB + 300n });
    },
  );

  it("two move workers at once (two gateway processes on one database) move exactly once", async () => {
    const before = await figures(world.recipient);
    const hash = await world.moveOut(world.a, 350n, CHAIN_B);
    await world.a.mineBlocks(2);
    const [first, second] = [world.moveWorker(world.moveLedger), world.moveWorker(world.moveLedger)];
    await Promise.all([first.drain(), second.drain(), first.drain(), second.drain()]);
    await world.relayLatest(world.b);
    await Promise.all([world.mintWorker(world.b).drain(), world.mintWorker(world.b).drain()]);
    await Promise.all([first.drain(), second.drain()]);
    expect(await moveRows.get(world.db, moveId(CHAIN_A, hash, 0))).toMatchObject({ state: "moved" });
    expect(await figures(world.recipient)).toEqual({ ...before, a: before.a - 350n, b: before.b + 350n, supplyA: before.supplyA - 350n, supplyB: before.supplyB + 350n, limitB: before.limitB + 350n });
  });

  it("a crash right after the destination mint was sent mints once (the same signed bytes again)", async () => {
    const before = await figures(world.recipient);
    await world.moveOut(world.a, 400n, CHAIN_B);
    const crash = crashOnceAt("mint.broadcast.after-send");
    await runThrough(world.moveWorker(world.moveLedger), world.b, { mintFaults: crash });
    expect(crash.fired).toBe(true);
    expect(await figures(world.recipient)).toEqual({ ...before, a: before.a - 400n, b: before.b + 400n, supplyA: before.supplyA - 400n, supplyB: before.supplyB + 400n, limitB: before.limitB + 400n });
  });

  it("a reorganisation of B that undoes the mint before its confirmations mints again, once", async () => {
    const before = await figures(world.recipient);
    const hash = await world.moveOut(world.a, 500n, CHAIN_B);
    const worker = world.moveWorker(world.moveLedger);
    await world.a.mineBlocks(2);
    await worker.drain();
    await world.relayLatest(world.b);
    const snapshot = await world.b.rpc<string>("evm_snapshot");
    const mintWorker = world.mintWorker(world.b);
    for (let step = 0; step < 5 && (await mintWorker.step()) !== "broadcast"; step++);
    expect(await world.b.balanceOf(world.recipient)).toBe(before.b + 500n);
    // B drops the block with the mint (and the mint with it).
    expect(await world.b.rpc<boolean>("evm_revert", [snapshot])).toBe(true);
    expect(await world.b.balanceOf(world.recipient)).toBe(before.b);
    await mintWorker.drain();
    await worker.drain();
    expect(await moveRows.get(world.db, moveId(CHAIN_A, hash, 0))).toMatchObject({ state: "moved" });
    expect(await figures(world.recipient)).toEqual({ ...before, a: before.a - 500n, b: before.b + 500n, supplyA: before.supplyA - 500n, supplyB: before.supplyB + 500n, limitB: before.limitB + 500n });
  });

  it.each([
    ["a destination the pool does not have", 999, "DESTINATION_UNKNOWN", undefined],
    ["a recipient not registered for the exchange", CHAIN_B, "RECIPIENT_NOT_REGISTERED", "0x000000000000000000000000000000000000dEaD"],
  ] as const)("refunds on A a move to %s: minted back to the holder, A's limit raised instead", async (_what, destination, reason, recipient) => {
    const before = await figures(world.recipient);
    const hash = await world.moveOut(world.a, 700n, destination, recipient as Address | undefined);
    await runThrough(world.moveWorker(world.moveLedger), world.a);
    const move = await moveRows.get(world.db, moveId(CHAIN_A, hash, 0));
    expect(move).toMatchObject({ state: "refunded", targetChainId: CHAIN_A, refundReason: reason });
    expect(await figures(world.recipient)).toEqual({ ...before, limitA: before.limitA + 700n });
  });

  it("a replayed reference does not allot twice, and a refund after the destination's allotment is refused", async () => {
    const hash = await world.moveOut(world.a, 800n, CHAIN_B);
    const id = moveId(CHAIN_A, hash, 0);
    const worker = world.moveWorker(world.moveLedger);
    await world.a.mineBlocks(2);
    await worker.drain();
    const limitB = await limitOn(CHAIN_B);
    const change = { kind: "move" as const, from: BigInt(CHAIN_A), to: BigInt(CHAIN_B), amount: 800n };
    const replay = await world.gatewayLedger.issuanceAllotment({ accountId: world.segregatedAccount, reference: moveReference(id), change });
    expect(replay.allotment.sequence).toBe((await moveRows.get(world.db, id))!.allotmentSequence);
    expect(await limitOn(CHAIN_B)).toBe(limitB);
    const refund = world.gatewayLedger.issuanceAllotment({ accountId: world.segregatedAccount, reference: moveReference(id), change: { ...change, to: BigInt(CHAIN_A) } });
    await expect(refund).rejects.toMatchObject({ code: "IDEMPOTENCY_CONFLICT" });
    await expect(refundMove(world.db, id, "op", "too late")).rejects.toBeInstanceOf(StablecoinError);
    await world.relayLatest(world.b);
    await world.mintWorker(world.b).drain();
    await worker.drain();
    expect((await moveRows.get(world.db, id))!.state).toBe("moved");
  });

  it("a ledger that applied the destination but never answered: the refund is refused, the move completes on B once", async () => {
    const before = await figures(world.recipient);
    const hash = await world.moveOut(world.a, 900n, CHAIN_B);
    let lost = 0;
    // Applies every ask but loses the first three answers (a timeout after the ledger committed).
    const flaky: MoveLedger = {
      async issuanceAllotment(request) {
        const signed = await world.moveLedger.issuanceAllotment(request);
        if (lost++ < 3) throw new DtLedgerError("UNAVAILABLE", "the answer was lost");
        return signed;
      },
    };
    const worker = world.moveWorker(flaky);
    await world.a.mineBlocks(2);
    for (let pass = 0; pass < 6; pass++) await worker.drain();
    const id = moveId(CHAIN_A, hash, 0);
    expect(await moveRows.get(world.db, id)).toMatchObject({ state: "minting", targetChainId: CHAIN_B });
    await world.relayLatest(world.b);
    await world.mintWorker(world.b).drain();
    await worker.drain();
    expect((await moveRows.get(world.db, id))!.state).toBe("moved");
    expect(await figures(world.recipient)).toEqual({ ...before, a: before.a - 900n, b: before.b + 900n, supplyA: before.supplyA - 900n, supplyB: before.supplyB + 900n, limitB: before.limitB + 900n });
  });

  it("an operator's refund of a confirmed move mints it back on A, and the holder's tokens are whole again", async () => {
    const before = await figures(world.recipient);
    const hash = await world.moveOut(world.a, 600n, CHAIN_B);
    const id = moveId(CHAIN_A, hash, 0);
    // The ledger is down: the move waits in allotting, and the operator decides to refund it.
    const down: MoveLedger = { issuanceAllotment: () => Promise.reject(new DtLedgerError("UNAVAILABLE", "down")) };
    await world.a.mineBlocks(2);
    await world.moveWorker(down).drain();
    expect((await moveRows.get(world.db, id))!.state).toBe("allotting");
    await refundMove(world.db, id, "op", "exchange asked");
    await runThrough(world.moveWorker(world.moveLedger), world.a);
    expect(await moveRows.get(world.db, id)).toMatchObject({ state: "refunded", refundReason: "OPERATOR_REFUND" });
    expect(await figures(world.recipient)).toEqual({ ...before, limitA: before.limitA + 600n });
  });
});

