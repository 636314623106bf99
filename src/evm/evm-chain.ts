import { defineChain, type Chain } from "viem";

/** A viem chain for any JSON-RPC endpoint, known only by its id (dev chains, private networks). */
export function evmChain(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}
