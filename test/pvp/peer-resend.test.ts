import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PvpEngine } from "../../src/pvp/engine.ts";
import { LegError } from "../../src/pvp/leg-port.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { FOREIGN_CB, migratePvp, NBK, settle, VirtualClock } from "../support/pvp/harness.ts";
import { InProcessNetwork } from "../support/pvp/in-process-network.ts";
import { peerGateways, peerPvpRequest } from "../support/pvp/peer-gateways.ts";
import type { SimulatedLedger } from "../support/pvp/simulated-ledger.ts";

/**
 * A message whose acknowledgement is lost is sent again under its fixed BizMsgIdr. The correspondent takes
 * a byte-identical resend as a duplicate; a resend with another creation time would be refused (409
 * BUSINESS_MESSAGE_ID_REUSED) and recorded as a conflict on every retry.
 */
describe("PvP with a peer gateway: resends after a lost acknowledgement", () => {
  let testDb: TestDatabase;
  let clock: VirtualClock;
  let dt: SimulatedLedger;
  let foreign: SimulatedLedger;
  let initiator: PvpEngine;
  let responder: PvpEngine;
  /** What reached the correspondent for each BizMsgIdr, and how it answered. */
  let delivered: Array<{ kind: string; xml: string; answer: string }>;
  let heldAnswers: Array<{ xml: string; from: string }>;
  const count = (kind: string) => delivered.filter((message) => message.kind === kind).length;
  // Until the resend has arrived, the correspondent's answers to the bank wait (acknowledged), so the bank
  // does not learn the outcome before it retries.
  const awaitingResend = () => count("reveal") === 1 || count("camt.056") === 1;

  beforeEach(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
    clock = new VirtualClock();
    delivered = [];
    heldAnswers = [];
    const kindOf = (xml: string) => (xml.includes("-RV</BizMsgIdr>") ? "reveal" : xml.includes("-CR</BizMsgIdr>") ? "camt.056" : "other");
    const ackLostOnce = new Set<string>();
    // Every reveal and camt.056 is delivered, but the first acknowledgement of each is lost: the sender retries.
    const loseFirstAck = (to: string, receive: (xml: string, from: string) => Promise<unknown>) => async (xml: string, from: string) => {
      const kind = kindOf(xml);
      if (to === NBK && awaitingResend()) {
        heldAnswers.push({ xml, from });
        return undefined;
      }
      if (to !== FOREIGN_CB || kind === "other") return receive(xml, from);
      const answer = await receive(xml, from).then(
        (outcome) => String((outcome as { status?: string }).status),
        (error: unknown) => String((error as { code?: string }).code),
      );
      delivered.push({ kind, xml, answer });
      if (!ackLostOnce.has(kind)) {
        ackLostOnce.add(kind);
        throw new LegError("UNAVAILABLE", "acknowledgement lost");
      }
      return undefined;
    };
    const network = new InProcessNetwork({ seed: 5, clock: () => clock.ms });
    ({ initiator, responder, dt, foreign } = peerGateways({ db: testDb.db, clock, network, inbound: loseFirstAck }));
  }, 60_000);

  afterEach(async () => {
    await testDb.drop();
  });

  /** Runs both gateways, letting held answers through once the resend has arrived. */
  const runUntil = (done: () => Promise<boolean>) =>
    settle([initiator, responder], clock, {
      stepMs: 5_000,
      until: async () => {
        if (heldAnswers.length > 0 && !awaitingResend()) {
          for (const answer of heldAnswers.splice(0)) await initiator.receive(answer.xml, answer.from, undefined);
        }
        return done();
      },
    });

  const create = () => initiator.create(peerPvpRequest);

  it("the reveal (pacs.002 ACSC) is resent byte for byte and taken as a duplicate; the PvP settles", async () => {
    const pvp = await create();
    await runUntil(async () => (await initiator.get(pvp.id))!.state === "SETTLED");
    const reveals = delivered.filter((message) => message.kind === "reveal");
    expect(reveals.length).toBeGreaterThanOrEqual(2);
    expect(new Set(reveals.map((message) => message.xml)).size).toBe(1);
    expect(reveals.map((message) => message.answer)).not.toContain("BUSINESS_MESSAGE_ID_REUSED");
    expect(dt.balance("DA-NOSTRO-FCB")).toBe(250_000n);
    expect(foreign.balance("FX-NOSTRO-NBK")).toBe(9_000n);
  }, 60_000);

  it("the cancellation request (camt.056) is resent byte for byte; the PvP ends REFUNDED on both ledgers", async () => {
    const pvp = await create();
    // Cancel once the pacs.009 is out, before the bank hears of the correspondent's lock.
    await settle([initiator, responder], clock, { until: async () => (await initiator.get(pvp.id))!.foreignLockIssued });
    await initiator.cancel(pvp.id);
    await runUntil(async () => (await initiator.get(pvp.id))!.state === "REFUNDED");
    const requests = delivered.filter((message) => message.kind === "camt.056");
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(requests.map((message) => message.xml)).size).toBe(1);
    expect(requests.map((message) => message.answer)).not.toContain("BUSINESS_MESSAGE_ID_REUSED");
    expect(dt.balance("DA-PAYER")).toBe(1_000_000n);
    expect(foreign.balance("FX-PAYER")).toBe(1_000_000n);
  }, 60_000);
});
