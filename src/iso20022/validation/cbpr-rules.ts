import { headerType, messageRootElement, type DocumentType } from "../catalog.ts";
import type { LocatedParts } from "../message.ts";
import { currencyMinorUnits } from "../../core/money.ts";
import { isCountryCode } from "../reference/countries.ts";
import { schemaModel, type SchemaModel } from "../schema-model.ts";
import { childElement, childElements, elementAt, localName, textAt, type XmlElement } from "../xml/tree.ts";
import { finding, type Finding, type RuleCode } from "./findings.ts";
import { extendedSet, finX, hasExplicitOffset, isValidBic, isValidIban, isValidLei, isValidUetr, sameInstitution } from "./identifiers.ts";
import { elementPath } from "./paths.ts";
import { cbprRelease, type ValidationProfile } from "./profiles.ts";

/** Where CBPR+ allows the extended character set: party names and addresses, remittance, e-mail. */
const extendedScopes = new Set(["Nm", "PstlAdr", "RmtInf", "RltdRmtInf", "EmailAdr"]);
/** Identifiers that map to MT reference fields: no leading or trailing '/', no '//'. */
const slashRestricted = new Set(["MsgId", "BizMsgIdr", "InstrId", "EndToEndId", "TxId", "RtrId", "CxlId", "CxlStsId", "StsId"]);
const maximumAmountDigits = 14;

interface Walk {
  /** SR2026 address rules apply (cbpr+, messages that are not statements or notifications). */
  addressRules: boolean;
  model: SchemaModel;
  chain: XmlElement[];
  skipRoot: boolean;
  findings: Finding[];
}

function report(walk: Walk, code: RuleCode, message: string, attribute = ""): void {
  walk.findings.push(finding(code, elementPath(walk.chain, walk.skipRoot) + attribute, message));
}

function checkAmount(walk: Walk, element: XmlElement, currency: string): void {
  const exponent = currencyMinorUnits(currency);
  if (exponent === undefined) {
    report(walk, "CBPR_CURRENCY_UNKNOWN", `${currency} is not an active ISO 4217 currency`, "/@Ccy");
    return;
  }
  const match = /^0*(\d*?)(?:\.(\d*?)0*)?$/.exec((element.text ?? "").trim());
  if (!match) return; // the XSD layer reports a malformed decimal
  const integer = match[1] ?? "";
  const fraction = match[2] ?? "";
  if (fraction.length > exponent) {
    report(walk, "CBPR_AMOUNT_DECIMALS", `${currency} has ${exponent} decimal${exponent === 1 ? "" : "s"}; ${element.text} has ${fraction.length}`);
  }
  if (integer.length + fraction.length > maximumAmountDigits) {
    report(walk, "CBPR_AMOUNT_DIGITS", `amount ${element.text} has more than ${maximumAmountDigits} digits`);
  }
}

function checkLeaf(walk: Walk, element: XmlElement, name: string, type: string, extended: boolean, parentName: string): void {
  const value = element.text ?? "";
  if (extended ? !extendedSet.test(value) : !finX.test(value)) {
    report(walk, extended ? "CBPR_CHARSET_EXTENDED" : "CBPR_CHARSET_FINX", `${name} holds characters outside the ${extended ? "CBPR+ extended" : "FIN X"} character set`);
  }
  if ((slashRestricted.has(name) || (name === "Id" && parentName === "Assgnmt")) && (value.startsWith("/") || value.endsWith("/") || value.includes("//"))) {
    report(walk, "CBPR_IDENTIFIER_SLASH", `${name} "${value}" must not start or end with '/' or contain '//'`);
  }
  switch (type) {
    case "ISODateTime":
      if (!hasExplicitOffset(value)) report(walk, "CBPR_DATETIME_OFFSET", `${name} "${value}" needs an explicit UTC offset such as +05:00`);
      break;
    case "BICFIDec2014Identifier":
    case "AnyBICDec2014Identifier":
      if (!isValidBic(value)) report(walk, "CBPR_BIC_INVALID", `"${value}" is not a BIC with a real ISO 3166 country`);
      break;
    case "LEIIdentifier":
      if (!isValidLei(value)) report(walk, "CBPR_LEI_INVALID", `"${value}" is not a valid LEI (ISO 17442 check digits)`);
      break;
    case "IBAN2007Identifier":
      if (!isValidIban(value)) report(walk, "CBPR_IBAN_INVALID", `"${value}" is not a valid IBAN (ISO 13616 mod 97)`);
      break;
    case "UUIDv4Identifier":
      if (!isValidUetr(value)) report(walk, "CBPR_UETR_FORMAT", `"${value}" is not a lowercase UUID version 4`);
      break;
    case "CountryCode":
      if (!isCountryCode(value)) report(walk, "CBPR_COUNTRY_UNKNOWN", `"${value}" is not an ISO 3166 country code`);
      break;
    case "ActiveCurrencyCode":
    case "ActiveOrHistoricCurrencyCode":
      if (currencyMinorUnits(value) === undefined) report(walk, "CBPR_CURRENCY_UNKNOWN", `${value} is not an active ISO 4217 currency`);
      break;
  }
  const currency = element.attributes.Ccy;
  if (currency !== undefined) checkAmount(walk, element, currency);
}

