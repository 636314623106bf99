import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { loadConfig } from "../../src/config/config.ts";
import { openGatewayDatabase } from "../../src/gateway/database.ts";

describe("tenge-gateway stablecoin moves", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tg-moves-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line), env: { DATA_DIR: dataDir } }, out, err };
  }
  const holder = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  const id = `31337:0x${"ab".repeat(32)}:0`;

  it("lists and shows moves, and refunds a confirmed one once, recorded with the OS user", async () => {
    expect(await main(["exchanges", "create", "--name", "Astana Exchange", "--dt-account", "DA-HSBKKZKX-0001", "--evm-address", holder, "--per-mint-limit", "1000", "--daily-limit", "10000", "--id", "astana"], capture().io)).toBe(0);
    const db = await openGatewayDatabase(loadConfig({ DATA_DIR: dataDir }));
    await db.query(
      `INSERT INTO stablecoin.moves (id, source_chain_id, tx_hash, log_index, block_number, block_hash, holder, amount, destination_chain_id, recipient, exchange_id, state)
       VALUES ($1, 31337, $2, 0, 9, $3, $4, 150000, 31338, $4, 'astana', 'confirmed')`,
      [id, `0x${"ab".repeat(32)}`, `0x${"cd".repeat(32)}`, holder],
    );
    await db.close();
    const listed = capture();
    expect(await main(["stablecoin", "moves", "list"], listed.io)).toBe(0);
    expect(listed.out.map((line) => JSON.parse(line))).toMatchObject([{ id, amount: "1500.00", currency: "KZT", sourceChainId: 31337, destinationChainId: 31338, state: "confirmed" }]);
    const noReason = capture();
    expect(await main(["stablecoin", "moves", "refund", id], noReason.io)).toBe(2);
    const refunded = capture();
    expect(await main(["stablecoin", "moves", "refund", id, "--reason", "exchange asked"], refunded.io)).toBe(0);
    expect(JSON.parse(refunded.out[0]!)).toMatchObject({ state: "allotting", targetChainId: 31337, refundReason: "OPERATOR_REFUND" });
    const again = capture();
    expect(await main(["stablecoin", "moves", "refund", id, "--reason", "twice"], again.io)).toBe(2);
    expect(again.err[0]).toContain("NOT_REFUNDABLE");
    const shown = capture();
    expect(await main(["stablecoin", "moves", "show", id], shown.io)).toBe(0);
    expect(JSON.parse(shown.out[0]!).actions).toEqual([{ action: "refund", principalId: `cli:${userInfo().username}`, reason: "exchange asked", at: expect.any(String) }]);
    const missing = capture();
    expect(await main(["stablecoin", "moves", "show", "31337:0x00:0"], missing.io)).toBe(2);
    expect(missing.err[0]).toContain("MOVE_NOT_FOUND");
  });
});
