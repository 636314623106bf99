import { getAddress, type Address, type Hex } from "viem";
import type { Queryable } from "../../persistence/database.ts";
import type { Redemption, RedemptionAction, RedemptionPatch, RedemptionState } from "../model.ts";
import { moveRow } from "./move-row.ts";
import { filters, keysetPage, type ListFilter, type Page } from "./paging.ts";

/** The redemptions seen on chain and the operators' actions on them. */

export interface RedemptionRow {
  id: string;
  chain_id: bigint;
  tx_hash: string;
  log_index: number;
  block_number: bigint;
  block_hash: string;
  holder: string;
  amount: bigint;
  dt_account: string;
  exchange_id: string | null;
  state: RedemptionState;
  payout_transaction_id: string | null;
  failure_code: string | null;
  failure_message: string | null;
  attempts: number;
  created_at: Date;
  paid_at: Date | null;
}

export const redemptionFromRow = (row: RedemptionRow): Redemption => ({
  id: row.id,
  chainId: Number(row.chain_id),
  txHash: row.tx_hash as Hex,
  logIndex: row.log_index,
  blockNumber: BigInt(row.block_number),
  blockHash: row.block_hash as Hex,
  holder: getAddress(row.holder),
  amount: BigInt(row.amount),
  dtAccount: row.dt_account,
  exchangeId: row.exchange_id,
  state: row.state,
  payoutTransactionId: row.payout_transaction_id,
  failureCode: row.failure_code,
  failureMessage: row.failure_message,
  attempts: row.attempts,
  createdAt: row.created_at,
  paidAt: row.paid_at,
});

/** The column of each field a redemption transition may set. */
const REDEMPTION_COLUMNS: { readonly [K in keyof Required<RedemptionPatch>]: string } = {
  nextCheckAt: "next_check_at",
  attempts: "attempts",
  payoutTransactionId: "payout_transaction_id",
  paidAt: "paid_at",
  failureCode: "failure_code",
  failureMessage: "failure_message",
  dtAccount: "dt_account",
};

/** Moves a redemption from one of `from` to `to` with the patch; false when it was not in one of them. */
export function moveRedemptionRow(tx: Queryable, id: string, patch: RedemptionPatch, from: readonly RedemptionState[], to: RedemptionState): Promise<boolean> {
  return moveRow(tx, { table: "stablecoin.redemptions", id, patch, columns: REDEMPTION_COLUMNS }, from, to);
}

