import { createPublicClient, http, WaitForTransactionReceiptTimeoutError, type Chain, type Hex, type PublicClient, type TransactionReceipt } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { TransactionRevertedError } from "./errors.ts";
import { chainAt } from "./evm-chain.ts";
import { DEFAULT_FEE_BUMP_PERCENT, marketFees, replacementFees, type Fees } from "./fees.ts";
import { broadcastSigned, signCall, type EvmCall } from "./signed-transaction.ts";

/**
 * Gas on top of an estimate, besides 20%: the estimate holds for the state it ran on (the latest block),
 * but the transaction runs after this key's earlier transactions and anyone else's. One storage write
 * costs up to 17,100 more when its slot was emptied in between (EIP-2200: 20,000 for a zero slot against
 * 2,900), e.g. a lock after claims took the HTLC's balance of a token to zero; 20% of a ~70,000 gas lock
 * does not cover that, and the lock ran out of gas. Unused gas is not paid for.
 */
export const GAS_HEADROOM = 25_000n;

/** The gas limit for a call the node estimated at `estimate`: 20% above it plus `GAS_HEADROOM`. */
export function gasLimitOf(estimate: bigint): bigint {
  return (estimate * 12n) / 10n + GAS_HEADROOM;
}

export interface EvmTransactionSenderOptions {
  rpcUrl: string;
  /** Never logged. */
  privateKey: Hex;
  /** Blocks on top of the one that includes a transaction before it counts (1 = included). */
  confirmations?: number;
  /** A transaction not mined after this long is replaced (same nonce, higher fees). */
  stuckAfterMs?: number;
  pollingIntervalMs?: number;
  /** Fee increase per replacement, in percent (nodes want >= 10). */
  feeBumpPercent?: number;
  maxReplacements?: number;
  /**
   * How long the market's fees, once read, are used for new transactions (default 1000 ms). A transaction
   * priced under a sudden rise sits unmined and is replaced at the market's fees after `stuckAfterMs`.
   */
  feesCacheMs?: number;
}

/**
 * Sends one account's transactions in order with nonces it manages itself, so concurrent PvPs never
 * collide on a nonce, waits for the configured confirmation depth, and replaces a transaction that sits
 * unmined (same nonce, fees raised by `replacementFees`) rather than waiting on it forever.
 *
 * @example
 * const sender = await EvmTransactionSender.connect({ rpcUrl, privateKey });
 * const receipt = await sender.send({ to: token, data });
 */
export class EvmTransactionSender {
  readonly account: PrivateKeyAccount;
  readonly publicClient: PublicClient;
  private readonly chainId: number;
  private readonly options: EvmTransactionSenderOptions;
  private nextNonce: number | undefined;
  /** Transactions replaced because they sat unmined (for metrics and tests). */
  replacements = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private fees: { value: Promise<Fees>; at: number } | undefined;

  private constructor(options: EvmTransactionSenderOptions, chain: Chain) {
    this.options = options;
    this.chainId = chain.id;
    this.account = privateKeyToAccount(options.privateKey);
    const transport = http(options.rpcUrl, { batch: false });
    this.publicClient = createPublicClient({ chain, transport, pollingInterval: options.pollingIntervalMs ?? 250 }) as PublicClient;
  }

  static async connect(options: EvmTransactionSenderOptions): Promise<EvmTransactionSender> {
    return new EvmTransactionSender(options, await chainAt(options.rpcUrl));
  }

  /**
   * Sends a call and resolves with its receipt once confirmed; reverts reject. The gas estimate and the
   * fees are read before the call takes its place in the queue, so the queue holds only signing and
   * handing over under the next nonce: many transactions from one key are in flight at once, in order.
   */
  send(call: EvmCall): Promise<TransactionReceipt> {
    const prepared = Promise.all([this.gasOf(call), this.marketFeesNow()]);
    const sent = this.queue.then(async () => {
      const [gas, fees] = await prepared;
      return this.submit({ ...call, gas }, fees);
    });
    this.queue = sent.catch(() => undefined);
    return sent.then(({ hash, nonce, fees }) => this.confirm(call, hash, nonce, fees));
  }

  /** The call's gas limit: its own, or the node's estimate with room for a different state (`gasLimitOf`). */
  private async gasOf(call: EvmCall): Promise<bigint> {
    if (call.gas !== undefined) return call.gas;
    // prepare: false: only eth_estimateGas; viem would otherwise read the nonce and the fees first (three
    // more JSON-RPC calls per transaction, all of which this sender has or caches itself).
    return gasLimitOf(await this.publicClient.estimateGas({ account: this.account, to: call.to, data: call.data, prepare: false }));
  }

