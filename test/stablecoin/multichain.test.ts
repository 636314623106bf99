import { ed25519 } from "@noble/curves/ed25519.js";
import { createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { createStablecoinComponent } from "../../src/stablecoin/component.ts";
import { MintWorker, requestMint } from "../../src/stablecoin/mint-flow.ts";
import type { FaultPoint } from "../../src/stablecoin/stablecoin-ledger.ts";
import { createLogger } from "../../src/server/logger.ts";
import { addChain, crashOnceAt, createStablecoinWorld, eventually, startGatewayOn, surviving, type ExtraChain, type GatewayUnderTest, type StablecoinWorld } from "./support.ts";

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Rows of the stablecoin's tables that a refused request must not have touched. */
async function rowCounts(world: StablecoinWorld): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ["mint_requests", "mint_transactions", "deposits", "allotment_relays"]) {
    const found = await world.db.query<{ count: bigint }>(`SELECT count(*)::int8 AS count FROM stablecoin.${table}`);
    counts[table] = Number(found.rows[0]!.count);
  }
  return counts;
}

describe("one stablecoin on two chains (two EDR chains, one collateral pool)", () => {
  let world: StablecoinWorld;
  let second: ExtraChain;
  let gateway: GatewayUnderTest;

  beforeAll(async () => {
    world = await createStablecoinWorld({ redeemConfirmations: 1, requireIssuanceAllotments: true });
    second = await addChain(world, { chainId: 31338 });
    gateway = await startGatewayOn(world, { extraChains: [second], settings: { exchangeRatePerSecond: 50 } });
  });
  afterAll(async () => {
    await gateway?.close();
    await second?.close();
    await world?.close();
  });

  it("lists both chains, the first as the default, and registers each in the pool", async () => {
    const reply = await gateway.app.inject({ method: "GET", url: "/stablecoin/chains", headers: bearer(world.exchangeApiKey) });
    expect(reply.statusCode).toBe(200);
    expect(reply.json().items).toEqual([
      { chainId: 31337, token: world.token, default: true },
      { chainId: 31338, token: second.token, default: false },
    ]);
    const pool = await world.gatewayLedger.latestIssuanceAllotment(world.segregatedAccount);
    expect(pool?.allotment.chains.map((entry) => [entry.chainId, entry.token])).toEqual([
      [31337n, world.token],
      [31338n, second.token],
    ]);
  });

  it("mints on each chain within that chain's own allotment; each mint and redemption carries its chain id", async () => {
    const onFirst = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey), payload: { amount: "1500.00" } });
    const onSecond = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey), payload: { amount: "700.00", chainId: 31338 } });
    expect(onFirst.statusCode).toBe(201);
    expect(onSecond.statusCode).toBe(201);
    expect(onFirst.json().chainId).toBe(31337);
    expect(onSecond.json().chainId).toBe(31338);
    await world.deposit(onFirst.json().reference, 150_000n);
    await world.deposit(onSecond.json().reference, 70_000n);
    for (const mint of [onFirst.json(), onSecond.json()]) {
      await eventually(async () => {
        const reply = await gateway.app.inject({ method: "GET", url: `/stablecoin/mints/${mint.id}`, headers: bearer(world.exchangeApiKey) });
        return reply.json().state === "minted" ? reply.json() : undefined;
      }, `the mint on chain ${mint.chainId}`, 60_000);
    }
    expect(await world.tokenChain.totalSupply()).toBe(150_000n);
    expect(await second.tokenChain.totalSupply()).toBe(70_000n);
    // Each chain took exactly its own deposit's credit: Σ limits = what was credited.
    expect((await world.tokenChain.issuance()).issuanceLimit).toBe(150_000n);
    expect((await second.tokenChain.issuance()).issuanceLimit).toBe(70_000n);
    const pool = (await world.gatewayLedger.latestIssuanceAllotment(world.segregatedAccount))!.allotment;
    expect(pool.chains.map((entry) => entry.issuanceLimit)).toEqual([150_000n, 70_000n]);
    const onlySecond = await gateway.app.inject({ method: "GET", url: "/stablecoin/mints?chainId=31338", headers: bearer(world.exchangeApiKey) });
    expect(onlySecond.json().items.map((mint: { id: string }) => mint.id)).toEqual([onSecond.json().id]);
    // The exchange redeems on the second chain: that chain's watcher pays it, and it carries its chain id.
    const holder = createWalletClient({ account: privateKeyToAccount(world.holderKey), transport: http(second.chain.rpcUrl), chain: second.tokenChain.client.chain! });
    const burn = await holder.writeContract({ address: second.token, abi: tengeStablecoinAbi, functionName: "redeem", args: [20_000n, world.exchange.dtAccount] });
    await second.tokenChain.client.waitForTransactionReceipt({ hash: burn });
    const paid = await eventually(async () => {
      const reply = await gateway.app.inject({ method: "GET", url: "/stablecoin/redemptions", headers: bearer(world.exchangeApiKey) });
      return reply.json().items.find((redemption: { txHash: string; state: string }) => redemption.txHash === burn && redemption.state === "paid");
    }, "the redemption on the second chain", 60_000);
    expect(paid).toMatchObject({ chainId: 31338, amount: "200.00" });
    expect(await second.tokenChain.totalSupply()).toBe(50_000n);
    const metrics = await gateway.metrics.metrics();
    expect(metrics).toMatch(/tenge_gateway_stablecoin_mints_total\{chain="31337",outcome="minted"\} 1/);
    expect(metrics).toMatch(/tenge_gateway_stablecoin_mints_total\{chain="31338",outcome="minted"\} 1/);
    expect(metrics).toMatch(/tenge_gateway_stablecoin_redemptions_total\{chain="31338",outcome="paid"\} 1/);
  });

  it("refuses a mint on a chain it does not serve with 422 UNKNOWN_CHAIN and writes nothing", async () => {
    const before = await rowCounts(world);
    const poolBefore = (await world.gatewayLedger.latestIssuanceAllotment(world.segregatedAccount))!.allotment.sequence;
    const reply = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey), payload: { amount: "10.00", chainId: 56 } });
    expect(reply.statusCode).toBe(422);
    expect(reply.json().code).toBe("UNKNOWN_CHAIN");
    expect(reply.json().message).toMatch(/chain 56 is not one of this stablecoin's chains \(31337, 31338\)/);
    const malformed = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey), payload: { amount: "10.00", chainId: "31338x" } });
    expect(malformed.statusCode).toBe(400);
    expect(await rowCounts(world)).toEqual(before);
    expect((await world.gatewayLedger.latestIssuanceAllotment(world.segregatedAccount))!.allotment.sequence).toBe(poolBefore);
  });

  it("shows each chain in the readiness checks", async () => {
    const reply = await gateway.app.inject({ method: "GET", url: "/readyz" });
    const names = (reply.json().checks as Array<{ name: string }>).map((check) => check.name);
    expect(names).toEqual(expect.arrayContaining(["stablecoin-chain (31337)", "stablecoin-chain (31338)"]));
  });
});

