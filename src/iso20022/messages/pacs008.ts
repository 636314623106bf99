import { amount, group, list, optionalAmount, optionalGroup, optionalText, text, textList } from "../model/fields.ts";
import { accountShape, agentShape, partyShape } from "./components.ts";

/** pacs.008.001.08 FIToFICustomerCreditTransfer. */
export const pacs008Shape = {
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
