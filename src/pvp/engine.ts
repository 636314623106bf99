import { randomBytes, randomUUID } from "node:crypto";
import type { Hex } from "viem";
import { systemClock, type Clock } from "../core/clock.ts";
import { hashLockOf } from "../core/hash-lock.ts";
import { currencyMinorUnits } from "../core/money.ts";
import type { Page } from "../core/paging.ts";
import { defaultValidationProfile, type ValidationProfile } from "../iso20022/validation/profiles.ts";
import type { Database, Queryable } from "../persistence/database.ts";
import { writeEffects } from "./effects.ts";
import type { EngineContext, EngineLogger, ExchangeNotices, FaultHooks, PreimageStorage } from "./engine-context.ts";
import { readInboundMessage, type InboundOutcome, type ResponderChecks, type ResponderSettings } from "./inbound.ts";
import { ledgerCarries, type HashLockedLegPort, type LegDirectory, type LegTerms, type PeerTransport } from "./leg-port.ts";
import { plainPreimages } from "./preimage-seal.ts";
import { isoDateTime, messageIdOf } from "../iso20022/pvp/envelope.ts";
import { newPvpRecord, type ExchangeKind, type PvpRecord } from "./pvp.ts";
import { PvpError } from "./pvp-error.ts";
import { applyInbound } from "./receive.ts";
import { answerStatusRequest } from "./status-requests.ts";
import { pvpStore, type MessageRecord, type PvpListFilter, type TimelineEntry } from "./store.ts";
import { checkExpiries, DEFAULT_MAX_LOCK_MS, defaultExpiries, withinMaxLock, type TimelockPolicy } from "./timelock-policy.ts";
import { PvpWorker } from "./worker.ts";

export { InjectedCrash, type CrashPoint, type EngineLogger, type ExchangeNotices, type FaultHooks, type OutboundNotice } from "./engine-context.ts";
export { PvpError, type PvpErrorCode } from "./pvp-error.ts";

const silentLogger: EngineLogger = { info() {}, warn() {}, error() {} };

export interface PvpEngineOptions {
  db: Database;
  legs: LegDirectory;
  policy: TimelockPolicy;
  /** Our BIC: the agent in every message we send, and the owner of the PvPs this engine drives. */
  ourAgent: string;
  transport?: PeerTransport;
  clock?: Clock;
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
  preimageSeal?: PreimageStorage;
  /** As responder, silence after its last report before it asks the initiator (pacs.028); unset: it does not. */
  statusRequestAfterMs?: number;
  /** Identifier sources; seeded ones make fault-injection runs repeatable. Defaults are random. */
  ids?: { pvpId(kind?: ExchangeKind): string; uetr(): string };
  /** The messages of exchanges other than PvPs (the DvP's sese.024/025 and camt.054, from src/dvp). */
  notices?: ExchangeNotices;
}

export interface CreatePvpRequest {
  createdBy: string;
  /** BIC of the creating principal's bank: its notices are addressed to it. */
  bankAgent?: string | undefined;
  counterpartyAgent: string;
  /** Our bank's payment on the DT ledger: claimed second, expires last. */
  dtLeg: Omit<LegTerms, "hashLock" | "expiresAt"> & { expiresAt?: Date };
  /** The correspondent's payment: claimed first (the reveal), expires first. */
  foreignLeg: Omit<LegTerms, "hashLock" | "expiresAt"> & { expiresAt?: Date };
  /**
   * The counterparty's consent, asked once the legs and expiries are valid; what it returns records the
   * consent (a daily limit taken, a quote consumed) in the PvP's own transaction. When either throws,
   * nothing of the PvP is written and nothing is held.
   */
  consent?: (() => Promise<(tx: Queryable, pvpId: string, now: Date) => Promise<void>>) | undefined;
  /** A DvP (default PvP): the foreign leg delivers a security, its currency is the ISIN (docs/dvp.md). */
  kind?: ExchangeKind;
  /** What a DvP trades, kept with it for its messages. */
  exchangeTerms?: Record<string, unknown>;
  /** Nothing is locked until the counterparty affirms (`affirm`); the reveal window still runs from creation. */
  awaitingAffirmation?: boolean;
}

