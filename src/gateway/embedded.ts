import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createPublicClient, createWalletClient, http, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, privateKeyToAddress } from "viem/accounts";
import { ConfigError } from "../config/config.ts";
import { seedDemoLedger, type DemoLedger } from "../dt-ledger/demo.ts";
import { startEmbeddedDtLedger } from "../dt-ledger/embedded.ts";
import { buildDtLedgerApp } from "../dt-ledger/http/service.ts";
import { inProcessDtLedger } from "../dt-ledger/in-process-adapter.ts";
import type { DtLedger } from "../dt-ledger/ledger.ts";
import { deployContracts } from "../evm/deploy-contracts.ts";
import { SecuritiesHtlcLeg } from "../dvp/legs/securities-htlc-leg.ts";
import { DEMO_BOND } from "../evm/deploy-security.ts";
import type { Deployment } from "../evm/deployments.ts";
import { startEmbeddedChain, type EmbeddedChain } from "../evm/embedded-chain.ts";
import { evmChain } from "../evm/evm-chain.ts";
import { demoForeignCbdcAbi } from "../evm/generated/contracts.ts";
import type { DtLedgerPort } from "../ledger/dt-ledger-port.ts";
import type { Database } from "../persistence/database.ts";
import { EvmHtlcLeg } from "../pvp/legs/evm-htlc-leg.ts";
import type { ReadinessCheck } from "../server/health.ts";
import type { GatewayPorts } from "./ports.ts";
import { listeningAuthorities } from "../identity/http-signature.ts";
import { listenOn } from "./serve.ts";

/** Seconds a collateral statement backs mints on the embedded chain. */
const EMBEDDED_MAX_STATEMENT_AGE = 3600n;

/** The chain id of the embedded stack's second stablecoin chain (the first is Hardhat's 31337). */
export const SECOND_CHAIN_ID = 31338;

/** Demo foreign CBDC given to the foreign payer at start: 1,000,000.00 units. */
const DEMO_FOREIGN_FLOAT = 100_000_000n;

export interface EmbeddedStackOptions {
  db: Database;
  /** Where the embedded parts keep their files (deployments). */
  directory: string;
  chainHost: string;
  /** 0 picks a free port. */
  chainPort: number;
  /** The chain also makes a block every this many milliseconds (0 or absent: only for transactions). */
  chainBlockIntervalMs?: number;
  /** Where the embedded DT ledger is also served over HTTP (EMBEDDED_DT_LEDGER_PORT; 0 picks a free port). */
  dtLedgerHost: string;
  dtLedgerPort: number;
  /** DT participant seeds (hex, by participant id) of an earlier start, so their keys stay the same. */
  participantSeeds?: Partial<Record<string, string>>;
}

/**
 * The embedded world `npm start` runs in one process: a DT platform with demo banks and accounts, an EVM
 * chain with the contracts deployed, and the keys of the parties. Development only: the chain's keys are
 * Hardhat's public development keys.
 */
export interface EmbeddedStack {
  dtLedger: DtLedger;
  /** The DT ledger as the gateway participant sees it. */
  gatewayLedger: DtLedgerPort;
  demo: DemoLedger;
  chain: EmbeddedChain;
  /** The stablecoin's second chain (chain id 31338): the same pool, the token only. */
  secondChain: EmbeddedChain;
  secondDeployment: Deployment;
  /** The DT ledger service (signed by participants, RFC 9421) serving the same ledger. */
  dtLedgerUrl: string;
  deployment: Deployment;
  keys: {
    /** The DT ledger operator's statement key. */
    ledgerOperator: Hex;
    /** Owner and every admin role of the contracts. */
    deployer: Hex;
    /** The gateway's minter key (configured with an allowance; the collateral check still applies). */
    minter: Hex;
    /** Pays gas for the gateway's HTLC legs. */
    htlcOperator: Hex;
  };
  /** The ports the composition root runs the features on, as a production deployment's settings would give them. */
  ports: GatewayPorts;
  /** Who pays the foreign legs on the embedded chain (the demo foreign bank). */
  foreignPayer: Address;
  readiness: ReadinessCheck[];
  links: Record<string, string>;
  stop(): Promise<void>;
}

