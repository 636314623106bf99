import type { Address } from "viem";
import { DT_REFUSAL_IS_PERMANENT, isDtLedgerError } from "../ledger/dt-ledger-port.ts";
import type { Database } from "../persistence/database.ts";
import { StablecoinError } from "./errors.ts";
import type { ExchangeStore, ExchangeUpdate, OnboardExchange } from "./exchanges.ts";
import { cancelMint, MintError, requestMint } from "./mint-flow.ts";
import type { Deposit, DepositStatus, Exchange, MintRequest, Move, Redemption } from "./model.ts";
import { refundMove } from "./move-flow.ts";
import { remintRedemption, rerouteRedemption, retryRedemption } from "./redeem-flow.ts";
import type { StablecoinLedger } from "./stablecoin-ledger.ts";
import { depositRows, mintedToday, mintRows, moveActionRows, moveRows, redemptionRows, requestedToday, type ListFilter, type Page } from "./store.ts";

export interface StablecoinServiceOptions {
  db: Database;
  exchanges: ExchangeStore;
  /**
   * The DT ledger and the collateral intake (where mint deposits are paid, and held ones are returned
   * from): the running gateway has them; the CLI, which only administers exchanges and redemptions, not.
   */
  ledger?: Pick<StablecoinLedger, "transfer">;
  intakeAccount?: string;
  /** The chains the stablecoin runs on, the default (first) one first; the CLI, which requests no mints, has none. */
  chains?: readonly StablecoinChainInfo[];
  /** The service's time: daily figures, the day of a mint request, retries (default: the wall clock). */
  clock?: () => Date;
}

/** A chain the stablecoin runs on, as exchanges see it. */
export interface StablecoinChainInfo {
  chainId: number;
  token: Address;
}

/** Who asks: an exchange sees and acts on its own requests only; an operator sees everything. */
export type Caller = { kind: "exchange"; exchange: Exchange } | { kind: "operator"; principalId: string };

/**
 * The stablecoin's use cases, the one entry point routes and the CLI call (routes never touch a store). Each
 * method checks the caller's rights, then runs one flow; refusals are StablecoinErrors (errors.ts).
 */
export class StablecoinService {
  readonly #options: StablecoinServiceOptions;

  constructor(options: StablecoinServiceOptions) {
    this.#options = options;
  }

