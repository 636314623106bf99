import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPublicClient, encodeFunctionData, http } from "viem";
import { demoForeignCbdcAbi } from "../../src/evm/generated/contracts.ts";
import { EvmTransactionSender } from "../../src/evm/transaction-sender.ts";
import { startEvmStack, type EvmStack } from "../support/pvp/evm-stack.ts";

describe("EVM transaction sender", () => {
  let evm: EvmStack;
  beforeAll(async () => {
    evm = await startEvmStack();
  }, 120_000);
  afterAll(async () => {
    await evm?.close();
  });

  it("hands out consecutive nonces to concurrent sends, all mined", async () => {
    const sender = await EvmTransactionSender.connect({ rpcUrl: evm.chain.rpcUrl, privateKey: evm.payerKey });
    const client = createPublicClient({ transport: http(evm.chain.rpcUrl) });
    const before = await client.getTransactionCount({ address: evm.payer });
    const data = encodeFunctionData({ abi: demoForeignCbdcAbi, functionName: "transfer", args: [evm.beneficiary, 1n] });
    const receipts = await Promise.all(Array.from({ length: 6 }, () => sender.send({ to: evm.token, data })));
    expect(receipts.every((receipt) => receipt.status === "success")).toBe(true);
    expect(await client.getTransactionCount({ address: evm.payer })).toBe(before + 6);
  });

  it("replaces a transaction that sits unmined with the same nonce and higher fees", async () => {
    const client = createPublicClient({ transport: http(evm.chain.rpcUrl) });
    const sender = await EvmTransactionSender.connect({ rpcUrl: evm.chain.rpcUrl, privateKey: evm.payerKey, stuckAfterMs: 800, maxReplacements: 6, pollingIntervalMs: 50 });
    const before = await client.getTransactionCount({ address: evm.payer });
    // Blocks now come only every 2 s, so the first version is still pending when the sender gives up on it.
    await client.request({ method: "evm_setAutomine" as never, params: [false] as never });
    await client.request({ method: "evm_setIntervalMining" as never, params: [2000] as never });
    try {
      const data = encodeFunctionData({ abi: demoForeignCbdcAbi, functionName: "transfer", args: [evm.beneficiary, 1n] });
      const receipt = await sender.send({ to: evm.token, data });
      expect(receipt.status).toBe("success");
      expect(sender.replacements).toBeGreaterThan(0);
      expect(await client.getTransactionCount({ address: evm.payer })).toBe(before + 1);
    } finally {
      await client.request({ method: "evm_setIntervalMining" as never, params: [0] as never });
      await client.request({ method: "evm_setAutomine" as never, params: [true] as never });
    }
  });
});
