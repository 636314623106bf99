import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { deployContracts } from "../../src/evm/deploy-contracts.ts";
import { readDeployment } from "../../src/evm/deployments.ts";
import { startEmbeddedChain, type EmbeddedChain } from "../../src/evm/embedded-chain.ts";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";

let chain: EmbeddedChain;
let directory: string;

beforeAll(async () => {
  chain = await startEmbeddedChain({ accountCount: 4 });
  directory = await mkdtemp(join(tmpdir(), "deployments-"));
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

describe("startEmbeddedChain", () => {
  it("serves JSON-RPC on loopback with funded development accounts", async () => {
    expect(chain.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = createPublicClient({ transport: http(chain.rpcUrl) });
    expect(await client.getChainId()).toBe(chain.chainId);
    expect(chain.accounts).toHaveLength(4);
    const balance = await client.getBalance({ address: privateKeyToAccount(chain.accounts[0]!).address });
    expect(balance).toBeGreaterThan(10n ** 21n);
  });
});

describe("tenge-gateway contracts deploy", () => {
  const signer = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  const env = () => ({
    EVM_RPC_URL: chain.rpcUrl,
    EVM_DEPLOYER_KEY: chain.accounts[0]!,
    COLLATERAL_SIGNER_ADDRESS: signer,
    SEGREGATED_ACCOUNT: "KZ-DA-SEGREGATED-0001",
    DEPLOYMENTS_DIR: directory,
  });

  it("deploys, configures, writes the deployments file and never prints the key", async () => {
    const minter = privateKeyToAccount(chain.accounts[2]!).address;
    const { io, out, err } = capture(env());
    const code = await main(["contracts", "deploy", "--max-statement-age", "600", "--minter", minter, "--minter-allowance", "500000", "--demo-foreign-cbdc"], io);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out.join("\n")).toContain("deployed, addresses written to");
    expect(out.join("\n")).not.toContain(chain.accounts[0]!.slice(2));

    const deployment = (await readDeployment(directory, chain.chainId))!;
    expect(Object.keys(deployment.contracts)).toEqual(["TengeStablecoin", "HashTimeLock", "DemoForeignCbdc"]);
    const client = createPublicClient({ transport: http(chain.rpcUrl) });
    const token = { address: deployment.contracts.TengeStablecoin.address, abi: tengeStablecoinAbi } as const;
    expect(await client.readContract({ ...token, functionName: "collateralSigner" })).toBe(signer);
    expect(await client.readContract({ ...token, functionName: "segregatedAccount" })).toBe("KZ-DA-SEGREGATED-0001");
    expect(await client.readContract({ ...token, functionName: "maxStatementAge" })).toBe(600n);
    expect(await client.readContract({ ...token, functionName: "minterAllowance", args: [minter] })).toBe(500_000n);
    expect(await client.readContract({ ...token, functionName: "decimals" })).toBe(2);
    expect(deployment.stablecoin).toMatchObject({ collateralSigner: signer, maxStatementAge: 600n, decimals: 2 });
  });

  it("is idempotent: a second run finds the contracts on the chain and sends nothing", async () => {
    const before = await readFile(join(directory, `${chain.chainId}.json`), "utf8");
    const blockBefore = await createPublicClient({ transport: http(chain.rpcUrl) }).getBlockNumber();
    const { io, out, err } = capture(env());
    expect(await main(["contracts", "deploy", "--max-statement-age", "600"], io)).toBe(0);
    expect(out[0]).toContain("already deployed");
    expect(err).toEqual([]);
    expect(await readFile(join(directory, `${chain.chainId}.json`), "utf8")).toBe(before);
    expect(await createPublicClient({ transport: http(chain.rpcUrl) }).getBlockNumber()).toBe(blockBefore);
  });

  it("warns when a reused deployment has other settings than requested, and changes nothing", async () => {
    const { io, err } = capture({ ...env(), SEGREGATED_ACCOUNT: "KZ-DA-SEGREGATED-0009" });
    expect(await main(["contracts", "deploy", "--max-statement-age", "600"], io)).toBe(0);
    expect(err).toEqual([
      "warning: segregated account: deployed KZ-DA-SEGREGATED-0001, requested KZ-DA-SEGREGATED-0009; the owner changes it on chain, this command does not",
    ]);
  });

  it("deploys again when the file names addresses without code (a restarted dev chain)", async () => {
    const other = await mkdtemp(join(tmpdir(), "deployments-"));
    const path = join(other, `${chain.chainId}.json`);
    const stale = JSON.parse(await readFile(join(directory, `${chain.chainId}.json`), "utf8"));
    stale.contracts.HashTimeLock.address = "0x000000000000000000000000000000000000dEaD";
    await writeFile(path, JSON.stringify(stale));
    const result = await deployContracts({
      rpcUrl: chain.rpcUrl,
      deployerKey: chain.accounts[0]!,
      collateralSigner: signer,
      segregatedAccount: "KZ-DA-SEGREGATED-0001",
      maxStatementAge: 60n,
      deploymentsDir: other,
    });
    expect(result.reused).toBe(false);
    expect((await readDeployment(other, chain.chainId))!.contracts.HashTimeLock.address).not.toBe("0x000000000000000000000000000000000000dEaD");
    await rm(other, { recursive: true, force: true });
  });

  it("reports missing or malformed settings as usage errors (exit 2) without echoing the key", async () => {
    const missingKey = capture({ ...env(), EVM_DEPLOYER_KEY: "" });
    expect(await main(["contracts", "deploy"], missingKey.io)).toBe(2);
    expect(missingKey.err[0]).toContain("EVM_DEPLOYER_KEY is required");

    const badKey = capture({ ...env(), EVM_DEPLOYER_KEY: "0xnot-a-key-secret" });
    expect(await main(["contracts", "deploy"], badKey.io)).toBe(2);
    expect(badKey.err[0]).toContain("EVM_DEPLOYER_KEY");
    expect(badKey.err[0]).not.toContain("not-a-key-secret");

    const badSigner = capture(env());
    expect(await main(["contracts", "deploy", "--collateral-signer", "0x1234"], badSigner.io)).toBe(2);
    expect(badSigner.err[0]).toContain("--collateral-signer");

    const noAccount = capture({ ...env(), SEGREGATED_ACCOUNT: "" });
    expect(await main(["contracts", "deploy"], noAccount.io)).toBe(2);
    expect(noAccount.err[0]).toContain("SEGREGATED_ACCOUNT");

    const halfMinter = capture(env());
    expect(await main(["contracts", "deploy", "--minter", signer], halfMinter.io)).toBe(2);

    const unknown = capture(env());
    expect(await main(["contracts", "deploy", "--frobnicate"], unknown.io)).toBe(2);
  });

  it("requires issuance allotments on the new token before its minter when asked, and says how the chain joins the pool", async () => {
    const other = await mkdtemp(join(tmpdir(), "deployments-"));
    const minter = privateKeyToAccount(chain.accounts[1]!).address;
    const { io, out } = capture({ ...env(), DEPLOYMENTS_DIR: other });
    expect(await main(["contracts", "deploy", "--require-issuance-allotments", "--minter", minter, "--minter-allowance", "100"], io)).toBe(0);
    const token = (await readDeployment(other, chain.chainId))!.contracts.TengeStablecoin.address;
    const client = createPublicClient({ transport: http(chain.rpcUrl) });
    const [, , , required] = await client.readContract({ address: token, abi: tengeStablecoinAbi, functionName: "issuance" });
    expect(required).toBe(true);
    expect(out.join("\n")).toContain(`reference chain:${chain.chainId}:${token}`);
    await rm(other, { recursive: true, force: true });
  });

  it("prints its help", async () => {
    const { io, out } = capture({});
    expect(await main(["contracts", "deploy", "--help"], io)).toBe(0);
    expect(out[0]).toContain("Usage: npx tenge-gateway contracts deploy");
    expect(out[0]).toContain("EVM_DEPLOYER_KEY");
    expect(out[0]).toContain("ONE-WAY");
  });
});
