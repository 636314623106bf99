import { group, list, optionalGroup, optionalText, text } from "../model/fields.ts";
import { agentShape, originalGroupShape, reasonShape } from "./components.ts";

/** pacs.002.001.10 FIToFIPaymentStatusReport. */
export const pacs002Shape = {
  groupHeader: group("GrpHdr", {
    messageId: text("MsgId"),
    createdAt: text("CreDtTm"),
  }),
  transactions: list("TxInfAndSts", {
    statusId: optionalText("StsId"),
    originalGroup: optionalGroup("OrgnlGrpInf", originalGroupShape),
    originalInstructionId: optionalText("OrgnlInstrId"),
    originalEndToEndId: optionalText("OrgnlEndToEndId"),
    originalTransactionId: optionalText("OrgnlTxId"),
    originalUetr: optionalText("OrgnlUETR"),
    status: optionalText("TxSts"),
    reasons: list("StsRsnInf", reasonShape),
    acceptanceDateTime: optionalText("AccptncDtTm"),
    clearingSystemReference: optionalText("ClrSysRef"),
    instructingAgent: optionalGroup("InstgAgt", agentShape),
    instructedAgent: optionalGroup("InstdAgt", agentShape),
  }),
};
