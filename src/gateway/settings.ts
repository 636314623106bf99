import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { ConfigError, readSetting, settingsSource, type GatewayConfig } from "../config/config.ts";
import { bytes32Hex, readSecret, readSecretFile } from "../config/secret.ts";
import { defaultTimelockPolicy } from "../pvp/timelock-policy.ts";
import { checkOwnKeys, KEY_ID, parseKeyList } from "../correspondents/published-keys.ts";
import { ed25519PrivateKey, ed25519RawPublicKey } from "../identity/http-signature.ts";
import { boolean, integer, privateKeyHex, SettingError, text, url, type SettingReader } from "../config/settings.ts";
import { parseDeployment, type Deployment } from "../evm/deployments.ts";
import { CHAINS_VARIABLE, parseChainSettings, type ChainSettings } from "../evm/chain-settings.ts";
import { currencyMinorUnits } from "../core/money.ts";
import { loadStablecoinEnvironment, type StablecoinEnvironment } from "../stablecoin/stablecoin-config.ts";

/** How the gateway reaches the DT ledger. */
export type DtLedgerSettings =
  | { mode: "http"; url: string; participantId: string; signingSeed: Uint8Array }
  | { mode: "in-process"; participantId: string; operatorKey: Hex; sweepIntervalMs: number };

/**
 * One chain of the stablecoin: from STABLECOIN_CHAINS, or the one chain of STABLECOIN_DEPLOYMENTS_FILE and
 * STABLECOIN_RPC_URL (mapped to the same shape, with the file's segregated account).
 */
export interface StablecoinChainSettings extends ChainSettings {
  /** STABLECOIN_DEPLOYMENTS_FILE, on the single-chain settings. */
  deploymentsFile?: string;
  /** The deployments file's segregated account; with STABLECOIN_CHAINS each token is asked at start. */
  segregatedAccount?: string;
}

/** One `evm:<name>` foreign ledger of PVP_FOREIGN_LEDGERS_FILE, keys resolved. */
export interface EvmLedgerSettings {
  name: string;
  rpcUrl: string;
  chainId: number;
  hashTimeLock: Address;
  fromBlock: bigint;
  confirmations: number;
  tokens: Record<string, { address: Address; unitsPerMinor: bigint }>;
  payerKeys: Hex[];
}

/** Our message signing key and the keys published beside it for rotation (docs/deploy.md "Rotating our signing key"). */
export interface PvpSigningSettings {
  keyId: string;
  seed: Uint8Array;
  /** PVP_SIGNING_KEY_VALID_FROM: since when it signs (published; advisory). */
  validFrom?: Date | undefined;
  /** PVP_NEXT_SIGNING_KEYS: published before they sign, so correspondents pin them in time. */
  next?: Array<{ keyId: string; publicKey: string; validFrom: Date }>;
  /** PVP_RETIRING_SIGNING_KEYS: keys that signed until the rotation, valid until `validUntil`. */
  retiring?: Array<{ keyId: string; publicKey: string; validUntil: Date }>;
}

export interface PvpSettings {
  agent: string;
  signing: PvpSigningSettings | undefined;
  /** PVP_SECRET_KEY: encrypts unrevealed preimages at rest (undefined only on the embedded stack, which generates one). */
  secretKey: Uint8Array | undefined;
  foreignLedgers: EvmLedgerSettings[];
  responderLedger: string;
  /** PVP_MAX_LOCK_SECONDS: longest a leg may stay locked, on either side. */
  maxLockSeconds: number;
  /** PVP_HOME_CURRENCY: the currency of the DT ledger's amounts (KZT; another central bank's own ledger: its currency). */
  homeCurrency: string;
  /** PVP_STATUS_REQUEST_AFTER_SECONDS: silence after which a peer is asked for a PvP's status (pacs.028). */
  statusRequestAfterSeconds: number;
  /** PVP_LOCK_WINDOW_SECONDS, PVP_CLOCK_DRIFT_SECONDS, PVP_TIME_TO_ACT_SECONDS: the timelock policy (docs/pvp.md; default when absent). */
  timelock?: { lockWindowSeconds: number; clockDriftSeconds: number; timeToActSeconds: number };
  pollIntervalMs: number;
}

