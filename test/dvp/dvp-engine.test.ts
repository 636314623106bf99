import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DvpDesk } from "../../src/dvp/desk.ts";
import { dvpNotices } from "../../src/dvp/notices.ts";
import type { Principal } from "../../src/identity/principal.ts";
import { readValidatedMessage } from "../../src/iso20022/validation/validate.ts";
import { PvpEngine } from "../../src/pvp/engine.ts";
import { legDirectory } from "../../src/pvp/leg-port.ts";
import { pvpStore } from "../../src/pvp/store.ts";
import { counterpartyName, isAgent } from "../../src/pvp/message-counterparty.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { SimulatedSecuritiesLedger } from "../support/dvp/simulated-securities.ts";
import { migratePvp, NBK, settle, testPolicy, VirtualClock } from "../support/pvp/harness.ts";
import { SimulatedLedger } from "../support/pvp/simulated-ledger.ts";

const ISIN = "KZKD00001020";
const SELLER_BIC = "BRKSKZKA";
const BUYER_BIC = "BRKBKZKA";
const sellerHolding = "0x00000000000000000000000000000000000000a1";
const buyerHolding = "0x00000000000000000000000000000000000000b2";
const strangerHolding = "0x00000000000000000000000000000000000000c3";

const broker = (id: string, bic: string, dtParticipant: string): Principal => ({ id, role: "broker", name: id, institution: { bic, dtParticipant }, credentialId: `${id}-key` });
const sellerBroker = broker("broker-seller", SELLER_BIC, "HSBKKZKX");
const buyerBroker = broker("broker-buyer", BUYER_BIC, "KCJBKZKX");
const operator: Principal = { id: "op", role: "operator", name: "op", credentialId: "op-key" };

let testDb: TestDatabase;
let clock: VirtualClock;
let dt: SimulatedLedger;
let securities: SimulatedSecuritiesLedger;
let engine: PvpEngine;
let desk: DvpDesk;

const trade = { isin: ISIN, quantity: "150", amount: "150750.00", seller: { bic: SELLER_BIC, holding: sellerHolding, cashAccount: "DA-SELLER" }, buyer: { bic: BUYER_BIC, holding: buyerHolding, cashAccount: "DA-BUYER" } };
const rowCount = async () => Number((await testDb.db.query<{ n: bigint }>("SELECT count(*)::int8 AS n FROM pvp")).rows[0]!.n);

beforeEach(async () => {
  testDb = await createTestDatabase();
  await migratePvp(testDb.db);
  clock = new VirtualClock();
  dt = new SimulatedLedger("dt", () => clock.ms, { allowsEarlyRefund: false, asset: { currency: "KZT", decimals: 2 } });
  securities = new SimulatedSecuritiesLedger("securities", () => clock.ms, { isin: ISIN, decimals: 0 });
  dt.fund("DA-BUYER", 100_000_000n);
  securities.fund(sellerHolding, 1_000n);
  for (const holding of [sellerHolding, buyerHolding]) securities.eligible.add(holding);
  engine = new PvpEngine({ db: testDb.db, legs: legDirectory([dt, securities]), policy: testPolicy, ourAgent: NBK, clock, notices: dvpNotices, pollIntervalMs: 1000, retryBaseMs: 500, retryMaxMs: 5000 });
  const owners = new Map([[sellerHolding, SELLER_BIC], [buyerHolding, BUYER_BIC], [strangerHolding, "OTHRKZKA"]]);
  const servicers = new Map([["DA-SELLER", "HSBKKZKX"], ["DA-BUYER", "KCJBKZKX"], ["DA-STRANGER", "HSBKKZKX"]]);
  desk = new DvpDesk({
    engine,
    securities: [securities],
    authority: { dtLedger: { servicer: async (account) => servicers.get(account) ?? Promise.reject(new Error("unknown")) }, ledgerAccountOwner: async (_ledger, account) => owners.get(account) },
  });
});
afterEach(async () => {
  await testDb.drop();
});

