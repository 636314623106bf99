import { Counter, Gauge, type Registry } from "prom-client";
import type { Queryable } from "../persistence/database.ts";

/**
 * The PvP figures operators alert on. The gauges are read from the database at scrape time, so every
 * process reports the same totals whichever worker did the work; delivery figures are this process's.
 * Returns the `onDelivery` hook for the peer transport.
 */
export function registerPvpMetrics(registry: Registry, db: Queryable, ourAgent: string): (agent: string, outcome: "delivered" | "failed") => void {
  const registers = [registry];
  new Gauge({
    name: "tenge_gateway_pvp_active",
    help: "Unfinished PvPs by state",
    labelNames: ["state"],
    registers,
    async collect() {
      this.reset();
      const rows = (await db.query<{ state: string; count: string | number | bigint }>("SELECT state, count(*) AS count FROM pvp WHERE active AND our_agent = $1 GROUP BY state", [ourAgent])).rows;
      for (const row of rows) this.set({ state: row.state }, Number(row.count));
    },
  });
  new Gauge({
    name: "tenge_gateway_pvp_past_expiry",
    help: "Unfinished PvPs whose first leg expiry has passed (should be refunding or settling)",
    registers,
    async collect() {
      const row = (
        await db.query<{ count: string | number | bigint }>(
          `SELECT count(*) AS count FROM pvp
            WHERE active AND our_agent = $1
              AND least((foreign_leg->>'expiresAt')::timestamptz, coalesce((dt_leg->>'expiresAt')::timestamptz, 'infinity')) < now()`,
          [ourAgent],
        )
      ).rows[0];
      this.set(Number(row?.count ?? 0));
    },
  });
  new Gauge({
    name: "tenge_gateway_pvp_outbox_pending",
    help: "Ledger commands and messages of PvPs not done yet",
    registers,
    async collect() {
      const row = (await db.query<{ count: string | number | bigint }>("SELECT count(*) AS count FROM pvp_outbox WHERE status = 'pending'")).rows[0];
      this.set(Number(row?.count ?? 0));
    },
  });
  new Gauge({
    name: "tenge_gateway_pvp_outbox_oldest_seconds",
    help: "Age of the oldest pending outbox entry (0 when none)",
    registers,
    async collect() {
      const row = (await db.query<{ oldest: Date | null }>("SELECT min(created_at) AS oldest FROM pvp_outbox WHERE status = 'pending'")).rows[0];
      this.set(row?.oldest ? Math.max(0, (Date.now() - new Date(row.oldest).getTime()) / 1000) : 0);
    },
  });
  const failures = new Counter({ name: "tenge_gateway_pvp_peer_delivery_failures_total", help: "Failed deliveries of messages to a correspondent", labelNames: ["peer"], registers });
  const lastDelivery = new Gauge({ name: "tenge_gateway_pvp_peer_last_delivery_timestamp_seconds", help: "Unix time of the last acknowledged delivery to a correspondent", labelNames: ["peer"], registers });
  return (agent, outcome) => {
    if (outcome === "delivered") lastDelivery.set({ peer: agent }, Date.now() / 1000);
    else failures.inc({ peer: agent });
  };
}
