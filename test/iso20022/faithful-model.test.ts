import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildMessage, messageFromJson, messageToJson, parseMessage, readParts, type Iso20022Message, type LocatedParts } from "../../src/iso20022/message.ts";
import { readPvpStatus } from "../../src/iso20022/pvp/messages.ts";
import { treeSchemaFindings, validateMessage } from "../../src/iso20022/validation/validate.ts";
import { serializeElement, type XmlElement } from "../../src/iso20022/xml/tree.ts";
import { pacs008Sample, pacs009Sample, sample, sampleNames } from "./fixtures.ts";
import { pvpExample } from "./pvp-example.ts";

function withoutTrees(message: Iso20022Message): Iso20022Message {
  const copy = { ...message };
  delete copy.trees;
  return copy;
}

function replaced(xml: string, from: string | RegExp, to: string): string {
  const result = xml.replace(from, to);
  if (result === xml) throw new Error(`fixture edit found nothing to replace: ${String(from)}`);
  return result;
}

/** Valid under the official XSDs alone, checked by libxml2 (the independent engine). */
function xsdValid(xml: string): boolean {
  return validateMessage(xml, { profile: "iso", xsdEngine: "libxml2" }).valid;
}

/** Every element below the message roots (never AppHdr, Document or the message root itself), with its parent. */
function removableElements(parts: LocatedParts): Array<{ parent: XmlElement; child: XmlElement }> {
  const found: Array<{ parent: XmlElement; child: XmlElement }> = [];
  const walk = (parent: XmlElement) => {
    for (const child of parent.children) {
      found.push({ parent, child });
      walk(child);
    }
  };
  if (parts.header) walk(parts.header);
  for (const root of parts.document.children) walk(root);
  return found;
}

/**
 * A random XSD-valid message: a sample with random elements removed or emptied, each change kept only when
 * the message stays valid under the XSDs. This reaches what third parties send and samples do not show:
 * empty mandatory containers (`<FinInstnId/>`, `<BkTxCd/>`), absent optional groups, fewer repetitions.
 */
function randomVariant(name: string, picks: Array<{ at: number; empty: boolean }>): string {
  const parts = readParts(sample(name));
  for (const pick of picks) {
    const candidates = removableElements(parts);
    const { parent, child } = candidates[pick.at % candidates.length]!;
    const index = parent.children.indexOf(child);
    const saved = { children: child.children, text: child.text };
    if (pick.empty && child.children.length > 0) child.children = [];
    else parent.children.splice(index, 1);
    if (treeSchemaFindings(parts).length > 0) {
      if (parent.children[index] !== child) parent.children.splice(index, 0, child);
      child.children = saved.children;
      if (saved.text !== undefined) child.text = saved.text;
    }
  }
  return serializeElement(parts.envelope ?? parts.document);
}

/** The property: parse -> typed model -> build gives XSD-valid XML with the same typed content, with or without the kept trees. */
function expectFaithful(xml: string): void {
  const message = parseMessage(xml);
  const fromTrees = buildMessage(message);
  expect(xsdValid(fromTrees)).toBe(true);
  const typedOnly = withoutTrees(message);
  const fromModel = buildMessage(typedOnly);
  expect(xsdValid(fromModel)).toBe(true);
  expect(withoutTrees(parseMessage(fromModel))).toEqual(typedOnly);
  // The JSON form (iso parse / iso render) carries the same model.
  expect(xsdValid(buildMessage(messageFromJson(JSON.parse(messageToJson(typedOnly)))))).toBe(true);
}

