import { CodedError } from "../../core/errors.ts";
import type { XmlElement } from "./tree.ts";

/**
 * A strict, small XML reader for ISO 20022 messages. It knows nothing of DTDs, so it cannot expand an
 * entity or fetch an external one: a DOCTYPE, an entity declaration or any entity reference other than the
 * five predefined ones is refused, as are processing instructions. Limits are checked before any work.
 */
export interface SafeXmlLimits {
  /** Largest accepted message in UTF-8 bytes. */
  maxBytes: number;
  /** Deepest accepted element nesting (the root is depth 1). */
  maxDepth: number;
}

/** CBPR+ messages are a few kilobytes; 1 MiB leaves room for long statements. */
export const defaultLimits: SafeXmlLimits = { maxBytes: 1_048_576, maxDepth: 64 };

export type SafeXmlCode =
  | "XML_TOO_LARGE"
  | "XML_TOO_DEEP"
  | "XML_DTD_FORBIDDEN"
  | "XML_ENTITY_FORBIDDEN"
  | "XML_PI_FORBIDDEN"
  | "XML_ENCODING_UNSUPPORTED"
  | "XML_TRUNCATED"
  | "XML_MALFORMED";

/** The input was refused before or while reading it; nothing of it is kept. */
export class XmlRefusedError extends CodedError<SafeXmlCode> {
  /** Location as `line:column` of the offending markup, when known. */
  readonly location: string;
  constructor(code: SafeXmlCode, message: string, location = "") {
    super(code, message);
    this.location = location;
  }
}

const predefined: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function lineColumn(xml: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let index = xml.indexOf("\n"); index >= 0 && index < offset; index = xml.indexOf("\n", index + 1)) {
    line++;
    lineStart = index + 1;
  }
  return `${line}:${offset - lineStart + 1}`;
}

function decodeReferences(raw: string, xml: string, offset: number): string {
  if (raw.indexOf("&") < 0) return raw;
  let result = "";
  let last = 0;
  for (let amp = raw.indexOf("&"); amp >= 0; amp = raw.indexOf("&", last)) {
    const semicolon = raw.indexOf(";", amp);
    if (semicolon < 0 || semicolon - amp > 12) {
      throw new XmlRefusedError("XML_MALFORMED", "a bare '&' must be written as &amp;", lineColumn(xml, offset + amp));
    }
    const reference = raw.slice(amp + 1, semicolon);
    let replacement: string | undefined;
    if (reference.startsWith("#")) {
      const code = reference.startsWith("#x") ? Number.parseInt(reference.slice(2), 16) : Number.parseInt(reference.slice(1), 10);
      const allowed =
        code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
      if (!/^#(x[0-9a-fA-F]+|[0-9]+)$/.test(reference) || !allowed) {
        throw new XmlRefusedError("XML_MALFORMED", `invalid character reference &${reference};`, lineColumn(xml, offset + amp));
      }
      replacement = String.fromCodePoint(code);
    } else {
      replacement = predefined[reference];
      if (replacement === undefined) {
        throw new XmlRefusedError("XML_ENTITY_FORBIDDEN", `entity reference &${reference}; is not allowed (no DTD, no entities)`, lineColumn(xml, offset + amp));
      }
    }
    result += raw.slice(last, amp) + replacement;
    last = semicolon + 1;
  }
  return result + raw.slice(last);
}

function isNameCharacter(code: number): boolean {
  return (
    (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 58) || code === 95 || code === 45 || code === 46 || code > 127
  );
}

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 9 || code === 13;
}

function isBlank(text: string): boolean {
  for (let index = 0; index < text.length; index++) if (!isSpace(text.charCodeAt(index))) return false;
  return true;
}

