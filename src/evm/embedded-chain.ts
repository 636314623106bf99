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
      },
    },
  });
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
