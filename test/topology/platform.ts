/**
 * The NBK's side of the world outside the gateway: the DT platform (`tenge-gateway dt-ledger serve` on its
 * own database, participants registered with its CLI) and the EVM chain (a Hardhat node with the
 * contracts deployed by `tenge-gateway contracts deploy`). The run acts as the other participants
 * (the NBK issuing DT, banks opening accounts and paying) with signed HTTP calls, as they would.
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
/** The NBK gateway's participant on the DT platform. */
export const GATEWAY_PARTICIPANT = "TENGEGW";
export const BANK = "HSBKKZKX";

export interface Participant {
  id: string;
  seedHex: string;
  ledger: DtLedgerPort & { request(method: string, path: string, body?: unknown): Promise<unknown> };
}

export interface DtPlatform {
  url: string;
  databaseUrl: string;
  process: RunningProcess;
  operatorKey: Hex;
  nbk: Participant;
  bank: Participant;
  gateway: Participant;
  accounts: {
    /** Individuals at the bank who pay the DT legs of NBK-initiated PvPs. */
    payers: string[];
    /** The foreign central bank's account at the NBK: DT legs are paid to it, and it pays DT legs back. */
    foreignCorrespondent: string;
    /** A merchant receiving DT in PvPs the foreign side initiates. */
    merchant: string;
    exchange: string;
    segregatedWallet: string;
  };
}

export interface Chain {
  rpcUrl: string;
  chainId: number;
  process: RunningProcess;
  /** Hardhat's development keys (public, funded): [0] deploys. */
  keys: Hex[];
  deploymentsDir: string;
  token: Address;
  htlc: Address;
  foreignCbdc: Address;
  tokenBlock: bigint;
}

const seedKey = (seedHex: string) => ed25519PrivateKey(new Uint8Array(Buffer.from(seedHex, "hex")));

