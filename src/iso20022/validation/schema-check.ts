import type { SchemaId } from "../catalog.ts";
import { schemaModel, type ComplexTypeModel, type Particle, type SchemaModel, type SimpleTypeModel } from "../schema-model.ts";
import { localName, prefixOf, type XmlElement } from "../xml/tree.ts";
import { finding, type Finding } from "./findings.ts";
import { elementPath } from "./paths.ts";

/**
 * The XSD check over our own element tree, with the schemas compiled by schema-model.ts: content models
 * (sequence, choice, occurrences, wildcards), namespaces, attributes and the facets of every simple type.
 * It needs no second parse of the text, which made libxml2's parse the largest cost of validation. Its
 * verdicts are checked against libxml2 (the reference) in test/iso20022/schema-check.test.ts.
 */
const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance";

interface Check {
  model: SchemaModel;
  chain: XmlElement[];
  skipRoot: boolean;
  findings: Finding[];
}

function report(check: Check, message: string): void {
  check.findings.push(finding("XSD_INVALID", elementPath(check.chain, check.skipRoot), message));
}

/** In-scope namespace declarations: a new map only where an element declares some. */
type Scope = Map<string, string>;

function scopeOf(element: XmlElement, parent: Scope): Scope {
  let scope = parent;
  for (const name in element.attributes) {
    if (name === "xmlns" || name.startsWith("xmlns:")) {
      if (scope === parent) scope = new Map(parent);
      scope.set(name === "xmlns" ? "" : name.slice(6), element.attributes[name]!);
    }
  }
  return scope;
}

function characterCount(value: string): number {
  let count = value.length;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdbff) count--;
  }
  return count;
}

const collapse = (value: string) => value.replace(/[\t\n\r ]+/g, " ").trim();
const timezone = "(Z|[+-](?:(?:0\\d|1[0-3]):[0-5]\\d|14:00))?";
const datePattern = new RegExp(`^(-?(?:[1-9]\\d{4,}|\\d{4}))-(\\d{2})-(\\d{2})${timezone}$`);
const timePattern = new RegExp(`^(\\d{2}):(\\d{2}):(\\d{2})(?:\\.\\d+)?${timezone}$`);
const dateTimePattern = new RegExp(`^(-?(?:[1-9]\\d{4,}|\\d{4}))-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2}):(\\d{2})(\\.\\d+)?${timezone}$`);
const yearMonthPattern = new RegExp(`^-?(?:[1-9]\\d{4,}|\\d{4})-(0[1-9]|1[0-2])${timezone}$`);
const yearPattern = new RegExp(`^-?(?:[1-9]\\d{4,}|\\d{4})${timezone}$`);
const decimalPattern = /^[+-]?(?:(\d+)(?:\.(\d*))?|\.(\d+))$/;

