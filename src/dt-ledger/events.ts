import type { Queryable } from "../persistence/database.ts";
import { DtLedgerError, type EventPage, type LedgerEvent } from "../ledger/dt-ledger-port.ts";
import { eventFromJson, type Json } from "./wire.ts";

export interface ReadEventsOptions {
  /** Only events this participant may see; undefined for the NBK, which sees all. */
  participantId: string | undefined;
  after: string | undefined;
  limit: number | undefined;
  waitMs: number | undefined;
  /** Subscribes to local commits, to answer a long poll as soon as this process commits. */
  onCommitted?: (listener: () => void) => () => void;
  /** How many log rows one query scans (default 2000). */
  scanWindow?: number;
}

const MAX_LIMIT = 1000;
const SCAN_WINDOW = 2000;
const MAX_WAIT_MS = 30_000;
// Commits by other processes are noticed by polling at this interval during a long poll.
const POLL_MS = 200;

/** A cursor is "<height>.<ordinal>" of the last event read; "0.0" is before the first. */
export function parseCursor(cursor: string | undefined): [bigint, number] {
  if (cursor === undefined || cursor === "") return [0n, 0];
  const match = /^(\d{1,19})\.(\d{1,6})$/.exec(cursor);
  if (!match) throw new DtLedgerError("INVALID_REQUEST", "cursor must be <height>.<ordinal> as returned by the previous page");
  return [BigInt(match[1]!), Number(match[2])];
}

interface EventRow {
  height: bigint;
  ordinal: number;
  type: LedgerEvent["type"];
  payload: Record<string, Json>;
  at: Date;
}

function decode(row: EventRow): LedgerEvent {
  const event = eventFromJson({ ...row.payload, id: `${row.height}.${row.ordinal}`, type: row.type, height: row.height.toString(), at: row.at.toISOString() });
  // A hold's heights are only known once its transaction commits; the event's own height is that one.
  if (event.type === "hold_created") event.hold.createdHeight = event.height;
  if (event.type === "hold_released" || event.type === "hold_refunded") event.hold.settledHeight = event.height;
  return event;
}

/**
 * Events after the cursor in ledger order. Heights follow commit order, so a reader never skips an event
 * committed later with a lower position. With waitMs, waits for the first event up to that long.
 */
export async function readEvents(db: Queryable, options: ReadEventsOptions): Promise<EventPage> {
  let [height, ordinal] = parseCursor(options.after);
  const limit = Math.min(Math.max(options.limit ?? 100, 1), MAX_LIMIT);
  const deadline = Date.now() + Math.min(Math.max(options.waitMs ?? 0, 0), MAX_WAIT_MS);
  let cursor = `${height}.${ordinal}`;
  const window = options.scanWindow ?? SCAN_WINDOW;
  for (;;) {
    // Scan a window of the log and keep what the reader may see; the cursor moves past the invisible rest,
    // so a participant with little traffic does not re-scan everyone else's events on every poll.
    const result = await db.query<EventRow & { visible: boolean }>(
      `SELECT height, ordinal, type, at, visible, CASE WHEN visible THEN payload END AS payload
         FROM (SELECT height, ordinal, type, at, payload, ($3::text IS NULL OR $3::text = ANY(visible_to)) AS visible
                 FROM dt_ledger.events WHERE (height, ordinal) > ($1::int8, $2::int4)
                ORDER BY height, ordinal LIMIT $4) AS scanned
        ORDER BY height, ordinal`,
      [height.toString(), ordinal, options.participantId ?? null, window],
    );
    const events: LedgerEvent[] = [];
    let last: EventRow | undefined;
    for (const row of result.rows) {
      if (events.length === limit) break;
      last = row;
      if (row.visible) events.push(decode(row));
    }
    const next = last ? `${last.height}.${last.ordinal}` : cursor;
    if (events.length > 0 || (last && result.rows.length === window)) return { events, cursor: next };
    if (last) {
      height = last.height;
      ordinal = last.ordinal;
      cursor = next;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { events: [], cursor };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(remaining, POLL_MS));
      const unsubscribe = options.onCommitted?.(done);
      function done() {
        clearTimeout(timer);
        unsubscribe?.();
        resolve();
      }
    });
  }
}
