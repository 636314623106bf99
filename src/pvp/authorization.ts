import type { KeyObject } from "node:crypto";
import { withinRateBand, type ReferenceRate, type StandingTerms } from "../correspondents/terms.ts";
import { CodedError } from "../core/errors.ts";
import { peerAgentOf, peerLedgerName } from "../core/ledger-name.ts";
import { isDtLedgerError, type DtLedgerPort } from "../ledger/dt-ledger-port.ts";
import type { Principal } from "../identity/principal.ts";
import type { Queryable } from "../persistence/database.ts";
import { QuoteError, quoteSignatureValid, readQuote, type Quote, type SignedQuote } from "./quotes.ts";

/** What the PvP API needs to know to decide whose money a caller may move. */
export interface PvpAuthority {
  /** The DT ledger: `account(id).participantId` is the participant that services a digital account. */
  dtLedger: Pick<DtLedgerPort, "servicer"> | undefined;
  /** The institution (BIC) the operator registered an account on a foreign ledger for, if any. */
  ledgerAccountOwner(ledger: string, account: string): Promise<string | undefined>;
  /** Where the counterparty's consent is read and recorded; without it no foreign leg on our keys is consented. */
  consent?: ConsentBook | undefined;
}

/** The counterparty's consent as the directory and the database hold it. */
export interface ConsentBook {
  terms(counterpartyAgent: string, foreignLedger: string, foreignCurrency: string): Promise<StandingTerms | undefined>;
  referenceRate(foreignCurrency: string): Promise<ReferenceRate | undefined>;
  /** Takes an amount from a corridor's daily limit inside the PvP's transaction; false when it does not fit. */
  reserveDaily(tx: Queryable, terms: StandingTerms, amount: bigint, at: Date): Promise<boolean>;
  /** An active Ed25519 key and the institution (BIC) and role it is registered for. */
  signingKey(keyId: string): Promise<{ key: KeyObject; bic: string | undefined; role: string } | undefined>;
  /** An active quote-signing key of an FX provider, and the counterparties that name that provider. */
  fxProviderKey?(keyId: string): Promise<{ key: KeyObject; providerId: string; namedBy: readonly string[] } | undefined>;
  /** Consumes a quote for a PvP inside its transaction; throws QUOTE_ALREADY_USED when it was used before. */
  consumeQuote(tx: Queryable, quote: Quote, signed: SignedQuote, pvpId: string, consumedBy: string): Promise<void>;
}

/** Records the consent a PvP was created under, in the transaction that writes the PvP (throws to refuse). */
export type ConsentRecord = (tx: Queryable, pvpId: string, now: Date) => Promise<void>;

/** Decides the counterparty's consent once the legs are known to be valid (throws to refuse). */
export type ConsentCheck = () => Promise<ConsentRecord>;

export const PVP_FORBIDDEN_CODES = [
  "INSTITUTION_UNKNOWN",
  "DT_PAYER_NOT_SERVICED",
  "FOREIGN_PAYER_NOT_REGISTERED",
  "FOREIGN_BENEFICIARY_NOT_REGISTERED",
  "NO_COUNTERPARTY_CONSENT",
  "DT_BENEFICIARY_NOT_COUNTERPARTY",
  "QUOTE_SIGNATURE_INVALID",
] as const;
export type PvpForbiddenCode = (typeof PVP_FORBIDDEN_CODES)[number];

/** The caller may not move the money a PvP names (HTTP 403). */
export class PvpForbidden extends CodedError<PvpForbiddenCode> {}

export const PVP_CONSENT_CODES = ["PEER_NOT_COUNTERPARTY", "OVER_PVP_LIMIT", "OVER_DAILY_LIMIT", "OUTSIDE_RATE_BAND", "REFERENCE_RATE_MISSING"] as const;
export type PvpConsentCode = (typeof PVP_CONSENT_CODES)[number];

/** The PvP names terms the counterparty did not agree to (HTTP 422). */
export class PvpOutsideTerms extends CodedError<PvpConsentCode> {}

export interface PvpPartiesRequest {
  counterpartyAgent: string;
  dtLeg: { payer: string; beneficiary: string; currency: string; amount: bigint };
  foreignLeg: { ledger: string; payer: string; beneficiary: string; currency: string; amount: bigint };
  /** A quote the counterparty signed; without one, its standing terms apply. */
  quote?: SignedQuote | undefined;
}

