import { amountFromDecimal, amountToDecimal, type Amount } from "../../core/money.ts";
import { MessageStructureError } from "../message-structure-error.ts";
import { childType, type SchemaModel } from "../schema-model.ts";
import { hasLocalName, localName, prefixOf, type XmlElement } from "../xml/tree.ts";

/**
 * Typed views over the element tree. A field reads a value from below an element and writes it back,
 * creating missing elements at their schema position and leaving everything it does not cover alone, so
 * parse -> build keeps elements the typed model ignores. A write that would not change what a read returns
 * touches nothing (so "10" USD stays "10", not "10.00").
 */
export interface Field<T> {
  read(parent: XmlElement): T;
  write(target: Target, value: T): void;
  /** Restores the value from its JSON form (bigints travel as strings). */
  fromJson(value: unknown): T;
  /** The path below the parent, for error messages; set on fields the message cannot be without. */
  mandatory?: string;
}

/** A field the schema makes mandatory is absent: the message (or its JSON) is refused rather than read as "". */
function missingField(path: string): MessageStructureError {
  return new MessageStructureError("MESSAGE_FIELD_MISSING", `mandatory element ${path} is missing`, path);
}

/** An element being written, with its schema type so children can be placed in sequence order. */
export interface Target {
  element: XmlElement;
  type: string;
  schema: SchemaModel;
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type FieldValue<F> = F extends Field<infer T> ? T : never;
type OptionalKeys<S> = { [K in keyof S]: undefined extends FieldValue<S[K]> ? K : never }[keyof S];
export type Shape = Record<string, Field<unknown>>;
/** The object type a shape reads: fields that may be absent become optional properties. */
export type ShapeValue<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: FieldValue<S[K]> } & { [K in OptionalKeys<S>]?: FieldValue<S[K]> }
>;

function findChild(parent: XmlElement, local: string): XmlElement | undefined {
  for (const child of parent.children) if (hasLocalName(child.name, local)) return child;
  return undefined;
}

function find(parent: XmlElement, steps: readonly string[]): XmlElement | undefined {
  let current: XmlElement | undefined = parent;
  for (const step of steps) {
    if (current === undefined) return undefined;
    current = findChild(current, step);
  }
  return current;
}

function qualified(parent: XmlElement, local: string): string {
  const prefix = prefixOf(parent.name);
  return prefix === "" ? local : `${prefix}:${local}`;
}

/** Inserts a new child where the schema's sequence puts it (after every sibling of lower or equal order). */
export function insertChild(target: Target, local: string): Target {
  const declaration = childType(target.schema, target.type, local);
  const element: XmlElement = { name: qualified(target.element, local), attributes: {}, children: [] };
  const siblings = target.element.children;
  let index = siblings.length;
  if (declaration !== undefined) {
    index = 0;
    for (let position = 0; position < siblings.length; position++) {
      const order = childType(target.schema, target.type, localName(siblings[position]!.name))?.order ?? -1;
      if (order <= declaration.order) index = position + 1;
    }
  }
  siblings.splice(index, 0, element);
  return { element, type: declaration?.type ?? "", schema: target.schema };
}

function descend(target: Target, local: string, create: boolean): Target | undefined {
  const existing = findChild(target.element, local);
  if (existing) return { element: existing, type: childType(target.schema, target.type, local)?.type ?? "", schema: target.schema };
  return create ? insertChild(target, local) : undefined;
}

function descendPath(target: Target, steps: readonly string[], create: boolean): Target | undefined {
  let current: Target | undefined = target;
  for (const step of steps) {
    if (current === undefined) return undefined;
    current = descend(current, step, create);
  }
  return current;
}

/** Removes the element at `steps` and any ancestor (below `target`) left empty by that. */
function remove(target: Target, steps: readonly string[]): void {
  const chain: XmlElement[] = [target.element];
  for (const step of steps) {
    const next = findChild(chain[chain.length - 1]!, step);
    if (next === undefined) return;
    chain.push(next);
  }
  for (let index = chain.length - 1; index > 0; index--) {
    const child = chain[index]!;
    const parent = chain[index - 1]!;
    const isLeaf = index === chain.length - 1;
    if (!isLeaf && (child.children.length > 0 || child.text !== undefined)) return;
    parent.children.splice(parent.children.indexOf(child), 1);
  }
}

/**
 * Whether an element of `type` may be written empty and stay schema-valid: a sequence whose mandatory
 * children may all be empty too. A choice may not (which branch is data), nor any text.
 */
const emptiableCache = new WeakMap<SchemaModel, Map<string, boolean>>();
function emptiable(schema: SchemaModel, type: string): boolean {
  let cache = emptiableCache.get(schema);
  if (cache === undefined) emptiableCache.set(schema, (cache = new Map()));
  const known = cache.get(type);
  if (known !== undefined) return known;
  cache.set(type, false); // a recursive type is not emptiable through itself
  const model = schema.complexTypes.get(type);
  const result =
    model !== undefined &&
    model.content === "sequence" &&
    model.particles.every((particle) => particle.minOccurs === 0 || (particle.name !== undefined && emptiable(schema, particle.type)));
  cache.set(type, result);
  return result;
}

