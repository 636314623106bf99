import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildMessage, readParts } from "../../src/iso20022/message.ts";
import { validateMessage } from "../../src/iso20022/validation/validate.ts";
import { schemaFindings } from "../../src/iso20022/validation/xsd.ts";
import { treeSchemaFindings } from "../../src/iso20022/validation/validate.ts";
import { serializeElement, type XmlElement } from "../../src/iso20022/xml/tree.ts";
import { pacs008Sample, sample, sampleNames } from "./fixtures.ts";

/** XSD findings of both engines for one text: our tree check, and libxml2 as the reference. */
function bothEngines(xml: string) {
  const parts = readParts(xml);
  return { tree: treeSchemaFindings(parts), libxml2: schemaFindings(xml, parts) };
}

const pacs008 = sample(pacs008Sample);
const edits: Array<[string, string | RegExp, string]> = [
  ["a pattern broken", "<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>one</NbOfTxs>"],
  ["a required element missing", /<EndToEndId>[^<]*<\/EndToEndId>/, ""],
  ["an unknown element", "<ChrgBr>DEBT</ChrgBr>", "<ChrgBr>DEBT</ChrgBr><Unknown>x</Unknown>"],
  ["elements out of order", /(<IntrBkSttlmDt>[^<]*<\/IntrBkSttlmDt>)(\s*<ChrgBr>DEBT<\/ChrgBr>)/, "$2$1"],
  ["a text longer than its maximum", "<Nm>C Consumer</Nm>", `<Nm>${"x".repeat(141)}</Nm>`],
  ["an empty text", "<Nm>C Consumer</Nm>", "<Nm></Nm>"],
  ["a code outside its enumeration", "<ChrgBr>DEBT</ChrgBr>", "<ChrgBr>DEBX</ChrgBr>"],
  ["an impossible date", "<IntrBkSttlmDt>2021-04-09</IntrBkSttlmDt>", "<IntrBkSttlmDt>2021-02-29</IntrBkSttlmDt>"],
  ["a leap day", "<IntrBkSttlmDt>2021-04-09</IntrBkSttlmDt>", "<IntrBkSttlmDt>2024-02-29</IntrBkSttlmDt>"],
  ["an impossible time", "<CreDtTm>2021-04-09T09:00:00+01:00</CreDtTm>", "<CreDtTm>2021-04-09T25:00:00+01:00</CreDtTm>"],
  ["an offset beyond 14 hours", "<CreDtTm>2021-04-09T09:00:00+01:00</CreDtTm>", "<CreDtTm>2021-04-09T09:00:00+15:00</CreDtTm>"],
  ["six decimals", ">15669.38<", ">15669.380001<"],
  ["trailing zeros beyond five decimals", ">15669.38<", ">15669.380000<"],
  ["nineteen digits", ">15669.38<", ">1234567890123456789<"],
  ["a negative amount", ">15669.38<", ">-1.00<"],
  ["spaces around a decimal", ">15669.38<", "> 15669.38 <"],
  ["spaces around a pattern text", "<NbOfTxs>1</NbOfTxs>", "<NbOfTxs> 1 </NbOfTxs>"],
  ["no currency attribute", 'Ccy="EUR"', ""],
  ["an unknown attribute", "<ChrgBr>DEBT</ChrgBr>", '<ChrgBr foo="1">DEBT</ChrgBr>'],
  ["xsi:nil on an element that is not nillable", "<ChrgBr>DEBT</ChrgBr>", '<ChrgBr xsi:nil="false" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">DEBT</ChrgBr>'],
  ["xsi:schemaLocation", "<ChrgBr>DEBT</ChrgBr>", '<ChrgBr xsi:schemaLocation="a b" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">DEBT</ChrgBr>'],
  ["a child in another namespace", "<ChrgBr>DEBT</ChrgBr>", '<ChrgBr xmlns="urn:example">DEBT</ChrgBr>'],
  ["text in an element-only element", "<SttlmInf>", "<SttlmInf>text"],
  ["an element inside a text element", "<Nm>C Consumer</Nm>", "<Nm>C <b>Consumer</b></Nm>"],
  ["both options of a choice", "<Othr>\n\t\t\t\t\t\t\t<Id>12547896</Id>", "<IBAN>GB82WEST12345698765432</IBAN><Othr>\n\t\t\t\t\t\t\t<Id>12547896</Id>"],
  ["an empty choice", /<Id>\s*<Othr>\s*<Id>12547896<\/Id>\s*<\/Othr>\s*<\/Id>/, "<Id></Id>"],
  ["a repeated single element", "<ChrgBr>DEBT</ChrgBr>", "<ChrgBr>DEBT</ChrgBr><ChrgBr>DEBT</ChrgBr>"],
  ["a header element in the document's namespace", "<BizSvc>", '<BizSvc xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">'],
];

