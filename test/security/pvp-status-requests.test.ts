import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildMessage } from "../../src/iso20022/message.ts";
import { buildPvpStatusRequest } from "../../src/iso20022/pvp/messages.ts";
import type { PvpEngine } from "../../src/pvp/engine.ts";
import { statusAnswerIntervalMs } from "../../src/pvp/status-requests.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { migratePvp, NBK, settle, VirtualClock } from "../support/pvp/harness.ts";
import { InProcessNetwork } from "../support/pvp/in-process-network.ts";
import { peerGateways, peerPvpRequest } from "../support/pvp/peer-gateways.ts";

/**
 * A status request (pacs.028) makes the answering gateway send its last pacs.002 again. The correspondent
 * party to the PvP may not reuse a BizMsgIdr for another request (409, recorded apart, never answered),
 * nor turn fresh ids into a stream of resends (429 within the answer interval, nothing written).
 */
describe("PvP status requests: an asker cannot reuse ids or flood the answerer with resends", () => {
  let testDb: TestDatabase;
  let clock: VirtualClock;
  let initiator: PvpEngine;
  let responder: PvpEngine;
  let instruction: NonNullable<Awaited<ReturnType<PvpEngine["get"]>>>["instruction"];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
    clock = new VirtualClock();
    const network = new InProcessNetwork({ seed: 3, clock: () => clock.ms });
    ({ initiator, responder } = peerGateways({ db: testDb.db, clock, network }));
    const pvp = await initiator.create(peerPvpRequest);
    await settle([initiator, responder], clock, { maxRounds: 600, until: async () => (await initiator.get(pvp.id))!.state === "SETTLED" });
    instruction = (await initiator.get(pvp.id))!.instruction;
    clock.advance(statusAnswerIntervalMs);
  }, 120_000);

  afterAll(async () => {
    await testDb?.drop();
  });

  const ask = (messageId: string, createdAt: string) =>
    responder.receive(buildMessage(buildPvpStatusRequest({ messageId, createdAt, from: NBK, to: "FCBKAEAD", original: instruction! })), NBK, undefined);
  const counts = async () => ({
    messages: (await testDb.db.query(`SELECT count(*)::int AS n FROM pvp_message`)).rows,
    outbox: (await testDb.db.query(`SELECT count(*)::int AS n FROM pvp_outbox`)).rows,
  });

  it("the same BizMsgIdr with the same bytes is a duplicate; with other bytes it is refused 409 and nothing is answered", async () => {
    await expect(ask("NBK-ASK-1", "2026-11-23T09:30:00+00:00")).resolves.toMatchObject({ status: "accepted" });
    const before = await counts();
    await expect(ask("NBK-ASK-1", "2026-11-23T09:30:00+00:00")).resolves.toMatchObject({ status: "duplicate" });
    await expect(ask("NBK-ASK-1", "2026-11-23T09:31:00+00:00")).rejects.toMatchObject({ code: "BUSINESS_MESSAGE_ID_REUSED" });
    expect(await counts()).toEqual(before);
    const kept = await testDb.db.query(`SELECT count(*)::int AS n FROM pvp_message_conflict WHERE business_message_id = 'NBK-ASK-1'`);
    expect(kept.rows).toEqual([{ n: 1 }]);
  });

  it("fresh ids within the answer interval are refused 429 with nothing written; after it, one is answered again", async () => {
    const before = await counts();
    for (let index = 0; index < 5; index++) {
      await expect(ask(`NBK-FLOOD-${index}`, "2026-11-23T09:30:00+00:00")).rejects.toMatchObject({ code: "STATUS_REQUEST_TOO_SOON" });
    }
    expect(await counts()).toEqual(before);
    clock.advance(statusAnswerIntervalMs);
    await expect(ask("NBK-ASK-2", "2026-11-23T09:30:05+00:00")).resolves.toMatchObject({ status: "accepted" });
    const answers = await testDb.db.query(`SELECT count(*)::int AS n FROM pvp_outbox WHERE idempotency_key LIKE '%:status-answer:%'`);
    expect(answers.rows).toEqual([{ n: 2 }]);
  });
});
