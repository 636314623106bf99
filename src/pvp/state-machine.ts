import type { LegObservation, LegSide } from "./leg-port.ts";
import { mayLock, mayReveal, type TimelockPolicy } from "./timelock-policy.ts";

/**
 * The PvP state machine as a table. The initiator holds the secret and drives both legs: it locks the DT
 * leg, has the foreign leg locked, reveals the preimage by claiming the foreign leg, then claims the DT
 * leg with it. The responder (another central bank's gateway answering a pacs.009) locks its own leg and
 * claims it when the initiator reveals the preimage, or refunds it at expiry or on an agreed cancellation.
 *
 * Each row is applied in one database transaction together with its effects (ledger commands and messages
 * written to the outbox). Events are decided from what the ledgers show (see `decideEvent`), never from
 * memory, so a restarted gateway takes up every PvP where the ledgers say it stands.
 */
export const PVP_STATES = [
  "INITIATED",
  "DT_LOCKED",
  "REVEALING",
  "CLAIMING_DT",
  "ABORTING",
  "RECEIVED",
  "LOCKED",
  "CLAIMING",
  "REFUNDING",
  "SETTLED",
  "REFUNDED",
  "REJECTED",
] as const;
export type PvpState = (typeof PVP_STATES)[number];

export const TERMINAL_STATES: readonly PvpState[] = ["SETTLED", "REFUNDED", "REJECTED"];

export function isTerminal(state: PvpState): boolean {
  return TERMINAL_STATES.includes(state);
}

export type PvpRole = "initiator" | "responder";

export const PVP_EVENTS = [
  "dt_locked",
  "dt_lock_refused",
  "foreign_locked",
  "foreign_refused",
  "reveal_window_closed",
  "cancel_requested",
  "foreign_claimed",
  "foreign_refunded",
  "dt_claimed",
  "legs_refunded",
  "own_locked",
  "own_lock_refused",
  "lock_window_closed",
  "preimage_received",
  "own_claimed",
  "own_expired",
  "own_refunded",
] as const;
export type PvpEvent = (typeof PVP_EVENTS)[number];

/** Messages a transition sends to the correspondent (the peer gateway) or records for the banks. */
export type PeerMessageKind = "locked" | "settled" | "rejected" | "cancellation_accepted" | "cancellation_refused";
/** `accepted` and `affirmed` (creation, the counterparty's affirmation) are sent for DvPs only. */
export type BankNoticeKind = "accepted" | "affirmed" | "settled" | "rejected" | "refunded";

export type Effect =
  | { kind: "lock"; side: LegSide }
  | { kind: "claim"; side: LegSide }
  | { kind: "refund"; side: LegSide; early: boolean }
  | { kind: "cancel_commands"; command: "lock" }
  | { kind: "peer_message"; message: PeerMessageKind }
  | { kind: "bank_notice"; notice: BankNoticeKind };

export interface Transition {
  role: PvpRole;
  from: PvpState;
  event: PvpEvent;
  to: PvpState;
  effects: readonly Effect[];
}

const abortInitiator: readonly Effect[] = [
  { kind: "cancel_commands", command: "lock" },
  { kind: "refund", side: "foreign", early: true },
  { kind: "refund", side: "dt", early: true },
];
const claimDt: readonly Effect[] = [{ kind: "claim", side: "dt" }];

