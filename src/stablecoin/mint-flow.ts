import { randomBytes } from "node:crypto";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { MintError } from "./errors.ts";
import { isDtLedgerError, isPermanentDtRefusal, type LedgerEvent, type SignedCollateralStatement, type SignedIssuanceAllotment } from "../ledger/dt-ledger-port.ts";
import { AllotmentRelayer } from "./allotment-relay.ts";
import { registerPoolChain } from "./allotments.ts";
import type { Database, Queryable } from "../persistence/database.ts";
import type { CollateralStatement } from "../ledger/collateral-statement.ts";
import type { Exchange, HoldReason, MintRequest } from "./model.ts";
import { formatKzt } from "./kzt.ts";
import type { Faults, StablecoinLedger } from "./stablecoin-ledger.ts";
import { onChainRedemptionId } from "./redemption-id.ts";
import { moveMint } from "./state-machines.ts";
import { depositRows, exchangeRows, mintedToday, mintFromRow, mintRows, minterNonceRows, mintTransactionRows, requestedToday, type MintRow } from "./store.ts";
import type { TokenChain } from "./token-chain.ts";
import type { WorkerFault } from "../server/worker-faults.ts";

export type { HoldReason, MintRequest } from "./model.ts";

export { MintError, type MintErrorCode } from "./errors.ts";


export interface MintSettings {
  /** DT account of the segregated collateral wallet. */
  segregatedAccount: string;
  /** The collateral intake deposits arrive in; a matched one moves on into the wallet before its mint. */
  intakeAccount: string;
  /** Blocks a mint receipt needs (1 = the block that includes it). */
  confirmations: number;
  /** A submitted transaction without a receipt this long is replaced with higher fees. */
  stuckAfterMs: number;
  /** How often a submitted request is checked again. */
  recheckMs: number;
  /** Reverted or lost attempts before a request is marked failed for an operator. */
  maxAttempts: number;
}

// Crockford-style alphabet: no I, L, O, U, so a reference survives being read aloud or retyped.
const REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
function newReference(): string {
  const bytes = randomBytes(10);
  return `MINT-${Array.from(bytes, (byte) => REFERENCE_ALPHABET[byte % 32]).join("")}`;
}

/** Where and when a mint request is opened (each optional). */
export interface MintRequestOptions {
  /** Default: the exchange's first registered address. */
  toAddress?: string;
  /** The chain to mint on, already checked against the configured chains (default: the first chain). */
  chainId?: number;
  now?: Date;
}

/** Opens a mint request; the exchange then pays exactly `amount` into the collateral intake with the reference. */
export async function requestMint(db: Database, exchange: Exchange, amount: bigint, options: MintRequestOptions = {}): Promise<MintRequest> {
  const { toAddress, chainId, now = new Date() } = options;
  if (exchange.status !== "active") throw new MintError("EXCHANGE_SUSPENDED", `exchange ${exchange.id} is suspended`);
  if (amount > exchange.perMintLimit) throw new MintError("OVER_PER_MINT_LIMIT", `the per-mint limit is ${formatKzt(exchange.perMintLimit)} KZT`);
  const to = toAddress === undefined ? exchange.evmAddresses[0]! : isAddress(toAddress, { strict: false }) ? getAddress(toAddress) : undefined;
  if (!to || !exchange.evmAddresses.includes(to)) {
    throw new MintError("ADDRESS_NOT_REGISTERED", "mints go only to an EVM address registered for the exchange");
  }
  return db.transaction(async (tx) => {
    await exchangeRows.lock(tx, exchange.id);
    const today = await requestedToday(tx, exchange.id, now);
    if (today + amount > exchange.dailyLimit) {
      throw new MintError("OVER_DAILY_LIMIT", `the daily limit is ${formatKzt(exchange.dailyLimit)} KZT; ${formatKzt(today)} KZT already requested today`);
    }
    return mintRows.insert(tx, { id: `mint_${randomBytes(8).toString("hex")}`, reference: newReference(), exchangeId: exchange.id, amount, toAddress: to, chainId });
  });
}