/** One securities ledger of DVP_SECURITIES_FILE (a SecurityToken and the HTLC on one chain), keys resolved. */
export interface SecuritiesLedgerSettings {
  name: string;
  rpcUrl: string;
  chainId: number;
  hashTimeLock: Address;
  securityToken: Address;
  fromBlock: bigint;
  confirmations: number;
  /** Keys of the brokers' holdings the gateway delivers from (as their custodian). */
  holdingKeys: Hex[];
}

/** Every feature setting of a deployment, validated before anything starts. */
export interface DeploymentSettings {
  /** DVP_SECURITIES_FILE: the securities ledgers DvPs deliver on (none: DvP is off). */
  securitiesLedgers?: SecuritiesLedgerSettings[];
  dtLedger: DtLedgerSettings | undefined;
  /** The stablecoin's chains, the default first; empty: no stablecoin. */
  stablecoinChains: StablecoinChainSettings[];
  /** Minter, attestation key and tuning (also used by the embedded stack). */
  stablecoin: StablecoinEnvironment;
  pvp: PvpSettings | undefined;
}

type Source = Record<string, string | undefined>;

const present = (source: Source, variable: string) => Boolean(source[variable]) || Boolean(source[`${variable}_FILE`]);

const bic: SettingReader<string> = (raw) => {
  if (!/^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(raw)) throw new SettingError(`must be a BIC (8 or 11 characters), got "${raw}"`);
  return raw;
};

/** Settings that name external systems: the embedded stack supplies those itself. */
const EXTERNAL = [
  "DT_LEDGER_URL",
  "DT_LEDGER_IN_PROCESS",
  "DT_LEDGER_PARTICIPANT",
  "DT_LEDGER_SIGNING_KEY",
  "DT_LEDGER_OPERATOR_KEY",
  "STABLECOIN_CHAINS",
  "STABLECOIN_DEPLOYMENTS_FILE",
  "STABLECOIN_RPC_URL",
  "PVP_FOREIGN_LEDGERS_FILE",
  "DVP_SECURITIES_FILE",
];

/**
 * Reads and checks every feature setting of `env` (and TENGE_CONFIG_FILE): values, files, key file
 * modes and the dependencies between features. Throws ConfigError naming the first bad variable.
 */
export function loadDeploymentSettings(config: GatewayConfig, env: NodeJS.ProcessEnv = process.env): DeploymentSettings {
  const source = settingsSource(env);
  const stablecoin = loadStablecoinEnvironment(source);
  if (config.embedded) {
    const external = EXTERNAL.find((variable) => present(source, variable));
    if (external) throw new ConfigError(external, "must be unset with EMBEDDED=true: the embedded stack supplies the DT ledger, the chain and the foreign ledger");
    return { dtLedger: undefined, stablecoinChains: [], stablecoin, pvp: loadPvp(source, true) };
  }
  const dtLedger = loadDtLedger(source);
  const stablecoinChains = loadStablecoinChains(source, stablecoin);
  if (stablecoinChains.length > 0) {
    const variable = present(source, CHAINS_VARIABLE) ? CHAINS_VARIABLE : "STABLECOIN_DEPLOYMENTS_FILE";
    if (!dtLedger) throw new ConfigError(variable, "needs a DT ledger: set DT_LEDGER_URL or DT_LEDGER_IN_PROCESS=true");
    if (!stablecoin.attestationSecret) {
      throw new ConfigError("COLLATERAL_ATTESTATION_KEY", `must be set (or COLLATERAL_ATTESTATION_KEY_FILE) with ${variable}: every gateway process signs attestations with the same key`);
    }
  }
  const pvp = loadPvp(source, false);
  // A foreign central bank's gateway has no DT ledger: it answers PvPs on a ledger of its own (PVP_RESPONDER_LEDGER).
  if (pvp && !dtLedger && !pvp.foreignLedgers.some((ledger) => ledger.name === pvp.responderLedger)) {
    throw new ConfigError(
      "PVP_AGENT_BIC",
      "needs a ledger of our own: DT_LEDGER_URL or DT_LEDGER_IN_PROCESS=true for the DT ledger, or (a central bank on its own ledger) PVP_RESPONDER_LEDGER=evm:<name> naming a ledger of PVP_FOREIGN_LEDGERS_FILE",
    );
  }
  const securitiesFile = readSetting(source, "DVP_SECURITIES_FILE", text);
  if (securitiesFile && (!pvp || !dtLedger)) throw new ConfigError("DVP_SECURITIES_FILE", "needs PvP (PVP_AGENT_BIC, its engine runs DvPs) and a DT ledger (the cash leg)");
  return { dtLedger, stablecoinChains, stablecoin, pvp, ...(securitiesFile ? { securitiesLedgers: readSecuritiesLedgers(securitiesFile, source) } : {}) };
}

