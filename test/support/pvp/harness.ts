import { ManualClock, type Clock } from "../../../src/core/clock.ts";
import { migrate } from "../../../src/persistence/migrations.ts";
import { migrationsFrom } from "../../../src/persistence/migrations.ts";
import type { Database } from "../../../src/persistence/database.ts";
import { PvpEngine, type PvpEngineOptions } from "../../../src/pvp/engine.ts";
import { legDirectory, type HashLockedLegPort } from "../../../src/pvp/leg-port.ts";
import type { TimelockPolicy } from "../../../src/pvp/timelock-policy.ts";

export const pvpMigrations = () => [migrationsFrom("pvp", new URL("../../../src/pvp/migrations/", import.meta.url))];

export async function migratePvp(db: Database): Promise<void> {
  await migrate(db, pvpMigrations());
}

/** A clock tests move by hand, from a fixed morning unless told otherwise. */
export class VirtualClock extends ManualClock {
  constructor(start = Date.parse("2026-11-23T09:00:00Z")) {
    super(start);
  }
}

/** Seconds-scale policy so tests can step through expiries with a virtual clock. */
export const testPolicy: TimelockPolicy = { clockDriftMs: 5_000, timeToActMs: 20_000, lockWindowMs: 60_000 };

export const NBK = "NBRKKZKX";
export const FOREIGN_CB = "FCBKAEAD";

export function engineWith(db: Database, legs: HashLockedLegPort[], options: Partial<PvpEngineOptions> & { clock: Clock }): PvpEngine {
  return new PvpEngine({ db, legs: legDirectory(legs), policy: testPolicy, ourAgent: NBK, pollIntervalMs: 1000, retryBaseMs: 500, retryMaxMs: 5000, ...options });
}

/** Runs the worker until nothing is due, moving the virtual clock when everything waits. */
export async function settle(engines: PvpEngine[], clock: VirtualClock, options: { maxRounds?: number; stepMs?: number; until?: () => Promise<boolean> } = {}): Promise<void> {
  const rounds = options.maxRounds ?? 400;
  for (let round = 0; round < rounds; round++) {
    if (options.until && (await options.until())) return;
    let found = 0;
    for (const engine of engines) found += await engine.runOnce();
    if (found === 0) clock.advance(options.stepMs ?? 1000);
  }
}
