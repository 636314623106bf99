import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inProcessDtLedger } from "../../src/dt-ledger/in-process-adapter.ts";
import { DtLedgerError } from "../../src/ledger/dt-ledger-port.ts";
import type { PvpEngine } from "../../src/pvp/engine.ts";
import { dtLedgerLeg } from "../../src/pvp/legs/dt-ledger-leg.ts";
import { peerGatewayLeg } from "../../src/pvp/legs/peer-gateway-leg.ts";
import { bareHex, lockedMessage, resolutionMessage } from "../../src/pvp/protocol/pvp-messages.ts";
import type { PvpRecord } from "../../src/pvp/pvp.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startDtStack, type DtStack } from "../support/pvp/dt-stack.ts";
import { engineWith, FOREIGN_CB, migratePvp, NBK, settle, VirtualClock } from "../support/pvp/harness.ts";

/**
 * An agreed cancellation returns our DT hold before its expiry (issue 18, low finding 6). The danger is the
 * other way round: once the counterparty may have acted on the lock, nobody may take the DT hold back before
 * its expiry on their own word. The payer's bank, which services the payer's account, is refused by the DT
 * ledger whatever consent it claims; a CNCL we never asked for (no camt.056) or one after the reveal is no
 * consent: the hold stays until its expiry.
 */
describe("PvP agreed cancellation: only the creditor side's word returns a DT hold early", () => {
  let testDb: TestDatabase;
  let dt: DtStack;
  let clock: VirtualClock;
  let engine: PvpEngine;
  const sent: string[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
    clock = new VirtualClock(Date.now());
    dt = await startDtStack(testDb.db, clock.now);
    const transport = { send: async (_to: string, message: { messageType: string }) => void sent.push(message.messageType) };
    engine = engineWith(testDb.db, [dtLedgerLeg({ port: dt.port, clock }), peerGatewayLeg({ agent: FOREIGN_CB, ourAgent: NBK, transport, clock })], {
      clock,
      transport,
    });
  }, 60_000);

  afterAll(async () => {
    await testDb?.drop();
  });

  const held = async () => (await dt.ledger.balance(dt.demo.participants.nbk.id, dt.demo.accounts.aigerim.id)).held;
  const height = async () => (await dt.ledger.monitoring(dt.demo.participants.nbk.id)).height;
  const parties = (pvp: PvpRecord) => ({ pvpRef: pvp.pvpRef, from: FOREIGN_CB, to: NBK, createdAt: clock.now() });

  /** A PvP whose DT hold is placed and whose peer reported its lock (ACSP): the counterparty acted on it. */
  async function lockedByBoth(): Promise<PvpRecord> {
    const pvp = await engine.create({
      createdBy: "halyk",
      counterpartyAgent: FOREIGN_CB,
      dtLeg: { ledger: "dt", payer: dt.demo.accounts.aigerim.id, beneficiary: dt.demo.accounts.kase.id, amount: 100_000n, currency: "KZT" },
      foreignLeg: { ledger: `peer:${FOREIGN_CB}`, payer: FOREIGN_CB, beneficiary: NBK, amount: 800n, currency: "AED" },
    });
    for (let round = 0; round < 5 && (await engine.get(pvp.id))!.foreignLockIssued !== true; round++) await engine.processNow(pvp.id);
    const current = (await engine.get(pvp.id))!;
    expect(current.state).toBe("DT_LOCKED");
    await engine.receive(lockedMessage(parties(current), current.instruction!, bareHex(current.hashLock), current.foreignLeg.expiresAt), FOREIGN_CB, undefined);
    return (await engine.get(pvp.id))!;
  }

  it("the payer's bank cannot refund the PvP's DT hold before its expiry, whatever consent it names; nothing is booked", async () => {
    const pvp = await lockedByBoth();
    const before = { held: await held(), height: await height() };
    expect(before.held).toBeGreaterThanOrEqual(100_000n);
    const halyk = inProcessDtLedger(dt.ledger, dt.demo.participants.halyk.id);
    const nbk = inProcessDtLedger(dt.ledger, dt.demo.participants.nbk.id);
    const forged = { by: FOREIGN_CB, message: "FORGED-CNCL" };
    const code = (promise: Promise<unknown>) => promise.then(() => "accepted", (error: unknown) => (error instanceof DtLedgerError ? error.code : String(error)));
    expect(await code(halyk.refund({ idempotencyKey: "halyk-early", holdId: pvp.dtReference!, earlyConsent: forged }))).toBe("FORBIDDEN_OPERATION");
    expect(await code(halyk.refund({ idempotencyKey: "halyk-plain", holdId: pvp.dtReference! }))).toBe("NOT_YET_EXPIRED");
    expect(await code(nbk.refund({ idempotencyKey: "nbk-early", holdId: pvp.dtReference!, earlyConsent: forged }))).toBe("FORBIDDEN_OPERATION");
    expect((await dt.port.getHold(pvp.dtReference!)).status).toBe("held");
    expect({ held: await held(), height: await height() }).toEqual(before);
  });

  it("a CNCL we never asked for (no camt.056) is no consent: the hold goes back only at its expiry", async () => {
    const pvp = await lockedByBoth();
    // Unprompted: the PvP was not cancelled, so no camt.056 went out.
    await engine.receive(resolutionMessage(parties(pvp), pvp.instruction!, "CNCL"), FOREIGN_CB, undefined);
    const after = (await engine.get(pvp.id))!;
    expect(after.peerCancellation).toBeUndefined();
    await settle([engine], clock, { stepMs: 5_000, until: async () => (await engine.get(pvp.id))!.state === "REFUNDED" || clock.ms >= after.dtLeg!.expiresAt.getTime() - 10_000 });
    expect((await engine.get(pvp.id))!.state).toBe("ABORTING");
    expect((await dt.port.getHold(pvp.dtReference!)).status).toBe("held");
    await settle([engine], clock, { stepMs: 5_000, until: async () => (await engine.get(pvp.id))!.state === "REFUNDED" });
    expect(clock.ms).toBeGreaterThanOrEqual(after.dtLeg!.expiresAt.getTime());
    expect((await dt.port.getHold(pvp.dtReference!)).status).toBe("refunded");
  });

  it("a cancellation asked after the reveal is refused, and a CNCL then changes nothing early", async () => {
    const pvp = await lockedByBoth();
    // The ACSP makes the engine reveal: the claim of the foreign leg (the preimage) goes to the peer.
    for (let round = 0; round < 5 && (await engine.get(pvp.id))!.state !== "REVEALING"; round++) await engine.processNow(pvp.id);
    expect((await engine.get(pvp.id))!.state).toBe("REVEALING");
    await expect(engine.cancel(pvp.id)).rejects.toMatchObject({ code: "PVP_NOT_CANCELLABLE" });
    await engine.receive(resolutionMessage(parties(pvp), pvp.instruction!, "CNCL"), FOREIGN_CB, undefined);
    const after = (await engine.get(pvp.id))!;
    expect(after.cancelRequested).toBe(false);
    expect(after.peerCancellation).toBeUndefined();
    await settle([engine], clock, { stepMs: 5_000, until: async () => clock.ms >= after.dtLeg!.expiresAt.getTime() - 10_000 });
    expect((await dt.port.getHold(pvp.dtReference!)).status).toBe("held");
  });
});
