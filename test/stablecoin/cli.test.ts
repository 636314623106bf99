import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { loadConfig } from "../../src/config/config.ts";
import { openGatewayDatabase } from "../../src/gateway/database.ts";

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
  it("re-routes a failed redemption once, recording who did it; anything else exits 2 with one line", async () => {
    const missing = capture();
    expect(await main(["redemptions", "reroute", "31337:0xabc:0", "--dt-account", "DA-FIXED"], missing.io)).toBe(2);
    expect(missing.err[0]).toContain("NOT_FAILED");
    const id = "31337:0xfeed:0";
    let db = await openGatewayDatabase(loadConfig({ DATA_DIR: dataDir }));
    await db.query(
      `INSERT INTO stablecoin.redemptions (id, chain_id, tx_hash, log_index, block_number, block_hash, holder, amount, dt_account, state, failure_code)
       VALUES ($1, 31337, '0xfeed', 0, 5, '0xb10c', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', 250000, 'DA-TYPO', 'failed', 'UNKNOWN_ACCOUNT')`,
      [id],
    );
    await db.close();
    const done = capture();
    expect(await main(["redemptions", "reroute", id, "--dt-account", "DA-FIXED"], done.io)).toBe(0);
    expect(JSON.parse(done.out[0]!)).toEqual({ id, state: "confirmed", dtAccount: "DA-FIXED", amount: "2500.00", currency: "KZT" });
    const again = capture();
    expect(await main(["redemptions", "reroute", id, "--dt-account", "DA-OTHER"], again.io)).toBe(2);
    expect(again.err).toHaveLength(1);
    db = await openGatewayDatabase(loadConfig({ DATA_DIR: dataDir }));
    const actions = await db.query<{ principal_id: string; from_dt_account: string; to_dt_account: string }>("SELECT * FROM stablecoin.redemption_actions WHERE redemption_id = $1", [id]);
    await db.close();
    expect(actions.rows).toHaveLength(1);
    expect(actions.rows[0]).toMatchObject({ principal_id: expect.stringMatching(/^cli:/), from_dt_account: "DA-TYPO", to_dt_account: "DA-FIXED" });
  });

  it("re-mints a failed redemption once, recording who did it; anything else exits 2 with one line", async () => {
    const paid = capture();
    const id = `31337:0x${"ab".repeat(32)}:1`;
    let db = await openGatewayDatabase(loadConfig({ DATA_DIR: dataDir }));
    await db.query(
      `INSERT INTO stablecoin.redemptions (id, chain_id, tx_hash, log_index, block_number, block_hash, holder, amount, dt_account, exchange_id, state, failure_code)
       SELECT $1, 31337, $2, 1, 6, '0xb10c', evm_addresses[1], 1000, 'DA-CLOSED', id, 'failed', 'ACCOUNT_CLOSED' FROM stablecoin.exchanges LIMIT 1`,
      [id, `0x${"ab".repeat(32)}`],
    );
    await db.close();
    expect(await main(["redemptions", "remint", "31337:0xfeed:0"], paid.io)).toBe(2);
    expect(paid.err[0]).toContain("NOT_FAILED");
    const done = capture();
    expect(await main(["redemptions", "remint", id], done.io)).toBe(0);
    expect(JSON.parse(done.out[0]!)).toMatchObject({ id, state: "reminted", amount: "10.00", currency: "KZT" });
    const again = capture();
    expect(await main(["redemptions", "remint", id], again.io)).toBe(2);
    expect(again.err).toHaveLength(1);
    db = await openGatewayDatabase(loadConfig({ DATA_DIR: dataDir }));
    const actions = await db.query("SELECT * FROM stablecoin.redemption_actions WHERE redemption_id = $1", [id]);
    const remints = await db.query("SELECT amount, state FROM stablecoin.mint_requests WHERE reverses_redemption = $1", [id]);
    await db.close();
    expect(actions.rows).toEqual([expect.objectContaining({ action: "reminted", principal_id: expect.stringMatching(/^cli:/), from_dt_account: "DA-CLOSED", to_dt_account: null })]);
    expect(remints.rows).toEqual([{ amount: 1000n, state: "deposited" }]);
  });
});
