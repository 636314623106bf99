import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { createSigner, httpbis } from "http-message-signatures";
import { describe, expect, it } from "vitest";
import {
  contentDigest,
  ed25519PrivateKey,
  ed25519PublicKey,
  generateEd25519,
  NONCE_RETENTION_MARGIN_SECONDS,
  signRequest,
  SignatureError,
  verifyRequest,
  verifySignatureHeaders,
  type SignedMessage,
  type VerifyOptions,
} from "../../src/identity/http-signature.ts";

const { seed, publicKey } = generateEd25519();
const privateKey = ed25519PrivateKey(seed);
const body = JSON.stringify({ amount: "150.00", currency: "KZT" });
const URL_SIGNED = "https://gw.example/pvp?dryRun=false";

/** The request as the server receives it, with the given headers. */
function received(headers: Record<string, string>, overrides: Partial<SignedMessage & { body: string }> = {}) {
  return { method: "POST", scheme: "https", authority: "gw.example", target: "/pvp?dryRun=false", body, headers, ...overrides };
}

function verifier(overrides: Partial<VerifyOptions> = {}, keys: Record<string, KeyObject> = { "bank-a": ed25519PublicKey(publicKey) }): VerifyOptions {
  const seen = new Set<string>();
  return {
    lookupKey: (keyId) => keys[keyId],
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

const signed = (options: Partial<Parameters<typeof signRequest>[1]> = {}) =>
  signRequest({ method: "POST", url: URL_SIGNED, body }, { keyId: "bank-a", privateKey, ...options });

describe("HTTP message signatures (RFC 9421, Ed25519)", () => {
  it("signs method, authority, path, query and Content-Digest, and the verifier returns the key id", async () => {
    const headers = signed();
    expect(headers["signature-input"]).toMatch(
      /^sig1=\("@method" "@authority" "@path" "@query" "content-digest"\);created=\d+;keyid="bank-a";nonce="[^"]+";alg="ed25519"$/,
    );
    await expect(verifyRequest(received(headers), verifier())).resolves.toBe("bank-a");
  });

  it("refuses a changed body, method, authority, path or query", async () => {
    const headers = signed();
    expect(await failure(verifyRequest(received(headers, { body: body.replace("150", "151") }), verifier()))).toBe("DIGEST_MISMATCH");
    expect(await failure(verifyRequest(received(headers, { method: "PUT" }), verifier()))).toBe("SIGNATURE_INVALID");
    expect(await failure(verifyRequest(received(headers, { authority: "other.example" }), verifier()))).toBe("SIGNATURE_INVALID");
    expect(await failure(verifyRequest(received(headers, { target: "/pvp/other?dryRun=false" }), verifier()))).toBe("SIGNATURE_INVALID");
    expect(await failure(verifyRequest(received(headers, { target: "/pvp?dryRun=true" }), verifier()))).toBe("SIGNATURE_INVALID");
  });

  it("refuses a request signed for another service when the verifier knows its own authority", async () => {
    const headers = signed();
    expect(await failure(verifyRequest(received(headers), verifier({ authorities: ["ledger.example"] })))).toBe("SIGNATURE_AUTHORITY");
    await expect(verifyRequest(received(headers), verifier({ authorities: ["gw.example"] }))).resolves.toBe("bank-a");
    // A default port is not part of the authority (RFC 9421 §2.2.3).
    await expect(verifyRequest(received(headers, { authority: "GW.example:443" }), verifier({ authorities: ["gw.example"] }))).resolves.toBe("bank-a");
  });

  it("refuses a replayed nonce, an unknown key, a stale clock and a foreign key", async () => {
    const headers = signed();
    const options = verifier();
    await verifyRequest(received(headers), options);
    expect(await failure(verifyRequest(received(headers), options))).toBe("SIGNATURE_REPLAYED");
    expect(await failure(verifyRequest(received(signed({ keyId: "bank-z" })), verifier()))).toBe("UNKNOWN_KEY");
    expect(await failure(verifyRequest(received(signed({ created: Math.floor(Date.now() / 1000) - 301 })), verifier()))).toBe("SIGNATURE_EXPIRED");
    const impostor = signed({ privateKey: ed25519PrivateKey(generateEd25519().seed) });
    expect(await failure(verifyRequest(received(impostor), verifier()))).toBe("SIGNATURE_INVALID");
  });

  it("honours expires, and keeps the nonce past the last acceptable second", async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = signed({ created: now - 20, expires: now - 10 });
    expect(await failure(verifyRequest(received(expired), verifier()))).toBe("SIGNATURE_EXPIRED");
    let keptUntil: Date | undefined;
    await verifyRequest(received(signed({ created: now, expires: now + 30 })), verifier({ rememberNonce: (_key, _nonce, until) => !!(keptUntil = until) }));
    expect(keptUntil!.getTime()).toBe((now + 30 + NONCE_RETENTION_MARGIN_SECONDS) * 1000);
    // Without expires the signature is acceptable until created + skew; acceptance is not floored to the
    // second, so the nonce outlives every moment a replay could still pass.
    await verifyRequest(received(signed({ created: now })), verifier({ rememberNonce: (_key, _nonce, until) => !!(keptUntil = until) }));
    expect(keptUntil!.getTime()).toBe((now + 300 + NONCE_RETENTION_MARGIN_SECONDS) * 1000);
    const lateButInside = verifier({ now: () => now + 300.5 });
    expect(await failure(verifyRequest(received(signed({ created: now })), lateButInside))).toBe("SIGNATURE_EXPIRED");
  });

  it("accepts any label, parameters in any order, no alg, more components and several digest algorithms", async () => {
    const headers = signed();
    const relabelled = {
      ...headers,
      "signature-input": headers["signature-input"].replace("sig1=", "gateway="),
      signature: headers.signature.replace("sig1=", "gateway="),
    };
    await expect(verifyRequest(received(relabelled), verifier())).resolves.toBe("bank-a");
    // The library orders its parameters keyid, alg, created, expires; Content-Digest is signed as given.
    const both = `${contentDigest(body, "sha-512")}, ${contentDigest(body)}`;
    const wrong512 = `sha-512=:${Buffer.alloc(64).toString("base64")}:, ${contentDigest(body)}`;
    const withBoth = await libraryRequest({ "content-digest": both });
    await expect(verifyRequest(withBoth, verifier())).resolves.toBe("bank-a");
    const withWrong = await libraryRequest({ "content-digest": wrong512 });
    expect(await failure(verifyRequest(withWrong, verifier()))).toBe("DIGEST_MISMATCH");
    const onlyMd5 = await libraryRequest({ "content-digest": "md5=:AAAAAAAAAAAAAAAAAAAAAA==:" });
    expect(await failure(verifyRequest(onlyMd5, verifier()))).toBe("DIGEST_UNSUPPORTED");
  });

  it("verifies the signature made with a key it knows when a proxy added another one", async () => {
    const ours = signed();
    const proxyKey = ed25519PrivateKey(generateEd25519().seed);
    const proxy = signRequest({ method: "POST", url: URL_SIGNED, body }, { keyId: "proxy-1", privateKey: proxyKey });
    const headers = {
      "content-digest": ours["content-digest"],
      "signature-input": `${proxy["signature-input"].replace("sig1=", "proxy=")}, ${ours["signature-input"]}`,
      signature: `${proxy.signature.replace("sig1=", "proxy=")}, ${ours.signature}`,
    };
    await expect(verifyRequest(received(headers), verifier())).resolves.toBe("bank-a");
  });

  it("refuses missing or malformed headers, too few components and another algorithm with their own codes", async () => {
    expect(await failure(verifyRequest(received({}), verifier()))).toBe("SIGNATURE_MISSING");
    const headers = signed();
    expect(await failure(verifyRequest(received({ ...headers, "signature-input": "sig1=(((" }), verifier()))).toBe("SIGNATURE_MALFORMED");
    const otherLabel = { ...headers, signature: headers.signature.replace("sig1=", "other=") };
    expect(await failure(verifyRequest(received(otherLabel), verifier()))).toBe("SIGNATURE_MALFORMED");
    const fewer = { ...headers, "signature-input": headers["signature-input"].replace(' "@authority"', "") };
    expect(await failure(verifyRequest(received(fewer), verifier()))).toBe("SIGNATURE_COMPONENTS");
    const rsa = { ...headers, "signature-input": headers["signature-input"].replace('alg="ed25519"', 'alg="rsa-pss-sha512"') };
    expect(await failure(verifyRequest(received(rsa), verifier()))).toBe("SIGNATURE_ALGORITHM");
  });

  it("signs bodiless requests over the digest of the empty body", async () => {
    const headers = signRequest({ method: "GET", url: "http://127.0.0.1:8080/pvp/abc", body: undefined }, { keyId: "bank-a", privateKey });
    const get = { method: "GET", scheme: "http", authority: "127.0.0.1:8080", target: "/pvp/abc", body: "", headers };
    await expect(verifyRequest(get, verifier())).resolves.toBe("bank-a");
  });
});

