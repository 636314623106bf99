import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWalletClient, http, type Address, type Hex } from "viem";
import { privateKeyToAccount, privateKeyToAddress } from "viem/accounts";
import { inProcessDtLedger } from "../../src/dt-ledger/in-process-adapter.ts";
import { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { dtLedgerMigrations } from "../../src/dt-ledger/schema.ts";
import { deployContracts } from "../../src/evm/deploy-contracts.ts";
import { startEmbeddedChain, type EmbeddedChain } from "../../src/evm/embedded-chain.ts";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import type { DtLedgerPort } from "../../src/ledger/dt-ledger-port.ts";
import type { Database } from "../../src/persistence/database.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { openCollateralIntake } from "../../src/stablecoin/collateral-intake.ts";
import { ExchangeStore, type Exchange } from "../../src/stablecoin/exchanges.ts";
import { MintWorker } from "../../src/stablecoin/mint-flow.ts";
import { MoveWorker, type MoveLedger, type MoveSettings, type MoveSource } from "../../src/stablecoin/move-flow.ts";
import type { Faults } from "../../src/stablecoin/stablecoin-ledger.ts";
import { TokenChain } from "../../src/stablecoin/token-chain.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { BANK, GATEWAY, NBK } from "./support.ts";

export const CHAIN_A = 31337;
export const CHAIN_B = 31338;

/** One chain of the two-chain world: the EDR node, the token (allotments required) and its client. */
export interface PoolChain {
  chain: EmbeddedChain;
  token: Address;
  tokenChain: TokenChain;
  rpc<T>(method: string, params?: unknown[]): Promise<T>;
  mineBlocks(count: number): Promise<void>;
  balanceOf(address: Address): Promise<bigint>;
  supply(): Promise<bigint>;
  /** The chain's (issued, issuanceLimit, sequence). */
  issuance(): Promise<{ issued: bigint; limit: bigint; sequence: bigint }>;
}

/**
 * Two EDR chains (ids 31337 and 31338) with the token on each, both requiring issuance allotments, one DT
 * ledger and segregated wallet behind both, one onboarded exchange, and its holder funded on chain A
 * (DT paid into the wallet, credited to A by the ledger, relayed, minted). Real parts only: PostgreSQL with
 * DATABASE_URL, PGlite otherwise.
 */
export interface TwoChainWorld {
  testDb: TestDatabase;
  db: Database;
  dtLedger: DtLedger;
  gatewayLedger: DtLedgerPort;
  a: PoolChain;
  b: PoolChain;
  operatorKey: Hex;
  minterKey: Hex;
  holderKey: Hex;
  holder: Address;
  /** A second registered address of the exchange (a move's recipient). */
  recipient: Address;
  segregatedAccount: string;
  exchanges: ExchangeStore;
  exchange: Exchange;
  exchangeApiKey: string;
  sources(options?: { confirmations?: number }): MoveSource[];
  moveSettings: MoveSettings;
  /** The holder burns on `from` to receive on `destination`; returns the transaction hash. */
  moveOut(from: PoolChain, amount: bigint, destination: number, recipient?: Address, key?: Hex): Promise<Hex>;
  /** The latest allotment the ledger signed, relayed to `chain` by anyone (here: the operator's account); its gas, if sent. */
  relayLatest(chain: PoolChain): Promise<bigint | undefined>;
  moveWorker(ledger: MoveLedger, options?: { faults?: Faults; db?: Database; confirmations?: number }): MoveWorker;
  /** The mint worker of one chain (the same one the component runs per chain). */
  mintWorker(chain: PoolChain, faults?: Faults): MintWorker;
  /** The ledger as the gateway's move worker speaks to it. */
  moveLedger: MoveLedger;
  close(): Promise<void>;
}

export async function createTwoChainWorld(options: { holderFunds?: bigint } = {}): Promise<TwoChainWorld> {
  const testDb = await createTestDatabase();
  const db = testDb.db;
  await migrate(db, [dtLedgerMigrations, ...gatewayMigrations()]);
  const chainA = await startEmbeddedChain({ chainId: CHAIN_A });
  const chainB = await startEmbeddedChain({ chainId: CHAIN_B });
  const [operatorKey, minterKey, holderKey, recipientKey] = chainA.accounts as [Hex, Hex, Hex, Hex];
  const dtLedger = new DtLedger({ db, operatorKey });
  await dtLedger.registerParticipant({ id: NBK, name: "National Bank of Kazakhstan", role: "central_bank" });
  await dtLedger.registerParticipant({ id: BANK, name: "Halyk Bank", role: "bank" });
  await dtLedger.registerParticipant({ id: GATEWAY, name: "Tenge Gateway", role: "gateway" });
  const gatewayLedger = inProcessDtLedger(dtLedger, GATEWAY);
  const bankLedger = inProcessDtLedger(dtLedger, BANK);
  const wallet = await gatewayLedger.openAccount({ idempotencyKey: "open-segregated", kind: "segregated_wallet", holderName: "Tenge Gateway collateral" });
  const exchangeAccount = await bankLedger.openAccount({ idempotencyKey: "open-exchange", kind: "exchange", holderName: "Demo Exchange" });
  const funds = options.holderFunds ?? 1_000_000n;
  await dtLedger.issue(NBK, { idempotencyKey: "fund-exchange", accountId: exchangeAccount.id, amount: funds, reference: "funding" });

  const poolChain = async (chain: EmbeddedChain): Promise<PoolChain> => {
    const deploymentsDir = mkdtempSync(join(tmpdir(), "tg-deployments-"));
    const { deployment } = await deployContracts({
      rpcUrl: chain.rpcUrl,
      deployerKey: operatorKey,
      collateralSigner: privateKeyToAddress(operatorKey),
      segregatedAccount: wallet.id,
      maxStatementAge: 3600n,
      minters: [{ address: privateKeyToAddress(minterKey), allowance: 10n ** 30n }],
      deploymentsDir,
    });
    rmSync(deploymentsDir, { recursive: true, force: true });
    const token = deployment.contracts.TengeStablecoin.address;
    const tokenChain = await TokenChain.connect({ rpcUrl: chain.rpcUrl, token, minterKey, pollingIntervalMs: 50 });
    const owner = createWalletClient({ account: privateKeyToAccount(operatorKey), transport: http(chain.rpcUrl), chain: tokenChain.client.chain! });
    await tokenChain.client.waitForTransactionReceipt({ hash: await owner.writeContract({ address: token, abi: tengeStablecoinAbi, functionName: "requireIssuanceAllotments" }) });
    const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
      const response = await fetch(chain.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
      const body = (await response.json()) as { result?: T; error?: { message: string } };
      if (body.error) throw new Error(body.error.message);
      return body.result as T;
    };
    return {
      chain,
      token,
      tokenChain,
      rpc,
      async mineBlocks(count) {
        for (let i = 0; i < count; i++) await rpc("evm_mine");
      },
      balanceOf: (address) => tokenChain.client.readContract({ address: token, abi: tengeStablecoinAbi, functionName: "balanceOf", args: [address] }),
      supply: () => tokenChain.totalSupply(),
      async issuance() {
        const [issued, limit, sequence] = await tokenChain.client.readContract({ address: token, abi: tengeStablecoinAbi, functionName: "issuance" });
        return { issued, limit, sequence };
      },
    };
  };
  const a = await poolChain(chainA);
  const b = await poolChain(chainB);

  const relayLatest = async (chain: PoolChain) => {
    const latest = await dtLedger.latestIssuanceAllotment(GATEWAY, wallet.id);
    if (!latest) throw new Error("no allotment signed yet");
    if ((await chain.issuance()).sequence >= latest.allotment.sequence) return undefined;
    const relayer = createWalletClient({ account: privateKeyToAccount(operatorKey), transport: http(chain.chain.rpcUrl), chain: chain.tokenChain.client.chain! });
    const hash = await relayer.writeContract({ address: chain.token, abi: tengeStablecoinAbi, functionName: "submitIssuanceAllotment", args: [latest.allotment, latest.signature] });
    return (await chain.tokenChain.client.waitForTransactionReceipt({ hash })).gasUsed;
  };

  // The pool's book: both chains at zero, then the exchange's DT credited to chain A and minted to the holder.
  await dtLedger.issuanceAllotment(GATEWAY, { accountId: wallet.id, reference: `chain:${CHAIN_A}:${a.token}`, change: { kind: "addChain", chainId: BigInt(CHAIN_A), token: a.token } });
  await dtLedger.issuanceAllotment(GATEWAY, { accountId: wallet.id, reference: `chain:${CHAIN_B}:${b.token}`, change: { kind: "addChain", chainId: BigInt(CHAIN_B), token: b.token } });
  const intake = await openCollateralIntake(gatewayLedger, wallet.id);
  await bankLedger.transfer({ idempotencyKey: "deposit", from: exchangeAccount.id, to: intake, amount: funds, reference: "collateral" });
  await gatewayLedger.transfer({ idempotencyKey: "collateral", from: intake, to: wallet.id, amount: funds, reference: "collateral" });
  await dtLedger.issuanceAllotment(GATEWAY, { accountId: wallet.id, reference: "mint:funding", change: { kind: "credit", chainId: BigInt(CHAIN_A), amount: funds } });
  await relayLatest(a);
  await relayLatest(b);
  const holder = privateKeyToAddress(holderKey);
  const statement = await gatewayLedger.collateralStatement({ accountId: wallet.id, domain: { chainId: CHAIN_A, verifyingContract: a.token } });
  const minted = await a.tokenChain.signMint({
    to: holder,
    amount: funds,
    nonce: BigInt(await a.tokenChain.nonce("pending")),
    fees: await a.tokenChain.fees(),
    statement: { statement: statement.statement, signature: statement.signature },
  });
  await a.tokenChain.broadcast(minted.raw);
  await a.tokenChain.client.waitForTransactionReceipt({ hash: minted.hash });

  const exchanges = new ExchangeStore(db);
  const recipient = privateKeyToAddress(recipientKey);
  const onboarded = await exchanges.onboard({ name: "Demo Exchange", dtAccount: exchangeAccount.id, evmAddresses: [holder, recipient], perMintLimit: 10_000_000n, dailyLimit: 50_000_000n });
  const moveSettings: MoveSettings = { segregatedAccount: wallet.id, maxBlockRange: 1000n, allotLeaseMs: 0, retryMs: 0, maxAttempts: 3 };
  const sources = (settings: { confirmations?: number } = {}): MoveSource[] =>
    [a, b].map((chain) => ({ chain: chain.tokenChain, confirmations: settings.confirmations ?? 2, reorgWindow: 16, startBlock: 0n }));

  return {
    testDb,
    db,
    dtLedger,
    gatewayLedger,
    a,
    b,
    operatorKey,
    minterKey,
    holderKey,
    holder,
    recipient,
    segregatedAccount: wallet.id,
    exchanges,
    exchange: onboarded.exchange,
    exchangeApiKey: onboarded.apiKey,
    sources,
    moveSettings,
    async moveOut(from, amount, destination, to = recipient, key = holderKey) {
      const holderWallet = createWalletClient({ account: privateKeyToAccount(key), transport: http(from.chain.rpcUrl), chain: from.tokenChain.client.chain! });
      const hash = await holderWallet.writeContract({ address: from.token, abi: tengeStablecoinAbi, functionName: "moveOut", args: [amount, BigInt(destination), to] });
      await from.tokenChain.client.waitForTransactionReceipt({ hash });
      return hash;
    },
    relayLatest,
    moveWorker: (ledger, settings = {}) =>
      new MoveWorker({
        db: settings.db ?? db,
        ledger,
        sources: sources(settings.confirmations === undefined ? {} : { confirmations: settings.confirmations }),
        settings: moveSettings,
        ...(settings.faults ? { faults: settings.faults } : {}),
      }),
    mintWorker: (chain, faults) =>
      new MintWorker({
        db,
        ledger: gatewayLedger,
        chain: chain.tokenChain,
        firstChain: chain === a,
        settings: { segregatedAccount: wallet.id, intakeAccount: intake, confirmations: 1, stuckAfterMs: 60_000, recheckMs: 0, maxAttempts: 3 },
        ...(faults ? { faults } : {}),
      }),
    moveLedger: gatewayLedger,
    async close() {
      await a.chain.close();
      await b.chain.close();
      await testDb.drop();
    },
  };
}
