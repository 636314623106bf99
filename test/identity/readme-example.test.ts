import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ed25519PublicKey, verifyRequest, type SignatureError } from "../../src/identity/http-signature.ts";

/** The signed request README.md shows, read from the README itself, so the example cannot drift. */
function readmeExample() {
  const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
  const block = /```http\n([\s\S]*?)\n```/.exec(readme)?.[1];
  const publicKey = /public key\s*`([0-9a-f]{64})`/.exec(readme)?.[1];
  if (!block || !publicKey) throw new Error("README.md has no signed request example with its public key");
  const [head, body] = block.split("\n\n") as [string, string];
  const [requestLine, ...lines] = head.split("\n");
  const [method, target] = requestLine!.split(" ") as [string, string];
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
  return { method, target, body, headers, publicKey };
}

describe("README: the documented signature example", () => {
  const example = readmeExample();
  const created = Number(/created=(\d+)/.exec(example.headers["signature-input"]!)![1]);
  const options = (keyId: string) => ({
    lookupKey: (id: string) => (id === keyId ? ed25519PublicKey(Buffer.from(example.publicKey, "hex")) : undefined),
    rememberNonce: () => true,
    maxSkewSeconds: 300,
    now: () => created,
  });
  const request = { method: example.method, scheme: "https", authority: example.headers["host"]!, target: example.target, body: example.body, headers: example.headers };

  it("verifies with the documented public key and covers what the gateway requires", async () => {
    await expect(verifyRequest(request, options("kase-signing-1"))).resolves.toBe("kase-signing-1");
  });

  it("stops verifying when its body or host changes", async () => {
    const code = async (changed: typeof request) => verifyRequest(changed, options("kase-signing-1")).catch((error: SignatureError) => error.code);
    expect(await code({ ...request, body: example.body.replace("2500", "9500") })).toBe("DIGEST_MISMATCH");
    expect(await code({ ...request, authority: "other.example" })).toBe("SIGNATURE_INVALID");
  });
});
