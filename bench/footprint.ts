/**
 * The embedded stack's footprint: `tenge-gateway start` (embedded) as a newcomer runs it, then the README's
 * journeys (a PvP on the chain's HTLC, a PvP with the foreign central bank's gateway, a mint, a redemption,
 * the collateral page), then the resident memory of every process it runs and their total, and the time from
 * the start of the process to a ready `/readyz`.
 * Prints one line per figure, then a JSON line `{"totalRssMb":N,"readySeconds":N,"processes":{...}}`.
 *
 *   npm run bench:footprint
 *   BENCH_FOOTPRINT_DETAIL=1 npm run bench:footprint     # also each process's largest mappings (smaps)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { httpDtLedger } from "../src/dt-ledger/http/client-adapter.ts";
import { evmChain } from "../src/evm/evm-chain.ts";
import { tengeStablecoinAbi } from "../src/evm/generated/contracts.ts";
import { ed25519PrivateKey } from "../src/identity/http-signature.ts";

interface Credentials {
  operator: { apiKey: string };
  bank: { apiKey: string };
  exchange: { apiKey: string; dtAccount: string; dtParticipant: string; dtParticipantSeed: string; evmPrivateKey: Hex };
  pvp: { counterparty: string; foreignLedger: string; foreignPayer: string; foreignBeneficiary: string; dtPayer: string; dtBeneficiary: string };
  peerPvp: { counterparty: string; foreignLedger: string; foreignPayer: string; foreignBeneficiary: string; foreignCurrency: string; dtPayer: string; dtBeneficiary: string };
  dtLedger: { url: string };
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resident set of a process, MB (VmRSS); undefined when it is gone. */
function rssMb(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((entry) => entry.startsWith("VmRSS:"));
    return line ? Number(line.split(/\s+/)[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time a process has used so far, seconds (user + system): a figure that load on the machine hardly moves. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The process and all its descendants, by pid, with their command lines. */
function processTree(root: number): Array<{ pid: number; command: string }> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: Array<{ pid: number; command: string }> = [];
  const visit = (pid: number) => {
    let command: string;
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    } catch {
      return;
    }
    out.push({ pid, command });
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return out;
}

/** The process's largest resident mappings (smaps): what kind of memory holds it (heap, anonymous, files). */
function largestMappings(pid: number): string[] {
  const mappings: Array<{ name: string; sizeMb: number; rssMb: number }> = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) mappings.push({ name: head[3] || "[anonymous]", sizeMb: (parseInt(head[2]!, 16) - parseInt(head[1]!, 16)) / 1048576, rssMb: 0 });
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && mappings.length > 0) mappings.at(-1)!.rssMb = Number(rss[1]) / 1024;
  }
  return mappings
    .filter((mapping) => mapping.rssMb >= 4)
    .sort((a, b) => b.rssMb - a.rssMb)
    .map((mapping) => `${mapping.rssMb.toFixed(0).padStart(5)} MB resident of ${mapping.sizeMb.toFixed(0).padStart(6)} MB mapped  ${mapping.name}`);
}

