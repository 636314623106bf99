import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Fastify from "fastify";
import { Registry } from "prom-client";
import { createWalletClient, http, type Hex } from "viem";
import { privateKeyToAccount, privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { inProcessDtLedger } from "../../src/dt-ledger/in-process-adapter.ts";
import { httpDtLedger } from "../../src/dt-ledger/http/client-adapter.ts";
import { ed25519PrivateKey } from "../../src/identity/http-signature.ts";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { MintWorker, requestMint } from "../../src/stablecoin/mint-flow.ts";
import { TokenChain } from "../../src/stablecoin/token-chain.ts";
import { stablecoinFaultOf } from "../../src/stablecoin/operator-faults.ts";
import { mintRows } from "../../src/stablecoin/store.ts";
import { createLogger } from "../../src/server/logger.ts";
import { installHealth } from "../../src/server/health.ts";
import { WorkerFaults } from "../../src/server/worker-faults.ts";
import { createStablecoinWorld, GATEWAY, type StablecoinWorld } from "../stablecoin/support.ts";

/** A logger whose lines the test reads. */
function recordingLogger() {
  const lines: Array<{ level: number; msg: string; code?: string }> = [];
  const logger = createLogger("info", { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe("worker faults", () => {
  it("log once per interval while they last, show in /readyz and a metric, and clear on progress", async () => {
    let now = 0;
    const { logger, lines } = recordingLogger();
    const metrics = new Registry();
    const faults = new WorkerFaults({ logger, metrics, logIntervalMs: 60_000, now: () => now });
    const noGas = { code: "NO_GAS", reason: "the minter 0xabc has too little native currency for gas: fund it" };
    for (let poll = 0; poll < 66; poll++) {
      faults.report("minter", noGas);
      now += 500;
    }
    expect(lines.filter((line) => line.code === "NO_GAS")).toHaveLength(1);
    now += 60_000;
    faults.report("minter", noGas);
    expect(lines.filter((line) => line.code === "NO_GAS")).toHaveLength(2);
    await expect(faults.readiness().check()).rejects.toThrow("minter: NO_GAS: the minter 0xabc has too little native currency for gas: fund it");
    expect(await metrics.metrics()).toContain('tenge_gateway_worker_fault{worker="minter",code="NO_GAS"} 1');
    faults.clear("minter");
    await expect(faults.readiness().check()).resolves.toBeUndefined();
    expect(await metrics.metrics()).toContain('tenge_gateway_worker_fault{worker="minter",code="NO_GAS"} 0');
    expect(lines.at(-1)?.msg).toBe("minter progresses again (was NO_GAS)");
  });
});

describe("GET /readyz with a worker fault", () => {
  it("answers 503 naming the worker, the code and the fix, and 200 once it clears", async () => {
    const faults = new WorkerFaults({ logger: recordingLogger().logger });
    const app = Fastify();
    installHealth(app, () => [{ name: "database", check: async () => {} }, faults.readiness("stablecoin-workers")]);
    await app.ready();
    try {
      faults.report("minter", { code: "MINTER_ALLOWANCE_SPENT", reason: "the minter 0xabc has spent its mint allowance: the master minter raises it (configureMinter)" });
      const degraded = await app.inject({ method: "GET", url: "/readyz" });
      expect(degraded.statusCode).toBe(503);
      expect(degraded.json()).toMatchObject({
        ready: false,
        checks: [
          { name: "database", ok: true },
          { name: "stablecoin-workers", ok: false, reason: "minter: MINTER_ALLOWANCE_SPENT: the minter 0xabc has spent its mint allowance: the master minter raises it (configureMinter)" },
        ],
      });
      faults.clear("minter");
      expect((await app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe("a minter without gas on a real EVM (EDR)", () => {
  let world: StablecoinWorld;
  beforeAll(async () => {
    world = await createStablecoinWorld();
  });
  afterAll(() => world.close());

  it("keeps the mint signed with failure code NO_GAS, degrades readiness with the fix, and mints once funded", async () => {
    const minter = privateKeyToAddress(world.minterKey);
    const faults = new WorkerFaults({ logger: recordingLogger().logger });
    const worker = new MintWorker({
      db: world.db,
      ledger: world.gatewayLedger,
      chain: world.tokenChain,
      settings: world.mintSettings,
      faultOf: (error) => stablecoinFaultOf(error, { minter, rpcUrl: world.chain.rpcUrl }),
      onFault: (fault) => (fault ? faults.report("minter", fault) : faults.clear("minter")),
      faultRetryMs: 0,
    });
    const balance = await world.rpc<string>("eth_getBalance", [minter, "latest"]);
    await world.rpc("hardhat_setBalance", [minter, "0x0"]);
    const supply = await world.supply();
    const request = await requestMint(world.db, world.exchange, 25_000n);
    await world.deposit(request.reference, 25_000n);
    await world.follower().step();
    expect(await worker.step()).toBe("signed");
    expect(await worker.step()).toBe("retry");
    const stuck = await mintRows.get(world.db, request.id);
    expect(stuck).toMatchObject({ state: "signed", failureCode: "NO_GAS" });
    expect(stuck?.failureMessage).toBe(`the minter ${minter} has too little native currency for gas: fund it`);
    await expect(faults.readiness().check()).rejects.toThrow(`minter: NO_GAS: the minter ${minter} has too little native currency for gas: fund it`);
    expect(await world.supply()).toBe(supply);

    await world.rpc("hardhat_setBalance", [minter, balance]);
    await worker.drain();
    expect(await mintRows.get(world.db, request.id)).toMatchObject({ state: "minted", failureCode: null });
    await expect(faults.readiness().check()).resolves.toBeUndefined();
    expect(await world.supply()).toBe(supply + 25_000n);
  });
});

/** A JSON-RPC endpoint in front of the EVM node that can be taken down (the node "stops") and brought back on its port. */
async function switchableRpc(target: string) {
  let server: Server | undefined;
  let port = 0;
  const open = async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        void fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) })
          .then(async (answer) => response.writeHead(answer.status, { "content-type": "application/json" }).end(await answer.text()))
          .catch(() => response.destroy());
      });
    });
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  };
  await open();
  return {
    url: () => `http://127.0.0.1:${port}`,
    down: () => new Promise<void>((resolve) => { server!.closeAllConnections(); server!.close(() => resolve()); }),
    up: open,
  };
}

describe("each operator-fixable fault of the minter on a real EVM (EDR): failure code, /readyz, metric, recovery", () => {
  let world: StablecoinWorld;
  beforeAll(async () => {
    world = await createStablecoinWorld();
  });
  afterAll(() => world.close());

  /** A mint worker wired as the stablecoin component wires it, with its own faults, metrics and log. */
  const minterWith = (overrides: { chain?: TokenChain; ledger?: StablecoinWorld["gatewayLedger"]; rpcUrl?: string } = {}) => {
    const metrics = new Registry();
    const { logger, lines } = recordingLogger();
    const faults = new WorkerFaults({ logger, metrics });
    const minter = privateKeyToAddress(world.minterKey);
    const worker = new MintWorker({
      db: world.db,
      ledger: overrides.ledger ?? world.gatewayLedger,
      chain: overrides.chain ?? world.tokenChain,
      settings: world.mintSettings,
      faultOf: (error) => stablecoinFaultOf(error, { minter, rpcUrl: overrides.rpcUrl ?? world.chain.rpcUrl }),
      onFault: (fault) => (fault ? faults.report("minter", fault) : faults.clear("minter")),
      faultRetryMs: 0,
    });
    return { worker, faults, metrics, lines, minter };
  };
  const depositedMint = async (amount: bigint) => {
    const request = await requestMint(world.db, world.exchange, amount);
    await world.deposit(request.reference, amount);
    await world.follower().step();
    return request;
  };
  const setAllowance = async (allowance: bigint) => {
    const owner = createWalletClient({ account: privateKeyToAccount(world.operatorKey as Hex), chain: world.tokenChain.client.chain!, transport: http(world.chain.rpcUrl) });
    const hash = await owner.writeContract({ address: world.token, abi: tengeStablecoinAbi, functionName: "configureMinter", args: [privateKeyToAddress(world.minterKey), allowance] });
    await world.tokenChain.client.waitForTransactionReceipt({ hash });
  };

  it("MINTER_ALLOWANCE_SPENT: nothing is signed or sent (no gas burnt) until the master minter raises the allowance", async () => {
    const { worker, faults, metrics, lines, minter } = minterWith();
    await setAllowance(1_000n);
    const supply = await world.supply();
    const nonce = await world.tokenChain.nonce("pending");
    const request = await depositedMint(25_000n);
    for (let poll = 0; poll < 5; poll++) expect(await worker.step()).toBe("retry");
    const reason = `the minter ${minter} has spent its mint allowance: the master minter raises it (configureMinter)`;
    expect(await mintRows.get(world.db, request.id)).toMatchObject({ state: "deposited", failureCode: "MINTER_ALLOWANCE_SPENT", failureMessage: reason });
    await expect(faults.readiness().check()).rejects.toThrow(`minter: MINTER_ALLOWANCE_SPENT: ${reason}`);
    expect(await metrics.metrics()).toContain('tenge_gateway_worker_fault{worker="minter",code="MINTER_ALLOWANCE_SPENT"} 1');
    expect(lines.filter((line) => line.code === "MINTER_ALLOWANCE_SPENT")).toHaveLength(1);
    expect(await world.tokenChain.nonce("pending")).toBe(nonce);

    await setAllowance(10n ** 30n);
    await worker.drain();
    expect(await mintRows.get(world.db, request.id)).toMatchObject({ state: "minted", failureCode: null, failureMessage: null });
    await expect(faults.readiness().check()).resolves.toBeUndefined();
    expect(await metrics.metrics()).toContain('tenge_gateway_worker_fault{worker="minter",code="MINTER_ALLOWANCE_SPENT"} 0');
    expect(await world.supply()).toBe(supply + 25_000n);
  });

  it("RPC_UNREACHABLE: the EVM node's endpoint goes down; the mint waits with the code and mints once it is back", async () => {
    const rpc = await switchableRpc(world.chain.rpcUrl);
    const chain = await TokenChain.connect({ rpcUrl: rpc.url(), token: world.token, minterKey: world.minterKey, pollingIntervalMs: 50 });
    const { worker, faults, metrics, lines } = minterWith({ chain, rpcUrl: rpc.url() });
    const supply = await world.supply();
    const request = await depositedMint(12_500n);
    await rpc.down();
    for (let poll = 0; poll < 3; poll++) expect(await worker.step()).toBe("retry");
    const reason = `the EVM node at ${rpc.url()} does not answer: start it or fix STABLECOIN_RPC_URL`;
    expect(await mintRows.get(world.db, request.id)).toMatchObject({ state: "deposited", failureCode: "RPC_UNREACHABLE", failureMessage: reason });
    await expect(faults.readiness().check()).rejects.toThrow(`minter: RPC_UNREACHABLE: ${reason}`);
    expect(await metrics.metrics()).toContain('tenge_gateway_worker_fault{worker="minter",code="RPC_UNREACHABLE"} 1');
    expect(lines.filter((line) => line.code === "RPC_UNREACHABLE")).toHaveLength(1);

    await rpc.up();
    await worker.drain();
    expect(await mintRows.get(world.db, request.id)).toMatchObject({ state: "minted", failureCode: null });
    await expect(faults.readiness().check()).resolves.toBeUndefined();
    expect(await world.supply()).toBe(supply + 12_500n);
    await rpc.down();
  });

  it("STATEMENT_SIGNER_MISSING: a DT ledger without an operator key; the mint waits with the code and mints once the ledger signs", async () => {
    const unsigned = inProcessDtLedger(new DtLedger({ db: world.db }), GATEWAY);
    const { worker, faults, metrics } = minterWith({ ledger: unsigned });
    const supply = await world.supply();
    const request = await depositedMint(5_000n);
    expect(await worker.step()).toBe("retry");
    const reason = "the DT ledger signs no collateral statements: start dt-ledger serve with DT_LEDGER_OPERATOR_KEY_FILE";
    expect(await mintRows.get(world.db, request.id)).toMatchObject({ state: "deposited", failureCode: "STATEMENT_SIGNER_MISSING", failureMessage: reason });
    await expect(faults.readiness().check()).rejects.toThrow(`minter: STATEMENT_SIGNER_MISSING: ${reason}`);
    expect(await metrics.metrics()).toContain('tenge_gateway_worker_fault{worker="minter",code="STATEMENT_SIGNER_MISSING"} 1');

    // The operator restarts the DT ledger with its key: the same request goes through.
    const signed = minterWith();
    await signed.worker.drain();
    expect(await mintRows.get(world.db, request.id)).toMatchObject({ state: "minted", failureCode: null });
    expect(await world.supply()).toBe(supply + 5_000n);
    await expect(signed.faults.readiness().check()).resolves.toBeUndefined();
  });

  it("DT_LEDGER_UNREACHABLE: the DT ledger service does not answer; the mint waits with the code and mints once it does", async () => {
    const rpc = await switchableRpc(world.chain.rpcUrl);
    const closed = rpc.url();
    await rpc.down(); // nothing listens there any more: a DT ledger service that is not running
    const unreachable = httpDtLedger({ baseUrl: closed, participantId: GATEWAY, signingKey: ed25519PrivateKey(new Uint8Array(32).fill(7)) });
    const { worker, faults, metrics } = minterWith({ ledger: unreachable });
    const supply = await world.supply();
    const request = await depositedMint(2_500n);
    expect(await worker.step()).toBe("retry");
    const stuck = await mintRows.get(world.db, request.id);
    expect(stuck).toMatchObject({ state: "deposited", failureCode: "DT_LEDGER_UNREACHABLE" });
    expect(stuck?.failureMessage).toBe(`DT ledger at ${closed} unreachable (ECONNREFUSED): start the DT ledger service or fix DT_LEDGER_URL`);
    await expect(faults.readiness().check()).rejects.toThrow(`minter: DT_LEDGER_UNREACHABLE: DT ledger at ${closed} unreachable (ECONNREFUSED)`);
    expect(await metrics.metrics()).toContain('tenge_gateway_worker_fault{worker="minter",code="DT_LEDGER_UNREACHABLE"} 1');

    await minterWith().worker.drain();
    expect(await mintRows.get(world.db, request.id)).toMatchObject({ state: "minted", failureCode: null });
    expect(await world.supply()).toBe(supply + 2_500n);
  });
});
