import fc from "fast-check";
import { generatePrivateKey } from "viem/accounts";
import { BaseError, ContractFunctionRevertedError, type Hex, type PrivateKeyAccount } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestChain, type TestChain } from "./support/chain.ts";
import { deployStablecoin, MAX_STATEMENT_AGE, type StablecoinFixture } from "./support/stablecoin.ts";

/**
 * Model-based property: random sequences of statements, mints, burns, redeems, transfers, time jumps and
 * forged statements. After every transaction the chain must show supply <= collateral, and every mint must
 * succeed exactly when the model says a fresh statement covers it.
 */

type Step =
  | { kind: "statement"; surplus: bigint }
  | { kind: "mint"; to: number; amount: bigint }
  | { kind: "forgedMint"; amount: bigint }
  | { kind: "burn"; amount: bigint }
  | { kind: "redeem"; holder: number; amount: bigint }
  | { kind: "transfer"; from: number; to: number; amount: bigint }
  | { kind: "wait"; seconds: bigint };

const amount = fc.bigInt({ min: 1n, max: 50_000n });
const holder = fc.integer({ min: 0, max: 2 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("statement" as const), surplus: fc.bigInt({ min: 0n, max: 100_000n }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("mint" as const), to: fc.integer({ min: 0, max: 3 }), amount }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("forgedMint" as const), amount }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("burn" as const), amount }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("redeem" as const), holder, amount }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("transfer" as const), from: holder, to: fc.integer({ min: 0, max: 3 }), amount }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("wait" as const), seconds: fc.bigInt({ min: 1n, max: 2n * MAX_STATEMENT_AGE }) }) },
);

let chain: TestChain;
let s: StablecoinFixture;
let clean: Hex;
const ALLOWANCE = 200_000n;

beforeAll(async () => {
  chain = await createTestChain();
  s = await deployStablecoin(chain);
  await s.configureMinter(s.roles.minter.address, ALLOWANCE);
  clean = await chain.snapshot();
});
afterAll(() => chain.close());

function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) throw error;
  const reverted = error.walk((cause) => cause instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) throw error;
  return reverted.data?.errorName;
}

describe("secure mint, for any sequence of operations", () => {
  it("keeps supply <= collateral after every transaction and mints exactly when a fresh statement covers it", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 30, size: "max" }), async (steps) => {
        await chain.revert(clean);
        clean = await chain.snapshot();
        // Accounts 0..2 are holders; index 3 is the minter itself (so burns have something to burn).
        const accounts: PrivateKeyAccount[] = [s.holders.alice, s.holders.bob, s.holders.carol, s.roles.minter];
        const balances = [0n, 0n, 0n, 0n];
        let supply = 0n;
        let collateral = 0n;
        let redeemed = 0n;
        let statementTime: bigint | undefined;
        let allowance = ALLOWANCE;
        let clock = await chain.now();

        const at = async (seconds = 1n) => {
          clock += seconds;
          await chain.testClient.setNextBlockTimestamp({ timestamp: clock });
        };
        const attempt = async (send: () => Promise<Hex>): Promise<string | undefined> => {
          try {
            const receipt = await chain.publicClient.waitForTransactionReceipt({ hash: await send() });
            expect(receipt.status).toBe("success");
            return undefined;
          } catch (error) {
            return revertName(error);
          }
        };

        for (const action of steps) {
          if (action.kind === "wait") {
            clock += action.seconds;
            continue;
          }
          await at();
          if (action.kind === "statement") {
            // A truthful ledger that has paid out every redemption: the wallet holds at least the supply.
            const balance = supply + action.surplus;
            const signed = await s.statement(balance, { timestamp: clock, paidOut: redeemed });
            expect(await attempt(() => s.tokenAs(s.holders.carol).write.submitCollateralStatement([signed.message, signed.signature]))).toBeUndefined();
            collateral = balance;
            statementTime = clock;
          } else if (action.kind === "mint") {
            const fresh = statementTime !== undefined && clock <= statementTime + MAX_STATEMENT_AGE;
            const expected =
              action.amount > allowance ? "MinterAllowanceExceeded"
              : !fresh ? "CollateralStatementStale"
              : supply + action.amount > collateral ? "CollateralExceeded"
              : undefined;
            const outcome = await attempt(() => s.tokenAs(s.roles.minter).write.mint([accounts[action.to]!.address, action.amount]));
            expect(outcome).toBe(expected);
            if (outcome === undefined) {
              supply += action.amount;
              allowance -= action.amount;
              balances[action.to]! += action.amount;
            }
          } else if (action.kind === "forgedMint") {
            // A stolen minter key with a statement signed by a key that is not the ledger operator's.
            const forged = await s.statement(supply + 10n ** 12n, { timestamp: clock, key: generatePrivateKey() });
            const outcome = await attempt(() =>
              s.tokenAs(s.roles.minter).write.mintWithCollateralStatement([forged.message, forged.signature, s.roles.minter.address, action.amount]),
            );
            expect(outcome).toBe("CollateralSignatureInvalid");
          } else if (action.kind === "burn") {
            const outcome = await attempt(() => s.tokenAs(s.roles.minter).write.burn([action.amount]));
            expect(outcome).toBe(action.amount > balances[3]! ? "ERC20InsufficientBalance" : undefined);
            if (outcome === undefined) {
              supply -= action.amount;
              balances[3]! -= action.amount;
            }
          } else if (action.kind === "redeem") {
            const outcome = await attempt(() => s.tokenAs(accounts[action.holder]!).write.redeem([action.amount, "KZ-DA-EXCHANGE-1"]));
            expect(outcome).toBe(action.amount > balances[action.holder]! ? "ERC20InsufficientBalance" : undefined);
            if (outcome === undefined) {
              supply -= action.amount;
              balances[action.holder]! -= action.amount;
              // Its DT is about to be paid out: it stops backing mints at once.
              redeemed += action.amount;
              collateral = collateral > action.amount ? collateral - action.amount : 0n;
            }
          } else {
            const outcome = await attempt(() => s.tokenAs(accounts[action.from]!).write.transfer([accounts[action.to]!.address, action.amount]));
            expect(outcome).toBe(action.amount > balances[action.from]! ? "ERC20InsufficientBalance" : undefined);
            if (outcome === undefined) {
              balances[action.from]! -= action.amount;
              balances[action.to]! += action.amount;
            }
          }
          const [onChainCollateral] = await s.token.read.latestCollateralStatement();
          const onChainSupply = await s.token.read.totalSupply();
          expect(onChainSupply).toBe(supply);
          expect(onChainSupply).toBeLessThanOrEqual(onChainCollateral);
        }
      }),
      { numRuns: 100 },
    );
  });
});
