import { BaseError, encodeFunctionData, erc20Abi, getAddress, keccak256, maxUint256, toHex, type Address, type Hex } from "viem";
import { contractRevertName } from "../../evm/contract-revert.ts";
import { HashTimeLockContract } from "../../evm/hash-time-lock-contract.ts";
import { hashTimeLockSwapId, type HashTimeLockTerms } from "../../evm/hash-time-lock.ts";
import type { EvmCall } from "../../evm/signed-transaction.ts";
import { EvmTransactionSender, type EvmTransactionSenderOptions } from "../../evm/transaction-sender.ts";
import { LegError, type HashLockedLegPort, type LedgerAsset, type LegInstruction, type LegLockReceipt, type LegObservation } from "../leg-port.ts";

export interface EvmHtlcLegOptions {
  /** Ledger name in PvP legs (default `evm`). */
  ledger?: string;
  rpcUrl: string;
  hashTimeLock: Address;
  /** The foreign CBDC's ERC-20 for legs in `currency` (with `unitsPerMinor`). */
  token?: Address;
  /** ISO 4217 code of the currency `token` stands for. */
  currency?: string;
  /** The ERC-20 of each currency and its base units per minor unit of that currency. */
  tokens?: Record<string, { address: Address; unitsPerMinor: bigint }>;
  /** Keys of the payers this gateway locks for (their addresses are leg payers); the first also submits claims and refunds. */
  signerKeys: Hex[];
  /** Token base units per minor unit of the leg's currency (1 when the token has the currency's decimals). */
  unitsPerMinor?: bigint;
  confirmations?: number;
  /** First block to search for Claimed events (the HTLC's deployment block). */
  fromBlock?: bigint;
  sender?: Omit<EvmTransactionSenderOptions, "rpcUrl" | "privateKey" | "confirmations">;
}

/**
 * A PvP leg on an EVM chain: the foreign CBDC as an ERC-20 locked in the HashTimeLock contract. The swap
 * id comes from a salt derived from the leg key (keccak256(abi.encode(payer, salt))), so a retried lock
 * finds the swap it already made instead of locking twice. Expiries are judged by chain time.
 */
export class EvmHtlcLeg implements HashLockedLegPort {
  readonly ledger: string;
  private readonly options: EvmHtlcLegOptions;
  private readonly senders: Map<Address, EvmTransactionSender>;
  private readonly submitter: EvmTransactionSender;
  private readonly htlc: HashTimeLockContract;
  private readonly approved = new Set<Address>();
  /** The currencies this ledger carries; legs in any other currency, or with other decimals, are refused. */
  readonly assets: readonly LedgerAsset[];

  private constructor(options: EvmHtlcLegOptions, senders: EvmTransactionSender[], assets: LedgerAsset[]) {
    this.options = options;
    this.assets = assets;
    this.ledger = options.ledger ?? "evm";
    this.senders = new Map(senders.map((sender) => [sender.account.address, sender]));
    this.submitter = senders[0]!;
    this.htlc = new HashTimeLockContract(this.submitter.publicClient, options.hashTimeLock);
  }

  static async connect(options: EvmHtlcLegOptions): Promise<EvmHtlcLeg> {
    if (options.signerKeys.length === 0) throw new Error("the EVM leg needs at least one signer key");
    const senders = await Promise.all(
      options.signerKeys.map((privateKey) =>
        EvmTransactionSender.connect({ ...options.sender, rpcUrl: options.rpcUrl, privateKey, confirmations: options.confirmations ?? 1 }),
      ),
    );
    const assets = await Promise.all(
      Object.entries(tokensOf(options)).map(async ([currency, token]) => {
        // The leg's minor unit is unitsPerMinor token base units: its decimals are the token's less those.
        const tokenDecimals = await senders[0]!.publicClient.readContract({ address: token.address, abi: erc20Abi, functionName: "decimals" });
        const scale = token.unitsPerMinor.toString();
        if (!/^10*$/.test(scale)) throw new Error(`unitsPerMinor of ${currency} must be a power of ten`);
        return { currency, decimals: Number(tokenDecimals) - (scale.length - 1) };
      }),
    );
    return new EvmHtlcLeg(options, senders, assets);
  }

  private get client() {
    return this.submitter.publicClient;
  }

  private saltOf(leg: LegInstruction): Hex {
    return keccak256(toHex(leg.key));
  }

  private tokenOf(currency: string): { address: Address; unitsPerMinor: bigint } {
    const configured = tokensOf(this.options)[currency];
    if (configured) return configured;
    throw new LegError("REJECTED", `no token for ${currency} on ${this.ledger}`, { permanent: true });
  }

  private termsOf(leg: LegInstruction): HashTimeLockTerms {
    const token = this.tokenOf(leg.terms.currency);
    return {
      sender: getAddress(leg.terms.payer),
      receiver: getAddress(leg.terms.beneficiary),
      token: token.address,
      amount: leg.terms.amount * token.unitsPerMinor,
      hashLock: leg.terms.hashLock,
      expiry: BigInt(Math.floor(leg.terms.expiresAt.getTime() / 1000)),
    };
  }

  referenceOf(leg: LegInstruction): string {
    return hashTimeLockSwapId(getAddress(leg.terms.payer), this.saltOf(leg));
  }

  /** The block whose state counts: `confirmations - 1` below the head. */
  private async confirmedBlock(): Promise<bigint> {
    // No cached block number: a lock mined a moment ago must be seen at once.
    const head = await this.client.getBlockNumber({ cacheTime: 0 });
    const depth = BigInt(Math.max(0, (this.options.confirmations ?? 1) - 1));
    return head > depth ? head - depth : 0n;
  }

