import {
  Wallet,
  hexlify,
  randomBytes,
  sha256,
  type Contract,
  type ContractTransactionResponse,
  type HDNodeWallet,
  type Signer,
} from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openFork, type Fork } from "./support/fork.ts";

/**
 * Fork tests for integrators: the deployed stablecoin and HTLC, on a local fork of the chain at a block,
 * driven with ethers v6. Roles of the real deployment are impersonated on the fork, and a throwaway key
 * stands in for the DT ledger operator, so the suite runs against any chain without anyone's keys.
 */

let fork: Fork;
let minter: Signer, alice: Signer, bob: Signer, stranger: Signer, owner: Signer;
let ledgerOperator: Wallet | HDNodeWallet;

const statementTypes = {
  CollateralStatement: [
    { name: "account", type: "string" },
    { name: "balance", type: "uint256" },
    { name: "paidOut", type: "uint256" },
    { name: "height", type: "uint256" },
    { name: "timestamp", type: "uint256" },
  ],
};

async function mined(tx: Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  expect(receipt?.status).toBe(1);
  return receipt!;
}

async function expectRevert(call: Promise<unknown>, errorName: string) {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught as { revert?: { name?: string }; data?: string },
  );
  expect(error, `expected a revert with ${errorName}`).toBeDefined();
  // ethers leaves `revert` empty when the call went through the signer: decode the data with both ABIs.
  const data = error!.data;
  const name = error!.revert?.name ?? (data ? (fork.stablecoin.interface.parseError(data) ?? fork.htlc.interface.parseError(data))?.name : undefined);
  expect(name).toBe(errorName);
}

const allotmentTypes = {
  IssuanceAllotment: [
    { name: "account", type: "string" },
    { name: "sequence", type: "uint256" },
    { name: "credited", type: "uint256" },
    { name: "moved", type: "uint256" },
    { name: "height", type: "uint256" },
    { name: "timestamp", type: "uint256" },
    { name: "chains", type: "ChainAllotment[]" },
  ],
  ChainAllotment: [
    { name: "chainId", type: "uint256" },
    { name: "token", type: "address" },
    { name: "issuanceLimit", type: "uint256" },
  ],
};

const as = (contract: Contract, signer: Signer) => contract.connect(signer) as Contract;

/**
 * A statement of the segregated wallet signed by the stand-in ledger operator (EIP-712, ethers). By default
 * it shows every redemption so far as paid out.
 */
async function signedStatement(balance: bigint, paidOut?: bigint) {
  const [, height] = (await fork.stablecoin.getFunction("latestCollateralStatement")()) as [bigint, bigint, bigint];
  const statement = {
    account: (await fork.stablecoin.getFunction("segregatedAccount")()) as string,
    balance,
    paidOut: paidOut ?? ((await fork.stablecoin.getFunction("totalRedeemed")()) as bigint),
    height: height + 1n,
    timestamp: await fork.now(),
  };
  const domain = { name: "Digital Tenge Collateral", version: "1", chainId: fork.chainId, verifyingContract: fork.addresses.stablecoin };
  return { statement, signature: await ledgerOperator.signTypedData(domain, statementTypes, statement) };
}

interface ChainAllotment {
  chainId: bigint;
  token: string;
  issuanceLimit: bigint;
}

/**
 * The chains of the pool this token issues against: FORK_POOL (set by run.ts, a JSON array of
 * `{chainId, token}`) or this chain alone. This chain's entry is always the forked token.
 */
function poolChains(): Array<{ chainId: bigint; token: string }> {
  const listed = process.env["FORK_POOL"] ? (JSON.parse(process.env["FORK_POOL"]) as Array<{ chainId: number; token: string }>) : [];
  const others = listed.filter((entry) => entry.chainId !== fork.chainId).map((entry) => ({ chainId: BigInt(entry.chainId), token: entry.token }));
  return [...others, { chainId: BigInt(fork.chainId), token: fork.addresses.stablecoin }].sort((a, b) => (a.chainId < b.chainId ? -1 : 1));
}

/**
 * An issuance allotment of the pool signed by the stand-in ledger operator: this chain's limit as given,
 * the other chains' at zero, the pool exactly their sum (credited, plus `moved` when given), the next sequence.
 */