  /** The market's fees, read at most once per `feesCacheMs` (a failed read is not kept). */
  private marketFeesNow(): Promise<Fees> {
    const now = Date.now();
    if (this.fees && now - this.fees.at < (this.options.feesCacheMs ?? 1000)) return this.fees.value;
    const value = marketFees(this.publicClient);
    const entry = { value, at: now };
    this.fees = entry;
    value.catch(() => {
      if (this.fees === entry) this.fees = undefined;
    });
    return value;
  }

  /** Signs the call under `nonce` and hands it to the node. */
  private async sendSigned(call: EvmCall & { gas: bigint }, nonce: number, fees: Fees): Promise<Hex> {
    const signed = await signCall(this.account, { chainId: this.chainId, call, nonce: BigInt(nonce), fees });
    return this.publicClient.sendRawTransaction({ serializedTransaction: signed.raw });
  }

  private async submit(call: EvmCall & { gas: bigint }, fees: Fees): Promise<{ hash: Hex; nonce: number; fees: Fees }> {
    if (this.nextNonce === undefined) {
      this.nextNonce = await this.publicClient.getTransactionCount({ address: this.account.address, blockTag: "pending" });
    }
    const nonce = this.nextNonce;
    try {
      const hash = await this.sendSigned(call, nonce, fees);
      this.nextNonce = nonce + 1;
      return { hash, nonce, fees };
    } catch (error) {
      // The node's view of the nonce wins after any refusal (e.g. another process used the account).
      this.nextNonce = undefined;
      throw error;
    }
  }

  private async confirm(call: EvmCall, firstHash: Hex, nonce: number, firstFees: Fees): Promise<TransactionReceipt> {
    const stuckAfter = this.options.stuckAfterMs ?? 30_000;
    const hashes = [firstHash];
    let fees = firstFees;
    for (let replacement = 0; ; replacement++) {
      // Any version of the call that is mined is the answer (an earlier one may win over its replacement).
      const receipt = await this.receiptOfAny(hashes, Date.now() + stuckAfter);
      if (receipt) {
        if (receipt.status !== "success") throw new TransactionRevertedError(receipt.transactionHash);
        return receipt;
      }
      if (replacement >= (this.options.maxReplacements ?? 3)) throw new WaitForTransactionReceiptTimeoutError({ hash: hashes[hashes.length - 1]! });
      // Stuck: the same call again under the same nonce with higher fees replaces it in the mempool.
      fees = replacementFees(await marketFees(this.publicClient), fees, this.options.feeBumpPercent ?? DEFAULT_FEE_BUMP_PERCENT);
      // An earlier version mined since the last look makes the node refuse this one ("nonce too low"):
      // not a failure, the next look finds that version's receipt.
      const signed = await signCall(this.account, { chainId: this.chainId, call: { ...call, gas: await this.gasOf(call) }, nonce: BigInt(nonce), fees });
      await broadcastSigned(this.publicClient, signed.raw);
      hashes.push(signed.hash);
      this.replacements++;
    }
  }

  /**
   * The receipt of whichever of `hashes` is mined, once it has the configured confirmations; at `deadline`
   * the receipt of one that is mined but not yet that deep (it is not replaced), else undefined. Asked at once and then at growing intervals up to the polling interval: a node that mines
   * on arrival answers the first time, instead of after a whole polling interval (one JSON-RPC call, not a
   * block-number watch plus a receipt read per block).
   */
  private async receiptOfAny(hashes: readonly Hex[], deadline: number): Promise<TransactionReceipt | undefined> {
    const confirmations = BigInt(this.options.confirmations ?? 1);
    const longest = this.options.pollingIntervalMs ?? 250;
    let mined: TransactionReceipt | undefined;
    for (let delay = 5; ; delay = Math.min(delay * 2, longest)) {
      mined = undefined;
      for (const hash of hashes) {
        const receipt = await this.publicClient.getTransactionReceipt({ hash }).catch(() => undefined);
        if (!receipt) continue;
        if (confirmations <= 1n) return receipt;
        const head = await this.publicClient.getBlockNumber({ cacheTime: 0 });
        if (head - receipt.blockNumber + 1n >= confirmations) return receipt;
        mined = receipt;
      }
      const left = deadline - Date.now();
      if (left <= 0) return mined;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
    }
  }
}
