import { Gauge, type Registry } from "prom-client";
import { CorrespondentDirectory } from "../correspondents/directory.ts";
import { ownKeysRoute } from "../correspondents/keys-routes.ts";
import type { OwnSigningKeys } from "../correspondents/published-keys.ts";
import { correspondentRoutes } from "../correspondents/routes.ts";
import { termsRoutes } from "../correspondents/terms-routes.ts";
import type { CorrespondentRecord } from "../correspondents/store.ts";
import { ed25519PrivateKey, ed25519RawPublicKey } from "../identity/http-signature.ts";
import type { IdentityStore } from "../identity/store.ts";
import type { Database } from "../persistence/database.ts";
import { dvpComponent } from "../dvp/component.ts";
import { dvpNotices } from "../dvp/notices.ts";
import { pvpComponent, type PvpComponent, type PvpComponentOptions } from "../pvp/component.ts";
import { defaultTimelockPolicy } from "../pvp/timelock-policy.ts";
import type { ResponderSettings } from "../pvp/inbound.ts";
import { dtLedgerLeg } from "../pvp/legs/dt-ledger-leg.ts";
import type { Correspondent, CorrespondentLookup } from "../pvp/legs/http-peer-transport.ts";
import { registerPvpMetrics } from "../pvp/metrics.ts";
import type { FeatureRoutes } from "../server/app.ts";
import type { FeatureStatus, ReadinessCheck } from "../server/health.ts";
import type { Logger } from "../server/logger.ts";
import { createStablecoinComponent, type StablecoinComponent } from "../stablecoin/component.ts";
import type { GatewayPorts } from "./ports.ts";
import type { DeploymentSettings, PvpSigningSettings } from "./settings.ts";

/** What a feature adds to the running gateway: routes, readiness checks, background workers. */
export interface Feature {
  routes: FeatureRoutes[];
  readiness: ReadinessCheck[];
  start(): void;
  stop(): Promise<void>;
}

export interface ComposeOptions {
  db: Database;
  logger: Logger;
  metrics: Registry;
  ports: GatewayPorts;
  settings: DeploymentSettings;
  /** The attestation key (the setting, or on the embedded stack one kept under DATA_DIR). */
  attestationKey: Uint8Array | undefined;
  /** The preimage encryption key (the setting, or on the embedded stack one kept under DATA_DIR). */
  pvpSecretKey: Uint8Array | undefined;
  publicUrl: string;
  /** The principals and their keys, shared with the HTTP app's access control (built once, in serve.ts). */
  identity?: IdentityStore;
  /** Test and benchmark knobs of the PvP engine (timelock policy, clock). */
  pvp?: Pick<PvpComponentOptions, "policy" | "clock">;
}

export interface ComposedGateway {
  features: Feature[];
  /** One entry per feature, on or off, for the start banner and /readyz. */
  status: FeatureStatus[];
  stablecoin: StablecoinComponent | undefined;
  pvp: PvpComponent | undefined;
  directory: CorrespondentDirectory;
}

/**
 * The composition root: hands the ports to the components. A feature is on when the settings and ports
 * it needs are there; the same code runs for a production deployment and for the embedded stack.
 */