async function signedAllotment(ownLimit: bigint, overrides: { moved?: bigint; sequence?: bigint; chains?: ChainAllotment[]; signer?: Wallet | HDNodeWallet } = {}) {
  const [, , sequence] = (await fork.stablecoin.getFunction("issuance")()) as [bigint, bigint, bigint, boolean];
  const chains = overrides.chains ?? poolChains().map((entry) => ({ ...entry, issuanceLimit: entry.chainId === BigInt(fork.chainId) ? ownLimit : 0n }));
  const limits = chains.reduce((sum, entry) => sum + entry.issuanceLimit, 0n);
  const moved = overrides.moved ?? 0n;
  const allotment = {
    account: (await fork.stablecoin.getFunction("segregatedAccount")()) as string,
    sequence: overrides.sequence ?? sequence + 1n,
    credited: limits > moved ? limits - moved : 0n,
    moved,
    height: 1n,
    timestamp: await fork.now(),
    chains,
  };
  const domain = { name: "Digital Tenge Issuance Allotment", version: "1" };
  return { allotment, signature: await (overrides.signer ?? ledgerOperator).signTypedData(domain, allotmentTypes, allotment) };
}

async function issuance() {
  const [issued, issuanceLimit, sequence, required] = (await fork.stablecoin.getFunction("issuance")()) as [bigint, bigint, bigint, boolean];
  return { issued, issuanceLimit, sequence, required };
}

beforeAll(async () => {
  fork = await openFork();
  [minter, alice, bob, stranger] = await Promise.all([10, 11, 12, 13].map((index) => fork.account(index))) as [Signer, Signer, Signer, Signer];
  // Hand the fork's roles to test accounts by impersonating the real role holders.
  ledgerOperator = Wallet.createRandom();
  owner = await fork.impersonate((await fork.stablecoin.getFunction("owner")()) as string);
  await mined(as(fork.stablecoin, owner).getFunction("setCollateralSigner")(ledgerOperator.address));
  const masterMinter = await fork.impersonate((await fork.stablecoin.getFunction("masterMinter")()) as string);
  await mined(as(fork.stablecoin, masterMinter).getFunction("configureMinter")(await minter.getAddress(), 10n ** 15n));
  // A deployment that requires allotments gets a generous one, so the collateral tests below test the
  // collateral alone; "issuance allotments on the fork" tests the limits.
  const current = await issuance();
  if (current.required) {
    const { allotment, signature } = await signedAllotment(current.issued + 10n ** 12n);
    await mined(as(fork.stablecoin, stranger).getFunction("submitIssuanceAllotment")(allotment, signature));
  }
});
afterAll(() => fork?.close());

describe("the forked deployment", () => {
  it("is the DT stablecoin (2 decimals, tiyn) with supply within the collateral at the fork block", async () => {
    expect(await fork.stablecoin.getFunction("decimals")()).toBe(2n);
    const supply = (await fork.stablecoin.getFunction("totalSupply")({ blockTag: fork.blockNumber })) as bigint;
    const [collateral] = (await fork.stablecoin.getFunction("latestCollateralStatement")({ blockTag: fork.blockNumber })) as [bigint];
    expect(supply).toBeLessThanOrEqual(collateral);
    if (process.env["FORK_EXPECTED_CHAIN_ID"]) expect(fork.chainId).toBe(Number(process.env["FORK_EXPECTED_CHAIN_ID"]));
    if (process.env["FORK_EXPECTED_TOTAL_SUPPLY"]) {
      // run.ts minted more after the fork block: the fork must not see it.
      expect(supply).toBe(BigInt(process.env["FORK_EXPECTED_TOTAL_SUPPLY"]));
    }
  });
});

