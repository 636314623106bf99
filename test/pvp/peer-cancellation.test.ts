import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PvpEngine } from "../../src/pvp/engine.ts";
import { legDirectory } from "../../src/pvp/leg-port.ts";
import { dtLedgerLeg } from "../../src/pvp/legs/dt-ledger-leg.ts";
import { peerGatewayLeg } from "../../src/pvp/legs/peer-gateway-leg.ts";
import { recordSentMessages } from "../../src/pvp/message-log.ts";
import { pvpToJson } from "../../src/pvp/pvp.ts";
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
      clock,
      transport: network.transportFor(NBK),
      legs: legDirectory([
        dtLedgerLeg({ port: dt.port, clock }),
        peerGatewayLeg({ agent: FOREIGN_CB, ourAgent: NBK, transport: network.transportFor(NBK), clock, onSent: recordSentMessages(testDb.db, FOREIGN_CB, clock) }),
      ]),
    });
    // The foreign central bank's gateway shares the database here (its own rows); the HTTP test separates them.
    responder = new PvpEngine({ db: testDb.db, ourAgent: FOREIGN_CB, policy: testPolicy, clock, transport: network.transportFor(FOREIGN_CB), legs: legDirectory([foreignLedger]) });
    const terms = { liquidityAccounts: ["FCB-BANK-B"], settlementAccount: "FCB-NOSTRO-NBK", maxAmount: 10n ** 12n };
    network.attach(NBK, (xml, from) => initiator.receive(xml, from, undefined));
    network.attach(FOREIGN_CB, (xml, from) => responder.receive(xml, from, { ledger: "local", termsOf: (bic) => (bic === NBK ? terms : undefined) }));
  }, 60_000);

  afterAll(async () => {
    await testDb?.drop();
  });

  /** The DT ledger's record of a hold's refund, with the consent it named (read as the NBK). */
  async function refundOf(holdId: string | undefined) {
    const events = [];
    let after: string | undefined;
    for (;;) {
      const page = await dt.ledger.events(dt.demo.participants.nbk.id, { ...(after ? { after } : {}), limit: 1000 });
      events.push(...page.events);
      if (page.events.length === 0) break;
      after = page.cursor;
    }
    return events.find((event) => event.type === "hold_refunded" && event.hold.id === holdId);
  }

  it("cancels before the reveal: camt.056 to the peer, which refunds its lock and answers camt.029 CNCL; the DT hold goes back at once", async () => {
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
    await settle([initiator, responder], clock, { stepMs: 1_000, until: async () => (await initiator.get(pvp.id))!.state === "REFUNDED" });
    const done = (await initiator.get(pvp.id))!;
    expect(done.state).toBe("REFUNDED");
    expect(done.reasonCode).toBe("CUST");
    // Both legs are back long before either expiry: the DT ledger refunded the hold on the CNCL's consent.
    expect(clock.ms).toBeLessThan(done.foreignLeg.expiresAt.getTime());
    expect(await dt.available(dt.demo.accounts.aigerim.id)).toBe(payerBefore);
    expect(foreignLedger.balance("FCB-BANK-B")).toBe(1_000_000n);
    const messages = await pvpStore.messages(testDb.db, pvp.id);
    const sent = messages.filter((message) => message.direction === "out").map((message) => message.messageType);
    expect(sent).toContain("camt.056.001.08");
    const received = messages.filter((message) => message.direction === "in");
    const cancellation = received.find((message) => message.messageType === "camt.029.001.09");
    expect(cancellation?.summary).toEqual({ outcome: "CNCL" });
    expect(done.peerCancellation).toBe(cancellation?.businessMessageId);
    // Operators see the consent the early refund named (GET /pvp/:id).
    expect(pvpToJson(done)["peerCancellation"]).toBe(cancellation?.businessMessageId);
    expect(await refundOf(done.dtReference)).toMatchObject({ earlyConsent: { by: FOREIGN_CB, message: cancellation?.businessMessageId } });
    const [responderPvp] = await pvpStore.list(testDb.db, FOREIGN_CB, {});
    expect(responderPvp?.state).toBe("REFUNDED");
    expect(responderPvp?.cancelRequested).toBe(true);
  });

  it("a responder whose own leg is a DT hold refunds it on the initiator's camt.056 at once, and answers CNCL", async () => {
    // The foreign central bank runs this gateway on a DT-platform ledger of its own (here: the same ledger, in AED).
    const ownLedger = dtLedgerLeg({ port: dt.port, ledger: "fcb-dt", currency: "AED", clock });
    const dtResponder = new PvpEngine({ db: testDb.db, ourAgent: "FCBKAEA2", policy: testPolicy, clock, transport: network.transportFor("FCBKAEA2"), legs: legDirectory([ownLedger]) });
    const terms = { liquidityAccounts: [dt.demo.accounts.coffeeShop.id], settlementAccount: dt.demo.accounts.altynExchange.id, maxAmount: 10n ** 12n };
    network.attach("FCBKAEA2", (xml, from) => dtResponder.receive(xml, from, { ledger: "fcb-dt", termsOf: (bic) => (bic === NBK ? terms : undefined) }));
    const toResponder = new PvpEngine({
      db: testDb.db,
      ourAgent: NBK,
      policy: testPolicy,
      clock,
      transport: network.transportFor(NBK),
      legs: legDirectory([
        dtLedgerLeg({ port: dt.port, clock }),
        peerGatewayLeg({ agent: "FCBKAEA2", ourAgent: NBK, transport: network.transportFor(NBK), clock, onSent: recordSentMessages(testDb.db, "FCBKAEA2", clock) }),
      ]),
    });
    network.attach(NBK, (xml, from) => toResponder.receive(xml, from, undefined));
    const payerBefore = await dt.available(dt.demo.accounts.aigerim.id);
    const liquidityBefore = await dt.available(dt.demo.accounts.coffeeShop.id);
    const pvp = await toResponder.create({
      createdBy: "halyk",
      counterpartyAgent: "FCBKAEA2",
      dtLeg: { ledger: "dt", payer: dt.demo.accounts.aigerim.id, beneficiary: dt.demo.accounts.kase.id, amount: 150_000n, currency: "KZT" },
      foreignLeg: { ledger: "peer:FCBKAEA2", payer: "FCBKAEA2", beneficiary: NBK, amount: 1_200n, currency: "AED" },
    });
    // Our DT hold and the pacs.009; then only the responder runs: it locks its own hold and answers ACSP.
    await settle([toResponder], clock, { until: async () => (await toResponder.get(pvp.id))!.foreignLockIssued });
    const ownPvp = async () => (await pvpStore.list(testDb.db, "FCBKAEA2", {}))[0];
    await settle([dtResponder], clock, { until: async () => (await ownPvp())?.state === "LOCKED" });
    expect(await dt.available(dt.demo.accounts.coffeeShop.id)).toBe(liquidityBefore - 1_200n);
    await toResponder.cancel(pvp.id);
    await settle([toResponder, dtResponder], clock, {
      until: async () => (await toResponder.get(pvp.id))!.state === "REFUNDED" && (await ownPvp())?.state === "REFUNDED",
    });
    const done = (await toResponder.get(pvp.id))!;
    const theirs = (await ownPvp())!;
    expect([done.state, theirs.state]).toEqual(["REFUNDED", "REFUNDED"]);
    expect(clock.ms).toBeLessThan(theirs.foreignLeg.expiresAt.getTime());
    expect(await dt.available(dt.demo.accounts.aigerim.id)).toBe(payerBefore);
    expect(await dt.available(dt.demo.accounts.coffeeShop.id)).toBe(liquidityBefore);
    // Each hold names the other side's signed message as the consent: our CNCL's answer, their camt.056.
    const camt056 = (await pvpStore.messages(testDb.db, theirs.id)).find((message) => message.direction === "in" && message.messageType === "camt.056.001.08");
    expect(theirs.peerCancellation).toBe(camt056?.businessMessageId);
    expect(await refundOf(theirs.foreignReference)).toMatchObject({ earlyConsent: { by: NBK, message: camt056?.businessMessageId } });
    expect(await refundOf(done.dtReference)).toMatchObject({ earlyConsent: { by: "FCBKAEA2", message: done.peerCancellation } });
  });
});
