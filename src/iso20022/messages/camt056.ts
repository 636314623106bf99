import { group, list, optionalAmount, optionalGroup, optionalText, textList } from "../model/fields.ts";
import { assignmentShape, caseShape, originalGroupShape } from "./components.ts";

/** camt.056.001.08 FIToFIPaymentCancellationRequest. */
export const camt056Shape = {
  assignment: group("Assgnmt", assignmentShape),
  case: optionalGroup("Case", caseShape),
  transactions: list("Undrlyg/TxInf", {
    cancellationId: optionalText("CxlId"),
    case: optionalGroup("Case", caseShape),
    originalGroup: optionalGroup("OrgnlGrpInf", originalGroupShape),
    originalInstructionId: optionalText("OrgnlInstrId"),
    originalEndToEndId: optionalText("OrgnlEndToEndId"),
    originalUetr: optionalText("OrgnlUETR"),
    originalInterbankSettlementAmount: optionalAmount("OrgnlIntrBkSttlmAmt"),
    originalInterbankSettlementDate: optionalText("OrgnlIntrBkSttlmDt"),
    reasons: list("CxlRsnInf", {
      originatorName: optionalText("Orgtr/Nm"),
      originatorBic: optionalText("Orgtr/Id/OrgId/AnyBIC"),
      code: optionalText("Rsn/Cd"),
      proprietary: optionalText("Rsn/Prtry"),
      additionalInformation: textList("AddtlInf"),
    }),
  }),
};
