import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { promisify } from "node:util";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, http, type Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import * as dvpCli from "../../src/dvp/cli.ts";
import { DEMO_BOND } from "../../src/evm/deploy-security.ts";
import { securityTokenAbi } from "../../src/evm/generated/contracts.ts";
import { startGateway, type RunningGateway } from "../../src/gateway/run.ts";
import { buildSettlementInstruction } from "../../src/iso20022/dvp/messages.ts";
import { buildMessage } from "../../src/iso20022/message.ts";
import { readValidatedMessage } from "../../src/iso20022/validation/validate.ts";

interface Broker {
  principal: string;
  apiKey: string;
  bic: string;
  holding: Address;
  cashAccount: string;
}
interface Credentials {
  operator: { apiKey: string };
  dvp: { isin: string; ledger: string; security: Address; sellingBroker: Broker; buyingBroker: Broker };
}

/**
 * `npm start` settles a DvP end to end, through the API: the buying broker instructs, the selling broker
 * affirms with its sese.023, the gateway holds the cash on the DT ledger, locks and releases the demo bond
 * on the embedded chain (EDR), and both ledgers show both legs settled. The wrong broker and a trade
 * compliance refuses are turned away with nothing written or locked.
 */
describe("DvP on the embedded stack, through the API", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tg-embedded-dvp-"));
  const env = { DATA_DIR: dataDir, PORT: "0", EMBEDDED_CHAIN_PORT: "0", EMBEDDED_PEER_PORT: "0", EMBEDDED_DT_LEDGER_PORT: "0", LOG_LEVEL: "silent", PVP_POLL_INTERVAL_MS: "100" };
  let gateway: RunningGateway;
  let credentials: Credentials;
  let seller: Broker, buyer: Broker;

  beforeAll(async () => {
    gateway = await startGateway(loadConfig(env), { env });
    credentials = JSON.parse(readFileSync(join(dataDir, "demo-credentials.json"), "utf8")) as Credentials;
    seller = credentials.dvp.sellingBroker;
    buyer = credentials.dvp.buyingBroker;
  }, 180_000);
  afterAll(async () => {
    await gateway?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const api = async (path: string, init: { method?: string; body?: unknown; key: string; xml?: string }) => {
    const response = await fetch(`${gateway.url}${path}`, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${init.key}`, ...(init.xml ? { "content-type": "application/xml" } : init.body === undefined ? {} : { "content-type": "application/json" }) },
      ...(init.xml ? { body: init.xml } : init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };
  const bonds = (holder: Address) =>
    createPublicClient({ transport: http(gateway.embedded!.chain.rpcUrl) }).readContract({ address: credentials.dvp.security, abi: securityTokenAbi, functionName: "balanceOf", args: [holder] });
  const cash = async (account: string) => (await gateway.embedded!.dtLedger.balance(gateway.embedded!.demo.participants.nbk.id, account)).available;
  const dvpRows = async () => Number((await gateway.db.query<{ n: bigint }>("SELECT count(*)::int8 AS n FROM pvp WHERE kind = 'dvp'")).rows[0]!.n);
  const trade = () => ({
    isin: DEMO_BOND.isin,
    quantity: "10",
    amount: "1000000.00",
    seller: { bic: seller.bic, holding: seller.holding, cashAccount: seller.cashAccount },
    buyer: { bic: buyer.bic, holding: buyer.holding, cashAccount: buyer.cashAccount },
  });

  it("lets a broker buy the demo bond for DT: both legs settled on the ledgers, sese.024/025 and camt.054 XSD-valid", async () => {
    const [bondsBefore, sellerCash, buyerCash] = [await bonds(buyer.holding), await cash(seller.cashAccount), await cash(buyer.cashAccount)];
    const created = await api("/dvp", { method: "POST", key: buyer.apiKey, body: { ...trade(), side: "buyer", buyer: { ...trade().buyer, transactionId: "BUY-0001" } } });
    expect(created.status, created.text).toBe(201);
    const dvp = created.json();
    expect(dvp).toMatchObject({ state: "INITIATED", awaitingAffirmation: true, isin: DEMO_BOND.isin, quantity: "10", amount: "1000000.00", instructedBy: "buyer" });
    const id = String(dvp["id"]);
    // The buyer cannot affirm its own trade; the seller affirms with its sese.023 naming the DvP and its hash-lock.
    expect((await api(`/dvp/${id}/affirm`, { method: "POST", key: buyer.apiKey, body: {} })).json()).toMatchObject({ code: "BROKER_NOT_PARTY" });
    const now = new Date().toISOString().slice(0, 19) + "+00:00";
    const instruction = buildMessage(
      buildSettlementInstruction({
        envelope: { messageId: "SELL-MSG-0001", createdAt: now, from: seller.bic, to: "NBRKKZKX" },
        transactionId: "SELL-0001",
        side: "deliver",
        isin: DEMO_BOND.isin,
        quantity: { units: 10n, decimals: 0 },
        settlementAmount: { currency: "KZT", minorUnits: 100_000_000n },
        tradeDate: String(dvp["tradeDate"]),
        settlementDate: String(dvp["settlementDate"]),
        delivering: { bic: seller.bic, holdingAddress: seller.holding },
        receiving: { bic: buyer.bic, holdingAddress: buyer.holding },
        reference: { dvpId: id, hashLock: String(dvp["hashLock"]).replace(/^0x/, "") },
      }),
    );
    const wrongQuantity = instruction.replace("<Unit>10</Unit>", "<Unit>11</Unit>");
    expect((await api("/dvp/instructions", { method: "POST", key: seller.apiKey, xml: wrongQuantity })).json()).toMatchObject({ code: "DVP_TERMS_MISMATCH" });
    const affirmed = await api("/dvp/instructions", { method: "POST", key: seller.apiKey, xml: instruction });
    expect(affirmed.status, affirmed.text).toBe(202);
    let detail: Record<string, unknown> = {};
    for (let attempt = 0; attempt < 300 && detail["state"] !== "SETTLED"; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      detail = (await api(`/dvp/${id}`, { key: seller.apiKey })).json();
    }
    expect(detail["state"]).toBe("SETTLED");
    expect(await bonds(buyer.holding)).toBe(bondsBefore + 10n);
    expect(await cash(seller.cashAccount)).toBe(sellerCash + 100_000_000n);
    expect(await cash(buyer.cashAccount)).toBe(buyerCash - 100_000_000n);
    const messages = detail["messages"] as Array<{ businessMessageId: string; messageType: string; counterparty: string }>;
    expect(messages.map((message) => `${message.messageType} ${message.counterparty}`).sort()).toEqual(
      [`camt.054.001.08 ${buyer.bic}`, `camt.054.001.08 ${seller.bic}`, `sese.024.001.12 ${buyer.bic}`, `sese.024.001.12 ${seller.bic}`, `sese.025.001.11 ${buyer.bic}`, `sese.025.001.11 ${seller.bic}`].sort(),
    );
    for (const message of messages) {
      const key = message.counterparty === seller.bic ? seller.apiKey : buyer.apiKey;
      const xml = await api(`/dvp/${id}/messages/${message.businessMessageId}`, { key });
      expect(xml.status).toBe(200);
      expect(readValidatedMessage(xml.text, { strict: true }).errors).toEqual([]);
      // Each broker reads only what is addressed to it.
      const other = message.counterparty === seller.bic ? buyer.apiKey : seller.apiKey;
      expect((await api(`/dvp/${id}/messages/${message.businessMessageId}`, { key: other })).status).toBe(404);
    }
    const sese025 = messages.find((message) => message.messageType === "sese.025.001.11" && message.counterparty === buyer.bic)!;
    expect((await api(`/dvp/${id}/messages/${sese025.businessMessageId}`, { key: buyer.apiKey })).text).toContain("BUY-0001");
    const list = (await api("/dvp?limit=1", { key: buyer.apiKey })).json();
    expect((list["items"] as Array<{ id: string }>).map((item) => item.id)).toEqual([id]);
    expect(list).toHaveProperty("next");
    // A DvP is not a PvP.
    expect((await api(`/pvp/${id}`, { key: credentials.operator.apiKey })).status).toBe(404);
  }, 120_000);

  it("refuses before anything is written or locked: the wrong broker (403) and a trade compliance would refuse (422)", async () => {
    const rows = await dvpRows();
    const [sellerBonds, buyerCash] = [await bonds(seller.holding), await cash(buyer.cashAccount)];
    const refusals = [
      [await api("/dvp", { method: "POST", key: buyer.apiKey, body: { ...trade(), side: "seller" } }), 403, "BROKER_NOT_PARTY"],
      [await api("/dvp", { method: "POST", key: seller.apiKey, body: { ...trade(), side: "buyer", buyer: { ...trade().buyer, bic: seller.bic } } }), 403, "HOLDING_NOT_REGISTERED"],
      [await api("/dvp", { method: "POST", key: seller.apiKey, body: { ...trade(), side: "seller", seller: { ...trade().seller, holding: buyer.holding } } }), 403, "HOLDING_NOT_REGISTERED"],
      [await api("/dvp", { method: "POST", key: seller.apiKey, body: { ...trade(), side: "seller", seller: { ...trade().seller, cashAccount: buyer.cashAccount } } }), 403, "DT_ACCOUNT_NOT_SERVICED"],
      [await api("/dvp", { method: "POST", key: credentials.operator.apiKey, body: { ...trade(), quantity: "5000" } }), 422, "DELIVERY_REFUSED"],
      [await api("/dvp", { method: "POST", key: buyer.apiKey, body: { ...trade(), side: "buyer", isin: "US0378331005" } }), 422, "UNKNOWN_SECURITY"],
    ] as const;
    for (const [response, status, code] of refusals) {
      expect(response.status, response.text).toBe(status);
      expect(response.json()).toMatchObject({ code });
    }
    expect(await dvpRows()).toBe(rows);
    expect(await bonds(seller.holding)).toBe(sellerBonds);
    expect(await cash(buyer.cashAccount)).toBe(buyerCash);
  }, 60_000);

  it("the CLI instructs, affirms, shows and lists a DvP through the API (tenge-gateway dvp create / affirm / show / list)", async () => {
    const lines: string[] = [];
    const io = (key: string) => ({ out: (line: string) => void lines.push(line), err: (line: string) => void lines.push(line), env: { TENGE_GATEWAY_URL: gateway.url, TENGE_API_KEY: key } });
    const parties = ["--seller-bic", seller.bic, "--seller-holding", seller.holding, "--seller-account", seller.cashAccount, "--buyer-bic", buyer.bic, "--buyer-holding", buyer.holding, "--buyer-account", buyer.cashAccount];
    expect(await dvpCli.create.run(["--side", "buyer", "--isin", DEMO_BOND.isin, "--quantity", "3", "--amount", "300000.00", ...parties], io(buyer.apiKey))).toBe(0);
    const id = String((JSON.parse(lines.join("\n")) as { id: string }).id);
    lines.length = 0;
    expect(await dvpCli.affirm.run([id, "--transaction-id", "SELL-CLI-1"], io(seller.apiKey))).toBe(0);
    for (let attempt = 0; attempt < 300; attempt++) {
      lines.length = 0;
      await dvpCli.show.run([id], io(buyer.apiKey));
      if (lines[0]!.includes("SETTLED")) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(lines[0]).toBe(`${id}  SETTLED  3 ${DEMO_BOND.isin} for 300000.00 KZT`);
    expect(lines.some((line) => line.includes("REVEALING -> CLAIMING_DT (foreign_claimed)"))).toBe(true);
    lines.length = 0;
    expect(await dvpCli.list.run(["--state", "SETTLED", "--limit", "1"], io(seller.apiKey))).toBe(0);
    expect(lines[0]).toContain(`${id}  SETTLED`);
    expect(lines.at(-1)).toMatch(/^next: /);
  }, 120_000);

  it("the README walk-through settles one DvP, as written (shell, npx tenge-gateway)", async () => {
    const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## DvP: tokenized securities against DT"));
    const block = /```sh\n([\s\S]*?)\n```/.exec(section)![1]!;
    const bondsBefore = await bonds(buyer.holding);
    const script = `${block.replaceAll("./.data/", `${dataDir}/`)}\necho "DVP_ID=$id"`;
    const { stdout } = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", script], {
      cwd: join(import.meta.dirname, "../.."),
      // As a shell would have it: no npm_* variables of the runner (npx inside npx refuses to run).
      env: { PATH: process.env["PATH"], HOME: process.env["HOME"], TENGE_GATEWAY_URL: gateway.url },
      timeout: 90_000,
    });
    const id = /DVP_ID=(dvp[0-9a-f]{24})/.exec(stdout)![1]!;
    let state = "";
    for (let attempt = 0; attempt < 300 && state !== "SETTLED"; attempt++) {
      state = String((await api(`/dvp/${id}`, { key: buyer.apiKey })).json()["state"]);
      if (state !== "SETTLED") await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(state).toBe("SETTLED");
    expect(await bonds(buyer.holding)).toBe(bondsBefore + 10n);
  }, 150_000);

  it("cancels a DvP before the reveal: both brokers told, nothing locked", async () => {
    const created = (await api("/dvp", { method: "POST", key: seller.apiKey, body: { ...trade(), side: "seller" } })).json();
    const id = String(created["id"]);
    const cancelled = await api(`/dvp/${id}/cancel`, { method: "POST", key: buyer.apiKey });
    expect(cancelled.status, cancelled.text).toBe(202);
    let detail: Record<string, unknown> = {};
    for (let attempt = 0; attempt < 100 && detail["state"] !== "REFUNDED"; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      detail = (await api(`/dvp/${id}`, { key: seller.apiKey })).json();
    }
    expect(detail["state"]).toBe("REFUNDED");
    expect((await api(`/dvp/${id}/affirm`, { method: "POST", key: buyer.apiKey, body: {} })).json()).toMatchObject({ code: "PVP_NOT_AFFIRMABLE" });
  }, 60_000);
});
