import { getAddress, type Address, type Hex } from "viem";
import type { Queryable } from "../../persistence/database.ts";
import type { Move, MoveAction, MovePatch, MoveState, RefundReason } from "../model.ts";
import { moveRow } from "./move-row.ts";
import { filters, keysetPage, type ListFilter, type Page } from "./paging.ts";

/** The moves between chains seen on chain, and the operators' actions on them. */

export interface MoveDbRow {
  id: string;
  source_chain_id: bigint;
  tx_hash: string;
  log_index: number;
  block_number: bigint;
  block_hash: string;
  holder: string;
  amount: bigint;
  destination_chain_id: string;
  recipient: string;
  exchange_id: string | null;
  state: MoveState;
  target_chain_id: bigint | null;
  refund_reason: RefundReason | null;
  allotment_sequence: string | null;
  attempts: number;
  failure_code: string | null;
  failure_message: string | null;
  created_at: Date;
  settled_at: Date | null;
  /** From the mint request that completes it (joined). */
  mint_id: string | null;
  mint_state: string | null;
}

export const moveFromRow = (row: MoveDbRow): Move => ({
  id: row.id,
  sourceChainId: Number(row.source_chain_id),
  txHash: row.tx_hash as Hex,
  logIndex: row.log_index,
  blockNumber: BigInt(row.block_number),
  blockHash: row.block_hash as Hex,
  holder: getAddress(row.holder),
  amount: BigInt(row.amount),
  destinationChainId: BigInt(row.destination_chain_id),
  recipient: getAddress(row.recipient),
  exchangeId: row.exchange_id,
  state: row.state,
  targetChainId: row.target_chain_id === null ? null : Number(row.target_chain_id),
  refundReason: row.refund_reason,
  allotmentSequence: row.allotment_sequence === null ? null : BigInt(row.allotment_sequence),
  mintId: row.mint_id,
  attempts: row.attempts,
  failureCode: row.failure_code,
  failureMessage: row.failure_message,
  createdAt: row.created_at,
  settledAt: row.settled_at,
});

/** The column of each field a move transition may set. */
const MOVE_COLUMNS: { readonly [K in keyof Required<MovePatch>]: string } = {
  nextCheckAt: "next_check_at",
  attempts: "attempts",
  targetChainId: "target_chain_id",
  refundReason: "refund_reason",
  allotmentSequence: "allotment_sequence",
  settledAt: "settled_at",
  failureCode: "failure_code",
  failureMessage: "failure_message",
};

/** Moves a move from one of `from` to `to` with the patch; false when it was not in one of them. */
export function moveMoveRow(tx: Queryable, id: string, patch: MovePatch, from: readonly MoveState[], to: MoveState): Promise<boolean> {
  return moveRow(tx, { table: "stablecoin.moves", id, patch, columns: MOVE_COLUMNS }, from, to);
}

// Every read joins the move's mint request (at most one: mint_requests.move_id is unique).
const SELECT_MOVES = `SELECT m.*, r.id AS mint_id, r.state AS mint_state FROM stablecoin.moves m
  LEFT JOIN stablecoin.mint_requests r ON r.move_id = m.id`;

