import { randomBytes } from "node:crypto";
import { CodedError } from "../core/errors.ts";
import { parseIsin } from "../core/isin.ts";
import { amountFromDecimal, KZT } from "../core/money.ts";
import type { Page } from "../core/paging.ts";
import { DeliveryRefusedError } from "../evm/security-token.ts";
import type { Principal } from "../identity/principal.ts";
import { unitsFromDecimal, type DvpSettlementInstruction } from "../iso20022/dvp/messages.ts";
import type { PvpEngine } from "../pvp/engine.ts";
import { bareHex } from "../pvp/protocol/pvp-messages.ts";
import type { PvpRecord } from "../pvp/pvp.ts";
import type { PvpState } from "../pvp/state-machine.ts";
import type { MessageRecord, TimelineEntry } from "../pvp/store.ts";
import { authorizeCounterparty, authorizeSide, type DvpAuthority } from "./authorization.ts";
import { dvpTermsOf, type DvpParty, type DvpSide, type DvpTerms } from "./dvp.ts";
import type { SecuritiesLegPort } from "./securities-leg.ts";

export type DvpErrorCode = "DVP_INVALID" | "DVP_NOT_FOUND" | "UNKNOWN_SECURITY" | "DVP_TERMS_MISMATCH";

/** A DvP request refused before anything is written (HTTP statuses in src/server/http-status.ts). */
export class DvpError extends CodedError<DvpErrorCode> {}

/** One side as a request names it; the transaction id (its own reference) is drawn when not given. */
export type DvpPartyInput = Omit<DvpParty, "transactionId"> & { transactionId?: string | undefined };

/** What a broker (or an operator, for both sides at once) instructs. */
export interface DvpInstruction {
  /** The caller's side; an operator instructs both (omit it). */
  side?: DvpSide | undefined;
  /** The securities ledger (default: the only one). */
  ledger?: string | undefined;
  isin: string;
  /** Decimal quantity of the security ("150"). */
  quantity: string;
  /** Decimal KZT the buyer pays ("150750.00"). */
  amount: string;
  seller: DvpPartyInput;
  buyer: DvpPartyInput;
  tradeDate?: string | undefined;
  settlementDate?: string | undefined;
  /** Expiry of the securities lock (claimed first, expires first) and of the cash hold (later, by the policy's gap). */
  securitiesExpiresAt?: Date | undefined;
  cashExpiresAt?: Date | undefined;
}

export interface DvpListFilter {
  state?: PvpState;
  limit?: number;
  before?: string;
}

const evmAddress = /^0x[0-9a-fA-F]{40}$/;
const isoDate = /^\d{4}-\d{2}-\d{2}$/;
const transactionIdPattern = /^[A-Za-z0-9-]{1,35}$/;
const other = (side: DvpSide): DvpSide => (side === "seller" ? "buyer" : "seller");

/**
 * DvP on the exchange engine: the buyer's DT cash against the seller's tokenized security under one
 * hash-lock (docs/dvp.md). Decides who may instruct what, runs the compliance pre-check, and hands the
 * exchange to the PvP engine as kind `dvp`: the cash leg is its DT leg (claimed second, expires last), the
 * securities leg its foreign leg (claimed first with the reveal, expires first). A broker's DvP waits for
 * the other broker's affirmation before anything is locked.
 */
export class DvpDesk {
  readonly engine: PvpEngine;
  private readonly securities: Map<string, SecuritiesLegPort>;
  private readonly authority: DvpAuthority;

  constructor(options: { engine: PvpEngine; securities: SecuritiesLegPort[]; authority: DvpAuthority }) {
    this.engine = options.engine;
    this.securities = new Map(options.securities.map((leg) => [leg.ledger, leg]));
    this.authority = options.authority;
  }

  /** The securities ledgers this desk delivers on, with their security. */
  ledgers(): Array<{ ledger: string; isin: string; decimals: number }> {
    return [...this.securities.values()].map((leg) => ({ ledger: leg.ledger, ...leg.security }));
  }

  private portFor(ledger: string | undefined, isin: string): SecuritiesLegPort {
    const port = ledger === undefined ? [...this.securities.values()].find((leg) => leg.security.isin === isin) : this.securities.get(ledger);
    if (!port || port.security.isin !== isin) throw new DvpError("UNKNOWN_SECURITY", `this gateway delivers no ${isin}${ledger ? ` on ${ledger}` : ""}`);
    return port;
  }

