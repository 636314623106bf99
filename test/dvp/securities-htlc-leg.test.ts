import { createPublicClient, createTestClient, createWalletClient, getAddress, http, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecuritiesHtlcLeg } from "../../src/dvp/legs/securities-htlc-leg.ts";
import { DEMO_BOND, deploySecurity } from "../../src/evm/deploy-security.ts";
import { startEmbeddedChain, type EmbeddedChain } from "../../src/evm/embedded-chain.ts";
import { evmChain } from "../../src/evm/evm-chain.ts";
import { eligibilityRegistryAbi, hashTimeLockAbi, hashTimeLockBytecode, securityTokenAbi } from "../../src/evm/generated/contracts.ts";
import { hashLockOf } from "../../src/core/hash-lock.ts";
import { LegError, type LegInstruction } from "../../src/pvp/leg-port.ts";

let chain: EmbeddedChain;
let leg: SecuritiesHtlcLeg;
let bond: Address, registry: Address, htlc: Address;
let agentKey: Hex, sellerKey: Hex;
let seller: Address, buyer: Address, secondBuyer: Address, outsider: Address, strangerHolding: Address;
const preimage = toHex(0xd0e5n, { size: 32 });
const hashLock = hashLockOf(preimage);

const clients = () => {
  const transport = http(chain.rpcUrl);
  const evm = evmChain(chain.chainId, chain.rpcUrl);
  return { public: createPublicClient({ transport, chain: evm }), agent: createWalletClient({ account: privateKeyToAccount(agentKey), transport, chain: evm }), test: createTestClient({ mode: "hardhat", transport, chain: evm }) };
};
const balance = (holder: Address) => clients().public.readContract({ address: bond, abi: securityTokenAbi, functionName: "balanceOf", args: [holder] });
async function asAgent(send: Promise<Hex>) {
  const receipt = await clients().public.waitForTransactionReceipt({ hash: await send });
  expect(receipt.status).toBe("success");
}
const agentWrite = (functionName: "pause" | "setAddressFrozen", args: readonly unknown[] = []) =>
  asAgent(clients().agent.writeContract({ address: bond, abi: securityTokenAbi, functionName, args } as never));

let counter = 0;
async function instruction(overrides: Partial<LegInstruction["terms"]> = {}): Promise<LegInstruction> {
  const now = await leg.now();
  const terms = { ledger: "securities", payer: seller, beneficiary: buyer, amount: 10n, currency: DEMO_BOND.isin, hashLock, expiresAt: new Date(now.getTime() + 3_600_000), ...overrides };
  const id = `dvp-${++counter}`;
  return {
    key: `${id}:securities`,
    pvpId: id,
    pvp: { id, uetr: "00000000-0000-4000-8000-000000000000", role: "initiator", dtLeg: undefined, foreignLeg: terms, instruction: undefined, ourAgent: "HSBKKZKXXXX", counterpartyAgent: "KCJBKZKXXXX" },
    side: "foreign",
    terms,
    reference: undefined,
  };
}

beforeAll(async () => {
  chain = await startEmbeddedChain({ accountCount: 8 });
  const keys = chain.accounts;
  agentKey = keys[0]!;
  sellerKey = keys[1]!;
  [seller, buyer, secondBuyer, outsider, strangerHolding] = keys.slice(1, 6).map((key) => privateKeyToAccount(key).address) as [Address, Address, Address, Address, Address];
  const { public: client, agent } = clients();
  const deployed = await client.waitForTransactionReceipt({ hash: await agent.deployContract({ abi: hashTimeLockAbi, bytecode: hashTimeLockBytecode }) });
  htlc = getAddress(deployed.contractAddress!);
  const security = await deploySecurity(agent, client, 1, {
    ...DEMO_BOND,
    holders: [{ address: seller, units: 1_000n }, { address: buyer, units: 0n }, { address: secondBuyer, units: 0n }, { address: strangerHolding, units: 500n }],
    custodians: [htlc],
  });
  bond = security.SecurityToken.address;
  registry = security.EligibilityRegistry.address;
  leg = await SecuritiesHtlcLeg.connect({ rpcUrl: chain.rpcUrl, hashTimeLock: htlc, security: bond, signerKeys: [sellerKey], sender: { pollingIntervalMs: 5 } });
});
afterAll(() => chain?.close());

