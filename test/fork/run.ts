/**
 * `npm run test:fork`: the fork suite for integrators.
 *
 * Without FORK_URL: starts a local Hardhat node on loopback, deploys the contracts, makes some activity
 * (statement, mint, transfer, redeem, an HTLC lock), notes the block, mints once more after it, then runs
 * test/fork against a fork of that node at the noted block. With FORK_URL (and optionally FORK_BLOCK,
 * DEPLOYMENTS_FILE or DEPLOYMENTS_DIR, or STABLECOIN_ADDRESS and HTLC_ADDRESS) it runs the same suite
 * against a fork of that chain. Exits with the suite's status.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createPublicClient, createWalletClient, http, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deployContracts } from "../../src/evm/deploy-contracts.ts";
import { startEmbeddedChain } from "../../src/evm/embedded-chain.ts";
import { evmChain } from "../../src/evm/evm-chain.ts";
import { hashTimeLockAbi, tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { hashLockOf } from "../../src/core/hash-lock.ts";
import { signCollateralStatement } from "../../src/ledger/collateral-statement.ts";

// vitest's bin script, found next to its package.json (the file is not in its exports map).
const vitest = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");

function runSuite(env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vitest, "run", "--config", "vitest.fork.config.ts"], { stdio: "inherit", env });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on("error", () => resolve(1));
  });
}

async function prepareLocalChain() {
  const chain = await startEmbeddedChain({ accountCount: 6 });
  const [deployerKey, signerKey, minterKey, aliceKey, bobKey] = chain.accounts as [Hex, Hex, Hex, Hex, Hex];
  const directory = await mkdtemp(join(tmpdir(), "fork-deployments-"));
  const minter = privateKeyToAccount(minterKey);
  const alice = privateKeyToAccount(aliceKey);
  const bob = privateKeyToAccount(bobKey);
  const { deployment, path } = await deployContracts({
    rpcUrl: chain.rpcUrl,
    deployerKey,
    collateralSigner: privateKeyToAccount(signerKey).address,
    segregatedAccount: "KZ-DA-SEGREGATED-0001",
    maxStatementAge: 3_600n,
    minters: [{ address: minter.address, allowance: 10n ** 12n }],
    deploymentsDir: directory,
  });
  const token = deployment.contracts.TengeStablecoin.address;
  const htlc = deployment.contracts.HashTimeLock.address;
  const transport = http(chain.rpcUrl);
  const evm = evmChain(chain.chainId, chain.rpcUrl);
  const client = createPublicClient({ chain: evm, transport });
  const send = async (key: Hex, request: Parameters<ReturnType<typeof createWalletClient>["writeContract"]>[0]) => {
    const wallet = createWalletClient({ account: privateKeyToAccount(key), chain: evm, transport });
    const hash = await wallet.writeContract(request as never);
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`activity transaction ${hash} reverted`);
  };

  const timestamp = (await client.getBlock()).timestamp;
  const statement = { account: "KZ-DA-SEGREGATED-0001", balance: 50_000_000n, paidOut: 0n, height: 1n, timestamp };
  const signature = await signCollateralStatement(signerKey, statement, { chainId: chain.chainId, verifyingContract: token });
  await send(minterKey, { address: token, abi: tengeStablecoinAbi, functionName: "mintWithCollateralStatement", args: [statement, signature, alice.address, 3_000_000n] } as never);
  await send(aliceKey, { address: token, abi: tengeStablecoinAbi, functionName: "transfer", args: [bob.address, 1_000_000n] } as never);
  await send(bobKey, { address: token, abi: tengeStablecoinAbi, functionName: "redeem", args: [200_000n, "KZ-DA-EXCHANGE-0042"] } as never);
  await send(aliceKey, { address: token, abi: tengeStablecoinAbi, functionName: "approve", args: [htlc, 100_000n] } as never);
  await send(aliceKey, {
    address: htlc, abi: hashTimeLockAbi, functionName: "lock",
    args: [toHex(1n, { size: 32 }), bob.address, token, 100_000n, hashLockOf(toHex(42n, { size: 32 })), timestamp + 86_400n],
  } as never);
  const forkBlock = await client.getBlockNumber();
  const supplyAtFork = await client.readContract({ address: token, abi: tengeStablecoinAbi, functionName: "totalSupply" });
  // Activity after the fork block, which the fork must not see.
  await send(minterKey, { address: token, abi: tengeStablecoinAbi, functionName: "mint", args: [alice.address, 1_234n] } as never);
  return { chain, directory, path, forkBlock, supplyAtFork };
}

let status: number;
if (process.env["FORK_URL"]) {
  status = await runSuite(process.env);
} else {
  const local = await prepareLocalChain();
  console.log(`fork tests: local node ${local.chain.rpcUrl}, forking at block ${local.forkBlock}`);
  try {
    status = await runSuite({
      ...process.env,
      FORK_URL: local.chain.rpcUrl,
      FORK_BLOCK: String(local.forkBlock),
      DEPLOYMENTS_FILE: local.path,
      FORK_EXPECTED_TOTAL_SUPPLY: String(local.supplyAtFork),
    });
  } finally {
    await local.chain.close();
    await rm(local.directory, { recursive: true, force: true });
  }
}
process.exit(status);