export async function startEmbeddedStack(options: EmbeddedStackOptions): Promise<EmbeddedStack> {
  const ledgerOperator = generatePrivateKey();
  const embeddedLedger = await startEmbeddedDtLedger({ db: options.db, operatorKey: ledgerOperator });
  const stops: Array<() => Promise<void>> = [() => embeddedLedger.stop()];
  try {
    const demo = await seedDemoLedger(embeddedLedger.ledger, options.participantSeeds);
    // The same ledger over HTTP, as participants reach the real DT platform: the exchange pays its mints here.
    // Signed for this service only: its authorities are filled in once it listens (the port may be 0).
    const dtLedgerAuthorities: string[] = [];
    const dtLedgerApp = await buildDtLedgerApp({ ledger: embeddedLedger.ledger, authorities: dtLedgerAuthorities });
    stops.push(() => dtLedgerApp.close());
    const dtLedgerUrl = (await listenOn(dtLedgerApp, options.dtLedgerHost, options.dtLedgerPort, "EMBEDDED_DT_LEDGER_PORT")).replace("://[::1]", "://localhost");
    dtLedgerAuthorities.push(...listeningAuthorities(dtLedgerUrl));
    const chain = await startEmbeddedChain({ host: options.chainHost, port: options.chainPort, blockIntervalMs: options.chainBlockIntervalMs ?? 0 }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
      throw new ConfigError(
        "EMBEDDED_CHAIN_PORT",
        `${options.chainPort} on ${options.chainHost} is in use (EADDRINUSE), perhaps by another chain node: stop it, or set EMBEDDED_CHAIN_PORT=0 for a free port`,
      );
    });
    stops.push(() => chain.close());
    const [deployer, minter, htlcOperator] = chain.accounts as [Hex, Hex, Hex];
    const { deployment } = await deployContracts({
      rpcUrl: chain.rpcUrl,
      deployerKey: deployer,
      collateralSigner: privateKeyToAddress(ledgerOperator),
      segregatedAccount: demo.accounts.segregatedWallet.id,
      maxStatementAge: EMBEDDED_MAX_STATEMENT_AGE,
      minters: [{ address: privateKeyToAddress(minter), allowance: 10n ** 15n }],
      // One pool, two chains: every mint needs its chain's allotment (set before the minter is configured).
      requireIssuanceAllotments: true,
      demoForeignCbdc: { name: "Demo Foreign CBDC", symbol: "FCBDC", decimals: 2 },
      // DvP: the demo bond, the selling broker's holding issued 1,000 bonds, the buying broker's eligible.
      security: { ...DEMO_BOND, holders: [{ address: privateKeyToAddress(chain.accounts[7]!), units: 1_000n }, { address: privateKeyToAddress(chain.accounts[8]!), units: 0n }] },
      deploymentsDir: join(options.directory, "deployments"),
    });
    // The token's second chain (one collateral pool): its own EDR instance and chain id, the stablecoin only.
    // Four accounts suffice (deployer, minter, the demo exchange's is the fourth), which keeps its memory small.
    const secondPort = options.chainPort === 0 ? 0 : options.chainPort + 1;
    const secondChain = await startEmbeddedChain({ host: options.chainHost, port: secondPort, chainId: SECOND_CHAIN_ID, accountCount: 4, blockIntervalMs: options.chainBlockIntervalMs ?? 0 }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
      throw new ConfigError(
        "EMBEDDED_CHAIN_PORT",
        `the second chain's port ${secondPort} (EMBEDDED_CHAIN_PORT + 1) on ${options.chainHost} is in use (EADDRINUSE): stop what holds it, or set EMBEDDED_CHAIN_PORT=0 for free ports`,
      );
    });
    stops.push(() => secondChain.close());
    const { deployment: secondDeployment } = await deployContracts({
      rpcUrl: secondChain.rpcUrl,
      deployerKey: deployer,
      collateralSigner: privateKeyToAddress(ledgerOperator),
      segregatedAccount: demo.accounts.segregatedWallet.id,
      maxStatementAge: EMBEDDED_MAX_STATEMENT_AGE,
      minters: [{ address: privateKeyToAddress(minter), allowance: 10n ** 15n }],
      requireIssuanceAllotments: true,
      deploymentsDir: join(options.directory, "deployments"),
    });
    const gatewayLedger = inProcessDtLedger(embeddedLedger.ledger, demo.participants.gateway.id);
    const foreign = await embeddedForeignLeg({
      rpcUrl: chain.rpcUrl,
      chainId: chain.chainId,
      hashTimeLock: deployment.contracts.HashTimeLock.address,
      foreignCbdc: deployment.contracts.DemoForeignCbdc!.address,
      issuerKey: deployer,
      foreignPayerKey: htlcOperator,
    });
    // DvP: the demo bond's leg; the gateway holds both brokers' holding keys (accounts 7 and 8), as a custodian would.
    const securities = await SecuritiesHtlcLeg.connect({
      rpcUrl: chain.rpcUrl,
      hashTimeLock: deployment.contracts.HashTimeLock.address,
      security: deployment.contracts.SecurityToken!.address,
      signerKeys: [chain.accounts[7] as Hex, chain.accounts[8] as Hex],
      fromBlock: deployment.contracts.HashTimeLock.blockNumber,
    });
    const readiness: ReadinessCheck[] = [
      { name: "dt-ledger (embedded)", check: async () => void (await gatewayLedger.balance(demo.accounts.segregatedWallet.id)) },
      {
        name: `evm-chain (embedded, ${chain.chainId})`,
        check: async () => {
          const response = await fetch(chain.rpcUrl, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
          });
          if (!response.ok) throw new Error(`chain RPC answered ${response.status}`);
        },
      },
    ];
    return {
      dtLedger: embeddedLedger.ledger,
      gatewayLedger,
      demo,
      chain,
      secondChain,
      secondDeployment,
      dtLedgerUrl,
      deployment,
      keys: { ledgerOperator, deployer, minter, htlcOperator },
      ports: {
        dtLedger: { port: gatewayLedger, description: `embedded, as ${demo.participants.gateway.id}` },
        stablecoinChains: [{
          chainId: chain.chainId,
          rpcUrl: chain.rpcUrl,
          token: deployment.contracts.TengeStablecoin.address,
          startBlock: deployment.contracts.TengeStablecoin.blockNumber,
          segregatedAccount: deployment.stablecoin.segregatedAccount,
          minterKey: minter,
          publicRpcUrl: chain.rpcUrl,
          description: `embedded chain ${chain.chainId} at ${chain.rpcUrl}, token ${deployment.contracts.TengeStablecoin.address}`,
        }, {
          chainId: secondChain.chainId,
          rpcUrl: secondChain.rpcUrl,
          token: secondDeployment.contracts.TengeStablecoin.address,
          startBlock: secondDeployment.contracts.TengeStablecoin.blockNumber,
          segregatedAccount: secondDeployment.stablecoin.segregatedAccount,
          minterKey: minter,
          publicRpcUrl: secondChain.rpcUrl,
          description: `embedded chain ${secondChain.chainId} at ${secondChain.rpcUrl}, token ${secondDeployment.contracts.TengeStablecoin.address}`,
        }],
        foreignLegs: [foreign.leg],
        securitiesLegs: [securities],
        readiness,
        stop: async () => {},
      },
      foreignPayer: foreign.foreignPayer,
      readiness,
      links: {
        "DT ledger (HTTP)": dtLedgerUrl,
        "EVM JSON-RPC": chain.rpcUrl,
        stablecoin: deployment.contracts.TengeStablecoin.address,
        [`EVM JSON-RPC (chain ${secondChain.chainId})`]: secondChain.rpcUrl,
        [`stablecoin (chain ${secondChain.chainId})`]: secondDeployment.contracts.TengeStablecoin.address,
        "HTLC contract": deployment.contracts.HashTimeLock.address,
        "demo bond": `${DEMO_BOND.isin} at ${deployment.contracts.SecurityToken!.address}`,
      },
      async stop() {
        for (const stop of stops.reverse()) await stop();
      },
    };
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    throw error;
  }
}

