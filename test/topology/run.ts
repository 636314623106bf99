/**
 * `npm run test:topology`: the product run the way an operator runs it, as separate OS processes started
 * through the CLI only (configured as docs/deploy.md says), on the local PostgreSQL server and a Hardhat
 * node. Ends with one JSON line of figures; exits non-zero when any of them is wrong. Every process and
 * database it started is cleaned up, also on failure or Ctrl+C. Logs: under the printed run directory,
 * kept (and their tails printed) on failure.
 *
 * TOPOLOGY_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the server.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSet } from "./databases.ts";
import { runJourney } from "./journey.ts";
import { ProcessGroup } from "./processes.ts";

const directory = mkdtempSync(join(tmpdir(), "tenge-topology-"));
const group = new ProcessGroup(directory);
const databases = new DatabaseSet(process.env["TOPOLOGY_POSTGRES_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres");

let cleaning: Promise<void> | undefined;
const cleanUp = () =>
  (cleaning ??= (async () => {
    await group.stopAll();
    await databases.dropAll();
  })());

// Ctrl+C or a CI timeout: stop the children and drop the databases before leaving.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    console.error(`topology: ${signal}, cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}
// Whatever else ends this process, no child outlives it.
process.once("exit", () => group.killAllNow());

console.error(`topology: run directory ${directory}`);
let status = 1;
try {
  const figures = await runJourney({ group, databases, directory, log: (line) => console.error(`topology: ${line}`) });
  console.log(JSON.stringify(figures.summary));
  for (const problem of figures.problems) console.error(`topology: WRONG ${problem}`);
  status = figures.problems.length === 0 ? 0 : 1;
} catch (error) {
  const cause = (error as { cause?: unknown }).cause;
  console.error(`topology: FAILED ${error instanceof Error ? (error.stack ?? error.message) : String(error)}${cause ? `\ncaused by ${String(cause)}` : ""}`);
} finally {
  if (status !== 0) console.error(`topology: process logs (kept in ${directory}):\n${group.tails()}`);
  await cleanUp().catch((error: unknown) => console.error(`topology: cleanup failed: ${String(error)}`));
  if (status === 0) rmSync(directory, { recursive: true, force: true });
}
process.exit(status);
