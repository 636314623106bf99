import { group, list, optionalGroup, optionalText, text } from "../model/fields.ts";
import { agentShape, originalGroupShape } from "./components.ts";

/** pacs.028.001.03 FIToFIPaymentStatusRequest: "what is the status of this payment?", answered by a pacs.002. */
export const pacs028Shape = {
  groupHeader: group("GrpHdr", {
    messageId: text("MsgId"),
    createdAt: text("CreDtTm"),
    instructingAgent: optionalGroup("InstgAgt", agentShape),
    instructedAgent: optionalGroup("InstdAgt", agentShape),
  }),
  transactions: list("TxInf", {
    statusRequestId: optionalText("StsReqId"),
    originalGroup: optionalGroup("OrgnlGrpInf", originalGroupShape),
    originalInstructionId: optionalText("OrgnlInstrId"),
    originalEndToEndId: optionalText("OrgnlEndToEndId"),
    originalTransactionId: optionalText("OrgnlTxId"),
    originalUetr: optionalText("OrgnlUETR"),
    instructingAgent: optionalGroup("InstgAgt", agentShape),
    instructedAgent: optionalGroup("InstdAgt", agentShape),
  }),
};
