// Types of the plain-JS verifier shared by the public page and the CLI.
export interface VerificationCheck {
  id: string;
  label: string;
  ok: boolean;
  detail: string;
  /** Set on the checks of one chain. */
  chainId?: number;
}

export interface ChainVerification {
  chainId: number;
  verified: boolean;
  /** Ids of the failed checks of this chain. */
  failed: string[];
}

export interface VerificationResult {
  verified: boolean;
  checks: VerificationCheck[];
  chains: ChainVerification[];
}

export interface VerifyOptions {
  /** RPC of the first chain (the one chain of a version 1 attestation). */
  rpcUrl?: string;
  /** RPC per chain id. */
  rpcUrls?: Record<string, string>;
  gatewayPublicKey?: string;
  fetch?: typeof fetch;
  now?: () => number;
}

export function canonicalJson(value: unknown): string;
export function hexToBytes(hex: string): Uint8Array;
export function bytesToHex(bytes: Uint8Array): `0x${string}`;
export function collateralStatementDigest(collateral: unknown): Uint8Array;
export function recoverAddress(digest: Uint8Array, signatureHex: string): `0x${string}`;
export function chainsOf(attestation: unknown): { chains: Record<string, unknown>[]; totalSupply: string; withAllotments: boolean } | undefined;
export function verifyAttestation(document: unknown, options: VerifyOptions): Promise<VerificationResult>;
