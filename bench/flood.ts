/**
 * `npm run bench:flood`: `/healthz` and `/readyz` latency while one principal floods `/iso20022/validate`
 * with ~1 MB documents (issue 18 item 4), beside the same probes with no flood, in one run, alternating
 * quiet and flood phases so the machine's load touches both alike. The flooder is a separate process
 * (BENCH_FLOODERS concurrent requests, default 16); the gateway runs with its production limits (rate
 * limit, validation workers and queue). Prints one line per phase, then a JSON line with the probes'
 * p99 under flood, quiet, their ratio, the flooder's answers by status and the machine's load average.
 *
 *   npm run bench:flood
 *   BENCH_ROUNDS=3 BENCH_PHASE_SECONDS=4 BENCH_FLOODERS=16 npm run bench:flood
 */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { iso20022Routes } from "../src/iso20022/routes.ts";
import { pacs008Sample, sample } from "../test/iso20022/fixtures.ts";
import { createTestGateway } from "../test/support/gateway-app.ts";

if (process.argv[2] === "flooder") {
  // The flooding principal: as many requests in flight as it is allowed, until told to stop.
  const [url, key, inFlight] = [process.argv[3]!, process.argv[4]!, Number(process.argv[5])];
  // ~1 MB of real content: the sample's transaction repeated (each element parsed and checked).
  const base = sample(pacs008Sample);
  const [start, end] = [base.indexOf("<CdtTrfTxInf>"), base.lastIndexOf("</CdtTrfTxInf>") + "</CdtTrfTxInf>".length];
  const block = base.slice(start, end);
  const document = base.slice(0, start) + block.repeat(Math.floor(1_000_000 / block.length)) + base.slice(end);
  const statuses: Record<string, number> = {};
  let running = true;
  process.on("message", () => (running = false));
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (running) {
        const response = await fetch(`${url}/iso20022/validate`, { method: "POST", headers: { "content-type": "application/xml", authorization: `Bearer ${key}` }, body: document }).catch(() => undefined);
        const status = String(response?.status ?? "error");
        statuses[status] = (statuses[status] ?? 0) + 1;
        await response?.arrayBuffer().catch(() => undefined);
        // A refused flooder retries at once: the worst case for everyone else.
      }
    }),
  );
  process.send!(statuses);
  process.exit(0);
}

const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3);
const phaseMs = Number(process.env["BENCH_PHASE_SECONDS"] ?? 4) * 1000;
const flooders = Number(process.env["BENCH_FLOODERS"] ?? 16);

const gateway = await createTestGateway({ features: [iso20022Routes], bodyLimitBytes: 2 * 1024 * 1024 });
const url = await gateway.app.listen({ host: "127.0.0.1", port: 0 });
const key = (await gateway.identity.issueApiKey(await gateway.identity.createPrincipal("bank", "Flooding bank", "flooder"))).apiKey;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};
const round = (value: number) => Math.round(value * 100) / 100;

/** Probes /healthz and /readyz one after the other for `ms`, every 20 ms; latencies in ms. */
async function probe(ms: number): Promise<{ healthz: number[]; readyz: number[] }> {
  const healthz: number[] = [];
  const readyz: number[] = [];
  const until = performance.now() + ms;
  while (performance.now() < until) {
    for (const [path, into] of [["/healthz", healthz], ["/readyz", readyz]] as const) {
      const started = performance.now();
      const response = await fetch(`${url}${path}`);
      await response.arrayBuffer();
      into.push(performance.now() - started);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { healthz, readyz };
}

const quiet = { healthz: [] as number[], readyz: [] as number[] };
const flood = { healthz: [] as number[], readyz: [] as number[] };
const flooderStatuses: Record<string, number> = {};
try {
  for (let index = 0; index < rounds; index++) {
    const calm = await probe(phaseMs);
    quiet.healthz.push(...calm.healthz);
    quiet.readyz.push(...calm.readyz);

    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "flooder", url, key, String(flooders)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const done = new Promise<Record<string, number>>((resolve) => child.once("message", (statuses) => resolve(statuses as Record<string, number>)));
    // Let the flood build up before measuring.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const flooded = await probe(phaseMs);
    child.send("stop");
    for (const [status, count] of Object.entries(await done)) flooderStatuses[status] = (flooderStatuses[status] ?? 0) + count;
    flood.healthz.push(...flooded.healthz);
    flood.readyz.push(...flooded.readyz);
    console.log(
      JSON.stringify({
        round: index + 1,
        quietHealthzP99Ms: round(percentile(calm.healthz, 99)),
        floodHealthzP99Ms: round(percentile(flooded.healthz, 99)),
        quietReadyzP99Ms: round(percentile(calm.readyz, 99)),
        floodReadyzP99Ms: round(percentile(flooded.readyz, 99)),
        load: loadavg().map(round),
      }),
    );
  }
  const figures = {
    floodHealthzP99Ms: round(percentile(flood.healthz, 99)),
    floodHealthzMaxMs: round(Math.max(...flood.healthz)),
    floodReadyzP99Ms: round(percentile(flood.readyz, 99)),
    floodReadyzMaxMs: round(Math.max(...flood.readyz)),
    quietHealthzP99Ms: round(percentile(quiet.healthz, 99)),
    quietReadyzP99Ms: round(percentile(quiet.readyz, 99)),
    healthzP99Ratio: round(percentile(flood.healthz, 99) / percentile(quiet.healthz, 99)),
    probes: flood.healthz.length + flood.readyz.length,
    flooders,
    flooderAnswers: flooderStatuses,
    load: loadavg().map(round),
  };
  console.log(JSON.stringify(figures));
} finally {
  await gateway.close();
}
