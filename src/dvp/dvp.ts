import { amountToDecimal, KZT } from "../core/money.ts";
import { unitsToDecimal } from "../iso20022/dvp/messages.ts";
import type { PvpRecord } from "../pvp/pvp.ts";

/** One side of a trade: the broker (its institution's BIC), its holding on the chain and its cash account on DT. */
export interface DvpParty {
  bic: string;
  /** The holding address the securities leave (seller) or arrive at (buyer). */
  holding: string;
  /** The digital account the cash leaves (buyer) or arrives at (seller). */
  cashAccount: string;
  /** The side's own reference (sese.023 TxId), answered in its sese.024 and sese.025. */
  transactionId: string;
}

/**
 * What a DvP trades, kept with its exchange record (`exchangeTerms`): the security, the brokers on both
 * sides and who instructed and affirmed. The legs themselves are the exchange's: the cash leg (DT, buyer's
 * account -> seller's) and the securities leg (the security's HTLC, seller's holding -> buyer's).
 */
export interface DvpTerms {
  isin: string;
  /** The security's decimals (units on the leg are its smallest unit). */
  decimals: number;
  tradeDate: string;
  settlementDate: string;
  seller: DvpParty;
  buyer: DvpParty;
  /** Which side's broker created the DvP; `both` when an operator created it for the two. */
  instructedBy: "seller" | "buyer" | "both";
  /** Principal ids that instructed (creator first, then the affirming broker). */
  principals: string[];
}

export type DvpSide = "seller" | "buyer";

export function dvpTermsOf(pvp: PvpRecord): DvpTerms {
  if (pvp.kind !== "dvp" || pvp.exchangeTerms === undefined) throw new Error(`exchange ${pvp.id} is not a DvP`);
  return pvp.exchangeTerms as unknown as DvpTerms;
}

/** Whether a principal instructed a DvP (either broker), so may see it and cancel it. */
export function isDvpParty(pvp: PvpRecord, principalId: string): boolean {
  return dvpTermsOf(pvp).principals.includes(principalId);
}

/** The DvP as the API and the CLI show it: never the preimage. */
export function dvpToJson(pvp: PvpRecord): Record<string, unknown> {
  const terms = dvpTermsOf(pvp);
  const cash = pvp.dtLeg!;
  const securities = pvp.foreignLeg;
  return {
    id: pvp.id,
    state: pvp.state,
    awaitingAffirmation: pvp.awaitingAffirmation,
    isin: terms.isin,
    quantity: unitsToDecimal(securities.amount, terms.decimals),
    amount: amountToDecimal({ currency: KZT, minorUnits: cash.amount }),
    currency: KZT,
    tradeDate: terms.tradeDate,
    settlementDate: terms.settlementDate,
    seller: terms.seller,
    buyer: terms.buyer,
    instructedBy: terms.instructedBy,
    hashLock: pvp.hashLock,
    cashLeg: { ledger: cash.ledger, payer: cash.payer, beneficiary: cash.beneficiary, expiresAt: cash.expiresAt.toISOString(), reference: pvp.dtReference ?? null },
    securitiesLeg: { ledger: securities.ledger, payer: securities.payer, beneficiary: securities.beneficiary, expiresAt: securities.expiresAt.toISOString(), reference: pvp.foreignReference ?? null },
    reasonCode: pvp.reasonCode ?? null,
    lastError: pvp.lastError ? { at: pvp.lastError.at.toISOString(), message: pvp.lastError.message } : null,
    cancelRequested: pvp.cancelRequested,
    createdBy: pvp.createdBy,
    createdAt: pvp.createdAt.toISOString(),
    updatedAt: pvp.updatedAt.toISOString(),
  };
}
