import { parseArgs } from "node:util";
import { CommandFailure, UsageError, type CommandIo, type CommandModule } from "../core/cli-command.ts";

/**
 * `tenge-gateway pvp create|show|list`: the PvP API of a running gateway from the shell. The engine runs
 * in the gateway; these commands only call its HTTP API with a bank or operator API key.
 */
const connection = `Connection: --url (or TENGE_GATEWAY_URL, default http://127.0.0.1:8080) and --api-key (or TENGE_API_KEY,
a bank or operator API key).`;

const connectionOptions = {
  url: { type: "string" },
  "api-key": { type: "string" },
} as const;

export async function call(io: CommandIo, values: { url?: string | undefined; "api-key"?: string | undefined }, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const base = values.url ?? io.env["TENGE_GATEWAY_URL"] ?? "http://127.0.0.1:8080";
  const apiKey = values["api-key"] ?? io.env["TENGE_API_KEY"];
  if (!apiKey) throw new UsageError("an API key is required: --api-key or TENGE_API_KEY");
  const url = new URL(path, base);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw CommandFailure.unreachable("gateway", base, error);
  }
  const answer = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (answer === undefined) throw new CommandFailure("NOT_A_GATEWAY", `${url.href} answered ${response.status} without JSON; is --url a tenge-gateway?`);
  if (!response.ok) throw new CommandFailure(String(answer["code"]), `${String(answer["message"])} (HTTP ${response.status})`);
  return answer;
}

function legLine(label: string, leg: unknown): string {
  if (leg === null || typeof leg !== "object") return `${label}: -`;
  const value = leg as Record<string, string | null>;
  return `${label}: ${value["amount"]} ${value["currency"]} ${value["payer"]} -> ${value["beneficiary"]} on ${value["ledger"]}, expires ${value["expiresAt"]}, ref ${value["reference"] ?? "-"}`;
}

export const create: CommandModule = {
  help: `Usage: npx tenge-gateway pvp create --counterparty BIC --dt-payer DA --dt-beneficiary DA --dt-amount 15000.00
         --foreign-ledger LEDGER --foreign-payer ID --foreign-beneficiary ID --foreign-amount 120.00 --foreign-currency CCY
         [--dt-expires ISO] [--foreign-expires ISO]

Creates a PvP as initiator (the gateway draws the secret): the DT leg is held first, the foreign leg
(LEDGER: evm, or peer:<BIC> for a correspondent's gateway) is locked, claimed with the secret, then the
DT leg is released. Prints the PvP as JSON.
${connection}`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        ...connectionOptions,
        counterparty: { type: "string" },
        "dt-payer": { type: "string" },
        "dt-beneficiary": { type: "string" },
        "dt-amount": { type: "string" },
        "dt-expires": { type: "string" },
        "foreign-ledger": { type: "string" },
        "foreign-payer": { type: "string" },
        "foreign-beneficiary": { type: "string" },
        "foreign-amount": { type: "string" },
        "foreign-currency": { type: "string" },
        "foreign-expires": { type: "string" },
      },
    });
    const required = ["counterparty", "dt-payer", "dt-beneficiary", "dt-amount", "foreign-ledger", "foreign-payer", "foreign-beneficiary", "foreign-amount", "foreign-currency"] as const;
    const missing = required.filter((name) => values[name] === undefined);
    if (missing.length > 0) throw new UsageError(`missing --${missing.join(", --")}`);
    const pvp = await call(io, values, "POST", "/pvp", {
      counterpartyAgent: values.counterparty,
      dtLeg: { payer: values["dt-payer"], beneficiary: values["dt-beneficiary"], amount: values["dt-amount"], currency: "KZT", ...(values["dt-expires"] ? { expiresAt: values["dt-expires"] } : {}) },
      foreignLeg: {
        ledger: values["foreign-ledger"],
        payer: values["foreign-payer"],
        beneficiary: values["foreign-beneficiary"],
        amount: values["foreign-amount"],
        currency: values["foreign-currency"],
        ...(values["foreign-expires"] ? { expiresAt: values["foreign-expires"] } : {}),
      },
    });
    io.out(JSON.stringify(pvp, null, 2));
    return 0;
  },
};

export const show: CommandModule = {
  help: `Usage: npx tenge-gateway pvp show ID [--json]

Prints a PvP: its state, both legs, and the timeline of every transition, ledger command and message.
${connection}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...connectionOptions, json: { type: "boolean" } } });
    if (positionals.length !== 1) throw new UsageError("give exactly one PvP id");
    const pvp = await call(io, values, "GET", `/pvp/${encodeURIComponent(positionals[0]!)}`);
    if (values.json) {
      io.out(JSON.stringify(pvp, null, 2));
      return 0;
    }
    io.out(`${String(pvp["id"])}  ${String(pvp["state"])}  ${String(pvp["role"])}  uetr ${String(pvp["uetr"])}  with ${String(pvp["counterpartyAgent"])}${pvp["reasonCode"] ? `  reason ${String(pvp["reasonCode"])}` : ""}`);
    io.out(legLine("DT leg     ", pvp["dtLeg"]));
    io.out(legLine("foreign leg", pvp["foreignLeg"]));
    const lastError = pvp["lastError"] as { at: string; message: string } | null | undefined;
    if (lastError) io.out(`last error : ${lastError.at}  ${lastError.message}`);
    for (const entry of (pvp["timeline"] as Array<Record<string, unknown>>) ?? []) {
      const what = entry["kind"] === "transition" ? `${String(entry["fromState"] ?? "-")} -> ${String(entry["toState"])} (${String(entry["event"])})` : `${String(entry["kind"])} ${String(entry["event"])}`;
      io.out(`  ${String(entry["at"])}  ${what}  ${JSON.stringify(entry["detail"])}`);
    }
    return 0;
  },
};

export const list: CommandModule = {
  help: `Usage: npx tenge-gateway pvp list [--state STATE] [--role initiator|responder] [--counterparty BIC] [--limit N] [--before CURSOR] [--past-expiry]

Lists one page of PvPs, newest first, one line each; when more follow, a last line "next: CURSOR" gives the
--before of the next page. --past-expiry: only PvPs not yet final with a leg past its expiry (stuck ones;
\`pvp show ID\` gives the last error).
${connection}`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: { ...connectionOptions, state: { type: "string" }, role: { type: "string" }, counterparty: { type: "string" }, limit: { type: "string" }, before: { type: "string" }, "past-expiry": { type: "boolean" } },
    });
    const query = new URLSearchParams();
    for (const name of ["state", "role", "counterparty", "limit", "before"] as const) if (values[name]) query.set(name, values[name]!);
    if (values["past-expiry"]) query.set("pastExpiry", "true");
    const answer = await call(io, values, "GET", `/pvp${query.size > 0 ? `?${query}` : ""}`);
    for (const pvp of answer["items"] as Array<Record<string, unknown>>) {
      io.out(`${String(pvp["id"])}  ${String(pvp["state"]).padEnd(11)}  ${String(pvp["role"]).padEnd(9)}  ${String(pvp["counterpartyAgent"])}  ${String(pvp["createdAt"])}`);
    }
    if (typeof answer["next"] === "string") io.out(`next: ${answer["next"]}`);
    return 0;
  },
};
