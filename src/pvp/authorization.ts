import { CodedError } from "../core/errors.ts";
import { isDtLedgerError, type DtLedgerPort } from "../ledger/dt-ledger-port.ts";
import type { Principal } from "../identity/principal.ts";

/** What the PvP API needs to know to decide whose money a caller may move. */
export interface PvpAuthority {
  /** The DT ledger: `account(id).participantId` is the participant that services a digital account. */
  dtLedger: Pick<DtLedgerPort, "account"> | undefined;
  /** The institution (BIC) the operator registered an account on a foreign ledger for, if any. */
  ledgerAccountOwner(ledger: string, account: string): Promise<string | undefined>;
}

export const PVP_FORBIDDEN_CODES = [
  "INSTITUTION_UNKNOWN",
  "DT_PAYER_NOT_SERVICED",
  "FOREIGN_PAYER_NOT_REGISTERED",
  "FOREIGN_BENEFICIARY_NOT_REGISTERED",
] as const;
export type PvpForbiddenCode = (typeof PVP_FORBIDDEN_CODES)[number];

/** The caller may not move the money a PvP names (HTTP 403). */
export class PvpForbidden extends CodedError<PvpForbiddenCode> {}

export interface PvpPartiesRequest {
  counterpartyAgent: string;
  dtLeg: { payer: string };
  foreignLeg: { ledger: string; payer: string; beneficiary: string };
}

/**
 * Whose money a new PvP may move, decided before anything is written or held. Operators act for the
 * gateway on everything. A bank pays only from digital accounts its DT participant services; on a foreign
 * ledger the gateway locks for (an EVM chain), the payer must be an account registered for the
 * counterparty and the beneficiary one registered for the bank, so a bank can neither spend another
 * institution's foreign funds nor send them to an address of its choosing. Peer legs (`peer:<BIC>`) name
 * institutions, not accounts: the correspondent's own gateway decides which of its accounts move.
 * Unknown accounts are refused like foreign ones, so the answer tells nothing about who holds what.
 */
export async function authorizePvpCreation(principal: Principal, request: PvpPartiesRequest, authority: PvpAuthority): Promise<void> {
  if (principal.role === "operator") return;
  const institution = principal.institution;
  if (principal.role !== "bank" || !institution?.dtParticipant) {
    throw new PvpForbidden("INSTITUTION_UNKNOWN", "the caller is not bound to a bank and its DT participant; ask the operator to register it with its BIC");
  }
  const servicer = await servicingParticipant(authority, request.dtLeg.payer);
  if (servicer !== institution.dtParticipant) {
    throw new PvpForbidden("DT_PAYER_NOT_SERVICED", `digital account ${request.dtLeg.payer} is not serviced by ${institution.dtParticipant}`);
  }
  const { ledger, payer, beneficiary } = request.foreignLeg;
  if (ledger.startsWith("peer:")) return;
  if ((await authority.ledgerAccountOwner(ledger, payer)) !== request.counterpartyAgent) {
    throw new PvpForbidden("FOREIGN_PAYER_NOT_REGISTERED", `${payer} on ${ledger} is not registered for ${request.counterpartyAgent}`);
  }
  if ((await authority.ledgerAccountOwner(ledger, beneficiary)) !== institution.bic) {
    throw new PvpForbidden("FOREIGN_BENEFICIARY_NOT_REGISTERED", `${beneficiary} on ${ledger} is not registered for ${institution.bic}`);
  }
}

async function servicingParticipant(authority: PvpAuthority, accountId: string): Promise<string | undefined> {
  if (!authority.dtLedger) return undefined;
  try {
    return (await authority.dtLedger.account(accountId)).participantId;
  } catch (error) {
    if (isDtLedgerError(error, "UNKNOWN_ACCOUNT") || isDtLedgerError(error, "INVALID_REQUEST")) return undefined;
    throw error;
  }
}

/** Whether the caller may see and act on a PvP: operators all, a bank what its principal created. */
export function mayAccess(principal: Principal | null, pvp: { createdBy: string }): boolean {
  return principal?.role === "operator" || (principal !== null && pvp.createdBy === principal.id);
}
