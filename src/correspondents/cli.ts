import { parseArgs } from "node:util";
import { UsageError, type CommandIo, type CommandModule } from "../core/cli-command.ts";
import { loadConfig } from "../config/config.ts";
import { CodedError } from "../core/errors.ts";
import type { Database } from "../persistence/database.ts";
import type { DatabaseCommand, DatabaseCommandIo } from "../persistence/database-command.ts";
import { readFileSync } from "node:fs";
import { fetchKeySet, KeySetError, parsePublishedKeySet } from "./published-keys.ts";
import { CorrespondentError, correspondentStore, correspondentToJson, limitOf, VALIDATION_PROFILES, type NewCorrespondent, type ValidationProfile } from "./store.ts";

/**
 * `tenge-gateway correspondents ...`: the directory of correspondents, written to the database of
 * DATABASE_URL, or with --gateway URL through the operator API of a running gateway (TENGE_API_KEY).
 */
const where = `Works on the database of DATABASE_URL (or the PGlite under DATA_DIR when no gateway runs on it; both
also from TENGE_CONFIG_FILE, the gateway's settings file);
with --gateway URL it calls the operator API of a running gateway with an operator key (--api-key or
TENGE_API_KEY). Running gateways pick up every change within seconds, without a restart. Prints JSON.`;

export const connection = { gateway: { type: "string" }, "api-key": { type: "string" } } as const;

interface Connection {
  gateway?: string | undefined;
  "api-key"?: string | undefined;
}

export async function viaDatabase<T>(io: DatabaseCommandIo, work: (db: Database) => Promise<T>): Promise<T> {
  const db = await io.openDatabase({ lasting: true });
  try {
    return await work(db);
  } catch (error) {
    if (error instanceof CorrespondentError || error instanceof KeySetError || error instanceof CodedError) throw new UsageError(`${error.code}: ${error.message}`);
    throw error;
  } finally {
    await db.close();
  }
}

export async function viaApi(io: CommandIo, values: Connection, method: string, path: string, body?: unknown): Promise<unknown> {
  const apiKey = values["api-key"] ?? io.env["TENGE_API_KEY"];
  if (!apiKey) throw new UsageError("an operator API key is required with --gateway: --api-key or TENGE_API_KEY");
  const response = await fetch(new URL(path, values.gateway), {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new UsageError(`${response.status} ${String(answer["code"])}: ${String(answer["message"])}`);
  return answer;
}

function oneBic(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new UsageError(`give exactly one BIC: ${usage}`);
  return positionals[0]!;
}

function profileOf(value: string | undefined): ValidationProfile | undefined {
  if (value === undefined) return undefined;
  if (!(VALIDATION_PROFILES as readonly string[]).includes(value)) throw new UsageError(`--profile must be one of ${VALIDATION_PROFILES.join(", ")}`);
  return value as ValidationProfile;
}

const editableOptions = {
  name: { type: "string" },
  "base-url": { type: "string" },
  "liquidity-account": { type: "string", multiple: true },
  "settlement-account": { type: "string" },
  "max-amount": { type: "string" },
  "max-amount-currency": { type: "string" },
  profile: { type: "string" },
} as const;

export const add: DatabaseCommand = {
  help: `Usage: npx tenge-gateway correspondents add --bic BIC --name NAME --base-url URL
         [--public-key HEX --key-id ID] [--liquidity-account ACCOUNT]... [--settlement-account ACCOUNT]
         [--max-amount 5000000.00 [--max-amount-currency KZT]] [--profile ${VALIDATION_PROFILES.join("|")}] [--gateway URL]

Adds a correspondent central bank: its BIC, name, the base URL of its gateway, optionally its first Ed25519
signing key (raw public key, hex), the accounts on our ledger that may pay when it instructs us, its own
account on our ledger that those legs pay (without it, its instructions are refused with AG01), the largest
PvP leg it may instruct (decimal, 2 decimals) and the validation profile of its messages (default cbpr+).
${where}`,
  async run(args, io) {
    const { values } = parseArgs({ args, options: { bic: { type: "string" }, ...editableOptions, "public-key": { type: "string" }, "key-id": { type: "string" }, ...connection }, strict: true });
    if (!values.bic || !values.name || !values["base-url"]) throw new UsageError("--bic, --name and --base-url are required");
    if (Boolean(values["public-key"]) !== Boolean(values["key-id"])) throw new UsageError("--public-key and --key-id go together");
    const keys = values["public-key"] ? [{ keyId: values["key-id"]!, publicKey: values["public-key"] }] : [];
    const profile = profileOf(values.profile);
    const body = {
      bic: values.bic,
      name: values.name,
      baseUrl: values["base-url"],
      ...(values["liquidity-account"] ? { liquidityAccounts: values["liquidity-account"] } : {}),
      ...(values["settlement-account"] ? { settlementAccount: values["settlement-account"] } : {}),
      ...(values["max-amount"] ? { maxAmount: values["max-amount"] } : {}),
      ...(values["max-amount-currency"] ? { maxAmountCurrency: values["max-amount-currency"] } : {}),
      ...(profile ? { validationProfile: profile } : {}),
      ...(keys.length > 0 ? { signingKeys: keys } : {}),
    };
    if (values.gateway) {
      io.out(JSON.stringify(await viaApi(io, values, "POST", "/operator/correspondents", body)));
      return 0;
    }
    return viaDatabase(io, async (db) => {
      const { maxAmount, maxAmountCurrency, ...rest } = body;
      const record = await correspondentStore.add(db, { ...rest, ...limitOf(maxAmount, maxAmountCurrency) } as NewCorrespondent);
      io.out(JSON.stringify(correspondentToJson(record)));
      return 0;
    });
  },
};

export const list: DatabaseCommand = {
  help: `Usage: npx tenge-gateway correspondents list [--gateway URL]

Prints one JSON line per correspondent (signing keys as public keys).
${where}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, options: connection, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.gateway) {
      const answer = (await viaApi(io, values, "GET", "/operator/correspondents")) as { items: unknown[] };
      for (const item of answer.items) io.out(JSON.stringify(item));
      return 0;
    }
    return viaDatabase(io, async (db) => {
      for (const record of await correspondentStore.list(db)) io.out(JSON.stringify(correspondentToJson(record)));
      return 0;
    });
  },
};

export const show: DatabaseCommand = {
  help: `Usage: npx tenge-gateway correspondents show BIC [--gateway URL]

Prints one correspondent as JSON.
${where}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, options: connection, strict: true, allowPositionals: true });
    const bic = oneBic(positionals, "correspondents show BIC");
    if (values.gateway) {
      io.out(JSON.stringify(await viaApi(io, values, "GET", `/operator/correspondents/${encodeURIComponent(bic)}`)));
      return 0;
    }
    return viaDatabase(io, async (db) => {
      io.out(JSON.stringify(correspondentToJson(await correspondentStore.require(db, bic))));
      return 0;
    });
  },
};

