import { parseGwei } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { feesOfSigned, replacementFees } from "../../src/evm/fees.ts";
import { signCall } from "../../src/evm/signed-transaction.ts";

const gwei = (value: string) => parseGwei(value);

describe("replacementFees, the one fee-bump policy", () => {
  it("raises each fee of the stuck transaction by the bump (25% by default) when the market has not moved", () => {
    const stuck = { maxFeePerGas: gwei("40"), maxPriorityFeePerGas: gwei("2") };
    expect(replacementFees(stuck, stuck)).toEqual({ maxFeePerGas: gwei("50") + 1n, maxPriorityFeePerGas: gwei("2.5") + 1n });
    expect(replacementFees(stuck, stuck, 10)).toEqual({ maxFeePerGas: gwei("44") + 1n, maxPriorityFeePerGas: gwei("2.2") + 1n });
  });

  it("follows the market when it asks for more than the bump", () => {
    const stuck = { maxFeePerGas: gwei("40"), maxPriorityFeePerGas: gwei("2") };
    const market = { maxFeePerGas: gwei("90"), maxPriorityFeePerGas: gwei("1") };
    expect(replacementFees(market, stuck)).toEqual({ maxFeePerGas: gwei("90"), maxPriorityFeePerGas: gwei("2.5") + 1n });
  });

  it("still rises from a zero fee", () => {
    const zero = { maxFeePerGas: 0n, maxPriorityFeePerGas: 0n };
    expect(replacementFees(zero, zero)).toEqual({ maxFeePerGas: 1n, maxPriorityFeePerGas: 1n });
  });

  it("reads a signed transaction's fees back", async () => {
    const account = privateKeyToAccount(`0x${"11".repeat(32)}`);
    const fees = { maxFeePerGas: gwei("30"), maxPriorityFeePerGas: gwei("1") };
    const signed = await signCall(account, { chainId: 31337, call: { to: account.address, data: "0x", gas: 21_000n }, nonce: 7n, fees });
    expect(feesOfSigned(signed.raw)).toEqual(fees);
    expect(signed.nonce).toBe(7n);
  });
});
