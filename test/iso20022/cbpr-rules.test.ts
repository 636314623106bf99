import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ruleCodes, ruleDefinitions, type RuleCode } from "../../src/iso20022/validation/findings.ts";
import { validationProfile } from "../../src/iso20022/validation/profiles.ts";
import { validateMessage } from "../../src/iso20022/validation/validate.ts";
import { pacs008Sample, sample } from "./fixtures.ts";

const pacs008 = sample(pacs008Sample);
const pacs002Rejection = sample("p_2_1_2__CBPR_p.2.1.2_pacs.002_DtoC.xml");
const pacs004 = sample("p_2_1_2__CBPR_p.2.1.2_pacs.004_BtoA.xml");
const camt056 = sample("c_29_1_1__CBPR_c.29.1.1_camt.056_AtoB.xml");
const camt029 = sample("c_29_1_1__CBPR_c.29.1.1_camt.029_BtoA.xml");
const transaction = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf";

function replaced(xml: string, from: string | RegExp, to: string): string {
  const result = xml.replace(from, to);
  if (result === xml) throw new Error(`fixture edit found nothing to replace: ${String(from)}`);
  return result;
}

interface Case {
  rule: RuleCode;
  breaks: string;
  xml: string;
  path: string;
}

const cases: Case[] = [
  { rule: "CBPR_HEADER_MISSING", breaks: "no AppHdr", xml: replaced(pacs008, /<AppHdr[\s\S]*<\/AppHdr>/, ""), path: "/AppHdr" },
  { rule: "CBPR_CHARSET_FINX", breaks: "'_' in EndToEndId", xml: replaced(pacs008, "pacs008EndToEndId-001", "pacs008_EndToEndId"), path: `${transaction}/PmtId/EndToEndId` },
  { rule: "CBPR_CHARSET_EXTENDED", breaks: "a non-Latin letter in a name", xml: replaced(pacs008, "<Nm>C Consumer</Nm>", "<Nm>C Consumér</Nm>"), path: `${transaction}/Dbtr/Nm` },
  { rule: "CBPR_IDENTIFIER_SLASH", breaks: "InstrId starting with '/'", xml: replaced(pacs008, "<InstrId>pacs8bizmsgidr01", "<InstrId>/pacs8bizmsgidr01"), path: `${transaction}/PmtId/InstrId` },
  { rule: "CBPR_UETR_MISSING", breaks: "no UETR", xml: replaced(pacs008, /<UETR>[^<]*<\/UETR>/, ""), path: `${transaction}/PmtId/UETR` },
  { rule: "CBPR_UETR_FORMAT", breaks: "an uppercase UETR", xml: replaced(pacs008, "8a562c67-ca16-48ba-b074-65581be6f001", "8A562C67-CA16-48BA-B074-65581BE6F001"), path: `${transaction}/PmtId/UETR` },
  { rule: "CBPR_BIC_INVALID", breaks: "a BIC whose country QQ does not exist", xml: replaced(pacs008, "<BICFI>NDEAFIHHXXX</BICFI>", "<BICFI>NDEAQQHHXXX</BICFI>"), path: `${transaction}/IntrmyAgt1/FinInstnId/BICFI` },
  {
    rule: "CBPR_LEI_INVALID",
    breaks: "an LEI with wrong check digits",
    xml: replaced(pacs008, "<BICFI>NDEAFIHHXXX</BICFI>", "<BICFI>NDEAFIHHXXX</BICFI><LEI>HWUPKR0MPOU8FGXBT395</LEI>"),
    path: `${transaction}/IntrmyAgt1/FinInstnId/LEI`,
  },
  {
    rule: "CBPR_IBAN_INVALID",
    breaks: "an IBAN with wrong check digits",
    xml: replaced(pacs008, /<Othr>\s*<Id>12547896<\/Id>\s*<\/Othr>/, "<IBAN>GB82WEST12345698765431</IBAN>"),
    path: `${transaction}/DbtrAcct/Id/IBAN`,
  },
  { rule: "CBPR_COUNTRY_UNKNOWN", breaks: "country UK (ISO says GB)", xml: replaced(pacs008, "<Ctry>GB</Ctry>", "<Ctry>UK</Ctry>"), path: `${transaction}/Dbtr/PstlAdr/Ctry` },
  { rule: "CBPR_CURRENCY_UNKNOWN", breaks: "currency XYZ", xml: replaced(pacs008, 'Ccy="EUR"', 'Ccy="XYZ"'), path: `${transaction}/IntrBkSttlmAmt/@Ccy` },
  {
    rule: "CBPR_AMOUNT_DECIMALS",
    breaks: "three decimals in KZT (which has two)",
    xml: replaced(pacs008, '<IntrBkSttlmAmt Ccy="EUR">15669.38<', '<IntrBkSttlmAmt Ccy="KZT">15669.385<'),
    path: `${transaction}/IntrBkSttlmAmt`,
  },
  {
    rule: "CBPR_AMOUNT_DIGITS",
    breaks: "a 15-digit amount",
    xml: replaced(pacs008, '<IntrBkSttlmAmt Ccy="EUR">15669.38<', '<IntrBkSttlmAmt Ccy="EUR">1234567890123.45<'),
    path: `${transaction}/IntrBkSttlmAmt`,
  },
  {
    rule: "CBPR_DATETIME_OFFSET",
    breaks: "a CreDtTm in UTC written with Z",
    xml: replaced(pacs008, "<CreDtTm>2021-04-09T09:00:00+01:00</CreDtTm>", "<CreDtTm>2021-04-09T08:00:00Z</CreDtTm>"),
    path: "/Document/FIToFICstmrCdtTrf/GrpHdr/CreDtTm",
  },
  {
    rule: "CBPR_ONE_TRANSACTION",
    breaks: "two transactions",
    xml: replaced(replaced(pacs008, /(<CdtTrfTxInf>[\s\S]*<\/CdtTrfTxInf>)/, "$1$1"), "<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>"),
    path: "/Document/FIToFICstmrCdtTrf",
  },
  { rule: "CBPR_NB_OF_TXS", breaks: "NbOfTxs 2 for one transaction", xml: replaced(pacs008, "<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>"), path: "/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs" },
  { rule: "CBPR_BAH_BIZMSGIDR", breaks: "BizMsgIdr different from MsgId", xml: replaced(pacs008, "<BizMsgIdr>pacs8bizmsgidr01", "<BizMsgIdr>another-id"), path: "/AppHdr/BizMsgIdr" },
  { rule: "CBPR_BAH_MSGDEFIDR", breaks: "MsgDefIdr naming another version", xml: replaced(pacs008, "<MsgDefIdr>pacs.008.001.08", "<MsgDefIdr>pacs.008.001.09"), path: "/AppHdr/MsgDefIdr" },
  {
    rule: "CBPR_BAH_FROM",
    breaks: "Fr different from the instructing agent",
    xml: replaced(pacs008, /(<Fr>\s*<FIId>\s*<FinInstnId>\s*<BICFI>)RBOSGB2LXXX/, "$1NDEAFIHHXXX"),
    path: "/AppHdr/Fr",
  },
  {
    rule: "CBPR_BAH_TO",
    breaks: "To different from the instructed agent",
    xml: replaced(pacs008, /(<To>\s*<FIId>\s*<FinInstnId>\s*<BICFI>)ABNANL2AXXX/, "$1NDEAFIHHXXX"),
    path: "/AppHdr/To",
  },
  { rule: "CBPR_AGENT_BIC_REQUIRED", breaks: "no instructing agent", xml: replaced(pacs008, /<InstgAgt>[\s\S]*?<\/InstgAgt>/, ""), path: `${transaction}/InstgAgt` },
  {
    rule: "CBPR_AGENT_BIC_EXCLUSIVE",
    breaks: "an agent with a BIC and a name",
    xml: replaced(pacs008, "<BICFI>NDEAFIHHXXX</BICFI>", "<BICFI>NDEAFIHHXXX</BICFI><Nm>Nordea</Nm>"),
    path: `${transaction}/IntrmyAgt1/FinInstnId`,
  },
  {
    rule: "CBPR_ADDRESS_TOWN_COUNTRY",
    breaks: "an unstructured debtor address (AdrLine only), refused since SR2026",
    xml: replaced(pacs008, /<PstlAdr>\s*<StrtNm>High Street<\/StrtNm>\s*<TwnNm>Epping<\/TwnNm>\s*<Ctry>GB<\/Ctry>\s*<\/PstlAdr>/, "<PstlAdr><AdrLine>High Street</AdrLine><AdrLine>Epping GB</AdrLine></PstlAdr>"),
    path: `${transaction}/Dbtr/PstlAdr`,
  },
  {
    rule: "CBPR_ADDRESS_LINES",
    breaks: "a hybrid address with three AdrLine",
    xml: replaced(pacs008, "<Ctry>GB</Ctry>", "<Ctry>GB</Ctry><AdrLine>1</AdrLine><AdrLine>2</AdrLine><AdrLine>3</AdrLine>"),
    path: `${transaction}/Dbtr/PstlAdr`,
  },
  { rule: "CBPR_CHARGE_BEARER", breaks: "ChrgBr SLEV", xml: replaced(pacs008, "<ChrgBr>DEBT</ChrgBr>", "<ChrgBr>SLEV</ChrgBr>"), path: `${transaction}/ChrgBr` },
  { rule: "CBPR_SETTLEMENT_METHOD", breaks: "SttlmMtd CLRG", xml: replaced(pacs008, "<SttlmMtd>INDA</SttlmMtd>", "<SttlmMtd>CLRG</SttlmMtd>"), path: "/Document/FIToFICstmrCdtTrf/GrpHdr/SttlmInf/SttlmMtd" },
  {
    rule: "CBPR_SUPPLEMENTARY_DATA",
    breaks: "SplmtryData in a pacs.008",
    xml: replaced(pacs008, "</CdtTrfTxInf>", "<SplmtryData><Envlp><Pvp xmlns=\"urn:example:pvp\">x</Pvp></Envlp></SplmtryData></CdtTrfTxInf>"),
    path: `${transaction}/SplmtryData`,
  },
  {
    rule: "CBPR_RJCT_REASON",
    breaks: "a pacs.002 RJCT without StsRsnInf",
    xml: replaced(pacs002Rejection, /<StsRsnInf>[\s\S]*?<\/StsRsnInf>/, ""),
    path: "/Document/FIToFIPmtStsRpt/TxInfAndSts/StsRsnInf",
  },
  { rule: "CBPR_RETURN_REASON", breaks: "a pacs.004 without RtrRsnInf", xml: replaced(pacs004, /<RtrRsnInf>[\s\S]*?<\/RtrRsnInf>/, ""), path: "/Document/PmtRtr/TxInf/RtrRsnInf" },
  {
    rule: "CBPR_CANCELLATION_REASON",
    breaks: "a camt.056 without CxlRsnInf",
    xml: replaced(camt056, /<CxlRsnInf>[\s\S]*?<\/CxlRsnInf>/, ""),
    path: "/Document/FIToFIPmtCxlReq/Undrlyg/TxInf/CxlRsnInf",
  },
  {
    rule: "CBPR_CANCELLATION_REJECT_REASON",
    breaks: "a camt.029 RJCR without CxlStsRsnInf",
    xml: replaced(camt029, "<Conf>CNCL</Conf>", "<Conf>RJCR</Conf>"),
    path: "/Document/RsltnOfInvstgtn/CxlDtls/TxInfAndSts/CxlStsRsnInf",
  },
];

