import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import type { PvpEngine } from "../../src/pvp/engine.ts";
import { dtLedgerLeg } from "../../src/pvp/legs/dt-ledger-leg.ts";
import { peerGatewayLeg } from "../../src/pvp/legs/peer-gateway-leg.ts";
import { bareHex, lockedMessage } from "../../src/pvp/protocol/pvp-messages.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startDtStack, type DtStack } from "../support/pvp/dt-stack.ts";
import { engineWith, FOREIGN_CB, migratePvp, NBK } from "../support/pvp/harness.ts";

/**
 * A correspondent's lock report (pacs.002 ACSP) is what makes the initiator reveal its secret. It is
 * believed only for the terms instructed: a report with another hash-lock, or with an expiry later than
 * instructed (which could outlive our DT hold), is refused and changes nothing.
 */
const EVIL = "EVILAEAD";

describe("PvP initiator: a peer's lock report is checked against what was instructed", () => {
  let testDb: TestDatabase;
  let dt: DtStack;
  let engine: PvpEngine;
  const sent: string[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
    dt = await startDtStack(testDb.db, () => new Date());
    const transport = { send: async (_to: string, message: { messageType: string }) => void sent.push(message.messageType) };
    engine = engineWith(
      testDb.db,
      [dtLedgerLeg({ port: dt.port }), peerGatewayLeg({ agent: FOREIGN_CB, ourAgent: NBK, transport }), peerGatewayLeg({ agent: EVIL, ourAgent: NBK, transport })],
      { clock: systemClock, transport },
    );
  }, 60_000);

  afterAll(async () => {
    await testDb?.drop();
  });

  it("refuses an ACSP with another hash-lock or a later expiry; accepts the instructed one", async () => {
    const pvp = await engine.create({
      createdBy: "halyk",
      counterpartyAgent: FOREIGN_CB,
      dtLeg: { ledger: "dt", payer: dt.demo.accounts.aigerim.id, beneficiary: dt.demo.accounts.kase.id, amount: 250_000n, currency: "KZT" },
      foreignLeg: { ledger: `peer:${FOREIGN_CB}`, payer: FOREIGN_CB, beneficiary: NBK, amount: 9_000n, currency: "AED" },
    });
    for (let round = 0; round < 5 && !sent.includes("pacs.009.001.08"); round++) await engine.processNow(pvp.id);
    expect((await engine.get(pvp.id))!.state).toBe("DT_LOCKED");
    // Refused reports are rolled back whole, so the accepted one may reuse the BizMsgIdr.
    const report = (hashLock: string, expiry: Date) => lockedMessage({ pvpRef: pvp.pvpRef, from: FOREIGN_CB, to: NBK, createdAt: new Date() }, pvp.instruction!, hashLock, expiry);
    const receive = (xml: string) => engine.receive(xml, FOREIGN_CB, undefined);
    const ours = bareHex(pvp.hashLock);
    const expiry = pvp.foreignLeg.expiresAt;
    await expect(receive(report(randomBytes(32).toString("hex"), expiry))).rejects.toMatchObject({ code: "PEER_TERMS_MISMATCH" });
    await expect(receive(report(ours, new Date(expiry.getTime() + 3_600_000)))).rejects.toMatchObject({ code: "PEER_TERMS_MISMATCH" });
    expect((await engine.get(pvp.id))!.peerStatus).toBeUndefined();
    await engine.processNow(pvp.id);
    expect(sent).not.toContain("pacs.002.001.10");
    expect((await receive(report(ours, expiry))).status).toBe("accepted");
    expect((await engine.get(pvp.id))!.peerStatus).toBe("locked");
  });

  it("a report on a peer leg is accepted only from the BIC the instruction went to", async () => {
    // A PvP as main wrote them before POST /pvp bound `peer:<BIC>` to the counterparty (now 422 PEER_NOT_COUNTERPARTY).
    const pvp = await engine.create({
      createdBy: "halyk",
      counterpartyAgent: FOREIGN_CB,
      dtLeg: { ledger: "dt", payer: dt.demo.accounts.aigerim.id, beneficiary: dt.demo.accounts.kase.id, amount: 1_000n, currency: "KZT" },
      foreignLeg: { ledger: `peer:${EVIL}`, payer: EVIL, beneficiary: NBK, amount: 1_000n, currency: "AED" },
    });
    for (let round = 0; round < 5 && (await engine.get(pvp.id))!.state !== "DT_LOCKED"; round++) await engine.processNow(pvp.id);
    expect((await engine.get(pvp.id))!.state).toBe("DT_LOCKED");
    const report = (from: string) => lockedMessage({ pvpRef: pvp.pvpRef, from, to: NBK, createdAt: new Date() }, pvp.instruction!, bareHex(pvp.hashLock), pvp.foreignLeg.expiresAt);
    // The counterparty was never instructed: its ACSP must not make us reveal the secret to EVILAEAD.
    await expect(engine.receive(report(FOREIGN_CB), FOREIGN_CB, undefined)).rejects.toMatchObject({ code: "SENDER_MISMATCH" });
    await expect(engine.receive(report(EVIL), EVIL, undefined)).rejects.toMatchObject({ code: "UNKNOWN_PVP" });
    expect((await engine.get(pvp.id))!.peerStatus).toBeUndefined();
    expect((await testDb.db.query("SELECT 1 FROM pvp_message WHERE pvp_id = $1 AND direction = 'in'", [pvp.id])).rowCount).toBe(0);
  });
});
