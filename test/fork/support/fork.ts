import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Contract, JsonRpcProvider, JsonRpcSigner, BrowserProvider, getAddress, toBeHex, type Signer } from "ethers";
import { createHardhatRuntimeEnvironment } from "hardhat/hre";
import { hashTimeLockAbi, tengeStablecoinAbi } from "../../../src/evm/generated/contracts.ts";
import { parseDeployment } from "../../../src/evm/deployments.ts";

/**
 * Opens an in-process Hardhat fork of the chain at FORK_URL, at block FORK_BLOCK (default: its latest),
 * with the stablecoin and HTLC addresses from DEPLOYMENTS_FILE, or DEPLOYMENTS_DIR/<chainId>.json, or
 * STABLECOIN_ADDRESS and HTLC_ADDRESS. Integrators drive it with ethers v6, like any provider.
 */
export async function openFork(env: NodeJS.ProcessEnv = process.env) {
  const url = env["FORK_URL"];
  if (!url) throw new Error("FORK_URL is not set: run the suite with `npm run test:fork` (see docs/contracts.md)");
  const remote = new JsonRpcProvider(url);
  const remoteChainId = Number((await remote.getNetwork()).chainId);
  const blockNumber = env["FORK_BLOCK"] ? Number(env["FORK_BLOCK"]) : await remote.getBlockNumber();
  remote.destroy();
  const addresses = await resolveAddresses(env, remoteChainId);

  // Hardhat needs to know the forked chain's hardforks; new blocks on the fork follow FORK_HARDFORK.
  const hardfork = env["FORK_HARDFORK"] ?? "cancun";
  const hre = await createHardhatRuntimeEnvironment({
    chainDescriptors: {
      [remoteChainId]: { name: `chain ${remoteChainId}`, chainType: "l1", hardforkHistory: { [hardfork]: { blockNumber: 0 } } },
    },
    networks: {
      // The fork keeps the chain's id, so what is signed for it (EIP-712 domains, allotment entries) holds there.
      fork: { type: "edr-simulated", chainType: "l1", chainId: remoteChainId, hardfork, forking: { url, blockNumber } },
    },
  });
  const connection = await hre.network.create({ network: "fork" });
  // No response cache: ethers reuses identical calls for 250 ms, too long for a chain that mines at once.
  const provider = new BrowserProvider(connection.provider, undefined, { cacheTimeout: -1 });
  provider.pollingInterval = 20;
  const chainId = Number((await provider.getNetwork()).chainId);

  return {
    provider,
    chainId,
    blockNumber,
    addresses,
    stablecoin: new Contract(addresses.stablecoin, tengeStablecoinAbi, provider),
    htlc: new Contract(addresses.htlc, hashTimeLockAbi, provider),
    /** A funded development account of the fork (EDR's local accounts). */
    account: (index: number): Promise<Signer> => provider.getSigner(index),
    /** Acts as any address on the fork (role holders of the real deployment), funded for gas. */
    async impersonate(address: string): Promise<Signer> {
      await provider.send("hardhat_impersonateAccount", [address]);
      await provider.send("hardhat_setBalance", [address, toBeHex(10n ** 20n)]);
      return new JsonRpcSigner(provider, address);
    },
    /** Moves the fork's clock forward and mines a block. */
    async advance(seconds: number) {
      await provider.send("evm_increaseTime", [seconds]);
      await provider.send("evm_mine", []);
    },
    /** Chain time of the latest block. */
    async now(): Promise<bigint> {
      return BigInt((await provider.getBlock("latest"))!.timestamp);
    },
    close: () => connection.close(),
  };
}

export type Fork = Awaited<ReturnType<typeof openFork>>;

async function resolveAddresses(env: NodeJS.ProcessEnv, chainId: number) {
  if (env["STABLECOIN_ADDRESS"] && env["HTLC_ADDRESS"]) {
    return { stablecoin: getAddress(env["STABLECOIN_ADDRESS"]), htlc: getAddress(env["HTLC_ADDRESS"]) };
  }
  const path = env["DEPLOYMENTS_FILE"] ?? join(env["DEPLOYMENTS_DIR"] ?? "deployments", `${chainId}.json`);
  const deployment = parseDeployment(path, await readFile(path, "utf8"));
  return { stablecoin: deployment.contracts.TengeStablecoin.address, htlc: deployment.contracts.HashTimeLock.address };
}