function validDate(year: string, month: string, day: string): boolean {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  if (y === 0 || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
  return d <= days;
}

function validTime(hour: string, minute: string, second: string, fraction = ""): boolean {
  const h = Number(hour);
  const m = Number(minute);
  const s = Number(second);
  if (h === 24) return m === 0 && s === 0 && /^\.?0*$/.test(fraction);
  return h < 24 && m < 60 && s < 60;
}

/** Why `raw` is not a value of the simple type, or undefined when it is. */
function simpleValueProblem(type: SimpleTypeModel, raw: string): string | undefined {
  const value = type.base === "xs:string" ? raw : collapse(raw);
  switch (type.base) {
    case "xs:decimal": {
      const match = decimalPattern.exec(value);
      if (!match) return `'${value}' is not a valid decimal`;
      const integer = (match[1] ?? "").replace(/^0+/, "");
      const fraction = (match[2] ?? match[3] ?? "").replace(/0+$/, "");
      if (type.fractionDigits !== undefined && fraction.length > type.fractionDigits) {
        return `[facet 'fractionDigits'] The value '${value}' has more fractional digits than are allowed ('${type.fractionDigits}')`;
      }
      if (type.totalDigits !== undefined && Math.max(1, integer.length + fraction.length) > type.totalDigits) {
        return `[facet 'totalDigits'] The value '${value}' has more digits than are allowed ('${type.totalDigits}')`;
      }
      if (type.minInclusive !== undefined && Number(value) < type.minInclusive) {
        return `[facet 'minInclusive'] The value '${value}' is less than the minimum value allowed ('${type.minInclusive}')`;
      }
      break;
    }
    case "xs:boolean":
      if (!/^(true|false|1|0)$/.test(value)) return `'${value}' is not a valid boolean`;
      break;
    case "xs:date": {
      const match = datePattern.exec(value);
      if (!match || !validDate(match[1]!, match[2]!, match[3]!)) return `'${value}' is not a valid date`;
      break;
    }
    case "xs:dateTime": {
      const match = dateTimePattern.exec(value);
      if (!match || !validDate(match[1]!, match[2]!, match[3]!) || !validTime(match[4]!, match[5]!, match[6]!, match[7])) {
        return `'${value}' is not a valid date-time`;
      }
      break;
    }
    case "xs:time": {
      const match = timePattern.exec(value);
      if (!match || !validTime(match[1]!, match[2]!, match[3]!)) return `'${value}' is not a valid time`;
      break;
    }
    case "xs:gYearMonth":
      if (!yearMonthPattern.test(value)) return `'${value}' is not a valid year and month`;
      break;
    case "xs:gYear":
      if (!yearPattern.test(value)) return `'${value}' is not a valid year`;
      break;
  }
  if (type.enumeration !== undefined && !type.enumeration.has(value)) {
    return `[facet 'enumeration'] The value '${value}' is not an element of the set {${[...type.enumeration].map((item) => `'${item}'`).join(", ")}}`;
  }
  if (type.minLength !== undefined || type.maxLength !== undefined) {
    const length = characterCount(value);
    if (type.minLength !== undefined && length < type.minLength) return `[facet 'minLength'] The value '${value}' has a length of '${length}'; this underruns the allowed minimum length of '${type.minLength}'`;
    if (type.maxLength !== undefined && length > type.maxLength) return `[facet 'maxLength'] The value has a length of '${length}'; this exceeds the allowed maximum length of '${type.maxLength}'`;
  }
  for (let index = 0; index < type.patterns.length; index++) {
    if (!type.patterns[index]!.test(value)) return `[facet 'pattern'] The value '${value}' is not accepted by the pattern '${type.patternSources[index]}'`;
  }
  return undefined;
}

const NO_ATTRIBUTES: NonNullable<ComplexTypeModel["attributes"]> = [];

function checkAttributes(check: Check, element: XmlElement, name: string, scope: Scope, complex: ComplexTypeModel | undefined): void {
  const declared = complex?.attributes ?? NO_ATTRIBUTES;
  for (const attribute in element.attributes) {
    if (attribute === "xmlns" || attribute.startsWith("xmlns:")) continue;
    const prefix = prefixOf(attribute);
    if (prefix !== "" && scope.get(prefix) === xsiNamespace) {
      // No ISO 20022 element is nillable; xsi:type and xsi:schemaLocation change nothing for these schemas.
      if (localName(attribute) === "nil") report(check, `Element '${name}': The element is not 'nillable'.`);
      continue;
    }
    const declaration = prefix === "" ? declared.find((candidate) => candidate.name === attribute) : undefined;
    if (declaration === undefined) {
      report(check, `Element '${name}', attribute '${attribute}': The attribute '${attribute}' is not allowed.`);
      continue;
    }
    const type = check.model.simpleTypes.get(declaration.type);
    const problem = type && simpleValueProblem(type, element.attributes[attribute]!);
    if (problem) report(check, `Element '${name}', attribute '${attribute}': ${problem}.`);
  }
  for (const declaration of declared) {
    if (declaration.required && !(declaration.name in element.attributes)) {
      report(check, `Element '${name}': The attribute '${declaration.name}' is required but missing.`);
    }
  }
}

function expected(particles: readonly Particle[]): string {
  return particles.map((particle) => particle.name ?? "##any").join(", ");
}

/** Whether a child (its local name and namespace already known) is one `particle` takes. */
function matches(particle: Particle, local: string, namespace: string | undefined, target: string): boolean {
  if (particle.name === undefined) return particle.namespace === "##any" || particle.namespace === namespace;
  return namespace === target && local === particle.name;
}

/**
 * Validates the children of an element of complex type against its sequence or choice. Each child's scope,
 * local name and namespace are worked out once here and handed down to its own check.
 */
function checkContent(check: Check, element: XmlElement, name: string, complex: ComplexTypeModel, scope: Scope): void {
  const children = element.children;
  const count = children.length;
  const scopes: Scope[] = new Array<Scope>(count);
  const locals: string[] = new Array<string>(count);
  const namespaces: Array<string | undefined> = new Array<string | undefined>(count);
  for (let index = 0; index < count; index++) {
    const child = children[index]!;
    const childScope = scopeOf(child, scope);
    const colon = child.name.indexOf(":");
    scopes[index] = childScope;
    locals[index] = colon < 0 ? child.name : child.name.slice(colon + 1);
    namespaces[index] = childScope.get(colon < 0 ? "" : child.name.slice(0, colon));
  }
  const target = check.model.targetNamespace;
  let index = 0;
  const consume = (particle: Particle): number => {
    let taken = 0;
    while (index < count && taken < particle.maxOccurs && matches(particle, locals[index]!, namespaces[index], target)) {
      // Wildcards here are lax and name no declared element: their content is not checked.
      if (particle.name !== undefined) visit(check, children[index]!, locals[index]!, particle.type, scopes[index]!);
      index++;
      taken++;
    }
    return taken;
  };
  if (complex.content === "sequence") {
    for (let position = 0; position < complex.particles.length; position++) {
      const particle = complex.particles[position]!;
      if (consume(particle) < particle.minOccurs) {
        if (index < count) {
          check.chain.push(children[index]!);
          report(check, `Element '${locals[index]!}': This element is not expected. Expected is ( ${expected([particle])} ).`);
          check.chain.pop();
        } else {
          report(check, `Element '${name}': Missing child element(s). Expected is ( ${expected([particle])} ).`);
        }
        return;
      }
    }
  } else {
    const chosen = index < count ? complex.particles.find((particle) => matches(particle, locals[index]!, namespaces[index], target)) : undefined;
    if (chosen === undefined) {
      if (index < count) {
        check.chain.push(children[index]!);
        report(check, `Element '${locals[index]!}': This element is not expected. Expected is one of ( ${expected(complex.particles)} ).`);
        check.chain.pop();
      } else {
        report(check, `Element '${name}': Missing child element(s). Expected is one of ( ${expected(complex.particles)} ).`);
      }
      return;
    }
    consume(chosen);
  }
  if (index < count) {
    check.chain.push(children[index]!);
    report(check, `Element '${locals[index]!}': This element is not expected.`);
    check.chain.pop();
  }
}

/** Checks one element of `type`; `scope` is its own scope (its declarations included), `name` its local name. */
function visit(check: Check, element: XmlElement, name: string, type: string, scope: Scope): void {
  check.chain.push(element);
  const complex = check.model.complexTypes.get(type);
  checkAttributes(check, element, name, scope, complex);
  if (complex !== undefined && complex.content !== "simple") {
    if (element.text !== undefined && element.text.trim() !== "") {
      report(check, `Element '${name}': Character content other than whitespace is not allowed because the content type is 'element-only'.`);
    }
    checkContent(check, element, name, complex, scope);
  } else {
    const simple = check.model.simpleTypes.get(complex?.simpleType ?? type);
    if (element.children.length > 0) {
      report(check, `Element '${name}': Element content is not allowed, because the content type is a simple type definition.`);
    } else if (simple !== undefined) {
      const problem = simpleValueProblem(simple, element.text ?? "");
      if (problem) report(check, `Element '${name}': ${problem}.`);
    }
  }
  check.chain.pop();
}

/**
 * XSD findings for one part (AppHdr or Document) of a message already read by the safe reader. `ancestors`
 * are the elements above the part (the envelope), for namespace scope and paths.
 */
export function checkPartAgainstSchema(part: XmlElement, id: SchemaId, ancestors: readonly XmlElement[]): Finding[] {
  const model = schemaModel(id);
  let scope: Scope = new Map();
  for (const ancestor of ancestors) scope = scopeOf(ancestor, scope);
  const check: Check = { model, chain: [...ancestors], skipRoot: ancestors.length > 0, findings: [] };
  const partScope = scopeOf(part, scope);
  const namespace = partScope.get(prefixOf(part.name));
  if (localName(part.name) !== model.rootElement || namespace !== model.targetNamespace) {
    check.chain.push(part);
    report(check, `Element '${localName(part.name)}': No matching global declaration available for the validation root.`);
    return check.findings;
  }
  visit(check, part, localName(part.name), model.rootType, partScope);
  return check.findings;
}
