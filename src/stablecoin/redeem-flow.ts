import { getAddress, type Address, type Hex } from "viem";
import { isDtLedgerError } from "../ledger/dt-ledger-port.ts";
import type { Database, Queryable } from "../persistence/database.ts";
import type { Faults, StablecoinLedger } from "./stablecoin-ledger.ts";
import { applyTransition, redemptionTransitions, type RedemptionState } from "./state-machines.ts";
import type { TokenChain } from "./token-chain.ts";

export interface Redemption {
  id: string;
  chainId: number;
  txHash: Hex;
  logIndex: number;
  blockNumber: bigint;
  blockHash: Hex;
  holder: Address;
  amount: bigint;
  dtAccount: string;
  exchangeId: string | null;
  state: RedemptionState;
  payoutTransactionId: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  attempts: number;
  createdAt: Date;
  paidAt: Date | null;
}

interface RedemptionRow {
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

/** The idempotency key of a redemption: the chain's own name for the log. */
export function redemptionId(chainId: number, txHash: Hex, logIndex: number): string {
  return `${chainId}:${txHash.toLowerCase()}:${logIndex}`;
}

export interface RedeemSettings {
  segregatedAccount: string;
  /** Blocks a Redeemed log needs before it is paid (1 = its own block). */
  confirmations: number;
  /** Blocks scanned again on every pass, to notice logs that a reorganisation moved. */
  reorgWindow: number;
  /** First block to scan (the token's deployment block). */
  startBlock: bigint;
  /** Most blocks asked for in one getLogs call. */
  maxBlockRange: bigint;
  /** Pause before a payment the ledger could not take (unavailable) is tried again. */
  retryMs: number;
  /** How long a claimed payout belongs to the worker that claimed it before another may repeat it. */
  payLeaseMs: number;
}

export interface RedeemWorkerOptions {
  db: Database;
  ledger: StablecoinLedger;
  chain: TokenChain;
  settings: RedeemSettings;
  faults?: Faults;
  onPaid?(redemption: Redemption): void;
  onFailed?(redemption: Redemption): void;
}

/** DT ledger refusals that retrying will not fix; kept as failed for an operator. */
const PERMANENT_REFUSALS = new Set([
  "UNKNOWN_ACCOUNT",
  "ACCOUNT_CLOSED",
  "FORBIDDEN_ACCOUNT",
  "FORBIDDEN_OPERATION",
  "INVALID_REQUEST",
  "INVALID_AMOUNT",
  "INSUFFICIENT_FUNDS",
  "SAME_ACCOUNT",
  "IDEMPOTENCY_CONFLICT",
]);

/**
 * Pays DT for burned stablecoin, exactly once per Redeemed log. Three steps, each one transaction:
 * scan (record logs up to the head, re-reading the last `reorgWindow` blocks), confirm (enough blocks on
 * top and the log's block still canonical; otherwise the log is marked removed and never paid), and pay
 * (a DT transfer whose idempotency key is chain id + transaction hash + log index, so a retry after a crash
 * returns the first payment instead of paying twice).
 */
export class RedeemWorker {
  readonly #options: RedeemWorkerOptions;

  constructor(options: RedeemWorkerOptions) {
    this.#options = options;
  }

  get #cursorName(): string {
    return `redeem-scan:${this.#options.chain.chainId}:${this.#options.chain.token.toLowerCase()}`;
  }

  /** Runs scan, confirm and pay until nothing is left to do now. */
  async drain(): Promise<number> {
    let done = 0;
    while ((await this.scan()) > 0) done++;
    for (;;) {
      const confirmed = await this.confirm();
      const paid = await this.pay();
      // A ledger that cannot take the payment now is tried again on a later pass, not in a tight loop.
      if ((confirmed === 0 && paid === "idle") || paid === "retry") break;
      done++;
    }
    return done;
  }

