import { encodeFunctionData, type Address, type PublicClient } from "viem";
import { CodedError } from "../core/errors.ts";
import { securityTokenAbi } from "./generated/contracts.ts";
import type { EvmCall } from "./signed-transaction.ts";

/** The contract's `Refusal` enum, in its order: why a transfer or a delivery would be refused. */
export const SECURITY_REFUSALS = [
  "none",
  "tokenPaused",
  "amountZero",
  "senderNotEligible",
  "receiverNotEligible",
  "senderFrozen",
  "receiverFrozen",
  "insufficientUnfrozenBalance",
  "deliveryNotApproved",
  "releaseToNonParty",
  "notACustodian",
] as const;
export type SecurityRefusal = Exclude<(typeof SECURITY_REFUSALS)[number], "none">;

/** A delivery of securities from a seller to a buyer through a custodian (the HashTimeLock). */
export interface SecuritiesDelivery {
  seller: Address;
  buyer: Address;
  /** Units of the security (in its decimals). */
  amount: bigint;
  custodian: Address;
}

export type DeliveryCheckReturnType = { deliverable: true } | { deliverable: false; refusal: SecurityRefusal };

/**
 * The compliance check refused a delivery (or the pre-check says it would). A 422: the trade can never
 * settle as given, and nothing was locked.
 */
export class DeliveryRefusedError extends CodedError<"DELIVERY_REFUSED"> {
  readonly refusal: SecurityRefusal;
  constructor(refusal: SecurityRefusal, delivery: SecuritiesDelivery) {
    super("DELIVERY_REFUSED", `the security's compliance check refuses this delivery: ${refusal}`, {
      refusal,
      seller: delivery.seller,
      buyer: delivery.buyer,
      amount: delivery.amount.toString(),
    });
    this.refusal = refusal;
  }
}

function refusalAt(index: number | bigint): SecurityRefusal | undefined {
  const name = SECURITY_REFUSALS[Number(index)];
  if (name === undefined) throw new CodedError("SECURITY_REFUSAL_UNKNOWN", `the security token answered refusal ${index}, which this gateway does not know`);
  return name === "none" ? undefined : name;
}

/**
 * One deployed SecurityToken: the compliance pre-check, reads at a block when given, and its writes as
 * calls for a transaction sender. The pre-check calls the contract's own deliveryRefusal, the very check
 * approveDelivery runs, so it never disagrees with the delivery.
 *
 * @example
 * const bond = new SecurityTokenContract(client, bondAddress);
 * const check = await bond.checkDelivery({ seller, buyer, amount: 10n, custodian: htlc });
 * if (!check.deliverable) throw new DeliveryRefusedError(check.refusal, delivery);
 */
export class SecurityTokenContract {
  readonly client: PublicClient;
  readonly address: Address;

  constructor(client: PublicClient, address: Address) {
    this.client = client;
    this.address = address;
  }

  /** Whether `delivery` would pass compliance now (approveDelivery and the lock after it). */
  async checkDelivery(delivery: SecuritiesDelivery, blockNumber?: bigint): Promise<DeliveryCheckReturnType> {
    const index = await this.client.readContract({
      address: this.address,
      abi: securityTokenAbi,
      functionName: "deliveryRefusal",
      args: [delivery.seller, delivery.custodian, delivery.buyer, delivery.amount],
      ...(blockNumber === undefined ? {} : { blockNumber }),
    });
    const refusal = refusalAt(index);
    return refusal ? { deliverable: false, refusal } : { deliverable: true };
  }

  /** Throws DeliveryRefusedError when `delivery` would be refused. */
  async assertDeliverable(delivery: SecuritiesDelivery): Promise<void> {
    const check = await this.checkDelivery(delivery);
    if (!check.deliverable) throw new DeliveryRefusedError(check.refusal, delivery);
  }

  /** What a plain transfer from -> to would do now: undefined when it goes through, else the refusal. */
  async transferRefusal(from: Address, to: Address, amount: bigint): Promise<SecurityRefusal | undefined> {
    return refusalAt(await this.client.readContract({ address: this.address, abi: securityTokenAbi, functionName: "canTransfer", args: [from, to, amount] }));
  }

  isin(): Promise<string> {
    return this.client.readContract({ address: this.address, abi: securityTokenAbi, functionName: "isin" });
  }

  decimals(): Promise<number> {
    return this.client.readContract({ address: this.address, abi: securityTokenAbi, functionName: "decimals" });
  }

  balanceOf(holder: Address, blockNumber?: bigint): Promise<bigint> {
    return this.client.readContract({ address: this.address, abi: securityTokenAbi, functionName: "balanceOf", args: [holder], ...(blockNumber === undefined ? {} : { blockNumber }) });
  }

  /** Units the seller approved for delivery through `custodian` and has not locked yet. */
  approvedDelivery(seller: Address, custodian: Address): Promise<bigint> {
    return this.client.readContract({ address: this.address, abi: securityTokenAbi, functionName: "approvedDelivery", args: [seller, custodian] });
  }

  /** Whether `party` was checked as seller or buyer of a delivery through `custodian` (releases to it are never refused). */
  isDeliveryParty(custodian: Address, party: Address): Promise<boolean> {
    return this.client.readContract({ address: this.address, abi: securityTokenAbi, functionName: "isDeliveryParty", args: [custodian, party] });
  }

  /** The seller's approveDelivery: checks seller -> buyer on chain and lets the custodian take `amount`. */
  approveDeliveryCall(delivery: Pick<SecuritiesDelivery, "buyer" | "amount" | "custodian">): EvmCall {
    return { to: this.address, data: encodeFunctionData({ abi: securityTokenAbi, functionName: "approveDelivery", args: [delivery.custodian, delivery.buyer, delivery.amount] }) };
  }
}
