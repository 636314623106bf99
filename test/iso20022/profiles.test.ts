import { describe, expect, it } from "vitest";
import { UnknownProfileError, validationProfile } from "../../src/iso20022/validation/profiles.ts";
import { validateMessage } from "../../src/iso20022/validation/validate.ts";
import { clearingDeclaredAsCbpr, hvpsClearingSample, pacs008Sample, pacs009Sample, sample, sampleNames } from "./fixtures.ts";

const pacs008 = sample(pacs008Sample);

function replaced(xml: string, from: string | RegExp, to: string): string {
  const result = xml.replace(from, to);
  if (result === xml) throw new Error(`fixture edit found nothing to replace: ${String(from)}`);
  return result;
}

/** XSD-valid messages that break CBPR+ usage rules: what Fedwire, HVPS+ or plain ISO 20022 traffic looks like. */
const xsdValidOtherPractices: Array<[string, string]> = [
  ["a Document without AppHdr", replaced(pacs008, /<AppHdr[\s\S]*<\/AppHdr>/, "")],
  ["settlement by clearing (CLRG)", clearingDeclaredAsCbpr()],
  ["a date-time in UTC written with Z", replaced(pacs008, "<CreDtTm>2021-04-09T09:00:00+01:00</CreDtTm>", "<CreDtTm>2021-04-09T08:00:00Z</CreDtTm>")],
  ["two transactions", replaced(replaced(pacs008, /(<CdtTrfTxInf>[\s\S]*<\/CdtTrfTxInf>)/, "$1$1"), "<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>")],
  ["charge bearer SLEV", replaced(pacs008, "<ChrgBr>DEBT</ChrgBr>", "<ChrgBr>SLEV</ChrgBr>")],
  ["an underscore in an identifier", replaced(pacs008, "pacs008EndToEndId-001", "pacs008_EndToEndId")],
];

/** Messages the official XSDs refuse. */
const xsdInvalid: Array<[string, string]> = [
  ["NbOfTxs not a number", replaced(pacs008, "<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>one</NbOfTxs>")],
  ["an unknown element", replaced(pacs008, "<ChrgBr>DEBT</ChrgBr>", "<ChrgBr>DEBT</ChrgBr><Unknown>x</Unknown>")],
  ["no UETR pattern", replaced(pacs008, "8a562c67-ca16-48ba-b074-65581be6f001", "not-a-uuid")],
  ["a missing mandatory MsgId", replaced(pacs008, /<MsgId>[^<]*<\/MsgId>/, "")],
];

describe("validation profiles", () => {
  it("iso agrees with the official XSDs (libxml2) on every sample and on XSD-valid and -invalid variants", () => {
    const messages = [...sampleNames.map((name): [string, string] => [name, sample(name)]), ...xsdValidOtherPractices, ...xsdInvalid];
    for (const [name, xml] of messages) {
      const reference = validateMessage(xml, { profile: "iso", xsdEngine: "libxml2" });
      const report = validateMessage(xml, { profile: "iso" });
      expect(report.valid, name).toBe(reference.valid);
      expect(report.warnings, name).toEqual([]);
      expect(report.errors.every((error) => error.code === "XSD_INVALID"), name).toBe(true);
    }
  });

  it("iso accepts XSD-valid messages of other market practices that cbpr+ refuses", () => {
    for (const [name, xml] of xsdValidOtherPractices) {
      expect(validateMessage(xml, { profile: "iso" }), name).toMatchObject({ profile: "iso", valid: true, errors: [], warnings: [] });
      expect(validateMessage(xml).valid, name).toBe(false);
    }
  });

  it("iso still refuses what the XSDs refuse", () => {
    for (const [name, xml] of xsdInvalid) expect(validateMessage(xml, { profile: "iso" }).valid, name).toBe(false);
  });

  it("hvps+ allows settlement through the RTGS (CLRG) whatever the BAH declares; cbpr+ only when the BAH declares HVPS+", () => {
    expect(validateMessage(clearingDeclaredAsCbpr(), { profile: "hvps+" })).toMatchObject({ profile: "hvps+", valid: true, errors: [] });
    expect(validateMessage(clearingDeclaredAsCbpr()).errors.map((error) => error.code)).toEqual(["CBPR_SETTLEMENT_METHOD"]);
    expect(validateMessage(sample(hvpsClearingSample)).valid).toBe(true);
  });

  it("hvps+ keeps every other usage rule", () => {
    const noUetr = replaced(sample(pacs009Sample), /<UETR>[^<]*<\/UETR>/, "");
    expect(validateMessage(noUetr, { profile: "hvps+" }).errors.map((error) => error.code)).toEqual(["CBPR_UETR_MISSING"]);
  });

  it("a stored profile name is read strictly: absent means cbpr+, an unknown name is refused", () => {
    expect(validationProfile(undefined)).toBe("cbpr+");
    expect(validationProfile(null)).toBe("cbpr+");
    expect(validationProfile("iso")).toBe("iso");
    expect(validationProfile("hvps+")).toBe("hvps+");
    expect(validationProfile("iso20022")).toBe("iso");
    expect(() => validationProfile("fedwire")).toThrow(UnknownProfileError);
    expect(() => validationProfile("CBPR+")).toThrow(expect.objectContaining({ code: "ISO20022_PROFILE_UNKNOWN" }));
  });
});

