import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type AddressInfo } from "node:net";
import { promisify } from "node:util";
import { createPublicClient, http, type Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.ts";
import { listenOn } from "../../src/gateway/serve.ts";
import { demoForeignCbdcAbi, tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { eventually } from "../stablecoin/support.ts";
import { startGateway, type RunningGateway } from "../../src/gateway/run.ts";
import { httpDtLedger } from "../../src/dt-ledger/http/client-adapter.ts";
import { ed25519PrivateKey } from "../../src/identity/http-signature.ts";

interface Credentials {
  restart: string;
  operator: { apiKey: string };
  exchange: { apiKey: string; dtAccount: string; dtParticipant: string; dtParticipantSeed: string };
  peerPvp: {
    counterparty: string;
    foreignLedger: string;
    foreignPayer: string;
    foreignBeneficiary: string;
    foreignCurrency: string;
    dtPayer: string;
    dtBeneficiary: string;
    foreignCbdc: Address;
    nbkGatewayUrl: string;
    nbkAccountOnForeignLedger: Address;
    foreignCentralBank: { bic: string; gatewayUrl: string; keyId: string; signingSeed: string; accountOnForeignLedger: Address };
  };
  dtLedger: { url: string; accounts: Record<string, { id: string }> };
}

/**
 * `npm start` as a complete little world: the NBK gateway, the foreign central bank's gateway beside it
 * (same composition root, its own database and server, an HTLC on the embedded chain as its ledger), and
 * the DT ledger served over HTTP. Free ports throughout.
 */
describe("the embedded world: NBK gateway, foreign central bank's gateway, DT ledger over HTTP", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tg-embedded-world-"));
  const env = { DATA_DIR: dataDir, PORT: "0", EMBEDDED_CHAIN_PORT: "0", EMBEDDED_PEER_PORT: "0", EMBEDDED_DT_LEDGER_PORT: "0", LOG_LEVEL: "silent", PVP_POLL_INTERVAL_MS: "100" };
  let gateway: RunningGateway;
  let credentials: Credentials;
  let pvpId = "";
  const readCredentials = () => JSON.parse(readFileSync(join(dataDir, "demo-credentials.json"), "utf8")) as Credentials;

  beforeAll(async () => {
    gateway = await startGateway(loadConfig(env), { env });
    credentials = readCredentials();
  }, 180_000);

  afterAll(async () => {
    await gateway?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const api = async (path: string, init: { method?: string; body?: unknown; key?: string } = {}) => {
    const response = await fetch(`${gateway.url}${path}`, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${init.key ?? credentials.operator.apiKey}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };

  it("settles a peer PvP with the foreign central bank over signed ISO 20022: DT on the DT ledger, the foreign CBDC on the chain", async () => {
    const peer = credentials.peerPvp;
    expect(peer).toMatchObject({ counterparty: "FCBKAEAD", foreignLedger: "peer:FCBKAEAD", foreignPayer: "FCBKAEAD", foreignBeneficiary: "NBRKKZKX" });
    const dt = gateway.embedded!.dtLedger;
    const nbk = gateway.embedded!.demo.participants.nbk.id;
    const chain = createPublicClient({ transport: http(gateway.embedded!.chain.rpcUrl) });
    const erc20 = (account: Address) => chain.readContract({ address: peer.foreignCbdc, abi: demoForeignCbdcAbi, functionName: "balanceOf", args: [account] });
    const payerBefore = (await dt.balance(nbk, peer.dtPayer)).available;
    const beneficiaryBefore = (await dt.balance(nbk, peer.dtBeneficiary)).available;
    const foreignPayerBefore = await erc20(peer.foreignCentralBank.accountOnForeignLedger);
    const nbkAccountBefore = await erc20(peer.nbkAccountOnForeignLedger);

    const created = await api("/pvp", {
      method: "POST",
      body: {
        counterpartyAgent: peer.counterparty,
        dtLeg: { payer: peer.dtPayer, beneficiary: peer.dtBeneficiary, amount: "15000.00", currency: "KZT" },
        foreignLeg: { ledger: peer.foreignLedger, payer: peer.foreignPayer, beneficiary: peer.foreignBeneficiary, amount: "120.00", currency: peer.foreignCurrency },
      },
    });
    expect(created.status, created.text).toBe(201);
    const id = String(created.json()["id"]);
    let view = created.json();
    for (let attempt = 0; attempt < 300 && !["SETTLED", "REFUNDED", "REJECTED"].includes(String(view["state"])); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      view = (await api(`/pvp/${id}`)).json();
    }
    expect(view["state"]).toBe("SETTLED");
    // Both ledgers read directly: the DT moved on the DT ledger, the dirhams on the chain.
    expect((await dt.balance(nbk, peer.dtPayer)).available).toBe(payerBefore - 1_500_000n);
    expect((await dt.balance(nbk, peer.dtBeneficiary)).available).toBe(beneficiaryBefore + 1_500_000n);
    expect(await erc20(peer.foreignCentralBank.accountOnForeignLedger)).toBe(foreignPayerBefore - 12_000n);
    expect(await erc20(peer.nbkAccountOnForeignLedger)).toBe(nbkAccountBefore + 12_000n);
    // The foreign side is another gateway with its own record of the PvP, reached over signed messages.
    const received = (view["messages"] as Array<{ direction: string; summary: Record<string, unknown> }>).filter((message) => message.direction === "in").map((message) => message.summary["status"]);
    expect(received).toEqual(expect.arrayContaining(["ACSP", "ACSC"]));
    const foreignRows = await gateway.peer!.db.query<{ state: string; role: string }>("SELECT state, role FROM pvp");
    expect(foreignRows.rows).toEqual([{ state: "SETTLED", role: "responder" }]);
    pvpId = id;
  });

  it("lets a newcomer post a message signed as the foreign central bank (examples/post-signed-message.ts, docs/pvp.md)", async () => {
    // As docs/pvp.md shows: the foreign gateway's ACSP, fetched from the PvP, posted again by hand.
    const xml = await fetch(`${gateway.url}/pvp/${pvpId}/messages/${pvpId}-AP`, { headers: { authorization: `Bearer ${credentials.operator.apiKey}` } });
    expect(xml.status).toBe(200);
    const file = join(dataDir, "acsp.xml");
    writeFileSync(file, await xml.text());
    const script = join(import.meta.dirname, "../../examples/post-signed-message.ts");
    const { stdout } = await promisify(execFile)(process.execPath, [script, file, dataDir], { timeout: 30_000 });
    expect(stdout).toMatch(/^202 \{"status":"duplicate"/);
    // Unsigned, the same bytes are refused.
    const unsigned = await fetch(credentials.peerPvp.nbkGatewayUrl + "/iso20022/inbound", { method: "POST", headers: { "content-type": "application/xml" }, body: readFileSync(file) });
    expect(unsigned.status).toBe(401);
  });

  it("gives a second correspondent all it needs; examples/first-pvp.ts settles a PvP as it (docs/iso20022-pvp-profile.md, First PvP in 15 minutes)", async () => {
    const mine = (readCredentials() as unknown as { correspondent: Record<string, string> & { nbk: { bic: string; inboundUrl: string; keysUrl: string; keys: { agent: string } } } }).correspondent;
    expect(mine).toMatchObject({ bic: "DEMOGB2L", liquidityBalance: "10000000.00", nbk: { bic: "NBRKKZKX", inboundUrl: `${gateway.url}/iso20022/inbound`, keysUrl: `${gateway.url}/iso20022/keys`, keys: { agent: "NBRKKZKX" } } });
    const ledger = gateway.embedded!.dtLedger;
    const nbk = "NBRKKZKX";
    expect((await ledger.balance(nbk, mine["liquidityAccount"]!)).available).toBe(1_000_000_000n);
    // The published keys are those in the file, and the ones our messages verify with (the example checks).
    expect(await (await fetch(mine.nbk.keysUrl)).json()).toEqual(mine.nbk.keys);
    // Point the directory at a free port for "your gateway", as step 3 does with the CLI.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    expect((await api("/operator/correspondents/DEMOGB2L", { method: "PATCH", body: { baseUrl } })).status).toBe(200);
    const script = join(import.meta.dirname, "../../examples/first-pvp.ts");
    const { stdout } = await promisify(execFile)(process.execPath, [script, dataDir, baseUrl], { timeout: 120_000 });
    expect(stdout).toContain("ACSP: ACSP");
    expect(stdout).toContain("ACSC: ACSC");
    expect((await ledger.balance(nbk, mine["settlementAccount"]!)).available).toBe(100_000n);
    expect((await ledger.balance(nbk, mine["liquidityAccount"]!)).available).toBe(1_000_000_000n - 100_000n);
  }, 150_000);

  it("runs the stablecoin on two chains with different chain ids, with the demo mint on each and the proof of collateral served", async () => {
    const chains = await api("/stablecoin/chains", { key: credentials.exchange.apiKey });
    expect((chains.json()["items"] as Array<{ chainId: number }>).map((chain) => chain.chainId)).toEqual([31337, 31338]);
    const minted = await eventually(async () => {
      const items = (await api("/stablecoin/mints?state=minted")).json()["items"] as Array<{ chainId: number; amount: string }>;
      return items.length >= 2 ? items : undefined;
    }, "the demo mints on both chains", 60_000);
    const demoMints = minted.map((mint) => [mint.chainId, mint.amount]).sort();
    expect(demoMints).toEqual([[31337, "1000000.00"], [31338, "500000.00"]]);
    const second = createPublicClient({ transport: http(gateway.embedded!.secondChain.rpcUrl) });
    expect(await second.getChainId()).toBe(31338);
    const token = gateway.embedded!.secondDeployment.contracts.TengeStablecoin.address;
    expect(await second.readContract({ address: token, abi: tengeStablecoinAbi, functionName: "totalSupply" })).toBe(50_000_000n);
    expect((await api("/proof-of-collateral")).status).toBe(200);
  });

  it("serves the DT ledger over HTTP: the exchange's bank pays with the participant key from the credentials file", async () => {
    const exchange = credentials.exchange;
    const ledger = httpDtLedger({ baseUrl: credentials.dtLedger.url, participantId: exchange.dtParticipant, signingKey: ed25519PrivateKey(new Uint8Array(Buffer.from(exchange.dtParticipantSeed, "hex"))) });
    const before = (await ledger.balance(exchange.dtAccount)).available;
    const mint = await api("/stablecoin/mints", { method: "POST", body: { amount: "10.00" }, key: exchange.apiKey });
    expect(mint.status, mint.text).toBe(201);
    await ledger.transfer({
      idempotencyKey: "test:http-pay",
      from: exchange.dtAccount,
      to: String((mint.json()["payment"] as Record<string, string>)["toAccount"]),
      amount: 1_000n,
      reference: String(mint.json()["reference"]),
    });
    expect((await ledger.balance(exchange.dtAccount)).available).toBe(before - 1_000n);
    // A participant may not pay from an account another participant services.
    const other = httpDtLedger({ baseUrl: credentials.dtLedger.url, participantId: exchange.dtParticipant, signingKey: ed25519PrivateKey(new Uint8Array(Buffer.from(exchange.dtParticipantSeed, "hex"))) });
    await expect(other.transfer({ idempotencyKey: "test:not-mine", from: credentials.dtLedger.accounts["daniyar"]!.id, to: exchange.dtAccount, amount: 1n, reference: "x" })).rejects.toMatchObject({ code: "FORBIDDEN_ACCOUNT" });
  });

  it("keeps the demo keys across a restart: the same operator, exchange and foreign central bank keys work again", async () => {
    expect(statSync(join(dataDir, "demo-credentials.json")).mode & 0o777).toBe(0o600);
    expect(credentials.restart).toMatch(/^restart: the embedded demo starts fresh/);
    await gateway.close();
    gateway = await startGateway(loadConfig(env), { env });
    const again = readCredentials();
    expect(again.operator.apiKey).toBe(credentials.operator.apiKey);
    expect(again.exchange.apiKey).toBe(credentials.exchange.apiKey);
    expect(again.exchange.dtParticipantSeed).toBe(credentials.exchange.dtParticipantSeed);
    expect(again.peerPvp.foreignCentralBank.signingSeed).toBe(credentials.peerPvp.foreignCentralBank.signingSeed);
    // A correspondent that pinned our key and registered its own keeps both: the NBK signs with the same key.
    const correspondentOf = (file: Credentials) => (file as unknown as { correspondent: { signingSeed: string; nbk: { keys: unknown } } }).correspondent;
    expect(correspondentOf(again).signingSeed).toBe(correspondentOf(credentials).signingSeed);
    expect(correspondentOf(again).nbk.keys).toEqual(correspondentOf(credentials).nbk.keys);
    credentials = again;
    expect((await api("/operator/principals")).status).toBe(200);
    expect((await api("/stablecoin/mints", { method: "POST", body: { amount: "1.00" }, key: again.exchange.apiKey })).status).toBe(201);
    // Fresh state: the PvP of the previous run is gone with the in-memory chain.
    expect((await api("/pvp")).json()["items"]).toEqual([]);
  }, 180_000);
});

describe("a port of the embedded world already taken", () => {
  it("is one line naming the setting, with the code EADDRINUSE, never a stack trace", async () => {
    const { createServer } = await import("node:net");
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    const app = (await import("fastify")).default();
    try {
      await expect(listenOn(app, "127.0.0.1", port, "EMBEDDED_PEER_PORT")).rejects.toThrow(
        new ConfigError("EMBEDDED_PEER_PORT", `127.0.0.1:${port} is in use (EADDRINUSE): stop what listens there or choose another port (0 picks a free one)`),
      );
    } finally {
      await app.close();
      taken.close();
    }
  });
});
