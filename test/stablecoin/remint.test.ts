import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { onChainRedemptionId } from "../../src/stablecoin/redemption-id.ts";
import { createStablecoinWorld, eventually, startGatewayOn, type GatewayUnderTest, type StablecoinWorld } from "./support.ts";

describe("re-minting a redemption whose DT payout was refused", () => {
  let world: StablecoinWorld;
  let gateway: GatewayUnderTest;
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    world = await createStablecoinWorld({ redeemConfirmations: 1 });
    gateway = await startGatewayOn(world);
  });
  afterAll(async () => {
    await gateway.close();
    await world.close();
  });

  it("lets only an operator re-mint a refused redemption, once, audited: the tokens come back, no DT leaves", async () => {
    const holder = world.exchange.evmAddresses[0]!;
    // The exchange holds the tokens it is about to redeem (minted the usual way).
    const own = (await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey), payload: { amount: "21.00" } })).json();
    await world.deposit(own.reference, 2_100n);
    await eventually(async () => ((await gateway.app.inject({ method: "GET", url: `/stablecoin/mints/${own.id}`, headers: bearer(world.exchangeApiKey) })).json().state === "minted" ? true : undefined), "the mint");
    const [supply, holding, dt] = [await world.supply(), await world.tokenChain.client.readContract({ address: world.token, abi: tengeStablecoinAbi, functionName: "balanceOf", args: [holder] }), await world.dtBalance(world.exchange.dtAccount)];
    const paidHash = await world.redeem(100n);
    const hash = await world.redeem(2_000n, "DA-CLOSED-FOR-GOOD");
    const list = async () => (await gateway.app.inject({ method: "GET", url: "/stablecoin/redemptions?limit=500", headers: bearer(gateway.operatorKey) })).json().items as Array<{ id: string; txHash: string; state: string }>;
    const failed = await eventually(async () => {
      const found = (await list()).find((item) => item.txHash === hash.toLowerCase());
      return found?.state === "failed" ? found : undefined;
    }, "the refused payout");
    const remint = (key: string, id = failed.id) => gateway.app.inject({ method: "POST", url: `/stablecoin/redemptions/${encodeURIComponent(id)}/remint`, headers: bearer(key) });
    const actions = () => world.db.query("SELECT * FROM stablecoin.redemption_actions WHERE redemption_id = $1", [failed.id]);
    const remints = () => world.db.query("SELECT id FROM stablecoin.mint_requests WHERE reverses_redemption = $1", [failed.id]);
    // The exchange may not re-mint, not even its own: nothing changes, nothing is recorded.
    expect((await remint(world.exchangeApiKey)).statusCode).toBe(403);
    expect((await actions()).rows).toEqual([]);
    expect((await remints()).rows).toEqual([]);
    // Only a failed redemption: a paid one is refused.
    const paid = await eventually(async () => (await list()).find((item) => item.txHash === paidHash.toLowerCase() && item.state === "paid"), "the paid redemption");
    const notFailed = await remint(gateway.operatorKey, paid.id);
    expect(notFailed.statusCode).toBe(409);
    expect(notFailed.json().code).toBe("NOT_FAILED");
    const accepted = await remint(gateway.operatorKey);
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json().redemption).toMatchObject({ id: failed.id, state: "reminted" });
    expect(accepted.json().mint).toMatchObject({ reversesRedemption: failed.id, toAddress: holder, amount: "20.00", currency: "KZT" });
    expect(accepted.json().mint.payment).toBeUndefined();
    // Once: a second re-mint, or a re-route or retry afterwards, finds nothing failed.
    for (const again of [await remint(gateway.operatorKey), await gateway.app.inject({ method: "POST", url: `/stablecoin/redemptions/${encodeURIComponent(failed.id)}/reroute`, headers: bearer(gateway.operatorKey), payload: { dtAccount: world.exchange.dtAccount } })]) {
      expect(again.statusCode).toBe(409);
      expect(again.json().code).toBe("NOT_FAILED");
    }
    const minted = await eventually(async () => {
      const reply = await gateway.app.inject({ method: "GET", url: `/stablecoin/mints/${accepted.json().mint.id}`, headers: bearer(world.exchangeApiKey) });
      return reply.json().state === "minted" ? reply.json() : undefined;
    }, "the re-mint");
    expect(minted.mintedTxHash).toMatch(/^0x[0-9a-f]{64}$/);
    // Of the two redemptions only the paid one's tokens are gone.
    expect(await world.supply()).toBe(supply - 100n);
    expect(await world.tokenChain.client.readContract({ address: world.token, abi: tengeStablecoinAbi, functionName: "balanceOf", args: [holder] })).toBe(holding - 100n);
    expect(await world.tokenChain.client.readContract({ address: world.token, abi: tengeStablecoinAbi, functionName: "isRedemptionReversed", args: [onChainRedemptionId(failed.id)] })).toBe(true);
    expect(await world.dtBalance(world.exchange.dtAccount)).toBe(dt + 100n);
    expect((await list()).find((item) => item.id === failed.id)?.state).toBe("reminted");
    expect((await remints()).rows).toHaveLength(1);
    const recorded = (await actions()).rows;
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ action: "reminted", principal_id: gateway.operatorPrincipalId, from_dt_account: "DA-CLOSED-FOR-GOOD", to_dt_account: null, mint_id: minted.id });
    // The DT that was never paid backs the tokens again: the proof of collateral stays healthy.
    expect((await gateway.component.attestations.renew()).attestation.status.state).toBe("healthy");
  });
});
