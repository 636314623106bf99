import { describe, expect, it } from "vitest";
import type { LegObservation } from "../../src/pvp/leg-port.ts";
import { decideEvent, findTransition, isTerminal, PVP_STATES, TRANSITIONS, type DecisionInput, type PvpRole, type PvpState } from "../../src/pvp/state-machine.ts";
import { checkExpiries, defaultExpiries, mayReveal, requiredGapMs } from "../../src/pvp/timelock-policy.ts";

const policy = { clockDriftMs: 30_000, timeToActMs: 120_000, lockWindowMs: 300_000 };
const now = new Date("2026-11-23T10:00:00Z");
const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);

function input(role: PvpRole, state: PvpState, overrides: Partial<DecisionInput> = {}): DecisionInput {
  return {
    role,
    state,
    dt: undefined,
    foreign: undefined,
    dtLockRefused: false,
    foreignLockRefused: false,
    lockIssued: { dt: true, foreign: true },
    cancelRequested: false,
    preimageKnown: false,
    gatewayNow: now,
    foreignNow: now,
    dtNow: now,
    foreignExpiry: at(900),
    dtExpiry: at(1500),
    policy,
    ...overrides,
  };
}

const locked: LegObservation = { status: "locked" };
const claimed: LegObservation = { status: "claimed" };
const refunded: LegObservation = { status: "refunded" };

/** Follows the table from a start state, deciding each event from the given ledger views. */
function walk(role: PvpRole, start: PvpState, views: Array<Partial<DecisionInput>>): PvpState[] {
  const path: PvpState[] = [start];
  let state = start;
  for (const view of views) {
    const event = decideEvent(input(role, state, view));
    expect(event, `an event from ${state}`).toBeDefined();
    const row = findTransition(role, state, event!);
    expect(row, `a transition ${state} --${event}-->`).toBeDefined();
    state = row!.to;
    path.push(state);
  }
  return path;
}

describe("the PvP transition table", () => {
  it("names only known states and gives no terminal state an exit except cancellation answers", () => {
    for (const row of TRANSITIONS) {
      expect(PVP_STATES).toContain(row.from);
      expect(PVP_STATES).toContain(row.to);
      if (isTerminal(row.from)) expect(row.to).toBe(row.from);
    }
  });

  it("has at most one row per role, state and event", () => {
    const keys = TRANSITIONS.map((row) => `${row.role}:${row.from}:${row.event}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("initiator happy path: hold DT, lock foreign, reveal by claiming foreign, then claim DT", () => {
    const path = walk("initiator", "INITIATED", [{ dt: locked }, { dt: locked, foreign: locked }, { dt: locked, foreign: claimed }, { dt: claimed, foreign: claimed }]);
    expect(path).toEqual(["INITIATED", "DT_LOCKED", "REVEALING", "CLAIMING_DT", "SETTLED"]);
    expect(findTransition("initiator", "DT_LOCKED", "foreign_locked")!.effects).toEqual([{ kind: "claim", side: "foreign" }]);
  });

  it("initiator never reveals once the foreign leg's own clock is inside the margin: it aborts and refunds both", () => {
    const late = { dt: locked, foreign: locked, foreignNow: at(900 - 60) };
    expect(decideEvent(input("initiator", "DT_LOCKED", late))).toBe("reveal_window_closed");
    const path = walk("initiator", "DT_LOCKED", [late, { dt: refunded, foreign: refunded }]);
    expect(path).toEqual(["DT_LOCKED", "ABORTING", "REFUNDED"]);
  });

  it("a revealed preimage on the foreign leg leads to claiming the DT leg, even while aborting", () => {
    expect(decideEvent(input("initiator", "ABORTING", { dt: locked, foreign: claimed }))).toBe("foreign_claimed");
    expect(findTransition("initiator", "ABORTING", "foreign_claimed")!.to).toBe("CLAIMING_DT");
  });

  it("after revealing to a peer, the gateway's clock alone never unwinds the PvP: only the peer's report does", () => {
    const reported = { status: "locked", reportedByPeer: true } as const;
    expect(decideEvent(input("initiator", "REVEALING", { foreign: reported, foreignNow: at(2000) }))).toBeUndefined();
    expect(decideEvent(input("initiator", "REVEALING", { foreign: locked, foreignNow: at(2000) }))).toBe("foreign_refunded");
  });

  it("aborting waits while a foreign lock may still land, and finishes once the expiry passed with nothing locked", () => {
    const absent: LegObservation = { status: "absent" };
    expect(decideEvent(input("initiator", "ABORTING", { dt: refunded, foreign: absent, foreignNow: at(100) }))).toBeUndefined();
    expect(decideEvent(input("initiator", "ABORTING", { dt: refunded, foreign: absent, foreignNow: at(900 + 31) }))).toBe("legs_refunded");
  });

  it("responder: lock, claim on the reveal, report ACSC", () => {
    const path = walk("responder", "RECEIVED", [{ foreign: locked }, { foreign: locked, preimageKnown: true }, { foreign: claimed, preimageKnown: true }]);
    expect(path).toEqual(["RECEIVED", "LOCKED", "CLAIMING", "SETTLED"]);
    expect(findTransition("responder", "RECEIVED", "own_locked")!.effects).toEqual([{ kind: "peer_message", message: "locked" }]);
  });

  it("responder: refunds at its own expiry and on a cancellation, refuses a cancellation once claiming", () => {
    expect(walk("responder", "LOCKED", [{ foreign: locked, foreignNow: at(901) }, { foreign: refunded }])).toEqual(["LOCKED", "REFUNDING", "REFUNDED"]);
    expect(walk("responder", "LOCKED", [{ foreign: locked, cancelRequested: true }, { foreign: refunded }])).toEqual(["LOCKED", "REFUNDING", "REFUNDED"]);
    expect(findTransition("responder", "CLAIMING", "cancel_requested")!.effects).toEqual([{ kind: "peer_message", message: "cancellation_refused" }]);
  });

  it("responder: a preimage arriving after the expiry is not acted on; the leg is refunded", () => {
    expect(decideEvent(input("responder", "LOCKED", { foreign: locked, preimageKnown: true, foreignNow: at(901) }))).toBe("own_expired");
  });
});

describe("the timelock policy", () => {
  it("accepts the default expiries and refuses a DT leg that expires first or too soon after the foreign leg", () => {
    const defaults = defaultExpiries(policy, now);
    expect(checkExpiries(policy, now, defaults)).toBeUndefined();
    expect(checkExpiries(policy, now, { foreign: at(600), dt: at(500) })?.code).toBe("EXPIRY_ORDER");
    expect(checkExpiries(policy, now, { foreign: at(600), dt: at(600 + requiredGapMs(policy) / 1000 - 1) })?.code).toBe("EXPIRY_GAP_TOO_SMALL");
    expect(checkExpiries(policy, now, { foreign: at(100), dt: at(1000) })?.code).toBe("FOREIGN_EXPIRY_TOO_SOON");
  });

  it("closes the reveal window drift + half the time to act before the first expiry", () => {
    expect(mayReveal(policy, at(900 - 90), at(900))).toBe(true);
    expect(mayReveal(policy, at(900 - 89), at(900))).toBe(false);
  });
});
