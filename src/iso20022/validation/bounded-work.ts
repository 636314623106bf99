import { CodedError } from "../../core/errors.ts";

/** The queue in front of CPU-heavy work is full: 503 with Retry-After, nothing done. */
export class WorkQueueFullError extends CodedError<"VALIDATION_QUEUE_FULL"> {
  readonly retryAfterSeconds = 1;
  constructor(running: number, queued: number) {
    super("VALIDATION_QUEUE_FULL", `the validator is busy (${running} running, ${queued} queued); retry after 1 s`, { running, queued });
  }
}

export interface BoundedWorkLimits {
  /** Tasks run at once. */
  concurrency: number;
  /** Tasks waiting for a slot; one more is refused with VALIDATION_QUEUE_FULL. */
  queue: number;
}

/**
 * At most `concurrency` tasks at once and at most `queue` waiting, first come first served; beyond that a
 * task is refused at once instead of piling up memory and latency for everyone.
 */
export class BoundedWork {
  readonly limits: BoundedWorkLimits;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limits: BoundedWorkLimits) {
    if (!(limits.concurrency >= 1) || !(limits.queue >= 0)) throw new Error("bounded work needs concurrency >= 1 and queue >= 0");
    this.limits = limits;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Refuses now, as `run` would, when no slot and no queue place is free (to refuse before reading a body). */
  assertRoom(): void {
    if (this.#running >= this.limits.concurrency && this.#waiting.length >= this.limits.queue) throw new WorkQueueFullError(this.#running, this.#waiting.length);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limits.concurrency) {
      this.assertRoom();
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot overtake the queue.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
