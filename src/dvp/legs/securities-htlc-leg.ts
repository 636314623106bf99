import { BaseError, decodeErrorResult, getAddress, keccak256, toHex, type Address, type Hex } from "viem";
import { contractRevertName } from "../../evm/contract-revert.ts";
import { hashTimeLockAbi, securityTokenAbi } from "../../evm/generated/contracts.ts";
import { HashTimeLockContract } from "../../evm/hash-time-lock-contract.ts";
import { hashTimeLockSwapId, type HashTimeLockTerms } from "../../evm/hash-time-lock.ts";
import { SECURITY_REFUSALS, SecurityTokenContract, type DeliveryCheckReturnType } from "../../evm/security-token.ts";
import type { EvmCall } from "../../evm/signed-transaction.ts";
import { EvmTransactionSender, type EvmTransactionSenderOptions } from "../../evm/transaction-sender.ts";
import { LegError, type LedgerAsset, type LegInstruction, type LegLockReceipt, type LegObservation, type LegTerms } from "../../pvp/leg-port.ts";
import type { SecuritiesLegPort } from "../securities-leg.ts";

export interface SecuritiesHtlcLegOptions {
  /** Ledger name in exchange legs (default `securities`). */
  ledger?: string;
  rpcUrl: string;
  hashTimeLock: Address;
  /** The SecurityToken delivered on this leg. */
  security: Address;
  /** Keys of the holdings this gateway delivers from (their addresses are leg payers); the first also submits claims and refunds. */
  signerKeys: Hex[];
  confirmations?: number;
  /** First block to search for Claimed events (the HTLC's deployment block). */
  fromBlock?: bigint;
  sender?: Omit<EvmTransactionSenderOptions, "rpcUrl" | "privateKey" | "confirmations">;
}

/**
 * The securities leg of a DvP: a SecurityToken locked in the HashTimeLock. Before the lock it runs the
 * token's compliance check for the final delivery seller -> buyer and the seller's approveDelivery, so a
 * delivery compliance would refuse is refused before anything is locked, and a locked delivery can always
 * be claimed by the buyer or refunded to the seller (see docs/contracts.md). Swap ids come from the leg key
 * as on the cash-against-cash EVM leg, so a retried lock never locks twice; expiries are judged by chain time.
 */
export class SecuritiesHtlcLeg implements SecuritiesLegPort {
  readonly ledger: string;
  readonly security: { isin: string; decimals: number };
  readonly assets: readonly LedgerAsset[];
  private readonly options: SecuritiesHtlcLegOptions;
  private readonly senders: Map<Address, EvmTransactionSender>;
  private readonly submitter: EvmTransactionSender;
  private readonly htlc: HashTimeLockContract;
  private readonly token: SecurityTokenContract;

  private constructor(options: SecuritiesHtlcLegOptions, senders: EvmTransactionSender[], security: { isin: string; decimals: number }) {
    this.options = options;
    this.ledger = options.ledger ?? "securities";
    this.security = security;
    this.assets = [{ currency: security.isin, decimals: security.decimals }];
    this.senders = new Map(senders.map((sender) => [sender.account.address, sender]));
    this.submitter = senders[0]!;
    this.htlc = new HashTimeLockContract(this.submitter.publicClient, options.hashTimeLock);
    this.token = new SecurityTokenContract(this.submitter.publicClient, options.security);
  }

  static async connect(options: SecuritiesHtlcLegOptions): Promise<SecuritiesHtlcLeg> {
    if (options.signerKeys.length === 0) throw new Error("the securities leg needs at least one signer key");
    const senders = await Promise.all(
      options.signerKeys.map((privateKey) =>
        EvmTransactionSender.connect({ ...options.sender, rpcUrl: options.rpcUrl, privateKey, confirmations: options.confirmations ?? 1 }),
      ),
    );
    const token = new SecurityTokenContract(senders[0]!.publicClient, options.security);
    const [isin, decimals] = await Promise.all([token.isin(), token.decimals()]);
    return new SecuritiesHtlcLeg(options, senders, { isin, decimals });
  }

  private get client() {
    return this.submitter.publicClient;
  }

  private saltOf(leg: LegInstruction): Hex {
    return keccak256(toHex(leg.key));
  }

  private assertSecurity(currency: string): void {
    if (currency !== this.security.isin) throw new LegError("REJECTED", `ledger ${this.ledger} delivers ${this.security.isin}, not ${currency}`, { permanent: true });
  }

  private termsOf(leg: LegInstruction): HashTimeLockTerms {
    this.assertSecurity(leg.terms.currency);
    return {
      sender: getAddress(leg.terms.payer),
      receiver: getAddress(leg.terms.beneficiary),
      token: this.options.security,
      amount: leg.terms.amount,
      hashLock: leg.terms.hashLock,
      expiry: BigInt(Math.floor(leg.terms.expiresAt.getTime() / 1000)),
    };
  }

  referenceOf(leg: LegInstruction): string {
    return hashTimeLockSwapId(getAddress(leg.terms.payer), this.saltOf(leg));
  }

