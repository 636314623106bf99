import { getAddress, type Address, type Hex } from "viem";
import { decodeCursor, pageAtColumn, pageOf, type Page } from "../core/paging.ts";
import type { LedgerEvent } from "../ledger/dt-ledger-port.ts";
import type { Queryable } from "../persistence/database.ts";
import type { Exchange, ExchangeStatus } from "./exchanges.ts";
import type { HoldReason, MintRequest } from "./mint-flow.ts";
import type { Redemption } from "./redeem-flow.ts";
import type { MintState, RedemptionState } from "./state-machines.ts";

/**
 * All of the stablecoin's SQL. Every function takes the transaction it runs in (or the database); the
 * flows decide what happens, this module only reads and writes rows. Lists page newest first by
 * (created_at, id) with an opaque cursor, so a page never skips or repeats an item.
 */

// ---- rows ------------------------------------------------------------------------------------------------

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
}

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

export const DEPOSIT_STATUSES = ["matched", "held", "returned"] as const;
export type DepositStatus = (typeof DEPOSIT_STATUSES)[number];

/** A DT payment into the collateral intake, as recorded (once per ledger event). */
export interface Deposit {
  eventId: string;
  ledgerTransactionId: string;
  fromAccount: string;
  amount: bigint;
  reference: string;
  height: bigint;
  bookedAt: Date;
  status: DepositStatus;
  holdReason: HoldReason | null;
  mintId: string | null;
  exchangeId: string | null;
  returnTransactionId: string | null;
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
});

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

// ---- paging ----------------------------------------------------------------------------------------------

export type { Page } from "../core/paging.ts";

export interface ListFilter {
  exchangeId?: string;
  state?: string;
  limit: number;
  /** The `next` of the previous page. */
  before?: string;
}

/**
 * Runs a keyset-paged query over `table`, newest first by (`timeColumn`, `idColumn`). `where` holds the
 * filters as SQL with `$n` placeholders for `params`.
 */
