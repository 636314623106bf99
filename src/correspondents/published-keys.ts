import { CodedError } from "../core/errors.ts";

/**
 * The message signing keys a gateway publishes at `GET /iso20022/keys`, so a correspondent can fetch and pin
 * them (docs/iso20022-pvp-profile.md "Signing keys"). Rotation has an overlap: a `next` key is published
 * before it signs, the `active` key signs, a `retiring` key signed until recently and still verifies until its
 * `validUntil` (processes not yet restarted, messages in flight), a `retired` key verifies nothing.
 */
export const KEY_STATUSES = ["next", "active", "retiring", "retired"] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

export interface PublishedKey {
  keyId: string;
  algorithm: "ed25519";
  /** Raw Ed25519 public key, 32 bytes, hex. */
  publicKey: string;
  /** ISO 8601 instant; null: not stated. */
  validFrom: string | null;
  /** ISO 8601 instant after which it verifies nothing; null: until a rotation says otherwise. */
  validUntil: string | null;
  status: KeyStatus;
}

export interface PublishedKeySet {
  /** The BIC whose messages these keys sign (AppHdr From). */
  agent: string;
  keys: PublishedKey[];
}

/** Our own keys as the settings give them (PVP_SIGNING_KEY*, PVP_NEXT_SIGNING_KEYS, PVP_RETIRING_SIGNING_KEYS). */
export interface OwnSigningKeys {
  active: { keyId: string; publicKey: string; validFrom?: Date | undefined };
  next: Array<{ keyId: string; publicKey: string; validFrom: Date }>;
  retiring: Array<{ keyId: string; publicKey: string; validUntil: Date }>;
}

export class KeySetError extends CodedError<"KEY_SET_INVALID" | "KEY_SET_AGENT_MISMATCH" | "KEY_SET_WITHOUT_ACTIVE_KEY" | "KEY_SET_KEY_CHANGED" | "KEY_SET_UNREACHABLE"> {}

export const KEY_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const HEX_KEY = /^[0-9a-f]{64}$/;

/** The set we publish at `now`: a retiring key past its `validUntil` is listed as retired. */
export function publishedKeySet(agent: string, keys: OwnSigningKeys, now: Date): PublishedKeySet {
  return {
    agent,
    keys: [
      ...keys.next.map((key) => ({ keyId: key.keyId, algorithm: "ed25519" as const, publicKey: key.publicKey, validFrom: key.validFrom.toISOString(), validUntil: null, status: "next" as const })),
      {
        keyId: keys.active.keyId,
        algorithm: "ed25519",
        publicKey: keys.active.publicKey,
        validFrom: keys.active.validFrom?.toISOString() ?? null,
        validUntil: null,
        status: "active",
      },
      ...keys.retiring.map((key) => ({
        keyId: key.keyId,
        algorithm: "ed25519" as const,
        publicKey: key.publicKey,
        validFrom: null,
        validUntil: key.validUntil.toISOString(),
        status: key.validUntil.getTime() > now.getTime() ? ("retiring" as const) : ("retired" as const),
      })),
    ],
  };
}

/**
 * `keyId=publicKeyHex@instant` entries, comma-separated (PVP_NEXT_SIGNING_KEYS: the instant it starts to
 * sign; PVP_RETIRING_SIGNING_KEYS: the instant it stops verifying). Throws a message for the setting's error.
 */
export function parseKeyList(raw: string): Array<{ keyId: string; publicKey: string; at: Date }> {
  return raw
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const match = /^([^=@\s]+)=([0-9a-fA-F]{64})@(\S+)$/.exec(entry);
      if (!match || !KEY_ID.test(match[1]!)) throw new Error(`"${entry}" is not keyId=<64 hex digits of Ed25519 public key>@<ISO 8601 instant>`);
      const at = new Date(match[3]!);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(match[3]!) || Number.isNaN(at.getTime())) throw new Error(`"${match[3]}" in "${entry}" is not an ISO 8601 instant`);
      return { keyId: match[1]!, publicKey: match[2]!.toLowerCase(), at };
    });
}

