import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

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

export interface EvmCall {
  to: Hex;
  data: Hex;
  gas?: bigint;
}

/**
 * Sends one account's transactions in order with nonces it manages itself, so concurrent PvPs never
 * collide on a nonce, waits for the configured confirmation depth, and replaces a transaction that sits
 * unmined (same nonce, fees raised) rather than waiting on it forever.
 */
export class EvmTransactionSender {
  readonly account: Account;
  readonly publicClient: PublicClient;
  private readonly wallet: WalletClient<Transport, Chain, Account>;
  private readonly options: EvmTransactionSenderOptions;
  private nextNonce: number | undefined;
  /** Transactions replaced because they sat unmined (for metrics and tests). */
  replacements = 0;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(options: EvmTransactionSenderOptions, chain: Chain) {
    this.options = options;
    this.account = privateKeyToAccount(options.privateKey);
    const transport = http(options.rpcUrl, { batch: false });
    this.publicClient = createPublicClient({ chain, transport, pollingInterval: options.pollingIntervalMs ?? 250 }) as PublicClient;
    this.wallet = createWalletClient({ account: this.account, chain, transport });
  }

  static async connect(options: EvmTransactionSenderOptions): Promise<EvmTransactionSender> {
    const chainId = await createPublicClient({ transport: http(options.rpcUrl) }).getChainId();
    const chain = defineChain({
      id: chainId,
      name: `chain ${chainId}`,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [options.rpcUrl] } },
    });
    return new EvmTransactionSender(options, chain);
  }

  /** Sends a call and resolves with its receipt once confirmed; reverts reject. */
  send(call: EvmCall): Promise<TransactionReceipt> {
    // Nonces are handed out one at a time; the wait for confirmation happens outside the queue.
    const sent = this.queue.then(() => this.submit(call));
    this.queue = sent.catch(() => undefined);
    return sent.then(({ hash, nonce, fees }) => this.confirm(call, hash, nonce, fees));
  }

  private async fees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
    const estimate = await this.publicClient.estimateFeesPerGas();
    return { maxFeePerGas: estimate.maxFeePerGas, maxPriorityFeePerGas: estimate.maxPriorityFeePerGas };
  }

  private async submit(call: EvmCall): Promise<{ hash: Hex; nonce: number; fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } }> {
    if (this.nextNonce === undefined) {
      this.nextNonce = await this.publicClient.getTransactionCount({ address: this.account.address, blockTag: "pending" });
    }
    const nonce = this.nextNonce;
    const fees = await this.fees();
    const gas = call.gas ?? (await this.publicClient.estimateGas({ account: this.account, to: call.to, data: call.data }));
    try {
      const hash = await this.wallet.sendTransaction({ to: call.to, data: call.data, nonce, gas: (gas * 12n) / 10n, ...fees });
      this.nextNonce = nonce + 1;
      return { hash, nonce, fees };
    } catch (error) {
      // The node's view of the nonce wins after any refusal (e.g. another process used the account).
      this.nextNonce = undefined;
      throw error;
    }
  }

  private async confirm(call: EvmCall, firstHash: Hex, nonce: number, firstFees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }): Promise<TransactionReceipt> {
    const stuckAfter = this.options.stuckAfterMs ?? 30_000;
    const bump = BigInt(100 + (this.options.feeBumpPercent ?? 25));
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
        if (receipt.status !== "success") throw new Error(`transaction ${receipt.transactionHash} reverted`);
        return receipt;
      } catch (error) {
        if (!(error instanceof Error) || error.name !== "WaitForTransactionReceiptTimeoutError" || replacement >= (this.options.maxReplacements ?? 3)) throw error;
        // An earlier version may have been mined meanwhile; then that one is the answer.
        for (const hash of hashes) {
          const mined = await this.publicClient.getTransactionReceipt({ hash }).catch(() => undefined);
          if (mined) {
            if (mined.status !== "success") throw new Error(`transaction ${mined.transactionHash} reverted`, { cause: error });
            return mined;
          }
        }
        // Stuck: the same call again under the same nonce with higher fees replaces it in the mempool.
        fees = { maxFeePerGas: (fees.maxFeePerGas * bump) / 100n, maxPriorityFeePerGas: (fees.maxPriorityFeePerGas * bump) / 100n };
        const gas = call.gas ?? (await this.publicClient.estimateGas({ account: this.account, to: call.to, data: call.data }));
        hashes.push(await this.wallet.sendTransaction({ to: call.to, data: call.data, nonce, gas: (gas * 12n) / 10n, ...fees }));
        this.replacements++;
      }
    }
  }
}
