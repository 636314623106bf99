import { ed25519 } from "@noble/curves/ed25519.js";
import type { Address, Hex } from "viem";
import type { SignedCollateralStatement } from "../ledger/dt-ledger-port.ts";
import { canonicalJson } from "./page/verify-attestation.js";

/**
 * A proof-of-collateral attestation: the DT ledger operator's signed statement of the segregated wallet (the
 * one pool), paired with the token's supply on every chain it is issued on, each read at one block, the total,
 * the ratio, and the alerts the gateway raised. The gateway signs the canonical JSON of it (keys sorted) with
 * its Ed25519 key. Amounts are integer strings of tiyn (one token unit is one tiyn).
 *
 * Version 2 lists the chains; version 1 (one `supply` object) is what gateways before it stored and served.
 */
export interface Attestation {
  version: 2;
  issuedAt: string;
  collateral: CollateralOfAttestation;
  /** One entry per chain, in the configured order (the first is the default chain). */
  chains: ChainOfAttestation[];
  /** Sum of `chains[].supply`: what the collateral must cover. */
  totalSupply: string;
  /** collateral / totalSupply with 4 decimals, or null when nothing is issued. */
  ratio: string | null;
  maxStatementAgeSeconds: string;
  status: { state: "healthy" | "alert"; alerts: AttestationAlert[] };
}

export interface CollateralOfAttestation {
  account: string;
  balance: string;
  paidOut: string;
  height: string;
  timestamp: string;
  signature: Hex;
  signer: Address;
  domain: { name: string; version: string; chainId: number; verifyingContract: Address };
}

export interface ChainOfAttestation {
  chainId: number;
  token: Address;
  decimals: 2;
  blockNumber: string;
  blockHash: Hex;
  blockTimestamp: string;
  /** totalSupply() of the token at blockNumber. */
  supply: string;
  /** The issuance allotment the token held at blockNumber; null for a token without allotments. */
  allotment: AllotmentOfChain | null;
}

export interface AllotmentOfChain {
  /** Sequence of the latest allotment the token accepted. */
  sequence: string;
  /** Tiyn this chain may ever issue, net of minter burns. */
  issuanceLimit: string;
  /** Tiyn issued on this chain so far (mints less minter burns). */
  issued: string;
  /** Whether the token refuses mints beyond the limit. */
  required: boolean;
}

/** A version 1 attestation (one chain), as stored before version 2; still served from old rows and verified. */
export interface AttestationV1 {
  version: 1;
  issuedAt: string;
  collateral: CollateralOfAttestation;
  supply: { chainId: number; token: Address; decimals: 2; blockNumber: string; blockHash: Hex; blockTimestamp: string; totalSupply: string };
  ratio: string | null;
  maxStatementAgeSeconds: string;
  status: { state: "healthy" | "alert"; alerts: AttestationAlert[] };
}

export type AlertCode = "UNDER_COLLATERALISED" | "STATEMENT_STALE";

export interface AttestationAlert {
  code: AlertCode;
  message: string;
}

export interface GatewaySignature {
  algorithm: "Ed25519";
  /** Hex of the raw 32-byte public key. */
  publicKey: string;
  /** Hex of the 64-byte signature over canonicalJson(attestation) as UTF-8. */
  signature: string;
  signs: string;
}

/** What GET /proof-of-collateral serves. Not signed: where to verify (the visitor may use other RPCs). */
export interface AttestationDocument {
  attestation: Attestation;
  gatewaySignature: GatewaySignature;
  verification: {
    /** The first chain's public RPC (version 1 readers use it). */
    rpcUrl: string | null;
    /** Public RPC per chain id. */
    rpcUrls: Record<string, string | null>;
    cli: string;
    steps: string[];
  };
}

/** One chain's reading: its token's supply and allotment at one block. */
export interface ChainReading {
  chainId: number;
  token: Address;
  blockNumber: bigint;
  blockHash: Hex;
  blockTimestamp: bigint;
  supply: bigint;
  allotment: { sequence: bigint; issuanceLimit: bigint; issued: bigint; required: boolean } | null;
}

/** Ratio with 4 decimals, rounded down, so "1.0000" never hides a shortfall. */
export function formatRatio(collateral: bigint, supply: bigint): string | null {
  if (supply === 0n) return null;
  const scaled = (collateral * 10_000n) / supply;
  return `${scaled / 10_000n}.${(scaled % 10_000n).toString().padStart(4, "0")}`;
}

