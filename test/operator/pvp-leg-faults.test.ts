import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PvpEngine } from "../../src/pvp/engine.ts";
import { legDirectory } from "../../src/pvp/leg-port.ts";
import { dtLedgerLeg } from "../../src/pvp/legs/dt-ledger-leg.ts";
import { EvmHtlcLeg } from "../../src/pvp/legs/evm-htlc-leg.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { startDtStack, type DtStack } from "../support/pvp/dt-stack.ts";
import { startEvmStack, type EvmStack } from "../support/pvp/evm-stack.ts";
import { FOREIGN_CB, migratePvp, NBK, settle, testPolicy, VirtualClock } from "../support/pvp/harness.ts";

describe("a PvP whose EVM payer has no gas (real EVM, EDR)", () => {
  let testDb: TestDatabase;
  let evm: EvmStack;
  let dt: DtStack;
  let clock: VirtualClock;
  let engine: PvpEngine;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migratePvp(testDb.db);
    evm = await startEvmStack();
    clock = new VirtualClock(Date.now());
    dt = await startDtStack(testDb.db, clock.now);
    const evmLeg = await EvmHtlcLeg.connect({ rpcUrl: evm.chain.rpcUrl, hashTimeLock: evm.hashTimeLock, token: evm.token, currency: "AED", signerKeys: [evm.payerKey], confirmations: 1 });
    engine = new PvpEngine({ db: testDb.db, legs: legDirectory([dtLedgerLeg({ port: dt.port, clock }), evmLeg]), policy: testPolicy, ourAgent: NBK, clock });
  }, 120_000);
  afterAll(async () => {
    await evm?.close();
    await testDb?.drop();
  });

  const rpc = async (method: string, params: unknown[]) => {
    const response = await fetch(evm.chain.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    return ((await response.json()) as { result: unknown }).result;
  };

  it("names the fix in lastError while it waits, and settles once the payer is funded", async () => {
    const balance = await rpc("eth_getBalance", [evm.payer, "latest"]);
    await rpc("hardhat_setBalance", [evm.payer, "0x0"]);
    const pvp = await engine.create({
      createdBy: "halyk",
      counterpartyAgent: FOREIGN_CB,
      dtLeg: { ledger: "dt", payer: dt.demo.accounts.aigerim.id, beneficiary: dt.demo.accounts.altynExchange.id, amount: 150_000n, currency: "KZT" },
      foreignLeg: { ledger: "evm", payer: evm.payer, beneficiary: evm.beneficiary, amount: 1_100n, currency: "AED" },
    });
    await settle([engine], clock, { maxRounds: 20, until: async () => (await engine.get(pvp.id))!.lastError !== undefined });
    const waiting = (await engine.get(pvp.id))!;
    expect(waiting.state).toBe("DT_LOCKED");
    expect(waiting.lastError?.message).toBe(
      "lock foreign will be retried: UNAVAILABLE: NO_GAS: the key that sends this ledger's transactions has too little native currency for gas: fund it (a payer key of the ledger)",
    );
    await rpc("hardhat_setBalance", [evm.payer, balance]);
    await settle([engine], clock, { until: async () => ["SETTLED", "REFUNDED"].includes((await engine.get(pvp.id))!.state) });
    expect((await engine.get(pvp.id))!.state).toBe("SETTLED");
  });
});
