import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/**
 * The layers of `src/`, bottom first. A folder may import from folders in lower layers only; folders in the
 * same layer are independent of each other. Written once here; README's "Layout" section explains them.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["core"], // errors, money, hash-lock, clock, paging, the CLI command contract: imports nothing of the project
  ["config", "persistence"], // validated settings; one database module
  ["identity"], // principals, keys, request signatures, access control
  ["server"], // the HTTP plumbing every feature's routes use
  ["iso20022", "evm", "ledger"], // messages; chains; the DT ledger port
  ["correspondents", "dt-ledger", "proof-of-collateral"], // features that need only the layers above
  ["pvp"],
  ["dvp", "stablecoin"], // DvP's securities leg sits on the PvP leg port; the stablecoin is independent of it
  ["gateway"], // the composition root
  ["cli"], // the tenge-gateway command
];

/**
 * Wrong-way imports tolerated while being removed; none are left (issue 23 removed the last). Each listed
 * must still occur: a fixed one left here fails as `layering/stale-exception`, so the list only shrinks.
 */
export const KNOWN_EXCEPTIONS: readonly string[] = [];

export interface LayeringViolation {
  rule: "layering/direction" | "layering/no-cycle" | "layering/unplaced" | "layering/stale-exception";
  message: string;
}

/** Relative imports of one file (static, type-only, re-exports and dynamic `import()`), resolved to files. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  const targets: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith(".")) continue;
    const base = path.resolve(path.dirname(file), fileName);
    const candidates = [base, base.replace(/\.js$/, ".ts"), `${base}.ts`, path.join(base, "index.ts")];
    const found = candidates.find((candidate) => candidate.endsWith(".ts") && existsSync(candidate));
    if (found) targets.push(found);
  }
  return targets;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "generated" ? [] : sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Checks every `.ts` file under `srcDir` against `layers`; returns the violations, each naming its rule. */
export function checkLayering(
  srcDir: string,
  layers: readonly (readonly string[])[] = LAYERS,
  exceptions: readonly string[] = KNOWN_EXCEPTIONS,
): LayeringViolation[] {
  const root = path.resolve(srcDir);
  const rel = (file: string) => path.relative(path.dirname(root), file).split(path.sep).join("/");
  const layerOf = new Map<string, number>();
  layers.forEach((folders, index) => folders.forEach((folder) => layerOf.set(folder, index)));
  const folderOf = (file: string) => {
    const parts = path.relative(root, file).split(path.sep);
    return parts.length > 1 ? parts[0]! : undefined;
  };

  const violations: LayeringViolation[] = [];
  const unusedExceptions = new Set(exceptions);
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(root)) {
    const targets = importsOf(file).filter((target) => target.startsWith(root + path.sep));
    graph.set(file, targets);
    const from = folderOf(file);
    const fromLayer = from === undefined ? undefined : layerOf.get(from);
    if (fromLayer === undefined) {
      if (unusedExceptions.delete(`unplaced: ${rel(file)}`)) continue;
      violations.push({
        rule: "layering/unplaced",
        message: `${rel(file)} is not in a folder of a layer; put it in one, or add its folder to LAYERS`,
      });
      continue;
    }
    for (const target of targets) {
      const to = folderOf(target);
      if (to === from) continue;
      const toLayer = to === undefined ? undefined : layerOf.get(to);
      if (toLayer !== undefined && toLayer < fromLayer) continue;
      const edge = `${rel(file)} -> ${rel(target)}`;
      if (unusedExceptions.delete(edge)) continue;
      const why =
        toLayer === fromLayer
          ? `${from} and ${to} are in the same layer and must not import each other`
          : `${from} may import only from lower layers (${layers.slice(0, fromLayer).flat().join(", ") || "none"})`;
      violations.push({ rule: "layering/direction", message: `${edge}: ${why}` });
    }
  }

  for (const { members, cycle } of importCycles(graph)) {
    const names = cycle.map(rel);
    const key = `cycle: ${members.map(rel).sort().join(", ")}`;
    if (unusedExceptions.delete(key)) continue;
    violations.push({ rule: "layering/no-cycle", message: `import cycle ${[...names, names[0]].join(" -> ")}` });
  }
  for (const stale of unusedExceptions) {
    violations.push({ rule: "layering/stale-exception", message: `${stale} no longer occurs; remove it from KNOWN_EXCEPTIONS` });
  }
  return violations;
}

/** One cycle per strongly connected component of more than one file (or a file importing itself), Tarjan. */
function importCycles(graph: Map<string, string[]>): { members: string[]; cycle: string[] }[] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: { members: string[]; cycle: string[] }[] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) {
      cycles.push({ members: component, cycle: cyclePath(graph, new Set(component)) });
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

/** A concrete cycle through a strongly connected component, for the message: a path back to its start. */
function cyclePath(graph: Map<string, string[]>, component: Set<string>): string[] {
  const start = [...component].sort()[0]!;
  const seen = new Set<string>();
  const walk = (node: string, trail: string[]): string[] | undefined => {
    for (const next of graph.get(node) ?? []) {
      if (!component.has(next)) continue;
      if (next === start) return trail;
      if (seen.has(next)) continue;
      seen.add(next);
      const found = walk(next, [...trail, next]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(start, [start]) ?? [start];
}