  private async run(sender: EvmTransactionSender, call: EvmCall): Promise<void> {
    // Simulate first: a revert is a clean refusal with the contract's error name, not a mined failure.
    await this.client.call({ account: sender.account, to: call.to, data: call.data });
    await sender.send(call);
  }

  async lock(leg: LegInstruction): Promise<LegLockReceipt> {
    const id = this.referenceOf(leg) as Hex;
    try {
      if ((await this.htlc.swapState(id)) !== "absent") return { reference: id };
      const terms = this.termsOf(leg);
      const sender = this.senders.get(terms.sender);
      if (!sender) throw new LegError("REJECTED", `no signer for payer ${terms.sender}`, { permanent: true });
      const balance = await this.client.readContract({ address: terms.token, abi: erc20Abi, functionName: "balanceOf", args: [terms.sender] });
      if (balance < terms.amount) throw new LegError("INSUFFICIENT_FUNDS", `payer holds ${balance} < ${terms.amount}`);
      if (!this.approved.has(terms.sender)) {
        const allowance = await this.client.readContract({ address: terms.token, abi: erc20Abi, functionName: "allowance", args: [terms.sender, this.options.hashTimeLock] });
        if (allowance < terms.amount) {
          await sender.send({ to: terms.token, data: encodeFunctionData({ abi: erc20Abi, functionName: "approve", args: [this.options.hashTimeLock, maxUint256] }) });
        }
        this.approved.add(terms.sender);
      }
      await this.run(sender, this.htlc.lockCall(this.saltOf(leg), terms));
      return { reference: id };
    } catch (error) {
      throw this.legError(error);
    }
  }

  async claim(leg: LegInstruction, preimage: Hex): Promise<void> {
    const id = this.referenceOf(leg) as Hex;
    try {
      const state = await this.htlc.swapState(id);
      if (state === "claimed") return;
      if (state === "refunded") throw new LegError("EXPIRED", "the swap was refunded", { permanent: true });
      if (state === "absent") throw new LegError("UNAVAILABLE", "the swap is not locked yet");
      await this.run(this.submitter, this.htlc.claimCall(id, this.termsOf(leg), preimage));
    } catch (error) {
      throw this.legError(error);
    }
  }

  async refund(leg: LegInstruction, _options?: { early: boolean }): Promise<void> {
    const id = this.referenceOf(leg) as Hex;
    try {
      const state = await this.htlc.swapState(id);
      if (state === "claimed" || state === "refunded") return;
      if (state === "absent") {
        // Nothing locked: done once chain time passed the expiry (no lock can land after it).
        if ((await this.now()).getTime() >= leg.terms.expiresAt.getTime()) return;
        throw new LegError("NOT_YET_EXPIRED", "nothing is locked yet and the expiry has not passed");
      }
      await this.run(this.submitter, this.htlc.refundCall(id, this.termsOf(leg)));
    } catch (error) {
      throw this.legError(error);
    }
  }

  async observe(leg: LegInstruction): Promise<LegObservation> {
    const id = this.referenceOf(leg) as Hex;
    try {
      const blockNumber = await this.confirmedBlock();
      const status = await this.htlc.swapState(id, blockNumber);
      const observation: LegObservation = { status };
      if (status === "locked") {
        const matches = await this.htlc.matchesLockedTerms(id, this.termsOf(leg), blockNumber);
        if (!matches) observation.termsMismatch = true;
      }
      // The initiator holds the secret; only a responder needs it read back from the Claimed event.
      if (status === "claimed" && leg.pvp.role === "responder") {
        const preimage = await this.htlc.claimedPreimage(id, { fromBlock: this.options.fromBlock ?? 0n, toBlock: blockNumber });
        if (preimage) observation.preimage = preimage;
      }
      return observation;
    } catch (error) {
      throw this.legError(error);
    }
  }

  async now(): Promise<Date> {
    try {
      const block = await this.client.getBlock({ blockTag: "latest" });
      return new Date(Number(block.timestamp) * 1000);
    } catch (error) {
      throw this.legError(error);
    }
  }

  private legError(error: unknown): unknown {
    if (error instanceof LegError) return error;
    const name = contractRevertName(error);
    switch (name) {
      case "SwapExpired":
        return new LegError("EXPIRED", "the swap expired", { permanent: true });
      case "SwapNotExpired":
        return new LegError("NOT_YET_EXPIRED", "the swap has not expired yet");
      case "ExpiryNotInFuture":
      case "SwapTermsInvalid":
      case "SwapTermsMismatch":
        return new LegError("REJECTED", `the HTLC refused: ${name}`, { permanent: true });
      case "PreimageMismatch":
      case "PreimageLengthInvalid":
        return new LegError("WRONG_PREIMAGE", `the HTLC refused: ${name}`, { permanent: true });
      case undefined:
        return new LegError("UNAVAILABLE", `chain call failed: ${error instanceof BaseError ? error.shortMessage : String(error)}`);
      default:
        return new LegError("UNAVAILABLE", `the HTLC refused: ${name}`);
    }
  }
}

/** The token of each currency: `tokens`, plus `token` for `currency` when given. */
function tokensOf(options: EvmHtlcLegOptions): Record<string, { address: Address; unitsPerMinor: bigint }> {
  const tokens = { ...options.tokens };
  if (options.token) {
    if (!options.currency) throw new Error("an EVM leg's token needs the currency it stands for");
    tokens[options.currency] ??= { address: options.token, unitsPerMinor: options.unitsPerMinor ?? 1n };
  }
  return tokens;
}
