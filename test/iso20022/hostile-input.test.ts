import { describe, expect, it } from "vitest";
import { parseMessage } from "../../src/iso20022/message.ts";
import { validateMessage } from "../../src/iso20022/validation/validate.ts";
import { readXml, XmlRefusedError } from "../../src/iso20022/xml/safe-reader.ts";
import { pacs008Sample, sample } from "./fixtures.ts";

const pacs008 = sample(pacs008Sample);
const documentStart = pacs008.indexOf("<Document");

/** Hostile inputs as an attacker would send them to POST /iso20022/validate. */
const hostileInputs: Record<string, { xml: () => string; code: string }> = {
  "an entity bomb (billion laughs)": {
    code: "XML_DTD_FORBIDDEN",
    xml: () =>
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
      Array.from({ length: 9 }, (_, level) => `<!ENTITY lol${level + 1} "${`&lol${level === 0 ? "" : level};`.repeat(10)}">`).join("") +
      ']><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">&lol9;</Document>',
  },
  "an external entity (XXE)": {
    code: "XML_DTD_FORBIDDEN",
    xml: () => '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Document>&xxe;</Document>',
  },
  "an entity reference without a DTD": {
    code: "XML_ENTITY_FORBIDDEN",
    xml: () => pacs008.replace("<Nm>C Consumer</Nm>", "<Nm>&xxe;</Nm>"),
  },
  "a 50 MB body": {
    code: "XML_TOO_LARGE",
    xml: () => pacs008.replace("<Nm>C Consumer</Nm>", `<Nm>${"A".repeat(50 * 1024 * 1024)}</Nm>`),
  },
  "10,000-deep nesting": {
    code: "XML_TOO_DEEP",
    xml: () => `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">${"<a>".repeat(10_000)}${"</a>".repeat(10_000)}</Document>`,
  },
  "truncated XML": {
    code: "XML_TRUNCATED",
    xml: () => pacs008.slice(0, Math.floor(pacs008.length / 2)),
  },
  "a wrong Document namespace": {
    code: "MESSAGE_NAMESPACE_UNKNOWN",
    xml: () => pacs008.replace("urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08", "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.12"),
  },
  "a wrong AppHdr namespace": {
    code: "MESSAGE_NAMESPACE_UNKNOWN",
    xml: () => pacs008.replace("urn:iso:std:iso:20022:tech:xsd:head.001.001.02", "urn:example:head"),
  },
  "a processing instruction": {
    code: "XML_PI_FORBIDDEN",
    xml: () => `${pacs008.slice(0, documentStart)}<?xml-stylesheet href="http://attacker.example/x.xsl"?>${pacs008.slice(documentStart)}`,
  },
  "a non-UTF-8 encoding declaration": {
    code: "XML_ENCODING_UNSUPPORTED",
    xml: () => pacs008.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'),
  },
  "mismatched tags": {
    code: "XML_MALFORMED",
    xml: () => pacs008.replace("</MsgId>", "</MsgIdx>"),
  },
  "a bare ampersand": {
    code: "XML_MALFORMED",
    xml: () => pacs008.replace("<Nm>C Consumer</Nm>", "<Nm>C & Consumer</Nm>"),
  },
  "a second root element": {
    code: "XML_MALFORMED",
    xml: () => `${pacs008}<Document/>`,
  },
  "an AppHdr without a Document": {
    code: "MESSAGE_DOCUMENT_MISSING",
    xml: () => pacs008.replace(/<Document[\s\S]*<\/Document>/, ""),
  },
};

describe("hostile and broken inputs", () => {
  it.each(Object.entries(hostileInputs))("refuses %s with a clear code", (_name, { xml, code }) => {
    const report = validateMessage(xml());
    expect(report).toEqual({ messageType: null, profile: "cbpr+", release: "SR2026", valid: false, errors: [{ code, severity: "error", path: expect.any(String), message: expect.any(String) }], warnings: [] });
  });

  it("refuses a DTD before reading anything, so no entity is ever expanded", () => {
    const bomb = hostileInputs["an entity bomb (billion laughs)"]!.xml();
    expect(() => readXml(bomb)).toThrow(XmlRefusedError);
    expect(() => parseMessage(bomb)).toThrow(expect.objectContaining({ code: "XML_DTD_FORBIDDEN" }));
  });

  it("honours tighter limits given by the caller", () => {
    expect(validateMessage(pacs008, { limits: { maxBytes: 1000, maxDepth: 64 } }).errors[0]?.code).toBe("XML_TOO_LARGE");
    expect(validateMessage(pacs008, { limits: { maxBytes: 1_000_000, maxDepth: 5 } }).errors[0]?.code).toBe("XML_TOO_DEEP");
  });

  it("counts the size limit in UTF-8 bytes, not characters", () => {
    const wide = "Ж".repeat(600);
    expect(() => readXml(`<a>${wide}</a>`, { maxBytes: 1000, maxDepth: 4 })).toThrow(expect.objectContaining({ code: "XML_TOO_LARGE" }));
    expect(readXml(`<a>${wide}</a>`, { maxBytes: 1300, maxDepth: 4 }).text).toBe(wide);
  });

  it("decodes the predefined entities and character references, and keeps CDATA text", () => {
    const element = readXml('<a x="&quot;1&#x27;">&lt;b&gt; &amp; &#65;<![CDATA[<c>]]></a>');
    expect(element).toEqual({ name: "a", attributes: { x: "\"1'" }, children: [], text: "<b> & A<c>" });
  });
});
