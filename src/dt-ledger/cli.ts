import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join, resolve } from "node:path";
import { generatePrivateKey } from "viem/accounts";
import type { Hex } from "viem";
import { randomUUID } from "node:crypto";
import { CommandFailure, UsageError, type CommandIo, type CommandModule } from "../core/cli-command.ts";
import { bytes32Hex, readSecret } from "../config/secret.ts";
import { ed25519PrivateKey, listeningAuthorities } from "../identity/http-signature.ts";
import { formatKzt, parseKzt } from "../core/money.ts";
import { httpDtLedger } from "./http/client-adapter.ts";
import { ConfigError } from "../config/config.ts";
import type { Database } from "../persistence/database.ts";
import { DtLedgerError } from "../ledger/dt-ledger-port.ts";
import { ensurePrivateDirectory } from "../persistence/data-directory.ts";
import { describeConnectionProblem } from "../persistence/connection-problem.ts";
import { migrate } from "../persistence/migrations.ts";
import { openDatabase } from "../persistence/open.ts";
import { createLogger } from "../server/logger.ts";
import { loadDtLedgerDatabaseConfig, loadDtLedgerServiceConfig, refuseIgnoredServiceSettings, type DtLedgerServiceConfig } from "./config.ts";
import { seedDemoLedger } from "./demo.ts";
import { startEmbeddedDtLedger } from "./embedded.ts";
import { buildDtLedgerApp } from "./http/service.ts";
import { listParticipants, registerParticipant, revokeParticipant, type ParticipantRole } from "./participants.ts";
import { dtLedgerMigrations } from "./schema.ts";

/** What the participant commands read: only where the DT ledger's database is. */
const DATABASE_ENVIRONMENT = `Environment:
  DT_LEDGER_DATABASE_URL, else DATABASE_URL (PostgreSQL; neither = PGlite under DATA_DIR/dt-ledger)
  DATA_DIR (./.data)`;

const ENVIRONMENT = `Environment:
  DT_LEDGER_HOST (127.0.0.1), DT_LEDGER_PORT (8090)
  DT_LEDGER_DATABASE_URL, else DATABASE_URL (PostgreSQL; neither = PGlite under DATA_DIR/dt-ledger)
  DATA_DIR (./.data), DATABASE_POOL_SIZE (10), LOG_LEVEL (info)
  DT_LEDGER_OPERATOR_KEY  0x secp256k1 key that signs collateral statements, or DT_LEDGER_OPERATOR_KEY_FILE
                          (mode 0600); unset: statements are refused, except with --demo, which keeps a
                          generated key in DATA_DIR/dt-ledger-demo.json
  DT_LEDGER_SWEEP_INTERVAL_MS (1000)  how often expired holds are refunded
  SIGNATURE_MAX_SKEW_SECONDS (300)    accepted clock skew of signed requests
  DT_LEDGER_PUBLIC_URL                the service's URL as participants reach it; when set, a request
                                      signed for another host is refused (401 SIGNATURE_AUTHORITY)
  A gateway setting it would ignore (PORT, HOST, PUBLIC_URL, TENGE_CONFIG_FILE, EMBEDDED) or a misspelt
  one stops the start with one line naming the setting meant.`;

function parseFlags(args: string[], allowed: string[], booleans: string[] = []): Record<string, string | true> {
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const name = arg.replace(/^--/, "");
    if (!arg.startsWith("--") || ![...allowed, ...booleans].includes(name)) throw new UsageError(`unknown option "${arg}"; see --help`);
    if (booleans.includes(name)) {
      flags[name] = true;
      continue;
    }
    const value = args[++i];
    if (value === undefined) throw new UsageError(`${arg} needs a value`);
    flags[name] = value;
  }
  return flags;
}

async function openLedgerDatabase(config: Pick<DtLedgerServiceConfig, "databaseUrl" | "databaseUrlVariable" | "dataDir" | "databasePoolSize">): Promise<Database> {
  try {
    return await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize, name: "dt-ledger" });
  } catch (error) {
    if (config.databaseUrl) {
      throw new ConfigError(config.databaseUrlVariable, describeConnectionProblem(config.databaseUrl, error));
    }
    throw error;
  }
}

interface DemoFile {
  operatorKey: Hex;
  seeds: Record<string, string>;
}

function readDemoFile(file: string): DemoFile | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { operatorKey: Hex; participants: Record<string, { id: string; signingSeed: string }> };
  return { operatorKey: parsed.operatorKey, seeds: Object.fromEntries(Object.values(parsed.participants).map((p) => [p.id, p.signingSeed])) };
}

