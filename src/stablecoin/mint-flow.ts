import { randomBytes } from "node:crypto";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import type { LedgerEvent, SignedCollateralStatement } from "../ledger/dt-ledger-port.ts";
import type { Database, Queryable } from "../persistence/database.ts";
import type { CollateralStatement } from "../ledger/collateral-statement.ts";
import { mintedToday, requestedToday, type Exchange } from "./exchanges.ts";
import { formatKzt } from "./kzt.ts";
import type { Faults, StablecoinLedger } from "./stablecoin-ledger.ts";
import { applyTransition, mintTransitions, type MintState } from "./state-machines.ts";
import type { TokenChain } from "./token-chain.ts";

export interface MintRequest {
  id: string;
  reference: string;
  exchangeId: string;
  amount: bigint;
  toAddress: Address;
  state: MintState;
  depositEventId: string | null;
  mintedTxHash: Hex | null;
  mintedBlock: bigint | null;
  attempts: number;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
  depositedAt: Date | null;
  mintedAt: Date | null;
}

export type MintErrorCode = "EXCHANGE_SUSPENDED" | "OVER_PER_MINT_LIMIT" | "OVER_DAILY_LIMIT" | "ADDRESS_NOT_REGISTERED" | "MINT_NOT_FOUND" | "NOT_CANCELLABLE";

