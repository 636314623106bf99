import { createPublicClient, http, type Address, type Hex } from "viem";
import { ConfigError } from "../config/config.ts";
import { CHAINS_VARIABLE } from "../evm/chain-settings.ts";
import { tengeStablecoinAbi } from "../evm/generated/contracts.ts";
import { startEmbeddedDtLedger } from "../dt-ledger/embedded.ts";
import { httpDtLedger } from "../dt-ledger/http/client-adapter.ts";
import { inProcessDtLedger } from "../dt-ledger/in-process-adapter.ts";
import { findParticipant } from "../dt-ledger/participants.ts";
import { ed25519PrivateKey } from "../identity/http-signature.ts";
import type { DtLedgerPort } from "../ledger/dt-ledger-port.ts";
import type { Database } from "../persistence/database.ts";
import { SecuritiesHtlcLeg } from "../dvp/legs/securities-htlc-leg.ts";
import type { SecuritiesLegPort } from "../dvp/securities-leg.ts";
import type { HashLockedLegPort } from "../pvp/leg-port.ts";
import { EvmHtlcLeg } from "../pvp/legs/evm-htlc-leg.ts";
import type { ReadinessCheck } from "../server/health.ts";
import type { Logger } from "../server/logger.ts";
import type { DeploymentSettings, EvmLedgerSettings } from "./settings.ts";

/**
 * What the features run on, however it was supplied: external systems named by the settings, or the
 * embedded demo stack. The composition root hands these to the components and never asks where they came from.
 */
export interface GatewayPorts {
  /** The DT ledger as the gateway participant sees it; undefined = no DT ledger, so no PvP and no stablecoin. */
  dtLedger: { port: DtLedgerPort; description: string } | undefined;
  /** The stablecoin's chains, the default first, all on one segregated wallet; empty = no stablecoin. */
  stablecoinChains: StablecoinChainPort[];
  /** Foreign ledgers for PvP legs (`evm:<name>`, or `evm` on the embedded stack). */
  foreignLegs: HashLockedLegPort[];
  /** Securities ledgers for DvP (the demo bond on the embedded stack; DVP_SECURITIES_FILE in production). */
  securitiesLegs?: SecuritiesLegPort[];
  /** A check per external system, for /readyz. */
  readiness: ReadinessCheck[];
  stop(): Promise<void>;
}

/** One chain of the stablecoin as the composition root hands it to the component. */
export interface StablecoinChainPort {
  chainId: number;
  rpcUrl: string;
  token: Address;
  startBlock: bigint;
  /** The DT segregated wallet the token is backed by (the same on every chain of one pool). */
  segregatedAccount: string;
  minterKey: Hex | undefined;
  publicRpcUrl: string;
  description: string;
  mintConfirmations?: number;
  redeemConfirmations?: number;
  reorgWindowBlocks?: number;
}

const rpcCheck = (name: string, rpcUrl: string): ReadinessCheck => ({
  name,
  check: async () => void (await createPublicClient({ transport: http(rpcUrl) }).getBlockNumber({ cacheTime: 0 })),
});

