import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lockRefusalReason, PVP_REASON_CODES } from "../../src/pvp/reason-codes.ts";

describe("PvP reason codes: one table in the code, the same in docs/pvp.md", () => {
  it("docs/pvp.md lists exactly the code's table, row for row", () => {
    const doc = readFileSync(join(import.meta.dirname, "../../docs/pvp.md"), "utf8");
    const section = doc.slice(doc.indexOf("## Reason codes"), doc.indexOf("## States"));
    const rows = section
      .split("\n")
      .filter((line) => /^\| [A-Z0-9]{4} \|/.test(line))
      .map((line) => line.split("|").map((cell) => cell.trim()))
      .map((cells) => ({ code: cells[1], when: cells[3] }));
    expect(rows).toEqual(Object.values(PVP_REASON_CODES).map(({ code, when }) => ({ code, when })));
  });

  it("names a refused lock by its cause: unknown account AC01, closed AC04, funds AM04, anything else AG01", () => {
    expect(lockRefusalReason("UNKNOWN_ACCOUNT")).toBe("AC01");
    expect(lockRefusalReason("ACCOUNT_CLOSED")).toBe("AC04");
    expect(lockRefusalReason("INSUFFICIENT_FUNDS")).toBe("AM04");
    expect(lockRefusalReason("REJECTED")).toBe("AG01");
  });
});