/** Key ids and public keys appear once across the whole set (else a peer could not tell which one signs). */
export function checkOwnKeys(keys: OwnSigningKeys): string | undefined {
  const all = [keys.active, ...keys.next, ...keys.retiring];
  const ids = new Set(all.map((key) => key.keyId));
  if (ids.size !== all.length) return "a key id appears twice among the active, next and retiring keys";
  const publicKeys = new Set(all.map((key) => key.publicKey));
  if (publicKeys.size !== all.length) return "a public key appears twice among the active, next and retiring keys";
  return undefined;
}

/** A key set fetched from a correspondent, checked before anything of it is pinned. */
export function parsePublishedKeySet(value: unknown, expectedAgent: string): PublishedKeySet {
  const invalid = (why: string) => new KeySetError("KEY_SET_INVALID", `the key set is not valid: ${why}`);
  if (typeof value !== "object" || value === null) throw invalid("not a JSON object");
  const { agent, keys } = value as { agent?: unknown; keys?: unknown };
  if (agent !== expectedAgent) throw new KeySetError("KEY_SET_AGENT_MISMATCH", `the key set is for ${JSON.stringify(agent)}, not ${expectedAgent}`);
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 16) throw invalid("keys must be a list of 1 to 16 keys");
  const parsed = keys.map((key: unknown, index): PublishedKey => {
    const item = (typeof key === "object" && key !== null ? key : {}) as Record<string, unknown>;
    const instant = (field: "validFrom" | "validUntil") => {
      const raw = item[field];
      if (raw === null || raw === undefined) return null;
      if (typeof raw !== "string" || Number.isNaN(new Date(raw).getTime())) throw invalid(`keys[${index}].${field} must be an ISO 8601 instant or null`);
      return new Date(raw).toISOString();
    };
    if (typeof item["keyId"] !== "string" || !KEY_ID.test(item["keyId"])) throw invalid(`keys[${index}].keyId must be 1 to 128 of A-Z a-z 0-9 . _ : -`);
    if (item["algorithm"] !== "ed25519") throw invalid(`keys[${index}].algorithm must be ed25519`);
    if (typeof item["publicKey"] !== "string" || !HEX_KEY.test(item["publicKey"].toLowerCase())) throw invalid(`keys[${index}].publicKey must be 64 hex digits`);
    if (!(KEY_STATUSES as readonly unknown[]).includes(item["status"])) throw invalid(`keys[${index}].status must be one of ${KEY_STATUSES.join(", ")}`);
    return {
      keyId: item["keyId"],
      algorithm: "ed25519",
      publicKey: item["publicKey"].toLowerCase(),
      validFrom: instant("validFrom"),
      validUntil: instant("validUntil"),
      status: item["status"] as KeyStatus,
    };
  });
  if (new Set(parsed.map((key) => key.keyId)).size !== parsed.length) throw invalid("a key id appears twice");
  if (!parsed.some((key) => key.status === "active")) throw new KeySetError("KEY_SET_WITHOUT_ACTIVE_KEY", "the key set has no active key: nothing of it is pinned");
  for (const key of parsed) {
    if (key.status === "retiring" && key.validUntil === null) throw invalid(`retiring key ${key.keyId} has no validUntil`);
  }
  return { agent: expectedAgent, keys: parsed };
}

/** Fetches and checks `<baseUrl>/iso20022/keys` of a correspondent (10 s at most). */
export async function fetchKeySet(baseUrl: string, agent: string): Promise<PublishedKeySet> {
  const url = new URL("iso20022/keys", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  let body: unknown;
  try {
    const response = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(10_000), redirect: "error" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = await response.json();
  } catch (error) {
    throw new KeySetError("KEY_SET_UNREACHABLE", `could not fetch ${url.href}: ${(error as Error).message}`);
  }
  return parsePublishedKeySet(body, agent);
}
