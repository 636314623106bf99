import { randomBytes } from "node:crypto";
import { decodeEventLog, getAddress, type Address, type Hex } from "viem";
import { tengeStablecoinAbi } from "../evm/generated/contracts.ts";
import { isDtLedgerError, isPermanentDtRefusal, type DtLedgerPort } from "../ledger/dt-ledger-port.ts";
import type { Database } from "../persistence/database.ts";
import { StablecoinError } from "./errors.ts";
import type { Move, RefundReason } from "./model.ts";
import type { Faults } from "./stablecoin-ledger.ts";
import { moveMove } from "./state-machines.ts";
import { cursorRows, exchangeRows, mintRows, moveActionRows, moveFromRow, moveRows, type MoveDbRow } from "./store.ts";
import type { TokenChain } from "./token-chain.ts";

export type { Move, RefundReason } from "./model.ts";

/** The idempotency key of a move: the source chain's own name for its MovedOut log. */
export function moveId(sourceChainId: number, txHash: Hex, logIndex: number): string {
  return `${sourceChainId}:${txHash.toLowerCase()}:${logIndex}`;
}

/** The DT ledger reference of a move's allotment: one per move, for the destination or the refund alike. */
export const moveReference = (id: string): string => `move:${id}`;

/** What the move flow needs from the DT ledger: an allotment that applies a change once per reference. */
export type MoveLedger = Pick<DtLedgerPort, "issuanceAllotment">;

/** How the move flow follows one source chain. */
export interface MoveSource {
  chain: TokenChain;
  /** Blocks a MovedOut log needs before it is allotted (1 = its own block); must cover the reorg window. */
  confirmations: number;
  /** Blocks scanned again on every pass, to notice logs that a reorganisation moved. */
  reorgWindow: number;
  /** First block to scan (the token's deployment block). */
  startBlock: bigint;
}

export interface MoveSettings {
  segregatedAccount: string;
  /** Most blocks asked for in one getLogs call. */
  maxBlockRange: bigint;
  /** How long a claimed ask belongs to the worker that claimed it before another may repeat it. */
  allotLeaseMs: number;
  /** Pause before an ask the ledger could not answer is repeated. */
  retryMs: number;
  /** Unanswered asks for the destination before the move is refunded on its source instead. */
  maxAttempts: number;
}

export interface MoveWorkerOptions {
  db: Database;
  ledger: MoveLedger;
  /** Every configured chain of the pool: each is followed as a source, and is a possible destination. */
  sources: readonly MoveSource[];
  settings: MoveSettings;
  faults?: Faults;
  onSettled?(move: Move): void;
  clock?: () => Date;
}

/** Where a confirmed move is minted, decided from what the gateway knows before it asks the ledger (pure). */
export function moveTarget(
  move: { sourceChainId: number; destinationChainId: bigint; recipient: Address },
  facts: { destinationConfigured: boolean; exchange: { readonly evmAddresses: readonly Address[] }; recipientBlocklisted: boolean | undefined },
): { targetChainId: number; refundReason: RefundReason | null } {
  const refund = (reason: RefundReason) => ({ targetChainId: move.sourceChainId, refundReason: reason });
  if (!facts.destinationConfigured) return refund("DESTINATION_UNKNOWN");
  // Mints go only to addresses registered for the exchange, on every chain (as for deposits).
  if (!facts.exchange.evmAddresses.includes(move.recipient)) return refund("RECIPIENT_NOT_REGISTERED");
  if (facts.recipientBlocklisted) return refund("RECIPIENT_REFUSED");
  return { targetChainId: Number(move.destinationChainId), refundReason: null };
}

type AllotOutcome = "idle" | "minting" | "removed" | "failed" | "retargeted" | "retry";

/**
 * Moves stablecoin between chains of one pool, exactly once per MovedOut log: scan each chain (recording logs
 * up to its head, re-reading the reorganisation window), confirm (enough blocks on the source and the log still
 * canonical, else removed and never allotted), allot (ask the DT ledger under the move's one reference, then open
 * the target chain's mint request in the same transaction as the state change), and settle (the mint worker of
 * the target chain minted it: moved or refunded). Each step is one database transaction; the ledger is asked
 * outside any.
 */
export class MoveWorker {
  readonly #options: MoveWorkerOptions;

