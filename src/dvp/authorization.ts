import { CodedError } from "../core/errors.ts";
import type { Principal } from "../identity/principal.ts";
import { isDtLedgerError, type DtLedgerPort } from "../ledger/dt-ledger-port.ts";
import type { DvpParty, DvpSide } from "./dvp.ts";

/** What the DvP desk asks to decide whose securities and cash a broker may move. */
export interface DvpAuthority {
  /** The DT ledger: which participant services a digital account. Without it brokers cannot instruct. */
  dtLedger: Pick<DtLedgerPort, "servicer"> | undefined;
  /** The institution (BIC) the operator registered an account (a holding) on a ledger for, if any. */
  ledgerAccountOwner(ledger: string, account: string): Promise<string | undefined>;
}

export const DVP_FORBIDDEN_CODES = [
  "INSTITUTION_UNKNOWN",
  "BROKER_NOT_PARTY",
  "HOLDING_NOT_REGISTERED",
  "COUNTERPARTY_HOLDING_NOT_REGISTERED",
  "DT_PAYER_NOT_SERVICED",
  "DT_ACCOUNT_NOT_SERVICED",
] as const;
export type DvpForbiddenCode = (typeof DVP_FORBIDDEN_CODES)[number];

/** The caller may not move the securities or the cash a DvP names (HTTP 403); nothing is written. */
export class DvpForbidden extends CodedError<DvpForbiddenCode> {}

/**
 * The rules for one side of a DvP, checked before anything is written or locked: the broker acting for
 * the side is that side's institution (its BIC), the side's holding is registered to it on the securities
 * ledger, and the side's cash account is serviced by its DT participant (the buyer pays only from accounts
 * its participant services; the seller is paid only into one). Unknown accounts are refused like others'.
 */
export async function authorizeSide(principal: Principal, side: DvpSide, party: DvpParty, ledger: string, authority: DvpAuthority): Promise<void> {
  const institution = principal.institution;
  if (principal.role !== "broker" || !institution?.dtParticipant) {
    throw new DvpForbidden("INSTITUTION_UNKNOWN", "the caller is not bound to a broker and its DT participant; ask the operator to register it with its BIC");
  }
  if (party.bic !== institution.bic) throw new DvpForbidden("BROKER_NOT_PARTY", `the ${side} is ${party.bic}; the caller acts for ${institution.bic}`);
  if ((await authority.ledgerAccountOwner(ledger, party.holding)) !== institution.bic) {
    throw new DvpForbidden("HOLDING_NOT_REGISTERED", `holding ${party.holding} on ${ledger} is not registered for ${institution.bic}`);
  }
  if ((await servicingParticipant(authority, party.cashAccount)) !== institution.dtParticipant) {
    throw new DvpForbidden(side === "buyer" ? "DT_PAYER_NOT_SERVICED" : "DT_ACCOUNT_NOT_SERVICED", `digital account ${party.cashAccount} is not serviced by ${institution.dtParticipant}`);
  }
}

/** The other side's holding must be registered to the broker named for it, or no affirmation could ever match. */
export async function authorizeCounterparty(side: DvpSide, party: DvpParty, ledger: string, authority: DvpAuthority): Promise<void> {
  if ((await authority.ledgerAccountOwner(ledger, party.holding)) !== party.bic) {
    throw new DvpForbidden("COUNTERPARTY_HOLDING_NOT_REGISTERED", `the ${side}'s holding ${party.holding} on ${ledger} is not registered for ${party.bic}`);
  }
}

async function servicingParticipant(authority: DvpAuthority, accountId: string): Promise<string | undefined> {
  if (!authority.dtLedger) return undefined;
  try {
    return await authority.dtLedger.servicer(accountId);
  } catch (error) {
    if (isDtLedgerError(error, "UNKNOWN_ACCOUNT") || isDtLedgerError(error, "INVALID_REQUEST")) return undefined;
    throw error;
  }
}