describe("CBPR+ usage rules", () => {
  it("the unbroken messages the cases start from are valid", () => {
    for (const xml of [pacs008, pacs002Rejection, pacs004, camt056, camt029]) expect(validateMessage(xml).errors).toEqual([]);
  });

  const errorCases = cases.filter((entry) => ruleDefinitions[entry.rule].severity === "error");
  const warningCases = cases.filter((entry) => ruleDefinitions[entry.rule].severity === "warning");

  it.each(errorCases)("$rule: refuses $breaks", ({ rule, xml, path }) => {
    const report = validateMessage(xml);
    expect(report.valid).toBe(false);
    expect(report.errors).toContainEqual({ code: rule, severity: "error", path, message: expect.any(String) });
    // Each broken message breaks no other usage rule and stays schema-valid, except where the rule is the
    // schema's own edge (SplmtryData content is checked by the XSD too).
    expect(new Set(report.errors.map((error) => error.code).filter((code) => code !== "XSD_INVALID"))).toEqual(new Set([rule]));
    expect(report.warnings).toEqual([]);
  });

  it.each(warningCases)("$rule: warns about $breaks and keeps the message valid; --strict refuses it", ({ rule, xml, path }) => {
    const report = validateMessage(xml);
    expect(report).toMatchObject({ valid: true, errors: [] });
    expect(report.warnings).toEqual([{ code: rule, severity: "warning", path, message: expect.any(String) }]);
    const strict = validateMessage(xml, { strict: true });
    expect(strict).toMatchObject({ valid: false, warnings: [] });
    expect(strict.errors).toEqual([{ code: rule, severity: "error", path, message: expect.any(String) }]);
  });

  it("has warnings only for guidance the network's own samples break: BizMsgIdr = MsgId and BICFI without name", () => {
    expect(warningCases.map((entry) => entry.rule).sort()).toEqual(["CBPR_AGENT_BIC_EXCLUSIVE", "CBPR_BAH_BIZMSGIDR"]);
  });

  it("every CBPR+ rule code has a case that breaks it", () => {
    const covered = new Set(cases.map((entry) => entry.rule));
    expect(Object.keys(ruleCodes).filter((code) => code.startsWith("CBPR_") && !covered.has(code as RuleCode))).toEqual([]);
  });

  it("every rule code of every layer is documented in docs/iso20022-validation.md with its severity and source", () => {
    const doc = readFileSync(new URL("../../docs/iso20022-validation.md", import.meta.url), "utf8");
    const rows = new Map(
      doc
        .split("\n")
        .map((line) => /^\| \d \| `([A-Z0-9_]+)` \| (error|warning) \| (.+) \| (.+) \|$/.exec(line))
        .filter((match) => match !== null)
        .map((match) => [match[1]!, { severity: match[2], meaning: match[3], source: match[4] }]),
    );
    for (const [code, rule] of Object.entries(ruleDefinitions)) {
      expect(rows.get(code), code).toEqual({ severity: rule.severity, meaning: rule.meaning, source: rule.source });
    }
    expect([...rows.keys()].filter((code) => !(code in ruleCodes))).toEqual([]);
  });

  it("allows the extended character set in names and remittance text, not in identifiers", () => {
    const named = replaced(pacs008, "<Nm>C Consumer</Nm>", "<Nm>C &amp; Consumer @ Epping #1</Nm>");
    expect(validateMessage(named).errors).toEqual([]);
    const identifier = replaced(pacs008, "pacs008EndToEndId-001", "pacs008EndToEndId#001");
    expect(validateMessage(identifier).errors.map((error) => error.code)).toEqual(["CBPR_CHARSET_FINX"]);
  });

  it("accepts a BIC8 as the same institution as its BIC11 with branch XXX", () => {
    const bic8 = replaced(pacs008, /(<Fr>\s*<FIId>\s*<FinInstnId>\s*<BICFI>)RBOSGB2LXXX/, "$1RBOSGB2L");
    expect(validateMessage(bic8).errors).toEqual([]);
  });

  it("accepts KZT amounts with up to two decimals", () => {
    const kzt = replaced(pacs008, '<IntrBkSttlmAmt Ccy="EUR">15669.38<', '<IntrBkSttlmAmt Ccy="KZT">7500000.5<');
    expect(validateMessage(kzt).errors).toEqual([]);
  });

  it("refuses a date-time without any offset", () => {
    const local = replaced(pacs008, "<CreDtTm>2021-04-09T09:00:00+01:00</CreDtTm>", "<CreDtTm>2021-04-09T09:00:00</CreDtTm>");
    expect(validateMessage(local).errors.map((error) => error.code)).toEqual(["CBPR_DATETIME_OFFSET"]);
  });
});

