import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from "node:crypto";

/**
 * HTTP Message Signatures (RFC 9421) with Ed25519, the subset every tenge-gateway service speaks: the
 * signature covers the method, path, query and the `Content-Digest` (RFC 9530, SHA-256) of the exact body
 * bytes, with `created`, `keyid`, `nonce` and `alg="ed25519"` parameters. Banks, correspondent central
 * banks, peer gateways and DT ledger participants all sign this way.
 */
export const COVERED_COMPONENTS = ["@method", "@path", "@query", "content-digest"] as const;
const LABEL = "sig1";

export interface SignableRequest {
  method: string;
  /** Path and query exactly as sent, e.g. `/pvp?state=SETTLED`. */
  url: string;
  body: Uint8Array | string | undefined;
}

export interface SignatureHeaders {
  "content-digest": string;
  "signature-input": string;
  signature: string;
}

export interface SignOptions {
  keyId: string;
  privateKey: KeyObject;
  /** Unix seconds; defaults to now. */
  created?: number;
  nonce?: string;
}

/** Why a signed request was refused; `code` is stable and safe to return to the caller. */
export type SignatureFailure =
  | "SIGNATURE_MISSING"
  | "SIGNATURE_MALFORMED"
  | "SIGNATURE_COMPONENTS"
  | "SIGNATURE_ALGORITHM"
  | "SIGNATURE_EXPIRED"
  | "DIGEST_MISMATCH"
  | "UNKNOWN_KEY"
  | "SIGNATURE_INVALID"
  | "SIGNATURE_REPLAYED";

export class SignatureError extends Error {
  override name = "SignatureError";
  readonly code: SignatureFailure;
  constructor(code: SignatureFailure, message: string) {
    super(message);
    this.code = code;
  }
}

export function contentDigest(body: Uint8Array | string | undefined): string {
  const digest = createHash("sha256")
    .update(body ?? "")
    .digest("base64");
  return `sha-256=:${digest}:`;
}

function splitUrl(url: string): { path: string; query: string } {
  const index = url.indexOf("?");
  return index < 0 ? { path: url, query: "?" } : { path: url.slice(0, index), query: url.slice(index) };
}

interface SignatureParams {
  created: number;
  keyId: string;
  nonce: string;
}

function serializeParams(params: SignatureParams): string {
  const components = COVERED_COMPONENTS.map((component) => `"${component}"`).join(" ");
  return `(${components});created=${params.created};keyid="${params.keyId}";nonce="${params.nonce}";alg="ed25519"`;
}

function signatureBase(request: SignableRequest, digest: string, serializedParams: string): string {
  const { path, query } = splitUrl(request.url);
  return [
    `"@method": ${request.method.toUpperCase()}`,
    `"@path": ${path}`,
    `"@query": ${query}`,
    `"content-digest": ${digest}`,
    `"@signature-params": ${serializedParams}`,
  ].join("\n");
}

/** Headers to add to a request so that a tenge-gateway service accepts it. */
export function signRequest(request: SignableRequest, options: SignOptions): SignatureHeaders {
  if (!/^[\w.:-]{1,128}$/.test(options.keyId)) throw new Error("keyId must be 1-128 characters of [A-Za-z0-9_.:-]");
  const params: SignatureParams = {
    created: options.created ?? Math.floor(Date.now() / 1000),
    keyId: options.keyId,
    nonce: options.nonce ?? randomBytes(16).toString("base64url"),
  };
  const digest = contentDigest(request.body);
  const serialized = serializeParams(params);
  const signature = sign(null, Buffer.from(signatureBase(request, digest, serialized)), options.privateKey);
  return {
    "content-digest": digest,
    "signature-input": `${LABEL}=${serialized}`,
    signature: `${LABEL}=:${signature.toString("base64")}:`,
  };
}

export interface VerifyOptions {
  /** Finds the public key of a key id; undefined when unknown or revoked. */
  lookupKey(keyId: string): Promise<KeyObject | undefined> | KeyObject | undefined;
  /** Records the nonce; returns false when the key id already used it (a replay). */
  rememberNonce(keyId: string, nonce: string, expiresAt: Date): Promise<boolean> | boolean;
  maxSkewSeconds: number;
  now?: () => number;
}

