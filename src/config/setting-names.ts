import { ConfigError } from "./config-error.ts";

/**
 * Every environment variable some part of tenge-gateway reads. A variable outside this list that carries one of
 * our prefixes, or sits within a typo of one of these names, is a setting the operator meant and we would ignore.
 * Secrets are listed once; their `_FILE` twin is implied.
 */
export const SECRET_SETTINGS = [
  "DT_LEDGER_SIGNING_KEY",
  "DT_LEDGER_OPERATOR_KEY",
  "STABLECOIN_MINTER_KEY",
  "COLLATERAL_ATTESTATION_KEY",
  "PVP_SECRET_KEY",
  "PVP_SIGNING_KEY",
] as const;

export const KNOWN_SETTINGS: readonly string[] = [
  // gateway process (src/config/config.ts)
  "HOST", "PORT", "DATABASE_URL", "DATA_DIR", "DATABASE_POOL_SIZE", "LOG_LEVEL", "BODY_LIMIT_BYTES", "SHUTDOWN_TIMEOUT_MS",
  "EMBEDDED", "EMBEDDED_CHAIN_HOST", "EMBEDDED_CHAIN_PORT", "EMBEDDED_CHAIN_BLOCK_INTERVAL_MS", "EMBEDDED_PEER_PORT",
  "EMBEDDED_DT_LEDGER_PORT", "PUBLIC_URL", "SIGNATURE_MAX_SKEW_SECONDS", "TENGE_CONFIG_FILE",
  "RATE_LIMIT_PER_SECOND", "RATE_LIMIT_BURST", "VALIDATION_CONCURRENCY", "VALIDATION_QUEUE",
  // features (src/gateway/settings.ts, src/stablecoin/stablecoin-config.ts)
  "DT_LEDGER_URL", "DT_LEDGER_IN_PROCESS", "DT_LEDGER_PARTICIPANT", "DT_LEDGER_SWEEP_INTERVAL_MS",
  "STABLECOIN_CHAINS", "STABLECOIN_DEPLOYMENTS_FILE", "STABLECOIN_RPC_URL", "STABLECOIN_MINT_CONFIRMATIONS", "STABLECOIN_REDEEM_CONFIRMATIONS",
  "STABLECOIN_REORG_WINDOW_BLOCKS", "STABLECOIN_STUCK_AFTER_MS", "STABLECOIN_MAX_MINT_ATTEMPTS", "STABLECOIN_POLL_MS",
  "STABLECOIN_EXCHANGE_RATE_PER_SECOND", "STABLECOIN_MINT_REQUEST_TTL_SECONDS",
  "COLLATERAL_ATTESTATION_INTERVAL_SECONDS", "COLLATERAL_PUBLIC_RPC_URL",
  "PVP_AGENT_BIC", "PVP_SIGNING_KEY_ID", "PVP_FOREIGN_LEDGERS_FILE", "PVP_RESPONDER_LEDGER", "PVP_HOME_CURRENCY",
  "PVP_MAX_LOCK_SECONDS", "PVP_STATUS_REQUEST_AFTER_SECONDS", "PVP_POLL_INTERVAL_MS",
  "PVP_LOCK_WINDOW_SECONDS", "PVP_CLOCK_DRIFT_SECONDS", "PVP_TIME_TO_ACT_SECONDS",
  "PVP_SIGNING_KEY_VALID_FROM", "PVP_NEXT_SIGNING_KEYS", "PVP_RETIRING_SIGNING_KEYS",
  "DVP_SECURITIES_FILE",
  // DT ledger service (src/dt-ledger/config.ts)
  "DT_LEDGER_HOST", "DT_LEDGER_PORT", "DT_LEDGER_DATABASE_URL", "DT_LEDGER_PUBLIC_URL",
  // contracts deploy (src/evm/contracts-cli.ts) and the setup commands
  "EVM_RPC_URL", "EVM_DEPLOYER_KEY", "EVM_CONFIRMATIONS", "COLLATERAL_SIGNER_ADDRESS", "SEGREGATED_ACCOUNT",
  "MAX_STATEMENT_AGE_SECONDS", "DEPLOYMENTS_DIR", "STABLECOIN_NAME", "STABLECOIN_SYMBOL", "STABLECOIN_MINTER_ADDRESS",
  "STABLECOIN_MINTER_ALLOWANCE", "EVM_PRIVATE_KEY", "EVM_PRIVATE_KEY_FILE", "EVM_DEPLOYER_KEY_FILE",
  // clients of a running gateway, and the launcher (bin/tenge-gateway.js, .ci/run)
  "TENGE_GATEWAY_URL", "TENGE_API_KEY", "TENGE_GATEWAY_NODE24", "TENGE_CI_REEXEC",
  ...SECRET_SETTINGS.flatMap((name) => [name, `${name}_FILE`]),
];

