import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Hex } from "viem";
import type { Database, Queryable } from "../persistence/database.ts";
import { ledgerCarries, LegError, type HashLockedLegPort, type LegDirectory, type LegObservation, type LegSide, type LegTerms } from "./leg-port.ts";
import {
  cancellationRequestMessage,
  isoDateTime,
  lockedMessage,
  messageIdOf,
  notificationMessage,
  rejectedMessage,
  resolutionMessage,
  settledMessage,
  statusToBankMessage,
  type InstructionReference,
  type MessageParties,
} from "./protocol/pvp-messages.ts";
import { legOf, type PvpRecord } from "./pvp.ts";
import {
  decideEvent,
  findTransition,
  isTerminal,
  type BankNoticeKind,
  type Effect,
  type PeerMessageKind,
  type PvpEvent,
} from "./state-machine.ts";
import { plainPreimages, type PreimageSeal } from "./preimage-seal.ts";
import { pvpStore, type OutboxCommand } from "./store.ts";
import { currencyMinorUnits } from "../iso20022/reference/currencies.ts";
import { lockRefusalReason, PVP_REASON_CODES } from "./reason-codes.ts";
import { checkExpiries, defaultExpiries, withinMaxLock, type TimelockPolicy } from "./timelock-policy.ts";

/** Delivers a signed ISO 20022 message to a correspondent; resolves on its acknowledgement. */
export interface PeerTransport {
  send(to: string, message: { xml: string; businessMessageId: string; messageType: string }): Promise<void>;
}

/** Where fault injection stops a "process": it throws, exactly as a crash would leave the database. */
export interface FaultHooks {
  at(point: CrashPoint, pvpId: string): void;
}
export type CrashPoint = "before-transition" | "after-transition" | "before-command" | "after-command";

export interface EngineLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const silentLogger: EngineLogger = { info() {}, warn() {}, error() {} };

export interface PvpEngineOptions {
  db: Database;
  legs: LegDirectory;
  policy: TimelockPolicy;
  /** Our BIC: the agent in every message we send, and the owner of the PvPs this engine drives. */
  ourAgent: string;
  transport?: PeerTransport;
  clock?: () => Date;
  /** Name of this worker in leases (defaults to a random one per engine). */
  worker?: string;
  logger?: EngineLogger;
  faults?: FaultHooks;
  /** How soon an unfinished PvP is looked at again when nothing wakes it (default 1000 ms)... */
  pollIntervalMs?: number;
  /** ...growing with the time it has waited, up to this (default 30 s). */
  pollMaxMs?: number;
  leaseMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** PvPs processed at once by one worker (default 8). */
  concurrency?: number;
  /** Seals preimages at rest (AES-256-GCM under PVP_SECRET_KEY); without one they are stored in clear (tests only). */
  preimageSeal?: PreimageSeal;
  /** Identifier sources; seeded ones make fault-injection runs repeatable. Defaults are random. */
  ids?: { pvpId(): string; uetr(): string };
}

export interface CreatePvpRequest {
  createdBy: string;
  counterpartyAgent: string;
  /** Our bank's payment on the DT ledger: claimed second, expires last. */
  dtLeg: Omit<LegTerms, "hashLock" | "expiresAt"> & { expiresAt?: Date };
  /** The correspondent's payment: claimed first (the reveal), expires first. */
  foreignLeg: Omit<LegTerms, "hashLock" | "expiresAt"> & { expiresAt?: Date };
}

export const PVP_ERROR_CODES = [
  "TIMELOCK_POLICY",
  "PVP_NOT_FOUND",
  "PVP_NOT_CANCELLABLE",
  "PVP_INVALID",
  "LOCK_TOO_LONG",
  "DT_LEG_CURRENCY",
  "UNKNOWN_LEDGER",
  "LEG_ASSET_MISMATCH",
] as const;
export type PvpErrorCode = (typeof PVP_ERROR_CODES)[number];

export class PvpError extends Error {
  override name = "PvpError";
  readonly code: PvpErrorCode;
  readonly detail: string | undefined;
  constructor(code: PvpErrorCode, message: string, detail?: string) {
    super(message);
    this.code = code;
    this.detail = detail;
  }
}

/** A crash injected by fault hooks; the runner treats it as the process dying. */
export class InjectedCrash extends Error {
  override name = "InjectedCrash";
}

const CANCELLABLE = ["INITIATED", "DT_LOCKED"];

/** PvP id: "pvp" + 24 hex characters (fits the profile's 32-character PvP id and 35-character message ids). */
function newPvpId(): string {
  return `pvp${randomBytes(12).toString("hex")}`;
}

function sha256Hex(preimage: Hex): Hex {
  return `0x${createHash("sha256").update(Buffer.from(preimage.slice(2), "hex")).digest("hex")}`;
}

/** The hash-lock as the ISO profile writes it: 64 lowercase hex characters without 0x. */
export function bareHex(value: Hex): string {
  return value.slice(2).toLowerCase();
}

