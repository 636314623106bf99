import type { Database } from "../persistence/database.ts";
import { expireMintRequests, recordDeposit, type HoldReason } from "./mint-flow.ts";
import type { Faults, StablecoinLedger } from "./stablecoin-ledger.ts";
import { cursorRows } from "./store.ts";

export const LEDGER_CURSOR = "dt-ledger-events";

export interface DepositFollowerOptions {
  db: Database;
  ledger: StablecoinLedger;
  /** The collateral intake exchanges pay mint deposits into (collateral-intake.ts). */
  intakeAccount: string;
  /** Long-poll wait on the ledger's event feed. */
  waitMs: number;
  /** How long an unpaid mint request stays open (STABLECOIN_MINT_REQUEST_TTL_SECONDS); none when absent. */
  mintRequestTtlMs?: number;
  faults?: Faults;
  /** The follower's time: request expiry and the deposit's recording (default: the wall clock). */
  clock?: () => Date;
  onMatched?(mintId: string): void;
  onHeld?(eventId: string, reason: HoldReason): void;
}

/**
 * Follows the DT ledger's events from a cursor kept in the database and records each payment into the
 * collateral intake. A page of events and the cursor move in one transaction; the ledger delivers at
 * least once and the event id makes recording exactly once, so a crash or a second process is harmless.
 */
export class DepositFollower {
  readonly #options: DepositFollowerOptions;

  constructor(options: DepositFollowerOptions) {
    this.#options = options;
  }

  /** Reads one page of events; true when there were events (more may be waiting). */
  async step(waitMs = this.#options.waitMs): Promise<boolean> {
    const { db, ledger, intakeAccount, faults, mintRequestTtlMs } = this.#options;
    const clock = this.#options.clock ?? (() => new Date());
    const startedAt = clock();
    if (mintRequestTtlMs !== undefined) await db.transaction((tx) => expireMintRequests(tx, mintRequestTtlMs, startedAt));
    const cursor = await cursorRows.read(db, LEDGER_CURSOR);
    const page = await ledger.events({ ...(cursor === undefined ? {} : { after: cursor }), limit: 200, waitMs });
    if (page.events.length === 0) return false;
    const now = clock();
    const matched: string[] = [];
    const held: Array<[string, HoldReason]> = [];
    await db.transaction(async (tx) => {
      matched.length = 0;
      held.length = 0;
      // Another process moved the cursor while we read: its transaction recorded these events already.
      if ((await cursorRows.lock(tx, LEDGER_CURSOR)) !== cursor) return;
      for (const event of page.events) {
        if (event.type !== "payment" || event.to !== intakeAccount) continue;
        const outcome = await recordDeposit(tx, event, mintRequestTtlMs, now);
        if (outcome?.mintId) matched.push(outcome.mintId);
        if (outcome?.held) held.push([event.id, outcome.held]);
      }
      await cursorRows.set(tx, LEDGER_CURSOR, page.cursor);
      faults?.("deposit.before-commit");
    });
    for (const id of matched) this.#options.onMatched?.(id);
    for (const [id, reason] of held) this.#options.onHeld?.(id, reason);
    return true;
  }
}