  /** Records new Redeemed logs; returns how many new or moved logs it saw. */
  async scan(): Promise<number> {
    const { db, chain, settings, faults } = this.#options;
    const head = await chain.head();
    const scanned = (await db.query<{ position: string }>("SELECT position FROM stablecoin.cursors WHERE name = $1", [this.#cursorName])).rows[0];
    const last = scanned ? BigInt(scanned.position) : settings.startBlock - 1n;
    let from = last - BigInt(settings.reorgWindow) + 1n;
    if (from < settings.startBlock) from = settings.startBlock;
    if (from > head) return 0;
    const to = head - from + 1n > settings.maxBlockRange ? from + settings.maxBlockRange - 1n : head;
    const logs = await chain.redeemedLogs(from, to);
    return db.transaction(async (tx) => {
      let changed = 0;
      for (const log of logs) {
        const id = redemptionId(chain.chainId, log.txHash, log.logIndex);
        const inserted = await tx.query(
          `INSERT INTO stablecoin.redemptions (id, chain_id, tx_hash, log_index, block_number, block_hash, holder, amount, dt_account, exchange_id, state)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, (SELECT id FROM stablecoin.exchanges WHERE $7 = ANY(evm_addresses)), 'seen')
           ON CONFLICT (id) DO NOTHING`,
          [id, chain.chainId, log.txHash.toLowerCase(), log.logIndex, log.blockNumber, log.blockHash, log.holder, log.amount, log.dtAccount],
        );
        if (inserted.rowCount === 1) {
          changed++;
          continue;
        }
        // Known log now in another block (a reorganisation re-mined it): follow it; a paid one stays paid.
        const moved = await tx.query(
          `UPDATE stablecoin.redemptions SET block_number = $2, block_hash = $3, updated_at = now()
            WHERE id = $1 AND block_hash <> $3 AND state IN ('seen', 'removed')`,
          [id, log.blockNumber, log.blockHash],
        );
        if (moved.rowCount === 1) {
          await applyTransition(tx, { table: "stablecoin.redemptions", id }, redemptionTransitions, "reappeared");
          changed++;
        }
      }
      await tx.query(
        `INSERT INTO stablecoin.cursors (name, position) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET position = GREATEST(stablecoin.cursors.position::numeric, excluded.position::numeric)::text, updated_at = now()`,
        [this.#cursorName, to.toString()],
      );
      faults?.("redeem.scan.before-commit");
      return changed + (to > last ? 1 : 0);
    });
  }

  /** Confirms or removes seen logs; returns how many changed state. */
  async confirm(): Promise<number> {
    const { db, chain, settings, faults } = this.#options;
    return db.transaction(async (tx) => {
      const rows = (
        await tx.query<RedemptionRow>("SELECT * FROM stablecoin.redemptions WHERE state = 'seen' ORDER BY block_number, log_index LIMIT 50 FOR UPDATE SKIP LOCKED")
      ).rows;
      if (rows.length === 0) return 0;
      const head = await chain.head();
      let changed = 0;
      for (const row of rows) {
        const canonical = await this.#isCanonical(row);
        if (!canonical) {
          await applyTransition(tx, { table: "stablecoin.redemptions", id: row.id }, redemptionTransitions, "removed");
          changed++;
        } else if (head - BigInt(row.block_number) + 1n >= BigInt(settings.confirmations)) {
          await applyTransition(tx, { table: "stablecoin.redemptions", id: row.id }, redemptionTransitions, "confirmed");
          changed++;
        }
      }
      faults?.("redeem.confirm.before-commit");
      return changed;
    });
  }

  /**
   * Pays one confirmed redemption in three moves, so the DT ledger is never called inside a database
   * transaction: claim it (confirmed -> paying, with a lease), transfer with the redemption's idempotency
   * key, record the outcome (paying -> paid or failed). A process that dies after the transfer leaves the
   * claim; once the lease runs out another worker repeats the transfer with the same key and the ledger
   * returns the first payment instead of paying again.
   */
  async pay(): Promise<"idle" | "paid" | "failed" | "removed" | "retry"> {
    const { db, ledger, settings, faults } = this.#options;
    const notices: Array<() => void> = [];
    const claimed = await db.transaction(async (tx) => {
      notices.length = 0;
      const row = (
        await tx.query<RedemptionRow>(
          `SELECT * FROM stablecoin.redemptions WHERE state IN ('confirmed', 'paying') AND next_check_at <= now()
            ORDER BY block_number, log_index LIMIT 1 FOR UPDATE SKIP LOCKED`,
        )
      ).rows[0];
      if (!row) return "idle" as const;
      if (row.state === "confirmed") {
        // Checked again right before paying: a reorganisation deeper than the confirmations still wins.
        if (!(await this.#isCanonical(row))) {
          await applyTransition(tx, { table: "stablecoin.redemptions", id: row.id }, redemptionTransitions, "removed");
          return "removed" as const;
        }
        if (!row.exchange_id) {
          const exchange = await exchangeOf(tx, row.holder);
          if (!exchange) return this.#fail(tx, row, "HOLDER_NOT_ONBOARDED", `${row.holder} is not a registered exchange address`, (r) => notices.push(r));
          await tx.query("UPDATE stablecoin.redemptions SET exchange_id = $2 WHERE id = $1", [row.id, exchange]);
        }
      }
      const lease = { next_check_at: new Date(Date.now() + settings.payLeaseMs), attempts: row.attempts + 1 };
      if (row.state === "confirmed") {
        await applyTransition(tx, { table: "stablecoin.redemptions", id: row.id }, redemptionTransitions, "claimed", lease);
      } else {
        await tx.query("UPDATE stablecoin.redemptions SET next_check_at = $2, attempts = $3, updated_at = now() WHERE id = $1", [row.id, lease.next_check_at, lease.attempts]);
      }
      return row;
    });
    for (const notice of notices.splice(0)) notice();
    if (typeof claimed === "string") return claimed;
    const row = claimed;
    let outcome: { receipt: { transactionId: string } } | { error: unknown };
    try {
      outcome = {
        receipt: await ledger.transfer({
          idempotencyKey: `redeem:${row.id}`,
          from: settings.segregatedAccount,
          to: row.dt_account,
          amount: BigInt(row.amount),
          reference: `REDEEM ${row.tx_hash.slice(0, 18)}/${row.log_index}`,
        }),
      };
    } catch (error) {
      outcome = { error };
    }
    faults?.("redeem.pay.after-transfer");
    const result = await db.transaction(async (tx) => {
      notices.length = 0;
      if ("receipt" in outcome) {
        const paidAt = new Date();
        const moved = await applyTransition(tx, { table: "stablecoin.redemptions", id: row.id }, redemptionTransitions, "paid", {
          payout_transaction_id: outcome.receipt.transactionId,
          paid_at: paidAt,
          failure_code: null,
          failure_message: null,
        });
        if (!moved) return "idle" as const;
        const paid = redemptionFromRow({ ...row, state: "paid", payout_transaction_id: outcome.receipt.transactionId, paid_at: paidAt });
        notices.push(() => this.#options.onPaid?.(paid));
        return "paid" as const;
      }
      const error = outcome.error;
      if (isDtLedgerError(error) && PERMANENT_REFUSALS.has(error.code)) {
        return this.#fail(tx, { ...row, state: "paying" }, error.code, error.message, (r) => notices.push(r));
      }
      // Unavailable ledger or network trouble: the same idempotency key is used again later.
      await tx.query(
        "UPDATE stablecoin.redemptions SET failure_code = $2, failure_message = $3, next_check_at = now() + make_interval(secs => $4) WHERE id = $1 AND state = 'paying'",
        [row.id, isDtLedgerError(error) ? error.code : "LEDGER_UNREACHABLE", String((error as Error).message).slice(0, 500), settings.retryMs / 1000],
      );
      return "retry" as const;
    });
    for (const notice of notices.splice(0)) notice();
    return result;
  }

  async #fail(tx: Queryable, row: RedemptionRow, code: string, message: string, setNotice: (notice: () => void) => void): Promise<"failed"> {
    await applyTransition(tx, { table: "stablecoin.redemptions", id: row.id }, redemptionTransitions, "failed", {
      failure_code: code,
      failure_message: message.slice(0, 500),
    });
    const failed = redemptionFromRow({ ...row, state: "failed", failure_code: code, failure_message: message });
    setNotice(() => this.#options.onFailed?.(failed));
    return "failed";
  }

  /** The log's block is still in the chain and the transaction's receipt still carries the log there. */
  async #isCanonical(row: RedemptionRow): Promise<boolean> {
    const { chain } = this.#options;
    const hash = await chain.blockHash(BigInt(row.block_number));
    if (!hash || hash.toLowerCase() !== row.block_hash.toLowerCase()) return false;
    const receipt = await chain.receipt(row.tx_hash as Hex);
    if (!receipt || receipt.status !== "success" || receipt.blockHash.toLowerCase() !== row.block_hash.toLowerCase()) return false;
    return receipt.logs.some((log) => log.logIndex === row.log_index && log.address.toLowerCase() === chain.token.toLowerCase());
  }
}

async function exchangeOf(tx: Queryable, holder: string): Promise<string | undefined> {
  const found = await tx.query<{ id: string }>("SELECT id FROM stablecoin.exchanges WHERE $1 = ANY(evm_addresses)", [getAddress(holder)]);
  return found.rows[0]?.id;
}

/** An operator asks to pay a failed redemption again (after the cause is fixed). */
/**
 * An operator re-routes a failed payout to a corrected DT account: the state change and its audit record
 * commit together, and only from `failed`, so a second or concurrent re-route finds nothing to move. The
 * payout keeps its idempotency key: had the first attempt reached the ledger after all, the ledger refuses a
 * different payment under the same key instead of paying twice.
 */
export async function rerouteRedemption(db: Database, id: string, toDtAccount: string, principalId: string): Promise<Redemption | undefined> {
  return db.transaction(async (tx) => {
    const current = (await tx.query<RedemptionRow>("SELECT * FROM stablecoin.redemptions WHERE id = $1 AND state = 'failed' FOR UPDATE", [id])).rows[0];
    if (!current) return undefined;
    const moved = await applyTransition(tx, { table: "stablecoin.redemptions", id }, redemptionTransitions, "rerouted", {
      dt_account: toDtAccount,
      next_check_at: new Date(),
    });
    if (!moved) return undefined;
    await tx.query(
      "INSERT INTO stablecoin.redemption_actions (redemption_id, action, principal_id, from_dt_account, to_dt_account) VALUES ($1, 'rerouted', $2, $3, $4)",
      [id, principalId, current.dt_account, toDtAccount],
    );
    const row = (await tx.query<RedemptionRow>("SELECT * FROM stablecoin.redemptions WHERE id = $1", [id])).rows[0]!;
    return redemptionFromRow(row);
  });
}

/** The operator actions recorded on a redemption, oldest first. */
export async function redemptionActions(db: Queryable, id: string): Promise<Array<{ action: string; principalId: string; fromDtAccount: string; toDtAccount: string; at: Date }>> {
  const rows = await db.query<{ action: string; principal_id: string; from_dt_account: string; to_dt_account: string; at: Date }>(
    "SELECT action, principal_id, from_dt_account, to_dt_account, at FROM stablecoin.redemption_actions WHERE redemption_id = $1 ORDER BY id",
    [id],
  );
  return rows.rows.map((row) => ({ action: row.action, principalId: row.principal_id, fromDtAccount: row.from_dt_account, toDtAccount: row.to_dt_account, at: row.at }));
}

export async function retryRedemption(db: Database, id: string): Promise<boolean> {
  return db.transaction((tx) => applyTransition(tx, { table: "stablecoin.redemptions", id }, redemptionTransitions, "retried", { next_check_at: new Date() }));
}

export async function listRedemptions(db: Queryable, filter: { exchangeId?: string; state?: string; limit: number; before?: string }): Promise<Redemption[]> {
  const found = await db.query<RedemptionRow>(
    `SELECT * FROM stablecoin.redemptions
      WHERE ($1::text IS NULL OR exchange_id = $1) AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR id < $3)
      ORDER BY created_at DESC, id DESC LIMIT $4`,
    [filter.exchangeId ?? null, filter.state ?? null, filter.before ?? null, filter.limit],
  );
  return found.rows.map(redemptionFromRow);
}
