import type { Queryable } from "../persistence/database.ts";
import { correspondentStore, type CorrespondentRecord } from "./store.ts";

export interface CorrespondentDirectoryOptions {
  db: Queryable;
  /** How old the in-memory copy may get before it is read again (default 5 s). */
  maxAgeMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * The directory as the running gateway reads it: a copy of the table at most `maxAgeMs` old, so a
 * correspondent added, suspended or re-keyed by any process (or the CLI) takes effect without a restart.
 * Signing keys are not cached here: the request verifier reads them from the database on every request.
 */
export class CorrespondentDirectory {
  readonly #db: Queryable;
  readonly #maxAgeMs: number;
  readonly #onError: (error: unknown) => void;
  #byBic = new Map<string, CorrespondentRecord>();
  #byPrincipal = new Map<string, CorrespondentRecord>();
  #loadedAt = 0;
  #loading: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: CorrespondentDirectoryOptions) {
    this.#db = options.db;
    this.#maxAgeMs = options.maxAgeMs ?? 5_000;
    this.#onError = options.onError ?? (() => {});
  }

  /** Reads the table now. */
  refresh(): Promise<void> {
    this.#loading ??= (async () => {
      try {
        const records = await correspondentStore.list(this.#db);
        this.#byBic = new Map(records.map((record) => [record.bic, record]));
        this.#byPrincipal = new Map(records.map((record) => [record.principalId, record]));
        this.#loadedAt = Date.now();
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  /** The correspondent with this BIC, read again first when the copy is older than allowed. */
  async lookup(bic: string): Promise<CorrespondentRecord | undefined> {
    if (Date.now() - this.#loadedAt > this.#maxAgeMs) await this.refresh();
    return this.#byBic.get(bic);
  }

  /** From the in-memory copy (kept fresh by `start()`). */
  byBic(bic: string): CorrespondentRecord | undefined {
    return this.#byBic.get(bic);
  }

  byPrincipal(principalId: string): CorrespondentRecord | undefined {
    return this.#byPrincipal.get(principalId);
  }

  all(): CorrespondentRecord[] {
    return [...this.#byBic.values()];
  }

  /** Loads the table and keeps the copy fresh until `stop()`. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.refresh().catch(this.#onError), this.#maxAgeMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
