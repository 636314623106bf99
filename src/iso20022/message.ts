import { headerType, messageRootElement, namespaceOfSchema, schemaOfNamespace, type DocumentType } from "./catalog.ts";
import { MessageStructureError } from "./message-structure-error.ts";
import { readRoot, rootFromJson, writeRoot, type Shape, type ShapeValue, type Target } from "./model/fields.ts";
import { camt029Shape } from "./messages/camt029.ts";
import { camt053Shape } from "./messages/camt053.ts";
import { camt054Shape } from "./messages/camt054.ts";
import { camt056Shape } from "./messages/camt056.ts";
import { headerShape } from "./messages/head.ts";
import { pacs002Shape } from "./messages/pacs002.ts";
import { pacs004Shape } from "./messages/pacs004.ts";
import { pacs008Shape } from "./messages/pacs008.ts";
import { pacs009Shape } from "./messages/pacs009.ts";
import { pacs028Shape } from "./messages/pacs028.ts";
import { sese023Shape } from "./messages/sese023.ts";
import { sese024Shape } from "./messages/sese024.ts";
import { sese025Shape } from "./messages/sese025.ts";
import { childType, schemaModel } from "./schema-model.ts";
import { defaultLimits, readXml, type SafeXmlLimits } from "./xml/safe-reader.ts";
import { cloneElement, localName, namespaceOf, serializeElement, type XmlElement } from "./xml/tree.ts";

export const documentShapes = {
  "pacs.008.001.08": pacs008Shape,
  "pacs.009.001.08": pacs009Shape,
  "pacs.002.001.10": pacs002Shape,
  "pacs.004.001.09": pacs004Shape,
  "camt.056.001.08": camt056Shape,
  "camt.029.001.09": camt029Shape,
  "camt.053.001.08": camt053Shape,
  "camt.054.001.08": camt054Shape,
  "pacs.028.001.03": pacs028Shape,
  "sese.023.001.11": sese023Shape,
  "sese.024.001.12": sese024Shape,
  "sese.025.001.11": sese025Shape,
} satisfies Record<DocumentType, Shape>;

export type DocumentModels = { [K in DocumentType]: ShapeValue<(typeof documentShapes)[K]> };
export type BusinessApplicationHeader = ShapeValue<typeof headerShape>;
export type Pacs008 = DocumentModels["pacs.008.001.08"];
export type Pacs009 = DocumentModels["pacs.009.001.08"];
export type Pacs002 = DocumentModels["pacs.002.001.10"];
export type Pacs004 = DocumentModels["pacs.004.001.09"];
export type Camt056 = DocumentModels["camt.056.001.08"];
export type Camt029 = DocumentModels["camt.029.001.09"];
export type Camt053 = DocumentModels["camt.053.001.08"];
export type Camt054 = DocumentModels["camt.054.001.08"];
export type Pacs028 = DocumentModels["pacs.028.001.03"];
export type Sese023 = DocumentModels["sese.023.001.11"];
export type Sese024 = DocumentModels["sese.024.001.12"];
export type Sese025 = DocumentModels["sese.025.001.11"];

/** The XML as received, kept beside the typed view so that elements the model does not cover survive. */
export interface MessageTrees {
  /** The wrapper element (name and attributes only) when AppHdr and Document came inside one. */
  envelope?: { name: string; attributes: Record<string, string> };
  header?: XmlElement;
  document: XmlElement;
}

/** One ISO 20022 business message: the BAH and the Document, typed, plus the trees they were read from. */
export type Iso20022Message<T extends DocumentType = DocumentType> = {
  [K in T]: {
    messageType: K;
    header?: BusinessApplicationHeader;
    document: DocumentModels[K];
    trees?: MessageTrees;
  };
}[T];

/** Where the two parts of a message sit in a tree, and which message version the Document is. */
export interface LocatedParts {
  messageType: DocumentType;
  envelope?: XmlElement;
  header?: XmlElement;
  document: XmlElement;
}