/** The counterparty's affirmation of an exchange waiting for it. */
export interface AffirmRequest {
  kind: ExchangeKind;
  /** Checks the exchange as stored and returns its terms with the affirmation recorded; throws to refuse (nothing written). */
  affirm(pvp: PvpRecord): Record<string, unknown>;
}

const CANCELLABLE = ["INITIATED", "DT_LOCKED"];

/** PvP id: "pvp" (or "dvp") + 24 hex characters (fits the profile's 32-character PvP id and 35-character message ids). */
function newPvpId(kind: ExchangeKind = "pvp"): string {
  return `${kind}${randomBytes(12).toString("hex")}`;
}

/**
 * The PvP engine, the one way in for everything else: creates PvPs, cancels them, reads them and their
 * messages, receives correspondents' messages, and runs the worker that drives every unfinished PvP to
 * SETTLED or REFUNDED through the transition table. The jobs live beside it: `worker.ts` (the loop),
 * `observe.ts` (what the ledgers show), `transitions.ts`, `effects.ts` (messages and reasons), `outbox.ts`
 * (ledger commands), `inbound.ts` + `receive.ts` (correspondents' messages). It talks to ledgers only
 * through leg ports and to correspondents only through a transport, and keeps all its state in the
 * database, so any number of engines (processes) can share one database and any of them can pick up where
 * a crashed one stopped.
 */
export class PvpEngine {
  readonly ourAgent: string;
  readonly worker: string;
  private readonly context: EngineContext;
  private readonly loop: PvpWorker;
  private readonly ids: PvpEngineOptions["ids"];

  constructor(options: PvpEngineOptions) {
    this.ourAgent = options.ourAgent;
    this.worker = options.worker ?? `worker-${randomBytes(4).toString("hex")}`;
    this.ids = options.ids;
    this.context = {
      db: options.db,
      legs: options.legs,
      policy: options.policy,
      ourAgent: options.ourAgent,
      worker: this.worker,
      transport: options.transport,
      clock: options.clock ?? systemClock,
      log: options.logger ?? silentLogger,
      faults: options.faults,
      preimages: options.preimageSeal ?? plainPreimages,
      notices: options.notices,
      timing: {
        pollIntervalMs: options.pollIntervalMs ?? 1000,
        pollMaxMs: options.pollMaxMs ?? 30_000,
        leaseMs: options.leaseMs ?? 30_000,
        retryBaseMs: options.retryBaseMs ?? 1000,
        retryMaxMs: options.retryMaxMs ?? 60_000,
        concurrency: options.concurrency ?? 8,
      },
      statusRequestAfterMs: options.statusRequestAfterMs,
    };
    this.loop = new PvpWorker(this.context);
  }

  get policy(): TimelockPolicy {
    return this.context.policy;
  }

  now(): Date {
    return this.context.clock.now();
  }

  // ---- requests -----------------------------------------------------------------------------------

