import { mkdtempSync, readFileSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http } from "viem";
import { privateKeyToAccount, privateKeyToAddress } from "viem/accounts";
import { chainAt } from "../../src/evm/evm-chain.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { buildDtLedgerApp } from "../../src/dt-ledger/http/service.ts";
import { deployContracts } from "../../src/evm/deploy-contracts.ts";
import { startEmbeddedChain, type EmbeddedChain } from "../../src/evm/embedded-chain.ts";
import { demoForeignCbdcAbi, tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { ed25519PrivateKey, ed25519RawPublicKey } from "../../src/identity/http-signature.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { BANK_A, GATEWAY, migratedLedger, NBK, PARTICIPANTS, TestClock } from "../dt-ledger/support.ts";

const dir = mkdtempSync(join(tmpdir(), "tg-setup-"));

async function cli(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line), env });
  return { code, out, err, json: () => JSON.parse(out.at(-1) ?? "null") as Record<string, string> };
}

describe("keys generate", () => {
  it("writes each kind of key to a new 0600 file and prints only its public half", async () => {
    const ed = await cli(["keys", "generate", "--type", "ed25519", "--out", join(dir, "participant.key")]);
    expect(ed.code).toBe(0);
    const seed = readFileSync(join(dir, "participant.key"), "utf8").trim();
    expect(seed).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dir, "participant.key")).mode & 0o777).toBe(0o600);
    expect(ed.json()["publicKey"]).toBe(Buffer.from(ed25519RawPublicKey(ed25519PrivateKey(Buffer.from(seed, "hex")))).toString("hex"));
    expect(ed.out.join("\n")).not.toContain(seed);

    const evm = await cli(["keys", "generate", "--type", "evm", "--out", join(dir, "minter.key")]);
    const key = readFileSync(join(dir, "minter.key"), "utf8").trim() as `0x${string}`;
    expect(evm.json()["address"]).toBe(privateKeyToAddress(key));
    expect(evm.out.join("\n")).not.toContain(key.slice(2));
    expect(statSync(join(dir, "minter.key")).mode & 0o777).toBe(0o600);

    expect((await cli(["keys", "generate", "--type", "secret", "--out", join(dir, "pvp-secret.key")])).code).toBe(0);
    expect(readFileSync(join(dir, "pvp-secret.key"), "utf8").trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("never overwrites a key file and refuses an unknown type", async () => {
    const before = readFileSync(join(dir, "participant.key"), "utf8");
    const again = await cli(["keys", "generate", "--type", "ed25519", "--out", join(dir, "participant.key")]);
    expect(again.code).toBe(1);
    expect(again.err).toEqual([`tenge-gateway keys generate: KEY_FILE_UNWRITABLE: ${join(dir, "participant.key")} exists; a key is never overwritten (choose another --out)`]);
    expect(readFileSync(join(dir, "participant.key"), "utf8")).toBe(before);
    expect((await cli(["keys", "generate", "--type", "rsa", "--out", join(dir, "x.key")])).code).toBe(2);
  });
});