/** Settings named after a value: a minter key per chain of STABLECOIN_CHAINS (src/evm/chain-settings.ts). */
export const SETTING_PATTERNS: readonly RegExp[] = [/^STABLECOIN_MINTER_KEY_[1-9][0-9]*(_FILE)?$/];

/** Prefixes only tenge-gateway uses: any variable carrying one is meant for us. */
export const PROJECT_PREFIXES = ["DT_LEDGER_", "STABLECOIN_", "PVP_", "COLLATERAL_", "EMBEDDED_", "TENGE_"] as const;

const known = new Set(KNOWN_SETTINGS);

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transposition), so `PROT` is one edit from `PORT`.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * A typo allows one edit in a short name and two in a long one: HOME is two edits from HOST and PGPORT two from
 * PORT, and both are someone else's variables.
 */
function allowedEdits(name: string): number {
  return name.length <= 8 ? 1 : 2;
}

/** The known setting `name` most likely stands for, or undefined when it is nowhere near one. */
export function nearestSetting(name: string, candidates: Iterable<string> = known): string | undefined {
  const upper = name.toUpperCase();
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(upper, candidate);
    if (distance <= allowedEdits(candidate) && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** The closest known name whatever the distance, for a prefixed name that is no typo of anything. */
function closest(name: string): string {
  let best = { name: "", distance: Infinity };
  for (const candidate of known) {
    const distance = editDistance(name.toUpperCase(), candidate);
    if (distance < best.distance) best = { name: candidate, distance };
  }
  return best.name;
}

export interface SettingNameSources {
  /** The process environment: full of other programs' variables, so only near-misses and our prefixes count. */
  env: Record<string, string | undefined>;
  /** The keys of TENGE_CONFIG_FILE: every key there is meant for us, so any unknown key counts. */
  fileKeys?: string[];
  /** Variables a settings file points at (PVP_FOREIGN_LEDGERS_FILE payerKeys `env`), read on purpose. */
  referenced?: string[];
}

/**
 * Refuses a variable we would silently ignore: one line naming it and the setting it most likely means.
 * Throws ConfigError for the first one found (file keys first: they can only be ours).
 */
export function checkSettingNames(sources: SettingNameSources): void {
  const allowed = new Set([...known, ...(sources.referenced ?? [])]);
  const isSetting = (key: string) => allowed.has(key) || SETTING_PATTERNS.some((pattern) => pattern.test(key));
  for (const key of sources.fileKeys ?? []) {
    if (isSetting(key)) continue;
    const near = nearestSetting(key) ?? closest(key);
    throw new ConfigError("TENGE_CONFIG_FILE", `has the key ${key}, which is not a setting (did you mean ${near}?); rename or remove it`);
  }
  for (const key of Object.keys(sources.env)) {
    if (isSetting(key) || !/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) continue;
    const near = nearestSetting(key);
    if (near) throw new ConfigError(key, `is not a setting (did you mean ${near}?); rename or unset it`);
    if (PROJECT_PREFIXES.some((prefix) => key.startsWith(prefix))) {
      throw new ConfigError(key, `is not a setting of tenge-gateway (closest: ${closest(key)}); rename or unset it (see docs/deploy.md)`);
    }
  }
}
