import type { Queryable } from "../../persistence/database.ts";

/** The followers' cursors (DT ledger events, chain blocks scanned). */
export const cursorRows = {
  async read(db: Queryable, name: string): Promise<string | undefined> {
    const found = await db.query<{ position: string }>("SELECT position FROM stablecoin.cursors WHERE name = $1", [name]);
    return found.rows[0]?.position || undefined;
  },

  /** Locks the cursor (created empty on first use) and returns its position. */
  async lock(tx: Queryable, name: string): Promise<string | undefined> {
    await tx.query("INSERT INTO stablecoin.cursors (name, position) VALUES ($1, '') ON CONFLICT DO NOTHING", [name]);
    const found = await tx.query<{ position: string }>("SELECT position FROM stablecoin.cursors WHERE name = $1 FOR UPDATE", [name]);
    return found.rows[0]?.position || undefined;
  },

  async set(tx: Queryable, name: string, position: string): Promise<void> {
    await tx.query("UPDATE stablecoin.cursors SET position = $2, updated_at = now() WHERE name = $1", [name, position]);
  },

  /** Moves a numeric cursor forward only (two scanners may race; the furthest wins). */
  async advanceTo(tx: Queryable, name: string, position: bigint): Promise<void> {
    await tx.query(
      `INSERT INTO stablecoin.cursors (name, position) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET position = GREATEST(stablecoin.cursors.position::numeric, excluded.position::numeric)::text, updated_at = now()`,
      [name, position.toString()],
    );
  },
};