/**
 * The PvP engine: creates PvPs, receives correspondents' messages, and drives every unfinished PvP to
 * SETTLED or REFUNDED through the transition table. It talks to ledgers only through leg ports and to
 * correspondents only through a transport, and keeps all its state in the database, so any number of
 * engines (processes) can share one database and any of them can pick up where a crashed one stopped.
 */
export class PvpEngine {
  readonly ourAgent: string;
  readonly worker: string;
  private readonly options: PvpEngineOptions;
  private readonly db: Database;
  private readonly clock: () => Date;
  private readonly log: EngineLogger;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(options: PvpEngineOptions) {
    this.options = options;
    this.db = options.db;
    this.ourAgent = options.ourAgent;
    this.worker = options.worker ?? `worker-${randomBytes(4).toString("hex")}`;
    this.clock = options.clock ?? (() => new Date());
    this.log = options.logger ?? silentLogger;
  }

  get policy(): TimelockPolicy {
    return this.options.policy;
  }

  now(): Date {
    return this.clock();
  }

  /**
   * Creates a PvP as initiator: checks both legs (ledgers, assets, amounts) and the timelock policy before
   * anything is written or held, draws the secret, queues the DT lock.
   */
  async create(request: CreatePvpRequest): Promise<PvpRecord> {
    const now = this.clock();
    if (request.dtLeg.amount <= 0n || request.foreignLeg.amount <= 0n) throw new PvpError("PVP_INVALID", "leg amounts must be positive");
    await this.options.legs.prepare?.(request.foreignLeg.ledger);
    const foreignPort = this.checkLegs(request);
    // The foreign leg's expiry is judged by its own ledger's clock (chain time on EVM chains, which can
    // run well ahead of the wall clock), so defaults and the lock window start from that clock.
    let foreignNow = now;
    try {
      foreignNow = await foreignPort.now();
    } catch {
      // Unreachable ledger: the gateway's clock stands in; the reveal window still uses the ledger's.
    }
    const defaults = defaultExpiries(this.policy, foreignNow.getTime() > now.getTime() ? foreignNow : now);
    const expiries = { foreign: request.foreignLeg.expiresAt ?? defaults.foreign, dt: request.dtLeg.expiresAt ?? defaults.dt };
    const violation = checkExpiries(this.policy, foreignNow.getTime() > now.getTime() ? foreignNow : now, expiries);
    if (violation) throw new PvpError("TIMELOCK_POLICY", violation.message, violation.code);
    if (!withinMaxLock(this.policy, now, expiries.dt) || !withinMaxLock(this.policy, foreignNow, expiries.foreign)) {
      throw new PvpError("LOCK_TOO_LONG", `no leg may stay locked longer than ${(this.policy.maxLockMs ?? 86_400_000) / 1000}s`);
    }
    // The secret: 32 random bytes, stored with the PvP and never logged before it is revealed.
    const preimage = `0x${randomBytes(32).toString("hex")}` as Hex;
    const hashLock = sha256Hex(preimage);
    const id = this.options.ids?.pvpId() ?? newPvpId();
    const uetr = this.options.ids?.uetr() ?? randomUUID();
    const instruction: InstructionReference = {
      messageId: messageIdOf(id, "I"),
      createdAt: isoDateTime(now),
      instructionId: messageIdOf(id, "I"),
      endToEndId: id,
      uetr,
    };
    const pvp: PvpRecord = {
      id,
      pvpRef: id,
      role: "initiator",
      state: "INITIATED",
      version: 0,
      uetr,
      hashLock,
      preimage,
      sealedPreimage: this.sealPreimage(id, preimage),
      dtLeg: { ...request.dtLeg, hashLock, expiresAt: expiries.dt },
      foreignLeg: { ...request.foreignLeg, hashLock, expiresAt: expiries.foreign },
      dtReference: undefined,
      foreignReference: undefined,
      ourAgent: this.ourAgent,
      counterpartyAgent: request.counterpartyAgent,
      createdBy: request.createdBy,
      peerStatus: undefined,
      peerReason: undefined,
      cancelRequested: false,
      dtLockRefused: false,
      foreignLockRefused: false,
      dtLockIssued: false,
      foreignLockIssued: false,
      reasonCode: undefined,
      instruction,
      createdAt: now,
      updatedAt: now,
      nextRunAt: now,
    };
    await this.db.transaction(async (tx) => {
      await pvpStore.insert(tx, pvp);
      await pvpStore.addTimeline(tx, id, { at: now, kind: "transition", fromState: null, toState: "INITIATED", event: "created", detail: { createdBy: request.createdBy } });
      await this.writeEffects(tx, pvp, [{ kind: "lock", side: "dt" }], now);
    });
    this.log.info({ event: "pvp.created", pvpId: id, uetr }, "PvP created");
    this.wake();
    return pvp;
  }

  /** Whether a ledger carries legs in a currency at its ISO decimals (the responder checks instructions against it). */
  ledgerCarries(ledger: string, currency: string): boolean {
    try {
      return ledgerCarries(this.options.legs.leg(ledger), currency, currencyMinorUnits(currency));
    } catch {
      return false;
    }
  }