describe("stablecoin on the fork", () => {
  it("mints with a fresh signed statement in one transaction, and never beyond it", async () => {
    const supply = (await fork.stablecoin.getFunction("totalSupply")()) as bigint;
    const { statement, signature } = await signedStatement(supply + 1_000_000n);
    const token = as(fork.stablecoin, minter);
    await expectRevert(token.getFunction("mintWithCollateralStatement")(statement, signature, await alice.getAddress(), 1_000_001n), "CollateralExceeded");
    await mined(token.getFunction("mintWithCollateralStatement")(statement, signature, await alice.getAddress(), 600_000n));
    expect(await fork.stablecoin.getFunction("balanceOf")(await alice.getAddress())).toBe(600_000n);
    await expectRevert(token.getFunction("mint")(await alice.getAddress(), 400_001n), "CollateralExceeded");
    await mined(token.getFunction("mint")(await alice.getAddress(), 400_000n));
  });

  it("refuses a statement signed for the same token address on another chain", async () => {
    // A deployer with the same nonce on two chains gets the same token address on both: the chain id in the
    // EIP-712 domain is what keeps a statement for one from being replayed on the other.
    const supply = (await fork.stablecoin.getFunction("totalSupply")()) as bigint;
    const { statement } = await signedStatement(supply + 1_000_000n);
    const otherChain = poolChains().find((entry) => entry.chainId !== BigInt(fork.chainId))?.chainId ?? BigInt(fork.chainId) + 1n;
    const domain = { name: "Digital Tenge Collateral", version: "1", chainId: otherChain, verifyingContract: fork.addresses.stablecoin };
    const signature = await ledgerOperator.signTypedData(domain, statementTypes, statement);
    await expectRevert(as(fork.stablecoin, stranger).getFunction("submitCollateralStatement")(statement, signature), "CollateralSignatureInvalid");
  });

  it("refuses a mint once the statement is stale", async () => {
    const supply = (await fork.stablecoin.getFunction("totalSupply")()) as bigint;
    const { statement, signature } = await signedStatement(supply + 100n);
    await mined(as(fork.stablecoin, stranger).getFunction("submitCollateralStatement")(statement, signature));
    await fork.advance(Number(await fork.stablecoin.getFunction("maxStatementAge")()) + 1);
    await expectRevert(as(fork.stablecoin, minter).getFunction("mint")(await alice.getAddress(), 1n), "CollateralStatementStale");
  });

  it("transfers between holders", async () => {
    await mined(as(fork.stablecoin, alice).getFunction("transfer")(await bob.getAddress(), 250_000n));
    expect(await fork.stablecoin.getFunction("balanceOf")(await bob.getAddress())).toBe(250_000n);
  });

  it("redeems: burns and names the DT account to pay", async () => {
    const before = (await fork.stablecoin.getFunction("totalSupply")()) as bigint;
    const receipt = await mined(as(fork.stablecoin, bob).getFunction("redeem")(50_000n, "KZ-DA-EXCHANGE-0042"));
    const redeemed = receipt.logs.map((log) => fork.stablecoin.interface.parseLog(log)).find((log) => log?.name === "Redeemed");
    expect(redeemed?.args.toObject()).toEqual({ holder: await bob.getAddress(), amount: 50_000n, dtAccount: "KZ-DA-EXCHANGE-0042" });
    expect(await fork.stablecoin.getFunction("totalSupply")()).toBe(before - 50_000n);
  });

  it("takes a redemption off the collateral until a statement shows it paid out", async () => {
    const supply = (await fork.stablecoin.getFunction("totalSupply")()) as bigint;
    const redeemed = (await fork.stablecoin.getFunction("totalRedeemed")()) as bigint;
    const token = as(fork.stablecoin, minter);
    // Signed before the 50,000 tiyn just redeemed were paid: the wallet still holds them, so they do not count.
    const unpaid = await signedStatement(supply + 50_000n, redeemed - 50_000n);
    await mined(as(fork.stablecoin, stranger).getFunction("submitCollateralStatement")(unpaid.statement, unpaid.signature));
    expect(await fork.stablecoin.getFunction("mintableAmount")()).toBe(0n);
    await expectRevert(token.getFunction("mint")(await alice.getAddress(), 1n), "CollateralExceeded");
    // Once shown paid out they count again; a later redemption frees nothing, its DT is about to leave.
    const paid = await signedStatement(supply + 10_000n, redeemed);
    await mined(as(fork.stablecoin, stranger).getFunction("submitCollateralStatement")(paid.statement, paid.signature));
    expect(await fork.stablecoin.getFunction("mintableAmount")()).toBe(10_000n);
    await mined(as(fork.stablecoin, bob).getFunction("redeem")(4_000n, "KZ-DA-EXCHANGE-0042"));
    expect(await fork.stablecoin.getFunction("mintableAmount")()).toBe(10_000n);
  });
});