/** Finds AppHdr and Document: the root itself, or the children of any wrapper element. */
export function locateParts(root: XmlElement, separateHeader?: XmlElement): LocatedParts {
  let envelope: XmlElement | undefined;
  let header = separateHeader;
  let document: XmlElement | undefined;
  const rootName = localName(root.name);
  if (rootName === "Document") {
    document = root;
  } else if (rootName === "AppHdr") {
    throw new MessageStructureError("MESSAGE_DOCUMENT_MISSING", "an AppHdr alone is not a message; send the Document with it");
  } else {
    envelope = root;
    for (const child of root.children) {
      const name = localName(child.name);
      if (name === "AppHdr" && header === undefined) header = child;
      else if (name === "Document" && document === undefined) document = child;
      else throw new MessageStructureError("MESSAGE_STRUCTURE", `unexpected element ${name} in ${rootName}`, `/${rootName}/${name}`);
    }
    if (document === undefined) throw new MessageStructureError("MESSAGE_DOCUMENT_MISSING", `${rootName} holds no Document`);
  }
  const ancestors = envelope ? [envelope] : [];
  const namespace = namespaceOf(document, ancestors);
  const messageType = schemaOfNamespace(namespace);
  if (messageType === undefined || messageType === headerType) {
    throw new MessageStructureError("MESSAGE_NAMESPACE_UNKNOWN", `Document namespace ${namespace ?? "(none)"} is not a message version the gateway speaks`, "/Document");
  }
  if (header !== undefined) {
    const headerNamespace = namespaceOf(header, separateHeader ? [] : ancestors);
    if (schemaOfNamespace(headerNamespace) !== headerType) {
      throw new MessageStructureError("MESSAGE_NAMESPACE_UNKNOWN", `AppHdr namespace ${headerNamespace ?? "(none)"} is not ${namespaceOfSchema(headerType)}`, "/AppHdr");
    }
  }
  const located: LocatedParts = { messageType, document };
  if (envelope) located.envelope = envelope;
  if (header) located.header = header;
  return located;
}

/** The message input: one XML text (Document alone, or AppHdr + Document in a wrapper), or two parts. */
export type MessageInput = string | { header?: string; document: string };

/** Reads the element trees of a message, refusing unsafe XML (see safe-reader.ts). */
export function readParts(input: MessageInput, limits: SafeXmlLimits = defaultLimits): LocatedParts {
  if (typeof input === "string") return locateParts(readXml(input, limits));
  const header = input.header === undefined ? undefined : readXml(input.header, limits);
  if (header !== undefined && localName(header.name) !== "AppHdr") {
    throw new MessageStructureError("MESSAGE_STRUCTURE", `the header part is ${localName(header.name)}, not AppHdr`, "/");
  }
  const document = readXml(input.document, limits);
  if (localName(document.name) !== "Document") {
    throw new MessageStructureError("MESSAGE_STRUCTURE", `the document part is ${localName(document.name)}, not Document`, "/");
  }
  return locateParts(document, header);
}

function messageRootOf(document: XmlElement, messageType: DocumentType): XmlElement | undefined {
  const rootName = messageRootElement[messageType];
  return document.children.find((child) => localName(child.name) === rootName);
}

/**
 * The typed view of located parts. Throws AmountError for an amount that has no exact minor-unit value, and
 * MessageStructureError MESSAGE_FIELD_MISSING for a mandatory element that is absent (never read as "").
 */
export function typedMessage(parts: LocatedParts): Iso20022Message {
  const shape: Shape = documentShapes[parts.messageType];
  const root = messageRootOf(parts.document, parts.messageType) ?? { name: "", attributes: {}, children: [] };
  const trees: MessageTrees = { document: parts.document };
  if (parts.header) trees.header = parts.header;
  if (parts.envelope) trees.envelope = { name: parts.envelope.name, attributes: { ...parts.envelope.attributes } };
  const message = { messageType: parts.messageType, document: readRoot(shape, root), trees } as Iso20022Message;
  if (parts.header) message.header = readRoot(headerShape, parts.header);
  return message;
}

