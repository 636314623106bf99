import { getAddress, getContract, parseEventLogs, sha256, toHex, zeroAddress, type Address, type Hex, type PrivateKeyAccount } from "viem";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  demoForeignCbdcAbi,
  demoForeignCbdcBytecode,
  hashTimeLockAbi,
  hashTimeLockBytecode,
} from "../../src/evm/generated/contracts.ts";
import { reentrantTokenAbi, reentrantTokenBytecode } from "./generated/fixtures.ts";
import { hashLockOf } from "../../src/core/hash-lock.ts";
import { hashTimeLockSwapId, type HashTimeLockTerms } from "../../src/evm/hash-time-lock.ts";
import { confirmed, createTestChain, expectRevert, type TestChain } from "./support/chain.ts";

let chain: TestChain;
let clean: Hex;
let htlc: Address;
let cbdc: Address;
let issuer: PrivateKeyAccount, sender: PrivateKeyAccount, receiver: PrivateKeyAccount, stranger: PrivateKeyAccount;

const State = { Unknown: 0, Locked: 1, Claimed: 2, Refunded: 3 } as const;
const preimage = toHex(0x5ec2e7n, { size: 32 });
const hashLock = hashLockOf(preimage);

const htlcAs = (account: PrivateKeyAccount) =>
  // The token's errors are in the ABI too, so reverts raised inside the token decode.
  getContract({ address: htlc, abi: [...hashTimeLockAbi, ...demoForeignCbdcAbi], client: { public: chain.publicClient, wallet: chain.wallet(account) } });
const balanceOf = (account: Address) =>
  chain.publicClient.readContract({ address: cbdc, abi: demoForeignCbdcAbi, functionName: "balanceOf", args: [account] });

beforeAll(async () => {
  chain = await createTestChain();
  [issuer, sender, receiver, stranger] = chain.accounts as [PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount];
  htlc = getAddress((await confirmed(chain, chain.wallet(issuer).deployContract({ abi: hashTimeLockAbi, bytecode: hashTimeLockBytecode }))).contractAddress!);
  cbdc = getAddress((await confirmed(chain, chain.wallet(issuer).deployContract({
    abi: demoForeignCbdcAbi, bytecode: demoForeignCbdcBytecode, args: ["Foreign CBDC", "FCBDC", 2, issuer.address],
  }))).contractAddress!);
  await confirmed(chain, chain.wallet(issuer).writeContract({ address: cbdc, abi: demoForeignCbdcAbi, functionName: "issue", args: [sender.address, 1_000_000n] }));
  await confirmed(chain, chain.wallet(sender).writeContract({ address: cbdc, abi: demoForeignCbdcAbi, functionName: "approve", args: [htlc, 2n ** 256n - 1n] }));
  clean = await chain.snapshot();
});
afterAll(() => chain.close());
beforeEach(async () => {
  await chain.revert(clean);
  clean = await chain.snapshot();
});

let saltCounter = 0n;
async function lock(overrides: Partial<HashTimeLockTerms> = {}, salt: Hex = toHex(++saltCounter, { size: 32 })) {
  const terms: HashTimeLockTerms = {
    sender: sender.address,
    receiver: receiver.address,
    token: cbdc,
    amount: 5_000n,
    hashLock,
    expiry: (await chain.now()) + 3_600n,
    ...overrides,
  };
  const receipt = await confirmed(
    chain,
    htlcAs(sender).write.lock([salt, terms.receiver, terms.token, terms.amount, terms.hashLock, terms.expiry]),
  );
  return { id: hashTimeLockSwapId(sender.address, salt), terms, receipt, salt };
}

