import { readFileSync, statSync } from "node:fs";
import { ConfigError } from "./config-error.ts";
import { checkSettingNames } from "./setting-names.ts";
import { boolean, integer, oneOf, SettingError, text, url, type SettingReader } from "./settings.ts";

/** Everything the gateway reads from its environment, validated once at start. */
export interface GatewayConfig {
  host: string;
  port: number;
  /** PostgreSQL connection string; when absent the gateway embeds PGlite under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  databasePoolSize: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  /** Start the embedded DT ledger, chain and demo participants. */
  embedded: boolean;
  /** Where the embedded chain's JSON-RPC listens (the public page's browser reads it too). */
  embeddedChainHost: string;
  embeddedChainPort: number;
  /** The embedded chain makes a block this often, so confirmations and expiries progress (0: only on demand). */
  embeddedChainBlockIntervalMs: number;
  /** Port of the embedded foreign central bank's gateway (on HOST). */
  embeddedPeerPort: number;
  /** Port of the embedded DT ledger's HTTP service (on HOST). */
  embeddedDtLedgerPort: number;
  /** Public base URL used in printed links and documents. */
  publicUrl: string | undefined;
  /** Allowed clock skew for signed requests. */
  signatureMaxSkewSeconds: number;
  /** Requests per second each principal may make on authenticated routes, and how many at once. */
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** ISO 20022 validations run at once (worker threads), and how many may wait before 503. */
  validationConcurrency: number;
  validationQueue: number;
}

export { ConfigError } from "./config-error.ts";

/** One variable's value through its reader: a value the reader refuses is a ConfigError naming the variable. */
export function parseSetting<T>(variable: string, raw: string, reader: SettingReader<T>): T {
  try {
    return reader(raw);
  } catch (error) {
    if (error instanceof SettingError) throw new ConfigError(variable, error.message);
    throw error;
  }
}

/** A variable of `source` read with its reader; unset or empty is undefined. */
export function readSetting<T>(source: Record<string, string | undefined>, variable: string, reader: SettingReader<T>): T | undefined {
  const raw = source[variable];
  return raw === undefined || raw === "" ? undefined : parseSetting(variable, raw, reader);
}

type Spec<T> = { variable: string; read: SettingReader<T>; fallback?: T };

function setting<T>(variable: string, read: SettingReader<T>, fallback?: T): Spec<T> {
  return fallback === undefined ? { variable, read } : { variable, read, fallback };
}

const specs = {
  host: setting("HOST", text, "127.0.0.1"),
  port: setting("PORT", integer(0, 65535), 8080),
  databaseUrl: setting<string | undefined>("DATABASE_URL", url("postgres:", "postgresql:")),
  dataDir: setting("DATA_DIR", text, "./.data"),
  databasePoolSize: setting("DATABASE_POOL_SIZE", integer(1, 1000), 10),
  logLevel: setting("LOG_LEVEL", oneOf("fatal", "error", "warn", "info", "debug", "trace", "silent"), "info"),
  bodyLimitBytes: setting("BODY_LIMIT_BYTES", integer(1024, 64 * 1024 * 1024), 1024 * 1024),
  shutdownTimeoutMs: setting("SHUTDOWN_TIMEOUT_MS", integer(0, 600_000), 10_000),
  // Default: true without DATABASE_URL, false with it (see loadConfig).
  embedded: setting<boolean>("EMBEDDED", boolean),
  embeddedChainHost: setting("EMBEDDED_CHAIN_HOST", text, "127.0.0.1"),
  embeddedChainPort: setting("EMBEDDED_CHAIN_PORT", integer(0, 65535), 8545),
  embeddedChainBlockIntervalMs: setting("EMBEDDED_CHAIN_BLOCK_INTERVAL_MS", integer(0, 3_600_000), 1000),
  embeddedPeerPort: setting("EMBEDDED_PEER_PORT", integer(0, 65535), 8081),
  embeddedDtLedgerPort: setting("EMBEDDED_DT_LEDGER_PORT", integer(0, 65535), 8090),
  publicUrl: setting<string | undefined>("PUBLIC_URL", url("http:", "https:")),
  signatureMaxSkewSeconds: setting("SIGNATURE_MAX_SKEW_SECONDS", integer(1, 3600), 300),
  rateLimitPerSecond: setting("RATE_LIMIT_PER_SECOND", integer(1, 100_000), 100),
  rateLimitBurst: setting("RATE_LIMIT_BURST", integer(1, 100_000), 200),
  validationConcurrency: setting("VALIDATION_CONCURRENCY", integer(1, 64), 1),
  validationQueue: setting("VALIDATION_QUEUE", integer(0, 10_000), 8),
} satisfies { [K in keyof GatewayConfig]: Spec<GatewayConfig[K]> };