export const moveRows = {
  /** Records a MovedOut log once; false when its id is known already. */
  async insert(
    tx: Queryable,
    log: { id: string; sourceChainId: number; txHash: Hex; logIndex: number; blockNumber: bigint; blockHash: Hex; holder: Address; amount: bigint; destinationChainId: bigint; recipient: Address },
  ): Promise<boolean> {
    const inserted = await tx.query(
      `INSERT INTO stablecoin.moves (id, source_chain_id, tx_hash, log_index, block_number, block_hash, holder, amount, destination_chain_id, recipient, exchange_id, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, (SELECT id FROM stablecoin.exchanges WHERE $7 = ANY(evm_addresses)), 'seen')
       ON CONFLICT DO NOTHING`,
      [log.id, log.sourceChainId, log.txHash.toLowerCase(), log.logIndex, log.blockNumber, log.blockHash, log.holder, log.amount, log.destinationChainId.toString(), log.recipient],
    );
    return inserted.rowCount === 1;
  },

  /** A known, not yet confirmed log now in another block follows it; true when it moved. */
  async follow(tx: Queryable, id: string, blockNumber: bigint, blockHash: Hex): Promise<boolean> {
    const moved = await tx.query(
      `UPDATE stablecoin.moves SET block_number = $2, block_hash = $3, updated_at = now()
        WHERE id = $1 AND block_hash <> $3 AND state IN ('seen', 'removed')`,
      [id, blockNumber, blockHash],
    );
    return moved.rowCount === 1;
  },

  async lockSeen(tx: Queryable, sourceChainId: number, limit: number): Promise<MoveDbRow[]> {
    const found = await tx.query<MoveDbRow>(
      `SELECT *, NULL AS mint_id, NULL AS mint_state FROM stablecoin.moves WHERE source_chain_id = $1 AND state = 'seen'
        ORDER BY block_number, log_index LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [sourceChainId, limit],
    );
    return found.rows;
  },

  /** Locks the first move from one of `sourceChainIds` to ask the ledger for: confirmed, or asking with an expired lease. */
  async lockNextToAllot(tx: Queryable, sourceChainIds: readonly number[]): Promise<MoveDbRow | undefined> {
    const found = await tx.query<MoveDbRow>(
      `SELECT *, NULL AS mint_id, NULL AS mint_state FROM stablecoin.moves
        WHERE state IN ('confirmed', 'allotting') AND next_check_at <= now() AND source_chain_id = ANY($1::int8[])
        ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [sourceChainIds],
    );
    return found.rows[0];
  },

  async lockInState(tx: Queryable, id: string, states: readonly MoveState[]): Promise<MoveDbRow | undefined> {
    const found = await tx.query<MoveDbRow>("SELECT *, NULL AS mint_id, NULL AS mint_state FROM stablecoin.moves WHERE id = $1 AND state = ANY($2::text[]) FOR UPDATE", [id, states]);
    return found.rows[0];
  },

  /** Locks the minting moves whose mint request has finished (minted or failed). */
  async lockMintFinished(tx: Queryable, limit: number): Promise<MoveDbRow[]> {
    const found = await tx.query<MoveDbRow>(
      `SELECT m.*, r.id AS mint_id, r.state AS mint_state FROM stablecoin.moves m
         JOIN stablecoin.mint_requests r ON r.move_id = m.id
        WHERE m.state = 'minting' AND r.state IN ('minted', 'failed')
        ORDER BY m.created_at, m.id LIMIT $1 FOR UPDATE OF m SKIP LOCKED`,
      [limit],
    );
    return found.rows;
  },

  async setExchange(tx: Queryable, id: string, exchangeId: string): Promise<void> {
    await tx.query("UPDATE stablecoin.moves SET exchange_id = $2 WHERE id = $1", [id, exchangeId]);
  },

  /** Renews a claim's lease (a worker repeats the ask of a crashed one, under the same reference). */
  async renewLease(tx: Queryable, id: string, until: Date, attempts: number): Promise<void> {
    await tx.query("UPDATE stablecoin.moves SET next_check_at = $2, attempts = $3, updated_at = now() WHERE id = $1", [id, until, attempts]);
  },

  /** The ledger could not answer now: note why and ask again after `ms`. */
  async retryLater(tx: Queryable, id: string, failure: { code: string; message: string }, ms: number): Promise<void> {
    await tx.query(
      "UPDATE stablecoin.moves SET failure_code = $2, failure_message = $3, next_check_at = now() + make_interval(secs => $4) WHERE id = $1 AND state = 'allotting'",
      [id, failure.code, failure.message, ms / 1000],
    );
  },

  async get(db: Queryable, id: string, exchangeId?: string): Promise<Move | undefined> {
    const found = await db.query<MoveDbRow>(`${SELECT_MOVES} WHERE m.id = $1 AND ($2::text IS NULL OR m.exchange_id = $2)`, [id, exchangeId ?? null]);
    return found.rows[0] ? moveFromRow(found.rows[0]) : undefined;
  },

  list(db: Queryable, filter: ListFilter): Promise<Page<Move>> {
    return keysetPage<MoveDbRow & { page_at: string }, Move>(
      db,
      {
        table: `(${SELECT_MOVES}) moves`,
        timeColumn: "created_at",
        idColumn: "id",
        ...filters([["exchange_id", filter.exchangeId], ["state", filter.state]]),
        limit: filter.limit,
        before: filter.before,
      },
      moveFromRow,
      (row) => row.id,
    );
  },
};

export const moveActionRows = {
  async insert(tx: Queryable, moveId: string, action: MoveAction): Promise<void> {
    await tx.query("INSERT INTO stablecoin.move_actions (move_id, action, principal_id, reason) VALUES ($1, $2, $3, $4)", [moveId, action.action, action.principalId, action.reason]);
  },

  async list(db: Queryable, moveId: string): Promise<Array<MoveAction & { at: Date }>> {
    const found = await db.query<{ action: "refund"; principal_id: string; reason: string; at: Date }>(
      "SELECT action, principal_id, reason, at FROM stablecoin.move_actions WHERE move_id = $1 ORDER BY at, id",
      [moveId],
    );
    return found.rows.map((row) => ({ action: row.action, principalId: row.principal_id, reason: row.reason, at: row.at }));
  },
};