describe("lock", () => {
  it("takes the amount into the contract, commits to the terms and announces them", async () => {
    const { id, terms, receipt } = await lock();
    expect(await balanceOf(htlc)).toBe(5_000n);
    expect(await balanceOf(sender.address)).toBe(995_000n);
    expect(await htlcAs(stranger).read.swapState([id])).toBe(State.Locked);
    expect(await htlcAs(stranger).read.matchesLockedTerms([id, terms])).toBe(true);
    expect(await htlcAs(stranger).read.matchesLockedTerms([id, { ...terms, amount: 1n }])).toBe(false);
    const [event] = parseEventLogs({ abi: hashTimeLockAbi, logs: receipt.logs, eventName: "Locked" });
    expect(event?.args).toEqual({ id, hashLock, sender: sender.address, receiver: receiver.address, token: cbdc, amount: 5_000n, expiry: terms.expiry });
  });

  it("derives the id from the sender and its salt, as swapId() and the gateway compute it", async () => {
    const salt = toHex(77n, { size: 32 });
    expect(await htlcAs(stranger).read.swapId([sender.address, salt])).toBe(hashTimeLockSwapId(sender.address, salt));
    const { id } = await lock({}, salt);
    expect(id).toBe(hashTimeLockSwapId(sender.address, salt));
  });

  it("cannot lock the same id twice (a retried lock is refused), even after settlement", async () => {
    const salt = toHex(78n, { size: 32 });
    const { id, terms } = await lock({}, salt);
    await expectRevert(lock({}, salt), "SwapIdTaken", [id]);
    await confirmed(chain, htlcAs(stranger).write.claim([id, terms, preimage]));
    await expectRevert(lock({}, salt), "SwapIdTaken", [id]);
  });

  it("another sender using the same salt gets another id (nobody can squat an id)", async () => {
    const salt = toHex(79n, { size: 32 });
    await confirmed(chain, chain.wallet(issuer).writeContract({ address: cbdc, abi: demoForeignCbdcAbi, functionName: "issue", args: [stranger.address, 10n] }));
    await confirmed(chain, chain.wallet(stranger).writeContract({ address: cbdc, abi: demoForeignCbdcAbi, functionName: "approve", args: [htlc, 10n] }));
    await confirmed(chain, htlcAs(stranger).write.lock([salt, receiver.address, cbdc, 10n, hashLock, (await chain.now()) + 60n]));
    const { id } = await lock({}, salt);
    expect(id).not.toBe(hashTimeLockSwapId(stranger.address, salt));
  });

  it("refuses unusable terms and past expiries", async () => {
    await expectRevert(lock({ receiver: zeroAddress }), "SwapTermsInvalid");
    await expectRevert(lock({ token: zeroAddress }), "SwapTermsInvalid");
    await expectRevert(lock({ amount: 0n }), "SwapTermsInvalid");
    await expectRevert(lock({ hashLock: toHex(0n, { size: 32 }) }), "SwapTermsInvalid");
    const now = await chain.now();
    await expectRevert(lock({ expiry: now }), "ExpiryNotInFuture");
  });

  it("fails when the sender has not approved or cannot pay", async () => {
    await expectRevert(lock({ amount: 2_000_000n }), "ERC20InsufficientBalance");
  });
});

describe("claim", () => {
  it("pays the receiver even when a stranger submits it, and publishes the preimage", async () => {
    const { id, terms } = await lock();
    const receipt = await confirmed(chain, htlcAs(stranger).write.claim([id, terms, preimage]));
    expect(await balanceOf(receiver.address)).toBe(5_000n);
    expect(await balanceOf(stranger.address)).toBe(0n);
    expect(await balanceOf(htlc)).toBe(0n);
    expect(await htlcAs(stranger).read.swapState([id])).toBe(State.Claimed);
    const [event] = parseEventLogs({ abi: hashTimeLockAbi, logs: receipt.logs, eventName: "Claimed" });
    expect(event?.args).toEqual({ id, hashLock, receiver: receiver.address, preimage });
  });

  it("fails with a wrong preimage", async () => {
    const { id, terms } = await lock();
    await expectRevert(htlcAs(receiver).write.claim([id, terms, toHex(1n, { size: 32 })]), "PreimageMismatch", [id]);
  });

  it("fails with a 31- or 33-byte preimage, even one whose SHA-256 is the hash-lock", async () => {
    const short = toHex(7n, { size: 31 });
    const long = toHex(7n, { size: 33 });
    for (const odd of [short, long]) {
      // The hash-lock is made from the odd-sized secret itself: only the length rule stops it.
      const { id, terms } = await lock({ hashLock: sha256(odd) });
      await expectRevert(htlcAs(receiver).write.claim([id, terms, odd]), "PreimageLengthInvalid", [BigInt((odd.length - 2) / 2)]);
    }
  });

  it("fails from the expiry on", async () => {
    const { id, terms } = await lock({ expiry: (await chain.now()) + 100n });
    await chain.testClient.setNextBlockTimestamp({ timestamp: terms.expiry });
    await chain.testClient.mine({ blocks: 1 });
    await expectRevert(htlcAs(receiver).write.claim([id, terms, preimage]), "SwapExpired", [id, terms.expiry]);
  });

  it("succeeds in the last second before the expiry", async () => {
    const { id, terms } = await lock({ expiry: (await chain.now()) + 100n });
    await chain.testClient.setNextBlockTimestamp({ timestamp: terms.expiry - 1n });
    await confirmed(chain, htlcAs(receiver).write.claim([id, terms, preimage]));
  });

  it("cannot be repeated, nor followed by a refund", async () => {
    const { id, terms } = await lock({ expiry: (await chain.now()) + 100n });
    await confirmed(chain, htlcAs(receiver).write.claim([id, terms, preimage]));
    await expectRevert(htlcAs(receiver).write.claim([id, terms, preimage]), "SwapNotLocked", [id, State.Claimed]);
    await chain.advance(200);
    await expectRevert(htlcAs(sender).write.refund([id, terms]), "SwapNotLocked", [id, State.Claimed]);
  });

  it("refuses terms that differ from the locked ones (no redirecting the funds)", async () => {
    const { id, terms } = await lock();
    await expectRevert(htlcAs(stranger).write.claim([id, { ...terms, receiver: stranger.address }, preimage]), "SwapTermsMismatch", [id]);
    await expectRevert(htlcAs(stranger).write.claim([id, { ...terms, amount: terms.amount + 1n }, preimage]), "SwapTermsMismatch", [id]);
    await expectRevert(htlcAs(stranger).write.claim([id, { ...terms, expiry: terms.expiry + 1_000n }, preimage]), "SwapTermsMismatch", [id]);
    await expectRevert(htlcAs(stranger).write.claim([toHex(1n, { size: 32 }), terms, preimage]), "SwapNotLocked");
  });
});

