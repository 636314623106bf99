import type { DtLedger } from "./ledger.ts";

export interface HoldSweeper {
  stop(): Promise<void>;
}

/**
 * Refunds expired holds every `intervalMs` in the host process. Several processes may each run one on the
 * same database: a hold is refunded once (row locks with SKIP LOCKED, status checked under the lock).
 */
export function startHoldSweeper(
  ledger: DtLedger,
  options: { intervalMs?: number; onError?: (error: unknown) => void } = {},
): HoldSweeper {
  let running: Promise<void> | undefined;
  let stopped = false;
  const sweep = async () => {
    try {
      // A full batch means more may be due; keep going until a partial batch.
      while (!stopped && (await ledger.refundExpiredHolds(100)) === 100);
    } catch (error) {
      options.onError?.(error);
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = sweep().finally(() => {
      running = undefined;
    });
  }, options.intervalMs ?? 1000);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
