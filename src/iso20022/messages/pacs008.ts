import { group, list, optionalAmount, optionalGroup, text, textList } from "../model/fields.ts";
import { accountShape, agentShape, creditTransferGroupHeaderShape, creditTransferPaymentShape, partyShape } from "./components.ts";

/** pacs.008.001.08 FIToFICustomerCreditTransfer. */
export const pacs008Shape = {
  groupHeader: group("GrpHdr", creditTransferGroupHeaderShape),
  transactions: list("CdtTrfTxInf", {
    ...creditTransferPaymentShape,
    instructedAmount: optionalAmount("InstdAmt"),
    chargeBearer: text("ChrgBr"),
    instructingAgent: optionalGroup("InstgAgt", agentShape),
    instructedAgent: optionalGroup("InstdAgt", agentShape),
    debtor: group("Dbtr", partyShape),
    debtorAccount: optionalGroup("DbtrAcct", accountShape),
    debtorAgent: group("DbtrAgt", agentShape),
    creditorAgent: group("CdtrAgt", agentShape),
    creditor: group("Cdtr", partyShape),
    creditorAccount: optionalGroup("CdtrAcct", accountShape),
    remittanceInformation: textList("RmtInf/Ustrd"),
  }),
};