const dataDir = mkdtempSync(join(tmpdir(), "tg-bench-footprint-"));
const [port, peerPort, chainPort, dtPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
const env: NodeJS.ProcessEnv = {
  ...process.env,
  DATA_DIR: dataDir,
  PORT: String(port),
  EMBEDDED_PEER_PORT: String(peerPort),
  EMBEDDED_CHAIN_PORT: String(chainPort),
  EMBEDDED_DT_LEDGER_PORT: String(dtPort),
  LOG_LEVEL: "warn",
};
delete env["DATABASE_URL"];
const base = `http://127.0.0.1:${port}`;
const started = performance.now();
// The probe answers SIGUSR2 with the process's heap figures (V8 heap, external: WebAssembly memories and buffers).
const probeFile = join(dataDir, "memory.json");
env["BENCH_FOOTPRINT_PROBE_FILE"] = probeFile;
const child = spawn(process.execPath, ["--import", join(import.meta.dirname, "footprint-probe.ts"), join(import.meta.dirname, "../bin/tenge-gateway.js"), "start"], { env, stdio: ["ignore", "pipe", "pipe"] });
let output = "";
child.stdout.on("data", (chunk: Buffer) => void (output += chunk.toString()));
child.stderr.on("data", (chunk: Buffer) => void (output += chunk.toString()));
const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

async function api(path: string, key: string, init: { method?: string; body?: unknown } = {}): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${key}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + seconds * 1000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${seconds} s\n${output.slice(-4000)}`);
    await sleep(100);
  }
}

try {
  await until("ready", 600, async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined));
  const readySeconds = (performance.now() - started) / 1000;
  const readyCpuSeconds = cpuSeconds(child.pid!);
  console.log(`ready after ${readySeconds.toFixed(1)} s (${readyCpuSeconds.toFixed(1)} s of CPU; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`);
  const credentials = JSON.parse(readFileSync(join(dataDir, "demo-credentials.json"), "utf8")) as Credentials;
  const rssAtReady = processTree(child.pid!).reduce((sum, entry) => sum + (rssMb(entry.pid) ?? 0), 0);

  // ---- a PvP each way ---------------------------------------------------------------------------------
  const settle = async (name: string, leg: Credentials["pvp"] & { foreignCurrency?: string }) => {
    const created = await api("/pvp", credentials.bank.apiKey, {
      method: "POST",
      body: {
        counterpartyAgent: leg.counterparty,
        dtLeg: { payer: leg.dtPayer, beneficiary: leg.dtBeneficiary, amount: "15000.00", currency: "KZT" },
        foreignLeg: { ledger: leg.foreignLedger, payer: leg.foreignPayer, beneficiary: leg.foreignBeneficiary, amount: "120.00", currency: leg.foreignCurrency ?? "AED" },
      },
    });
    const t0 = performance.now();
    const state = await until(`${name} PvP settled`, 60, async () => {
      const view = await api(`/pvp/${String(created["id"])}`, credentials.bank.apiKey);
      return ["SETTLED", "REFUNDED", "REJECTED"].includes(String(view["state"])) ? String(view["state"]) : undefined;
    });
    if (state !== "SETTLED") throw new Error(`${name} PvP ended ${state}`);
    console.log(`PvP ${name}: settled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  await settle("on the chain's HTLC", credentials.pvp);
  await settle("with the foreign central bank's gateway", credentials.peerPvp);

  // ---- a mint: asked for, paid over the DT ledger service, minted by the workers --------------------------
  const exchange = credentials.exchange;
  const mint = await api("/stablecoin/mints", exchange.apiKey, { method: "POST", body: { amount: "2500.00" } });
  const payment = mint["payment"] as { toAccount: string };
  const dt = httpDtLedger({ baseUrl: credentials.dtLedger.url, participantId: exchange.dtParticipant, signingKey: ed25519PrivateKey(new Uint8Array(Buffer.from(exchange.dtParticipantSeed, "hex"))) });
  await dt.transfer({ idempotencyKey: `bench:footprint:${String(mint["id"])}`, from: exchange.dtAccount, to: payment.toAccount, amount: 250_000n, reference: String(mint["reference"]) });
  await until("mint minted", 60, async () => ((await api(`/stablecoin/mints/${String(mint["id"])}`, exchange.apiKey))["state"] === "minted" ? true : undefined));
  console.log("mint: minted");

  // ---- a redemption: the exchange burns on chain, the gateway pays it in DT ---------------------------------
  const rpcUrl = `http://127.0.0.1:${chainPort}`;
  const chainId = await createPublicClient({ transport: http(rpcUrl) }).getChainId();
  const chain = evmChain(chainId, rpcUrl);
  const tokenAddress = (JSON.parse(readFileSync(join(dataDir, "embedded", "deployments", `${chainId}.json`), "utf8")) as { contracts: { TengeStablecoin: { address: Address } } }).contracts.TengeStablecoin.address;
  const wallet = createWalletClient({ account: privateKeyToAccount(exchange.evmPrivateKey), chain, transport: http(rpcUrl) });
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });
  const burn = await wallet.writeContract({ address: tokenAddress, abi: tengeStablecoinAbi, functionName: "redeem", args: [100_000n, exchange.dtAccount] });
  await publicClient.waitForTransactionReceipt({ hash: burn });
  await until("redemption paid", 60, async () => {
    const page = await api("/stablecoin/redemptions", exchange.apiKey);
    return (page["items"] as Array<{ state: string }>).some((item) => item.state === "paid") ? true : undefined;
  });
  console.log("redemption: paid");

  // ---- the page and what it loads ------------------------------------------------------------------------
  for (const path of ["/collateral", "/collateral/assets/collateral.js", "/collateral/assets/verify-attestation.js", "/proof-of-collateral", "/proof-of-collateral/history"]) {
    const response = await fetch(`${base}${path}`);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    await response.arrayBuffer();
  }
  console.log("page: fetched");
  // Let the workers run a few more rounds, as a stack left open does.
  await sleep(3000);

  const processes: Record<string, number> = {};
  let totalRssMb = 0;
  for (const entry of processTree(child.pid!)) {
    const mb = rssMb(entry.pid);
    if (mb === undefined) continue;
    const name = entry.pid === child.pid ? "tenge-gateway start (embedded)" : `${entry.command.slice(0, 60)} (${entry.pid})`;
    processes[name] = Math.round(mb);
    totalRssMb += mb;
    console.log(`${name}: ${mb.toFixed(0)} MB resident`);
    if (process.env["BENCH_FOOTPRINT_DETAIL"]) for (const line of largestMappings(entry.pid)) console.log(`  ${line}`);
  }
  child.kill("SIGUSR2");
  const heap = await until("memory probe", 120, async () => JSON.parse(readFileSync(probeFile, "utf8")) as Record<string, unknown>);
  console.log(`gateway process, as V8 sees it (MB): ${JSON.stringify(heap)}`);
  console.log(`total: ${totalRssMb.toFixed(0)} MB resident after the journeys (${rssAtReady.toFixed(0)} MB at ready)`);
  console.log(JSON.stringify({ totalRssMb: Math.round(totalRssMb), readySeconds: Number(readySeconds.toFixed(1)), processes, readyCpuSeconds, rssAtReadyMb: Math.round(rssAtReady), gatewayHeapMb: heap }));
} finally {
  child.kill("SIGTERM");
  const code = await Promise.race([exited, sleep(20_000).then(() => "timeout" as const)]);
  if (code === "timeout") child.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
}
