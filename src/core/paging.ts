import { CodedError } from "./errors.ts";

/**
 * One page of a list, newest first: the envelope every list route answers with. `next` is an opaque cursor
 * for the following (older) page, passed back as `before`; null on the last page.
 */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** Where a page starts: the sort key of the last item of the previous page. */
export interface PageKey {
  /** The item's time with the database's full (microsecond) precision, ISO 8601. */
  at: string;
  /** Breaks ties between items of the same time, so none is skipped or repeated across pages. */
  id: string;
}

export class PagingError extends CodedError<"INVALID_CURSOR"> {}

export function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify([key.at, key.id])).toString("base64url");
}

/** The key a cursor carries; anything that is not a cursor this gateway issued is INVALID_CURSOR. */
export function decodeCursor(cursor: string): PageKey {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(decoded) && decoded.length === 2) {
      const [at, id] = decoded as unknown[];
      if (typeof at === "string" && typeof id === "string" && !Number.isNaN(Date.parse(at))) return { at, id };
    }
  } catch {
    // Falls through to the refusal below.
  }
  throw new PagingError("INVALID_CURSOR", "before must be the `next` value of a previous page");
}

/**
 * SQL expression of a row's page time as text with microseconds, selected as `page_at`: a JavaScript Date
 * keeps only milliseconds, and rows within one millisecond must still be told apart.
 */
export function pageAtColumn(timeColumn: string): string {
  return `to_char(${timeColumn} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS page_at`;
}

/**
 * Cuts a page from rows fetched newest first with `limit + 1` rows (the extra one says whether another page
 * follows).
 */
export function pageOf<Row extends { page_at: string }, T>(rows: Row[], limit: number, idOf: (row: Row) => string, toItem: (row: Row) => T): Page<T> {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return { items: kept.map(toItem), next: rows.length > limit && last ? encodeCursor({ at: last.page_at, id: idOf(last) }) : null };
}

/** Query parameters of every paged list route. */
export const pageQuerySchema = {
  limit: { type: "integer", minimum: 1, maximum: 500, default: 50, description: "items per page" },
  before: { type: "string", maxLength: 400, description: "the `next` of the previous page (opaque); omitted: the newest page" },
} as const;

/** The response of every paged list route: `{ items, next }`. */
export function pageSchema<Item extends object>(item: Item) {
  return {
    type: "object",
    required: ["items", "next"],
    properties: {
      items: { type: "array", items: item },
      next: { type: ["string", "null"], description: "pass as `before` for the next (older) page; null on the last page" },
    },
  } as const;
}
