import { BaseError, getAddress, keccak256, toHex, type Abi, type Address, type Hex, type PublicClient } from "viem";
import { contractRevert, type ContractRevert } from "../../evm/contract-revert.ts";
import { hashTimeLockAbi } from "../../evm/generated/contracts.ts";
import { chainFaultOf } from "../../evm/operator-faults.ts";
import { HashTimeLockContract, SWAP_STATES, type SwapState } from "../../evm/hash-time-lock-contract.ts";
import { hashTimeLockSwapId, type HashTimeLockTerms } from "../../evm/hash-time-lock.ts";
import type { EvmCall } from "../../evm/signed-transaction.ts";
import { EvmTransactionSender, type EvmTransactionSenderOptions } from "../../evm/transaction-sender.ts";
import { LegError, type LegInstruction, type LegLockReceipt, type LegObservation } from "../leg-port.ts";

/** How a leg reaches the HashTimeLock contract: the chain, the contract, the keys it signs with. */
export interface HashTimeLockConnection {
  rpcUrl: string;
  hashTimeLock: Address;
  /** Keys of the payers this gateway locks for (their addresses are leg payers); the first also submits claims and refunds. */
  signerKeys: Hex[];
  confirmations?: number;
  /** First block to search for Claimed events (the HTLC's deployment block). */
  fromBlock?: bigint;
  sender?: Omit<EvmTransactionSenderOptions, "rpcUrl" | "privateKey" | "confirmations">;
}

/** What a leg on the HashTimeLock adds to the contract's own rules: its asset's terms and refusals. */
export interface HashTimeLockAsset {
  /** What a locked leg is called in refusals ("swap", "delivery"). */
  noun: string;
  /** The contract terms of a leg; throws a permanent LegError for a leg this ledger cannot carry. */
  termsOf(leg: LegInstruction): HashTimeLockTerms;
  /** Custom errors of the asset's token, besides the HTLC's, to decode reverts with. */
  tokenAbi: Abi;
  /** A token's revert as a leg refusal; undefined leaves it retryable (UNAVAILABLE). */
  tokenRefusal(revert: ContractRevert): LegError | undefined;
}

/**
 * The part every leg on the HashTimeLock contract shares, whatever token it locks: swap ids from a salt
 * derived from the leg key (keccak256(abi.encode(payer, salt))), so a retried lock finds the swap it made
 * instead of locking twice; calls simulated before they are sent, so a revert is a clean refusal decoded
 * by name; claims, refunds and observations by the swap's state at the confirmed block; chain time as the
 * ledger's clock. The cash leg (evm-htlc-leg.ts) and the securities leg (src/dvp) add their token's checks.
 */
export class HashTimeLockLeg {
  readonly htlc: HashTimeLockContract;
  readonly submitter: EvmTransactionSender;
  private readonly senders: Map<Address, EvmTransactionSender>;
  private readonly connection: HashTimeLockConnection;
  private readonly asset: HashTimeLockAsset;
  private readonly revertAbi: Abi;

  private constructor(connection: HashTimeLockConnection, senders: EvmTransactionSender[], asset: HashTimeLockAsset) {
    this.connection = connection;
    this.asset = asset;
    this.senders = new Map(senders.map((sender) => [sender.account.address, sender]));
    this.submitter = senders[0]!;
    this.htlc = new HashTimeLockContract(this.submitter.publicClient, connection.hashTimeLock);
    this.revertAbi = [...hashTimeLockAbi, ...asset.tokenAbi.filter((item) => item.type === "error")];
  }

  /** Connects one sender per signer key. */
  static async connect(connection: HashTimeLockConnection, asset: HashTimeLockAsset): Promise<HashTimeLockLeg> {
    if (connection.signerKeys.length === 0) throw new Error(`a leg on the HashTimeLock needs at least one signer key`);
    const senders = await Promise.all(
      connection.signerKeys.map((privateKey) =>
        EvmTransactionSender.connect({ ...connection.sender, rpcUrl: connection.rpcUrl, privateKey, confirmations: connection.confirmations ?? 1 }),
      ),
    );
    return new HashTimeLockLeg(connection, senders, asset);
  }

