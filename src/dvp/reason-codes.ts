import type { SecurityRefusal } from "../evm/security-token.ts";

/**
 * The one table from a compliance refusal to the sese.024 rejection that reports it (RejectionReason75Code,
 * with the refusal's name as additional information). Exhaustive: a new refusal without a code fails typecheck.
 */
export const REJECTION_BY_REFUSAL: { readonly [refusal in SecurityRefusal]: string } = {
  tokenPaused: "OTHR",
  amountZero: "DQUA",
  senderNotEligible: "SAFE",
  receiverNotEligible: "INVB",
  senderFrozen: "SAFE",
  receiverFrozen: "INVB",
  insufficientUnfrozenBalance: "DQUA",
  deliveryNotApproved: "OTHR",
  releaseToNonParty: "INVB",
  notACustodian: "ICUS",
};

/** The sese.024 rejection status for a refused delivery. */
export function rejectionOf(refusal: SecurityRefusal): { status: "rejected"; reason: string; information: string } {
  return { status: "rejected", reason: REJECTION_BY_REFUSAL[refusal], information: `compliance: ${refusal}` };
}

/**
 * The sese.024 rejection (RejectionReason75Code) for a DvP that was refused or unwound, from the reason the
 * engine recorded (docs/pvp.md "Reason codes") and which leg failed.
 */
export function dvpRejectionOf(pvp: { reasonCode: string | undefined; dtLockRefused: boolean; foreignLockRefused: boolean; cancelRequested: boolean }): { reason: string; information: string } {
  const code = pvp.reasonCode ?? "AB03";
  if (pvp.cancelRequested || code === "CUST") return { reason: "OTHR", information: "cancelled by a party before settlement" };
  if (pvp.foreignLockRefused) return { reason: code === "AM04" ? "DQUA" : "OTHR", information: `securities leg refused: ${code}` };
  if (pvp.dtLockRefused) return { reason: "CASH", information: `cash leg refused: ${code}` };
  if (code === "AB03") return { reason: "LATE", information: "not settled before the locks' expiry" };
  return { reason: "OTHR", information: `unwound: ${code}` };
}
