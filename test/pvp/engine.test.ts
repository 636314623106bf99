import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PvpError, type PvpEngine } from "../../src/pvp/engine.ts";
import { pvpToJson } from "../../src/pvp/pvp.ts";
import { pvpStore } from "../../src/pvp/store.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { engineWith, FOREIGN_CB, migratePvp, settle, VirtualClock } from "../support/pvp/harness.ts";
import { SimulatedLedger } from "../support/pvp/simulated-ledger.ts";

describe("PvP engine with the initiator driving both legs", () => {
  let testDb: TestDatabase;
  let clock: VirtualClock;
  let dt: SimulatedLedger;
  let foreign: SimulatedLedger;
  let engine: PvpEngine;

  beforeEach(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
    clock = new VirtualClock();
    dt = new SimulatedLedger("dt", () => clock.ms);
    foreign = new SimulatedLedger("evm", () => clock.ms, { allowsEarlyRefund: false });
    dt.fund("KZ-BANK-A", 1_000_000n);
    foreign.fund("0xBankB", 500_000n);
    engine = engineWith(testDb.db, [dt, foreign], { clock });
  });
  afterEach(async () => {
    await testDb.drop();
  });

  const request = () => ({
    createdBy: "bank-a",
    counterpartyAgent: FOREIGN_CB,
    dtLeg: { ledger: "dt", payer: "KZ-BANK-A", beneficiary: "KZ-NOSTRO-B", amount: 100_000n, currency: "KZT" },
    foreignLeg: { ledger: "evm", payer: "0xBankB", beneficiary: "0xBankA", amount: 20_000n, currency: "AED" },
  });

  it("settles both legs: foreign claimed first with the secret, then the DT leg with the same secret", async () => {
    const pvp = await engine.create(request());
    await settle([engine], clock, { until: async () => (await engine.get(pvp.id))?.state === "SETTLED" });
    const done = await engine.get(pvp.id);
    expect(done?.state).toBe("SETTLED");
    expect(dt.balance("KZ-NOSTRO-B")).toBe(100_000n);
    expect(foreign.balance("0xBankA")).toBe(20_000n);
    const timeline = await pvpStore.timeline(testDb.db, pvp.id);
    const states = timeline.filter((entry) => entry.kind === "transition").map((entry) => entry.toState);
    expect(states).toEqual(["INITIATED", "DT_LOCKED", "REVEALING", "CLAIMING_DT", "SETTLED"]);
    const messages = await pvpStore.messages(testDb.db, pvp.id);
    expect(messages.map((message) => message.messageType).sort()).toEqual(["camt.054.001.08", "camt.054.001.08"]);
  });

  it("addresses the payer's camt.054 debit notice to the bank that created the PvP, by its BIC", async () => {
    const pvp = await engine.create({ ...request(), bankAgent: "HSBKKZKX" });
    await settle([engine], clock, { until: async () => (await engine.get(pvp.id))?.state === "SETTLED" });
    const notices = (await engine.messages(pvp)).filter((message) => message.messageType === "camt.054.001.08");
    const debit = notices.find((message) => message.summary["creditDebit"] === "DBIT")!;
    expect(debit.counterparty).toEqual({ kind: "agent", bic: "HSBKKZKX" });
    expect(debit.xml).toMatch(/<To>\s*<FIId>\s*<FinInstnId>\s*<BICFI>HSBKKZKX<\/BICFI>/);
    expect(debit.xml).toMatch(/<Fr>\s*<FIId>\s*<FinInstnId>\s*<BICFI>NBRKKZKX<\/BICFI>/);
    // Without a bank behind the PvP (an operator's), the notice stays with this gateway as before.
    const byOperator = await engine.create(request());
    await settle([engine], clock, { until: async () => (await engine.get(byOperator.id))?.state === "SETTLED" });
    const operatorDebit = (await engine.messages(byOperator)).find((message) => message.summary["creditDebit"] === "DBIT")!;
    expect(operatorDebit.counterparty).toEqual({ kind: "bank", principal: "bank-a" });
    expect(operatorDebit.xml).toMatch(/<To>\s*<FIId>\s*<FinInstnId>\s*<BICFI>NBRKKZKX<\/BICFI>/);
  });

  it("addresses the bank's pacs.002 rejection to the bank that created the PvP, by its BIC", async () => {
    const pvp = await engine.create({ ...request(), dtLeg: { ...request().dtLeg, amount: 5_000_000n }, bankAgent: "HSBKKZKX" });
    await settle([engine], clock, { until: async () => (await engine.get(pvp.id))?.state === "REJECTED" });
    const rejection = (await engine.messages(pvp)).find((message) => message.summary["status"] === "RJCT")!;
    expect(rejection.counterparty).toEqual({ kind: "agent", bic: "HSBKKZKX" });
    expect(rejection.xml).toMatch(/<To>\s*<FIId>\s*<FinInstnId>\s*<BICFI>HSBKKZKX<\/BICFI>/);
    expect(rejection.xml).toMatch(/<Fr>\s*<FIId>\s*<FinInstnId>\s*<BICFI>NBRKKZKX<\/BICFI>/);
  });

  it("refunds both legs with RJCT AB03 when the foreign leg is not locked in time", async () => {
    foreign.down = true;
    const pvp = await engine.create(request());
    await settle([engine], clock, { until: async () => (await engine.get(pvp.id))?.state === "ABORTING" });
    // While the chain is down nobody can tell whether a lock landed: the engine waits for it to come back.
    foreign.down = false;
    await settle([engine], clock, { until: async () => ["REFUNDED", "SETTLED"].includes((await engine.get(pvp.id))?.state ?? "") });
    const done = await engine.get(pvp.id);
    expect(done?.state).toBe("REFUNDED");
    expect(done?.reasonCode).toBe("AB03");
    expect(dt.balance("KZ-BANK-A")).toBe(1_000_000n);
    const messages = await pvpStore.messages(testDb.db, pvp.id);
    expect(messages.map((message) => message.summary)).toContainEqual({ status: "RJCT", reason: "AB03" });
  });

  it("refuses a PvP whose DT leg would expire before the foreign leg", async () => {
    const now = clock.now().getTime();
    const bad = request();
    await expect(
      engine.create({ ...bad, dtLeg: { ...bad.dtLeg, expiresAt: new Date(now + 120_000) }, foreignLeg: { ...bad.foreignLeg, expiresAt: new Date(now + 130_000) } }),
    ).rejects.toSatisfy((error: unknown) => error instanceof PvpError && error.code === "TIMELOCK_POLICY" && error.details === "EXPIRY_ORDER");
  });

  it("refuses a PvP on a ledger it has no adapter for, writing nothing", async () => {
    await expect(engine.create({ ...request(), foreignLeg: { ...request().foreignLeg, ledger: "peer:FCBKAEAD" } })).rejects.toSatisfy(
      (error: unknown) => error instanceof PvpError && error.code === "UNKNOWN_LEDGER" && error.message.includes("peer:FCBKAEAD"),
    );
    expect((await testDb.db.query(`SELECT count(*)::int8 AS n FROM pvp`)).rows).toEqual([{ n: 0n }]);
  });

  it("shows the last error of a PvP that cannot move, and lists it among those past an expiry", async () => {
    const settled = await engine.create(request());
    await settle([engine], clock, { until: async () => (await engine.get(settled.id))?.state === "SETTLED" });
    foreign.down = true;
    const stuck = await engine.create(request());
    await settle([engine], clock, { until: async () => clock.ms > stuck.foreignLeg.expiresAt.getTime() + 60_000 });
    const view = pvpToJson((await engine.get(stuck.id))!);
    expect(view["state"]).toBe("ABORTING");
    expect(view["lastError"]).toMatchObject({ message: expect.stringContaining("evm is down") });
    const pastExpiry = await pvpStore.list(testDb.db, engine.ourAgent, { pastExpiryAt: clock.now() });
    expect(pastExpiry.map((pvp) => pvp.id)).toEqual([stuck.id]);
    expect(pvpToJson((await engine.get(settled.id))!)["lastError"]).toBeNull();
  });

  it("clears the last error once the PvP settles after its ledger came back", async () => {
    foreign.down = true;
    const pvp = await engine.create(request());
    await settle([engine], clock, { until: async () => (await engine.get(pvp.id))?.lastError !== undefined });
    expect(pvpToJson((await engine.get(pvp.id))!)["lastError"]).toMatchObject({ message: expect.stringContaining("evm is down") });
    foreign.down = false;
    await settle([engine], clock, { until: async () => (await engine.get(pvp.id))?.state === "SETTLED" });
    expect(pvpToJson((await engine.get(pvp.id))!)["lastError"]).toBeNull();
  });

  it("rejects the PvP with AM04 when the DT payer cannot cover the hold", async () => {
    const pvp = await engine.create({ ...request(), dtLeg: { ...request().dtLeg, amount: 5_000_000n } });
    await settle([engine], clock, { until: async () => (await engine.get(pvp.id))?.state === "REJECTED" });
    const done = await engine.get(pvp.id);
    expect(done?.state).toBe("REJECTED");
    expect(done?.reasonCode).toBe("AM04");
  });
});
