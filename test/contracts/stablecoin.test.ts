import { parseEventLogs, zeroAddress, type Hex } from "viem";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { demoForeignCbdcAbi, demoForeignCbdcBytecode, tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { confirmed, createTestChain, expectRevert, type TestChain } from "./support/chain.ts";
import { deployStablecoin, type StablecoinFixture } from "./support/stablecoin.ts";

let chain: TestChain;
let s: StablecoinFixture;
let clean: Hex;

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

const eventNames = (logs: readonly { data: Hex; topics: readonly Hex[] }[]) =>
  parseEventLogs({ abi: tengeStablecoinAbi, logs: logs as never }).map((log) => log.eventName);

describe("token units", () => {
  it("has 2 decimals: one token unit is one tiyn, 100 units are 1 KZT", async () => {
    expect(await s.token.read.decimals()).toBe(2);
    expect(await s.token.read.name()).toBe("Digital Tenge Stablecoin");
    expect(await s.token.read.symbol()).toBe("KZTD");
  });
});

describe("roles", () => {
  it("are appointed at deployment", async () => {
    expect(await s.token.read.owner()).toBe(s.roles.owner.address);
    expect(await s.token.read.masterMinter()).toBe(s.roles.masterMinter.address);
    expect(await s.token.read.pauser()).toBe(s.roles.pauser.address);
    expect(await s.token.read.blocklister()).toBe(s.roles.blocklister.address);
    expect(await s.token.read.rescuer()).toBe(s.roles.rescuer.address);
  });

  it("are changed by the owner only, never to the zero address, with an event each", async () => {
    const newcomer = s.holders.carol.address;
    const asAlice = s.tokenAs(s.holders.alice);
    for (const [update, read, event] of [
      ["updateMasterMinter", "masterMinter", "MasterMinterChanged"],
      ["updatePauser", "pauser", "PauserChanged"],
      ["updateBlocklister", "blocklister", "BlocklisterChanged"],
      ["updateRescuer", "rescuer", "RescuerChanged"],
    ] as const) {
      await expectRevert(asAlice.write[update]([newcomer]), "OwnableUnauthorizedAccount", [s.holders.alice.address]);
      await expectRevert(s.token.write[update]([zeroAddress]), "RoleAccountZero");
      const receipt = await confirmed(chain, s.token.write[update]([newcomer]));
      expect(eventNames(receipt.logs)).toEqual([event]);
      expect(await s.token.read[read]()).toBe(newcomer);
    }
  });

  it("ownership moves in two steps and cannot be renounced", async () => {
    await confirmed(chain, s.token.write.transferOwnership([s.holders.bob.address]));
    expect(await s.token.read.owner()).toBe(s.roles.owner.address);
    await expectRevert(s.tokenAs(s.holders.carol).write.acceptOwnership(), "OwnableUnauthorizedAccount");
    await confirmed(chain, s.tokenAs(s.holders.bob).write.acceptOwnership());
    expect(await s.token.read.owner()).toBe(s.holders.bob.address);
    await expectRevert(s.token.read.renounceOwnership({ account: s.holders.bob.address }), "OwnershipCannotBeRenounced");
    await expectRevert(s.token.read.renounceOwnership({ account: s.roles.owner.address }), "OwnableUnauthorizedAccount");
  });
});

describe("minters", () => {
  it("are configured and removed by the master minter only", async () => {
    const minter = s.roles.minter.address;
    await expectRevert(s.tokenAs(s.holders.alice).write.configureMinter([minter, 5n]), "CallerLacksRole");
    const receipt = await s.configureMinter(minter, 500n);
    expect(eventNames(receipt.logs)).toEqual(["MinterConfigured"]);
    expect(await s.token.read.isMinter([minter])).toBe(true);
    expect(await s.token.read.minterAllowance([minter])).toBe(500n);
    await expectRevert(s.tokenAs(s.holders.alice).write.removeMinter([minter]), "CallerLacksRole");
    await confirmed(chain, s.tokenAs(s.roles.masterMinter).write.removeMinter([minter]));
    expect(await s.token.read.isMinter([minter])).toBe(false);
    expect(await s.token.read.minterAllowance([minter])).toBe(0n);
    await expectRevert(s.tokenAs(s.roles.masterMinter).write.configureMinter([zeroAddress, 1n]), "AddressZero");
  });

  it("caps an allowance above 2^248 at 2^248 - 1", async () => {
    await s.configureMinter(s.roles.minter.address, 2n ** 256n - 1n);
    expect(await s.token.read.minterAllowance([s.roles.minter.address])).toBe(2n ** 248n - 1n);
  });

  it("mint within their allowance, which each mint consumes", async () => {
    await s.fund(10_000n, 1_000n);
    const receipt = await s.mint(s.holders.alice.address, 700n);
    expect(eventNames(receipt.logs)).toEqual(["Transfer", "Mint"]);
    expect(await s.token.read.minterAllowance([s.roles.minter.address])).toBe(300n);
    await expectRevert(s.mint(s.holders.alice.address, 301n), "MinterAllowanceExceeded", [s.roles.minter.address, 300n, 301n]);
  });

  it("cannot mint when not a minter, to the zero address, zero amounts, or while blocklisted", async () => {
    await s.fund(10_000n, 1_000n);
    await expectRevert(s.mint(s.holders.alice.address, 1n, s.holders.bob), "CallerNotMinter");
    await expectRevert(s.mint(zeroAddress, 1n), "AddressZero");
    await expectRevert(s.mint(s.holders.alice.address, 0n), "AmountZero");
    await confirmed(chain, s.tokenAs(s.roles.blocklister).write.blocklist([s.holders.alice.address]));
    await expectRevert(s.mint(s.holders.alice.address, 1n), "AccountBlocklisted", [s.holders.alice.address]);
    await confirmed(chain, s.tokenAs(s.roles.blocklister).write.blocklist([s.roles.minter.address]));
    await expectRevert(s.mint(s.holders.bob.address, 1n), "AccountBlocklisted", [s.roles.minter.address]);
  });

  it("burn their own tokens", async () => {
    await s.fund(10_000n);
    await s.mint(s.roles.minter.address, 500n);
    const asMinter = s.tokenAs(s.roles.minter);
    const receipt = await confirmed(chain, asMinter.write.burn([200n]));
    expect(eventNames(receipt.logs)).toEqual(["Transfer", "Burn"]);
    expect(await s.token.read.totalSupply()).toBe(300n);
    await expectRevert(asMinter.write.burn([0n]), "AmountZero");
    await expectRevert(asMinter.write.burn([301n]), "ERC20InsufficientBalance");
    await expectRevert(s.tokenAs(s.holders.alice).write.burn([1n]), "CallerNotMinter");
  });
});

describe("redeem", () => {
  it("burns the holder's tokens and names the DT account to pay", async () => {
    await s.fund(10_000n);
    await s.mint(s.holders.alice.address, 1_000n);
    const receipt = await confirmed(chain, s.tokenAs(s.holders.alice).write.redeem([250n, "KZ-DA-EXCHANGE-0042"]));
    const logs = parseEventLogs({ abi: tengeStablecoinAbi, logs: receipt.logs, eventName: "Redeemed" });
    expect(logs[0]?.args).toEqual({ holder: s.holders.alice.address, amount: 250n, dtAccount: "KZ-DA-EXCHANGE-0042" });
    expect(await s.token.read.balanceOf([s.holders.alice.address])).toBe(750n);
    expect(await s.token.read.totalSupply()).toBe(750n);
  });

  it("refuses zero amounts, empty or over-long DT accounts, and more than the balance", async () => {
    await s.fund(10_000n);
    await s.mint(s.holders.alice.address, 1_000n);
    const asAlice = s.tokenAs(s.holders.alice);
    await expectRevert(asAlice.write.redeem([0n, "KZ-DA-1"]), "AmountZero");
    await expectRevert(asAlice.write.redeem([1n, ""]), "DtAccountInvalid");
    await expectRevert(asAlice.write.redeem([1n, "K".repeat(65)]), "DtAccountInvalid");
    await confirmed(chain, asAlice.write.redeem([1n, "K".repeat(64)]));
    await expectRevert(asAlice.write.redeem([1_000n, "KZ-DA-1"]), "ERC20InsufficientBalance");
  });
});

describe("pause", () => {
  it("is set and lifted by the pauser only", async () => {
    await expectRevert(s.tokenAs(s.holders.alice).write.pause(), "CallerLacksRole");
    const asPauser = s.tokenAs(s.roles.pauser);
    const receipt = await confirmed(chain, asPauser.write.pause());
    expect(eventNames(receipt.logs)).toEqual(["Paused"]);
    expect(await s.token.read.paused()).toBe(true);
    await expectRevert(asPauser.write.pause(), "EnforcedPause");
    await expectRevert(s.tokenAs(s.holders.alice).write.unpause(), "CallerLacksRole");
    await confirmed(chain, asPauser.write.unpause());
    await expectRevert(asPauser.write.unpause(), "ExpectedPause");
  });

  it("stops transfers, approvals, mints, burns, redemptions and minter configuration", async () => {
    await s.fund(10_000n);
    await s.mint(s.holders.alice.address, 1_000n);
    await s.mint(s.roles.minter.address, 1_000n);
    await confirmed(chain, s.tokenAs(s.holders.alice).write.approve([s.holders.bob.address, 100n]));
    await confirmed(chain, s.tokenAs(s.roles.pauser).write.pause());
    const asAlice = s.tokenAs(s.holders.alice);
    await expectRevert(asAlice.write.transfer([s.holders.bob.address, 1n]), "EnforcedPause");
    await expectRevert(asAlice.write.approve([s.holders.bob.address, 1n]), "EnforcedPause");
    await expectRevert(asAlice.write.increaseAllowance([s.holders.bob.address, 1n]), "EnforcedPause");
    await expectRevert(asAlice.write.decreaseAllowance([s.holders.bob.address, 1n]), "EnforcedPause");
    await expectRevert(s.tokenAs(s.holders.bob).write.transferFrom([s.holders.alice.address, s.holders.bob.address, 1n]), "EnforcedPause");
    await expectRevert(asAlice.write.redeem([1n, "KZ-DA-1"]), "EnforcedPause");
    await expectRevert(s.mint(s.holders.alice.address, 1n), "EnforcedPause");
    await expectRevert(s.tokenAs(s.roles.minter).write.burn([1n]), "EnforcedPause");
    await expectRevert(s.tokenAs(s.roles.masterMinter).write.configureMinter([s.holders.carol.address, 1n]), "EnforcedPause");
    await confirmed(chain, s.tokenAs(s.roles.pauser).write.unpause());
    await confirmed(chain, asAlice.write.transfer([s.holders.bob.address, 1n]));
  });
});

describe("blocklist", () => {
  it("is kept by the blocklister only, with events", async () => {
    const alice = s.holders.alice.address;
    await expectRevert(s.tokenAs(s.holders.bob).write.blocklist([alice]), "CallerLacksRole");
    await expectRevert(s.tokenAs(s.roles.blocklister).write.blocklist([zeroAddress]), "AddressZero");
    const receipt = await confirmed(chain, s.tokenAs(s.roles.blocklister).write.blocklist([alice]));
    expect(eventNames(receipt.logs)).toEqual(["Blocklisted"]);
    expect(await s.token.read.isBlocklisted([alice])).toBe(true);
    await expectRevert(s.tokenAs(s.holders.bob).write.unBlocklist([alice]), "CallerLacksRole");
    const lifted = await confirmed(chain, s.tokenAs(s.roles.blocklister).write.unBlocklist([alice]));
    expect(eventNames(lifted.logs)).toEqual(["UnBlocklisted"]);
    expect(await s.token.read.isBlocklisted([alice])).toBe(false);
  });

  it("freezes an account: it can neither send, receive, approve, be approved, spend nor redeem", async () => {
    await s.fund(10_000n);
    const { alice, bob, carol } = s.holders;
    await s.mint(alice.address, 1_000n);
    await s.mint(bob.address, 1_000n);
    await confirmed(chain, s.tokenAs(bob).write.approve([carol.address, 500n]));
    await confirmed(chain, s.tokenAs(s.roles.blocklister).write.blocklist([carol.address]));
    await expectRevert(s.tokenAs(alice).write.transfer([carol.address, 1n]), "AccountBlocklisted", [carol.address]);
    await expectRevert(s.tokenAs(alice).write.approve([carol.address, 1n]), "AccountBlocklisted", [carol.address]);
    await expectRevert(s.tokenAs(carol).write.approve([alice.address, 1n]), "AccountBlocklisted", [carol.address]);
    await expectRevert(s.tokenAs(carol).write.transferFrom([bob.address, alice.address, 1n]), "AccountBlocklisted", [carol.address]);
    await confirmed(chain, s.tokenAs(s.roles.blocklister).write.blocklist([alice.address]));
    await expectRevert(s.tokenAs(alice).write.transfer([bob.address, 1n]), "AccountBlocklisted", [alice.address]);
    await expectRevert(s.tokenAs(alice).write.redeem([1n, "KZ-DA-1"]), "AccountBlocklisted", [alice.address]);
    await expectRevert(s.tokenAs(alice).write.increaseAllowance([bob.address, 1n]), "AccountBlocklisted");
  });
});

describe("transfers and allowances", () => {
  it("move balances and spend allowances", async () => {
    await s.fund(10_000n);
    const { alice, bob, carol } = s.holders;
    await s.mint(alice.address, 1_000n);
    await confirmed(chain, s.tokenAs(alice).write.transfer([bob.address, 400n]));
    await confirmed(chain, s.tokenAs(alice).write.approve([carol.address, 300n]));
    await confirmed(chain, s.tokenAs(alice).write.increaseAllowance([carol.address, 50n]));
    await confirmed(chain, s.tokenAs(alice).write.decreaseAllowance([carol.address, 100n]));
    expect(await s.token.read.allowance([alice.address, carol.address])).toBe(250n);
    await expectRevert(s.tokenAs(alice).write.decreaseAllowance([carol.address, 251n]), "AllowanceBelowZero", [carol.address, 250n, 251n]);
    await confirmed(chain, s.tokenAs(carol).write.transferFrom([alice.address, carol.address, 200n]));
    await expectRevert(s.tokenAs(carol).write.transferFrom([alice.address, carol.address, 51n]), "ERC20InsufficientAllowance");
    await expectRevert(s.tokenAs(bob).write.transfer([carol.address, 401n]), "ERC20InsufficientBalance");
    expect([
      await s.token.read.balanceOf([alice.address]),
      await s.token.read.balanceOf([bob.address]),
      await s.token.read.balanceOf([carol.address]),
    ]).toEqual([400n, 400n, 200n]);
  });
});

describe("rescue", () => {
  it("returns other tokens sent to the contract by mistake, by the rescuer only", async () => {
    const hash = await chain.wallet(s.roles.owner).deployContract({
      abi: demoForeignCbdcAbi,
      bytecode: demoForeignCbdcBytecode,
      args: ["Lost", "LOST", 2, s.roles.owner.address],
    });
    const lost = (await confirmed(chain, Promise.resolve(hash))).contractAddress!;
    await confirmed(chain, chain.wallet(s.roles.owner).writeContract({ address: lost, abi: demoForeignCbdcAbi, functionName: "issue", args: [s.address, 99n] }));
    await expectRevert(s.tokenAs(s.holders.alice).write.rescueERC20([lost, s.holders.alice.address, 99n]), "CallerLacksRole");
    const receipt = await confirmed(chain, s.tokenAs(s.roles.rescuer).write.rescueERC20([lost, s.holders.alice.address, 99n]));
    expect(eventNames(receipt.logs.filter((log) => log.address.toLowerCase() === s.address.toLowerCase()))).toEqual(["Rescued"]);
    expect(await chain.publicClient.readContract({ address: lost, abi: demoForeignCbdcAbi, functionName: "balanceOf", args: [s.holders.alice.address] })).toBe(99n);
  });
});