/** Refusals that need no parse at all: size and the markup that only a DTD-aware parser would act on. */
export function screenXml(xml: string, limits: SafeXmlLimits = defaultLimits): void {
  // A UTF-16 string never has more code units than its UTF-8 encoding has bytes.
  // A UTF-8 byte count is needed only when the string could be over the limit (at most 3 bytes per unit).
  if (xml.length > limits.maxBytes || (xml.length * 3 > limits.maxBytes && Buffer.byteLength(xml, "utf8") > limits.maxBytes)) {
    throw new XmlRefusedError("XML_TOO_LARGE", `message is larger than ${limits.maxBytes} bytes`);
  }
  const doctype = xml.indexOf("<!DOCTYPE");
  if (doctype >= 0) throw new XmlRefusedError("XML_DTD_FORBIDDEN", "a DOCTYPE (DTD) is not allowed", lineColumn(xml, doctype));
  const entity = xml.indexOf("<!ENTITY");
  if (entity >= 0) throw new XmlRefusedError("XML_DTD_FORBIDDEN", "an entity declaration is not allowed", lineColumn(xml, entity));
}

/** Reads one XML document into an element tree, or throws {@link XmlRefusedError}. */
export function readXml(xml: string, limits: SafeXmlLimits = defaultLimits): XmlElement {
  screenXml(xml, limits);
  let position = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  if (xml.startsWith("<?xml", position) && isSpace(xml.charCodeAt(position + 5))) {
    const end = xml.indexOf("?>", position);
    if (end < 0) throw new XmlRefusedError("XML_TRUNCATED", "the XML declaration is not closed");
    const declaration = xml.slice(position, end);
    const encoding = /encoding\s*=\s*["']([^"']*)["']/.exec(declaration)?.[1];
    if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) {
      throw new XmlRefusedError("XML_ENCODING_UNSUPPORTED", `encoding ${encoding} is not accepted; send UTF-8`);
    }
    position = end + 2;
  }

  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const length = xml.length;
  while (position < length) {
    const open = xml.indexOf("<", position);
    const textEnd = open < 0 ? length : open;
    if (textEnd > position) {
      let blank = true;
      for (let index = position; index < textEnd; index++) {
        if (!isSpace(xml.charCodeAt(index))) {
          blank = false;
          break;
        }
      }
      const top = stack[stack.length - 1];
      if (top === undefined) {
        if (!blank) throw new XmlRefusedError("XML_MALFORMED", "text outside the root element", lineColumn(xml, position));
      } else if (!blank || (top.children.length === 0 && xml.charCodeAt(textEnd + 1) === 47)) {
        // Whitespace is kept only as the whole content of a leaf (`<Nm> </Nm>`).
        const text = decodeReferences(xml.slice(position, textEnd), xml, position);
        top.text = top.text === undefined ? text : top.text + text;
      }
    }
    if (open < 0) break;
    const next = xml.charCodeAt(open + 1);
    if (next === 33 /* ! */) {
      if (xml.startsWith("<!--", open)) {
        const end = xml.indexOf("-->", open + 4);
        if (end < 0) throw new XmlRefusedError("XML_TRUNCATED", "a comment is not closed", lineColumn(xml, open));
        position = end + 3;
        continue;
      }
      if (xml.startsWith("<![CDATA[", open)) {
        const end = xml.indexOf("]]>", open + 9);
        if (end < 0) throw new XmlRefusedError("XML_TRUNCATED", "a CDATA section is not closed", lineColumn(xml, open));
        const top = stack[stack.length - 1];
        if (top === undefined) throw new XmlRefusedError("XML_MALFORMED", "CDATA outside the root element", lineColumn(xml, open));
        const text = xml.slice(open + 9, end);
        top.text = top.text === undefined ? text : top.text + text;
        position = end + 3;
        continue;
      }
      throw new XmlRefusedError("XML_DTD_FORBIDDEN", "markup declarations are not allowed", lineColumn(xml, open));
    }
    if (next === 63 /* ? */) {
      throw new XmlRefusedError("XML_PI_FORBIDDEN", "processing instructions are not allowed", lineColumn(xml, open));
    }
    if (next === 47 /* / */) {
      const close = xml.indexOf(">", open);
      if (close < 0) throw new XmlRefusedError("XML_TRUNCATED", "an end tag is not closed", lineColumn(xml, open));
      const top = stack.pop();
      const nameEnd = open + 2 + (top?.name.length ?? 0);
      if (top === undefined || !xml.startsWith(top.name, open + 2) || (nameEnd !== close && xml.slice(nameEnd, close).trim() !== "")) {
        const name = xml.slice(open + 2, close).trim();
        throw new XmlRefusedError("XML_MALFORMED", `end tag </${name}> does not match <${top?.name ?? ""}>`, lineColumn(xml, open));
      }
      if (top.text !== undefined && top.children.length > 0 && isBlank(top.text)) delete top.text;
      position = close + 1;
      continue;
    }
    // Start tag.
    let cursor = open + 1;
    while (cursor < length && isNameCharacter(xml.charCodeAt(cursor))) cursor++;
    if (cursor === open + 1) throw new XmlRefusedError("XML_MALFORMED", "invalid start tag", lineColumn(xml, open));
    const element: XmlElement = { name: xml.slice(open + 1, cursor), attributes: {}, children: [] };
    let selfClosing = false;
    for (;;) {
      while (cursor < length && isSpace(xml.charCodeAt(cursor))) cursor++;
      if (cursor >= length) throw new XmlRefusedError("XML_TRUNCATED", `start tag <${element.name}> is not closed`, lineColumn(xml, open));
      const code = xml.charCodeAt(cursor);
      if (code === 62 /* > */) {
        cursor++;
        break;
      }
      if (code === 47 /* / */) {
        if (xml.charCodeAt(cursor + 1) !== 62) throw new XmlRefusedError("XML_MALFORMED", "invalid empty-element tag", lineColumn(xml, cursor));
        selfClosing = true;
        cursor += 2;
        break;
      }
      const nameStart = cursor;
      while (cursor < length && isNameCharacter(xml.charCodeAt(cursor))) cursor++;
      if (cursor === nameStart) throw new XmlRefusedError("XML_MALFORMED", `invalid attribute in <${element.name}>`, lineColumn(xml, cursor));
      const attributeName = xml.slice(nameStart, cursor);
      while (cursor < length && isSpace(xml.charCodeAt(cursor))) cursor++;
      if (xml.charCodeAt(cursor) !== 61 /* = */) throw new XmlRefusedError("XML_MALFORMED", `attribute ${attributeName} has no value`, lineColumn(xml, cursor));
      cursor++;
      while (cursor < length && isSpace(xml.charCodeAt(cursor))) cursor++;
      const quote = xml.charCodeAt(cursor);
      if (quote !== 34 && quote !== 39) throw new XmlRefusedError("XML_MALFORMED", `attribute ${attributeName} is not quoted`, lineColumn(xml, cursor));
      const valueEnd = xml.indexOf(quote === 34 ? '"' : "'", cursor + 1);
      if (valueEnd < 0) throw new XmlRefusedError("XML_TRUNCATED", `attribute ${attributeName} is not closed`, lineColumn(xml, cursor));
      const raw = xml.slice(cursor + 1, valueEnd);
      if (raw.indexOf("<") >= 0) throw new XmlRefusedError("XML_MALFORMED", `'<' in attribute ${attributeName}`, lineColumn(xml, cursor));
      if (attributeName in element.attributes) throw new XmlRefusedError("XML_MALFORMED", `duplicate attribute ${attributeName}`, lineColumn(xml, nameStart));
      // Attribute-value normalisation: literal whitespace characters become spaces.
      element.attributes[attributeName] = decodeReferences(raw.replace(/[\t\n\r]/g, " "), xml, cursor + 1);
      cursor = valueEnd + 1;
    }
    if (stack.length >= limits.maxDepth) {
      throw new XmlRefusedError("XML_TOO_DEEP", `elements are nested deeper than ${limits.maxDepth} levels`, lineColumn(xml, open));
    }
    const parent = stack[stack.length - 1];
    if (parent === undefined) {
      if (root !== undefined) throw new XmlRefusedError("XML_MALFORMED", "more than one root element", lineColumn(xml, open));
      root = element;
    } else {
      parent.children.push(element);
    }
    if (!selfClosing) stack.push(element);
    position = cursor;
  }
  if (stack.length > 0) throw new XmlRefusedError("XML_TRUNCATED", `element <${stack[stack.length - 1]!.name}> is not closed`);
  if (root === undefined) throw new XmlRefusedError("XML_TRUNCATED", "no root element");
  return root;
}
