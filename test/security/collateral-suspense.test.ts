import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { isDtLedgerError } from "../../src/ledger/dt-ledger-port.ts";
import { createStablecoinWorld, startGatewayOn, type GatewayUnderTest, type StablecoinWorld } from "../stablecoin/support.ts";

/**
 * Issue 18, finding "anyone holding DT can inflate the proof of collateral": a 100,000.00 KZT deposit with a
 * junk reference raised the published collateral to 1,100,017.00 against a supply of 1,000,000.00, and the
 * token's mintableAmount stayed 100,017.00 higher even after the deposit was returned. Replayed here on the
 * real stack (the DT ledger and the gateway on PGlite or PostgreSQL, the token on EDR): the published
 * collateral and the on-chain cap count only DT that backs a mint, whatever anyone pays in and whenever.
 */
describe("attack: a junk deposit inflates the proof of collateral", () => {
  let world: StablecoinWorld;
  let gateway: GatewayUnderTest;
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const mintable = () => world.tokenChain.client.readContract({ address: world.token, abi: tengeStablecoinAbi, functionName: "mintableAmount" });
  const onChainCap = async () => (await world.tokenChain.acceptedStatement()).balance;
  const published = async () => {
    const document = await gateway.component.attestations.renew();
    return { collateral: BigInt(document.attestation.collateral.balance), supply: BigInt(document.attestation.totalSupply) };
  };
  const work = async () => {
    while (await world.follower().step()) {
      /* drain */
    }
    await world.mintWorker().drain();
  };
  const mint = async (amount: bigint) => {
    const created = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey), payload: { amount: (Number(amount) / 100).toFixed(2) } });
    expect(created.statusCode, created.body).toBe(201);
    await world.deposit(created.json().reference, amount);
    await work();
    await world.mineBlocks(1);
    await work();
  };

  beforeAll(async () => {
    world = await createStablecoinWorld({ exchangeFunds: 10n ** 12n });
    gateway = await startGatewayOn(world, { start: false, settings: { exchangeRatePerSecond: 100 } });
    await world.exchanges.update(world.exchange.id, { perMintLimit: 100_000_000n, dailyLimit: 1_000_000_000n });
    // The red team's starting point: 1,000,000.00 in circulation, fully backed.
    await mint(100_000_000n);
    expect(await world.supply()).toBe(100_000_000n);
  });
  afterAll(async () => {
    await gateway.close();
    await world.close();
  });

  it("refuses a payment straight into the segregated wallet: nothing booked, collateral and cap unchanged", async () => {
    const before = { published: await published(), cap: await onChainCap(), mintable: await mintable(), wallet: await world.collateral() };
    const refused = await world.bankLedger
      .transfer({ idempotencyKey: "junk-into-wallet", from: world.exchange.dtAccount, to: world.segregatedAccount, amount: 10_000_000n, reference: "junk" })
      .then(
        () => "paid",
        (error: unknown) => (isDtLedgerError(error) ? error.code : String(error)),
      );
    expect(refused).toBe("FORBIDDEN_OPERATION");
    await work();
    expect(await world.collateral()).toBe(before.wallet);
    expect(await published()).toEqual(before.published);
    expect(await onChainCap()).toBe(before.cap);
    expect(await mintable()).toBe(before.mintable);
  });

  it("keeps a junk deposit into the intake out of every statement: published collateral and mintableAmount unchanged, before and after its return", async () => {
    const before = { published: await published(), cap: await onChainCap(), mintable: await mintable() };
    // 100,000.00 KZT with a junk reference, into the account every mint request names.
    await world.deposit("junk reference", 10_000_000n);
    await work();
    const held = (await gateway.app.inject({ method: "GET", url: "/stablecoin/deposits?status=held", headers: bearer(gateway.operatorKey) })).json().items;
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ amount: "100000.00", holdReason: "UNKNOWN_REFERENCE" });
    expect(await published()).toEqual(before.published);

    // A real mint now carries a fresh statement on chain: it counts its own 10.00, not the junk.
    await mint(1_000n);
    const afterMint = await published();
    expect(afterMint).toEqual({ collateral: before.published.collateral + 1_000n, supply: before.published.supply + 1_000n });
    expect(afterMint.collateral).toBe(afterMint.supply);
    expect(await onChainCap()).toBe(before.cap + 1_000n);
    expect(await mintable()).toBe(before.mintable);

    // The exchange cannot send the DT back to itself; an operator returns it, from the intake.
    const id = held[0].eventId as string;
    const byExchange = await gateway.app.inject({ method: "POST", url: `/stablecoin/deposits/${id}/return`, headers: bearer(world.exchangeApiKey) });
    expect(byExchange.statusCode).toBe(403);
    const returned = await gateway.app.inject({ method: "POST", url: `/stablecoin/deposits/${id}/return`, headers: bearer(gateway.operatorKey) });
    expect(returned.statusCode, returned.body).toBe(200);
    expect(returned.json().status).toBe("returned");
    await work();
    expect(await published()).toEqual(afterMint);
    expect(await onChainCap()).toBe(before.cap + 1_000n);
    expect(await mintable()).toBe(before.mintable);

    // The next mint's statement still shows only backing DT: the cap never moved by the junk.
    await mint(1_000n);
    expect(await mintable()).toBe(before.mintable);
    const last = await published();
    expect(last.collateral).toBe(last.supply);
  });
});