/** Parses an ISO 20022 message into its typed model (with the trees beside it). */
export function parseMessage(input: MessageInput, limits: SafeXmlLimits = defaultLimits): Iso20022Message {
  return typedMessage(readParts(input, limits));
}

function documentTree(message: Iso20022Message): XmlElement {
  const model = schemaModel(message.messageType);
  const document = message.trees?.document
    ? cloneElement(message.trees.document)
    : { name: "Document", attributes: { xmlns: namespaceOfSchema(message.messageType) }, children: [] };
  const rootName = messageRootElement[message.messageType];
  let root = messageRootOf(document, message.messageType);
  if (root === undefined) {
    root = { name: qualifiedLike(document, rootName), attributes: {}, children: [] };
    document.children.push(root);
  }
  const target: Target = { element: root, type: childType(model, model.rootType, rootName)?.type ?? "", schema: model };
  const shape: Shape = documentShapes[message.messageType];
  writeRoot(shape, target, message.document as ShapeValue<Shape>);
  return document;
}

/** A name in the same prefix as `parent` (new elements follow the prefix style of the tree). */
function qualifiedLike(parent: XmlElement, local: string): string {
  const colon = parent.name.indexOf(":");
  return colon < 0 ? local : `${parent.name.slice(0, colon)}:${local}`;
}

function headerTree(message: Iso20022Message): XmlElement | undefined {
  if (message.header === undefined) return undefined;
  const model = schemaModel(headerType);
  const header = message.trees?.header
    ? cloneElement(message.trees.header)
    : { name: "AppHdr", attributes: { xmlns: namespaceOfSchema(headerType) }, children: [] };
  writeRoot(headerShape, { element: header, type: model.rootType, schema: model }, message.header);
  return header;
}

const declaration = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** The standard wrapper when a message is built from scratch: the SWIFT translator envelope. */
export const defaultEnvelope = { name: "Envelope", attributes: { xmlns: "urn:swift:xsd:envelope" } };

/** Builds the XML of a message: AppHdr + Document inside the envelope it came in (or the default one). */
export function buildMessage(message: Iso20022Message): string {
  const document = documentTree(message);
  const header = headerTree(message);
  if (header === undefined && message.trees?.envelope === undefined) return declaration + serializeElement(document);
  const envelope = message.trees?.envelope ?? defaultEnvelope;
  const wrapper: XmlElement = { name: envelope.name, attributes: { ...envelope.attributes }, children: header ? [header, document] : [document] };
  return declaration + serializeElement(wrapper);
}

/** Builds AppHdr and Document as two separate XML texts. */
export function buildMessageParts(message: Iso20022Message): { header?: string; document: string } {
  const inherited = Object.entries(message.trees?.envelope?.attributes ?? {}).filter(([name]) => name.startsWith("xmlns:"));
  const standalone = (element: XmlElement): string => {
    for (const [name, value] of inherited) if (!(name in element.attributes)) element.attributes[name] = value;
    return declaration + serializeElement(element);
  };
  const header = headerTree(message);
  const parts: { header?: string; document: string } = { document: standalone(documentTree(message)) };
  if (header) parts.header = standalone(header);
  return parts;
}

/** JSON text of a message; bigints (minor units) become strings. */
export function messageToJson(message: Iso20022Message, indent = 2): string {
  return JSON.stringify(message, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value), indent);
}

/** The inverse of {@link messageToJson}: restores bigints where the typed model has amounts. */
export function messageFromJson(value: unknown): Iso20022Message {
  const record = value as { messageType?: unknown; header?: unknown; document?: unknown; trees?: MessageTrees };
  const messageType = String(record.messageType);
  if (!(messageType in documentShapes)) {
    throw new MessageStructureError("MESSAGE_NAMESPACE_UNKNOWN", `messageType ${messageType} is not a message version the gateway speaks`);
  }
  const shape: Shape = documentShapes[messageType as DocumentType];
  const message = { messageType, document: rootFromJson(shape, record.document) } as Iso20022Message;
  if (record.header !== undefined) message.header = rootFromJson(headerShape, record.header);
  if (record.trees !== undefined) message.trees = record.trees;
  return message;
}
