import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);

describe("license", () => {
  it("the LICENSE file is the license package.json names", () => {
    const declared = (JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { license: string }).license;
    expect(declared).toBe("Apache-2.0");
    const text = readFileSync(new URL("LICENSE", root), "utf8");
    expect(text).toContain("Apache License");
    expect(text).toContain("Version 2.0, January 2004");
    expect(text).toContain("END OF TERMS AND CONDITIONS");
  });

  it("the README names the same license", () => {
    const readme = readFileSync(new URL("README.md", root), "utf8");
    expect(readme).toMatch(/Apache-2\.0|Apache License 2\.0/);
  });
});