/** Checks every element by its schema data type: character set, identifiers, codes, amounts, date-times. */
function walkElement(walk: Walk, element: XmlElement, name: string, parentName: string, type: string, extended: boolean): void {
  const inExtended = extended || extendedScopes.has(name);
  if (element.children.length === 0) {
    checkLeaf(walk, element, name, type, inExtended, parentName);
    return;
  }
  if (name === "PstlAdr" && walk.addressRules) checkPostalAddress(walk, element);
  if (name === "FinInstnId" && childElement(element, "BICFI") && (childElement(element, "Nm") || childElement(element, "PstlAdr"))) {
    // CBPR+ principle 1A: a BIC alone identifies an agent.
    report(walk, "CBPR_AGENT_BIC_EXCLUSIVE", "an agent identified by BICFI carries no name or postal address in CBPR+");
  }
  const declarations = walk.model.complexTypes.get(type)?.children;
  for (const child of element.children) {
    const childName = localName(child.name);
    walk.chain.push(child);
    walkElement(walk, child, childName, name, declarations?.get(childName)?.type ?? "", inExtended);
    walk.chain.pop();
  }
}

/**
 * CBPR+ SR2026 (from 14 November 2026): a postal address is structured (no AdrLine) or hybrid (at most two
 * AdrLine of 70 characters), and either way names at least TwnNm and Ctry; a fully unstructured address
 * (AdrLine alone) is refused. Sources in docs/iso20022-validation.md.
 */
function checkPostalAddress(walk: Walk, address: XmlElement): void {
  const lines = childElements(address, "AdrLine");
  const missing = ["TwnNm", "Ctry"].filter((part) => childElement(address, part) === undefined);
  if (missing.length > 0) {
    const kind = lines.length > 0 && missing.length === 2 ? "an unstructured address (AdrLine only)" : `a postal address without ${missing.join(" and ")}`;
    report(walk, "CBPR_ADDRESS_TOWN_COUNTRY", `${kind} is no longer accepted in CBPR+ SR2026: give at least TwnNm and Ctry`);
  }
  // Each line's 70 characters are the XSD's (Max70Text).
  if (lines.length > 2) {
    report(walk, "CBPR_ADDRESS_LINES", `a hybrid address carries at most 2 AdrLine in CBPR+ SR2026 (has ${lines.length})`);
  }
}

/** Messages SR2026's address rule leaves out (statements and notifications; of ours camt.053 and camt.054). */
const addressRuleExempt = new Set<string>(["camt.052", "camt.053", "camt.054", "camt.060", "camt.025", "admi.024"]);

function walkPart(part: XmlElement, id: DocumentType | typeof headerType, envelope: XmlElement | undefined, findings: Finding[], addressRules: boolean): void {
  const model = schemaModel(id);
  const walk: Walk = { addressRules, model, chain: envelope ? [envelope, part] : [part], skipRoot: envelope !== undefined, findings };
  walkElement(walk, part, localName(part.name), "", model.rootType, false);
}

