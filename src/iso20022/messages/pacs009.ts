import { group, list, optionalGroup, optionalText, textList } from "../model/fields.ts";
import { accountShape, agentShape, creditTransferGroupHeaderShape, creditTransferPaymentShape } from "./components.ts";

/** pacs.009.001.08 FinancialInstitutionCreditTransfer: the interbank leg the PvP profile rides on. */
export const pacs009Shape = {
  groupHeader: group("GrpHdr", creditTransferGroupHeaderShape),
  transactions: list("CdtTrfTxInf", {
    ...creditTransferPaymentShape,
    settlementTimeLimit: optionalText("SttlmTmReq/TillTm"),
    instructingAgent: optionalGroup("InstgAgt", agentShape),
    instructedAgent: optionalGroup("InstdAgt", agentShape),
    debtor: group("Dbtr", agentShape),
    debtorAccount: optionalGroup("DbtrAcct", accountShape),
    debtorAgent: optionalGroup("DbtrAgt", agentShape),
    creditorAgent: optionalGroup("CdtrAgt", agentShape),
    creditor: group("Cdtr", agentShape),
    creditorAccount: optionalGroup("CdtrAcct", accountShape),
    remittanceInformation: textList("RmtInf/Ustrd"),
  }),
};