export async function cancelMint(db: Database, exchangeId: string, id: string): Promise<MintRequest> {
  return db.transaction(async (tx) => {
    // Another exchange's request answers exactly like a missing one, and is left alone.
    const current = await mintRows.get(tx, id, exchangeId);
    if (!current) throw new MintError("MINT_NOT_FOUND", `no mint request ${id}`);
    if (!(await moveMint(tx, id, "cancelled"))) throw new MintError("NOT_CANCELLABLE", `mint request ${id} is ${current.state}; only one awaiting its deposit can be cancelled`);
    return (await mintRows.get(tx, id))!;
  });
}

type PaymentEvent = Extract<LedgerEvent, { type: "payment" }>;

const EXPIRED = { failureCode: "EXPIRED", failureMessage: "no deposit arrived in time" };

/**
 * Expires the mint requests still unpaid `ttlMs` after they were opened (one transition each, in the
 * caller's transaction). Returns how many expired.
 */
export async function expireMintRequests(tx: Queryable, ttlMs: number, now = new Date()): Promise<number> {
  let expired = 0;
  for (const id of await mintRows.lockUnpaidOpenedBy(tx, new Date(now.getTime() - ttlMs))) {
    if (await moveMint(tx, id, "expired", EXPIRED)) expired += 1;
  }
  return expired;
}

/**
 * Records one DT payment into the collateral intake (once per ledger event id) and either matches it to
 * its mint request or holds it for an operator. Returns the matched request id, if any.
 */
export async function recordDeposit(tx: Queryable, event: PaymentEvent, mintRequestTtlMs = Number.POSITIVE_INFINITY, now = new Date()): Promise<{ mintId?: string; held?: HoldReason } | undefined> {
  if (await depositRows.seen(tx, event.id)) return undefined;
  const request = await mintRows.lockByReference(tx, event.reference.trim());
  let held: HoldReason | undefined;
  if (!request) held = "UNKNOWN_REFERENCE";
  else if (request.state === "expired") held = "REQUEST_EXPIRED";
  else if (request.state === "awaiting_deposit" && new Date(request.created_at).getTime() + mintRequestTtlMs <= event.at.getTime()) {
    // Paid after the request's lifetime, before a sweep noticed: expire it now and hold the DT for an operator.
    await moveMint(tx, request.id, "expired", EXPIRED);
    held = "REQUEST_EXPIRED";
  } else if (request.state !== "awaiting_deposit") held = "REFERENCE_ALREADY_USED";
  else if (request.dt_account !== event.from) held = "WRONG_SENDER";
  else if (BigInt(request.amount) !== event.amount) held = "AMOUNT_MISMATCH";
  else if (request.status !== "active") held = "EXCHANGE_SUSPENDED";
  else if (event.amount > BigInt(request.per_mint_limit)) held = "OVER_PER_MINT_LIMIT";
  else if ((await mintedToday(tx, request.exchange_id, event.at)) + event.amount > BigInt(request.daily_limit)) held = "OVER_DAILY_LIMIT";
  await depositRows.insert(tx, event, {
    held,
    mintId: held ? null : request!.id,
    exchangeId: request?.exchange_id ?? (await exchangeRows.idOfAccount(tx, event.from)) ?? null,
  });
  if (held) return { held };
  await moveMint(tx, request!.id, "depositMatched", {
    depositEventId: event.id,
    depositedAt: now,
    nextCheckAt: now,
  });
  return { mintId: request!.id };
}

