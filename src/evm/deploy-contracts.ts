import {
  createPublicClient,
  createWalletClient,
  getAddress,
  http,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type WalletClient,
  type Chain,
  type Account,
  type Transport,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  demoForeignCbdcAbi,
  demoForeignCbdcBytecode,
  hashTimeLockAbi,
  hashTimeLockBytecode,
  tengeStablecoinAbi,
  tengeStablecoinBytecode,
} from "./generated/contracts.ts";
import { CodedError } from "../core/errors.ts";
import { TransactionRevertedError } from "./errors.ts";
import { chainAt } from "./evm-chain.ts";
import { deploySecurity, validateSecurity, type SecurityParameters } from "./deploy-security.ts";
import { deploymentPath, readDeployment, writeDeployment, type DeployedContract, type Deployment } from "./deployments.ts";

export interface StablecoinMinter {
  address: Address;
  /** Tiyn the minter may mint (the collateral check applies on top). */
  allowance: bigint;
}

export interface DeployContractsParameters {
  rpcUrl: string;
  /** Pays for the deployment; becomes every role not given below. Never logged. */
  deployerKey: Hex;
  /** The DT ledger operator's address that signs collateral statements. */
  collateralSigner: Address;
  /** DT digital account id of the segregated collateral wallet. */
  segregatedAccount: string;
  /** Seconds a collateral statement stays usable for minting. */
  maxStatementAge: bigint;
  tokenName?: string;
  tokenSymbol?: string;
  /** Role holders; each defaults to the deployer. Minters are configured only while the deployer is master minter. */
  roles?: Partial<Record<"owner" | "masterMinter" | "pauser" | "blocklister" | "rescuer", Address>>;
  minters?: StablecoinMinter[];
  /** Also deploy a demo foreign-CBDC ERC-20 (issuer: the deployer) for the foreign leg of PvP swaps. */
  demoForeignCbdc?: { name: string; symbol: string; decimals: number };
  /** Also deploy a permissioned security (DvP's securities leg), with the HTLC registered as its custodian. */
  security?: Omit<SecurityParameters, "custodians">;
  /** Where `<chainId>.json` goes (default `deployments`). */
  deploymentsDir?: string;
  /** Blocks to wait for on each transaction (default 1: the receipt). */
  confirmations?: number;
  /**
   * Calls `requireIssuanceAllotments()` on the new token before any minter is configured: it then mints only
   * within the DT ledger's issuance allotment for this chain (one pool, several chains). One-way: it cannot
   * be turned off. Needs the deployer as owner.
   */
  requireIssuanceAllotments?: boolean;
}

export interface DeployContractsReturnType {
  deployment: Deployment;
  /** The deployments file. */
  path: string;
  /** True when the file already matched the chain and nothing was sent. */
  reused: boolean;
  /**
   * When reused: the requested stablecoin settings that differ from the recorded deployment. Nothing is
   * changed on chain; the owner changes them with setCollateralSigner, setSegregatedAccount, setMaxStatementAge.
   */
  differences: string[];
}

export const DEFAULT_TOKEN_NAME = "Digital Tenge Stablecoin";
export const DEFAULT_TOKEN_SYMBOL = "KZTD";

/**
 * Deploys and configures the stablecoin and the HTLC (and optionally a demo foreign CBDC), waits for each
 * receipt and records the addresses in `<deploymentsDir>/<chainId>.json`. Idempotent: when that file
 * exists and every address in it has code on the chain, it returns the file and sends nothing.
 *
 * @example
 * const { deployment } = await deployContracts({
 *   rpcUrl, deployerKey, collateralSigner, segregatedAccount: "KZ-DA-SEGREGATED-0001", maxStatementAge: 3600n,
 * });
 */
