import { join } from "node:path";
import type { Hex } from "viem";
import { generatePrivateKey, privateKeyToAddress } from "viem/accounts";
import { ConfigError } from "../config/config.ts";
import { seedDemoLedger, type DemoLedger } from "../dt-ledger/demo.ts";
import { startEmbeddedDtLedger } from "../dt-ledger/embedded.ts";
import { inProcessDtLedger } from "../dt-ledger/in-process-adapter.ts";
import type { DtLedger } from "../dt-ledger/ledger.ts";
import { deployContracts } from "../evm/deploy-contracts.ts";
import type { Deployment } from "../evm/deployments.ts";
import { startEmbeddedChain, type EmbeddedChain } from "../evm/embedded-chain.ts";
import type { DtLedgerPort } from "../ledger/dt-ledger-port.ts";
import type { Database } from "../persistence/database.ts";
import type { ReadinessCheck } from "../server/health.ts";

/** Seconds a collateral statement backs mints on the embedded chain. */
const EMBEDDED_MAX_STATEMENT_AGE = 3600n;

export interface EmbeddedStackOptions {
  db: Database;
  /** Where the embedded parts keep their files (deployments). */
  directory: string;
  chainHost: string;
  /** 0 picks a free port. */
  chainPort: number;
  /** The chain also makes a block every this many milliseconds (0 or absent: only for transactions). */
  chainBlockIntervalMs?: number;
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
  readiness: ReadinessCheck[];
  links: Record<string, string>;
  stop(): Promise<void>;
}

export async function startEmbeddedStack(options: EmbeddedStackOptions): Promise<EmbeddedStack> {
  const ledgerOperator = generatePrivateKey();
  const embeddedLedger = await startEmbeddedDtLedger({ db: options.db, operatorKey: ledgerOperator });
  const stops: Array<() => Promise<void>> = [() => embeddedLedger.stop()];
  try {
    const demo = await seedDemoLedger(embeddedLedger.ledger);
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
      demoForeignCbdc: { name: "Demo Foreign CBDC", symbol: "FCBDC", decimals: 2 },
      deploymentsDir: join(options.directory, "deployments"),
    });
    const gatewayLedger = inProcessDtLedger(embeddedLedger.ledger, demo.participants.gateway.id);
    return {
      dtLedger: embeddedLedger.ledger,
      gatewayLedger,
      demo,
      chain,
      deployment,
      keys: { ledgerOperator, deployer, minter, htlcOperator },
      readiness: [
        { name: "dt-ledger", check: async () => void (await gatewayLedger.balance(demo.accounts.segregatedWallet.id)) },
        {
          name: "evm-chain",
          check: async () => {
            const response = await fetch(chain.rpcUrl, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
            });
            if (!response.ok) throw new Error(`chain RPC answered ${response.status}`);
          },
        },
      ],
      links: {
        "EVM JSON-RPC": chain.rpcUrl,
        stablecoin: deployment.contracts.TengeStablecoin.address,
        "HTLC contract": deployment.contracts.HashTimeLock.address,
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