/**
 * Adds the mandatory children an element lacks when they can be empty (`<FinInstnId/>`, `<BkTxCd/>`): the
 * typed model has nothing to say in them, yet the schema needs them there. Nothing is invented: an element
 * that needs a value or a choice is left missing.
 */
export function completeMandatory(target: Target): void {
  const model = target.schema.complexTypes.get(target.type);
  if (model === undefined || model.content !== "sequence") return;
  for (const particle of model.particles) {
    if (particle.minOccurs === 0 || particle.name === undefined) continue;
    if (findChild(target.element, particle.name) !== undefined || !emptiable(target.schema, particle.type)) continue;
    completeMandatory(insertChild(target, particle.name));
  }
}

/** Whether every step of `steps` below `target` is a mandatory element of a sequence (no choice, no option). */
function mandatoryPath(target: Target, steps: readonly string[]): boolean {
  let type = target.type;
  for (const step of steps) {
    const model = target.schema.complexTypes.get(type);
    const declaration = model?.children.get(step);
    if (model?.content !== "sequence" || declaration === undefined || declaration.minOccurs === 0) return false;
    type = declaration.type;
  }
  return true;
}

/** Whether an element on the path holds anything besides the next step of the path. */
function hasOtherBranch(parent: XmlElement, steps: readonly string[]): boolean {
  let current = parent;
  for (const step of steps.slice(0, -1)) {
    const next = findChild(current, step);
    if (next === undefined) return false;
    if (current !== parent && current.children.length > 1) return true;
    current = next;
  }
  return current !== parent && current.children.length > 1;
}

function isEmpty(element: XmlElement): boolean {
  return element.children.length === 0 && element.text === undefined;
}

function split(path: string): string[] {
  return path === "" ? [] : path.split("/");
}

function textFromJson(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

/** Optional text at a path. */
export function optionalText(path: string): Field<string | undefined> {
  const steps = split(path);
  return {
    read: (parent) => find(parent, steps)?.text,
    write(target, value) {
      if (find(target.element, steps)?.text === value) return;
      if (value === undefined) return remove(target, steps);
      descendPath(target, steps, true)!.element.text = value;
    },
    fromJson: textFromJson,
  };
}

/** Mandatory text at a path: a message without it is refused with {@link MessageStructureError} MESSAGE_FIELD_MISSING. */
export function text(path: string): Field<string> {
  return mandatory(path, optionalText(path));
}

/** The items of a repeated element, in document order: the children named `last` of the element at `parentSteps`. */
function items(parent: XmlElement, parentSteps: string[], last: string): XmlElement[] {
  return find(parent, parentSteps)?.children.filter((child) => hasLocalName(child.name, last)) ?? [];
}

/** A repeated text element (for example `RmtInf/Ustrd`, `AddtlInf`). */
export function textList(path: string): Field<string[]> {
  const steps = split(path);
  const parentSteps = steps.slice(0, -1);
  const last = steps[steps.length - 1]!;
  return {
    read: (parent) => items(parent, parentSteps, last).map((item) => item.text ?? ""),
    write(target, values) {
      const current = this.read(target.element);
      if (current.length === values.length && current.every((value, index) => value === values[index])) return;
      if (values.length === 0) {
        while (find(target.element, steps)) remove(target, steps);
        return;
      }
      const container = descendPath(target, parentSteps, true)!;
      container.element.children = container.element.children.filter((child) => localName(child.name) !== last);
      for (const value of values) insertChild(container, last).element.text = value;
    },
    fromJson: (value) => (Array.isArray(value) ? value.map((item) => String(item)) : []),
  };
}

function readAmount(element: XmlElement | undefined): Amount | undefined {
  if (element === undefined) return undefined;
  return amountFromDecimal(element.text ?? "", element.attributes.Ccy ?? "");
}

function amountFromJson(value: unknown): Amount | undefined {
  if (value === undefined || value === null) return undefined;
  const record = value as { currency?: unknown; minorUnits?: unknown };
  return { currency: String(record.currency), minorUnits: BigInt(String(record.minorUnits)) };
}

/** An optional amount element with its `Ccy` attribute, as minor units. */
export function optionalAmount(path: string): Field<Amount | undefined> {
  const steps = split(path);
  return {
    read: (parent) => readAmount(find(parent, steps)),
    write(target, value) {
      const existing = find(target.element, steps);
      const current = existing && readAmount(existing);
      if (current?.currency === value?.currency && current?.minorUnits === value?.minorUnits) return;
      if (value === undefined) return remove(target, steps);
      const element = descendPath(target, steps, true)!.element;
      element.text = amountToDecimal(value);
      element.attributes.Ccy = value.currency;
    },
    fromJson: amountFromJson,
  };
}

/** A mandatory amount: a message without it is refused with {@link MessageStructureError} MESSAGE_FIELD_MISSING. */
export function amount(path: string): Field<Amount> {
  return mandatory(path, optionalAmount(path));
}

/** An optional field made mandatory: absent when read (or in JSON), the message is refused, never read as "". */
function mandatory<T>(path: string, optional: Field<T | undefined>): Field<T> {
  const present = (value: T | undefined): T => {
    if (value === undefined) throw missingField(path);
    return value;
  };
  return {
    read: (parent) => present(optional.read(parent)),
    write: (target, value) => optional.write(target, value),
    fromJson: (value) => present(optional.fromJson(value)),
    mandatory: path,
  };
}

function readShape<S extends Shape>(shape: S, element: XmlElement): ShapeValue<S> {
  const result: Record<string, unknown> = {};
  for (const key in shape) {
    const value = shape[key]!.read(element);
    if (value !== undefined) result[key] = value;
  }
  return result as ShapeValue<S>;
}

function writeFields<S extends Shape>(shape: S, target: Target, value: ShapeValue<S>): void {
  const record = value as Record<string, unknown>;
  for (const key in shape) shape[key]!.write(target, record[key]);
}

/** Writes the fields, then the empty mandatory elements the fields left out. */
function writeShape<S extends Shape>(shape: S, target: Target, value: ShapeValue<S>): void {
  writeFields(shape, target, value);
  completeMandatory(target);
}

function shapeFromJson<S extends Shape>(shape: S, value: unknown): ShapeValue<S> {
  const record = (value ?? {}) as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const key in shape) {
    const field = shape[key]!;
    if (record[key] === undefined || record[key] === null) {
      if (field.mandatory !== undefined) throw missingField(field.mandatory);
      continue;
    }
    result[key] = field.fromJson(record[key]);
  }
  return result as ShapeValue<S>;
}

