import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { collateralStatementDigest } from "../../src/ledger/collateral-statement.ts";
import { confirmed, createTestChain, expectRevert, type TestChain } from "./support/chain.ts";
import { deployStablecoin, MAX_STATEMENT_AGE, SEGREGATED_ACCOUNT, type StablecoinFixture } from "./support/stablecoin.ts";
import { parseEventLogs } from "viem";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";

let chain: TestChain;
let s: StablecoinFixture;
let clean: `0x${string}`;

beforeAll(async () => {
  chain = await createTestChain();
  s = await deployStablecoin(chain);
  clean = await chain.snapshot();
});
afterAll(() => chain.close());
beforeEach(async () => {
  await chain.revert(clean);
  clean = await chain.snapshot();
});

describe("collateral statements", () => {
  it("are accepted from anyone when signed by the collateral signer, and recorded with an event", async () => {
    const signed = await s.statement(1_000_000n);
    const receipt = await s.submit(signed, s.holders.mallory);
    const [event] = parseEventLogs({ abi: tengeStablecoinAbi, logs: receipt.logs, eventName: "CollateralStatementAccepted" });
    expect(event?.args).toEqual({ balance: 1_000_000n, paidOut: 0n, height: signed.message.height, timestamp: signed.message.timestamp, collateral: 1_000_000n });
    expect(await s.token.read.latestCollateralStatement()).toEqual([1_000_000n, signed.message.height, signed.message.timestamp]);
  });

  it("use the EIP-712 digest shared with the DT ledger (domain bound to this chain and token)", async () => {
    const signed = await s.statement(5n);
    const digest = collateralStatementDigest(signed.message, { chainId: chain.chainId, verifyingContract: s.address });
    expect(await s.token.read.collateralStatementDigest([signed.message])).toBe(digest);
  });

  it("are refused when signed by another key", async () => {
    await expectRevert(s.submit(await s.statement(1n, { key: generatePrivateKey() })), "CollateralSignatureInvalid");
  });

  it("are refused when the signature was made for another token contract", async () => {
    const signed = await s.statement(1n);
    const other = await deployStablecoin(chain);
    await expectRevert(other.tokenAs(s.holders.alice).write.submitCollateralStatement([signed.message, signed.signature]), "CollateralSignatureInvalid");
  });

  it("are refused when they name another DT account than the segregated one", async () => {
    await expectRevert(s.submit(await s.statement(1n, { account: "KZ-DA-OTHER" })), "CollateralAccountMismatch", ["KZ-DA-OTHER"]);
  });

  it("need a higher ledger height, or the same height with a newer timestamp (a refresh)", async () => {
    const now = await chain.now();
    await s.submit(await s.statement(10n, { height: 7n, timestamp: now }));
    await expectRevert(s.submit(await s.statement(10n, { height: 7n, timestamp: now })), "CollateralHeightNotIncreasing", [7n, 7n]);
    await expectRevert(s.submit(await s.statement(20n, { height: 6n, timestamp: now + 1n })), "CollateralHeightNotIncreasing", [6n, 7n]);
    // Nothing booked since: the DT ledger signs the same height and balance later, which only refreshes the time.
    await s.submit(await s.statement(10n, { height: 7n, timestamp: now + 1n }));
    expect(await s.token.read.latestCollateralStatement()).toEqual([10n, 7n, now + 1n]);
    await s.submit(await s.statement(20n, { height: 8n, timestamp: now + 1n }));
  });

  it("cannot go back in time", async () => {
    const now = await chain.now();
    await s.submit(await s.statement(10n, { timestamp: now }));
    await expectRevert(s.submit(await s.statement(10n, { timestamp: now - 1n })), "CollateralTimestampDecreasing", [now - 1n, now]);
  });

  it("may run ahead of chain time by the clock tolerance and no more", async () => {
    const tolerance = await s.token.read.STATEMENT_CLOCK_TOLERANCE();
    const now = await chain.now();
    // The transaction lands in the next block, one second later.
    await s.submit(await s.statement(10n, { timestamp: now + tolerance }));
    await expectRevert(s.submit(await s.statement(10n, { timestamp: now + tolerance + 100n })), "CollateralStatementFromFuture");
  });

  it("refuse balances beyond 96 bits", async () => {
    await expectRevert(s.submit(await s.statement(2n ** 96n)), "CollateralBalanceTooLarge", [2n ** 96n]);
    await s.submit(await s.statement(2n ** 96n - 1n));
  });

  it("count only what stays in the wallet once every redemption is paid out", async () => {
    await s.fund(1_000n);
    await s.mint(s.holders.alice.address, 1_000n);
    // A redemption stops backing mints at once, before the gateway pays its DT out.
    await confirmed(chain, s.tokenAs(s.holders.alice).write.redeem([300n, "KZ-DA-EXCHANGE-1"]));
    expect(await s.token.read.totalRedeemed()).toBe(300n);
    expect(await s.token.read.latestCollateralStatement()).toEqual([700n, expect.any(BigInt), expect.any(BigInt)]);
    expect(await s.token.read.mintableAmount()).toBe(0n);
    // Signed before the payout: the 300 still in the wallet are on their way out.
    const receipt = await s.submit(await s.statement(1_000n, { paidOut: 0n }));
    const [event] = parseEventLogs({ abi: tengeStablecoinAbi, logs: receipt.logs, eventName: "CollateralStatementAccepted" });
    expect(event?.args.collateral).toBe(700n);
    expect(await s.token.read.mintableAmount()).toBe(0n);
    // Signed after the payout and a new deposit of 50.
    await s.submit(await s.statement(750n, { paidOut: 300n }));
    expect(await s.token.read.mintableAmount()).toBe(50n);
    // A statement showing more paid out than redeemed (debits before deployment) counts its balance.
    await s.submit(await s.statement(750n, { paidOut: 900n }));
    expect(await s.token.read.mintableAmount()).toBe(50n);
  });

  it("reverse a refused redemption once, minting it back, and never DT that was paid out", async () => {
    await s.fund(1_000n);
    await s.mint(s.holders.alice.address, 1_000n);
    await confirmed(chain, s.tokenAs(s.holders.alice).write.redeem([300n, "KZ-DA-CLOSED"]));
    const id = `0x${"01".repeat(32)}` as const;
    // The payout was refused: the 300 are still in the wallet and still counted as owed.
    const refused = await s.statement(1_000n, { paidOut: 0n });
    const reverse = (as = s.roles.minter, signed = refused, amount = 300n) =>
      s.tokenAs(as).write.reverseRedemption([signed.message, signed.signature, id, s.holders.alice.address, amount]);
    await expectRevert(reverse(s.holders.mallory), "CallerNotMinter", [s.holders.mallory.address]);
    await expectRevert(reverse(s.roles.minter, refused, 301n), "RedemptionReversalExceedsUnpaid", [301n, 300n]);
    const receipt = await confirmed(chain, reverse());
    const [event] = parseEventLogs({ abi: tengeStablecoinAbi, logs: receipt.logs, eventName: "RedemptionReversed" });
    expect(event?.args).toEqual({ redemptionId: id, holder: s.holders.alice.address, amount: 300n });
    expect(await s.token.read.isRedemptionReversed([id])).toBe(true);
    expect(await s.token.read.totalRedeemed()).toBe(0n);
    expect(await s.token.read.totalSupply()).toBe(1_000n);
    expect(await s.token.read.mintableAmount()).toBe(0n);
    await expectRevert(reverse(s.roles.minter, await s.statement(1_000n, { paidOut: 0n })), "RedemptionAlreadyReversed", [id]);
    // A redemption that was paid out cannot be reversed: the statement shows nothing owed.
    await confirmed(chain, s.tokenAs(s.holders.alice).write.redeem([200n, "KZ-DA-EXCHANGE-1"]));
    const paid = await s.statement(800n, { paidOut: 200n });
    await expectRevert(
      s.tokenAs(s.roles.minter).write.reverseRedemption([paid.message, paid.signature, `0x${"02".repeat(32)}`, s.holders.alice.address, 200n]),
      "RedemptionReversalExceedsUnpaid",
      [200n, 0n],
    );
  });

  it("accept a balance below the supply (mints then stop; the page shows it)", async () => {
    await s.fund(1_000n);
    await s.mint(s.holders.alice.address, 1_000n);
    await s.submit(await s.statement(400n));
    expect(await s.token.read.mintableAmount()).toBe(0n);
    await expectRevert(s.mint(s.holders.alice.address, 1n), "CollateralExceeded", [1_001n, 400n]);
  });
});

