/**
 * The timelock rule of a PvP: the leg claimed first (the foreign leg, claimed by the secret holder) expires
 * first, and the DT leg stays claimable long enough after that for the other side to act on the revealed
 * preimage even when the two ledgers' clocks disagree.
 *
 *   foreign expiry >= now + lockWindow
 *   dt expiry      >= foreign expiry + 2 * clockDrift + timeToAct
 *
 * Two drifts because each ledger's clock may be off by up to `clockDrift` in opposite directions.
 */
export interface TimelockPolicy {
  /** Largest disagreement between any ledger's clock and true time, in ms. */
  clockDriftMs: number;
  /** Time the gateway needs to notice a revealed preimage and get a claim confirmed, in ms. */
  timeToActMs: number;
  /** Least time between creation and the foreign expiry: locking both legs and claiming must fit in it. */
  lockWindowMs: number;
  /**
   * Longest any leg may stay locked, from now to its expiry, on either side (setting PVP_MAX_LOCK_SECONDS;
   * default 24 h): nobody can tie up an account's funds for years with one PvP.
   */
  maxLockMs?: number;
}

export const DEFAULT_MAX_LOCK_MS = 24 * 3600 * 1000;

/** Whether a leg expiring at `expiresAt` stays within the longest lock allowed, judged by its ledger's clock. */
export function withinMaxLock(policy: TimelockPolicy, ledgerNow: Date, expiresAt: Date): boolean {
  return expiresAt.getTime() - ledgerNow.getTime() <= (policy.maxLockMs ?? DEFAULT_MAX_LOCK_MS);
}

export const defaultTimelockPolicy: TimelockPolicy = {
  clockDriftMs: 30_000,
  timeToActMs: 120_000,
  lockWindowMs: 300_000,
};

export type TimelockViolation =
  | { code: "FOREIGN_EXPIRY_TOO_SOON"; message: string }
  | { code: "EXPIRY_ORDER"; message: string }
  | { code: "EXPIRY_GAP_TOO_SMALL"; message: string };

/** The gap the DT leg's expiry must keep after the foreign leg's. */
export function requiredGapMs(policy: TimelockPolicy): number {
  return 2 * policy.clockDriftMs + policy.timeToActMs;
}

/** Checks a PvP's expiries at creation; undefined when they keep the policy. */
export function checkExpiries(
  policy: TimelockPolicy,
  now: Date,
  expiries: { foreign: Date; dt: Date },
): TimelockViolation | undefined {
  if (expiries.foreign.getTime() < now.getTime() + policy.lockWindowMs) {
    return {
      code: "FOREIGN_EXPIRY_TOO_SOON",
      message: `the foreign leg must expire at least ${policy.lockWindowMs / 1000}s from now`,
    };
  }
  if (expiries.dt.getTime() <= expiries.foreign.getTime()) {
    return { code: "EXPIRY_ORDER", message: "the leg claimed first (foreign) must expire before the DT leg" };
  }
  const gap = requiredGapMs(policy);
  if (expiries.dt.getTime() - expiries.foreign.getTime() < gap) {
    return {
      code: "EXPIRY_GAP_TOO_SMALL",
      message: `the DT leg must expire at least ${gap / 1000}s after the foreign leg (2 x clock drift + time to act)`,
    };
  }
  return undefined;
}

/** Expiries that keep the policy, for a PvP created now without explicit ones. */
export function defaultExpiries(policy: TimelockPolicy, now: Date): { foreign: Date; dt: Date } {
  const foreign = new Date(now.getTime() + 2 * policy.lockWindowMs);
  return { foreign, dt: new Date(foreign.getTime() + 2 * requiredGapMs(policy)) };
}

/**
 * Whether the secret holder may still reveal: the claim on the first leg must land before its expiry by
 * the ledger's own clock, with room for drift and the time to get it confirmed. Past this point the PvP is
 * aborted instead, so a preimage is never revealed into a leg that may already be refundable.
 */
export function mayReveal(policy: TimelockPolicy, ledgerNow: Date, firstLegExpiry: Date): boolean {
  return ledgerNow.getTime() + policy.clockDriftMs + policy.timeToActMs / 2 <= firstLegExpiry.getTime();
}

/** Whether a responder may still lock its leg: the initiator needs time to reveal before the expiry. */
export function mayLock(policy: TimelockPolicy, ledgerNow: Date, legExpiry: Date): boolean {
  return ledgerNow.getTime() + policy.clockDriftMs + policy.timeToActMs <= legExpiry.getTime();
}