describe("the securities HTLC leg", () => {
  it("names the security it delivers as the leg's asset (ISIN, decimals)", () => {
    expect(leg.security).toEqual({ isin: DEMO_BOND.isin, decimals: 0 });
    expect(leg.assets).toEqual([{ currency: DEMO_BOND.isin, decimals: 0 }]);
  });

  it("pre-checks compliance as delivery will see it", async () => {
    const eligible = await instruction();
    expect(await leg.precheck(eligible.terms)).toEqual({ deliverable: true });
    expect(await leg.precheck({ ...eligible.terms, beneficiary: outsider })).toEqual({ deliverable: false, refusal: "receiverNotEligible" });
    expect(await leg.precheck({ ...eligible.terms, amount: 1_001n })).toEqual({ deliverable: false, refusal: "insufficientUnfrozenBalance" });
  });

  it("locks, claims with the preimage and reads the leg from the chain; retries change nothing", async () => {
    const delivery = await instruction();
    const receipt = await leg.lock(delivery);
    expect(receipt.reference).toBe(leg.referenceOf(delivery));
    expect(await leg.lock(delivery)).toEqual(receipt);
    expect(await leg.observe(delivery)).toEqual({ status: "locked" });
    expect(await balance(htlc)).toBe(10n);
    await leg.claim(delivery, preimage);
    await leg.claim(delivery, preimage);
    expect(await leg.observe(delivery)).toEqual({ status: "claimed" });
    expect(await leg.observe({ ...delivery, pvp: { ...delivery.pvp, role: "responder" } })).toEqual({ status: "claimed", preimage });
    expect(await balance(buyer)).toBe(10n);
  });

  it("refuses a delivery compliance would refuse before anything is locked (a frozen buyer)", async () => {
    await agentWrite("setAddressFrozen", [secondBuyer, true]);
    const delivery = await instruction({ beneficiary: secondBuyer });
    const before = await balance(seller);
    const refusal = await leg.lock(delivery).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(LegError);
    expect(refusal).toMatchObject({ code: "REJECTED", permanent: true, message: expect.stringContaining("receiverFrozen") });
    expect(await leg.observe(delivery)).toEqual({ status: "absent" });
    expect(await balance(seller)).toBe(before);
    await agentWrite("setAddressFrozen", [secondBuyer, false]);
  });

  it("settles two deliveries from one seller to two buyers locked side by side", async () => {
    const [first, second] = [await instruction({ amount: 3n }), await instruction({ beneficiary: secondBuyer, amount: 4n })];
    await Promise.all([leg.lock(first), leg.lock(second)]);
    await Promise.all([leg.claim(first, preimage), leg.claim(second, preimage)]);
    expect(await leg.observe(second)).toEqual({ status: "claimed" });
    expect(await balance(secondBuyer)).toBe(4n);
  });

  it("refunds a locked delivery to the seller at expiry even after the agent paused the security and froze the seller", async () => {
    const delivery = await instruction({ amount: 7n });
    await leg.lock(delivery);
    const before = await balance(seller);
    await agentWrite("setAddressFrozen", [seller, true]);
    await expect(leg.refund(delivery, { early: false })).rejects.toMatchObject({ code: "NOT_YET_EXPIRED" });
    await clients().test.increaseTime({ seconds: 3_601 });
    await clients().test.mine({ blocks: 1 });
    await leg.refund(delivery, { early: false });
    expect(await leg.observe(delivery)).toEqual({ status: "refunded" });
    expect(await balance(seller)).toBe(before + 7n);
    await agentWrite("setAddressFrozen", [seller, false]);
  });

  it("delivers only from holdings whose key it holds: another holder's securities are refused with nothing locked", async () => {
    const delivery = await instruction({ payer: strangerHolding });
    await expect(leg.lock(delivery)).rejects.toMatchObject({ code: "REJECTED", permanent: true });
    expect(await leg.observe(delivery)).toEqual({ status: "absent" });
    expect(await balance(strangerHolding)).toBe(500n);
  });

  it("refuses a leg in another security, and a seller short of units, with nothing locked", async () => {
    await expect(leg.lock(await instruction({ currency: "KZ0000000000" }))).rejects.toMatchObject({ code: "REJECTED" });
    const tooMuch = await instruction({ amount: 10_000n });
    await expect(leg.lock(tooMuch)).rejects.toMatchObject({ code: "INSUFFICIENT_FUNDS", permanent: true });
    expect(await leg.observe(tooMuch)).toEqual({ status: "absent" });
  });

  it("refuses a removed seller at the pre-check and at the lock", async () => {
    await asAgent(clients().agent.writeContract({ address: registry, abi: eligibilityRegistryAbi, functionName: "remove", args: [seller] }));
    const delivery = await instruction();
    expect(await leg.precheck(delivery.terms)).toEqual({ deliverable: false, refusal: "senderNotEligible" });
    await expect(leg.lock(delivery)).rejects.toMatchObject({ code: "REJECTED", message: expect.stringContaining("senderNotEligible") });
    await asAgent(clients().agent.writeContract({ address: registry, abi: eligibilityRegistryAbi, functionName: "register", args: [seller, 1] }));
  });

  it("claims a locked delivery even after the agent paused the security", async () => {
    const delivery = await instruction({ amount: 2n });
    await leg.lock(delivery);
    await agentWrite("pause");
    await leg.claim(delivery, preimage);
    expect(await leg.observe(delivery)).toEqual({ status: "claimed" });
  });
});