  constructor(options: MoveWorkerOptions) {
    this.#options = options;
  }

  #now(): Date {
    return (this.#options.clock ?? (() => new Date()))();
  }

  #source(chainId: number): MoveSource | undefined {
    return this.#options.sources.find((source) => source.chain.chainId === chainId);
  }

  /** Runs every step until nothing is left to do now. */
  async drain(): Promise<number> {
    let done = 0;
    for (const source of this.#options.sources) while ((await this.scan(source)) > 0) done++;
    for (const source of this.#options.sources) done += await this.confirm(source);
    for (;;) {
      const outcome = await this.allot();
      if (outcome === "idle" || outcome === "retry") break;
      done++;
    }
    done += await this.settle();
    return done;
  }

  /** Records new MovedOut logs of one chain; returns how many new or moved logs it saw (+1 if it advanced). */
  async scan(source: MoveSource): Promise<number> {
    const { db, settings, faults } = this.#options;
    const { chain } = source;
    const cursor = `move-scan:${chain.chainId}:${chain.token.toLowerCase()}`;
    const head = await chain.head();
    const scanned = await cursorRows.read(db, cursor);
    const last = scanned ? BigInt(scanned) : source.startBlock - 1n;
    let from = last - BigInt(source.reorgWindow) + 1n;
    if (from < source.startBlock) from = source.startBlock;
    if (from > head) return 0;
    const to = head - from + 1n > settings.maxBlockRange ? from + settings.maxBlockRange - 1n : head;
    const logs = await chain.movedOutLogs(from, to);
    return db.transaction(async (tx) => {
      let changed = 0;
      for (const log of logs) {
        const id = moveId(chain.chainId, log.txHash, log.logIndex);
        if (await moveRows.insert(tx, { id, sourceChainId: chain.chainId, ...log })) {
          changed++;
          continue;
        }
        if (await moveRows.follow(tx, id, log.blockNumber, log.blockHash)) {
          await moveMove(tx, id, "reappeared");
          changed++;
        }
      }
      await cursorRows.advanceTo(tx, cursor, to);
      faults?.("move.scan.before-commit");
      return changed + (to > last ? 1 : 0);
    });
  }

  /** Confirms or removes one chain's seen moves; returns how many changed state. */
  async confirm(source: MoveSource): Promise<number> {
    const { db, faults } = this.#options;
    return db.transaction(async (tx) => {
      const rows = await moveRows.lockSeen(tx, source.chain.chainId, 50);
      if (rows.length === 0) return 0;
      const head = await source.chain.head();
      let changed = 0;
      for (const row of rows) {
        if (!(await this.#isCanonical(source.chain, row))) {
          await moveMove(tx, row.id, "removed");
          changed++;
        } else if (head - BigInt(row.block_number) + 1n >= BigInt(source.confirmations)) {
          await moveMove(tx, row.id, "confirmed");
          changed++;
        }
      }
      faults?.("move.confirm.before-commit");
      return changed;
    });
  }

  /**
   * Asks the DT ledger for one move's allotment in three moves, like a redemption's payout: claim (decide the
   * target, with a lease), ask under `move:<id>` outside any transaction, record (open the target's mint
   * request). A process that dies after the ask leaves the claim; the next worker asks again under the same
   * reference and the ledger answers with the allotment it signed the first time.
   */
  async allot(): Promise<AllotOutcome> {
    const { db, ledger, settings, faults } = this.#options;
    const claimed = await db.transaction(async (tx): Promise<AllotOutcome | { row: MoveDbRow; target: number; attempts: number }> => {
      // Only moves from chains this process follows: another process's configuration is not evidence of a reorganisation.
      const row = await moveRows.lockNextToAllot(tx, this.#options.sources.map((source) => source.chain.chainId));
      if (!row) return "idle";
      const source = this.#source(Number(row.source_chain_id))!;
      const lease = new Date(this.#now().getTime() + settings.allotLeaseMs);
      if (row.state === "allotting") {
        await moveRows.renewLease(tx, row.id, lease, row.attempts + 1);
        return { row, target: Number(row.target_chain_id), attempts: row.attempts + 1 };
      }
      // Checked again right before the ask: a reorganisation deeper than the confirmations still wins.
      if (!(await this.#isCanonical(source.chain, row))) {
        await moveMove(tx, row.id, "removed");
        return "removed";
      }
      const exchange = row.exchange_id ? await exchangeRows.get(tx, row.exchange_id) : await exchangeRows.byAddress(tx, row.holder);
      if (!exchange) {
        await moveMove(tx, row.id, "failed", { failureCode: "HOLDER_NOT_ONBOARDED", failureMessage: `${row.holder} is not a registered exchange address` });
        return "failed";
      }
      const destination = BigInt(row.destination_chain_id) <= BigInt(Number.MAX_SAFE_INTEGER) ? this.#source(Number(row.destination_chain_id)) : undefined;
      const recipient = getAddress(row.recipient);
      const decided = moveTarget(
        { sourceChainId: Number(row.source_chain_id), destinationChainId: BigInt(row.destination_chain_id), recipient },
        { destinationConfigured: destination !== undefined, exchange, recipientBlocklisted: destination && (await destination.chain.isBlocklisted(recipient)) },
      );
      await moveMove(tx, row.id, "claimed", { ...decided, attempts: 1, nextCheckAt: lease });
      if (!row.exchange_id) await moveRows.setExchange(tx, row.id, exchange.id);
      return { row: { ...row, exchange_id: exchange.id }, target: decided.targetChainId, attempts: 1 };
    });
    if (typeof claimed === "string") return claimed;
    const { row, target, attempts } = claimed;
    const sourceChainId = Number(row.source_chain_id);
    let outcome: { sequence: bigint } | { error: unknown };
    try {
      const signed = await ledger.issuanceAllotment({
        accountId: settings.segregatedAccount,
        reference: moveReference(row.id),
        change: { kind: "move", from: BigInt(sourceChainId), to: BigInt(target), amount: BigInt(row.amount) },
      });
      outcome = { sequence: signed.allotment.sequence };
    } catch (error) {
      outcome = { error };
    }
    faults?.("move.allot.after-allotment");
    return db.transaction(async (tx): Promise<AllotOutcome> => {
      if (!(await moveRows.lockInState(tx, row.id, ["allotting"]))) return "idle";
      if ("sequence" in outcome) {
        // The target asked is the one that applied, even if an operator asked for a refund meanwhile.
        await moveMove(tx, row.id, "allotted", { targetChainId: target, allotmentSequence: outcome.sequence, failureCode: null, failureMessage: null });
        await mintRows.insertForMove(tx, {
          id: `mint_${randomBytes(8).toString("hex")}`,
          reference: `MOVE-${randomBytes(8).toString("hex").toUpperCase()}`,
          exchangeId: row.exchange_id!,
          amount: BigInt(row.amount),
          toAddress: getAddress(target === sourceChainId ? row.holder : row.recipient),
          moveId: row.id,
          chainId: target,
        });
        faults?.("move.allot.before-commit");
        return "minting";
      }
      const { error } = outcome;
      const destination = Number(row.destination_chain_id);
      if (isPermanentDtRefusal(error)) {
        // The reference holds the other change: that one applied, so the move goes where it did.
        if (error.code === "IDEMPOTENCY_CONFLICT") {
          const applied = target === sourceChainId ? destination : sourceChainId;
          await moveMove(tx, row.id, "retargeted", { targetChainId: applied, refundReason: applied === sourceChainId ? "OPERATOR_REFUND" : null, nextCheckAt: this.#now() });
          return "retargeted";
        }
        if (target !== sourceChainId) {
          await moveMove(tx, row.id, "retargeted", { targetChainId: sourceChainId, refundReason: "DESTINATION_REFUSED", attempts: 0, nextCheckAt: this.#now(), failureCode: `DT_${error.code}`, failureMessage: error.message.slice(0, 500) });
          return "retargeted";
        }
        await moveMove(tx, row.id, "failed", { failureCode: `DT_${error.code}`, failureMessage: error.message.slice(0, 500) });
        return "failed";
      }
      if (attempts >= settings.maxAttempts && target !== sourceChainId) {
        // Safe to switch: had the destination applied, the ledger refuses the refund under the same reference.
        await moveMove(tx, row.id, "retargeted", { targetChainId: sourceChainId, refundReason: "ATTEMPTS_EXHAUSTED", attempts: 0, nextCheckAt: this.#now() });
        return "retargeted";
      }
      await moveRows.retryLater(tx, row.id, { code: isDtLedgerError(error) ? error.code : "LEDGER_UNREACHABLE", message: String((error as Error).message).slice(0, 500) }, settings.retryMs);
      return "retry";
    });
  }

  /** Moves each move whose mint request finished to moved, refunded or failed; returns how many. */
  async settle(): Promise<number> {
    const { db, faults } = this.#options;
    const settled: Move[] = [];
    const count = await db.transaction(async (tx) => {
      settled.length = 0;
      const rows = await moveRows.lockMintFinished(tx, 50);
      for (const row of rows) {
        const refund = Number(row.target_chain_id) === Number(row.source_chain_id);
        if (row.mint_state === "minted") {
          const settledAt = this.#now();
          await moveMove(tx, row.id, refund ? "refunded" : "moved", { settledAt });
          settled.push(moveFromRow({ ...row, state: refund ? "refunded" : "moved", settled_at: settledAt }));
        } else {
          // The allotment applied to the target chain: the move can only complete there (never refunded).
          await moveMove(tx, row.id, "mintFailed", { failureCode: "MINT_FAILED", failureMessage: `mint request ${row.mint_id} on chain ${row.target_chain_id} failed; the allotment is there` });
        }
      }
      faults?.("move.settle.before-commit");
      return rows.length;
    });
    for (const move of settled) this.#options.onSettled?.(move);
    return count;
  }

  /** The log's block is canonical and its receipt still carries this token's MovedOut log as recorded. */
  async #isCanonical(chain: TokenChain, row: MoveDbRow): Promise<boolean> {
    const hash = await chain.blockHash(BigInt(row.block_number));
    if (!hash || hash.toLowerCase() !== row.block_hash.toLowerCase()) return false;
    const receipt = await chain.receipt(row.tx_hash as Hex);
    if (!receipt || receipt.status !== "success" || receipt.blockHash.toLowerCase() !== row.block_hash.toLowerCase()) return false;
    const log = receipt.logs.find((candidate) => candidate.logIndex === row.log_index && candidate.address.toLowerCase() === chain.token.toLowerCase());
    if (!log) return false;
    try {
      const decoded = decodeEventLog({ abi: tengeStablecoinAbi, eventName: "MovedOut", data: log.data, topics: log.topics as [Hex, ...Hex[]] });
      return (
        decoded.args.amount === BigInt(row.amount) &&
        decoded.args.destinationChainId === BigInt(row.destination_chain_id) &&
        getAddress(decoded.args.recipient) === getAddress(row.recipient) &&
        getAddress(decoded.args.holder) === getAddress(row.holder)
      );
    } catch {
      return false;
    }
  }
}

/**
 * An operator has a move refunded on its source chain: only after the source's confirmations and before any
 * allotment applied (a move the ledger allotted to its destination completes there). The state change and its
 * audit record commit together. If a worker's ask for the destination is in flight and applies, the move still
 * goes to the destination (the ledger allots one of the two under the move's reference).
 */
export async function refundMove(db: Database, id: string, principalId: string, reason: string, now = new Date()): Promise<Move> {
  return db.transaction(async (tx) => {
    const current = await moveRows.get(tx, id);
    if (!current) throw new StablecoinError("MOVE_NOT_FOUND", `no move ${id}`);
    const row = await moveRows.lockInState(tx, id, ["confirmed", "allotting", "failed"]);
    const refunding = row !== undefined && row.state !== "failed" && row.target_chain_id !== null && Number(row.target_chain_id) === Number(row.source_chain_id);
    if (!row || refunding || row.allotment_sequence !== null || current.mintId !== null) {
      throw new StablecoinError("NOT_REFUNDABLE", `move ${id} is ${current.state}; only a confirmed move not yet allotted can be refunded`);
    }
    if (!row.exchange_id) throw new StablecoinError("NOT_REFUNDABLE", `move ${id} was burned by ${row.holder}, no onboarded exchange; onboard it first`);
    const patch = { targetChainId: Number(row.source_chain_id), refundReason: "OPERATOR_REFUND" as const, attempts: 0, nextCheckAt: now, failureCode: null, failureMessage: null };
    await moveMove(tx, id, row.state === "confirmed" ? "claimed" : "retargeted", patch);
    await moveActionRows.insert(tx, id, { action: "refund", principalId, reason });
    return (await moveRows.get(tx, id))!;
  });
}