export async function composeGateway(options: ComposeOptions): Promise<ComposedGateway> {
  const { db, logger, metrics, ports, settings } = options;
  const features: Feature[] = [];
  const status: FeatureStatus[] = [];
  const directory = new CorrespondentDirectory({ db, onError: (error) => logger.error({ err: error, event: "correspondents.refresh_failed" }, "reading the directory failed") });
  await directory.start();
  // This process sees its own changes at once; the others within the directory's refresh interval.
  const refresh = () => directory.refresh().catch((error: unknown) => logger.error({ err: error, event: "correspondents.refresh_failed" }, "reading the directory failed"));
  features.push({ routes: [correspondentRoutes(db, refresh), termsRoutes(db)], readiness: [], start() {}, stop: async () => directory.stop() });

  status.push(ports.dtLedger ? { name: "dt-ledger", on: true, detail: ports.dtLedger.description } : { name: "dt-ledger", on: false, detail: "DT_LEDGER_URL unset and DT_LEDGER_IN_PROCESS not true" });

  let stablecoin: StablecoinComponent | undefined;
  const chains = ports.stablecoinChains;
  const first = chains[0];
  if (ports.dtLedger && first && options.attestationKey) {
    stablecoin = await createStablecoinComponent({
      db,
      logger,
      metrics,
      ledger: ports.dtLedger.port,
      chains: chains.map((chain) => ({
        rpcUrl: chain.rpcUrl,
        token: chain.token,
        startBlock: chain.startBlock,
        ...(chain.minterKey ? { minterKey: chain.minterKey } : {}),
        ...(chain.mintConfirmations === undefined ? {} : { mintConfirmations: chain.mintConfirmations }),
        ...(chain.redeemConfirmations === undefined ? {} : { redeemConfirmations: chain.redeemConfirmations }),
        ...(chain.reorgWindowBlocks === undefined ? {} : { reorgWindowBlocks: chain.reorgWindowBlocks }),
        publicRpcUrl: chain.publicRpcUrl,
      })),
      segregatedAccount: first.segregatedAccount,
      attestationKey: options.attestationKey,
      publicUrl: options.publicUrl,
      settings: settings.stablecoin.settings,
    });
    features.push(stablecoin);
    const detail = chains.map((chain) => `${chain.description}, ${chain.minterKey ? "mints" : "watch-only (no minter key)"}`).join("; ");
    status.push({ name: "stablecoin", on: true, detail });
    status.push({ name: "proof-of-collateral", on: true, detail: `segregated wallet ${first.segregatedAccount}, one attestation per ${settings.stablecoin.settings.attestationIntervalMs / 1000} s` });
  } else {
    const why = !first ? "STABLECOIN_CHAINS and STABLECOIN_DEPLOYMENTS_FILE unset" : "no DT ledger";
    status.push({ name: "stablecoin", on: false, detail: why }, { name: "proof-of-collateral", on: false, detail: why });
  }

  let pvp: PvpComponent | undefined;
  const pvpSettings = settings.pvp;
  // Without a DT ledger a gateway can still answer instructions on a foreign ledger of its own (the
  // embedded foreign central bank): PvP is on as responder only.
  const respondsOnForeignLedger = pvpSettings !== undefined && ports.foreignLegs.some((leg) => leg.ledger === pvpSettings.responderLedger);
  if (pvpSettings && options.pvpSecretKey && (ports.dtLedger || respondsOnForeignLedger)) {
    const onDelivery = registerPvpMetrics(metrics, db, pvpSettings.agent);
    const correspondents = directoryLookup(directory);
    const securities = ports.securitiesLegs ?? [];
    let dvpStatus: FeatureStatus;
    pvp = pvpComponent({
      db,
      ...(options.identity ? { identity: options.identity } : {}),
      ourAgent: pvpSettings.agent,
      legs: [...(ports.dtLedger ? [dtLedgerLeg({ port: ports.dtLedger.port, currency: pvpSettings.homeCurrency })] : []), ...ports.foreignLegs, ...securities],
      correspondents,
      ...(pvpSettings.signing ? { signing: { keyId: pvpSettings.signing.keyId, privateKey: ed25519PrivateKey(pvpSettings.signing.seed) } } : {}),
      responder: responderFromDirectory(directory, pvpSettings.responderLedger),
      ...(ports.dtLedger ? { dtLedger: ports.dtLedger.port } : {}),
      preimageKey: options.pvpSecretKey,
      policy: {
        ...defaultTimelockPolicy,
        ...(pvpSettings.timelock
          ? { lockWindowMs: pvpSettings.timelock.lockWindowSeconds * 1000, clockDriftMs: pvpSettings.timelock.clockDriftSeconds * 1000, timeToActMs: pvpSettings.timelock.timeToActSeconds * 1000 }
          : {}),
        maxLockMs: pvpSettings.maxLockSeconds * 1000,
      },
      pollIntervalMs: pvpSettings.pollIntervalMs,
      statusRequestAfterSeconds: pvpSettings.statusRequestAfterSeconds,
      onDelivery,
      logger,
      ...(securities.length > 0 ? { notices: dvpNotices } : {}),
      ...options.pvp,
    });
    const pvpClock = options.pvp?.clock;
    const keysRoute = pvpSettings.signing ? [ownKeysRoute(pvpSettings.agent, ownSigningKeys(pvpSettings.signing), pvpClock && (() => pvpClock.now()))] : [];
    features.push({ ...pvp, routes: [pvp.routes, ...keysRoute] });
    if (securities.length > 0 && ports.dtLedger) {
      // DvP runs on the PvP engine (kind dvp): its routes and the securities ledgers' readiness.
      const dvp = dvpComponent({ db, engine: pvp.engine, securities, dtLedger: ports.dtLedger.port });
      features.push({ routes: [dvp.routes], readiness: dvp.readiness, start() {}, stop: async () => {} });
      dvpStatus = { name: "dvp", on: true, detail: dvp.desk.ledgers().map((ledger) => `${ledger.isin} on ${ledger.ledger}`).join(", ") };
    } else {
      dvpStatus = { name: "dvp", on: false, detail: securities.length === 0 ? "no securities ledger (DVP_SECURITIES_FILE unset)" : "no DT ledger" };
    }
    const ledgers = [...(ports.dtLedger ? ["dt"] : []), ...ports.foreignLegs.map((leg) => leg.ledger), pvpSettings.signing ? "peer:<BIC> from the directory" : "no peers (PVP_SIGNING_KEY unset)"];
    const role = ports.dtLedger ? "" : `, responder only on ${pvpSettings.responderLedger} (no DT ledger)`;
    status.push({ name: "pvp", on: true, detail: `agent ${pvpSettings.agent}, ledgers ${ledgers.join(", ")}${role}` }, dvpStatus);
  } else {
    status.push({ name: "pvp", on: false, detail: !pvpSettings ? "PVP_AGENT_BIC unset" : !ports.dtLedger ? "no DT ledger" : "no PVP_SECRET_KEY" });
    status.push({ name: "dvp", on: false, detail: "needs PvP (its engine)" });
  }

  const enabled = new Gauge({ name: "tenge_gateway_feature_enabled", help: "1 for each feature that is on", labelNames: ["feature"], registers: [metrics] });
  for (const feature of status) enabled.set({ feature: feature.name }, feature.on ? 1 : 0);
  return { features, status, stablecoin, pvp, directory };
}