  /** The stored form of a PvP's preimage. */
  sealPreimage(pvpId: string, preimage: Hex): string {
    return (this.options.preimageSeal ?? plainPreimages).seal(pvpId, preimage);
  }

  /** A PvP from the database with its preimage opened, for the worker (never for the API). */
  private async load(id: string): Promise<PvpRecord | undefined> {
    const pvp = await pvpStore.get(this.db, id);
    if (pvp?.sealedPreimage !== undefined) pvp.preimage = (this.options.preimageSeal ?? plainPreimages).open(pvp.id, pvp.sealedPreimage);
    return pvp;
  }

  /** The legs' ledgers exist and carry the legs' currencies with their ISO decimals; returns the foreign leg's port. */
  private checkLegs(request: CreatePvpRequest): HashLockedLegPort {
    const home = this.options.legs.leg(request.dtLeg.ledger);
    if (!ledgerCarries(home, request.dtLeg.currency, currencyMinorUnits(request.dtLeg.currency))) {
      const carried = (home.assets ?? []).map((asset) => asset.currency).join(", ");
      throw new PvpError("DT_LEG_CURRENCY", `the DT leg is paid in ${carried}, not ${request.dtLeg.currency}`);
    }
    const ports = ([["DT", request.dtLeg], ["foreign", request.foreignLeg]] as const).map(([side, leg]) => {
      let port: HashLockedLegPort;
      try {
        port = this.options.legs.leg(leg.ledger);
      } catch {
        throw new PvpError("UNKNOWN_LEDGER", `the ${side} leg names ledger ${leg.ledger}, which this gateway does not act on`);
      }
      if (!ledgerCarries(port, leg.currency, currencyMinorUnits(leg.currency))) {
        const carried = (port.assets ?? []).map((asset) => `${asset.currency} with ${asset.decimals} decimals`).join(", ");
        throw new PvpError(
          "LEG_ASSET_MISMATCH",
          `ledger ${leg.ledger} carries ${carried}; the ${side} leg is in ${leg.currency} (${currencyMinorUnits(leg.currency) ?? "unknown"} decimals)`,
        );
      }
      return port;
    });
    return ports[1]!;
  }

  /** Creates a PvP as responder from a correspondent's pacs.009 (called by the inbound handler). */
  async insertResponder(tx: Queryable, pvp: PvpRecord, now: Date): Promise<void> {
    await pvpStore.insert(tx, pvp);
    await pvpStore.addTimeline(tx, pvp.id, { at: now, kind: "transition", fromState: null, toState: pvp.state, event: "instruction_received", detail: {} });
    // An instruction refused by our terms or policy is answered RJCT without locking anything.
    if (pvp.foreignLockRefused) await pvpStore.update(tx, pvp.id, { reason_code: pvp.reasonCode ?? PVP_REASON_CODES.timeout.code, foreign_lock_refused: true }, now);
    else await this.writeEffects(tx, pvp, [{ kind: "lock", side: "foreign" }], now);
  }

  /** A bank asks to cancel before the reveal; the engine unwinds both legs (camt.056 to a peer). */
  async cancel(id: string): Promise<PvpRecord> {
    const now = this.clock();
    const pvp = await this.db.transaction(async (tx) => {
      const current = await pvpStore.get(tx, id, true);
      if (!current || current.ourAgent !== this.ourAgent) throw new PvpError("PVP_NOT_FOUND", `no PvP ${id}`);
      if (current.role !== "initiator" || !CANCELLABLE.includes(current.state)) {
        throw new PvpError("PVP_NOT_CANCELLABLE", `a PvP in state ${current.state} can no longer be cancelled (the secret may be revealed)`);
      }
      await pvpStore.update(tx, id, { cancel_requested: true }, now);
      await pvpStore.addTimeline(tx, id, { at: now, kind: "notice", fromState: current.state, toState: null, event: "cancel_requested", detail: {} });
      return { ...current, cancelRequested: true };
    });
    this.wake();
    return pvp;
  }

  async get(id: string): Promise<PvpRecord | undefined> {
    const pvp = await pvpStore.get(this.db, id);
    return pvp && pvp.ourAgent === this.ourAgent ? pvp : undefined;
  }

  // ---- the worker ---------------------------------------------------------------------------------

