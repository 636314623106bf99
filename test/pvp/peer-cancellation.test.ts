import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PvpEngine } from "../../src/pvp/engine.ts";
import { legDirectory } from "../../src/pvp/leg-port.ts";
import { dtLedgerLeg } from "../../src/pvp/legs/dt-ledger-leg.ts";
import { peerGatewayLeg } from "../../src/pvp/legs/peer-gateway-leg.ts";
import { recordSentMessages } from "../../src/pvp/message-log.ts";
import { pvpStore } from "../../src/pvp/store.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startDtStack, type DtStack } from "../support/pvp/dt-stack.ts";
import { FOREIGN_CB, migratePvp, NBK, settle, testPolicy, VirtualClock } from "../support/pvp/harness.ts";
import { InProcessNetwork } from "../support/pvp/in-process-network.ts";
import { SimulatedLedger } from "../support/pvp/simulated-ledger.ts";

describe("PvP with a peer gateway: cancellation with camt.056 / camt.029", () => {
  let testDb: TestDatabase;
  let clock: VirtualClock;
  let dt: DtStack;
  let foreignLedger: SimulatedLedger;
  let initiator: PvpEngine;
  let responder: PvpEngine;
  let network: InProcessNetwork;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
    clock = new VirtualClock(Date.now());
    dt = await startDtStack(testDb.db, clock.now);
    foreignLedger = new SimulatedLedger("local", () => clock.ms, { allowsEarlyRefund: true });
    foreignLedger.fund("FCB-BANK-B", 1_000_000n);
    network = new InProcessNetwork({ seed: 1, clock: () => clock.ms });
    initiator = new PvpEngine({
      db: testDb.db,
      ourAgent: NBK,
      policy: testPolicy,
      clock: clock.now,
      transport: network.transportFor(NBK),
      legs: legDirectory([
        dtLedgerLeg({ port: dt.port, clock: clock.now }),
        peerGatewayLeg({ agent: FOREIGN_CB, ourAgent: NBK, transport: network.transportFor(NBK), clock: clock.now, onSent: recordSentMessages(testDb.db, FOREIGN_CB, clock.now) }),
      ]),
    });
    // The foreign central bank's gateway shares the database here (its own rows); the HTTP test separates them.
    responder = new PvpEngine({ db: testDb.db, ourAgent: FOREIGN_CB, policy: testPolicy, clock: clock.now, transport: network.transportFor(FOREIGN_CB), legs: legDirectory([foreignLedger]) });
    const terms = { liquidityAccounts: ["FCB-BANK-B"], settlementAccount: "FCB-NOSTRO-NBK", maxAmount: 10n ** 12n };
    network.attach(NBK, (xml, from) => initiator.receive(xml, from, undefined));
    network.attach(FOREIGN_CB, (xml, from) => responder.receive(xml, from, { ledger: "local", termsOf: (bic) => (bic === NBK ? terms : undefined) }));
  }, 60_000);

  afterAll(async () => {
    await testDb?.drop();
  });

  it("cancels before the reveal: camt.056 to the peer, which refunds its lock and answers camt.029 CNCL; the DT hold is refunded at its expiry", async () => {
    const payerBefore = await dt.available(dt.demo.accounts.aigerim.id);
    // The correspondent's lock must wait: the bank cancels while the PvP is still before the reveal.
    network.down.add(FOREIGN_CB);
    const pvp = await initiator.create({
      createdBy: "halyk",
      counterpartyAgent: FOREIGN_CB,
      dtLeg: { ledger: "dt", payer: dt.demo.accounts.aigerim.id, beneficiary: dt.demo.accounts.kase.id, amount: 250_000n, currency: "KZT" },
      foreignLeg: { ledger: `peer:${FOREIGN_CB}`, payer: FOREIGN_CB, beneficiary: NBK, amount: 9_000n, currency: "AED" },
    });
    await settle([initiator, responder], clock, { until: async () => (await initiator.get(pvp.id))!.state === "DT_LOCKED" });
    network.down.delete(FOREIGN_CB);
    // Deliver the pacs.009 and let the responder lock and answer ACSP, but hold the reveal back by cancelling first.
    await initiator.cancel(pvp.id);
    await settle([initiator, responder], clock, { stepMs: 5_000, until: async () => (await initiator.get(pvp.id))!.state === "REFUNDED" });
    const done = (await initiator.get(pvp.id))!;
    expect(done.state).toBe("REFUNDED");
    expect(done.reasonCode).toBe("CUST");
    expect(await dt.available(dt.demo.accounts.aigerim.id)).toBe(payerBefore);
    expect(foreignLedger.balance("FCB-BANK-B")).toBe(1_000_000n);
    const messages = await pvpStore.messages(testDb.db, pvp.id);
    const sent = messages.filter((message) => message.direction === "out").map((message) => message.messageType);
    expect(sent).toContain("camt.056.001.08");
    const received = messages.filter((message) => message.direction === "in");
    expect(received.map((message) => message.summary)).toContainEqual({ outcome: "CNCL" });
    const [responderPvp] = await pvpStore.list(testDb.db, FOREIGN_CB, {});
    expect(responderPvp?.state).toBe("REFUNDED");
    expect(responderPvp?.cancelRequested).toBe(true);
  });
});
