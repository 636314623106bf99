import { ed25519 } from "@noble/curves/ed25519.js";
import type { Address, Hex } from "viem";
import type { SignedCollateralStatement } from "../ledger/dt-ledger-port.ts";
import { canonicalJson } from "./page/verify-attestation.js";

/**
 * A proof-of-collateral attestation: the DT ledger operator's signed statement of the segregated wallet,
 * paired with the token's total supply at one block, the ratio, and the alerts the gateway raised. The
 * gateway signs the canonical JSON of it (keys sorted) with its Ed25519 key. Amounts are integer strings
 * of tiyn (one token unit is one tiyn).
 */
export interface Attestation {
  version: 1;
  issuedAt: string;
  collateral: {
    account: string;
    balance: string;
    paidOut: string;
    height: string;
    timestamp: string;
    signature: Hex;
    signer: Address;
    domain: { name: string; version: string; chainId: number; verifyingContract: Address };
  };
  supply: {
    chainId: number;
    token: Address;
    decimals: 2;
    blockNumber: string;
    blockHash: Hex;
    blockTimestamp: string;
    totalSupply: string;
  };
  /** collateral / supply with 4 decimals, or null when nothing is issued. */
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

/** What GET /proof-of-collateral serves. */
export interface AttestationDocument {
  attestation: Attestation;
  gatewaySignature: GatewaySignature;
  verification: { rpcUrl: string | null; cli: string; steps: string[] };
}

export interface SupplyReading {
  chainId: number;
  token: Address;
  blockNumber: bigint;
  blockHash: Hex;
  blockTimestamp: bigint;
  totalSupply: bigint;
}

/** Ratio with 4 decimals, rounded down, so "1.0000" never hides a shortfall. */
export function formatRatio(collateral: bigint, supply: bigint): string | null {
  if (supply === 0n) return null;
  const scaled = (collateral * 10_000n) / supply;
  return `${scaled / 10_000n}.${(scaled % 10_000n).toString().padStart(4, "0")}`;
}

export function assessAlerts(statement: SignedCollateralStatement, supply: SupplyReading, maxStatementAgeSeconds: bigint, now: Date): AttestationAlert[] {
  const alerts: AttestationAlert[] = [];
  if (statement.statement.balance < supply.totalSupply) {
    alerts.push({
      code: "UNDER_COLLATERALISED",
      message: `collateral ${statement.statement.balance} tiyn is below the supply ${supply.totalSupply} at block ${supply.blockNumber}`,
    });
  }
  const age = BigInt(Math.floor(now.getTime() / 1000)) - statement.statement.timestamp;
  if (age > maxStatementAgeSeconds) {
    alerts.push({ code: "STATEMENT_STALE", message: `the DT ledger statement is ${age} s old (limit ${maxStatementAgeSeconds} s)` });
  }
  return alerts;
}

export function buildAttestation(statement: SignedCollateralStatement, supply: SupplyReading, maxStatementAgeSeconds: bigint, now: Date): Attestation {
  const alerts = assessAlerts(statement, supply, maxStatementAgeSeconds, now);
  return {
    version: 1,
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
    supply: {
      chainId: supply.chainId,
      token: supply.token,
      decimals: 2,
      blockNumber: supply.blockNumber.toString(),
      blockHash: supply.blockHash,
      blockTimestamp: supply.blockTimestamp.toString(),
      totalSupply: supply.totalSupply.toString(),
    },
    ratio: formatRatio(statement.statement.balance, supply.totalSupply),
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
  "Recompute the EIP-712 digest of the collateral statement (domain 'Digital Tenge Collateral', version 1, the chain id and token address) and recover the signer; it must equal collateral.signer.",
  "Ask the chain (eth_call at supply.blockNumber) for the token's collateralSigner() and segregatedAccount(): they must equal collateral.signer and collateral.account.",
  "Ask the chain for block supply.blockNumber: its hash must equal supply.blockHash.",
  "Ask the chain for the token's totalSupply() at that block: it must equal supply.totalSupply.",
  "Check collateral.balance >= supply.totalSupply (both in tiyn; 1 token unit = 1 tiyn) and that collateral.timestamp is within maxStatementAgeSeconds of now.",
];
