import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Address, Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { sqlState, type Database, type Queryable } from "../persistence/database.ts";
import { signCollateralStatement } from "../ledger/collateral-statement.ts";
import {
  AllotmentRefused,
  nextIssuanceAllotment,
  recoverIssuanceAllotmentSigner,
  signIssuanceAllotment,
  type IssuanceAllotment,
} from "../ledger/issuance-allotment.ts";
import {
  ACCOUNT_KINDS,
  ACTIVITY_PAGE_MAX,
  DtLedgerError,
  type AccountActivity,
  type AccountBalance,
  type AccountEntry,
  type AccountKind,
  type ActivityRequest,
  type CollateralStatementRequest,
  type DigitalAccount,
  type DtLedgerErrorCode,
  type EarlyRefundConsent,
  type EventPage,
  type EventsRequest,
  type Hold,
  type HoldRequest,
  type IssuanceAllotmentRequest,
  type OpenAccountRequest,
  type PaymentType,
  type RefundRequest,
  type SignedCollateralStatement,
  type SignedIssuanceAllotment,
  type TransferReceipt,
  type TransferRequest,
} from "../ledger/dt-ledger-port.ts";
import { readEvents } from "./events.ts";
import {
  claimIdempotencyKey,
  commitLedgerTransaction,
  fingerprint,
  type EventRecord,
} from "./ledger-transaction.ts";
import { heldToken, selectInputs, spendAndCreate, type OutputToken } from "./notary.ts";
import {
  findParticipant,
  mayOpen,
  registerParticipant,
  type Participant,
  type ParticipantRegistration,
  type ParticipantRole,
} from "./participants.ts";
import { requireAllotmentRequest } from "./allotment-requests.ts";
import {
  accountToJson,
  allotmentChangeFromJson,
  allotmentChangeToJson,
  allotmentFromJson,
  allotmentToJson,
  holdToJson,
  type Json,
} from "./wire.ts";

/**
 * Requests as a participant may send them (over HTTP, as JSON): the ledger checks the account kind, the
 * hold's one condition and the release's one proof itself, so a caller gets the ledger's own refusal.
 */
export type OpenAccountInput = Omit<OpenAccountRequest, "kind"> & { kind: string };
export type HoldInput = Omit<HoldRequest, "condition"> & { condition: { hashLock?: string; eventId?: string } };
export type ReleaseInput = { idempotencyKey: string; holdId: string; preimage?: string; eventId?: string };

const isAccountKind = (kind: string): kind is AccountKind => (ACCOUNT_KINDS as readonly string[]).includes(kind);

export interface DtLedgerOptions {
  db: Database;
  /** The ledger operator's secp256k1 key (0x hex) that signs collateral statements. */
  operatorKey?: Hex;
  /** The ledger's clock (expiries, booking times, statement times); tests pass a controllable one. */
  now?: () => Date;
}

/** Conversion between non-cash tenge and DT at the NBK: issuance credits, redemption debits. */
export interface ConversionRequest {
  idempotencyKey: string;
  accountId: string;
  amount: bigint;
  reference: string;
}

export interface ConversionReceipt {
  transactionId: string;
  height: bigint;
  accountId: string;
  amount: bigint;
  reference: string;
  bookedAt: Date;
}

export interface CloseAccountRequest {
  idempotencyKey: string;
  accountId: string;
}

/** The NBK's monitoring view of the whole ledger. */
export interface LedgerMonitoring {
  height: bigint;
  /** Tiyn in unspent tokens: everything issued minus everything redeemed. */
  supply: bigint;
  issued: bigint;
  redeemed: bigint;
  openAccounts: bigint;
  activeHolds: bigint;
  heldAmount: bigint;
}

interface Caller {
  id: string;
  role: ParticipantRole;
}

interface AccountRow {
  id: string;
  participant_id: string;
  kind: AccountKind;
  holder_name: string;
  status: "open" | "closed";
  opened_at: Date;
}

interface HoldRow {
  id: string;
  owner_account: string;
  beneficiary_account: string;
  amount: bigint;
  hash_lock: Uint8Array | null;
  event_id: string | null;
  expires_at: Date;
  reference: string;
  status: Hold["status"];
  created_by: string;
  created_height: bigint;
  settled_height: bigint | null;
  preimage: Uint8Array | null;
  owner_participant: string;
  beneficiary_participant: string;
}

const MAX_AMOUNT = 2n ** 62n;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HASH_LOCK = /^0x[0-9a-fA-F]{64}$/;

const toHex = (bytes: Uint8Array): Hex => `0x${Buffer.from(bytes).toString("hex")}`;
const fromHex = (hex: string): Buffer => Buffer.from(hex.slice(2), "hex");

function requireAmount(amount: unknown): bigint {
  if (typeof amount !== "bigint" || amount <= 0n || amount >= MAX_AMOUNT) {
    throw new DtLedgerError("INVALID_AMOUNT", "amount must be a positive whole number of tiyn");
  }
  return amount;
}

function requireText(value: unknown, field: string, max: number, allowEmpty = false): string {
  if (typeof value !== "string" || value.length > max || (!allowEmpty && value.trim() === "")) {
    throw new DtLedgerError("INVALID_REQUEST", `${field} must be ${allowEmpty ? "" : "non-empty "}text of at most ${max} characters`);
  }
  return value;
}

/** An early refund's consent: the creditor's BIC and its message id (ISO Max35Text), nothing else. */
function requireConsent(consent: unknown): EarlyRefundConsent {
  const { by, message } = (typeof consent === "object" && consent !== null ? consent : {}) as Record<string, unknown>;
  if (typeof by !== "string" || !/^[A-Z0-9]{8}([A-Z0-9]{3})?$/.test(by)) throw new DtLedgerError("INVALID_REQUEST", "earlyConsent.by must be the creditor side's BIC");
  return { by, message: requireText(message, "earlyConsent.message", 35) };
}

function requireUuid(value: unknown, field: string): string {
  if (typeof value !== "string" || !UUID.test(value)) throw new DtLedgerError("INVALID_REQUEST", `${field} must be a transaction id (UUID)`);
  return value;
}

/** The payment type of the NBK phase-one method list that a payment between two kinds of account is. */
export function paymentTypeOf(from: AccountKind, to: AccountKind): PaymentType {
  if (to === "segregated_wallet" || to === "collateral_intake") return "collateral_deposit";
  if (from === "segregated_wallet" || from === "collateral_intake") return "collateral_withdrawal";
  if (from === "government_agency" || to === "government_agency") return "government_payment";
  if (from === "individual") return to === "individual" ? "individual_to_individual" : "merchant_payment";
  return to === "individual" ? "le_to_individual" : "le_to_le";
}

/**
 * A segregated wallet is credited only from accounts its own servicer services (its collateral intake): its
 * collateral statements then never count DT that someone else paid in, whatever reference it carried.
 */