function agentBic(agent: XmlElement | undefined): string | undefined {
  return textAt(agent, "FinInstnId/BICFI");
}

/** HVPS+ business services (market infrastructures): the BAH's BizSvc names the guideline it follows. */
const hvpsService = /^swift\.(iap|hvps)/i;

/** Message-level rules that need more than one element at a time. */
function messageRules(parts: LocatedParts, profile: UsageProfile, findings: Finding[]): void {
  const { messageType, header, document } = parts;
  const rootName = messageRootElement[messageType];
  const root = childElement(document, rootName);
  if (root === undefined) return; // the XSD layer reports it
  const base = `/Document/${rootName}`;
  const add = (code: RuleCode, path: string, message: string) => findings.push(finding(code, path, message));
  const family = messageType.slice(0, 4);

  const transactionElement: Partial<Record<DocumentType, string>> = {
    "pacs.008.001.08": "CdtTrfTxInf",
    "pacs.009.001.08": "CdtTrfTxInf",
    "pacs.002.001.10": "TxInfAndSts",
    "pacs.004.001.09": "TxInf",
    "pacs.028.001.03": "TxInf",
  };
  const transactionName = transactionElement[messageType];
  const transactions = transactionName ? childElements(root, transactionName) : [];
  const transactionPath = (index: number) => `${base}/${transactionName}${transactions.length > 1 ? `[${index + 1}]` : ""}`;

  // Header consistency.
  const messageId = messageType.startsWith("camt.056") || messageType.startsWith("camt.029") ? textAt(root, "Assgnmt/Id") : textAt(root, "GrpHdr/MsgId");
  const messageIdPath = messageType.startsWith("camt.056") || messageType.startsWith("camt.029") ? `${base}/Assgnmt/Id` : `${base}/GrpHdr/MsgId`;
  if (header === undefined) {
    add("CBPR_HEADER_MISSING", "/AppHdr", "CBPR+ messages travel with a head.001.001.02 Business Application Header");
  } else {
    // A missing BizMsgIdr or MsgDefIdr is the XSD layer's to report; here only values that disagree.
    const businessMessageId = textAt(header, "BizMsgIdr");
    if (businessMessageId !== undefined && messageId !== undefined && businessMessageId !== messageId) {
      add("CBPR_BAH_BIZMSGIDR", "/AppHdr/BizMsgIdr", `BizMsgIdr "${businessMessageId}" differs from ${messageIdPath} "${messageId}" (recommended equal)`);
    }
    const definition = textAt(header, "MsgDefIdr");
    if (definition !== undefined && definition !== messageType) {
      add("CBPR_BAH_MSGDEFIDR", "/AppHdr/MsgDefIdr", `MsgDefIdr "${definition}" differs from the Document namespace (${messageType})`);
    }
  }

  const from = textAt(header, "Fr/FIId/FinInstnId/BICFI");
  const to = textAt(header, "To/FIId/FinInstnId/BICFI");
  const compareParty = (side: "Fr" | "To", headerBic: string | undefined, agentBic: string | undefined, agentPath: string) => {
    const code = side === "Fr" ? "CBPR_BAH_FROM" : "CBPR_BAH_TO";
    if (headerBic === undefined) {
      add(code, `/AppHdr/${side}`, `AppHdr ${side} has no FIId/FinInstnId/BICFI; CBPR+ identifies the ${side === "Fr" ? "sender" : "receiver"} by BICFI`);
    } else if (agentBic !== undefined && !sameInstitution(headerBic, agentBic)) {
      add(code, `/AppHdr/${side}`, `AppHdr ${side} "${headerBic}" differs from ${agentPath} "${agentBic}"`);
    }
  };
  if (header !== undefined) {
    compareParty("Fr", from, undefined, "");
    compareParty("To", to, undefined, "");
  }
  const compareParties = (sender: string | undefined, receiver: string | undefined, senderPath: string, receiverPath: string) => {
    if (header === undefined) return;
    if (from !== undefined) compareParty("Fr", from, sender, senderPath);
    if (to !== undefined) compareParty("To", to, receiver, receiverPath);
  };

  if (messageType === "pacs.008.001.08" || messageType === "pacs.009.001.08") {
    if (transactions.length !== 1) add("CBPR_ONE_TRANSACTION", base, `CBPR+ allows exactly one ${transactionName}; found ${transactions.length}`);
    const settlementMethod = textAt(root, "GrpHdr/SttlmInf/SttlmMtd");
    // HVPS+ shares the CBPR+ rules here but settles through the RTGS system.
    const allowed = profile === "hvps+" ? ["INDA", "INGA", "COVE", "CLRG"] : ["INDA", "INGA", "COVE"];
    if (settlementMethod !== undefined && !allowed.includes(settlementMethod)) {
      add("CBPR_SETTLEMENT_METHOD", `${base}/GrpHdr/SttlmInf/SttlmMtd`, `settlement method ${settlementMethod} is not ${allowed.join(", ")}`);
    }
  }
  if (messageType === "pacs.008.001.08" || messageType === "pacs.009.001.08" || messageType === "pacs.004.001.09") {
    const declared = textAt(root, "GrpHdr/NbOfTxs");
    if (declared !== undefined && declared !== String(transactions.length)) {
      add("CBPR_NB_OF_TXS", `${base}/GrpHdr/NbOfTxs`, `NbOfTxs is ${declared} but the message holds ${transactions.length}`);
    }
  }
  if (family === "pacs") {
    if (childElement(root, "SplmtryData")) add("CBPR_SUPPLEMENTARY_DATA", `${base}/SplmtryData`, "CBPR+ pacs messages carry no SplmtryData");
  }

  transactions.forEach((transaction, index) => {
    const path = transactionPath(index);
    const uetrName = messageType.startsWith("pacs.00") && transactionName === "CdtTrfTxInf" ? "PmtId/UETR" : "OrgnlUETR";
    if (textAt(transaction, uetrName) === undefined) add("CBPR_UETR_MISSING", `${path}/${uetrName}`, `${uetrName} is mandatory in CBPR+ ${messageType}`);
    if (childElement(transaction, "SplmtryData")) add("CBPR_SUPPLEMENTARY_DATA", `${path}/SplmtryData`, "CBPR+ pacs messages carry no SplmtryData");
    const instructing = childElement(transaction, "InstgAgt");
    const instructed = childElement(transaction, "InstdAgt");
    // A status report or request names agents only where it adds to the AppHdr.
    if (messageType !== "pacs.002.001.10" && messageType !== "pacs.028.001.03") {
      const requireBic = (agent: XmlElement | undefined, name: string, role: string) => {
        if (agent === undefined) add("CBPR_AGENT_BIC_REQUIRED", `${path}/${name}`, `${name} is missing; CBPR+ names the ${role} agent by BICFI`);
        else if (agentBic(agent) === undefined) add("CBPR_AGENT_BIC_REQUIRED", `${path}/${name}`, `${name} has no FinInstnId/BICFI; CBPR+ names the ${role} agent by BICFI`);
      };
      requireBic(instructing, "InstgAgt", "instructing");
      requireBic(instructed, "InstdAgt", "instructed");
    }
    compareParties(agentBic(instructing), agentBic(instructed), `${path}/InstgAgt`, `${path}/InstdAgt`);
    if (messageType === "pacs.008.001.08") {
      const chargeBearer = textAt(transaction, "ChrgBr");
      if (chargeBearer !== undefined && !["DEBT", "CRED", "SHAR"].includes(chargeBearer)) {
        add("CBPR_CHARGE_BEARER", `${path}/ChrgBr`, `charge bearer ${chargeBearer} is not DEBT, CRED or SHAR`);
      }
    }
    if (messageType === "pacs.002.001.10" && textAt(transaction, "TxSts") === "RJCT" && !hasReason(transaction, "StsRsnInf")) {
      add("CBPR_RJCT_REASON", `${path}/StsRsnInf`, "a rejected transaction needs StsRsnInf/Rsn with an ISO reason code");
    }
    if (messageType === "pacs.004.001.09" && !hasReason(transaction, "RtrRsnInf")) {
      add("CBPR_RETURN_REASON", `${path}/RtrRsnInf`, "a return needs RtrRsnInf/Rsn with an ISO return reason code");
    }
  });
  if (messageType === "pacs.028.001.03") {
    if (transactions.length === 0) add("CBPR_UETR_MISSING", `${base}/TxInf/OrgnlUETR`, "a status request names the payment it asks about by OrgnlUETR");
    compareParties(agentBic(elementAt(root, "GrpHdr/InstgAgt")), agentBic(elementAt(root, "GrpHdr/InstdAgt")), `${base}/GrpHdr/InstgAgt`, `${base}/GrpHdr/InstdAgt`);
  }
  if (messageType === "pacs.002.001.10") {
    const group = childElement(root, "OrgnlGrpInfAndSts");
    if (group && textAt(group, "GrpSts") === "RJCT" && !hasReason(group, "StsRsnInf")) {
      add("CBPR_RJCT_REASON", `${base}/OrgnlGrpInfAndSts/StsRsnInf`, "a rejected group needs StsRsnInf/Rsn with an ISO reason code");
    }
  }

  if (messageType === "camt.056.001.08" || messageType === "camt.029.001.09") {
    compareParties(textAt(root, "Assgnmt/Assgnr/Agt/FinInstnId/BICFI"), textAt(root, "Assgnmt/Assgne/Agt/FinInstnId/BICFI"), `${base}/Assgnmt/Assgnr`, `${base}/Assgnmt/Assgne`);
    const container = messageType === "camt.056.001.08" ? "Undrlyg" : "CxlDtls";
    const itemName = messageType === "camt.056.001.08" ? "TxInf" : "TxInfAndSts";
    const rejected = messageType === "camt.029.001.09" && textAt(root, "Sts/Conf") === "RJCR";
    childElements(root, container).forEach((block, blockIndex, blocks) => {
      const items = childElements(block, itemName);
      items.forEach((item, itemIndex) => {
        const path = `${base}/${container}${blocks.length > 1 ? `[${blockIndex + 1}]` : ""}/${itemName}${items.length > 1 ? `[${itemIndex + 1}]` : ""}`;
        if (textAt(item, "OrgnlUETR") === undefined) add("CBPR_UETR_MISSING", `${path}/OrgnlUETR`, `OrgnlUETR is mandatory in CBPR+ ${messageType}`);
        if (messageType === "camt.056.001.08" && !hasReason(item, "CxlRsnInf")) {
          add("CBPR_CANCELLATION_REASON", `${path}/CxlRsnInf`, "a cancellation request needs CxlRsnInf/Rsn with an ISO cancellation reason code");
        }
        if ((rejected || textAt(item, "TxCxlSts") === "RJCR") && !hasReason(item, "CxlStsRsnInf")) {
          add("CBPR_CANCELLATION_REJECT_REASON", `${path}/CxlStsRsnInf`, "a rejected cancellation needs CxlStsRsnInf/Rsn");
        }
      });
    });
  }
}

