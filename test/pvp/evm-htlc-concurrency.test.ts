import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAddress, type Hex } from "viem";
import { hashLockOf } from "../../src/core/hash-lock.ts";
import { EvmHtlcLeg } from "../../src/pvp/legs/evm-htlc-leg.ts";
import { startEvmStack, type EvmStack } from "../support/pvp/evm-stack.ts";
import { legInstruction } from "./leg-contract/contract.ts";

/**
 * Many PvPs at once on one EVM key: every lock and claim is its own transaction from the same account, each
 * estimated while the others are in flight. None may fail for it (an estimate from a state that the key's
 * earlier transactions change ran a lock out of gas at 8 or more in flight).
 */
describe("EVM HTLC leg under concurrent PvPs from one key", () => {
  let evm: EvmStack;
  let leg: EvmHtlcLeg;
  beforeAll(async () => {
    evm = await startEvmStack(10n ** 12n);
    leg = await EvmHtlcLeg.connect({ rpcUrl: evm.chain.rpcUrl, hashTimeLock: evm.hashTimeLock, token: evm.token, currency: "AED", signerKeys: [evm.payerKey], confirmations: 1 });
  }, 120_000);
  afterAll(async () => {
    await evm?.close();
  });

  it("sixteen workers each lock and claim four legs in a row, every one claimed for the beneficiary", async () => {
    const before = await evm.balanceOf(evm.beneficiary);
    const now = await leg.now();
    const one = async () => {
      const preimage = `0x${randomBytes(32).toString("hex")}` as Hex;
      const instruction = legInstruction({ ledger: "evm", payer: getAddress(evm.payer), beneficiary: getAddress(evm.beneficiary), amount: 10n, currency: "AED", hashLock: hashLockOf(preimage), expiresAt: new Date(now.getTime() + 3_600_000) });
      await leg.lock(instruction);
      await leg.claim(instruction, preimage);
      return (await leg.observe(instruction)).status;
    };
    // Workers out of step: one's lock is estimated while another's claim empties the HTLC's balance.
    const statuses: string[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let index = 0; index < 4; index++) statuses.push(await one());
      }),
    );
    expect(statuses).toEqual(Array.from({ length: 64 }, () => "claimed"));
    expect(await evm.balanceOf(evm.beneficiary)).toBe(before + 64n * 10n);
    expect(await evm.balanceOf(evm.hashTimeLock)).toBe(0n);
  }, 120_000);
});