/**
 * One full garbage collection once the embedded world has started. Starting PGlite leaves about 170 MB of
 * garbage per instance outside the JavaScript heap (initdb's WebAssembly memory, the unpacked file bundle),
 * which V8 may not collect for a long time because the JavaScript heap itself stays small: without this,
 * the same start holds 550 or 880 MB depending on when V8 happens to collect.
 */
export function collectStartupGarbage(): void {
  setFlagsFromString("--expose-gc");
  try {
    (runInNewContext("gc") as () => void)();
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}

/**
 * The embedded world runs in one process on a newcomer's laptop: V8's young generation stays at its first
 * few MB instead of growing to about 100 MB, for a little more GC time. Set before anything starts: set
 * later, a young generation that has grown already may stay grown.
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString("--semi-space-growth-factor=1");
}

export interface EmbeddedForeignLegOptions {
  rpcUrl: string;
  chainId: number;
  hashTimeLock: Address;
  /** The demo foreign CBDC (ERC-20, 2 decimals) standing for the correspondent's currency. */
  foreignCbdc: Address;
  /** Issuer of the demo foreign CBDC (the deployer): funds the foreign payer once. */
  issuerKey: Hex;
  /** The foreign bank's key on the chain: pays the foreign legs and submits claims and refunds. */
  foreignPayerKey: Hex;
}

/**
 * The embedded stack's foreign ledger: the demo foreign CBDC behind the HTLC contract as PvP ledger `evm`,
 * its payer given a float once.
 */
export async function embeddedForeignLeg(options: EmbeddedForeignLegOptions): Promise<{ leg: EvmHtlcLeg; foreignPayer: Address }> {
  const chain = evmChain(options.chainId, options.rpcUrl);
  const transport = http(options.rpcUrl);
  const client = createPublicClient({ chain, transport });
  const foreignPayer = privateKeyToAccount(options.foreignPayerKey).address;
  const balance = await client.readContract({ address: options.foreignCbdc, abi: demoForeignCbdcAbi, functionName: "balanceOf", args: [foreignPayer] });
  if (balance < DEMO_FOREIGN_FLOAT / 2n) {
    const issuer = createWalletClient({ account: privateKeyToAccount(options.issuerKey), chain, transport });
    const hash = await issuer.writeContract({ address: options.foreignCbdc, abi: demoForeignCbdcAbi, functionName: "issue", args: [foreignPayer, DEMO_FOREIGN_FLOAT] });
    await client.waitForTransactionReceipt({ hash });
  }
  const leg = await EvmHtlcLeg.connect({ rpcUrl: options.rpcUrl, hashTimeLock: options.hashTimeLock, token: options.foreignCbdc, currency: "AED", signerKeys: [options.foreignPayerKey] });
  return { leg, foreignPayer };
}
