/**
 * How much a finding weighs: an `error` makes the message invalid; a `warning` is reported and the message
 * stays valid (a guideline the network's own samples do not follow). `strict` turns warnings into errors.
 */
export type Severity = "error" | "warning";

/** One problem found in a message: a stable rule code, how much it weighs, where it is, and what is wrong. */
export interface Finding {
  code: RuleCode;
  severity: Severity;
  /** Element path from the part root, e.g. `/Document/FICdtTrf/CdtTrfTxInf/PmtId/UETR` or `/AppHdr/Fr`. */
  path: string;
  message: string;
}

interface RuleDefinition {
  meaning: string;
  severity: Severity;
  /** The guideline, rule and release the rule implements, or "profile of this project". */
  source: string;
}

const projectSafeXml = "profile of this project (safe XML layer)";
const sr2024Principles = "CBPR+ SR2024 usage guidelines (pacs.008/pacs.009), Principles";

/**
 * Every rule code the validator can report, by layer: what it means, its severity and where it comes from.
 * The table is the contract with callers (the CLI, the HTTP API, the PvP engine); the rule table of
 * docs/iso20022-validation.md is held to it by a test.
 */
export const ruleDefinitions = {
  // Layer 1: safe XML, refused before any schema work.
  XML_TOO_LARGE: { meaning: "the message is larger than the size limit (1 MiB by default)", severity: "error", source: projectSafeXml },
  XML_TOO_DEEP: { meaning: "elements are nested deeper than the depth limit (64 by default)", severity: "error", source: projectSafeXml },
  XML_DTD_FORBIDDEN: { meaning: "a DOCTYPE, entity declaration or other markup declaration is present", severity: "error", source: projectSafeXml },
  XML_ENTITY_FORBIDDEN: {
    meaning: "an entity reference other than the five predefined ones (lt, gt, amp, quot, apos) is present",
    severity: "error",
    source: projectSafeXml,
  },
  XML_PI_FORBIDDEN: { meaning: "a processing instruction is present (only the XML declaration is allowed)", severity: "error", source: projectSafeXml },
  XML_ENCODING_UNSUPPORTED: { meaning: "the XML declaration names an encoding other than UTF-8", severity: "error", source: "ISO 20022 XML messages are UTF-8; profile of this project" },
  XML_TRUNCATED: { meaning: "the XML ends before every element is closed", severity: "error", source: "XML 1.0 well-formedness" },
  XML_MALFORMED: { meaning: "the XML is not well formed", severity: "error", source: "XML 1.0 well-formedness" },
  MESSAGE_STRUCTURE: { meaning: "the root is neither a Document nor a wrapper holding only AppHdr and Document", severity: "error", source: "profile of this project" },
  MESSAGE_DOCUMENT_MISSING: { meaning: "there is no Document", severity: "error", source: "profile of this project" },
  MESSAGE_FIELD_MISSING: {
    meaning: "a mandatory element the typed model reads is missing (refused, never read as an empty value)",
    severity: "error",
    source: "ISO 20022 XSDs (minOccurs 1); reported when the typed model is read",
  },
  MESSAGE_NAMESPACE_UNKNOWN: { meaning: "the Document or AppHdr namespace is not one of the ten supported versions", severity: "error", source: "profile of this project" },
  // Layer 2: the official ISO 20022 schemas.
  XSD_INVALID: { meaning: "the AppHdr or Document does not conform to its ISO 20022 XSD", severity: "error", source: "ISO 20022 message definitions: the official XSDs in src/iso20022/xsd" },
  // Layer 3: usage rules (profiles cbpr+ and hvps+).
  CBPR_HEADER_MISSING: { meaning: "the Business Application Header (AppHdr) is missing", severity: "error", source: "CBPR+ usage guidelines (all releases): every message travels with a head.001 BAH" },
  CBPR_CHARSET_FINX: { meaning: "text outside the SWIFT FIN X character set", severity: "error", source: `${sr2024Principles} 3 "Character Set"` },
  CBPR_CHARSET_EXTENDED: {
    meaning: "text outside the CBPR+ extended character set (names, addresses, remittance, e-mail)",
    severity: "error",
    source: `${sr2024Principles} 3 "Character Set"`,
  },
  CBPR_IDENTIFIER_SLASH: {
    meaning: "an identifier starts or ends with '/' or contains '//'",
    severity: "error",
    source: "CBPR+ datatype CBPR_RestrictedFINXMax35Text (pattern as remembered, not checked against public text)",
  },
  CBPR_UETR_MISSING: {
    meaning: "the UETR (or OrgnlUETR) is missing where CBPR+ makes it mandatory",
    severity: "error",
    source: "CBPR+ usage guidelines SR2024: PmtId/UETR and OrgnlUETR 1..1",
  },
  CBPR_UETR_FORMAT: { meaning: "a UETR is not a lowercase UUID version 4", severity: "error", source: "ISO 20022 UUIDv4Identifier (RFC 4122 version 4, lowercase)" },
  CBPR_BIC_INVALID: {
    meaning: "a BIC is malformed or its country code is not an ISO 3166 country",
    severity: "error",
    source: "ISO 9362 (country part from ISO 3166); profile of this project beyond the XSD pattern",
  },
  CBPR_LEI_INVALID: { meaning: "an LEI fails the ISO 17442 format or its mod 97 check digits", severity: "error", source: "ISO 17442; profile of this project beyond the XSD pattern" },
  CBPR_IBAN_INVALID: { meaning: "an IBAN fails the ISO 13616 format, country or mod 97 check", severity: "error", source: "ISO 13616; ISO 20022 IBAN2007Identifier definition" },
  CBPR_COUNTRY_UNKNOWN: { meaning: "a country code is not an ISO 3166 alpha-2 code", severity: "error", source: "ISO 3166-1 alpha-2; ISO 20022 CountryCode definition" },
  CBPR_CURRENCY_UNKNOWN: { meaning: "a currency is not an active ISO 4217 code", severity: "error", source: "ISO 4217; ISO 20022 ActiveCurrencyCode definition" },
  CBPR_AMOUNT_DECIMALS: {
    meaning: "an amount has more decimals than its currency's ISO 4217 minor units",
    severity: "error",
    source: "ISO 20022 CurrencyAmount rule (fraction digits per ISO 4217), kept by CBPR+",
  },
  CBPR_AMOUNT_DIGITS: {
    meaning: "an amount has more than 14 digits",
    severity: "error",
    source: "CBPR+ datatype CBPR_Amount: totalDigits 14, fractionDigits 5 (public transcriptions of the SR2024 to SR2026 schemas)",
  },
  CBPR_DATETIME_OFFSET: {
    meaning: "a date-time has no explicit UTC offset (+hh:mm or -hh:mm)",
    severity: "error",
    source: "CBPR+ User Handbook and datatype CBPR_DateTime: YYYY-MM-DDThh:mm:ss[.sss]+/-hh:mm; 'Z' is not that form",
  },
  CBPR_ONE_TRANSACTION: { meaning: "a pacs.008 or pacs.009 carries other than exactly one transaction", severity: "error", source: "CBPR+ usage guidelines: CdtTrfTxInf 1..1" },
  CBPR_NB_OF_TXS: { meaning: "NbOfTxs does not match the number of transactions", severity: "error", source: "profile of this project (consistency of GrpHdr with the body)" },
  CBPR_BAH_BIZMSGIDR: {
    meaning: "AppHdr BizMsgIdr differs from the Document's message identification",
    severity: "warning",
    source: "CBPR+ BAH guidance: BizMsgIdr should equal GrpHdr/MsgId; a recommendation that SWIFT's own samples break, so a warning",
  },
  CBPR_BAH_MSGDEFIDR: { meaning: "AppHdr MsgDefIdr differs from the Document's namespace", severity: "error", source: "head.001.001.02 definition of MsgDefIdr; CBPR+ BAH usage guideline" },
  CBPR_BAH_FROM: {
    meaning: "AppHdr Fr is missing its BICFI or differs from the instructing agent (or assigner)",
    severity: "error",
    source: "CBPR+ BAH usage guideline: Fr/To carry the BICFI of sender and receiver, the instructing/instructed agents (not checked against public text)",
  },
  CBPR_BAH_TO: {
    meaning: "AppHdr To is missing its BICFI or differs from the instructed agent (or assignee)",
    severity: "error",
    source: "CBPR+ BAH usage guideline: Fr/To carry the BICFI of sender and receiver, the instructing/instructed agents (not checked against public text)",
  },
  CBPR_AGENT_BIC_REQUIRED: {
    meaning: "an instructing or instructed agent is missing or not identified by BICFI",
    severity: "error",
    source: `${sr2024Principles} 1A note: instructing/instructed agents must be identified with a BICFI`,
  },
  CBPR_AGENT_BIC_EXCLUSIVE: {
    meaning: "an agent has a BICFI and also a name or postal address",
    severity: "warning",
    source: `${sr2024Principles} 1A textual rule: with a BICFI, name and postal address are not allowed, and on conflict the BICFI takes precedence; a textual rule that SR2025 transcriptions relax, so a warning`,
  },
  CBPR_ADDRESS_TOWN_COUNTRY: {
    meaning: "a postal address lacks TwnNm or Ctry (a fully unstructured address among them); cbpr+ (SR2026) only",
    severity: "error",
    source: "CBPR+ SR2026, in force 14 November 2026 (swift.com \"Removal of unstructured address\"): town and country in their own elements at minimum for all agents and parties, structured or hybrid; unstructured addresses decommissioned; admi.024, camt.025, camt.052, camt.053, camt.054, camt.060 exempt",
  },
  CBPR_ADDRESS_LINES: {
    meaning: "a hybrid postal address has more than 2 AdrLine; cbpr+ (SR2026) only",
    severity: "error",
    source: "CBPR+ hybrid address: TwnNm and Ctry plus at most 2 AdrLine of 70 characters (as published by J.P. Morgan's CBPR+ client notes and Oracle's SR2025 release notes; the usage guidelines themselves are behind a login)",
  },
  CBPR_CHARGE_BEARER: { meaning: "ChrgBr is not DEBT, CRED or SHAR", severity: "error", source: "CBPR+ pacs.008 usage guideline: ChargeBearerType1Code without SLEV" },
  CBPR_SETTLEMENT_METHOD: {
    meaning: "SttlmMtd is not INDA, INGA or COVE (HVPS+: also CLRG)",
    severity: "error",
    source: "CBPR+ usage guidelines: SettlementMethod1Code without CLRG; HVPS+ settles through the RTGS (CLRG)",
  },
  CBPR_SUPPLEMENTARY_DATA: { meaning: "SplmtryData is present in a pacs message", severity: "error", source: "CBPR+ pacs usage guidelines remove SplmtryData" },
  CBPR_RJCT_REASON: {
    meaning: "a pacs.002 rejection (RJCT) carries no status reason",
    severity: "error",
    source: "CBPR+ pacs.002 usage guideline: StsRsnInf required with RJCT (not checked against public text)",
  },
  CBPR_RETURN_REASON: { meaning: "a pacs.004 return carries no return reason", severity: "error", source: "CBPR+ pacs.004 usage guideline: RtrRsnInf 1..1 (not checked against public text)" },
  CBPR_CANCELLATION_REASON: {
    meaning: "a camt.056 cancellation request carries no cancellation reason",
    severity: "error",
    source: "CBPR+ camt.056 usage guideline: CxlRsnInf 1..1 (not checked against public text)",
  },
  CBPR_CANCELLATION_REJECT_REASON: {
    meaning: "a camt.029 rejecting a cancellation (RJCR) carries no reason",
    severity: "error",
    source: "CBPR+ camt.029 usage guideline: CxlStsRsnInf required with RJCR (not checked against public text)",
  },
} as const satisfies Record<string, RuleDefinition>;

export type RuleCode = keyof typeof ruleDefinitions;

/** Rule code -> meaning (the enum of the HTTP schema and the list tests walk). */
export const ruleCodes = Object.fromEntries(Object.entries(ruleDefinitions).map(([code, rule]) => [code, rule.meaning])) as Record<RuleCode, string>;

export function finding(code: RuleCode, path: string, message: string): Finding {
  return { code, severity: ruleDefinitions[code].severity, path, message };
}
