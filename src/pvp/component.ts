import type { Clock } from "../core/clock.ts";
import { peerAgentOf } from "../core/ledger-name.ts";
import { validationProfile } from "../iso20022/validation/profiles.ts";
import type { KeyObject } from "node:crypto";
import { fxProviderStore } from "../correspondents/fx-providers.ts";
import { termsStore } from "../correspondents/terms.ts";
import { IdentityStore } from "../identity/store.ts";
import type { DtLedgerPort } from "../ledger/dt-ledger-port.ts";
import type { Database } from "../persistence/database.ts";
import type { FeatureRoutes } from "../server/app.ts";
import type { ReadinessCheck } from "../server/health.ts";
import { PvpEngine, type EngineLogger, type ExchangeNotices } from "./engine.ts";
import type { ResponderSettings } from "./inbound.ts";
import { LegError, type HashLockedLegPort, type LegDirectory } from "./leg-port.ts";
import { fixedCorrespondents, httpPeerTransport, type Correspondent, type CorrespondentLookup } from "./legs/http-peer-transport.ts";
import { peerGatewayLeg } from "./legs/peer-gateway-leg.ts";
import { recordSentMessages } from "./message-log.ts";
import { PreimageSeal } from "./preimage-seal.ts";
import { quoteStore } from "./quotes.ts";
import { pvpRoutes } from "./routes.ts";
import { defaultStatusRequestAfterSeconds, statusRequestWatch } from "./status-requests.ts";
import { defaultTimelockPolicy, type TimelockPolicy } from "./timelock-policy.ts";

export interface PvpComponentOptions {
  db: Database;
  /** The principals (institutions, their registered accounts and keys); the gateway's one store, or a fresh one over `db`. */
  identity?: IdentityStore;
  /** Our BIC (AppHdr From of every message we send). */
  ourAgent: string;
  /** Leg adapters for the ledgers this gateway acts on (the DT ledger as `dt`, EVM chains, ...). */
  legs: HashLockedLegPort[];
  /** Correspondent central banks reached over HTTP, a fixed list or the directory read at use time; each is a `peer:<BIC>` leg. */
  correspondents?: Correspondent[] | CorrespondentLookup;
  /** Our RFC 9421 signing key for messages to correspondents (required with correspondents). */
  signing?: { keyId: string; privateKey: KeyObject };
  /** Set to answer pacs.009 instructions as responder. */
  responder?: ResponderSettings;
  /** 32-byte key that seals preimages at rest (AES-256-GCM; setting PVP_SECRET_KEY). */
  preimageKey: Uint8Array;
  /**
   * The DT ledger, asked which participant services a PvP's DT payer: a bank may pay only from its own
   * participant's accounts. Without it banks cannot create PvPs (operators still can).
   */
  dtLedger?: Pick<DtLedgerPort, "servicer">;
  policy?: TimelockPolicy;
  logger?: EngineLogger;
  clock?: Clock;
  pollIntervalMs?: number;
  /** Told of every delivery attempt to a correspondent (peer metrics). */
  onDelivery?: (agent: string, outcome: "delivered" | "failed") => void;
  /** The messages of exchanges other than PvPs (DvP: `dvpNotices` of src/dvp), whose legs are among `legs`. */
  notices?: ExchangeNotices;
  /** Silence after which a peer is asked for the status of a PvP (setting PVP_STATUS_REQUEST_AFTER_SECONDS, default 30). */
  statusRequestAfterSeconds?: number;
}

export interface PvpComponent {
  engine: PvpEngine;
  routes: FeatureRoutes;
  readiness: ReadinessCheck[];
  /** Starts the background worker (resumes every unfinished PvP first). */
  start(): void;
  stop(): Promise<void>;
}

/**
 * The PvP engine as a gateway component: routes for the app, readiness checks, and a background worker.
 * The gateway's start wires it: `const pvp = pvpComponent({...}); features.push(pvp.routes); pvp.start();`
 * and calls `pvp.stop()` before closing the database.
 */