/** Starts the DT platform: database, participants (CLI), service, accounts and balances (signed HTTP). */
export async function startDtPlatform(group: ProcessGroup, databases: DatabaseSet, operatorKey: Hex): Promise<DtPlatform> {
  const databaseUrl = await databases.create("dt_ledger");
  const env = { DT_LEDGER_DATABASE_URL: databaseUrl, LOG_LEVEL: "warn" };
  const seeds: Record<string, string> = {};
  for (const [id, name, role] of [
    [NBK, "National Bank of Kazakhstan", "central_bank"],
    [BANK, "Halyk Bank", "bank"],
    [GATEWAY_PARTICIPANT, "Tenge Gateway", "gateway"],
  ] as const) {
    const { seed, publicKey } = generateEd25519();
    seeds[id] = Buffer.from(seed).toString("hex");
    await group.runCli(`dt-ledger-add-${id}`, ["dt-ledger", "participants", "add", "--id", id, "--name", name, "--role", role, "--public-key", Buffer.from(publicKey).toString("hex")], env);
  }
  const port = await freePort();
  const service = group.startCli("dt-ledger", ["dt-ledger", "serve"], {
    ...env,
    DT_LEDGER_HOST: "127.0.0.1",
    DT_LEDGER_PORT: String(port),
    DT_LEDGER_OPERATOR_KEY: operatorKey,
    DT_LEDGER_SWEEP_INTERVAL_MS: "500",
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(service, `${url}/v1/health`, 60_000);
  const participant = (id: string): Participant => ({
    id,
    seedHex: seeds[id]!,
    ledger: httpDtLedger({ baseUrl: url, participantId: id, signingKey: seedKey(seeds[id]!) }),
  });
  const nbk = participant(NBK);
  const bank = participant(BANK);
  const gateway = participant(GATEWAY_PARTICIPANT);

  const open = async (who: Participant, key: string, kind: "individual" | "legal_entity" | "exchange" | "segregated_wallet", holderName: string, balance: bigint) => {
    const account = await who.ledger.openAccount({ idempotencyKey: `topology:open:${key}`, kind, holderName });
    if (balance > 0n) await nbk.ledger.request("POST", "/v1/issuances", { idempotencyKey: `topology:issue:${key}`, accountId: account.id, amount: balance.toString(), reference: "topology conversion" });
    return account.id;
  };
  const payers: string[] = [];
  for (let i = 0; i < 4; i++) payers.push(await open(bank, `payer${i}`, "individual", `Payer ${i}`, 100_000_000n));
  const foreignCorrespondent = await open(bank, "fcb", "legal_entity", "Foreign Central Bank (correspondent account)", 500_000_000n);
  const merchant = await open(bank, "merchant", "legal_entity", "Astana Coffee LLP", 0n);
  const exchange = await open(bank, "exchange", "exchange", "Kazakhstan Stock Exchange", 500_000_000n);
  const segregatedWallet = await open(gateway, "segregated", "segregated_wallet", "Tenge Gateway collateral wallet", 0n);
  return { url, databaseUrl, process: service, operatorKey, nbk, bank, gateway, accounts: { payers, foreignCorrespondent, merchant, exchange, segregatedWallet } };
}

/** Development keys of the Hardhat node (its well-known mnemonic). */
export function hardhatKeys(count: number): Hex[] {
  return Array.from({ length: count }, (_, addressIndex) => `0x${Buffer.from(mnemonicToAccount(DEVELOPMENT_MNEMONIC, { addressIndex }).getHdKey().privateKey!).toString("hex")}` as Hex);
}

/** Starts a Hardhat node and deploys the contracts with `tenge-gateway contracts deploy`. */
export async function startChain(
  group: ProcessGroup,
  options: { collateralSigner: Address; segregatedAccount: string; minter: Address; deploymentsDir: string },
): Promise<Chain> {
  const { process: node, rpcUrl } = await group.startHardhatNode("hardhat-node");
  const keys = hardhatKeys(10);
  const chainId = await createPublicClient({ transport: http(rpcUrl) }).getChainId();
  await group.runCli(
    "contracts-deploy",
    [
      "contracts", "deploy",
      "--collateral-signer", options.collateralSigner,
      "--segregated-account", options.segregatedAccount,
      "--minter", options.minter,
      "--minter-allowance", "100000000000",
      "--demo-foreign-cbdc",
      "--deployments-dir", options.deploymentsDir,
    ],
    { EVM_RPC_URL: rpcUrl, EVM_DEPLOYER_KEY: keys[0]! },
  );
  const deployment = await readDeployment(options.deploymentsDir, chainId);
  if (!deployment?.contracts.DemoForeignCbdc) throw new Error(`no deployment in ${join(options.deploymentsDir, `${chainId}.json`)}`);
  return {
    rpcUrl,
    chainId,
    process: node,
    keys,
    deploymentsDir: options.deploymentsDir,
    token: deployment.contracts.TengeStablecoin.address,
    htlc: deployment.contracts.HashTimeLock.address,
    foreignCbdc: deployment.contracts.DemoForeignCbdc.address,
    tokenBlock: deployment.contracts.TengeStablecoin.blockNumber,
  };
}

/** The foreign central bank issues its CBDC (the demo ERC-20) to the accounts that pay foreign legs. */
export async function issueForeignCbdc(chain: Chain, to: Address[], amount: bigint): Promise<void> {
  const evm = evmChain(chain.chainId, chain.rpcUrl);
  const client = createPublicClient({ chain: evm, transport: http(chain.rpcUrl) });
  const issuer = createWalletClient({ account: mnemonicToAccount(DEVELOPMENT_MNEMONIC, { addressIndex: 0 }), chain: evm, transport: http(chain.rpcUrl) });
  for (const address of to) {
    const hash = await issuer.writeContract({ address: chain.foreignCbdc, abi: demoForeignCbdcAbi, functionName: "issue", args: [address, amount] });
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`issuing foreign CBDC to ${address} reverted`);
  }
}

export const addressOf = (key: Hex): Address => privateKeyToAddress(key);
