import type { Hex } from "viem";
import { ConfigError, readSetting } from "../config/config.ts";
import { readSecret } from "../config/secret.ts";
import { checkSettingNames } from "../config/setting-names.ts";
import { integer, oneOf, privateKeyHex, text, url } from "../config/settings.ts";

/** The DT ledger service's settings (`tenge-gateway dt-ledger serve`). */
export interface DtLedgerServiceConfig {
  host: string;
  port: number;
  /** DT_LEDGER_DATABASE_URL, else DATABASE_URL; neither: PGlite under DATA_DIR/dt-ledger. */
  databaseUrl: string | undefined;
  /** Which variable gave databaseUrl, for errors. */
  databaseUrlVariable: "DT_LEDGER_DATABASE_URL" | "DATABASE_URL";
  dataDir: string;
  databasePoolSize: number;
  /** The ledger operator's secp256k1 key that signs collateral statements. */
  operatorKey: Hex | undefined;
  sweepIntervalMs: number;
  signatureMaxSkewSeconds: number;
  /** The service's public URL; signed requests must name its host as `@authority`. */
  publicUrl: string | undefined;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

/**
 * Settings of the gateway process that this service would ignore, with what it reads instead: an operator who
 * sets PORT for the DT ledger must learn it listens on DT_LEDGER_PORT, not find it on 8090.
 */
const GATEWAY_ONLY: Record<string, string> = {
  PORT: "use DT_LEDGER_PORT for the DT ledger service",
  HOST: "use DT_LEDGER_HOST for the DT ledger service",
  PUBLIC_URL: "use DT_LEDGER_PUBLIC_URL for the DT ledger service",
  TENGE_CONFIG_FILE: "the DT ledger service reads its settings from the environment only",
  EMBEDDED: "the DT ledger service has no embedded stack (--demo seeds demo participants)",
};

/** Refuses a setting `dt-ledger serve` would ignore, and misspelt or unknown ones (see checkSettingNames). */
export function refuseIgnoredServiceSettings(env: NodeJS.ProcessEnv): void {
  for (const [variable, instead] of Object.entries(GATEWAY_ONLY)) {
    if (env[variable]) throw new ConfigError(variable, `is a gateway setting that dt-ledger serve ignores: ${instead}`);
  }
  checkSettingNames({ env });
}

/** Where the DT ledger's database is: all the participant commands read (`participants add|list|revoke`). */
export function loadDtLedgerDatabaseConfig(env: NodeJS.ProcessEnv): Pick<DtLedgerServiceConfig, "databaseUrl" | "databaseUrlVariable" | "dataDir" | "databasePoolSize"> {
  const ownUrl = readSetting(env, "DT_LEDGER_DATABASE_URL", url("postgres:", "postgresql:"));
  const databaseUrl = ownUrl ?? readSetting(env, "DATABASE_URL", url("postgres:", "postgresql:"));
  return { databaseUrl, databaseUrlVariable: ownUrl ? "DT_LEDGER_DATABASE_URL" : "DATABASE_URL", dataDir: readSetting(env, "DATA_DIR", text) ?? "./.data", databasePoolSize: 2 };
}

export function loadDtLedgerServiceConfig(env: NodeJS.ProcessEnv): DtLedgerServiceConfig {
  const ownUrl = readSetting(env, "DT_LEDGER_DATABASE_URL", url("postgres:", "postgresql:"));
  const databaseUrl = ownUrl ?? readSetting(env, "DATABASE_URL", url("postgres:", "postgresql:"));
  return {
    databaseUrlVariable: ownUrl ? "DT_LEDGER_DATABASE_URL" : "DATABASE_URL",
    host: readSetting(env, "DT_LEDGER_HOST", text) ?? "127.0.0.1",
    port: readSetting(env, "DT_LEDGER_PORT", integer(0, 65535)) ?? 8090,
    databaseUrl,
    dataDir: readSetting(env, "DATA_DIR", text) ?? "./.data",
    databasePoolSize: readSetting(env, "DATABASE_POOL_SIZE", integer(1, 1000)) ?? 10,
    operatorKey: readSecret(env, "DT_LEDGER_OPERATOR_KEY", privateKeyHex),
    sweepIntervalMs: readSetting(env, "DT_LEDGER_SWEEP_INTERVAL_MS", integer(50, 3_600_000)) ?? 1000,
    signatureMaxSkewSeconds: readSetting(env, "SIGNATURE_MAX_SKEW_SECONDS", integer(1, 3600)) ?? 300,
    publicUrl: readSetting(env, "DT_LEDGER_PUBLIC_URL", url("http:", "https:")),
    logLevel: readSetting(env, "LOG_LEVEL", oneOf("fatal", "error", "warn", "info", "debug", "trace", "silent")) ?? "info",
  };
}
