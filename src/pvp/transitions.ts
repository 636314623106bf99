import { writeEffects } from "./effects.ts";
import type { EngineContext } from "./engine-context.ts";
import type { PvpRecord } from "./pvp.ts";
import { PVP_REASON_CODES } from "./reason-codes.ts";
import { findTransition, type PvpEvent } from "./state-machine.ts";
import { pvpStore } from "./store.ts";

/**
 * Applies one row of the transition table in one transaction, with its effects written to the outbox.
 * False when there is no such row or another worker moved the PvP first.
 */
export async function applyTransition(context: EngineContext, pvp: PvpRecord, event: PvpEvent): Promise<boolean> {
  const row = findTransition(pvp.role, pvp.state, event);
  if (!row) {
    context.log.warn({ event: "pvp.no_transition", pvpId: pvp.id, state: pvp.state, on: event }, "no transition for event");
    return false;
  }
  context.faults?.at("before-transition", pvp.id);
  const now = context.clock.now();
  const reasonCode = reasonFor(pvp, event);
  const moved = await context.db.transaction(async (tx) => {
    const changes: { reasonCode?: string } = {};
    if (reasonCode !== undefined) changes.reasonCode = reasonCode;
    const entry = { at: now, kind: "transition" as const, fromState: pvp.state, toState: row.to, event, detail: reasonCode ? { reasonCode } : {} };
    if (!(await pvpStore.moveState(tx, pvp, row.to, now, changes, entry))) return false;
    const next = { ...pvp, state: row.to, version: pvp.version + 1, reasonCode: reasonCode ?? pvp.reasonCode };
    await writeEffects(context, tx, next, row.effects, now);
    return true;
  });
  if (moved) {
    context.log.info({ event: "pvp.transition", pvpId: pvp.id, from: pvp.state, to: row.to, on: event }, "PvP transition");
    context.faults?.at("after-transition", pvp.id);
  }
  return moved;
}

/** The ISO reason code a transition records (pacs.002 RJCT to the bank and the correspondent). */
function reasonFor(pvp: PvpRecord, event: PvpEvent): string | undefined {
  switch (event) {
    case "cancel_requested":
      // A responder records the reason the initiator's camt.056 gave; an initiator was asked by its bank.
      return pvp.role === "responder" ? (pvp.peerReason ?? PVP_REASON_CODES.cancelled.code) : PVP_REASON_CODES.cancelled.code;
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
