import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PvpEngine } from "../../src/pvp/engine.ts";
import { isAgent } from "../../src/pvp/message-counterparty.ts";
import { pvpStore } from "../../src/pvp/store.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { migratePvp, NBK, settle, VirtualClock } from "../support/pvp/harness.ts";
import { InProcessNetwork } from "../support/pvp/in-process-network.ts";
import { peerGateways, peerPvpRequest } from "../support/pvp/peer-gateways.ts";

describe("an abort on time says so: camt.056 DS24, and the responder's camt.029 CNCL then pacs.002 RJCT carry it", () => {
  let testDb: TestDatabase;
  let clock: VirtualClock;
  let initiator: PvpEngine;
  let responder: PvpEngine;

  beforeEach(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
    clock = new VirtualClock();
    const network = new InProcessNetwork({ seed: 3, clock: () => clock.ms });
    let dropped = false;
    // The responder's ACSP never reaches the initiator, which does not chase: its reveal window closes.
    const inbound = (to: string, receive: (xml: string, from: string) => Promise<unknown>) => async (xml: string, from: string) => {
      if (to === NBK && !dropped && xml.includes("tech:xsd:pacs.002.001.10")) {
        dropped = true;
        return;
      }
      return receive(xml, from);
    };
    ({ initiator, responder } = peerGateways({ db: testDb.db, clock, network, inbound, initiatorChases: false }));
  }, 60_000);

  afterEach(async () => {
    await testDb.drop();
  });

  it("the initiator cancels with DS24 (not CUST: nobody asked); the responder answers CNCL, then RJCT DS24", async () => {
    const pvp = await initiator.create(peerPvpRequest);
    await settle([initiator, responder], clock, { maxRounds: 900, until: async () => ["REFUNDED", "REJECTED"].includes((await initiator.get(pvp.id))!.state) });
    expect((await initiator.get(pvp.id))!).toMatchObject({ state: "REFUNDED", reasonCode: "AB03" });
    const sent = (await pvpStore.messages(testDb.db, pvp.id)).filter((message) => message.direction === "out" && message.messageType === "camt.056.001.08");
    expect(sent).toHaveLength(1);
    expect(sent[0]!.xml).toContain("<Cd>DS24</Cd>");
    const theirs = (await responder.list({ limit: 10 })).find((item) => item.pvpRef === pvp.id)!;
    expect(theirs).toMatchObject({ state: "REFUNDED", reasonCode: "DS24" });
    const answers = (await pvpStore.messages(testDb.db, theirs.id)).filter((message) => message.direction === "out" && isAgent(message.counterparty, NBK));
    expect(answers.map((message) => [message.messageType, message.summary])).toEqual([
      ["pacs.002.001.10", { status: "ACSP" }],
      ["camt.029.001.09", { outcome: "CNCL" }],
      ["pacs.002.001.10", { status: "RJCT", reason: "DS24" }],
    ]);
  });
});
