import {
  BaseError,
  ContractFunctionRevertedError,
  encodeFunctionData,
  getAddress,
  keccak256,
  maxUint256,
  parseEventLogs,
  toHex,
  type Address,
  type Hex,
} from "viem";
import { demoForeignCbdcAbi, hashTimeLockAbi } from "../../evm/generated/contracts.ts";
import { hashTimeLockSwapId } from "../../evm/hash-time-lock.ts";
import { LegError, type HashLockedLegPort, type LegInstruction, type LegLockReceipt, type LegObservation } from "../leg-port.ts";
import { EvmTransactionSender, type EvmTransactionSenderOptions } from "./evm-transaction-sender.ts";

export interface EvmHtlcLegOptions {
  /** Ledger name in PvP legs (default `evm`). */
  ledger?: string;
  rpcUrl: string;
  hashTimeLock: Address;
  /** The foreign CBDC's ERC-20 for legs of any currency (with `unitsPerMinor`), when `tokens` has none for it. */
  token?: Address;
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

const SWAP_STATES = ["absent", "locked", "claimed", "refunded"] as const;

interface Terms {
  sender: Address;
  receiver: Address;
  token: Address;
  amount: bigint;
  hashLock: Hex;
  expiry: bigint;
}

/** The HTLC's custom error, if a call reverted with one. */
function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((cause) => cause instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined;
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
  private readonly approved = new Set<Address>();

  private constructor(options: EvmHtlcLegOptions, senders: EvmTransactionSender[]) {
    this.options = options;
    this.ledger = options.ledger ?? "evm";
    this.senders = new Map(senders.map((sender) => [sender.account.address, sender]));
    this.submitter = senders[0]!;
  }

  static async connect(options: EvmHtlcLegOptions): Promise<EvmHtlcLeg> {
    if (options.signerKeys.length === 0) throw new Error("the EVM leg needs at least one signer key");
    const senders = await Promise.all(
      options.signerKeys.map((privateKey) =>
        EvmTransactionSender.connect({ ...options.sender, rpcUrl: options.rpcUrl, privateKey, confirmations: options.confirmations ?? 1 }),
      ),
    );
    return new EvmHtlcLeg(options, senders);
  }

  private get client() {
    return this.submitter.publicClient;
  }

  private saltOf(leg: LegInstruction): Hex {
    return keccak256(toHex(leg.key));
  }

  private tokenOf(currency: string): { address: Address; unitsPerMinor: bigint } {
    const configured = this.options.tokens?.[currency];
    if (configured) return configured;
    if (this.options.token) return { address: this.options.token, unitsPerMinor: this.options.unitsPerMinor ?? 1n };
    throw new LegError("REJECTED", `no token for ${currency} on ${this.ledger}`, { permanent: true });
  }

  private termsOf(leg: LegInstruction): Terms {
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

  private async swapState(id: Hex, blockNumber?: bigint): Promise<(typeof SWAP_STATES)[number]> {
    const state = await this.client.readContract({ address: this.options.hashTimeLock, abi: hashTimeLockAbi, functionName: "swapState", args: [id], ...(blockNumber === undefined ? {} : { blockNumber }) });
    return SWAP_STATES[Number(state)] ?? "absent";
  }

  private async run(sender: EvmTransactionSender, data: Hex, to: Address = this.options.hashTimeLock): Promise<void> {
    // Simulate first: a revert is a clean refusal with the contract's error name, not a mined failure.
    await this.client.call({ account: sender.account, to, data });
    await sender.send({ to, data });
  }

  async lock(leg: LegInstruction): Promise<LegLockReceipt> {
    const id = this.referenceOf(leg) as Hex;
    try {
      if ((await this.swapState(id)) !== "absent") return { reference: id };
      const terms = this.termsOf(leg);
      const sender = this.senders.get(terms.sender);
      if (!sender) throw new LegError("REJECTED", `no signer for payer ${terms.sender}`, { permanent: true });
      const balance = await this.client.readContract({ address: terms.token, abi: demoForeignCbdcAbi, functionName: "balanceOf", args: [terms.sender] });
      if (balance < terms.amount) throw new LegError("INSUFFICIENT_FUNDS", `payer holds ${balance} < ${terms.amount}`);
      if (!this.approved.has(terms.sender)) {
        const allowance = await this.client.readContract({ address: terms.token, abi: demoForeignCbdcAbi, functionName: "allowance", args: [terms.sender, this.options.hashTimeLock] });
        if (allowance < terms.amount) {
          await sender.send({ to: terms.token, data: encodeFunctionData({ abi: demoForeignCbdcAbi, functionName: "approve", args: [this.options.hashTimeLock, maxUint256] }) });
        }
        this.approved.add(terms.sender);
      }
      const data = encodeFunctionData({
        abi: hashTimeLockAbi,
        functionName: "lock",
        args: [this.saltOf(leg), terms.receiver, terms.token, terms.amount, terms.hashLock, terms.expiry],
      });
      await this.run(sender, data);
      return { reference: id };
    } catch (error) {
      throw this.legError(error);
    }
  }

  async claim(leg: LegInstruction, preimage: Hex): Promise<void> {
    const id = this.referenceOf(leg) as Hex;
    try {
      const state = await this.swapState(id);
      if (state === "claimed") return;
      if (state === "refunded") throw new LegError("EXPIRED", "the swap was refunded", { permanent: true });
      if (state === "absent") throw new LegError("UNAVAILABLE", "the swap is not locked yet");
      await this.run(this.submitter, encodeFunctionData({ abi: hashTimeLockAbi, functionName: "claim", args: [id, this.termsOf(leg), preimage] }));
    } catch (error) {
      throw this.legError(error);
    }
  }

  async refund(leg: LegInstruction, _options?: { early: boolean }): Promise<void> {
    const id = this.referenceOf(leg) as Hex;
    try {
      const state = await this.swapState(id);
      if (state === "claimed" || state === "refunded") return;
      if (state === "absent") {
        // Nothing locked: done once chain time passed the expiry (no lock can land after it).
        if ((await this.now()).getTime() >= leg.terms.expiresAt.getTime()) return;
        throw new LegError("NOT_YET_EXPIRED", "nothing is locked yet and the expiry has not passed");
      }
      await this.run(this.submitter, encodeFunctionData({ abi: hashTimeLockAbi, functionName: "refund", args: [id, this.termsOf(leg)] }));
    } catch (error) {
      throw this.legError(error);
    }
  }

  async observe(leg: LegInstruction): Promise<LegObservation> {
    const id = this.referenceOf(leg) as Hex;
    try {
      const blockNumber = await this.confirmedBlock();
      const status = await this.swapState(id, blockNumber);
      const observation: LegObservation = { status };
      if (status === "locked") {
        const matches = await this.client.readContract({ address: this.options.hashTimeLock, abi: hashTimeLockAbi, functionName: "matchesLockedTerms", args: [id, this.termsOf(leg)], blockNumber });
        if (!matches) observation.termsMismatch = true;
      }
      // The initiator holds the secret; only a responder needs it read back from the Claimed event.
      if (status === "claimed" && leg.pvp.role === "responder") {
        const logs = await this.client.getLogs({
          address: this.options.hashTimeLock,
          event: hashTimeLockAbi.find((item) => item.type === "event" && item.name === "Claimed") as Extract<(typeof hashTimeLockAbi)[number], { type: "event"; name: "Claimed" }>,
          args: { id },
          fromBlock: this.options.fromBlock ?? 0n,
          toBlock: blockNumber,
        });
        const claimed = parseEventLogs({ abi: hashTimeLockAbi, logs, eventName: "Claimed" })[0];
        if (claimed) observation.preimage = claimed.args.preimage;
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
    const name = revertName(error);
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
