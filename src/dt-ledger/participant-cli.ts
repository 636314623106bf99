import { randomUUID } from "node:crypto";
import { CommandFailure, UsageError, type CommandIo, type CommandModule } from "../core/cli-command.ts";
import { ConfigError } from "../config/config.ts";
import { bytes32Hex, readSecret } from "../config/secret.ts";
import { ed25519PrivateKey } from "../identity/http-signature.ts";
import { ACCOUNT_KINDS, DtLedgerError } from "../ledger/dt-ledger-port.ts";
import { formatKzt, parseKzt } from "../core/money.ts";
import { httpDtLedger } from "./http/client-adapter.ts";

/**
 * The one-time administration of a DT ledger (open accounts, issue and redeem DT as the central bank) as signed
 * calls of a participant to the DT ledger service: the ledger decides who may do what (only the NBK issues).
 */
export const SIGNED_ENVIRONMENT = `Environment:
  DT_LEDGER_URL              the DT ledger service (or --url)
  DT_LEDGER_PARTICIPANT      your participant id (or --participant)
  DT_LEDGER_SIGNING_KEY      your participant's 32-byte Ed25519 seed, hex; or DT_LEDGER_SIGNING_KEY_FILE
                             (a file of mode 0600 or stricter; \`keys generate --type ed25519\` makes one). Never printed.`;

export type Flags = Record<string, string | true>;

export function parseFlags(args: string[], allowed: string[]): Flags {
  const flags: Flags = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const name = arg.replace(/^--/, "");
    if (!arg.startsWith("--") || !allowed.includes(name)) throw new UsageError(`unknown option "${arg}"; see --help`);
    const value = args[++i];
    if (value === undefined) throw new UsageError(`${arg} needs a value`);
    flags[name] = value;
  }
  return flags;
}

const textOf = (flags: Flags, name: string): string | undefined => (typeof flags[name] === "string" ? (flags[name] as string) : undefined);

/** A client signed as the participant of --participant / DT_LEDGER_PARTICIPANT, at --url / DT_LEDGER_URL. */
export function signedLedger(flags: Flags, io: CommandIo) {
  const baseUrl = textOf(flags, "url") ?? io.env["DT_LEDGER_URL"];
  if (!baseUrl) throw new UsageError("the DT ledger's URL is needed: --url or DT_LEDGER_URL");
  const participantId = textOf(flags, "participant") ?? io.env["DT_LEDGER_PARTICIPANT"];
  if (!participantId) throw new UsageError("your participant id is needed: --participant or DT_LEDGER_PARTICIPANT");
  const seed = readSecret(io.env, "DT_LEDGER_SIGNING_KEY", bytes32Hex);
  if (!seed) throw new ConfigError("DT_LEDGER_SIGNING_KEY", "must hold your participant's Ed25519 seed (or DT_LEDGER_SIGNING_KEY_FILE)");
  return httpDtLedger({ baseUrl, participantId, signingKey: ed25519PrivateKey(seed) });
}

/** A positive KZT amount with at most 2 decimals, as tiyn. */
export function amountOf(flags: Flags): bigint {
  const raw = textOf(flags, "amount");
  if (!raw) throw new UsageError("--amount is required (KZT, e.g. 2500.00)");
  let amount: bigint;
  try {
    amount = parseKzt(raw);
  } catch (error) {
    throw new UsageError(`--amount: ${(error as Error).message}`);
  }
  if (amount <= 0n) throw new UsageError("--amount must be positive");
  return amount;
}

/** Refusals of the ledger (403 FORBIDDEN_OPERATION, ...) are one line with the ledger's code; the network's too. */
async function calling<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DtLedgerError) throw new CommandFailure(error.code, error.message);
    throw error;
  }
}

const COMMON = ["url", "participant", "idempotency-key"];

