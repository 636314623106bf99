import { group, list, optionalText, text } from "../model/fields.ts";
import { accountShape, entryShape } from "./components.ts";

/** camt.054.001.08 BankToCustomerDebitCreditNotification. */
export const camt054Shape = {
  groupHeader: group("GrpHdr", {
    messageId: text("MsgId"),
    createdAt: text("CreDtTm"),
  }),
  notifications: list("Ntfctn", {
    id: text("Id"),
    createdAt: optionalText("CreDtTm"),
    account: group("Acct", accountShape),
    entries: list("Ntry", entryShape),
  }),
};
