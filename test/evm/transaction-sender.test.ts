import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPublicClient, encodeFunctionData, erc20Abi, http, keccak256, maxUint256, toHex, type Hex } from "viem";
import { hashLockOf } from "../../src/core/hash-lock.ts";
import { demoForeignCbdcAbi } from "../../src/evm/generated/contracts.ts";
import { HashTimeLockContract } from "../../src/evm/hash-time-lock-contract.ts";
import { hashTimeLockSwapId, type HashTimeLockTerms } from "../../src/evm/hash-time-lock.ts";
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

  it("gives a transaction gas for the state it runs on, not only the state its estimate saw", async () => {
    // The estimate of lock B runs while swap A holds the HTLC's only tokens; claim A, sent before it from the
    // same key, empties that balance, so lock B writes a zero slot (EIP-2200: 20,000 gas, not 2,900).
    const client = createPublicClient({ transport: http(evm.chain.rpcUrl) });
    const sender = await EvmTransactionSender.connect({ rpcUrl: evm.chain.rpcUrl, privateKey: evm.payerKey });
    const htlc = new HashTimeLockContract(client as never, evm.hashTimeLock);
    await sender.send({ to: evm.token, data: encodeFunctionData({ abi: erc20Abi, functionName: "approve", args: [evm.hashTimeLock, maxUint256] }) });
    expect(await client.readContract({ address: evm.token, abi: erc20Abi, functionName: "balanceOf", args: [evm.hashTimeLock] })).toBe(0n);
    const block = await client.getBlock();
    const swap = (name: string) => {
      const preimage = keccak256(toHex(`preimage ${name}`)) as Hex;
      const salt = keccak256(toHex(`salt ${name}`));
      const terms: HashTimeLockTerms = { sender: evm.payer, receiver: evm.beneficiary, token: evm.token, amount: 10n, hashLock: hashLockOf(preimage), expiry: block.timestamp + 3600n };
      return { terms, salt, preimage, id: hashTimeLockSwapId(evm.payer, salt) };
    };
    const [a, b] = [swap("A"), swap("B")];
    await sender.send(htlc.lockCall(a.salt, a.terms));
    const [claimA, lockB] = await Promise.allSettled([sender.send(htlc.claimCall(a.id, a.terms, a.preimage)), sender.send(htlc.lockCall(b.salt, b.terms))]);
    expect(claimA.status).toBe("fulfilled");
    expect(lockB.status).toBe("fulfilled");
    expect(await htlc.swapState(b.id)).toBe("locked");
  });
});