describe("a mint on a chain that requires allotments, crashed at every point", () => {
  const points: FaultPoint[] = ["mint.allot.after-credit", "mint.allot.before-commit", "mint.allot.after-send", "mint.sign.after-statement", "mint.sign.before-commit", "mint.broadcast.after-send", "mint.confirm.before-commit"];
  let world: StablecoinWorld;

  beforeAll(async () => {
    world = await createStablecoinWorld({ requireIssuanceAllotments: true });
    // The chain joins the pool as the component registers it on start.
    await startGatewayOn(world, { start: false }).then((gateway) => gateway.close());
  });
  afterAll(async () => {
    await world?.close();
  });

  it.each(points)("credits the deposit and mints it exactly once after a crash at %s", async (point) => {
    const supplyBefore = await world.supply();
    const limitBefore = (await world.tokenChain.issuance()).issuanceLimit;
    const request = await requestMint(world.db, world.exchange, 3_000n, { chainId: world.chain.chainId });
    await world.deposit(request.reference, 3_000n);
    await world.follower().step();
    const crash = crashOnceAt(point);
    const crashing = world.mintWorker(crash);
    for (let i = 0; i < 20 && !crash.fired; i++) await surviving(() => crashing.step());
    expect(crash.fired).toBe(true);
    // A fresh process (a new worker) finishes the request.
    const restarted = world.mintWorker();
    await eventually(async () => {
      await restarted.drain();
      const row = await world.db.query<{ state: string }>("SELECT state FROM stablecoin.mint_requests WHERE id = $1", [request.id]);
      return row.rows[0]!.state === "minted" ? true : undefined;
    }, "the mint after the crash", 30_000);
    expect(await world.supply()).toBe(supplyBefore + 3_000n);
    expect((await world.tokenChain.issuance()).issuanceLimit).toBe(limitBefore + 3_000n);
    const pool = (await world.gatewayLedger.latestIssuanceAllotment(world.segregatedAccount))!.allotment;
    expect(pool.chains[0]!.issuanceLimit).toBe(limitBefore + 3_000n);
  });

  it("a second worker on another chain id's rows does not touch this chain's request", async () => {
    const request = await requestMint(world.db, world.exchange, 1_000n, { chainId: 999 });
    await world.deposit(request.reference, 1_000n);
    await world.follower().step();
    const worker = new MintWorker({ db: world.db, ledger: world.gatewayLedger, chain: world.tokenChain, settings: world.mintSettings });
    expect(await worker.drain()).toBe(0);
    const row = await world.db.query<{ state: string }>("SELECT state FROM stablecoin.mint_requests WHERE id = $1", [request.id]);
    expect(row.rows[0]!.state).toBe("deposited");
  });
});

describe("start with two chains", () => {
  it("refuses a chain whose token mints without allotments (each chain would check the whole pool)", async () => {
    const world = await createStablecoinWorld({ requireIssuanceAllotments: true });
    const naive = await addChain(world, { chainId: 31339, requireIssuanceAllotments: false });
    try {
      await expect(
        createStablecoinComponent({
          db: world.db,
          ledger: world.gatewayLedger,
          logger: createLogger("silent"),
          chains: [
            { rpcUrl: world.chain.rpcUrl, token: world.token, minterKey: world.minterKey },
            { rpcUrl: naive.chain.rpcUrl, token: naive.token, minterKey: world.minterKey },
          ],
          segregatedAccount: world.segregatedAccount,
          attestationKey: ed25519.utils.randomSecretKey(),
        }),
      ).rejects.toThrow(/chain 31339: the token .* mints without issuance allotments/);
      expect((await world.gatewayLedger.latestIssuanceAllotment(world.segregatedAccount))).toBeUndefined();
    } finally {
      await naive.close();
      await world.close();
    }
  });
});