export const redemptionRows = {
  /** Records a Redeemed log once; false when its id is known already. */
  async insert(
    tx: Queryable,
    log: { id: string; chainId: number; txHash: Hex; logIndex: number; blockNumber: bigint; blockHash: Hex; holder: Address; amount: bigint; dtAccount: string },
  ): Promise<boolean> {
    const inserted = await tx.query(
      `INSERT INTO stablecoin.redemptions (id, chain_id, tx_hash, log_index, block_number, block_hash, holder, amount, dt_account, exchange_id, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, (SELECT id FROM stablecoin.exchanges WHERE $7 = ANY(evm_addresses)), 'seen')
       ON CONFLICT (id) DO NOTHING`,
      [log.id, log.chainId, log.txHash.toLowerCase(), log.logIndex, log.blockNumber, log.blockHash, log.holder, log.amount, log.dtAccount],
    );
    return inserted.rowCount === 1;
  },

  /** A known, unpaid log now in another block follows it; true when it moved. */
  async follow(tx: Queryable, id: string, blockNumber: bigint, blockHash: Hex): Promise<boolean> {
    const moved = await tx.query(
      `UPDATE stablecoin.redemptions SET block_number = $2, block_hash = $3, updated_at = now()
        WHERE id = $1 AND block_hash <> $3 AND state IN ('seen', 'removed')`,
      [id, blockNumber, blockHash],
    );
    return moved.rowCount === 1;
  },

  /** The chain's logs waiting for their confirmations, locked, in chain order. */
  async lockSeen(tx: Queryable, chainId: number, limit: number): Promise<RedemptionRow[]> {
    return (
      await tx.query<RedemptionRow>(
        "SELECT * FROM stablecoin.redemptions WHERE chain_id = $1 AND state = 'seen' ORDER BY block_number, log_index LIMIT $2 FOR UPDATE SKIP LOCKED",
        [chainId, limit],
      )
    ).rows;
  },

  /** Locks the chain's first confirmed, or claimed with an expired lease, redemption in chain order. */
  async lockNextPayable(tx: Queryable, chainId: number): Promise<RedemptionRow | undefined> {
    const found = await tx.query<RedemptionRow>(
      `SELECT * FROM stablecoin.redemptions WHERE chain_id = $1 AND state IN ('confirmed', 'paying') AND next_check_at <= now()
        ORDER BY block_number, log_index LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [chainId],
    );
    return found.rows[0];
  },

  async lockInState(tx: Queryable, id: string, state: RedemptionState): Promise<RedemptionRow | undefined> {
    return (await tx.query<RedemptionRow>("SELECT * FROM stablecoin.redemptions WHERE id = $1 AND state = $2 FOR UPDATE", [id, state])).rows[0];
  },

  async setExchange(tx: Queryable, id: string, exchangeId: string): Promise<void> {
    await tx.query("UPDATE stablecoin.redemptions SET exchange_id = $2 WHERE id = $1", [id, exchangeId]);
  },

  /** Renews a claimed payout's lease (a worker repeats the payout of a crashed one). */
  async renewLease(tx: Queryable, id: string, until: Date, attempts: number): Promise<void> {
    await tx.query("UPDATE stablecoin.redemptions SET next_check_at = $2, attempts = $3, updated_at = now() WHERE id = $1", [id, until, attempts]);
  },

  /** The ledger could not take the payout now: note why and try again after `ms`. */
  async retryLater(tx: Queryable, id: string, failure: { code: string; message: string }, ms: number): Promise<void> {
    await tx.query(
      "UPDATE stablecoin.redemptions SET failure_code = $2, failure_message = $3, next_check_at = now() + make_interval(secs => $4) WHERE id = $1 AND state = 'paying'",
      [id, failure.code, failure.message, ms / 1000],
    );
  },

  async get(db: Queryable, id: string): Promise<Redemption | undefined> {
    const found = await db.query<RedemptionRow>("SELECT * FROM stablecoin.redemptions WHERE id = $1", [id]);
    return found.rows[0] ? redemptionFromRow(found.rows[0]) : undefined;
  },

  list(db: Queryable, filter: ListFilter): Promise<Page<Redemption>> {
    return keysetPage<RedemptionRow & { page_at: string }, Redemption>(
      db,
      { table: "stablecoin.redemptions", timeColumn: "created_at", idColumn: "id", ...filters([["exchange_id", filter.exchangeId], ["state", filter.state], ["chain_id", filter.chainId?.toString()]]), limit: filter.limit, before: filter.before },
      redemptionFromRow,
      (row) => row.id,
    );
  },

  /** Failed payouts by chain (a chain without any is absent). */
  async countFailedByChain(db: Queryable): Promise<Map<number, number>> {
    const found = await db.query<{ chain_id: bigint; count: bigint }>("SELECT chain_id, count(*)::int8 AS count FROM stablecoin.redemptions WHERE state = 'failed' GROUP BY chain_id");
    return new Map(found.rows.map((row) => [Number(row.chain_id), Number(row.count)]));
  },
};

export const redemptionActionRows = {
  async insert(tx: Queryable, redemptionId: string, action: RedemptionAction): Promise<void> {
    await tx.query(
      "INSERT INTO stablecoin.redemption_actions (redemption_id, action, principal_id, from_dt_account, to_dt_account, mint_id) VALUES ($1, $2, $3, $4, $5, $6)",
      [
        redemptionId,
        action.action,
        action.principalId,
        action.fromDtAccount,
        action.action === "rerouted" ? action.toDtAccount : null,
        action.action === "reminted" ? action.mintId : null,
      ],
    );
  },
};

