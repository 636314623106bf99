import type { Hex } from "viem";
import { readSetting } from "../config/config.ts";
import { integer, oneOf, privateKeyHex, text, url } from "../config/settings.ts";

/** The DT ledger service's settings (`tenge-gateway dt-ledger serve`). */
export interface DtLedgerServiceConfig {
  host: string;
  port: number;
  /** DT_LEDGER_DATABASE_URL, else DATABASE_URL; neither: PGlite under DATA_DIR/dt-ledger. */
  databaseUrl: string | undefined;
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

export function loadDtLedgerServiceConfig(env: NodeJS.ProcessEnv): DtLedgerServiceConfig {
  const databaseUrl =
    readSetting(env, "DT_LEDGER_DATABASE_URL", url("postgres:", "postgresql:")) ??
    readSetting(env, "DATABASE_URL", url("postgres:", "postgresql:"));
  return {
    host: readSetting(env, "DT_LEDGER_HOST", text) ?? "127.0.0.1",
    port: readSetting(env, "DT_LEDGER_PORT", integer(0, 65535)) ?? 8090,
    databaseUrl,
    dataDir: readSetting(env, "DATA_DIR", text) ?? "./.data",
    databasePoolSize: readSetting(env, "DATABASE_POOL_SIZE", integer(1, 1000)) ?? 10,
    operatorKey: readSetting(env, "DT_LEDGER_OPERATOR_KEY", privateKeyHex),
    sweepIntervalMs: readSetting(env, "DT_LEDGER_SWEEP_INTERVAL_MS", integer(50, 3_600_000)) ?? 1000,
    signatureMaxSkewSeconds: readSetting(env, "SIGNATURE_MAX_SKEW_SECONDS", integer(1, 3600)) ?? 300,
    publicUrl: readSetting(env, "DT_LEDGER_PUBLIC_URL", url("http:", "https:")),
    logLevel: readSetting(env, "LOG_LEVEL", oneOf("fatal", "error", "warn", "info", "debug", "trace", "silent")) ?? "info",
  };
}
