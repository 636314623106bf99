import type { DtLedgerPort } from "../ledger/dt-ledger-port.ts";
import type { DtLedger } from "./ledger.ts";

/** The port over the embedded ledger in this process, acting as one participant (usually the gateway). */
export function inProcessDtLedger(ledger: DtLedger, participantId: string): DtLedgerPort {
  return {
    openAccount: (request) => ledger.openAccount(participantId, request),
    account: (accountId) => ledger.account(participantId, accountId),
    servicer: (accountId) => ledger.servicer(participantId, accountId),
    balance: (accountId) => ledger.balance(participantId, accountId),
    transfer: (request) => ledger.transfer(participantId, request),
    hold: (request) => ledger.hold(participantId, request),
    release: (request) => ledger.release(participantId, request),
    refund: (request) => ledger.refund(participantId, request),
    getHold: (holdId) => ledger.getHold(participantId, holdId),
    collateralStatement: (request) => ledger.collateralStatement(participantId, request),
    issuanceAllotment: (request) => ledger.issuanceAllotment(participantId, request),
    latestIssuanceAllotment: (accountId) => ledger.latestIssuanceAllotment(participantId, accountId),
    events: (request) => ledger.events(participantId, request),
    activity: (request) => ledger.activity(participantId, request),
  };
}