export const update: DatabaseCommand = {
  help: `Usage: npx tenge-gateway correspondents update BIC [--name NAME] [--base-url URL] [--liquidity-account ACCOUNT]...
         [--settlement-account ACCOUNT|none] [--max-amount 5000000.00|none [--max-amount-currency KZT]] [--profile ${VALIDATION_PROFILES.join("|")}] [--gateway URL]

Changes a correspondent; --liquidity-account replaces the whole list; --max-amount none removes the limit;
--max-amount-currency names the limit's currency (KZT by default; its ISO 4217 decimals apply).
${where}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, options: { ...editableOptions, ...connection }, strict: true, allowPositionals: true });
    const bic = oneBic(positionals, "correspondents update BIC [options]");
    const profile = profileOf(values.profile);
    const maxAmount = values["max-amount"] === undefined ? undefined : values["max-amount"] === "none" ? null : values["max-amount"];
    const body = {
      ...(values.name ? { name: values.name } : {}),
      ...(values["base-url"] ? { baseUrl: values["base-url"] } : {}),
      ...(values["liquidity-account"] ? { liquidityAccounts: values["liquidity-account"] } : {}),
      ...(values["settlement-account"] ? { settlementAccount: values["settlement-account"] === "none" ? null : values["settlement-account"] } : {}),
      ...(maxAmount !== undefined ? { maxAmount } : {}),
      ...(values["max-amount-currency"] ? { maxAmountCurrency: values["max-amount-currency"] } : {}),
      ...(profile ? { validationProfile: profile } : {}),
    };
    if (Object.keys(body).length === 0) throw new UsageError("nothing to change; see --help");
    if (values.gateway) {
      io.out(JSON.stringify(await viaApi(io, values, "PATCH", `/operator/correspondents/${encodeURIComponent(bic)}`, body)));
      return 0;
    }
    return viaDatabase(io, async (db) => {
      const { maxAmount: decimal, maxAmountCurrency, ...rest } = body;
      const record = await correspondentStore.update(db, bic, { ...rest, ...limitOf(decimal, maxAmountCurrency) });
      io.out(JSON.stringify(correspondentToJson(record)));
      return 0;
    });
  },
};

export const addKey: DatabaseCommand = {
  help: `Usage: npx tenge-gateway correspondents keys add BIC --public-key HEX --key-id ID [--gateway URL]

Registers another Ed25519 signing key of a correspondent (rotation: add the new key, then revoke the old one).
${where}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, options: { "public-key": { type: "string" }, "key-id": { type: "string" }, ...connection }, strict: true, allowPositionals: true });
    const bic = oneBic(positionals, "correspondents keys add BIC --public-key HEX --key-id ID");
    if (!values["public-key"] || !values["key-id"]) throw new UsageError("--public-key and --key-id are required");
    const key = { keyId: values["key-id"], publicKey: values["public-key"] };
    if (values.gateway) {
      io.out(JSON.stringify(await viaApi(io, values, "POST", `/operator/correspondents/${encodeURIComponent(bic)}/keys`, key)));
      return 0;
    }
    return viaDatabase(io, async (db) => {
      io.out(JSON.stringify(correspondentToJson(await correspondentStore.addKey(db, bic, key))));
      return 0;
    });
  },
};