export function pvpComponent(options: PvpComponentOptions): PvpComponent {
  const correspondents = Array.isArray(options.correspondents) ? fixedCorrespondents(options.correspondents) : options.correspondents;
  const transport =
    correspondents && options.signing
      ? httpPeerTransport({ correspondents, ...options.signing, ...(options.onDelivery ? { onDelivery: options.onDelivery } : {}) })
      : undefined;
  const statusRequestAfterMs = (options.statusRequestAfterSeconds ?? defaultStatusRequestAfterSeconds) * 1000;
  const fixed = new Map(options.legs.map((leg) => [leg.ledger, leg]));
  const peerLegs = new Map<string, HashLockedLegPort>();
  // `peer:<BIC>` legs come from the directory when first named, so a correspondent added later needs no restart.
  const legs: LegDirectory = {
    async prepare(ledger) {
      const agent = peerAgentOf(ledger);
      if (agent && !fixed.has(ledger) && !correspondents?.byAgent(agent)) await correspondents?.refresh?.();
    },
    leg(ledger) {
      const found = fixed.get(ledger) ?? peerLegs.get(ledger);
      if (found) return found;
      const agent = peerAgentOf(ledger);
      if (!agent || !transport || !correspondents?.byAgent(agent)) throw new LegError("UNAVAILABLE", `no leg adapter for ledger ${ledger}`);
      const leg = peerGatewayLeg({
        agent,
        ourAgent: options.ourAgent,
        transport,
        ...(options.clock ? { clock: options.clock } : {}),
        onSent: recordSentMessages(options.db, agent, options.clock),
        statusRequests: statusRequestWatch(options.db, {
          afterMs: statusRequestAfterMs,
          ourAgent: options.ourAgent,
          peer: agent,
          ...(options.clock ? { clock: options.clock } : {}),
        }),
      });
      peerLegs.set(ledger, leg);
      return leg;
    },
  };
  const engine = new PvpEngine({
    db: options.db,
    ourAgent: options.ourAgent,
    legs,
    policy: options.policy ?? defaultTimelockPolicy,
    preimageSeal: new PreimageSeal(options.preimageKey),
    ...(transport ? { transport } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
    statusRequestAfterMs,
    ...(options.notices ? { notices: options.notices } : {}),
  });
  // Institutions and their registered foreign-ledger accounts live with the principals, in the same database.
  const identity = options.identity ?? new IdentityStore(options.db);
  let worker: { stop(): Promise<void> } | undefined;
  return {
    engine,
    routes: pvpRoutes({
      engine,
      ...(options.responder ? { responder: options.responder } : {}),
      authority: {
        dtLedger: options.dtLedger,
        ledgerAccountOwner: (ledger, account) => identity.ledgerAccountOwner(ledger, account),
        consent: {
          terms: (counterparty, ledger, currency) => termsStore.terms(options.db, counterparty, ledger, currency),
          referenceRate: (currency) => termsStore.referenceRate(options.db, currency),
          reserveDaily: (tx, terms, amount, at) => termsStore.reserveDaily(tx, terms, amount, at),
          async signingKey(keyId) {
            const found = await identity.signingKey(keyId);
            return found && { key: found.key, bic: found.principal.institution?.bic, role: found.principal.role };
          },
          fxProviderKey: (keyId) => fxProviderStore.activeKey(options.db, keyId),
          consumeQuote: (tx, quote, signed, pvpId, consumedBy) => quoteStore.consume(tx, quote, signed, pvpId, consumedBy),
        },
      },
      agentOfPrincipal: (principalId) => correspondents?.byPrincipal(principalId)?.agent,
      profileOf: (agent) => validationProfile(correspondents?.byAgent(agent)?.profile),
      quotes: (limit) => quoteStore.list(options.db, limit),
    }),
    readiness: options.legs.map((leg) => ({ name: `pvp leg ${leg.ledger}`, check: async () => void (await leg.now()) })),
    start() {
      worker ??= engine.start();
    },
    async stop() {
      await worker?.stop();
      worker = undefined;
    },
  };
}
