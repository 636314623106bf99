import { getAddress, type Address, type Hex } from "viem";
import type { Queryable } from "../../persistence/database.ts";
import type { ExchangeStatus, MintPatch, MintRequest, MintState } from "../model.ts";
import { moveRow } from "./move-row.ts";
import { filters, keysetPage, type ListFilter, type Page } from "./paging.ts";
import { utcDayStart } from "./exchanges.ts";

/** The mint requests, their signed transactions and the minters' nonces. */

export interface MintRow {
  id: string;
  reference: string;
  exchange_id: string;
  amount: bigint;
  to_address: string;
  state: MintState;
  deposit_event_id: string | null;
  minted_tx_hash: string | null;
  minted_block: bigint | null;
  attempts: number;
  failure_code: string | null;
  failure_message: string | null;
  created_at: Date;
  updated_at: Date;
  deposited_at: Date | null;
  minted_at: Date | null;
  submitted_at: Date | null;
  reverses_redemption: string | null;
  /** NULL: written before migration 0004, so the first configured chain's (adopted at start). */
  chain_id: bigint | null;
  move_id: string | null;
}

export const mintFromRow = (row: MintRow): MintRequest => ({
  id: row.id,
  reference: row.reference,
  exchangeId: row.exchange_id,
  amount: BigInt(row.amount),
  toAddress: getAddress(row.to_address),
  state: row.state,
  depositEventId: row.deposit_event_id,
  mintedTxHash: row.minted_tx_hash as Hex | null,
  mintedBlock: row.minted_block === null ? null : BigInt(row.minted_block),
  attempts: row.attempts,
  failureCode: row.failure_code,
  failureMessage: row.failure_message,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  depositedAt: row.deposited_at,
  mintedAt: row.minted_at,
  reversesRedemption: row.reverses_redemption,
  chainId: row.chain_id === null ? null : Number(row.chain_id),
  moveId: row.move_id ?? null,
});

/** The column of each field a mint transition may set. */
const MINT_COLUMNS: { readonly [K in keyof Required<MintPatch>]: string } = {
  depositEventId: "deposit_event_id",
  depositedAt: "deposited_at",
  nextCheckAt: "next_check_at",
  statement: "statement",
  attempts: "attempts",
  submittedAt: "submitted_at",
  mintedTxHash: "minted_tx_hash",
  mintedBlock: "minted_block",
  mintedAt: "minted_at",
  failureCode: "failure_code",
  failureMessage: "failure_message",
};

/** Moves a mint request from one of `from` to `to` with the patch; false when it was not in one of them. */
export function moveMintRow(tx: Queryable, id: string, patch: MintPatch, from: readonly MintState[], to: MintState): Promise<boolean> {
  return moveRow(tx, { table: "stablecoin.mint_requests", id, patch, columns: MINT_COLUMNS }, from, to);
}

/** Tiyn of the exchange's open and completed mint requests created since the start of the UTC day (re-mints aside). */
export async function requestedToday(db: Queryable, exchangeId: string, at: Date): Promise<bigint> {
  const found = await db.query<{ total: bigint | null }>(
    `SELECT sum(amount)::int8 AS total FROM stablecoin.mint_requests
      WHERE exchange_id = $1 AND created_at >= $2 AND state NOT IN ('cancelled', 'failed') AND reverses_redemption IS NULL`,
    [exchangeId, utcDayStart(at)],
  );
  return BigInt(found.rows[0]?.total ?? 0n);
}

/** A request joined with its exchange's current status and limits (to match a deposit). */
export type MintRowWithExchange = MintRow & { dt_account: string; status: ExchangeStatus; per_mint_limit: bigint; daily_limit: bigint };