describe("the typed model is faithful", () => {
  it.each(sampleNames)("%s: parse -> model -> build is XSD-valid, with and without the kept trees", (name) => {
    expectFaithful(sample(name));
  });

  it("holds for random XSD-valid messages (samples with elements removed or emptied)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...sampleNames),
        fc.array(fc.record({ at: fc.nat(), empty: fc.boolean() }), { minLength: 1, maxLength: 40 }),
        (name, picks) => {
          const xml = randomVariant(name, picks);
          expect(xsdValid(xml)).toBe(true);
          expectFaithful(xml);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("keeps the empty mandatory containers third parties send: <Fr><OrgId/>, <Dbtr><FinInstnId/>, <BkTxCd/>", () => {
    const organisationSender = replaced(sample(pacs008Sample), /<Fr>\s*<FIId>[\s\S]*?<\/FIId>\s*<\/Fr>/, "<Fr><OrgId/></Fr>");
    const emptyDebtor = replaced(sample(pacs009Sample), /<Dbtr>\s*<FinInstnId>[\s\S]*?<\/FinInstnId>\s*<\/Dbtr>/, "<Dbtr><FinInstnId/></Dbtr>");
    const statement = sample("c_56_4_1__CBPR_c.56.4.1_camt.053_DtoE.xml");
    const emptyCode = replaced(statement, /<BkTxCd>[\s\S]*?<\/BkTxCd>/, "<BkTxCd/>");
    for (const xml of [organisationSender, emptyDebtor, emptyCode]) {
      expect(xsdValid(xml)).toBe(true);
      const built = buildMessage(withoutTrees(parseMessage(xml)));
      expect(xsdValid(built)).toBe(true);
    }
    expect(buildMessage(withoutTrees(parseMessage(organisationSender)))).toMatch(/<Fr>\s*<OrgId\/>\s*<\/Fr>/);
    expect(buildMessage(withoutTrees(parseMessage(emptyDebtor)))).toMatch(/<Dbtr>\s*<FinInstnId\/>\s*<\/Dbtr>/);
    expect(buildMessage(withoutTrees(parseMessage(emptyCode)))).toContain("<BkTxCd/>");
  });

  it("reads a sender named as an organisation as such, not as an empty BIC", () => {
    const organisationSender = replaced(sample(pacs008Sample), /<Fr>\s*<FIId>[\s\S]*?<\/FIId>\s*<\/Fr>/, "<Fr><OrgId><Nm>Sender Ltd</Nm></OrgId></Fr>");
    const header = parseMessage(organisationSender).header!;
    expect(header.from).toBeUndefined();
    expect(header.fromOrganisation).toEqual({ name: "Sender Ltd" });
  });
});

describe("readers refuse a message whose mandatory field is missing", () => {
  it("the typed model refuses a missing mandatory element with MESSAGE_FIELD_MISSING instead of reading \"\"", () => {
    const noEndToEndId = replaced(sample(pacs008Sample), /<EndToEndId>[^<]*<\/EndToEndId>/, "");
    expect(() => parseMessage(noEndToEndId)).toThrow(expect.objectContaining({ code: "MESSAGE_FIELD_MISSING", path: "PmtId/EndToEndId" }));
    const noAmount = replaced(sample(pacs009Sample), /<IntrBkSttlmAmt[^>]*>[^<]*<\/IntrBkSttlmAmt>/, "");
    expect(() => parseMessage(noAmount)).toThrow(expect.objectContaining({ code: "MESSAGE_FIELD_MISSING", path: "IntrBkSttlmAmt" }));
  });

  it("the JSON form refuses a missing mandatory field too", () => {
    const json = JSON.parse(messageToJson(withoutTrees(parseMessage(sample(pacs008Sample))))) as { document: { groupHeader: Record<string, unknown> } };
    delete json.document.groupHeader.messageId;
    expect(() => messageFromJson(json)).toThrow(expect.objectContaining({ code: "MESSAGE_FIELD_MISSING", path: "MsgId" }));
  });

  it("the PvP readers refuse a status without OrgnlUETR (PVP_FIELD_MISSING), never an empty UETR", () => {
    const locked = buildMessage(pvpExample.find((example) => example.message.messageType === "pacs.002.001.10")!.message);
    const noUetr = replaced(locked, /<OrgnlUETR>[^<]*<\/OrgnlUETR>/, "");
    expect(() => readPvpStatus(parseMessage(noUetr))).toThrow(expect.objectContaining({ code: "PVP_FIELD_MISSING", message: "OrgnlUETR is missing" }));
  });
});
