import { Worker } from "node:worker_threads";
import { CodedError } from "../../core/errors.ts";
import { BoundedWork, type BoundedWorkLimits } from "./bounded-work.ts";
import type { ValidationOptions, ValidationReport } from "./validate.ts";

export const DEFAULT_VALIDATION_LIMITS: BoundedWorkLimits = { concurrency: 1, queue: 8 };

type Answer = { id: number; report?: ValidationReport; failure?: { name: string; code?: unknown; message: string } };

/**
 * ISO 20022 validation off the event loop: `concurrency` worker threads (started on first use), each
 * validating one message at a time, behind a bounded queue. A full queue refuses at once
 * (VALIDATION_QUEUE_FULL, 503), so a flood of large documents costs the flooder, not `/healthz`.
 *
 * @example
 * const pool = new ValidationPool({ concurrency: 1, queue: 8 });
 * const report = await pool.validate(xml, { profile: "cbpr+" });
 * await pool.close();
 */
export class ValidationPool {
  readonly #work: BoundedWork;
  readonly #idle: Worker[] = [];
  readonly #all: Worker[] = [];
  readonly #pending = new Map<number, { resolve: (report: ValidationReport) => void; reject: (error: Error) => void }>();
  #nextId = 0;

  constructor(limits: BoundedWorkLimits = DEFAULT_VALIDATION_LIMITS) {
    this.#work = new BoundedWork(limits);
  }

  validate(xml: string, options: Omit<ValidationOptions, "limits"> = {}): Promise<ValidationReport> {
    return this.#work.run(async () => {
      const worker = this.#idle.pop() ?? this.#start();
      try {
        return await this.#ask(worker, xml, options);
      } finally {
        if (this.#all.includes(worker)) this.#idle.push(worker);
      }
    });
  }

  /** Throws VALIDATION_QUEUE_FULL now if a validation asked for now would be refused. */
  assertRoom(): void {
    this.#work.assertRoom();
  }

  async close(): Promise<void> {
    await Promise.all(this.#all.splice(0).map((worker) => worker.terminate()));
    this.#idle.length = 0;
  }

  #start(): Worker {
    const worker = new Worker(new URL("./validation-worker.ts", import.meta.url));
    worker.on("message", ({ id, report, failure }: Answer) => {
      const pending = this.#pending.get(id);
      if (!pending) return;
      this.#pending.delete(id);
      if (report) pending.resolve(report);
      // Expected refusals (XML too large, unsafe markup) keep their code, so the status table applies.
      else if (typeof failure?.code === "string") pending.reject(new CodedError(failure.code, failure.message));
      else pending.reject(new Error(failure?.message ?? "validation failed"));
    });
    worker.on("error", (error) => {
      // A crashed worker fails what it held; the next task starts a fresh one.
      for (const [id, pending] of this.#pending) {
        this.#pending.delete(id);
        pending.reject(error);
      }
      this.#forget(worker);
    });
    // Idle workers never keep the process alive.
    worker.unref();
    this.#all.push(worker);
    return worker;
  }

  #forget(worker: Worker): void {
    for (const list of [this.#all, this.#idle]) {
      const index = list.indexOf(worker);
      if (index >= 0) list.splice(index, 1);
    }
  }

  #ask(worker: Worker, xml: string, options: Omit<ValidationOptions, "limits">): Promise<ValidationReport> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, xml, options });
    });
  }
}
