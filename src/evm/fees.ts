import { parseTransaction, type Hex, type PublicClient } from "viem";

/** EIP-1559 fees of one transaction, in wei per gas. */
export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/** Nodes accept a replacement only with fees at least 10% higher; 25% leaves room. */
export const DEFAULT_FEE_BUMP_PERCENT = 25;

/** What the chain asks for now (viem's estimate from the latest block and the node's tip). */
export async function marketFees(client: PublicClient): Promise<Fees> {
  const estimate = await client.estimateFeesPerGas();
  return { maxFeePerGas: estimate.maxFeePerGas, maxPriorityFeePerGas: estimate.maxPriorityFeePerGas };
}

/**
 * The one fee-bump policy, for a transaction that sits unmined and is sent again under its nonce: the
 * market's fees, but each at least `bumpPercent` above the stuck transaction's (and above it by one wei
 * at least, so a zero fee still rises).
 *
 * @example
 * const fees = replacementFees(await marketFees(client), stuck.fees);
 */
export function replacementFees(market: Fees, stuck: Fees, bumpPercent: number = DEFAULT_FEE_BUMP_PERCENT): Fees {
  const bump = (fee: bigint) => (fee * BigInt(100 + bumpPercent)) / 100n + 1n;
  const max = (a: bigint, b: bigint) => (a > b ? a : b);
  return {
    maxFeePerGas: max(market.maxFeePerGas, bump(stuck.maxFeePerGas)),
    maxPriorityFeePerGas: max(market.maxPriorityFeePerGas, bump(stuck.maxPriorityFeePerGas)),
  };
}

/** The fees a signed transaction offers (zero where it names none). */
export function feesOfSigned(raw: Hex): Fees {
  const transaction = parseTransaction(raw);
  return { maxFeePerGas: transaction.maxFeePerGas ?? 0n, maxPriorityFeePerGas: transaction.maxPriorityFeePerGas ?? 0n };
}
