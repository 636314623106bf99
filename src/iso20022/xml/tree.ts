/**
 * The element tree every ISO 20022 message is kept in beside its typed view, so elements the typed model
 * does not cover survive parse -> build. ISO 20022 has no mixed content: an element holds either child
 * elements or text; whitespace between elements is not kept.
 */
export interface XmlElement {
  /** Qualified name as written (`pacs:GrpHdr` or `GrpHdr`). */
  name: string;
  /** Attributes in document order, namespace declarations included (`xmlns`, `xmlns:pacs`). */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Character content of a leaf element, entities decoded. */
  text?: string;
}

/** Local part of an element or attribute name. */
export function localName(name: string): string {
  const colon = name.indexOf(":");
  return colon < 0 ? name : name.slice(colon + 1);
}

export function prefixOf(name: string): string {
  const colon = name.indexOf(":");
  return colon < 0 ? "" : name.slice(0, colon);
}

/** Whether a qualified name has this local part (`pacs:GrpHdr` and `GrpHdr` both have `GrpHdr`), without slicing. */
export function hasLocalName(name: string, local: string): boolean {
  return name === local || (name.length > local.length && name.charCodeAt(name.length - local.length - 1) === 58 && name.endsWith(local));
}

/** First child element with this local name. */
export function childElement(parent: XmlElement, local: string): XmlElement | undefined {
  for (const child of parent.children) if (hasLocalName(child.name, local)) return child;
  return undefined;
}

export function childElements(parent: XmlElement, local: string): XmlElement[] {
  return parent.children.filter((child) => hasLocalName(child.name, local));
}

/** Follows a `/`-separated path of local names, first match at each step. */
export function elementAt(root: XmlElement | undefined, path: string): XmlElement | undefined {
  let current = root;
  for (const step of path.split("/")) {
    if (!current) return undefined;
    current = childElement(current, step);
  }
  return current;
}

export function textAt(root: XmlElement | undefined, path: string): string | undefined {
  return elementAt(root, path)?.text;
}

/**
 * The namespace URI of an element: its own declaration for its prefix, else the nearest ancestor's.
 * `ancestors` runs from the root down to the element's parent.
 */
export function namespaceOf(element: XmlElement, ancestors: readonly XmlElement[] = []): string | undefined {
  const prefix = prefixOf(element.name);
  const attribute = prefix === "" ? "xmlns" : `xmlns:${prefix}`;
  if (attribute in element.attributes) return element.attributes[attribute];
  for (let index = ancestors.length - 1; index >= 0; index--) {
    const ancestor = ancestors[index]!;
    if (attribute in ancestor.attributes) return ancestor.attributes[attribute];
  }
  return undefined;
}

export function cloneElement(element: XmlElement): XmlElement {
  const copy: XmlElement = {
    name: element.name,
    attributes: { ...element.attributes },
    children: element.children.map(cloneElement),
  };
  if (element.text !== undefined) copy.text = element.text;
  return copy;
}

function escapeText(text: string): string {
  return text.replace(/[&<>\r]/g, (character) =>
    character === "&" ? "&amp;" : character === "<" ? "&lt;" : character === ">" ? "&gt;" : "&#13;",
  );
}

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"\t\n\r]/g, (character) => `&#${character.charCodeAt(0)};`);
}

const needsEscape = /[&<>"\t\n\r]/;

/** Serialises an element, indented by two spaces per level (no indentation when `indent` is false). */
export function serializeElement(element: XmlElement, indent = true): string {
  const parts: string[] = [];
  write(element, indent ? "\n" : "", indent, parts);
  return parts.join("");
}

function write(element: XmlElement, newline: string, indent: boolean, parts: string[]): void {
  parts.push("<", element.name);
  for (const name in element.attributes) {
    const value = element.attributes[name]!;
    parts.push(" ", name, '="', needsEscape.test(value) ? escapeAttribute(value) : value, '"');
  }
  if (element.children.length === 0) {
    if (element.text === undefined || element.text === "") {
      parts.push("/>");
      return;
    }
    parts.push(">", escapeText(element.text), "</", element.name, ">");
    return;
  }
  parts.push(">");
  if (element.text !== undefined && element.text !== "") parts.push(escapeText(element.text));
  const inner = indent ? `${newline}  ` : "";
  for (const child of element.children) {
    parts.push(inner);
    write(child, inner, indent, parts);
  }
  parts.push(newline, "</", element.name, ">");
}
