import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildMessage } from "../../src/iso20022/message.ts";
import { buildPvpStatusRequest } from "../../src/iso20022/pvp/messages.ts";
import { messageIdOf } from "../../src/pvp/protocol/pvp-messages.ts";
import type { PvpEngine } from "../../src/pvp/engine.ts";
import { pvpStore } from "../../src/pvp/store.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { FOREIGN_CB, migratePvp, NBK, settle, VirtualClock } from "../support/pvp/harness.ts";
import { InProcessNetwork } from "../support/pvp/in-process-network.ts";
import { peerGateways, peerPvpRequest } from "../support/pvp/peer-gateways.ts";
import type { SimulatedLedger } from "../support/pvp/simulated-ledger.ts";

const OTHER_CB = "OTHRGB2L";

describe("PvP recovery by status request (pacs.028)", () => {
  let testDb: TestDatabase;
  let clock: VirtualClock;
  let dt: SimulatedLedger;
  let foreign: SimulatedLedger;
  let network: InProcessNetwork;
  let initiator: PvpEngine;
  let responder: PvpEngine;
  /** Messages to lose after acknowledging them, by receiver and message type (once each). */
  let lose: Array<{ to: string; type: string }>;
  const lost: string[] = [];

  beforeEach(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
    clock = new VirtualClock();
    network = new InProcessNetwork({ seed: 7, clock: () => clock.ms });
    lose = [];
    lost.length = 0;
    const lossy = (to: string, receive: (xml: string, from: string) => Promise<unknown>) => async (xml: string, from: string) => {
      const index = lose.findIndex((rule) => rule.to === to && xml.includes(`tech:xsd:${rule.type}`));
      if (index >= 0) {
        lost.push(lose.splice(index, 1)[0]!.type);
        return; // acknowledged, never recorded
      }
      return receive(xml, from);
    };
    ({ initiator, responder, dt, foreign } = peerGateways({ db: testDb.db, clock, network, inbound: lossy }));
  }, 60_000);

  afterEach(async () => {
    await testDb.drop();
  });

  const create = () => initiator.create(peerPvpRequest);
  const runUntilFinal = (id: string) => settle([initiator, responder], clock, { maxRounds: 600, until: async () => ["SETTLED", "REFUNDED", "REJECTED"].includes((await initiator.get(id))!.state) });
  const statusRequestsAt = async (agent: string) => (await testDb.db.query(`SELECT p.our_agent FROM pvp_message m JOIN pvp p ON p.id = m.pvp_id WHERE m.message_type = 'pacs.028.001.03' AND m.direction = 'in' AND p.our_agent = $1`, [agent])).rowCount;

  it("a lost ACSP: the initiator asks, the responder answers with its pacs.002 ACSP unchanged, and the PvP settles", async () => {
    lose.push({ to: NBK, type: "pacs.002.001.10" });
    const pvp = await create();
    await runUntilFinal(pvp.id);
    expect(lost).toEqual(["pacs.002.001.10"]);
    expect((await initiator.get(pvp.id))!.state).toBe("SETTLED");
    expect(await statusRequestsAt(FOREIGN_CB)).toBeGreaterThan(0);
    const received = (await pvpStore.messages(testDb.db, pvp.id)).filter((message) => message.direction === "in").map((message) => message.businessMessageId);
    expect(received).toContain(messageIdOf(pvp.id, "locked"));
    expect(foreign.balance("FX-NOSTRO-NBK")).toBe(9_000n);
  });

  it("a lost pacs.009: the initiator sends it again beside its status request, and the PvP settles", async () => {
    lose.push({ to: FOREIGN_CB, type: "pacs.009.001.08" });
    const pvp = await create();
    await runUntilFinal(pvp.id);
    expect(lost).toEqual(["pacs.009.001.08"]);
    expect((await initiator.get(pvp.id))!.state).toBe("SETTLED");
    expect(dt.balance("DA-NOSTRO-FCB")).toBe(250_000n);
  });

  it("a lost reveal: sent again, and the responder's ACSC settles both legs", async () => {
    lose.push({ to: FOREIGN_CB, type: "pacs.002.001.10" });
    const pvp = await create();
    await runUntilFinal(pvp.id);
    expect(lost).toEqual(["pacs.002.001.10"]);
    expect((await initiator.get(pvp.id))!.state).toBe("SETTLED");
    expect(foreign.balance("FX-NOSTRO-NBK")).toBe(9_000n);
  });

  it("answers only the correspondent party to the PvP: another one asking is told nothing and nothing is written", async () => {
    const pvp = await create();
    await runUntilFinal(pvp.id);
    const instruction = (await initiator.get(pvp.id))!.instruction!;
    const asked = (from: string) =>
      buildMessage(buildPvpStatusRequest({ messageId: `Q-${from}`, createdAt: "2026-11-23T09:10:00+00:00", from, to: FOREIGN_CB, original: instruction }));
    const before = await testDb.db.query(`SELECT count(*)::int AS n FROM pvp_outbox`);
    const messagesBefore = await testDb.db.query(`SELECT count(*)::int AS n FROM pvp_message`);
    // A stranger asking in its own name about a PvP it is not party to.
    await expect(responder.receive(asked(OTHER_CB), OTHER_CB, undefined)).resolves.toMatchObject({ pvpId: undefined });
    // A stranger claiming to be the initiator in the AppHdr.
    await expect(responder.receive(asked(NBK), OTHER_CB, undefined)).rejects.toMatchObject({ code: "SENDER_MISMATCH" });
    expect((await testDb.db.query(`SELECT count(*)::int AS n FROM pvp_outbox`)).rows).toEqual(before.rows);
    expect((await testDb.db.query(`SELECT count(*)::int AS n FROM pvp_message`)).rows).toEqual(messagesBefore.rows);
    // The party itself gets the last pacs.002 again, queued in the outbox.
    await expect(responder.receive(asked(NBK), NBK, undefined)).resolves.toMatchObject({ status: "accepted" });
    const answers = await testDb.db.query(`SELECT payload FROM pvp_outbox WHERE idempotency_key LIKE '%:status-answer:Q-${NBK}'`);
    expect(answers.rows).toHaveLength(1);
    expect(String((answers.rows[0] as { payload: { messageType: string } }).payload.messageType)).toBe("pacs.002.001.10");
  });
});