/**
 * A group of fields below a path ("" = the element itself) that the message always has. When the path
 * runs through a choice (`Assgnr/Agt`, where `Assgnr/Pty` is the other branch) and the branch is absent,
 * it reads as an empty group and writing an empty group leaves the other branch alone.
 */
export function group<S extends Shape>(path: string, shape: S): Field<ShapeValue<S>> {
  const steps = split(path);
  const empty: XmlElement = { name: "", attributes: {}, children: [] };
  return {
    read: (parent) => readShape(shape, find(parent, steps) ?? empty),
    write(target, value) {
      const inner = descendPath(target, steps, true)!;
      writeFields(shape, inner, value);
      // An empty choice branch beside the branch the message uses (`Assgnr/Agt` next to `Assgnr/Pty`) is
      // not left behind; alone, it is the branch the message takes and is kept.
      if (isEmpty(inner.element) && !mandatoryPath(target, steps) && hasOtherBranch(target.element, steps)) return remove(target, steps);
      completeMandatory(inner);
    },
    fromJson: (value) => shapeFromJson(shape, value),
  };
}

/** An optional group: absent when its element is absent; writing undefined removes the element. */
export function optionalGroup<S extends Shape>(path: string, shape: S): Field<ShapeValue<S> | undefined> {
  const steps = split(path);
  return {
    read(parent) {
      const element = find(parent, steps);
      return element === undefined ? undefined : readShape(shape, element);
    },
    write(target, value) {
      if (value === undefined) return remove(target, steps);
      writeShape(shape, descendPath(target, steps, true)!, value);
    },
    fromJson: (value) => (value === undefined || value === null ? undefined : shapeFromJson(shape, value)),
  };
}

/** A repeated group; the i-th value is written into the i-th existing element, extra elements are removed. */
export function list<S extends Shape>(path: string, shape: S): Field<ShapeValue<S>[]> {
  const steps = split(path);
  const parentSteps = steps.slice(0, -1);
  const last = steps[steps.length - 1]!;
  return {
    read: (parent) => items(parent, parentSteps, last).map((item) => readShape(shape, item)),
    write(target, values) {
      if (values.length === 0) {
        while (find(target.element, steps)) remove(target, steps);
        return;
      }
      const container = descendPath(target, parentSteps, true)!;
      const existing = container.element.children.filter((child) => localName(child.name) === last);
      const itemType = childType(container.schema, container.type, last)?.type ?? "";
      values.forEach((value, index) => {
        const element = existing[index];
        const item = element ? { element, type: itemType, schema: container.schema } : insertChild(container, last);
        writeShape(shape, item, value);
      });
      for (const extra of existing.slice(values.length)) {
        container.element.children.splice(container.element.children.indexOf(extra), 1);
      }
    },
    fromJson: (value) => (Array.isArray(value) ? value.map((item) => shapeFromJson(shape, item)) : []),
  };
}

/** Reads a whole shape from an element (for message roots). */
export function readRoot<S extends Shape>(shape: S, element: XmlElement): ShapeValue<S> {
  return readShape(shape, element);
}

export function writeRoot<S extends Shape>(shape: S, target: Target, value: ShapeValue<S>): void {
  writeShape(shape, target, value);
}

export function rootFromJson<S extends Shape>(shape: S, value: unknown): ShapeValue<S> {
  return shapeFromJson(shape, value);
}
