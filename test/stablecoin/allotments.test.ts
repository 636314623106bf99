import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getAddress, type Address, type Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inProcessDtLedger } from "../../src/dt-ledger/in-process-adapter.ts";
import { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { dtLedgerMigrations } from "../../src/dt-ledger/schema.ts";
import { deployContracts } from "../../src/evm/deploy-contracts.ts";
import { startEmbeddedChain, type EmbeddedChain } from "../../src/evm/embedded-chain.ts";
import { DtLedgerError, type DtLedgerPort } from "../../src/ledger/dt-ledger-port.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { chainReference, PoolChainMismatch, registerPoolChain, registerPoolChains } from "../../src/stablecoin/allotments.ts";
import { TokenChain } from "../../src/stablecoin/token-chain.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

const NBK = "NBRKKZKX";
const BANK = "HSBKKZKX";
const GATEWAY = "TENGEGW";
const OTHER_TOKEN = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as const;

describe("issuance allotments from the DT ledger to a pool token on EDR", () => {
  let database: TestDatabase;
  let evm: EmbeddedChain;
  let ledger: DtLedger;
  let gateway: DtLedgerPort;
  let wallet: string;
  let intake: string;
  let exchange: string;
  let token: Address;
  let chain: TokenChain;
  let holder: Address;
  let deploymentsDir: string;

  const newWallet = async () => (await gateway.openAccount({ idempotencyKey: `wallet-${Math.random()}`, kind: "segregated_wallet", holderName: "Collateral" })).id;
  const rows = async () => (await database.db.query<{ n: bigint }>("SELECT count(*)::int8 AS n FROM dt_ledger.issuance_allotments")).rows[0]!.n;
  // The in-process node mines at once and answers a reverting transaction with its error; it is mined all the same.
  const mined = async (raw: Hex, hash: Hex) => {
    await chain.broadcast(raw).catch(() => undefined);
    return chain.client.waitForTransactionReceipt({ hash });
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrate(database.db, [dtLedgerMigrations]);
    evm = await startEmbeddedChain();
    const [operatorKey, minterKey, holderKey] = evm.accounts as [Hex, Hex, Hex];
    holder = privateKeyToAddress(holderKey);
    ledger = new DtLedger({ db: database.db, operatorKey });
    await ledger.registerParticipant({ id: NBK, name: "National Bank of Kazakhstan", role: "central_bank" });
    await ledger.registerParticipant({ id: BANK, name: "Halyk Bank", role: "bank" });
    await ledger.registerParticipant({ id: GATEWAY, name: "Tenge Gateway", role: "gateway" });
    gateway = inProcessDtLedger(ledger, GATEWAY);
    wallet = await newWallet();
    intake = (await gateway.openAccount({ idempotencyKey: "intake", kind: "collateral_intake", holderName: "Collateral intake" })).id;
    exchange = (await inProcessDtLedger(ledger, BANK).openAccount({ idempotencyKey: "exchange", kind: "exchange", holderName: "Exchange" })).id;
    await ledger.issue(NBK, { idempotencyKey: "fund", accountId: exchange, amount: 1_000_000n, reference: "conversion" });
    deploymentsDir = mkdtempSync(join(tmpdir(), "tg-allot-"));
    const { deployment } = await deployContracts({
      rpcUrl: evm.rpcUrl,
      deployerKey: operatorKey,
      collateralSigner: privateKeyToAddress(operatorKey),
      segregatedAccount: wallet,
      maxStatementAge: 3600n,
      minters: [{ address: privateKeyToAddress(minterKey), allowance: 10n ** 12n }],
      deploymentsDir,
      requireIssuanceAllotments: true,
    });
    token = deployment.contracts.TengeStablecoin.address;
    chain = await TokenChain.connect({ rpcUrl: evm.rpcUrl, token, minterKey, pollingIntervalMs: 50 });
  }, 120_000);
  afterAll(async () => {
    rmSync(deploymentsDir, { recursive: true, force: true });
    await evm?.close();
    await database?.drop();
  });

  it("deploys a token that needs allotments before any minter, and adds the configured chain to the pool once", async () => {
    expect(await chain.issuance()).toEqual({ issued: 0n, issuanceLimit: 0n, sequence: 0n, required: true });
    expect(await chain.totalMovedOut()).toBe(0n);
    const first = await registerPoolChain(gateway, { segregatedAccount: wallet, chainId: chain.chainId, token });
    expect(first.added).toBe(true);
    expect(first.allotment.allotment).toMatchObject({ sequence: 1n, chains: [{ chainId: BigInt(chain.chainId), token, issuanceLimit: 0n }] });
    const again = await registerPoolChain(gateway, { segregatedAccount: wallet, chainId: chain.chainId, token: token.toLowerCase() as Address });
    expect(again).toEqual({ added: false, allotment: first.allotment });
    expect(chainReference(chain.chainId, token.toLowerCase() as Address)).toBe(`chain:${chain.chainId}:${getAddress(token)}`);
  });

  it("on start adds the chains whose token requires allotments, and asks nothing for a single-chain token", async () => {
    const pool = await newWallet();
    const single = { chainId: 97, token: OTHER_TOKEN, issuance: async () => ({ required: false }) };
    const before = await rows();
    expect(await registerPoolChains(gateway, pool, [single])).toEqual([]);
    expect(await rows()).toBe(before);
    expect(await registerPoolChains(gateway, pool, [chain, single])).toEqual([chain.chainId]);
    expect(await registerPoolChains(gateway, pool, [chain, single])).toEqual([]);
    expect(await rows()).toBe(before + 1n);
  });

  it("adds a chain once when two processes start at once", async () => {
    const pool = await newWallet();
    const before = await rows();
    const [one, two] = await Promise.all([0, 1].map(() => registerPoolChain(gateway, { segregatedAccount: pool, chainId: 31338, token })));
    expect(one!.allotment).toEqual(two!.allotment);
    expect(await rows()).toBe(before + 1n);
  });

  it("refuses another token for a chain in the pool, and a participant that does not service the wallet, adding nothing", async () => {
    const before = await rows();
    await expect(registerPoolChain(gateway, { segregatedAccount: wallet, chainId: chain.chainId, token: OTHER_TOKEN })).rejects.toThrow(PoolChainMismatch);
    for (const participant of [BANK, NBK]) {
      await expect(registerPoolChain(inProcessDtLedger(ledger, participant), { segregatedAccount: wallet, chainId: 56, token: OTHER_TOKEN }))
        .rejects.toSatisfy((error) => error instanceof DtLedgerError && error.code === "FORBIDDEN_ACCOUNT");
    }
    expect(await rows()).toBe(before);
  });

  it("relays the ledger's allotment through the minter's signed transaction, within its gas budget; mints stay within the limit", async () => {
    await inProcessDtLedger(ledger, BANK).transfer({ idempotencyKey: "deposit-1", from: exchange, to: intake, amount: 1_000n, reference: "mint:1" });
    await gateway.transfer({ idempotencyKey: "deposit-1-in", from: intake, to: wallet, amount: 1_000n, reference: "mint:1" });
    const credited = await gateway.issuanceAllotment({ accountId: wallet, reference: "mint:1", change: { kind: "credit", chainId: BigInt(chain.chainId), amount: 600n } });
    const before = await chain.head();
    const relay = await chain.signSubmitIssuanceAllotment({ ...credited, nonce: BigInt(await chain.nonce("pending")), fees: await chain.fees() });
    const receipt = await mined(relay.raw, relay.hash);
    expect(receipt.status).toBe("success");
    // docs/contracts.md, Gas: an allotment of two chains 54,645 (the first ever 71,745), budget 90,000.
    expect(receipt.gasUsed).toBeLessThanOrEqual(90_000n);
    expect(await chain.issuance()).toEqual({ issued: 0n, issuanceLimit: 600n, sequence: 2n, required: true });
    expect(await chain.issuance(before)).toMatchObject({ issuanceLimit: 0n, sequence: 0n });

    // The same allotment again is refused on chain (not newer) and changes nothing.
    const replay = await chain.signSubmitIssuanceAllotment({ ...credited, nonce: BigInt(await chain.nonce("pending")), fees: await chain.fees() });
    expect((await mined(replay.raw, replay.hash)).status).toBe("reverted");
    expect((await chain.issuance()).sequence).toBe(2n);

    const statement = await gateway.collateralStatement({ accountId: wallet, domain: { chainId: chain.chainId, verifyingContract: token } });
    const over = await chain.signMint({ to: holder, amount: 601n, nonce: BigInt(await chain.nonce("pending")), fees: await chain.fees(), statement });
    expect((await mined(over.raw, over.hash)).status).toBe("reverted");
    const within = await chain.signMint({ to: holder, amount: 600n, nonce: BigInt(await chain.nonce("pending")), fees: await chain.fees(), statement });
    expect((await mined(within.raw, within.hash)).status).toBe("success");
    expect(await chain.issuance()).toMatchObject({ issued: 600n, issuanceLimit: 600n });
    expect(await chain.totalSupply()).toBe(600n);
  });

  it("says when a redeployment asks for allotments the recorded token does not require", async () => {
    const plainDir = mkdtempSync(join(tmpdir(), "tg-allot-plain-"));
    try {
      const [deployerKey] = evm.accounts as [Hex];
      const base = { rpcUrl: evm.rpcUrl, deployerKey, collateralSigner: privateKeyToAddress(deployerKey), segregatedAccount: wallet, maxStatementAge: 3600n, deploymentsDir: plainDir };
      await deployContracts(base);
      const again = await deployContracts({ ...base, requireIssuanceAllotments: true });
      expect(again.reused).toBe(true);
      expect(again.differences).toEqual(["issuance allotments: not required by the deployed token, requested (the owner calls requireIssuanceAllotments(), one-way)"]);
      await expect(deployContracts({ ...base, deploymentsDir: join(plainDir, "other"), requireIssuanceAllotments: true, roles: { owner: holder } }))
        .rejects.toMatchObject({ code: "DEPLOYMENT_ROLES_INVALID" });
    } finally {
      rmSync(plainDir, { recursive: true, force: true });
    }
  });
});