  get client(): PublicClient {
    return this.submitter.publicClient;
  }

  saltOf(leg: LegInstruction): Hex {
    return keccak256(toHex(leg.key));
  }

  referenceOf(leg: LegInstruction): Hex {
    return hashTimeLockSwapId(getAddress(leg.terms.payer), this.saltOf(leg));
  }

  /** The sender that signs for a payer; a payer without a key here is refused. */
  senderFor(payer: Address): EvmTransactionSender {
    const sender = this.senders.get(payer);
    if (!sender) throw new LegError("REJECTED", `no signer for payer ${payer}`, { permanent: true });
    return sender;
  }

  /**
   * Runs a call against the chain's state before it is sent, so a revert is a clean refusal with its error
   * decoded and nothing is sent: the sender's gas estimate is that run (a reverting call has no estimate);
   * a call with its own gas limit is simulated with eth_call first. A revert that `done` accepts means the
   * call's work is done already (a retried lock, a claim someone else submitted).
   */
  async run(sender: EvmTransactionSender, call: EvmCall, done?: (revert: ContractRevert) => boolean): Promise<void> {
    try {
      if (call.gas !== undefined) await this.client.call({ account: sender.account, to: call.to, data: call.data });
      await sender.send(call);
    } catch (error) {
      const revert = contractRevert(error, this.revertAbi);
      if (revert && done?.(revert)) return;
      if (revert) throw this.refusal(revert);
      throw error;
    }
  }

  /**
   * Locks the leg unless its swap exists already; `prepare` runs the token's own steps first (balance,
   * allowance, compliance) with the terms and the payer's sender. When `prepared` says the payer's steps
   * are done already (an allowance given earlier), the lock goes to the chain without reading the swap's
   * state first: a retried lock is then refused SwapIdTaken, which answers it the same way.
   */
  async lock(
    leg: LegInstruction,
    prepare: (terms: HashTimeLockTerms, sender: EvmTransactionSender) => Promise<void>,
    prepared?: (terms: HashTimeLockTerms) => boolean,
  ): Promise<LegLockReceipt> {
    const id = this.referenceOf(leg);
    return this.guard(async () => {
      const terms = this.asset.termsOf(leg);
      const sender = this.senderFor(terms.sender);
      if (prepared?.(terms)) {
        await this.run(sender, this.htlc.lockCall(this.saltOf(leg), terms), (revert) => revert.name === "SwapIdTaken");
        return { reference: id };
      }
      if ((await this.htlc.swapState(id)) !== "absent") return { reference: id };
      await prepare(terms, sender);
      await this.run(sender, this.htlc.lockCall(this.saltOf(leg), terms));
      return { reference: id };
    });
  }

  /**
   * Claims without reading the swap's state first: the claim's own run (the gas estimate) is refused
   * SwapNotLocked with the state when the swap is not locked, which says what reading it would have.
   */
  async claim(leg: LegInstruction, preimage: Hex): Promise<void> {
    const id = this.referenceOf(leg);
    await this.guard(async () => {
      await this.run(this.submitter, this.htlc.claimCall(id, this.asset.termsOf(leg), preimage), (revert) => revert.name === "SwapNotLocked" && swapStateOf(revert) === "claimed");
    });
  }

  /** Refunds from the expiry on (chain time); the contract has no early refund. */
  async refund(leg: LegInstruction): Promise<void> {
    const id = this.referenceOf(leg);
    await this.guard(async () => {
      const state = await this.htlc.swapState(id);
      if (state === "claimed" || state === "refunded") return;
      if (state === "absent") {
        // Nothing locked: done once chain time passed the expiry (no lock can land after it).
        if ((await this.now()).getTime() >= leg.terms.expiresAt.getTime()) return;
        throw new LegError("NOT_YET_EXPIRED", "nothing is locked yet and the expiry has not passed");
      }
      await this.run(this.submitter, this.htlc.refundCall(id, this.asset.termsOf(leg)));
    });
  }

