import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createPublicClient, createWalletClient, formatUnits, getAddress, http, isAddress, parseUnits, type Abi, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { CommandFailure, UsageError, type CommandIo, type CommandModule } from "../core/cli-command.ts";
import { ConfigError } from "../config/config.ts";
import { readSecret } from "../config/secret.ts";
import { privateKeyHex } from "../config/settings.ts";
import { contractRevertName } from "./contract-revert.ts";
import { chainFaultOf } from "./operator-faults.ts";
import { parseDeployment, type Deployment } from "./deployments.ts";
import { chainAt } from "./evm-chain.ts";
import { demoForeignCbdcAbi, tengeStablecoinAbi } from "./generated/contracts.ts";

/**
 * Token calls an operator or an exchange makes once or rarely, each one signed transaction waited for:
 * an exchange's redemption (burn, the gateway then pays DT) and funding with the demo foreign CBDC.
 */

const CHAIN_OPTIONS = `  --rpc-url URL            the chain's JSON-RPC endpoint                       EVM_RPC_URL
  --deployments-file FILE  the file \`contracts deploy\` wrote (<dir>/<chainId>.json) STABLECOIN_DEPLOYMENTS_FILE`;

interface Parsed {
  values: Record<string, string | boolean | undefined>;
}

function parse(args: string[], names: string[]): Parsed {
  try {
    return parseArgs({ args, options: Object.fromEntries(names.map((name) => [name, { type: "string" as const }])), strict: true, allowPositionals: false }) as Parsed;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function required(values: Parsed["values"], option: string, fallback?: string): string {
  const value = (values[option] as string | undefined) ?? fallback;
  if (!value) throw new UsageError(`--${option} is required (see --help)`);
  return value;
}

function readDeploymentFile(label: string, file: string): Deployment {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(label, `must name a readable deployments file (${(error as NodeJS.ErrnoException).code ?? "unreadable"}: ${file})`);
  }
  try {
    return parseDeployment(file, text);
  } catch (error) {
    throw new ConfigError(label, `is not a deployments file: ${(error as Error).message}`);
  }
}

function signerKey(io: CommandIo, variable: string): Hex {
  const key = readSecret(io.env, variable, privateKeyHex);
  if (!key) throw new ConfigError(variable, `must hold the signing account's 0x key (or ${variable}_FILE, mode 0600; \`keys generate --type evm\` makes one)`);
  return key;
}

/** Sends one contract call and waits for its receipt; a refusal is one line naming the fix. */
async function send(rpcUrl: string, key: Hex, call: { address: Address; abi: Abi; functionName: string; args: unknown[] }): Promise<{ hash: Hex; blockNumber: bigint; from: Address }> {
  const chain = await chainAt(rpcUrl).catch((error: unknown) => {
    throw CommandFailure.unreachable("EVM node", rpcUrl, error);
  });
  const account = privateKeyToAccount(key);
  const transport = http(rpcUrl);
  const publicClient = createPublicClient({ chain, transport });
  const wallet = createWalletClient({ account, chain, transport });
  try {
    const { request } = await publicClient.simulateContract({ account, ...call } as Parameters<typeof publicClient.simulateContract>[0]);
    const hash = await wallet.writeContract(request as Parameters<typeof wallet.writeContract>[0]);
    const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout: 120_000 });
    if (receipt.status !== "success") throw new CommandFailure("TRANSACTION_REVERTED", `transaction ${hash} reverted in block ${receipt.blockNumber}`);
    return { hash, blockNumber: receipt.blockNumber, from: account.address };
  } catch (error) {
    if (error instanceof CommandFailure) throw error;
    const revert = contractRevertName(error);
    if (revert) throw new CommandFailure("CONTRACT_REFUSED", `${call.functionName} reverted with ${revert}`);
    if (chainFaultOf(error) === "NO_GAS") {
      throw new CommandFailure("NO_GAS", `${account.address} has too little native currency to pay gas: fund it and run again`);
    }
    throw error;
  }
}

