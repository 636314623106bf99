import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hookList } from "../identity/access-plugin.ts";
import { CodedError } from "../core/errors.ts";

/** How many requests one principal may make: `burst` at once, refilled at `perSecond`. */
export interface PrincipalRateLimit {
  perSecond: number;
  burst: number;
}

export const DEFAULT_PRINCIPAL_RATE_LIMIT: PrincipalRateLimit = { perSecond: 100, burst: 200 };

/** A principal over its rate: 429 with Retry-After (seconds). */
export class RateLimitedError extends CodedError<"RATE_LIMITED"> {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super("RATE_LIMITED", `too many requests from this principal; retry after ${retryAfterSeconds} s`, { retryAfterSeconds });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Token buckets keyed by principal. In memory, per process: it keeps one caller from taking the server
 * from everyone else, it is not a quota. `clock` is in milliseconds (tests pass their own).
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #limit: PrincipalRateLimit;
  readonly #clock: () => number;

  constructor(limit: PrincipalRateLimit, clock: () => number = Date.now) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new Error("a rate limit needs perSecond > 0 and burst >= 1");
    this.#limit = limit;
    this.#clock = clock;
  }

  /** Takes one token for `key`; returns 0, or the seconds until one is back. */
  take(key: string): number {
    const now = this.#clock();
    const { perSecond, burst } = this.#limit;
    const bucket = this.#buckets.get(key);
    const tokens = bucket ? Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond) : burst;
    if (tokens >= 1) {
      this.#buckets.set(key, { tokens: tokens - 1, at: now });
      return 0;
    }
    this.#buckets.set(key, { tokens, at: now });
    return (1 - tokens) / perSecond;
  }
}

/**
 * Per-principal rate limit on every authenticated route, checked in `onRequest` right after access
 * control: a refused request is answered before its body is read, so it never reaches a handler or the
 * database. Public routes (health, metrics, the page, proof of collateral) have no principal and pass.
 */
export function installPrincipalRateLimit(app: FastifyInstance, limit: PrincipalRateLimit, clock?: () => number): void {
  const buckets = new TokenBuckets(limit, clock);
  const check = async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = request.principal;
    if (!principal) return;
    const wait = buckets.take(principal.id);
    if (wait === 0) return;
    const seconds = Math.max(1, Math.ceil(wait));
    reply.header("retry-after", String(seconds));
    request.log.warn({ event: "rate.limited", principal: principal.id, route: request.routeOptions.url }, "principal over its rate");
    throw new RateLimitedError(seconds);
  };
  // A hook of the authenticated routes only, right after access control's own (installed before this).
  app.addHook("onRoute", (route) => {
    if (route.config?.access === "public" || route.config?.access === undefined) return;
    const hooks = hookList(route.onRequest);
    route.onRequest = [...hooks.slice(0, 1), check, ...hooks.slice(1)];
  });
}
