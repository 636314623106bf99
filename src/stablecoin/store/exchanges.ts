import { getAddress, type Address } from "viem";
import type { Queryable } from "../../persistence/database.ts";
import type { Exchange, ExchangeStatus } from "../model.ts";

/** The exchanges table. */

interface ExchangeRow {
  id: string;
  principal_id: string;
  name: string;
  dt_account: string;
  evm_addresses: string[];
  per_mint_limit: bigint;
  daily_limit: bigint;
  status: ExchangeStatus;
  created_at: Date;
}

const exchangeFromRow = (row: ExchangeRow): Exchange => ({
  id: row.id,
  principalId: row.principal_id,
  name: row.name,
  dtAccount: row.dt_account,
  evmAddresses: row.evm_addresses.map((address) => getAddress(address)),
  perMintLimit: BigInt(row.per_mint_limit),
  dailyLimit: BigInt(row.daily_limit),
  status: row.status,
  createdAt: row.created_at,
});

export const exchangeRows = {
  async insert(
    tx: Queryable,
    exchange: { id: string; principalId: string; name: string; dtAccount: string; evmAddresses: Address[]; perMintLimit: bigint; dailyLimit: bigint },
  ): Promise<Exchange> {
    const inserted = await tx.query<ExchangeRow>(
      `INSERT INTO stablecoin.exchanges (id, principal_id, name, dt_account, evm_addresses, per_mint_limit, daily_limit, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'active') RETURNING *`,
      [exchange.id, exchange.principalId, exchange.name, exchange.dtAccount, exchange.evmAddresses, exchange.perMintLimit, exchange.dailyLimit],
    );
    return exchangeFromRow(inserted.rows[0]!);
  },

  async update(tx: Queryable, id: string, values: { status: ExchangeStatus; perMintLimit: bigint; dailyLimit: bigint; evmAddresses: Address[] }): Promise<Exchange> {
    const updated = await tx.query<ExchangeRow>(
      `UPDATE stablecoin.exchanges SET status = $2, per_mint_limit = $3, daily_limit = $4, evm_addresses = $5, updated_at = now()
        WHERE id = $1 RETURNING *`,
      [id, values.status, values.perMintLimit, values.dailyLimit, values.evmAddresses],
    );
    return exchangeFromRow(updated.rows[0]!);
  },

  async get(db: Queryable, id: string): Promise<Exchange | undefined> {
    const found = await db.query<ExchangeRow>("SELECT * FROM stablecoin.exchanges WHERE id = $1", [id]);
    return found.rows[0] ? exchangeFromRow(found.rows[0]) : undefined;
  },

  async list(db: Queryable): Promise<Exchange[]> {
    const found = await db.query<ExchangeRow>("SELECT * FROM stablecoin.exchanges ORDER BY created_at, id");
    return found.rows.map(exchangeFromRow);
  },

  async byPrincipal(db: Queryable, principalId: string): Promise<Exchange | undefined> {
    const found = await db.query<ExchangeRow>("SELECT * FROM stablecoin.exchanges WHERE principal_id = $1", [principalId]);
    return found.rows[0] ? exchangeFromRow(found.rows[0]) : undefined;
  },

  /** The exchange that owns an EVM address (addresses compare checksummed). */
  async byAddress(db: Queryable, address: string): Promise<Exchange | undefined> {
    const found = await db.query<ExchangeRow>("SELECT * FROM stablecoin.exchanges WHERE $1 = ANY(evm_addresses)", [getAddress(address)]);
    return found.rows[0] ? exchangeFromRow(found.rows[0]) : undefined;
  },

  async idOfAccount(db: Queryable, dtAccount: string): Promise<string | undefined> {
    const found = await db.query<{ id: string }>("SELECT id FROM stablecoin.exchanges WHERE dt_account = $1", [dtAccount]);
    return found.rows[0]?.id;
  },

  /** Locks the exchange's row: serialises its mint requests so two cannot both fit under the daily limit. */
  async lock(tx: Queryable, id: string): Promise<void> {
    await tx.query("SELECT 1 FROM stablecoin.exchanges WHERE id = $1 FOR UPDATE", [id]);
  },
};

/** Start of the UTC day of `at`: daily limits reset at midnight UTC. */
export function utcDayStart(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