describe("the tree schema check agrees with libxml2", () => {
  it.each(sampleNames)("on sample %s (no findings from either)", (name) => {
    const { tree, libxml2 } = bothEngines(sample(name));
    expect(tree).toEqual([]);
    expect(libxml2).toEqual([]);
  });

  it.each(edits)("on %s: same verdict, first finding at the same element", (_name, from, to) => {
    const xml = pacs008.replace(from, to);
    expect(xml).not.toBe(pacs008);
    const { tree, libxml2 } = bothEngines(xml);
    expect(tree.length > 0).toBe(libxml2.length > 0);
    expect(tree[0]?.path).toBe(libxml2[0]?.path);
  });

  it("on random damage to random samples", () => {
    const texts = ["", "x", "1", "-1", "0.000001", "2021-02-30", "2021-04-09T09:00:00", "true", "ABCDGB2L", "EUR", "INDA", " 1 ", "9".repeat(40)];
    fc.assert(
      fc.property(
        fc.constantFrom(...sampleNames),
        fc.nat(),
        fc.constantFrom("delete", "duplicate", "text", "swap", "unknown", "rename"),
        fc.constantFrom(...texts),
        (name, pick, damage, text) => {
          const document = readParts(sample(name)).document;
          const elements: Array<{ element: XmlElement; parent: XmlElement }> = [];
          const collect = (parent: XmlElement) => {
            for (const element of parent.children) {
              elements.push({ element, parent });
              collect(element);
            }
          };
          collect(document);
          const target = elements[pick % elements.length]!;
          const siblings = target.parent.children;
          const position = siblings.indexOf(target.element);
          if (damage === "delete") siblings.splice(position, 1);
          if (damage === "duplicate") siblings.splice(position, 0, structuredClone(target.element));
          if (damage === "text") target.element.text = text;
          if (damage === "swap" && position + 1 < siblings.length) [siblings[position], siblings[position + 1]] = [siblings[position + 1]!, siblings[position]!];
          if (damage === "unknown") siblings.splice(position, 0, { name: "Unknown", attributes: {}, children: [] });
          // Another element name of the same message, so content models meet names they know elsewhere.
          if (damage === "rename") target.element.name = elements[(pick * 7 + 3) % elements.length]!.element.name;
          const xml = serializeElement(document);
          const { tree, libxml2 } = bothEngines(xml);
          expect({ damage, invalid: tree.length > 0, at: tree[0]?.path }).toEqual({ damage, invalid: libxml2.length > 0, at: libxml2[0]?.path });
        },
      ),
      { numRuns: Number(process.env.SCHEMA_FUZZ_RUNS ?? 400) },
    );
  });

  it("is the default engine of validateMessage; libxml2 can be asked for and reports the same", () => {
    const withoutTransaction = buildMessage({
      messageType: "pacs.008.001.08",
      document: { groupHeader: { messageId: "M-1", createdAt: "2026-11-23T10:00:00+05:00", numberOfTransactions: "0", settlementMethod: "INDA" }, transactions: [] },
    });
    const xsdPaths = (options?: { xsdEngine: "libxml2" }) =>
      validateMessage(withoutTransaction, options)
        .errors.filter((error) => error.code === "XSD_INVALID")
        .map((error) => error.path);
    expect(xsdPaths()).toEqual(["/Document/FIToFICstmrCdtTrf"]);
    expect(xsdPaths({ xsdEngine: "libxml2" })).toEqual(xsdPaths());
  });
});
