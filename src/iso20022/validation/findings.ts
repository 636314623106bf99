/** One problem found in a message: a stable rule code, where it is, and what is wrong. */
export interface Finding {
  code: RuleCode;
  /** Element path from the part root, e.g. `/Document/FICdtTrf/CdtTrfTxInf/PmtId/UETR` or `/AppHdr/Fr`. */
  path: string;
  message: string;
}

/**
 * Every rule code the validator can report, by layer, with what it means. The list is the contract with
 * callers (the CLI, the HTTP API, the PvP engine); docs/iso20022-validation.md is generated from the same
 * meanings.
 */
export const ruleCodes = {
  // Layer 1: safe XML, refused before any schema work.
  XML_TOO_LARGE: "the message is larger than the size limit (1 MiB by default)",
  XML_TOO_DEEP: "elements are nested deeper than the depth limit (64 by default)",
  XML_DTD_FORBIDDEN: "a DOCTYPE, entity declaration or other markup declaration is present",
  XML_ENTITY_FORBIDDEN: "an entity reference other than the five predefined ones (lt, gt, amp, quot, apos) is present",
  XML_PI_FORBIDDEN: "a processing instruction is present (only the XML declaration is allowed)",
  XML_ENCODING_UNSUPPORTED: "the XML declaration names an encoding other than UTF-8",
  XML_TRUNCATED: "the XML ends before every element is closed",
  XML_MALFORMED: "the XML is not well formed",
  MESSAGE_STRUCTURE: "the root is neither a Document nor a wrapper holding only AppHdr and Document",
  MESSAGE_DOCUMENT_MISSING: "there is no Document",
  MESSAGE_NAMESPACE_UNKNOWN: "the Document or AppHdr namespace is not one of the nine supported versions",
  // Layer 2: the official ISO 20022 schemas.
  XSD_INVALID: "the AppHdr or Document does not conform to its ISO 20022 XSD",
  // Layer 3: CBPR+ usage rules.
  CBPR_HEADER_MISSING: "the Business Application Header (AppHdr) is missing",
  CBPR_CHARSET_FINX: "text outside the SWIFT FIN X character set",
  CBPR_CHARSET_EXTENDED: "text outside the CBPR+ extended character set (names, addresses, remittance, e-mail)",
  CBPR_IDENTIFIER_SLASH: "an identifier starts or ends with '/' or contains '//'",
  CBPR_UETR_MISSING: "the UETR (or OrgnlUETR) is missing where CBPR+ makes it mandatory",
  CBPR_UETR_FORMAT: "a UETR is not a lowercase UUID version 4",
  CBPR_BIC_INVALID: "a BIC is malformed or its country code is not an ISO 3166 country",
  CBPR_LEI_INVALID: "an LEI fails the ISO 17442 format or its mod 97 check digits",
  CBPR_IBAN_INVALID: "an IBAN fails the ISO 13616 format, country or mod 97 check",
  CBPR_COUNTRY_UNKNOWN: "a country code is not an ISO 3166 alpha-2 code",
  CBPR_CURRENCY_UNKNOWN: "a currency is not an active ISO 4217 code",
  CBPR_AMOUNT_DECIMALS: "an amount has more decimals than its currency's ISO 4217 minor units",
  CBPR_AMOUNT_DIGITS: "an amount has more than 14 digits",
  CBPR_DATETIME_OFFSET: "a date-time has no explicit UTC offset (+hh:mm or -hh:mm)",
  CBPR_ONE_TRANSACTION: "a pacs.008 or pacs.009 carries other than exactly one transaction",
  CBPR_NB_OF_TXS: "NbOfTxs does not match the number of transactions",
  CBPR_BAH_BIZMSGIDR: "AppHdr BizMsgIdr differs from the Document's message identification",
  CBPR_BAH_MSGDEFIDR: "AppHdr MsgDefIdr differs from the Document's namespace",
  CBPR_BAH_FROM: "AppHdr Fr differs from the instructing agent (or assigner)",
  CBPR_BAH_TO: "AppHdr To differs from the instructed agent (or assignee)",
  CBPR_AGENT_BIC_REQUIRED: "an instructing or instructed agent is missing or not identified by BICFI",
  CBPR_AGENT_BIC_EXCLUSIVE: "an agent has a BICFI and also a name or postal address",
  CBPR_CHARGE_BEARER: "ChrgBr is not DEBT, CRED or SHAR",
  CBPR_SETTLEMENT_METHOD: "SttlmMtd is not INDA, INGA or COVE",
  CBPR_SUPPLEMENTARY_DATA: "SplmtryData is present in a pacs message",
  CBPR_RJCT_REASON: "a pacs.002 rejection (RJCT) carries no status reason",
  CBPR_RETURN_REASON: "a pacs.004 return carries no return reason",
  CBPR_CANCELLATION_REASON: "a camt.056 cancellation request carries no cancellation reason",
  CBPR_CANCELLATION_REJECT_REASON: "a camt.029 rejecting a cancellation (RJCR) carries no reason",
} as const;

export type RuleCode = keyof typeof ruleCodes;

export function finding(code: RuleCode, path: string, message: string): Finding {
  return { code, path, message };
}
