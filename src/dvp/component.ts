import { IdentityStore } from "../identity/store.ts";
import type { DtLedgerPort } from "../ledger/dt-ledger-port.ts";
import type { Database } from "../persistence/database.ts";
import type { PvpEngine } from "../pvp/engine.ts";
import type { FeatureRoutes } from "../server/app.ts";
import type { ReadinessCheck } from "../server/health.ts";
import { DvpDesk } from "./desk.ts";
import { dvpRoutes } from "./routes.ts";
import type { SecuritiesLegPort } from "./securities-leg.ts";

export interface DvpComponent {
  desk: DvpDesk;
  routes: FeatureRoutes;
  readiness: ReadinessCheck[];
}

/**
 * DvP as a gateway component. It has no worker of its own: its exchanges run on the PvP engine's, which
 * must be built with the securities legs among its legs and `dvpNotices` as its notices (the composition
 * root does both, src/gateway/features.ts).
 */
export function dvpComponent(options: { db: Database; engine: PvpEngine; securities: SecuritiesLegPort[]; dtLedger: Pick<DtLedgerPort, "servicer"> | undefined }): DvpComponent {
  const identity = new IdentityStore(options.db);
  const desk = new DvpDesk({
    engine: options.engine,
    securities: options.securities,
    authority: { dtLedger: options.dtLedger, ledgerAccountOwner: (ledger, account) => identity.ledgerAccountOwner(ledger, account) },
  });
  return {
    desk,
    routes: dvpRoutes(desk),
    // The securities ledgers are legs of the PvP engine, whose readiness checks them ("pvp leg <name>").
    readiness: [],
  };
}