/**
 * Whose money a new PvP may move and on what terms, decided before anything is written or held. Returns the
 * consent check the engine runs once the legs are valid; it gives what to record in the PvP's own
 * transaction (the daily limit taken, the quote consumed), where the database makes each guarantee hold
 * under concurrent creations.
 *
 * Operators act for the gateway on everything the bank-binding rules cover. A bank pays only from digital
 * accounts its DT participant services; on a foreign ledger the gateway locks for (an EVM chain), the payer
 * must be an account registered for the counterparty and the beneficiary one registered for the bank.
 * Unknown accounts are refused like foreign ones, so the answer tells nothing about who holds what.
 *
 * Consent binds every caller, operators included: a leg the gateway moves with keys it holds is the
 * counterparty's money, so its amounts, rate and DT beneficiary come from a quote it signed or from its
 * standing terms. A peer leg (`peer:<BIC>`) is the counterparty's own gateway, which locks under its own
 * terms; it must name the counterparty, so reports come only from the BIC the instruction went to.
 */
export async function authorizePvpCreation(principal: Principal, request: PvpPartiesRequest, authority: PvpAuthority): Promise<ConsentCheck | undefined> {
  const { ledger, payer, beneficiary } = request.foreignLeg;
  const peerAgent = peerAgentOf(ledger);
  const peer = peerAgent !== undefined;
  if (peer && peerAgent !== request.counterpartyAgent) {
    throw new PvpOutsideTerms("PEER_NOT_COUNTERPARTY", `a peer leg is locked by the counterparty's own gateway: name ${peerLedgerName(request.counterpartyAgent)}, not ${ledger}`);
  }
  if (principal.role !== "operator") {
    const institution = principal.institution;
    if (principal.role !== "bank" || !institution?.dtParticipant) {
      throw new PvpForbidden("INSTITUTION_UNKNOWN", "the caller is not bound to a bank and its DT participant; ask the operator to register it with its BIC");
    }
    const servicer = await servicingParticipant(authority, request.dtLeg.payer);
    if (servicer !== institution.dtParticipant) {
      throw new PvpForbidden("DT_PAYER_NOT_SERVICED", `digital account ${request.dtLeg.payer} is not serviced by ${institution.dtParticipant}`);
    }
    if (!peer) {
      if ((await authority.ledgerAccountOwner(ledger, payer)) !== request.counterpartyAgent) {
        throw new PvpForbidden("FOREIGN_PAYER_NOT_REGISTERED", `${payer} on ${ledger} is not registered for ${request.counterpartyAgent}`);
      }
      if ((await authority.ledgerAccountOwner(ledger, beneficiary)) !== institution.bic) {
        throw new PvpForbidden("FOREIGN_BENEFICIARY_NOT_REGISTERED", `${beneficiary} on ${ledger} is not registered for ${institution.bic}`);
      }
    }
  }
  if (peer) return undefined;
  const { quote } = request;
  const consent = authority.consent;
  return () => {
    if (!consent) throw new PvpForbidden("NO_COUNTERPARTY_CONSENT", "this gateway keeps no counterparty terms");
    return quote ? quoteConsent(principal, request, quote, consent) : standingConsent(request, consent);
  };
}

/** Standing terms: the corridor's per-PvP and daily limits, the rate band, the counterparty's DT accounts. */
async function standingConsent(request: PvpPartiesRequest, consent: ConsentBook): Promise<ConsentRecord> {
  const { dtLeg, foreignLeg, counterpartyAgent } = request;
  const terms = await consent.terms(counterpartyAgent, foreignLeg.ledger, foreignLeg.currency);
  if (!terms) {
    throw new PvpForbidden("NO_COUNTERPARTY_CONSENT", `${counterpartyAgent} has no standing terms for ${foreignLeg.currency} on ${foreignLeg.ledger}; bring a quote it signed`);
  }
  if (!terms.dtBeneficiaries.includes(dtLeg.beneficiary)) {
    throw new PvpForbidden("DT_BENEFICIARY_NOT_COUNTERPARTY", `the DT leg must pay one of ${counterpartyAgent}'s settlement accounts`);
  }
  if (foreignLeg.amount > terms.maxForeignAmount) throw new PvpOutsideTerms("OVER_PVP_LIMIT", `${counterpartyAgent} agreed to at most ${terms.maxForeignAmount} minor units of ${foreignLeg.currency} per PvP`);
  const reference = await consent.referenceRate(foreignLeg.currency);
  if (!reference) throw new PvpOutsideTerms("REFERENCE_RATE_MISSING", `no reference rate for ${foreignLeg.currency}; the operator sets one`);
  if (!withinRateBand({ dtAmount: dtLeg.amount, dtCurrency: dtLeg.currency, foreignAmount: foreignLeg.amount, foreignCurrency: foreignLeg.currency }, reference.rate, terms.rateBandBps)) {
    throw new PvpOutsideTerms("OUTSIDE_RATE_BAND", `the rate is more than ${terms.rateBandBps} bps from the reference ${reference.rate} KZT per ${foreignLeg.currency}`);
  }
  return async (tx, _pvpId, now) => {
    if (!(await consent.reserveDaily(tx, terms, foreignLeg.amount, now))) {
      throw new PvpOutsideTerms("OVER_DAILY_LIMIT", `${counterpartyAgent}'s daily limit for ${foreignLeg.currency} on ${foreignLeg.ledger} has no room for this PvP`);
    }
  };
}