describe("HTLC on the fork", () => {
  const lock = async (amount: bigint, expiresIn: bigint) => {
    const preimage = hexlify(randomBytes(32));
    const hashLock = sha256(preimage);
    const salt = hexlify(randomBytes(32));
    const expiry = (await fork.now()) + expiresIn;
    await mined(as(fork.stablecoin, alice).getFunction("approve")(fork.addresses.htlc, amount));
    await mined(as(fork.htlc, alice).getFunction("lock")(salt, await bob.getAddress(), fork.addresses.stablecoin, amount, hashLock, expiry));
    const id = (await fork.htlc.getFunction("swapId")(await alice.getAddress(), salt)) as string;
    const terms = { sender: await alice.getAddress(), receiver: await bob.getAddress(), token: fork.addresses.stablecoin, amount, hashLock, expiry };
    return { id, terms, preimage };
  };

  it("locks and lets anyone claim for the receiver with the preimage, which the event reveals", async () => {
    const bobBefore = (await fork.stablecoin.getFunction("balanceOf")(await bob.getAddress())) as bigint;
    const { id, terms, preimage } = await lock(10_000n, 3_600n);
    const receipt = await mined(as(fork.htlc, stranger).getFunction("claim")(id, terms, preimage));
    const claimed = receipt.logs.map((log) => fork.htlc.interface.parseLog(log)).find((log) => log?.name === "Claimed");
    expect(claimed?.args.getValue("preimage")).toBe(preimage);
    expect(await fork.stablecoin.getFunction("balanceOf")(await bob.getAddress())).toBe(bobBefore + 10_000n);
    await expectRevert(as(fork.htlc, stranger).getFunction("claim")(id, terms, preimage), "SwapNotLocked");
  });

  it("refunds the sender from the expiry on, and not before", async () => {
    const aliceBefore = (await fork.stablecoin.getFunction("balanceOf")(await alice.getAddress())) as bigint;
    const { id, terms, preimage } = await lock(7_000n, 600n);
    await expectRevert(as(fork.htlc, stranger).getFunction("refund")(id, terms), "SwapNotExpired");
    await fork.advance(600);
    await expectRevert(as(fork.htlc, bob).getFunction("claim")(id, terms, preimage), "SwapExpired");
    await mined(as(fork.htlc, stranger).getFunction("refund")(id, terms));
    expect(await fork.stablecoin.getFunction("balanceOf")(await alice.getAddress())).toBe(aliceBefore);
  });
});

