/**
 * The one database module. Production runs on PostgreSQL through `pg`; the embedded default is PGlite
 * (PostgreSQL compiled to WASM, in-process) with the same SQL. Every feature talks to `Database`.
 *
 * Type mapping is the same on both: int8 -> bigint, numeric -> string, timestamptz -> Date, bytea -> Uint8Array.
 */
export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** Anything that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type IsolationLevel = "read committed" | "repeatable read" | "serializable";

export interface TransactionOptions {
  isolation?: IsolationLevel;
  /** How often a serialization failure or deadlock is retried before it is thrown (default 5). */
  retries?: number;
}

export interface Database extends Queryable {
  readonly kind: "postgres" | "pglite";
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws. Serialization
   * failures and deadlocks (SQLSTATE 40001, 40P01) are retried, so `work` must be safe to run again.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

/** SQLSTATEs after which a transaction may simply be run again. */
const RETRYABLE = new Set(["40001", "40P01"]);

export function isRetryable(error: unknown): boolean {
  return typeof error === "object" && error !== null && RETRYABLE.has((error as { code?: string }).code ?? "");
}

/** SQLSTATE of a database error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export async function withRetries<T>(attempt: () => Promise<T>, retries: number): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isRetryable(error) || tries >= retries) throw error;
      // Jittered backoff so two conflicting transactions do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** tries));
    }
  }
}

export function beginStatement(isolation: IsolationLevel | undefined): string {
  return isolation ? `BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}` : "BEGIN";
}
