import pg from "pg";
import {
  beginStatement,
  withRetries,
  type Database,
  type QueryResult,
  type Queryable,
  type TransactionOptions,
} from "./database.ts";

// Same value types as PGlite: int8 as bigint (money is bigint tiyn), numeric kept exact as text.
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === pg.types.builtins.INT8) return (value: string) => BigInt(value);
    if (oid === pg.types.builtins.BYTEA && format !== "binary") {
      return (value: string) => new Uint8Array(pg.types.getTypeParser(oid, "text")(value) as Buffer);
    }
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export interface PostgresOptions {
  connectionString: string;
  poolSize?: number;
  applicationName?: string;
}

/** PostgreSQL through a `pg` pool. */
export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? "tenge-gateway",
    types,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const probe = await pool.connect();
  probe.release();

  const query = async <Row>(runner: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) => {
    const result = await runner.query(sql, params as unknown[] | undefined);
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 } satisfies QueryResult<Row>;
  };

  return {
    kind: "postgres",
    query: (sql, params) => query(pool, sql, params),
    exec: async (sql) => void (await pool.query(sql)),
    async transaction<T>(work: (tx: Queryable) => Promise<T>, txOptions: TransactionOptions = {}) {
      return withRetries(async () => {
        const client = await pool.connect();
        let broken = false;
        try {
          await client.query(beginStatement(txOptions.isolation));
          const result = await work({
            query: (sql, params) => query(client, sql, params),
            exec: async (sql) => void (await client.query(sql)),
          });
          await client.query("COMMIT");
          return result;
        } catch (error) {
          try {
            await client.query("ROLLBACK");
          } catch {
            broken = true;
          }
          throw error;
        } finally {
          client.release(broken);
        }
      }, txOptions.retries ?? 5);
    },
    close: () => pool.end(),
  };
}
