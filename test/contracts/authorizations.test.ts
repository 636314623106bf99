import { hashTypedData, parseSignature, type Hex } from "viem";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { contractWalletAbi, contractWalletBytecode } from "./generated/fixtures.ts";
import { freshNonce, signCancelAuthorization, signPermit, signTransferAuthorization, tokenDomain } from "./support/authorizations.ts";
import { confirmed, createTestChain, expectRevert, type TestChain } from "./support/chain.ts";
import { deployStablecoin, TOKEN_NAME, type StablecoinFixture } from "./support/stablecoin.ts";

let chain: TestChain;
let s: StablecoinFixture;
let clean: Hex;
let domain: ReturnType<typeof tokenDomain>;

beforeAll(async () => {
  chain = await createTestChain();
  s = await deployStablecoin(chain);
  domain = tokenDomain(chain.chainId, s.address, TOKEN_NAME);
  await s.fund(10n ** 9n);
  await s.mint(s.holders.alice.address, 1_000_000n);
  clean = await chain.snapshot();
});
afterAll(() => chain.close());
beforeEach(async () => {
  await chain.revert(clean);
  clean = await chain.snapshot();
});

const split = (signature: Hex) => {
  const { v, r, s: sPart } = parseSignature(signature);
  return [Number(v), r, sPart] as const;
};

describe("EIP-2612 permit", () => {
  it("sets an allowance from the owner's signature, submitted by anyone, once", async () => {
    const { alice, bob, carol } = s.holders;
    const deadline = (await chain.now()) + 600n;
    expect(await s.token.read.DOMAIN_SEPARATOR()).toMatch(/^0x[0-9a-f]{64}$/);
    const signature = await signPermit(alice, domain, { owner: alice.address, spender: bob.address, value: 700n, nonce: 0n, deadline });
    const args = [alice.address, bob.address, 700n, deadline, ...split(signature)] as const;
    await confirmed(chain, s.tokenAs(carol).write.permit(args));
    expect(await s.token.read.allowance([alice.address, bob.address])).toBe(700n);
    expect(await s.token.read.nonces([alice.address])).toBe(1n);
    await expectRevert(s.tokenAs(carol).write.permit(args), "PermitSignatureInvalid");
  });

  it("refuses expired permits and signatures by someone else", async () => {
    const { alice, bob } = s.holders;
    const now = await chain.now();
    const expired = await signPermit(alice, domain, { owner: alice.address, spender: bob.address, value: 1n, nonce: 0n, deadline: now });
    await expectRevert(s.tokenAs(bob).write.permit([alice.address, bob.address, 1n, now, ...split(expired)]), "PermitExpired", [now]);
    const forged = await signPermit(bob, domain, { owner: alice.address, spender: bob.address, value: 1n, nonce: 0n, deadline: now + 600n });
    await expectRevert(s.tokenAs(bob).write.permit([alice.address, bob.address, 1n, now + 600n, ...split(forged)]), "PermitSignatureInvalid");
  });

  it("refuses while paused or when a party is blocklisted", async () => {
    const { alice, bob } = s.holders;
    const deadline = (await chain.now()) + 600n;
    const signature = await signPermit(alice, domain, { owner: alice.address, spender: bob.address, value: 1n, nonce: 0n, deadline });
    await confirmed(chain, s.tokenAs(s.roles.blocklister).write.blocklist([bob.address]));
    await expectRevert(s.tokenAs(alice).write.permit([alice.address, bob.address, 1n, deadline, signature]), "AccountBlocklisted");
    await confirmed(chain, s.tokenAs(s.roles.pauser).write.pause());
    await expectRevert(s.tokenAs(alice).write.permit([alice.address, bob.address, 1n, deadline, signature]), "EnforcedPause");
  });
});

