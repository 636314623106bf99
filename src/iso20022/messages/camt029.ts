import { group, list, optionalGroup, optionalText, textList } from "../model/fields.ts";
import { assignmentShape, caseShape, originalGroupShape } from "./components.ts";

/** camt.029.001.09 ResolutionOfInvestigation: the answer to a camt.056. */
export const camt029Shape = {
  assignment: group("Assgnmt", assignmentShape),
  resolvedCase: optionalGroup("RslvdCase", caseShape),
  status: optionalText("Sts/Conf"),
  transactions: list("CxlDtls/TxInfAndSts", {
    cancellationStatusId: optionalText("CxlStsId"),
    resolvedCase: optionalGroup("RslvdCase", caseShape),
    originalGroup: optionalGroup("OrgnlGrpInf", originalGroupShape),
    originalInstructionId: optionalText("OrgnlInstrId"),
    originalEndToEndId: optionalText("OrgnlEndToEndId"),
    originalUetr: optionalText("OrgnlUETR"),
    cancellationStatus: optionalText("TxCxlSts"),
    reasons: list("CxlStsRsnInf", {
      originatorName: optionalText("Orgtr/Nm"),
      code: optionalText("Rsn/Cd"),
      proprietary: optionalText("Rsn/Prtry"),
      additionalInformation: textList("AddtlInf"),
    }),
  }),
};
