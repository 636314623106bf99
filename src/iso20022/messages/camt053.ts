import { amount, group, list, optionalText, text } from "../model/fields.ts";
import { accountShape, entryShape } from "./components.ts";

/** camt.053.001.08 BankToCustomerStatement. */
export const camt053Shape = {
  groupHeader: group("GrpHdr", {
    messageId: text("MsgId"),
    createdAt: text("CreDtTm"),
  }),
  statements: list("Stmt", {
    id: text("Id"),
    pageNumber: optionalText("StmtPgntn/PgNb"),
    lastPage: optionalText("StmtPgntn/LastPgInd"),
    electronicSequenceNumber: optionalText("ElctrncSeqNb"),
    legalSequenceNumber: optionalText("LglSeqNb"),
    createdAt: optionalText("CreDtTm"),
    account: group("Acct", accountShape),
    balances: list("Bal", {
      type: optionalText("Tp/CdOrPrtry/Cd"),
      amount: amount("Amt"),
      creditDebit: text("CdtDbtInd"),
      date: optionalText("Dt/Dt"),
      dateTime: optionalText("Dt/DtTm"),
    }),
    entries: list("Ntry", entryShape),
  }),
};
