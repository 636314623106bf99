/**
 * The operator's journey through the topology: start the outside systems, configure and start the
 * gateways, register the correspondents, then settle PvPs, crash a process, mint and redeem, verify the
 * collateral and restart. Every verdict is read from the ledgers (the DT platform, the chain).
 */
import { join } from "node:path";
import { generatePrivateKey, privateKeyToAddress } from "viem/accounts";
import type { DatabaseSet } from "./databases.ts";
import { startChain, startDtPlatform } from "./platform.ts";
import type { ProcessGroup } from "./processes.ts";

export interface JourneyContext {
  group: ProcessGroup;
  databases: DatabaseSet;
  directory: string;
  log(line: string): void;
}

export interface Summary {
  pvpsSettled: number;
  pvpsRefunded: number;
  violations: number;
  killedProcessRecovered: boolean;
  mints: number;
  redemptionsPaid: number;
  collateralVerified: boolean;
  restartKeptState: boolean;
}

export async function runJourney(context: JourneyContext): Promise<{ summary: Summary; problems: string[] }> {
  const { group, databases, directory, log } = context;
  const operatorKey = generatePrivateKey();
  const dt = await startDtPlatform(group, databases, operatorKey);
  log(`DT platform at ${dt.url}`);
  const minterKey = generatePrivateKey();
  const chain = await startChain(group, {
    collateralSigner: privateKeyToAddress(operatorKey),
    segregatedAccount: dt.accounts.segregatedWallet,
    minter: privateKeyToAddress(minterKey),
    deploymentsDir: join(directory, "deployments"),
  });
  log(`chain ${chain.chainId} at ${chain.rpcUrl}: token ${chain.token}, HTLC ${chain.htlc}`);
  const summary: Summary = {
    pvpsSettled: 0,
    pvpsRefunded: 0,
    violations: 0,
    killedProcessRecovered: false,
    mints: 0,
    redemptionsPaid: 0,
    collateralVerified: false,
    restartKeptState: false,
  };
  return { summary, problems: ["not done yet"] };
}
