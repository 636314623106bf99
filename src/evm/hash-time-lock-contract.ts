import { encodeFunctionData, type Address, type Hex, type PublicClient } from "viem";
import { hashTimeLockAbi } from "./generated/contracts.ts";
import type { HashTimeLockTerms } from "./hash-time-lock.ts";
import type { EvmCall } from "./signed-transaction.ts";

/** The contract's `SwapState` enum, in its order. */
export const SWAP_STATES = ["absent", "locked", "claimed", "refunded"] as const;
export type SwapState = (typeof SWAP_STATES)[number];

/**
 * One deployed HashTimeLock contract: its reads (at a block when given), the Claimed event's preimage,
 * and its writes as calls for a transaction sender.
 *
 * @example
 * const htlc = new HashTimeLockContract(client, address);
 * if ((await htlc.swapState(id)) === "locked") await sender.send(htlc.claimCall(id, terms, preimage));
 */
export class HashTimeLockContract {
  readonly client: PublicClient;
  readonly address: Address;

  constructor(client: PublicClient, address: Address) {
    this.client = client;
    this.address = address;
  }

  async swapState(id: Hex, blockNumber?: bigint): Promise<SwapState> {
    const state = await this.client.readContract({ address: this.address, abi: hashTimeLockAbi, functionName: "swapState", args: [id], ...(blockNumber === undefined ? {} : { blockNumber }) });
    return SWAP_STATES[Number(state)] ?? "absent";
  }

  /** Whether the swap locked under `id` has exactly these terms. */
  matchesLockedTerms(id: Hex, terms: HashTimeLockTerms, blockNumber?: bigint): Promise<boolean> {
    return this.client.readContract({ address: this.address, abi: hashTimeLockAbi, functionName: "matchesLockedTerms", args: [id, terms], ...(blockNumber === undefined ? {} : { blockNumber }) });
  }

  /** The preimage the swap's Claimed event published, searched in `fromBlock..toBlock`; undefined if none. */
  async claimedPreimage(id: Hex, blocks: { fromBlock: bigint; toBlock: bigint }): Promise<Hex | undefined> {
    const [claimed] = await this.client.getContractEvents({ address: this.address, abi: hashTimeLockAbi, eventName: "Claimed", args: { id }, ...blocks, strict: true });
    return claimed?.args.preimage;
  }

  /** Locks `terms.amount` of `terms.token` from the caller (who is `terms.sender`) under the swap id of `salt`. */
  lockCall(salt: Hex, terms: HashTimeLockTerms): EvmCall {
    return { to: this.address, data: encodeFunctionData({ abi: hashTimeLockAbi, functionName: "lock", args: [salt, terms.receiver, terms.token, terms.amount, terms.hashLock, terms.expiry] }) };
  }

  claimCall(id: Hex, terms: HashTimeLockTerms, preimage: Hex): EvmCall {
    return { to: this.address, data: encodeFunctionData({ abi: hashTimeLockAbi, functionName: "claim", args: [id, terms, preimage] }) };
  }

  refundCall(id: Hex, terms: HashTimeLockTerms): EvmCall {
    return { to: this.address, data: encodeFunctionData({ abi: hashTimeLockAbi, functionName: "refund", args: [id, terms] }) };
  }
}