  /** Creates a DvP: validated, authorized and pre-checked before anything is written or locked. */
  async create(principal: Principal, instruction: DvpInstruction): Promise<PvpRecord> {
    const isin = parseIsin(instruction.isin);
    const port = this.portFor(instruction.ledger, isin);
    const units = unitsFromDecimal(instruction.quantity, port.security.decimals);
    const tiyn = amountFromDecimal(instruction.amount, KZT).minorUnits;
    if (tiyn <= 0n) throw new DvpError("DVP_INVALID", "a DvP pays a positive amount");
    const today = this.engine.now().toISOString().slice(0, 10);
    const tradeDate = instruction.tradeDate ?? today;
    const settlementDate = instruction.settlementDate ?? tradeDate;
    if (!isoDate.test(tradeDate) || !isoDate.test(settlementDate) || settlementDate < tradeDate) throw new DvpError("DVP_INVALID", "trade and settlement dates are YYYY-MM-DD, settlement not before trade");
    const seller = party(instruction.seller, "seller");
    const buyer = party(instruction.buyer, "buyer");
    if (seller.bic === buyer.bic && seller.holding.toLowerCase() === buyer.holding.toLowerCase()) throw new DvpError("DVP_INVALID", "seller and buyer are the same holding");
    const parties = { seller, buyer };
    let instructedBy: DvpTerms["instructedBy"];
    if (principal.role === "operator") {
      if (instruction.side !== undefined) throw new DvpError("DVP_INVALID", "an operator instructs both sides: omit side");
      instructedBy = "both";
      await authorizeCounterparty("seller", seller, port.ledger, this.authority);
      await authorizeCounterparty("buyer", buyer, port.ledger, this.authority);
    } else {
      if (instruction.side === undefined) throw new DvpError("DVP_INVALID", "a broker names its side: seller or buyer");
      instructedBy = instruction.side;
      await authorizeSide(principal, instruction.side, parties[instruction.side], port.ledger, this.authority);
      await authorizeCounterparty(other(instruction.side), parties[other(instruction.side)], port.ledger, this.authority);
    }
    await this.precheck(port, seller, buyer, units, isin);
    const terms: DvpTerms = { isin, decimals: port.security.decimals, tradeDate, settlementDate, seller, buyer, instructedBy, principals: [principal.id] };
    const expires = (value: Date | undefined) => (value === undefined ? {} : { expiresAt: value });
    return this.engine.create({
      kind: "dvp",
      createdBy: principal.id,
      bankAgent: principal.institution?.bic,
      counterpartyAgent: instructedBy === "seller" ? buyer.bic : seller.bic,
      dtLeg: { ledger: "dt", payer: buyer.cashAccount, beneficiary: seller.cashAccount, amount: tiyn, currency: KZT, ...expires(instruction.cashExpiresAt) },
      foreignLeg: { ledger: port.ledger, payer: seller.holding, beneficiary: buyer.holding, amount: units, currency: isin, ...expires(instruction.securitiesExpiresAt) },
      exchangeTerms: terms as unknown as Record<string, unknown>,
      awaitingAffirmation: instructedBy !== "both",
    });
  }

  /**
   * The other broker affirms a DvP waiting for it (JSON, or its sese.023 whose every term must match);
   * its side is authorized and compliance asked again before the cash lock is queued.
   */
  async affirm(principal: Principal, id: string, options: { transactionId?: string | undefined; instruction?: DvpSettlementInstruction } = {}): Promise<PvpRecord> {
    const pvp = await this.visible(principal, id);
    const terms = dvpTermsOf(pvp);
    if (terms.instructedBy === "both") throw new CodedError("PVP_NOT_AFFIRMABLE", `DvP ${id} was instructed for both sides`);
    const side = other(terms.instructedBy);
    const port = this.portFor(pvp.foreignLeg.ledger, terms.isin);
    await authorizeSide(principal, side, terms[side], port.ledger, this.authority);
    if (options.instruction) matchInstruction(pvp, terms, side, options.instruction, principal);
    const transactionId = options.instruction?.transactionId ?? options.transactionId ?? newTransactionId();
    if (!transactionIdPattern.test(transactionId)) throw new DvpError("DVP_INVALID", "a transaction id is 1 to 35 letters, digits or '-'");
    await this.precheck(port, terms.seller, terms.buyer, pvp.foreignLeg.amount, terms.isin);
    return this.engine.affirm(id, {
      kind: "dvp",
      affirm: (current) => {
        const stored = dvpTermsOf(current);
        return { ...stored, [side]: { ...stored[side], transactionId }, principals: [...stored.principals, principal.id] };
      },
    });
  }

  /** Either broker (or an operator) cancels before the reveal: both legs are refunded. */
  async cancel(principal: Principal, id: string): Promise<PvpRecord> {
    await this.visible(principal, id);
    return this.engine.cancel(id, "dvp");
  }

