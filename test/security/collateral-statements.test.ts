import fc from "fast-check";
import { BaseError, ContractFunctionRevertedError, encodeAbiParameters, keccak256, toHex, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CollateralStatement } from "../../src/ledger/collateral-statement.ts";
import { confirmed, createTestChain, expectRevert, type TestChain } from "../contracts/support/chain.ts";
import { deployStablecoin, MAX_STATEMENT_AGE, type StablecoinFixture } from "../contracts/support/stablecoin.ts";

/**
 * Collateral statements that are withheld, reordered or relayed late must never let the supply exceed the
 * DT that stays in the segregated wallet once every redemption is paid out. The DT ledger is modelled here
 * (balance, debits, heights, signed statements with the operator's key); the token runs on EDR.
 */

interface SegregatedWallet {
  /** Available DT in tiyn. */
  balance: bigint;
  /** Tiyn ever debited: every debit pays a redemption. */
  paidOut: bigint;
  height: bigint;
  /** Redemptions burned on chain and not yet paid out, oldest first. */
  unpaid: Redemption[];
  /** Redemptions whose payout the DT ledger refused: never paid, until reversed still owed. */
  refused: Redemption[];
}

interface Redemption {
  id: Hex;
  amount: bigint;
}

type Signed = { message: CollateralStatement; signature: Hex };

let chain: TestChain;
let s: StablecoinFixture;
let clean: Hex;

beforeAll(async () => {
  chain = await createTestChain();
  s = await deployStablecoin(chain);
  await s.configureMinter(s.roles.minter.address, 10n ** 15n);
  clean = await chain.snapshot();
});
afterAll(() => chain.close());

async function fresh() {
  await chain.revert(clean);
  clean = await chain.snapshot();
  const wallet: SegregatedWallet = { balance: 0n, paidOut: 0n, height: 0n, unpaid: [], refused: [] };
  /** The ledger operator signs the wallet as it is now, at the next height. */
  const sign = async (): Promise<Signed> => {
    wallet.height += 1n;
    return s.statement(wallet.balance, { paidOut: wallet.paidOut, height: wallet.height });
  };
  /** DT that stays in the wallet once every burned token is paid out (refused ones still owed). */
  const backing = () => wallet.balance - [...wallet.unpaid, ...wallet.refused].reduce((sum, redemption) => sum + redemption.amount, 0n);
  return { wallet, sign, backing };
}

function revertName(error: unknown): string {
  if (!(error instanceof BaseError)) throw error;
  const reverted = error.walk((cause) => cause instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) throw error;
  return reverted.data?.errorName ?? "unknown";
}

describe("a collateral statement held back until after a redemption", () => {
  it("cannot back a mint of the DT the redemption paid out", async () => {
    const { wallet, sign, backing } = await fresh();
    const { alice, mallory } = s.holders;
    // An exchange deposits 1,000 KZT and gets them minted.
    wallet.balance = 100_000n;
    const first = await sign();
    await confirmed(chain, s.tokenAs(s.roles.minter).write.mintWithCollateralStatement([first.message, first.signature, alice.address, 100_000n]));
    // The DT ledger signs a statement that a relayer keeps to itself.
    const withheld = await sign();
    // Alice redeems 600 KZT; the gateway pays the DT out of the segregated wallet.
    await confirmed(chain, s.tokenAs(alice).write.redeem([60_000n, "KZ-DA-ALICE"]));
    wallet.balance -= 60_000n;
    wallet.paidOut += 60_000n;
    expect(backing()).toBe(40_000n);
    // The held-back statement still says 1,000 KZT; relayed now, it must not cover a mint.
    await s.submit(withheld, mallory);
    await expectRevert(s.mint(mallory.address, 60_000n), "CollateralExceeded");
    await expectRevert(s.mint(mallory.address, 1n), "CollateralExceeded");
    expect(await s.token.read.totalSupply()).toBe(40_000n);
  });

  it("cannot back one either when signed between the burn and the payout", async () => {
    const { wallet, sign } = await fresh();
    const { alice, mallory } = s.holders;
    wallet.balance = 100_000n;
    await s.submit(await sign());
    await s.mint(alice.address, 100_000n);
    await confirmed(chain, s.tokenAs(alice).write.redeem([60_000n, "KZ-DA-ALICE"]));
    // Anyone may ask for a statement; this one still holds the 600 KZT the gateway is about to pay.
    const beforePayout = await sign();
    await expectRevert(
      s.tokenAs(s.roles.minter).write.mintWithCollateralStatement([beforePayout.message, beforePayout.signature, mallory.address, 1n]),
      "CollateralExceeded",
    );
  });

  it("still lets the rightful mint of a new deposit through", async () => {
    const { wallet, sign, backing } = await fresh();
    const { alice, bob } = s.holders;
    wallet.balance = 100_000n;
    await s.submit(await sign());
    await s.mint(alice.address, 100_000n);
    const withheld = await sign();
    await confirmed(chain, s.tokenAs(alice).write.redeem([60_000n, "KZ-DA-ALICE"]));
    wallet.balance -= 60_000n;
    wallet.paidOut += 60_000n;
    await s.submit(withheld);
    // Bob's exchange deposits 250 KZT: the statement after the deposit covers exactly that mint.
    wallet.balance += 25_000n;
    await s.submit(await sign());
    await s.mint(bob.address, 25_000n);
    expect(await s.token.read.totalSupply()).toBe(backing());
    await expectRevert(s.mint(bob.address, 1n), "CollateralExceeded");
  });
});