function hasReason(element: XmlElement, reasonElement: string): boolean {
  return childElements(element, reasonElement).some((reason) => textAt(reason, "Rsn/Cd") !== undefined || textAt(reason, "Rsn/Prtry") !== undefined);
}

type UsageProfile = Exclude<ValidationProfile, "iso">;

/** The usage profile a message is held to: `cbpr+` gives way to HVPS+ when the BAH declares an HVPS+ service. */
export function usageProfileOf(parts: LocatedParts, profile: UsageProfile): UsageProfile {
  if (profile !== "hvps+" && hvpsService.test(textAt(parts.header, "BizSvc") ?? "")) return "hvps+";
  return profile;
}

/** Layer 3: CBPR+ (or HVPS+) usage rules over a message already read by the safe reader. */
export function cbprFindings(parts: LocatedParts, profile: UsageProfile = "cbpr+"): Finding[] {
  const findings: Finding[] = [];
  const usage = usageProfileOf(parts, profile);
  const addressRules = cbprRelease(usage) === "SR2026" && !addressRuleExempt.has(parts.messageType.slice(0, 8));
  if (parts.header) walkPart(parts.header, headerType, parts.envelope, findings, false);
  walkPart(parts.document, parts.messageType, parts.envelope, findings, addressRules);
  messageRules(parts, usage, findings);
  return findings;
}