type HeaderValue = string | string[] | undefined;

/** Request headers, lower-case names (Node's IncomingHttpHeaders or a plain object). */
export type RequestHeaders = { [name: string]: HeaderValue } | SignatureHeaders;

function header(headers: RequestHeaders, name: string): string | undefined {
  const value = (headers as Record<string, HeaderValue>)[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

const INPUT_PATTERN =
  /^sig1=\(((?:"[@a-z-]+"\s?)+)\);created=(\d{1,12});keyid="([\w.:-]{1,128})";nonce="([\w+/=-]{8,128})";alg="([\w-]+)"$/;

/**
 * Checks a signed request against the exact body bytes and returns the key id that signed it.
 * Throws SignatureError with a stable code; never includes secrets in the message.
 */
export async function verifyRequest(
  request: SignableRequest & { headers: RequestHeaders },
  options: VerifyOptions,
): Promise<string> {
  const input = header(request.headers, "signature-input");
  const signatureHeader = header(request.headers, "signature");
  if (!input || !signatureHeader) throw new SignatureError("SIGNATURE_MISSING", "Signature and Signature-Input headers are required");
  const match = INPUT_PATTERN.exec(input.trim());
  if (!match) throw new SignatureError("SIGNATURE_MALFORMED", "Signature-Input is not of the form this service accepts (label sig1)");
  const [, componentList, createdText, keyId, nonce, algorithm] = match as unknown as [string, string, string, string, string, string];
  const components = componentList.trim().split(/\s+/).map((item) => item.slice(1, -1));
  if (components.join(" ") !== COVERED_COMPONENTS.join(" ")) {
    throw new SignatureError("SIGNATURE_COMPONENTS", `the signature must cover ${COVERED_COMPONENTS.join(" ")}`);
  }
  if (algorithm !== "ed25519") throw new SignatureError("SIGNATURE_ALGORITHM", `alg must be ed25519, got ${algorithm}`);
  const now = options.now?.() ?? Math.floor(Date.now() / 1000);
  const created = Number(createdText);
  if (Math.abs(now - created) > options.maxSkewSeconds) {
    throw new SignatureError("SIGNATURE_EXPIRED", `created is more than ${options.maxSkewSeconds}s away from the server's clock`);
  }
  const signatureMatch = /^sig1=:([A-Za-z0-9+/]+={0,2}):$/.exec(signatureHeader.trim());
  if (!signatureMatch) throw new SignatureError("SIGNATURE_MALFORMED", "Signature must be sig1=:<base64>:");
  const digest = contentDigest(request.body);
  if (header(request.headers, "content-digest") !== digest) {
    throw new SignatureError("DIGEST_MISMATCH", "Content-Digest does not match the body (sha-256 of the exact bytes)");
  }
  const publicKey = await options.lookupKey(keyId);
  if (!publicKey) throw new SignatureError("UNKNOWN_KEY", `key ${keyId} is unknown or revoked`);
  const base = signatureBase(request, digest, serializeParams({ created, keyId, nonce }));
  const valid = verify(null, Buffer.from(base), publicKey, Buffer.from(signatureMatch[1]!, "base64"));
  if (!valid) throw new SignatureError("SIGNATURE_INVALID", "the signature does not verify with the registered key");
  const expiresAt = new Date((created + options.maxSkewSeconds) * 1000);
  if (!(await options.rememberNonce(keyId, nonce, expiresAt))) {
    throw new SignatureError("SIGNATURE_REPLAYED", "this nonce was already used with this key");
  }
  return keyId;
}

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** An Ed25519 private key from its 32-byte seed. */
export function ed25519PrivateKey(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new Error("an Ed25519 seed is 32 bytes");
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
}

/** An Ed25519 public key from its 32 raw bytes. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: "der", type: "spki" });
}

/** The raw 32-byte public key of a private key. */
export function ed25519RawPublicKey(key: KeyObject): Uint8Array {
  const der = createPublicKey(key).export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** A new key pair: the seed (keep secret) and the raw public key (register it). */
export function generateEd25519(): { seed: Uint8Array; publicKey: Uint8Array } {
  const seed = new Uint8Array(randomBytes(32));
  return { seed, publicKey: ed25519RawPublicKey(ed25519PrivateKey(seed)) };
}
