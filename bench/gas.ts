/**
 * Gas of the stablecoin, HTLC and security-token (DvP) operations, measured from receipts on the embedded EDR chain.
 * Prints one line per operation, then the budget check, then a JSON line with every figure.
 * Run: npm run bench:gas
 */
import { createPublicClient, createWalletClient, http, keccak256, parseSignature, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deployContracts } from "../src/evm/deploy-contracts.ts";
import { startEmbeddedChain } from "../src/evm/embedded-chain.ts";
import { evmChain } from "../src/evm/evm-chain.ts";
import { DEMO_BOND } from "../src/evm/deploy-security.ts";
import { demoForeignCbdcAbi, hashTimeLockAbi, securityTokenAbi, tengeStablecoinAbi } from "../src/evm/generated/contracts.ts";
import { hashLockOf } from "../src/core/hash-lock.ts";
import { hashTimeLockSwapId } from "../src/evm/hash-time-lock.ts";
import { signCollateralStatement } from "../src/ledger/collateral-statement.ts";
import { signIssuanceAllotment, type IssuanceAllotment } from "../src/ledger/issuance-allotment.ts";
import { tengeStablecoinBytecode } from "../src/evm/generated/contracts.ts";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SEGREGATED_ACCOUNT = "KZ-DA-SEGREGATED-0001";
const budgets: Record<string, number> = {
  transferToExistingHolder: 45_047,
  mintToExistingHolder: 61_000,
  poolMintToExistingHolder: 61_000,
  poolSubmitAllotment: 90_000,
  poolMoveOut: 50_000,
  poolRedeem: 50_000,
  htlcLock: 100_000,
  htlcClaim: 50_000,
};

