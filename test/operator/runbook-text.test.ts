import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runbookBlocks, runbookScript } from "../runbook/extract.ts";

// npm run test:runbook runs these blocks end to end (in .ci/run); this checks the text on every npm test.
describe("docs/deploy.md's runbook text", () => {
  const markdown = readFileSync("docs/deploy.md", "utf8");

  it("is a bash script, block by block in document order", () => {
    const blocks = runbookBlocks(markdown);
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    expect(blocks.map((block) => block.line)).toEqual([...blocks.map((block) => block.line)].sort((a, b) => a - b));
    const syntax = spawnSync("bash", ["-n", "-c", runbookScript(markdown)], { encoding: "utf8" });
    expect(syntax.stderr).toBe("");
    expect(syntax.status).toBe(0);
  });

  it("exports nothing: each command gets its settings on its own line, so no setting leaks into another command", () => {
    for (const block of runbookBlocks(markdown)) expect(block.code).not.toMatch(/^\s*export\s/m);
  });

  it("ends at the first settled PvP, mint, redemption and a verified proof of collateral", () => {
    const script = runbookScript(markdown);
    for (const milestone of ['.state == "SETTLED"', '.state == "minted"', 'any(.state == "paid")', "npx tenge-gateway collateral verify"]) expect(script).toContain(milestone);
  });
});
