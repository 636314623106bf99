import { createServer } from "node:net";
import { createHardhatRuntimeEnvironment } from "hardhat/hre";
import type { Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";

/** Hardhat's well-known development mnemonic: its keys are public, so the chain is for development only. */
export const DEVELOPMENT_MNEMONIC = "test test test test test test test test test test test junk";

export interface StartEmbeddedChainParameters {
  /** Interface to bind; loopback by default (the dev keys are public). */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  chainId?: number;
  /** Number of funded development accounts (default 10). */
  accountCount?: number;
  mnemonic?: string;
  /**
   * Also produce a block every this many milliseconds, so block numbers and timestamps move on without
   * traffic (confirmations, expiries). 0 (default): blocks only for transactions and `evm_mine`.
   */
  blockIntervalMs?: number;
}

export interface EmbeddedChain {
  rpcUrl: string;
  chainId: number;
  /** Private keys of the funded development accounts, in derivation order. */
  accounts: Hex[];
  close(): Promise<void>;
}

/**
 * Starts an in-process EVM chain (Hardhat 3 / EDR) behind Hardhat's HTTP and WebSocket JSON-RPC server.
 * The embedded gateway, the fork tests and integration tests use it like any remote chain, by URL.
 *
 * @example
 * const chain = await startEmbeddedChain();
 * const client = createPublicClient({ transport: http(chain.rpcUrl) });
 * await chain.close();
 */
export async function startEmbeddedChain(parameters: StartEmbeddedChainParameters = {}): Promise<EmbeddedChain> {
  const host = parameters.host ?? "127.0.0.1";
  const chainId = parameters.chainId ?? 31337;
  const count = parameters.accountCount ?? 10;
  const mnemonic = parameters.mnemonic ?? DEVELOPMENT_MNEMONIC;
  const hre = await createHardhatRuntimeEnvironment({
    networks: {
      embedded: {
        type: "edr-simulated",
        chainType: "l1",
        chainId,
        hardfork: "cancun",
        accounts: { mnemonic, count, accountsBalance: 10n ** 24n },
        ...(parameters.blockIntervalMs ? { mining: { auto: true, interval: parameters.blockIntervalMs } } : {}),
        // Blocks closer than a second apart share a timestamp rather than run ahead of the clock: automine
        // makes a block per transaction, and at a few hundred a second chain time (which judges HTLC
        // expiries) ran minutes ahead of the wall clock, so locks with a wall-clock expiry were refused.
        allowBlocksWithSameTimestamp: true,
      },
    },
  });
  if (parameters.port) await assertPortFree(host, parameters.port);
  const server = await hre.network.createServer({ network: "embedded" }, host, parameters.port ?? 0);
  const { address, port } = await server.listen();
  const accounts = Array.from({ length: count }, (_, addressIndex) => {
    const privateKey = mnemonicToAccount(mnemonic, { addressIndex }).getHdKey().privateKey;
    if (!privateKey) throw new Error("the HD key has no private key");
    return `0x${Buffer.from(privateKey).toString("hex")}` as Hex;
  });
  const urlHost = address.includes(":") ? `[${address}]` : address;
  return { rpcUrl: `http://${urlHost}:${port}`, chainId, accounts, close: () => server.close() };
}

/**
 * Hardhat's JSON-RPC server reports a taken port as an unhandled error event that ends the process, so the
 * port is tried first and a taken one is an ordinary EADDRINUSE error (code, address and port, as Node's).
 */
function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
