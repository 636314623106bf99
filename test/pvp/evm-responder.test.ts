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

// Accounts on an EVM ledger are 42-character addresses: longer than any ISO 20022 account id (Max34Text).
const FCB_PAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const NBK_ON_FCB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

describe("a responder whose ledger is an EVM chain (PVP_RESPONDER_LEDGER=evm:<name>)", () => {
  let testDb: TestDatabase;
  let clock: VirtualClock;
  let dt: DtStack;
  let foreignLedger: SimulatedLedger;
  let initiator: PvpEngine;
  let responder: PvpEngine;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
    clock = new VirtualClock(Date.now());
    dt = await startDtStack(testDb.db, clock.now);
    foreignLedger = new SimulatedLedger("evm:fcb", () => clock.ms);
    foreignLedger.fund(FCB_PAYER, 1_000_000n);
    const network = new InProcessNetwork({ seed: 7, clock: () => clock.ms });
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
    responder = new PvpEngine({ db: testDb.db, ourAgent: FOREIGN_CB, policy: testPolicy, clock, transport: network.transportFor(FOREIGN_CB), legs: legDirectory([foreignLedger]) });
    // The NBK's legs on the foreign ledger are paid from the foreign payer to the NBK's account there.
    const terms = { liquidityAccounts: [FCB_PAYER], settlementAccount: NBK_ON_FCB, maxAmount: 10n ** 15n };
    network.attach(NBK, (xml, from) => initiator.receive(xml, from, undefined));
    network.attach(FOREIGN_CB, (xml, from) => responder.receive(xml, from, { ledger: "evm:fcb", termsOf: (bic) => (bic === NBK ? terms : undefined) }));
  }, 60_000);

  afterAll(async () => {
    await testDb?.drop();
  });

  it("settles both sides; camt.054 goes to the DT accounts only, never to an EVM address", async () => {
    const pvp = await initiator.create({
      createdBy: "halyk",
      counterpartyAgent: FOREIGN_CB,
      dtLeg: { ledger: "dt", payer: dt.demo.accounts.aigerim.id, beneficiary: dt.demo.accounts.kase.id, amount: 150_000n, currency: "KZT" },
      foreignLeg: { ledger: `peer:${FOREIGN_CB}`, payer: FOREIGN_CB, beneficiary: NBK, amount: 1_125n, currency: "AED" },
    });
    const responderPvp = async () => (await pvpStore.list(testDb.db, FOREIGN_CB, {}))[0];
    await settle([initiator, responder], clock, { until: async () => (await initiator.get(pvp.id))!.state === "SETTLED" && (await responderPvp())?.state === "SETTLED" });
    expect((await initiator.get(pvp.id))!.state).toBe("SETTLED");
    expect((await responderPvp())!.state).toBe("SETTLED");
    expect(foreignLedger.balance(NBK_ON_FCB)).toBe(1_125n);
    const initiatorNotices = (await pvpStore.messages(testDb.db, pvp.id)).filter((message) => message.messageType === "camt.054.001.08");
    expect(initiatorNotices.map((message) => message.summary["creditDebit"]).sort()).toEqual(["CRDT", "DBIT"]);
    const responderMessages = await pvpStore.messages(testDb.db, (await responderPvp())!.id);
    expect(responderMessages.some((message) => message.messageType === "camt.054.001.08")).toBe(false);
  });
});
