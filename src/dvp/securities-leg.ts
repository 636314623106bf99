import type { DeliveryCheckReturnType } from "../evm/security-token.ts";
import type { HashLockedLegPort, LegTerms } from "../pvp/leg-port.ts";

/**
 * The securities leg of a DvP as the exchange engine will see it: a hash-locked leg like any other (lock,
 * claim, refund, observe on the leg port), whose "currency" is the security's ISIN and whose amount is in
 * the security's smallest unit, plus the compliance pre-check the engine runs when a DvP is created, before
 * anything is locked on either leg.
 */
export interface SecuritiesLegPort extends HashLockedLegPort {
  /** The security this ledger delivers: its ISIN and decimals (also its one `assets` entry). */
  readonly security: { isin: string; decimals: number };
  /**
   * Whether the delivery payer -> beneficiary of `terms.amount` units would pass the security's compliance
   * check now (the very check the lock runs on chain). A refused delivery is refused at creation (422).
   */
  precheck(terms: Pick<LegTerms, "payer" | "beneficiary" | "amount" | "currency">): Promise<DeliveryCheckReturnType>;
}
