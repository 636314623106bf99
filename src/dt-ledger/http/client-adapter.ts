import type { KeyObject } from "node:crypto";
import { signRequest } from "../../identity/http-signature.ts";
import {
  DT_LEDGER_ERROR_CODES,
  DtLedgerError,
  type DtLedgerErrorCode,
  type DtLedgerPort,
  type ReleaseRequest,
} from "../../ledger/dt-ledger-port.ts";
import {
  accountFromJson,
  activityFromJson,
  balanceFromJson,
  eventFromJson,
  holdFromJson,
  allotmentChangeToJson,
  receiptFromJson,
  signedAllotmentFromJson,
  statementFromJson,
  type Json,
} from "../wire.ts";

export interface HttpDtLedgerOptions {
  /** Base URL of the DT ledger service, e.g. http://127.0.0.1:8090 (DT_LEDGER_URL). */
  baseUrl: string;
  /** The participant this client acts as; also the key id of its signatures. */
  participantId: string;
  /** The participant's Ed25519 signing key (its public half is registered with the ledger). */
  signingKey: KeyObject;
  /** Per-request timeout, beyond any long-poll wait (default 10 s). */
  timeoutMs?: number;
}

/**
 * The port over HTTP: each call is one signed request to the DT ledger service; refusals come back as
 * DtLedgerError with the service's code. A network failure is UNAVAILABLE: retry with the same
 * idempotency key, which never applies a request twice.
 */
export function httpDtLedger(options: HttpDtLedgerOptions): DtLedgerPort & { request(method: string, path: string, body?: unknown): Promise<Json> } {
  const base = options.baseUrl.replace(/\/$/, "");
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function request(method: string, path: string, body?: unknown, waitMs = 0): Promise<Json> {
    const text = body === undefined ? undefined : JSON.stringify(body, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
    const headers: Record<string, string> = {
      ...signRequest({ method, url: `${base}${path}`, body: text }, { keyId: options.participantId, privateKey: options.signingKey }),
      accept: "application/json",
    };
    if (text !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, { method, headers, body: text, signal: AbortSignal.timeout(timeoutMs + waitMs) });
    } catch (error) {
      // fetch says only "fetch failed"; the cause names what happened (ECONNREFUSED, a timeout, a bad port).
      const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
      const why = typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : (error as Error).message;
      throw new DtLedgerError("UNAVAILABLE", `DT ledger at ${base} unreachable (${why}): start the DT ledger service or fix DT_LEDGER_URL`);
    }
    const payload = (await response.json().catch(() => null)) as Json;
    if (response.ok) return payload;
    const failure = (payload ?? {}) as { code?: string; message?: string };
    const code = (DT_LEDGER_ERROR_CODES as readonly string[]).includes(failure.code ?? "")
      ? (failure.code as DtLedgerErrorCode)
      : response.status === 401
        ? "UNAUTHENTICATED"
        : response.status >= 500
          ? "UNAVAILABLE"
          : "INVALID_REQUEST";
    throw new DtLedgerError(code, `${failure.code ?? response.status}: ${failure.message ?? response.statusText}`);
  }

  const path = (template: string, ...ids: string[]) =>
    ids.reduce((result, id) => result.replace(":id", encodeURIComponent(id)), template);
  const query = (params: Record<string, string | number | bigint | undefined>) => {
    const entries = Object.entries(params).filter(([, value]) => value !== undefined) as [string, string | number | bigint][];
    return entries.length === 0 ? "" : `?${new URLSearchParams(entries.map(([name, value]) => [name, value.toString()])).toString()}`;
  };

  return {
    request,
    openAccount: async (body) => accountFromJson(await request("POST", "/v1/accounts", body)),
    account: async (accountId) => accountFromJson(await request("GET", path("/v1/accounts/:id", accountId))),
    servicer: async (accountId) => ((await request("GET", path("/v1/accounts/:id/servicer", accountId))) as { participantId: string }).participantId,
    balance: async (accountId) => balanceFromJson(await request("GET", path("/v1/accounts/:id/balance", accountId))),
    transfer: async (body) => receiptFromJson(await request("POST", "/v1/transfers", body)),
    hold: async (body) =>
      holdFromJson(
        await request("POST", "/v1/holds", {
          ...body,
          expiresAt: body.expiresAt instanceof Date && !Number.isNaN(body.expiresAt.getTime()) ? body.expiresAt.toISOString() : "invalid",
        }),
      ),
    release: async (body: ReleaseRequest) => {
      const { holdId, ...rest } = body;
      return holdFromJson(await request("POST", path("/v1/holds/:id/release", holdId), rest));
    },
    refund: async ({ holdId, idempotencyKey, earlyConsent }) =>
      holdFromJson(await request("POST", path("/v1/holds/:id/refund", holdId), { idempotencyKey, ...(earlyConsent ? { earlyConsent: { by: earlyConsent.by, message: earlyConsent.message } } : {}) })),
    getHold: async (holdId) => holdFromJson(await request("GET", path("/v1/holds/:id", holdId))),
    collateralStatement: async ({ accountId, domain }) =>
      statementFromJson(
        await request("GET", `${path("/v1/accounts/:id/collateral-statement", accountId)}${query({ chainId: domain.chainId, verifyingContract: domain.verifyingContract })}`),
      ),
    issuanceAllotment: async ({ accountId, reference, change }) =>
      signedAllotmentFromJson(await request("POST", path("/v1/accounts/:id/issuance-allotments", accountId), { reference, change: allotmentChangeToJson(change) })),
    latestIssuanceAllotment: async (accountId) => {
      const { latest } = (await request("GET", path("/v1/accounts/:id/issuance-allotments/latest", accountId))) as { latest: Json };
      return latest === null ? undefined : signedAllotmentFromJson(latest);
    },
    events: async ({ after, limit, waitMs }) => {
      const page = (await request("GET", `/v1/events${query({ after, limit, waitMs })}`, undefined, waitMs ?? 0)) as { events: Json[]; cursor: string };
      return { events: page.events.map(eventFromJson), cursor: page.cursor };
    },
    activity: async ({ accountId, fromHeight, toHeight, limit }) =>
      activityFromJson(await request("GET", `${path("/v1/accounts/:id/activity", accountId)}${query({ fromHeight, toHeight, limit })}`)),
  };
}
