import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";

describe("tenge-gateway exchanges", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tg-exchanges-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line), env: { DATA_DIR: dataDir } }, out, err };
  }

  it("onboards an exchange, prints its API key once, lists it without secrets and suspends it", async () => {
    const created = capture();
    const code = await main(
      ["exchanges", "create", "--name", "Astana Exchange", "--dt-account", "DA-HSBKKZKX-0001", "--evm-address", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "--per-mint-limit", "100000", "--daily-limit", "1000000.50", "--id", "astana"],
      created.io,
    );
    expect(code).toBe(0);
    const issued = JSON.parse(created.out[0]!);
    expect(issued.exchange).toBe("astana");
    expect(issued.apiKey).toMatch(/^tgk_/);
    const listed = capture();
    expect(await main(["exchanges", "list"], listed.io)).toBe(0);
    expect(listed.out).toHaveLength(1);
    expect(listed.out[0]).not.toContain(issued.apiKey);
    expect(JSON.parse(listed.out[0]!)).toMatchObject({ id: "astana", dailyLimit: "1000000.50", perMintLimit: "100000.00", status: "active" });
    const updated = capture();
    expect(await main(["exchanges", "update", "astana", "--status", "suspended"], updated.io)).toBe(0);
    expect(JSON.parse(updated.out[0]!).status).toBe("suspended");
  });

  it("refuses bad limits and addresses with exit code 2 and one line", async () => {
    const bad = capture();
    expect(await main(["exchanges", "create", "--name", "X", "--dt-account", "DA-2", "--evm-address", "0x123", "--per-mint-limit", "10", "--daily-limit", "100"], bad.io)).toBe(2);
    expect(bad.err).toHaveLength(1);
    expect(bad.err[0]).toContain("INVALID_EVM_ADDRESS");
    const limits = capture();
    expect(await main(["exchanges", "create", "--name", "X", "--dt-account", "DA-3", "--evm-address", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "--per-mint-limit", "1000", "--daily-limit", "10"], limits.io)).toBe(2);
    expect(limits.err[0]).toContain("INVALID_LIMITS");
  });
});