describe("EIP-3009 transfer authorizations", () => {
  const authorization = async (value = 300n) => ({
    from: s.holders.alice.address,
    to: s.holders.bob.address,
    value,
    validAfter: 0n,
    validBefore: (await chain.now()) + 600n,
    nonce: freshNonce(),
  });
  const argsOf = (a: Awaited<ReturnType<typeof authorization>>) =>
    [a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce] as const;

  it("transferWithAuthorization moves funds once, submitted by anyone, and marks the nonce used", async () => {
    const a = await authorization();
    const signature = await signTransferAuthorization(s.holders.alice, domain, "TransferWithAuthorization", a);
    expect(await s.token.read.authorizationState([a.from, a.nonce])).toBe(false);
    await confirmed(chain, s.tokenAs(s.holders.carol).write.transferWithAuthorization([...argsOf(a), ...split(signature)]));
    expect(await s.token.read.balanceOf([a.to])).toBe(300n);
    expect(await s.token.read.authorizationState([a.from, a.nonce])).toBe(true);
    await expectRevert(
      s.tokenAs(s.holders.carol).write.transferWithAuthorization([...argsOf(a), signature]),
      "AuthorizationUsedOrCanceled",
      [a.from, a.nonce],
    );
  });

  it("respects the validity window", async () => {
    const now = await chain.now();
    const early = { ...(await authorization()), validAfter: now + 100n };
    const earlySignature = await signTransferAuthorization(s.holders.alice, domain, "TransferWithAuthorization", early);
    await expectRevert(s.tokenAs(s.holders.bob).write.transferWithAuthorization([...argsOf(early), earlySignature]), "AuthorizationNotYetValid");
    const late = { ...(await authorization()), validBefore: now };
    const lateSignature = await signTransferAuthorization(s.holders.alice, domain, "TransferWithAuthorization", late);
    await expectRevert(s.tokenAs(s.holders.bob).write.transferWithAuthorization([...argsOf(late), lateSignature]), "AuthorizationExpired");
  });

  it("refuses a signature by someone else or over other terms", async () => {
    const a = await authorization();
    const byBob = await signTransferAuthorization(s.holders.bob, domain, "TransferWithAuthorization", a);
    await expectRevert(s.tokenAs(s.holders.bob).write.transferWithAuthorization([...argsOf(a), byBob]), "AuthorizationSignatureInvalid");
    const signature = await signTransferAuthorization(s.holders.alice, domain, "TransferWithAuthorization", a);
    await expectRevert(
      s.tokenAs(s.holders.bob).write.transferWithAuthorization([a.from, a.to, a.value + 1n, a.validAfter, a.validBefore, a.nonce, signature]),
      "AuthorizationSignatureInvalid",
    );
    // A ReceiveWithAuthorization signature is not a TransferWithAuthorization one.
    const receive = await signTransferAuthorization(s.holders.alice, domain, "ReceiveWithAuthorization", a);
    await expectRevert(s.tokenAs(s.holders.bob).write.transferWithAuthorization([...argsOf(a), receive]), "AuthorizationSignatureInvalid");
  });

  it("receiveWithAuthorization is submitted by the payee only", async () => {
    const a = await authorization();
    const signature = await signTransferAuthorization(s.holders.alice, domain, "ReceiveWithAuthorization", a);
    await expectRevert(
      s.tokenAs(s.holders.carol).write.receiveWithAuthorization([...argsOf(a), ...split(signature)]),
      "AuthorizationCallerNotPayee",
      [s.holders.carol.address, a.to],
    );
    await confirmed(chain, s.tokenAs(s.holders.bob).write.receiveWithAuthorization([...argsOf(a), ...split(signature)]));
    expect(await s.token.read.balanceOf([a.to])).toBe(300n);
  });

  it("cancelAuthorization voids an unused nonce", async () => {
    const a = await authorization();
    const cancel = await signCancelAuthorization(s.holders.alice, domain, { authorizer: a.from, nonce: a.nonce });
    await expectRevert(
      s.tokenAs(s.holders.bob).write.cancelAuthorization([a.from, a.nonce, await signCancelAuthorization(s.holders.bob, domain, { authorizer: a.from, nonce: a.nonce })]),
      "AuthorizationSignatureInvalid",
    );
    await confirmed(chain, s.tokenAs(s.holders.bob).write.cancelAuthorization([a.from, a.nonce, ...split(cancel)]));
    const signature = await signTransferAuthorization(s.holders.alice, domain, "TransferWithAuthorization", a);
    await expectRevert(s.tokenAs(s.holders.bob).write.transferWithAuthorization([...argsOf(a), signature]), "AuthorizationUsedOrCanceled");
    await expectRevert(s.tokenAs(s.holders.bob).write.cancelAuthorization([a.from, a.nonce, cancel]), "AuthorizationUsedOrCanceled");
  });

  it("stops while paused and for blocklisted parties", async () => {
    const a = await authorization();
    const signature = await signTransferAuthorization(s.holders.alice, domain, "TransferWithAuthorization", a);
    await confirmed(chain, s.tokenAs(s.roles.blocklister).write.blocklist([a.to]));
    await expectRevert(s.tokenAs(s.holders.carol).write.transferWithAuthorization([...argsOf(a), signature]), "AccountBlocklisted", [a.to]);
    await confirmed(chain, s.tokenAs(s.roles.pauser).write.pause());
    await expectRevert(s.tokenAs(s.holders.carol).write.transferWithAuthorization([...argsOf(a), signature]), "EnforcedPause");
    const cancel = await signCancelAuthorization(s.holders.alice, domain, { authorizer: a.from, nonce: a.nonce });
    await expectRevert(s.tokenAs(s.holders.carol).write.cancelAuthorization([a.from, a.nonce, cancel]), "EnforcedPause");
  });
});

