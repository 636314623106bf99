import { describe, expect, it } from "vitest";
import {
  ed25519PrivateKey,
  ed25519PublicKey,
  generateEd25519,
  signRequest,
  SignatureError,
  verifyRequest,
  type VerifyOptions,
} from "../../src/identity/http-signature.ts";

const { seed, publicKey } = generateEd25519();
const privateKey = ed25519PrivateKey(seed);
const body = JSON.stringify({ amount: "150.00", currency: "KZT" });
const request = { method: "POST", url: "/pvp?dryRun=false", body };

function verifier(overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  const seen = new Set<string>();
  return {
    lookupKey: (keyId) => (keyId === "bank-a" ? ed25519PublicKey(publicKey) : undefined),
    rememberNonce: (keyId, nonce) => !seen.has(`${keyId}/${nonce}`) && !!seen.add(`${keyId}/${nonce}`),
    maxSkewSeconds: 300,
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SignatureError) return error.code;
    throw error;
  }
  return "accepted";
}

describe("HTTP message signatures (RFC 9421, Ed25519)", () => {
  it("accepts a request signed over its exact bytes and returns the key id", async () => {
    const headers = signRequest(request, { keyId: "bank-a", privateKey });
    expect(headers["signature-input"]).toMatch(/^sig1=\("@method" "@path" "@query" "content-digest"\);created=\d+;keyid="bank-a";nonce="[^"]+";alg="ed25519"$/);
    await expect(verifyRequest({ ...request, headers: { ...headers } }, verifier())).resolves.toBe("bank-a");
  });

  it("refuses a changed body, path, method or query", async () => {
    const headers = signRequest(request, { keyId: "bank-a", privateKey });
    expect(await failure(verifyRequest({ ...request, body: body.replace("150", "151"), headers }, verifier()))).toBe("DIGEST_MISMATCH");
    const sameDigest = { ...headers };
    expect(await failure(verifyRequest({ ...request, url: "/pvp/other?dryRun=false", headers: sameDigest }, verifier()))).toBe("SIGNATURE_INVALID");
    expect(await failure(verifyRequest({ ...request, method: "PUT", headers: sameDigest }, verifier()))).toBe("SIGNATURE_INVALID");
    expect(await failure(verifyRequest({ ...request, url: "/pvp?dryRun=true", headers: sameDigest }, verifier()))).toBe("SIGNATURE_INVALID");
  });

  it("refuses a replayed nonce, an unknown key, a stale clock and a foreign key", async () => {
    const headers = signRequest(request, { keyId: "bank-a", privateKey });
    const options = verifier();
    await verifyRequest({ ...request, headers }, options);
    expect(await failure(verifyRequest({ ...request, headers }, options))).toBe("SIGNATURE_REPLAYED");
    const unknown = signRequest(request, { keyId: "bank-z", privateKey });
    expect(await failure(verifyRequest({ ...request, headers: unknown }, verifier()))).toBe("UNKNOWN_KEY");
    const old = signRequest(request, { keyId: "bank-a", privateKey, created: Math.floor(Date.now() / 1000) - 301 });
    expect(await failure(verifyRequest({ ...request, headers: old }, verifier()))).toBe("SIGNATURE_EXPIRED");
    const impostor = signRequest(request, { keyId: "bank-a", privateKey: ed25519PrivateKey(generateEd25519().seed) });
    expect(await failure(verifyRequest({ ...request, headers: impostor }, verifier()))).toBe("SIGNATURE_INVALID");
  });

  it("refuses missing or malformed headers with their own codes", async () => {
    expect(await failure(verifyRequest({ ...request, headers: {} }, verifier()))).toBe("SIGNATURE_MISSING");
    const headers = signRequest(request, { keyId: "bank-a", privateKey });
    const malformed = { ...headers, "signature-input": headers["signature-input"].replace("sig1=", "other=") };
    expect(await failure(verifyRequest({ ...request, headers: malformed }, verifier()))).toBe("SIGNATURE_MALFORMED");
    const fewer = { ...headers, "signature-input": headers["signature-input"].replace(' "content-digest"', "") };
    expect(await failure(verifyRequest({ ...request, headers: fewer }, verifier()))).toBe("SIGNATURE_COMPONENTS");
    const rsa = { ...headers, "signature-input": headers["signature-input"].replace('alg="ed25519"', 'alg="rsa-pss-sha512"') };
    expect(await failure(verifyRequest({ ...request, headers: rsa }, verifier()))).toBe("SIGNATURE_ALGORITHM");
  });

  it("signs bodiless requests over the digest of the empty body", async () => {
    const get = { method: "GET", url: "/pvp/abc", body: undefined };
    const headers = signRequest(get, { keyId: "bank-a", privateKey });
    await expect(verifyRequest({ ...get, body: "", headers }, verifier())).resolves.toBe("bank-a");
  });
});
