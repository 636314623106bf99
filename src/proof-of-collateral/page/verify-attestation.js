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
 * The chains an attestation covers, the same way for both versions: version 2 lists them in `chains`;
 * version 1 (documents stored before it) has one `supply` and no allotments. Returns undefined when the
 * document has neither.
 */
export function chainsOf(attestation) {
  if (Array.isArray(attestation?.chains) && attestation.chains.length > 0) {
    return { chains: attestation.chains, totalSupply: attestation.totalSupply, withAllotments: true };
  }
  const supply = attestation?.supply;
  if (supply && typeof supply === "object") {
    const { totalSupply, ...rest } = supply;
    return { chains: [{ ...rest, supply: totalSupply }], totalSupply, withAllotments: false };
  }
  return undefined;
}

/** The RPC the verifier reads `chainId` through: the per-chain map first, else `rpcUrl` for the first chain. */
function rpcFor(options, chainId, index) {
  const named = options.rpcUrls?.[String(chainId)];
  if (named) return named;
  return index === 0 ? options.rpcUrl : undefined;
}

const ISSUANCE_WORDS = ["issued", "issuanceLimit", "sequence", "required"];

/**
 * Runs every check on a served document `{ attestation, gatewaySignature }` and returns
 * `{ verified, checks: [{ id, label, ok, detail, chainId? }], chains: [{ chainId, verified, failed }] }`.
 * Nothing here trusts the gateway: each chain is read through its own RPC (`rpcUrls[chainId]`, or `rpcUrl`
 * for the first chain), signatures are checked locally. `gatewayPublicKey` (hex) pins the gateway's key.
 */
