import { amount, group, list, optionalGroup, optionalText, text, textList } from "../model/fields.ts";
import { accountShape, agentShape } from "./components.ts";

/** pacs.009.001.08 FinancialInstitutionCreditTransfer: the interbank leg the PvP profile rides on. */
export const pacs009Shape = {
  groupHeader: group("GrpHdr", {
    messageId: text("MsgId"),
    createdAt: text("CreDtTm"),
    numberOfTransactions: text("NbOfTxs"),
    settlementMethod: text("SttlmInf/SttlmMtd"),
  }),
  transactions: list("CdtTrfTxInf", {
    instructionId: optionalText("PmtId/InstrId"),
    endToEndId: text("PmtId/EndToEndId"),
    transactionId: optionalText("PmtId/TxId"),
    uetr: optionalText("PmtId/UETR"),
    interbankSettlementAmount: amount("IntrBkSttlmAmt"),
    interbankSettlementDate: optionalText("IntrBkSttlmDt"),
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