/**
 * The key a quote must verify with: one registered for the counterparty itself (a correspondent's key), or a
 * quote-signing key of an FX provider the counterparty names in the directory. Anything else is no signer.
 */
async function quoteKey(consent: ConsentBook, keyId: string, counterpartyAgent: string): Promise<KeyObject | undefined> {
  const own = await consent.signingKey(keyId);
  if (own) return own.role === "correspondent" && own.bic === counterpartyAgent ? own.key : undefined;
  const provider = await consent.fxProviderKey?.(keyId);
  return provider?.namedBy.includes(counterpartyAgent) ? provider.key : undefined;
}

/**
 * A signed quote: verified with a key of the counterparty or of an FX provider it names, matched field by
 * field, consumed once.
 */
async function quoteConsent(principal: Principal, request: PvpPartiesRequest, signed: SignedQuote, consent: ConsentBook): Promise<ConsentRecord> {
  const quote = readQuote(signed.payload);
  const key = await quoteKey(consent, signed.keyId, request.counterpartyAgent);
  if (!key || quote.counterpartyAgent !== request.counterpartyAgent || !quoteSignatureValid(signed, key)) {
    throw new PvpForbidden("QUOTE_SIGNATURE_INVALID", `the quote is signed neither with a key registered for ${request.counterpartyAgent} nor with one of an FX provider it names`);
  }
  const { dtLeg, foreignLeg } = request;
  const mismatches = [
    quote.bankAgent !== undefined && principal.role !== "operator" && quote.bankAgent !== principal.institution?.bic ? "bankAgent" : undefined,
    quote.dtAmount !== dtLeg.amount || quote.dtCurrency !== dtLeg.currency ? "dtAmount" : undefined,
    quote.dtBeneficiary !== dtLeg.beneficiary ? "dtBeneficiary" : undefined,
    quote.foreignLedger !== foreignLeg.ledger ? "foreignLedger" : undefined,
    quote.foreignAmount !== foreignLeg.amount || quote.foreignCurrency !== foreignLeg.currency ? "foreignAmount" : undefined,
    // The quoted rate must be the one its amounts make (to 1 bp, for rounding of the quoted decimal).
    !safeWithinBand(quote) ? "rate" : undefined,
  ].filter((field) => field !== undefined);
  if (mismatches.length > 0) throw new QuoteError("QUOTE_TERMS_MISMATCH", `the PvP differs from the quote in ${mismatches.join(", ")}`);
  return async (tx, pvpId, now) => {
    if (now.getTime() >= quote.expiresAt.getTime()) throw new QuoteError("QUOTE_EXPIRED", `quote ${quote.quoteId} expired at ${quote.expiresAt.toISOString()}`);
    await consent.consumeQuote(tx, quote, signed, pvpId, principal.id);
  };
}

function safeWithinBand(quote: Quote): boolean {
  try {
    return withinRateBand({ dtAmount: quote.dtAmount, dtCurrency: quote.dtCurrency, foreignAmount: quote.foreignAmount, foreignCurrency: quote.foreignCurrency }, quote.rate, 1);
  } catch {
    return false;
  }
}

async function servicingParticipant(authority: PvpAuthority, accountId: string): Promise<string | undefined> {
  if (!authority.dtLedger) return undefined;
  try {
    return await authority.dtLedger.servicer(accountId);
  } catch (error) {
    if (isDtLedgerError(error, "UNKNOWN_ACCOUNT") || isDtLedgerError(error, "INVALID_REQUEST")) return undefined;
    throw error;
  }
}

/** Whether the caller may see and act on a PvP: operators all, a bank what its principal created. */
export function mayAccess(principal: Principal | null, pvp: { createdBy: string }): boolean {
  return principal?.role === "operator" || (principal !== null && pvp.createdBy === principal.id);
}
