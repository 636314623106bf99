import { amount, group, list, optionalAmount, optionalGroup, optionalText, text, textList } from "../model/fields.ts";

/** A financial institution (BranchAndFinancialInstitutionIdentification6): BIC first, as CBPR+ wants. */
export const agentShape = {
  bic: optionalText("FinInstnId/BICFI"),
  lei: optionalText("FinInstnId/LEI"),
  clearingSystemMemberId: optionalText("FinInstnId/ClrSysMmbId/MmbId"),
  name: optionalText("FinInstnId/Nm"),
};

/** A party that is not an agent (PartyIdentification135): debtor, creditor, originator. */
export const partyShape = {
  name: optionalText("Nm"),
  streetName: optionalText("PstlAdr/StrtNm"),
  buildingNumber: optionalText("PstlAdr/BldgNb"),
  postCode: optionalText("PstlAdr/PstCd"),
  townName: optionalText("PstlAdr/TwnNm"),
  country: optionalText("PstlAdr/Ctry"),
  addressLines: textList("PstlAdr/AdrLine"),
  anyBic: optionalText("Id/OrgId/AnyBIC"),
  lei: optionalText("Id/OrgId/LEI"),
};

/** A cash account: IBAN or another identification, with its currency where the message has one. */
export const accountShape = {
  iban: optionalText("Id/IBAN"),
  otherId: optionalText("Id/Othr/Id"),
  currency: optionalText("Ccy"),
};

export const originalGroupShape = {
  originalMessageId: text("OrgnlMsgId"),
  originalMessageNameId: text("OrgnlMsgNmId"),
  originalCreatedAt: optionalText("OrgnlCreDtTm"),
};

/** A reason: an ISO external code or a proprietary one, plus free text. */
export const reasonShape = {
  code: optionalText("Rsn/Cd"),
  proprietary: optionalText("Rsn/Prtry"),
  additionalInformation: textList("AddtlInf"),
};

export const caseShape = {
  id: text("Id"),
  creator: optionalGroup("Cretr/Agt", agentShape),
};

export const assignmentShape = {
  id: text("Id"),
  assigner: group("Assgnr/Agt", agentShape),
  assignee: group("Assgne/Agt", agentShape),
  createdAt: text("CreDtTm"),
};

/** One entry of a statement or notification (ReportEntry10) with its transaction details. */
export const entryShape = {
  reference: optionalText("NtryRef"),
  amount: optionalAmount("Amt"),
  creditDebit: text("CdtDbtInd"),
  status: optionalText("Sts/Cd"),
  bookingDate: optionalText("BookgDt/Dt"),
  bookingDateTime: optionalText("BookgDt/DtTm"),
  valueDate: optionalText("ValDt/Dt"),
  valueDateTime: optionalText("ValDt/DtTm"),
  accountServicerReference: optionalText("AcctSvcrRef"),
  bankTransactionCode: optionalGroup("BkTxCd/Domn", {
    domain: text("Cd"),
    family: text("Fmly/Cd"),
    subFamily: text("Fmly/SubFmlyCd"),
  }),
  transactions: list("NtryDtls/TxDtls", {
    accountServicerReference: optionalText("Refs/AcctSvcrRef"),
    instructionId: optionalText("Refs/InstrId"),
    endToEndId: optionalText("Refs/EndToEndId"),
    uetr: optionalText("Refs/UETR"),
    amount: optionalAmount("Amt"),
    creditDebit: optionalText("CdtDbtInd"),
    interbankSettlementDate: optionalText("RltdDts/IntrBkSttlmDt"),
    remittanceInformation: textList("RmtInf/Ustrd"),
  }),
};

/** GrpHdr of the credit transfers (pacs.008, pacs.009): one message, how many transactions, how settled. */
export const creditTransferGroupHeaderShape = {
  messageId: text("MsgId"),
  createdAt: text("CreDtTm"),
  numberOfTransactions: text("NbOfTxs"),
  settlementMethod: text("SttlmInf/SttlmMtd"),
};

/** PmtId and the interbank amount and date every credit transfer transaction carries. */
export const creditTransferPaymentShape = {
  instructionId: optionalText("PmtId/InstrId"),
  endToEndId: text("PmtId/EndToEndId"),
  transactionId: optionalText("PmtId/TxId"),
  uetr: optionalText("PmtId/UETR"),
  interbankSettlementAmount: amount("IntrBkSttlmAmt"),
  interbankSettlementDate: optionalText("IntrBkSttlmDt"),
};