export const revokeKey: DatabaseCommand = {
  help: `Usage: npx tenge-gateway correspondents keys revoke BIC KEY_ID [--gateway URL]

Revokes one signing key of a correspondent: requests signed with it are refused from the next one on.
${where}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, options: connection, strict: true, allowPositionals: true });
    if (positionals.length !== 2) throw new UsageError("give BIC and KEY_ID");
    const [bic, keyId] = positionals as [string, string];
    if (values.gateway) {
      io.out(JSON.stringify(await viaApi(io, values, "POST", `/operator/correspondents/${encodeURIComponent(bic)}/keys/${encodeURIComponent(keyId)}/revoke`)));
      return 0;
    }
    return viaDatabase(io, async (db) => {
      io.out(JSON.stringify(correspondentToJson(await correspondentStore.revokeKey(db, bic, keyId))));
      return 0;
    });
  },
};

function statusCommand(action: "suspend" | "activate"): DatabaseCommand {
  return {
    help: `Usage: npx tenge-gateway correspondents ${action} BIC [--gateway URL]

${action === "suspend" ? "Suspends a correspondent: its messages are refused until it is activated again." : "Makes a suspended correspondent active again."}
${where}`,
    async run(args, io) {
      const { values, positionals } = parseArgs({ args, options: connection, strict: true, allowPositionals: true });
      const bic = oneBic(positionals, `correspondents ${action} BIC`);
      if (values.gateway) {
        io.out(JSON.stringify(await viaApi(io, values, "POST", `/operator/correspondents/${encodeURIComponent(bic)}/${action}`)));
        return 0;
      }
      return viaDatabase(io, async (db) => {
        io.out(JSON.stringify(correspondentToJson(await correspondentStore.setStatus(db, bic, action === "suspend" ? "suspended" : "active"))));
        return 0;
      });
    },
  };
}

export const suspend = statusCommand("suspend");
export const activate = statusCommand("activate");

export const pinKeys: DatabaseCommand = {
  help: `Usage: npx tenge-gateway correspondents keys pin BIC [--file KEYSET.json] [--gateway URL]

Pins the signing keys a correspondent publishes: fetched from its <baseUrl>/iso20022/keys (or read from
--file, the same JSON). Its next and active keys verify from now on, a retiring key until its validUntil,
a retired key and every key the set no longer lists not at all. A key id pinned with another public key is
refused (KEY_SET_KEY_CHANGED) and nothing changes. Run it again at each rotation the correspondent announces.
${where}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, options: { file: { type: "string" }, ...connection }, strict: true, allowPositionals: true });
    const bic = oneBic(positionals, "correspondents keys pin BIC");
    let given: unknown;
    if (values.file) {
      try {
        given = JSON.parse(readFileSync(values.file, "utf8"));
      } catch (error) {
        throw new UsageError(`--file must name a JSON key set: ${(error as Error).message}`);
      }
    }
    if (values.gateway) {
      io.out(JSON.stringify(await viaApi(io, values, "POST", `/operator/correspondents/${encodeURIComponent(bic)}/keys/pin`, given === undefined ? {} : { keySet: given })));
      return 0;
    }
    return viaDatabase(io, async (db) => {
      const current = await correspondentStore.require(db, bic);
      const set = given === undefined ? await fetchKeySet(current.baseUrl, bic) : parsePublishedKeySet(given, bic);
      io.out(JSON.stringify(correspondentToJson(await correspondentStore.pinKeys(db, bic, set))));
      return 0;
    });
  },
};

export const ourKeys: CommandModule = {
  help: `Usage: npx tenge-gateway correspondents keys ours [--gateway URL]

Prints the key set our gateway publishes at GET /iso20022/keys (public, no API key): our BIC, and each
message signing key's id, raw public key (hex), validity and status (next, active, retiring, retired). This is
what a correspondent pins. Asks the gateway at --gateway URL (default PUBLIC_URL, else http://HOST:PORT).`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, options: { gateway: { type: "string" } }, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const config = loadConfig(io.env);
    const base = values.gateway ?? config.publicUrl ?? `http://${config.host}:${config.port}`;
    const url = new URL("iso20022/keys", base.endsWith("/") ? base : `${base}/`);
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      throw new UsageError(`no gateway answers at ${url.href} (${(error as Error).message}): start it, or give --gateway URL`);
    }
    if (response.status === 404) throw new UsageError(`${url.href}: 404, PvP with correspondents is off on that gateway (PVP_AGENT_BIC, PVP_SIGNING_KEY)`);
    if (!response.ok) throw new UsageError(`${url.href}: HTTP ${response.status}`);
    io.out(JSON.stringify(await response.json()));
    return 0;
  },
};
