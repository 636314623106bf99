import { list, optionalGroup, optionalText, text } from "../model/fields.ts";

/** Fr or To identified as an organisation (the other branch of the choice; CBPR+ uses FIId and a BICFI). */
const organisationShape = {
  name: optionalText("Nm"),
  anyBic: optionalText("Id/OrgId/AnyBIC"),
  lei: optionalText("Id/OrgId/LEI"),
};

/** Fr or To identified as a financial institution: what goes beside (or instead of) the BICFI. */
const institutionShape = {
  clearingSystemMemberId: optionalText("FinInstnId/ClrSysMmbId/MmbId"),
  lei: optionalText("FinInstnId/LEI"),
  name: optionalText("FinInstnId/Nm"),
};

/**
 * Fr and To are each a choice: a financial institution (FIId, where CBPR+ puts the BICFI) or an
 * organisation (OrgId). `fromInstitution`/`fromOrganisation` say which branch a message takes, even when it
 * is empty (`<Fr><OrgId/></Fr>` is schema-valid); `from`/`to` are the BICFI. The branches come first so a
 * header built from `from` alone still gets its BICFI.
 */
const headerFields = {
  fromInstitution: optionalGroup("Fr/FIId", institutionShape),
  fromOrganisation: optionalGroup("Fr/OrgId", organisationShape),
  /** BICFI of the sender (Fr/FIId/FinInstnId/BICFI); absent when the sender is named otherwise. */
  from: optionalText("Fr/FIId/FinInstnId/BICFI"),
  toInstitution: optionalGroup("To/FIId", institutionShape),
  toOrganisation: optionalGroup("To/OrgId", organisationShape),
  to: optionalText("To/FIId/FinInstnId/BICFI"),
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