export class MintError extends Error {
  override name = "MintError";
  readonly code: MintErrorCode;
  constructor(code: MintErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Why a deposit is held for an operator instead of minted. */
export type HoldReason =
  | "UNKNOWN_REFERENCE"
  | "REFERENCE_ALREADY_USED"
  | "WRONG_SENDER"
  | "AMOUNT_MISMATCH"
  | "EXCHANGE_SUSPENDED"
  | "OVER_PER_MINT_LIMIT"
  | "OVER_DAILY_LIMIT"
  | "REQUEST_EXPIRED";

export interface MintSettings {
  /** DT account of the segregated collateral wallet. */
  segregatedAccount: string;
  /** Blocks a mint receipt needs (1 = the block that includes it). */
  confirmations: number;
  /** A submitted transaction without a receipt this long is replaced with higher fees. */
  stuckAfterMs: number;
  /** How often a submitted request is checked again. */
  recheckMs: number;
  /** Reverted or lost attempts before a request is marked failed for an operator. */
  maxAttempts: number;
}

interface MintRow {
  id: string;
  reference: string;
  exchange_id: string;
  amount: bigint;
  to_address: string;
  state: MintState;
  deposit_event_id: string | null;
  minted_tx_hash: string | null;
  minted_block: bigint | null;
  attempts: number;
  failure_code: string | null;
  failure_message: string | null;
  created_at: Date;
  updated_at: Date;
  deposited_at: Date | null;
  minted_at: Date | null;
  submitted_at: Date | null;
}

export const mintFromRow = (row: MintRow): MintRequest => ({
  id: row.id,
  reference: row.reference,
  exchangeId: row.exchange_id,
  amount: BigInt(row.amount),
  toAddress: getAddress(row.to_address),
  state: row.state,
  depositEventId: row.deposit_event_id,
  mintedTxHash: row.minted_tx_hash as Hex | null,
  mintedBlock: row.minted_block === null ? null : BigInt(row.minted_block),
  attempts: row.attempts,
  failureCode: row.failure_code,
  failureMessage: row.failure_message,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  depositedAt: row.deposited_at,
  mintedAt: row.minted_at,
});

// Crockford-style alphabet: no I, L, O, U, so a reference survives being read aloud or retyped.
const REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
function newReference(): string {
  const bytes = randomBytes(10);
  return `MINT-${Array.from(bytes, (byte) => REFERENCE_ALPHABET[byte % 32]).join("")}`;
}

/** Opens a mint request; the exchange then pays exactly `amount` into the segregated wallet with the reference. */
export async function requestMint(db: Database, exchange: Exchange, amount: bigint, toAddress?: string, now = new Date()): Promise<MintRequest> {
  if (exchange.status !== "active") throw new MintError("EXCHANGE_SUSPENDED", `exchange ${exchange.id} is suspended`);
  if (amount > exchange.perMintLimit) throw new MintError("OVER_PER_MINT_LIMIT", `the per-mint limit is ${formatKzt(exchange.perMintLimit)} KZT`);
  const to = toAddress === undefined ? exchange.evmAddresses[0]! : isAddress(toAddress, { strict: false }) ? getAddress(toAddress) : undefined;
  if (!to || !exchange.evmAddresses.includes(to)) {
    throw new MintError("ADDRESS_NOT_REGISTERED", "mints go only to an EVM address registered for the exchange");
  }
  return db.transaction(async (tx) => {
    // Serialises this exchange's requests so two concurrent calls cannot both fit under the daily limit.
    await tx.query("SELECT 1 FROM stablecoin.exchanges WHERE id = $1 FOR UPDATE", [exchange.id]);
    const today = await requestedToday(tx, exchange.id, now);
    if (today + amount > exchange.dailyLimit) {
      throw new MintError("OVER_DAILY_LIMIT", `the daily limit is ${formatKzt(exchange.dailyLimit)} KZT; ${formatKzt(today)} KZT already requested today`);
    }
    const inserted = await tx.query<MintRow>(
      `INSERT INTO stablecoin.mint_requests (id, reference, exchange_id, amount, to_address, state)
       VALUES ($1, $2, $3, $4, $5, 'awaiting_deposit') RETURNING *`,
      [`mint_${randomBytes(8).toString("hex")}`, newReference(), exchange.id, amount, to],
    );
    return mintFromRow(inserted.rows[0]!);
  });
}

export async function cancelMint(db: Database, exchangeId: string, id: string): Promise<MintRequest> {
  return db.transaction(async (tx) => {
    const moved = await applyTransition(tx, { table: "stablecoin.mint_requests", id }, mintTransitions, "cancelled");
    const found = await tx.query<MintRow>("SELECT * FROM stablecoin.mint_requests WHERE id = $1 AND exchange_id = $2", [id, exchangeId]);
    if (!found.rows[0]) throw new MintError("MINT_NOT_FOUND", `no mint request ${id}`);
    if (!moved) throw new MintError("NOT_CANCELLABLE", `mint request ${id} is ${found.rows[0].state}; only one awaiting its deposit can be cancelled`);
    return mintFromRow(found.rows[0]);
  });
}

export async function listMints(db: Queryable, filter: { exchangeId?: string; state?: string; limit: number; before?: string }): Promise<MintRequest[]> {
  const found = await db.query<MintRow>(
    `SELECT * FROM stablecoin.mint_requests
      WHERE ($1::text IS NULL OR exchange_id = $1) AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR id < $3)
      ORDER BY created_at DESC, id DESC LIMIT $4`,
    [filter.exchangeId ?? null, filter.state ?? null, filter.before ?? null, filter.limit],
  );
  return found.rows.map(mintFromRow);
}

export async function getMint(db: Queryable, id: string): Promise<MintRequest | undefined> {
  const found = await db.query<MintRow>("SELECT * FROM stablecoin.mint_requests WHERE id = $1", [id]);
  return found.rows[0] ? mintFromRow(found.rows[0]) : undefined;
}

type PaymentEvent = Extract<LedgerEvent, { type: "payment" }>;

/**
 * Records one DT payment into the segregated wallet (once per ledger event id) and either matches it to
 * its mint request or holds it for an operator. Returns the matched request id, if any.
 */
/**
 * Expires the mint requests still unpaid `ttlMs` after they were opened (one transition each, in the
 * caller's transaction). Returns how many expired.
 */
export async function expireMintRequests(tx: Queryable, ttlMs: number, now = new Date()): Promise<number> {
  const due = await tx.query<{ id: string }>(
    "SELECT id FROM stablecoin.mint_requests WHERE state = 'awaiting_deposit' AND created_at <= $1 FOR UPDATE SKIP LOCKED",
    [new Date(now.getTime() - ttlMs)],
  );
  let expired = 0;
  for (const { id } of due.rows) {
    if (await applyTransition(tx, { table: "stablecoin.mint_requests", id }, mintTransitions, "expired", { failure_code: "EXPIRED", failure_message: "no deposit arrived in time" })) expired += 1;
  }
  return expired;
}

export async function recordDeposit(tx: Queryable, event: PaymentEvent, mintRequestTtlMs = Number.POSITIVE_INFINITY): Promise<{ mintId?: string; held?: HoldReason } | undefined> {
  const seen = await tx.query("SELECT 1 FROM stablecoin.deposits WHERE event_id = $1", [event.id]);
  if (seen.rowCount > 0) return undefined;
  const request = (
    await tx.query<MintRow & { dt_account: string; status: string; per_mint_limit: bigint; daily_limit: bigint }>(
      `SELECT m.*, e.dt_account, e.status, e.per_mint_limit, e.daily_limit
         FROM stablecoin.mint_requests m JOIN stablecoin.exchanges e ON e.id = m.exchange_id
        WHERE m.reference = $1 FOR UPDATE OF m, e`,
      [event.reference.trim()],
    )
  ).rows[0];
  let held: HoldReason | undefined;
  if (!request) held = "UNKNOWN_REFERENCE";
  else if (request.state === "expired") held = "REQUEST_EXPIRED";
  else if (request.state === "awaiting_deposit" && new Date(request.created_at).getTime() + mintRequestTtlMs <= event.at.getTime()) {
    // Paid after the request's lifetime, before a sweep noticed: expire it now and hold the DT for an operator.
    await applyTransition(tx, { table: "stablecoin.mint_requests", id: request.id }, mintTransitions, "expired", { failure_code: "EXPIRED", failure_message: "no deposit arrived in time" });
    held = "REQUEST_EXPIRED";
  } else if (request.state !== "awaiting_deposit") held = "REFERENCE_ALREADY_USED";
  else if (request.dt_account !== event.from) held = "WRONG_SENDER";
  else if (BigInt(request.amount) !== event.amount) held = "AMOUNT_MISMATCH";
  else if (request.status !== "active") held = "EXCHANGE_SUSPENDED";
  else if (event.amount > BigInt(request.per_mint_limit)) held = "OVER_PER_MINT_LIMIT";
  else if ((await mintedToday(tx, request.exchange_id, event.at)) + event.amount > BigInt(request.daily_limit)) held = "OVER_DAILY_LIMIT";
  await tx.query(
    `INSERT INTO stablecoin.deposits (event_id, ledger_transaction_id, from_account, amount, reference, height, booked_at, status, hold_reason, mint_id, exchange_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      event.id,
      event.transactionId,
      event.from,
      event.amount,
      event.reference,
      event.height,
      event.at,
      held ? "held" : "matched",
      held ?? null,
      held ? null : request!.id,
      request?.exchange_id ?? (await exchangeOfAccount(tx, event.from)) ?? null,
    ],
  );
  if (held) return { held };
  await applyTransition(tx, { table: "stablecoin.mint_requests", id: request!.id }, mintTransitions, "depositMatched", {
    deposit_event_id: event.id,
    deposited_at: new Date(),
    next_check_at: new Date(),
  });
  return { mintId: request!.id };
}

async function exchangeOfAccount(tx: Queryable, dtAccount: string): Promise<string | undefined> {
  const found = await tx.query<{ id: string }>("SELECT id FROM stablecoin.exchanges WHERE dt_account = $1", [dtAccount]);
  return found.rows[0]?.id;
}

export interface MintWorkerOptions {
  db: Database;
  ledger: StablecoinLedger;
  chain: TokenChain;
  settings: MintSettings;
  faults?: Faults;
  /** Called after a mint is confirmed (renews the proof of collateral, records metrics). */
  onMinted?(mint: MintRequest): void;
  onFailed?(mint: MintRequest): void;
}

/** What one worker step did, for logs and tests. */
export type MintStepOutcome = "idle" | "signed" | "broadcast" | "minted" | "waiting" | "replaced" | "retry" | "failed";

/**
 * Moves deposited mint requests to minted, one transition per database transaction:
 * deposited -> signed (fresh statement, nonce allocated, transaction signed and recorded before sending)
 * -> submitted (sent; resending the same bytes is harmless) -> minted (receipt with confirmations).
 * A stuck transaction is replaced with the same nonce and higher fees; when every recorded transaction
 * reverted or lost its nonce, nothing was minted and the request is signed again.
 */
export class MintWorker {
  readonly #options: MintWorkerOptions;

  constructor(options: MintWorkerOptions) {
    this.#options = options;
  }

  /**
   * Advances one request by one transition. The DT ledger is never called inside a database transaction
   * (the embedded ledger may share the gateway's one-connection PGlite): a request that needs a statement
   * is picked, the statement is fetched outside, and the request is locked again to sign.
   */
  async step(): Promise<MintStepOutcome> {
    const { db, ledger, chain, settings, faults } = this.#options;
    const notices: Array<() => void> = [];
    const first = await db.transaction(async (tx) => {
      notices.length = 0;
      return this.#stepIn(tx, notices);
    });
    // Only after the commit: a crash before it means nothing happened yet.
    for (const notice of notices) notice();
    if (typeof first !== "object") return first;
    // Fetched after the deposit was recorded, so the statement's balance includes it.
    const statement = await ledger.collateralStatement({
      accountId: settings.segregatedAccount,
      domain: { chainId: chain.chainId, verifyingContract: chain.token },
    });
    faults?.("mint.sign.after-statement");
    return db.transaction(async (tx) => {
      const row = (
        await tx.query<MintRow>("SELECT * FROM stablecoin.mint_requests WHERE id = $1 AND state = 'deposited' FOR UPDATE SKIP LOCKED", [first.needsStatement])
      ).rows[0];
      // Another worker signed it meanwhile: the statement is simply unused; other requests may be due.
      if (!row) return "waiting";
      return this.#sign(tx, row, statement);
    });
  }

  async #stepIn(tx: Queryable, notices: Array<() => void>): Promise<MintStepOutcome | { needsStatement: string }> {
    const row = (
      await tx.query<MintRow>(
        `SELECT * FROM stablecoin.mint_requests
          WHERE state IN ('deposited', 'signed', 'submitted') AND next_check_at <= now()
          ORDER BY CASE state WHEN 'submitted' THEN 0 WHEN 'signed' THEN 1 ELSE 2 END, deposited_at, id
          LIMIT 1 FOR UPDATE SKIP LOCKED`,
      )
    ).rows[0];
    if (!row) return "idle";
    if (row.state === "deposited") return { needsStatement: row.id };
    if (row.state === "signed") return this.#broadcast(tx, row);
    return this.#reconcile(tx, row, notices);
  }

  /** Runs steps until nothing is due; returns how many did something. */
  async drain(limit = 1000): Promise<number> {
    let done = 0;
    while (done < limit) {
      const outcome = await this.step();
      if (outcome === "idle") break;
      done++;
    }
    return done;
  }

  async #sign(tx: Queryable, row: MintRow, signed: SignedCollateralStatement): Promise<MintStepOutcome> {
    const { chain, faults } = this.#options;
    const minter = chain.minterAddress;
    await tx.query("INSERT INTO stablecoin.minter_nonces (minter, next_nonce) VALUES ($1, 0) ON CONFLICT DO NOTHING", [minter]);
    // The minter row lock makes nonce allocation one at a time across every gateway process.
    const nonces = (
      await tx.query<{ next_nonce: bigint; statement_height: bigint }>(
        "SELECT next_nonce, statement_height FROM stablecoin.minter_nonces WHERE minter = $1 FOR UPDATE",
        [minter],
      )
    ).rows[0]!;
    const chainNonce = BigInt(await chain.nonce("pending"));
    const nonce = BigInt(nonces.next_nonce) > chainNonce ? BigInt(nonces.next_nonce) : chainNonce;
    const accepted = await chain.acceptedStatement();
    const known = BigInt(nonces.statement_height) > accepted.height ? BigInt(nonces.statement_height) : accepted.height;
    // The token refuses a height it already accepted; an earlier nonce carrying this statement runs first.
    const carry = signed.statement.height > known;
    const transaction = await chain.signMint({
      to: getAddress(row.to_address),
      amount: BigInt(row.amount),
      nonce,
      fees: await chain.fees(),
      ...(carry ? { statement: { statement: signed.statement, signature: signed.signature } } : {}),
    });
    await tx.query("INSERT INTO stablecoin.mint_transactions (hash, mint_id, minter, nonce, raw) VALUES ($1, $2, $3, $4, $5)", [
      transaction.hash,
      row.id,
      minter,
      nonce,
      transaction.raw,
    ]);
    await tx.query("UPDATE stablecoin.minter_nonces SET next_nonce = $2, statement_height = $3 WHERE minter = $1", [
      minter,
      nonce + 1n,
      carry ? signed.statement.height : BigInt(nonces.statement_height),
    ]);
    await applyTransition(tx, { table: "stablecoin.mint_requests", id: row.id }, mintTransitions, "signed", {
      statement: JSON.stringify(statementJson(signed.statement, signed.signature, carry)),
      attempts: row.attempts + 1,
    });
    faults?.("mint.sign.before-commit");
    return "signed";
  }

  async #broadcast(tx: Queryable, row: MintRow): Promise<MintStepOutcome> {
    const { chain, faults } = this.#options;
    const latest = (
      await tx.query<{ raw: Hex }>(
        "SELECT raw FROM stablecoin.mint_transactions WHERE mint_id = $1 AND outcome = 'pending' ORDER BY created_at DESC, hash LIMIT 1",
        [row.id],
      )
    ).rows[0];
    if (latest) await chain.broadcast(latest.raw);
    faults?.("mint.broadcast.after-send");
    await applyTransition(tx, { table: "stablecoin.mint_requests", id: row.id }, mintTransitions, "broadcast", {
      submitted_at: row.submitted_at ?? new Date(),
      next_check_at: new Date(),
    });
    return "broadcast";
  }

  async #reconcile(tx: Queryable, row: MintRow, notices: Array<() => void>): Promise<MintStepOutcome> {
    const { chain, settings, faults } = this.#options;
    const recorded = (
      await tx.query<{ hash: Hex; nonce: bigint; raw: Hex; created_at: Date }>(
        "SELECT hash, nonce, raw, created_at FROM stablecoin.mint_transactions WHERE mint_id = $1 AND outcome = 'pending' ORDER BY created_at, hash",
        [row.id],
      )
    ).rows;
    // Read the nonce before the receipts: a transaction mined in between then shows up as a receipt.
    const minedNonce = BigInt(await chain.nonce("latest"));
    let reverted = false;
    for (const transaction of recorded) {
      const receipt = await chain.receipt(transaction.hash);
      if (!receipt) continue;
      if (receipt.status === "success") {
        const head = await chain.head();
        if (head - receipt.blockNumber + 1n < BigInt(settings.confirmations)) return this.#waitAgain(tx, row);
        await tx.query("UPDATE stablecoin.mint_transactions SET outcome = CASE WHEN hash = $2 THEN 'mined' ELSE 'dropped' END WHERE mint_id = $1 AND outcome = 'pending'", [
          row.id,
          transaction.hash,
        ]);
        const mintedAt = new Date();
        await applyTransition(tx, { table: "stablecoin.mint_requests", id: row.id }, mintTransitions, "confirmed", {
          minted_tx_hash: transaction.hash,
          minted_block: receipt.blockNumber,
          minted_at: mintedAt,
        });
        faults?.("mint.confirm.before-commit");
        const minted = mintFromRow({ ...row, state: "minted", minted_tx_hash: transaction.hash, minted_block: receipt.blockNumber, minted_at: mintedAt });
        notices.push(() => this.#options.onMinted?.(minted));
        return "minted";
      }
      await tx.query("UPDATE stablecoin.mint_transactions SET outcome = 'reverted' WHERE hash = $1", [transaction.hash]);
      reverted = true;
    }
    const nonce = recorded[0]?.nonce === undefined ? undefined : BigInt(recorded[0].nonce);
    const nonceTaken = nonce === undefined || minedNonce > nonce;
    if (reverted || nonceTaken) {
      // Nothing of ours was mined with this nonce, so minting again cannot double-mint.
      await tx.query("UPDATE stablecoin.mint_transactions SET outcome = 'dropped' WHERE mint_id = $1 AND outcome = 'pending'", [row.id]);
      const accepted = await chain.acceptedStatement();
      await tx.query("UPDATE stablecoin.minter_nonces SET statement_height = LEAST(statement_height, $2) WHERE minter = $1", [
        chain.minterAddress,
        accepted.height,
      ]);
      if (row.attempts >= settings.maxAttempts) {
        await applyTransition(tx, { table: "stablecoin.mint_requests", id: row.id }, mintTransitions, "failed", {
          failure_code: reverted ? "MINT_REVERTED" : "NONCE_TAKEN",
          failure_message: `gave up after ${row.attempts} attempts; the deposit stays in the segregated wallet`,
        });
        const failed = mintFromRow({ ...row, state: "failed" });
        notices.push(() => this.#options.onFailed?.(failed));
        return "failed";
      }
      await applyTransition(tx, { table: "stablecoin.mint_requests", id: row.id }, mintTransitions, "retry", { next_check_at: new Date() });
      return "retry";
    }
    const newest = recorded[recorded.length - 1]!;
    if (Date.now() - newest.created_at.getTime() > settings.stuckAfterMs) {
      const fees = await chain.replacementFees(newest.raw);
      const replacement = await chain.signMint({
        ...(await this.#mintCall(tx, row)),
        nonce: BigInt(newest.nonce),
        fees,
      });
      await tx.query("INSERT INTO stablecoin.mint_transactions (hash, mint_id, minter, nonce, raw) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", [
        replacement.hash,
        row.id,
        chain.minterAddress,
        newest.nonce,
        replacement.raw,
      ]);
      await applyTransition(tx, { table: "stablecoin.mint_requests", id: row.id }, mintTransitions, "replaced", { next_check_at: new Date() });
      return "replaced";
    }
    // Resend: a node may have dropped it from its pool; the same bytes cannot mint twice.
    await chain.broadcast(newest.raw);
    return this.#waitAgain(tx, row);
  }

  async #waitAgain(tx: Queryable, row: MintRow): Promise<MintStepOutcome> {
    await tx.query("UPDATE stablecoin.mint_requests SET next_check_at = now() + make_interval(secs => $2) WHERE id = $1", [
      row.id,
      this.#options.settings.recheckMs / 1000,
    ]);
    return "waiting";
  }

  /** The same call as the recorded attempt (statement or not), for a replacement. */
  async #mintCall(tx: Queryable, row: MintRow): Promise<{ to: Address; amount: bigint; statement?: { statement: CollateralStatement; signature: Hex } }> {
    const stored = (await tx.query<{ statement: StatementJson | string | null }>("SELECT statement FROM stablecoin.mint_requests WHERE id = $1", [row.id])).rows[0]?.statement;
    const parsed: StatementJson | null = typeof stored === "string" ? (JSON.parse(stored) as StatementJson) : (stored ?? null);
    const base = { to: getAddress(row.to_address), amount: BigInt(row.amount) };
    if (!parsed?.carried) return base;
    return {
      ...base,
      statement: {
        statement: { account: parsed.account, balance: BigInt(parsed.balance), paidOut: BigInt(parsed.paidOut), height: BigInt(parsed.height), timestamp: BigInt(parsed.timestamp) },
        signature: parsed.signature,
      },
    };
  }
}

interface StatementJson {
  account: string;
  balance: string;
  paidOut: string;
  height: string;
  timestamp: string;
  signature: Hex;
  /** Whether the mint transaction carried the statement or relied on one already sent. */
  carried: boolean;
}

function statementJson(statement: CollateralStatement, signature: Hex, carried: boolean): StatementJson {
  return {
    account: statement.account,
    balance: statement.balance.toString(),
    paidOut: statement.paidOut.toString(),
    height: statement.height.toString(),
    timestamp: statement.timestamp.toString(),
    signature,
    carried,
  };
}