describe("refund", () => {
  it("fails before the expiry", async () => {
    const { id, terms } = await lock({ expiry: (await chain.now()) + 100n });
    await chain.testClient.setNextBlockTimestamp({ timestamp: terms.expiry - 1n });
    await expectRevert(htlcAs(sender).write.refund([id, terms]), "SwapNotExpired", [id, terms.expiry]);
  });

  it("returns the funds to the sender from the expiry on, whoever submits it, once", async () => {
    const { id, terms } = await lock({ expiry: (await chain.now()) + 100n });
    await chain.testClient.setNextBlockTimestamp({ timestamp: terms.expiry });
    const receipt = await confirmed(chain, htlcAs(stranger).write.refund([id, terms]));
    expect(await balanceOf(sender.address)).toBe(1_000_000n);
    expect(await balanceOf(stranger.address)).toBe(0n);
    expect(await htlcAs(stranger).read.swapState([id])).toBe(State.Refunded);
    const [event] = parseEventLogs({ abi: hashTimeLockAbi, logs: receipt.logs, eventName: "Refunded" });
    expect(event?.args).toEqual({ id, hashLock, sender: sender.address });
    await expectRevert(htlcAs(stranger).write.refund([id, terms]), "SwapNotLocked", [id, State.Refunded]);
    await expectRevert(htlcAs(receiver).write.claim([id, terms, preimage]), "SwapNotLocked", [id, State.Refunded]);
  });

  it("refuses terms that differ from the locked ones (no redirecting the refund)", async () => {
    const { id, terms } = await lock({ expiry: (await chain.now()) + 10n });
    await chain.advance(20);
    await expectRevert(htlcAs(stranger).write.refund([id, { ...terms, sender: stranger.address }]), "SwapTermsMismatch", [id]);
  });
});

describe("re-entrancy", () => {
  it("a token that calls back into the HTLC during the payout cannot get a second payout", async () => {
    const token = getAddress((await confirmed(chain, chain.wallet(sender).deployContract({ abi: reentrantTokenAbi, bytecode: reentrantTokenBytecode }))).contractAddress!);
    const tokenAs = getContract({ address: token, abi: reentrantTokenAbi, client: { public: chain.publicClient, wallet: chain.wallet(sender) } });
    await confirmed(chain, tokenAs.write.approve([htlc, 10_000n]));
    await confirmed(chain, tokenAs.write.transfer([htlc, 5_000n])); // other swaps' money the attacker would like to take
    const salt = toHex(4242n, { size: 32 });
    const terms = { sender: sender.address, receiver: receiver.address, token, amount: 5_000n, hashLock, expiry: (await chain.now()) + 3_600n };
    await confirmed(chain, htlcAs(sender).write.lock([salt, terms.receiver, token, terms.amount, hashLock, terms.expiry]));
    const id = hashTimeLockSwapId(sender.address, salt);
    await confirmed(chain, tokenAs.write.arm([htlc, id, terms, preimage]));
    await confirmed(chain, htlcAs(stranger).write.claim([id, terms, preimage]));
    expect(await tokenAs.read.reentryAttempted()).toBe(true);
    expect(await tokenAs.read.reentrySucceeded()).toBe(false);
    expect(await tokenAs.read.balanceOf([receiver.address])).toBe(5_000n);
    expect(await tokenAs.read.balanceOf([htlc])).toBe(5_000n);
  });
});

describe("demo foreign CBDC", () => {
  it("is issued and withdrawn by its issuer only", async () => {
    const asStranger = getContract({ address: cbdc, abi: demoForeignCbdcAbi, client: { public: chain.publicClient, wallet: chain.wallet(stranger) } });
    const asIssuer = getContract({ address: cbdc, abi: demoForeignCbdcAbi, client: { public: chain.publicClient, wallet: chain.wallet(issuer) } });
    expect(await asIssuer.read.decimals()).toBe(2);
    await expectRevert(asStranger.write.issue([stranger.address, 1n]), "OwnableUnauthorizedAccount");
    await expectRevert(asStranger.write.withdraw([sender.address, 1n]), "OwnableUnauthorizedAccount");
    await confirmed(chain, asIssuer.write.withdraw([sender.address, 1_000n]));
    expect(await balanceOf(sender.address)).toBe(999_000n);
  });
});
