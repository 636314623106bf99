import { group, optionalText, text } from "../model/fields.ts";
import { dvpReference } from "./securities.ts";

/** A status with its reason: the ISO code (or NORE, no reason given) and free text. */
const reasonedStatus = (path: string) => ({
  noSpecifiedReason: optionalText(`${path}/NoSpcfdRsn`),
  reasonCode: optionalText(`${path}/Rsn/Cd/Cd`),
  additionalReason: optionalText(`${path}/Rsn/AddtlRsnInf`),
});

/**
 * sese.024.001.12 SecuritiesSettlementTransactionStatusAdvice: the account servicer reports where an
 * instruction stands: processing (acknowledged and accepted, or rejected), matching, settlement (pending
 * or failing). Each status is a choice in the schema; the branch present is the status.
 */
export const sese024Shape = {
  transaction: group("TxId", {
    accountOwnerTransactionId: text("AcctOwnrTxId"),
    accountServicerTransactionId: optionalText("AcctSvcrTxId"),
    commonId: optionalText("CmonId"),
  }),
  accepted: group("", reasonedStatus("PrcgSts/AckdAccptd")),
  rejected: group("", reasonedStatus("PrcgSts/Rjctd")),
  matched: optionalText("MtchgSts/Mtchd/AddtlRsnInf"),
  settlementPending: group("", reasonedStatus("SttlmSts/Pdg")),
  settlementFailing: group("", reasonedStatus("SttlmSts/Flng")),
  dvpReference: dvpReference(),
};
