import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deployContracts } from "../../../src/evm/deploy-contracts.ts";
import { startEmbeddedChain, type EmbeddedChain } from "../../../src/evm/embedded-chain.ts";
import { evmChain } from "../../../src/evm/evm-chain.ts";
import { demoForeignCbdcAbi } from "../../../src/evm/generated/contracts.ts";

export interface EvmStack {
  chain: EmbeddedChain;
  hashTimeLock: Address;
  token: Address;
  /** Bank B on the foreign chain: pays the foreign leg. */
  payerKey: Hex;
  payer: Address;
  /** Bank A's address on the foreign chain: receives the foreign leg. */
  beneficiary: Address;
  balanceOf(address: Address): Promise<bigint>;
  /** Moves chain time forward and mines a block. */
  increaseTime(seconds: number): Promise<void>;
  close(): Promise<void>;
}

/** An in-process EVM chain with the HTLC and a demo foreign CBDC (2 decimals) funded for bank B. */
export async function startEvmStack(fundPayer = 10_000_000n): Promise<EvmStack> {
  const chain = await startEmbeddedChain();
  const [deployerKey, payerKey, beneficiaryKey] = chain.accounts as [Hex, Hex, Hex];
  const deployer = privateKeyToAccount(deployerKey);
  const { deployment } = await deployContracts({
    rpcUrl: chain.rpcUrl,
    deployerKey,
    collateralSigner: deployer.address,
    segregatedAccount: "KZ-DA-SEGREGATED-0001",
    maxStatementAge: 3600n,
    demoForeignCbdc: { name: "Demo Dirham CBDC", symbol: "dAED", decimals: 2 },
    deploymentsDir: mkdtempSync(join(tmpdir(), "pvp-deployments-")),
  });
  const token = deployment.contracts.DemoForeignCbdc!.address;
  const transport = http(chain.rpcUrl);
  const publicClient = createPublicClient({ transport });
  const wallet = createWalletClient({ account: deployer, transport, chain: evmChain(chain.chainId, chain.rpcUrl) });
  const payer = privateKeyToAccount(payerKey).address;
  if (fundPayer > 0n) {
    const hash = await wallet.writeContract({ address: token, abi: demoForeignCbdcAbi, functionName: "issue", args: [payer, fundPayer] });
    await publicClient.waitForTransactionReceipt({ hash });
  }
  return {
    chain,
    hashTimeLock: deployment.contracts.HashTimeLock.address,
    token,
    payerKey,
    payer,
    beneficiary: privateKeyToAccount(beneficiaryKey).address,
    balanceOf: (address) => publicClient.readContract({ address: token, abi: demoForeignCbdcAbi, functionName: "balanceOf", args: [address] }),
    async increaseTime(seconds) {
      await publicClient.request({ method: "evm_increaseTime" as never, params: [seconds] as never });
      await publicClient.request({ method: "evm_mine" as never, params: [] as never });
    },
    close: () => chain.close(),
  };
}
