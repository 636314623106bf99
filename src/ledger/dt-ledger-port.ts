import type { Address, Hex } from "viem";
import { CodedError } from "../core/errors.ts";
import type { CollateralStatement, CollateralStatementDomain } from "./collateral-statement.ts";
import type { IssuanceAllotment } from "./issuance-allotment.ts";

/**
 * The Digital Tenge ledger as the gateway's features (PvP engine, stablecoin flows) see it. Adapters: the
 * embedded DT ledger in-process, and the same ledger (or the real DT platform) over HTTP. Amounts are
 * bigint tiyn (1 KZT = 100 tiyn). Every mutating call carries an idempotency key chosen by the caller: a
 * retried call with the same key and the same request returns the first result and never applies twice.
 * Refusals throw DtLedgerError with a stable code.
 */
export interface DtLedgerPort {
  openAccount(request: OpenAccountRequest): Promise<DigitalAccount>;
  /**
   * An account's header (holder name, kind, status): only for the participant servicing it and the central
   * bank (FORBIDDEN_ACCOUNT for others). UNKNOWN_ACCOUNT when none.
   */
  account(accountId: string): Promise<DigitalAccount>;
  /**
   * The participant servicing an account, nothing about its holder: for that participant, the central bank
   * and a gateway (the PvP API lets a bank pay only from accounts its participant services).
   */
  servicer(accountId: string): Promise<string>;
  balance(accountId: string): Promise<AccountBalance>;
  transfer(request: TransferRequest): Promise<TransferReceipt>;
  hold(request: HoldRequest): Promise<Hold>;
  /** Moves held funds to the hold's beneficiary, whoever submits the condition. */
  release(request: ReleaseRequest): Promise<Hold>;
  /**
   * Returns held funds to the owner, at or after the hold's expiry (NOT_YET_EXPIRED before). Before it, only
   * on an agreed cancellation: asked by the gateway that placed the hold, naming the creditor side's consent
   * (`earlyConsent`); anyone else is FORBIDDEN_OPERATION (see docs/dt-ledger.md "Early refund").
   */
  refund(request: RefundRequest): Promise<Hold>;
  getHold(holdId: string): Promise<Hold>;
  /** The ledger operator's EIP-712 signature over the account's available balance at a fresh height. */
  collateralStatement(request: CollateralStatementRequest): Promise<SignedCollateralStatement>;
  /**
   * Signs the next issuance allotment of a segregated wallet to its chains (docs/contracts.md, "One pool,
   * several chains"), applying the ledger's rule itself: only the wallet's servicer may ask. Idempotent by
   * (account, reference): the same reference with the same change answers the allotment that first applied
   * it; with a different change it is IDEMPOTENCY_CONFLICT. ALLOTMENT_EXCEEDS_POOL and
   * ALLOTMENT_UNKNOWN_CHAIN refuse a change the pool cannot take; a refusal writes nothing.
   */
  issuanceAllotment(request: IssuanceAllotmentRequest): Promise<SignedIssuanceAllotment>;
  /** The wallet's newest signed allotment, for relaying to its chains (the servicer and the central bank); undefined before the first. */
  latestIssuanceAllotment(accountId: string): Promise<SignedIssuanceAllotment | undefined>;
  /** Ledger events after a cursor, oldest first, delivered at least once; waits up to `waitMs` when none. */
  events(request: EventsRequest): Promise<EventPage>;
  /** Booked entries of an account between two heights, with opening and closing balances (camt.053/054). */
  activity(request: ActivityRequest): Promise<AccountActivity>;
}

/**
 * `segregated_wallet`: the DT that backs the stablecoin; the ledger credits it only from accounts of its own
 * servicing participant (payments and hold releases alike), so no one else can put DT into what its
 * collateral statements count. `collateral_intake`: the account of that same participant that exchanges
 * pay mint deposits into; the gateway moves a matched deposit on into the wallet and returns the rest.
 */
export const ACCOUNT_KINDS = ["individual", "legal_entity", "government_agency", "exchange", "segregated_wallet", "collateral_intake"] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

export interface OpenAccountRequest {
  idempotencyKey: string;
  kind: AccountKind;
  holderName: string;
}

export interface DigitalAccount {
  id: string;
  /** Participant (bank, Treasury, gateway) that opened the account and serves its holder. */
  participantId: string;
  kind: AccountKind;
  holderName: string;
  status: "open" | "closed";
  openedAt: Date;
}

export interface AccountBalance {
  accountId: string;
  /** Spendable tiyn (unspent tokens not under a hold). */
  available: bigint;
  /** Tiyn locked under active holds. */
  held: bigint;
  /** The ledger height the balance was read at. */
  height: bigint;
}

/** Payment types of the NBK phase-one method list, derived from the two accounts' kinds. */
export type PaymentType =
  | "le_to_le"
  | "le_to_individual"
  | "individual_to_individual"
  | "merchant_payment"
  | "government_payment"
  | "collateral_deposit"
  | "collateral_withdrawal";

