import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { DEMO_BOND } from "../../src/evm/deploy-security.ts";
import { readDeployment } from "../../src/evm/deployments.ts";
import { startEmbeddedChain, type EmbeddedChain } from "../../src/evm/embedded-chain.ts";
import { eligibilityRegistryAbi, securityTokenAbi } from "../../src/evm/generated/contracts.ts";

let chain: EmbeddedChain;
let directory: string;
beforeAll(async () => {
  chain = await startEmbeddedChain({ accountCount: 4 });
  directory = await mkdtemp(join(tmpdir(), "deployments-security-"));
});
afterAll(async () => {
  await chain.close();
  await rm(directory, { recursive: true, force: true });
});

function capture(env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line), env }, out, err };
}
const env = () => ({
  EVM_RPC_URL: chain.rpcUrl,
  EVM_DEPLOYER_KEY: chain.accounts[0]!,
  COLLATERAL_SIGNER_ADDRESS: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  SEGREGATED_ACCOUNT: "KZ-DA-SEGREGATED-0001",
  DEPLOYMENTS_DIR: directory,
});

describe("tenge-gateway contracts deploy --demo-bond", () => {
  const seller = () => privateKeyToAccount(chain.accounts[2]!).address;
  const buyer = () => privateKeyToAccount(chain.accounts[3]!).address;

  it("deploys the demo government bond with its eligible holders and records it in the deployments file", async () => {
    const { io, out, err } = capture(env());
    expect(await main(["contracts", "deploy", "--demo-bond", "--security-holder", `${seller()}:1000`, "--security-holder", buyer()], io)).toBe(0);
    expect(err).toEqual([]);
    expect(out.join("\n")).toContain(`security ${DEMO_BOND.isin}`);
    const deployment = (await readDeployment(directory, chain.chainId))!;
    expect(Object.keys(deployment.contracts)).toEqual(["TengeStablecoin", "HashTimeLock", "EligibilityRegistry", "SecurityToken"]);
    expect(deployment.security).toMatchObject({ isin: DEMO_BOND.isin, decimals: 0, holders: [{ address: seller(), units: 1000n }, { address: buyer(), units: 0n }], custodians: [deployment.contracts.HashTimeLock.address] });

    const client = createPublicClient({ transport: http(chain.rpcUrl) });
    const token = { address: deployment.contracts.SecurityToken!.address, abi: securityTokenAbi } as const;
    const registry = { address: deployment.contracts.EligibilityRegistry!.address, abi: eligibilityRegistryAbi } as const;
    expect(await client.readContract({ ...token, functionName: "isin" })).toBe(DEMO_BOND.isin);
    expect(await client.readContract({ ...token, functionName: "decimals" })).toBe(0);
    expect(await client.readContract({ ...token, functionName: "balanceOf", args: [seller()] })).toBe(1000n);
    expect(await client.readContract({ ...registry, functionName: "isInvestor", args: [buyer()] })).toBe(true);
    expect(await client.readContract({ ...registry, functionName: "isCustodian", args: [deployment.contracts.HashTimeLock.address] })).toBe(true);
    expect(await client.readContract({ ...token, functionName: "canTransfer", args: [seller(), buyer(), 1n] })).toBe(0);
  });

  it("is idempotent with the security: a second run sends nothing and keeps the file", async () => {
    const before = await readFile(join(directory, `${chain.chainId}.json`), "utf8");
    const { io, out } = capture(env());
    expect(await main(["contracts", "deploy", "--demo-bond"], io)).toBe(0);
    expect(out[0]).toContain("already deployed");
    expect(await readFile(join(directory, `${chain.chainId}.json`), "utf8")).toBe(before);
  });

  it("refuses a bad ISIN, a bad holder and holders without a security as usage errors, sending nothing", async () => {
    const client = createPublicClient({ transport: http(chain.rpcUrl) });
    const block = await client.getBlockNumber();
    const fresh = { ...env(), DEPLOYMENTS_DIR: join(directory, "fresh") };
    const badIsin = capture(fresh);
    expect(await main(["contracts", "deploy", "--security-isin", "KZKD00001021", "--security-name", "B", "--security-symbol", "B"], badIsin.io)).toBe(2);
    expect(badIsin.err.join("\n")).toContain("--security-isin");
    const badHolder = capture(fresh);
    expect(await main(["contracts", "deploy", "--demo-bond", "--security-holder", "0x12:10"], badHolder.io)).toBe(2);
    expect(badHolder.err.join("\n")).toContain("--security-holder");
    const orphan = capture(fresh);
    expect(await main(["contracts", "deploy", "--security-holder", seller()], orphan.io)).toBe(2);
    expect(await client.getBlockNumber()).toBe(block);
  });
});