export async function deployContracts(parameters: DeployContractsParameters): Promise<DeployContractsReturnType> {
  const directory = parameters.deploymentsDir ?? "deployments";
  const transport = http(parameters.rpcUrl);
  const chain = await chainAt(parameters.rpcUrl);
  const chainId = chain.id;
  const publicClient = createPublicClient({ chain, transport });

  if (parameters.security) validateSecurity({ ...parameters.security, custodians: [] });
  const existing = await readDeployment(directory, chainId);
  if (existing && (await hasCodeAtEveryAddress(publicClient, existing))) {
    const differences = settingDifferences(existing, parameters);
    if (parameters.requireIssuanceAllotments && !(await allotmentsRequired(publicClient, existing.contracts.TengeStablecoin.address))) {
      differences.push("issuance allotments: not required by the deployed token, requested (the owner calls requireIssuanceAllotments(), one-way)");
    }
    return { deployment: existing, path: deploymentPath(directory, chainId), reused: true, differences };
  }

  const account = privateKeyToAccount(parameters.deployerKey);
  const wallet = createWalletClient({ account, chain, transport });
  const roles = {
    owner: parameters.roles?.owner ?? account.address,
    masterMinter: parameters.roles?.masterMinter ?? account.address,
    pauser: parameters.roles?.pauser ?? account.address,
    blocklister: parameters.roles?.blocklister ?? account.address,
    rescuer: parameters.roles?.rescuer ?? account.address,
  };
  const minters = parameters.minters ?? [];
  if (minters.length > 0 && roles.masterMinter !== account.address) {
    throw new CodedError("DEPLOYMENT_ROLES_INVALID", "minters can only be configured while the deployer is the master minter");
  }
  if (parameters.requireIssuanceAllotments && roles.owner !== account.address) {
    throw new CodedError("DEPLOYMENT_ROLES_INVALID", "issuance allotments can only be required at deployment while the deployer is the owner");
  }
  const name = parameters.tokenName ?? DEFAULT_TOKEN_NAME;
  const symbol = parameters.tokenSymbol ?? DEFAULT_TOKEN_SYMBOL;

  const confirmations = parameters.confirmations ?? 1;
  const stablecoin = await deploy(wallet, publicClient, confirmations, tengeStablecoinAbi, tengeStablecoinBytecode, [
    {
      name,
      symbol,
      ...roles,
      collateralSigner: parameters.collateralSigner,
      segregatedAccount: parameters.segregatedAccount,
      maxStatementAge: parameters.maxStatementAge,
    },
  ]);
  const hashTimeLock = await deploy(wallet, publicClient, confirmations, hashTimeLockAbi, hashTimeLockBytecode, []);
  const demo = parameters.demoForeignCbdc;
  const demoForeignCbdc = demo
    ? await deploy(wallet, publicClient, confirmations, demoForeignCbdcAbi, demoForeignCbdcBytecode, [
        demo.name,
        demo.symbol,
        demo.decimals,
        account.address,
      ])
    : undefined;
  const security = parameters.security
    ? await deploySecurity(wallet, publicClient, confirmations, { ...parameters.security, custodians: [hashTimeLock.address] })
    : undefined;
  // Before any minter: a minter configured first could mint outside the pool's allotment in between.
  if (parameters.requireIssuanceAllotments) {
    const hash = await wallet.writeContract({ address: stablecoin.address, abi: tengeStablecoinAbi, functionName: "requireIssuanceAllotments", args: [] });
    await expectSuccess(publicClient, hash, confirmations, "requireIssuanceAllotments");
  }
  for (const minter of minters) {
    const hash = await wallet.writeContract({
      address: stablecoin.address,
      abi: tengeStablecoinAbi,
      functionName: "configureMinter",
      args: [minter.address, minter.allowance],
    });
    await expectSuccess(publicClient, hash, confirmations, "configureMinter");
  }

  const deployment: Deployment = {
    chainId,
    deployer: account.address,
    deployedAt: new Date().toISOString(),
    contracts: {
      TengeStablecoin: stablecoin,
      HashTimeLock: hashTimeLock,
      ...(demoForeignCbdc ? { DemoForeignCbdc: demoForeignCbdc } : {}),
      ...(security ? { EligibilityRegistry: security.EligibilityRegistry, SecurityToken: security.SecurityToken } : {}),
    },
    stablecoin: {
      name,
      symbol,
      decimals: 2,
      owner: roles.owner,
      collateralSigner: parameters.collateralSigner,
      segregatedAccount: parameters.segregatedAccount,
      maxStatementAge: parameters.maxStatementAge,
    },
    ...(security
      ? { security: { name: security.name, symbol: security.symbol, isin: security.isin, decimals: security.decimals, agent: security.agent, holders: security.holders, custodians: security.custodians } }
      : {}),
  };
  const path = await writeDeployment(directory, deployment);
  return { deployment, path, reused: false, differences: [] };
}

function settingDifferences(deployment: Deployment, parameters: DeployContractsParameters): string[] {
  const recorded = deployment.stablecoin;
  const differences: string[] = [];
  if (getAddress(parameters.collateralSigner) !== recorded.collateralSigner) {
    differences.push(`collateral signer: deployed ${recorded.collateralSigner}, requested ${parameters.collateralSigner}`);
  }
  if (parameters.segregatedAccount !== recorded.segregatedAccount) {
    differences.push(`segregated account: deployed ${recorded.segregatedAccount}, requested ${parameters.segregatedAccount}`);
  }
  if (parameters.maxStatementAge !== recorded.maxStatementAge) {
    differences.push(`max statement age: deployed ${recorded.maxStatementAge}, requested ${parameters.maxStatementAge}`);
  }
  if (parameters.security && parameters.security.isin !== deployment.security?.isin) {
    differences.push(`security: deployed ${deployment.security?.isin ?? "none"}, requested ${parameters.security.isin} (deploy to a fresh deployments file)`);
  }
  return differences;
}

async function allotmentsRequired(client: PublicClient, token: Address): Promise<boolean> {
  const [, , , required] = await client.readContract({ address: token, abi: tengeStablecoinAbi, functionName: "issuance" });
  return required;
}

async function hasCodeAtEveryAddress(client: PublicClient, deployment: Deployment): Promise<boolean> {
  const addresses = Object.values(deployment.contracts).map((contract) => contract.address);
  const codes = await Promise.all(addresses.map((address) => client.getCode({ address })));
  return codes.every((code) => code !== undefined && code !== "0x");
}

async function deploy(
  wallet: WalletClient<Transport, Chain, Account>,
  client: PublicClient,
  confirmations: number,
  abi: Abi,
  bytecode: Hex,
  args: readonly unknown[],
): Promise<DeployedContract> {
  const transactionHash = await wallet.deployContract({ abi, bytecode, args });
  const receipt = await expectSuccess(client, transactionHash, confirmations, "deployment");
  if (!receipt.contractAddress) throw new CodedError("DEPLOYMENT_CREATED_NO_CONTRACT", `deployment ${transactionHash} created no contract`, { transactionHash });
  return { address: getAddress(receipt.contractAddress), transactionHash, blockNumber: receipt.blockNumber };
}

async function expectSuccess(client: PublicClient, hash: Hex, confirmations: number, what: string) {
  const receipt = await client.waitForTransactionReceipt({ hash, confirmations });
  if (receipt.status !== "success") throw new TransactionRevertedError(hash, what);
  return receipt;
}