export interface TransferRequest {
  idempotencyKey: string;
  from: string;
  to: string;
  amount: bigint;
  /** Remittance reference carried to the payee (e.g. a mint reference into the collateral intake). */
  reference: string;
  /**
   * Pays back an earlier payment into `from`: its transaction id. `to` must be that payment's payer and
   * `amount` at most its amount; each payment is returned at most once (a second return answers the first).
   * A return is not a payout: collateral statements leave it out of `paidOut`.
   */
  returnOf?: string;
}

export interface TransferReceipt {
  transactionId: string;
  height: bigint;
  from: string;
  to: string;
  amount: bigint;
  reference: string;
  paymentType: PaymentType;
  bookedAt: Date;
}

/** A SHA-256 hash-lock (32-byte preimage) or an event the Oracle confirms. */
export type HoldCondition = { hashLock: Hex } | { eventId: string };

export interface HoldRequest {
  idempotencyKey: string;
  from: string;
  beneficiary: string;
  amount: bigint;
  condition: HoldCondition;
  expiresAt: Date;
  reference: string;
}

export type HoldStatus = "held" | "released" | "refunded";

export interface Hold {
  id: string;
  from: string;
  beneficiary: string;
  amount: bigint;
  condition: HoldCondition;
  expiresAt: Date;
  reference: string;
  status: HoldStatus;
  createdHeight: bigint;
  /** Height of the release or refund. */
  settledHeight: bigint | undefined;
  /** The preimage, once a release has revealed it (hex, 32 bytes). */
  preimage: Hex | undefined;
}

export type ReleaseRequest =
  | { idempotencyKey: string; holdId: string; preimage: Hex }
  | { idempotencyKey: string; holdId: string; eventId: string };

export interface RefundRequest {
  idempotencyKey: string;
  holdId: string;
  /** Asks for the refund before the expiry, on the creditor side's word (an agreed PvP cancellation). */
  earlyConsent?: EarlyRefundConsent;
}

/**
 * The creditor side's agreement that a hold go back to its owner before its expiry: the correspondent (BIC)
 * whose settlement account the hold is for, and the id of its signed message that agreed (the camt.029 CNCL
 * answering our camt.056, or its own camt.056). The gateway checked the message's signature; the ledger
 * records both in the `hold_refunded` event.
 */
export interface EarlyRefundConsent {
  by: string;
  message: string;
}

export interface CollateralStatementRequest {
  accountId: string;
  domain: CollateralStatementDomain;
}

export interface SignedCollateralStatement {
  statement: CollateralStatement;
  domain: CollateralStatementDomain;
  signature: Hex;
  /** Address of the ledger operator's key, to compare with the published one. */
  signer: Address;
}

/**
 * What the servicer asks the ledger to allot (the ledger reads `credited` itself): a deposit into the wallet
 * backing a mint on `chainId`; a move whose burn on `from` is final, allotted to `to` (`to === from`: its
 * refund); a chain joining the pool at zero.
 */
export type IssuanceAllotmentChange =
  | { kind: "credit"; chainId: bigint; amount: bigint }
  | { kind: "move"; from: bigint; to: bigint; amount: bigint }
  | { kind: "addChain"; chainId: bigint; token: Address };

export interface IssuanceAllotmentRequest {
  accountId: string;
  /**
   * Names the change once for all retries: `mint:<mintId>`, `move:<moveId>` (destination or refund, never
   * both), `chain:<chainId>:<token>`. Printable ASCII without spaces, at most ALLOTMENT_REFERENCE_MAX.
   */
  reference: string;
  change: IssuanceAllotmentChange;
}

export const ALLOTMENT_REFERENCE_MAX = 128;

export interface SignedIssuanceAllotment {
  allotment: IssuanceAllotment;
  signature: Hex;
  /** Address of the ledger operator's key, to compare with each token's `collateralSigner()`. */
  signer: Address;
}

export interface EventsRequest {
  /** Cursor returned by the previous page; omit to start from the beginning. */
  after?: string;
  limit?: number;
  /** Long-poll: wait up to this long for an event when there is none yet. */
  waitMs?: number;
}

export interface EventPage {
  events: LedgerEvent[];
  /** Pass as `after` for the next page; it may move past events the caller may not see. */
  cursor: string;
}

interface EventBase {
  /** Unique and stable: use it to drop a redelivered event. */
  id: string;
  height: bigint;
  at: Date;
}

export type LedgerEvent =
  | (EventBase & { type: "issued"; accountId: string; amount: bigint; reference: string })
  | (EventBase & { type: "redeemed"; accountId: string; amount: bigint; reference: string })
  | (EventBase & {
      type: "payment";
      from: string;
      to: string;
      amount: bigint;
      reference: string;
      paymentType: PaymentType;
      transactionId: string;
    })
  | (EventBase & { type: "hold_created"; hold: Hold })
  | (EventBase & { type: "hold_released"; hold: Hold; preimage: Hex | undefined })
  | (EventBase & { type: "hold_refunded"; hold: Hold; earlyConsent?: EarlyRefundConsent | undefined })
  | (EventBase & { type: "account_opened"; account: DigitalAccount })
  | (EventBase & { type: "account_closed"; accountId: string });

