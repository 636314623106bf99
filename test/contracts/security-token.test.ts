import { encodeErrorResult, getAddress, getContract, toHex, type Address, type Hex, type PrivateKeyAccount } from "viem";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEMO_BOND, deploySecurity } from "../../src/evm/deploy-security.ts";
import { eligibilityRegistryAbi, eligibilityRegistryBytecode, hashTimeLockAbi, hashTimeLockBytecode, securityTokenAbi, securityTokenBytecode } from "../../src/evm/generated/contracts.ts";
import { hashLockOf } from "../../src/core/hash-lock.ts";
import { hashTimeLockSwapId, type HashTimeLockTerms } from "../../src/evm/hash-time-lock.ts";
import { SECURITY_REFUSALS, SecurityTokenContract } from "../../src/evm/security-token.ts";
import { confirmed, createTestChain, expectRevert, type TestChain } from "./support/chain.ts";

let chain: TestChain;
let clean: Hex;
let agent: PrivateKeyAccount, seller: PrivateKeyAccount, buyer: PrivateKeyAccount, outsider: PrivateKeyAccount, other: PrivateKeyAccount;
let htlc: Address, bond: Address, registry: Address;

const Refusal = Object.fromEntries(SECURITY_REFUSALS.map((name, index) => [name, index])) as Record<(typeof SECURITY_REFUSALS)[number], number>;
const Kind = { None: 0, Investor: 1, Custodian: 2 } as const;
const State = { Locked: 1, Claimed: 2, Refunded: 3 } as const;
const preimage = toHex(0xb0bdn, { size: 32 });
const hashLock = hashLockOf(preimage);
const abi = [...securityTokenAbi, ...hashTimeLockAbi, ...eligibilityRegistryAbi];

const tokenAs = (account: PrivateKeyAccount) => getContract({ address: bond, abi, client: { public: chain.publicClient, wallet: chain.wallet(account) } });
const registryAs = (account: PrivateKeyAccount) => getContract({ address: registry, abi: eligibilityRegistryAbi, client: { public: chain.publicClient, wallet: chain.wallet(account) } });
const htlcAs = (account: PrivateKeyAccount) => getContract({ address: htlc, abi, client: { public: chain.publicClient, wallet: chain.wallet(account) } });
const balance = (holder: Address) => tokenAs(agent).read.balanceOf([holder]);

beforeAll(async () => {
  chain = await createTestChain();
  [agent, seller, buyer, outsider, other] = chain.accounts as [PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount];
  htlc = getAddress((await confirmed(chain, chain.wallet(agent).deployContract({ abi: hashTimeLockAbi, bytecode: hashTimeLockBytecode }))).contractAddress!);
  const security = await deploySecurity(chain.wallet(agent), chain.publicClient, 1, {
    ...DEMO_BOND,
    holders: [{ address: seller.address, units: 1_000n }, { address: buyer.address, units: 0n }, { address: other.address, units: 10n }],
    custodians: [htlc],
  });
  bond = security.SecurityToken.address;
  registry = security.EligibilityRegistry.address;
  clean = await chain.snapshot();
});
afterAll(() => chain.close());
beforeEach(async () => {
  await chain.revert(clean);
  clean = await chain.snapshot();
});

describe("deployment", () => {
  it("carries the ISIN and units it was deployed with, and the eligible holdings", async () => {
    const contract = new SecurityTokenContract(chain.publicClient, bond);
    expect(await contract.isin()).toBe(DEMO_BOND.isin);
    expect(await contract.decimals()).toBe(0);
    expect(await balance(seller.address)).toBe(1_000n);
    expect(await registryAs(agent).read.kindOf([buyer.address])).toBe(Kind.Investor);
    expect(await registryAs(agent).read.kindOf([htlc])).toBe(Kind.Custodian);
  });

  it("refuses an ISIN that is not 12 characters and decimals above 18", async () => {
    const args = (isin: string, decimals: number) => ["Bond", "B", isin, decimals, registry, agent.address, agent.address] as const;
    // A constructor's revert is not decoded by viem; the node names the custom error when it knows the build,
    // else it prints the revert data: either way the message carries exactly this error with these arguments.
    await expect(chain.wallet(agent).deployContract({ abi: securityTokenAbi, bytecode: securityTokenBytecode, args: args("KZKD0000102", 0) })).rejects.toThrow(constructorRevert("IsinInvalid", ["KZKD0000102"], /IsinInvalid\("KZKD0000102"\)/));
    await expect(chain.wallet(agent).deployContract({ abi: securityTokenAbi, bytecode: securityTokenBytecode, args: args(DEMO_BOND.isin, 19) })).rejects.toThrow(constructorRevert("DecimalsInvalid", [19], /DecimalsInvalid\(19\)/));
    await expect(deploySecurity(chain.wallet(agent), chain.publicClient, 1, { ...DEMO_BOND, isin: "KZKD00001021", holders: [], custodians: [] })).rejects.toMatchObject({ code: "ISIN_INVALID" });
  });

  it("registers a custodian only if it is a contract", async () => {
    await expectRevert(registryAs(agent).write.register([outsider.address, Kind.Custodian]), "CustodianNotContract", [outsider.address]);
  });
});