function creditsWallet(payer: AccountRow, payee: AccountRow): void {
  if (payee.kind === "segregated_wallet" && payer.participant_id !== payee.participant_id) {
    throw new DtLedgerError(
      "FORBIDDEN_OPERATION",
      `a segregated wallet takes DT only from accounts of ${payee.participant_id}; pay a mint deposit into the account the mint request names`,
    );
  }
}

function toAccount(row: AccountRow): DigitalAccount {
  return {
    id: row.id,
    participantId: row.participant_id,
    kind: row.kind,
    holderName: row.holder_name,
    status: row.status,
    openedAt: row.opened_at,
  };
}

function toHold(row: HoldRow): Hold {
  return {
    id: row.id,
    from: row.owner_account,
    beneficiary: row.beneficiary_account,
    amount: row.amount,
    condition: row.hash_lock ? { hashLock: toHex(row.hash_lock) } : { eventId: row.event_id ?? "" },
    expiresAt: row.expires_at,
    reference: row.reference,
    status: row.status,
    createdHeight: row.created_height,
    settledHeight: row.settled_height ?? undefined,
    preimage: row.preimage ? toHex(row.preimage) : undefined,
  };
}

const ACCOUNT_COLUMNS = "id, participant_id, kind, holder_name, status, opened_at";
const HOLD_SELECT = `SELECT h.id, h.owner_account, h.beneficiary_account, h.amount, h.hash_lock, h.event_id, h.expires_at,
       h.reference, h.status, h.created_by, h.preimage,
       COALESCE(ct.height, 0) AS created_height, st.height AS settled_height,
       o.participant_id AS owner_participant, b.participant_id AS beneficiary_participant
  FROM dt_ledger.holds h
  JOIN dt_ledger.accounts o ON o.id = h.owner_account
  JOIN dt_ledger.accounts b ON b.id = h.beneficiary_account
  LEFT JOIN dt_ledger.transactions ct ON ct.id = h.created_in
  LEFT JOIN dt_ledger.transactions st ON st.id = h.settled_in`;

/**
 * The embedded Digital Tenge ledger. Every operation names the participant that asks for it and is
 * authorised here: a bank touches only its own customers' accounts, the NBK issues and redeems, the
 * gateway operates its segregated wallet and places PvP holds. Adapters bind a participant to this class.
 */
export class DtLedger {
  readonly db: Database;
  private readonly now: () => Date;
  private readonly operatorKey: Hex | undefined;
  private readonly roles = new Map<string, ParticipantRole>();
  private readonly committedListeners = new Set<() => void>();

  constructor(options: DtLedgerOptions) {
    this.db = options.db;
    this.now = options.now ?? (() => new Date());
    this.operatorKey = options.operatorKey;
  }

  /** Address of the ledger operator's statement key (what verifiers compare signatures with). */
  get operatorAddress(): Address | undefined {
    return this.operatorKey ? privateKeyToAddress(this.operatorKey) : undefined;
  }

  registerParticipant(registration: ParticipantRegistration): Promise<Participant> {
    return registerParticipant(this.db, registration);
  }

  participant(id: string): Promise<Participant | undefined> {
    return findParticipant(this.db, id);
  }