export interface MintWorkerOptions {
  db: Database;
  ledger: StablecoinLedger;
  /** The one chain this worker mints on (one worker per configured chain with a minter key). */
  chain: TokenChain;
  /** The first configured chain's worker also takes requests from before several chains (default true). */
  firstChain?: boolean;
  settings: MintSettings;
  faults?: Faults;
  /** Called after a mint is confirmed (renews the proof of collateral, records metrics). */
  onMinted?(mint: MintRequest): void;
  onFailed?(mint: MintRequest): void;
  /**
   * Why signed mints cannot be sent (no gas, ...): the code is set on the request and it is retried after
   * `faultRetryMs`; called with undefined once a mint is sent again. Undefined: every send error is thrown.
   */
  faultOf?(error: unknown): WorkerFault | undefined;
  onFault?(fault: WorkerFault | undefined): void;
  faultRetryMs?: number;
  /** The worker's time (default: the wall clock). */
  clock?: () => Date;
}

/** What one worker step did, for logs and tests. */
export type MintStepOutcome = "idle" | "relayed" | "signed" | "broadcast" | "minted" | "waiting" | "replaced" | "retry" | "failed";

/**
 * Moves deposited mint requests to minted, one transition per database transaction:
 * deposited (on a token that requires allotments: the deposit's credit allotted to this chain by the DT
 * ledger, keyed by the mint id, and relayed until the chain holds it)
 * -> signed (fresh statement, nonce allocated, transaction signed and recorded before sending)
 * -> submitted (sent; resending the same bytes is harmless) -> minted (receipt with confirmations).
 * A stuck transaction is replaced with the same nonce and higher fees; when every recorded transaction
 * reverted or lost its nonce, nothing was minted and the request is signed again.
 */
export class MintWorker {
  readonly #options: MintWorkerOptions;
  #allotmentsRequired = false;
  #relay: AllotmentRelayer | undefined;

  constructor(options: MintWorkerOptions) {
    this.#options = options;
  }

  #now(): Date {
    return (this.#options.clock ?? (() => new Date()))();
  }