export const redeem: CommandModule = {
  help: `Usage: npx tenge-gateway stablecoin redeem --amount KZT --dt-account ACCOUNT [options]

An exchange redeems stablecoin: burns --amount of its tokens (TengeStablecoin.redeem) and names the DT digital
account the gateway pays as much DT to, once the burn has its confirmations (STABLECOIN_REDEEM_CONFIRMATIONS
of the gateway). Prints {"transactionHash", "blockNumber", "redeemer", "amount", "dtAccount"} as JSON; follow
the redemption with GET /stablecoin/redemptions (the exchange's API key).

Options:
  --amount KZT             tokens to redeem, in KZT with at most 2 decimals (1 token = 1 KZT = 100 tiyn)
  --dt-account ACCOUNT     the DT account to pay (the exchange's own, as onboarded)
${CHAIN_OPTIONS}

Environment:
  EVM_PRIVATE_KEY          the exchange's 0x key (the address it registered), or EVM_PRIVATE_KEY_FILE (mode 0600).
                           It pays the gas: fund it with the chain's native currency. Never printed.`,
  async run(args: string[], io: CommandIo): Promise<number> {
    const { values } = parse(args, ["amount", "dt-account", "rpc-url", "deployments-file"]);
    const amountText = required(values, "amount");
    if (!/^\d+(\.\d{1,2})?$/.test(amountText) || /^0+(\.0+)?$/.test(amountText)) throw new UsageError(`--amount must be a positive KZT amount with at most 2 decimals, got "${amountText}"`);
    const dtAccount = required(values, "dt-account");
    const rpcUrl = required(values, "rpc-url", io.env["EVM_RPC_URL"]);
    const deployment = readDeploymentFile(values["deployments-file"] ? "--deployments-file" : "STABLECOIN_DEPLOYMENTS_FILE", required(values, "deployments-file", io.env["STABLECOIN_DEPLOYMENTS_FILE"]));
    const key = signerKey(io, "EVM_PRIVATE_KEY");
    const amount = parseUnits(amountText, 2);
    const sent = await send(rpcUrl, key, { address: deployment.contracts.TengeStablecoin.address, abi: tengeStablecoinAbi as Abi, functionName: "redeem", args: [amount, dtAccount] });
    io.out(JSON.stringify({ transactionHash: sent.hash, blockNumber: sent.blockNumber.toString(), redeemer: sent.from, amount: formatUnits(amount, 2), dtAccount }));
    return 0;
  },
};

export const issueDemoCbdc: CommandModule = {
  help: `Usage: npx tenge-gateway contracts issue-demo-cbdc --to ADDRESS --amount UNITS [options]

Issues the demo foreign CBDC (DemoForeignCbdc.issue, deployed by \`contracts deploy --demo-foreign-cbdc\` with zero
supply) to an address, as its issuer (the deployer), so a foreign payer can lock it on a PvP's foreign leg.
Prints {"transactionHash", "to", "amount", "balance"} as JSON.

Options:
  --to ADDRESS             who receives the tokens (a payer of PVP_FOREIGN_LEDGERS_FILE)
  --amount UNITS           in whole currency units with up to the token's decimals (e.g. 100000.00)
${CHAIN_OPTIONS}

Environment:
  EVM_DEPLOYER_KEY         the deployer's 0x key (the token's issuer), or EVM_DEPLOYER_KEY_FILE (mode 0600). Never printed.`,
  async run(args: string[], io: CommandIo): Promise<number> {
    const { values } = parse(args, ["to", "amount", "rpc-url", "deployments-file"]);
    const to = required(values, "to");
    if (!isAddress(to, { strict: false })) throw new UsageError(`--to must be a 0x address, got "${to}"`);
    const amountText = required(values, "amount");
    const rpcUrl = required(values, "rpc-url", io.env["EVM_RPC_URL"]);
    const deployment = readDeploymentFile(values["deployments-file"] ? "--deployments-file" : "STABLECOIN_DEPLOYMENTS_FILE", required(values, "deployments-file", io.env["STABLECOIN_DEPLOYMENTS_FILE"]));
    const token = deployment.contracts.DemoForeignCbdc?.address;
    if (!token) throw new ConfigError("--deployments-file", "has no DemoForeignCbdc: deploy with `contracts deploy --demo-foreign-cbdc`");
    const client = createPublicClient({ transport: http(rpcUrl) });
    const decimals = await client.readContract({ address: token, abi: demoForeignCbdcAbi, functionName: "decimals" }).catch((error: unknown) => {
      throw CommandFailure.unreachable("EVM node", rpcUrl, error);
    });
    if (!new RegExp(`^\\d+(\\.\\d{1,${decimals}})?$`).test(amountText)) throw new UsageError(`--amount must be a positive number with at most ${decimals} decimals, got "${amountText}"`);
    const amount = parseUnits(amountText, decimals);
    if (amount === 0n) throw new UsageError("--amount must be positive");
    const sent = await send(rpcUrl, signerKey(io, "EVM_DEPLOYER_KEY"), { address: token, abi: demoForeignCbdcAbi as Abi, functionName: "issue", args: [getAddress(to), amount] });
    const balance = await client.readContract({ address: token, abi: demoForeignCbdcAbi, functionName: "balanceOf", args: [getAddress(to)] });
    io.out(JSON.stringify({ transactionHash: sent.hash, to: getAddress(to), amount: formatUnits(amount, decimals), balance: formatUnits(balance, decimals) }));
    return 0;
  },
};