describe("compliance: canTransfer answers what the transfer does", () => {
  // Each case sets the world up, then canTransfer must name the refusal the transfer reverts with.
  const cases: { name: string; setup?: () => Promise<unknown>; from: () => PrivateKeyAccount; to: () => Address; amount: bigint; refusal: keyof typeof Refusal }[] = [
    { name: "eligible to eligible", from: () => seller, to: () => buyer.address, amount: 5n, refusal: "none" },
    { name: "to an unregistered address", from: () => seller, to: () => outsider.address, amount: 5n, refusal: "receiverNotEligible" },
    { name: "from an unregistered address", setup: () => registryAs(agent).write.remove([other.address]), from: () => other, to: () => buyer.address, amount: 5n, refusal: "senderNotEligible" },
    { name: "while paused", setup: () => tokenAs(agent).write.pause(), from: () => seller, to: () => buyer.address, amount: 5n, refusal: "tokenPaused" },
    { name: "from a frozen holder", setup: () => tokenAs(agent).write.setAddressFrozen([seller.address, true]), from: () => seller, to: () => buyer.address, amount: 5n, refusal: "senderFrozen" },
    { name: "to a frozen holder", setup: () => tokenAs(agent).write.setAddressFrozen([buyer.address, true]), from: () => seller, to: () => buyer.address, amount: 5n, refusal: "receiverFrozen" },
    { name: "more than the unfrozen units", setup: () => tokenAs(agent).write.freezePartialTokens([seller.address, 996n]), from: () => seller, to: () => buyer.address, amount: 5n, refusal: "insufficientUnfrozenBalance" },
    { name: "zero units", from: () => seller, to: () => buyer.address, amount: 0n, refusal: "amountZero" },
    { name: "into the HTLC without an approved delivery", from: () => seller, to: () => htlc, amount: 5n, refusal: "deliveryNotApproved" },
  ];
  for (const test of cases) {
    it(test.name, async () => {
      if (test.setup) await confirmed(chain, test.setup() as Promise<Hex>);
      const from = test.from();
      const to = test.to();
      expect(await tokenAs(agent).read.canTransfer([from.address, to, test.amount])).toBe(Refusal[test.refusal]);
      const before = await balance(to);
      if (test.refusal === "none") {
        await confirmed(chain, tokenAs(from).write.transfer([to, test.amount]));
        expect(await balance(to)).toBe(before + test.amount);
      } else {
        await expectRevert(tokenAs(from).write.transfer([to, test.amount]), "TransferRefused", [from.address, to, test.amount, Refusal[test.refusal]]);
        expect(await balance(to)).toBe(before);
      }
    });
  }

  it("leaves issue, redeem, pause and freeze to the agent", async () => {
    const AGENT_ROLE = await tokenAs(agent).read.AGENT_ROLE();
    await expectRevert(tokenAs(outsider).write.issue([seller.address, 1n]), "AccessControlUnauthorizedAccount", [outsider.address, AGENT_ROLE]);
    await expectRevert(tokenAs(seller).write.redeem([buyer.address, 1n]), "AccessControlUnauthorizedAccount", [seller.address, AGENT_ROLE]);
    await expectRevert(tokenAs(seller).write.pause(), "AccessControlUnauthorizedAccount", [seller.address, AGENT_ROLE]);
    await expectRevert(tokenAs(buyer).write.setAddressFrozen([seller.address, true]), "AccessControlUnauthorizedAccount", [buyer.address, AGENT_ROLE]);
    await expectRevert(registryAs(seller).write.register([outsider.address, Kind.Investor]), "AccessControlUnauthorizedAccount");
    await expectRevert(tokenAs(agent).write.issue([outsider.address, 1n]), "IssueToNonInvestor", [outsider.address]);
  });

  it("lets a spender move only what compliance allows (transferFrom takes the same check)", async () => {
    await confirmed(chain, tokenAs(seller).write.approve([other.address, 100n]));
    await expectRevert(tokenAs(other).write.transferFrom([seller.address, outsider.address, 5n]), "TransferRefused", [seller.address, outsider.address, 5n, Refusal.receiverNotEligible]);
  });
});

