import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../config/config.ts";
import { bytes32Hex, readSecret } from "../config/secret.ts";
import { integer, privateKeyHex, SettingError, url, type SettingReader } from "../config/settings.ts";
import { DEFAULT_STABLECOIN_SETTINGS, type StablecoinSettings } from "./component.ts";

/** The stablecoin's environment variables (besides the chain and ledger the embedded stack provides). */
export interface StablecoinEnvironment {
  /** STABLECOIN_MINTER_KEY(_FILE): the minter's secp256k1 key; absent on watch-only processes. */
  minterKey: `0x${string}` | undefined;
  /** COLLATERAL_PUBLIC_RPC_URL: the RPC URL the public page and the attestation name for verifiers. */
  publicRpcUrl: string | undefined;
  /** COLLATERAL_ATTESTATION_KEY(_FILE): 32-byte Ed25519 secret; generated under DATA_DIR when absent (embedded only). */
  attestationSecret: Uint8Array | undefined;
  settings: StablecoinSettings;
}

const SETTINGS: Record<keyof StablecoinSettings, [string, SettingReader<number>]> = {
  mintConfirmations: ["STABLECOIN_MINT_CONFIRMATIONS", integer(1, 1000)],
  redeemConfirmations: ["STABLECOIN_REDEEM_CONFIRMATIONS", integer(1, 1000)],
  reorgWindow: ["STABLECOIN_REORG_WINDOW_BLOCKS", integer(1, 10_000)],
  stuckAfterMs: ["STABLECOIN_STUCK_AFTER_MS", integer(1000, 86_400_000)],
  maxMintAttempts: ["STABLECOIN_MAX_MINT_ATTEMPTS", integer(1, 100)],
  pollMs: ["STABLECOIN_POLL_MS", integer(10, 60_000)],
  attestationIntervalMs: ["COLLATERAL_ATTESTATION_INTERVAL_SECONDS", (raw) => integer(1, 86_400)(raw) * 1000],
  exchangeRatePerSecond: ["STABLECOIN_EXCHANGE_RATE_PER_SECOND", integer(1, 10_000)],
  mintRequestTtlMs: ["STABLECOIN_MINT_REQUEST_TTL_SECONDS", (raw) => integer(60, 30 * 86_400)(raw) * 1000],
};

function read<T>(env: Record<string, string | undefined>, variable: string, reader: SettingReader<T>): T | undefined {
  const raw = env[variable];
  if (raw === undefined || raw === "") return undefined;
  try {
    return reader(raw);
  } catch (error) {
    if (error instanceof SettingError) throw new ConfigError(variable, error.message);
    throw error;
  }
}

/** Reads the stablecoin's variables; a bad value throws ConfigError naming the variable (never the value of a key). */
export function loadStablecoinEnvironment(env: Record<string, string | undefined> = process.env): StablecoinEnvironment {
  const settings = { ...DEFAULT_STABLECOIN_SETTINGS };
  for (const [key, [variable, reader]] of Object.entries(SETTINGS) as [keyof StablecoinSettings, [string, SettingReader<number>]][]) {
    const value = read(env, variable, reader);
    if (value !== undefined) settings[key] = value;
  }
  return {
    minterKey: readSecret(env, "STABLECOIN_MINTER_KEY", privateKeyHex),
    publicRpcUrl: read(env, "COLLATERAL_PUBLIC_RPC_URL", url("http:", "https:")),
    attestationSecret: readSecret(env, "COLLATERAL_ATTESTATION_KEY", bytes32Hex),
    settings,
  };
}

/**
 * The gateway's Ed25519 attestation key: from COLLATERAL_ATTESTATION_KEY, or else a key generated once and
 * kept in DATA_DIR/attestation-key.json (owner-only), so the published public key survives restarts.
 */
export function attestationKey(environment: StablecoinEnvironment, dataDir: string): Uint8Array {
  if (environment.attestationSecret) return environment.attestationSecret;
  const file = join(dataDir, "attestation-key.json");
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, "utf8")) as { secretKey: string };
    return Buffer.from(stored.secretKey, "hex");
  }
  mkdirSync(dataDir, { recursive: true });
  const secretKey = randomBytes(32);
  writeFileSync(file, `${JSON.stringify({ secretKey: secretKey.toString("hex") })}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secretKey;
}