  /** Called after each commit made through this instance (wakes long-polling event readers). */
  onCommitted(listener: () => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  // ---- accounts -------------------------------------------------------------------------------------

  async openAccount(participantId: string, request: OpenAccountInput): Promise<DigitalAccount> {
    const kind = request.kind;
    if (!isAccountKind(kind)) throw new DtLedgerError("INVALID_REQUEST", `kind must be one of ${ACCOUNT_KINDS.join(", ")}`);
    const holderName = requireText(request.holderName, "holderName", 140);
    const accountId = `DA-${participantId}-${randomBytes(6).toString("hex").toUpperCase()}`;
    return this.mutation(participantId, "open_account", request, accountId, (tx, id) => this.loadAccount(tx, id), async (tx, caller) => {
      if (!mayOpen(caller.role, kind)) {
        throw new DtLedgerError("FORBIDDEN_OPERATION", `a ${caller.role} participant does not open ${request.kind} accounts`);
      }
      const bookedAt = this.now();
      const inserted = await tx.query<AccountRow>(
        `INSERT INTO dt_ledger.accounts (id, participant_id, kind, holder_name, opened_at) VALUES ($1, $2, $3, $4, $5)
         RETURNING ${ACCOUNT_COLUMNS}`,
        [accountId, caller.id, request.kind, holderName, bookedAt],
      );
      const account = toAccount(inserted.rows[0]!);
      await commitLedgerTransaction(tx, {
        id: randomUUID(),
        kind: "account_opened",
        submittedBy: caller.id,
        bookedAt,
        to: accountId,
        entries: [],
        events: [{ type: "account_opened", payload: { account: accountToJson(account) }, visibleTo: [caller.id] }],
      });
      return account;
    });
  }

  /** Closes an empty account (no tokens, no active holds either way); it then refuses every payment. */
  async closeAccount(participantId: string, request: CloseAccountRequest): Promise<DigitalAccount> {
    return this.mutation(participantId, "close_account", request, request.accountId, (tx, id) => this.loadAccount(tx, id), async (tx, caller) => {
      const accounts = await this.lockAccounts(tx, [request.accountId], "UPDATE");
      const account = this.served(caller, accounts, request.accountId);
      if (account.status === "closed") throw new DtLedgerError("ACCOUNT_CLOSED", `account ${account.id} is already closed`);
      const busy = await tx.query<{ busy: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM dt_ledger.tokens WHERE account_id = $1 AND spent_in IS NULL)
             OR EXISTS (SELECT 1 FROM dt_ledger.holds WHERE status = 'held' AND (owner_account = $1 OR beneficiary_account = $1))
             AS busy`,
        [account.id],
      );
      if (busy.rows[0]?.busy) throw new DtLedgerError("ACCOUNT_NOT_EMPTY", `account ${account.id} still has funds or active holds`);
      const bookedAt = this.now();
      await tx.query("UPDATE dt_ledger.accounts SET status = 'closed', closed_at = $2 WHERE id = $1", [account.id, bookedAt]);
      await commitLedgerTransaction(tx, {
        id: randomUUID(),
        kind: "account_closed",
        submittedBy: caller.id,
        bookedAt,
        from: account.id,
        entries: [],
        events: [{ type: "account_closed", payload: { accountId: account.id }, visibleTo: [caller.id] }],
      });
      return { ...toAccount(account), status: "closed" };
    });
  }

  /** An account's header (holder name, kind, status): only its servicing participant and the central bank read it. */
  async account(participantId: string, accountId: string): Promise<DigitalAccount> {
    const caller = await this.caller(this.db, participantId);
    const account = await this.loadAccount(this.db, accountId);
    this.mayRead(caller, account);
    return account;
  }

  /**
   * Which participant services an account, and nothing about its holder: for that participant, the central
   * bank, and a gateway (it lets a bank pay only from accounts the bank's participant services).
   */
  async servicer(participantId: string, accountId: string): Promise<string> {
    const caller = await this.caller(this.db, participantId);
    const account = await this.loadAccount(this.db, accountId);
    if (caller.role !== "gateway") this.mayRead(caller, account);
    return account.participantId;
  }

  async balance(participantId: string, accountId: string): Promise<AccountBalance> {
    const caller = await this.caller(this.db, participantId);
    const account = await this.loadAccount(this.db, accountId);
    this.mayRead(caller, account);
    const result = await this.db.query<{ available: bigint; held: bigint; height: bigint }>(
      `SELECT COALESCE(SUM(amount) FILTER (WHERE hold_id IS NULL), 0)::int8 AS available,
              COALESCE(SUM(amount) FILTER (WHERE hold_id IS NOT NULL), 0)::int8 AS held,
              (SELECT height FROM dt_ledger.head) AS height
         FROM dt_ledger.tokens WHERE account_id = $1 AND spent_in IS NULL`,
      [accountId],
    );
    const row = result.rows[0]!;
    return { accountId, available: row.available, held: row.held, height: row.height };
  }

  // ---- conversions at the NBK ------------------------------------------------------------------------

  /** Issues DT to an account against non-cash tenge (the NBK only). */
  async issue(participantId: string, request: ConversionRequest): Promise<ConversionReceipt> {
    const amount = requireAmount(request.amount);
    const reference = requireText(request.reference, "reference", 140, true);
    const transactionId = randomUUID();
    return this.mutation(participantId, "issue", request, transactionId, (tx, id) => this.loadConversion(tx, id), async (tx, caller) => {
      if (caller.role !== "central_bank") throw new DtLedgerError("FORBIDDEN_OPERATION", "only the NBK issues DT");
      const accounts = await this.lockAccounts(tx, [request.accountId], "SHARE");
      const account = this.openAccountIn(accounts, request.accountId);
      await spendAndCreate(tx, transactionId, [], [{ accountId: account.id, amount }], { issued: amount });
      const bookedAt = this.now();
      const height = await commitLedgerTransaction(tx, {
        id: transactionId,
        kind: "issuance",
        submittedBy: caller.id,
        bookedAt,
        to: account.id,
        amount,
        reference,
        entries: [{ accountId: account.id, amount, kind: "issuance", reference }],
        events: [
          {
            type: "issued",
            payload: { accountId: account.id, amount: amount.toString(), reference },
            visibleTo: [account.participant_id],
          },
        ],
      });
      return { transactionId, height, accountId: account.id, amount, reference, bookedAt };
    });
  }

  /** Redeems DT from an account back into non-cash tenge (the NBK only); held tokens are not touched. */
  async redeem(participantId: string, request: ConversionRequest): Promise<ConversionReceipt> {
    const amount = requireAmount(request.amount);
    const reference = requireText(request.reference, "reference", 140, true);
    const transactionId = randomUUID();
    return this.mutation(participantId, "redeem", request, transactionId, (tx, id) => this.loadConversion(tx, id), async (tx, caller) => {
      if (caller.role !== "central_bank") throw new DtLedgerError("FORBIDDEN_OPERATION", "only the NBK redeems DT");
      const accounts = await this.lockAccounts(tx, [request.accountId], "SHARE");
      const account = this.openAccountIn(accounts, request.accountId);
      const inputs = await selectInputs(tx, account.id, amount);
      const change = inputs.reduce((sum, token) => sum + token.amount, 0n) - amount;
      await spendAndCreate(tx, transactionId, inputs, change > 0n ? [{ accountId: account.id, amount: change }] : [], { redeemed: amount });
      const bookedAt = this.now();
      const height = await commitLedgerTransaction(tx, {
        id: transactionId,
        kind: "redemption",
        submittedBy: caller.id,
        bookedAt,
        from: account.id,
        amount,
        reference,
        entries: [{ accountId: account.id, amount: -amount, kind: "redemption", reference }],
        events: [
          {
            type: "redeemed",
            payload: { accountId: account.id, amount: amount.toString(), reference },
            visibleTo: [account.participant_id],
          },
        ],
      });
      return { transactionId, height, accountId: account.id, amount, reference, bookedAt };
    });
  }

  // ---- payments --------------------------------------------------------------------------------------

  /** A payment: consumes the payer's tokens, creates the payee's token and the payer's change. */
  async transfer(participantId: string, request: TransferRequest): Promise<TransferReceipt> {
    const amount = requireAmount(request.amount);
    const reference = requireText(request.reference, "reference", 140, true);
    const transactionId = randomUUID();
    const returnOf = request.returnOf === undefined ? undefined : requireUuid(request.returnOf, "returnOf");
    // A return is keyed by the payment it returns, whatever key the caller sent: at most one per payment.
    const keyed = returnOf === undefined ? request : { ...request, idempotencyKey: `return-of:${returnOf}` };
    return this.mutation(participantId, "transfer", keyed, transactionId, (tx, id) => this.loadReceipt(tx, id), async (tx, caller) => {
      const accounts = await this.lockAccounts(tx, [request.from, request.to], "SHARE");
      const from = this.served(caller, accounts, request.from);
      if (from.status === "closed") throw new DtLedgerError("ACCOUNT_CLOSED", `account ${from.id} is closed`);
      const to = this.openAccountIn(accounts, request.to);
      if (from.id === to.id) throw new DtLedgerError("SAME_ACCOUNT", "payer and payee are the same account");
      creditsWallet(from, to);
      if (returnOf !== undefined) {
        const original = await tx.query<{ amount: bigint }>(
          "SELECT amount FROM dt_ledger.transactions WHERE id = $1 AND kind = 'payment' AND from_account = $2 AND to_account = $3",
          [returnOf, to.id, from.id],
        );
        const paid = original.rows[0]?.amount;
        if (paid === undefined) throw new DtLedgerError("INVALID_REQUEST", `returnOf: no payment ${returnOf} from ${to.id} to ${from.id}`);
        if (amount > BigInt(paid)) throw new DtLedgerError("INVALID_REQUEST", `returnOf: the return exceeds the ${paid} tiyn paid`);
      }
      const entryKind = returnOf === undefined ? "payment" : "return";
      const inputs = await selectInputs(tx, from.id, amount);
      const change = inputs.reduce((sum, token) => sum + token.amount, 0n) - amount;
      const outputs: OutputToken[] = [{ accountId: to.id, amount }];
      if (change > 0n) outputs.push({ accountId: from.id, amount: change });
      await spendAndCreate(tx, transactionId, inputs, outputs);
      const paymentType = paymentTypeOf(from.kind, to.kind);
      const bookedAt = this.now();
      const height = await commitLedgerTransaction(tx, {
        id: transactionId,
        kind: "payment",
        submittedBy: caller.id,
        bookedAt,
        from: from.id,
        to: to.id,
        amount,
        reference,
        paymentType,
        entries: [
          { accountId: from.id, amount: -amount, kind: entryKind, counterpartyAccount: to.id, reference, paymentType },
          { accountId: to.id, amount, kind: entryKind, counterpartyAccount: from.id, reference, paymentType },
        ],
        events: [
          {
            type: "payment",
            payload: { from: from.id, to: to.id, amount: amount.toString(), reference, paymentType, transactionId },
            visibleTo: [from.participant_id, to.participant_id, caller.id],
          },
        ],
      });
      return { transactionId, height, from: from.id, to: to.id, amount, reference, paymentType, bookedAt };
    });
  }

  // ---- holds -----------------------------------------------------------------------------------------

  /** Locks `amount` of the owner's tokens for a beneficiary until the condition is met or the expiry. */
  async hold(participantId: string, request: HoldInput): Promise<Hold> {
    const amount = requireAmount(request.amount);
    const reference = requireText(request.reference, "reference", 140, true);
    const { hashLock, eventId } = request.condition;
    if ((hashLock === undefined) === (eventId === undefined)) {
      throw new DtLedgerError("INVALID_REQUEST", "a hold has exactly one condition: hashLock or eventId");
    }
    if (hashLock !== undefined && !HASH_LOCK.test(hashLock)) {
      throw new DtLedgerError("INVALID_REQUEST", "hashLock must be a 0x-prefixed SHA-256 digest (32 bytes)");
    }
    if (eventId !== undefined) requireText(eventId, "eventId", 128);
    if (!(request.expiresAt instanceof Date) || Number.isNaN(request.expiresAt.getTime())) {
      throw new DtLedgerError("INVALID_REQUEST", "expiresAt must be a time");
    }
    const holdId = randomUUID();
    return this.mutation(participantId, "hold", request, holdId, (tx, id) => this.loadHold(tx, id), async (tx, caller) => {
      const accounts = await this.lockAccounts(tx, [request.from, request.beneficiary], "SHARE");
      // The gateway places PvP holds on banks' customers' accounts; anyone else only on its own customers'.
      const owner = caller.role === "gateway" ? this.knownAccount(accounts, request.from) : this.served(caller, accounts, request.from);
      if (owner.status === "closed") throw new DtLedgerError("ACCOUNT_CLOSED", `account ${owner.id} is closed`);
      const beneficiary = this.openAccountIn(accounts, request.beneficiary);
      if (owner.id === beneficiary.id) throw new DtLedgerError("SAME_ACCOUNT", "owner and beneficiary are the same account");
      creditsWallet(owner, beneficiary);
      const bookedAt = this.now();
      if (request.expiresAt.getTime() <= bookedAt.getTime()) throw new DtLedgerError("INVALID_REQUEST", "expiresAt must be in the future");
      const inputs = await selectInputs(tx, owner.id, amount);
      const transactionId = randomUUID();
      await tx.query(
        `INSERT INTO dt_ledger.holds (id, owner_account, beneficiary_account, amount, hash_lock, event_id, expires_at, reference,
                                      created_by, created_in)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          holdId,
          owner.id,
          beneficiary.id,
          amount.toString(),
          hashLock ? fromHex(hashLock.toLowerCase()) : null,
          eventId ?? null,
          request.expiresAt,
          reference,
          caller.id,
          transactionId,
        ],
      );
      const change = inputs.reduce((sum, token) => sum + token.amount, 0n) - amount;
      const outputs: OutputToken[] = [{ accountId: owner.id, amount, holdId }];
      if (change > 0n) outputs.push({ accountId: owner.id, amount: change });
      await spendAndCreate(tx, transactionId, inputs, outputs);
      const hold: Hold = {
        id: holdId,
        from: owner.id,
        beneficiary: beneficiary.id,
        amount,
        condition: hashLock ? { hashLock: hashLock.toLowerCase() as Hex } : { eventId: eventId! },
        expiresAt: request.expiresAt,
        reference,
        status: "held",
        createdHeight: 0n,
        settledHeight: undefined,
        preimage: undefined,
      };
      const height = await commitLedgerTransaction(tx, {
        id: transactionId,
        kind: "hold",
        submittedBy: caller.id,
        bookedAt,
        from: owner.id,
        to: beneficiary.id,
        amount,
        reference,
        holdId,
        entries: [],
        events: [this.holdEvent("hold_created", hold, [owner.participant_id, beneficiary.participant_id, caller.id])],
      });
      return { ...hold, createdHeight: height };
    });
  }

  /**
   * Releases a hold to its beneficiary: with the preimage of its hash-lock (whoever submits it; the funds
   * go to the named beneficiary only) or, for an event hold, the event id confirmed by the participant
   * that placed the hold or the NBK. Refused at or after the expiry.
   */
  async release(participantId: string, request: ReleaseInput): Promise<Hold> {
    const { preimage, eventId } = request;
    if ((preimage === undefined) === (eventId === undefined)) {
      throw new DtLedgerError("INVALID_REQUEST", "a release carries exactly one of preimage or eventId");
    }
    this.requireHoldId(request.holdId);
    return this.mutation(participantId, "release", request, request.holdId, (tx, id) => this.loadHold(tx, id), async (tx, caller) => {
      const row = await this.lockHold(tx, request.holdId);
      this.requireActive(row);
      const bookedAt = this.now();
      if (bookedAt.getTime() >= row.expires_at.getTime()) throw new DtLedgerError("HOLD_EXPIRED", `hold ${row.id} expired at ${row.expires_at.toISOString()}`);
      let revealed: Buffer | undefined;
      if (row.hash_lock) {
        if (preimage === undefined) throw new DtLedgerError("WRONG_CONDITION", "this hold is released with the preimage of its hash-lock");
        if (!/^0x[0-9a-fA-F]{64}$/.test(preimage)) throw new DtLedgerError("WRONG_PREIMAGE", "the preimage must be exactly 32 bytes (0x + 64 hex digits)");
        revealed = fromHex(preimage);
        const digest = createHash("sha256").update(revealed).digest();
        if (!digest.equals(Buffer.from(row.hash_lock))) throw new DtLedgerError("WRONG_PREIMAGE", "the preimage does not hash to the hold's hash-lock");
      } else {
        if (eventId === undefined) throw new DtLedgerError("WRONG_CONDITION", "this hold is released with its event id");
        if (caller.id !== row.created_by && caller.role !== "central_bank") {
          throw new DtLedgerError("FORBIDDEN_OPERATION", "only the participant that placed an event hold, or the NBK, confirms its event");
        }
        if (eventId !== row.event_id) throw new DtLedgerError("WRONG_CONDITION", "the event id is not the hold's event");
      }
      const token = await heldToken(tx, row.id);
      const transactionId = randomUUID();
      await spendAndCreate(tx, transactionId, [token], [{ accountId: row.beneficiary_account, amount: token.amount }]);
      await tx.query("UPDATE dt_ledger.holds SET status = 'released', preimage = $2, settled_in = $3 WHERE id = $1", [
        row.id,
        revealed ?? null,
        transactionId,
      ]);
      const hold: Hold = { ...toHold(row), status: "released", preimage: revealed ? toHex(revealed) : undefined };
      const height = await commitLedgerTransaction(tx, {
        id: transactionId,
        kind: "release",
        submittedBy: caller.id,
        bookedAt,
        from: row.owner_account,
        to: row.beneficiary_account,
        amount: row.amount,
        reference: row.reference,
        holdId: row.id,
        entries: [
          { accountId: row.owner_account, amount: -row.amount, kind: "hold_release", counterpartyAccount: row.beneficiary_account, reference: row.reference, holdId: row.id },
          { accountId: row.beneficiary_account, amount: row.amount, kind: "hold_release", counterpartyAccount: row.owner_account, reference: row.reference, holdId: row.id },
        ],
        events: [
          {
            ...this.holdEvent("hold_released", hold, [row.owner_participant, row.beneficiary_participant, row.created_by, caller.id]),
            payload: { hold: holdToJson(hold), preimage: hold.preimage ?? null },
          },
        ],
      });
      return { ...hold, settledHeight: height };
    });
  }

  /**
   * Returns a hold's funds to the owner: at or after its expiry, asked by a party to the hold or the NBK.
   * Before the expiry only on an agreed cancellation: asked by the gateway that placed the hold (it set the
   * hash-lock and alone holds the preimage) with the creditor side's consent, and never by a gateway paying
   * from its own account. The owner's participant (the payer's bank), the beneficiary's, the NBK and a bank
   * that placed a hold are refused: the counterparty may have acted on the lock (docs/dt-ledger.md).
   */
  async refund(participantId: string, request: RefundRequest): Promise<Hold> {
    this.requireHoldId(request.holdId);
    const consent = request.earlyConsent === undefined ? undefined : requireConsent(request.earlyConsent);
    const canonical = { idempotencyKey: request.idempotencyKey, holdId: request.holdId, ...(consent ? { earlyConsent: consent } : {}) };
    return this.mutation(participantId, "refund", canonical, request.holdId, (tx, id) => this.loadHold(tx, id), async (tx, caller) => {
      const row = await this.lockHold(tx, request.holdId);
      const parties = [row.created_by, row.owner_participant, row.beneficiary_participant];
      if (!parties.includes(caller.id) && caller.role !== "central_bank") {
        throw new DtLedgerError("FORBIDDEN_ACCOUNT", `participant ${caller.id} is not a party to hold ${row.id}`);
      }
      this.requireActive(row);
      if (this.now().getTime() >= row.expires_at.getTime()) return this.refundLocked(tx, row, caller.id);
      if (consent === undefined) throw new DtLedgerError("NOT_YET_EXPIRED", `hold ${row.id} expires at ${row.expires_at.toISOString()}`);
      if (caller.role !== "gateway" || caller.id !== row.created_by || caller.id === row.owner_participant) {
        throw new DtLedgerError(
          "FORBIDDEN_OPERATION",
          `before its expiry hold ${row.id} goes back only at the request of the gateway that placed it, on the creditor side's consent`,
        );
      }
      return this.refundLocked(tx, row, caller.id, consent);
    });
  }

  /**
   * Refunds up to `limit` expired holds, each in its own transaction. Safe to run in several processes at
   * once: a hold another process is refunding is skipped (SKIP LOCKED), and a settled one is left alone.
   */
  async refundExpiredHolds(limit = 100): Promise<number> {
    const due = await this.db.query<{ id: string }>(
      "SELECT id FROM dt_ledger.holds WHERE status = 'held' AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
      [this.now(), limit],
    );
    let refunded = 0;
    for (const { id } of due.rows) {
      const done = await this.db.transaction(async (tx) => {
        const locked = await tx.query<HoldRow>(`${HOLD_SELECT} WHERE h.id = $1 AND h.status = 'held' FOR UPDATE OF h SKIP LOCKED`, [id]);
        const row = locked.rows[0];
        if (!row || this.now().getTime() < row.expires_at.getTime()) return false;
        await this.refundLocked(tx, row, row.created_by);
        return true;
      });
      if (done) {
        refunded++;
        this.notifyCommitted();
      }
    }
    return refunded;
  }

  async getHold(participantId: string, holdId: string): Promise<Hold> {
    const caller = await this.caller(this.db, participantId);
    this.requireHoldId(holdId);
    const result = await this.db.query<HoldRow>(`${HOLD_SELECT} WHERE h.id = $1`, [holdId]);
    const row = result.rows[0];
    if (!row) throw new DtLedgerError("UNKNOWN_HOLD", `no hold ${holdId}`);
    const parties = [row.created_by, row.owner_participant, row.beneficiary_participant];
    if (!parties.includes(caller.id) && caller.role !== "central_bank") {
      throw new DtLedgerError("FORBIDDEN_ACCOUNT", `participant ${caller.id} is not a party to hold ${holdId}`);
    }
    return toHold(row);
  }

  // ---- statements, events, monitoring -----------------------------------------------------------------

  /**
   * The ledger operator's EIP-712 signature over an account's available balance (held tokens excluded:
   * a release could move them out) and all it ever paid out (its debits other than returns of payments
   * into it), which the token matches with its redemptions, at the current height. A statement is a read,
   * not a ledger transaction: asking for one writes nothing. Head, balance and payouts are read in one
   * snapshot, so they are exactly those at that height; two statements with nothing booked in between share
   * the height (the token accepts such a one only to refresh its time). Only the account's servicing
   * participant and the central bank may ask.
   */
  async collateralStatement(participantId: string, request: CollateralStatementRequest): Promise<SignedCollateralStatement> {
    const operatorKey = this.operatorKey;
    if (!operatorKey) throw new DtLedgerError("UNAVAILABLE", "this ledger has no operator key to sign statements");
    const caller = await this.caller(this.db, participantId);
    const account = await this.loadAccount(this.db, request.accountId);
    // The gateway publishes the statements it relays; the ledger signs them only for the wallet's servicer
    // and the central bank, so no one else can put a statement of its choosing on chain at a moment it picks.
    this.mayRead(caller, account);
    const statement = await this.db.transaction(
      async (tx) => {
        const read = await tx.query<{ height: bigint; available: bigint; paid_out: bigint }>(
          `SELECT (SELECT height FROM dt_ledger.head) AS height,
                  (SELECT COALESCE(SUM(amount), 0)::int8 FROM dt_ledger.tokens
                    WHERE account_id = $1 AND spent_in IS NULL AND hold_id IS NULL) AS available,
                  (SELECT COALESCE(-SUM(amount), 0)::int8 FROM dt_ledger.entries
                    WHERE account_id = $1 AND amount < 0 AND kind <> 'return') AS paid_out`,
          [account.id],
        );
        const { height, available, paid_out: paidOut } = read.rows[0]!;
        return { account: account.id, balance: available, paidOut, height, timestamp: BigInt(Math.floor(this.now().getTime() / 1000)) };
      },
      { isolation: "repeatable read" },
    );
    const signature = await signCollateralStatement(operatorKey, statement, request.domain);
    return { statement, domain: request.domain, signature, signer: this.operatorAddress! };
  }

  /**
   * Signs the next issuance allotment of a segregated wallet to its chains (docs/contracts.md, "One pool,
   * several chains") and keeps it. The ledger applies its rule itself: limits only rise and add up to at most
   * what was ever credited into the wallet (its own figure, read in one snapshot: unspent tokens, held ones
   * too, plus all paid out, so it never falls when a hold is placed or released) plus
   * the moves allotted so far. A credit names the chain a deposit backs; a move is the servicer's report of a
   * final burn (anyone can check it against the chains' totalMovedOut). Only the wallet's servicer may ask;
   * a refusal writes nothing. Two concurrent requests take consecutive sequences.
   *
   * The reference makes it exactly once: a retried mint or move (after a crash, a timeout, a second worker)
   * gets the allotment that first applied it, never a second raise; the same reference for another change
   * is IDEMPOTENCY_CONFLICT.
   */
  async issuanceAllotment(participantId: string, input: IssuanceAllotmentRequest): Promise<SignedIssuanceAllotment> {
    const operatorKey = this.operatorKey;
    if (!operatorKey) throw new DtLedgerError("UNAVAILABLE", "this ledger has no operator key to sign allotments");
    const caller = await this.caller(this.db, participantId);
    const request = requireAllotmentRequest(input);
    const account = await this.loadAccount(this.db, request.accountId);
    if (account.participantId !== caller.id) {
      throw new DtLedgerError("FORBIDDEN_ACCOUNT", `account ${account.id} is not a customer account of ${caller.id}`);
    }
    const asked = JSON.stringify(allotmentChangeToJson(request.change));
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction(
          async (tx) => {
            const earlier = await tx.query<{ allotment: unknown; signature: Hex; change: unknown }>(
              "SELECT allotment, signature, change FROM dt_ledger.issuance_allotments WHERE account_id = $1 AND reference = $2",
              [account.id, request.reference],
            );
            const first = earlier.rows[0];
            if (first) {
              // jsonb keeps its own key order: compare through the one canonical form.
              const applied = JSON.stringify(allotmentChangeToJson(allotmentChangeFromJson(jsonColumn(first.change))));
              if (applied !== asked) {
                throw new DtLedgerError("IDEMPOTENCY_CONFLICT", `allotment reference ${request.reference} was already used for a different change`);
              }
              return keptAllotment(first);
            }
            const latest = await tx.query<{ allotment: unknown }>(
              "SELECT allotment FROM dt_ledger.issuance_allotments WHERE account_id = $1 ORDER BY sequence DESC LIMIT 1",
              [account.id],
            );
            const read = await tx.query<{ height: bigint; credited: bigint }>(
              `SELECT (SELECT height FROM dt_ledger.head) AS height,
                      ((SELECT COALESCE(SUM(amount), 0)::int8 FROM dt_ledger.tokens
                         WHERE account_id = $1 AND spent_in IS NULL)
                       + (SELECT COALESCE(-SUM(amount), 0)::int8 FROM dt_ledger.entries
                           WHERE account_id = $1 AND amount < 0 AND kind <> 'return'))::int8 AS credited`,
              [account.id],
            );
            const { height, credited } = read.rows[0]!;
            const stored = latest.rows[0]?.allotment;
            const previous: IssuanceAllotment = stored === undefined
              ? { account: account.id, sequence: 0n, credited: 0n, moved: 0n, height: 0n, timestamp: 0n, chains: [] }
              : allotmentFromJson(jsonColumn(stored));
            const change = request.change.kind === "credit" ? { ...request.change, credited } : request.change;
            let next: IssuanceAllotment;
            try {
              next = nextIssuanceAllotment(previous, change, { height, timestamp: BigInt(Math.floor(this.now().getTime() / 1000)) });
            } catch (error) {
              if (error instanceof AllotmentRefused) throw new DtLedgerError(ALLOTMENT_REFUSAL_CODE[error.code], error.message);
              throw error;
            }
            const signature = await signIssuanceAllotment(operatorKey, next);
            await tx.query(
              `INSERT INTO dt_ledger.issuance_allotments (account_id, sequence, allotment, signature, reference, change)
               VALUES ($1, $2, $3::jsonb, $4, $5, $6::jsonb)`,
              [account.id, next.sequence.toString(), JSON.stringify(allotmentToJson(next)), signature, request.reference, asked],
            );
            return { allotment: next, signature, signer: this.operatorAddress! };
          },
          { isolation: "repeatable read" },
        );
      } catch (error) {
        // Another request took this sequence or this reference (or changed the wallet under the snapshot):
        // start again from what it wrote; a same-reference winner is then answered as a replay.
        const state = sqlState(error);
        if (attempt < 8 && (state === "23505" || state === "40001")) continue;
        throw error;
      }
    }
  }

  /** The latest signed allotment of a segregated wallet, for relaying; the servicer and the central bank may read it. */
  async latestIssuanceAllotment(participantId: string, accountId: string): Promise<SignedIssuanceAllotment | undefined> {
    const caller = await this.caller(this.db, participantId);
    const account = await this.loadAccount(this.db, requireText(accountId, "accountId", 64));
    this.mayRead(caller, account);
    const result = await this.db.query<{ allotment: unknown; signature: Hex }>(
      "SELECT allotment, signature FROM dt_ledger.issuance_allotments WHERE account_id = $1 ORDER BY sequence DESC LIMIT 1",
      [account.id],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    return keptAllotment(row);
  }

  async events(participantId: string, request: EventsRequest): Promise<EventPage> {
    const caller = await this.caller(this.db, participantId);
    return readEvents(this.db, {
      participantId: caller.role === "central_bank" ? undefined : caller.id,
      after: request.after,
      limit: request.limit,
      waitMs: request.waitMs,
      onCommitted: (listener) => this.onCommitted(listener),
    });
  }

  /** Booked entries of an account between two heights, with opening and closing balances. */
  async activity(participantId: string, request: ActivityRequest): Promise<AccountActivity> {
    const caller = await this.caller(this.db, participantId);
    return this.db.transaction(
      async (tx) => {
        const account = await this.loadAccount(tx, request.accountId);
        this.mayRead(caller, account);
        const head = await tx.query<{ height: bigint }>("SELECT height FROM dt_ledger.head");
        const current = head.rows[0]!.height;
        const fromHeight = request.fromHeight ?? 1n;
        const lastAsked = request.toHeight === undefined || request.toHeight > current ? current : request.toHeight;
        const limit = request.limit ?? ACTIVITY_PAGE_MAX;
        if (!Number.isInteger(limit) || limit < 1 || limit > ACTIVITY_PAGE_MAX) {
          throw new DtLedgerError("INVALID_REQUEST", `limit must be 1-${ACTIVITY_PAGE_MAX}`);
        }
        if (fromHeight < 1n || lastAsked < fromHeight - 1n) throw new DtLedgerError("INVALID_REQUEST", "fromHeight must be at least 1 and at most toHeight + 1");
        const opening = await tx.query<{ balance: bigint }>(
          "SELECT COALESCE(SUM(amount), 0)::int8 AS balance FROM dt_ledger.entries WHERE account_id = $1 AND height < $2",
          [account.id, fromHeight.toString()],
        );
        const rows = await tx.query<{
          id: bigint;
          transaction_id: string;
          height: bigint;
          booked_at: Date;
          kind: AccountEntry["kind"];
          amount: bigint;
          reference: string;
          counterparty_account: string | null;
          counterparty_name: string | null;
          counterparty_participant: string | null;
          hold_id: string | null;
          payment_type: PaymentType | null;
        }>(
          `SELECT e.id, e.transaction_id, e.height, e.booked_at, e.kind, e.amount, e.reference, e.counterparty_account,
                  c.holder_name AS counterparty_name, c.participant_id AS counterparty_participant, e.hold_id, e.payment_type
             FROM dt_ledger.entries e LEFT JOIN dt_ledger.accounts c ON c.id = e.counterparty_account
            WHERE e.account_id = $1 AND e.height BETWEEN $2 AND $3
            ORDER BY e.height, e.id
            LIMIT $4`,
          [account.id, fromHeight.toString(), lastAsked.toString(), limit + 1],
        );
        // A page ends on a whole height: entries of the first height left out start the next page. One
        // transaction books at most a few entries per account, so a single height always fits.
        let toHeight = lastAsked;
        let nextFromHeight: bigint | undefined;
        let booked = rows.rows;
        if (rows.rows.length > limit) {
          const cut = rows.rows[limit]!.height;
          const first = rows.rows[0]!.height;
          toHeight = cut > first ? cut - 1n : cut;
          nextFromHeight = toHeight + 1n;
          booked = booked.filter((row) => row.height <= toHeight);
        }
        const openingBalance = opening.rows[0]!.balance;
        const entries: AccountEntry[] = booked.map((row) => ({
          entryId: row.id.toString(),
          transactionId: row.transaction_id,
          height: row.height,
          bookedAt: row.booked_at,
          kind: row.kind,
          direction: row.amount > 0n ? "credit" : "debit",
          amount: row.amount > 0n ? row.amount : -row.amount,
          reference: row.reference,
          counterparty:
            row.counterparty_account === null
              ? undefined
              : { accountId: row.counterparty_account, holderName: row.counterparty_name ?? "", participantId: row.counterparty_participant ?? "" },
          holdId: row.hold_id ?? undefined,
          paymentType: row.payment_type ?? undefined,
        }));
        const closingBalance = entries.reduce((sum, entry) => sum + (entry.direction === "credit" ? entry.amount : -entry.amount), openingBalance);
        return { account, fromHeight, toHeight, openingBalance, closingBalance, entries, ...(nextFromHeight === undefined ? {} : { nextFromHeight }) };
      },
      { isolation: "repeatable read" },
    );
  }

  /** The NBK's view: height, money supply, accounts and holds (the phase-one "monitoring" method). */
  async monitoring(participantId: string): Promise<LedgerMonitoring> {
    const caller = await this.caller(this.db, participantId);
    if (caller.role !== "central_bank") throw new DtLedgerError("FORBIDDEN_OPERATION", "only the NBK monitors the whole ledger");
    const result = await this.db.query<LedgerMonitoringRow>(
      `SELECT (SELECT height FROM dt_ledger.head) AS height,
              (SELECT COALESCE(SUM(amount), 0)::int8 FROM dt_ledger.tokens WHERE spent_in IS NULL) AS supply,
              (SELECT COALESCE(SUM(amount), 0)::int8 FROM dt_ledger.transactions WHERE kind = 'issuance') AS issued,
              (SELECT COALESCE(SUM(amount), 0)::int8 FROM dt_ledger.transactions WHERE kind = 'redemption') AS redeemed,
              (SELECT count(*)::int8 FROM dt_ledger.accounts WHERE status = 'open') AS open_accounts,
              (SELECT count(*)::int8 FROM dt_ledger.holds WHERE status = 'held') AS active_holds,
              (SELECT COALESCE(SUM(amount), 0)::int8 FROM dt_ledger.holds WHERE status = 'held') AS held_amount`,
    );
    const row = result.rows[0]!;
    return {
      height: row.height,
      supply: row.supply,
      issued: row.issued,
      redeemed: row.redeemed,
      openAccounts: row.open_accounts,
      activeHolds: row.active_holds,
      heldAmount: row.held_amount,
    };
  }

  // ---- internals -------------------------------------------------------------------------------------

  /**
   * One mutating request: a database transaction that first claims the idempotency key; a retry of an
   * earlier request returns that request's result (loaded by `replay`) instead of applying again.
   */
  private async mutation<T>(
    participantId: string,
    operation: string,
    request: object,
    resultId: string,
    replay: (tx: Queryable, resultId: string) => Promise<T>,
    work: (tx: Queryable, caller: Caller) => Promise<T>,
  ): Promise<T> {
    if (typeof (request as { idempotencyKey?: unknown }).idempotencyKey !== "string") {
      throw new DtLedgerError("INVALID_REQUEST", "idempotencyKey is required");
    }
    const print = fingerprint(operation, request as Record<string, unknown>);
    const outcome = await this.db.transaction(async (tx) => {
      const caller = await this.caller(tx, participantId);
      const earlier = await claimIdempotencyKey(tx, {
        participantId: caller.id,
        idempotencyKey: (request as { idempotencyKey: string }).idempotencyKey,
        operation,
        fingerprint: print,
        resultId,
      });
      if (earlier !== undefined) return { value: await replay(tx, earlier), applied: false };
      return { value: await work(tx, caller), applied: true };
    });
    if (outcome.applied) this.notifyCommitted();
    return outcome.value;
  }

  private notifyCommitted(): void {
    for (const listener of this.committedListeners) listener();
  }

  private async caller(db: Queryable, participantId: string): Promise<Caller> {
    const known = this.roles.get(participantId);
    if (known) return { id: participantId, role: known };
    const participant = await findParticipant(db, participantId);
    if (!participant) throw new DtLedgerError("UNAUTHENTICATED", `unknown participant ${participantId}`);
    // Roles never change once registered, so caching them is safe across processes.
    this.roles.set(participant.id, participant.role);
    return { id: participant.id, role: participant.role };
  }

  private async lockAccounts(tx: Queryable, ids: string[], mode: "SHARE" | "UPDATE"): Promise<Map<string, AccountRow>> {
    const result = await tx.query<AccountRow>(
      `SELECT ${ACCOUNT_COLUMNS} FROM dt_ledger.accounts WHERE id = ANY($1::text[]) ORDER BY id FOR ${mode}`,
      [ids.filter((id) => typeof id === "string")],
    );
    return new Map(result.rows.map((row) => [row.id, row]));
  }

  private knownAccount(accounts: Map<string, AccountRow>, id: string): AccountRow {
    const account = accounts.get(id);
    if (!account) throw new DtLedgerError("UNKNOWN_ACCOUNT", `no digital account ${id}`);
    return account;
  }

  private openAccountIn(accounts: Map<string, AccountRow>, id: string): AccountRow {
    const account = this.knownAccount(accounts, id);
    if (account.status === "closed") throw new DtLedgerError("ACCOUNT_CLOSED", `account ${id} is closed`);
    return account;
  }

  /** The account, if the caller is the participant serving it. */
  private served(caller: Caller, accounts: Map<string, AccountRow>, id: string): AccountRow {
    const account = this.knownAccount(accounts, id);
    if (account.participant_id !== caller.id) {
      throw new DtLedgerError("FORBIDDEN_ACCOUNT", `account ${id} is not a customer account of ${caller.id}`);
    }
    return account;
  }

  private mayRead(caller: Caller, account: DigitalAccount): void {
    if (account.participantId !== caller.id && caller.role !== "central_bank") {
      throw new DtLedgerError("FORBIDDEN_ACCOUNT", `account ${account.id} is not a customer account of ${caller.id}`);
    }
  }

  private async loadAccount(db: Queryable, id: string): Promise<DigitalAccount> {
    const result = await db.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM dt_ledger.accounts WHERE id = $1`, [id]);
    const row = result.rows[0];
    if (!row) throw new DtLedgerError("UNKNOWN_ACCOUNT", `no digital account ${id}`);
    return toAccount(row);
  }

  private requireHoldId(holdId: unknown): void {
    if (typeof holdId !== "string" || !UUID.test(holdId)) throw new DtLedgerError("UNKNOWN_HOLD", "no such hold");
  }

  private async loadHold(db: Queryable, holdId: string): Promise<Hold> {
    const result = await db.query<HoldRow>(`${HOLD_SELECT} WHERE h.id = $1`, [holdId]);
    const row = result.rows[0];
    if (!row) throw new DtLedgerError("UNKNOWN_HOLD", `no hold ${holdId}`);
    return toHold(row);
  }

  private async lockHold(tx: Queryable, holdId: string): Promise<HoldRow> {
    const result = await tx.query<HoldRow>(`${HOLD_SELECT} WHERE h.id = $1 FOR UPDATE OF h`, [holdId]);
    const row = result.rows[0];
    if (!row) throw new DtLedgerError("UNKNOWN_HOLD", `no hold ${holdId}`);
    return row;
  }

  private requireActive(row: HoldRow): void {
    if (row.status === "released") throw new DtLedgerError("ALREADY_RELEASED", `hold ${row.id} was already released`);
    if (row.status === "refunded") throw new DtLedgerError("ALREADY_REFUNDED", `hold ${row.id} was already refunded`);
  }

  private async refundLocked(tx: Queryable, row: HoldRow, submittedBy: string, earlyConsent?: EarlyRefundConsent): Promise<Hold> {
    const token = await heldToken(tx, row.id);
    const transactionId = randomUUID();
    await spendAndCreate(tx, transactionId, [token], [{ accountId: row.owner_account, amount: token.amount }]);
    await tx.query("UPDATE dt_ledger.holds SET status = 'refunded', settled_in = $2 WHERE id = $1", [row.id, transactionId]);
    const hold: Hold = { ...toHold(row), status: "refunded" };
    const height = await commitLedgerTransaction(tx, {
      id: transactionId,
      kind: "refund",
      submittedBy,
      bookedAt: this.now(),
      from: row.beneficiary_account,
      to: row.owner_account,
      amount: row.amount,
      reference: row.reference,
      holdId: row.id,
      entries: [],
      events: [
        {
          ...this.holdEvent("hold_refunded", hold, [row.owner_participant, row.beneficiary_participant, row.created_by, submittedBy]),
          ...(earlyConsent ? { payload: { hold: holdToJson(hold), earlyConsent: { by: earlyConsent.by, message: earlyConsent.message } } } : {}),
        },
      ],
    });
    return { ...hold, settledHeight: height };
  }

  private holdEvent(type: "hold_created" | "hold_released" | "hold_refunded", hold: Hold, visibleTo: string[]): EventRecord {
    return { type, payload: { hold: holdToJson(hold) }, visibleTo };
  }

  private async loadReceipt(db: Queryable, transactionId: string): Promise<TransferReceipt> {
    const result = await db.query<{
      height: bigint;
      from_account: string;
      to_account: string;
      amount: bigint;
      reference: string;
      payment_type: PaymentType;
      booked_at: Date;
    }>("SELECT height, from_account, to_account, amount, reference, payment_type, booked_at FROM dt_ledger.transactions WHERE id = $1", [
      transactionId,
    ]);
    const row = result.rows[0]!;
    return {
      transactionId,
      height: row.height,
      from: row.from_account,
      to: row.to_account,
      amount: row.amount,
      reference: row.reference,
      paymentType: row.payment_type,
      bookedAt: row.booked_at,
    };
  }

  private async loadConversion(db: Queryable, transactionId: string): Promise<ConversionReceipt> {
    const result = await db.query<{ height: bigint; account: string; amount: bigint; reference: string; booked_at: Date }>(
      "SELECT height, COALESCE(to_account, from_account) AS account, amount, reference, booked_at FROM dt_ledger.transactions WHERE id = $1",
      [transactionId],
    );
    const row = result.rows[0]!;
    return { transactionId, height: row.height, accountId: row.account, amount: row.amount, reference: row.reference, bookedAt: row.booked_at };
  }
}

interface LedgerMonitoringRow {
  height: bigint;
  supply: bigint;
  issued: bigint;
  redeemed: bigint;
  open_accounts: bigint;
  active_holds: bigint;
  held_amount: bigint;
}

/** How the ledger answers a change its allotment rule refuses. */
const ALLOTMENT_REFUSAL_CODE: Readonly<Record<AllotmentRefused["code"], DtLedgerErrorCode>> = {
  ALLOTMENT_EXCEEDS_POOL: "ALLOTMENT_EXCEEDS_POOL",
  ALLOTMENT_UNKNOWN_CHAIN: "ALLOTMENT_UNKNOWN_CHAIN",
  ALLOTMENT_INVALID: "INVALID_REQUEST",
};

/** A kept allotment as signed: the signer is the key that signed it then, also after the operator's key changed. */
async function keptAllotment(row: { allotment: unknown; signature: Hex }): Promise<SignedIssuanceAllotment> {
  const allotment = allotmentFromJson(jsonColumn(row.allotment));
  return { allotment, signature: row.signature, signer: await recoverIssuanceAllotmentSigner(allotment, row.signature) };
}

/** A jsonb column as the driver returns it: parsed by pg, a string from some PGlite paths. */
const jsonColumn = (value: unknown): Json => (typeof value === "string" ? JSON.parse(value) : value) as Json;
