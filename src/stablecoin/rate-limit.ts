import type { FastifyRequest } from "fastify";
import { StablecoinError } from "./errors.ts";

/**
 * A token bucket per principal: `burst` calls at once, refilled at `perSecond`. In memory, per process:
 * it protects the gateway and the ledger from a runaway client, not a quota to bill against.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #clock: () => number;

  /** `clock` gives the time in milliseconds (tests pass their own, so refills do not depend on speed). */
  constructor(perSecond: number, burst: number, clock: () => number = Date.now) {
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#clock = clock;
  }

  /** Takes one token for `key`; returns the seconds to wait when there is none. */
  take(key: string, now = this.#clock()): number {
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#perSecond);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.#perSecond;
  }

  /** A fastify preHandler: 429 RATE_LIMITED with Retry-After for an exchange over its rate. */
  hook() {
    return async (request: FastifyRequest, reply: { header(name: string, value: string): unknown }) => {
      const principal = request.principal;
      if (!principal || principal.role !== "exchange") return;
      const wait = this.take(principal.id);
      if (wait > 0) {
        reply.header("retry-after", String(Math.ceil(wait)));
        throw new StablecoinError("RATE_LIMITED", "too many requests; slow down and retry after the Retry-After seconds");
      }
    };
  }
}
