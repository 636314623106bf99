import { InjectedCrash, loadOpened, type EngineContext } from "./engine-context.ts";
import { observeNextEvent, type KnownLegs } from "./observe.ts";
import { runDueCommands } from "./outbox.ts";
import type { PvpRecord } from "./pvp.ts";
import { isTerminal } from "./state-machine.ts";
import { chaseAsResponder } from "./status-requests.ts";
import { pvpStore } from "./store.ts";
import { applyTransition } from "./transitions.ts";

/**
 * The worker loop: leases due PvPs (several processes may share the table) and drives each one through
 * its outbox and the transition table until it waits on something, then says when to look again.
 */
export class PvpWorker {
  private readonly context: EngineContext;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(context: EngineContext) {
    this.context = context;
  }

  /** Processes every PvP that is due now; returns how many were looked at. */
  async runOnce(limit = 64): Promise<number> {
    const { db, ourAgent, worker, clock, timing } = this.context;
    const ids = await pvpStore.leaseDue(db, ourAgent, worker, clock.now(), timing.leaseMs, limit);
    let next = 0;
    const runners = Array.from({ length: Math.min(timing.concurrency, ids.length) }, async () => {
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
    const { db, worker, clock, timing } = this.context;
    if (await pvpStore.leaseOne(db, id, worker, clock.now(), timing.leaseMs)) await this.process(id);
  }

  /**
   * Starts the background loop: resumes every unfinished PvP and keeps driving them until stop().
   * Up to `concurrency` PvPs are in flight; a slot that frees up is refilled at once, so one slow PvP
   * never holds up the others.
   */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const { db, ourAgent, worker, clock, timing, log } = this.context;
    const inFlight = new Map<string, Promise<void>>();
    this.loop = (async () => {
      while (!this.stopped) {
        let leased: string[] = [];
        if (inFlight.size < timing.concurrency) {
          try {
            leased = await pvpStore.leaseDue(db, ourAgent, worker, clock.now(), timing.leaseMs, timing.concurrency - inFlight.size);
          } catch (error) {
            log.error({ event: "pvp.worker_error", err: error instanceof Error ? error.message : String(error) }, "leasing PvPs failed");
          }
        }
        for (const id of leased) {
          const run = this.process(id)
            .catch((error: unknown) => log.error({ event: "pvp.worker_error", pvpId: id, err: error instanceof Error ? error.message : String(error) }, "PvP worker failed"))
            .finally(() => inFlight.delete(id));
          inFlight.set(id, run);
        }
        if (leased.length > 0 && inFlight.size < timing.concurrency) continue;
        // Wait for a free slot, new work (wake) or the poll interval, whichever comes first.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(timing.pollIntervalMs, 250));
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
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
    this.loop = undefined;
  }

  /** Nudges the background loop (new PvP, inbound message). */
  wake(): void {
    this.wakeUp?.();
  }

  private async process(id: string): Promise<void> {
    const { db, worker, clock, timing, log } = this.context;
    let nextRunAt: Date | undefined;
    try {
      nextRunAt = await this.drive(id);
    } catch (error) {
      if (error instanceof InjectedCrash) throw error;
      log.error({ event: "pvp.step_error", pvpId: id, err: error instanceof Error ? error.message : String(error) }, "PvP step failed");
      await pvpStore.recordError(db, id, clock.now(), `step failed: ${error instanceof Error ? error.message : String(error)}`).catch(() => {});
      nextRunAt = new Date(clock.now().getTime() + timing.retryBaseMs);
    }
    await pvpStore.releaseLease(db, id, worker, nextRunAt);
  }

  /** Runs commands and transitions until the PvP waits on something; returns when to look again. */
  private async drive(id: string): Promise<Date> {
    const context = this.context;
    const poll = context.timing.pollIntervalMs;
    const known: KnownLegs = {};
    for (let round = 0; round < 12; round++) {
      let pvp = await loadOpened(context, id);
      if (!pvp || isTerminal(pvp.state)) {
        // Messages queued by the last transition still go out after the PvP is final.
        if (pvp) return (await runDueCommands(context, pvp, known)).nextDue ?? new Date(context.clock.now().getTime() + poll);
        return new Date(context.clock.now().getTime() + poll);
      }
      const { nextDue: waitUntil, ran } = await runDueCommands(context, pvp, known);
      if (ran) pvp = (await loadOpened(context, id))!;
      const event = await observeNextEvent(context, pvp, known);
      if (event === undefined) {
        // A responder waiting on the initiator after its last report asks, as the initiator's peer leg does.
        const chaseAt = pvp.role === "responder" ? await chaseAsResponder(context, pvp) : undefined;
        // Look again soon while things move, less often the longer the PvP waits, but never later than
        // the next moment a decision can flip (a window closing, an expiry) or a command falls due.
        const now = context.clock.now().getTime();
        const idleFor = now - pvp.updatedAt.getTime();
        const backoff = Math.min(context.timing.pollMaxMs, Math.max(poll, idleFor / 4));
        const deadlines = this.deadlinesOf(pvp).filter((at) => at > now);
        const next = Math.min(now + backoff, waitUntil?.getTime() ?? Infinity, chaseAt?.getTime() ?? Infinity, ...deadlines);
        return new Date(Math.max(next, now));
      }
      const moved = await applyTransition(context, pvp, event);
      if (!moved) return new Date(context.clock.now().getTime());
    }
    return context.clock.now();
  }

  /** Times at which the table's guards may change their answer for this PvP (gateway clock, with drift). */
  private deadlinesOf(pvp: PvpRecord): number[] {
    const { clockDriftMs: drift, timeToActMs: act } = this.context.policy;
    const foreign = pvp.foreignLeg.expiresAt.getTime();
    const times = [foreign - drift - act, foreign - drift - act / 2, foreign, foreign + drift + 1];
    if (pvp.dtLeg) times.push(pvp.dtLeg.expiresAt.getTime(), pvp.dtLeg.expiresAt.getTime() + drift + 1);
    return times;
  }
}
