import { describe, expect, it } from "vitest";
import { buildMessageParts, parseMessage } from "../../src/iso20022/message.ts";
import { validateMessage } from "../../src/iso20022/validation/validate.ts";
import { pacs008Sample, sample } from "./fixtures.ts";

const pacs008 = sample(pacs008Sample);
const prefixed = sample("c_56_4_1__CBPR_c.56.4.1_pacs.002_CtoB.xml");

describe("XSD layer", () => {
  it("names the offending element of the Document by path", () => {
    const report = validateMessage(pacs008.replace("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>one</NbOfTxs>"));
    expect(report.errors).toContainEqual({
      code: "XSD_INVALID",
      severity: "error",
      path: "/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs",
      message: expect.stringContaining("'one'"),
    });
  });

  it("names the offending element of the AppHdr, with prefixes too", () => {
    const report = validateMessage(prefixed.replace("<head:MsgDefIdr>pacs.002.001.10</head:MsgDefIdr>", ""));
    expect(report.errors).toContainEqual({ code: "XSD_INVALID", severity: "error", path: "/AppHdr/BizSvc", message: expect.stringContaining("MsgDefIdr") });
  });

  it("reports elements out of schema order and unknown elements", () => {
    const report = validateMessage(pacs008.replace("<ChrgBr>DEBT</ChrgBr>", "<ChrgBr>DEBT</ChrgBr><Unknown>x</Unknown>"));
    expect(report.errors).toContainEqual({ code: "XSD_INVALID", severity: "error", path: "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/Unknown", message: expect.stringContaining("not expected") });
  });

  it("numbers repeated siblings in paths", () => {
    const twice = pacs008.replace(/(<CdtTrfTxInf>[\s\S]*<\/CdtTrfTxInf>)/, "$1$1").replace("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>");
    const report = validateMessage(twice.replace(/(<\/CdtTrfTxInf>[\s\S]*?)<ChrgBr>DEBT<\/ChrgBr>/, "$1<ChrgBr>XXXX</ChrgBr>"));
    expect(report.errors).toContainEqual({ code: "XSD_INVALID", severity: "error", path: "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/ChrgBr", message: expect.any(String) });
  });

  it("validates two-part input part by part", () => {
    const parts = buildMessageParts(parseMessage(pacs008));
    const report = validateMessage({ header: parts.header!.replace("<CreDt>", "<CreDt>x"), document: parts.document });
    expect(report.errors).toContainEqual({ code: "XSD_INVALID", severity: "error", path: "/AppHdr/CreDt", message: expect.any(String) });
  });
});
