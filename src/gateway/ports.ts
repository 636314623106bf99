import { createPublicClient, http, type Address, type Hex } from "viem";
import { ConfigError } from "../config/config.ts";
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
  /** The stablecoin's chain and contract; undefined = no stablecoin. */
  stablecoinChain:
    | { rpcUrl: string; token: Address; startBlock: bigint; segregatedAccount: string; minterKey: Hex | undefined; publicRpcUrl: string; description: string }
    | undefined;
  /** Foreign ledgers for PvP legs (`evm:<name>`, or `evm` on the embedded stack). */
  foreignLegs: HashLockedLegPort[];
  /** Securities ledgers for DvP (the demo bond on the embedded stack; DVP_SECURITIES_FILE in production). */
  securitiesLegs?: SecuritiesLegPort[];
  /** A check per external system, for /readyz. */
  readiness: ReadinessCheck[];
  stop(): Promise<void>;
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

    let stablecoinChain: GatewayPorts["stablecoinChain"];
    const chain = settings.stablecoinChain;
    if (chain) {
      const chainId = await chainIdOf("STABLECOIN_RPC_URL", chain.rpcUrl);
      if (chainId !== chain.deployment.chainId) {
        throw new ConfigError("STABLECOIN_DEPLOYMENTS_FILE", `is for chain ${chain.deployment.chainId} but STABLECOIN_RPC_URL serves chain ${chainId}`);
      }
      const token = chain.deployment.contracts.TengeStablecoin;
      stablecoinChain = {
        rpcUrl: chain.rpcUrl,
        token: token.address,
        startBlock: token.blockNumber,
        segregatedAccount: chain.deployment.stablecoin.segregatedAccount,
        minterKey: settings.stablecoin.minterKey,
        publicRpcUrl: settings.stablecoin.publicRpcUrl ?? chain.rpcUrl,
        description: `chain ${chainId} at ${chain.rpcUrl}, token ${token.address}`,
      };
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
      stablecoinChain,
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