export const mintRows = {
  async insert(tx: Queryable, request: { id: string; reference: string; exchangeId: string; amount: bigint; toAddress: Address; chainId: number | undefined }): Promise<MintRequest> {
    const inserted = await tx.query<MintRow>(
      `INSERT INTO stablecoin.mint_requests (id, reference, exchange_id, amount, to_address, state, chain_id)
       VALUES ($1, $2, $3, $4, $5, 'awaiting_deposit', $6) RETURNING *`,
      [request.id, request.reference, request.exchangeId, request.amount, request.toAddress, request.chainId ?? null],
    );
    return mintFromRow(inserted.rows[0]!);
  },

  /** A re-mint of a refused redemption: no deposit to wait for, so it starts deposited. */
  async insertRemint(tx: Queryable, request: { id: string; reference: string; exchangeId: string; amount: bigint; toAddress: Address; redemptionId: string }): Promise<MintRequest> {
    const inserted = await tx.query<MintRow>(
      `INSERT INTO stablecoin.mint_requests (id, reference, exchange_id, amount, to_address, state, deposited_at, reverses_redemption, chain_id)
       VALUES ($1, $2, $3, $4, $5, 'deposited', now(), $6, (SELECT chain_id FROM stablecoin.redemptions WHERE id = $6)) RETURNING *`,
      [request.id, request.reference, request.exchangeId, request.amount, request.toAddress, request.redemptionId],
    );
    return mintFromRow(inserted.rows[0]!);
  },

  /** The mint that completes a move, on its target chain: no deposit to wait for, so it starts deposited. */
  async insertForMove(tx: Queryable, request: { id: string; reference: string; exchangeId: string; amount: bigint; toAddress: Address; moveId: string; chainId: number }): Promise<MintRequest> {
    const inserted = await tx.query<MintRow>(
      `INSERT INTO stablecoin.mint_requests (id, reference, exchange_id, amount, to_address, state, deposited_at, move_id, chain_id)
       VALUES ($1, $2, $3, $4, $5, 'deposited', now(), $6, $7) RETURNING *`,
      [request.id, request.reference, request.exchangeId, request.amount, request.toAddress, request.moveId, request.chainId],
    );
    return mintFromRow(inserted.rows[0]!);
  },

  async get(db: Queryable, id: string, exchangeId?: string): Promise<MintRequest | undefined> {
    const found = await db.query<MintRow>("SELECT * FROM stablecoin.mint_requests WHERE id = $1 AND ($2::text IS NULL OR exchange_id = $2)", [id, exchangeId ?? null]);
    return found.rows[0] ? mintFromRow(found.rows[0]) : undefined;
  },

  list(db: Queryable, filter: ListFilter): Promise<Page<MintRequest>> {
    return keysetPage<MintRow & { page_at: string }, MintRequest>(
      db,
      { table: "stablecoin.mint_requests", timeColumn: "created_at", idColumn: "id", ...filters([["exchange_id", filter.exchangeId], ["state", filter.state], ["chain_id", filter.chainId?.toString()]]), limit: filter.limit, before: filter.before },
      mintFromRow,
      (row) => row.id,
    );
  },

  /** Locks the requests still unpaid that were opened at or before `openedBy`. */
  async lockUnpaidOpenedBy(tx: Queryable, openedBy: Date): Promise<string[]> {
    const due = await tx.query<{ id: string }>(
      "SELECT id FROM stablecoin.mint_requests WHERE state = 'awaiting_deposit' AND created_at <= $1 FOR UPDATE SKIP LOCKED",
      [openedBy],
    );
    return due.rows.map((row) => row.id);
  },

  /** Locks the request with this reference and its exchange. */
  async lockByReference(tx: Queryable, reference: string): Promise<MintRowWithExchange | undefined> {
    const found = await tx.query<MintRowWithExchange>(
      `SELECT m.*, e.dt_account, e.status, e.per_mint_limit, e.daily_limit
         FROM stablecoin.mint_requests m JOIN stablecoin.exchanges e ON e.id = m.exchange_id
        WHERE m.reference = $1 FOR UPDATE OF m, e`,
      [reference],
    );
    return found.rows[0];
  },

  /**
   * Locks the chain's request most due for a worker step: submitted first, then signed, then deposited.
   * `orUnnamed`: the first chain's worker also takes requests from before migration 0004 (chain id NULL).
   */
  async lockNextDue(tx: Queryable, chainId: number, orUnnamed: boolean): Promise<MintRow | undefined> {
    const found = await tx.query<MintRow>(
      `SELECT * FROM stablecoin.mint_requests
        WHERE state IN ('deposited', 'signed', 'submitted') AND next_check_at <= now() AND (chain_id = $1 OR ($2 AND chain_id IS NULL))
        ORDER BY CASE state WHEN 'submitted' THEN 0 WHEN 'signed' THEN 1 ELSE 2 END, deposited_at, id
        LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [chainId, orUnnamed],
    );
    return found.rows[0];
  },

  /** Gives the requests from before migration 0004 (chain id NULL) to the first configured chain; returns how many. */
  async adoptUnnamed(db: Queryable, chainId: number): Promise<number> {
    const updated = await db.query("UPDATE stablecoin.mint_requests SET chain_id = $1 WHERE chain_id IS NULL", [chainId]);
    return updated.rowCount;
  },

  async lockDeposited(tx: Queryable, id: string): Promise<MintRow | undefined> {
    const found = await tx.query<MintRow>("SELECT * FROM stablecoin.mint_requests WHERE id = $1 AND state = 'deposited' FOR UPDATE SKIP LOCKED", [id]);
    return found.rows[0];
  },

  /** A signed mint that cannot be sent for an operator-fixable reason: the code shows on the request, retried after `ms`. */
  async markStuck(tx: Queryable, id: string, code: string, message: string, ms: number): Promise<void> {
    await tx.query(
      "UPDATE stablecoin.mint_requests SET failure_code = $2, failure_message = $3, next_check_at = now() + make_interval(secs => $4) WHERE id = $1 AND state = 'signed'",
      [id, code, message, ms / 1000],
    );
  },

  /** A request of any unfinished state that cannot progress for an operator-fixable reason: the code shows on it, retried after `ms`. */
  async markFault(tx: Queryable, id: string, code: string, message: string, ms: number): Promise<void> {
    await tx.query(
      "UPDATE stablecoin.mint_requests SET failure_code = $2, failure_message = $3, next_check_at = now() + make_interval(secs => $4) WHERE id = $1 AND state IN ('deposited', 'signed', 'submitted')",
      [id, code, message, ms / 1000],
    );
  },

  /** The request progressed again: its operator-fixable failure is over (a final failure keeps its own code). */
  async clearFault(tx: Queryable, id: string): Promise<void> {
    await tx.query("UPDATE stablecoin.mint_requests SET failure_code = NULL, failure_message = NULL WHERE id = $1 AND state <> 'failed'", [id]);
  },

  async checkAgainIn(tx: Queryable, id: string, ms: number): Promise<void> {
    await tx.query("UPDATE stablecoin.mint_requests SET next_check_at = now() + make_interval(secs => $2) WHERE id = $1", [id, ms / 1000]);
  },

  /** The statement recorded with the request's mint transaction (JSON). */
  async statement(tx: Queryable, id: string): Promise<unknown> {
    const found = await tx.query<{ statement: unknown }>("SELECT statement FROM stablecoin.mint_requests WHERE id = $1", [id]);
    return found.rows[0]?.statement ?? null;
  },
};

export interface RecordedMintTransaction {
  hash: Hex;
  nonce: bigint;
  raw: Hex;
  createdAt: Date;
}

export const mintTransactionRows = {
  async insert(tx: Queryable, transaction: { hash: Hex; mintId: string; minter: Address; nonce: bigint; raw: Hex }): Promise<void> {
    await tx.query("INSERT INTO stablecoin.mint_transactions (hash, mint_id, minter, nonce, raw) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", [
      transaction.hash,
      transaction.mintId,
      transaction.minter,
      transaction.nonce,
      transaction.raw,
    ]);
  },

  /** The request's transactions not yet reconciled, oldest first. */
  async pending(tx: Queryable, mintId: string): Promise<RecordedMintTransaction[]> {
    const found = await tx.query<{ hash: Hex; nonce: bigint; raw: Hex; created_at: Date }>(
      "SELECT hash, nonce, raw, created_at FROM stablecoin.mint_transactions WHERE mint_id = $1 AND outcome = 'pending' ORDER BY created_at, hash",
      [mintId],
    );
    return found.rows.map((row) => ({ hash: row.hash, nonce: BigInt(row.nonce), raw: row.raw, createdAt: row.created_at }));
  },

  /** The mined one is 'mined', every other pending one 'dropped'. */
  async settle(tx: Queryable, mintId: string, mined: Hex): Promise<void> {
    await tx.query("UPDATE stablecoin.mint_transactions SET outcome = CASE WHEN hash = $2 THEN 'mined' ELSE 'dropped' END WHERE mint_id = $1 AND outcome = 'pending'", [
      mintId,
      mined,
    ]);
  },

  async markReverted(tx: Queryable, hash: Hex): Promise<void> {
    await tx.query("UPDATE stablecoin.mint_transactions SET outcome = 'reverted' WHERE hash = $1", [hash]);
  },

  async dropPending(tx: Queryable, mintId: string): Promise<void> {
    await tx.query("UPDATE stablecoin.mint_transactions SET outcome = 'dropped' WHERE mint_id = $1 AND outcome = 'pending'", [mintId]);
  },
};

export const minterNonceRows = {
  /** Locks the minter's row on the chain (created on first use): nonce allocation one at a time across every process. */
  async lock(tx: Queryable, chainId: number, minter: Address): Promise<{ nextNonce: bigint; statementHeight: bigint }> {
    await tx.query("INSERT INTO stablecoin.minter_nonces (chain_id, minter, next_nonce) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING", [chainId, minter]);
    const found = await tx.query<{ next_nonce: bigint; statement_height: bigint }>(
      "SELECT next_nonce, statement_height FROM stablecoin.minter_nonces WHERE chain_id = $1 AND minter = $2 FOR UPDATE",
      [chainId, minter],
    );
    return { nextNonce: BigInt(found.rows[0]!.next_nonce), statementHeight: BigInt(found.rows[0]!.statement_height) };
  },

  async set(tx: Queryable, chainId: number, minter: Address, nextNonce: bigint, statementHeight: bigint): Promise<void> {
    await tx.query("UPDATE stablecoin.minter_nonces SET next_nonce = $3, statement_height = $4 WHERE chain_id = $1 AND minter = $2", [chainId, minter, nextNonce, statementHeight]);
  },

  /** Forgets statements above the one the token accepted (their transactions were not mined). */
  async lowerStatementHeight(tx: Queryable, chainId: number, minter: Address, accepted: bigint): Promise<void> {
    await tx.query("UPDATE stablecoin.minter_nonces SET statement_height = LEAST(statement_height, $3) WHERE chain_id = $1 AND minter = $2", [chainId, minter, accepted]);
  },

  /** Gives the rows from before migration 0004 (chain 0) to the first configured chain, unless it has its own already. */
  async adoptUnnamed(db: Queryable, chainId: number): Promise<void> {
    await db.query(
      `UPDATE stablecoin.minter_nonces old SET chain_id = $1 WHERE old.chain_id = 0
         AND NOT EXISTS (SELECT 1 FROM stablecoin.minter_nonces own WHERE own.chain_id = $1 AND own.minter = old.minter)`,
      [chainId],
    );
  },
};