export const serve: CommandModule = {
  help: `Usage: npx tenge-gateway dt-ledger serve [--demo]

Runs the embedded Digital Tenge ledger as its own HTTP service (the way the gateway reaches the DT
platform): applies the dt_ledger migrations, refunds expired holds in the background, and serves the
signed participant API (RFC 9421 Ed25519 signatures, see docs/dt-ledger.md) until SIGTERM or SIGINT.

Options:
  --demo   register demo participants (NBK, two banks, the Treasury, the gateway) and accounts with
           balances; their signing seeds and the operator key go to DATA_DIR/dt-ledger-demo.json (mode 600)

${ENVIRONMENT}`,
  async run(args: string[], io: CommandIo): Promise<number> {
    const flags = parseFlags(args, [], ["demo"]);
    refuseIgnoredServiceSettings(io.env);
    const config = loadDtLedgerServiceConfig(io.env);
    const logger = createLogger(config.logLevel);
    const demoFile = resolve(join(config.dataDir, "dt-ledger-demo.json"));
    const earlier = flags["demo"] ? readDemoFile(demoFile) : undefined;
    const operatorKey = config.operatorKey ?? (flags["demo"] ? (earlier?.operatorKey ?? generatePrivateKey()) : undefined);
    ensurePrivateDirectory(config.dataDir);
    const db = await openLedgerDatabase(config);
    const embedded = await startEmbeddedDtLedger({
      db,
      ...(operatorKey ? { operatorKey } : {}),
      sweepIntervalMs: config.sweepIntervalMs,
      onSweepError: (error) => logger.error({ err: error, event: "dt_ledger.sweep_failed" }, "refunding expired holds failed"),
    });
    if (flags["demo"]) {
      const demo = await seedDemoLedger(embedded.ledger, earlier?.seeds);
      mkdirSync(config.dataDir, { recursive: true });
      writeFileSync(demoFile, `${JSON.stringify({ operatorKey, ...demo }, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value), 2)}\n`, { mode: 0o600 });
      chmodSync(demoFile, 0o600);
      io.out(`demo participants, accounts and keys: ${demoFile}`);
    }
    // Requests are bound to this service: DT_LEDGER_PUBLIC_URL's host, else the address it listens on.
    const authorities: string[] = config.publicUrl ? [new URL(config.publicUrl).host] : [];
    const app = await buildDtLedgerApp({
      ledger: embedded.ledger,
      logger,
      maxSkewSeconds: config.signatureMaxSkewSeconds,
      authorities,
    });
    const address = await app.listen({ host: config.host, port: config.port });
    if (!config.publicUrl) authorities.push(...listeningAuthorities(address));
    // The signal handlers are in place before "listening" is printed: whoever waits for that line may stop us at once.
    const stopped = new Promise<number>((resolveExit) => {
      const stop = () => {
        app
          .close()
          .then(() => embedded.stop())
          .then(() => db.close())
          .then(
            () => resolveExit(0),
            (error: unknown) => {
              logger.error({ err: error }, "shutdown failed");
              resolveExit(1);
            },
          );
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
    io.out(`DT ledger listening on ${address}`);
    io.out(
      embedded.ledger.operatorAddress
        ? `  statement signer   ${embedded.ledger.operatorAddress}`
        : "  statement signer   none: collateral statements are refused (STATEMENT_SIGNER_MISSING); set DT_LEDGER_OPERATOR_KEY_FILE",
    );
    io.out(`  health             ${address}/v1/health`);
    return stopped;
  },
};

const ROLES: ParticipantRole[] = ["central_bank", "bank", "treasury", "gateway"];

export const addParticipant: CommandModule = {
  help: `Usage: npx tenge-gateway dt-ledger participants add --id <BIC> --name <name> --role <role> [--public-key <hex>]

Registers a participant of the DT ledger, or replaces its name and signing key (its role never changes).
  --id          3-16 characters A-Z 0-9 (a BIC fits); also the key id of its request signatures
  --role        ${ROLES.join(" | ")}
  --public-key  raw Ed25519 public key, 64 hex digits; without it the participant cannot call over HTTP

${DATABASE_ENVIRONMENT}`,
  async run(args: string[], io: CommandIo): Promise<number> {
    const flags = parseFlags(args, ["id", "name", "role", "public-key"]);
    const [id, name, role] = [flags["id"], flags["name"], flags["role"]];
    if (typeof id !== "string" || typeof name !== "string" || typeof role !== "string") throw new UsageError("--id, --name and --role are required");
    if (!ROLES.includes(role as ParticipantRole)) throw new UsageError(`--role must be one of ${ROLES.join(", ")}`);
    const publicKey = flags["public-key"];
    if (publicKey !== undefined && (typeof publicKey !== "string" || !/^[0-9a-fA-F]{64}$/.test(publicKey))) {
      throw new UsageError("--public-key must be 64 hex digits (a raw Ed25519 public key)");
    }
    const db = await openLedgerDatabase(loadDtLedgerDatabaseConfig(io.env));
    try {
      await migrate(db, [dtLedgerMigrations]);
      await registerParticipant(db, {
        id,
        name,
        role: role as ParticipantRole,
        ...(typeof publicKey === "string" ? { publicKey: new Uint8Array(Buffer.from(publicKey, "hex")) } : {}),
      });
      io.out(`registered ${role} ${id}`);
      return 0;
    } finally {
      await db.close();
    }
  },
};

export const revokeParticipantCommand: CommandModule = {
  help: `Usage: npx tenge-gateway dt-ledger participants revoke --id <BIC>

Revokes a participant: every signed request with its key is refused (401 UNKNOWN_KEY) from the next one on.
Its accounts and history stay. \`participants add\` with a new key re-admits it.

${DATABASE_ENVIRONMENT}`,
  async run(args: string[], io: CommandIo): Promise<number> {
    const flags = parseFlags(args, ["id"]);
    const id = flags["id"];
    if (typeof id !== "string") throw new UsageError("--id is required");
    const db = await openLedgerDatabase(loadDtLedgerDatabaseConfig(io.env));
    try {
      await migrate(db, [dtLedgerMigrations]);
      await revokeParticipant(db, id).catch((error: unknown) => {
        throw error instanceof DtLedgerError ? new UsageError(error.message) : error;
      });
      io.out(`revoked ${id}`);
      return 0;
    } finally {
      await db.close();
    }
  },
};

export const listParticipantsCommand: CommandModule = {
  help: `Usage: npx tenge-gateway dt-ledger participants list

Lists the DT ledger's participants: id, role, whether a signing key is registered (or revoked), name.

${DATABASE_ENVIRONMENT}`,
  async run(args: string[], io: CommandIo): Promise<number> {
    parseFlags(args, []);
    const db = await openLedgerDatabase(loadDtLedgerDatabaseConfig(io.env));
    try {
      await migrate(db, [dtLedgerMigrations]);
      for (const participant of await listParticipants(db)) {
        const key = participant.revokedAt ? "revoked" : participant.publicKey ? "key" : "no key";
        io.out(`${participant.id.padEnd(16)} ${participant.role.padEnd(12)} ${key.padEnd(7)}  ${participant.name}`);
      }
      return 0;
    } finally {
      await db.close();
    }
  },
};


export const pay: CommandModule = {
  help: `Usage: npx tenge-gateway dt-ledger pay --from ACCOUNT --to ACCOUNT --amount 2500.00 [--reference TEXT]
         [--idempotency-key KEY] [--url URL] [--participant ID]

Pays from one of your participant's accounts over the DT ledger service's API, signed with the participant's
Ed25519 key (RFC 9421). An exchange pays its mint this way: --to the mint's payment.toAccount (the collateral intake), --reference the mint's
reference. Prints the receipt as JSON (amount in KZT). Run it again with the same --idempotency-key after a
failure: the ledger never applies one payment twice.

Environment:
  DT_LEDGER_URL              the DT ledger service (or --url)
  DT_LEDGER_PARTICIPANT      your participant id (or --participant)
  DT_LEDGER_SIGNING_KEY      your participant's 32-byte Ed25519 seed, hex; or DT_LEDGER_SIGNING_KEY_FILE
                             (a file of mode 0600 or stricter). Never printed.`,
  async run(args: string[], io: CommandIo): Promise<number> {
    const flags = parseFlags(args, ["from", "to", "amount", "reference", "idempotency-key", "url", "participant"]);
    const text = (name: string): string | undefined => (typeof flags[name] === "string" ? (flags[name] as string) : undefined);
    const from = text("from");
    const to = text("to");
    const amountText = text("amount");
    if (!from || !to || !amountText) throw new UsageError("--from, --to and --amount are required");
    let amount: bigint;
    try {
      amount = parseKzt(amountText);
    } catch (error) {
      throw new UsageError(`--amount: ${(error as Error).message}`);
    }
    if (amount <= 0n) throw new UsageError("--amount must be positive");
    const baseUrl = text("url") ?? io.env["DT_LEDGER_URL"];
    if (!baseUrl) throw new UsageError("the DT ledger's URL is needed: --url or DT_LEDGER_URL");
    const participantId = text("participant") ?? io.env["DT_LEDGER_PARTICIPANT"];
    if (!participantId) throw new UsageError("your participant id is needed: --participant or DT_LEDGER_PARTICIPANT");
    const seed = readSecret(io.env, "DT_LEDGER_SIGNING_KEY", bytes32Hex);
    if (!seed) throw new ConfigError("DT_LEDGER_SIGNING_KEY", "must hold your participant's Ed25519 seed (or DT_LEDGER_SIGNING_KEY_FILE)");
    const ledger = httpDtLedger({ baseUrl, participantId, signingKey: ed25519PrivateKey(seed) });
    try {
      const receipt = await ledger.transfer({ idempotencyKey: text("idempotency-key") ?? randomUUID(), from, to, amount, reference: text("reference") ?? "" });
      io.out(
        JSON.stringify({
          transactionId: receipt.transactionId,
          height: receipt.height.toString(),
          from: receipt.from,
          to: receipt.to,
          amount: formatKzt(receipt.amount),
          currency: "KZT",
          reference: receipt.reference,
          bookedAt: receipt.bookedAt.toISOString(),
        }),
      );
      return 0;
    } catch (error) {
      if (error instanceof DtLedgerError) throw new CommandFailure(error.code, error.message);
      throw error;
    }
  },
};
