/**
 * The systems outside the gateways: DT platforms (`tenge-gateway dt-ledger serve` on their own databases,
 * participants registered with its CLI) and the EVM chains (Hardhat nodes with their own chain ids, the
 * contracts deployed on each by `tenge-gateway contracts deploy`). The run acts as the other participants (a central bank issuing, banks
 * opening accounts and paying) with signed HTTP calls, as they would.
 */
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, type Address, type Hex } from "viem";
import { mnemonicToAccount, privateKeyToAddress } from "viem/accounts";
import { httpDtLedger } from "../../src/dt-ledger/http/client-adapter.ts";
import { DEVELOPMENT_MNEMONIC } from "../../src/evm/embedded-chain.ts";
import { evmChain } from "../../src/evm/evm-chain.ts";
import { demoForeignCbdcAbi } from "../../src/evm/generated/contracts.ts";
import { readDeployment } from "../../src/evm/deployments.ts";
import { ed25519PrivateKey, generateEd25519 } from "../../src/identity/http-signature.ts";
import type { DtLedgerPort } from "../../src/ledger/dt-ledger-port.ts";
import type { DatabaseSet } from "./databases.ts";
import { freePort, waitForHttp, type ProcessGroup, type RunningProcess } from "./processes.ts";

export const NBK = "NBRKKZKX";
export const FOREIGN_CB = "FCBKAEAD";

export interface Participant {
  id: string;
  seedHex: string;
  ledger: DtLedgerPort & { request(method: string, path: string, body?: unknown): Promise<unknown> };
}

export interface AccountSpec {
  /** Which participant opens it: the bank (customers) or the gateway (its segregated wallet). */
  by: "bank" | "gateway";
  kind: "individual" | "legal_entity" | "exchange" | "segregated_wallet";
  holderName: string;
  /** Issued by the central bank at start, in minor units. */
  balance: bigint;
}

export interface DtPlatformSpec {
  /** Names the process, its log and its database. */
  name: string;
  operatorKey: Hex;
  centralBank: { id: string; name: string };
  bank: { id: string; name: string };
  gateway: { id: string; name: string };
  accounts: Record<string, AccountSpec>;
}

export interface DtPlatform<Accounts extends string = string> {
  url: string;
  databaseUrl: string;
  process: RunningProcess;
  centralBank: Participant;
  bank: Participant;
  gateway: Participant;
  accounts: Record<Accounts, string>;
}

const seedKey = (seedHex: string) => ed25519PrivateKey(new Uint8Array(Buffer.from(seedHex, "hex")));

/**
 * Starts a DT platform (`tenge-gateway dt-ledger serve`) on its own database: participants registered with
 * the CLI, then accounts opened and funded by the participants themselves over signed HTTP.
 */
