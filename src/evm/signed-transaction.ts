import { keccak256, TransactionReceiptNotFoundError, type Address, type Hex, type PublicClient, type TransactionReceipt } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import type { Fees } from "./fees.ts";

/** One contract call as a transaction: the target and the ABI-encoded call data. */
export interface EvmCall {
  to: Address;
  data: Hex;
  /** Gas limit; estimated by the sender when absent. */
  gas?: bigint;
}

/** A transaction signed and not yet sent: its hash is known before any node sees it. */
export interface SignedTransaction {
  hash: Hex;
  raw: Hex;
  nonce: bigint;
  fees: Fees;
}

export interface SignCallParameters {
  chainId: number;
  call: EvmCall & { gas: bigint };
  nonce: bigint;
  fees: Fees;
}

/** Signs (does not send) an EIP-1559 transaction of `call` with the account's key. */
export async function signCall(account: PrivateKeyAccount, parameters: SignCallParameters): Promise<SignedTransaction> {
  const raw = await account.signTransaction({
    type: "eip1559",
    chainId: parameters.chainId,
    to: parameters.call.to,
    data: parameters.call.data,
    nonce: Number(parameters.nonce),
    gas: parameters.call.gas,
    maxFeePerGas: parameters.fees.maxFeePerGas,
    maxPriorityFeePerGas: parameters.fees.maxPriorityFeePerGas,
    value: 0n,
  });
  return { hash: keccak256(raw), raw, nonce: parameters.nonce, fees: parameters.fees };
}

const ALREADY_SEEN = ["already known", "nonce too low", "already imported", "known transaction"];

/**
 * Sends a signed transaction where sending the same bytes again is harmless: "already known" and "nonce
 * too low" only mean the chain has it (or its nonce is used), which a later look at the receipt sorts out.
 */
export async function broadcastSigned(client: PublicClient, raw: Hex): Promise<void> {
  try {
    await client.sendRawTransaction({ serializedTransaction: raw });
  } catch (error) {
    const text = String((error as Error).message).toLowerCase();
    if (ALREADY_SEEN.some((phrase) => text.includes(phrase))) return;
    throw error;
  }
}

/** The receipt of a transaction; undefined while it is not mined (or unknown to the node). */
export async function receiptOf(client: PublicClient, hash: Hex): Promise<TransactionReceipt | undefined> {
  try {
    return await client.getTransactionReceipt({ hash });
  } catch (error) {
    if (error instanceof TransactionReceiptNotFoundError) return undefined;
    throw error;
  }
}
