import { createHash } from "node:crypto";
import { parseDictionary } from "structured-headers";

/** The Content-Digest algorithms (RFC 9530) this service computes and checks; others are ignored. */
const ALGORITHMS = { "sha-256": "sha256", "sha-512": "sha512" } as const;
export type DigestAlgorithm = keyof typeof ALGORITHMS;

export function contentDigest(body: Uint8Array | string | undefined, algorithm: DigestAlgorithm = "sha-256"): string {
  const digest = createHash(ALGORITHMS[algorithm])
    .update(body ?? "")
    .digest("base64");
  return `${algorithm}=:${digest}:`;
}

export type DigestCheck = "match" | "missing" | "malformed" | "unsupported" | "mismatch";

/**
 * Checks a Content-Digest header against the exact body bytes. A header may carry several algorithms
 * (`sha-256=:…:, sha-512=:…:`): at least one must be one we support, and every supported one must match;
 * unknown algorithms are ignored, as RFC 9530 asks.
 */
export function checkContentDigest(header: string | undefined, body: Uint8Array | string | undefined): DigestCheck {
  if (header === undefined) return "missing";
  let members;
  try {
    members = parseDictionary(header);
  } catch {
    return "malformed";
  }
  let checked = 0;
  for (const [name, member] of members) {
    if (!(name in ALGORITHMS)) continue;
    const value = member[0];
    if (!(value instanceof ArrayBuffer)) return "malformed";
    const expected = createHash(ALGORITHMS[name as DigestAlgorithm])
      .update(body ?? "")
      .digest();
    if (!expected.equals(Buffer.from(value))) return "mismatch";
    checked++;
  }
  return checked > 0 ? "match" : "unsupported";
}
