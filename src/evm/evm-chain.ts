import { createPublicClient, defineChain, http, type Chain } from "viem";

/**
 * A viem chain for any JSON-RPC endpoint, known only by its id (dev chains, private networks). Without an
 * URL (a client on a custom transport) the chain lists no endpoint.
 */
export function evmChain(chainId: number, rpcUrl?: string): Chain {
  return defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: rpcUrl === undefined ? [] : [rpcUrl] } },
  });
}

/** The chain behind an endpoint: asks it for its id once, then defines it as `evmChain` does. */
export async function chainAt(rpcUrl: string): Promise<Chain> {
  const chainId = await createPublicClient({ transport: http(rpcUrl) }).getChainId();
  return evmChain(chainId, rpcUrl);
}
