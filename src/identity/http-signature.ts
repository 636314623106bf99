import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from "node:crypto";
import { parseDictionary, serializeInnerList, type BareItem, type Dictionary, type InnerList } from "structured-headers";
import { CodedError } from "../core/errors.ts";
import { checkContentDigest, contentDigest } from "./content-digest.ts";
import { ComponentError, normalizeAuthority, signatureBase, type RequestHeaders, type SignedMessage } from "./signature-base.ts";

export { checkContentDigest, contentDigest } from "./content-digest.ts";
export { normalizeAuthority, type RequestHeaders, type SignedMessage } from "./signature-base.ts";

/**
 * HTTP Message Signatures (RFC 9421) with Ed25519, as every tenge-gateway service speaks them. A request
 * is accepted under any label, with its parameters in any order, when one of its signatures names a key id
 * we know, covers at least REQUIRED_COMPONENTS (more are fine), has a fresh `created`, has not passed its
 * `expires`, says `alg="ed25519"` or nothing, and verifies; the Content-Digest (RFC 9530, sha-256 and/or
 * sha-512) must match the exact body bytes. Banks, correspondents, peer gateways and DT ledger
 * participants all sign this way.
 */
export const REQUIRED_COMPONENTS = ["@method", "@authority", "@path", "@query", "content-digest"] as const;
/** What our own signers cover: the required components, nothing the receiver might not see. */
export const COVERED_COMPONENTS = REQUIRED_COMPONENTS;
const LABEL = "sig1";
/** More signatures than this on one request are refused unread (each may cost a key lookup). */
const MAX_SIGNATURES = 8;
/** A nonce is remembered this long after the last moment its signature could be accepted. */
export const NONCE_RETENTION_MARGIN_SECONDS = 60;

export interface SignableRequest {
  method: string;
  /** The absolute URL the request goes to; its host is the signed `@authority`. */
  url: string | URL;
  body: Uint8Array | string | undefined;
}

export type SignatureHeaders = {
  "content-digest": string;
  "signature-input": string;
  signature: string;
};

export interface SignOptions {
  keyId: string;
  privateKey: KeyObject;
  /** Unix seconds; defaults to now. */
  created?: number;
  /** Unix seconds after which the signature must not be accepted; omitted by default. */
  expires?: number;
  nonce?: string;
}

/** Why a signed request was refused; `code` is stable and safe to return to the caller. */
export type SignatureFailure =
  | "SIGNATURE_MISSING"
  | "SIGNATURE_MALFORMED"
  | "SIGNATURE_COMPONENTS"
  | "SIGNATURE_ALGORITHM"
  | "SIGNATURE_EXPIRED"
  | "SIGNATURE_AUTHORITY"
  | "DIGEST_MISMATCH"
  | "DIGEST_UNSUPPORTED"
  | "UNKNOWN_KEY"
  | "SIGNATURE_INVALID"
  | "SIGNATURE_REPLAYED";

export class SignatureError extends CodedError<SignatureFailure> {}

/** Headers to add to a request so that a tenge-gateway service accepts it. */
export function signRequest(request: SignableRequest, options: SignOptions): SignatureHeaders {
  if (!/^[\w.:-]{1,128}$/.test(options.keyId)) throw new Error("keyId must be 1-128 characters of [A-Za-z0-9_.:-]");
  const url = new URL(request.url);
  const params = new Map<string, BareItem>([["created", options.created ?? Math.floor(Date.now() / 1000)]]);
  if (options.expires !== undefined) params.set("expires", options.expires);
  params.set("keyid", options.keyId);
  params.set("nonce", options.nonce ?? randomBytes(16).toString("base64url"));
  params.set("alg", "ed25519");
  const input: InnerList = [COVERED_COMPONENTS.map((component) => [component, new Map()]), params];
  const digest = contentDigest(request.body);
  const message: SignedMessage = {
    method: request.method,
    scheme: url.protocol.replace(/:$/, ""),
    authority: url.host,
    target: `${url.pathname}${url.search}`,
    headers: { "content-digest": digest },
  };
  const signature = sign(null, Buffer.from(signatureBase(input, message)), options.privateKey);
  return {
    "content-digest": digest,
    "signature-input": `${LABEL}=${serializeInnerList(input)}`,
    signature: `${LABEL}=:${signature.toString("base64")}:`,
  };
}

