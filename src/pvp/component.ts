import type { KeyObject } from "node:crypto";
import type { Database } from "../persistence/database.ts";
import type { FeatureRoutes } from "../server/app.ts";
import type { ReadinessCheck } from "../server/health.ts";
import { PvpEngine, type EngineLogger } from "./engine.ts";
import type { ResponderSettings } from "./inbound.ts";
import { legDirectory, type HashLockedLegPort } from "./leg-port.ts";
import { httpPeerTransport, type Correspondent } from "./legs/http-peer-transport.ts";
import { peerGatewayLeg, recordSentMessages } from "./legs/peer-gateway-leg.ts";
import { pvpRoutes } from "./routes.ts";
import { statusRequestAfterSeconds, statusRequestWatch } from "./status-requests.ts";
import { defaultTimelockPolicy, type TimelockPolicy } from "./timelock-policy.ts";

export interface PvpComponentOptions {
  db: Database;
  /** Our BIC (AppHdr From of every message we send). */
  ourAgent: string;
  /** Leg adapters for the ledgers this gateway acts on (the DT ledger as `dt`, EVM chains, ...). */
  legs: HashLockedLegPort[];
  /** Correspondent central banks reached over HTTP; each becomes a `peer:<BIC>` leg. */
  correspondents?: Correspondent[];
  /** Our RFC 9421 signing key for messages to correspondents (required with correspondents). */
  signing?: { keyId: string; privateKey: KeyObject };
  /** Set to answer pacs.009 instructions as responder. */
  responder?: ResponderSettings;
  policy?: TimelockPolicy;
  logger?: EngineLogger;
  clock?: () => Date;
  pollIntervalMs?: number;
  /** Silence after which a peer is asked for the status of a PvP (default PVP_STATUS_REQUEST_AFTER_SECONDS, else 30). */
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
  const correspondents = options.correspondents ?? [];
  const transport = correspondents.length > 0 && options.signing ? httpPeerTransport({ correspondents, ...options.signing }) : undefined;
  const statusRequestAfterMs = (options.statusRequestAfterSeconds ?? statusRequestAfterSeconds(process.env)) * 1000;
  const peerLegs = transport
    ? correspondents.map((correspondent) =>
        peerGatewayLeg({
          agent: correspondent.agent,
          ourAgent: options.ourAgent,
          transport,
          ...(options.clock ? { clock: options.clock } : {}),
          onSent: recordSentMessages(options.db, correspondent.agent, options.clock),
          statusRequests: statusRequestWatch(options.db, {
            afterMs: statusRequestAfterMs,
            ourAgent: options.ourAgent,
            peer: correspondent.agent,
            ...(options.clock ? { clock: options.clock } : {}),
          }),
        }),
      )
    : [];
  const engine = new PvpEngine({
    db: options.db,
    ourAgent: options.ourAgent,
    legs: legDirectory([...options.legs, ...peerLegs]),
    policy: options.policy ?? defaultTimelockPolicy,
    ...(transport ? { transport } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
  });
  const byPrincipal = new Map(correspondents.map((correspondent) => [correspondent.principalId, correspondent.agent]));
  let worker: { stop(): Promise<void> } | undefined;
  return {
    engine,
    routes: pvpRoutes({
      engine,
      db: options.db,
      ...(options.responder ? { responder: options.responder } : {}),
      agentOfPrincipal: (principalId) => byPrincipal.get(principalId),
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