type Step =
  | { kind: "deposit"; amount: bigint }
  | { kind: "sign" }
  | { kind: "relay"; pick: number }
  | { kind: "mint"; amount: bigint }
  | { kind: "mintWithStatement"; pick: number; amount: bigint }
  | { kind: "redeem"; amount: bigint }
  | { kind: "payout" }
  | { kind: "refuse" }
  | { kind: "reverse"; pick: number; fresh: boolean; twice: boolean }
  | { kind: "wait"; seconds: bigint };

const amount = fc.bigInt({ min: 1n, max: 60_000n });
const pick = fc.nat({ max: 1_000 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("deposit" as const), amount }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("sign" as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("relay" as const), pick }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("mint" as const), amount }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("mintWithStatement" as const), pick, amount }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("redeem" as const), amount }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("payout" as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("refuse" as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("reverse" as const), pick, fresh: fc.boolean(), twice: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("wait" as const), seconds: fc.bigInt({ min: 1n, max: MAX_STATEMENT_AGE / 2n }) }) },
);

const steps = fc.array(step, { minLength: 5, maxLength: 40, size: "max" });
/** A start that leaves a refused payout to reverse (random steps alone seldom get there). */
const REFUSED_PAYOUT: Step[] = [
  { kind: "deposit", amount: 50_000n },
  { kind: "sign" },
  { kind: "relay", pick: 0 },
  { kind: "mint", amount: 50_000n },
  { kind: "redeem", amount: 20_000n },
  { kind: "refuse" },
];

/** The on-chain id of the n-th Redeemed log (in the gateway: its transaction hash and log index). */
const redemptionIdOf = (n: number): Hex => keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [toHex(n, { size: 32 }), 0n]));

describe("for any order of deposits, signed statements, relays, mints, redemptions, payouts and reversals", () => {
  it("the supply never exceeds the DT that stays in the segregated wallet after the redemptions", async () => {
    let reversals = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(steps, steps.map((rest) => [...REFUSED_PAYOUT, ...rest])), async (steps) => {
        const { wallet, sign, backing } = await fresh();
        // A stolen minter key mints to alice whenever the token lets it; alice redeems; anyone relays.
        const { alice, mallory } = s.holders;
        const signed: Signed[] = [];
        let holding = 0n;
        let redemptions = 0;
        for (const action of steps) {
          const send = async (transaction: () => Promise<Hex>) => {
            try {
              await confirmed(chain, transaction());
              return true;
            } catch (error) {
              revertName(error);
              return false;
            }
          };
          if (action.kind === "deposit") {
            wallet.balance += action.amount;
          } else if (action.kind === "sign") {
            signed.push(await sign());
          } else if (action.kind === "relay" && signed.length > 0) {
            const statement = signed[action.pick % signed.length]!;
            await send(() => s.tokenAs(mallory).write.submitCollateralStatement([statement.message, statement.signature]));
          } else if (action.kind === "mint") {
            // The minter takes all the token lets it take (and tries the random amount when it is more).
            const mintable = await s.token.read.mintableAmount();
            const minted = mintable > 0n && mintable < action.amount ? mintable : action.amount;
            if (await send(() => s.tokenAs(s.roles.minter).write.mint([alice.address, minted]))) holding += minted;
          } else if (action.kind === "mintWithStatement" && signed.length > 0) {
            const statement = signed[action.pick % signed.length]!;
            if (await send(() => s.tokenAs(s.roles.minter).write.mintWithCollateralStatement([statement.message, statement.signature, alice.address, action.amount]))) {
              holding += action.amount;
            }
          } else if (action.kind === "redeem") {
            const redeemable = action.amount > holding ? holding : action.amount;
            if (redeemable > 0n && (await send(() => s.tokenAs(alice).write.redeem([redeemable, "KZ-DA-ALICE"])))) {
              holding -= redeemable;
              wallet.unpaid.push({ id: redemptionIdOf(redemptions++), amount: redeemable });
            }
          } else if (action.kind === "payout" && wallet.unpaid.length > 0) {
            const paid = wallet.unpaid.shift()!;
            wallet.balance -= paid.amount;
            wallet.paidOut += paid.amount;
          } else if (action.kind === "refuse" && wallet.unpaid.length > 0) {
            // The DT ledger refused the payout (closed account): the DT stays in the wallet, still owed.
            wallet.refused.push(wallet.unpaid.shift()!);
          } else if (action.kind === "reverse" && wallet.refused.length > 0 && (action.fresh || signed.length > 0)) {
            // The minter reverses a refused redemption with a statement signed now (as the gateway does) or
            // with any signed earlier (stale, reordered).
            const index = action.pick % wallet.refused.length;
            const refused = wallet.refused[index]!;
            if (action.fresh) signed.push(await sign());
            const statement = action.fresh ? signed[signed.length - 1]! : signed[action.pick % signed.length]!;
            const reverse = () => s.tokenAs(s.roles.minter).write.reverseRedemption([statement.message, statement.signature, refused.id, alice.address, refused.amount]);
            // Nobody but a minter may reverse one.
            expect(await send(() => s.tokenAs(mallory).write.reverseRedemption([statement.message, statement.signature, refused.id, mallory.address, refused.amount]))).toBe(false);
            if (await send(reverse)) {
              wallet.refused.splice(index, 1);
              holding += refused.amount;
              reversals++;
              // Exactly once, whatever statement comes with the second try.
              if (action.twice) expect(await send(() => s.tokenAs(s.roles.minter).write.reverseRedemption([statement.message, statement.signature, refused.id, alice.address, 1n]))).toBe(false);
            }
          } else if (action.kind === "wait") {
            await chain.advance(Number(action.seconds));
          }
          expect(await s.token.read.totalSupply()).toBeLessThanOrEqual(backing());
        }
      }),
      { numRuns: 100 },
    );
    // The runs did reverse redemptions, not only try.
    expect(reversals).toBeGreaterThan(0);
  });
});
