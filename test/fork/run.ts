/**
 * `npm run test:fork`: the fork suite for integrators, run once per chain of the deployment.
 *
 * Without FORK_URL: starts two local Hardhat nodes on loopback with different chain ids (the stablecoin on
 * two chains, one collateral pool, issuance allotments required), deploys the contracts on each, makes some
 * activity on each (allotment, statement, mint, transfer, redeem, an HTLC lock), notes the block, mints once more after it, then runs test/fork
 * against a fork of each node at its noted block. With FORK_URL (one RPC URL, or several separated by
 * commas: one per chain, FORK_BLOCK likewise) and DEPLOYMENTS_FILE or DEPLOYMENTS_DIR (or, for one chain,
 * STABLECOIN_ADDRESS and HTLC_ADDRESS) it runs the same suite against a fork of each of those chains. Exits
 * non-zero when the suite fails on any chain.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createPublicClient, createWalletClient, http, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deployContracts } from "../../src/evm/deploy-contracts.ts";
import { parseDeployment } from "../../src/evm/deployments.ts";
import { startEmbeddedChain, type EmbeddedChain } from "../../src/evm/embedded-chain.ts";
import { evmChain } from "../../src/evm/evm-chain.ts";
import { hashTimeLockAbi, tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { hashLockOf } from "../../src/core/hash-lock.ts";
import { signCollateralStatement } from "../../src/ledger/collateral-statement.ts";
import { signIssuanceAllotment, type IssuanceAllotment } from "../../src/ledger/issuance-allotment.ts";

// vitest's bin script, found next to its package.json (the file is not in its exports map).
const vitest = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");

/** The two local chains: Hardhat's default id and the next one. */
const LOCAL_CHAINS = [
  { chainId: 31337, minted: 3_000_000n },
  { chainId: 31338, minted: 1_700_000n },
] as const;

/** One chain the suite runs against: its environment for test/fork/support/fork.ts. */
interface ChainRun {
  label: string;
  env: Record<string, string>;
}

function runSuite(env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vitest, "run", "--config", "vitest.fork.config.ts"], { stdio: "inherit", env });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on("error", () => resolve(1));
  });
}

/** Starts a local chain and deploys on it, as for a pool over several chains (issuance allotments required). */
async function deployLocalChain(chainId: number, directory: string) {
  const chain = await startEmbeddedChain({ chainId, accountCount: 6 });
  const [deployerKey, signerKey, minterKey] = chain.accounts as [Hex, Hex, Hex];
  // One deployments directory, one file per chain id, as `contracts deploy` writes for each chain.
  const { deployment, path } = await deployContracts({
    rpcUrl: chain.rpcUrl,
    deployerKey,
    collateralSigner: privateKeyToAccount(signerKey).address,
    segregatedAccount: "KZ-DA-SEGREGATED-0001",
    maxStatementAge: 3_600n,
    minters: [{ address: privateKeyToAccount(minterKey).address, allowance: 10n ** 12n }],
    deploymentsDir: directory,
    requireIssuanceAllotments: true,
  });
  return { chain, path, token: deployment.contracts.TengeStablecoin.address, htlc: deployment.contracts.HashTimeLock.address };
}

/**
 * Activity on one chain of the pool: the ledger operator's first allotment (naming every chain, room for
 * what is minted here), a statement and a mint, a transfer, a redemption and an HTLC lock; the block is
 * noted, then one more mint the fork must not see.
 */
async function makeActivity(deployed: Awaited<ReturnType<typeof deployLocalChain>>, minted: bigint, pool: Array<{ chainId: number; token: Address }>) {
  const { chain, token, htlc } = deployed;
  const [, signerKey, minterKey, aliceKey, bobKey] = chain.accounts as [Hex, Hex, Hex, Hex, Hex];
  const alice = privateKeyToAccount(aliceKey);
  const bob = privateKeyToAccount(bobKey);
  const transport = http(chain.rpcUrl);
  const evm = evmChain(chain.chainId, chain.rpcUrl);
  const client = createPublicClient({ chain: evm, transport });
  const send = async (key: Hex, request: Parameters<ReturnType<typeof createWalletClient>["writeContract"]>[0]) => {
    const wallet = createWalletClient({ account: privateKeyToAccount(key), chain: evm, transport });
    const hash = await wallet.writeContract(request as never);
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`activity transaction ${hash} on chain ${chain.chainId} reverted`);
  };

  const timestamp = (await client.getBlock()).timestamp;
  const room = minted + 1_234n;
  const allotment: IssuanceAllotment = {
    account: "KZ-DA-SEGREGATED-0001",
    sequence: 1n,
    credited: room,
    moved: 0n,
    height: 1n,
    timestamp,
    chains: pool.map((entry) => ({ chainId: BigInt(entry.chainId), token: entry.token, issuanceLimit: entry.chainId === chain.chainId ? room : 0n })),
  };
  await send(minterKey, { address: token, abi: tengeStablecoinAbi, functionName: "submitIssuanceAllotment", args: [allotment, await signIssuanceAllotment(signerKey, allotment)] } as never);
  const statement = { account: "KZ-DA-SEGREGATED-0001", balance: 50_000_000n, paidOut: 0n, height: 1n, timestamp };
  const signature = await signCollateralStatement(signerKey, statement, { chainId: chain.chainId, verifyingContract: token });
  await send(minterKey, { address: token, abi: tengeStablecoinAbi, functionName: "mintWithCollateralStatement", args: [statement, signature, alice.address, minted] } as never);
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
  return { forkBlock, supplyAtFork };
}

