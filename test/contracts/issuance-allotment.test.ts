import { generatePrivateKey } from "viem/accounts";
import { getAddress, parseEventLogs, type Hex } from "viem";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import {
  AllotmentRefused,
  issuanceAllotmentDigest,
  nextIssuanceAllotment,
  recoverIssuanceAllotmentSigner,
  signIssuanceAllotment,
  type IssuanceAllotment,
} from "../../src/ledger/issuance-allotment.ts";
import { confirmed, expectRevert, type TestChain } from "./support/chain.ts";
import { SEGREGATED_ACCOUNT, type StablecoinFixture } from "./support/stablecoin.ts";
import { CHAIN_A, CHAIN_B, createTwoChains, deployPoolToken, genesisAllotment } from "./support/two-chain-pool.ts";

let chains: readonly [TestChain, TestChain];
let signerKey: Hex;
let a: StablecoinFixture;
let b: StablecoinFixture;
let single: StablecoinFixture;
let clean: [Hex, Hex];

beforeAll(async () => {
  const two = await createTwoChains();
  chains = two.chains;
  signerKey = two.signerKey;
  a = await deployPoolToken(chains[0], signerKey, true);
  b = await deployPoolToken(chains[1], signerKey, true);
  single = await deployPoolToken(chains[0], signerKey, false);
  for (const token of [a, b, single]) await token.configureMinter(token.roles.minter.address, 1_000_000n);
  clean = [await chains[0].snapshot(), await chains[1].snapshot()];
}, 60_000);
afterAll(async () => {
  await chains?.[0].close();
  await chains?.[1].close();
});
beforeEach(async () => {
  for (const index of [0, 1] as const) {
    await chains[index].revert(clean[index]);
    clean[index] = await chains[index].snapshot();
  }
});

/** An allotment of the pool to both chains, signed by the collateral signer unless `key` says otherwise. */
async function allotment(limits: [bigint, bigint], overrides: Partial<IssuanceAllotment> & { key?: Hex } = {}) {
  const { key, ...fields } = overrides;
  const message: IssuanceAllotment = {
    ...genesisAllotment([{ chainId: CHAIN_A, address: a.address }, { chainId: CHAIN_B, address: b.address }]),
    sequence: 1n,
    credited: limits[0] + limits[1],
    timestamp: await chains[0].now(),
    ...fields,
  };
  if (!fields.chains) message.chains = message.chains.map((entry, index) => ({ ...entry, issuanceLimit: limits[index]! }));
  return { message, signature: await signIssuanceAllotment(key ?? signerKey, message) };
}
const submit = (token: StablecoinFixture, signed: { message: IssuanceAllotment; signature: Hex }) =>
  token.tokenAs(token.holders.mallory).write.submitIssuanceAllotment([signed.message, signed.signature]);
const chainOf = (token: StablecoinFixture) => (token === b ? chains[1] : chains[0]);

/** A token with a fresh pool statement for `balance` and the allotment relayed. */
async function funded(token: StablecoinFixture, balance: bigint, signed: { message: IssuanceAllotment; signature: Hex }) {
  await token.submit(await token.statement(balance));
  await confirmed(chainOf(token), submit(token, signed));
}

