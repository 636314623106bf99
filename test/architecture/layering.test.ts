import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkLayering } from "./layering.ts";

const layers = [["core"], ["ledger"], ["pvp"]];

/** A throwaway `src/` with the given files, so the rule is tested on imports written for the test. */
function sourceTree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), "layering-"));
  roots.push(root);
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(root, "src", name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return path.join(root, "src");
}
const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe("the layering rule", () => {
  it("holds for src/ as it is", () => {
    expect(checkLayering(path.resolve(import.meta.dirname, "../../src"))).toEqual([]);
  });

  it("passes imports that go down the layers", () => {
    const src = sourceTree({
      "core/errors.ts": "export class CodedError extends Error {}\n",
      "ledger/port.ts": 'import { CodedError } from "../core/errors.ts";\nexport class LedgerError extends CodedError {}\n',
      "pvp/engine.ts": 'import type { LedgerError } from "../ledger/port.ts";\nexport type E = LedgerError;\n',
    });
    expect(checkLayering(src, layers, [])).toEqual([]);
  });

  it("fails a wrong-way import, naming the rule and both files", () => {
    const src = sourceTree({
      "core/errors.ts": 'import { engine } from "../pvp/engine.ts";\nexport const e = engine;\n',
      "pvp/engine.ts": "export const engine = 1;\n",
    });
    expect(checkLayering(src, layers, [])).toEqual([
      {
        rule: "layering/direction",
        message: "src/core/errors.ts -> src/pvp/engine.ts: core may import only from lower layers (none)",
      },
    ]);
  });

  it("fails an import between folders of the same layer, a type-only or dynamic one too", () => {
    const src = sourceTree({
      "iso/message.ts": 'export type Message = string;\nexport const load = () => import("../evm/chain.ts");\n',
      "evm/chain.ts": 'import type { Message } from "../iso/message.ts";\nexport type M = Message;\n',
    });
    const rules = checkLayering(src, [["iso", "evm"]], []).filter((v) => v.rule === "layering/direction");
    expect(rules.map((v) => v.message)).toEqual([
      "src/evm/chain.ts -> src/iso/message.ts: evm and iso are in the same layer and must not import each other",
      "src/iso/message.ts -> src/evm/chain.ts: iso and evm are in the same layer and must not import each other",
    ]);
  });

  it("fails an import cycle inside one folder, printing the cycle", () => {
    const src = sourceTree({
      "pvp/store.ts": 'import type { Flow } from "./flow.ts";\nexport type S = Flow;\n',
      "pvp/flow.ts": 'import type { Machine } from "./machine.ts";\nexport type Flow = Machine;\n',
      "pvp/machine.ts": 'import type { S } from "./store.ts";\nexport type Machine = S | 1;\n',
    });
    expect(checkLayering(src, layers, [])).toEqual([
      { rule: "layering/no-cycle", message: "import cycle src/pvp/flow.ts -> src/pvp/machine.ts -> src/pvp/store.ts -> src/pvp/flow.ts" },
    ]);
  });

  it("fails a file outside every layer's folder", () => {
    const src = sourceTree({ "helpers.ts": "export const x = 1;\n" });
    expect(checkLayering(src, layers, []).map((v) => v.rule)).toEqual(["layering/unplaced"]);
  });

  it("lets a listed exception pass only while it still occurs", () => {
    const src = sourceTree({
      "core/errors.ts": 'import { engine } from "../pvp/engine.ts";\nexport const e = engine;\n',
      "pvp/engine.ts": "export const engine = 1;\n",
    });
    expect(checkLayering(src, layers, ["src/core/errors.ts -> src/pvp/engine.ts"])).toEqual([]);
    expect(checkLayering(src, layers, ["src/core/errors.ts -> src/pvp/engine.ts", "src/pvp/engine.ts -> src/core/x.ts"])).toEqual([
      { rule: "layering/stale-exception", message: "src/pvp/engine.ts -> src/core/x.ts no longer occurs; remove it from KNOWN_EXCEPTIONS" },
    ]);
  });
});