describe("secure mint", () => {
  it("mints up to exactly the collateral: totalSupply + amount <= collateral", async () => {
    await s.fund(1_000n);
    await s.mint(s.holders.alice.address, 600n);
    expect(await s.token.read.mintableAmount()).toBe(400n);
    await expectRevert(s.mint(s.holders.bob.address, 401n), "CollateralExceeded", [1_001n, 1_000n]);
    await s.mint(s.holders.bob.address, 400n);
    expect(await s.token.read.totalSupply()).toBe(1_000n);
    await expectRevert(s.mint(s.holders.bob.address, 1n), "CollateralExceeded", [1_001n, 1_000n]);
  });

  it("refuses to mint before any statement", async () => {
    await s.configureMinter(s.roles.minter.address, 1_000n);
    await expectRevert(s.mint(s.holders.alice.address, 1n), "CollateralStatementStale", [0n, MAX_STATEMENT_AGE, (await chain.now()) + 1n]);
  });

  it("refuses to mint on a statement older than the maximum age, and mints again after a fresh one", async () => {
    await s.configureMinter(s.roles.minter.address, 1_000n);
    const signed = await s.statement(1_000n);
    await s.submit(signed);
    await chain.testClient.setNextBlockTimestamp({ timestamp: signed.message.timestamp + MAX_STATEMENT_AGE });
    await s.mint(s.holders.alice.address, 1n); // exactly the maximum age old: still fresh
    await chain.testClient.setNextBlockTimestamp({ timestamp: signed.message.timestamp + MAX_STATEMENT_AGE + 1n });
    await chain.testClient.mine({ blocks: 1 });
    await expectRevert(s.mint(s.holders.alice.address, 1n), "CollateralStatementStale");
    expect(await s.token.read.mintableAmount()).toBe(0n);
    await s.submit(await s.statement(1_000n));
    await s.mint(s.holders.alice.address, 1n);
  });

  it("accepts a statement and mints in one transaction", async () => {
    await s.configureMinter(s.roles.minter.address, 10_000n);
    const signed = await s.statement(5_000n);
    const receipt = await confirmed(
      chain,
      s.tokenAs(s.roles.minter).write.mintWithCollateralStatement([signed.message, signed.signature, s.holders.alice.address, 5_000n]),
    );
    const names = parseEventLogs({ abi: tengeStablecoinAbi, logs: receipt.logs }).map((log) => log.eventName);
    expect(names).toEqual(["CollateralStatementAccepted", "Transfer", "Mint"]);
    expect(await s.token.read.balanceOf([s.holders.alice.address])).toBe(5_000n);
  });

  it("statement + mint still enforces the collateral bound and every statement rule", async () => {
    await s.configureMinter(s.roles.minter.address, 10_000n);
    const signed = await s.statement(5_000n);
    const asMinter = s.tokenAs(s.roles.minter);
    await expectRevert(asMinter.write.mintWithCollateralStatement([signed.message, signed.signature, s.holders.alice.address, 5_001n]), "CollateralExceeded");
    const forged = await s.statement(1_000_000n, { key: generatePrivateKey() });
    await expectRevert(asMinter.write.mintWithCollateralStatement([forged.message, forged.signature, s.holders.alice.address, 1n]), "CollateralSignatureInvalid");
  });

  it("a stolen minter key alone cannot mint beyond collateral, whatever statement it makes up", async () => {
    await s.fund(100n, 10n ** 30n);
    const thiefKey = generatePrivateKey(); // the thief has the minter key, not the ledger operator's
    const forged = await s.statement(10n ** 20n, { key: thiefKey });
    const asMinter = s.tokenAs(s.roles.minter);
    await expectRevert(asMinter.write.mintWithCollateralStatement([forged.message, forged.signature, s.roles.minter.address, 10n ** 20n]), "CollateralSignatureInvalid");
    await expectRevert(asMinter.write.mint([s.roles.minter.address, 101n]), "CollateralExceeded");
    // Replaying the genuine statement does not help either.
    const [, , acceptedAt] = await s.token.read.latestCollateralStatement();
    const genuine = await s.statement(100n, { height: 1n, timestamp: acceptedAt });
    await expectRevert(asMinter.write.submitCollateralStatement([genuine.message, genuine.signature]), "CollateralHeightNotIncreasing");
  });

  it("a rotated signer forgets the old statement and only the new key counts", async () => {
    await s.fund(1_000n);
    const newKey = generatePrivateKey();
    await confirmed(chain, s.token.write.setCollateralSigner([privateKeyToAccount(newKey).address]));
    expect(await s.token.read.collateralSigner()).toBe(privateKeyToAccount(newKey).address);
    expect(await s.token.read.latestCollateralStatement()).toEqual([0n, expect.any(BigInt), 0n]);
    await expectRevert(s.mint(s.holders.alice.address, 1n), "CollateralStatementStale");
    await expectRevert(s.submit(await s.statement(1_000n)), "CollateralSignatureInvalid");
    await s.submit(await s.statement(1_000n, { key: newKey }));
    await s.mint(s.holders.alice.address, 1n);
  });

  it("owner-only settings: signer, segregated account, maximum age, with validation and events", async () => {
    const asAlice = s.tokenAs(s.holders.alice);
    await expectRevert(asAlice.write.setCollateralSigner([s.holders.alice.address]), "OwnableUnauthorizedAccount");
    await expectRevert(asAlice.write.setSegregatedAccount(["KZ-X"]), "OwnableUnauthorizedAccount");
    await expectRevert(asAlice.write.setMaxStatementAge([1n]), "OwnableUnauthorizedAccount");
    await expectRevert(s.token.write.setCollateralSigner(["0x0000000000000000000000000000000000000000"]), "CollateralConfigurationInvalid");
    await expectRevert(s.token.write.setSegregatedAccount([""]), "CollateralConfigurationInvalid");
    await expectRevert(s.token.write.setMaxStatementAge([0n]), "CollateralConfigurationInvalid");
    await expectRevert(s.token.write.setMaxStatementAge([2n ** 32n]), "CollateralConfigurationInvalid");

    const receipt = await confirmed(chain, s.token.write.setSegregatedAccount(["KZ-DA-SEGREGATED-0002"]));
    expect(parseEventLogs({ abi: tengeStablecoinAbi, logs: receipt.logs })[0]?.eventName).toBe("SegregatedAccountChanged");
    expect(await s.token.read.segregatedAccount()).toBe("KZ-DA-SEGREGATED-0002");
    await expectRevert(s.submit(await s.statement(1n, { account: SEGREGATED_ACCOUNT })), "CollateralAccountMismatch");
    await s.submit(await s.statement(1n, { account: "KZ-DA-SEGREGATED-0002" }));

    await confirmed(chain, s.token.write.setMaxStatementAge([60n]));
    expect(await s.token.read.maxStatementAge()).toBe(60n);
  });
});
