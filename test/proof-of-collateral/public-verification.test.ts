import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { requestMint } from "../../src/stablecoin/mint-flow.ts";
import { launchChromium } from "../support/browser.ts";
import { createStablecoinWorld, startGatewayOn, type GatewayUnderTest, type StablecoinWorld } from "../stablecoin/support.ts";

/** The public page in real Chromium, and the CLI, against a running gateway and the in-process chain. */
describe("public verification: the page in Chromium and `collateral verify`", () => {
  let world: StablecoinWorld;
  let gateway: GatewayUnderTest;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    world = await createStablecoinWorld();
    gateway = await startGatewayOn(world, { start: false, listen: true });
    const address = gateway.app.server.address() as { port: number };
    baseUrl = `http://127.0.0.1:${address.port}`;
    const request = await requestMint(world.db, world.exchange, 1_234_567n);
    await world.deposit(request.reference, 1_234_567n);
    await world.follower().step();
    await world.mintWorker().drain();
    await gateway.component.attestations.renew();
    await world.redeem(234_567n);
    await world.mineBlocks(2);
    await world.redeemWorker().drain();
    await gateway.component.attestations.renew();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await gateway.close();
    await world.close();
  });

  async function openPage(tamper?: (document: { attestation: { chains: Record<string, unknown>[]; collateral: Record<string, unknown> } }) => void): Promise<Page> {
    const page = await browser.newPage();
    if (tamper) {
      await page.route("**/proof-of-collateral", async (route) => {
        const response = await route.fetch();
        const document = await response.json();
        tamper(document);
        await route.fulfill({ response, json: document });
      });
    }
    await page.goto(`${baseUrl}/collateral`);
    await page.waitForSelector("#verification-result[data-verified]", { timeout: 20_000 });
    return page;
  }

  it("shows collateral, supply, ratio and 'Verified' when everything matches the chain", async () => {
    const page = await openPage();
    expect(await page.textContent("#collateral")).toBe("10 000.00 KZT");
    expect(await page.textContent("#supply")).toBe("10 000.00 KZT");
    expect(await page.textContent("#ratio")).toBe("100.00%");
    expect(await page.getAttribute("#status", "data-state")).toBe("healthy");
    expect(await page.textContent("#verification-result")).toContain("Verified");
    const failed = await page.$$eval("#checks li[data-ok='false']", (items) => items.map((item) => item.textContent));
    expect(failed).toEqual([]);
    expect(await page.$$eval("#checks li", (items) => items.length)).toBe(12);
    expect(await page.$$eval("#chain-rows tr", (rows) => rows.map((row) => [row.getAttribute("data-chain"), row.getAttribute("data-verified")]))).toEqual([["31337", "true"]]);
    expect(await page.$("#chart svg")).not.toBeNull();
    // The check details speak KZT like the headline; the raw token units are labelled with their decimals.
    expect(await page.textContent("#checks li[data-check='supply'] .detail")).toMatch(/^10 000\.00 KZT \(1000000 token units, 2 decimals\) at block \d+$/);
    expect(await page.textContent("#checks li[data-check='coverage'] .detail")).toBe("collateral 10 000.00 KZT >= total supply 10 000.00 KZT");
    expect(await page.textContent("#checks")).not.toMatch(/\d units/);
    await page.close();
  });

  it("draws the history on a KZT scale of the collateral's magnitude, with time ticks and a legend", async () => {
    const history = (await (await fetch(`${baseUrl}/proof-of-collateral/history?limit=200`)).json()) as { items: { collateral: string; supply: string; currency: string }[] };
    expect(history.items.length).toBeGreaterThanOrEqual(2);
    for (const entry of history.items) {
      expect(entry.currency).toBe("KZT");
      expect(entry.collateral).toMatch(/^\d+\.\d{2}$/);
      expect(entry.supply).toMatch(/^\d+\.\d{2}$/);
    }
    const highest = Math.max(...history.items.flatMap((entry) => [Number(entry.collateral), Number(entry.supply)]));
    expect(highest).toBe(12_345.67); // the API speaks KZT major units; the page must not read them as tiyn
    const page = await openPage();
    await page.waitForSelector("#chart svg");
    const yTicks = await page.$$eval("#chart .y-tick", (ticks) => ticks.map((tick) => ({ tiyn: tick.getAttribute("data-tiyn"), label: tick.textContent })));
    expect(yTicks.length).toBeGreaterThanOrEqual(3);
    expect(yTicks[0]).toEqual({ tiyn: "0", label: "0 KZT" });
    const topTick = yTicks.at(-1)!;
    const topKzt = Number(topTick.tiyn) / 100;
    expect(topKzt).toBeGreaterThanOrEqual(highest);
    expect(topKzt).toBeLessThan(highest * 10);
    expect(topTick.label).toBe("15 000 KZT");
    for (const tick of yTicks) expect(Number(tick.label!.replace(/ KZT$/, "").replace(/ /g, ""))).toBe(Number(tick.tiyn) / 100);
    const xTicks = await page.$$eval("#chart .x-tick", (ticks) => ticks.map((tick) => tick.textContent));
    expect(xTicks.length).toBeGreaterThanOrEqual(2);
    expect(xTicks.length).toBeLessThanOrEqual(6);
    expect(new Set(xTicks).size).toBe(xTicks.length);
    for (const label of xTicks) expect(label).toMatch(/^\d{2}:\d{2}(:\d{2}(\.\d{3})?)?$|^\d{1,2} [A-Z][a-z]{2}$/);
    expect(await page.$$eval("#chart .legend-item", (items) => items.map((item) => [item.getAttribute("data-series"), item.textContent]))).toEqual([
      ["collateral", "Collateral (DT)"],
      ["supply", "Stablecoins in circulation"],
    ]);
    expect(await page.$$eval("#chart path[data-series]", (paths) => paths.map((path) => path.getAttribute("data-series")))).toEqual(["collateral", "supply"]);
    expect(await page.textContent("#chart-range")).toMatch(/^\d+ attestations from .+ to .+; amounts in KZT\.$/);
    await page.close();
  });

  it("scales a million-tenge history to its magnitude, with hour-and-minute time ticks", async () => {
    // The served history replaced by six hours of a 1 001 500.00 KZT collateral: the page's scale must read
    // in millions of KZT (the old page read these major-unit strings as tiyn and labelled the top 10 025.00 KZT).
    const start = Date.UTC(2026, 11, 7, 6, 0, 0);
    const items = Array.from({ length: 13 }, (_, index) => ({
      id: String(13 - index),
      issuedAt: new Date(start + (12 - index) * 30 * 60_000).toISOString(),
      collateral: "1001500.00",
      supply: index % 2 === 0 ? "1001500.00" : "950000.50",
      currency: "KZT",
      ratio: null,
      ledgerHeight: "1",
      blockNumber: "1",
      healthy: true,
      alerts: [],
    }));
    const page = await browser.newPage();
    await page.route("**/proof-of-collateral/history*", (route) => route.fulfill({ json: { items, next: null } }));
    await page.goto(`${baseUrl}/collateral`);
    await page.waitForSelector("#chart svg");
    const yTicks = await page.$$eval("#chart .y-tick", (ticks) => ticks.map((tick) => tick.textContent));
    expect(yTicks).toEqual(["0 KZT", "500 000 KZT", "1 000 000 KZT", "1 500 000 KZT"]);
    const xTicks = await page.$$eval("#chart .x-tick", (ticks) => ticks.map((tick) => [tick.getAttribute("data-time"), tick.textContent]));
    expect(xTicks.length).toBeGreaterThanOrEqual(3);
    expect(xTicks.length).toBeLessThanOrEqual(5);
    for (const [time, label] of xTicks) {
      expect(Date.parse(time!)).toBeGreaterThanOrEqual(start);
      expect(Date.parse(time!)).toBeLessThanOrEqual(start + 6 * 3_600_000);
      expect(label).toMatch(/^\d{2}:00$/);
    }
    const titles = await page.$$eval("#chart .point title", (nodes) => nodes.map((node) => node.textContent));
    expect(titles).toHaveLength(13);
    expect(titles[1]).toMatch(/: collateral 1 001 500\.00 KZT, in circulation 950 000\.50 KZT$/);
    expect(await page.textContent("#chart-range")).toMatch(/^13 attestations from /);
    await page.close();
  });

  it("shows the failure when the supply in the attestation does not match the chain", async () => {
    const page = await openPage((document) => {
      document.attestation.chains[0]!["supply"] = "100000";
    });
    expect(await page.textContent("#verification-result")).toBe("✘ Verification failed: chain 31337 disagrees with the attestation");
    const failed = await page.$$eval("#checks li[data-ok='false']", (items) => items.map((item) => item.getAttribute("data-check")));
    expect(failed).toEqual(["gateway-signature", "supply", "total-supply"]);
    expect(await page.textContent("#checks li[data-check='supply']")).toMatch(
      /the chain says 10 000\.00 KZT \(1000000 token units, 2 decimals\) at block \d+, the attestation says 1 000\.00 KZT \(100000 token units, 2 decimals\)/,
    );
    await page.close();
  });

  it("shows the failure when the operator's signature is wrong", async () => {
    const page = await openPage((document) => {
      const signature = String(document.attestation.collateral["signature"]);
      document.attestation.collateral["signature"] = `${signature.slice(0, 10)}${signature[10] === "0" ? "1" : "0"}${signature.slice(11)}`;
    });
    expect(await page.textContent("#verification-result")).toContain("Verification failed");
    const failed = await page.$$eval("#checks li[data-ok='false']", (items) => items.map((item) => item.getAttribute("data-check")));
    expect(failed).toContain("operator-signature");
    await page.close();
  });

  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line), env: {} }, out, err };
  }

  it("`tenge-gateway collateral verify` passes against the gateway and the chain", async () => {
    const { io, out } = capture();
    expect(await main(["collateral", "verify", "--url", baseUrl, "--rpc", world.chain.rpcUrl], io)).toBe(0);
    expect(out.at(-1)).toBe("VERIFIED");
    expect(out.filter((line) => line.startsWith("ok  "))).toHaveLength(12);
  });

  it("`tenge-gateway collateral verify` fails with exit code 1 against a pinned key that is not the gateway's", async () => {
    const { io, out } = capture();
    const code = await main(["collateral", "verify", "--url", baseUrl, "--rpc", world.chain.rpcUrl, "--gateway-key", "00".repeat(32), "--json"], io);
    expect(code).toBe(1);
    const result = JSON.parse(out[0]!);
    expect(result.verified).toBe(false);
    expect(result.checks.find((check: { id: string }) => check.id === "gateway-signature").ok).toBe(false);
  });

  it("shows the alert in plain words when the collateral no longer covers the supply", async () => {
    const shortfall = (await world.collateral()) - (await world.supply()) + 100n;
    await world.gatewayLedger.transfer({ idempotencyKey: "page-incident", from: world.segregatedAccount, to: world.exchange.dtAccount, amount: shortfall, reference: "incident" });
    await gateway.component.attestations.renew();
    const page = await openPage();
    expect(await page.getAttribute("#status", "data-state")).toBe("alert");
    expect(await page.textContent("#status")).toContain("Alert: collateral");
    expect(await page.textContent("#verification-result")).toContain("Verification failed");
    const failed = await page.$$eval("#checks li[data-ok='false']", (items) => items.map((item) => item.getAttribute("data-check")));
    expect(failed).toEqual(["coverage"]);
    expect(await page.textContent("#checks li[data-check='coverage'] .detail")).toMatch(/^the collateral [\d ]+\.\d{2} KZT is below the total supply 10 000\.00 KZT$/);
    await page.close();
  });
});