export const openAccount: CommandModule = {
  help: `Usage: npx tenge-gateway dt-ledger accounts open --kind KIND --holder NAME [--idempotency-key KEY]
         [--url URL] [--participant ID]

Opens a digital account serviced by your participant and prints it as JSON ({"id": "DA-...", ...}).
  --kind    ${ACCOUNT_KINDS.join(" | ")}
            The gateway's participant opens the segregated wallet (--kind segregated_wallet) that backs the
            stablecoin; give its id to \`contracts deploy --segregated-account\`. A bank opens its customers'
            accounts (individual, legal_entity, exchange); the Treasury opens government_agency accounts.
  --holder  the holder's name, up to 140 characters
Run it again with the same --idempotency-key after a failure: the ledger opens one account per key.

${SIGNED_ENVIRONMENT}`,
  async run(args: string[], io: CommandIo): Promise<number> {
    const flags = parseFlags(args, ["kind", "holder", ...COMMON]);
    const kind = textOf(flags, "kind");
    const holderName = textOf(flags, "holder");
    if (!kind || !holderName) throw new UsageError("--kind and --holder are required");
    if (!(ACCOUNT_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be one of ${ACCOUNT_KINDS.join(", ")}`);
    const ledger = signedLedger(flags, io);
    const account = await calling(() =>
      ledger.openAccount({ idempotencyKey: textOf(flags, "idempotency-key") ?? randomUUID(), kind: kind as (typeof ACCOUNT_KINDS)[number], holderName }),
    );
    io.out(JSON.stringify({ id: account.id, kind: account.kind, holderName: account.holderName, participantId: account.participantId }));
    return 0;
  },
};

function conversion(operation: "issue" | "redeem"): CommandModule {
  const path = operation === "issue" ? "/v1/issuances" : "/v1/redemptions";
  return {
    help: `Usage: npx tenge-gateway dt-ledger ${operation} --account ACCOUNT --amount 1000000.00 [--reference TEXT]
         [--idempotency-key KEY] [--url URL] [--participant ID]

${operation === "issue" ? "Issues new DT into an account (money creation)" : "Redeems DT from an account (money destruction)"}: the central bank's
participant only (any other gets FORBIDDEN_OPERATION). --amount is in KZT with at most 2 decimals (1 KZT = 100 tiyn).
Prints the receipt as JSON. Run it again with the same --idempotency-key after a failure: the ledger never
applies one ${operation} twice.

${SIGNED_ENVIRONMENT}`,
    async run(args: string[], io: CommandIo): Promise<number> {
      const flags = parseFlags(args, ["account", "amount", "reference", ...COMMON]);
      const accountId = textOf(flags, "account");
      if (!accountId) throw new UsageError("--account is required");
      const amount = amountOf(flags);
      const ledger = signedLedger(flags, io);
      const receipt = (await calling(() =>
        ledger.request("POST", path, {
          idempotencyKey: textOf(flags, "idempotency-key") ?? randomUUID(),
          accountId,
          amount: amount.toString(),
          reference: textOf(flags, "reference") ?? `${operation} by CLI`,
        }),
      )) as Record<string, unknown>;
      io.out(JSON.stringify({ ...receipt, amount: formatKzt(BigInt(String(receipt["amount"]))), currency: "KZT" }));
      return 0;
    },
  };
}

export const issue = conversion("issue");
export const redeem = conversion("redeem");

export const balance: CommandModule = {
  help: `Usage: npx tenge-gateway dt-ledger balance --account ACCOUNT [--url URL] [--participant ID]

Prints an account's balance as JSON: available and held, in KZT, at a ledger height. Any participant may
read the accounts it services.

${SIGNED_ENVIRONMENT}`,
  async run(args: string[], io: CommandIo): Promise<number> {
    const flags = parseFlags(args, ["account", "url", "participant"]);
    const accountId = textOf(flags, "account");
    if (!accountId) throw new UsageError("--account is required");
    const ledger = signedLedger(flags, io);
    const result = await calling(() => ledger.balance(accountId));
    io.out(JSON.stringify({ accountId: result.accountId, available: formatKzt(result.available), held: formatKzt(result.held), currency: "KZT", height: result.height.toString() }));
    return 0;
  },
};
