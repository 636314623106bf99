// Posts one ISO 20022 message to the embedded NBK gateway as the demo foreign central bank (FCBKAEAD),
// signed with its Ed25519 key (RFC 9421), as its own gateway would. Prints the status and the answer.
//   node examples/post-signed-message.ts message.xml [DATA_DIR]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ed25519PrivateKey, signRequest } from "../src/identity/http-signature.ts";

const [file, dataDir = "./.data"] = process.argv.slice(2);
if (!file) {
  console.error("usage: node examples/post-signed-message.ts message.xml [DATA_DIR]");
  process.exit(2);
}
const { peerPvp } = JSON.parse(readFileSync(join(dataDir, "demo-credentials.json"), "utf8"));
const signer = peerPvp.foreignCentralBank;
const body = readFileSync(file);
const url = peerPvp.nbkInboundUrl; // absolute: the signature covers @authority
const headers = signRequest({ method: "POST", url, body }, { keyId: signer.keyId, privateKey: ed25519PrivateKey(Buffer.from(signer.signingSeed, "hex")) });
const response = await fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/xml" }, body });
console.log(response.status, await response.text());
