// A correspondent's first PvP with the embedded NBK gateway, as docs/iso20022-pvp-profile.md ("First PvP in 15
// minutes") walks through it: plays the demo correspondent DEMOGB2L (section `correspondent` of
// demo-credentials.json). Listens on its base URL for the NBK's messages, checks their signatures against the
// keys the NBK publishes, instructs the NBK to lock 1,000.00 KZT on the DT ledger (pacs.009), waits for the
// ACSP, reveals the preimage (pacs.002 ACSC) and waits for the NBK's ACSC: the KZT is then on DEMOGB2L's
// settlement account. Your own leg (what you pay the NBK on your ledger) is yours to lock first.
//   node examples/first-pvp.ts [DATA_DIR] [BASE_URL]   (BASE_URL: where you pointed DEMOGB2L, default its baseUrl)
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { buildMessage, parseMessage } from "../src/iso20022/message.ts";
import { buildPvpInstruction, buildPvpStatus, readPvpStatus } from "../src/iso20022/pvp/messages.ts";
import { ed25519PrivateKey, ed25519PublicKey, signRequest, verifyRequest } from "../src/identity/http-signature.ts";

const dataDir = process.argv[2] ?? "./.data";
const { correspondent: me } = JSON.parse(readFileSync(join(dataDir, "demo-credentials.json"), "utf8"));
const nbk = me.nbk;
const base = new URL(process.argv[3] ?? me.baseUrl);

// 1. Pin the keys the NBK signs with (GET /iso20022/keys): next, active and retiring ones verify.
const keySet = await (await fetch(nbk.keysUrl)).json();
const pinned = new Map<string, string>(keySet.keys.filter((key: { status: string }) => key.status !== "retired").map((key: { keyId: string; publicKey: string }) => [key.keyId, key.publicKey]));

const at = (date: Date) => `${date.toISOString().slice(0, 19)}+00:00`;
const pvpId = randomBytes(16).toString("hex");
const preimage = randomBytes(32).toString("hex");
const hashLock = createHash("sha256").update(Buffer.from(preimage, "hex")).digest("hex");
const now = new Date();
const original = { messageId: `${pvpId}-IN`, createdAt: at(now), instructionId: `${pvpId}-IN`, endToEndId: pvpId, uetr: randomUUID() };

async function post(xml: string): Promise<void> {
  const headers = signRequest({ method: "POST", url: nbk.inboundUrl, body: xml }, { keyId: me.keyId, privateKey: ed25519PrivateKey(Buffer.from(me.signingSeed, "hex")) });
  const response = await fetch(nbk.inboundUrl, { method: "POST", headers: { ...headers, "content-type": "application/xml" }, body: xml });
  console.log("->", response.status, await response.text());
}

// 2. Listen where the NBK posts to us (<baseUrl>/iso20022/inbound); every message must verify.
const seen = new Set<string>();
const reports: Array<(status: ReturnType<typeof readPvpStatus>) => void> = [];
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", async () => {
    const body = Buffer.concat(chunks);
    try {
      await verifyRequest(
        { method: request.method ?? "POST", scheme: base.protocol.replace(":", ""), authority: request.headers.host ?? base.host, target: request.url ?? "/", headers: request.headers as Record<string, string>, body },
        {
          lookupKey: (keyId) => (pinned.has(keyId) ? ed25519PublicKey(Buffer.from(pinned.get(keyId)!, "hex")) : undefined),
          rememberNonce: (keyId, nonce) => !seen.has(`${keyId}:${nonce}`) && Boolean(seen.add(`${keyId}:${nonce}`)),
          maxSkewSeconds: 300,
        },
      );
    } catch (error) {
      console.log("<- refused, bad signature:", (error as Error).message);
      response.writeHead(401).end();
      return;
    }
    response.writeHead(202, { "content-type": "application/json" }).end('{"status":"accepted"}');
    const message = parseMessage(body.toString("utf8"));
    console.log("<-", message.messageType, message.header?.businessMessageId);
    if (message.messageType === "pacs.002.001.10") reports.shift()?.(readPvpStatus(message));
  });
});
await new Promise<void>((resolve) => server.listen(Number(base.port), base.hostname, resolve));
const next = () => new Promise<ReturnType<typeof readPvpStatus>>((resolve) => reports.push(resolve));

// 3. Instruct: lock 1,000.00 KZT for us under H until T_B (10 minutes; the NBK pays from our liquidity account).
const locked = next();
await post(
  buildMessage(
    buildPvpInstruction({
      ...original,
      from: me.bic,
      to: nbk.bic,
      pvpId,
      amount: { currency: "KZT", minorUnits: 100_000n },
      settlementDate: original.createdAt.slice(0, 10),
      debtor: nbk.bic,
      creditor: me.bic,
      hashLock,
      expiry: at(new Date(now.getTime() + 600_000)),
    }),
  ),
);
console.log("ACSP:", (await locked).status);

// 4. Reveal: the preimage claims the KZT for us; the NBK answers ACSC once it is paid.
const settled = next();
await post(buildMessage(buildPvpStatus({ status: "ACSC", messageId: `${pvpId}-RV`, createdAt: at(new Date()), from: me.bic, to: nbk.bic, pvpId, original, preimage })));
console.log("ACSC:", (await settled).status, "- 1,000.00 KZT on", me.settlementAccount);
server.close();
