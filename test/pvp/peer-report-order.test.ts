import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PvpEngine } from "../../src/pvp/engine.ts";
import { pvpStore } from "../../src/pvp/store.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { FOREIGN_CB, migratePvp, NBK, settle, VirtualClock } from "../support/pvp/harness.ts";
import { InProcessNetwork } from "../support/pvp/in-process-network.ts";
import { peerGateways, peerPvpRequest } from "../support/pvp/peer-gateways.ts";
import type { SimulatedLedger } from "../support/pvp/simulated-ledger.ts";

/**
 * Reports from the correspondent may arrive in another order than it sent them (a retried or delayed
 * message overtaken by a later one). Its lock report (pacs.002 ACSP) can reach the initiator after the
 * report that it refunded (camt.029 CNCL, pacs.002 RJCT): the later, final report must stand.
 */
describe("PvP with a peer gateway: reports that arrive out of order", () => {
  let testDb: TestDatabase;
  let clock: VirtualClock;
  let dt: SimulatedLedger;
  let foreign: SimulatedLedger;
  let initiator: PvpEngine;
  let responder: PvpEngine;
  /** The responder's lock reports to the initiator, acknowledged and held back until the test lets them through. */
  let heldLockReports: Array<{ xml: string; from: string }>;

  beforeEach(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
    clock = new VirtualClock();
    heldLockReports = [];
    // The ACSP is the only pacs.002 that carries the hash-lock (/HLCK/); it is acknowledged and held back.
    const holdLockReports = (to: string, receive: (xml: string, from: string) => Promise<unknown>) => async (xml: string, from: string) => {
      if (to === NBK && xml.includes("tech:xsd:pacs.002") && xml.includes("/HLCK/")) {
        heldLockReports.push({ xml, from });
        return;
      }
      return receive(xml, from);
    };
    const network = new InProcessNetwork({ seed: 3, clock: () => clock.ms });
    ({ initiator, responder, dt, foreign } = peerGateways({ db: testDb.db, clock, network, inbound: holdLockReports }));
  }, 60_000);

  afterEach(async () => {
    await testDb.drop();
  });

  it("a lock report (ACSP) that arrives after the correspondent reported its refund does not bring the leg back: the PvP ends REFUNDED", async () => {
    const pvp = await initiator.create(peerPvpRequest);
    const responderPvp = async () => (await pvpStore.list(testDb.db, FOREIGN_CB, {}))[0];
    // The correspondent locks and reports it, but its ACSP is held back on the way.
    await settle([initiator, responder], clock, { until: async () => heldLockReports.length > 0 && (await responderPvp())?.state === "LOCKED" });
    expect((await initiator.get(pvp.id))!.state).toBe("DT_LOCKED");

    // The bank cancels before hearing of the lock: camt.056; the correspondent refunds and answers camt.029 CNCL and RJCT.
    await initiator.cancel(pvp.id);
    await settle([initiator, responder], clock, { until: async () => (await responderPvp())?.state === "REFUNDED" && (await initiator.get(pvp.id))!.peerStatus !== undefined });
    expect(foreign.locks.get(`${(await responderPvp())!.id}:foreign`)?.status).toBe("refunded");
    const beforeLateReport = (await initiator.get(pvp.id))!;
    expect(beforeLateReport.state).toBe("ABORTING");
    expect(beforeLateReport.peerStatus).toBe("rejected");

    // Now the overtaken ACSP arrives. It is recorded, but the correspondent's final report stands.
    for (const held of heldLockReports.splice(0)) await initiator.receive(held.xml, held.from, undefined);
    expect((await initiator.get(pvp.id))!.peerStatus).toBe("rejected");
    expect((await pvpStore.messages(testDb.db, pvp.id)).some((message) => message.direction === "in" && message.summary["status"] === "ACSP")).toBe(true);

    // The DT hold is refunded at its expiry and the PvP is final.
    await settle([initiator, responder], clock, { stepMs: 5_000, until: async () => (await initiator.get(pvp.id))!.state === "REFUNDED" });
    expect((await initiator.get(pvp.id))!.state).toBe("REFUNDED");
    expect(dt.locks.get(`${pvp.id}:dt`)?.status).toBe("refunded");
    expect(dt.balance("DA-PAYER")).toBe(1_000_000n);
    expect(foreign.balance("FX-PAYER")).toBe(1_000_000n);
  }, 60_000);
});