export const totalSupplyOf = (chains: readonly ChainReading[]): bigint => chains.reduce((sum, chain) => sum + chain.supply, 0n);

export function assessAlerts(statement: SignedCollateralStatement, chains: readonly ChainReading[], maxStatementAgeSeconds: bigint, now: Date): AttestationAlert[] {
  const alerts: AttestationAlert[] = [];
  const total = totalSupplyOf(chains);
  if (statement.statement.balance < total) {
    const where = chains.map((chain) => `chain ${chain.chainId}: ${chain.supply} at block ${chain.blockNumber}`).join(", ");
    alerts.push({
      code: "UNDER_COLLATERALISED",
      message: `collateral ${statement.statement.balance} tiyn is below the total supply ${total} (${where})`,
    });
  }
  const age = BigInt(Math.floor(now.getTime() / 1000)) - statement.statement.timestamp;
  if (age > maxStatementAgeSeconds) {
    alerts.push({ code: "STATEMENT_STALE", message: `the DT ledger statement is ${age} s old (limit ${maxStatementAgeSeconds} s)` });
  }
  return alerts;
}

export function buildAttestation(statement: SignedCollateralStatement, chains: readonly ChainReading[], maxStatementAgeSeconds: bigint, now: Date): Attestation {
  const alerts = assessAlerts(statement, chains, maxStatementAgeSeconds, now);
  const total = totalSupplyOf(chains);
  return {
    version: 2,
    issuedAt: now.toISOString(),
    collateral: {
      account: statement.statement.account,
      balance: statement.statement.balance.toString(),
      paidOut: statement.statement.paidOut.toString(),
      height: statement.statement.height.toString(),
      timestamp: statement.statement.timestamp.toString(),
      signature: statement.signature,
      signer: statement.signer,
      domain: { name: "Digital Tenge Collateral", version: "1", chainId: statement.domain.chainId, verifyingContract: statement.domain.verifyingContract },
    },
    chains: chains.map((chain) => ({
      chainId: chain.chainId,
      token: chain.token,
      decimals: 2,
      blockNumber: chain.blockNumber.toString(),
      blockHash: chain.blockHash,
      blockTimestamp: chain.blockTimestamp.toString(),
      supply: chain.supply.toString(),
      allotment: chain.allotment
        ? { sequence: chain.allotment.sequence.toString(), issuanceLimit: chain.allotment.issuanceLimit.toString(), issued: chain.allotment.issued.toString(), required: chain.allotment.required }
        : null,
    })),
    totalSupply: total.toString(),
    ratio: formatRatio(statement.statement.balance, total),
    maxStatementAgeSeconds: maxStatementAgeSeconds.toString(),
    status: { state: alerts.length === 0 ? "healthy" : "alert", alerts },
  };
}

const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

export function signAttestation(attestation: Attestation, secretKey: Uint8Array): GatewaySignature {
  const signature = ed25519.sign(new TextEncoder().encode(canonicalJson(attestation)), secretKey);
  return {
    algorithm: "Ed25519",
    publicKey: toHex(ed25519.getPublicKey(secretKey)),
    signature: toHex(signature),
    signs: "UTF-8 bytes of the attestation as JSON with keys sorted at every level, no whitespace",
  };
}

export const VERIFICATION_STEPS = [
  "Check the gateway's Ed25519 signature over the attestation (JSON, keys sorted, no whitespace).",
  "Recompute the EIP-712 digest of the collateral statement (domain 'Digital Tenge Collateral', version 1, the chain id and token address of one of the chains) and recover the signer; it must equal collateral.signer.",
  "For every entry of chains, through an RPC of that chain: eth_chainId must be chainId; at blockNumber the token's collateralSigner() and segregatedAccount() must equal collateral.signer and collateral.account; the block's hash must be blockHash; totalSupply() must be supply; issuance() must match allotment (null: the token has none).",
  "Check that totalSupply is the sum of the chains' supplies, collateral.balance >= totalSupply (both in tiyn; 1 token unit = 1 tiyn), and that collateral.timestamp is within maxStatementAgeSeconds of now.",
];