export async function verifyAttestation(document, options) {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? (() => Date.now());
  const checks = [];
  const check = async (id, label, run, chainId) => {
    const entry = { id, label, ok: true, detail: "" };
    if (chainId !== undefined) entry.chainId = chainId;
    try {
      entry.detail = await run();
    } catch (error) {
      entry.ok = false;
      entry.detail = error instanceof Error ? error.message : String(error);
    }
    checks.push(entry);
  };
  const attestation = document?.attestation;
  const collateral = attestation?.collateral;
  const covered = chainsOf(attestation);
  if (!collateral || !covered) {
    return {
      verified: false,
      checks: [{ id: "format", label: "Attestation format", ok: false, detail: "the document has no attestation.collateral or attestation.chains" }],
      chains: [],
    };
  }
  const { chains } = covered;
  // Token amounts in KZT (1 token = 1 KZT) with the raw on-chain integer beside them.
  const tokens = (units, decimals) => `${kzt(units, decimals)} (${units} token units, ${decimals} decimals)`;
  // Every chain's supply on one scale (tiyn), whatever its token's decimals.
  const tiynOf = (chain) => (BigInt(chain.supply) * 100n) / 10n ** BigInt(Number(chain.decimals ?? 2));

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
  await check("statement-domain", "Statement bound to one of the attested chains and its token", () => {
    const bound = chains.find((chain) => Number(chain.chainId) === Number(collateral.domain.chainId));
    if (!bound) throw new Error(`statement for chain ${collateral.domain.chainId}, which is not among the attested chains ${chains.map((chain) => chain.chainId).join(", ")}`);
    if (!sameAddress(collateral.domain.verifyingContract, bound.token)) throw new Error(`statement for contract ${collateral.domain.verifyingContract}, the token on chain ${bound.chainId} is ${bound.token}`);
    return `chain ${bound.chainId}, token ${bound.token}`;
  });

  for (const [index, chain] of chains.entries()) {
    const chainId = Number(chain.chainId);
    const on = (label) => `Chain ${chainId}: ${label}`;
    const rpcUrl = rpcFor(options, chainId, index);
    if (!rpcUrl) {
      await check("rpc", on("an RPC address to read the chain"), () => {
        throw new Error(`no RPC address for chain ${chainId}: give one to read its supply`);
      }, chainId);
      continue;
    }
    const blockTag = `0x${BigInt(chain.blockNumber).toString(16)}`;
    const decimals = Number(chain.decimals ?? 2);
    const call = (data) => rpcCall(rpcUrl, fetchImpl, "eth_call", [{ to: chain.token, data }, blockTag]);
    await check("chain-id", on("the RPC serves this chain"), async () => {
      const served = BigInt(await rpcCall(rpcUrl, fetchImpl, "eth_chainId", []));
      if (served !== BigInt(chainId)) throw new Error(`the RPC is chain ${served}, the attestation names ${chainId}`);
      return `chain ${served}`;
    }, chainId);
    await check("operator-key-on-chain", on("the token trusts this operator key"), async () => {
      const onChain = bytesToHex(hexToBytes(await call(selector("collateralSigner()"))).subarray(12, 32));
      if (!sameAddress(onChain, collateral.signer)) throw new Error(`the token accepts statements from ${onChain}, not ${collateral.signer}`);
      return `token's collateral signer is ${onChain}`;
    }, chainId);
    await check("segregated-account", on("the statement is about this token's segregated DT wallet"), async () => {
      const account = decodeString(await call(selector("segregatedAccount()")));
      if (account !== collateral.account) throw new Error(`the token's segregated account is ${account}, the statement is about ${collateral.account}`);
      return account;
    }, chainId);
    await check("block-hash", on("the attested block is in the chain"), async () => {
      const block = await rpcCall(rpcUrl, fetchImpl, "eth_getBlockByNumber", [blockTag, false]);
      if (!block) throw new Error(`the RPC has no block ${chain.blockNumber}`);
      if (block.hash.toLowerCase() !== String(chain.blockHash).toLowerCase()) throw new Error(`block ${chain.blockNumber} is ${block.hash}, not ${chain.blockHash}`);
      return `block ${chain.blockNumber}`;
    }, chainId);
    await check("supply", on("token supply read from the chain matches"), async () => {
      const onChain = BigInt(await call(selector("totalSupply()")));
      const attested = BigInt(chain.supply);
      if (onChain !== attested) {
        throw new Error(`the chain says ${tokens(onChain, decimals)} at block ${chain.blockNumber}, the attestation says ${tokens(attested, decimals)}`);
      }
      return `${tokens(onChain, decimals)} at block ${chain.blockNumber}`;
    }, chainId);
    if (covered.withAllotments) {
      await check("allotment", on("the issuance allotment in force matches"), async () => {
        let figures;
        try {
          const words = hexToBytes(await call(selector("issuance()")));
          if (words.length < 128) throw new Error("short issuance() answer");
          figures = Object.fromEntries(ISSUANCE_WORDS.map((name, at) => [name, BigInt(bytesToHex(words.subarray(at * 32, at * 32 + 32)))]));
        } catch (error) {
          // A token from before allotments has no issuance(): the call reverts.
          if (!/revert/i.test(error instanceof Error ? error.message : String(error))) throw error;
          figures = undefined;
        }
        const inForce = figures && (figures.required !== 0n || figures.sequence > 0n);
        if (chain.allotment === null || chain.allotment === undefined) {
          if (inForce) throw new Error(`the token holds allotment ${figures.sequence} (limit ${kzt(figures.issuanceLimit)}), the attestation says it has none`);
          return "no allotments on this token";
        }
        if (!inForce) throw new Error(`the attestation names allotment ${chain.allotment.sequence}, the token holds none`);
        const differs = ["sequence", "issuanceLimit", "issued"].filter((name) => figures[name] !== BigInt(chain.allotment[name]));
        if (figures.required !== (chain.allotment.required ? 1n : 0n)) differs.push("required");
        if (differs.length > 0) {
          throw new Error(
            `at block ${chain.blockNumber} the token holds allotment ${figures.sequence}: limit ${kzt(figures.issuanceLimit)}, issued ${kzt(figures.issued)}; ` +
              `the attestation says allotment ${chain.allotment.sequence}: limit ${kzt(chain.allotment.issuanceLimit)}, issued ${kzt(chain.allotment.issued)} (${differs.join(", ")} differ)`,
          );
        }
        return `allotment ${figures.sequence}: issued ${kzt(figures.issued)} of ${kzt(figures.issuanceLimit)}`;
      }, chainId);
    }
  }

  const total = chains.reduce((sum, chain) => sum + tiynOf(chain), 0n);
  await check("total-supply", "The total is the sum of the chains' supplies", () => {
    if (BigInt(covered.totalSupply) !== total) throw new Error(`the chains add up to ${kzt(total)}, the attestation's total says ${kzt(covered.totalSupply)}`);
    return `${kzt(total)} over ${chains.length} ${chains.length === 1 ? "chain" : "chains"}`;
  });
  await check("coverage", "Collateral covers the supply on every chain", () => {
    const balance = BigInt(collateral.balance);
    if (balance < total) throw new Error(`the collateral ${kzt(balance)} is below the total supply ${kzt(total)}`);
    return `collateral ${kzt(balance)} >= total supply ${kzt(total)}`;
  });
  await check("freshness", "The collateral statement is recent", () => {
    const ageSeconds = Math.floor(now() / 1000) - Number(collateral.timestamp);
    const maxAge = Number(attestation.maxStatementAgeSeconds);
    if (ageSeconds > maxAge) throw new Error(`the statement is ${ageSeconds} s old; at most ${maxAge} s is accepted`);
    return `${Math.max(ageSeconds, 0)} s old`;
  });
  const perChain = chains.map((chain) => {
    const failed = checks.filter((item) => item.chainId === Number(chain.chainId) && !item.ok).map((item) => item.id);
    return { chainId: Number(chain.chainId), verified: failed.length === 0, failed };
  });
  return { verified: checks.every((item) => item.ok), checks, chains: perChain };
}