describe("PvP recovery as responder: after its last report the responder asks (pacs.028) and resends, as the initiator does", () => {
  let testDb: TestDatabase;
  let clock: VirtualClock;
  let dt: SimulatedLedger;
  let foreign: SimulatedLedger;
  let initiator: PvpEngine;
  let responder: PvpEngine;
  let lose: Array<{ to: string; type: string }>;
  const lost: string[] = [];

  beforeEach(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
    clock = new VirtualClock();
    const network = new InProcessNetwork({ seed: 7, clock: () => clock.ms });
    lose = [];
    lost.length = 0;
    const lossy = (to: string, receive: (xml: string, from: string) => Promise<unknown>) => async (xml: string, from: string) => {
      const index = lose.findIndex((rule) => rule.to === to && xml.includes(`tech:xsd:${rule.type}`));
      if (index >= 0) {
        lost.push(lose.splice(index, 1)[0]!.type);
        return;
      }
      return receive(xml, from);
    };
    // The initiator never chases here: whatever is recovered, the responder recovered.
    ({ initiator, responder, dt, foreign } = peerGateways({ db: testDb.db, clock, network, inbound: lossy, initiatorChases: false, responderAsksAfterMs: 5_000 }));
  }, 60_000);

  afterEach(async () => {
    await testDb.drop();
  });

  const runUntilFinal = (id: string) => settle([initiator, responder], clock, { maxRounds: 600, until: async () => ["SETTLED", "REFUNDED", "REJECTED"].includes((await initiator.get(id))!.state) });
  const inboundAt = async (agent: string, type: string) =>
    (await testDb.db.query(`SELECT m.business_message_id FROM pvp_message m JOIN pvp p ON p.id = m.pvp_id WHERE m.message_type = $2 AND m.direction = 'in' AND p.our_agent = $1`, [agent, type])).rows.map(
      (row) => (row as { business_message_id: string }).business_message_id,
    );

  it("a lost reveal: the responder asks after its ACSP, the initiator answers with its reveal unchanged, and the PvP settles", async () => {
    lose.push({ to: FOREIGN_CB, type: "pacs.002.001.10" });
    const pvp = await initiator.create(peerPvpRequest);
    await runUntilFinal(pvp.id);
    expect(lost).toEqual(["pacs.002.001.10"]);
    expect((await initiator.get(pvp.id))!.state).toBe("SETTLED");
    expect(await inboundAt(FOREIGN_CB, "pacs.028.001.03")).toEqual([]);
    expect((await inboundAt(NBK, "pacs.028.001.03")).length).toBeGreaterThan(0);
    // The initiator's answer is its reveal, under the reveal's id: the responder claimed with it.
    const answers = await testDb.db.query(`SELECT o.payload FROM pvp_outbox o JOIN pvp p ON p.id = o.pvp_id WHERE p.our_agent = $1 AND o.idempotency_key LIKE '%:status-answer:%'`, [NBK]);
    expect(answers.rows.map((row) => (row as { payload: { messageId: string } }).payload.messageId)).toContain(messageIdOf(pvp.id, "reveal"));
    expect(await inboundAt(FOREIGN_CB, "pacs.002.001.10")).toContain(messageIdOf(pvp.id, "reveal"));
    expect(foreign.balance("FX-NOSTRO-NBK")).toBe(9_000n);
    expect(dt.balance("DA-NOSTRO-FCB")).toBe(250_000n);
  });

  it("a lost ACSP: the responder sends it again beside its request, unchanged, and the PvP settles", async () => {
    lose.push({ to: NBK, type: "pacs.002.001.10" });
    const pvp = await initiator.create(peerPvpRequest);
    await runUntilFinal(pvp.id);
    expect(lost).toEqual(["pacs.002.001.10"]);
    expect((await initiator.get(pvp.id))!.state).toBe("SETTLED");
    expect(await inboundAt(NBK, "pacs.002.001.10")).toContain(messageIdOf(pvp.id, "locked"));
    // Asked about a PvP it has not reported on yet (no reveal sent), the initiator answers nothing: the resent ACSP was what was missing.
    const answers = await testDb.db.query(`SELECT 1 FROM pvp_outbox o JOIN pvp p ON p.id = o.pvp_id WHERE p.our_agent = $1 AND o.idempotency_key LIKE '%:status-answer:%'`, [NBK]);
    expect((await inboundAt(NBK, "pacs.028.001.03")).length).toBeGreaterThan(0);
    expect(answers.rowCount).toBe(0);
    expect(foreign.balance("FX-NOSTRO-NBK")).toBe(9_000n);
  });
});