/** The environment variable behind each setting, for documentation and error messages. */
export const configVariables: Record<keyof GatewayConfig, string> = Object.fromEntries(
  Object.entries(specs).map(([key, spec]) => [key, spec.variable]),
) as Record<keyof GatewayConfig, string>;

/**
 * Reads the configuration from `env`, overlaid on the optional JSON file named by `TENGE_CONFIG_FILE`
 * (keys are the same variable names; the environment wins). Throws ConfigError on the first bad value.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const file = readConfigFile(env["TENGE_CONFIG_FILE"]);
  const source = { ...file, ...env };
  // A misspelt or unknown setting stops the start: ignored, it would leave a default running unnoticed.
  checkSettingNames({ env, fileKeys: Object.keys(file), referenced: [...referencedVariables(source["PVP_FOREIGN_LEDGERS_FILE"], "payerKeys"), ...referencedVariables(source["DVP_SECURITIES_FILE"], "holdingKeys")] });
  const config: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs) as [string, Spec<unknown>][]) {
    const raw = source[spec.variable];
    if (raw === undefined || raw === "") {
      config[key] = spec.fallback;
      continue;
    }
    config[key] = parseSetting(spec.variable, raw, spec.read);
  }
  config["embedded"] ??= config["databaseUrl"] === undefined;
  if (config["embedded"] && config["databaseUrl"]) {
    throw new ConfigError(
      "EMBEDDED",
      "must be false when DATABASE_URL is set: the embedded demo stack starts fresh in PGlite under DATA_DIR at every start",
    );
  }
  return config as unknown as GatewayConfig;
}

/** The environment overlaid on the JSON file named by `TENGE_CONFIG_FILE`: where every setting is read from. */
export function settingsSource(env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  return { ...readConfigFile(env["TENGE_CONFIG_FILE"]), ...env };
}

/**
 * The variables PVP_FOREIGN_LEDGERS_FILE (payer keys) and DVP_SECURITIES_FILE (holding keys) name (`{ "env": "VAR" }`):
 * read on purpose, whatever their names. A file that cannot be read yields none here; the feature settings report it properly.
 */
function referencedVariables(ledgersFile: string | undefined, field: "payerKeys" | "holdingKeys"): string[] {
  if (!ledgersFile) return [];
  try {
    const ledgers = JSON.parse(readFileSync(ledgersFile, "utf8")) as Record<string, Record<string, Array<{ env?: unknown }> | undefined>>;
    return Object.values(ledgers).flatMap((ledger) => (Array.isArray(ledger?.[field]) ? ledger[field] : []))
      .map((ref) => ref?.env)
      .filter((name): name is string => typeof name === "string");
  } catch {
    return [];
  }
}

function readConfigFile(path: string | undefined): Record<string, string> {
  if (!path) return {};
  let parsed: unknown;
  try {
    // Checked before reading: the file may hold any secret setting (keys, API keys), so only its owner may read it.
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new ConfigError("TENGE_CONFIG_FILE", `must not be readable by group or others (${path} has mode ${mode.toString(8).padStart(4, "0")}); chmod 600 it`);
    }
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError("TENGE_CONFIG_FILE", `must name a readable JSON file (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError("TENGE_CONFIG_FILE", "must contain a JSON object of VARIABLE: value pairs");
  }
  return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
}