  /**
   * Creates a PvP as initiator: checks both legs (ledgers, assets, amounts) and the timelock policy before
   * anything is written or held, draws the secret, queues the DT lock.
   */
  async create(request: CreatePvpRequest): Promise<PvpRecord> {
    const { db, clock, policy, legs, log } = this.context;
    const now = clock.now();
    if (request.dtLeg.amount <= 0n || request.foreignLeg.amount <= 0n) throw new PvpError("PVP_INVALID", "leg amounts must be positive");
    await legs.prepare?.(request.foreignLeg.ledger);
    const kind = request.kind ?? "pvp";
    const foreignPort = this.checkLegs(request, kind);
    // The foreign leg's expiry is judged by its own ledger's clock (chain time on EVM chains, which can
    // run well ahead of the wall clock), so defaults and the lock window start from that clock.
    let foreignNow = now;
    try {
      foreignNow = await foreignPort.now();
    } catch {
      // Unreachable ledger: the gateway's clock stands in; the reveal window still uses the ledger's.
    }
    const later = foreignNow.getTime() > now.getTime() ? foreignNow : now;
    const defaults = defaultExpiries(policy, later);
    const expiries = { foreign: request.foreignLeg.expiresAt ?? defaults.foreign, dt: request.dtLeg.expiresAt ?? defaults.dt };
    const violation = checkExpiries(policy, later, expiries);
    if (violation) throw new PvpError("TIMELOCK_POLICY", violation.message, violation.code);
    if (!withinMaxLock(policy, now, expiries.dt) || !withinMaxLock(policy, foreignNow, expiries.foreign)) {
      throw new PvpError("LOCK_TOO_LONG", `no leg may stay locked longer than ${(policy.maxLockMs ?? DEFAULT_MAX_LOCK_MS) / 1000}s`);
    }
    const recordConsent = await request.consent?.();
    // The secret: 32 random bytes, stored with the PvP and never logged before it is revealed.
    const preimage = `0x${randomBytes(32).toString("hex")}` as Hex;
    const hashLock = hashLockOf(preimage);
    const id = this.ids?.pvpId(kind) ?? newPvpId(kind);
    const uetr = this.ids?.uetr() ?? randomUUID();
    const pvp = newPvpRecord({
      id,
      kind,
      exchangeTerms: request.exchangeTerms,
      awaitingAffirmation: request.awaitingAffirmation ?? false,
      pvpRef: id,
      role: "initiator",
      uetr,
      hashLock,
      preimage: { clear: preimage, sealed: this.context.preimages.seal(id, preimage) },
      dtLeg: { ...request.dtLeg, hashLock, expiresAt: expiries.dt },
      foreignLeg: { ...request.foreignLeg, hashLock, expiresAt: expiries.foreign },
      ourAgent: this.ourAgent,
      counterpartyAgent: request.counterpartyAgent,
      createdBy: request.createdBy,
      bankAgent: request.bankAgent,
      instruction: { messageId: messageIdOf(id, "instruction"), createdAt: isoDateTime(now), instructionId: messageIdOf(id, "instruction"), endToEndId: id, uetr },
      now,
    });
    await db.transaction(async (tx) => {
      await recordConsent?.(tx, id, now);
      await pvpStore.insert(tx, pvp);
      await pvpStore.addTimeline(tx, id, { at: now, kind: "transition", fromState: null, toState: "INITIATED", event: "created", detail: { createdBy: request.createdBy } });
      // A DvP acknowledges the instruction (sese.024); one awaiting affirmation locks nothing yet.
      await writeEffects(this.context, tx, pvp, [{ kind: "bank_notice", notice: "accepted" }, ...(pvp.awaitingAffirmation ? [] : [{ kind: "lock", side: "dt" } as const])], now);
    });
    log.info({ event: "pvp.created", pvpId: id, uetr, kind }, "PvP created");
    this.wake();
    return pvp;
  }