  async precheck(terms: Pick<LegTerms, "payer" | "beneficiary" | "amount" | "currency">): Promise<DeliveryCheckReturnType> {
    this.assertSecurity(terms.currency);
    try {
      return await this.token.checkDelivery({ seller: getAddress(terms.payer), buyer: getAddress(terms.beneficiary), amount: terms.amount, custodian: this.options.hashTimeLock });
    } catch (error) {
      throw this.legError(error);
    }
  }

  private async confirmedBlock(): Promise<bigint> {
    const head = await this.client.getBlockNumber({ cacheTime: 0 });
    const depth = BigInt(Math.max(0, (this.options.confirmations ?? 1) - 1));
    return head > depth ? head - depth : 0n;
  }

  private async run(sender: EvmTransactionSender, call: EvmCall): Promise<void> {
    // Simulate first: a revert is a clean refusal with the contract's error name, not a mined failure.
    try {
      await this.client.call({ account: sender.account, to: call.to, data: call.data });
    } catch (error) {
      const decoded = revertOf(error);
      if (decoded) throw this.revertError(decoded.errorName, decoded.args);
      throw error;
    }
    await sender.send(call);
  }

  async lock(leg: LegInstruction): Promise<LegLockReceipt> {
    const id = this.referenceOf(leg) as Hex;
    try {
      if ((await this.htlc.swapState(id)) !== "absent") return { reference: id };
      const terms = this.termsOf(leg);
      const sender = this.senders.get(terms.sender);
      if (!sender) throw new LegError("REJECTED", `no signer for holding ${terms.sender}`, { permanent: true });
      const delivery = { seller: terms.sender, buyer: terms.receiver, amount: terms.amount, custodian: this.options.hashTimeLock };
      // Compliance is asked again at every lock attempt, so nothing locks on a stale answer.
      const check = await this.token.checkDelivery(delivery);
      if (!check.deliverable) throw refusedDelivery(check.refusal);
      // A retry after a crash between approveDelivery and lock finds the approval and goes straight to the lock.
      const [approved, buyerIsParty] = await Promise.all([
        this.token.approvedDelivery(terms.sender, this.options.hashTimeLock),
        this.token.isDeliveryParty(this.options.hashTimeLock, terms.receiver),
      ]);
      if (approved < terms.amount || !buyerIsParty) await this.run(sender, this.token.approveDeliveryCall(delivery));
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
      if (state === "refunded") throw new LegError("EXPIRED", "the delivery was refunded", { permanent: true });
      if (state === "absent") throw new LegError("UNAVAILABLE", "the delivery is not locked yet");
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
      if (status === "locked" && !(await this.htlc.matchesLockedTerms(id, this.termsOf(leg), blockNumber))) observation.termsMismatch = true;
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
    if (name === undefined) return new LegError("UNAVAILABLE", `chain call failed: ${error instanceof BaseError ? error.shortMessage : String(error)}`);
    return this.revertError(name, revertArgs(error));
  }

  private revertError(name: string, args: readonly unknown[] | undefined): LegError {
    switch (name) {
      case "TransferRefused":
        return refusedDelivery(SECURITY_REFUSALS[Number(args?.[3] ?? 0)] ?? "unknown");
      case "ERC20InsufficientBalance":
        return new LegError("INSUFFICIENT_FUNDS", "the seller's holding is short of the units to deliver");
      case "SwapExpired":
        return new LegError("EXPIRED", "the delivery expired", { permanent: true });
      case "SwapNotExpired":
        return new LegError("NOT_YET_EXPIRED", "the delivery has not expired yet");
      case "ExpiryNotInFuture":
      case "SwapTermsInvalid":
      case "SwapTermsMismatch":
        return new LegError("REJECTED", `the HTLC refused: ${name}`, { permanent: true });
      case "PreimageMismatch":
      case "PreimageLengthInvalid":
        return new LegError("WRONG_PREIMAGE", `the HTLC refused: ${name}`, { permanent: true });
      default:
        return new LegError("UNAVAILABLE", `the chain refused: ${name}`);
    }
  }
}

const revertAbi = [...hashTimeLockAbi, ...securityTokenAbi];

/** The custom error of a simulated call's revert, decoded with the HTLC's and the token's ABIs. */
function revertOf(error: unknown): { errorName: string; args: readonly unknown[] | undefined } | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const withData = error.walk((cause) => typeof (cause as { data?: unknown }).data === "string");
  const data = (withData as { data?: Hex } | null)?.data;
  if (!data || data.length < 10) return undefined;
  try {
    const decoded = decodeErrorResult({ abi: revertAbi, data });
    return { errorName: decoded.errorName, args: decoded.args as readonly unknown[] | undefined };
  } catch {
    return undefined;
  }
}

function revertArgs(error: unknown): readonly unknown[] | undefined {
  const reverted = error instanceof BaseError ? error.walk((cause) => Array.isArray((cause as { data?: { args?: unknown } }).data?.args)) : undefined;
  return (reverted as { data?: { args?: readonly unknown[] } } | null | undefined)?.data?.args;
}

/** The compliance refusal as a permanent leg refusal: nothing was locked, and retrying will not change it. */
function refusedDelivery(refusal: string): LegError {
  if (refusal === "insufficientUnfrozenBalance") return new LegError("INSUFFICIENT_FUNDS", "the seller's unfrozen holding is short of the units to deliver");
  return new LegError("REJECTED", `the security's compliance check refuses the delivery: ${refusal}`, { permanent: true });
}
