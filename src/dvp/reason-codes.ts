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