const SECURITIES = "DVP_SECURITIES_FILE";

/**
 * Reads the securities ledgers file: `{ "securities": { rpcUrl, chainId, deploymentsFile, holdingKeys, confirmations? } }`,
 * the deployments file written by `contracts deploy --demo-bond` (or `--security-isin`), holding keys as
 * `{ "env": "VAR" }` or `{ "file": "/path" }` (never inline). Each problem names the variable and the field.
 */
export function readSecuritiesLedgers(file: string, source: Source): SecuritiesLedgerSettings[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError(SECURITIES, `must name a readable JSON file (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || Object.keys(parsed).length === 0) throw new ConfigError(SECURITIES, "must hold a JSON object of securities ledgers by name");
  return Object.entries(parsed as Record<string, unknown>).map(([name, raw]) => {
    const fail = (field: string, problem: string): never => {
      throw new ConfigError(SECURITIES, `${name}${field ? `.${field}` : ""} ${problem}`);
    };
    if (!/^securities(:[a-z0-9-]{1,40})?$/.test(name)) fail("", "must be named securities or securities:<name> (lowercase letters, digits, -)");
    const entry = (typeof raw === "object" && raw !== null ? raw : fail("", "must be an object")) as Record<string, unknown>;
    const rpcUrl = typeof entry["rpcUrl"] === "string" && /^https?:\/\//.test(entry["rpcUrl"]) ? entry["rpcUrl"] : fail("rpcUrl", "must be an http or https URL");
    const chainId = Number.isInteger(entry["chainId"]) && (entry["chainId"] as number) > 0 ? (entry["chainId"] as number) : fail("chainId", "must be a positive integer");
    const deploymentsFile = typeof entry["deploymentsFile"] === "string" ? entry["deploymentsFile"] : fail("deploymentsFile", "must name the deployments file of `contracts deploy --demo-bond` (or --security-isin)");
    const deployment = readDeploymentFile(SECURITIES, resolve(dirname(file), deploymentsFile));
    if (deployment.chainId !== chainId) fail("deploymentsFile", `is for chain ${deployment.chainId}, not ${chainId}`);
    const securityToken = deployment.contracts.SecurityToken?.address ?? fail("deploymentsFile", "has no SecurityToken (deploy one with contracts deploy --demo-bond or --security-isin)");
    const confirmations = entry["confirmations"] === undefined ? 1 : Number.isInteger(entry["confirmations"]) && (entry["confirmations"] as number) >= 1 ? (entry["confirmations"] as number) : fail("confirmations", "must be an integer >= 1");
    const keysRaw = entry["holdingKeys"];
    if (!Array.isArray(keysRaw) || keysRaw.length === 0) fail("holdingKeys", "must list at least one key as { \"env\": \"VAR\" } or { \"file\": \"/path\" }");
    const holdingKeys = (keysRaw as unknown[]).map((keyRaw, index) => {
      const ref = (keyRaw ?? {}) as Record<string, unknown>;
      let value: string | undefined;
      if (typeof ref["env"] === "string") {
        value = source[ref["env"]];
        if (!value) fail(`holdingKeys[${index}]`, `names ${ref["env"]}, which is unset`);
      } else if (typeof ref["file"] === "string") {
        value = readSecretFile(`${SECURITIES} ${name}.holdingKeys[${index}].file`, resolve(dirname(file), ref["file"]));
      } else {
        fail(`holdingKeys[${index}]`, "must be { \"env\": \"VAR\" } or { \"file\": \"/path\" } (keys are never inline)");
      }
      try {
        return privateKeyHex(value!.trim());
      } catch {
        return fail(`holdingKeys[${index}]`, "must lead to a 0x-prefixed 32-byte hex private key");
      }
    });
    return {
      name,
      rpcUrl,
      chainId,
      hashTimeLock: deployment.contracts.HashTimeLock.address,
      securityToken,
      fromBlock: deployment.contracts.HashTimeLock.blockNumber,
      confirmations,
      holdingKeys,
    };
  });
}

function loadDtLedger(source: Source): DtLedgerSettings | undefined {
  const ledgerUrl = readSetting(source, "DT_LEDGER_URL", url("http:", "https:"));
  const inProcess = readSetting(source, "DT_LEDGER_IN_PROCESS", boolean) ?? false;
  if (ledgerUrl && inProcess) throw new ConfigError("DT_LEDGER_IN_PROCESS", "must not be true with DT_LEDGER_URL set: choose the DT ledger over HTTP or in-process");
  if (!ledgerUrl && !inProcess) {
    for (const variable of ["DT_LEDGER_PARTICIPANT", "DT_LEDGER_SIGNING_KEY", "DT_LEDGER_OPERATOR_KEY"]) {
      if (present(source, variable)) throw new ConfigError(variable, "is set but no DT ledger is: set DT_LEDGER_URL or DT_LEDGER_IN_PROCESS=true");
    }
    return undefined;
  }
  const participantId = readSetting(source, "DT_LEDGER_PARTICIPANT", text);
  if (!participantId) throw new ConfigError("DT_LEDGER_PARTICIPANT", "must name the gateway's participant id on the DT ledger");
  if (ledgerUrl) {
    if (present(source, "DT_LEDGER_OPERATOR_KEY")) throw new ConfigError("DT_LEDGER_OPERATOR_KEY", "belongs to the DT ledger service, not to a gateway that reaches it over DT_LEDGER_URL");
    const signingSeed = readSecret(source, "DT_LEDGER_SIGNING_KEY", bytes32Hex);
    if (!signingSeed) throw new ConfigError("DT_LEDGER_SIGNING_KEY", "must hold the participant's Ed25519 seed (or DT_LEDGER_SIGNING_KEY_FILE) when DT_LEDGER_URL is set");
    return { mode: "http", url: ledgerUrl, participantId, signingSeed };
  }
  const operatorKey = readSecret(source, "DT_LEDGER_OPERATOR_KEY", privateKeyHex);
  if (!operatorKey) throw new ConfigError("DT_LEDGER_OPERATOR_KEY", "must hold the statement signing key (or DT_LEDGER_OPERATOR_KEY_FILE) with DT_LEDGER_IN_PROCESS=true");
  return { mode: "in-process", participantId, operatorKey, sweepIntervalMs: readSetting(source, "DT_LEDGER_SWEEP_INTERVAL_MS", integer(50, 3_600_000)) ?? 1000 };
}

/** Single-chain settings that STABLECOIN_CHAINS replaces (each chain there carries its own). */
const SINGLE_CHAIN_SETTINGS = ["STABLECOIN_DEPLOYMENTS_FILE", "STABLECOIN_RPC_URL", "STABLECOIN_MINTER_KEY", "STABLECOIN_MINT_CONFIRMATIONS", "STABLECOIN_REDEEM_CONFIRMATIONS", "STABLECOIN_REORG_WINDOW_BLOCKS"];

/**
 * The stablecoin's chains: STABLECOIN_CHAINS (any number), or else the one chain of STABLECOIN_DEPLOYMENTS_FILE
 * and STABLECOIN_RPC_URL with STABLECOIN_MINTER_KEY and the global confirmations, as before several chains.
 * Mixing the two is refused, so no setting is silently ignored.
 */
function loadStablecoinChains(source: Source, stablecoin: StablecoinEnvironment): StablecoinChainSettings[] {
  if (present(source, CHAINS_VARIABLE)) {
    const single = SINGLE_CHAIN_SETTINGS.find((variable) => present(source, variable));
    if (single) throw new ConfigError(single, `must be unset with ${CHAINS_VARIABLE}: give each chain its addresses, confirmations and STABLECOIN_MINTER_KEY_<chainId>_FILE there`);
    return parseChainSettings(source);
  }
  const perChainKey = Object.keys(source).find((variable) => /^STABLECOIN_MINTER_KEY_\d+(_FILE)?$/.test(variable) && source[variable]);
  if (perChainKey) throw new ConfigError(perChainKey, `needs ${CHAINS_VARIABLE} listing its chain; with STABLECOIN_DEPLOYMENTS_FILE the key is STABLECOIN_MINTER_KEY`);
  const file = readSetting(source, "STABLECOIN_DEPLOYMENTS_FILE", text);
  const rpcUrl = readSetting(source, "STABLECOIN_RPC_URL", url("http:", "https:"));
  if (!file) {
    if (rpcUrl) throw new ConfigError("STABLECOIN_RPC_URL", "is set but STABLECOIN_DEPLOYMENTS_FILE is not: name the deployments file `contracts deploy` wrote");
    return [];
  }
  if (!rpcUrl) throw new ConfigError("STABLECOIN_RPC_URL", "must name the chain's JSON-RPC endpoint when STABLECOIN_DEPLOYMENTS_FILE is set");
  const deployment = readDeploymentFile("STABLECOIN_DEPLOYMENTS_FILE", file);
  const token = deployment.contracts.TengeStablecoin;
  return [
    {
      chainId: deployment.chainId,
      rpcUrl,
      token: token.address,
      htlc: deployment.contracts.HashTimeLock.address,
      startBlock: token.blockNumber,
      mintConfirmations: stablecoin.settings.mintConfirmations,
      redeemConfirmations: stablecoin.settings.redeemConfirmations,
      reorgWindowBlocks: stablecoin.settings.reorgWindow,
      minterKey: stablecoin.minterKey,
      deploymentsFile: file,
      segregatedAccount: deployment.stablecoin.segregatedAccount,
    },
  ];
}

function readDeploymentFile(variable: string, file: string): Deployment {
  let textOfFile: string;
  try {
    textOfFile = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(variable, `must name a readable deployments file (${(error as NodeJS.ErrnoException).code ?? "unreadable"}: ${file})`);
  }
  try {
    return parseDeployment(file, textOfFile);
  } catch (error) {
    throw new ConfigError(variable, `is not a deployments file: ${(error as Error).message}`);
  }
}

/** An ISO 4217 code whose minor unit is 2 decimals, like the DT ledger's tiyn. */
const twoDecimalCurrency: SettingReader<string> = (raw) => {
  if (!/^[A-Z]{3}$/.test(raw) || currencyMinorUnits(raw) !== 2) throw new SettingError("must be an ISO 4217 currency code with 2 decimals (KZT by default)");
  return raw;
};

const ROTATION_SETTINGS = ["PVP_SIGNING_KEY_VALID_FROM", "PVP_NEXT_SIGNING_KEYS", "PVP_RETIRING_SIGNING_KEYS"] as const;

const instant: SettingReader<Date> = (raw) => {
  const at = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || Number.isNaN(at.getTime())) throw new SettingError("must be an ISO 8601 instant, e.g. 2026-12-01T00:00:00Z");
  return at;
};

const keyList: SettingReader<Array<{ keyId: string; publicKey: string; at: Date }>> = (raw) => {
  try {
    return parseKeyList(raw);
  } catch (error) {
    throw new SettingError(`must be keyId=publicKeyHex@instant entries, comma-separated: ${(error as Error).message}`);
  }
};

/** The active key and the keys published beside it (rotation with an overlap); one key id, one public key each. */
function signingSettings(source: Source, keyId: string, seed: Uint8Array): PvpSigningSettings {
  if (!KEY_ID.test(keyId)) throw new ConfigError("PVP_SIGNING_KEY_ID", "must be 1 to 128 of A-Z a-z 0-9 . _ : -");
  const validFrom = readSetting(source, "PVP_SIGNING_KEY_VALID_FROM", instant);
  const next = (readSetting(source, "PVP_NEXT_SIGNING_KEYS", keyList) ?? []).map(({ keyId: id, publicKey, at }) => ({ keyId: id, publicKey, validFrom: at }));
  const retiring = (readSetting(source, "PVP_RETIRING_SIGNING_KEYS", keyList) ?? []).map(({ keyId: id, publicKey, at }) => ({ keyId: id, publicKey, validUntil: at }));
  const publicKey = Buffer.from(ed25519RawPublicKey(ed25519PrivateKey(seed))).toString("hex");
  const clash = checkOwnKeys({ active: { keyId, publicKey }, next, retiring });
  if (clash) throw new ConfigError(retiring.length > 0 ? "PVP_RETIRING_SIGNING_KEYS" : "PVP_NEXT_SIGNING_KEYS", `${clash} (with PVP_SIGNING_KEY_ID ${keyId})`);
  return { keyId, seed, ...(validFrom ? { validFrom } : {}), next, retiring };
}

function rotationWithoutKey(source: Source): undefined {
  for (const variable of ROTATION_SETTINGS) {
    if (present(source, variable)) throw new ConfigError(variable, "is set but PVP_SIGNING_KEY is not: it publishes keys beside the active one");
  }
  return undefined;
}

function loadPvp(source: Source, embedded: boolean): PvpSettings | undefined {
  const agent = readSetting(source, "PVP_AGENT_BIC", bic) ?? (embedded ? "NBRKKZKX" : undefined);
  if (!agent) {
    for (const variable of ["PVP_SIGNING_KEY", "PVP_SIGNING_KEY_ID", "PVP_SECRET_KEY", "PVP_FOREIGN_LEDGERS_FILE", ...ROTATION_SETTINGS]) {
      if (present(source, variable)) throw new ConfigError(variable, "is set but PVP_AGENT_BIC is not: PvP is on only with our BIC");
    }
    return undefined;
  }
  const seed = readSecret(source, "PVP_SIGNING_KEY", bytes32Hex);
  const keyId = readSetting(source, "PVP_SIGNING_KEY_ID", text);
  if (seed && !keyId) throw new ConfigError("PVP_SIGNING_KEY_ID", "must name the key id correspondents registered for PVP_SIGNING_KEY");
  if (keyId && !seed) throw new ConfigError("PVP_SIGNING_KEY", "must hold the Ed25519 seed (or PVP_SIGNING_KEY_FILE) of PVP_SIGNING_KEY_ID");
  const secretKey = readSecret(source, "PVP_SECRET_KEY", bytes32Hex);
  if (!secretKey && !embedded) throw new ConfigError("PVP_SECRET_KEY", "must hold 32 bytes of hex (or PVP_SECRET_KEY_FILE): it encrypts unrevealed preimages at rest");
  const ledgersFile = readSetting(source, "PVP_FOREIGN_LEDGERS_FILE", text);
  const maxLockSeconds = readSetting(source, "PVP_MAX_LOCK_SECONDS", integer(60, 30 * 86_400)) ?? 86_400;
  const statusRequestAfterSeconds = readSetting(source, "PVP_STATUS_REQUEST_AFTER_SECONDS", integer(1, 999_999)) ?? 30;
  const timelock = {
    lockWindowSeconds: readSetting(source, "PVP_LOCK_WINDOW_SECONDS", integer(10, 7 * 86_400)) ?? defaultTimelockPolicy.lockWindowMs / 1000,
    clockDriftSeconds: readSetting(source, "PVP_CLOCK_DRIFT_SECONDS", integer(1, 3_600)) ?? defaultTimelockPolicy.clockDriftMs / 1000,
    timeToActSeconds: readSetting(source, "PVP_TIME_TO_ACT_SECONDS", integer(2, 86_400)) ?? defaultTimelockPolicy.timeToActMs / 1000,
  };
  checkTimelockSettings(timelock, maxLockSeconds, statusRequestAfterSeconds);
  return {
    agent,
    signing: seed && keyId ? signingSettings(source, keyId, seed) : rotationWithoutKey(source),
    secretKey,
    foreignLedgers: ledgersFile ? readForeignLedgers(ledgersFile, source) : [],
    responderLedger: readSetting(source, "PVP_RESPONDER_LEDGER", text) ?? "dt",
    maxLockSeconds,
    homeCurrency: readSetting(source, "PVP_HOME_CURRENCY", twoDecimalCurrency) ?? "KZT",
    statusRequestAfterSeconds,
    timelock,
    pollIntervalMs: readSetting(source, "PVP_POLL_INTERVAL_MS", integer(10, 60_000)) ?? 1000,
  };
}

/**
 * The safety rules of docs/pvp.md ("Timelock policy") a policy must keep to start: a responder can still
 * lock inside the lock window, a lost reveal is chased at least once before the claim deadline, and the
 * default expiries stay within the longest lock allowed.
 */
function checkTimelockSettings(timelock: NonNullable<PvpSettings["timelock"]>, maxLockSeconds: number, statusRequestAfterSeconds: number): void {
  const { lockWindowSeconds, clockDriftSeconds, timeToActSeconds } = timelock;
  if (lockWindowSeconds <= clockDriftSeconds + timeToActSeconds) {
    throw new ConfigError("PVP_LOCK_WINDOW_SECONDS", `must exceed PVP_CLOCK_DRIFT_SECONDS + PVP_TIME_TO_ACT_SECONDS (${clockDriftSeconds + timeToActSeconds}), or no responder can lock in time`);
  }
  if (statusRequestAfterSeconds * 2 > timeToActSeconds) {
    throw new ConfigError("PVP_STATUS_REQUEST_AFTER_SECONDS", `must be at most half of PVP_TIME_TO_ACT_SECONDS (${timeToActSeconds}), so a lost reveal is chased before the claim deadline`);
  }
  const longestDefault = 2 * lockWindowSeconds + 2 * (2 * clockDriftSeconds + timeToActSeconds);
  if (longestDefault > maxLockSeconds) {
    throw new ConfigError("PVP_MAX_LOCK_SECONDS", `must be at least ${longestDefault} (the DT leg's default expiry under the timelock policy)`);
  }
}

const LEDGERS = "PVP_FOREIGN_LEDGERS_FILE";

/** Reads the foreign ledgers file; each problem names the file's variable and the entry's field. */
export function readForeignLedgers(file: string, source: Source): EvmLedgerSettings[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError(LEDGERS, `must name a readable JSON file (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new ConfigError(LEDGERS, "must hold a JSON object of ledgers by name");
  return Object.entries(parsed as Record<string, unknown>).map(([name, entry]) => readEvmLedger(file, name, entry, source));
}

function readEvmLedger(file: string, name: string, raw: unknown, source: Source): EvmLedgerSettings {
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(LEDGERS, `${name}${field ? `.${field}` : ""} ${problem}`);
  };
  if (!/^evm:[a-z0-9-]{1,40}$/.test(name)) fail("", "must be named evm:<name> (lowercase letters, digits, -)");
  if (typeof raw !== "object" || raw === null) fail("", "must be an object");
  const entry = raw as Record<string, unknown>;
  const rpcUrl = typeof entry["rpcUrl"] === "string" && /^https?:\/\//.test(entry["rpcUrl"]) ? entry["rpcUrl"] : fail("rpcUrl", "must be an http or https URL");
  const chainId = Number.isInteger(entry["chainId"]) && (entry["chainId"] as number) > 0 ? (entry["chainId"] as number) : fail("chainId", "must be a positive integer");
  let hashTimeLock: Address;
  let fromBlock = 0n;
  if (typeof entry["deploymentsFile"] === "string") {
    const deployment = readDeploymentFile(LEDGERS, resolve(dirname(file), entry["deploymentsFile"]));
    if (deployment.chainId !== chainId) fail("deploymentsFile", `is for chain ${deployment.chainId}, not ${chainId}`);
    hashTimeLock = deployment.contracts.HashTimeLock.address;
    fromBlock = deployment.contracts.HashTimeLock.blockNumber;
  } else {
    hashTimeLock = typeof entry["hashTimeLock"] === "string" && isAddress(entry["hashTimeLock"], { strict: false }) ? getAddress(entry["hashTimeLock"]) : fail("hashTimeLock", "must be an address (or give deploymentsFile)");
  }
  if (entry["fromBlock"] !== undefined) {
    fromBlock = /^\d+$/.test(String(entry["fromBlock"])) ? BigInt(String(entry["fromBlock"])) : fail("fromBlock", "must be a block number");
  }
  const confirmations = entry["confirmations"] === undefined ? 1 : Number.isInteger(entry["confirmations"]) && (entry["confirmations"] as number) >= 1 ? (entry["confirmations"] as number) : fail("confirmations", "must be an integer >= 1");
  const tokensRaw = entry["tokens"];
  if (typeof tokensRaw !== "object" || tokensRaw === null || Object.keys(tokensRaw).length === 0) fail("tokens", "must map at least one currency to { address, decimals }");
  const tokens: EvmLedgerSettings["tokens"] = {};
  for (const [currency, tokenRaw] of Object.entries(tokensRaw as Record<string, unknown>)) {
    const minor = currencyMinorUnits(currency);
    if (minor === undefined) fail(`tokens.${currency}`, "is not an ISO 4217 currency code");
    const token = (tokenRaw ?? {}) as Record<string, unknown>;
    const address = typeof token["address"] === "string" && isAddress(token["address"], { strict: false }) ? getAddress(token["address"]) : fail(`tokens.${currency}.address`, "must be an address");
    const decimals = token["decimals"];
    if (!Number.isInteger(decimals) || (decimals as number) < minor! || (decimals as number) > 36) fail(`tokens.${currency}.decimals`, `must be an integer from ${minor} (the currency's minor units) to 36`);
    tokens[currency] = { address, unitsPerMinor: 10n ** BigInt((decimals as number) - minor!) };
  }
  const keysRaw = entry["payerKeys"];
  if (!Array.isArray(keysRaw) || keysRaw.length === 0) fail("payerKeys", "must list at least one key as { \"env\": \"VAR\" } or { \"file\": \"/path\" }");
  const payerKeys = (keysRaw as unknown[]).map((keyRaw, index) => {
    const ref = (keyRaw ?? {}) as Record<string, unknown>;
    let value: string | undefined;
    if (typeof ref["env"] === "string") {
      value = source[ref["env"]];
      if (!value) fail(`payerKeys[${index}]`, `names ${ref["env"]}, which is unset`);
    } else if (typeof ref["file"] === "string") {
      value = readSecretFile(`${LEDGERS} ${name}.payerKeys[${index}].file`, resolve(dirname(file), ref["file"]));
    } else {
      fail(`payerKeys[${index}]`, "must be { \"env\": \"VAR\" } or { \"file\": \"/path\" } (keys are never inline)");
    }
    try {
      return privateKeyHex(value!.trim());
    } catch {
      return fail(`payerKeys[${index}]`, "must lead to a 0x-prefixed 32-byte hex private key");
    }
  });
  return { name, rpcUrl, chainId, hashTimeLock, fromBlock, confirmations, tokens, payerKeys };
}
