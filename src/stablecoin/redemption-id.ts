import { encodeAbiParameters, keccak256, type Hex } from "viem";

/** The idempotency key of a redemption: the chain's own name for its Redeemed log. */
export function redemptionId(chainId: number, txHash: Hex, logIndex: number): string {
  return `${chainId}:${txHash.toLowerCase()}:${logIndex}`;
}

/**
 * The token's id of the same redemption (`reverseRedemption`, `isRedemptionReversed`):
 * keccak256(abi.encode(transaction hash, log index)). The chain id is the token's own.
 */
export function onChainRedemptionId(id: string): Hex {
  const [, txHash, logIndex] = id.split(":");
  if (!txHash || !/^0x[0-9a-f]{64}$/.test(txHash) || !logIndex || !/^\d+$/.test(logIndex)) throw new Error(`not a redemption id: ${id}`);
  return keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [txHash as Hex, BigInt(logIndex)]));
}
