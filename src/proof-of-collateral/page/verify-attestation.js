/* global TextEncoder, TextDecoder */
// Verifies a proof-of-collateral attestation independently of the gateway that served it. Plain ES module:
// the public page loads it in the visitor's browser (the @noble packages come through an import map) and
// `tenge-gateway collateral verify` imports the very same file in Node, so both run the same checks.
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { kzt } from "./format.js";

const encoder = new TextEncoder();

/** JSON with object keys sorted at every level: the exact bytes the gateway signs. */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).filter((key) => value[key] !== undefined).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function hexToBytes(hex) {
  const clean = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`not hex: ${hex.slice(0, 20)}`);
  const bytes = new Uint8Array(clean.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

export function bytesToHex(bytes) {
  return `0x${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

const keccak = (bytes) => keccak_256(bytes);
const keccakText = (text) => keccak(encoder.encode(text));

function word(value) {
  const out = new Uint8Array(32);
  let rest = BigInt(value);
  for (let i = 31; i >= 0 && rest > 0n; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

function addressWord(address) {
  const out = new Uint8Array(32);
  out.set(hexToBytes(address), 12);
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The EIP-712 digest the DT ledger operator signed (domain "Digital Tenge Collateral", version "1"). */
export function collateralStatementDigest(collateral) {
  const domainType = keccakText("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
  const statementType = keccakText("CollateralStatement(string account,uint256 balance,uint256 paidOut,uint256 height,uint256 timestamp)");
  const domain = keccak(
    concat(
      domainType,
      keccakText(collateral.domain.name),
      keccakText(collateral.domain.version),
      word(collateral.domain.chainId),
      addressWord(collateral.domain.verifyingContract),
    ),
  );
  const struct = keccak(concat(statementType, keccakText(collateral.account), word(collateral.balance), word(collateral.paidOut), word(collateral.height), word(collateral.timestamp)));
  return keccak(concat(new Uint8Array([0x19, 0x01]), domain, struct));
}

/** The Ethereum address that made a 65-byte r || s || v signature over a 32-byte digest. */
export function recoverAddress(digest, signatureHex) {
  const signature = hexToBytes(signatureHex);
  if (signature.length !== 65) throw new Error("the signature is not 65 bytes");
  const v = signature[64];
  const recovery = v >= 27 ? v - 27 : v;
  const recovered = concat(new Uint8Array([recovery]), signature.subarray(0, 64));
  const publicKey = secp256k1.recoverPublicKey(recovered, digest, { prehash: false });
  const uncompressed = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  return bytesToHex(keccak(uncompressed.subarray(1)).subarray(12));
}

const selector = (signature) => bytesToHex(keccakText(signature).subarray(0, 4));

async function rpcCall(rpcUrl, fetchImpl, method, params) {
  const response = await fetchImpl(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  if (!response.ok) throw new Error(`${method}: HTTP ${response.status}`);
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

function decodeString(hex) {
  const bytes = hexToBytes(hex);
  const offset = Number(BigInt(bytesToHex(bytes.subarray(0, 32))));
  const length = Number(BigInt(bytesToHex(bytes.subarray(offset, offset + 32))));
  return new TextDecoder().decode(bytes.subarray(offset + 32, offset + 32 + length));
}

const sameAddress = (a, b) => typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();

/**
 * Runs every check on a served document `{ attestation, gatewaySignature }` and returns
 * `{ verified, checks: [{ id, label, ok, detail }] }`. Nothing here trusts the gateway: the chain is read
 * through `rpcUrl`, signatures are checked locally. `gatewayPublicKey` (hex) pins the gateway's key.
 */
export async function verifyAttestation(document, options) {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? (() => Date.now());
  const checks = [];
  const check = async (id, label, run) => {
    try {
      const detail = await run();
      checks.push({ id, label, ok: true, detail });
    } catch (error) {
      checks.push({ id, label, ok: false, detail: error instanceof Error ? error.message : String(error) });
    }
  };
  const attestation = document?.attestation;
  const collateral = attestation?.collateral;
  const supply = attestation?.supply;
  if (!collateral || !supply) {
    return { verified: false, checks: [{ id: "format", label: "Attestation format", ok: false, detail: "the document has no attestation.collateral or attestation.supply" }] };
  }
  const blockTag = `0x${BigInt(supply.blockNumber).toString(16)}`;
  const decimals = Number(supply.decimals ?? 2);
  // Token amounts in KZT (1 token = 1 KZT) with the raw on-chain integer beside them.
  const tokens = (units) => `${kzt(units, decimals)} (${units} token units, ${decimals} decimals)`;

  await check("gateway-signature", "Gateway signature (Ed25519) over the whole attestation", () => {
    const signed = document.gatewaySignature;
    if (!signed) throw new Error("the document carries no gateway signature");
    if (options.gatewayPublicKey && signed.publicKey.toLowerCase() !== options.gatewayPublicKey.toLowerCase()) {
      throw new Error(`signed by key ${signed.publicKey}, not the expected ${options.gatewayPublicKey}`);
    }
    const ok = ed25519.verify(hexToBytes(signed.signature), encoder.encode(canonicalJson(attestation)), hexToBytes(signed.publicKey));
    if (!ok) throw new Error("the signature does not match the attestation: it was changed after signing, or signed by another key");
    return `valid, key ${signed.publicKey.slice(0, 18)}…`;
  });
  await check("operator-signature", "DT ledger operator signature (EIP-712) over the collateral statement", () => {
    const signer = recoverAddress(collateralStatementDigest(collateral), collateral.signature);
    if (!sameAddress(signer, collateral.signer)) throw new Error(`the statement was signed by ${signer}, not by ${collateral.signer}`);
    return `signed by ${collateral.signer}`;
  });
  await check("statement-domain", "Statement bound to this chain and token", () => {
    if (Number(collateral.domain.chainId) !== Number(supply.chainId)) throw new Error(`statement for chain ${collateral.domain.chainId}, supply on chain ${supply.chainId}`);
    if (!sameAddress(collateral.domain.verifyingContract, supply.token)) throw new Error(`statement for contract ${collateral.domain.verifyingContract}, supply of ${supply.token}`);
    return `chain ${supply.chainId}, token ${supply.token}`;
  });
  await check("chain-id", "The RPC serves the attested chain", async () => {
    const chainId = BigInt(await rpcCall(options.rpcUrl, fetchImpl, "eth_chainId", []));
    if (chainId !== BigInt(supply.chainId)) throw new Error(`the RPC is chain ${chainId}, the attestation names ${supply.chainId}`);
    return `chain ${chainId}`;
  });
  await check("operator-key-on-chain", "The token contract trusts this operator key", async () => {
    const result = await rpcCall(options.rpcUrl, fetchImpl, "eth_call", [{ to: supply.token, data: selector("collateralSigner()") }, blockTag]);
    const onChain = bytesToHex(hexToBytes(result).subarray(12, 32));
    if (!sameAddress(onChain, collateral.signer)) throw new Error(`the token accepts statements from ${onChain}, not ${collateral.signer}`);
    return `token's collateral signer is ${onChain}`;
  });
  await check("segregated-account", "The statement is about the token's segregated DT wallet", async () => {
    const result = await rpcCall(options.rpcUrl, fetchImpl, "eth_call", [{ to: supply.token, data: selector("segregatedAccount()") }, blockTag]);
    const account = decodeString(result);
    if (account !== collateral.account) throw new Error(`the token's segregated account is ${account}, the statement is about ${collateral.account}`);
    return account;
  });
  await check("block-hash", "The attested block is in the chain", async () => {
    const block = await rpcCall(options.rpcUrl, fetchImpl, "eth_getBlockByNumber", [blockTag, false]);
    if (!block) throw new Error(`the RPC has no block ${supply.blockNumber}`);
    if (block.hash.toLowerCase() !== supply.blockHash.toLowerCase()) throw new Error(`block ${supply.blockNumber} is ${block.hash}, not ${supply.blockHash}`);
    return `block ${supply.blockNumber}`;
  });
  await check("total-supply", "Token supply read from the chain matches", async () => {
    const result = await rpcCall(options.rpcUrl, fetchImpl, "eth_call", [{ to: supply.token, data: selector("totalSupply()") }, blockTag]);
    const onChain = BigInt(result);
    const attested = BigInt(supply.totalSupply);
    if (onChain !== attested) {
      throw new Error(`the chain says ${tokens(onChain)} at block ${supply.blockNumber}, the attestation says ${tokens(attested)}`);
    }
    return `${tokens(onChain)} at block ${supply.blockNumber}`;
  });
  await check("coverage", "Collateral covers the supply", () => {
    const balance = BigInt(collateral.balance);
    const total = BigInt(supply.totalSupply);
    // Tiyn against token units of `decimals` decimals (1 token = 1 KZT): compare on a common scale.
    if (balance * 10n ** BigInt(decimals) < total * 100n) throw new Error(`the collateral ${kzt(balance)} is below the supply ${kzt(total, decimals)}`);
    return `collateral ${kzt(balance)} >= supply ${kzt(total, decimals)}`;
  });
  await check("freshness", "The collateral statement is recent", () => {
    const ageSeconds = Math.floor(now() / 1000) - Number(collateral.timestamp);
    const maxAge = Number(attestation.maxStatementAgeSeconds);
    if (ageSeconds > maxAge) throw new Error(`the statement is ${ageSeconds} s old; at most ${maxAge} s is accepted`);
    return `${Math.max(ageSeconds, 0)} s old`;
  });
  return { verified: checks.every((item) => item.ok), checks };
}
