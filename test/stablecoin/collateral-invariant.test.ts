import fc from "fast-check";
import { createWalletClient, http, type Hex } from "viem";
import { privateKeyToAccount, privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { signCollateralStatement } from "../../src/ledger/collateral-statement.ts";
import { requestMint } from "../../src/stablecoin/mint-flow.ts";
import type { FaultPoint } from "../../src/stablecoin/stablecoin-ledger.ts";
import { depositRows } from "../../src/stablecoin/store.ts";
import { crashOnceAt, createStablecoinWorld, surviving, type StablecoinWorld } from "./support.ts";

const FAULTS: Array<FaultPoint | undefined> = [
  undefined,
  "deposit.before-commit",
  "mint.sign.after-statement",
  "mint.sign.before-commit",
  "mint.broadcast.after-send",
  "mint.confirm.before-commit",
  "redeem.scan.before-commit",
  "redeem.confirm.before-commit",
  "redeem.pay.after-transfer",
];

type Action =
  | { kind: "mintDeposit"; amount: bigint }
  | { kind: "unknownDeposit"; amount: bigint }
  | { kind: "junkDeposit"; amount: bigint }
  | { kind: "returnHeld" }
  | { kind: "redeem"; share: number }
  | { kind: "transfer"; share: number }
  | { kind: "work"; fault: FaultPoint | undefined }
  | { kind: "mine" };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant("mintDeposit" as const), amount: fc.bigInt(1n, 500_000n) }),
  fc.record({ kind: fc.constant("unknownDeposit" as const), amount: fc.bigInt(1n, 50_000n) }),
  // The red team's attack: a large deposit with a junk reference, held as owed back to its sender.
  fc.record({ kind: fc.constant("junkDeposit" as const), amount: fc.bigInt(1_000_000n, 10_000_000n) }),
  fc.record({ kind: fc.constant("returnHeld" as const) }),
  fc.record({ kind: fc.constant("redeem" as const), share: fc.double({ min: 0.01, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant("transfer" as const), share: fc.double({ min: 0.01, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant("work" as const), fault: fc.constantFrom(...FAULTS) }),
  fc.record({ kind: fc.constant("mine" as const) }),
);

describe("supply never exceeds collateral", () => {
  let world: StablecoinWorld;
  let checkedBlock = 0n;
  beforeAll(async () => {
    world = await createStablecoinWorld({ redeemConfirmations: 1, exchangeFunds: 10n ** 12n });
  });
  afterAll(() => world.close());

  const holder = () => privateKeyToAddress(world.holderKey);
  const balanceOf = (address: Hex, blockNumber?: bigint) =>
    world.tokenChain.client.readContract({ address: world.token, abi: tengeStablecoinAbi, functionName: "balanceOf", args: [address], ...(blockNumber === undefined ? {} : { blockNumber }) });

  /** Every block since the last check: supply within the collateral the token had accepted then. */
  async function checkEveryNewBlock(): Promise<void> {
    const head = await world.tokenChain.head();
    for (let block = checkedBlock + 1n; block <= head; block++) {
      const supply = await world.tokenChain.totalSupply(block);
      const [collateral] = await world.tokenChain.client.readContract({ address: world.token, abi: tengeStablecoinAbi, functionName: "latestCollateralStatement", blockNumber: block });
      expect(supply, `block ${block}`).toBeLessThanOrEqual(collateral);
    }
    checkedBlock = head;
    // And against the DT actually in the segregated wallet right now.
    expect(await world.supply()).toBeLessThanOrEqual(await world.collateral());
    // The cap the token enforces counts only backing DT: deposits matched to a mint request, less every
    // token burned since (the token's own count, net of reversals). A deposit that matched nothing, held or
    // returned, never raises it.
    const [cap] = await world.tokenChain.client.readContract({ address: world.token, abi: tengeStablecoinAbi, functionName: "latestCollateralStatement" });
    const matched = (await world.db.query<{ sum: bigint }>("SELECT COALESCE(SUM(amount), 0)::int8 AS sum FROM stablecoin.deposits WHERE status = 'matched'")).rows[0]!.sum;
    const redeemed = await world.tokenChain.client.readContract({ address: world.token, abi: tengeStablecoinAbi, functionName: "totalRedeemed" });
    expect(cap, "on-chain cap <= backing DT").toBeLessThanOrEqual(BigInt(matched) - redeemed);
  }

  async function perform(step: Action): Promise<void> {
    switch (step.kind) {
      case "mintDeposit": {
        const request = await requestMint(world.db, world.exchange, step.amount).catch(() => undefined);
        if (request) await world.deposit(request.reference, step.amount);
        return;
      }
      case "unknownDeposit":
        return world.deposit(`UNKNOWN-${Math.random()}`, step.amount);
      case "junkDeposit":
        return world.deposit(`junk ${Math.random()}`, step.amount);
      case "returnHeld": {
        // As POST /stablecoin/deposits/:id/return does: a ledger return of that payment, then marked returned.
        const [held] = (await depositRows.list(world.db, { status: "held", limit: 1 })).items;
        if (!held) return;
        const receipt = await world.gatewayLedger.transfer({
          idempotencyKey: `deposit-return:${held.eventId}`,
          from: world.intakeAccount,
          to: held.fromAccount,
          amount: held.amount,
          reference: `RETURN ${held.reference.slice(0, 100)}`,
          returnOf: held.ledgerTransactionId,
        });
        await depositRows.markReturned(world.db, held.eventId, receipt.transactionId);
        return;
      }
      case "redeem": {
        const balance = await balanceOf(holder());
        const amount = BigInt(Math.floor(Number(balance) * step.share));
        if (amount > 0n) await world.redeem(amount);
        return;
      }
      case "transfer": {
        // Moves coins to another holder and back: transfers never change the supply.
        const balance = await balanceOf(holder());
        const amount = BigInt(Math.floor(Number(balance) * step.share));
        if (amount === 0n) return;
        const wallet = createWalletClient({ account: privateKeyToAccount(world.holderKey), transport: http(world.chain.rpcUrl), chain: world.tokenChain.client.chain! });
        const hash = await wallet.writeContract({ address: world.token, abi: tengeStablecoinAbi, functionName: "transfer", args: [privateKeyToAddress(world.chain.accounts[6]!), amount] });
        await world.tokenChain.client.waitForTransactionReceipt({ hash });
        return;
      }
      case "work": {
        const faults = step.fault ? crashOnceAt(step.fault) : undefined;
        await surviving(async () => {
          while (await world.follower(faults).step()) {
            /* drain */
          }
          await world.mintWorker(faults).drain();
          await world.redeemWorker(faults).drain();
        });
        return;
      }
      case "mine":
        return world.mineBlocks(1);
    }
  }

  it("holds after every block, and the on-chain cap never exceeds the backing DT, for random deposits (junk ones too), returns, mints, redeems, transfers and crashes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 3, maxLength: 14 }), async (random) => {
        // Every run mints and redeems at least once, whatever else it does.
        const actions: Action[] = [{ kind: "mintDeposit", amount: 1_000n }, { kind: "work", fault: undefined }, { kind: "redeem", share: 0.1 }, ...random];
        for (const step of actions) {
          await perform(step);
          await checkEveryNewBlock();
        }
        // A restart after the sequence finishes everything; the invariant still holds and DT equals coins
        // plus what is held or waiting (unmatched deposits, redemptions not yet paid).
        while (await world.follower().step()) {
          /* drain */
        }
        await world.mintWorker().drain();
        await world.redeemWorker().drain();
        await checkEveryNewBlock();
      }),
      { numRuns: 10, endOnFailure: true },
    );
  });

  it("saw mints and paid redemptions along the way", async () => {
    const minted = await world.db.query<{ count: bigint }>("SELECT count(*)::int8 AS count FROM stablecoin.mint_requests WHERE state = 'minted'");
    const paid = await world.db.query<{ count: bigint }>("SELECT count(*)::int8 AS count FROM stablecoin.redemptions WHERE state = 'paid'");
    expect(Number(minted.rows[0]!.count)).toBeGreaterThanOrEqual(10);
    expect(Number(paid.rows[0]!.count)).toBeGreaterThanOrEqual(10);
  });

  it("a minter key cannot mint beyond the signed collateral, with a forged statement, or with a stale one", async () => {
    const minter = createWalletClient({ account: privateKeyToAccount(world.minterKey), transport: http(world.chain.rpcUrl), chain: world.tokenChain.client.chain! });
    const tryMint = async (amount: bigint) => {
      try {
        await world.tokenChain.client.simulateContract({ account: minter.account, address: world.token, abi: tengeStablecoinAbi, functionName: "mint", args: [holder(), amount] });
        return "accepted";
      } catch (error) {
        return /Collateral\w+/.exec(String((error as Error).message))?.[0] ?? String((error as Error).message).slice(0, 80);
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.bigInt(1n, 10n ** 12n), async (extra) => {
        const [collateral] = await world.tokenChain.client.readContract({ address: world.token, abi: tengeStablecoinAbi, functionName: "latestCollateralStatement" });
        const headroom = collateral - (await world.supply());
        expect(await tryMint(headroom + extra)).toBe("CollateralExceeded");
      }),
      { numRuns: 15 },
    );
    // A statement signed by anyone but the DT ledger operator is refused, however large its balance.
    const forged = { account: world.segregatedAccount, balance: 10n ** 20n, paidOut: 0n, height: 10n ** 9n, timestamp: BigInt(Math.floor(Date.now() / 1000)) };
    const signature = await signCollateralStatement(world.minterKey, forged, { chainId: world.chain.chainId, verifyingContract: world.token });
    await expect(
      world.tokenChain.client.simulateContract({ account: minter.account, address: world.token, abi: tengeStablecoinAbi, functionName: "mintWithCollateralStatement", args: [forged, signature, holder(), 10n ** 15n] }),
    ).rejects.toThrow(/CollateralSignatureInvalid/);
    // Once the latest statement is older than the maximum age, even a covered mint is refused.
    // Blocks may share a timestamp on the embedded chain, so chain time can lag the wall clock the statement
    // was signed by: the next block is set past the statement's time plus the maximum age.
    const { timestamp: signedAt } = await world.tokenChain.acceptedStatement();
    const maxAge = await world.tokenChain.maxStatementAge();
    await world.rpc("evm_setNextBlockTimestamp", [`0x${(signedAt + maxAge + 1n).toString(16)}`]);
    await world.mineBlocks(1);
    expect(await tryMint(1n)).toBe("CollateralStatementStale");
  });
});
