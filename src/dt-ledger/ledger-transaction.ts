import { createHash } from "node:crypto";
import type { Queryable } from "../persistence/database.ts";
import { DtLedgerError, type LedgerEventType, type PaymentType } from "../ledger/dt-ledger-port.ts";

/** What one committed ledger transaction records besides its tokens. */
export interface LedgerTransactionRecord {
  id: string;
  kind: "issuance" | "redemption" | "payment" | "hold" | "release" | "refund" | "account_opened" | "account_closed" | "statement";
  submittedBy: string;
  bookedAt: Date;
  from?: string;
  to?: string;
  amount?: bigint;
  reference?: string;
  paymentType?: PaymentType;
  holdId?: string;
  entries: EntryRecord[];
  events: EventRecord[];
}

export interface EntryRecord {
  accountId: string;
  /** Signed: positive credits, negative debits. */
  amount: bigint;
  kind: "issuance" | "redemption" | "payment" | "return" | "hold_release";
  counterpartyAccount?: string;
  reference: string;
  holdId?: string;
  paymentType?: PaymentType;
}

export interface EventRecord {
  type: LedgerEventType;
  /** JSON-safe payload (bigints as strings); the height and time come from the transaction. */
  payload: Record<string, unknown>;
  visibleTo: string[];
}

/**
 * Takes the next height and records the transaction, its entries and events, in one statement. It must be
 * the last statement before COMMIT: the head row stays locked until then, so heights follow commit order
 * and a reader that sees height h sees every height below it.
 */
export async function commitLedgerTransaction(tx: Queryable, record: LedgerTransactionRecord): Promise<bigint> {
  const result = await tx.query<{ height: bigint }>(
    `WITH head AS (
       UPDATE dt_ledger.head SET height = height + 1 RETURNING height
     ), txn AS (
       INSERT INTO dt_ledger.transactions
         (id, height, kind, submitted_by, booked_at, from_account, to_account, amount, reference, payment_type, hold_id)
       SELECT $1::uuid, head.height, $2, $3, $4, $5, $6, $7::bigint, $8, $9, $10::uuid FROM head
       RETURNING height
     ), booked AS (
       INSERT INTO dt_ledger.entries
         (transaction_id, height, account_id, amount, kind, counterparty_account, reference, hold_id, payment_type, booked_at)
       SELECT $1::uuid, txn.height, e.account_id, e.amount, e.kind, e.counterparty_account, e.reference, e.hold_id,
              e.payment_type, $4
         FROM txn, jsonb_to_recordset($11::jsonb)
           AS e(account_id text, amount bigint, kind text, counterparty_account text, reference text, hold_id uuid, payment_type text)
     ), logged AS (
       INSERT INTO dt_ledger.events (height, ordinal, type, payload, visible_to, at)
       SELECT txn.height, e.ordinal, e.type, e.payload, e.visible_to, $4
         FROM txn, jsonb_to_recordset($12::jsonb) AS e(ordinal integer, type text, payload jsonb, visible_to text[])
     )
     SELECT height FROM txn`,
    [
      record.id,
      record.kind,
      record.submittedBy,
      record.bookedAt,
      record.from ?? null,
      record.to ?? null,
      record.amount?.toString() ?? null,
      record.reference ?? null,
      record.paymentType ?? null,
      record.holdId ?? null,
      JSON.stringify(
        record.entries.map((entry) => ({
          account_id: entry.accountId,
          amount: entry.amount.toString(),
          kind: entry.kind,
          counterparty_account: entry.counterpartyAccount ?? null,
          reference: entry.reference,
          hold_id: entry.holdId ?? null,
          payment_type: entry.paymentType ?? null,
        })),
      ),
      JSON.stringify(
        record.events.map((event, ordinal) => ({
          ordinal,
          type: event.type,
          payload: event.payload,
          visible_to: [...new Set(event.visibleTo)],
        })),
      ),
    ],
  );
  const height = result.rows[0]?.height;
  if (height === undefined) throw new Error("the ledger head row is missing; run the dt_ledger migrations");
  return height;
}

/** Canonical digest of a request (without its idempotency key), to tell a retry from a reuse of the key. */
export function fingerprint(operation: string, request: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(request)
      .filter((key) => key !== "idempotencyKey")
      .sort()
      .map((key) => [key, request[key]]),
    (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value instanceof Date ? value.toISOString() : value),
  );
  return createHash("sha256").update(operation).update("\n").update(canonical).digest("hex");
}

/**
 * Claims an idempotency key for a request inside the current transaction. Returns undefined when the key
 * is new (the caller goes on and produces `resultId`), or the result id of the earlier request with the
 * same key. A concurrent request with the same key waits here until the first commits or rolls back.
 */
export async function claimIdempotencyKey(
  tx: Queryable,
  claim: { participantId: string; idempotencyKey: string; operation: string; fingerprint: string; resultId: string },
): Promise<string | undefined> {
  if (claim.idempotencyKey.length < 1 || claim.idempotencyKey.length > 128) {
    throw new DtLedgerError("INVALID_REQUEST", "idempotencyKey must be 1-128 characters");
  }
  const inserted = await tx.query(
    `INSERT INTO dt_ledger.requests (participant_id, idempotency_key, operation, fingerprint, result_id)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1`,
    [claim.participantId, claim.idempotencyKey, claim.operation, claim.fingerprint, claim.resultId],
  );
  if (inserted.rowCount > 0) return undefined;
  const earlier = await tx.query<{ operation: string; fingerprint: string; result_id: string }>(
    "SELECT operation, fingerprint, result_id FROM dt_ledger.requests WHERE participant_id = $1 AND idempotency_key = $2",
    [claim.participantId, claim.idempotencyKey],
  );
  const row = earlier.rows[0];
  if (!row) throw new Error("idempotency row vanished; retry");
  if (row.operation !== claim.operation || row.fingerprint !== claim.fingerprint) {
    throw new DtLedgerError("IDEMPOTENCY_CONFLICT", "this idempotency key was already used for a different request");
  }
  return row.result_id;
}