export async function startDtPlatform<Spec extends DtPlatformSpec>(
  group: ProcessGroup,
  databases: DatabaseSet,
  spec: Spec,
): Promise<DtPlatform<Extract<keyof Spec["accounts"], string>>> {
  const databaseUrl = await databases.create(spec.name.replace(/-/g, "_"));
  const env = { DT_LEDGER_DATABASE_URL: databaseUrl, LOG_LEVEL: "warn" };
  const seeds: Record<string, string> = {};
  for (const [participant, role] of [
    [spec.centralBank, "central_bank"],
    [spec.bank, "bank"],
    [spec.gateway, "gateway"],
  ] as const) {
    const { seed, publicKey } = generateEd25519();
    seeds[participant.id] = Buffer.from(seed).toString("hex");
    await group.runCli(`${spec.name}-add-${participant.id}`, ["dt-ledger", "participants", "add", "--id", participant.id, "--name", participant.name, "--role", role, "--public-key", Buffer.from(publicKey).toString("hex")], env);
  }
  const port = await freePort();
  const service = group.startCli(spec.name, ["dt-ledger", "serve"], {
    ...env,
    DT_LEDGER_HOST: "127.0.0.1",
    DT_LEDGER_PORT: String(port),
    DT_LEDGER_OPERATOR_KEY: spec.operatorKey,
    DT_LEDGER_SWEEP_INTERVAL_MS: "500",
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(service, `${url}/v1/health`, 60_000);
  const participant = (id: string): Participant => ({
    id,
    seedHex: seeds[id]!,
    ledger: httpDtLedger({ baseUrl: url, participantId: id, signingKey: seedKey(seeds[id]!) }),
  });
  const centralBank = participant(spec.centralBank.id);
  const bank = participant(spec.bank.id);
  const gateway = participant(spec.gateway.id);
  const accounts: Record<string, string> = {};
  for (const [key, account] of Object.entries(spec.accounts)) {
    const opener = account.by === "bank" ? bank : gateway;
    const opened = await opener.ledger.openAccount({ idempotencyKey: `topology:open:${key}`, kind: account.kind, holderName: account.holderName });
    if (account.balance > 0n) {
      await centralBank.ledger.request("POST", "/v1/issuances", { idempotencyKey: `topology:issue:${key}`, accountId: opened.id, amount: account.balance.toString(), reference: "topology conversion" });
    }
    accounts[key] = opened.id;
  }
  return { url, databaseUrl, process: service, centralBank, bank, gateway, accounts: accounts as Record<Extract<keyof Spec["accounts"], string>, string> };
}

export interface Chain {
  rpcUrl: string;
  chainId: number;
  process: RunningProcess;
  /** Hardhat's development keys (public, funded): [0] deploys and issues the demo foreign CBDC. */
  keys: Hex[];
  deploymentsDir: string;
  token: Address;
  htlc: Address;
  /** The demo foreign CBDC, on the chain deployed with it. */
  foreignCbdc: Address | undefined;
  tokenBlock: bigint;
  /** Stops the block ticker. */
  stopTicker(): void;
}

/** Development keys of the Hardhat node (its well-known mnemonic). */
export function hardhatKeys(count: number): Hex[] {
  return Array.from({ length: count }, (_, addressIndex) => `0x${Buffer.from(mnemonicToAccount(DEVELOPMENT_MNEMONIC, { addressIndex }).getHdKey().privateKey!).toString("hex")}` as Hex);
}

/**
 * Starts a Hardhat node with its own chain id and deploys the contracts with `tenge-gateway contracts
 * deploy` into the shared deployments directory (one `<chainId>.json` per chain). The node mines a block
 * every `blockIntervalMs` besides the transactions' (a real chain moves on without traffic, which
 * confirmations on a quiet chain need).
 */
export async function startChain(
  group: ProcessGroup,
  options: {
    name: string;
    chainId: number;
    collateralSigner: Address;
    segregatedAccount: string;
    minter: Address;
    deploymentsDir: string;
    demoForeignCbdc?: boolean;
    bondHolders?: Array<{ address: Address; units: bigint }>;
    /** `contracts deploy` options for issuance allotments, as the deployment of a pool over several chains needs. */
    allotmentOptions?: string[];
    blockIntervalMs?: number;
  },
): Promise<Chain> {
  const { process: node, rpcUrl } = await group.startHardhatNode(options.name, options.chainId);
  const keys = hardhatKeys(10);
  const chainId = await createPublicClient({ transport: http(rpcUrl) }).getChainId();
  if (chainId !== options.chainId) throw new Error(`${options.name} answers chain id ${chainId}, not ${options.chainId}`);
  await group.runCli(
    `contracts-deploy-${chainId}`,
    [
      "contracts", "deploy",
      "--collateral-signer", options.collateralSigner,
      "--segregated-account", options.segregatedAccount,
      "--minter", options.minter,
      "--minter-allowance", "100000000000",
      ...(options.demoForeignCbdc ? ["--demo-foreign-cbdc"] : []),
      // DvP: the demo bond with the brokers' holdings eligible (and the selling broker's issued).
      ...(options.bondHolders ? ["--demo-bond", ...options.bondHolders.flatMap((holder) => ["--security-holder", `${holder.address}:${holder.units}`])] : []),
      ...(options.allotmentOptions ?? []),
      "--deployments-dir", options.deploymentsDir,
    ],
    { EVM_RPC_URL: rpcUrl, EVM_DEPLOYER_KEY: keys[0]! },
  );
  const deployment = await readDeployment(options.deploymentsDir, chainId);
  if (!deployment) throw new Error(`no deployment in ${join(options.deploymentsDir, `${chainId}.json`)}`);
  if (options.demoForeignCbdc && !deployment.contracts.DemoForeignCbdc) throw new Error(`no demo foreign CBDC on chain ${chainId}`);
  const mine = () =>
    fetch(rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "evm_mine", params: [] }) })
      .then((response) => response.body?.cancel())
      .catch(() => {});
  const ticker = setInterval(() => void mine(), options.blockIntervalMs ?? 1_000);
  ticker.unref();
  return {
    rpcUrl,
    chainId,
    process: node,
    keys,
    deploymentsDir: options.deploymentsDir,
    token: deployment.contracts.TengeStablecoin.address,
    htlc: deployment.contracts.HashTimeLock.address,
    foreignCbdc: deployment.contracts.DemoForeignCbdc?.address,
    tokenBlock: deployment.contracts.TengeStablecoin.blockNumber,
    stopTicker: () => clearInterval(ticker),
  };
}

/** The foreign central bank issues its CBDC (the demo ERC-20) to the accounts that pay foreign legs. */
export async function issueForeignCbdc(chain: Chain, to: Address[], amount: bigint): Promise<void> {
  const foreignCbdc = chain.foreignCbdc;
  if (!foreignCbdc) throw new Error(`chain ${chain.chainId} has no demo foreign CBDC`);
  const evm = evmChain(chain.chainId, chain.rpcUrl);
  const client = createPublicClient({ chain: evm, transport: http(chain.rpcUrl) });
  const issuer = createWalletClient({ account: mnemonicToAccount(DEVELOPMENT_MNEMONIC, { addressIndex: 0 }), chain: evm, transport: http(chain.rpcUrl) });
  for (const address of to) {
    const hash = await issuer.writeContract({ address: foreignCbdc, abi: demoForeignCbdcAbi, functionName: "issue", args: [address, amount] });
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`issuing foreign CBDC to ${address} reverted`);
  }
}

export const addressOf = (key: Hex): Address => privateKeyToAddress(key);