  async observe(leg: LegInstruction): Promise<LegObservation> {
    const id = this.referenceOf(leg);
    return this.guard(async () => {
      const blockNumber = await this.confirmedBlock();
      const status = await this.htlc.swapState(id, blockNumber);
      const observation: LegObservation = { status };
      if (status === "locked" && !(await this.htlc.matchesLockedTerms(id, this.asset.termsOf(leg), blockNumber))) observation.termsMismatch = true;
      // The initiator holds the secret; only a responder needs it read back from the Claimed event.
      if (status === "claimed" && leg.pvp.role === "responder") {
        const preimage = await this.htlc.claimedPreimage(id, { fromBlock: this.connection.fromBlock ?? 0n, toBlock: blockNumber });
        if (preimage) observation.preimage = preimage;
      }
      return observation;
    });
  }

  /** Chain time: expiries are judged by it. */
  async now(): Promise<Date> {
    return this.guard(async () => {
      const block = await this.client.getBlock({ blockTag: "latest" });
      return new Date(Number(block.timestamp) * 1000);
    });
  }

  /** Runs chain calls with every failure turned into a LegError. */
  async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.legError(error);
    }
  }

  /** Any failure as a LegError: a decoded revert by its name, anything else (the node, the network) retryable. */
  legError(error: unknown): LegError {
    if (error instanceof LegError) return error;
    const revert = contractRevert(error, this.revertAbi);
    if (revert) return this.refusal(revert);
    // What the operator fixes outside (fund a key, start the node) is said so, not as the node's own words.
    switch (chainFaultOf(error)) {
      case "NO_GAS":
        return new LegError("UNAVAILABLE", "NO_GAS: the key that sends this ledger's transactions has too little native currency for gas: fund it (a payer key of the ledger)");
      case "RPC_UNREACHABLE":
        return new LegError("UNAVAILABLE", `RPC_UNREACHABLE: the EVM node at ${this.connection.rpcUrl} does not answer: start it or fix the ledger's rpcUrl`);
      default:
        return new LegError("UNAVAILABLE", `chain call failed: ${error instanceof BaseError ? error.shortMessage : String(error)}`);
    }
  }

  /** The block whose state counts: `confirmations - 1` below the head. */
  private async confirmedBlock(): Promise<bigint> {
    // No cached block number: a lock mined a moment ago must be seen at once.
    const head = await this.client.getBlockNumber({ cacheTime: 0 });
    const depth = BigInt(Math.max(0, (this.connection.confirmations ?? 1) - 1));
    return head > depth ? head - depth : 0n;
  }

  private refusal(revert: ContractRevert): LegError {
    const noun = this.asset.noun;
    switch (revert.name) {
      case "SwapExpired":
        return new LegError("EXPIRED", `the ${noun} expired`, { permanent: true });
      case "SwapNotExpired":
        return new LegError("NOT_YET_EXPIRED", `the ${noun} has not expired yet`);
      case "ExpiryNotInFuture":
      case "SwapTermsInvalid":
      case "SwapTermsMismatch":
        return new LegError("REJECTED", `the HTLC refused: ${revert.name}`, { permanent: true });
      case "SwapNotLocked":
        // Claimed is no refusal (the caller's `done` takes it); a refunded swap never pays its receiver.
        if (swapStateOf(revert) === "refunded") return new LegError("EXPIRED", `the ${noun} was refunded`, { permanent: true });
        return new LegError("UNAVAILABLE", `the ${noun} is not locked (${swapStateOf(revert)})`);
      case "PreimageMismatch":
      case "PreimageLengthInvalid":
        return new LegError("WRONG_PREIMAGE", `the HTLC refused: ${revert.name}`, { permanent: true });
      default:
        return this.asset.tokenRefusal(revert) ?? new LegError("UNAVAILABLE", `the chain refused: ${revert.name}`);
    }
  }
}

/** The swap state a SwapNotLocked(id, state) revert names. */
function swapStateOf(revert: ContractRevert): SwapState {
  return SWAP_STATES[Number(revert.args[1])] ?? "absent";
}
