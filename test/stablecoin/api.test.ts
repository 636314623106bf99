import { privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AttestationService } from "../../src/proof-of-collateral/attestation-service.ts";
import { verifyAttestation } from "../../src/proof-of-collateral/page/verify-attestation.js";
import { createStablecoinWorld, eventually, startGatewayOn, type GatewayUnderTest, type StablecoinWorld } from "./support.ts";

describe("stablecoin API: onboarding, mint, limits, held deposits, proof of collateral", () => {
  let world: StablecoinWorld;
  let gateway: GatewayUnderTest;
  let otherExchangeKey: string;
  /** While set, the rate limiter's clock stands still at this instant. */
  let frozenAt: number | undefined;
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    world = await createStablecoinWorld({ redeemConfirmations: 1 });
    gateway = await startGatewayOn(world, { settings: { exchangeRatePerSecond: 50 }, clock: () => frozenAt ?? Date.now() });
  });
  afterAll(async () => {
    await gateway.close();
    await world.close();
  });

  it("lets an operator onboard an exchange, whose API key then works and whose limits are shown", async () => {
    const second = await world.bankLedger.openAccount({ idempotencyKey: "second-exchange", kind: "exchange", holderName: "Second Exchange" });
    const onboard = await gateway.app.inject({
      method: "POST",
      url: "/stablecoin/exchanges",
      headers: bearer(gateway.operatorKey),
      payload: { name: "Second Exchange", dtAccount: second.id, evmAddresses: [privateKeyToAddress(world.chain.accounts[5]!)], perMintLimit: "1000.00", dailyLimit: "5000" },
    });
    expect(onboard.statusCode).toBe(201);
    const body = onboard.json();
    expect(body.exchange).toMatchObject({ perMintLimit: "1000.00", currency: "KZT" });
    expect(body.credentials.apiKey).toMatch(/^tgk_/);
    otherExchangeKey = body.credentials.apiKey;
    const me = await gateway.app.inject({ method: "GET", url: "/stablecoin/exchange", headers: bearer(otherExchangeKey) });
    expect(me.statusCode).toBe(200);
    expect(me.json().exchange.name).toBe("Second Exchange");
    expect(me.json().today).toEqual({ requested: "0.00", minted: "0.00", currency: "KZT" });
    const asExchange = await gateway.app.inject({ method: "GET", url: "/stablecoin/exchanges", headers: bearer(otherExchangeKey) });
    expect(asExchange.statusCode).toBe(403);
  });

  it("mints end to end: request, DT deposit with the reference, mint on chain, attestation renewed and verifiable", async () => {
    const created = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey), payload: { amount: "2500.00" } });
    expect(created.statusCode).toBe(201);
    const mint = created.json();
    expect(mint).toMatchObject({ amount: "2500.00", currency: "KZT" });
    expect(mint.payment).toEqual({ toAccount: world.intakeAccount, amount: "2500.00", currency: "KZT", reference: mint.reference });
    await world.deposit(mint.reference, 250_000n);
    const done = await eventually(async () => {
      const reply = await gateway.app.inject({ method: "GET", url: `/stablecoin/mints/${mint.id}`, headers: bearer(world.exchangeApiKey) });
      return reply.json().state === "minted" ? reply.json() : undefined;
    }, "the mint");
    expect(done.mintedTxHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await world.supply()).toBe(250_000n);
    const attestation = await eventually(async () => {
      const reply = await gateway.app.inject({ method: "GET", url: "/proof-of-collateral" });
      return reply.statusCode === 200 && reply.json().attestation.totalSupply === "250000" ? reply.json() : undefined;
    }, "an attestation with the new supply");
    expect(attestation.attestation.collateral.balance).toBe("250000");
    expect(attestation.attestation.ratio).toBe("1.0000");
    expect(attestation.attestation.status.state).toBe("healthy");
    const result = await verifyAttestation(attestation, { rpcUrl: world.chain.rpcUrl });
    expect(result.checks.filter((check) => !check.ok)).toEqual([]);
    expect(result.verified).toBe(true);
  });

  it("shows an exchange only its own requests", async () => {
    const mine = await gateway.app.inject({ method: "GET", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey) });
    const mintId = mine.json().items[0].id;
    const theirs = await gateway.app.inject({ method: "GET", url: "/stablecoin/mints", headers: bearer(otherExchangeKey) });
    expect(theirs.json().items).toEqual([]);
    const peek = await gateway.app.inject({ method: "GET", url: `/stablecoin/mints/${mintId}`, headers: bearer(otherExchangeKey) });
    expect(peek.statusCode).toBe(404);
    const operator = await gateway.app.inject({ method: "GET", url: `/stablecoin/mints/${mintId}`, headers: bearer(gateway.operatorKey) });
    expect(operator.statusCode).toBe(200);
  });

  it("refuses every bad amount with INVALID_AMOUNT and writes nothing", async () => {
    const before = (await gateway.app.inject({ method: "GET", url: "/stablecoin/mints", headers: bearer(otherExchangeKey) })).json().items.length;
    // Numbers and arrays (5, ["5"]) are refused too once request bodies are no longer type-coerced (issue 11 item 4).
    for (const amount of ["12345678901234567", "1.001", "-1", "1e3", "0", "0.00", "", null]) {
      const reply = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(otherExchangeKey), payload: { amount } });
      expect(reply.statusCode, JSON.stringify(amount)).toBe(400);
      expect(reply.json().code, JSON.stringify(amount)).toBe("INVALID_AMOUNT");
    }
    const missing = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(otherExchangeKey), payload: {} });
    expect(missing.json().code).toBe("INVALID_AMOUNT");
    const badLimit = await gateway.app.inject({ method: "PATCH", url: `/stablecoin/exchanges/${world.exchange.id}`, headers: bearer(gateway.operatorKey), payload: { perMintLimit: "10.001" } });
    expect(badLimit.json().code).toBe("INVALID_AMOUNT");
    const after = (await gateway.app.inject({ method: "GET", url: "/stablecoin/mints", headers: bearer(otherExchangeKey) })).json().items.length;
    expect(after).toBe(before);
  });

  it("refuses requests over the per-mint and daily limits", async () => {
    const tooBig = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(otherExchangeKey), payload: { amount: "1000.01" } });
    expect(tooBig.statusCode).toBe(422);
    expect(tooBig.json()).toMatchObject({ code: "OVER_PER_MINT_LIMIT", message: "the per-mint limit is 1000.00 KZT" });
    for (let i = 0; i < 5; i++) {
      const ok = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(otherExchangeKey), payload: { amount: "1000" } });
      expect(ok.statusCode).toBe(201);
    }
    const overDay = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(otherExchangeKey), payload: { amount: "0.01" } });
    expect(overDay.statusCode).toBe(422);
    expect(overDay.json()).toMatchObject({ code: "OVER_DAILY_LIMIT", message: "the daily limit is 5000.00 KZT; 5000.00 KZT already requested today" });
  });

  it("holds a deposit that matches no request, shows it to the operator, and can return it", async () => {
    const before = await world.dtBalance(world.exchange.dtAccount);
    await world.deposit("NO-SUCH-REFERENCE", 12_345n);
    const held = await eventually(async () => {
      const reply = await gateway.app.inject({ method: "GET", url: "/stablecoin/deposits?status=held", headers: bearer(gateway.operatorKey) });
      return reply.json().items.find((deposit: { reference: string }) => deposit.reference === "NO-SUCH-REFERENCE");
    }, "the held deposit");
    expect(held.holdReason).toBe("UNKNOWN_REFERENCE");
    expect(held).toMatchObject({ amount: "123.45", currency: "KZT" });
    const metrics = await gateway.app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toMatch(/tenge_gateway_stablecoin_deposits_held 1/);
    const returned = await gateway.app.inject({ method: "POST", url: `/stablecoin/deposits/${held.eventId}/return`, headers: bearer(gateway.operatorKey) });
    expect(returned.statusCode).toBe(200);
    expect(returned.json().status).toBe("returned");
    const again = await gateway.app.inject({ method: "POST", url: `/stablecoin/deposits/${held.eventId}/return`, headers: bearer(gateway.operatorKey) });
    expect(again.statusCode).toBe(409);
    expect(await world.dtBalance(world.exchange.dtAccount)).toBe(before);
    // Held DT never backed a mint: supply is unchanged.
    expect(await world.supply()).toBe(250_000n);
  });

  it("holds a deposit with the right reference but the wrong amount", async () => {
    const created = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey), payload: { amount: "10.00" } });
    await world.deposit(created.json().reference, 999n);
    const held = await eventually(async () => {
      const reply = await gateway.app.inject({ method: "GET", url: "/stablecoin/deposits?status=held", headers: bearer(gateway.operatorKey) });
      return reply.json().items.find((deposit: { reference: string }) => deposit.reference === created.json().reference);
    }, "the held deposit");
    expect(held.holdReason).toBe("AMOUNT_MISMATCH");
    const mint = await gateway.app.inject({ method: "GET", url: `/stablecoin/mints/${created.json().id}`, headers: bearer(world.exchangeApiKey) });
    expect(mint.json().state).toBe("awaiting_deposit");
  });

  it("holds a deposit that went over the limits or came from a suspended exchange, whatever its reference", async () => {
    const heldReason = async (reference: string) =>
      eventually(async () => {
        const reply = await gateway.app.inject({ method: "GET", url: "/stablecoin/deposits?status=held", headers: bearer(gateway.operatorKey) });
        return reply.json().items.find((deposit: { reference: string }) => deposit.reference === reference)?.holdReason as string | undefined;
      }, `the held deposit ${reference}`);
    const patch = (payload: object) => gateway.app.inject({ method: "PATCH", url: `/stablecoin/exchanges/${world.exchange.id}`, headers: bearer(gateway.operatorKey), payload });
    const overLimit = (await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey), payload: { amount: "500.00" } })).json();
    expect((await patch({ perMintLimit: "100.00" })).statusCode).toBe(200);
    await world.deposit(overLimit.reference, 50_000n);
    expect(await heldReason(overLimit.reference)).toBe("OVER_PER_MINT_LIMIT");
    await patch({ perMintLimit: "100000.00" });
    const suspended = (await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey), payload: { amount: "20.00" } })).json();
    expect((await patch({ status: "suspended" })).json().status).toBe("suspended");
    const refused = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey), payload: { amount: "20.00" } });
    expect(refused.json().code).toBe("EXCHANGE_SUSPENDED");
    await world.deposit(suspended.reference, 2_000n);
    expect(await heldReason(suspended.reference)).toBe("EXCHANGE_SUSPENDED");
    await patch({ status: "active" });
    expect(await world.supply()).toBe(250_000n);
  });

  it("serves the attestation history newest first, in pages", async () => {
    await gateway.component.attestations.renew();
    await gateway.component.attestations.renew();
    const first = await gateway.app.inject({ method: "GET", url: "/proof-of-collateral/history?limit=2" });
    expect(first.statusCode).toBe(200);
    expect(first.json().items).toHaveLength(2);
    expect(first.json().items[0]).toMatchObject({ collateral: expect.stringMatching(/^\d+\.\d{2}$/), supply: expect.stringMatching(/^\d+\.\d{2}$/), currency: "KZT" });
    expect(first.json().next).not.toBeNull();
    const second = await gateway.app.inject({ method: "GET", url: `/proof-of-collateral/history?limit=2&before=${first.json().next}` });
    expect(Number(second.json().items[0].id)).toBeLessThan(Number(first.json().items[1].id));
  });

  it("detects a tampered attestation: a changed supply breaks the gateway signature and the chain check", async () => {
    const document = (await gateway.app.inject({ method: "GET", url: "/proof-of-collateral" })).json();
    document.attestation.chains[0].supply = "1";
    const result = await verifyAttestation(document, { rpcUrl: world.chain.rpcUrl });
    expect(result.verified).toBe(false);
    const failed = result.checks.filter((check) => !check.ok).map((check) => check.id);
    expect(failed).toEqual(["gateway-signature", "supply", "total-supply"]);
    expect(result.chains).toEqual([{ chainId: world.chain.chainId, verified: false, failed: ["supply"] }]);
  });

  it("rate limits an exchange that calls too fast", async () => {
    // 600 calls in one instant against a burst of 500 (50 per second, ten times that at once): with the
    // clock standing still nothing refills, however slowly a loaded machine serves them.
    frozenAt = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 600 }, () => gateway.app.inject({ method: "GET", url: "/stablecoin/exchange", headers: bearer(otherExchangeKey) })),
    ).finally(() => {
      frozenAt = undefined;
    });
    const limited = replies.filter((reply) => reply.statusCode === 429);
    expect(limited.length).toBeGreaterThanOrEqual(100);
    expect(limited[0]!.json().code).toBe("RATE_LIMITED");
    expect(limited[0]!.headers["retry-after"]).toBeDefined();
  });

  it("serves the public page and the browser modules without credentials", async () => {
    for (const url of ["/", "/collateral", "/collateral/assets/collateral.js", "/collateral/assets/verify-attestation.js", "/collateral/vendor/noble-curves/ed25519.js", "/collateral/vendor/noble-hashes/sha3.js"]) {
      const reply = await gateway.app.inject({ method: "GET", url });
      expect(reply.statusCode, url).toBe(200);
    }
    const escape = await gateway.app.inject({ method: "GET", url: "/collateral/vendor/noble-curves/..%2F..%2Fpackage.json" });
    expect(escape.statusCode).toBe(404);
  });

  it("raises the alert when the collateral falls below the supply: JSON state, metric, log line, failed check", async () => {
    // An incident outside the gateway's flows: DT leaves the segregated wallet without a burn.
    const shortfall = (await world.collateral()) - (await world.supply()) + 1n;
    await world.gatewayLedger.transfer({ idempotencyKey: "incident", from: world.segregatedAccount, to: world.exchange.dtAccount, amount: shortfall, reference: "incident" });
    const document = await gateway.component.attestations.renew();
    expect(document.attestation.status.state).toBe("alert");
    expect(document.attestation.status.alerts.map((alert) => alert.code)).toEqual(["UNDER_COLLATERALISED"]);
    expect(Number(document.attestation.ratio)).toBeLessThan(1);
    const served = (await gateway.app.inject({ method: "GET", url: "/proof-of-collateral" })).json();
    expect(served.attestation.status.state).toBe("alert");
    const metrics = await gateway.app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toContain('tenge_gateway_collateral_alert{code="UNDER_COLLATERALISED"} 1');
    expect(metrics.body).toContain('tenge_gateway_collateral_alert{code="STATEMENT_STALE"} 0');
    expect(gateway.logLines.some((line) => JSON.parse(line).event === "collateral.alert" && JSON.parse(line).code === "UNDER_COLLATERALISED")).toBe(true);
    const result = await verifyAttestation(served, { rpcUrl: world.chain.rpcUrl });
    expect(result.checks.filter((check) => !check.ok).map((check) => check.id)).toEqual(["coverage"]);
    // Put the DT back: the next attestation is healthy again and the alert clears.
    // Only the gateway's own accounts credit the wallet: the DT comes back through the intake.
    await world.bankLedger.transfer({ idempotencyKey: "incident-repaid", from: world.exchange.dtAccount, to: world.intakeAccount, amount: shortfall, reference: "incident repaid" });
    await world.gatewayLedger.transfer({ idempotencyKey: "incident-repaid-moved", from: world.intakeAccount, to: world.segregatedAccount, amount: shortfall, reference: "incident repaid" });
    expect((await gateway.component.attestations.renew()).attestation.status.state).toBe("healthy");
    expect((await gateway.app.inject({ method: "GET", url: "/metrics" })).body).toContain('tenge_gateway_collateral_alert{code="UNDER_COLLATERALISED"} 0');
  });

  it("raises STATEMENT_STALE when the DT ledger's statement is older than the token accepts", async () => {
    const later = new AttestationService({
      db: world.db,
      ledger: world.gatewayLedger,
      chains: [{ chainId: world.tokenChain.chainId, chain: world.tokenChain }],
      segregatedAccount: world.segregatedAccount,
      signingKey: new Uint8Array(32).fill(7),
      // Seen from two hours later, the statement signed now is stale (the token accepts one hour).
      now: () => new Date(Date.now() + 2 * 3600_000),
    });
    const document = await later.renew();
    expect(document.attestation.status.alerts.map((alert) => alert.code)).toEqual(["STATEMENT_STALE"]);
    const result = await verifyAttestation(document, { rpcUrl: world.chain.rpcUrl, now: () => Date.now() + 2 * 3600_000 });
    expect(result.checks.filter((check) => !check.ok).map((check) => check.id)).toEqual(["freshness"]);
  });
  it("lets only an operator re-route a refused redemption payout, once, with an audit record", async () => {
    const hash = await world.redeem(1_000n, "DA-NO-SUCH-ACCOUNT");
    const list = (key: string) => gateway.app.inject({ method: "GET", url: "/stablecoin/redemptions", headers: bearer(key) });
    const failed = await eventually(async () => {
      const found = (await list(gateway.operatorKey)).json().items.find((item: { txHash: string }) => item.txHash === hash.toLowerCase());
      return found?.state === "failed" ? found : undefined;
    }, "the refused payout");
    expect(failed).toMatchObject({ amount: "10.00", currency: "KZT", failureCode: "UNKNOWN_ACCOUNT" });
    const actions = () => world.db.query("SELECT * FROM stablecoin.redemption_actions WHERE redemption_id = $1", [failed.id]);
    const reroute = (key: string, dtAccount: string) =>
      gateway.app.inject({ method: "POST", url: `/stablecoin/redemptions/${encodeURIComponent(failed.id)}/reroute`, headers: bearer(key), payload: { dtAccount } });
    // The exchange itself may not redirect DT, even to its own account: nothing changes, nothing is recorded.
    const refused = await reroute(world.exchangeApiKey, world.exchange.dtAccount);
    expect(refused.statusCode).toBe(403);
    expect((await actions()).rows).toEqual([]);
    expect((await list(gateway.operatorKey)).json().items.find((item: { id: string }) => item.id === failed.id)).toMatchObject({ state: "failed", dtAccount: "DA-NO-SUCH-ACCOUNT" });
    const before = await world.dtBalance(world.exchange.dtAccount);
    const accepted = await reroute(gateway.operatorKey, world.exchange.dtAccount);
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json()).toMatchObject({ state: "confirmed", dtAccount: world.exchange.dtAccount });
    // A second re-route finds nothing failed to move.
    const again = await reroute(gateway.operatorKey, "DA-ANOTHER");
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe("NOT_FAILED");
    const paid = await eventually(async () => {
      const found = (await list(gateway.operatorKey)).json().items.find((item: { id: string }) => item.id === failed.id);
      return found?.state === "paid" ? found : undefined;
    }, "the re-routed payout");
    expect(paid.dtAccount).toBe(world.exchange.dtAccount);
    expect(await world.dtBalance(world.exchange.dtAccount)).toBe(before + 1_000n);
    const recorded = (await actions()).rows;
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ action: "rerouted", principal_id: gateway.operatorPrincipalId, from_dt_account: "DA-NO-SUCH-ACCOUNT", to_dt_account: world.exchange.dtAccount });
  });
  it("expires a mint request left unpaid for 24 h and holds a deposit that arrives after that, minting nothing", async () => {
    const open = async () => (await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(world.exchangeApiKey), payload: { amount: "1.00" } })).json();
    const late = await open();
    const forgotten = await open();
    // Both were opened 25 hours ago (the default STABLECOIN_MINT_REQUEST_TTL_SECONDS is 24 h).
    await world.db.query("UPDATE stablecoin.mint_requests SET created_at = now() - interval '25 hours' WHERE id = ANY($1)", [[late.id, forgotten.id]]);
    const state = async (id: string) => (await gateway.app.inject({ method: "GET", url: `/stablecoin/mints/${id}`, headers: bearer(world.exchangeApiKey) })).json().state;
    await eventually(async () => ((await state(forgotten.id)) === "expired" ? true : undefined), "the sweep to expire the request");
    const supply = await world.supply();
    await world.deposit(late.reference, 100n);
    const held = await eventually(async () => {
      const reply = await gateway.app.inject({ method: "GET", url: "/stablecoin/deposits?status=held", headers: bearer(gateway.operatorKey) });
      return reply.json().items.find((deposit: { reference: string }) => deposit.reference === late.reference);
    }, "the late deposit held");
    expect(held).toMatchObject({ holdReason: "REQUEST_EXPIRED", amount: "1.00", currency: "KZT" });
    expect(await state(late.id)).toBe("expired");
    expect(await world.supply()).toBe(supply);
  });
});
