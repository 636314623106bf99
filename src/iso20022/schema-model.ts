import { schemaText, type SchemaId } from "./catalog.ts";
import { readXml } from "./xml/safe-reader.ts";
import { localName, type XmlElement } from "./xml/tree.ts";

/**
 * What the gateway needs to know of an XSD beyond validation: the type of every child element and its
 * place in the sequence, so a builder can insert an element where the schema expects it and the CBPR+
 * rules can find every element of a given data type (every ISODateTime, every BIC, ...).
 */
export interface ChildDeclaration {
  /** Position among the parent's children in schema order (choices share the sequence slot). */
  order: number;
  type: string;
}

export interface ComplexTypeModel {
  children: Map<string, ChildDeclaration>;
}

export interface SchemaModel {
  id: SchemaId;
  /** The type of the root element (`Document` or `AppHdr`). */
  rootType: string;
  complexTypes: Map<string, ComplexTypeModel>;
}

function collectChildren(node: XmlElement, model: ComplexTypeModel, counter: { next: number }): void {
  for (const child of node.children) {
    const kind = localName(child.name);
    if (kind === "element") {
      const name = child.attributes.name;
      const type = child.attributes.type;
      if (name !== undefined && type !== undefined) model.children.set(name, { order: counter.next++, type });
    } else if (kind === "sequence" || kind === "choice") {
      collectChildren(child, model, counter);
    }
  }
}

function buildModel(id: SchemaId): SchemaModel {
  const schema = readXml(schemaText(id), { maxBytes: 4_000_000, maxDepth: 32 });
  const complexTypes = new Map<string, ComplexTypeModel>();
  let rootType = "";
  for (const node of schema.children) {
    const kind = localName(node.name);
    if (kind === "element") rootType = node.attributes.type ?? "";
    if (kind === "complexType" && node.attributes.name !== undefined) {
      const model: ComplexTypeModel = { children: new Map() };
      collectChildren(node, model, { next: 0 });
      complexTypes.set(node.attributes.name, model);
    }
  }
  return { id, rootType, complexTypes };
}

const models = new Map<SchemaId, SchemaModel>();

export function schemaModel(id: SchemaId): SchemaModel {
  let model = models.get(id);
  if (model === undefined) {
    model = buildModel(id);
    models.set(id, model);
  }
  return model;
}

/** The declared type of `child` inside an element of type `parentType`, if the schema declares it. */
export function childType(model: SchemaModel, parentType: string, child: string): ChildDeclaration | undefined {
  return model.complexTypes.get(parentType)?.children.get(child);
}