export interface VerifyOptions {
  /** Finds the Ed25519 public key of a key id; undefined when unknown or revoked. */
  lookupKey(keyId: string): Promise<KeyObject | undefined> | KeyObject | undefined;
  /** Records the nonce until `keepUntil`; returns false when the key id already used it (a replay). */
  rememberNonce(keyId: string, nonce: string, keepUntil: Date): Promise<boolean> | boolean;
  /** Largest distance between `created` and the server clock. */
  maxSkewSeconds: number;
  /** Unix seconds, fractions allowed; defaults to the system clock. */
  now?: () => number;
  /** Components every accepted signature must cover; defaults to REQUIRED_COMPONENTS. */
  requiredComponents?: readonly string[];
  /** The authorities (host[:port]) this service answers to; a request signed for another is refused. */
  authorities?: readonly string[];
}

/** A signature that verified over the request's headers; the body is checked by `verifyBody`. */
export interface AcceptedSignature {
  keyId: string;
  label: string;
  coversDigest: boolean;
  /** The nonce, or for a signature without one, a hash of the signature itself. */
  replayKey: string;
  keepUntil: Date;
}

function header(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

function parse(text: string, name: string): Dictionary {
  try {
    return parseDictionary(text);
  } catch {
    throw new SignatureError("SIGNATURE_MALFORMED", `${name} is not a structured-field dictionary (RFC 8941)`);
  }
}

/**
 * First half of verification, before the body is read: picks the signature made with a key we know,
 * checks its parameters and covered components, and verifies it over the request line and headers
 * (the covered Content-Digest is a header). Throws SignatureError with a stable code.
 */
export async function verifySignatureHeaders(message: SignedMessage, options: Omit<VerifyOptions, "rememberNonce">): Promise<AcceptedSignature> {
  const inputHeader = header(message.headers, "signature-input");
  const signatureHeader = header(message.headers, "signature");
  if (!inputHeader || !signatureHeader) throw new SignatureError("SIGNATURE_MISSING", "Signature and Signature-Input headers are required");
  const inputs = parse(inputHeader, "Signature-Input");
  const signatures = parse(signatureHeader, "Signature");
  if (inputs.size > MAX_SIGNATURES) throw new SignatureError("SIGNATURE_MALFORMED", `at most ${MAX_SIGNATURES} signatures per request`);
  let namedKey = false;
  for (const [label, member] of inputs) {
    const keyId = member[1].get("keyid");
    if (!Array.isArray(member[0]) || typeof keyId !== "string") continue;
    namedKey = true;
    const key = await options.lookupKey(keyId);
    if (key) return checkSignature(label, member as InnerList, keyId, key, signatures, message, options);
  }
  if (namedKey) throw new SignatureError("UNKNOWN_KEY", "no signature on this request is made with a known, unrevoked key");
  throw new SignatureError("SIGNATURE_MALFORMED", "Signature-Input has no signature with a keyid parameter");
}

function checkSignature(
  label: string,
  input: InnerList,
  keyId: string,
  key: KeyObject,
  signatures: Dictionary,
  message: SignedMessage,
  options: Omit<VerifyOptions, "rememberNonce">,
): AcceptedSignature {
  const signature = signatures.get(label)?.[0];
  if (!(signature instanceof ArrayBuffer)) throw new SignatureError("SIGNATURE_MALFORMED", `Signature has no byte sequence labelled ${label}`);
  const [components, params] = input;
  const alg = params.get("alg");
  if ((alg !== undefined && alg !== "ed25519") || key.asymmetricKeyType !== "ed25519") {
    throw new SignatureError("SIGNATURE_ALGORITHM", `alg must be ed25519 (or absent), got ${String(alg)}`);
  }
  const created = params.get("created");
  const expires = params.get("expires");
  const nonce = params.get("nonce");
  if (!Number.isInteger(created)) throw new SignatureError("SIGNATURE_MALFORMED", "the created parameter (integer unix seconds) is required");
  if (expires !== undefined && !Number.isInteger(expires)) throw new SignatureError("SIGNATURE_MALFORMED", "expires must be integer unix seconds");
  if (nonce !== undefined && (typeof nonce !== "string" || nonce.length === 0 || nonce.length > 256)) {
    throw new SignatureError("SIGNATURE_MALFORMED", "nonce must be a string of 1-256 characters");
  }
  const identifiers = components.map((component) => component[1].size === 0 ? component[0] : JSON.stringify(component));
  if (new Set(identifiers).size !== identifiers.length) throw new SignatureError("SIGNATURE_MALFORMED", "a component is covered twice");
  const required = options.requiredComponents ?? REQUIRED_COMPONENTS;
  const missing = required.filter((name) => !identifiers.includes(name));
  if (missing.length > 0) throw new SignatureError("SIGNATURE_COMPONENTS", `the signature must cover ${required.join(" ")}; missing ${missing.join(" ")}`);
  const now = options.now?.() ?? Date.now() / 1000;
  if (Math.abs(now - (created as number)) > options.maxSkewSeconds) {
    throw new SignatureError("SIGNATURE_EXPIRED", `created is more than ${options.maxSkewSeconds}s away from the server's clock`);
  }
  if (expires !== undefined && now > (expires as number)) throw new SignatureError("SIGNATURE_EXPIRED", "the signature's expires time has passed");
  if (options.authorities && !options.authorities.includes(normalizeAuthority(message.authority, message.scheme))) {
    throw new SignatureError("SIGNATURE_AUTHORITY", "the request was signed for another authority than this service");
  }
  let base: string;
  try {
    base = signatureBase(input, message);
  } catch (error) {
    if (error instanceof ComponentError) throw new SignatureError("SIGNATURE_COMPONENTS", error.message);
    throw error;
  }
  const bytes = Buffer.from(signature);
  if (!verify(null, Buffer.from(base), key, bytes)) throw new SignatureError("SIGNATURE_INVALID", "the signature does not verify with the registered key");
  // The last second this signature is acceptable, plus a margin, so pruning never reopens a replay.
  const lastAccepted = Math.min((created as number) + options.maxSkewSeconds, (expires as number | undefined) ?? Infinity);
  return {
    keyId,
    label,
    coversDigest: identifiers.includes("content-digest"),
    replayKey: typeof nonce === "string" ? nonce : `sig:${createHash("sha256").update(bytes).digest("base64url")}`,
    keepUntil: new Date((Math.ceil(lastAccepted) + NONCE_RETENTION_MARGIN_SECONDS) * 1000),
  };
}

/**
 * Second half, once the body is read (within the body limit): the Content-Digest must match the exact
 * bytes, then the nonce is spent. Returns the key id.
 */
export async function verifySignedBody(
  accepted: AcceptedSignature,
  request: { headers: RequestHeaders; body: Uint8Array | string | undefined },
  options: Pick<VerifyOptions, "rememberNonce">,
): Promise<string> {
  const digestHeader = header(request.headers, "content-digest");
  if (accepted.coversDigest || digestHeader !== undefined) {
    const check = checkContentDigest(digestHeader, request.body);
    if (check === "unsupported") throw new SignatureError("DIGEST_UNSUPPORTED", "Content-Digest needs sha-256 or sha-512");
    if (check === "malformed") throw new SignatureError("SIGNATURE_MALFORMED", "Content-Digest is not a dictionary of byte sequences");
    if (check !== "match") throw new SignatureError("DIGEST_MISMATCH", "Content-Digest does not match the body (the exact bytes)");
  }
  if (!(await options.rememberNonce(accepted.keyId, accepted.replayKey, accepted.keepUntil))) {
    throw new SignatureError("SIGNATURE_REPLAYED", "this nonce (or signature) was already used with this key");
  }
  return accepted.keyId;
}

/** Both halves at once, for a request whose body is already in hand. Returns the key id that signed it. */
export async function verifyRequest(
  request: SignedMessage & { body: Uint8Array | string | undefined },
  options: VerifyOptions,
): Promise<string> {
  return verifySignedBody(await verifySignatureHeaders(request, options), request, options);
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
