import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hex } from "viem";
import { PvpEngine } from "../../src/pvp/engine.ts";
import { legDirectory, type HashLockedLegPort } from "../../src/pvp/leg-port.ts";
import { dtLedgerLeg } from "../../src/pvp/legs/dt-ledger-leg.ts";
import { EvmHtlcLeg } from "../../src/pvp/legs/evm-htlc-leg.ts";
import { pvpStore } from "../../src/pvp/store.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import { loadStablecoinEnvironment } from "../../src/stablecoin/stablecoin-config.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startDtStack, type DtStack } from "../support/pvp/dt-stack.ts";
import { startEvmStack, type EvmStack } from "../support/pvp/evm-stack.ts";
import { FOREIGN_CB, migratePvp, NBK, settle, testPolicy, VirtualClock } from "../support/pvp/harness.ts";

describe("PvP with the foreign leg on an EVM chain (HTLC) and the DT leg on the embedded DT ledger", () => {
  let testDb: TestDatabase;
  let evm: EvmStack;
  let dt: DtStack;
  let evmLeg: EvmHtlcLeg;
  let clock: VirtualClock;
  let engine: PvpEngine;
  /** Set by a test: runs after each foreign lock, as if its confirmation took that long. */
  let afterForeignLock: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
    evm = await startEvmStack();
    clock = new VirtualClock(Date.now());
    dt = await startDtStack(testDb.db, clock.now);
    evmLeg = await EvmHtlcLeg.connect({ rpcUrl: evm.chain.rpcUrl, hashTimeLock: evm.hashTimeLock, token: evm.token, currency: "AED", signerKeys: [evm.payerKey], confirmations: 1 });
    const slowForeign: HashLockedLegPort = {
      ledger: "evm",
      lock: async (leg) => {
        const receipt = await evmLeg.lock(leg);
        await afterForeignLock?.();
        return receipt;
      },
      claim: (leg, preimage) => evmLeg.claim(leg, preimage),
      refund: (leg, options) => evmLeg.refund(leg, options),
      observe: (leg) => evmLeg.observe(leg),
      now: () => evmLeg.now(),
      referenceOf: (leg) => evmLeg.referenceOf(leg),
    };
    engine = new PvpEngine({
      db: testDb.db,
      legs: legDirectory([dtLedgerLeg({ port: dt.port, clock }), slowForeign]),
      policy: testPolicy,
      ourAgent: NBK,
      clock,
    });
  }, 120_000);

  afterAll(async () => {
    await evm?.close();
    await testDb?.drop();
  });

  const request = (dtAmount: bigint, foreignAmount: bigint) => ({
    createdBy: "halyk",
    counterpartyAgent: FOREIGN_CB,
    dtLeg: { ledger: "dt", payer: dt.demo.accounts.aigerim.id, beneficiary: dt.demo.accounts.altynExchange.id, amount: dtAmount, currency: "KZT" },
    foreignLeg: { ledger: "evm", payer: evm.payer, beneficiary: evm.beneficiary, amount: foreignAmount, currency: "AED" },
  });

  it("settles: the foreign ERC-20 reaches bank A on chain, the DT hold is released to bank B, camt.054 notices recorded", async () => {
    const payerBefore = await dt.available(dt.demo.accounts.aigerim.id);
    const beneficiaryBefore = await dt.available(dt.demo.accounts.altynExchange.id);
    const pvp = await engine.create(request(1_500_000n, 11_000n));
    await settle([engine], clock, { until: async () => ["SETTLED", "REFUNDED"].includes((await engine.get(pvp.id))!.state) });
    const done = (await engine.get(pvp.id))!;
    expect(done.state).toBe("SETTLED");
    expect(await evm.balanceOf(evm.beneficiary)).toBe(11_000n);
    expect(await dt.available(dt.demo.accounts.aigerim.id)).toBe(payerBefore - 1_500_000n);
    expect(await dt.available(dt.demo.accounts.altynExchange.id)).toBe(beneficiaryBefore + 1_500_000n);
    // The preimage the DT ledger recorded is the one revealed on chain.
    const hold = await dt.port.getHold(done.dtReference!);
    expect(hold.status).toBe("released");
    const onChain = await evmLeg.observe({ key: `${pvp.id}:foreign`, pvpId: pvp.id, pvp: { id: pvp.id, role: "responder" } as never, side: "foreign", terms: done.foreignLeg, reference: done.foreignReference });
    expect(onChain.status).toBe("claimed");
    expect(onChain.preimage).toBe(hold.preimage as Hex);
    const transitions = (await pvpStore.timeline(testDb.db, pvp.id)).filter((entry) => entry.kind === "transition").map((entry) => entry.toState);
    expect(transitions).toEqual(["INITIATED", "DT_LOCKED", "REVEALING", "CLAIMING_DT", "SETTLED"]);
    const notices = (await pvpStore.messages(testDb.db, pvp.id)).filter((message) => message.messageType === "camt.054.001.08");
    expect(notices.map((notice) => notice.summary["creditDebit"]).sort()).toEqual(["CRDT", "DBIT"]);
  });

  it("the embedded stack's foreign leg, composed by the gateway's composition root, settles a PvP on the component's own worker", async () => {
    const { embeddedForeignLeg } = await import("../../src/gateway/embedded.ts");
    const { composeGateway } = await import("../../src/gateway/features.ts");
    const [issuerKey, , , , foreignPayerKey] = evm.chain.accounts as [Hex, Hex, Hex, Hex, Hex];
    const foreign = await embeddedForeignLeg({ rpcUrl: evm.chain.rpcUrl, chainId: evm.chain.chainId, hashTimeLock: evm.hashTimeLock, foreignCbdc: evm.token, issuerKey, foreignPayerKey });
    const composed = await composeGateway({
      db: testDb.db,
      logger: createLogger("silent"),
      metrics: createMetricsRegistry(),
      ports: { dtLedger: { port: dt.port, description: "test" }, stablecoinChains: [], foreignLegs: [foreign.leg], readiness: [], stop: async () => {} },
      settings: {
        dtLedger: undefined,
        stablecoinChains: [],
        stablecoin: loadStablecoinEnvironment({}),
        pvp: { agent: "NBRKKZKXEMB", signing: undefined, secretKey: undefined, foreignLedgers: [], responderLedger: "dt", maxLockSeconds: 86_400, homeCurrency: "KZT", statusRequestAfterSeconds: 30, pollIntervalMs: 50 },
      },
      attestationKey: undefined,
      pvpSecretKey: randomBytes(32),
      publicUrl: "http://127.0.0.1",
    });
    const component = composed.pvp!;
    expect(composed.status.find((feature) => feature.name === "pvp")?.on).toBe(true);
    expect(composed.status.find((feature) => feature.name === "stablecoin")?.on).toBe(false);
    component.start();
    try {
      const pvp = await component.engine.create({ ...request(200_000n, 1_000n), foreignLeg: { ledger: "evm", payer: foreign.foreignPayer, beneficiary: evm.beneficiary, amount: 1_000n, currency: "AED" } });
      let state = pvp.state;
      for (let attempt = 0; attempt < 100 && state !== "SETTLED"; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        state = (await component.engine.get(pvp.id))!.state;
      }
      expect(state).toBe("SETTLED");
    } finally {
      for (const feature of composed.features) await feature.stop();
    }
  });

  it("rejects with AC01 (incorrect account number) when the DT payer's account does not exist, nothing locked", async () => {
    const chainPayerBefore = await evm.balanceOf(evm.payer);
    const base = request(100_000n, 1_000n);
    const pvp = await engine.create({ ...base, dtLeg: { ...base.dtLeg, payer: "KZ-DA-NO-SUCH-ACCOUNT" } });
    await settle([engine], clock, { until: async () => ["REJECTED", "REFUNDED", "SETTLED"].includes((await engine.get(pvp.id))!.state) });
    const done = (await engine.get(pvp.id))!;
    expect(done.state).toBe("REJECTED");
    expect(done.reasonCode).toBe("AC01");
    expect(await evm.balanceOf(evm.payer)).toBe(chainPayerBefore);
    const rejection = (await pvpStore.messages(testDb.db, pvp.id)).find((message) => message.messageType === "pacs.002.001.10");
    expect(rejection?.summary).toEqual({ status: "RJCT", reason: "AC01" });
  });

  it("lock timeout: a foreign lock confirmed too late for a safe reveal refunds both legs and reports RJCT AB03", async () => {
    const payerBefore = await dt.available(dt.demo.accounts.aigerim.id);
    const chainPayerBefore = await evm.balanceOf(evm.payer);
    const pvp = await engine.create(request(700_000n, 5_000n));
    // The lock's confirmation arrives when the foreign leg is about to expire (chain time).
    // Chain time, not wall time: automined blocks move it at least a second each.
    afterForeignLock = async () => evm.increaseTime(Math.ceil((pvp.foreignLeg.expiresAt.getTime() - (await evmLeg.now()).getTime()) / 1000) - 10);
    await settle([engine], clock, { until: async () => (await engine.get(pvp.id))!.state === "ABORTING" });
    afterForeignLock = undefined;
    expect(await evm.balanceOf(evm.payer)).toBe(chainPayerBefore - 5_000n);
    // Neither leg can be refunded before its own expiry, by its own ledger's clock.
    await evm.increaseTime(60);
    await settle([engine], clock, { stepMs: 10_000, until: async () => (await engine.get(pvp.id))!.state === "REFUNDED" });
    const done = (await engine.get(pvp.id))!;
    expect(done.state).toBe("REFUNDED");
    expect(done.reasonCode).toBe("AB03");
    expect(await evm.balanceOf(evm.payer)).toBe(chainPayerBefore);
    expect(await dt.available(dt.demo.accounts.aigerim.id)).toBe(payerBefore);
    expect((await dt.port.getHold(done.dtReference!)).status).toBe("refunded");
    const rejection = (await pvpStore.messages(testDb.db, pvp.id)).find((message) => message.messageType === "pacs.002.001.10");
    expect(rejection?.summary).toEqual({ status: "RJCT", reason: "AB03" });
    expect(rejection?.xml).toContain("<Cd>AB03</Cd>");
  });
});