  /** Processes every PvP that is due now; returns how many were looked at. */
  async runOnce(limit = 64): Promise<number> {
    const now = this.clock();
    const ids = await pvpStore.leaseDue(this.db, this.ourAgent, this.worker, now, this.options.leaseMs ?? 30_000, limit);
    const concurrency = this.options.concurrency ?? 8;
    let next = 0;
    const runners = Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        await this.process(id);
      }
    });
    await Promise.all(runners);
    return ids.length;
  }

  /** Processes one PvP now if no other worker holds it (after an inbound message, in tests). */
  async processNow(id: string): Promise<void> {
    if (await pvpStore.leaseOne(this.db, id, this.worker, this.clock(), this.options.leaseMs ?? 30_000)) await this.process(id);
  }

  /**
   * Starts the background worker: resumes every unfinished PvP and keeps driving them until stop().
   * Up to `concurrency` PvPs are in flight; a slot that frees up is refilled at once, so one slow PvP
   * never holds up the others.
   */
  start(): { stop(): Promise<void> } {
    if (!this.stopped) return { stop: () => this.stop() };
    this.stopped = false;
    const concurrency = this.options.concurrency ?? 8;
    const leaseMs = this.options.leaseMs ?? 30_000;
    const inFlight = new Map<string, Promise<void>>();
    this.loop = (async () => {
      while (!this.stopped) {
        let leased: string[] = [];
        if (inFlight.size < concurrency) {
          try {
            leased = await pvpStore.leaseDue(this.db, this.ourAgent, this.worker, this.clock(), leaseMs, concurrency - inFlight.size);
          } catch (error) {
            this.log.error({ event: "pvp.worker_error", err: error instanceof Error ? error.message : String(error) }, "leasing PvPs failed");
          }
        }
        for (const id of leased) {
          const run = this.process(id)
            .catch((error: unknown) => this.log.error({ event: "pvp.worker_error", pvpId: id, err: error instanceof Error ? error.message : String(error) }, "PvP worker failed"))
            .finally(() => inFlight.delete(id));
          inFlight.set(id, run);
        }
        if (leased.length > 0 && inFlight.size < concurrency) continue;
        // Wait for a free slot, new work (wake) or the poll interval, whichever comes first.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(this.options.pollIntervalMs ?? 1000, 250));
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
          for (const run of inFlight.values()) void run.then(() => this.wakeUp?.());
        });
        this.wakeUp = undefined;
      }
      await Promise.all(inFlight.values());
    })();
    return { stop: () => this.stop() };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
    this.loop = undefined;
  }

  /** Nudges the background worker (new PvP, inbound message). */
  wake(): void {
    this.wakeUp?.();
  }

  private async process(id: string): Promise<void> {
    let nextRunAt: Date | undefined;
    try {
      nextRunAt = await this.drive(id);
    } catch (error) {
      if (error instanceof InjectedCrash) throw error;
      this.log.error({ event: "pvp.step_error", pvpId: id, err: error instanceof Error ? error.message : String(error) }, "PvP step failed");
      await pvpStore.recordError(this.db, id, this.clock(), `step failed: ${error instanceof Error ? error.message : String(error)}`).catch(() => {});
      nextRunAt = new Date(this.clock().getTime() + (this.options.retryBaseMs ?? 1000));
    }
    await pvpStore.releaseLease(this.db, id, this.worker, nextRunAt);
  }

  /** Runs commands and transitions until the PvP waits on something; returns when to look again. */
  private async drive(id: string): Promise<Date> {
    const poll = this.options.pollIntervalMs ?? 1000;
    // What this worker's own successful lock and claim calls just established; saves reading it back.
    const known: Partial<Record<LegSide, LegObservation>> = {};
    for (let round = 0; round < 12; round++) {
      let pvp = await this.load(id);
      if (!pvp || isTerminal(pvp.state)) {
        // Messages queued by the last transition still go out after the PvP is final.
        if (pvp) return (await this.runCommands(pvp, known)).nextDue ?? new Date(this.clock().getTime() + poll);
        return new Date(this.clock().getTime() + poll);
      }
      const { nextDue: waitUntil, ran } = await this.runCommands(pvp, known);
      if (ran) pvp = (await this.load(id))!;
      const event = await this.decide(pvp, known);
      if (event === undefined) {
        // Look again soon while things move, less often the longer the PvP waits, but never later than
        // the next moment a decision can flip (a window closing, an expiry) or a command falls due.
        const now = this.clock().getTime();
        const idleFor = now - pvp.updatedAt.getTime();
        const backoff = Math.min(this.options.pollMaxMs ?? 30_000, Math.max(poll, idleFor / 4));
        const deadlines = this.deadlinesOf(pvp).filter((at) => at > now);
        const next = Math.min(now + backoff, waitUntil?.getTime() ?? Infinity, ...deadlines);
        return new Date(Math.max(next, now));
      }
      const moved = await this.transition(pvp, event);
      if (!moved) return new Date(this.clock().getTime());
    }
    return this.clock();
  }

  /** Times at which the table's guards may change their answer for this PvP (gateway clock, with drift). */
  private deadlinesOf(pvp: PvpRecord): number[] {
    const { clockDriftMs: drift, timeToActMs: act } = this.policy;
    const foreign = pvp.foreignLeg.expiresAt.getTime();
    const times = [foreign - drift - act, foreign - drift - act / 2, foreign, foreign + drift + 1];
    if (pvp.dtLeg) times.push(pvp.dtLeg.expiresAt.getTime(), pvp.dtLeg.expiresAt.getTime() + drift + 1);
    return times;
  }

  private async decide(pvp: PvpRecord, known: Partial<Record<LegSide, LegObservation>> = {}): Promise<PvpEvent | undefined> {
    // A ledger that cannot be read leaves its leg unknown: the engine then waits, or aborts on the gateway's
    // clock, but never reveals or claims on a guess.
    const observe = async (side: LegSide, issued: boolean): Promise<LegObservation | undefined> => {
      const terms = side === "dt" ? pvp.dtLeg : pvp.foreignLeg;
      if (terms === undefined) return undefined;
      const outcome = known[side];
      if (outcome) return outcome;
      const leg = legOf(pvp, side);
      try {
        const port = this.options.legs.leg(terms.ledger);
        if (!issued && !(leg.reference ?? port.referenceOf?.(leg))) return undefined;
        return await port.observe(leg);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.log.warn({ event: "pvp.observe_failed", pvpId: pvp.id, side, err: message }, "leg not readable");
        await pvpStore.recordError(this.db, pvp.id, this.clock(), `${side} leg not readable: ${message}`);
        return undefined;
      }
    };
    const ledgerNow = async (ledger: string): Promise<Date> => {
      try {
        return await this.options.legs.leg(ledger).now();
      } catch {
        return this.clock();
      }
    };
    const initiator = pvp.role === "initiator";
    // Each state reads only the legs its rows look at (every ledger read is a round trip).
    const readsDt = initiator && ["INITIATED", "CLAIMING_DT", "ABORTING"].includes(pvp.state);
    const readsForeign = !initiator || pvp.state !== "CLAIMING_DT";
    const [dt, foreign] = await Promise.all([
      readsDt ? observe("dt", pvp.dtLockIssued) : Promise.resolve(undefined),
      readsForeign ? observe("foreign", pvp.foreignLockIssued) : Promise.resolve(undefined),
    ]);
    // A claimed foreign leg decides the initiator's next step whatever the time.
    const needsForeignClock =
      ["DT_LOCKED", "REVEALING", "ABORTING", "RECEIVED", "LOCKED", "CLAIMING", "REFUNDING"].includes(pvp.state) && !(initiator && foreign?.status === "claimed");
    const foreignNow = needsForeignClock ? await ledgerNow(pvp.foreignLeg.ledger) : this.clock();
    const dtNow = pvp.state === "ABORTING" && pvp.dtLeg ? await ledgerNow(pvp.dtLeg.ledger) : this.clock();
    let preimageKnown = false;
    if (!initiator) {
      if (foreign?.preimage !== undefined && pvp.preimage === undefined && sha256Hex(foreign.preimage) === pvp.hashLock) {
        await pvpStore.update(this.db, pvp.id, { preimage: this.sealPreimage(pvp.id, foreign.preimage) }, this.clock());
        pvp.preimage = foreign.preimage;
      }
      preimageKnown = pvp.preimage !== undefined;
    }
    return decideEvent({
      role: pvp.role,
      state: pvp.state,
      dt,
      foreign,
      dtLockRefused: pvp.dtLockRefused,
      foreignLockRefused: pvp.foreignLockRefused,
      lockIssued: { dt: pvp.dtLockIssued, foreign: pvp.foreignLockIssued },
      cancelRequested: pvp.cancelRequested,
      preimageKnown,
      gatewayNow: this.clock(),
      foreignNow,
      dtNow,
      foreignExpiry: pvp.foreignLeg.expiresAt,
      dtExpiry: pvp.dtLeg?.expiresAt ?? pvp.foreignLeg.expiresAt,
      policy: this.policy,
    });
  }

  /** Applies one row of the table in one transaction, with its effects written to the outbox. */
  private async transition(pvp: PvpRecord, event: PvpEvent): Promise<boolean> {
    const row = findTransition(pvp.role, pvp.state, event);
    if (!row) {
      this.log.warn({ event: "pvp.no_transition", pvpId: pvp.id, state: pvp.state, on: event }, "no transition for event");
      return false;
    }
    this.options.faults?.at("before-transition", pvp.id);
    const now = this.clock();
    const reasonCode = reasonFor(pvp, event);
    const moved = await this.db.transaction(async (tx) => {
      const changes: { reasonCode?: string } = {};
      if (reasonCode !== undefined) changes.reasonCode = reasonCode;
      if (!(await pvpStore.moveState(tx, pvp, row.to, now, changes))) return false;
      const next = { ...pvp, state: row.to, version: pvp.version + 1, reasonCode: reasonCode ?? pvp.reasonCode };
      await pvpStore.addTimeline(tx, pvp.id, { at: now, kind: "transition", fromState: pvp.state, toState: row.to, event, detail: reasonCode ? { reasonCode } : {} });
      await this.writeEffects(tx, next, row.effects, now);
      return true;
    });
    if (moved) {
      this.log.info({ event: "pvp.transition", pvpId: pvp.id, from: pvp.state, to: row.to, on: event }, "PvP transition");
      this.options.faults?.at("after-transition", pvp.id);
    }
    return moved;
  }

  private async writeEffects(tx: Queryable, pvp: PvpRecord, effects: readonly Effect[], now: Date): Promise<void> {
    for (const effect of effects) {
      switch (effect.kind) {
        // Keyed by the PvP's version: one command per transition, however often the transition's
        // transaction is retried. Ledger-side idempotency keys come from the leg key, not from these.
        case "lock":
        case "claim":
          await pvpStore.enqueue(tx, pvp.id, effect.kind, effect.side, {}, `${pvp.id}:${pvp.version}:${effect.side}:${effect.kind}`, now);
          break;
        case "refund":
          await pvpStore.enqueue(tx, pvp.id, "refund", effect.side, { early: effect.early }, `${pvp.id}:${pvp.version}:${effect.side}:refund`, now);
          break;
        case "cancel_commands":
          await pvpStore.cancelCommands(tx, pvp.id, effect.command, now);
          break;
        case "peer_message":
          for (const message of this.peerMessages(pvp, effect.message, now)) {
            await pvpStore.enqueue(tx, pvp.id, "send", null, { xml: message.xml, to: pvp.counterpartyAgent, messageId: message.id, messageType: message.type }, `${pvp.id}:send:${message.id}`, now);
            await pvpStore.recordMessage(tx, pvp.id, {
              businessMessageId: message.id,
              direction: "out",
              messageType: message.type,
              counterparty: pvp.counterpartyAgent,
              at: now,
              summary: message.summary,
              xml: message.xml,
              uetr: pvp.uetr,
            });
            await pvpStore.addTimeline(tx, pvp.id, { at: now, kind: "message_out", fromState: null, toState: null, event: message.type, detail: { businessMessageId: message.id, to: pvp.counterpartyAgent, ...message.summary } });
          }
          break;
        case "bank_notice":
          for (const message of this.bankNotices(pvp, effect.notice, now)) {
            await pvpStore.recordMessage(tx, pvp.id, {
              businessMessageId: message.id,
              direction: "out",
              messageType: message.type,
              counterparty: message.to,
              at: now,
              summary: message.summary,
              xml: message.xml,
              uetr: pvp.uetr,
            });
            await pvpStore.addTimeline(tx, pvp.id, { at: now, kind: "message_out", fromState: null, toState: null, event: message.type, detail: { businessMessageId: message.id, to: message.to, ...message.summary } });
          }
          break;
      }
    }
  }

  private parties(pvp: PvpRecord, now: Date, to = pvp.counterpartyAgent): MessageParties {
    return { pvpRef: pvp.pvpRef, from: this.ourAgent, to, createdAt: now };
  }

  private peerMessages(pvp: PvpRecord, kind: PeerMessageKind, now: Date): OutboundMessage[] {
    const original = pvp.instruction!;
    const parties = this.parties(pvp, now);
    const id = (what: string) => messageIdOf(pvp.pvpRef, what);
    switch (kind) {
      case "locked":
        return [{ id: id("ACSP"), type: "pacs.002.001.10", summary: { status: "ACSP" }, xml: lockedMessage(parties, original, bareHex(pvp.hashLock), pvp.foreignLeg.expiresAt) }];
      case "settled":
        return [{ id: id("ACSC"), type: "pacs.002.001.10", summary: { status: "ACSC" }, xml: settledMessage(parties, original, bareHex(pvp.preimage!), "ACSC") }];
      case "rejected": {
        const reason = pvp.reasonCode ?? PVP_REASON_CODES.timeout.code;
        const messages: OutboundMessage[] = [];
        if (pvp.cancelRequested) {
          messages.push({ id: id("C029CNCL"), type: "camt.029.001.09", summary: { outcome: "CNCL" }, xml: resolutionMessage(parties, original, "CNCL") });
        }
        messages.push({ id: id("RJCT"), type: "pacs.002.001.10", summary: { status: "RJCT", reason }, xml: rejectedMessage(parties, original, reason) });
        return messages;
      }
      case "cancellation_accepted":
        return [{ id: id("C029CNCL"), type: "camt.029.001.09", summary: { outcome: "CNCL" }, xml: resolutionMessage(parties, original, "CNCL") }];
      case "cancellation_refused":
        // ARDT: the funds already moved on (the leg is settled or being settled with the revealed preimage).
        return [{ id: id("C029RJCR"), type: "camt.029.001.09", summary: { outcome: "RJCR", reason: "ARDT" }, xml: resolutionMessage(parties, original, "RJCR", "ARDT") }];
    }
  }

  private bankNotices(pvp: PvpRecord, kind: BankNoticeKind, now: Date): Array<OutboundMessage & { to: string }> {
    const original = pvp.instruction!;
    const ourLeg = pvp.role === "initiator" ? pvp.dtLeg! : pvp.foreignLeg;
    const bank = `bank:${pvp.createdBy}`;
    const parties = this.parties(pvp, now, this.ourAgent);
    const amount = { currency: ourLeg.currency, minorUnits: ourLeg.amount };
    // camt.054 notifies the digital accounts of the DT ledger; an EVM address (42 characters) is no ISO
    // account id (Max34Text) and has no servicing bank, so a leg settled on an EVM ledger has nobody to notify.
    if (kind === "settled" && ourLeg.ledger !== "dt") return [];
    if (kind === "settled") {
      return [
        {
          id: messageIdOf(pvp.pvpRef, "N054D"),
          type: "camt.054.001.08",
          to: bank,
          summary: { account: ourLeg.payer, creditDebit: "DBIT" },
          xml: notificationMessage(parties, original, { account: ourLeg.payer, amount, creditDebit: "DBIT", what: "N054D" }),
        },
        {
          id: messageIdOf(pvp.pvpRef, "N054C"),
          type: "camt.054.001.08",
          to: `beneficiary:${ourLeg.beneficiary}`,
          summary: { account: ourLeg.beneficiary, creditDebit: "CRDT" },
          xml: notificationMessage(parties, original, { account: ourLeg.beneficiary, amount, creditDebit: "CRDT", what: "N054C" }),
        },
      ];
    }
    const reason = pvp.reasonCode ?? PVP_REASON_CODES.timeout.code;
    return [{ id: messageIdOf(pvp.pvpRef, "BRJCT"), type: "pacs.002.001.10", to: bank, summary: { status: "RJCT", reason }, xml: statusToBankMessage(parties, original, { status: "RJCT", reason }) }];
  }

  // ---- the outbox ---------------------------------------------------------------------------------

  /** Executes the PvP's due commands; returns when the next pending one is due, if any. */
  private async runCommands(pvp: PvpRecord, known: Partial<Record<LegSide, LegObservation>>): Promise<{ nextDue: Date | undefined; ran: boolean }> {
    let nextDue: number | undefined;
    let ran = false;
    const commands = await pvpStore.pendingCommands(this.db, pvp.id);
    let current = pvp;
    for (const command of commands) {
      const now = this.clock();
      if (command.nextAttemptAt.getTime() > now.getTime()) {
        nextDue = Math.min(nextDue ?? Infinity, command.nextAttemptAt.getTime());
        continue;
      }
      if (ran) current = (await this.load(pvp.id)) ?? current;
      const retryAt = await this.execute(current, command, known);
      ran = true;
      if (retryAt !== undefined) nextDue = Math.min(nextDue ?? Infinity, retryAt.getTime());
    }
    return { nextDue: nextDue === undefined ? undefined : new Date(nextDue), ran };
  }

  private backoff(command: OutboxCommand): Date {
    const base = this.options.retryBaseMs ?? 1000;
    const max = this.options.retryMaxMs ?? 60_000;
    const exponential = Math.min(max, base * 2 ** Math.min(command.attempts, 16));
    // Deterministic jitter (from the key and attempt) keeps seeded fault runs repeatable.
    const jitter = createHash("sha256").update(`${command.idempotencyKey}:${command.attempts}`).digest().readUInt16BE(0) / 65535;
    return new Date(this.clock().getTime() + Math.round(exponential * (0.5 + jitter / 2)));
  }

  /** Runs one command; returns a retry time when it must run again. */
  private async execute(pvp: PvpRecord, command: OutboxCommand, known: Partial<Record<LegSide, LegObservation>>): Promise<Date | undefined> {
    const faults = this.options.faults;
    try {
      faults?.at("before-command", pvp.id);
      const detail = await this.perform(pvp, command);
      faults?.at("after-command", pvp.id);
      const now = this.clock();
      await this.db.transaction(async (tx) => {
        if (detail.reference !== undefined && command.side !== undefined) {
          await pvpStore.update(tx, pvp.id, { [`${command.side}_reference`]: detail.reference }, now);
        }
        await pvpStore.finishCommand(tx, command.id, "done", now);
        await pvpStore.addTimeline(tx, pvp.id, {
          at: now,
          kind: "command",
          fromState: null,
          toState: null,
          event: `${command.command}${command.side ? `:${command.side}` : ""}`,
          detail: { idempotencyKey: command.idempotencyKey, ...(detail.reference ? { reference: detail.reference } : {}), ...(command.payload.messageId ? { businessMessageId: command.payload.messageId } : {}) },
        });
      });
      // A lock or claim the ledger accepted is what the ledger now shows (not so for peers, whose
      // acknowledgement only means the message arrived, nor for refunds, which succeed on settled legs).
      const ledger = command.side === undefined ? undefined : command.side === "dt" ? pvp.dtLeg?.ledger : pvp.foreignLeg.ledger;
      if (command.side !== undefined && ledger !== undefined && !ledger.startsWith("peer:")) {
        if (command.command === "lock") known[command.side] = { status: "locked" };
        if (command.command === "claim") known[command.side] = { status: "claimed" };
      }
      return undefined;
    } catch (error) {
      if (error instanceof InjectedCrash) throw error;
      const now = this.clock();
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof LegError && error.code === "NOT_YET_EXPIRED" && command.command === "refund") {
        const terms = command.side === "dt" ? pvp.dtLeg : pvp.foreignLeg;
        const at = new Date(Math.max(this.backoff(command).getTime(), Math.min(terms?.expiresAt.getTime() ?? 0, now.getTime() + (this.options.retryMaxMs ?? 60_000))));
        await pvpStore.retryCommand(this.db, command.id, at, error.code);
        return at;
      }
      if (error instanceof LegError && error.permanent) {
        await this.db.transaction(async (tx) => {
          await pvpStore.finishCommand(tx, command.id, "failed", now, error.code);
          await pvpStore.recordError(tx, pvp.id, now, `${command.command}${command.side ? ` ${command.side}` : ""} refused: ${error.code}: ${message}`);
          if (command.command === "lock" && command.side !== undefined) {
            await pvpStore.update(tx, pvp.id, { [`${command.side}_lock_refused`]: true, reason_code: lockRefusalReason(error.code) }, now);
          }
          await pvpStore.addTimeline(tx, pvp.id, { at: now, kind: "command", fromState: null, toState: null, event: `${command.command}${command.side ? `:${command.side}` : ""}:refused`, detail: { code: error.code } });
        });
        return undefined;
      }
      const at = this.backoff(command);
      this.log.warn({ event: "pvp.command_retry", pvpId: pvp.id, command: command.command, side: command.side, code: (error as { code?: string }).code, err: message }, "command will be retried");
      await pvpStore.retryCommand(this.db, command.id, at, `${(error as { code?: string }).code ?? "ERROR"}: ${message}`.slice(0, 300));
      await pvpStore.recordError(this.db, pvp.id, this.clock(), `${command.command}${command.side ? ` ${command.side}` : ""} will be retried: ${(error as { code?: string }).code ?? "ERROR"}: ${message}`);
      return at;
    }
  }

  private async perform(pvp: PvpRecord, command: OutboxCommand): Promise<{ reference?: string }> {
    if (command.command === "send") {
      const transport = this.options.transport;
      if (!transport) throw new LegError("UNAVAILABLE", "no transport to correspondents is configured");
      await transport.send(command.payload.to!, { xml: command.payload.xml!, businessMessageId: command.payload.messageId!, messageType: command.payload.messageType! });
      return {};
    }
    const side = command.side!;
    const leg = legOf(pvp, side);
    const port = this.options.legs.leg(leg.terms.ledger);
    switch (command.command) {
      case "lock": {
        const issued = side === "dt" ? pvp.dtLockIssued : pvp.foreignLockIssued;
        // Written before the ledger call: after a crash the engine knows a lock may exist.
        if (!issued) await pvpStore.update(this.db, pvp.id, { [`${side}_lock_issued`]: true }, this.clock());
        const receipt = await port.lock(leg);
        return { reference: receipt.reference };
      }
      case "claim": {
        if (pvp.preimage === undefined) throw new LegError("UNAVAILABLE", "the preimage is not known yet");
        await port.claim(leg, pvp.preimage);
        return {};
      }
      case "refund": {
        const issued = side === "dt" ? pvp.dtLockIssued : pvp.foreignLockIssued;
        if (!issued) return {};
        let reference = leg.reference ?? port.referenceOf?.(leg);
        // A lock may have reached the ledger before a crash without its reference being recorded: the
        // idempotent lock call returns it (or locks now, which the refund then undoes).
        if (reference === undefined) reference = (await port.lock(leg)).reference;
        await port.refund({ ...leg, reference }, { early: command.payload.early ?? false });
        return { reference };
      }
    }
  }

  /** Exposed to the inbound handler: the preimage of a responder PvP arrived in a message. */
  static preimageMatches(hashLock: Hex, preimage: Hex): boolean {
    return sha256Hex(preimage) === hashLock;
  }

  /** Sends a camt.056 for a peer leg (the peer adapter's early refund). */
  static cancellationXml(pvp: { pvpRef: string; from: string; to: string; instruction: InstructionReference; amount: bigint; currency: string }, now: Date): string {
    return cancellationRequestMessage({ pvpRef: pvp.pvpRef, from: pvp.from, to: pvp.to, createdAt: now }, pvp.instruction, { currency: pvp.currency, minorUnits: pvp.amount }, PVP_REASON_CODES.cancelled.code);
  }
}

interface OutboundMessage {
  id: string;
  type: string;
  summary: Record<string, unknown>;
  xml: string;
}

/** The ISO reason code a transition records (pacs.002 RJCT to the bank and the correspondent). */
function reasonFor(pvp: PvpRecord, event: PvpEvent): string | undefined {
  switch (event) {
    case "cancel_requested":
      return PVP_REASON_CODES.cancelled.code;
    case "reveal_window_closed":
    case "lock_window_closed":
    case "own_expired":
      return pvp.reasonCode ?? PVP_REASON_CODES.timeout.code;
    case "foreign_refused":
      return pvp.peerReason ?? pvp.reasonCode ?? PVP_REASON_CODES.narrative.code;
    default:
      return undefined;
  }
}
