import type { LedgerEvent } from "../../ledger/dt-ledger-port.ts";
import type { Queryable } from "../../persistence/database.ts";
import type { Deposit, DepositStatus, HoldReason } from "../model.ts";
import { utcDayStart } from "./exchanges.ts";
import { filters, keysetPage, type Page } from "./paging.ts";

/** The deposits into the collateral intake. */

interface DepositRow {
  event_id: string;
  ledger_transaction_id: string;
  from_account: string;
  amount: bigint;
  reference: string;
  height: bigint;
  booked_at: Date;
  status: DepositStatus;
  hold_reason: HoldReason | null;
  mint_id: string | null;
  exchange_id: string | null;
  return_transaction_id: string | null;
}

const depositFromRow = (row: DepositRow): Deposit => ({
  eventId: row.event_id,
  ledgerTransactionId: row.ledger_transaction_id,
  fromAccount: row.from_account,
  amount: BigInt(row.amount),
  reference: row.reference,
  height: BigInt(row.height),
  bookedAt: row.booked_at,
  status: row.status,
  holdReason: row.hold_reason,
  mintId: row.mint_id,
  exchangeId: row.exchange_id,
  returnTransactionId: row.return_transaction_id,
});

/** Tiyn of the exchange's deposits matched to mints since the start of the UTC day. */
export async function mintedToday(db: Queryable, exchangeId: string, at: Date): Promise<bigint> {
  const found = await db.query<{ total: bigint | null }>(
    "SELECT sum(amount)::int8 AS total FROM stablecoin.deposits WHERE exchange_id = $1 AND status = 'matched' AND booked_at >= $2",
    [exchangeId, utcDayStart(at)],
  );
  return BigInt(found.rows[0]?.total ?? 0n);
}

type PaymentEvent = Extract<LedgerEvent, { type: "payment" }>;

export const depositRows = {
  async seen(tx: Queryable, eventId: string): Promise<boolean> {
    return (await tx.query("SELECT 1 FROM stablecoin.deposits WHERE event_id = $1", [eventId])).rowCount > 0;
  },

  async insert(tx: Queryable, event: PaymentEvent, outcome: { held: HoldReason | undefined; mintId: string | null; exchangeId: string | null }): Promise<void> {
    await tx.query(
      `INSERT INTO stablecoin.deposits (event_id, ledger_transaction_id, from_account, amount, reference, height, booked_at, status, hold_reason, mint_id, exchange_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        event.id,
        event.transactionId,
        event.from,
        event.amount,
        event.reference,
        event.height,
        event.at,
        outcome.held ? "held" : "matched",
        outcome.held ?? null,
        outcome.mintId,
        outcome.exchangeId,
      ],
    );
  },

  async get(db: Queryable, eventId: string): Promise<Deposit | undefined> {
    const found = await db.query<DepositRow>("SELECT * FROM stablecoin.deposits WHERE event_id = $1", [eventId]);
    return found.rows[0] ? depositFromRow(found.rows[0]) : undefined;
  },

  /** Newest booked first. */
  list(db: Queryable, filter: { status?: DepositStatus; limit: number; before?: string }): Promise<Page<Deposit>> {
    return keysetPage<DepositRow & { page_at: string }, Deposit>(
      db,
      { table: "stablecoin.deposits", timeColumn: "booked_at", idColumn: "event_id", ...filters([["status", filter.status]]), limit: filter.limit, before: filter.before },
      depositFromRow,
      (row) => row.event_id,
    );
  },

  /** Held -> returned; undefined when it is no longer held (another request returned it). */
  async markReturned(db: Queryable, eventId: string, returnTransactionId: string): Promise<Deposit | undefined> {
    const updated = await db.query<DepositRow>(
      "UPDATE stablecoin.deposits SET status = 'returned', return_transaction_id = $2, updated_at = now() WHERE event_id = $1 AND status = 'held' RETURNING *",
      [eventId, returnTransactionId],
    );
    return updated.rows[0] ? depositFromRow(updated.rows[0]) : undefined;
  },

  async countHeld(db: Queryable): Promise<number> {
    const found = await db.query<{ count: bigint }>("SELECT count(*)::int8 AS count FROM stablecoin.deposits WHERE status = 'held'");
    return Number(found.rows[0]?.count ?? 0);
  },
};

