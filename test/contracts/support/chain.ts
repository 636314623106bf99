import { network } from "hardhat";
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  custom,
  type Account,
  type Chain,
  type Hex,
  type PrivateKeyAccount,
  type PublicClient,
  type TestClient,
  type Transport,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { expect } from "vitest";
import { DEVELOPMENT_MNEMONIC } from "../../../src/evm/embedded-chain.ts";
import { evmChain } from "../../../src/evm/evm-chain.ts";
import { mnemonicToAccount } from "viem/accounts";

export type Wallet = WalletClient<Transport, Chain, PrivateKeyAccount>;

/** An in-process Hardhat/EDR chain driven through viem, with the dev accounts as local signers. */
export interface TestChain {
  chainId: number;
  publicClient: PublicClient<Transport, Chain>;
  testClient: TestClient;
  /** Funded accounts with their private keys (Hardhat's development mnemonic). */
  accounts: PrivateKeyAccount[];
  wallet(account: Account): Wallet;
  /** Chain time of the latest block. */
  now(): Promise<bigint>;
  /** Moves chain time forward and mines a block. */
  advance(seconds: number): Promise<void>;
  snapshot(): Promise<Hex>;
  revert(id: Hex): Promise<void>;
  close(): Promise<void>;
}

const keys = Array.from({ length: 20 }, (_, addressIndex) => {
  const key = mnemonicToAccount(DEVELOPMENT_MNEMONIC, { addressIndex }).getHdKey().privateKey!;
  return `0x${Buffer.from(key).toString("hex")}` as Hex;
});

/** A fresh in-process chain; `chainId` gives it another chain id than the default 31337. */
export async function createTestChain(options: { chainId?: number } = {}): Promise<TestChain> {
  const connection = await network.create(options.chainId === undefined ? undefined : { override: { chainId: options.chainId } });
  // No retries: a revert is an answer, and viem would otherwise back off on it for a second.
  const transport = custom(connection.provider, { retryCount: 0 });
  const chainId = Number(await connection.provider.request({ method: "eth_chainId" }));
  const chain = evmChain(chainId);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 1 });
  const testClient = createTestClient({ chain, mode: "hardhat", transport });
  return {
    chainId,
    publicClient,
    testClient,
    accounts: keys.map((key) => privateKeyToAccount(key)),
    wallet: (account) => createWalletClient({ account: account as PrivateKeyAccount, chain, transport }),
    now: async () => (await publicClient.getBlock()).timestamp,
    advance: async (seconds) => {
      await testClient.increaseTime({ seconds });
      await testClient.mine({ blocks: 1 });
    },
    snapshot: () => testClient.snapshot(),
    revert: (id) => testClient.revert({ id }),
    close: () => connection.close(),
  };
}

/** Sends a write and waits for a successful receipt. */
export async function confirmed(chain: TestChain, send: Promise<Hex>) {
  const receipt = await chain.publicClient.waitForTransactionReceipt({ hash: await send });
  expect(receipt.status).toBe("success");
  return receipt;
}

/** Expects the call to revert with the named custom error (and, when given, these arguments). */
export async function expectRevert(call: Promise<unknown>, errorName: string, args?: readonly unknown[]) {
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a revert with ${errorName}`).toBeInstanceOf(BaseError);
  const reverted = (caught as BaseError).walk((error) => error instanceof ContractFunctionRevertedError);
  expect(reverted, `expected a decoded revert, got: ${(caught as Error).message}`).toBeInstanceOf(
    ContractFunctionRevertedError,
  );
  const data = (reverted as ContractFunctionRevertedError).data;
  expect(data?.errorName).toBe(errorName);
  if (args) expect(data?.args).toEqual(args);
}
