import { mkdirSync } from "node:fs";
import { PGlite, types } from "@electric-sql/pglite";
import { beginStatement, withRetries, type Database, type Queryable, type TransactionOptions } from "./database.ts";

export interface PgliteOptions {
  /** A directory for the data files, or `memory://` for a throw-away database. */
  dataDir: string;
}

/**
 * PGlite, PostgreSQL in-process. One connection, so transactions run one at a time; the same SQL and
 * migrations as PostgreSQL. A data directory can be opened by one process only.
 */
export async function openPglite(options: PgliteOptions): Promise<Database> {
  if (!options.dataDir.startsWith("memory://")) mkdirSync(options.dataDir, { recursive: true });
  const pglite = await PGlite.create({
    dataDir: options.dataDir,
    parsers: { [types.INT8]: (value: string) => BigInt(value) },
  });

  // PGlite has one session: a mutex keeps a transaction's statements from interleaving with others'.
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work);
    tail = run.catch(() => {});
    return run;
  };

  const run = async <Row>(sql: string, params?: readonly unknown[]) => {
    if (!params || params.length === 0) {
      // Without parameters use the simple protocol, which (like pg) accepts several statements: migrations.
      const results = await pglite.exec(sql);
      const last = results[results.length - 1];
      return { rows: (last?.rows ?? []) as Row[], rowCount: last?.affectedRows ?? last?.rows.length ?? 0 };
    }
    const result = await pglite.query<Row>(sql, params as unknown[]);
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  };

  return {
    kind: "pglite",
    query: (sql, params) => exclusive(() => run(sql, params)),
    transaction<T>(work: (tx: Queryable) => Promise<T>, txOptions: TransactionOptions = {}) {
      return withRetries(
        () =>
          exclusive(async () => {
            await pglite.exec(beginStatement(txOptions.isolation));
            try {
              const result = await work({ query: run });
              await pglite.exec("COMMIT");
              return result;
            } catch (error) {
              await pglite.exec("ROLLBACK");
              throw error;
            }
          }),
        txOptions.retries ?? 5,
      );
    },
    close: () => exclusive(() => pglite.close()),
  };
}