describe("delivery through the HTLC", () => {
  let saltCounter = 0n;
  async function lock(receiver: Address, amount: bigint) {
    const salt = toHex(++saltCounter, { size: 32 });
    const terms: HashTimeLockTerms = { sender: seller.address, receiver, token: bond, amount, hashLock, expiry: (await chain.now()) + 3_600n };
    await confirmed(chain, htlcAs(seller).write.lock([salt, receiver, bond, amount, hashLock, terms.expiry]));
    return { id: hashTimeLockSwapId(seller.address, salt), terms };
  }
  const precheck = () => new SecurityTokenContract(chain.publicClient, bond);

  it("the pre-check, approveDelivery and the lock agree: an eligible delivery locks and settles", async () => {
    expect(await precheck().checkDelivery({ seller: seller.address, buyer: buyer.address, amount: 40n, custodian: htlc })).toEqual({ deliverable: true });
    await confirmed(chain, tokenAs(seller).write.approveDelivery([htlc, buyer.address, 40n]));
    expect(await precheck().approvedDelivery(seller.address, htlc)).toBe(40n);
    const { id, terms } = await lock(buyer.address, 40n);
    expect(await precheck().approvedDelivery(seller.address, htlc)).toBe(0n);
    expect(await balance(htlc)).toBe(40n);
    await confirmed(chain, htlcAs(outsider).write.claim([id, terms, preimage]));
    expect(await htlcAs(agent).read.swapState([id])).toBe(State.Claimed);
    expect(await balance(buyer.address)).toBe(40n);
    expect(await balance(seller.address)).toBe(960n);
  });

  for (const [name, setup, refusal] of [
    ["an unregistered buyer", async () => undefined, "receiverNotEligible"],
    ["a frozen buyer", () => tokenAs(agent).write.setAddressFrozen([buyer.address, true]), "receiverFrozen"],
    ["a paused security", () => tokenAs(agent).write.pause(), "tokenPaused"],
    ["a seller short of unfrozen units", () => tokenAs(agent).write.freezePartialTokens([seller.address, 990n]), "insufficientUnfrozenBalance"],
  ] as const) {
    it(`a trade that delivery would refuse (${name}) is refused before any lock`, async () => {
      const setupHash = await setup();
      if (setupHash) await chain.publicClient.waitForTransactionReceipt({ hash: setupHash });
      const to = name === "an unregistered buyer" ? outsider.address : buyer.address;
      expect(await precheck().checkDelivery({ seller: seller.address, buyer: to, amount: 40n, custodian: htlc })).toEqual({ deliverable: false, refusal });
      await expectRevert(tokenAs(seller).write.approveDelivery([htlc, to, 40n]), "TransferRefused", [seller.address, to, 40n, Refusal[refusal]]);
      // Without the approved delivery the HTLC cannot take the securities either, even with an allowance.
      await confirmed(chain, tokenAs(seller).write.approve([htlc, 40n]));
      await expectRevert(lock(to, 40n), "TransferRefused", [seller.address, htlc, 40n, name === "a paused security" ? Refusal.tokenPaused : name === "a seller short of unfrozen units" ? Refusal.insufficientUnfrozenBalance : Refusal.deliveryNotApproved]);
      expect(await balance(htlc)).toBe(0n);
      expect(await balance(seller.address)).toBe(1_000n);
    });
  }

  it("refuses a delivery through a contract that is not a registered custodian", async () => {
    expect(await precheck().checkDelivery({ seller: seller.address, buyer: buyer.address, amount: 1n, custodian: registry })).toEqual({ deliverable: false, refusal: "notACustodian" });
    await expectRevert(tokenAs(seller).write.approveDelivery([registry, buyer.address, 1n]), "TransferRefused", [seller.address, buyer.address, 1n, Refusal.notACustodian]);
  });

  async function lockedTradeThenAgentTurnsHostile() {
    await confirmed(chain, tokenAs(seller).write.approveDelivery([htlc, buyer.address, 40n]));
    const locked = await lock(buyer.address, 40n);
    // Everything the agent can do to the parties after the lock: pause, freeze both, remove both, freeze the custodian.
    await confirmed(chain, tokenAs(agent).write.pause());
    await confirmed(chain, tokenAs(agent).write.setAddressFrozen([buyer.address, true]));
    await confirmed(chain, tokenAs(agent).write.setAddressFrozen([seller.address, true]));
    await confirmed(chain, registryAs(agent).write.remove([buyer.address]));
    await confirmed(chain, registryAs(agent).write.remove([seller.address]));
    await expectRevert(tokenAs(agent).write.setAddressFrozen([htlc, true]), "CustodianBalanceUntouchable", [htlc]);
    await expectRevert(tokenAs(agent).write.redeem([htlc, 40n]), "CustodianBalanceUntouchable", [htlc]);
    return locked;
  }

  it("a locked trade can always be claimed by the buyer, whatever the agent did after the lock", async () => {
    const { id, terms } = await lockedTradeThenAgentTurnsHostile();
    await confirmed(chain, htlcAs(outsider).write.claim([id, terms, preimage]));
    expect(await balance(buyer.address)).toBe(40n);
    expect(await balance(htlc)).toBe(0n);
  });

  it("a locked trade can always be refunded to the seller at expiry, whatever the agent did after the lock", async () => {
    const { id, terms } = await lockedTradeThenAgentTurnsHostile();
    await chain.advance(3_600);
    await confirmed(chain, htlcAs(outsider).write.refund([id, terms]));
    expect(await htlcAs(agent).read.swapState([id])).toBe(State.Refunded);
    expect(await balance(seller.address)).toBe(1_000n);
  });

  it("answers a release larger than the custodian holds as the transfer would: refused", async () => {
    await confirmed(chain, tokenAs(seller).write.approveDelivery([htlc, buyer.address, 40n]));
    await lock(buyer.address, 40n);
    expect(await tokenAs(agent).read.canTransfer([htlc, buyer.address, 40n])).toBe(Refusal.none);
    expect(await tokenAs(agent).read.canTransfer([htlc, buyer.address, 41n])).toBe(Refusal.insufficientUnfrozenBalance);
    expect(await tokenAs(agent).read.canTransfer([htlc, outsider.address, 1n])).toBe(Refusal.releaseToNonParty);
  });

  it("the HTLC cannot deliver to someone the seller's approved delivery did not name; the seller gets it back", async () => {
    await confirmed(chain, tokenAs(seller).write.approveDelivery([htlc, buyer.address, 40n]));
    const { id, terms } = await lock(outsider.address, 40n);
    await expectRevert(htlcAs(outsider).write.claim([id, terms, preimage]), "TransferRefused", [htlc, outsider.address, 40n, Refusal.releaseToNonParty]);
    expect(await balance(outsider.address)).toBe(0n);
    await chain.advance(3_600);
    await confirmed(chain, htlcAs(outsider).write.refund([id, terms]));
    expect(await balance(seller.address)).toBe(1_000n);
  });
});

