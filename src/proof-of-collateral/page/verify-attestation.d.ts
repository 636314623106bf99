// Types of the plain-JS verifier shared by the public page and the CLI.
export interface VerificationCheck {
  id: string;
  label: string;
  ok: boolean;
  detail: string;
}

export interface VerificationResult {
  verified: boolean;
  checks: VerificationCheck[];
}

export interface VerifyOptions {
  rpcUrl: string;
  gatewayPublicKey?: string;
  fetch?: typeof fetch;
  now?: () => number;
}

export function canonicalJson(value: unknown): string;
export function hexToBytes(hex: string): Uint8Array;
export function bytesToHex(bytes: Uint8Array): `0x${string}`;
export function collateralStatementDigest(collateral: unknown): Uint8Array;
export function recoverAddress(digest: Uint8Array, signatureHex: string): `0x${string}`;
export function verifyAttestation(document: unknown, options: VerifyOptions): Promise<VerificationResult>;
