import { Gauge, type Registry } from "prom-client";
import type { ReadinessCheck } from "./health.ts";
import type { Logger } from "./logger.ts";

/** Why a background worker cannot progress, in terms an operator acts on: a code and a sentence naming the fix. */
export interface WorkerFault {
  code: string;
  reason: string;
}

export interface WorkerFaultsOptions {
  logger: Logger;
  metrics?: Registry;
  /** A fault that persists is logged again after this long, not at every poll (default 60 s). */
  logIntervalMs?: number;
  now?: () => number;
}

/**
 * The operator-fixable faults of this process's workers (no gas, RPC down, no statement signer). A fault turns
 * `/readyz` to 503 with its reason, sets `tenge_gateway_worker_fault{worker,code}` to 1, and is logged once per
 * interval while it lasts; the worker's next successful step clears it and logs the recovery once.
 */
export class WorkerFaults {
  readonly #logger: Logger;
  readonly #gauge: Gauge | undefined;
  readonly #logIntervalMs: number;
  readonly #now: () => number;
  readonly #active = new Map<string, WorkerFault & { loggedAt: number }>();

  constructor(options: WorkerFaultsOptions) {
    this.#logger = options.logger;
    this.#logIntervalMs = options.logIntervalMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    const existing = options.metrics?.getSingleMetric("tenge_gateway_worker_fault");
    this.#gauge = options.metrics
      ? ((existing as Gauge | undefined) ??
        new Gauge({ name: "tenge_gateway_worker_fault", help: "1 while a worker cannot progress for an operator-fixable reason (label code)", labelNames: ["worker", "code"], registers: [options.metrics] }))
      : undefined;
  }

  report(worker: string, fault: WorkerFault): void {
    const now = this.#now();
    const previous = this.#active.get(worker);
    const same = previous?.code === fault.code;
    if (previous && !same) this.#gauge?.set({ worker, code: previous.code }, 0);
    this.#gauge?.set({ worker, code: fault.code }, 1);
    if (same && now - previous.loggedAt < this.#logIntervalMs) {
      this.#active.set(worker, { ...fault, loggedAt: previous.loggedAt });
      return;
    }
    this.#active.set(worker, { ...fault, loggedAt: now });
    this.#logger.error({ event: "worker.fault", worker, code: fault.code }, `${worker} cannot progress: ${fault.code}: ${fault.reason}`);
  }

  clear(worker: string): void {
    const previous = this.#active.get(worker);
    if (!previous) return;
    this.#active.delete(worker);
    this.#gauge?.set({ worker, code: previous.code }, 0);
    this.#logger.info({ event: "worker.recovered", worker, code: previous.code }, `${worker} progresses again (was ${previous.code})`);
  }

  active(): Array<WorkerFault & { worker: string }> {
    return [...this.#active].map(([worker, fault]) => ({ worker, code: fault.code, reason: fault.reason }));
  }

  /** One readiness check per process: fails with every active fault's reason. */
  readiness(name = "workers"): ReadinessCheck {
    return {
      name,
      check: async () => {
        const faults = this.active();
        if (faults.length > 0) throw new Error(faults.map((fault) => `${fault.worker}: ${fault.code}: ${fault.reason}`).join("; "));
      },
    };
  }
}
