/**
 * Throughput of the embedded DT ledger: transfers/s and hold+release pairs/s, on PostgreSQL and on PGlite,
 * in-process and over HTTP on loopback (signed requests). Prints one line per figure, then a JSON line.
 *
 *   npm run bench:ledger                 # PostgreSQL at DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test
 *   BENCH_SECONDS=5 BENCH_WORKERS=8 npm run bench:ledger
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { httpDtLedger } from "../src/dt-ledger/http/client-adapter.ts";
import { buildDtLedgerApp } from "../src/dt-ledger/http/service.ts";
import { inProcessDtLedger } from "../src/dt-ledger/in-process-adapter.ts";
import { DtLedger } from "../src/dt-ledger/ledger.ts";
import { dtLedgerMigrations } from "../src/dt-ledger/schema.ts";
import { ed25519PrivateKey, generateEd25519 } from "../src/identity/http-signature.ts";
import type { DtLedgerPort } from "../src/ledger/dt-ledger-port.ts";
import type { Database } from "../src/persistence/database.ts";
import { migrate } from "../src/persistence/migrations.ts";
import { openPglite } from "../src/persistence/pglite.ts";
import { openPostgres } from "../src/persistence/postgres.ts";

const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 3);
const WORKERS = Number(process.env["BENCH_WORKERS"] ?? 8);
const PAYERS = Math.max(1, Math.floor(WORKERS / 2));
const TOKENS_PER_PAYER = 40;
const BANK = "BENCHBANK";
const NBK = "NBRKKZKX";

interface Figures {
  transfersPerSecond: number;
  holdReleasePerSecond: number;
}

async function withPostgres<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const serverUrl = process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";
  const name = `tg_bench_${randomBytes(4).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await openPostgres({ connectionString: url.toString(), poolSize: WORKERS + 2 });
  try {
    return await work(db);
  } finally {
    await db.close();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

async function prepare(db: Database) {
  await migrate(db, [dtLedgerMigrations]);
  const ledger = new DtLedger({ db });
  const bankKey = generateEd25519();
  await ledger.registerParticipant({ id: NBK, name: "National Bank of Kazakhstan", role: "central_bank" });
  await ledger.registerParticipant({ id: BANK, name: "Bench Bank", role: "bank", publicKey: bankKey.publicKey });
  const accounts: string[] = [];
  for (let i = 0; i < PAYERS + 1; i++) {
    const account = await ledger.openAccount(BANK, { idempotencyKey: randomUUID(), kind: "individual", holderName: `Bench ${i}` });
    // Many tokens per payer, so concurrent payments from one account take different tokens (SKIP LOCKED).
    for (let t = 0; t < TOKENS_PER_PAYER; t++) {
      await ledger.issue(NBK, { idempotencyKey: randomUUID(), accountId: account.id, amount: 100_000_000n, reference: "bench" });
    }
    accounts.push(account.id);
  }
  return { ledger, accounts, bankSeed: bankKey.seed };
}

/** Runs `operation` in WORKERS loops for SECONDS and returns completed operations per second. */
async function rate(operation: (worker: number) => Promise<void>): Promise<number> {
  const deadline = Date.now() + SECONDS * 1000;
  let done = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async (_unused, worker) => {
      while (Date.now() < deadline) {
        await operation(worker);
        done++;
      }
    }),
  );
  return Math.round((done / ((Date.now() - started) / 1000)) * 10) / 10;
}

async function measure(port: DtLedgerPort, accounts: string[]): Promise<Figures> {
  const payer = (worker: number) => accounts[worker % PAYERS]!;
  const payee = (worker: number) => accounts[(worker % PAYERS) + 1]!;
  const transfersPerSecond = await rate(async (worker) => {
    await port.transfer({ idempotencyKey: randomUUID(), from: payer(worker), to: payee(worker), amount: 100n, reference: "bench" });
  });
  const holdReleasePerSecond = await rate(async (worker) => {
    const secret = randomBytes(32);
    const hold = await port.hold({
      idempotencyKey: randomUUID(),
      from: payer(worker),
      beneficiary: payee(worker),
      amount: 100n,
      condition: { hashLock: `0x${createHash("sha256").update(secret).digest("hex")}` },
      expiresAt: new Date(Date.now() + 3_600_000),
      reference: "bench",
    });
    await port.release({ idempotencyKey: randomUUID(), holdId: hold.id, preimage: `0x${secret.toString("hex")}` });
  });
  return { transfersPerSecond, holdReleasePerSecond };
}

async function benchEngine(db: Database): Promise<{ inProcess: Figures; http: Figures }> {
  const { ledger, accounts, bankSeed } = await prepare(db);
  const inProcess = await measure(inProcessDtLedger(ledger, BANK), accounts);
  const app = await buildDtLedgerApp({ ledger });
  await app.listen({ host: "127.0.0.1", port: 0 });
  try {
    const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const http = await measure(httpDtLedger({ baseUrl, participantId: BANK, signingKey: ed25519PrivateKey(bankSeed) }), accounts);
    return { inProcess, http };
  } finally {
    await app.close();
  }
}

const results: Record<string, { inProcess: Figures; http: Figures }> = {};
results["postgres"] = await withPostgres(benchEngine);
const pglite = await openPglite({ dataDir: "memory://" });
try {
  results["pglite"] = await benchEngine(pglite);
} finally {
  await pglite.close();
}

console.log(`DT ledger throughput: ${WORKERS} concurrent callers, ${PAYERS} payer accounts, ${SECONDS} s per figure`);
for (const [engine, modes] of Object.entries(results)) {
  for (const [mode, figures] of Object.entries(modes)) {
    console.log(
      `${engine.padEnd(8)} ${mode.padEnd(9)} transfers/s ${String(figures.transfersPerSecond).padStart(8)}   hold+release/s ${String(figures.holdReleasePerSecond).padStart(8)}`,
    );
  }
}
console.log(JSON.stringify({ bench: "ledger", workers: WORKERS, seconds: SECONDS, results }));
