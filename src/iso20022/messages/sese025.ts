import { group, optionalGroup, optionalText, text, textList } from "../model/fields.ts";
import { amountAndDirectionShape, dvpReference, financialInstrumentShape, settlementPartiesShape } from "./securities.ts";

/**
 * sese.025.001.11 SecuritiesSettlementTransactionConfirmation: the account servicer confirms that the
 * securities (and, against payment, the cash) have settled.
 */
export const sese025Shape = {
  transaction: group("TxIdDtls", {
    accountOwnerTransactionId: text("AcctOwnrTxId"),
    accountServicerTransactionId: optionalText("AcctSvcrTxId"),
    movementType: text("SctiesMvmntTp"),
    payment: text("Pmt"),
    commonId: optionalText("CmonId"),
  }),
  tradeIds: textList("TradDtls/TradId"),
  tradeDate: optionalText("TradDtls/TradDt/Dt/Dt"),
  /** When the settlement took effect (FctvSttlmDt), a date-time. */
  effectiveSettlementAt: optionalText("TradDtls/FctvSttlmDt/Dt/DtTm"),
  effectiveSettlementDate: optionalText("TradDtls/FctvSttlmDt/Dt/Dt"),
  financialInstrument: group("FinInstrmId", financialInstrumentShape),
  settledUnits: optionalText("QtyAndAcctDtls/SttldQty/Qty/Unit"),
  safekeepingAccount: optionalText("QtyAndAcctDtls/SfkpgAcct/Id"),
  holdingAddress: optionalText("QtyAndAcctDtls/BlckChainAdrOrWllt/Id"),
  transactionType: optionalText("SttlmParams/SctiesTxTp/Cd"),
  delivering: optionalGroup("DlvrgSttlmPties", settlementPartiesShape),
  receiving: optionalGroup("RcvgSttlmPties", settlementPartiesShape),
  settledAmount: optionalGroup("SttldAmt", amountAndDirectionShape),
  dvpReference: dvpReference(),
};
