import { getAddress, type Address, type Hex } from "viem";
import { securityTokenAbi } from "../../evm/generated/contracts.ts";
import type { HashTimeLockTerms } from "../../evm/hash-time-lock.ts";
import { SECURITY_REFUSALS, SecurityTokenContract, type DeliveryCheckReturnType } from "../../evm/security-token.ts";
import type { EvmTransactionSenderOptions } from "../../evm/transaction-sender.ts";
import { LegError, type LedgerAsset, type LegInstruction, type LegLockReceipt, type LegObservation, type LegTerms } from "../../pvp/leg-port.ts";
import { HashTimeLockLeg } from "../../pvp/legs/hash-time-lock-leg.ts";
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
 * The securities leg of a DvP: a SecurityToken locked in the HashTimeLock (the contract's part, shared with
 * the cash leg, is src/pvp/legs/hash-time-lock-leg.ts). Before the lock it runs the token's compliance check
 * for the final delivery seller -> buyer and the seller's approveDelivery, so a delivery compliance would
 * refuse is refused before anything is locked, and a locked delivery can always be claimed by the buyer or
 * refunded to the seller (see docs/contracts.md). Expiries are judged by chain time.
 */
export class SecuritiesHtlcLeg implements SecuritiesLegPort {
  readonly ledger: string;
  readonly security: { isin: string; decimals: number };
  readonly assets: readonly LedgerAsset[];
  private readonly options: SecuritiesHtlcLegOptions;
  private readonly core: HashTimeLockLeg;
  private readonly token: SecurityTokenContract;

  private constructor(options: SecuritiesHtlcLegOptions, core: HashTimeLockLeg, security: { isin: string; decimals: number }) {
    this.options = options;
    this.ledger = options.ledger ?? "securities";
    this.security = security;
    this.assets = [{ currency: security.isin, decimals: security.decimals }];
    this.core = core;
    this.token = new SecurityTokenContract(core.client, options.security);
  }

  static async connect(options: SecuritiesHtlcLegOptions): Promise<SecuritiesHtlcLeg> {
    if (options.signerKeys.length === 0) throw new Error("the securities leg needs at least one signer key");
    // The ISIN is read at connect, before the first leg's terms are asked for.
    const security = { isin: "", decimals: 0 };
    const ledger = options.ledger ?? "securities";
    const core = await HashTimeLockLeg.connect(options, {
      noun: "delivery",
      termsOf: (leg) => termsOf(options, ledger, security, leg),
      tokenAbi: securityTokenAbi,
      tokenRefusal: (revert) => {
        if (revert.name === "TransferRefused") return refusedDelivery(SECURITY_REFUSALS[Number(revert.args[3] ?? 0)] ?? "unknown");
        if (revert.name === "ERC20InsufficientBalance") return new LegError("INSUFFICIENT_FUNDS", "the seller's holding is short of the units to deliver");
        return undefined;
      },
    });
    const token = new SecurityTokenContract(core.client, options.security);
    const [isin, decimals] = await Promise.all([token.isin(), token.decimals()]);
    Object.assign(security, { isin, decimals });
    return new SecuritiesHtlcLeg(options, core, security);
  }

  referenceOf(leg: LegInstruction): string {
    return this.core.referenceOf(leg);
  }

  async precheck(terms: Pick<LegTerms, "payer" | "beneficiary" | "amount" | "currency">): Promise<DeliveryCheckReturnType> {
    assertSecurity(this.ledger, this.security, terms.currency);
    return this.core.guard(() => this.token.checkDelivery({ seller: getAddress(terms.payer), buyer: getAddress(terms.beneficiary), amount: terms.amount, custodian: this.options.hashTimeLock }));
  }

  lock(leg: LegInstruction): Promise<LegLockReceipt> {
    return this.core.lock(leg, async (terms, sender) => {
      const delivery = { seller: terms.sender, buyer: terms.receiver, amount: terms.amount, custodian: this.options.hashTimeLock };
      // Compliance is asked again at every lock attempt, so nothing locks on a stale answer.
      const check = await this.token.checkDelivery(delivery);
      if (!check.deliverable) throw refusedDelivery(check.refusal);
      // A retry after a crash between approveDelivery and lock finds the approval and goes straight to the lock.
      const [approved, buyerIsParty] = await Promise.all([
        this.token.approvedDelivery(terms.sender, this.options.hashTimeLock),
        this.token.isDeliveryParty(this.options.hashTimeLock, terms.receiver),
      ]);
      if (approved < terms.amount || !buyerIsParty) await this.core.run(sender, this.token.approveDeliveryCall(delivery));
    });
  }

  claim(leg: LegInstruction, preimage: Hex): Promise<void> {
    return this.core.claim(leg, preimage);
  }

  refund(leg: LegInstruction, _options?: { early: boolean }): Promise<void> {
    return this.core.refund(leg);
  }

  observe(leg: LegInstruction): Promise<LegObservation> {
    return this.core.observe(leg);
  }

  now(): Promise<Date> {
    return this.core.now();
  }
}

function assertSecurity(ledger: string, security: { isin: string }, currency: string): void {
  if (currency !== security.isin) throw new LegError("REJECTED", `ledger ${ledger} delivers ${security.isin}, not ${currency}`, { permanent: true });
}

function termsOf(options: SecuritiesHtlcLegOptions, ledger: string, security: { isin: string }, leg: LegInstruction): HashTimeLockTerms {
  assertSecurity(ledger, security, leg.terms.currency);
  return {
    sender: getAddress(leg.terms.payer),
    receiver: getAddress(leg.terms.beneficiary),
    token: options.security,
    amount: leg.terms.amount,
    hashLock: leg.terms.hashLock,
    expiry: BigInt(Math.floor(leg.terms.expiresAt.getTime() / 1000)),
  };
}

/** The compliance refusal as a permanent leg refusal: nothing was locked, and retrying will not change it. */
function refusedDelivery(refusal: string): LegError {
  if (refusal === "insufficientUnfrozenBalance") return new LegError("INSUFFICIENT_FUNDS", "the seller's unfrozen holding is short of the units to deliver");
  return new LegError("REJECTED", `the security's compliance check refuses the delivery: ${refusal}`, { permanent: true });
}
