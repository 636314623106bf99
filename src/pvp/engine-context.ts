import type { Hex } from "viem";
import type { Clock } from "../core/clock.ts";
import type { Database } from "../persistence/database.ts";
import type { LegDirectory, PeerTransport } from "./leg-port.ts";
import type { MessageCounterparty } from "./message-counterparty.ts";
import type { PvpRecord } from "./pvp.ts";
import type { BankNoticeKind } from "./state-machine.ts";
import { pvpStore } from "./store.ts";
import type { TimelockPolicy } from "./timelock-policy.ts";

/** Where fault injection stops a "process": it throws, exactly as a crash would leave the database. */
export interface FaultHooks {
  at(point: CrashPoint, pvpId: string): void;
}
export type CrashPoint = "before-transition" | "after-transition" | "before-command" | "after-command";

/** A crash injected by fault hooks; the runner treats it as the process dying. */
export class InjectedCrash extends Error {
  override name = "InjectedCrash";
}

export interface EngineLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** How preimages are kept at rest (see preimage-seal.ts). */
export interface PreimageStorage {
  seal(pvpId: string, preimage: Hex): string;
  open(pvpId: string, stored: string): Hex;
}

/** A message a transition records for the exchange's own parties (a bank, a broker), with its log entry's fields. */
export interface OutboundNotice {
  id: string;
  type: string;
  /** The addressee: a bank or broker by its BIC, a bank principal without one, a beneficiary's account. */
  to: MessageCounterparty;
  summary: Record<string, unknown>;
  xml: string;
  carriesPreimage: boolean;
}

/**
 * The notices of an exchange kind other than PvP (docs/dvp.md: sese.024 and sese.025 to the brokers,
 * camt.054 for the cash): built by the feature that owns the kind, recorded by the engine like a PvP's.
 */
export type ExchangeNotices = (pvp: PvpRecord, notice: BankNoticeKind, now: Date, ourAgent: string) => OutboundNotice[];

/** The timings of the worker and the outbox, all in ms. */
export interface EngineTiming {
  pollIntervalMs: number;
  pollMaxMs: number;
  leaseMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  concurrency: number;
}

/**
 * What the engine's parts share (worker, observation, transitions, effects, outbox): the database, the
 * legs, the policy and this gateway's identity. Built once by the facade (engine.ts).
 */
export interface EngineContext {
  db: Database;
  legs: LegDirectory;
  policy: TimelockPolicy;
  /** Our BIC: the agent in every message we send, and the owner of the PvPs this engine drives. */
  ourAgent: string;
  /** Name of this worker in leases. */
  worker: string;
  transport: PeerTransport | undefined;
  clock: Clock;
  log: EngineLogger;
  faults: FaultHooks | undefined;
  preimages: PreimageStorage;
  notices?: ExchangeNotices | undefined;
  timing: EngineTiming;
  /** Silence after which a responder chases the initiator (pacs.028 and its last report again); undefined: it does not. */
  statusRequestAfterMs?: number | undefined;
}

/** A PvP from the database with its preimage opened, for the worker (never for the API). */
export async function loadOpened(context: EngineContext, id: string): Promise<PvpRecord | undefined> {
  const pvp = await pvpStore.get(context.db, id);
  if (pvp?.sealedPreimage !== undefined) pvp.preimage = context.preimages.open(pvp.id, pvp.sealedPreimage);
  return pvp;
}