  /**
   * Advances one request by one transition. The DT ledger is never called inside a database transaction
   * (the embedded ledger may share the gateway's one-connection PGlite): a request that needs a statement
   * is picked, the statement is fetched outside, and the request is locked again to sign.
   */
  async step(): Promise<MintStepOutcome> {
    // The request a step works on: an operator-fixable failure (RPC down, no statement signer, allowance spent)
    // shows on it as its failure code, and clears once it moves again.
    let working: { id: string; failureCode: string | null } | undefined;
    const { db, faultOf, onFault } = this.#options;
    try {
      const outcome = await this.#step((row) => (working = { id: row.id, failureCode: row.failure_code }));
      if (working?.failureCode && outcome !== "retry") {
        const { id } = working;
        await db.transaction((tx) => mintRows.clearFault(tx, id));
        onFault?.(undefined);
      }
      return outcome;
    } catch (error) {
      const fault = working ? faultOf?.(error) : undefined;
      if (!working || !fault) throw error;
      const { id } = working;
      await db.transaction((tx) => mintRows.markFault(tx, id, fault.code, fault.reason, this.#options.faultRetryMs ?? 5000));
      onFault?.(fault);
      return "retry";
    }
  }

  async #step(onRow: (row: MintRow) => void): Promise<MintStepOutcome> {
    const { db, ledger, chain, settings, faults } = this.#options;
    const notices: Array<() => void> = [];
    const first = await db.transaction(async (tx) => {
      notices.length = 0;
      return this.#stepIn(tx, notices, onRow);
    });
    // Only after the commit: a crash before it means nothing happened yet.
    for (const notice of notices) notice();
    if (typeof first !== "object") return first;
    const backed = first.move !== undefined;
    if (first.move) {
      // The matched deposit leaves the intake for the wallet (once: the mint id keys the payment), so the
      // statement fetched next counts it; nothing that matched no request ever reaches the wallet.
      try {
        await ledger.transfer({ idempotencyKey: `collateral:${first.needsStatement}`, from: settings.intakeAccount, to: settings.segregatedAccount, ...first.move });
      } catch (error) {
        if (!isPermanentDtRefusal(error)) throw error;
        return this.#failDeposited(first.needsStatement, `DT_${error.code}`, `the DT ledger refused moving the deposit into the segregated wallet: ${error.message}`);
      }
    }
    // A token that requires allotments mints only within its chain's limit: the deposit's credit is allotted
    // to this chain (once: the mint id keys it) and relayed before the mint is signed. A re-mint needs none
    // (a reversal is not counted as issued).
    if (backed && (await this.#requiresAllotments())) {
      let credit: SignedIssuanceAllotment;
      const request = {
        accountId: settings.segregatedAccount,
        reference: `mint:${first.needsStatement}`,
        change: { kind: "credit", chainId: BigInt(chain.chainId), amount: first.move!.amount },
      } as const;
      try {
        credit = await ledger.issuanceAllotment(request).catch(async (error: unknown) => {
          // A token told to require allotments while this process runs: its chain enters the pool (once), then the credit.
          if (!isDtLedgerError(error) || error.code !== "ALLOTMENT_UNKNOWN_CHAIN") throw error;
          await registerPoolChain(ledger, { segregatedAccount: settings.segregatedAccount, chainId: chain.chainId, token: chain.token });
          return ledger.issuanceAllotment(request);
        });
      } catch (error) {
        if (!isPermanentDtRefusal(error)) throw error;
        return this.#failDeposited(first.needsStatement, `DT_${error.code}`, `the DT ledger refused allotting the deposit to chain ${chain.chainId}: ${error.message}`);
      }
      faults?.("mint.allot.after-credit");
      const held = await this.#relayer().ensureHeld(credit.allotment.sequence);
      if (held !== "held") {
        await db.transaction((tx) => mintRows.checkAgainIn(tx, first.needsStatement, settings.recheckMs));
        return held === "relayed" ? "relayed" : "waiting";
      }
    }
    // Fetched after the deposit reached the wallet, so the statement's balance includes it.
    const statement = await ledger.collateralStatement({
      accountId: settings.segregatedAccount,
      domain: { chainId: chain.chainId, verifyingContract: chain.token },
    });
    faults?.("mint.sign.after-statement");
    return db.transaction(async (tx) => {
      const row = await mintRows.lockDeposited(tx, first.needsStatement);
      // Another worker signed it meanwhile: the statement is simply unused; other requests may be due.
      if (!row) return "waiting";
      return this.#sign(tx, row, statement);
    });
  }

  /** A deposited request the DT ledger refused for good (moving its deposit, allotting it): kept for an operator. */
  async #failDeposited(id: string, failureCode: string, failureMessage: string): Promise<MintStepOutcome> {
    const failed = await this.#options.db.transaction(async (tx) => {
      const moved = await moveMint(tx, id, "failed", { failureCode, failureMessage });
      return moved ? mintRows.get(tx, id) : undefined;
    });
    if (!failed) return "waiting";
    this.#options.onFailed?.(failed);
    return "failed";
  }

  /** Whether the chain's token needs allotments; once it does it always will (requireIssuanceAllotments is one-way). */
  async #requiresAllotments(): Promise<boolean> {
    if (this.#allotmentsRequired) return true;
    this.#allotmentsRequired = (await this.#options.chain.issuance()).required;
    return this.#allotmentsRequired;
  }

  #relayer(): AllotmentRelayer {
    const { db, ledger, chain, settings, faults } = this.#options;
    this.#relay ??= new AllotmentRelayer({ db, ledger, chain, segregatedAccount: settings.segregatedAccount, stuckAfterMs: settings.stuckAfterMs, clock: () => this.#now(), ...(faults ? { faults } : {}) });
    return this.#relay;
  }

  async #stepIn(tx: Queryable, notices: Array<() => void>, onRow: (row: MintRow) => void): Promise<MintStepOutcome | { needsStatement: string; move?: { amount: bigint; reference: string } }> {
    const row = await mintRows.lockNextDue(tx, this.#options.chain.chainId, this.#options.firstChain ?? true);
    if (!row) return "idle";
    onRow(row);
    // A re-mint and a move's mint have no deposit behind them: their DT never left the wallet.
    if (row.state === "deposited") return { needsStatement: row.id, ...(row.reverses_redemption === null && row.move_id === null ? { move: { amount: BigInt(row.amount), reference: row.reference } } : {}) };
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
    // The minter row lock makes nonce allocation one at a time across every gateway process.
    const nonces = await minterNonceRows.lock(tx, chain.chainId, minter);
    const chainNonce = BigInt(await chain.nonce("pending"));
    const nonce = nonces.nextNonce > chainNonce ? nonces.nextNonce : chainNonce;
    // Refused on chain (MinterAllowanceExceeded) only after the gas is spent: checked before anything is signed.
    const allowance = await chain.minterAllowance();
    if (allowance < BigInt(row.amount)) {
      throw new Error(`MinterAllowanceExceeded: the minter ${minter} may mint ${allowance} tiyn more; this mint needs ${row.amount}`);
    }
    const accepted = await chain.acceptedStatement();
    const known = nonces.statementHeight > accepted.height ? nonces.statementHeight : accepted.height;
    // The token refuses a height it already accepted; an earlier nonce carrying this statement runs first.
    // A re-mint always carries one: only a statement accepted after the reversal counts its DT again. At the
    // accepted height the token takes it only with a newer timestamp (and none pending): else wait a second.
    const remint = row.reverses_redemption !== null;
    const refreshes = nonces.statementHeight <= accepted.height && signed.statement.height === accepted.height && signed.statement.timestamp > accepted.timestamp;
    if (remint && signed.statement.height <= known && !refreshes) {
      await mintRows.checkAgainIn(tx, row.id, 1000);
      return "waiting";
    }
    const carry = remint || signed.statement.height > known;
    const transaction = await chain.signMint({
      to: getAddress(row.to_address),
      amount: BigInt(row.amount),
      nonce,
      fees: await chain.fees(),
      ...(carry ? { statement: { statement: signed.statement, signature: signed.signature } } : {}),
      ...reversalOf(row),
    });
    await mintTransactionRows.insert(tx, { hash: transaction.hash, mintId: row.id, minter, nonce, raw: transaction.raw });
    await minterNonceRows.set(tx, chain.chainId, minter, nonce + 1n, carry && signed.statement.height > nonces.statementHeight ? signed.statement.height : nonces.statementHeight);
    await moveMint(tx, row.id, "signed", {
      statement: JSON.stringify(statementJson(signed.statement, signed.signature, carry)),
      attempts: row.attempts + 1,
    });
    faults?.("mint.sign.before-commit");
    return "signed";
  }

  async #broadcast(tx: Queryable, row: MintRow): Promise<MintStepOutcome> {
    const { chain, faults } = this.#options;
    const pending = await mintTransactionRows.pending(tx, row.id);
    const latest = pending[pending.length - 1];
    try {
      if (latest) await chain.broadcast(latest.raw);
    } catch (error) {
      const fault = this.#options.faultOf?.(error);
      if (!fault) throw error;
      await mintRows.markStuck(tx, row.id, fault.code, fault.reason, this.#options.faultRetryMs ?? 5000);
      this.#options.onFault?.(fault);
      return "retry";
    }
    faults?.("mint.broadcast.after-send");
    await moveMint(tx, row.id, "broadcast", {
      submittedAt: row.submitted_at ?? this.#now(),
      nextCheckAt: this.#now(),
      ...(row.failure_code ? { failureCode: null, failureMessage: null } : {}),
    });
    if (row.failure_code) this.#options.onFault?.(undefined);
    return "broadcast";
  }

  async #reconcile(tx: Queryable, row: MintRow, notices: Array<() => void>): Promise<MintStepOutcome> {
    const { chain, settings, faults } = this.#options;
    const recorded = await mintTransactionRows.pending(tx, row.id);
    // Read the nonce before the receipts: a transaction mined in between then shows up as a receipt.
    const minedNonce = BigInt(await chain.nonce("latest"));
    let reverted = false;
    for (const transaction of recorded) {
      const receipt = await chain.receipt(transaction.hash);
      if (!receipt) continue;
      if (receipt.status === "success") {
        const head = await chain.head();
        if (head - receipt.blockNumber + 1n < BigInt(settings.confirmations)) return this.#waitAgain(tx, row);
        await mintTransactionRows.settle(tx, row.id, transaction.hash);
        const mintedAt = this.#now();
        await moveMint(tx, row.id, "confirmed", {
          mintedTxHash: transaction.hash,
          mintedBlock: receipt.blockNumber,
          mintedAt,
        });
        faults?.("mint.confirm.before-commit");
        const minted = mintFromRow({ ...row, state: "minted", minted_tx_hash: transaction.hash, minted_block: receipt.blockNumber, minted_at: mintedAt });
        notices.push(() => this.#options.onMinted?.(minted));
        return "minted";
      }
      await mintTransactionRows.markReverted(tx, transaction.hash);
      reverted = true;
    }
    const nonce = recorded[0]?.nonce;
    const nonceTaken = nonce === undefined || minedNonce > nonce;
    if (reverted || nonceTaken) {
      // Nothing of ours was mined with this nonce, so minting again cannot double-mint.
      await mintTransactionRows.dropPending(tx, row.id);
      const accepted = await chain.acceptedStatement();
      await minterNonceRows.lowerStatementHeight(tx, chain.chainId, chain.minterAddress, accepted.height);
      if (row.attempts >= settings.maxAttempts) {
        await moveMint(tx, row.id, "failed", {
          failureCode: reverted ? "MINT_REVERTED" : "NONCE_TAKEN",
          failureMessage: `gave up after ${row.attempts} attempts; the deposit stays in the segregated wallet`,
        });
        const failed = mintFromRow({ ...row, state: "failed" });
        notices.push(() => this.#options.onFailed?.(failed));
        return "failed";
      }
      await moveMint(tx, row.id, "retry", { nextCheckAt: this.#now() });
      return "retry";
    }
    const newest = recorded[recorded.length - 1]!;
    if (this.#now().getTime() - newest.createdAt.getTime() > settings.stuckAfterMs) {
      const fees = await chain.replacementFees(newest.raw);
      const replacement = await chain.signMint({
        ...(await this.#mintCall(tx, row)),
        nonce: newest.nonce,
        fees,
      });
      await mintTransactionRows.insert(tx, { hash: replacement.hash, mintId: row.id, minter: chain.minterAddress, nonce: newest.nonce, raw: replacement.raw });
      await moveMint(tx, row.id, "replaced", { nextCheckAt: this.#now() });
      return "replaced";
    }
    // Resend: a node may have dropped it from its pool; the same bytes cannot mint twice.
    await chain.broadcast(newest.raw);
    return this.#waitAgain(tx, row);
  }

  async #waitAgain(tx: Queryable, row: MintRow): Promise<MintStepOutcome> {
    await mintRows.checkAgainIn(tx, row.id, this.#options.settings.recheckMs);
    return "waiting";
  }

  /** The same call as the recorded attempt (statement or not), for a replacement. */
  async #mintCall(tx: Queryable, row: MintRow): Promise<{ to: Address; amount: bigint; statement?: { statement: CollateralStatement; signature: Hex }; reversal?: { redemptionId: Hex } }> {
    const stored = await mintRows.statement(tx, row.id);
    const parsed = (typeof stored === "string" ? JSON.parse(stored) : stored) as StatementJson | null;
    const base = { to: getAddress(row.to_address), amount: BigInt(row.amount), ...reversalOf(row) };
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

/** The on-chain reversal a re-mint request's transaction makes, if it is one. */
function reversalOf(row: MintRow): { reversal?: { redemptionId: Hex } } {
  return row.reverses_redemption === null ? {} : { reversal: { redemptionId: onChainRedemptionId(row.reverses_redemption) } };
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
