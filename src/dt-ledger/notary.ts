import { sqlState, type Queryable } from "../persistence/database.ts";
import { DtLedgerError } from "../ledger/dt-ledger-port.ts";

/** An unspent token locked by the current transaction, about to be consumed. */
export interface InputToken {
  id: bigint;
  amount: bigint;
}

/** A token to create: payment, change, or a held token encumbered by a hold. */
export interface OutputToken {
  accountId: string;
  amount: bigint;
  holdId?: string;
}

// How many tokens one selection round locks; most payments need one or two.
const BATCH = 16;

/**
 * Picks and row-locks spendable tokens of an account (not held, not spent) worth at least `amount`,
 * largest first. SKIP LOCKED lets concurrent payments from one account take different tokens instead of
 * queueing; only when the unlocked tokens do not suffice does it wait for the locked ones (their holders
 * may roll back), re-reading them after the wait so a token spent meanwhile is not counted.
 * Throws INSUFFICIENT_FUNDS when the account's spendable tokens do not cover the amount.
 */
export async function selectInputs(tx: Queryable, accountId: string, amount: bigint): Promise<InputToken[]> {
  const chosen: InputToken[] = [];
  let total = 0n;
  for (;;) {
    const batch = await tx.query<{ id: bigint; amount: bigint }>(
      `SELECT id, amount FROM dt_ledger.tokens
        WHERE account_id = $1 AND spent_in IS NULL AND hold_id IS NULL AND NOT (id = ANY($2::bigint[]))
        ORDER BY amount DESC LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [accountId, chosen.map((token) => token.id.toString()), BATCH],
    );
    for (const row of batch.rows) {
      chosen.push(row);
      total += row.amount;
      if (total >= amount) return chosen;
    }
    if (batch.rows.length < BATCH) break;
  }
  // The unlocked tokens are not enough: wait for the ones other transactions hold. A token another payment
  // spent while we waited drops out, but its change token was created after this statement began and is
  // not visible to it, so a second statement (a fresh snapshot under READ COMMITTED) looks again.
  for (let round = 0; round < 2; round++) {
    const waited = await tx.query<{ id: bigint; amount: bigint }>(
      `SELECT id, amount FROM dt_ledger.tokens
        WHERE account_id = $1 AND spent_in IS NULL AND hold_id IS NULL AND NOT (id = ANY($2::bigint[]))
        ORDER BY amount DESC FOR UPDATE`,
      [accountId, chosen.map((token) => token.id.toString())],
    );
    for (const row of waited.rows) {
      chosen.push(row);
      total += row.amount;
      if (total >= amount) return chosen;
    }
  }
  throw new DtLedgerError("INSUFFICIENT_FUNDS", `account ${accountId} has less than ${amount} tiyn available`);
}

/** Locks the unspent token encumbered by a hold (exactly one exists while the hold is active). */
export async function heldToken(tx: Queryable, holdId: string): Promise<InputToken> {
  const result = await tx.query<{ id: bigint; amount: bigint }>(
    "SELECT id, amount FROM dt_ledger.tokens WHERE hold_id = $1 AND spent_in IS NULL FOR UPDATE",
    [holdId],
  );
  const token = result.rows[0];
  if (!token) throw new DtLedgerError("DOUBLE_SPEND", `the token of hold ${holdId} is already spent`);
  return token;
}

/** Money entering or leaving circulation in a transaction (only the NBK's conversions have any). */
export interface SupplyChange {
  issued?: bigint;
  redeemed?: bigint;
}

/**
 * The notary step: records each input as spent by `transactionId` (the spends table's primary key refuses
 * a token spent before, by any process) and creates the outputs, in one statement. Inputs plus issuance
 * must equal outputs plus redemption; the caller computes change.
 */
export async function spendAndCreate(
  tx: Queryable,
  transactionId: string,
  inputs: readonly InputToken[],
  outputs: readonly OutputToken[],
  supply: SupplyChange = {},
): Promise<void> {
  const consumed = inputs.reduce((sum, token) => sum + token.amount, 0n) + (supply.issued ?? 0n);
  const created = outputs.reduce((sum, token) => sum + token.amount, 0n) + (supply.redeemed ?? 0n);
  if (consumed !== created) throw new Error(`unbalanced ledger transaction: consumes ${consumed}, creates ${created}`);
  try {
    const result = await tx.query<{ marked: bigint }>(
      `WITH spent AS (
         INSERT INTO dt_ledger.spends (token_id, transaction_id)
         SELECT unnest($1::bigint[]), $2::uuid RETURNING token_id
       ), marked AS (
         UPDATE dt_ledger.tokens SET spent_in = $2::uuid
          WHERE id IN (SELECT token_id FROM spent) AND spent_in IS NULL RETURNING id
       ), minted AS (
         INSERT INTO dt_ledger.tokens (account_id, amount, hold_id, created_in)
         SELECT o.account_id, o.amount, o.hold_id, $2::uuid
           FROM jsonb_to_recordset($3::jsonb) AS o(account_id text, amount bigint, hold_id uuid)
         RETURNING id
       )
       SELECT (SELECT count(*) FROM marked) AS marked, (SELECT count(*) FROM minted) AS minted`,
      [
        inputs.map((token) => token.id.toString()),
        transactionId,
        JSON.stringify(
          outputs.map((token) => ({ account_id: token.accountId, amount: token.amount.toString(), hold_id: token.holdId ?? null })),
        ),
      ],
    );
    if (BigInt(result.rows[0]?.marked ?? 0) !== BigInt(inputs.length)) {
      throw new DtLedgerError("DOUBLE_SPEND", "an input token was already spent");
    }
  } catch (error) {
    if (sqlState(error) === "23505") throw new DtLedgerError("DOUBLE_SPEND", "the notary refused a token spent before");
    throw error;
  }
}