describe("DT ledger administration over the service, signed", () => {
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof buildDtLedgerApp>>;
  let url: string;
  const as = (participant: string) => ({ DT_LEDGER_URL: url, DT_LEDGER_PARTICIPANT: participant, DT_LEDGER_SIGNING_KEY_FILE: join(dir, `${participant}.key`) });

  beforeAll(async () => {
    database = await createTestDatabase();
    const ledger = await migratedLedger(database.db, new TestClock());
    for (const participant of PARTICIPANTS) {
      const generated = await cli(["keys", "generate", "--type", "ed25519", "--out", join(dir, `${participant.id}.key`)]);
      await ledger.registerParticipant({ ...participant, publicKey: Buffer.from(generated.json()["publicKey"]!, "hex") });
    }
    app = await buildDtLedgerApp({ ledger, maxSkewSeconds: 60 });
    await app.listen({ host: "127.0.0.1", port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
    await database.drop();
  });

  it("opens the segregated wallet as the gateway, a customer account as a bank, and issues and redeems DT as the NBK", async () => {
    const wallet = await cli(["dt-ledger", "accounts", "open", "--kind", "segregated_wallet", "--holder", "Stablecoin reserve"], as(GATEWAY));
    expect(wallet.err).toEqual([]);
    expect(wallet.json()).toMatchObject({ kind: "segregated_wallet", participantId: GATEWAY });
    const exchange = (await cli(["dt-ledger", "accounts", "open", "--kind", "exchange", "--holder", "KASE Digital", "--idempotency-key", "open-kase"], as(BANK_A))).json();
    const again = (await cli(["dt-ledger", "accounts", "open", "--kind", "exchange", "--holder", "KASE Digital", "--idempotency-key", "open-kase"], as(BANK_A))).json();
    expect(again["id"]).toBe(exchange["id"]);

    const issued = await cli(["dt-ledger", "issue", "--account", exchange["id"]!, "--amount", "1000000.00", "--idempotency-key", "issue-1"], as(NBK));
    expect(issued.err).toEqual([]);
    expect(issued.json()).toMatchObject({ amount: "1000000.00", currency: "KZT" });
    await cli(["dt-ledger", "issue", "--account", exchange["id"]!, "--amount", "1000000.00", "--idempotency-key", "issue-1"], as(NBK));
    expect((await cli(["dt-ledger", "redeem", "--account", exchange["id"]!, "--amount", "250.50"], as(NBK))).code).toBe(0);
    const balance = await cli(["dt-ledger", "balance", "--account", exchange["id"]!], as(BANK_A));
    expect(balance.json()).toMatchObject({ available: "999749.50", held: "0.00", currency: "KZT" });
  });

  it("refuses DT issued by anyone but the central bank, with nothing booked", async () => {
    const account = (await cli(["dt-ledger", "accounts", "open", "--kind", "individual", "--holder", "Aigerim"], as(BANK_A))).json();
    const forged = await cli(["dt-ledger", "issue", "--account", account["id"]!, "--amount", "5000.00"], as(BANK_A));
    expect(forged.code).toBe(1);
    expect(forged.err[0]).toMatch(/^tenge-gateway dt-ledger issue: FORBIDDEN_OPERATION: /);
    const byGateway = await cli(["dt-ledger", "redeem", "--account", account["id"]!, "--amount", "1.00"], as(GATEWAY));
    expect(byGateway.code).toBe(1);
    expect((await cli(["dt-ledger", "balance", "--account", account["id"]!], as(BANK_A))).json()["available"]).toBe("0.00");
  });

  it("refuses a bank opening the segregated wallet, and a bad amount before any call", async () => {
    const refused = await cli(["dt-ledger", "accounts", "open", "--kind", "segregated_wallet", "--holder", "x"], as(BANK_A));
    expect(refused.code).toBe(1);
    expect(refused.err[0]).toMatch(/FORBIDDEN_OPERATION/);
    const bad = await cli(["dt-ledger", "issue", "--account", "DA-X", "--amount", "1.001"], as(NBK));
    expect(bad.code).toBe(2);
  });
});

describe("token calls on a real EVM (EDR)", () => {
  let chain: EmbeddedChain;
  let deploymentsFile: string;
  let contracts: Awaited<ReturnType<typeof deployContracts>>["deployment"]["contracts"];

  beforeAll(async () => {
    chain = await startEmbeddedChain({ accountCount: 4 });
    const deployed = await deployContracts({
      rpcUrl: chain.rpcUrl,
      deployerKey: chain.accounts[0]! as `0x${string}`,
      collateralSigner: privateKeyToAddress(chain.accounts[1]! as `0x${string}`),
      segregatedAccount: "DA-TENGEGW-SEG",
      maxStatementAge: 3600n,
      deploymentsDir: join(dir, "deployments"),
      demoForeignCbdc: { name: "Demo dirham", symbol: "DAED", decimals: 2 },
    });
    deploymentsFile = deployed.path;
    contracts = deployed.deployment.contracts;
  });
  afterAll(async () => chain.close());

  it("issues the demo foreign CBDC to a payer as its issuer; anyone else is refused", async () => {
    const payer = privateKeyToAddress(chain.accounts[2]! as `0x${string}`);
    const env = { EVM_RPC_URL: chain.rpcUrl, STABLECOIN_DEPLOYMENTS_FILE: deploymentsFile, EVM_DEPLOYER_KEY: chain.accounts[0]! };
    const issued = await cli(["contracts", "issue-demo-cbdc", "--to", payer, "--amount", "100000.00"], env);
    expect(issued.err).toEqual([]);
    expect(issued.json()).toMatchObject({ to: payer, balance: "100000" });
    const client = createPublicClient({ transport: http(chain.rpcUrl) });
    const decimals = await client.readContract({ address: contracts.DemoForeignCbdc!.address, abi: demoForeignCbdcAbi, functionName: "decimals" });
    expect(await client.readContract({ address: contracts.DemoForeignCbdc!.address, abi: demoForeignCbdcAbi, functionName: "balanceOf", args: [payer] })).toBe(100000n * 10n ** BigInt(decimals));

    const forged = await cli(["contracts", "issue-demo-cbdc", "--to", payer, "--amount", "1"], { ...env, EVM_DEPLOYER_KEY: chain.accounts[2]! });
    expect(forged.code).toBe(1);
    expect(forged.err).toEqual(["tenge-gateway contracts issue-demo-cbdc: CONTRACT_REFUSED: issue reverted with OwnableUnauthorizedAccount"]);
  });

  it("refuses a redemption beyond the exchange's tokens, and names an unfunded key as the fix", async () => {
    const env = { EVM_RPC_URL: chain.rpcUrl, STABLECOIN_DEPLOYMENTS_FILE: deploymentsFile, EVM_PRIVATE_KEY: chain.accounts[3]! };
    const refused = await cli(["stablecoin", "redeem", "--amount", "10.00", "--dt-account", "DA-KASE"], env);
    expect(refused.code).toBe(1);
    expect(refused.err[0]).toMatch(/^tenge-gateway stablecoin redeem: CONTRACT_REFUSED: redeem reverted with ERC20InsufficientBalance/);
    const client = createPublicClient({ transport: http(chain.rpcUrl) });
    expect(await client.readContract({ address: contracts.TengeStablecoin.address, abi: tengeStablecoinAbi, functionName: "totalSupply" })).toBe(0n);

  });

  it("names an issuer key without gas and what to do", async () => {
    const fresh = (await cli(["keys", "generate", "--type", "evm", "--out", join(dir, "unfunded.key")])).json()["address"] as `0x${string}`;
    // The demo CBDC's issuer becomes a fresh key that holds no native currency.
    const wallet = createWalletClient({ account: privateKeyToAccount(chain.accounts[0]! as `0x${string}`), transport: http(chain.rpcUrl), chain: await chainAt(chain.rpcUrl) });
    const client = createPublicClient({ transport: http(chain.rpcUrl) });
    await client.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: contracts.DemoForeignCbdc!.address, abi: demoForeignCbdcAbi, functionName: "transferOwnership", args: [fresh] }) });
    const unfunded = await cli(["contracts", "issue-demo-cbdc", "--to", fresh, "--amount", "1"], {
      EVM_RPC_URL: chain.rpcUrl, STABLECOIN_DEPLOYMENTS_FILE: deploymentsFile, EVM_DEPLOYER_KEY_FILE: join(dir, "unfunded.key"),
    });
    expect(unfunded.code).toBe(1);
    expect(unfunded.err).toEqual([`tenge-gateway contracts issue-demo-cbdc: NO_GAS: ${fresh} has too little native currency to pay gas: fund it and run again`]);
  });
});