describe("issuance allotments", () => {
  it("are one EIP-712 message for every chain, the same digest on chain as in TypeScript, and any relayer's", async () => {
    const signed = await allotment([600n, 400n]);
    expect(await a.token.read.issuanceAllotmentDigest([signed.message])).toBe(issuanceAllotmentDigest(signed.message));
    expect(await b.token.read.issuanceAllotmentDigest([signed.message])).toBe(issuanceAllotmentDigest(signed.message));
    expect(await recoverIssuanceAllotmentSigner(signed.message, signed.signature)).toBe(a.signer.address);
    const receipt = await confirmed(chains[1], submit(b, signed));
    const [event] = parseEventLogs({ abi: tengeStablecoinAbi, logs: receipt.logs, eventName: "IssuanceAllotmentAccepted" });
    expect(event?.args).toEqual({ sequence: 1n, issuanceLimit: 400n, credited: 1_000n, moved: 0n });
    expect(await b.token.read.issuance()).toEqual([0n, 400n, 1n, true]);
  });

  it("bind each chain inside the message: no entry for this chain, or another token in it, is refused", async () => {
    const onlyA = await allotment([0n, 0n], { credited: 500n, chains: [{ chainId: BigInt(CHAIN_A), token: a.address, issuanceLimit: 500n }] });
    await expectRevert(submit(b, onlyA), "AllotmentMissingChain", [BigInt(CHAIN_B)]);
    const wrongToken = await allotment([0n, 0n], { credited: 500n, chains: [{ chainId: BigInt(CHAIN_B), token: single.address, issuanceLimit: 500n }] });
    await expectRevert(submit(b, wrongToken), "AllotmentTokenMismatch", [getAddress(single.address)]);
    expect(await b.token.read.issuance()).toEqual([0n, 0n, 0n, true]);
  });

  it("are refused when older, forged, for another account, unordered or adding up to more than the pool", async () => {
    await confirmed(chains[0], submit(a, await allotment([100n, 0n], { sequence: 2n })));
    await expectRevert(submit(a, await allotment([900n, 0n], { sequence: 2n })), "AllotmentSequenceNotIncreasing", [2n, 2n]);
    await expectRevert(submit(a, await allotment([900n, 0n], { sequence: 1n })), "AllotmentSequenceNotIncreasing", [1n, 2n]);
    await expectRevert(submit(a, await allotment([900n, 0n], { sequence: 3n, key: generatePrivateKey() })), "AllotmentSignatureInvalid");
    await expectRevert(submit(a, await allotment([900n, 0n], { sequence: 3n, account: "KZ-DA-OTHER" })), "AllotmentAccountMismatch", ["KZ-DA-OTHER"]);
    const reversed = await allotment([0n, 0n], {
      sequence: 3n,
      credited: 2n,
      chains: [{ chainId: BigInt(CHAIN_B), token: b.address, issuanceLimit: 1n }, { chainId: BigInt(CHAIN_A), token: a.address, issuanceLimit: 1n }],
    });
    await expectRevert(submit(a, reversed), "AllotmentChainsUnordered", [BigInt(CHAIN_A)]);
    // Even the operator's own signature does not make limits beyond the pool acceptable.
    await expectRevert(submit(a, await allotment([600n, 600n], { sequence: 3n, credited: 1_000n, moved: 100n })), "AllotmentExceedsPool", [1_200n, 1_100n]);
    expect(await a.token.read.issuance()).toEqual([0n, 100n, 2n, true]);
  });
});