  get intakeAccount(): string {
    if (this.#options.intakeAccount === undefined) throw new Error("this stablecoin service has no collateral intake (CLI use)");
    return this.#options.intakeAccount;
  }

  /** The chain a request that names none goes to (the first configured). */
  get defaultChainId(): number {
    const first = this.#options.chains?.[0];
    if (first === undefined) throw new Error("this stablecoin service has no chains (CLI use)");
    return first.chainId;
  }

  /** The configured chains, the default first (GET /stablecoin/chains). */
  get chains(): readonly StablecoinChainInfo[] {
    return this.#options.chains ?? [];
  }

  #now(): Date {
    return (this.#options.clock ?? (() => new Date()))();
  }

  /** The exchange an `exchange` principal acts for (NOT_AN_EXCHANGE when it is linked to none). */
  async exchangeOf(principalId: string): Promise<Exchange> {
    const exchange = await this.#options.exchanges.byPrincipal(principalId);
    if (!exchange) throw new StablecoinError("NOT_AN_EXCHANGE", "this principal is not linked to an onboarded exchange");
    return exchange;
  }

  // ---- exchanges (operator) -----------------------------------------------------------------------------------

  onboardExchange(request: OnboardExchange): Promise<{ exchange: Exchange; credentialId: string; apiKey: string }> {
    return this.#options.exchanges.onboard(request);
  }

  listExchanges(): Promise<Exchange[]> {
    return this.#options.exchanges.list();
  }

  updateExchange(id: string, update: ExchangeUpdate): Promise<Exchange> {
    return this.#options.exchanges.update(id, update);
  }

  /** What the exchange asked for and had minted today (UTC), in tiyn. */
  async today(exchange: Exchange): Promise<{ requested: bigint; minted: bigint }> {
    const { db } = this.#options;
    const now = this.#now();
    return { requested: await requestedToday(db, exchange.id, now), minted: await mintedToday(db, exchange.id, now) };
  }

  // ---- mints --------------------------------------------------------------------------------------------------

  /** Opens a mint request on `chainId` (default: the first chain); a chain not configured is UNKNOWN_CHAIN and nothing is written. */
  async requestMint(exchange: Exchange, amount: bigint, toAddress?: string, chainId?: number): Promise<MintRequest> {
    const chain = chainId ?? this.defaultChainId;
    const chainIds = this.chains.map((known) => known.chainId);
    if (!chainIds.includes(chain)) throw new MintError("UNKNOWN_CHAIN", `chain ${chain} is not one of this stablecoin's chains (${chainIds.join(", ")})`, { chainIds });
    return requestMint(this.#options.db, exchange, amount, { ...(toAddress === undefined ? {} : { toAddress }), chainId: chain, now: this.#now() });
  }

  listMints(caller: Caller, page: Omit<ListFilter, "exchangeId">): Promise<Page<MintRequest>> {
    return mintRows.list(this.#options.db, scoped(caller, page));
  }

  /** One request; another exchange's answers exactly like a missing one. */
  async getMint(caller: Caller, id: string): Promise<MintRequest> {
    const mint = await mintRows.get(this.#options.db, id, caller.kind === "exchange" ? caller.exchange.id : undefined);
    if (!mint) throw new StablecoinError("MINT_NOT_FOUND", "no such mint request");
    return mint;
  }

  cancelMint(exchange: Exchange, id: string): Promise<MintRequest> {
    return cancelMint(this.#options.db, exchange.id, id);
  }

  // ---- redemptions --------------------------------------------------------------------------------------------

  listRedemptions(caller: Caller, page: Omit<ListFilter, "exchangeId">): Promise<Page<Redemption>> {
    return redemptionRows.list(this.#options.db, scoped(caller, page));
  }

  async rerouteRedemption(id: string, dtAccount: string, principalId: string): Promise<Redemption> {
    const rerouted = await rerouteRedemption(this.#options.db, id, dtAccount, principalId, this.#now());
    if (!rerouted) throw new StablecoinError("NOT_FAILED", `redemption ${id} is not in the failed state`);
    return rerouted;
  }

  remintRedemption(id: string, principalId: string): Promise<{ redemption: Redemption; mint: MintRequest }> {
    return remintRedemption(this.#options.db, id, principalId);
  }

  async retryRedemption(id: string): Promise<void> {
    if (!(await retryRedemption(this.#options.db, id, this.#now()))) throw new StablecoinError("NOT_FAILED", `redemption ${id} is not in the failed state`);
  }

  // ---- moves between chains -----------------------------------------------------------------------------------

  listMoves(caller: Caller, page: Omit<ListFilter, "exchangeId">): Promise<Page<Move>> {
    return moveRows.list(this.#options.db, scoped(caller, page));
  }

  /** One move, with the operators' actions on it; another exchange's answers exactly like a missing one. */
  async getMove(caller: Caller, id: string): Promise<{ move: Move; actions: Awaited<ReturnType<typeof moveActionRows.list>> }> {
    const move = await moveRows.get(this.#options.db, id, caller.kind === "exchange" ? caller.exchange.id : undefined);
    if (!move) throw new StablecoinError("MOVE_NOT_FOUND", "no such move");
    return { move, actions: caller.kind === "operator" ? await moveActionRows.list(this.#options.db, id) : [] };
  }

  /** An operator has a confirmed, not yet allotted move minted back on its source chain (audited). */
  refundMove(id: string, principalId: string, reason: string): Promise<Move> {
    return refundMove(this.#options.db, id, principalId, reason, this.#now());
  }

  // ---- held deposits (operator) ------------------------------------------------------------------------------

  listDeposits(filter: { status?: DepositStatus; limit: number; before?: string }): Promise<Page<Deposit>> {
    return depositRows.list(this.#options.db, filter);
  }

  /**
   * Pays a held deposit back to its sender out of the collateral intake (a ledger return of that payment, so
   * not a payout). Called outside any database transaction (the embedded ledger may share the gateway's
   * PGlite); the event id keys the return, so a repeated or concurrent call gets the same payment, never a second.
   */
  async returnDeposit(id: string): Promise<Deposit> {
    const { db, ledger } = this.#options;
    if (!ledger) throw new StablecoinError("DT_LEDGER_UNAVAILABLE", "held deposits are returned by the running gateway (POST /stablecoin/deposits/:id/return)");
    const intakeAccount = this.intakeAccount;
    const deposit = await depositRows.get(db, id);
    if (!deposit) throw new StablecoinError("DEPOSIT_NOT_FOUND", `no deposit ${id}`);
    if (deposit.status !== "held") throw new StablecoinError("DEPOSIT_NOT_HELD", `deposit ${id} is ${deposit.status}`);
    let receipt: { transactionId: string };
    try {
      receipt = await ledger.transfer({
        idempotencyKey: `deposit-return:${id}`,
        from: intakeAccount,
        to: deposit.fromAccount,
        amount: deposit.amount,
        reference: `RETURN ${deposit.reference.slice(0, 100)}`,
        returnOf: deposit.ledgerTransactionId,
      });
    } catch (error) {
      if (!isDtLedgerError(error)) throw error;
      const details = { ledgerCode: error.code };
      if (DT_REFUSAL_IS_PERMANENT[error.code]) throw new StablecoinError("DEPOSIT_RETURN_REFUSED", `the DT ledger refused the return: ${error.message}`, details);
      throw new StablecoinError("DT_LEDGER_UNAVAILABLE", `the DT ledger cannot take the return now (${error.code}); try again`, details);
    }
    const returned = await depositRows.markReturned(db, id, receipt.transactionId);
    if (!returned) throw new StablecoinError("DEPOSIT_NOT_HELD", `deposit ${id} was returned by another request`);
    return returned;
  }
}

function scoped(caller: Caller, page: Omit<ListFilter, "exchangeId">): ListFilter {
  return caller.kind === "exchange" ? { ...page, exchangeId: caller.exchange.id } : page;
}
