import fc from "fast-check";
import { parseStringPromise } from "xml2js";
import { describe, expect, it } from "vitest";
import { amountFromDecimal, amountToDecimal } from "../../src/core/money.ts";
import { readXml } from "../../src/iso20022/xml/safe-reader.ts";
import { serializeElement, type XmlElement } from "../../src/iso20022/xml/tree.ts";

/** Characters XML 1.0 allows in content, including the ones that need escaping. */
const xmlCharacter = fc.oneof(
  fc.constantFrom("<", ">", "&", '"', "'", "\t", "\n", "\r", " ", "]]>"),
  fc.integer({ min: 0x20, max: 0xd7ff }).map((code) => String.fromCharCode(code)),
  fc.integer({ min: 0x10000, max: 0x10ffff }).map((code) => String.fromCodePoint(code)),
);
const xmlText = fc.array(xmlCharacter, { maxLength: 20 }).map((parts) => parts.join(""));
const elementName = fc.constantFrom("Nm", "Ustrd", "Id", "pacs:Amt", "AddtlInf");

const elementTree: fc.Arbitrary<XmlElement> = fc.letrec<{ element: XmlElement }>((tie) => ({
  element: fc.oneof(
    { depthSize: "small" },
    xmlText.filter((text) => text !== "").chain((text) => elementName.map((name): XmlElement => ({ name, attributes: {}, children: [], text }))),
    fc.record<XmlElement>({
      name: elementName,
      attributes: fc.dictionary(fc.constantFrom("Ccy", "a", "b"), xmlText),
      children: fc.array(tie("element"), { minLength: 1, maxLength: 3 }),
    }),
  ),
})).element;

const withNamespace = (element: XmlElement): XmlElement => ({ ...element, attributes: { ...element.attributes, "xmlns:pacs": "urn:example" } });

describe("properties", () => {
  it("any tree survives serialize -> read unchanged", () => {
    fc.assert(
      fc.property(elementTree, (tree) => {
        const root = withNamespace(tree);
        expect(readXml(serializeElement(root))).toEqual(root);
        expect(readXml(serializeElement(root, false))).toEqual(root);
      }),
    );
  });

  it("xml2js reads what we serialize as we do", async () => {
    await fc.assert(
      fc.asyncProperty(xmlText.filter((text) => text.trim() !== ""), async (text) => {
        const xml = serializeElement({ name: "Ustrd", attributes: { a: text }, children: [], text });
        const independent = (await parseStringPromise(xml)) as { Ustrd: { _: string; $: { a: string } } };
        expect(independent.Ustrd._).toBe(text);
        expect(independent.Ustrd.$.a).toBe(text);
        expect(readXml(xml).text).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it("amounts go to decimal text and back unchanged in any currency", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.constantFrom("KZT", "USD", "JPY", "BHD", "CLF", "EUR", "CNY"), (minorUnits, currency) => {
        expect(amountFromDecimal(amountToDecimal({ currency, minorUnits }), currency)).toEqual({ currency, minorUnits });
      }),
    );
  });
});