// RFC 9421 Appendix B.1.4 (test-key-ed25519) and B.2.6: the request of Appendix B.2 signed with Ed25519.
const RFC_KEY_PRIVATE = "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF";
const RFC_KEY_PUBLIC = "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=";
const RFC_B2_REQUEST = {
  method: "POST",
  scheme: "https",
  authority: "example.com",
  target: "/foo?param=Value&Pet=dog",
  body: '{"hello": "world"}',
  headers: {
    host: "example.com",
    date: "Tue, 20 Apr 2021 02:07:55 GMT",
    "content-type": "application/json",
    "content-digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
    "content-length": "18",
    "signature-input": 'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
    signature: "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
  },
};
const rfcPublicKey = createPublicKey({ key: Buffer.from(RFC_KEY_PUBLIC, "base64"), format: "der", type: "spki" });

describe("interoperability", () => {
  it("verifies RFC 9421 Appendix B.2.6 (Ed25519), and refuses it once altered", async () => {
    // The key pair of Appendix B.1.4 belongs together.
    const privateRfcKey = createPrivateKey({ key: Buffer.from(RFC_KEY_PRIVATE, "base64"), format: "der", type: "pkcs8" });
    expect(createPublicKey(privateRfcKey).export({ format: "der", type: "spki" }).toString("base64")).toBe(RFC_KEY_PUBLIC);
    const options = verifier({ now: () => 1618884473, requiredComponents: ["@method", "@path", "@authority"] }, { "test-key-ed25519": rfcPublicKey });
    await expect(verifyRequest(RFC_B2_REQUEST, options)).resolves.toBe("test-key-ed25519");
    const altered = { ...RFC_B2_REQUEST, headers: { ...RFC_B2_REQUEST.headers, date: "Tue, 20 Apr 2021 02:07:56 GMT" } };
    expect(await failure(verifyRequest(altered, verifier({ now: () => 1618884473, requiredComponents: [] }, { "test-key-ed25519": rfcPublicKey })))).toBe("SIGNATURE_INVALID");
    // Our services require more than this example covers: no @query and no content-digest.
    expect(await failure(verifySignatureHeaders(RFC_B2_REQUEST, verifier({ now: () => 1618884473 }, { "test-key-ed25519": rfcPublicKey })))).toBe("SIGNATURE_COMPONENTS");
  });

  it("accepts a request signed by the npm library http-message-signatures with its defaults, and refuses its replay", async () => {
    const request = await libraryRequest();
    // Defaults: label "sig", parameters keyid, alg, created, expires (no nonce); the replay key is then the signature.
    expect(request.headers["signature-input"]).toMatch(/^sig=\(.*\);keyid="bank-a";alg="ed25519";created=\d+;expires=\d+$/);
    const options = verifier();
    await expect(verifyRequest(request, options)).resolves.toBe("bank-a");
    expect(await failure(verifyRequest(request, options))).toBe("SIGNATURE_REPLAYED");
  });

  it("accepts the library's signature with a nonce and content-type covered, and refuses a tampered copy", async () => {
    const request = await libraryRequest({}, { nonce: "n-0123456789" });
    await expect(verifyRequest(request, verifier())).resolves.toBe("bank-a");
    expect(await failure(verifyRequest({ ...request, headers: { ...request.headers, "content-type": "text/plain" } }, verifier()))).toBe("SIGNATURE_INVALID");
  });
});

/** A request as http-message-signatures signs it (the RFC test key is not involved: our bank-a key). */
async function libraryRequest(extraHeaders: Record<string, string> = {}, paramValues: Record<string, string> = {}) {
  const pkcs8 = createPrivateKey(privateKey.export({ format: "pem", type: "pkcs8" }));
  const headers: Record<string, string> = { "content-type": "application/json", "content-digest": contentDigest(body), ...extraHeaders };
  const signedMessage = await httpbis.signMessage(
    {
      key: createSigner(pkcs8, "ed25519", "bank-a"),
      fields: ["@method", "@authority", "@path", "@query", "content-digest", "content-type"],
      ...(paramValues.nonce ? { params: ["keyid", "alg", "created", "expires", "nonce"], paramValues } : {}),
    },
    { method: "POST", url: URL_SIGNED, headers },
  );
  // The library names its headers Signature and Signature-Input; a server sees them in lower case.
  return received(Object.fromEntries(Object.entries(signedMessage.headers).map(([name, value]) => [name.toLowerCase(), String(value)])));
}