describe("chain commands against an EVM node that does not answer", () => {
  it("end in one line naming the URL and the fix, never a stack trace", async () => {
    // A port nothing listens on: taken from the system, then released.
    const server = (await import("node:net")).createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const closed = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const key = `0x${"11".repeat(32)}` as const;
    const deploy = await cli(["contracts", "deploy", "--collateral-signer", privateKeyToAddress(key), "--segregated-account", "DA-1", "--deployments-dir", join(dir, "unreachable")], { EVM_RPC_URL: closed, EVM_DEPLOYER_KEY: key });
    expect(deploy.code).toBe(1);
    expect(deploy.err).toEqual([`tenge-gateway contracts deploy: RPC_UNREACHABLE: the EVM node at ${closed}/ does not answer: start it, or fix the RPC URL (--rpc-url, EVM_RPC_URL)`]);
  });

  it("name the minter allowance's unit when --minter comes without it", async () => {
    const key = `0x${"11".repeat(32)}` as const;
    const refused = await cli(["contracts", "deploy", "--collateral-signer", privateKeyToAddress(key), "--segregated-account", "DA-1", "--minter", privateKeyToAddress(key)], { EVM_RPC_URL: "http://127.0.0.1:1", EVM_DEPLOYER_KEY: key });
    expect(refused.code).toBe(2);
    expect(refused.err).toEqual(["tenge-gateway contracts deploy: --minter needs --minter-allowance TIYN, its mint allowance in tiyn (100 tiyn = 1 KZT; 100000000000 = 1,000,000,000.00 KZT)"]);
  });
});