const chain = await startEmbeddedChain({ accountCount: 8 });
try {
  const [deployerKey, signerKey, minterKey, aliceKey, bobKey, carolKey] = chain.accounts as [Hex, Hex, Hex, Hex, Hex, Hex];
  const signer = privateKeyToAccount(signerKey);
  const minter = privateKeyToAccount(minterKey);
  const alice = privateKeyToAccount(aliceKey);
  const bob = privateKeyToAccount(bobKey);
  const carol = privateKeyToAccount(carolKey);
  const { deployment } = await deployContracts({
    rpcUrl: chain.rpcUrl,
    deployerKey,
    collateralSigner: signer.address,
    segregatedAccount: SEGREGATED_ACCOUNT,
    maxStatementAge: 3600n,
    minters: [{ address: minter.address, allowance: 10n ** 15n }],
    demoForeignCbdc: { name: "Demo Foreign CBDC", symbol: "FCBDC", decimals: 2 },
    security: { ...DEMO_BOND, holders: [{ address: alice.address, units: 10_000n }, { address: bob.address, units: 1n }, { address: carol.address, units: 0n }] },
    deploymentsDir: await mkdtemp(join(tmpdir(), "gas-")),
  });
  const token = deployment.contracts.TengeStablecoin.address;
  const htlc = deployment.contracts.HashTimeLock.address;
  const foreign = deployment.contracts.DemoForeignCbdc!.address;
  const transport = http(chain.rpcUrl);
  const client = createPublicClient({ transport });
  const evm = evmChain(chain.chainId, chain.rpcUrl);
  const wallet = (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), transport, chain: evm });
  const figures: Record<string, number> = {};
  const measure = async (label: string, send: Promise<Hex>) => {
    const receipt = await client.waitForTransactionReceipt({ hash: await send });
    if (receipt.status !== "success") throw new Error(`${label} reverted`);
    figures[label] = Number(receipt.gasUsed);
    return receipt;
  };
  const now = async () => (await client.getBlock()).timestamp;
  let height = 0n;
  const statement = async (balance: bigint) => {
    height += 1n;
    const message = { account: SEGREGATED_ACCOUNT, balance, paidOut: 0n, height, timestamp: await now() };
    const signature = await signCollateralStatement(signerKey, message, { chainId: chain.chainId, verifyingContract: token });
    return { message, signature };
  };
  const asMinter = wallet(minterKey);
  const mint = (to: Address, amount: bigint) =>
    asMinter.writeContract({ address: token, abi: tengeStablecoinAbi, functionName: "mint", args: [to, amount] });

  const first = await statement(10n ** 12n);
  await measure("submitStatement", wallet(deployerKey).writeContract({
    address: token, abi: tengeStablecoinAbi, functionName: "submitCollateralStatement", args: [first.message, first.signature],
  }));
  // The very first mint also creates the supply slot; measure against a live token instead.
  await measure("firstMintEver", mint(carol.address, 1_000_000n));
  await measure("mintToNewHolder", mint(alice.address, 1_000_000n));
  await measure("mintToExistingHolder", mint(alice.address, 1_000_000n));
  const fresh = await statement(2n * 10n ** 12n);
  await measure("statementAndMint", asMinter.writeContract({
    address: token, abi: tengeStablecoinAbi, functionName: "mintWithCollateralStatement",
    args: [fresh.message, fresh.signature, alice.address, 1_000_000n],
  }));
  const asAlice = wallet(aliceKey);
  await measure("transferToNewHolder", asAlice.writeContract({ address: token, abi: tengeStablecoinAbi, functionName: "transfer", args: [bob.address, 10_000n] }));
  await measure("transferToExistingHolder", asAlice.writeContract({ address: token, abi: tengeStablecoinAbi, functionName: "transfer", args: [bob.address, 10_000n] }));

  const domain = { name: deployment.stablecoin.name, version: "1", chainId: chain.chainId, verifyingContract: token } as const;
  const deadline = (await now()) + 3600n;
  const permitSignature = parseSignature(await alice.signTypedData({
    domain,
    types: { Permit: [
      { name: "owner", type: "address" }, { name: "spender", type: "address" }, { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" },
    ] },
    primaryType: "Permit",
    message: { owner: alice.address, spender: carol.address, value: 50_000n, nonce: 0n, deadline },
  }));
  await measure("permit", wallet(carolKey).writeContract({
    address: token, abi: tengeStablecoinAbi, functionName: "permit",
    args: [alice.address, carol.address, 50_000n, deadline, Number(permitSignature.v ?? 27n), permitSignature.r, permitSignature.s],
  }));

  const nonce = toHex(1n, { size: 32 });
  const authorization = { from: alice.address, to: bob.address, value: 5_000n, validAfter: 0n, validBefore: deadline, nonce };
  const authorizationSignature = parseSignature(await alice.signTypedData({
    domain,
    types: { TransferWithAuthorization: [
      { name: "from", type: "address" }, { name: "to", type: "address" }, { name: "value", type: "uint256" },
      { name: "validAfter", type: "uint256" }, { name: "validBefore", type: "uint256" }, { name: "nonce", type: "bytes32" },
    ] },
    primaryType: "TransferWithAuthorization",
    message: authorization,
  }));
  await measure("transferWithAuthorization", wallet(carolKey).writeContract({
    address: token, abi: tengeStablecoinAbi, functionName: "transferWithAuthorization",
    args: [alice.address, bob.address, 5_000n, 0n, deadline, nonce,
      Number(authorizationSignature.v ?? 27n), authorizationSignature.r, authorizationSignature.s],
  }));
  await measure("redeem", asAlice.writeContract({ address: token, abi: tengeStablecoinAbi, functionName: "redeem", args: [100_000n, "KZ-DA-EXCHANGE-0042"] }));

  // One pool on two chains: a second token that needs issuance allotments (the other chain's entry names
  // chain 31338), its minter, one allotment of two entries, mints, a move out and a redemption.
  const deployer = wallet(deployerKey);
  const poolReceipt = await client.waitForTransactionReceipt({ hash: await deployer.deployContract({
    abi: tengeStablecoinAbi, bytecode: tengeStablecoinBytecode,
    args: [{ name: "Digital Tenge Stablecoin", symbol: "KZTD", owner: deployer.account.address, masterMinter: deployer.account.address,
      pauser: deployer.account.address, blocklister: deployer.account.address, rescuer: deployer.account.address,
      collateralSigner: signer.address, segregatedAccount: SEGREGATED_ACCOUNT, maxStatementAge: 3600n }],
  }) });
  const pool = poolReceipt.contractAddress!;
  await measure("poolRequireAllotments", deployer.writeContract({ address: pool, abi: tengeStablecoinAbi, functionName: "requireIssuanceAllotments" }));
  await measure("poolConfigureMinter", deployer.writeContract({ address: pool, abi: tengeStablecoinAbi, functionName: "configureMinter", args: [minter.address, 10n ** 15n] }));
  const poolStatement = { account: SEGREGATED_ACCOUNT, balance: 10n ** 12n, paidOut: 0n, height: 1n, timestamp: await now() };
  await measure("poolSubmitStatement", deployer.writeContract({
    address: pool, abi: tengeStablecoinAbi, functionName: "submitCollateralStatement",
    args: [poolStatement, await signCollateralStatement(signerKey, poolStatement, { chainId: chain.chainId, verifyingContract: pool })],
  }));
  const allotment = async (sequence: bigint, limit: bigint): Promise<[IssuanceAllotment, Hex]> => {
    const message: IssuanceAllotment = {
      account: SEGREGATED_ACCOUNT, sequence, credited: 10n ** 12n, moved: 0n, height: sequence, timestamp: await now(),
      chains: [{ chainId: BigInt(chain.chainId), token: pool, issuanceLimit: limit }, { chainId: 31338n, token: pool, issuanceLimit: 10n ** 11n }],
    };
    return [message, await signIssuanceAllotment(signerKey, message)];
  };
  await measure("poolSubmitAllotmentFirst", deployer.writeContract({ address: pool, abi: tengeStablecoinAbi, functionName: "submitIssuanceAllotment", args: await allotment(1n, 10n ** 10n) }));
  await measure("poolSubmitAllotment", deployer.writeContract({ address: pool, abi: tengeStablecoinAbi, functionName: "submitIssuanceAllotment", args: await allotment(2n, 2n * 10n ** 10n) }));
  const poolMint = (to: Address, amount: bigint) => asMinter.writeContract({ address: pool, abi: tengeStablecoinAbi, functionName: "mint", args: [to, amount] });
  await measure("poolFirstMintEver", poolMint(carol.address, 1_000_000n));
  await measure("poolMintToNewHolder", poolMint(alice.address, 1_000_000n));
  await measure("poolMintToExistingHolder", poolMint(alice.address, 1_000_000n));
  await measure("poolMoveOutFirstEver", asAlice.writeContract({ address: pool, abi: tengeStablecoinAbi, functionName: "moveOut", args: [100_000n, 31338n, alice.address] }));
  await measure("poolMoveOut", asAlice.writeContract({ address: pool, abi: tengeStablecoinAbi, functionName: "moveOut", args: [100_000n, 31338n, alice.address] }));
  await measure("poolRedeem", asAlice.writeContract({ address: pool, abi: tengeStablecoinAbi, functionName: "redeem", args: [100_000n, "KZ-DA-EXCHANGE-0042"] }));

  // HTLC on the foreign leg's token. The HTLC and the receiver already hold the token (steady state).
  const issuer = wallet(deployerKey);
  await measure("issueForeign", issuer.writeContract({ address: foreign, abi: demoForeignCbdcAbi, functionName: "issue", args: [alice.address, 10n ** 9n] }));
  await measure("issueForeignReceiver", issuer.writeContract({ address: foreign, abi: demoForeignCbdcAbi, functionName: "issue", args: [bob.address, 1n] }));
  await measure("approveHtlc", asAlice.writeContract({ address: foreign, abi: demoForeignCbdcAbi, functionName: "approve", args: [htlc, 2n ** 255n] }));
  let saltCounter = 0n;
  const lock = async (label: string, receiver: Address, expiry: bigint, preimage: Hex) => {
    saltCounter += 1n;
    const salt = toHex(saltCounter, { size: 32 });
    const hashLock = hashLockOf(preimage);
    await measure(label, asAlice.writeContract({
      address: htlc, abi: hashTimeLockAbi, functionName: "lock", args: [salt, receiver, foreign, 1_000n, hashLock, expiry],
    }));
    const id = hashTimeLockSwapId(alice.address, salt);
    return { id, terms: { sender: alice.address, receiver, token: foreign, amount: 1_000n, hashLock, expiry } };
  };
  // Random-looking secrets: calldata costs more for non-zero bytes, so small numbers would flatter claim.
  const preimage = (n: number) => keccak256(toHex(n));
  const later = (await now()) + 86_400n;
  await lock("htlcLockFirstEver", bob.address, later, preimage(900));
  const swap = await lock("htlcLock", bob.address, later, preimage(1));
  await measure("htlcClaim", wallet(carolKey).writeContract({ address: htlc, abi: hashTimeLockAbi, functionName: "claim", args: [swap.id, swap.terms, preimage(1)] }));
  const toNew = await lock("htlcLockToNewReceiver", carol.address, later, preimage(2));
  await measure("htlcClaimToNewHolder", wallet(carolKey).writeContract({ address: htlc, abi: hashTimeLockAbi, functionName: "claim", args: [toNew.id, toNew.terms, preimage(2)] }));
  // The same HTLC with the stablecoin as the locked token (its transfers also check pause and blocklist).
  await measure("approveHtlcStablecoin", asAlice.writeContract({ address: token, abi: tengeStablecoinAbi, functionName: "approve", args: [htlc, 10n ** 6n] }));
  const stableTerms = { sender: alice.address, receiver: bob.address, token, amount: 1_000n, hashLock: hashLockOf(preimage(7)), expiry: later };
  for (const [label, salt] of [["htlcLockStablecoinFirst", 101n], ["htlcLockStablecoin", 102n]] as const) {
    await measure(label, asAlice.writeContract({
      address: htlc, abi: hashTimeLockAbi, functionName: "lock",
      args: [toHex(salt, { size: 32 }), bob.address, token, 1_000n, stableTerms.hashLock, later],
    }));
  }
  await measure("htlcClaimStablecoin", wallet(carolKey).writeContract({
    address: htlc, abi: hashTimeLockAbi, functionName: "claim",
    args: [hashTimeLockSwapId(alice.address, toHex(102n, { size: 32 })), stableTerms, preimage(7)],
  }));
  const expiring = await lock("htlcLockShort", bob.address, (await now()) + 60n, preimage(3));
  await client.request({ method: "evm_increaseTime" as never, params: [120] as never });
  await client.request({ method: "evm_mine" as never, params: [] as never });
  await measure("htlcRefund", wallet(carolKey).writeContract({ address: htlc, abi: hashTimeLockAbi, functionName: "refund", args: [expiring.id, expiring.terms] }));

  // The security on the DvP leg: every transfer runs the compliance check (registry reads, freezes, pause).
  const bond = deployment.contracts.SecurityToken!.address;
  await measure("securityTransferToExistingHolder", asAlice.writeContract({ address: bond, abi: securityTokenAbi, functionName: "transfer", args: [bob.address, 5n] }));
  await measure("securityApproveDelivery", asAlice.writeContract({ address: bond, abi: securityTokenAbi, functionName: "approveDelivery", args: [htlc, carol.address, 20n] }));
  await measure("securityApproveDeliveryAgain", asAlice.writeContract({ address: bond, abi: securityTokenAbi, functionName: "approveDelivery", args: [htlc, carol.address, 10n] }));
  const bondTerms = (amount: bigint, preimageNumber: number) => ({ sender: alice.address, receiver: carol.address, token: bond, amount, hashLock: hashLockOf(preimage(preimageNumber)), expiry: later });
  for (const [label, salt, amount, secret] of [["htlcLockSecurityFirst", 201n, 20n, 20], ["htlcLockSecurity", 202n, 10n, 21]] as const) {
    const terms = bondTerms(amount, secret);
    await measure(label, asAlice.writeContract({ address: htlc, abi: hashTimeLockAbi, functionName: "lock", args: [toHex(salt, { size: 32 }), carol.address, bond, amount, terms.hashLock, later] }));
    const claimLabel = label === "htlcLockSecurity" ? "htlcClaimSecurity" : "htlcClaimSecurityToNewHolder";
    await measure(claimLabel, wallet(carolKey).writeContract({ address: htlc, abi: hashTimeLockAbi, functionName: "claim", args: [hashTimeLockSwapId(alice.address, toHex(salt, { size: 32 })), terms, preimage(secret)] }));
  }

  const reported = [
    "mintToExistingHolder", "mintToNewHolder", "statementAndMint", "submitStatement", "transferToExistingHolder",
    "transferToNewHolder", "permit", "transferWithAuthorization", "redeem", "htlcLock", "htlcLockFirstEver",
    "htlcClaim", "htlcClaimToNewHolder", "htlcRefund", "htlcLockStablecoin", "htlcClaimStablecoin",
    "securityTransferToExistingHolder", "securityApproveDelivery", "securityApproveDeliveryAgain", "htlcLockSecurityFirst",
    "htlcLockSecurity", "htlcClaimSecurityToNewHolder", "htlcClaimSecurity",
    "poolSubmitAllotmentFirst", "poolSubmitAllotment", "poolMintToNewHolder", "poolMintToExistingHolder", "poolMoveOutFirstEver", "poolMoveOut", "poolRedeem",
  ];
  const width = Math.max(...reported.map((label) => label.length));
  for (const label of reported) {
    const budget = budgets[label];
    const verdict = budget === undefined ? "" : `  budget ${budget} ${figures[label]! <= budget ? "ok" : "EXCEEDED"}`;
    console.log(`${label.padEnd(width)}  ${String(figures[label]).padStart(7)}${verdict}`);
  }
  const withinBudget = Object.entries(budgets).every(([label, budget]) => figures[label]! <= budget);
  console.log(JSON.stringify({ gas: Object.fromEntries(reported.map((label) => [label, figures[label]])), budgets, withinBudget }));
  if (!withinBudget) process.exitCode = 1;
} finally {
  await chain.close();
}