async function keysetPage<Row extends { page_at: string }, T>(
  db: Queryable,
  query: { table: string; timeColumn: string; idColumn: string; where: string[]; params: unknown[]; limit: number; before: string | undefined },
  fromRow: (row: Row) => T,
  idOf: (row: Row) => string,
): Promise<Page<T>> {
  const where = [...query.where];
  const params = [...query.params];
  if (query.before !== undefined) {
    const { at, id } = decodeCursor(query.before);
    params.push(at, id);
    where.push(`(${query.timeColumn}, ${query.idColumn}) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  params.push(query.limit + 1);
  const found = await db.query<Row>(
    `SELECT *, ${pageAtColumn(query.timeColumn)} FROM ${query.table}
      ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY ${query.timeColumn} DESC, ${query.idColumn} DESC LIMIT $${params.length}`,
    params,
  );
  return pageOf(found.rows, query.limit, idOf, fromRow);
}

/** `column = value` for each pair whose value is given, as SQL with placeholders and their params. */
function filters(pairs: Array<[column: string, value: string | undefined]>): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of pairs) {
    if (value === undefined) continue;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  }
  return { where, params };
}

// ---- transitions -----------------------------------------------------------------------------------------

/** Columns a transition may set besides the state, per table. */
export interface MintPatch {
  deposit_event_id?: string;
  deposited_at?: Date;
  next_check_at?: Date;
  statement?: string;
  attempts?: number;
  submitted_at?: Date;
  minted_tx_hash?: Hex;
  minted_block?: bigint;
  minted_at?: Date;
  failure_code?: string | null;
  failure_message?: string | null;
}

export interface RedemptionPatch {
  next_check_at?: Date;
  attempts?: number;
  payout_transaction_id?: string;
  paid_at?: Date;
  failure_code?: string | null;
  failure_message?: string | null;
  dt_account?: string;
}

export type TransitionTarget = { table: "stablecoin.mint_requests"; id: string; patch?: MintPatch } | { table: "stablecoin.redemptions"; id: string; patch?: RedemptionPatch };

/**
 * Moves one row to `to`, setting `target.patch` too, if and only if it is in one of `from`. Returns false
 * when it is not (another worker got there first).
 */
export async function moveState(tx: Queryable, target: TransitionTarget, from: readonly string[], to: string): Promise<boolean> {
  const patch: Record<string, unknown> = { ...target.patch };
  const columns = Object.keys(patch);
  const assignments = columns.map((column, index) => `, ${column} = $${index + 4}`).join("");
  const result = await tx.query(
    `UPDATE ${target.table} SET state = $2, version = version + 1, updated_at = now()${assignments} WHERE id = $1 AND state = ANY($3::text[])`,
    [target.id, to, from, ...columns.map((column) => patch[column])],
  );
  return result.rowCount === 1;
}

// ---- exchanges -------------------------------------------------------------------------------------------

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

/** Tiyn of the exchange's deposits matched to mints since the start of the UTC day. */
export async function mintedToday(db: Queryable, exchangeId: string, at: Date): Promise<bigint> {
  const found = await db.query<{ total: bigint | null }>(
    "SELECT sum(amount)::int8 AS total FROM stablecoin.deposits WHERE exchange_id = $1 AND status = 'matched' AND booked_at >= $2",
    [exchangeId, utcDayStart(at)],
  );
  return BigInt(found.rows[0]?.total ?? 0n);
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

// ---- mint requests ---------------------------------------------------------------------------------------

/** A request joined with its exchange's current status and limits (to match a deposit). */
export type MintRowWithExchange = MintRow & { dt_account: string; status: ExchangeStatus; per_mint_limit: bigint; daily_limit: bigint };

export const mintRows = {
  async insert(tx: Queryable, request: { id: string; reference: string; exchangeId: string; amount: bigint; toAddress: Address }): Promise<MintRequest> {
    const inserted = await tx.query<MintRow>(
      `INSERT INTO stablecoin.mint_requests (id, reference, exchange_id, amount, to_address, state)
       VALUES ($1, $2, $3, $4, $5, 'awaiting_deposit') RETURNING *`,
      [request.id, request.reference, request.exchangeId, request.amount, request.toAddress],
    );
    return mintFromRow(inserted.rows[0]!);
  },

  /** A re-mint of a refused redemption: no deposit to wait for, so it starts deposited. */
  async insertRemint(tx: Queryable, request: { id: string; reference: string; exchangeId: string; amount: bigint; toAddress: Address; redemptionId: string }): Promise<MintRequest> {
    const inserted = await tx.query<MintRow>(
      `INSERT INTO stablecoin.mint_requests (id, reference, exchange_id, amount, to_address, state, deposited_at, reverses_redemption)
       VALUES ($1, $2, $3, $4, $5, 'deposited', now(), $6) RETURNING *`,
      [request.id, request.reference, request.exchangeId, request.amount, request.toAddress, request.redemptionId],
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
      { table: "stablecoin.mint_requests", timeColumn: "created_at", idColumn: "id", ...filters([["exchange_id", filter.exchangeId], ["state", filter.state]]), limit: filter.limit, before: filter.before },
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

  /** Locks the request most due for a worker step: submitted first, then signed, then deposited. */
  async lockNextDue(tx: Queryable): Promise<MintRow | undefined> {
    const found = await tx.query<MintRow>(
      `SELECT * FROM stablecoin.mint_requests
        WHERE state IN ('deposited', 'signed', 'submitted') AND next_check_at <= now()
        ORDER BY CASE state WHEN 'submitted' THEN 0 WHEN 'signed' THEN 1 ELSE 2 END, deposited_at, id
        LIMIT 1 FOR UPDATE SKIP LOCKED`,
    );
    return found.rows[0];
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

// ---- mint transactions and minter nonces -----------------------------------------------------------------

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
  /** Locks the minter's row (created on first use): nonce allocation one at a time across every process. */
  async lock(tx: Queryable, minter: Address): Promise<{ nextNonce: bigint; statementHeight: bigint }> {
    await tx.query("INSERT INTO stablecoin.minter_nonces (minter, next_nonce) VALUES ($1, 0) ON CONFLICT DO NOTHING", [minter]);
    const found = await tx.query<{ next_nonce: bigint; statement_height: bigint }>(
      "SELECT next_nonce, statement_height FROM stablecoin.minter_nonces WHERE minter = $1 FOR UPDATE",
      [minter],
    );
    return { nextNonce: BigInt(found.rows[0]!.next_nonce), statementHeight: BigInt(found.rows[0]!.statement_height) };
  },

  async set(tx: Queryable, minter: Address, nextNonce: bigint, statementHeight: bigint): Promise<void> {
    await tx.query("UPDATE stablecoin.minter_nonces SET next_nonce = $2, statement_height = $3 WHERE minter = $1", [minter, nextNonce, statementHeight]);
  },

  /** Forgets statements above the one the token accepted (their transactions were not mined). */
  async lowerStatementHeight(tx: Queryable, minter: Address, accepted: bigint): Promise<void> {
    await tx.query("UPDATE stablecoin.minter_nonces SET statement_height = LEAST(statement_height, $2) WHERE minter = $1", [minter, accepted]);
  },
};

// ---- deposits --------------------------------------------------------------------------------------------

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

// ---- redemptions -----------------------------------------------------------------------------------------

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

  async lockSeen(tx: Queryable, limit: number): Promise<RedemptionRow[]> {
    return (await tx.query<RedemptionRow>("SELECT * FROM stablecoin.redemptions WHERE state = 'seen' ORDER BY block_number, log_index LIMIT $1 FOR UPDATE SKIP LOCKED", [limit])).rows;
  },

  /** Locks the first confirmed, or claimed with an expired lease, redemption in chain order. */
  async lockNextPayable(tx: Queryable): Promise<RedemptionRow | undefined> {
    const found = await tx.query<RedemptionRow>(
      `SELECT * FROM stablecoin.redemptions WHERE state IN ('confirmed', 'paying') AND next_check_at <= now()
        ORDER BY block_number, log_index LIMIT 1 FOR UPDATE SKIP LOCKED`,
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
      { table: "stablecoin.redemptions", timeColumn: "created_at", idColumn: "id", ...filters([["exchange_id", filter.exchangeId], ["state", filter.state]]), limit: filter.limit, before: filter.before },
      redemptionFromRow,
      (row) => row.id,
    );
  },

  async countFailed(db: Queryable): Promise<number> {
    const found = await db.query<{ count: bigint }>("SELECT count(*)::int8 AS count FROM stablecoin.redemptions WHERE state = 'failed'");
    return Number(found.rows[0]?.count ?? 0);
  },
};

export type RedemptionAction =
  | { action: "rerouted"; principalId: string; fromDtAccount: string; toDtAccount: string }
  | { action: "reminted"; principalId: string; fromDtAccount: string; mintId: string };

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

// ---- follower cursors ------------------------------------------------------------------------------------

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