describe("DvP on the exchange engine", () => {
  it("settles both legs of an operator's DvP: securities claimed first (the reveal), cash second; sese.024, sese.025 and camt.054 recorded, XSD-valid", async () => {
    const dvp = await desk.create(operator, trade);
    expect(dvp.kind).toBe("dvp");
    expect(dvp.id).toMatch(/^dvp[0-9a-f]{24}$/);
    // The leg claimed first expires first, with the policy's gap before the cash hold's expiry.
    expect(dvp.dtLeg!.expiresAt.getTime() - dvp.foreignLeg.expiresAt.getTime()).toBeGreaterThanOrEqual(2 * testPolicy.clockDriftMs + testPolicy.timeToActMs);
    await settle([engine], clock, { until: async () => (await engine.get(dvp.id, "dvp"))?.state === "SETTLED" });
    const settled = (await engine.get(dvp.id, "dvp"))!;
    expect(settled.state).toBe("SETTLED");
    expect(securities.balance(buyerHolding)).toBe(150n);
    expect(securities.balance(sellerHolding)).toBe(850n);
    expect(dt.balance("DA-SELLER")).toBe(15_075_000n);
    expect(dt.balance("DA-BUYER")).toBe(100_000_000n - 15_075_000n);
    const timeline = await engine.timeline(settled);
    const claims = timeline.filter((entry) => entry.kind === "command" && String(entry.event).startsWith("claim")).map((entry) => entry.event);
    expect(claims).toEqual(["claim:foreign", "claim:dt"]);
    const messages = await engine.messages(settled);
    expect(messages.map((message) => `${message.messageType} ${counterpartyName(message.counterparty)}`).sort()).toEqual(
      [`camt.054.001.08 ${BUYER_BIC}`, `camt.054.001.08 ${SELLER_BIC}`, `sese.024.001.12 ${BUYER_BIC}`, `sese.024.001.12 ${SELLER_BIC}`, `sese.025.001.11 ${BUYER_BIC}`, `sese.025.001.11 ${SELLER_BIC}`].sort(),
    );
    for (const message of messages) expect(readValidatedMessage(message.xml, { strict: true }).errors).toEqual([]);
    expect(messages.find((message) => message.messageType === "sese.025.001.11" && isAgent(message.counterparty, SELLER_BIC))!.xml).toContain("<SctiesMvmntTp>DELI</SctiesMvmntTp>");
    // The DvP is not a PvP: /pvp neither lists nor shows it.
    expect(await engine.get(dvp.id)).toBeUndefined();
    expect((await engine.page({})).items).toEqual([]);
    expect((await engine.page({ kind: "dvp" })).items.map((item) => item.id)).toEqual([dvp.id]);
  });

  it("locks nothing until the other broker affirms, then settles", async () => {
    const dvp = await desk.create(buyerBroker, { ...trade, side: "buyer" });
    expect(dvp.awaitingAffirmation).toBe(true);
    await settle([engine], clock, { maxRounds: 30 });
    expect(dt.locks.size + securities.locks.size).toBe(0);
    expect((await engine.get(dvp.id, "dvp"))!.state).toBe("INITIATED");
    // The buyer cannot affirm its own DvP; the seller's broker can.
    await expect(desk.affirm(buyerBroker, dvp.id)).rejects.toMatchObject({ code: "BROKER_NOT_PARTY" });
    await desk.affirm(sellerBroker, dvp.id, { transactionId: "SELL-0001" });
    await expect(desk.affirm(sellerBroker, dvp.id)).rejects.toMatchObject({ code: "PVP_NOT_AFFIRMABLE" });
    await settle([engine], clock, { until: async () => (await engine.get(dvp.id, "dvp"))?.state === "SETTLED" });
    expect(securities.balance(buyerHolding)).toBe(150n);
    const seller = (await engine.messages(dvp)).filter((message) => isAgent(message.counterparty, SELLER_BIC) && message.messageType === "sese.025.001.11");
    expect(seller[0]!.xml).toContain("SELL-0001");
  });

  it("refuses a trade compliance would refuse before anything is written or locked (DELIVERY_REFUSED)", async () => {
    securities.eligible.delete(buyerHolding);
    await expect(desk.create(operator, trade)).rejects.toMatchObject({ code: "DELIVERY_REFUSED" });
    await expect(desk.create(operator, { ...trade, quantity: "1001" })).rejects.toMatchObject({ code: "DELIVERY_REFUSED" });
    expect(await rowCount()).toBe(0);
    // Compliance changing between creation and affirmation refuses the affirmation: still nothing locked.
    securities.eligible.add(buyerHolding);
    const dvp = await desk.create(sellerBroker, { ...trade, side: "seller" });
    securities.eligible.delete(buyerHolding);
    await expect(desk.affirm(buyerBroker, dvp.id)).rejects.toMatchObject({ code: "DELIVERY_REFUSED" });
    expect((await engine.get(dvp.id, "dvp"))!.awaitingAffirmation).toBe(true);
    expect(dt.locks.size + securities.locks.size).toBe(0);
  });

  it("refuses the wrong broker with nothing written: not its side, a holding not registered to it, a cash account its participant does not service", async () => {
    await expect(desk.create(sellerBroker, { ...trade, side: "buyer" })).rejects.toMatchObject({ code: "BROKER_NOT_PARTY" });
    await expect(desk.create(sellerBroker, { ...trade, side: "seller", seller: { ...trade.seller, holding: strangerHolding } })).rejects.toMatchObject({ code: "HOLDING_NOT_REGISTERED" });
    await expect(desk.create(buyerBroker, { ...trade, side: "buyer", buyer: { ...trade.buyer, cashAccount: "DA-STRANGER" } })).rejects.toMatchObject({ code: "DT_PAYER_NOT_SERVICED" });
    await expect(desk.create(sellerBroker, { ...trade, side: "seller", seller: { ...trade.seller, cashAccount: "DA-BUYER" } })).rejects.toMatchObject({ code: "DT_ACCOUNT_NOT_SERVICED" });
    await expect(desk.create(buyerBroker, { ...trade, side: "buyer", seller: { ...trade.seller, holding: strangerHolding } })).rejects.toMatchObject({ code: "COUNTERPARTY_HOLDING_NOT_REGISTERED" });
    const bank: Principal = { id: "bank", role: "bank", name: "bank", institution: { bic: BUYER_BIC, dtParticipant: "KCJBKZKX" }, credentialId: "bank-key" };
    await expect(desk.create(bank, { ...trade, side: "buyer" })).rejects.toMatchObject({ code: "INSTITUTION_UNKNOWN" });
    expect(await rowCount()).toBe(0);
    // A third broker neither sees nor affirms a DvP between two others.
    const dvp = await desk.create(buyerBroker, { ...trade, side: "buyer" });
    const stranger = broker("broker-other", "OTHRKZKA", "HSBKKZKX");
    await expect(desk.affirm(stranger, dvp.id)).rejects.toMatchObject({ code: "DVP_NOT_FOUND" });
    await expect(desk.cancel(stranger, dvp.id)).rejects.toMatchObject({ code: "DVP_NOT_FOUND" });
    expect((await desk.page(stranger, {})).items).toEqual([]);
    expect((await desk.page(sellerBroker, {})).items.map((item) => item.id)).toEqual([dvp.id]);
    expect((await pvpStore.outbox(testDb.db, dvp.id)).length).toBe(0);
  });

  it("cancellation and expiry refund both legs: never one settled and the other refunded", async () => {
    // Cancelled while waiting for affirmation: nothing was locked, both brokers get a sese.024 rejection.
    const waiting = await desk.create(buyerBroker, { ...trade, side: "buyer" });
    await desk.cancel(sellerBroker, waiting.id);
    await settle([engine], clock, { until: async () => (await engine.get(waiting.id, "dvp"))?.state === "REFUNDED" });
    const rejections = (await engine.messages(waiting)).filter((message) => message.messageType === "sese.024.001.12" && message.summary["status"] === "rejected");
    expect(rejections.map((message) => counterpartyName(message.counterparty)).sort()).toEqual([BUYER_BIC, SELLER_BIC]);

    // The securities lock refused after the cash hold (the seller's holding lost eligibility): the cash hold is refunded at its expiry.
    const refused = await desk.create(operator, trade);
    securities.eligible.delete(sellerHolding);
    await settle([engine], clock, { maxRounds: 2000, until: async () => (await engine.get(refused.id, "dvp"))?.state === "REFUNDED" });
    expect((await engine.get(refused.id, "dvp"))!.state).toBe("REFUNDED");
    expect(dt.lockOf({ key: `${refused.id}:dt` } as never)!.status).toBe("refunded");
    expect((await engine.timeline(refused)).some((entry) => entry.event === "lock:foreign:refused")).toBe(true);
    expect(securities.lockOf({ key: `${refused.id}:foreign` } as never)).toBeUndefined();
    expect(dt.balance("DA-BUYER")).toBe(100_000_000n);
    expect(securities.balance(sellerHolding)).toBe(1_000n);
  });

  it("keeps the timelock order: the securities leg (claimed first) must expire before the cash leg", async () => {
    const now = clock.ms;
    await expect(
      desk.create(operator, { ...trade, securitiesExpiresAt: new Date(now + 600_000), cashExpiresAt: new Date(now + 300_000) }),
    ).rejects.toMatchObject({ code: "TIMELOCK_POLICY" });
    expect(await rowCount()).toBe(0);
  });
});