describe("eligibility registry", () => {
  it("announces registrations and removals, and refuses the zero address and kind None", async () => {
    await confirmed(chain, registryAs(agent).write.register([outsider.address, Kind.Investor]));
    expect(await registryAs(agent).read.isInvestor([outsider.address])).toBe(true);
    await confirmed(chain, registryAs(agent).write.remove([outsider.address]));
    expect(await registryAs(agent).read.kindOf([outsider.address])).toBe(Kind.None);
    await expectRevert(registryAs(agent).write.register(["0x0000000000000000000000000000000000000000", Kind.Investor]), "HolderAddressZero");
    await expectRevert(registryAs(agent).write.register([outsider.address, Kind.None]), "HolderKindInvalid");
  });

  it("deploys standalone with an admin and an agent", async () => {
    const receipt = await confirmed(chain, chain.wallet(agent).deployContract({ abi: eligibilityRegistryAbi, bytecode: eligibilityRegistryBytecode, args: [agent.address, other.address] }));
    const fresh = getContract({ address: receipt.contractAddress!, abi: eligibilityRegistryAbi, client: { public: chain.publicClient, wallet: chain.wallet(other) } });
    await confirmed(chain, fresh.write.register([buyer.address, Kind.Investor]));
    expect(await fresh.read.isInvestor([buyer.address])).toBe(true);
  });
});

function constructorRevert(errorName: "IsinInvalid" | "DecimalsInvalid", args: readonly unknown[], named: RegExp): RegExp {
  const data = encodeErrorResult({ abi: securityTokenAbi, errorName, args } as Parameters<typeof encodeErrorResult>[0]);
  return new RegExp(`${named.source}|return data: ${data}\\)`);
}