describe("contract wallets (ERC-1271)", () => {
  it("sign permits and transfer authorizations through their owner key", async () => {
    const { alice, bob, carol } = s.holders;
    const deployed = await confirmed(
      chain,
      chain.wallet(alice).deployContract({ abi: contractWalletAbi, bytecode: contractWalletBytecode, args: [alice.address] }),
    );
    const wallet = deployed.contractAddress!;
    await confirmed(chain, s.tokenAs(alice).write.transfer([wallet, 1_000n]));
    // The wallet validates the owner's raw signature of the EIP-712 digest.
    const signDigest = (hash: Hex) => alice.sign({ hash });
    const deadline = (await chain.now()) + 600n;
    const permitDigest = hashTypedData({
      domain,
      types: { Permit: [
        { name: "owner", type: "address" }, { name: "spender", type: "address" }, { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" },
      ] },
      primaryType: "Permit",
      message: { owner: wallet, spender: bob.address, value: 400n, nonce: 0n, deadline },
    });
    await confirmed(chain, s.tokenAs(carol).write.permit([wallet, bob.address, 400n, deadline, await signDigest(permitDigest)]));
    expect(await s.token.read.allowance([wallet, bob.address])).toBe(400n);

    const a = { from: wallet, to: carol.address, value: 250n, validAfter: 0n, validBefore: deadline, nonce: freshNonce() };
    const transferDigest = hashTypedData({
      domain,
      types: { TransferWithAuthorization: [
        { name: "from", type: "address" }, { name: "to", type: "address" }, { name: "value", type: "uint256" },
        { name: "validAfter", type: "uint256" }, { name: "validBefore", type: "uint256" }, { name: "nonce", type: "bytes32" },
      ] },
      primaryType: "TransferWithAuthorization",
      message: a,
    });
    await confirmed(
      chain,
      s.tokenAs(bob).write.transferWithAuthorization([a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, await signDigest(transferDigest)]),
    );
    expect(await s.token.read.balanceOf([carol.address])).toBe(250n);
    // A signature by another key is refused by the wallet.
    const forged = await bob.sign({ hash: permitDigest });
    await expectRevert(s.tokenAs(carol).write.permit([wallet, bob.address, 400n, deadline, forged]), "PermitSignatureInvalid");
  });
});