/** Every transition there is. Anything else is refused (and logged as a protocol error, not applied). */
export const TRANSITIONS: readonly Transition[] = [
  // Initiator: the gateway on the DT side that created the PvP and holds the secret.
  { role: "initiator", from: "INITIATED", event: "dt_locked", to: "DT_LOCKED", effects: [{ kind: "lock", side: "foreign" }] },
  { role: "initiator", from: "INITIATED", event: "dt_lock_refused", to: "REJECTED", effects: [{ kind: "bank_notice", notice: "rejected" }] },
  { role: "initiator", from: "INITIATED", event: "reveal_window_closed", to: "ABORTING", effects: abortInitiator },
  { role: "initiator", from: "INITIATED", event: "cancel_requested", to: "ABORTING", effects: abortInitiator },
  { role: "initiator", from: "INITIATED", event: "foreign_claimed", to: "CLAIMING_DT", effects: claimDt },
  { role: "initiator", from: "DT_LOCKED", event: "foreign_locked", to: "REVEALING", effects: [{ kind: "claim", side: "foreign" }] },
  { role: "initiator", from: "DT_LOCKED", event: "foreign_refused", to: "ABORTING", effects: abortInitiator },
  { role: "initiator", from: "DT_LOCKED", event: "reveal_window_closed", to: "ABORTING", effects: abortInitiator },
  { role: "initiator", from: "DT_LOCKED", event: "cancel_requested", to: "ABORTING", effects: abortInitiator },
  { role: "initiator", from: "DT_LOCKED", event: "foreign_claimed", to: "CLAIMING_DT", effects: claimDt },
  { role: "initiator", from: "REVEALING", event: "foreign_claimed", to: "CLAIMING_DT", effects: claimDt },
  // Only when the claim missed the expiry despite the reveal window: unwind, and say so loudly.
  { role: "initiator", from: "REVEALING", event: "foreign_refunded", to: "ABORTING", effects: abortInitiator },
  { role: "initiator", from: "CLAIMING_DT", event: "dt_claimed", to: "SETTLED", effects: [{ kind: "bank_notice", notice: "settled" }] },
  { role: "initiator", from: "ABORTING", event: "foreign_claimed", to: "CLAIMING_DT", effects: claimDt },
  { role: "initiator", from: "ABORTING", event: "legs_refunded", to: "REFUNDED", effects: [{ kind: "bank_notice", notice: "refunded" }] },

  // Responder: the gateway that received a pacs.009 and locks its own leg (the foreign leg of the PvP).
  { role: "responder", from: "RECEIVED", event: "own_locked", to: "LOCKED", effects: [{ kind: "peer_message", message: "locked" }] },
  {
    role: "responder",
    from: "RECEIVED",
    event: "own_lock_refused",
    to: "REJECTED",
    effects: [
      { kind: "peer_message", message: "rejected" },
      { kind: "bank_notice", notice: "rejected" },
    ],
  },
  {
    role: "responder",
    from: "RECEIVED",
    event: "lock_window_closed",
    to: "REFUNDING",
    effects: [
      { kind: "cancel_commands", command: "lock" },
      { kind: "refund", side: "foreign", early: false },
    ],
  },
  {
    role: "responder",
    from: "RECEIVED",
    event: "cancel_requested",
    to: "REFUNDING",
    effects: [
      { kind: "cancel_commands", command: "lock" },
      { kind: "refund", side: "foreign", early: true },
    ],
  },
  { role: "responder", from: "RECEIVED", event: "preimage_received", to: "CLAIMING", effects: [{ kind: "claim", side: "foreign" }] },
  { role: "responder", from: "LOCKED", event: "preimage_received", to: "CLAIMING", effects: [{ kind: "claim", side: "foreign" }] },
  { role: "responder", from: "LOCKED", event: "cancel_requested", to: "REFUNDING", effects: [{ kind: "refund", side: "foreign", early: true }] },
  { role: "responder", from: "LOCKED", event: "own_expired", to: "REFUNDING", effects: [{ kind: "refund", side: "foreign", early: false }] },
  {
    role: "responder",
    from: "CLAIMING",
    event: "own_claimed",
    to: "SETTLED",
    effects: [
      { kind: "peer_message", message: "settled" },
      { kind: "bank_notice", notice: "settled" },
    ],
  },
  // The preimage came too late to claim before the expiry: the leg goes back to its payer.
  { role: "responder", from: "CLAIMING", event: "own_expired", to: "REFUNDING", effects: [{ kind: "refund", side: "foreign", early: false }] },
  { role: "responder", from: "CLAIMING", event: "cancel_requested", to: "CLAIMING", effects: [{ kind: "peer_message", message: "cancellation_refused" }] },
  { role: "responder", from: "SETTLED", event: "cancel_requested", to: "SETTLED", effects: [{ kind: "peer_message", message: "cancellation_refused" }] },
  // A preimage that arrives while unwinding still wins while the leg is locked: the initiator revealed it.
  { role: "responder", from: "REFUNDING", event: "preimage_received", to: "CLAIMING", effects: [{ kind: "claim", side: "foreign" }] },
  {
    role: "responder",
    from: "REFUNDING",
    event: "own_refunded",
    to: "REFUNDED",
    effects: [
      { kind: "peer_message", message: "rejected" },
      { kind: "bank_notice", notice: "refunded" },
    ],
  },
];

export function findTransition(role: PvpRole, from: PvpState, event: PvpEvent): Transition | undefined {
  return TRANSITIONS.find((row) => row.role === role && row.from === from && row.event === event);
}

/** What the engine knows when it decides the next event of a PvP. */
export interface DecisionInput {
  role: PvpRole;
  state: PvpState;
  dt: LegObservation | undefined;
  foreign: LegObservation | undefined;
  /** The DT leg's lock was refused for good (insufficient funds, bad account). */
  dtLockRefused: boolean;
  /** The foreign leg's lock was refused for good (responder side). */
  foreignLockRefused: boolean;
  /** Whether a lock command for the side was ever handed to its ledger. */
  lockIssued: { dt: boolean; foreign: boolean };
  cancelRequested: boolean;
  /** A preimage that matches the hash-lock, from a message (responder). */
  preimageKnown: boolean;
  gatewayNow: Date;
  /** Clock of the foreign leg's ledger (chain time for EVM). */
  foreignNow: Date;
  dtNow: Date;
  foreignExpiry: Date;
  dtExpiry: Date;
  policy: TimelockPolicy;
}

