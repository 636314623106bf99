import { createPublicClient, http, type Chain, type Hex, type PublicClient, type TransactionReceipt } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { TransactionRevertedError } from "./errors.ts";
import { chainAt } from "./evm-chain.ts";
import { DEFAULT_FEE_BUMP_PERCENT, marketFees, replacementFees, type Fees } from "./fees.ts";
import { signCall, type EvmCall } from "./signed-transaction.ts";

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

  /** Sends a call and resolves with its receipt once confirmed; reverts reject. */
  send(call: EvmCall): Promise<TransactionReceipt> {
    // Nonces are handed out one at a time; the wait for confirmation happens outside the queue.
    const sent = this.queue.then(() => this.submit(call));
    this.queue = sent.catch(() => undefined);
    return sent.then(({ hash, nonce, fees }) => this.confirm(call, hash, nonce, fees));
  }

  /** Signs the call under `nonce` with a gas limit 20% above the estimate, and hands it to the node. */
  private async sendSigned(call: EvmCall, nonce: number, fees: Fees): Promise<Hex> {
    const gas = call.gas ?? (await this.publicClient.estimateGas({ account: this.account, to: call.to, data: call.data }));
    const signed = await signCall(this.account, { chainId: this.chainId, call: { to: call.to, data: call.data, gas: (gas * 12n) / 10n }, nonce: BigInt(nonce), fees });
    return this.publicClient.sendRawTransaction({ serializedTransaction: signed.raw });
  }

  private async submit(call: EvmCall): Promise<{ hash: Hex; nonce: number; fees: Fees }> {
    if (this.nextNonce === undefined) {
      this.nextNonce = await this.publicClient.getTransactionCount({ address: this.account.address, blockTag: "pending" });
    }
    const nonce = this.nextNonce;
    const fees = await marketFees(this.publicClient);
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
      try {
        const receipt = await this.publicClient.waitForTransactionReceipt({
          hash: hashes[hashes.length - 1]!,
          confirmations: this.options.confirmations ?? 1,
          timeout: stuckAfter,
          onReplaced: () => undefined,
        });
        if (receipt.status !== "success") throw new TransactionRevertedError(receipt.transactionHash);
        return receipt;
      } catch (error) {
        if (!(error instanceof Error) || error.name !== "WaitForTransactionReceiptTimeoutError" || replacement >= (this.options.maxReplacements ?? 3)) throw error;
        // An earlier version may have been mined meanwhile; then that one is the answer.
        for (const hash of hashes) {
          const mined = await this.publicClient.getTransactionReceipt({ hash }).catch(() => undefined);
          if (mined) {
            if (mined.status !== "success") throw new TransactionRevertedError(mined.transactionHash);
            return mined;
          }
        }
        // Stuck: the same call again under the same nonce with higher fees replaces it in the mempool.
        fees = replacementFees(await marketFees(this.publicClient), fees, this.options.feeBumpPercent ?? DEFAULT_FEE_BUMP_PERCENT);
        hashes.push(await this.sendSigned(call, nonce, fees));
        this.replacements++;
      }
    }
  }
}
