import { amount, group, list, optionalAmount, optionalGroup, optionalText, text } from "../model/fields.ts";
import { agentShape, originalGroupShape, reasonShape } from "./components.ts";

/** pacs.004.001.09 PaymentReturn. */
export const pacs004Shape = {
  groupHeader: group("GrpHdr", {
    messageId: text("MsgId"),
    createdAt: text("CreDtTm"),
    numberOfTransactions: text("NbOfTxs"),
    settlementMethod: text("SttlmInf/SttlmMtd"),
  }),
  transactions: list("TxInf", {
    returnId: optionalText("RtrId"),
    originalGroup: optionalGroup("OrgnlGrpInf", originalGroupShape),
    originalInstructionId: optionalText("OrgnlInstrId"),
    originalEndToEndId: optionalText("OrgnlEndToEndId"),
    originalUetr: optionalText("OrgnlUETR"),
    originalInterbankSettlementAmount: optionalAmount("OrgnlIntrBkSttlmAmt"),
    originalInterbankSettlementDate: optionalText("OrgnlIntrBkSttlmDt"),
    returnedInterbankSettlementAmount: amount("RtrdIntrBkSttlmAmt"),
    interbankSettlementDate: optionalText("IntrBkSttlmDt"),
    returnedInstructedAmount: optionalAmount("RtrdInstdAmt"),
    chargeBearer: optionalText("ChrgBr"),
    instructingAgent: optionalGroup("InstgAgt", agentShape),
    instructedAgent: optionalGroup("InstdAgt", agentShape),
    reasons: list("RtrRsnInf", reasonShape),
  }),
};