/** A leg that can no longer move: refunded, or never locked and no lock can land any more. */
function legVoid(observation: LegObservation | undefined, issued: boolean, ledgerNow: Date, expiry: Date, drift: number): boolean {
  if (!issued) return observation === undefined || observation.status === "absent" || observation.status === "refunded";
  if (observation === undefined) return false;
  if (observation.status === "refunded") return true;
  if (observation.status !== "absent") return false;
  return observation.refusal !== undefined || ledgerNow.getTime() >= expiry.getTime() + drift;
}

/** The next event of a PvP from what the ledgers show; undefined while there is nothing to do but wait. */
export function decideEvent(input: DecisionInput): PvpEvent | undefined {
  const { state, dt, foreign, policy } = input;
  if (input.role === "initiator") {
    // A revealed preimage on the foreign leg always leads to claiming the DT leg, whatever else went on.
    if (foreign?.status === "claimed" && ["INITIATED", "DT_LOCKED", "REVEALING", "ABORTING"].includes(state)) return "foreign_claimed";
    switch (state) {
      case "INITIATED":
        if (input.cancelRequested) return "cancel_requested";
        if (dt?.status === "locked") return "dt_locked";
        if (input.dtLockRefused) return "dt_lock_refused";
        if (!mayReveal(policy, input.gatewayNow, input.foreignExpiry)) return "reveal_window_closed";
        return undefined;
      case "DT_LOCKED":
        if (input.cancelRequested) return "cancel_requested";
        if (foreign?.status === "locked" && foreign.termsMismatch !== true) {
          return mayReveal(policy, input.foreignNow, input.foreignExpiry) ? "foreign_locked" : "reveal_window_closed";
        }
        if (foreign?.refusal !== undefined || foreign?.status === "refunded" || foreign?.termsMismatch === true || input.foreignLockRefused) {
          return "foreign_refused";
        }
        if (!mayReveal(policy, input.foreignNow, input.foreignExpiry)) return "reveal_window_closed";
        return undefined;
      case "REVEALING":
        // The claim missed the expiry (ledger down longer than the margin): the leg can only be refunded now.
        if (foreign?.status === "refunded") return "foreign_refunded";
        if (foreign?.status === "locked" && foreign.reportedByPeer !== true && input.foreignNow.getTime() >= input.foreignExpiry.getTime()) return "foreign_refunded";
        return undefined;
      case "CLAIMING_DT":
        if (dt?.status === "claimed") return "dt_claimed";
        return undefined;
      case "ABORTING": {
        const drift = policy.clockDriftMs;
        const dtVoid = legVoid(dt, input.lockIssued.dt, input.dtNow, input.dtExpiry, drift);
        const foreignVoid = legVoid(foreign, input.lockIssued.foreign, input.foreignNow, input.foreignExpiry, drift);
        return dtVoid && foreignVoid ? "legs_refunded" : undefined;
      }
      default:
        return undefined;
    }
  }
  switch (state) {
    case "RECEIVED":
      if (input.preimageKnown) return "preimage_received";
      if (input.cancelRequested) return "cancel_requested";
      if (foreign?.status === "locked") return "own_locked";
      if (input.foreignLockRefused) return "own_lock_refused";
      if (!mayLock(policy, input.foreignNow, input.foreignExpiry)) return "lock_window_closed";
      return undefined;
    case "LOCKED": {
      const expired = input.foreignNow.getTime() >= input.foreignExpiry.getTime();
      if (foreign?.status === "claimed" || (input.preimageKnown && !expired)) return "preimage_received";
      if (input.cancelRequested) return "cancel_requested";
      if (expired) return "own_expired";
      return undefined;
    }
    case "CLAIMING":
      if (foreign?.status === "claimed") return "own_claimed";
      if (foreign?.status === "refunded" || (foreign?.status === "locked" && input.foreignNow.getTime() >= input.foreignExpiry.getTime())) return "own_expired";
      return undefined;
    case "REFUNDING": {
      const expired = input.foreignNow.getTime() >= input.foreignExpiry.getTime();
      if (foreign?.status === "claimed" || (input.preimageKnown && foreign?.status === "locked" && !expired)) return "preimage_received";
      if (legVoid(foreign, input.lockIssued.foreign, input.foreignNow, input.foreignExpiry, 0)) return "own_refunded";
      return undefined;
    }
    default:
      return undefined;
  }
}
