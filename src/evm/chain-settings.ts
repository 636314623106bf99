import { getAddress, isAddress, type Address, type Hex } from "viem";
import { ConfigError } from "../config/config.ts";
import { readSecret } from "../config/secret.ts";
import { privateKeyHex, SettingError, url } from "../config/settings.ts";

/**
 * The chains one stablecoin deployment serves (issue 22): one collateral pool, the token on each chain.
 * `start` reads it (src/gateway/settings.ts); this is the settings shape and its validation, pure apart from
 * reading the minter key files.
 *
 *   STABLECOIN_CHAINS='[{"chainId":56,"rpcUrl":"https://…","token":"0x…","htlc":"0x…","startBlock":123,
 *                        "mintConfirmations":15,"redeemConfirmations":15,"reorgWindowBlocks":64,
 *                        "publicRpcUrl":"https://…"}, …]'
 *   STABLECOIN_MINTER_KEY_<chainId> or STABLECOIN_MINTER_KEY_<chainId>_FILE   (absent: watch-only on that chain)
 *
 * The first chain is the default for requests that name none. Keys never appear in STABLECOIN_CHAINS.
 */
export interface ChainSettings {
  chainId: number;
  rpcUrl: string;
  /** The TengeStablecoin and HashTimeLock addresses `contracts deploy` wrote for this chain. */
  token: Address;
  htlc: Address;
  mintConfirmations: number;
  redeemConfirmations: number;
  /** Blocks a reorganisation can undo on this chain; the confirmations must cover it. */
  reorgWindowBlocks: number;
  /** The token's deployment block: the first block scanned for its Redeemed logs (default 0). */
  startBlock: bigint;
  minterKey: Hex | undefined;
  /** The RPC verifiers of the proof of collateral are pointed at for this chain (default: rpcUrl). */
  publicRpcUrl?: string;
}

export const CHAINS_VARIABLE = "STABLECOIN_CHAINS";
const MINTER_KEY_PREFIX = "STABLECOIN_MINTER_KEY_";
const FIELDS = ["chainId", "rpcUrl", "publicRpcUrl", "token", "htlc", "startBlock", "mintConfirmations", "redeemConfirmations", "reorgWindowBlocks"] as const;
const DEFAULTS = { mintConfirmations: 1, redeemConfirmations: 1, reorgWindowBlocks: 32 } as const;

/** Parses and checks the chains; any problem is one ConfigError line naming the chain and the field. */
export function parseChainSettings(env: Record<string, string | undefined>): ChainSettings[] {
  const raw = env[CHAINS_VARIABLE];
  if (raw === undefined || raw.trim() === "") throw new ConfigError(CHAINS_VARIABLE, "must name at least one chain");
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(CHAINS_VARIABLE, "must be a JSON array of chains");
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new ConfigError(CHAINS_VARIABLE, "must be a non-empty JSON array of chains");
  const chains = parsed.map((entry, index) => chainAt(entry, index, env));
  const seen = new Set<number>();
  for (const chain of chains) {
    if (seen.has(chain.chainId)) throw new ConfigError(CHAINS_VARIABLE, `names chain ${chain.chainId} twice`);
    seen.add(chain.chainId);
  }
  for (const variable of Object.keys(env)) {
    const match = new RegExp(`^${MINTER_KEY_PREFIX}(\\d+)(_FILE)?$`).exec(variable);
    if (match && env[variable] !== undefined && env[variable] !== "" && !seen.has(Number(match[1]))) {
      throw new ConfigError(variable, `names chain ${match[1]}, which ${CHAINS_VARIABLE} does not list`);
    }
  }
  return chains;
}

/** The chain a request names, or the first one when it names none; an unknown chain id is refused. */
export function chainFor(chains: readonly ChainSettings[], chainId: number | undefined): ChainSettings | undefined {
  return chainId === undefined ? chains[0] : chains.find((chain) => chain.chainId === chainId);
}

function chainAt(entry: unknown, index: number, env: Record<string, string | undefined>): ChainSettings {
  const where = `chain ${index + 1}`;
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new ConfigError(CHAINS_VARIABLE, `${where} must be a JSON object`);
  const fields = entry as Record<string, unknown>;
  for (const name of Object.keys(fields)) {
    if (/key/i.test(name)) throw new ConfigError(CHAINS_VARIABLE, `${where} must not carry a key (${name}); use ${MINTER_KEY_PREFIX}<chainId>_FILE`);
    if (!(FIELDS as readonly string[]).includes(name)) throw new ConfigError(CHAINS_VARIABLE, `${where} has an unknown field ${name}`);
  }
  const chainId = integerField(fields, "chainId", where, 1, Number.MAX_SAFE_INTEGER, undefined);
  const at = `${where} (chain id ${chainId})`;
  const rpcUrl = fields["rpcUrl"];
  if (typeof rpcUrl !== "string") throw new ConfigError(CHAINS_VARIABLE, `${at} needs rpcUrl`);
  try {
    url("http:", "https:", "ws:", "wss:")(rpcUrl);
  } catch (error) {
    if (error instanceof SettingError) throw new ConfigError(CHAINS_VARIABLE, `${at} rpcUrl ${error.message}`);
    throw error;
  }
  const publicRpcUrl = fields["publicRpcUrl"];
  if (publicRpcUrl !== undefined) {
    try {
      if (typeof publicRpcUrl !== "string") throw new SettingError("must be a URL");
      url("http:", "https:")(publicRpcUrl);
    } catch (error) {
      if (error instanceof SettingError) throw new ConfigError(CHAINS_VARIABLE, `${at} publicRpcUrl ${error.message}`);
      throw error;
    }
  }
  const chain: ChainSettings = {
    chainId,
    rpcUrl,
    ...(typeof publicRpcUrl === "string" ? { publicRpcUrl } : {}),
    token: addressField(fields, "token", at),
    htlc: addressField(fields, "htlc", at),
    mintConfirmations: integerField(fields, "mintConfirmations", at, 1, 1000, DEFAULTS.mintConfirmations),
    redeemConfirmations: integerField(fields, "redeemConfirmations", at, 1, 1000, DEFAULTS.redeemConfirmations),
    reorgWindowBlocks: integerField(fields, "reorgWindowBlocks", at, 1, 10_000, DEFAULTS.reorgWindowBlocks),
    startBlock: BigInt(integerField(fields, "startBlock", at, 0, Number.MAX_SAFE_INTEGER, 0)),
    minterKey: readSecret(env, `${MINTER_KEY_PREFIX}${chainId}`, privateKeyHex),
  };
  if (chain.token === chain.htlc) throw new ConfigError(CHAINS_VARIABLE, `${at} gives the token and the HTLC the same address`);
  return chain;
}

function integerField(fields: Record<string, unknown>, name: string, where: string, min: number, max: number, fallback: number | undefined): number {
  const value = fields[name];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(CHAINS_VARIABLE, `${where} ${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function addressField(fields: Record<string, unknown>, name: string, where: string): Address {
  const value = fields[name];
  if (typeof value !== "string" || !isAddress(value, { strict: false })) {
    throw new ConfigError(CHAINS_VARIABLE, `${where} ${name} must be a 0x-prefixed 20-byte address`);
  }
  // A mixed-case address must carry a valid checksum: a typo in it is caught here.
  const digits = value.slice(2);
  if (digits !== digits.toLowerCase() && digits !== digits.toUpperCase() && getAddress(value) !== value) {
    throw new ConfigError(CHAINS_VARIABLE, `${where} ${name} has a wrong checksum`);
  }
  return getAddress(value);
}
