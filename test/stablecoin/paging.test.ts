import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStablecoinWorld, startGatewayOn, type GatewayUnderTest, type StablecoinWorld } from "./support.ts";

/**
 * Paging of the stablecoin lists: walking every page from the newest visits each item exactly once, in
 * order, although ids are random and so say nothing about creation order (and some items share a
 * creation time).
 */
describe("stablecoin lists page by creation time and id", () => {
  let world: StablecoinWorld;
  let gateway: GatewayUnderTest;
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    world = await createStablecoinWorld();
    gateway = await startGatewayOn(world, { start: false, settings: { exchangeRatePerSecond: 1000 } });
  });
  afterAll(async () => {
    await gateway.close();
    await world.close();
  });

  /**
   * Gives the rows creation times in the reverse order of their ids, two rows per instant, so neither the
   * id alone nor the time alone orders them. Returns the ids newest first (time, then id, descending).
   */
  async function scrambleCreationTimes(table: "mint_requests" | "redemptions" | "deposits", ids: string[]): Promise<string[]> {
    const [timeColumn, idColumn] = table === "deposits" ? ["booked_at", "event_id"] : ["created_at", "id"];
    const byId = [...ids].sort();
    const at = (index: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0) + Math.floor(index / 2) * 1000);
    for (const [index, id] of byId.entries()) {
      await world.db.query(`UPDATE stablecoin.${table} SET ${timeColumn} = $2 WHERE ${idColumn} = $1`, [id, at(byId.length - 1 - index)]);
    }
    return byId
      .map((id, index) => ({ id, at: at(byId.length - 1 - index).getTime() }))
      .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1))
      .map((item) => item.id);
  }

  async function walk(path: string, key: string, limit: number): Promise<string[]> {
    const seen: string[] = [];
    let before: string | undefined;
    for (let page = 0; page < 50; page++) {
      const separator = path.includes("?") ? "&" : "?";
      const reply = await gateway.app.inject({ method: "GET", url: `${path}${separator}limit=${limit}${before ? `&before=${encodeURIComponent(before)}` : ""}`, headers: bearer(key) });
      expect(reply.statusCode).toBe(200);
      const { items, next } = reply.json() as { items: Array<{ id?: string; eventId?: string }>; next: string | null };
      expect(items.length).toBeLessThanOrEqual(limit);
      seen.push(...items.map((item) => item.id ?? item.eventId!));
      if (next === null) return seen;
      before = next;
    }
    throw new Error("paging did not end");
  }

  it("lists every mint request once, newest first, whatever the page size", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 11; i++) {
      const created = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey), payload: { amount: "1.00" } });
      ids.push(created.json().id);
    }
    const expected = await scrambleCreationTimes("mint_requests", ids);
    for (const limit of [1, 2, 3, 4, 10, 11, 12]) {
      expect(await walk("/stablecoin/mints", world.exchangeApiKey, limit), `limit ${limit}`).toEqual(expected);
    }
  });

  it("lists every redemption once, newest first, whatever the page size", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) {
      const txHash = `0x${(i + 1).toString(16).padStart(64, "0")}`;
      const id = `${world.tokenChain.chainId}:${txHash}:${i}`;
      await world.db.query(
        `INSERT INTO stablecoin.redemptions (id, chain_id, tx_hash, log_index, block_number, block_hash, holder, amount, dt_account, exchange_id, state)
         VALUES ($1, $2, $3, $4, 1, $5, $6, 100, $7, $8, 'paid')`,
        [id, world.tokenChain.chainId, txHash, i, `0x${"ab".repeat(32)}`, world.exchange.evmAddresses[0], world.exchange.dtAccount, world.exchange.id],
      );
      ids.push(id);
    }
    const expected = await scrambleCreationTimes("redemptions", ids);
    for (const limit of [1, 2, 4, 9, 10]) {
      expect(await walk("/stablecoin/redemptions", gateway.operatorKey, limit), `limit ${limit}`).toEqual(expected);
      expect(await walk("/stablecoin/redemptions", world.exchangeApiKey, limit), `limit ${limit}`).toEqual(expected);
    }
  });

  it("lists every deposit once, newest booked first, whatever the page size", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      await world.deposit(`NO-SUCH-REFERENCE-${i}`, 100n + BigInt(i));
      expect(await world.follower().step()).toBe(true);
    }
    for (const row of (await world.db.query<{ event_id: string }>("SELECT event_id FROM stablecoin.deposits")).rows) ids.push(row.event_id);
    expect(ids).toHaveLength(7);
    const expected = await scrambleCreationTimes("deposits", ids);
    for (const limit of [1, 3, 7, 8]) {
      expect(await walk("/stablecoin/deposits?status=held", gateway.operatorKey, limit), `limit ${limit}`).toEqual(expected);
    }
  });

  it("refuses a cursor it did not issue, with INVALID_CURSOR", async () => {
    for (const before of ["mint_0123", "W10", Buffer.from('["yesterday","x"]').toString("base64url")]) {
      const reply = await gateway.app.inject({ method: "GET", url: `/stablecoin/mints?before=${before}`, headers: bearer(world.exchangeApiKey) });
      expect(reply.statusCode, before).toBe(400);
      expect(reply.json().code, before).toBe("INVALID_CURSOR");
    }
  });
});