describe("mints under an allotment", () => {
  it("need the chain's limit once required: none accepted means no mint, and nothing is written", async () => {
    await a.submit(await a.statement(1_000n));
    await expectRevert(a.mint(a.holders.alice.address, 1n), "IssuanceLimitExceeded", [1n, 0n]);
    expect(await a.token.read.totalSupply()).toBe(0n);
    expect(await a.token.read.minterAllowance([a.roles.minter.address])).toBe(1_000_000n);
  });

  it("stop at the limit even when the whole pool would cover more, and mintableAmount says so", async () => {
    await funded(a, 1_000n, await allotment([600n, 400n]));
    expect(await a.token.read.mintableAmount()).toBe(600n);
    await a.mint(a.holders.alice.address, 600n);
    await expectRevert(a.mint(a.holders.alice.address, 1n), "IssuanceLimitExceeded", [601n, 600n]);
    expect(await a.token.read.totalSupply()).toBe(600n);
  });

  it("do not get the room of a redemption or a move back; a minter's own burn gives it back", async () => {
    await funded(a, 1_000n, await allotment([1_000n, 0n]));
    await a.mint(a.holders.alice.address, 700n);
    await a.mint(a.roles.minter.address, 300n);
    await confirmed(chains[0], a.tokenAs(a.holders.alice).write.redeem([100n, "KZ-DA-EXCHANGE-0001"]));
    const moved = await confirmed(chains[0], a.tokenAs(a.holders.alice).write.moveOut([200n, BigInt(CHAIN_B), a.holders.bob.address]));
    const [event] = parseEventLogs({ abi: tengeStablecoinAbi, logs: moved.logs, eventName: "MovedOut" });
    expect(event?.args).toEqual({ holder: a.holders.alice.address, amount: 200n, destinationChainId: BigInt(CHAIN_B), recipient: a.holders.bob.address });
    expect(await a.token.read.totalMovedOut()).toBe(200n);
    expect(await a.token.read.issuance()).toEqual([1_000n, 1_000n, 1n, true]);
    await expectRevert(a.mint(a.holders.alice.address, 1n), "IssuanceLimitExceeded", [1_001n, 1_000n]);
    await confirmed(chains[0], a.tokenAs(a.roles.minter).write.burn([300n]));
    expect(await a.token.read.issuance()).toEqual([700n, 1_000n, 1n, true]);
    await a.mint(a.holders.alice.address, 300n);
  });

  it("move room from one chain to another only by a burn on the first and a newer allotment", async () => {
    await funded(a, 1_000n, await allotment([1_000n, 0n]));
    await a.mint(a.holders.alice.address, 1_000n);
    await confirmed(chains[0], a.tokenAs(a.holders.alice).write.moveOut([250n, BigInt(CHAIN_B), a.holders.alice.address]));
    // The ledger credits the final burn to chain B.
    const afterMove = await allotment([1_000n, 250n], { sequence: 2n, credited: 1_000n, moved: 250n });
    await funded(b, 1_000n, afterMove);
    await b.mint(b.holders.alice.address, 250n);
    await expectRevert(b.mint(b.holders.alice.address, 1n), "IssuanceLimitExceeded", [251n, 250n]);
    // Chain A, with the old allotment or the new, cannot re-issue what left it.
    await expectRevert(a.mint(a.holders.alice.address, 1n), "IssuanceLimitExceeded", [1_001n, 1_000n]);
    await confirmed(chains[0], submit(a, afterMove));
    await expectRevert(a.mint(a.holders.alice.address, 1n), "IssuanceLimitExceeded", [1_001n, 1_000n]);
    expect((await a.token.read.totalSupply()) + (await b.token.read.totalSupply())).toBe(1_000n);
  });

  it("are forgotten with the collateral signer: the new signer's first allotment decides", async () => {
    await funded(a, 1_000n, await allotment([1_000n, 0n]));
    await confirmed(chains[0], a.token.write.setCollateralSigner([a.holders.carol.address]));
    expect(await a.token.read.issuance()).toEqual([0n, 0n, 1n, true]);
  });
});

describe("the multi-chain switch and moves", () => {
  it("only the owner may require allotments, once and for good", async () => {
    await expectRevert(single.tokenAs(single.holders.mallory).write.requireIssuanceAllotments(), "OwnableUnauthorizedAccount");
    await expectRevert(single.tokenAs(single.roles.masterMinter).write.requireIssuanceAllotments(), "OwnableUnauthorizedAccount");
    expect((await single.token.read.issuance())[3]).toBe(false);
    const receipt = await confirmed(chains[0], single.token.write.requireIssuanceAllotments());
    expect(parseEventLogs({ abi: tengeStablecoinAbi, logs: receipt.logs, eventName: "IssuanceAllotmentsRequired" })).toHaveLength(1);
  });

  it("a single-chain token counts what it issues without a limit, so it can join a pool later", async () => {
    await single.submit(await single.statement(1_000n));
    await single.mint(single.holders.alice.address, 800n);
    expect(await single.token.read.issuance()).toEqual([800n, 0n, 0n, false]);
    // Moving out of a token that checks only the pool would free room on it: refused.
    await expectRevert(single.tokenAs(single.holders.alice).write.moveOut([1n, BigInt(CHAIN_B), single.holders.alice.address]), "MovesNeedAllotments");
  });

  it("a move names another chain and a receiver, and burns only the mover's own tokens", async () => {
    await funded(a, 1_000n, await allotment([1_000n, 0n]));
    await a.mint(a.holders.alice.address, 10n);
    const alice = a.tokenAs(a.holders.alice);
    await expectRevert(alice.write.moveOut([1n, BigInt(CHAIN_A), a.holders.alice.address]), "MoveDestinationInvalid", [BigInt(CHAIN_A), a.holders.alice.address]);
    await expectRevert(alice.write.moveOut([1n, 0n, a.holders.alice.address]), "MoveDestinationInvalid");
    await expectRevert(alice.write.moveOut([1n, BigInt(CHAIN_B), "0x0000000000000000000000000000000000000000"]), "MoveDestinationInvalid");
    await expectRevert(alice.write.moveOut([0n, BigInt(CHAIN_B), a.holders.alice.address]), "AmountZero");
    await expectRevert(a.tokenAs(a.holders.mallory).write.moveOut([1n, BigInt(CHAIN_B), a.holders.mallory.address]), "ERC20InsufficientBalance");
    expect(await a.token.read.totalMovedOut()).toBe(0n);
    expect(await a.token.read.balanceOf([a.holders.alice.address])).toBe(10n);
  });
});

