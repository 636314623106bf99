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

  async function openPage(tamper?: (document: { attestation: Record<string, Record<string, unknown>> }) => void): Promise<Page> {
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
    expect(await page.$$eval("#checks li", (items) => items.length)).toBe(10);
    expect(await page.$("#chart svg")).not.toBeNull();
    await page.close();
  });

  it("shows the failure when the supply in the attestation does not match the chain", async () => {
    const page = await openPage((document) => {
      document.attestation["supply"]!["totalSupply"] = "100000";
    });
    expect(await page.textContent("#verification-result")).toContain("Verification failed");
    const failed = await page.$$eval("#checks li[data-ok='false']", (items) => items.map((item) => item.getAttribute("data-check")));
    expect(failed).toEqual(["gateway-signature", "total-supply"]);
    expect(await page.textContent("#checks li[data-check='total-supply']")).toContain("the chain says 1000000 at block");
    await page.close();
  });

  it("shows the failure when the operator's signature is wrong", async () => {
    const page = await openPage((document) => {
      const signature = String(document.attestation["collateral"]!["signature"]);
      document.attestation["collateral"]!["signature"] = `${signature.slice(0, 10)}${signature[10] === "0" ? "1" : "0"}${signature.slice(11)}`;
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
    expect(out.filter((line) => line.startsWith("ok  "))).toHaveLength(10);
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
    await page.close();
  });
});