  /** A DvP the caller may see: operators all, a broker those naming its institution on either side. */
  async visible(principal: Principal | null, id: string): Promise<PvpRecord> {
    const pvp = await this.engine.get(id, "dvp");
    if (!pvp || !mayAccessDvp(principal, pvp)) throw new DvpError("DVP_NOT_FOUND", `no DvP ${id}`);
    return pvp;
  }

  page(principal: Principal, filter: DvpListFilter): Promise<Page<PvpRecord>> {
    const bic = principal.role === "operator" ? undefined : (principal.institution?.bic ?? "-");
    return this.engine.page({ kind: "dvp", ...filter, ...(bic ? { partyBic: bic } : {}) });
  }

  timeline(pvp: PvpRecord): Promise<TimelineEntry[]> {
    return this.engine.timeline(pvp);
  }

  messages(pvp: PvpRecord): Promise<MessageRecord[]> {
    return this.engine.messages(pvp);
  }

  private async precheck(port: SecuritiesLegPort, seller: DvpParty, buyer: DvpParty, units: bigint, isin: string): Promise<void> {
    const check = await port.precheck({ payer: seller.holding, beneficiary: buyer.holding, amount: units, currency: isin });
    if (!check.deliverable) throw new DeliveryRefusedError(check.refusal, { seller: seller.holding as `0x${string}`, buyer: buyer.holding as `0x${string}`, amount: units, custodian: "0x0000000000000000000000000000000000000000" });
  }
}

/** Operators see every DvP; a broker those that name its institution as seller or buyer. */
export function mayAccessDvp(principal: Principal | null, pvp: PvpRecord): boolean {
  if (principal?.role === "operator") return true;
  const bic = principal?.role === "broker" ? principal.institution?.bic : undefined;
  if (!bic) return false;
  const terms = dvpTermsOf(pvp);
  return terms.seller.bic === bic || terms.buyer.bic === bic;
}

function newTransactionId(): string {
  return `TX${randomBytes(8).toString("hex").toUpperCase()}`;
}

function party(input: DvpPartyInput, side: DvpSide): DvpParty {
  if (!evmAddress.test(input.holding)) throw new DvpError("DVP_INVALID", `the ${side}'s holding is not a 0x-prefixed 20-byte address`);
  const transactionId = input.transactionId ?? newTransactionId();
  if (!transactionIdPattern.test(transactionId)) throw new DvpError("DVP_INVALID", "a transaction id is 1 to 35 letters, digits or '-'");
  return { bic: input.bic, holding: input.holding, cashAccount: input.cashAccount, transactionId };
}

/** A sese.023 affirms only the DvP it names, from the broker it names, with every term the same. */
function matchInstruction(pvp: PvpRecord, terms: DvpTerms, side: DvpSide, instruction: DvpSettlementInstruction, principal: Principal): void {
  if (instruction.envelope.from.slice(0, 8) !== principal.institution?.bic?.slice(0, 8)) {
    throw new DvpError("DVP_TERMS_MISMATCH", `the instruction is from ${instruction.envelope.from}, the caller acts for ${principal.institution?.bic}`);
  }
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const mismatches = [
    instruction.reference.dvpId !== pvp.id ? "DvpRef/CmonId" : undefined,
    instruction.reference.hashLock !== bareHex(pvp.hashLock) ? "hash-lock" : undefined,
    instruction.side !== (side === "seller" ? "deliver" : "receive") ? "SctiesMvmntTp" : undefined,
    instruction.isin !== terms.isin ? "ISIN" : undefined,
    instruction.quantity.units !== pvp.foreignLeg.amount ? "quantity" : undefined,
    instruction.settlementAmount.currency !== KZT || instruction.settlementAmount.minorUnits !== pvp.dtLeg!.amount ? "settlement amount" : undefined,
    instruction.delivering.bic.slice(0, 8) !== terms.seller.bic.slice(0, 8) || !same(instruction.delivering.holdingAddress, terms.seller.holding) ? "delivering party" : undefined,
    instruction.receiving.bic.slice(0, 8) !== terms.buyer.bic.slice(0, 8) || !same(instruction.receiving.holdingAddress, terms.buyer.holding) ? "receiving party" : undefined,
    instruction.tradeDate !== terms.tradeDate ? "trade date" : undefined,
  ].filter((field) => field !== undefined);
  if (mismatches.length > 0) throw new DvpError("DVP_TERMS_MISMATCH", `the instruction differs from DvP ${pvp.id} in ${mismatches.join(", ")}`);
}