describe("precise messages", () => {
  it("an AppHdr Fr without a BICFI is reported as missing, not as a mismatch", () => {
    const organisation = replaced(pacs008, /<Fr>\s*<FIId>[\s\S]*?<\/FIId>\s*<\/Fr>/, "<Fr><OrgId><Nm>Sender</Nm></OrgId></Fr>");
    const report = validateMessage(organisation);
    expect(report.errors).toEqual([{ code: "CBPR_BAH_FROM", severity: "error", path: "/AppHdr/Fr", message: expect.stringContaining("has no FIId/FinInstnId/BICFI") }]);
    expect(report.errors[0]!.message).not.toContain("differs");
    expect(validateMessage(organisation, { profile: "iso" }).valid).toBe(true);
  });

  it("a missing BizMsgIdr is the XSD's to report once, not also a mismatch with MsgId", () => {
    const report = validateMessage(replaced(pacs008, /<BizMsgIdr>[^<]*<\/BizMsgIdr>/, ""));
    expect(report.errors.map((error) => error.code)).toEqual(["XSD_INVALID"]);
    expect(report.warnings).toEqual([]);
  });

  it("a missing instructing agent is reported as missing, one without BICFI as lacking it", () => {
    const missing = validateMessage(replaced(pacs008, /<InstgAgt>[\s\S]*?<\/InstgAgt>/, ""));
    expect(missing.errors).toEqual([expect.objectContaining({ code: "CBPR_AGENT_BIC_REQUIRED", message: "InstgAgt is missing; CBPR+ names the instructing agent by BICFI" })]);
    const noBic = validateMessage(replaced(pacs008, /(<InstgAgt>\s*<FinInstnId>\s*)<BICFI>[^<]*<\/BICFI>/, "$1<Nm>Bank</Nm><PstlAdr><Ctry>GB</Ctry></PstlAdr>"));
    expect(noBic.errors).toContainEqual(expect.objectContaining({ code: "CBPR_AGENT_BIC_REQUIRED", message: "InstgAgt has no FinInstnId/BICFI; CBPR+ names the instructing agent by BICFI" }));
  });

  it("a mismatch names both values", () => {
    const report = validateMessage(replaced(pacs008, /(<To>\s*<FIId>\s*<FinInstnId>\s*<BICFI>)ABNANL2AXXX/, "$1NDEAFIHHXXX"));
    expect(report.errors).toEqual([expect.objectContaining({ code: "CBPR_BAH_TO", message: expect.stringMatching(/"NDEAFIHHXXX" differs from .*InstdAgt "ABNANL2A/) })]);
  });
});
