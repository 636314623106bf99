import type { Hex } from "viem";
import type { Database } from "../persistence/database.ts";
import { migrate } from "../persistence/migrations.ts";
import { startHoldSweeper, type HoldSweeper } from "./hold-sweeper.ts";
import { DtLedger } from "./ledger.ts";
import { dtLedgerMigrations } from "./schema.ts";

export interface EmbeddedDtLedgerOptions {
  db: Database;
  operatorKey?: Hex;
  /** How often expired holds are refunded (default 1 s); 0 runs no sweeper in this process. */
  sweepIntervalMs?: number;
  onSweepError?: (error: unknown) => void;
}

export interface EmbeddedDtLedger {
  ledger: DtLedger;
  /** Stops the sweeper; the database stays open (its owner closes it). */
  stop(): Promise<void>;
}

/** Brings the dt_ledger schema up to date and runs the ledger with its expired-hold sweeper. */
export async function startEmbeddedDtLedger(options: EmbeddedDtLedgerOptions): Promise<EmbeddedDtLedger> {
  await migrate(options.db, [dtLedgerMigrations]);
  const ledger = new DtLedger({ db: options.db, ...(options.operatorKey ? { operatorKey: options.operatorKey } : {}) });
  const interval = options.sweepIntervalMs ?? 1000;
  const sweeper: HoldSweeper | undefined =
    interval > 0 ? startHoldSweeper(ledger, { intervalMs: interval, ...(options.onSweepError ? { onError: options.onSweepError } : {}) }) : undefined;
  return { ledger, stop: async () => sweeper?.stop() };
}