describe("the ledger's rule for the next allotment", () => {
  const genesis = genesisAllotment([
    { chainId: CHAIN_A, address: "0x00000000000000000000000000000000000000aa" },
    { chainId: CHAIN_B, address: "0x00000000000000000000000000000000000000bb" },
  ]);
  const at = { height: 7n, timestamp: 1_800_000_000n };

  it("raises the credited chain's limit, and a final move's destination, with the sequence", () => {
    const credited = nextIssuanceAllotment(genesis, { kind: "credit", chainId: BigInt(CHAIN_A), amount: 500n, credited: 500n }, at);
    expect(credited).toMatchObject({ sequence: 1n, credited: 500n, moved: 0n, account: SEGREGATED_ACCOUNT });
    expect(credited.chains.map((entry) => entry.issuanceLimit)).toEqual([500n, 0n]);
    const moved = nextIssuanceAllotment(credited, { kind: "move", from: BigInt(CHAIN_A), to: BigInt(CHAIN_B), amount: 200n }, at);
    expect(moved).toMatchObject({ sequence: 2n, credited: 500n, moved: 200n });
    expect(moved.chains.map((entry) => entry.issuanceLimit)).toEqual([500n, 200n]);
    // A move that cannot complete is refunded on its source chain instead.
    const refunded = nextIssuanceAllotment(credited, { kind: "move", from: BigInt(CHAIN_A), to: BigInt(CHAIN_A), amount: 200n }, at);
    expect(refunded.chains.map((entry) => entry.issuanceLimit)).toEqual([700n, 0n]);
    const added = nextIssuanceAllotment(moved, { kind: "addChain", chainId: 56n, token: "0x00000000000000000000000000000000000000cc" }, at);
    expect(added.chains.map((entry) => entry.chainId)).toEqual([56n, BigInt(CHAIN_A), BigInt(CHAIN_B)]);
  });

  it("refuses limits beyond the pool, unknown chains and empty moves", () => {
    const refused = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(AllotmentRefused);
        return (error as AllotmentRefused).code;
      }
      throw new Error("expected a refusal");
    };
    expect(refused(() => nextIssuanceAllotment(genesis, { kind: "credit", chainId: BigInt(CHAIN_A), amount: 501n, credited: 500n }, at))).toBe("ALLOTMENT_EXCEEDS_POOL");
    expect(refused(() => nextIssuanceAllotment(genesis, { kind: "credit", chainId: 56n, amount: 1n, credited: 1n }, at))).toBe("ALLOTMENT_UNKNOWN_CHAIN");
    expect(refused(() => nextIssuanceAllotment(genesis, { kind: "move", from: BigInt(CHAIN_A), to: BigInt(CHAIN_B), amount: 0n }, at))).toBe("ALLOTMENT_INVALID");
    expect(refused(() => nextIssuanceAllotment(genesis, { kind: "move", from: BigInt(CHAIN_A), to: 56n, amount: 1n }, at))).toBe("ALLOTMENT_UNKNOWN_CHAIN");
    expect(refused(() => nextIssuanceAllotment(genesis, { kind: "addChain", chainId: BigInt(CHAIN_A), token: "0x00000000000000000000000000000000000000aa" }, at))).toBe("ALLOTMENT_INVALID");
  });
});