describe("issuance allotments on the fork (one pool, several chains)", () => {
  const otherChain = () => poolChains().find((entry) => entry.chainId !== BigInt(fork.chainId))?.chainId ?? BigInt(fork.chainId) + 1n;
  const submit = (signed: { allotment: unknown; signature: string }) => as(fork.stablecoin, stranger).getFunction("submitIssuanceAllotment")(signed.allotment, signed.signature);
  const freshStatement = async (room: bigint) => {
    const supply = (await fork.stablecoin.getFunction("totalSupply")()) as bigint;
    const { statement, signature } = await signedStatement(supply + room);
    await mined(as(fork.stablecoin, stranger).getFunction("submitCollateralStatement")(statement, signature));
  };

  beforeAll(async () => {
    // The owner turns allotments on (one-way) where the deployment did not: the multi-chain setting.
    if (!(await issuance()).required) await mined(as(fork.stablecoin, owner).getFunction("requireIssuanceAllotments")());
  });

  it("mints up to this chain's limit, never beyond, however much collateral the statement shows", async () => {
    await freshStatement(10_000_000n);
    const { issued } = await issuance();
    await mined(submit(await signedAllotment(issued + 300_000n)));
    expect((await issuance()).issuanceLimit).toBe(issued + 300_000n);
    expect(await fork.stablecoin.getFunction("mintableAmount")()).toBe(300_000n);
    const token = as(fork.stablecoin, minter);
    await expectRevert(token.getFunction("mint")(await alice.getAddress(), 300_001n), "IssuanceLimitExceeded");
    await mined(token.getFunction("mint")(await alice.getAddress(), 300_000n));
    await expectRevert(token.getFunction("mint")(await alice.getAddress(), 1n), "IssuanceLimitExceeded");
  });

  it("refuses an older allotment, one for another token or without this chain, one beyond the pool, one not signed by the operator", async () => {
    const { issued, sequence } = await issuance();
    await expectRevert(submit(await signedAllotment(issued + 1n, { sequence })), "AllotmentSequenceNotIncreasing");
    const own = BigInt(fork.chainId);
    const wrongToken = poolChains().map((entry) => ({ ...entry, token: entry.chainId === own ? fork.addresses.htlc : entry.token, issuanceLimit: 0n }));
    await expectRevert(submit(await signedAllotment(0n, { chains: wrongToken })), "AllotmentTokenMismatch");
    const withoutThisChain = [{ chainId: otherChain(), token: fork.addresses.stablecoin, issuanceLimit: 0n }];
    await expectRevert(submit(await signedAllotment(0n, { chains: withoutThisChain })), "AllotmentMissingChain");
    const beyond = await signedAllotment(issued + 1_000n);
    beyond.allotment.credited -= 1n;
    beyond.signature = await ledgerOperator.signTypedData({ name: "Digital Tenge Issuance Allotment", version: "1" }, allotmentTypes, beyond.allotment);
    await expectRevert(submit(beyond), "AllotmentExceedsPool");
    await expectRevert(submit(await signedAllotment(issued + 1_000n, { signer: Wallet.createRandom() })), "AllotmentSignatureInvalid");
    expect((await issuance()).sequence).toBe(sequence);
  });

  it("moves out to another chain: burns, counts it moved, and gives no room back here", async () => {
    const before = await issuance();
    const supply = (await fork.stablecoin.getFunction("totalSupply")()) as bigint;
    const movedOut = (await fork.stablecoin.getFunction("totalMovedOut")()) as bigint;
    const holder = as(fork.stablecoin, alice);
    await expectRevert(holder.getFunction("moveOut")(1_000n, BigInt(fork.chainId), await bob.getAddress()), "MoveDestinationInvalid");
    const receipt = await mined(holder.getFunction("moveOut")(120_000n, otherChain(), await bob.getAddress()));
    const event = receipt.logs.map((log) => fork.stablecoin.interface.parseLog(log)).find((log) => log?.name === "MovedOut");
    expect(event?.args.toObject()).toEqual({ holder: await alice.getAddress(), amount: 120_000n, destinationChainId: otherChain(), recipient: await bob.getAddress() });
    expect(await fork.stablecoin.getFunction("totalSupply")()).toBe(supply - 120_000n);
    expect(await fork.stablecoin.getFunction("totalMovedOut")()).toBe(movedOut + 120_000n);
    expect((await issuance()).issued).toBe(before.issued);
  });

  it("mints what another chain moved here once an allotment moves the limit to this chain", async () => {
    await freshStatement(1_000_000n);
    const { issued, issuanceLimit } = await issuance();
    await expectRevert(as(fork.stablecoin, minter).getFunction("mint")(await bob.getAddress(), 80_000n), "IssuanceLimitExceeded");
    // The ledger allots a final burn of 80,000 tiyn on the other chain to this one: `moved` grows the pool.
    await mined(submit(await signedAllotment(issuanceLimit + 80_000n, { moved: 80_000n })));
    const bobBefore = (await fork.stablecoin.getFunction("balanceOf")(await bob.getAddress())) as bigint;
    await mined(as(fork.stablecoin, minter).getFunction("mint")(await bob.getAddress(), 80_000n));
    expect(await fork.stablecoin.getFunction("balanceOf")(await bob.getAddress())).toBe(bobBefore + 80_000n);
    expect((await issuance()).issued).toBe(issued + 80_000n);
  });
});
