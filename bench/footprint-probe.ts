/**
 * Loaded into the process bench/footprint.ts measures (`node --import`): on SIGUSR2 it writes where the
 * process's memory is, as V8 and Node see it, to the file named by BENCH_FOOTPRINT_PROBE_FILE.
 */
import { writeFileSync } from "node:fs";
import v8 from "node:v8";

const file = process.env["BENCH_FOOTPRINT_PROBE_FILE"];
if (file) {
  process.on("SIGUSR2", () => {
    const usage = process.memoryUsage();
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().filter((space) => space.physical_space_size > 1 << 20).map((space) => [space.space_name, Math.round(space.physical_space_size / 1048576)]));
    const mb = (bytes: number) => Math.round(bytes / 1048576);
    if (process.env["BENCH_FOOTPRINT_SNAPSHOT"]) v8.writeHeapSnapshot(process.env["BENCH_FOOTPRINT_SNAPSHOT"]);
    writeFileSync(file, JSON.stringify({ rss: mb(usage.rss), heapTotal: mb(usage.heapTotal), heapUsed: mb(usage.heapUsed), external: mb(usage.external), arrayBuffers: mb(usage.arrayBuffers), heapSpaces: spaces }));
  });
}