  /**
   * The counterparty affirms an exchange created waiting for it: in one transaction the affirmation is
   * recorded and the DT lock queued, if the lock window still fits before the first leg's expiry.
   */
  async affirm(id: string, request: AffirmRequest): Promise<PvpRecord> {
    const { db, policy } = this.context;
    const existing = await this.get(id, request.kind);
    if (!existing) throw new PvpError("PVP_NOT_FOUND", `no ${request.kind === "dvp" ? "DvP" : "PvP"} ${id}`);
    let foreignNow = this.now();
    try {
      foreignNow = await this.context.legs.leg(existing.foreignLeg.ledger).now();
    } catch {
      // The gateway's clock stands in; the reveal window still uses the ledger's.
    }
    const now = this.now();
    const pvp = await db.transaction(async (tx) => {
      const current = await pvpStore.get(tx, id, true);
      if (!current || current.ourAgent !== this.ourAgent || current.kind !== request.kind) throw new PvpError("PVP_NOT_FOUND", `no exchange ${id}`);
      if (!current.awaitingAffirmation || current.state !== "INITIATED" || current.cancelRequested) {
        throw new PvpError("PVP_NOT_AFFIRMABLE", `exchange ${id} is ${current.cancelRequested ? "cancelled" : current.awaitingAffirmation ? current.state : "already affirmed"}`);
      }
      const later = foreignNow.getTime() > now.getTime() ? foreignNow : now;
      if (current.foreignLeg.expiresAt.getTime() < later.getTime() + policy.lockWindowMs) {
        throw new PvpError("PVP_NOT_AFFIRMABLE", `too late: the legs can no longer be locked and claimed before ${current.foreignLeg.expiresAt.toISOString()}`);
      }
      const terms = request.affirm(current);
      await pvpStore.update(tx, id, { exchangeTerms: JSON.stringify(terms), awaitingAffirmation: false }, now);
      // The version moves, as on a cancellation: a worker that read the exchange before cannot act on the old record.
      if (!(await pvpStore.moveState(tx, current, current.state, now))) throw new PvpError("PVP_NOT_AFFIRMABLE", `exchange ${id} moved on; try again`);
      const next = { ...current, exchangeTerms: terms, awaitingAffirmation: false, version: current.version + 1 };
      await pvpStore.addTimeline(tx, id, { at: now, kind: "notice", fromState: current.state, toState: null, event: "affirmed", detail: {} });
      await writeEffects(this.context, tx, next, [{ kind: "bank_notice", notice: "affirmed" }, { kind: "lock", side: "dt" }], now);
      return next;
    });
    this.wake();
    return pvp;
  }

