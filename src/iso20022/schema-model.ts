import { CodedError } from "../core/errors.ts";
import { schemaText, type SchemaId } from "./catalog.ts";
import { readXml } from "./xml/safe-reader.ts";
import { localName, type XmlElement } from "./xml/tree.ts";

/**
 * An ISO 20022 XSD compiled into what the gateway needs: the type, occurrence and sequence position of every
 * child element (so builders insert elements where the schema expects them), the data types (so CBPR+ rules
 * find every ISODateTime, BIC, amount), and the facets (so the schema check can validate our tree without a
 * second XML parse). The ISO schemas use a small, regular subset of XSD; anything outside it is refused when
 * the schema is compiled, so a future schema cannot be half-understood silently.
 */
export interface ChildDeclaration {
  /** Position in the content model (each option of a choice has its own). */
  order: number;
  type: string;
  minOccurs: number;
  maxOccurs: number;
}

/** One slot of a content model: a named element, or a wildcard (`xs:any`) when `name` is undefined. */
export interface Particle {
  name?: string;
  type: string;
  minOccurs: number;
  maxOccurs: number;
  /** For a wildcard: the namespace it accepts ("##any" for every namespace). */
  namespace?: string;
}

export interface ComplexTypeModel {
  content: "sequence" | "choice" | "simple";
  particles: Particle[];
  children: Map<string, ChildDeclaration>;
  /** For simple content: the simple type of the text, and the attributes (`Ccy`). */
  simpleType?: string;
  attributes: Array<{ name: string; type: string; required: boolean }>;
}

export interface SimpleTypeModel {
  base: string;
  patterns: RegExp[];
  patternSources: string[];
  enumeration?: Set<string>;
  minLength?: number;
  maxLength?: number;
  totalDigits?: number;
  fractionDigits?: number;
  minInclusive?: number;
}

export interface SchemaModel {
  id: SchemaId;
  targetNamespace: string;
  rootElement: string;
  /** The type of the root element (`Document` or `AppHdr`). */
  rootType: string;
  complexTypes: Map<string, ComplexTypeModel>;
  simpleTypes: Map<string, SimpleTypeModel>;
}

/** A bundled XSD uses a construct the schema model does not compile: a fault of the build, never of a message. */
class UnsupportedSchemaError extends CodedError<"ISO20022_SCHEMA_UNSUPPORTED"> {
  constructor(message: string) {
    super("ISO20022_SCHEMA_UNSUPPORTED", message);
  }
}

function occurs(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return value === "unbounded" ? Number.POSITIVE_INFINITY : Number(value);
}

function compileComplexType(node: XmlElement): ComplexTypeModel {
  const model: ComplexTypeModel = { content: "sequence", particles: [], children: new Map(), attributes: [] };
  const [group, ...rest] = node.children;
  if (group === undefined || rest.length > 0) throw new UnsupportedSchemaError(`complexType ${node.attributes.name} has other than one content element`);
  const kind = localName(group.name);
  if (kind === "sequence" || kind === "choice") {
    if (Object.keys(group.attributes).length > 0) throw new UnsupportedSchemaError(`occurrence on a ${kind} is not supported`);
    model.content = kind;
    group.children.forEach((particle, order) => {
      const particleKind = localName(particle.name);
      const minOccurs = occurs(particle.attributes.minOccurs, 1);
      const maxOccurs = occurs(particle.attributes.maxOccurs, 1);
      if (particleKind === "element" && particle.attributes.name !== undefined && particle.attributes.type !== undefined) {
        const declaration = { name: particle.attributes.name, type: particle.attributes.type, minOccurs, maxOccurs };
        model.particles.push(declaration);
        model.children.set(declaration.name, { order, type: declaration.type, minOccurs, maxOccurs });
      } else if (particleKind === "any") {
        model.particles.push({ type: "", minOccurs, maxOccurs, namespace: particle.attributes.namespace ?? "##any" });
      } else {
        throw new UnsupportedSchemaError(`${particleKind} inside ${kind} is not supported`);
      }
    });
    return model;
  }
  if (kind === "simpleContent") {
    const extension = group.children[0];
    if (extension === undefined || localName(extension.name) !== "extension") throw new UnsupportedSchemaError("simpleContent without extension");
    model.content = "simple";
    model.simpleType = extension.attributes.base ?? "";
    for (const attribute of extension.children) {
      model.attributes.push({ name: attribute.attributes.name ?? "", type: attribute.attributes.type ?? "", required: attribute.attributes.use === "required" });
    }
    return model;
  }
  throw new UnsupportedSchemaError(`complexType content ${kind} is not supported`);
}

const builtIns = new Set(["xs:string", "xs:decimal", "xs:boolean", "xs:date", "xs:dateTime", "xs:time", "xs:gYearMonth", "xs:gYear"]);

function compileSimpleType(node: XmlElement): SimpleTypeModel {
  const restriction = node.children[0];
  if (restriction === undefined || localName(restriction.name) !== "restriction") throw new UnsupportedSchemaError(`simpleType ${node.attributes.name} is not a restriction`);
  const base = restriction.attributes.base ?? "";
  if (!builtIns.has(base)) throw new UnsupportedSchemaError(`simpleType base ${base} is not supported`);
  const model: SimpleTypeModel = { base, patterns: [], patternSources: [] };
  for (const facet of restriction.children) {
    const value = facet.attributes.value ?? "";
    switch (localName(facet.name)) {
      case "pattern":
        // XSD patterns are anchored and these use only syntax JavaScript reads the same way.
        model.patterns.push(new RegExp(`^(?:${value})$`, "u"));
        model.patternSources.push(value);
        break;
      case "enumeration":
        (model.enumeration ??= new Set()).add(value);
        break;
      case "minLength":
        model.minLength = Number(value);
        break;
      case "maxLength":
        model.maxLength = Number(value);
        break;
      case "totalDigits":
        model.totalDigits = Number(value);
        break;
      case "fractionDigits":
        model.fractionDigits = Number(value);
        break;
      case "minInclusive":
        model.minInclusive = Number(value);
        break;
      default:
        throw new UnsupportedSchemaError(`facet ${facet.name} is not supported`);
    }
  }
  return model;
}

function buildModel(id: SchemaId): SchemaModel {
  const schema = readXml(schemaText(id), { maxBytes: 4_000_000, maxDepth: 32 });
  const complexTypes = new Map<string, ComplexTypeModel>();
  const simpleTypes = new Map<string, SimpleTypeModel>();
  let rootType = "";
  let rootElement = "";
  for (const node of schema.children) {
    const kind = localName(node.name);
    const name = node.attributes.name ?? "";
    if (kind === "element") {
      rootElement = name;
      rootType = node.attributes.type ?? "";
    } else if (kind === "complexType") {
      complexTypes.set(name, compileComplexType(node));
    } else if (kind === "simpleType") {
      simpleTypes.set(name, compileSimpleType(node));
    }
  }
  return { id, targetNamespace: schema.attributes.targetNamespace ?? "", rootElement, rootType, complexTypes, simpleTypes };
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