/** FORK_URL (and FORK_BLOCK) as given: one run per URL, each with its own deployment file or the addresses. */
async function remoteRuns(env: NodeJS.ProcessEnv): Promise<ChainRun[]> {
  const urls = env["FORK_URL"]!.split(",").map((each) => each.trim()).filter(Boolean);
  const blocks = (env["FORK_BLOCK"] ?? "").split(",").map((each) => each.trim());
  if (env["FORK_BLOCK"] && blocks.length !== urls.length) throw new Error(`FORK_BLOCK names ${blocks.length} blocks for ${urls.length} FORK_URL chains`);
  if (urls.length > 1 && (env["DEPLOYMENTS_FILE"] || env["STABLECOIN_ADDRESS"])) {
    throw new Error("with several FORK_URL chains, name the deployments with DEPLOYMENTS_DIR (one <chainId>.json per chain)");
  }
  const runs: ChainRun[] = [];
  const pool: Array<{ chainId: number; token: Address }> = [];
  for (const [index, url] of urls.entries()) {
    const chainId = await createPublicClient({ transport: http(url) }).getChainId();
    const runEnv: Record<string, string> = { FORK_URL: url, FORK_EXPECTED_CHAIN_ID: String(chainId) };
    if (blocks[index]) runEnv["FORK_BLOCK"] = blocks[index];
    runs.push({ label: `chain ${chainId} (${url})`, env: runEnv });
    if (urls.length > 1) {
      const path = join(env["DEPLOYMENTS_DIR"] ?? "deployments", `${chainId}.json`);
      pool.push({ chainId, token: parseDeployment(path, await readFile(path, "utf8")).contracts.TengeStablecoin.address });
    }
  }
  // The suite signs allotments naming every chain of the pool, as the DT ledger operator would.
  if (pool.length > 1) for (const run of runs) run.env["FORK_POOL"] = JSON.stringify(pool);
  return runs;
}

const results: Array<{ label: string; status: number }> = [];
const runEach = async (runs: ChainRun[]) => {
  for (const run of runs) {
    console.log(`fork tests: ${run.label}`);
    // A chain's variables replace the caller's: FORK_URL with several URLs, or FORK_BLOCK, must not leak in.
    results.push({ label: run.label, status: await runSuite({ ...process.env, FORK_BLOCK: undefined, ...run.env }) });
  }
};

if (process.env["FORK_URL"]) {
  await runEach(await remoteRuns(process.env));
} else {
  const directory = await mkdtemp(join(tmpdir(), "fork-deployments-"));
  const chains: EmbeddedChain[] = [];
  try {
    const deployed = [];
    for (const { chainId } of LOCAL_CHAINS) {
      const local = await deployLocalChain(chainId, directory);
      chains.push(local.chain);
      deployed.push(local);
    }
    const poolChains = deployed.map((local) => ({ chainId: local.chain.chainId, token: local.token }));
    const prepared = [];
    for (const [index, local] of deployed.entries()) {
      const activity = await makeActivity(local, LOCAL_CHAINS[index]!.minted, poolChains);
      prepared.push({ ...local, ...activity });
      console.log(`fork tests: local chain ${local.chain.chainId} at ${local.chain.rpcUrl}, forking at block ${activity.forkBlock}`);
    }
    const pool = JSON.stringify(poolChains);
    await runEach(
      prepared.map((local) => ({
        label: `chain ${local.chain.chainId} (local)`,
        env: {
          FORK_URL: local.chain.rpcUrl,
          FORK_BLOCK: String(local.forkBlock),
          DEPLOYMENTS_FILE: local.path,
          FORK_EXPECTED_CHAIN_ID: String(local.chain.chainId),
          FORK_EXPECTED_TOTAL_SUPPLY: String(local.supplyAtFork),
          FORK_POOL: pool,
        },
      })),
    );
  } finally {
    for (const chain of chains) await chain.close();
    await rm(directory, { recursive: true, force: true });
  }
}
for (const result of results) console.log(`fork tests: ${result.label} ${result.status === 0 ? "passed" : "FAILED"}`);
process.exit(results.length > 0 && results.every((result) => result.status === 0) ? 0 : 1);
