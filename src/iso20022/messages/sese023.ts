import { group, optionalGroup, optionalText, text, textList } from "../model/fields.ts";
import { amountAndDirectionShape, dvpReference, financialInstrumentShape, settlementPartiesShape } from "./securities.ts";

/**
 * sese.023.001.11 SecuritiesSettlementTransactionInstruction: an account owner (a broker) instructs its
 * account servicer (the CSD, here the gateway) to deliver or receive securities, against payment for a DvP.
 */
export const sese023Shape = {
  transactionId: text("TxId"),
  /** DELI (the seller's instruction) or RECE (the buyer's). */
  movementType: text("SttlmTpAndAddtlParams/SctiesMvmntTp"),
  /** APMT: against payment (DvP); FREE: free of payment. */
  payment: text("SttlmTpAndAddtlParams/Pmt"),
  /** The reference both sides' instructions share (the DvP id). */
  commonId: optionalText("SttlmTpAndAddtlParams/CmonId"),
  tradeIds: textList("TradDtls/TradId"),
  tradeDate: optionalText("TradDtls/TradDt/Dt/Dt"),
  settlementDate: optionalText("TradDtls/SttlmDt/Dt/Dt"),
  financialInstrument: group("FinInstrmId", financialInstrumentShape),
  /** Units of the security (SttlmQty/Qty/Unit), a decimal number. */
  quantityUnits: optionalText("QtyAndAcctDtls/SttlmQty/Qty/Unit"),
  safekeepingAccount: optionalText("QtyAndAcctDtls/SfkpgAcct/Id"),
  holdingAddress: optionalText("QtyAndAcctDtls/BlckChainAdrOrWllt/Id"),
  /** SctiesTxTp/Cd, TRAD for a trade. */
  transactionType: optionalText("SttlmParams/SctiesTxTp/Cd"),
  delivering: optionalGroup("DlvrgSttlmPties", settlementPartiesShape),
  receiving: optionalGroup("RcvgSttlmPties", settlementPartiesShape),
  settlementAmount: optionalGroup("SttlmAmt", amountAndDirectionShape),
  dvpReference: dvpReference(),
};
