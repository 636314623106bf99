import { randomBytes } from "node:crypto";
import { getAddress, type Hex } from "viem";
import { isDtLedgerError, isPermanentDtRefusal } from "../ledger/dt-ledger-port.ts";
import type { Database, Queryable } from "../persistence/database.ts";
import { StablecoinError } from "./errors.ts";
import type { MintRequest, Redemption } from "./model.ts";
import { redemptionId } from "./redemption-id.ts";
import type { Faults, StablecoinLedger } from "./stablecoin-ledger.ts";
import { moveRedemption } from "./state-machines.ts";
import { cursorRows, exchangeRows, mintRows, redemptionActionRows, redemptionFromRow, redemptionRows, type RedemptionRow } from "./store.ts";
import type { TokenChain } from "./token-chain.ts";

export type { Redemption } from "./model.ts";

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
  /** The one chain this worker watches and pays the redemptions of (one worker per configured chain). */
  chain: TokenChain;
  settings: RedeemSettings;
  faults?: Faults;
  onPaid?(redemption: Redemption): void;
  onFailed?(redemption: Redemption): void;
  /** The worker's time (default: the wall clock). */
  clock?: () => Date;
}

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

  #now(): Date {
    return (this.#options.clock ?? (() => new Date()))();
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
    const scanned = await cursorRows.read(db, this.#cursorName);
    const last = scanned ? BigInt(scanned) : settings.startBlock - 1n;
    let from = last - BigInt(settings.reorgWindow) + 1n;
    if (from < settings.startBlock) from = settings.startBlock;
    if (from > head) return 0;
    const to = head - from + 1n > settings.maxBlockRange ? from + settings.maxBlockRange - 1n : head;
    const logs = await chain.redeemedLogs(from, to);
    return db.transaction(async (tx) => {
      let changed = 0;
      for (const log of logs) {
        const id = redemptionId(chain.chainId, log.txHash, log.logIndex);
        if (await redemptionRows.insert(tx, { id, chainId: chain.chainId, ...log })) {
          changed++;
          continue;
        }
        // Known log now in another block (a reorganisation re-mined it): follow it; a paid one stays paid.
        if (await redemptionRows.follow(tx, id, log.blockNumber, log.blockHash)) {
          await moveRedemption(tx, id, "reappeared");
          changed++;
        }
      }
      await cursorRows.advanceTo(tx, this.#cursorName, to);
      faults?.("redeem.scan.before-commit");
      return changed + (to > last ? 1 : 0);
    });
  }

  /** Confirms or removes seen logs; returns how many changed state. */
  async confirm(): Promise<number> {
    const { db, chain, settings, faults } = this.#options;
    return db.transaction(async (tx) => {
      const rows = await redemptionRows.lockSeen(tx, chain.chainId, 50);
      if (rows.length === 0) return 0;
      const head = await chain.head();
      let changed = 0;
      for (const row of rows) {
        const canonical = await this.#isCanonical(row);
        if (!canonical) {
          await moveRedemption(tx, row.id, "removed");
          changed++;
        } else if (head - BigInt(row.block_number) + 1n >= BigInt(settings.confirmations)) {
          await moveRedemption(tx, row.id, "confirmed");
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
    const { db, ledger, chain, settings, faults } = this.#options;
    const notices: Array<() => void> = [];
    const claimed = await db.transaction(async (tx) => {
      notices.length = 0;
      const row = await redemptionRows.lockNextPayable(tx, chain.chainId);
      if (!row) return "idle" as const;
      if (row.state === "confirmed") {
        // Checked again right before paying: a reorganisation deeper than the confirmations still wins.
        if (!(await this.#isCanonical(row))) {
          await moveRedemption(tx, row.id, "removed");
          return "removed" as const;
        }
        if (!row.exchange_id) {
          const exchange = await exchangeRows.byAddress(tx, row.holder);
          if (!exchange) return this.#fail(tx, row, "HOLDER_NOT_ONBOARDED", `${row.holder} is not a registered exchange address`, (r) => notices.push(r));
          await redemptionRows.setExchange(tx, row.id, exchange.id);
        }
      }
      const lease = { nextCheckAt: new Date(this.#now().getTime() + settings.payLeaseMs), attempts: row.attempts + 1 };
      if (row.state === "confirmed") {
        await moveRedemption(tx, row.id, "claimed", lease);
      } else {
        await redemptionRows.renewLease(tx, row.id, lease.nextCheckAt, lease.attempts);
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
        const paidAt = this.#now();
        const moved = await moveRedemption(tx, row.id, "paid", {
          payoutTransactionId: outcome.receipt.transactionId,
          paidAt,
          failureCode: null,
          failureMessage: null,
        });
        if (!moved) return "idle" as const;
        const paid = redemptionFromRow({ ...row, state: "paid", payout_transaction_id: outcome.receipt.transactionId, paid_at: paidAt });
        notices.push(() => this.#options.onPaid?.(paid));
        return "paid" as const;
      }
      const error = outcome.error;
      // Refusals retrying will not fix (the port's one table) are kept as failed for an operator.
      if (isPermanentDtRefusal(error)) {
        return this.#fail(tx, { ...row, state: "paying" }, error.code, error.message, (r) => notices.push(r));
      }
      // Unavailable ledger or network trouble: the same idempotency key is used again later.
      await redemptionRows.retryLater(
        tx,
        row.id,
        { code: isDtLedgerError(error) ? error.code : "LEDGER_UNREACHABLE", message: String((error as Error).message).slice(0, 500) },
        settings.retryMs,
      );
      return "retry" as const;
    });
    for (const notice of notices.splice(0)) notice();
    return result;
  }

  async #fail(tx: Queryable, row: RedemptionRow, code: string, message: string, setNotice: (notice: () => void) => void): Promise<"failed"> {
    await moveRedemption(tx, row.id, "failed", {
      failureCode: code,
      failureMessage: message.slice(0, 500),
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

/**
 * An operator re-routes a failed payout to a corrected DT account: the state change and its audit record
 * commit together, and only from `failed`, so a second or concurrent re-route finds nothing to move. The
 * payout keeps its idempotency key: had the first attempt reached the ledger after all, the ledger refuses a
 * different payment under the same key instead of paying twice.
 */
export async function rerouteRedemption(db: Database, id: string, toDtAccount: string, principalId: string, now = new Date()): Promise<Redemption | undefined> {
  return db.transaction(async (tx) => {
    const current = await redemptionRows.lockInState(tx, id, "failed");
    if (!current) return undefined;
    if (!(await moveRedemption(tx, id, "rerouted", { dtAccount: toDtAccount, nextCheckAt: now }))) return undefined;
    await redemptionActionRows.insert(tx, id, { action: "rerouted", principalId, fromDtAccount: current.dt_account, toDtAccount });
    return redemptionRows.get(tx, id);
  });
}

/**
 * An operator has a refused payout's tokens minted back to the redeemer instead of paid in DT: the
 * redemption moves from `failed` to `reminted` (terminal, so it is never paid), a re-mint request is
 * opened for the mint worker, and the audit record is written, all in one transaction; a second or
 * concurrent call finds nothing failed. On chain the re-mint reverses the redemption
 * (`reverseRedemption`, once per redemption id), so its DT, still in the segregated wallet, backs the
 * tokens again instead of being counted as owed.
 */
export async function remintRedemption(db: Database, id: string, principalId: string): Promise<{ redemption: Redemption; mint: MintRequest }> {
  return db.transaction(async (tx) => {
    const current = await redemptionRows.lockInState(tx, id, "failed");
    if (!current) throw new StablecoinError("NOT_FAILED", `redemption ${id} is not in the failed state`);
    // The ledger holds a different payment under this payout's key: DT may have left, so nothing comes back.
    if (current.failure_code === "IDEMPOTENCY_CONFLICT") throw new StablecoinError("NOT_REMINTABLE", `redemption ${id} may have been paid under its key; re-route or investigate`);
    if (!current.exchange_id) throw new StablecoinError("NOT_REMINTABLE", `redemption ${id} was burned by ${current.holder}, no onboarded exchange; onboard it first`);
    await moveRedemption(tx, id, "reminted");
    const mint = await mintRows.insertRemint(tx, {
      id: `mint_${randomBytes(8).toString("hex")}`,
      reference: `REMINT-${randomBytes(8).toString("hex").toUpperCase()}`,
      exchangeId: current.exchange_id,
      amount: BigInt(current.amount),
      toAddress: getAddress(current.holder),
      redemptionId: id,
    });
    await redemptionActionRows.insert(tx, id, { action: "reminted", principalId, fromDtAccount: current.dt_account, mintId: mint.id });
    return { redemption: (await redemptionRows.get(tx, id))!, mint };
  });
}

/** An operator asks to pay a failed redemption again (after the cause is fixed). */
export async function retryRedemption(db: Database, id: string, now = new Date()): Promise<boolean> {
  return db.transaction((tx) => moveRedemption(tx, id, "retried", { nextCheckAt: now }));
}