/** Our signing keys as `GET /iso20022/keys` publishes them: the active one from its seed, the others as configured. */
export function ownSigningKeys(signing: PvpSigningSettings): OwnSigningKeys {
  return {
    active: { keyId: signing.keyId, publicKey: Buffer.from(ed25519RawPublicKey(ed25519PrivateKey(signing.seed))).toString("hex"), validFrom: signing.validFrom },
    next: signing.next ?? [],
    retiring: signing.retiring ?? [],
  };
}

const asCorrespondent = (record: CorrespondentRecord | undefined): Correspondent | undefined =>
  record ? { agent: record.bic, url: record.baseUrl, principalId: record.principalId, profile: record.validationProfile } : undefined;

/**
 * The directory as the PvP component reads it. A suspended correspondent's requests are not recognised
 * (its messages are refused); messages to it still go out, so our claims and refunds are never held back.
 */
export function directoryLookup(directory: CorrespondentDirectory): CorrespondentLookup {
  return {
    lookup: async (agent) => asCorrespondent(await directory.lookup(agent)),
    byAgent: (agent) => asCorrespondent(directory.byBic(agent)),
    byPrincipal: (principalId) => {
      const record = directory.byPrincipal(principalId);
      return record?.status === "active" ? asCorrespondent(record) : undefined;
    },
    refresh: () => directory.refresh(),
  };
}

/**
 * How this gateway answers instructions, from the directory alone: an active correspondent's legs are paid
 * from its first liquidity account with us to its settlement account, never to what its message names.
 */
export function responderFromDirectory(directory: CorrespondentDirectory, ledger: string): ResponderSettings {
  return {
    ledger,
    termsOf(bic) {
      const record = directory.byBic(bic);
      if (record?.status !== "active" || !record.settlementAccount) return undefined;
      // No limit configured: the liquidity account's balance is the limit.
      return {
        liquidityAccounts: record.liquidityAccounts,
        settlementAccount: record.settlementAccount,
        maxAmount: record.maxAmount ?? 2n ** 63n - 1n,
        ...(record.maxAmountCurrency ? { maxAmountCurrency: record.maxAmountCurrency } : {}),
      };
    },
  };
}