/** Builds the ports of a production deployment from its settings. Unreachable or mismatched systems are configuration errors. */
export async function connectPorts(settings: DeploymentSettings, db: Database, logger: Logger): Promise<GatewayPorts> {
  const stops: Array<() => Promise<void>> = [];
  const readiness: ReadinessCheck[] = [];
  try {
    let dtLedger: GatewayPorts["dtLedger"];
    const dt = settings.dtLedger;
    if (dt?.mode === "http") {
      const port = httpDtLedger({ baseUrl: dt.url, participantId: dt.participantId, signingKey: ed25519PrivateKey(dt.signingSeed) });
      dtLedger = { port, description: `over HTTP at ${dt.url} as ${dt.participantId}` };
    } else if (dt?.mode === "in-process") {
      // Every process sweeps expired holds; the notary lets each refund happen once.
      const embedded = await startEmbeddedDtLedger({
        db,
        operatorKey: dt.operatorKey,
        sweepIntervalMs: dt.sweepIntervalMs,
        onSweepError: (error) => logger.error({ err: error, event: "dt_ledger.sweep_failed" }, "expired-hold sweep failed; retrying"),
      });
      stops.push(() => embedded.stop());
      if (!(await findParticipant(db, dt.participantId))) {
        throw new ConfigError("DT_LEDGER_PARTICIPANT", `names ${dt.participantId}, which is not a participant of the in-process DT ledger (register it with dt-ledger participants add)`);
      }
      dtLedger = { port: inProcessDtLedger(embedded.ledger, dt.participantId), description: `in-process on the gateway's database as ${dt.participantId}` };
    }
    if (dtLedger) {
      const port = dtLedger.port;
      readiness.push({ name: `dt-ledger (${dt!.mode === "http" ? dt!.url : "in-process"})`, check: async () => void (await port.events({ limit: 1 })) });
    }

    const stablecoinChains: StablecoinChainPort[] = [];
    for (const chain of settings.stablecoinChains) {
      const variable = chain.deploymentsFile ? "STABLECOIN_RPC_URL" : `STABLECOIN_CHAINS chain ${chain.chainId} rpcUrl`;
      const chainId = await chainIdOf(variable, chain.rpcUrl);
      if (chainId !== chain.chainId) {
        throw chain.deploymentsFile
          ? new ConfigError("STABLECOIN_DEPLOYMENTS_FILE", `is for chain ${chain.chainId} but STABLECOIN_RPC_URL serves chain ${chainId}`)
          : new ConfigError(CHAINS_VARIABLE, `names chain ${chain.chainId} but its rpcUrl serves chain ${chainId}`);
      }
      const segregatedAccount = chain.segregatedAccount ?? (await segregatedAccountOf(chain.rpcUrl, chain.token, chain.chainId));
      const other = stablecoinChains.find((known) => known.segregatedAccount !== segregatedAccount);
      if (other) {
        throw new ConfigError(CHAINS_VARIABLE, `chain ${chain.chainId}'s token is backed by ${segregatedAccount} but chain ${other.chainId}'s by ${other.segregatedAccount}: one pool has one segregated wallet`);
      }
      stablecoinChains.push({
        chainId,
        rpcUrl: chain.rpcUrl,
        token: chain.token,
        startBlock: chain.startBlock,
        segregatedAccount,
        minterKey: chain.minterKey,
        // A chain's own publicRpcUrl first; COLLATERAL_PUBLIC_RPC_URL names the first chain's public endpoint.
        publicRpcUrl: chain.publicRpcUrl ?? (stablecoinChains.length === 0 ? settings.stablecoin.publicRpcUrl : undefined) ?? chain.rpcUrl,
        description: `chain ${chainId} at ${chain.rpcUrl}, token ${chain.token}`,
        mintConfirmations: chain.mintConfirmations,
        redeemConfirmations: chain.redeemConfirmations,
        reorgWindowBlocks: chain.reorgWindowBlocks,
      });
      readiness.push(rpcCheck(`stablecoin chain (${chainId})`, chain.rpcUrl));
    }

    const foreignLegs: HashLockedLegPort[] = [];
    for (const ledger of settings.pvp?.foreignLedgers ?? []) {
      foreignLegs.push(await connectEvmLedger(ledger));
      readiness.push(rpcCheck(`pvp ledger ${ledger.name} (${ledger.chainId})`, ledger.rpcUrl));
    }
    const securitiesLegs: SecuritiesLegPort[] = [];
    for (const ledger of settings.securitiesLedgers ?? []) {
      const chainId = await chainIdOf(`DVP_SECURITIES_FILE ${ledger.name}.rpcUrl`, ledger.rpcUrl);
      if (chainId !== ledger.chainId) throw new ConfigError("DVP_SECURITIES_FILE", `${ledger.name}.chainId is ${ledger.chainId} but its rpcUrl serves chain ${chainId}`);
      securitiesLegs.push(
        await SecuritiesHtlcLeg.connect({
          ledger: ledger.name,
          rpcUrl: ledger.rpcUrl,
          hashTimeLock: ledger.hashTimeLock,
          security: ledger.securityToken,
          signerKeys: ledger.holdingKeys,
          confirmations: ledger.confirmations,
          fromBlock: ledger.fromBlock,
        }),
      );
      readiness.push(rpcCheck(`dvp ledger ${ledger.name} (${ledger.chainId})`, ledger.rpcUrl));
    }
    return {
      dtLedger,
      stablecoinChains,
      foreignLegs,
      securitiesLegs,
      readiness,
      async stop() {
        for (const stop of stops.reverse()) await stop();
      },
    };
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    throw error;
  }
}

/** The segregated account a STABLECOIN_CHAINS token is backed by (the deployments file names it on one chain). */
async function segregatedAccountOf(rpcUrl: string, token: Address, chainId: number): Promise<string> {
  try {
    return await createPublicClient({ transport: http(rpcUrl, { retryCount: 1, timeout: 10_000 }) }).readContract({ address: token, abi: tengeStablecoinAbi, functionName: "segregatedAccount" });
  } catch (error) {
    throw new ConfigError(CHAINS_VARIABLE, `chain ${chainId}: ${token} does not answer as a TengeStablecoin (${(error as Error).message.split("\n")[0]})`);
  }
}

async function chainIdOf(variable: string, rpcUrl: string): Promise<number> {
  try {
    return await createPublicClient({ transport: http(rpcUrl, { retryCount: 1, timeout: 10_000 }) }).getChainId();
  } catch (error) {
    throw new ConfigError(variable, `could not reach the chain at ${new URL(rpcUrl).origin} (${(error as Error).message.split("\n")[0]})`);
  }
}

async function connectEvmLedger(ledger: EvmLedgerSettings): Promise<HashLockedLegPort> {
  const variable = `PVP_FOREIGN_LEDGERS_FILE ${ledger.name}.rpcUrl`;
  const chainId = await chainIdOf(variable, ledger.rpcUrl);
  if (chainId !== ledger.chainId) throw new ConfigError("PVP_FOREIGN_LEDGERS_FILE", `${ledger.name}.chainId is ${ledger.chainId} but its rpcUrl serves chain ${chainId}`);
  return EvmHtlcLeg.connect({
    ledger: ledger.name,
    rpcUrl: ledger.rpcUrl,
    hashTimeLock: ledger.hashTimeLock,
    tokens: ledger.tokens,
    signerKeys: ledger.payerKeys,
    confirmations: ledger.confirmations,
    fromBlock: ledger.fromBlock,
  });
}
