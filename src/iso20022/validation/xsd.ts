import { ParseOption, XmlDocument, XmlElement as LibxmlElement, XmlLibError, XsdValidator } from "libxml2-wasm";
import { headerType, schemaText, type DocumentType, type SchemaId } from "../catalog.ts";
import type { LocatedParts, MessageInput } from "../message.ts";
import type { XmlElement } from "../xml/tree.ts";
import { finding, type Finding } from "./findings.ts";
import { chainOfPositionalPath, elementPath } from "./paths.ts";

/**
 * Layer 2 with libxml2 (compiled to WebAssembly): the reference XSD engine. The default engine is the tree
 * check (schema-check.ts), which tests hold to libxml2's verdicts; this one stays for those tests and for
 * callers who want libxml2 itself (`xsdEngine: "libxml2"`). One libxml2 parse of the whole message, then a
 * subtree validation of AppHdr and of Document. The text reaching libxml2 has already passed the safe
 * reader, so it holds no DTD and no entity; the parser is also told never to touch the network.
 */
const validators = new Map<SchemaId, XsdValidator>();

function validatorFor(id: SchemaId): XsdValidator {
  let validator = validators.get(id);
  if (validator === undefined) {
    const schema = XmlDocument.fromString(schemaText(id), { option: ParseOption.XML_PARSE_NONET });
    validator = XsdValidator.fromDoc(schema);
    schema.dispose();
    validators.set(id, validator);
  }
  return validator;
}

const parseOptions = { option: ParseOption.XML_PARSE_NONET };

function cleanMessage(message: string): string {
  return message.replace(/\{urn:iso:std:iso:20022:tech:xsd:[^}]*\}/g, "").trim();
}

function validateElement(validator: XsdValidator, element: LibxmlElement, tree: XmlElement, skipRoot: boolean, findings: Finding[]): void {
  try {
    validator.validate(element);
  } catch (error) {
    if (!(error instanceof XmlLibError)) throw error;
    for (const detail of error.details) {
      const path = detail.xpath ? elementPath(chainOfPositionalPath(tree, detail.xpath), skipRoot) : "/";
      findings.push(finding("XSD_INVALID", path, cleanMessage(detail.message)));
    }
  }
}

function elementChildren(element: LibxmlElement): LibxmlElement[] {
  const children: LibxmlElement[] = [];
  for (let node = element.firstChild; node !== null; node = node.next) if (node instanceof LibxmlElement) children.push(node);
  return children;
}

/** Validates one XML text whose tree we already hold; `tree` is our reading of the same text. */
function validateText(xml: string, tree: XmlElement, messageType: DocumentType, findings: Finding[]): void {
  let document: XmlDocument;
  try {
    // Native UTF-8 encoding and one copy into wasm memory: measurably faster than fromString's JS encoder.
    document = XmlDocument.fromBuffer(Buffer.from(xml, "utf8"), parseOptions);
  } catch (error) {
    if (!(error instanceof XmlLibError)) throw error;
    findings.push(finding("XML_MALFORMED", "/", cleanMessage(error.details[0]?.message ?? error.message)));
    return;
  }
  try {
    const root = document.root;
    if (root.name === "Document") return validateElement(validatorFor(messageType), root, tree, false, findings);
    if (root.name === "AppHdr") return validateElement(validatorFor(headerType), root, tree, false, findings);
    for (const child of elementChildren(root)) {
      const id = child.name === "AppHdr" ? headerType : messageType;
      // libxml2 reports positional XPaths from the wrapper, so paths resolve against the whole tree.
      validateElement(validatorFor(id), child, tree, true, findings);
    }
  } finally {
    document.dispose();
  }
}

/** XSD findings for a message already read (and found safe) by the safe reader. */
export function schemaFindings(input: MessageInput, parts: LocatedParts): Finding[] {
  const findings: Finding[] = [];
  if (typeof input === "string") {
    validateText(input, parts.envelope ?? parts.document, parts.messageType, findings);
  } else {
    if (input.header !== undefined && parts.header) validateText(input.header, parts.header, parts.messageType, findings);
    validateText(input.document, parts.document, parts.messageType, findings);
  }
  return findings;
}