export type LedgerEventType = LedgerEvent["type"];

export interface ActivityRequest {
  accountId: string;
  /** First height included (default 1). */
  fromHeight?: bigint;
  /** Last height included (default: the current height). */
  toHeight?: bigint;
  /** Most entries in one page (default and maximum ACTIVITY_PAGE_MAX). */
  limit?: number;
}

/** The largest page of account activity one call returns; longer ranges are read page by page. */
export const ACTIVITY_PAGE_MAX = 1000;

export type EntryKind = "issuance" | "redemption" | "payment" | "hold_release";

/** One booking on an account: what camt.053 reports as an entry and camt.054 notifies. */
export interface AccountEntry {
  entryId: string;
  transactionId: string;
  height: bigint;
  bookedAt: Date;
  kind: EntryKind;
  direction: "credit" | "debit";
  /** Always positive; the direction says which way. */
  amount: bigint;
  reference: string;
  /** The other account (undefined for issuance and redemption, whose counterparty is the NBK). */
  counterparty: { accountId: string; holderName: string; participantId: string } | undefined;
  holdId: string | undefined;
  paymentType: PaymentType | undefined;
}

export interface AccountActivity {
  account: DigitalAccount;
  fromHeight: bigint;
  toHeight: bigint;
  /** Booked balance (available + held) after height fromHeight - 1. */
  openingBalance: bigint;
  closingBalance: bigint;
  entries: AccountEntry[];
  /**
   * Set when the range asked for had more entries than one page: the page ends at `toHeight` (a whole
   * height, never half of one) and the next page starts at this height.
   */
  nextFromHeight?: bigint;
}

export const DT_LEDGER_ERROR_CODES = [
  "INVALID_AMOUNT",
  "INVALID_REQUEST",
  "INSUFFICIENT_FUNDS",
  "UNKNOWN_ACCOUNT",
  "ACCOUNT_CLOSED",
  "ACCOUNT_NOT_EMPTY",
  "SAME_ACCOUNT",
  "FORBIDDEN_ACCOUNT",
  "FORBIDDEN_OPERATION",
  "UNKNOWN_HOLD",
  "HOLD_EXPIRED",
  "WRONG_PREIMAGE",
  "WRONG_CONDITION",
  "ALREADY_RELEASED",
  "ALREADY_REFUNDED",
  "NOT_YET_EXPIRED",
  "IDEMPOTENCY_CONFLICT",
  "DOUBLE_SPEND",
  "ALLOTMENT_EXCEEDS_POOL",
  "ALLOTMENT_UNKNOWN_CHAIN",
  "UNAUTHENTICATED",
  "UNAVAILABLE",
] as const;
export type DtLedgerErrorCode = (typeof DT_LEDGER_ERROR_CODES)[number];

/** A refusal of the DT ledger, with a stable code. Never carries a preimage or a key. */
export class DtLedgerError extends CodedError<DtLedgerErrorCode> {}

export function isDtLedgerError(error: unknown, code?: DtLedgerErrorCode): error is DtLedgerError {
  return error instanceof DtLedgerError && (code === undefined || error.code === code);
}

/**
 * Whether a refusal is permanent: asking again with the same request cannot succeed, so a flow ends the step
 * (fails it for an operator) instead of retrying. One table for every feature; a new code without an entry
 * fails typecheck.
 */
export const DT_REFUSAL_IS_PERMANENT: Readonly<Record<DtLedgerErrorCode, boolean>> = {
  INVALID_AMOUNT: true,
  INVALID_REQUEST: true,
  INSUFFICIENT_FUNDS: true,
  UNKNOWN_ACCOUNT: true,
  ACCOUNT_CLOSED: true,
  ACCOUNT_NOT_EMPTY: true,
  SAME_ACCOUNT: true,
  FORBIDDEN_ACCOUNT: true,
  FORBIDDEN_OPERATION: true,
  // A hold placed a moment ago may not be readable yet through a replica or a retried request: read again.
  UNKNOWN_HOLD: false,
  HOLD_EXPIRED: true,
  WRONG_PREIMAGE: true,
  WRONG_CONDITION: true,
  ALREADY_RELEASED: true,
  ALREADY_REFUNDED: true,
  // The expiry comes: the same refund succeeds later.
  NOT_YET_EXPIRED: false,
  IDEMPOTENCY_CONFLICT: true,
  // The notary refused a token a concurrent spend took; the ledger state decides what the retry finds.
  DOUBLE_SPEND: false,
  // The servicer asks only for what it booked or saw final; a refusal is a disagreement to investigate.
  ALLOTMENT_EXCEEDS_POOL: true,
  ALLOTMENT_UNKNOWN_CHAIN: true,
  // Credentials the operator can fix without changing the request.
  UNAUTHENTICATED: false,
  UNAVAILABLE: false,
};

/** A DT ledger refusal that retrying will not fix; anything else (network trouble included) is retried. */
export function isPermanentDtRefusal(error: unknown): error is DtLedgerError {
  return error instanceof DtLedgerError && DT_REFUSAL_IS_PERMANENT[error.code];
}
