import type { DeliveryCheckReturnType } from "../../../src/evm/security-token.ts";
import type { SecuritiesLegPort } from "../../../src/dvp/securities-leg.ts";
import { LegError, type LegInstruction, type LegLockReceipt, type LegTerms } from "../../../src/pvp/leg-port.ts";
import { SimulatedLedger } from "../pvp/simulated-ledger.ts";

/**
 * A simulated securities ledger: the simulated hash-lock ledger whose asset is one security, with the
 * token's compliance rule reduced to its core (holders must be eligible, the seller must hold the units),
 * asked by the pre-check and again at every lock, as the SecurityToken and the securities leg do.
 */
export class SimulatedSecuritiesLedger extends SimulatedLedger implements SecuritiesLegPort {
  readonly security: { isin: string; decimals: number };
  readonly eligible = new Set<string>();

  constructor(ledger: string, clock: () => number, security: { isin: string; decimals: number }) {
    super(ledger, clock, { allowsEarlyRefund: false, asset: { currency: security.isin, decimals: security.decimals } });
    this.security = security;
  }

  async precheck(terms: Pick<LegTerms, "payer" | "beneficiary" | "amount" | "currency">): Promise<DeliveryCheckReturnType> {
    if (this.down) throw new LegError("UNAVAILABLE", `${this.ledger} is down`);
    if (terms.amount <= 0n) return { deliverable: false, refusal: "amountZero" };
    if (!this.eligible.has(terms.payer.toLowerCase())) return { deliverable: false, refusal: "senderNotEligible" };
    if (!this.eligible.has(terms.beneficiary.toLowerCase())) return { deliverable: false, refusal: "receiverNotEligible" };
    if (this.balance(terms.payer) < terms.amount) return { deliverable: false, refusal: "insufficientUnfrozenBalance" };
    return { deliverable: true };
  }

  override async lock(leg: LegInstruction): Promise<LegLockReceipt> {
    if (!this.lockOf(leg) && !this.down) {
      const check = await this.precheck(leg.terms);
      if (!check.deliverable && check.refusal !== "insufficientUnfrozenBalance") throw new LegError("REJECTED", `compliance refuses: ${check.refusal}`, { permanent: true });
    }
    return super.lock(leg);
  }
}
