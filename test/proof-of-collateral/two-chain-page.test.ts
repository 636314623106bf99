import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/browser.ts";
import { createTwoChainWorld, SECOND_CHAIN_ID, type TwoChainWorld } from "./two-chains.ts";

const FIRST_CHAIN_ID = 31337;

/** The public page in real Chromium over two EDR chains: each chain read through its own RPC, the total, the chart. */
describe("the public page over two chains, in Chromium", () => {
  let two: TwoChainWorld;
  let browser: Browser;

  beforeAll(async () => {
    two = await createTwoChainWorld();
    await two.mint("first", 1_200_000n);
    await two.attestations.renew();
    await two.mint("second", 300_000n);
    await two.attestations.renew();
    await two.mint("second", 200_000n);
    await two.attestations.renew();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await two?.close();
  });

  async function openPage(query = ""): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${two.baseUrl}/collateral${query}`);
    await page.waitForSelector("#verification-result[data-verified]", { timeout: 30_000 });
    return page;
  }

  const rows = (page: Page) =>
    page.$$eval("#chain-rows tr", (items) =>
      items.map((row) => ({
        chain: row.getAttribute("data-chain"),
        supply: row.querySelector(".chain-supply")?.textContent,
        allotment: row.querySelector(".allotment")?.textContent,
        rpc: (row.querySelector("input.rpc") as HTMLInputElement | null)?.value,
        verified: row.getAttribute("data-verified"),
        status: row.querySelector(".chain-status")?.textContent,
      })),
    );

  it("shows each chain and the total, each read from its own RPC, and 'Verified'", async () => {
    const page = await openPage();
    expect(await page.textContent("#collateral")).toBe("17 000.00 KZT");
    expect(await page.textContent("#supply")).toBe("17 000.00 KZT");
    expect(await page.textContent("#supply-hint")).toBe("Total supply of the token on its 2 blockchains");
    expect(await page.textContent("#ratio")).toBe("100.00%");
    expect(await rows(page)).toEqual([
      { chain: String(FIRST_CHAIN_ID), supply: "12 000.00 KZT", allotment: "none", rpc: two.world.chain.rpcUrl, verified: "true", status: "✔ agrees with the chain" },
      { chain: String(SECOND_CHAIN_ID), supply: "5 000.00 KZT", allotment: "none", rpc: two.second.chain.rpcUrl, verified: "true", status: "✔ agrees with the chain" },
    ]);
    expect(await page.textContent("#verification-result")).toBe("✔ Verified");
    expect(await page.$$eval("#checks li[data-ok='false']", (items) => items.length)).toBe(0);
    for (const chainId of [FIRST_CHAIN_ID, SECOND_CHAIN_ID]) {
      expect(await page.textContent(`#checks li[data-check='chain-id'][data-chain='${chainId}'] .detail`)).toBe(`chain ${chainId}`);
    }
    expect(await page.textContent(`#checks li[data-check='supply'][data-chain='${SECOND_CHAIN_ID}'] .detail`)).toMatch(/^5 000\.00 KZT \(500000 token units, 2 decimals\) at block \d+$/);
    expect(await page.textContent("#checks li[data-check='total-supply'] .detail")).toBe("17 000.00 KZT over 2 chains");
    await page.close();
  });

  it("draws the total and each chain in the history, with ticks, a legend and KZT amounts", async () => {
    const page = await openPage();
    await page.waitForSelector("#chart svg");
    expect(await page.$$eval("#chart .legend-item", (items) => items.map((item) => [item.getAttribute("data-series"), item.textContent]))).toEqual([
      ["collateral", "Collateral (DT)"],
      ["supply", "Stablecoins in circulation (all chains)"],
      [`chain-${FIRST_CHAIN_ID}`, `Chain ${FIRST_CHAIN_ID}`],
      [`chain-${SECOND_CHAIN_ID}`, `Chain ${SECOND_CHAIN_ID}`],
    ]);
    expect(await page.$$eval("#chart path[data-series]", (paths) => paths.length)).toBe(4);
    const yTicks = await page.$$eval("#chart .y-tick", (ticks) => ticks.map((tick) => tick.textContent));
    expect(yTicks[0]).toBe("0 KZT");
    expect(yTicks.at(-1)).toBe("20 000 KZT");
    expect(await page.$$eval("#chart .x-tick", (ticks) => ticks.length)).toBeGreaterThanOrEqual(1);
    const titles = await page.$$eval("#chart .point title", (nodes) => nodes.map((node) => node.textContent));
    expect(titles.at(-1)).toMatch(
      new RegExp(`: collateral 17 000\\.00 KZT, in circulation 17 000\\.00 KZT \\(chain ${FIRST_CHAIN_ID}: 12 000\\.00 KZT, chain ${SECOND_CHAIN_ID}: 5 000\\.00 KZT\\)$`),
    );
    await page.close();
  });

  it("fails visibly, naming the chain, when the visitor's RPC for one chain serves another chain", async () => {
    const page = await openPage(`?rpc.${SECOND_CHAIN_ID}=${encodeURIComponent(two.world.chain.rpcUrl)}`);
    expect(await page.textContent("#verification-result")).toBe(`✘ Verification failed: chain ${SECOND_CHAIN_ID} disagrees with the attestation`);
    const [first, second] = await rows(page);
    expect(first!.verified).toBe("true");
    expect(second!.verified).toBe("false");
    expect(second!.status).toMatch(/^✘ disagrees \(chain-id/);
    // The visitor puts the right RPC in and checks again.
    await page.fill(`#chain-rows input.rpc[data-chain='${SECOND_CHAIN_ID}']`, two.second.chain.rpcUrl);
    await page.click("#verify-again");
    await page.waitForSelector("#verification-result[data-verified='true']", { timeout: 30_000 });
    expect((await rows(page))[1]!.verified).toBe("true");
    await page.close();
  });

  it("fails visibly when one chain reorganised away the attested block, though the signature is valid", async () => {
    const rpc = async (method: string, params: unknown[] = []) => {
      const response = await fetch(two.second.chain.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
      return ((await response.json()) as { result: unknown }).result;
    };
    const snapshot = await rpc("evm_snapshot");
    await two.mint("second", 100_000n);
    await two.attestations.renew();
    await rpc("evm_revert", [snapshot]);
    for (let i = 0; i < 3; i++) await rpc("evm_mine");
    const page = await openPage();
    expect(await page.textContent("#verification-result")).toBe(`✘ Verification failed: chain ${SECOND_CHAIN_ID} disagrees with the attestation`);
    expect(await page.getAttribute("#checks li[data-check='gateway-signature']", "data-ok")).toBe("true");
    const failed = await page.$$eval(`#checks li[data-chain='${SECOND_CHAIN_ID}'][data-ok='false']`, (items) => items.map((item) => item.getAttribute("data-check")));
    expect(failed).toEqual(expect.arrayContaining(["block-hash", "supply"]));
    expect(await page.$$eval(`#checks li[data-chain='${FIRST_CHAIN_ID}'][data-ok='false']`, (items) => items.length)).toBe(0);
    expect(await page.textContent(`#checks li[data-check='supply'][data-chain='${SECOND_CHAIN_ID}'] .detail`)).toMatch(
      /^the chain says 5 000\.00 KZT \(500000 token units, 2 decimals\) at block \d+, the attestation says 6 000\.00 KZT \(600000 token units, 2 decimals\)$/,
    );
    await page.close();
  });
});
