/**
 * What tells the time. Production code takes a Clock instead of calling `new Date()`, so tests (and the
 * seeded fault runs) move time by hand.
 */
export interface Clock {
  now(): Date;
}

/** The machine's clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to (tests). `now` is bound, so it can be passed on as a function. */
export class ManualClock implements Clock {
  ms: number;

  constructor(start: Date | number = Date.now()) {
    this.ms = typeof start === "number" ? start : start.getTime();
  }

  readonly now = (): Date => new Date(this.ms);

  advance(ms: number): void {
    this.ms += ms;
  }

  set(at: Date): void {
    this.ms = at.getTime();
  }
}
