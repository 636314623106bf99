import type { EngineContext } from "./engine-context.ts";
import type { LegObservation, LegSide } from "./leg-port.ts";
import { legOf, opensHashLock, type PvpRecord } from "./pvp.ts";
import { decideEvent, type PvpEvent } from "./state-machine.ts";
import { pvpStore } from "./store.ts";

/** What this worker's own successful lock and claim calls just established; saves reading it back. */
export type KnownLegs = Partial<Record<LegSide, LegObservation>>;

/**
 * The next event of a PvP: reads the legs its state looks at and the ledgers' clocks, then asks the
 * transition table's `decideEvent`. A ledger that cannot be read leaves its leg unknown: the engine then
 * waits, or aborts on the gateway's clock, but never reveals or claims on a guess.
 */
export async function observeNextEvent(context: EngineContext, pvp: PvpRecord, known: KnownLegs = {}): Promise<PvpEvent | undefined> {
  const observe = async (side: LegSide, issued: boolean): Promise<LegObservation | undefined> => {
    const terms = side === "dt" ? pvp.dtLeg : pvp.foreignLeg;
    if (terms === undefined) return undefined;
    const outcome = known[side];
    if (outcome) return outcome;
    const leg = legOf(pvp, side);
    try {
      const port = context.legs.leg(terms.ledger);
      if (!issued && !(leg.reference ?? port.referenceOf?.(leg))) return undefined;
      return await port.observe(leg);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      context.log.warn({ event: "pvp.observe_failed", pvpId: pvp.id, side, err: message }, "leg not readable");
      await pvpStore.recordError(context.db, pvp.id, context.clock.now(), `${side} leg not readable: ${message}`);
      return undefined;
    }
  };
  const ledgerNow = async (ledger: string): Promise<Date> => {
    try {
      return await context.legs.leg(ledger).now();
    } catch {
      return context.clock.now();
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
  const foreignNow = needsForeignClock ? await ledgerNow(pvp.foreignLeg.ledger) : context.clock.now();
  const dtNow = pvp.state === "ABORTING" && pvp.dtLeg ? await ledgerNow(pvp.dtLeg.ledger) : context.clock.now();
  let preimageKnown = false;
  if (!initiator) {
    // The responder learns the preimage from its own ledger when the initiator claims there directly.
    if (foreign?.preimage !== undefined && pvp.preimage === undefined && opensHashLock(pvp.hashLock, foreign.preimage)) {
      await pvpStore.update(context.db, pvp.id, { preimage: context.preimages.seal(pvp.id, foreign.preimage) }, context.clock.now());
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
    gatewayNow: context.clock.now(),
    foreignNow,
    dtNow,
    foreignExpiry: pvp.foreignLeg.expiresAt,
    dtExpiry: pvp.dtLeg?.expiresAt ?? pvp.foreignLeg.expiresAt,
    policy: context.policy,
  });
}
