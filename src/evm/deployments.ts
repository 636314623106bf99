import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { CodedError } from "../core/errors.ts";

/** One deployed contract: where it lives and the transaction that created it. */
export interface DeployedContract {
  address: Address;
  transactionHash: Hex;
  blockNumber: bigint;
}

/**
 * What `deployments/<chainId>.json` records: the contracts of one chain and the settings they were
 * deployed with. Integrators and the fork tests read the addresses from here.
 */
export interface Deployment {
  chainId: number;
  deployer: Address;
  deployedAt: string;
  contracts: {
    TengeStablecoin: DeployedContract;
    HashTimeLock: DeployedContract;
    DemoForeignCbdc?: DeployedContract;
    /** DvP's securities leg: who may hold the security, and the security token. */
    EligibilityRegistry?: DeployedContract;
    SecurityToken?: DeployedContract;
  };
  stablecoin: {
    name: string;
    symbol: string;
    decimals: 2;
    owner: Address;
    collateralSigner: Address;
    segregatedAccount: string;
    maxStatementAge: bigint;
  };
  /** The security deployed with SecurityToken: what it is and the eligible holdings it started with. */
  security?: {
    name: string;
    symbol: string;
    isin: string;
    decimals: number;
    /** Admin and agent of the registry and the token. */
    agent: Address;
    holders: { address: Address; units: bigint }[];
    custodians: Address[];
  };
}

/** The deployments file is missing required fields or holds bad values. */
export class DeploymentFileError extends CodedError<"DEPLOYMENT_FILE_INVALID"> {
  constructor(path: string, problem: string) {
    super("DEPLOYMENT_FILE_INVALID", `${path}: ${problem}`, { path });
  }
}

export function deploymentPath(directory: string, chainId: number): string {
  return join(directory, `${chainId}.json`);
}

/** Writes the file atomically (write, then rename), bigints as decimal strings. */
export async function writeDeployment(directory: string, deployment: Deployment): Promise<string> {
  await mkdir(directory, { recursive: true });
  const path = deploymentPath(directory, deployment.chainId);
  const text = JSON.stringify(deployment, (_key, value) => (typeof value === "bigint" ? value.toString() : value), 2);
  await writeFile(`${path}.tmp`, `${text}\n`);
  await rename(`${path}.tmp`, path);
  return path;
}

/** Reads `<directory>/<chainId>.json`; undefined when there is none. */
export async function readDeployment(directory: string, chainId: number): Promise<Deployment | undefined> {
  const path = deploymentPath(directory, chainId);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return parseDeployment(path, text);
}

export function parseDeployment(path: string, text: string): Deployment {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new DeploymentFileError(path, "is not JSON");
  }
  const file = raw as Record<string, unknown>;
  const contracts = (file["contracts"] ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const stablecoin = (file["stablecoin"] ?? {}) as Record<string, unknown>;
  const contract = (name: string, required: boolean): DeployedContract | undefined => {
    const entry = contracts[name];
    if (!entry) {
      if (required) throw new DeploymentFileError(path, `has no contracts.${name}`);
      return undefined;
    }
    return {
      address: address(path, `contracts.${name}.address`, entry["address"]),
      transactionHash: String(entry["transactionHash"]) as Hex,
      blockNumber: BigInt(String(entry["blockNumber"] ?? "0")),
    };
  };
  if (typeof file["chainId"] !== "number") throw new DeploymentFileError(path, "has no numeric chainId");
  const demo = contract("DemoForeignCbdc", false);
  const registry = contract("EligibilityRegistry", false);
  const securityToken = contract("SecurityToken", false);
  const security = file["security"] as Record<string, unknown> | undefined;
  if ((registry === undefined) !== (securityToken === undefined) || (securityToken === undefined) !== (security === undefined)) {
    throw new DeploymentFileError(path, "has only part of a security (EligibilityRegistry, SecurityToken and security go together)");
  }
  return {
    chainId: file["chainId"],
    deployer: address(path, "deployer", file["deployer"]),
    deployedAt: String(file["deployedAt"]),
    contracts: {
      TengeStablecoin: contract("TengeStablecoin", true) as DeployedContract,
      HashTimeLock: contract("HashTimeLock", true) as DeployedContract,
      ...(demo ? { DemoForeignCbdc: demo } : {}),
      ...(registry && securityToken ? { EligibilityRegistry: registry, SecurityToken: securityToken } : {}),
    },
    stablecoin: {
      name: String(stablecoin["name"]),
      symbol: String(stablecoin["symbol"]),
      decimals: 2,
      owner: address(path, "stablecoin.owner", stablecoin["owner"]),
      collateralSigner: address(path, "stablecoin.collateralSigner", stablecoin["collateralSigner"]),
      segregatedAccount: String(stablecoin["segregatedAccount"]),
      maxStatementAge: BigInt(String(stablecoin["maxStatementAge"])),
    },
    ...(security ? { security: parseSecurity(path, security) } : {}),
  };
}

function parseSecurity(path: string, security: Record<string, unknown>): NonNullable<Deployment["security"]> {
  const holders = Array.isArray(security["holders"]) ? (security["holders"] as Record<string, unknown>[]) : [];
  const custodians = Array.isArray(security["custodians"]) ? (security["custodians"] as unknown[]) : [];
  if (typeof security["decimals"] !== "number") throw new DeploymentFileError(path, "security.decimals is not a number");
  return {
    name: String(security["name"]),
    symbol: String(security["symbol"]),
    isin: String(security["isin"]),
    decimals: security["decimals"],
    agent: address(path, "security.agent", security["agent"]),
    holders: holders.map((holder, index) => ({ address: address(path, `security.holders[${index}].address`, holder["address"]), units: BigInt(String(holder["units"] ?? "0")) })),
    custodians: custodians.map((custodian, index) => address(path, `security.custodians[${index}]`, custodian)),
  };
}

function address(path: string, field: string, value: unknown): Address {
  if (typeof value !== "string" || !isAddress(value, { strict: false })) {
    throw new DeploymentFileError(path, `${field} is not an address`);
  }
  return getAddress(value);
}
