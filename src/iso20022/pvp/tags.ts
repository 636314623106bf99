import { CodedError } from "../../core/errors.ts";
import { hasExplicitOffset } from "../validation/identifiers.ts";

/**
 * The PvP profile's tagged text: `/TAG/value` pairs in FIN X characters, carried where CBPR+ pacs messages
 * allow free text (pacs.009 RmtInf/Ustrd, pacs.002 StsRsnInf/AddtlInf, ...), because CBPR+ pacs messages
 * have no SplmtryData.
 */
export type PvpProfileCode =
  | "PVP_MESSAGE_TYPE"
  | "PVP_TAG_MISSING"
  | "PVP_FIELD_MISSING"
  | "PVP_TAG_MALFORMED"
  | "PVP_ID_INVALID"
  | "PVP_HASH_LOCK_INVALID"
  | "PVP_PREIMAGE_INVALID"
  | "PVP_PREIMAGE_MISMATCH"
  | "PVP_EXPIRY_INVALID"
  | "PVP_STATUS_UNEXPECTED"
  | "PVP_REASON_INVALID";

/** A message does not follow the PvP profile. Never carries a preimage in its text. */
export class PvpProfileError extends CodedError<PvpProfileCode> {}

/** PvP id: 1-32 of A-Z a-z 0-9 '-' (a UUID goes without its hyphens) so the pacs.009 line fits 140 characters. */
const pvpIdPattern = /^[A-Za-z0-9-]{1,32}$/;
const hexPattern = /^[0-9a-f]{64}$/;

export function assertPvpId(pvpId: string): void {
  if (!pvpIdPattern.test(pvpId)) throw new PvpProfileError("PVP_ID_INVALID", "a PvP id is 1 to 32 characters of A-Z, a-z, 0-9 and '-'");
}

/** Hash-lock H: 64 lowercase hex characters of SHA-256 over a 32-byte preimage. */
export function assertHashLock(hashLock: string): void {
  if (!hexPattern.test(hashLock)) throw new PvpProfileError("PVP_HASH_LOCK_INVALID", "a hash-lock is 64 lowercase hex characters (SHA-256)");
}

export function assertExpiry(expiry: string): void {
  if (!hasExplicitOffset(expiry) || Number.isNaN(Date.parse(expiry))) {
    throw new PvpProfileError("PVP_EXPIRY_INVALID", "an expiry is an ISO 8601 date-time with an explicit offset, e.g. 2026-11-23T12:00:00+05:00");
  }
}

/** Preimage: exactly 32 bytes written as 64 lowercase hex characters. */
export function assertPreimage(preimage: string): void {
  if (!hexPattern.test(preimage)) throw new PvpProfileError("PVP_PREIMAGE_INVALID", "a preimage is 32 bytes written as 64 lowercase hex characters");
}

/** `[["PVP","abc"],["HLCK","..."]]` -> `/PVP/abc/HLCK/...`. */
export function formatTags(tags: ReadonlyArray<readonly [string, string]>): string {
  return tags.map(([tag, value]) => `/${tag}/${value}`).join("");
}

/**
 * Reads the tag/value pairs of the lines that start with a PvP tag (other free text is skipped). No value
 * contains '/' (ids, hex, ISO date-times), so a line splits cleanly on '/'.
 */
export function parseTags(lines: readonly string[]): Map<string, string> {
  const tags = new Map<string, string>();
  for (const line of lines) {
    if (!line.startsWith("/PVP/") && !line.startsWith("/HLCK/") && !line.startsWith("/EXPY/") && !line.startsWith("/PRIM/")) continue;
    const parts = line.split("/");
    // The line is not echoed: it may hold a preimage.
    if (parts.length % 2 !== 1 || parts[0] !== "") throw new PvpProfileError("PVP_TAG_MALFORMED", "a PvP tag line is not a sequence of /TAG/value pairs");
    for (let index = 1; index < parts.length; index += 2) {
      const tag = parts[index]!;
      const value = parts[index + 1]!;
      if (!/^[A-Z]{3,4}$/.test(tag) || value === "" || tags.has(tag)) {
        throw new PvpProfileError("PVP_TAG_MALFORMED", `malformed or repeated PvP tag /${tag}/`);
      }
      tags.set(tag, value);
    }
  }
  return tags;
}

export function requireTag(tags: Map<string, string>, tag: string): string {
  const value = tags.get(tag);
  if (value === undefined) throw new PvpProfileError("PVP_TAG_MISSING", `PvP tag /${tag}/ is missing`);
  return value;
}
