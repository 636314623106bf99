import { decodeCursor, pageAtColumn, pageOf, type Page } from "../../core/paging.ts";
import type { Queryable } from "../../persistence/database.ts";

export type { Page } from "../../core/paging.ts";

/** Lists page newest first by (time, id) with an opaque cursor, so a page never skips or repeats an item. */
export interface ListFilter {
  exchangeId?: string;
  state?: string;
  /** Only this chain's items. */
  chainId?: number;
  limit: number;
  /** The `next` of the previous page. */
  before?: string;
}

/**
 * Runs a keyset-paged query over `table`, newest first by (`timeColumn`, `idColumn`). `where` holds the
 * filters as SQL with `$n` placeholders for `params`.
 */
export async function keysetPage<Row extends { page_at: string }, T>(
  db: Queryable,
  query: { table: string; timeColumn: string; idColumn: string; where: string[]; params: unknown[]; limit: number; before: string | undefined },
  fromRow: (row: Row) => T,
  idOf: (row: Row) => string,
): Promise<Page<T>> {
  const where = [...query.where];
  const params = [...query.params];
  if (query.before !== undefined) {
    const { at, id } = decodeCursor(query.before);
    params.push(at, id);
    where.push(`(${query.timeColumn}, ${query.idColumn}) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  params.push(query.limit + 1);
  const found = await db.query<Row>(
    `SELECT *, ${pageAtColumn(query.timeColumn)} FROM ${query.table}
      ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY ${query.timeColumn} DESC, ${query.idColumn} DESC LIMIT $${params.length}`,
    params,
  );
  return pageOf(found.rows, query.limit, idOf, fromRow);
}

/** `column = value` for each pair whose value is given, as SQL with placeholders and their params. */
export function filters(pairs: Array<[column: string, value: string | undefined]>): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of pairs) {
    if (value === undefined) continue;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  }
  return { where, params };
}

