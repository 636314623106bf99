import type { LegErrorCode } from "./leg-port.ts";

/**
 * The ISO 20022 reason codes a PvP records and sends (pacs.002 RJCT, camt.056, camt.029), each from the ISO
 * external code lists, in one table: the engine reads it, and docs/pvp.md "Reason codes" shows the same rows.
 */
export const PVP_REASON_CODES = {
  /** ExternalStatusReason1Code AbortedSettlementTimeout. */
  timeout: { code: "AB03", when: "a lock window, the reveal window or a leg's expiry passed before settlement" },
  /** ExternalStatusReason1Code IncorrectAccountNumber. */
  unknownAccount: { code: "AC01", when: "a leg's payer or beneficiary account does not exist on its ledger" },
  /** ExternalStatusReason1Code ClosedAccountNumber. */
  closedAccount: { code: "AC04", when: "a leg's account is closed" },
  /** ExternalStatusReason1Code InsufficientFunds. */
  insufficientFunds: { code: "AM04", when: "the payer cannot fund the lock" },
  /** ExternalStatusReason1Code TransactionForbidden. */
  forbidden: { code: "AG01", when: "the ledger refused the lock for any other reason (terms, permissions, no signer)" },
  /** ExternalStatusReason1Code TransactionForbidden, as responder. */
  notAllowed: { code: "AG01", when: "a correspondent without terms with us (no settlement account, suspended) instructs a lock" },
  /** ExternalStatusReason1Code NotAllowedAmount. */
  amountTooLarge: { code: "AM02", when: "an instructed leg is above the correspondent's largest amount" },
  /** ExternalStatusReason1Code NotAllowedCurrency. */
  notAllowedCurrency: { code: "AM03", when: "an instructed leg is not in the currency (or decimals) of the ledger we lock on" },
  /** ExternalStatusReason1Code InvalidDate. */
  invalidDate: { code: "DT01", when: "an instructed expiry is beyond PVP_MAX_LOCK_SECONDS" },
  /** ExternalStatusReason1Code / ExternalCancellationReason1Code RequestedByCustomer. */
  cancelled: { code: "CUST", when: "the bank cancelled before the reveal (camt.056 to the correspondent)" },
  /**
   * ExternalCancellationReason1Code DS24 (the original order expired due to a time-out): the initiator
   * aborts because a window closed or the other leg was refused, nobody asked for it. Not CUST (no customer
   * asked) and not TECH (nothing erroneous was sent).
   */
  abortedOnTimeout: { code: "DS24", when: "the initiator aborts on its own (a lock or reveal window closed, a leg refused): camt.056 to the correspondent" },
  /** ExternalPaymentCancellationRejection1Code AlreadyReturned (camt.029 RJCR). */
  alreadySettling: { code: "ARDT", when: "a cancellation arrives after the reveal: the leg is settled or being settled" },
  /** ExternalStatusReason1Code Narrative. */
  narrative: { code: "NARR", when: "a correspondent rejected without a reason code" },
} as const;

/** The reason recorded when a leg's ledger refuses its lock for good. */
export function lockRefusalReason(code: LegErrorCode): string {
  switch (code) {
    case "INSUFFICIENT_FUNDS":
      return PVP_REASON_CODES.insufficientFunds.code;
    case "UNKNOWN_ACCOUNT":
      return PVP_REASON_CODES.unknownAccount.code;
    case "ACCOUNT_CLOSED":
      return PVP_REASON_CODES.closedAccount.code;
    case "EXPIRED":
      return PVP_REASON_CODES.timeout.code;
    default:
      return PVP_REASON_CODES.forbidden.code;
  }
}

/** The camt.056 reason of an initiator's early refund: a cancellation someone asked for, or an abort on time. */
export function cancellationReasonOf(pvp: { cancelRequested: boolean }): string {
  return pvp.cancelRequested ? PVP_REASON_CODES.cancelled.code : PVP_REASON_CODES.abortedOnTimeout.code;
}