describe("CBPR+ releases: cbpr+ is SR2026, cbpr+@sr2025 keeps the previous release for peers that have not moved", () => {
  const dbtrAddress = /<PstlAdr>\s*<StrtNm>High Street<\/StrtNm>\s*<TwnNm>Epping<\/TwnNm>\s*<Ctry>GB<\/Ctry>\s*<\/PstlAdr>/;
  const unstructured = replaced(pacs008, dbtrAddress, "<PstlAdr><AdrLine>High Street</AdrLine><AdrLine>Epping GB</AdrLine></PstlAdr>");

  it("every report names its release", () => {
    expect(validateMessage(pacs008)).toMatchObject({ profile: "cbpr+", release: "SR2026", valid: true });
    expect(validateMessage(pacs008, { profile: "cbpr+@sr2025" })).toMatchObject({ profile: "cbpr+@sr2025", release: "SR2025", valid: true });
    expect(validateMessage(pacs008, { profile: "hvps+" })).toMatchObject({ release: null });
    expect(validateMessage(pacs008, { profile: "iso" })).toMatchObject({ release: null });
    expect(validateMessage("<not xml")).toMatchObject({ profile: "cbpr+", release: "SR2026", valid: false });
  });

  it("an unstructured address: refused under SR2026, accepted under SR2025", () => {
    expect(validateMessage(unstructured).errors.map((error) => error.code)).toEqual(["CBPR_ADDRESS_TOWN_COUNTRY"]);
    expect(validateMessage(unstructured, { profile: "cbpr+@sr2025" })).toMatchObject({ valid: true, errors: [] });
  });

  it("a hybrid address needs TwnNm and Ctry too; with both and two AdrLine it passes", () => {
    const withoutTown = replaced(pacs008, dbtrAddress, "<PstlAdr><Ctry>GB</Ctry><AdrLine>High Street, Epping</AdrLine></PstlAdr>");
    expect(validateMessage(withoutTown).errors).toEqual([expect.objectContaining({ code: "CBPR_ADDRESS_TOWN_COUNTRY", message: expect.stringContaining("TwnNm") })]);
    const hybrid = replaced(pacs008, dbtrAddress, "<PstlAdr><TwnNm>Epping</TwnNm><Ctry>GB</Ctry><AdrLine>High Street</AdrLine><AdrLine>Floor 2</AdrLine></PstlAdr>");
    expect(validateMessage(hybrid)).toMatchObject({ valid: true, errors: [] });
  });

  it("statements and notifications are exempt: a camt.054 with an unstructured address stays valid", () => {
    const camt054 = sample("c_56_4_1__CBPR_c.56.4.1_camt.054_DtoE.xml");
    expect(validateMessage(camt054).valid).toBe(true);
  });

  it("a correspondent can be set to cbpr+@sr2025: the profile is a known one", () => {
    expect(validationProfile("cbpr+@sr2025")).toBe("cbpr+@sr2025");
    expect(validationProfile("cbpr+@sr2026")).toBe("cbpr+");
  });
});
