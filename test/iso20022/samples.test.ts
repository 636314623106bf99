import { parseStringPromise } from "xml2js";
import { describe, expect, it } from "vitest";
import { buildMessage, buildMessageParts, parseMessage, type Iso20022Message } from "../../src/iso20022/message.ts";
import { validateMessage } from "../../src/iso20022/validation/validate.ts";
import type { XmlElement } from "../../src/iso20022/xml/tree.ts";
import { clearingDeclaredAsCbpr, sample, sampleNames } from "./fixtures.ts";

interface Xml2jsNode {
  $?: Record<string, string>;
  _?: string;
  $$?: Xml2jsNode[];
  "#name": string;
}

/** xml2js's reading of the same text, in our tree's shape: an independent parser to compare against. */
function fromXml2js(node: Xml2jsNode): XmlElement {
  const element: XmlElement = { name: node["#name"], attributes: { ...(node.$ ?? {}) }, children: (node.$$ ?? []).map(fromXml2js) };
  if (node._ !== undefined && element.children.length === 0) element.text = node._;
  return element;
}

async function readWithXml2js(xml: string): Promise<XmlElement> {
  const result = (await parseStringPromise(xml, { explicitChildren: true, preserveChildrenOrder: true, explicitRoot: false, explicitArray: true })) as Xml2jsNode;
  result["#name"] = (/<([A-Za-z][\w:.-]*)[\s>]/.exec(xml.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, ""))?.[1]) ?? "";
  return fromXml2js(result);
}

function withoutTrees(message: Iso20022Message): Iso20022Message {
  const copy = { ...message };
  delete copy.trees;
  return copy;
}

describe("the 32 CBPR+ scenario samples", () => {
  it("are all here", () => {
    expect(sampleNames).toHaveLength(32);
  });

  it("settle by clearing only under HVPS+: the same pacs.008 declared CBPR+ breaks the settlement-method rule", () => {
    expect(validateMessage(clearingDeclaredAsCbpr()).errors).toEqual([
      expect.objectContaining({ code: "CBPR_SETTLEMENT_METHOD", path: "/Document/FIToFICstmrCdtTrf/GrpHdr/SttlmInf/SttlmMtd" }),
    ]);
  });

  describe.each(sampleNames)("%s", (name) => {
    const xml = sample(name);

    it("validates: safe XML, XSD and the usage rules of its BizSvc (CBPR+, or HVPS+ for the market-infrastructure samples)", () => {
      expect(validateMessage(xml)).toEqual({ messageType: expect.any(String), profile: "cbpr+", release: "SR2026", valid: true, errors: [], warnings: [] });
    });

    it("validates under the previous release too (cbpr+@sr2025): SR2026 only adds the address rule, which every sample meets", () => {
      expect(validateMessage(xml, { profile: "cbpr+@sr2025" })).toMatchObject({ release: "SR2025", valid: true, errors: [], warnings: [] });
    });

    it("round-trips: parse -> build -> parse gives the same message, and the built XML passes the XSDs", () => {
      const message = parseMessage(xml);
      const built = buildMessage(message);
      expect(parseMessage(built)).toEqual(message);
      expect(validateMessage(built).errors.filter((error) => error.code === "XSD_INVALID")).toEqual([]);
      expect(validateMessage(built).valid).toBe(validateMessage(xml).valid);
    });

    it("builds from the typed model alone into schema-valid XML with the same typed content", () => {
      const typedOnly = withoutTrees(parseMessage(xml));
      const built = buildMessage(typedOnly);
      const report = validateMessage(built);
      expect(report.errors.filter((error) => error.code === "XSD_INVALID")).toEqual([]);
      expect(withoutTrees(parseMessage(built))).toEqual(typedOnly);
    });

    it("reads the same element tree as xml2js", async () => {
      const message = parseMessage(xml);
      const independent = await readWithXml2js(xml);
      const ours: XmlElement = message.trees?.envelope
        ? { ...message.trees.envelope, children: [message.trees.header!, message.trees.document] }
        : message.trees!.document;
      expect(ours).toEqual(independent);
    });

    it("reads as two parts (AppHdr, Document) exactly as in its envelope", () => {
      const message = parseMessage(xml);
      const parts = buildMessageParts(message);
      const fromParts = parseMessage(parts.header === undefined ? parts.document : { header: parts.header, document: parts.document });
      expect(fromParts.header).toEqual(message.header);
      expect(fromParts.document).toEqual(message.document);
      expect(validateMessage(parts.header === undefined ? parts.document : { header: parts.header, document: parts.document }).valid).toBe(
        validateMessage(xml).valid,
      );
    });
  });
});
