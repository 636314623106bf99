import { list, optionalText, text } from "../model/fields.ts";

const headerFields = {
  from: text("Fr/FIId/FinInstnId/BICFI"),
  to: text("To/FIId/FinInstnId/BICFI"),
  businessMessageId: text("BizMsgIdr"),
  messageDefinitionId: text("MsgDefIdr"),
  businessService: optionalText("BizSvc"),
  createdAt: text("CreDt"),
  copyDuplicate: optionalText("CpyDplct"),
  possibleDuplicate: optionalText("PssblDplct"),
  priority: optionalText("Prty"),
};

/** head.001.001.02, the Business Application Header: who sends what to whom, and what it relates to. */
export const headerShape = {
  ...headerFields,
  related: list("Rltd", headerFields),
};
