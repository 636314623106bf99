import { localName, type XmlElement } from "../xml/tree.ts";

/**
 * The path of the last element of `chain` (root first), with `[n]` where siblings share a name.
 * A wrapper (envelope) is left out so paths start at `/AppHdr` or `/Document`.
 */
export function elementPath(chain: readonly XmlElement[], skipRoot: boolean): string {
  let path = "";
  for (let index = skipRoot ? 1 : 0; index < chain.length; index++) {
    const element = chain[index]!;
    const name = localName(element.name);
    path += `/${name}`;
    const parent = chain[index - 1];
    if (parent === undefined) continue;
    let position = 0;
    let count = 0;
    for (const sibling of parent.children) {
      if (localName(sibling.name) !== name) continue;
      count++;
      if (sibling === element) position = count;
    }
    if (count > 1) path += `[${position}]`;
  }
  return path || "/";
}

/**
 * Resolves a libxml2 node path against our tree of the same text. libxml2 writes `*[n]` (n-th element
 * child) for elements in a default namespace and `prefix:Name[n]` (n-th child of that name) otherwise;
 * `[n]` is left out when there is only one.
 */
export function chainOfPositionalPath(root: XmlElement, xpath: string): XmlElement[] {
  const steps = xpath.split("/").filter((step) => step !== "");
  const chain: XmlElement[] = [root];
  for (const step of steps.slice(1)) {
    const match = /^([^[]+)(?:\[(\d+)\])?$/.exec(step);
    const name = match?.[1] ?? "*";
    const position = match?.[2] === undefined ? 1 : Number(match[2]);
    const parent = chain[chain.length - 1]!;
    const candidates = name === "*" ? parent.children : parent.children.filter((child) => child.name === name);
    const next = candidates[position - 1];
    if (next === undefined) break;
    chain.push(next);
  }
  return chain;
}
