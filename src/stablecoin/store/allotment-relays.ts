import type { Address, Hex } from "viem";
import type { Queryable } from "../../persistence/database.ts";

/** The issuance allotments the gateway relayed to its chains (submitIssuanceAllotment transactions). */

export interface AllotmentRelay {
  hash: Hex;
  chainId: number;
  sequence: bigint;
  nonce: bigint;
  raw: Hex;
  createdAt: Date;
}

interface AllotmentRelayRow {
  hash: Hex;
  chain_id: bigint;
  sequence: string;
  nonce: bigint;
  raw: Hex;
  created_at: Date;
}

const relayFromRow = (row: AllotmentRelayRow): AllotmentRelay => ({
  hash: row.hash,
  chainId: Number(row.chain_id),
  sequence: BigInt(row.sequence),
  nonce: BigInt(row.nonce),
  raw: row.raw,
  createdAt: row.created_at,
});

export const allotmentRelayRows = {
  async insert(tx: Queryable, relay: { hash: Hex; chainId: number; sequence: bigint; minter: Address; nonce: bigint; raw: Hex }): Promise<void> {
    await tx.query(
      "INSERT INTO stablecoin.allotment_relays (hash, chain_id, sequence, minter, nonce, raw) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
      [relay.hash, relay.chainId, relay.sequence.toString(), relay.minter, relay.nonce, relay.raw],
    );
  },

  /** The chain's relays not yet settled, oldest first. */
  async pending(tx: Queryable, chainId: number): Promise<AllotmentRelay[]> {
    const found = await tx.query<AllotmentRelayRow>(
      "SELECT hash, chain_id, sequence::text AS sequence, nonce, raw, created_at FROM stablecoin.allotment_relays WHERE chain_id = $1 AND outcome = 'pending' ORDER BY created_at, hash",
      [chainId],
    );
    return found.rows.map(relayFromRow);
  },

  async settle(tx: Queryable, hash: Hex, outcome: "mined" | "reverted" | "dropped"): Promise<void> {
    await tx.query("UPDATE stablecoin.allotment_relays SET outcome = $2 WHERE hash = $1 AND outcome = 'pending'", [hash, outcome]);
  },

  /** Every pending relay of the chain under this nonce is settled: the nonce went to another transaction. */
  async dropNonce(tx: Queryable, chainId: number, nonce: bigint): Promise<void> {
    await tx.query("UPDATE stablecoin.allotment_relays SET outcome = 'dropped' WHERE chain_id = $1 AND nonce = $2 AND outcome = 'pending'", [chainId, nonce]);
  },
};
