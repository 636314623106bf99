import { getAddress, type Abi, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from "viem";
import { CodedError } from "../core/errors.ts";
import { parseIsin } from "../core/isin.ts";
import { TransactionRevertedError } from "./errors.ts";
import { eligibilityRegistryAbi, eligibilityRegistryBytecode, securityTokenAbi, securityTokenBytecode } from "./generated/contracts.ts";
import type { DeployedContract } from "./deployments.ts";

/** A tokenized security to deploy: what it is, its units and who may hold how much of it at the start. */
export interface SecurityParameters {
  name: string;
  symbol: string;
  /** ISO 6166 ISIN, check digit verified. */
  isin: string;
  /** Decimal places of one unit (0: whole bonds). */
  decimals: number;
  /** Eligible investors and what each is issued at deployment (0n: eligible, no holding). */
  holders: { address: Address; units: bigint }[];
  /** Custodian contracts the security may pass through (the HashTimeLock). */
  custodians: Address[];
}

export interface DeployedSecurity {
  EligibilityRegistry: DeployedContract;
  SecurityToken: DeployedContract;
  name: string;
  symbol: string;
  isin: string;
  decimals: number;
  /** The registry's admin and agent and the token's (the deployer). */
  agent: Address;
  holders: { address: Address; units: bigint }[];
  custodians: Address[];
}

/** The demo government bond of the embedded stack (a made-up ISIN with a valid check digit). */
export const DEMO_BOND = { name: "Demo Kazakhstan Government Bond 2030", symbol: "MEKAM30", isin: "KZKD00001020", decimals: 0 } as const;

/** Refuses unusable security settings before anything is sent. */
export function validateSecurity(security: SecurityParameters): void {
  parseIsin(security.isin);
  if (!Number.isInteger(security.decimals) || security.decimals < 0 || security.decimals > 18) {
    throw new CodedError("SECURITY_DECIMALS_INVALID", `a security's decimals are 0 to 18, got ${security.decimals}`);
  }
  if (security.holders.some((holder) => holder.units < 0n)) throw new CodedError("SECURITY_HOLDING_INVALID", "a holding cannot be negative");
}

/**
 * Deploys an eligibility registry and a SecurityToken with the deployer as admin and agent, registers the
 * custodians and the eligible holders and issues their holdings, waiting for each receipt.
 *
 * @example
 * const security = await deploySecurity(wallet, client, 1, { ...DEMO_BOND, holders: [{ address: broker, units: 1000n }], custodians: [htlc] });
 */
export async function deploySecurity(
  wallet: WalletClient<Transport, Chain, Account>,
  client: PublicClient,
  confirmations: number,
  security: SecurityParameters,
): Promise<DeployedSecurity> {
  validateSecurity(security);
  const agent = wallet.account.address;
  const registry = await deploy(wallet, client, confirmations, eligibilityRegistryAbi, eligibilityRegistryBytecode, [agent, agent]);
  const token = await deploy(wallet, client, confirmations, securityTokenAbi, securityTokenBytecode, [
    security.name, security.symbol, security.isin, security.decimals, registry.address, agent, agent,
  ]);
  const send = async (what: string, hash: Promise<Hex>) => {
    const receipt = await client.waitForTransactionReceipt({ hash: await hash, confirmations });
    if (receipt.status !== "success") throw new TransactionRevertedError(receipt.transactionHash, what);
  };
  const Custodian = 2;
  const Investor = 1;
  for (const custodian of security.custodians) {
    await send("register custodian", wallet.writeContract({ address: registry.address, abi: eligibilityRegistryAbi, functionName: "register", args: [custodian, Custodian] }));
  }
  for (const holder of security.holders) {
    await send("register holder", wallet.writeContract({ address: registry.address, abi: eligibilityRegistryAbi, functionName: "register", args: [holder.address, Investor] }));
    if (holder.units > 0n) {
      await send("issue", wallet.writeContract({ address: token.address, abi: securityTokenAbi, functionName: "issue", args: [holder.address, holder.units] }));
    }
  }
  return {
    EligibilityRegistry: registry,
    SecurityToken: token,
    name: security.name,
    symbol: security.symbol,
    isin: security.isin,
    decimals: security.decimals,
    agent,
    holders: security.holders.map((holder) => ({ address: getAddress(holder.address), units: holder.units })),
    custodians: security.custodians.map((custodian) => getAddress(custodian)),
  };
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
  const receipt = await client.waitForTransactionReceipt({ hash: transactionHash, confirmations });
  if (receipt.status !== "success" || !receipt.contractAddress) throw new TransactionRevertedError(transactionHash, "security deployment");
  return { address: getAddress(receipt.contractAddress), transactionHash, blockNumber: receipt.blockNumber };
}