  /** The legs' ledgers exist and carry the legs' currencies with their ISO decimals; returns the foreign leg's port. */
  private checkLegs(request: CreatePvpRequest, kind: ExchangeKind): HashLockedLegPort {
    const { legs } = this.context;
    const home = legs.leg(request.dtLeg.ledger);
    if (!ledgerCarries(home, request.dtLeg.currency, currencyMinorUnits(request.dtLeg.currency))) {
      const carried = (home.assets ?? []).map((asset) => asset.currency).join(", ");
      throw new PvpError("DT_LEG_CURRENCY", `the DT leg is paid in ${carried}, not ${request.dtLeg.currency}`);
    }
    const ports = ([["DT", request.dtLeg], ["foreign", request.foreignLeg]] as const).map(([side, leg]) => {
      let port: HashLockedLegPort;
      try {
        port = legs.leg(leg.ledger);
      } catch {
        throw new PvpError("UNKNOWN_LEDGER", `the ${side} leg names ledger ${leg.ledger}, which this gateway does not act on`);
      }
      // A DvP's foreign leg delivers a security: its "currency" is an ISIN the ledger must deliver.
      if (kind === "dvp" && side === "foreign") {
        if (!port.assets?.some((asset) => asset.currency === leg.currency)) {
          throw new PvpError("LEG_ASSET_MISMATCH", `ledger ${leg.ledger} delivers ${(port.assets ?? []).map((asset) => asset.currency).join(", ") || "no security"}, not ${leg.currency}`);
        }
        return port;
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

  /** A bank asks to cancel before the reveal; the engine unwinds both legs (camt.056 to a peer). */
  async cancel(id: string, kind: ExchangeKind = "pvp"): Promise<PvpRecord> {
    const now = this.now();
    const pvp = await this.context.db.transaction(async (tx) => {
      const current = await pvpStore.get(tx, id, true);
      if (!current || current.ourAgent !== this.ourAgent || current.kind !== kind) throw new PvpError("PVP_NOT_FOUND", `no ${kind === "dvp" ? "DvP" : "PvP"} ${id}`);
      if (current.role !== "initiator" || !CANCELLABLE.includes(current.state)) {
        throw new PvpError("PVP_NOT_CANCELLABLE", `a PvP in state ${current.state} can no longer be cancelled (the secret may be revealed)`);
      }
      await pvpStore.update(tx, id, { cancelRequested: true }, now);
      // The version moves too: a worker that read the PvP before the cancellation cannot move it on to
      // the reveal, so a cancelled PvP never writes a claim (what an early refund of the DT hold relies on).
      await pvpStore.moveState(tx, current, current.state, now);
      await pvpStore.addTimeline(tx, id, { at: now, kind: "notice", fromState: current.state, toState: null, event: "cancel_requested", detail: {} });
      return { ...current, cancelRequested: true, version: current.version + 1 };
    });
    this.wake();
    return pvp;
  }

  /**
   * Receives one ISO 20022 message from an authenticated correspondent: validates it, refuses it when its
   * AppHdr sender is not the caller, drops replays, and records what it says on its PvP, all in one
   * transaction; the worker then acts on it. A status request (pacs.028) is answered, not applied.
   */
  async receive(xml: string, sender: string, responder?: ResponderSettings, profile: ValidationProfile = defaultValidationProfile): Promise<InboundOutcome> {
    const { message, businessMessageId } = readInboundMessage(xml, sender, this.ourAgent, profile);
    const outcome =
      message.kind === "status_request"
        ? await answerStatusRequest(this.context, message.request, xml, sender)
        : await applyInbound(this.context, this.responderChecks(), { message, businessMessageId }, xml, sender, responder);
    this.wake();
    return outcome;
  }

  private responderChecks(): ResponderChecks {
    return {
      ourAgent: this.ourAgent,
      policy: this.policy,
      ledgerCarries: (ledger, currency) => this.ledgerCarries(ledger, currency),
      sealPreimage: (pvpId, preimage) => this.context.preimages.seal(pvpId, preimage),
    };
  }

  /** Whether a ledger carries legs in a currency at its ISO decimals (the responder checks instructions against it). */
  ledgerCarries(ledger: string, currency: string): boolean {
    try {
      return ledgerCarries(this.context.legs.leg(ledger), currency, currencyMinorUnits(currency));
    } catch {
      return false;
    }
  }

  // ---- reads --------------------------------------------------------------------------------------

  /** One of this gateway's PvPs (or DvPs, with `kind`), without its preimage. */
  async get(id: string, kind: ExchangeKind = "pvp"): Promise<PvpRecord | undefined> {
    const pvp = await pvpStore.get(this.context.db, id);
    return pvp && pvp.ourAgent === this.ourAgent && pvp.kind === kind ? pvp : undefined;
  }

  /** This gateway's PvPs, newest first. */
  list(filter: PvpListFilter): Promise<PvpRecord[]> {
    return pvpStore.list(this.context.db, this.ourAgent, filter);
  }

  /** One page of this gateway's PvPs, newest first; `next` continues where it ends. */
  page(filter: PvpListFilter): Promise<Page<PvpRecord>> {
    return pvpStore.page(this.context.db, this.ourAgent, filter);
  }

  /** Every transition, command and message of a PvP, in order. */
  timeline(pvp: PvpRecord): Promise<TimelineEntry[]> {
    return pvpStore.timeline(this.context.db, pvp.id);
  }

  /** The messages of a PvP, sent and received, with their XML. */
  messages(pvp: PvpRecord): Promise<MessageRecord[]> {
    return pvpStore.messages(this.context.db, pvp.id);
  }

  // ---- the worker ---------------------------------------------------------------------------------

  /** Processes every PvP that is due now; returns how many were looked at. */
  runOnce(limit = 64): Promise<number> {
    return this.loop.runOnce(limit);
  }

  /** Processes one PvP now if no other worker holds it (after an inbound message, in tests). */
  processNow(id: string): Promise<void> {
    return this.loop.processNow(id);
  }

  /** Starts the background worker: resumes every unfinished PvP and keeps driving them until stop(). */
  start(): { stop(): Promise<void> } {
    this.loop.start();
    return { stop: () => this.stop() };
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Nudges the background worker (new PvP, inbound message). */
  wake(): void {
    this.loop.wake();
  }
}
