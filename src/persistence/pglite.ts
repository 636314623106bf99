import { execFile } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { PGlite, types } from "@electric-sql/pglite";
import { CodedError } from "../core/errors.ts";
import { restrictToOwner } from "./data-directory.ts";
import { beginStatement, withRetries, type Database, type Queryable, type TransactionOptions } from "./database.ts";

export interface PgliteOptions {
  /** A directory for the data files, or `memory://` for a throw-away database. */
  dataDir: string;
}

/**
 * PGlite, PostgreSQL in-process. One connection, so transactions run one at a time; the same SQL and
 * migrations as PostgreSQL. A data directory can be opened by one process only.
 */
export async function openPglite(options: PgliteOptions): Promise<Database> {
  const inMemory = options.dataDir.startsWith("memory://");
  const unlock = inMemory ? () => {} : lockDirectory(options.dataDir);
  try {
    if (!inMemory) await initialiseOutOfProcess(options.dataDir);
  } catch (error) {
    unlock();
    throw error;
  }
  const pglite = await PGlite.create({
    dataDir: options.dataDir,
    parsers: { [types.INT8]: (value: string) => BigInt(value) },
    ...(await compiledPglite()),
    postgresqlconf: PGLITE_CONFIGURATION,
  });
  // Its files hold every secret at rest: owner-only, including the ones PGlite unpacked as 0666.
  if (!options.dataDir.startsWith("memory://")) restrictToOwner(options.dataDir);

  // PGlite has one session: a mutex keeps a transaction's statements from interleaving with others'.
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work);
    tail = run.catch(() => {});
    return run;
  };

  const run = async <Row>(sql: string, params?: readonly unknown[]) => {
    const result = await pglite.query<Row>(sql, params as unknown[] | undefined);
    // pg counts the rows a SELECT returns; PGlite reports only affected rows.
    return { rows: result.rows, rowCount: result.rows.length > 0 ? result.rows.length : (result.affectedRows ?? 0) };
  };

  const execute = async (sql: string) => void (await pglite.exec(sql));

  return {
    kind: "pglite",
    query: (sql, params) => exclusive(() => run(sql, params)),
    exec: (sql) => exclusive(() => execute(sql)),
    transaction<T>(work: (tx: Queryable) => Promise<T>, txOptions: TransactionOptions = {}) {
      return withRetries(
        () =>
          exclusive(async () => {
            await pglite.exec(beginStatement(txOptions.isolation));
            try {
              const result = await work({ query: run, exec: execute });
              await pglite.exec("COMMIT");
              return result;
            } catch (error) {
              await pglite.exec("ROLLBACK");
              throw error;
            }
          }),
        txOptions.retries ?? 5,
      );
    },
    close: () => exclusive(() => pglite.close()).finally(unlock),
  };
}

/**
 * PostgreSQL's defaults are sized for a server (128 MB of shared buffers, written through once at start);
 * an embedded database of one process is small and its files sit in the OS page cache anyway. Each
 * instance costs about 35 MB resident with these instead of about 150 MB.
 */
const PGLITE_CONFIGURATION = ["shared_buffers=16MB", "wal_buffers=1MB", "max_connections=8"];

/**
 * A directory without a cluster yet is initialised (initdb) by a child process, so initdb's garbage (about
 * 100 MB per instance, which the C allocator would keep resident) ends with it. The child compiles with
 * Liftoff only: it runs initdb once, so optimised code would cost more to compile than it saves.
 */
async function initialiseOutOfProcess(dataDir: string): Promise<void> {
  if (existsSync(join(dataDir, "PG_VERSION"))) return;
  const script = fileURLToPath(new URL("./pglite-initdb.ts", import.meta.url));
  // Flags that let this Node run TypeScript (older 22.x) are passed on; nothing else (inspectors, probes).
  const typeFlags = process.execArgv.filter((flag) => flag.startsWith("--experimental-strip-types") || flag.startsWith("--experimental-transform-types"));
  try {
    await promisify(execFile)(process.execPath, [...typeFlags, "--liftoff-only", script, dataDir], { maxBuffer: 1 << 20 });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new PgliteInitError(`could not initialise the embedded database in ${dataDir}: ${(stderr ?? String(error)).trim().split("\n").slice(-3).join(" ")}`);
  }
}

let compiled: Promise<{ pgliteWasmModule: WebAssembly.Module; initdbWasmModule: WebAssembly.Module }> | undefined;

/**
 * PGlite's WebAssembly modules, compiled once per process: every instance (the gateway's, the embedded
 * foreign gateway's, the tests') shares the machine code instead of compiling and holding its own copy.
 */
function compiledPglite() {
  compiled ??= (async () => {
    const directory = new URL(".", import.meta.resolve("@electric-sql/pglite"));
    const [pglite, initdb] = await Promise.all(["pglite.wasm", "initdb.wasm"].map((file) => readFile(new URL(file, directory)).then((bytes) => WebAssembly.compile(bytes))));
    return { pgliteWasmModule: pglite!, initdbWasmModule: initdb! };
  })();
  return compiled;
}

export class PgliteInitError extends CodedError<"PGLITE_INIT_FAILED"> {
  constructor(message: string) {
    super("PGLITE_INIT_FAILED", message);
  }
}

export class DataDirectoryInUseError extends CodedError<"DATA_DIR_IN_USE"> {
  constructor(message: string) {
    super("DATA_DIR_IN_USE", message);
  }
}

/**
 * PGlite files must never be opened by two processes at once: a lock file holds the owner's pid.
 * A lock left by a process that no longer runs is taken over.
 */
export function lockDirectory(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lockPath = join(dataDir, "tenge-gateway.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(lockPath, "utf8"));
      if (owner && isAlive(owner)) {
        throw new DataDirectoryInUseError(
          `the embedded database in ${dataDir} is held by process ${owner}; stop that process, use its operator API, or set DATABASE_URL`,
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new DataDirectoryInUseError(`could not lock ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
