import fc from "fast-check";
import { BaseError, ContractFunctionRevertedError, getAddress, getContract, type Address, type Hex, type PrivateKeyAccount } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_BOND, deploySecurity } from "../../src/evm/deploy-security.ts";
import { eligibilityRegistryAbi, hashTimeLockAbi, hashTimeLockBytecode, securityTokenAbi } from "../../src/evm/generated/contracts.ts";
import { confirmed, createTestChain, type TestChain } from "./support/chain.ts";

/**
 * Whatever the agent has done (pause, freezes, partial freezes, removals, approved deliveries), canTransfer
 * predicts exactly what the transfer then does: the same refusal, or success with the balances moved.
 */
let chain: TestChain;
let clean: Hex;
let agent: PrivateKeyAccount;
let holders: PrivateKeyAccount[];
let outsider: Address, htlc: Address, bond: Address, registry: Address;

type Action =
  | { kind: "pause" | "unpause" }
  | { kind: "freeze"; who: number; frozen: boolean }
  | { kind: "freezePartial"; who: number; amount: bigint }
  | { kind: "remove" | "register"; who: number }
  | { kind: "approveDelivery"; who: number; to: number; amount: bigint };

const who = fc.integer({ min: 0, max: 2 });
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constantFrom("pause" as const, "unpause" as const) }),
  fc.record({ kind: fc.constant("freeze" as const), who, frozen: fc.boolean() }),
  fc.record({ kind: fc.constant("freezePartial" as const), who, amount: fc.bigInt({ min: 1n, max: 400n }) }),
  fc.record({ kind: fc.constantFrom("remove" as const, "register" as const), who }),
  fc.record({ kind: fc.constant("approveDelivery" as const), who, to: who, amount: fc.bigInt({ min: 1n, max: 600n }) }),
);
const attempt = fc.record({ from: who, to: fc.integer({ min: 0, max: 4 }), amount: fc.bigInt({ min: 0n, max: 1_200n }) });

beforeAll(async () => {
  chain = await createTestChain();
  const [first, a, b, c, d] = chain.accounts as [PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount];
  agent = first;
  holders = [a, b, c];
  outsider = d.address;
  htlc = getAddress((await confirmed(chain, chain.wallet(agent).deployContract({ abi: hashTimeLockAbi, bytecode: hashTimeLockBytecode }))).contractAddress!);
  const security = await deploySecurity(chain.wallet(agent), chain.publicClient, 1, {
    ...DEMO_BOND,
    holders: holders.map((holder) => ({ address: holder.address, units: 1_000n })),
    custodians: [htlc],
  });
  bond = security.SecurityToken.address;
  registry = security.EligibilityRegistry.address;
  clean = await chain.snapshot();
});
afterAll(() => chain.close());

const token = (account: PrivateKeyAccount) => getContract({ address: bond, abi: securityTokenAbi, client: { public: chain.publicClient, wallet: chain.wallet(account) } });

async function apply(step: Action): Promise<void> {
  const asAgent = token(agent);
  const agentRegistry = getContract({ address: registry, abi: eligibilityRegistryAbi, client: { public: chain.publicClient, wallet: chain.wallet(agent) } });
  const send = async (hash: Promise<Hex>) => {
    // An agent action the contract refuses (e.g. pause while paused) simply changes nothing.
    try {
      await chain.publicClient.waitForTransactionReceipt({ hash: await hash });
    } catch (error) {
      if (!(error instanceof BaseError && error.walk((cause) => cause instanceof ContractFunctionRevertedError))) throw error;
    }
  };
  switch (step.kind) {
    case "pause":
      return send(asAgent.write.pause());
    case "unpause":
      return send(asAgent.write.unpause());
    case "freeze":
      return send(asAgent.write.setAddressFrozen([holders[step.who]!.address, step.frozen]));
    case "freezePartial":
      return send(asAgent.write.freezePartialTokens([holders[step.who]!.address, step.amount]));
    case "remove":
      return send(agentRegistry.write.remove([holders[step.who]!.address]));
    case "register":
      return send(agentRegistry.write.register([holders[step.who]!.address, 1]));
    case "approveDelivery":
      return send(token(holders[step.who]!).write.approveDelivery([htlc, holders[step.to]!.address, step.amount]));
  }
}

describe("SecurityToken: canTransfer is the transfer's own verdict", () => {
  it("agrees with every transfer after any sequence of agent actions", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { maxLength: 5 }), fc.array(attempt, { minLength: 1, maxLength: 3 }), async (actions, attempts) => {
        await chain.revert(clean);
        clean = await chain.snapshot();
        for (const step of actions) await apply(step);
        for (const { from, to, amount } of attempts) {
          const sender = holders[from]!;
          const receiver = [...holders.map((holder) => holder.address), outsider, htlc][to]!;
          const predicted = await token(agent).read.canTransfer([sender.address, receiver, amount]);
          const before = await token(agent).read.balanceOf([receiver]);
          let refusal: number | undefined;
          try {
            await chain.publicClient.waitForTransactionReceipt({ hash: await token(sender).write.transfer([receiver, amount]) });
          } catch (error) {
            const reverted = error instanceof BaseError ? error.walk((cause) => cause instanceof ContractFunctionRevertedError) : null;
            const data = (reverted as ContractFunctionRevertedError | null)?.data;
            expect(data?.errorName).toBe("TransferRefused");
            refusal = Number(data?.args?.[3]);
          }
          expect(refusal ?? 0).toBe(predicted);
          const after = await token(agent).read.balanceOf([receiver]);
          expect(after - before).toBe(predicted === 0 && receiver !== sender.address ? amount : 0n);
        }
      }),
      { numRuns: 40 },
    );
  });
});
