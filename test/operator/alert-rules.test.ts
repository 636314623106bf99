import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const deployMd = readFileSync("docs/deploy.md", "utf8");

/** The alert rules docs/deploy.md gives operators (the yaml block after "Example alert rules"). */
function documentedRules(): string {
  const block = /Example alert rules:\s*```yaml\n([\s\S]*?)```/.exec(deployMd)?.[1];
  if (!block) throw new Error("docs/deploy.md has no example alert rules");
  return block;
}

/** Every tenge_gateway_* metric the source registers, with its label names. */
function registeredMetrics(): Map<string, string[]> {
  const metrics = new Map<string, string[]>();
  const visit = (directory: string) => {
    for (const name of readdirSync(directory)) {
      const path = join(directory, name);
      if (statSync(path).isDirectory()) visit(path);
      else if (name.endsWith(".ts")) {
        // A metric's options: from its name to the end of the options object.
        for (const match of readFileSync(path, "utf8").matchAll(/name: "(tenge_gateway_[a-z_]+)"([\s\S]*?)\}\)/g)) {
          const labelNames = /labelNames: \[([^\]]*)\]/.exec(match[2]!)?.[1] ?? "";
          metrics.set(match[1]!, [...labelNames.matchAll(/"([a-z_]+)"/g)].map((label) => label[1]!));
        }
      }
    }
  };
  visit("src");
  return metrics;
}

const promtool = spawnSync("promtool", ["--version"]).status === 0;

describe("docs/deploy.md's alert rules", () => {
  const rules = parse(documentedRules()) as { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; for: string }> }> };
  const alerts = rules.groups.flatMap((group) => group.rules);
  const metrics = registeredMetrics();

  it(`are valid Prometheus rules (${promtool ? "promtool check rules" : "structure; promtool is not installed"})`, () => {
    expect(rules.groups.length).toBeGreaterThan(0);
    for (const rule of alerts) {
      expect(Object.keys(rule).sort()).toEqual(["alert", "expr", "for"]);
      expect(rule.alert).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(rule.for).toMatch(/^\d+[smh]$/);
      let depth = 0;
      for (const char of rule.expr) {
        depth += char === "(" ? 1 : char === ")" ? -1 : 0;
        expect(depth).toBeGreaterThanOrEqual(0);
      }
      expect(depth).toBe(0);
    }
    if (promtool) {
      const directory = mkdtempSync(join(tmpdir(), "tg-rules-"));
      try {
        writeFileSync(join(directory, "rules.yml"), documentedRules());
        expect(execFileSync("promtool", ["check", "rules", join(directory, "rules.yml")], { encoding: "utf8" })).toContain("SUCCESS");
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    }
  });

  it("name only metrics the gateway exports, documented in the metrics table, by labels those metrics have", () => {
    for (const rule of alerts) {
      const used = [...rule.expr.matchAll(/tenge_gateway_[a-z_]+/g)].map((match) => match[0]);
      expect(used.length, rule.alert).toBeGreaterThan(0);
      const labels = new Set(used.flatMap((name) => metrics.get(name) ?? []));
      for (const name of used) {
        expect(metrics.has(name), `${rule.alert}: ${name} is not registered in src/`).toBe(true);
        expect(deployMd, `${name} is not in the metrics table`).toContain(`\`${name}`);
      }
      for (const match of rule.expr.matchAll(/(?:by|on) \(([^)]*)\)|\{([a-z_]+)=/g)) {
        for (const label of (match[1] ?? match[2]!).split(",").map((each) => each.trim())) expect(labels, `${rule.alert}: label ${label}`).toContain(label);
      }
    }
  });

  it("cover every operator-fixable worker fault, each named with its fix", () => {
    expect(alerts.some((rule) => rule.expr.includes("tenge_gateway_worker_fault"))).toBe(true);
    const codes = [...readFileSync("src/stablecoin/operator-faults.ts", "utf8").matchAll(/code: "([A-Z_]+)"/g)].map((match) => match[1]!);
    expect(codes.sort()).toEqual(["ALLOTMENT_REFUSED", "DT_LEDGER_UNREACHABLE", "MINTER_ALLOWANCE_SPENT", "NO_GAS", "RPC_UNREACHABLE", "STATEMENT_SIGNER_MISSING"]);
    const row = deployMd.split("\n").find((line) => line.startsWith("| `tenge_gateway_worker_fault"));
    for (const code of codes) expect(row).toContain(`\`${code}\``);
  });
});
