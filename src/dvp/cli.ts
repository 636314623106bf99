import { parseArgs } from "node:util";
import { UsageError, type CommandModule } from "../core/cli-command.ts";
import { call } from "../pvp/cli.ts";

/**
 * `tenge-gateway dvp create|affirm|show|list|cancel`: the DvP API of a running gateway from the shell, with a
 * broker's (or an operator's) API key. The exchange runs in the gateway; these commands only call its API.
 */
const connection = `Connection: --url (or TENGE_GATEWAY_URL, default http://127.0.0.1:8080) and --api-key (or TENGE_API_KEY,
a broker or operator API key).`;

const connectionOptions = { url: { type: "string" }, "api-key": { type: "string" } } as const;

export const create: CommandModule = {
  help: `Usage: npx tenge-gateway dvp create --side seller|buyer --isin ISIN --quantity N --amount KZT
         --seller-bic BIC --seller-holding 0x... --seller-account DA --buyer-bic BIC --buyer-holding 0x... --buyer-account DA
         [--transaction-id REF] [--securities-expires ISO] [--cash-expires ISO]

Instructs the caller's side of a DvP: the buyer's KZT on DT against the seller's security, under one
hash-lock. A broker's holding must be registered to it and its digital account serviced by its DT
participant; the delivery must pass the security's compliance check. Nothing is locked until the other
broker affirms (\`dvp affirm ID\`). Operators omit --side and instruct both sides. Prints the DvP as JSON.
${connection}`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        ...connectionOptions,
        side: { type: "string" },
        isin: { type: "string" },
        quantity: { type: "string" },
        amount: { type: "string" },
        "seller-bic": { type: "string" },
        "seller-holding": { type: "string" },
        "seller-account": { type: "string" },
        "buyer-bic": { type: "string" },
        "buyer-holding": { type: "string" },
        "buyer-account": { type: "string" },
        "transaction-id": { type: "string" },
        "securities-expires": { type: "string" },
        "cash-expires": { type: "string" },
      },
    });
    const required = ["isin", "quantity", "amount", "seller-bic", "seller-holding", "seller-account", "buyer-bic", "buyer-holding", "buyer-account"] as const;
    const missing = required.filter((name) => values[name] === undefined);
    if (missing.length > 0) throw new UsageError(`missing --${missing.join(", --")}`);
    if (values.side !== undefined && values.side !== "seller" && values.side !== "buyer") throw new UsageError("--side is seller or buyer");
    const own = (side: "seller" | "buyer") => (values.side === side && values["transaction-id"] ? { transactionId: values["transaction-id"] } : {});
    const dvp = await call(io, values, "POST", "/dvp", {
      ...(values.side ? { side: values.side } : {}),
      isin: values.isin,
      quantity: values.quantity,
      amount: values.amount,
      seller: { bic: values["seller-bic"], holding: values["seller-holding"], cashAccount: values["seller-account"], ...own("seller") },
      buyer: { bic: values["buyer-bic"], holding: values["buyer-holding"], cashAccount: values["buyer-account"], ...own("buyer") },
      ...(values["securities-expires"] ? { securitiesExpiresAt: values["securities-expires"] } : {}),
      ...(values["cash-expires"] ? { cashExpiresAt: values["cash-expires"] } : {}),
    });
    io.out(JSON.stringify(dvp, null, 2));
    return 0;
  },
};

export const affirm: CommandModule = {
  help: `Usage: npx tenge-gateway dvp affirm ID [--transaction-id REF]

The other broker affirms a DvP its counterparty instructed: its side is checked like the instructing one's
and compliance asked again; then the cash is held and the securities locked. Prints the DvP as JSON.
(A broker may affirm with its sese.023 instead: POST it to /dvp/instructions.)
${connection}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...connectionOptions, "transaction-id": { type: "string" } } });
    if (positionals.length !== 1) throw new UsageError("give exactly one DvP id");
    const dvp = await call(io, values, "POST", `/dvp/${encodeURIComponent(positionals[0]!)}/affirm`, values["transaction-id"] ? { transactionId: values["transaction-id"] } : {});
    io.out(JSON.stringify(dvp, null, 2));
    return 0;
  },
};

export const show: CommandModule = {
  help: `Usage: npx tenge-gateway dvp show ID [--json]

Prints a DvP: its state, the trade, both legs, and the timeline of every transition, ledger command and message.
${connection}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...connectionOptions, json: { type: "boolean" } } });
    if (positionals.length !== 1) throw new UsageError("give exactly one DvP id");
    const dvp = await call(io, values, "GET", `/dvp/${encodeURIComponent(positionals[0]!)}`);
    if (values.json) {
      io.out(JSON.stringify(dvp, null, 2));
      return 0;
    }
    const party = (value: unknown) => {
      const side = value as Record<string, string>;
      return `${side["bic"]} holding ${side["holding"]} account ${side["cashAccount"]}`;
    };
    const leg = (value: unknown) => {
      const terms = value as Record<string, string | null>;
      return `${terms["payer"]} -> ${terms["beneficiary"]} on ${terms["ledger"]}, expires ${terms["expiresAt"]}, ref ${terms["reference"] ?? "-"}`;
    };
    io.out(`${String(dvp["id"])}  ${String(dvp["state"])}${dvp["awaitingAffirmation"] ? " (awaiting affirmation)" : ""}  ${String(dvp["quantity"])} ${String(dvp["isin"])} for ${String(dvp["amount"])} KZT${dvp["reasonCode"] ? `  reason ${String(dvp["reasonCode"])}` : ""}`);
    io.out(`seller         : ${party(dvp["seller"])}`);
    io.out(`buyer          : ${party(dvp["buyer"])}`);
    io.out(`securities leg : ${leg(dvp["securitiesLeg"])}`);
    io.out(`cash leg       : ${leg(dvp["cashLeg"])}`);
    for (const entry of (dvp["timeline"] as Array<Record<string, unknown>>) ?? []) {
      const what = entry["kind"] === "transition" ? `${String(entry["fromState"] ?? "-")} -> ${String(entry["toState"])} (${String(entry["event"])})` : `${String(entry["kind"])} ${String(entry["event"])}`;
      io.out(`  ${String(entry["at"])}  ${what}  ${JSON.stringify(entry["detail"])}`);
    }
    return 0;
  },
};

export const list: CommandModule = {
  help: `Usage: npx tenge-gateway dvp list [--state STATE] [--limit N] [--before CURSOR]

Lists one page of the DvPs naming the caller's institution (operators: all), newest first; when more follow,
a last line "next: CURSOR" gives the --before of the next page.
${connection}`,
  async run(args, io) {
    const { values } = parseArgs({ args, options: { ...connectionOptions, state: { type: "string" }, limit: { type: "string" }, before: { type: "string" } } });
    const query = new URLSearchParams();
    for (const name of ["state", "limit", "before"] as const) if (values[name]) query.set(name, values[name]!);
    const answer = await call(io, values, "GET", `/dvp${query.size > 0 ? `?${query}` : ""}`);
    for (const dvp of answer["items"] as Array<Record<string, unknown>>) {
      io.out(`${String(dvp["id"])}  ${String(dvp["state"]).padEnd(11)}  ${String(dvp["quantity"])} ${String(dvp["isin"])}  ${String(dvp["amount"])} KZT  ${String(dvp["createdAt"])}`);
    }
    if (typeof answer["next"] === "string") io.out(`next: ${answer["next"]}`);
    return 0;
  },
};

export const cancel: CommandModule = {
  help: `Usage: npx tenge-gateway dvp cancel ID

Cancels a DvP before the secret is revealed (either broker, or an operator); both legs are refunded.
${connection}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: connectionOptions });
    if (positionals.length !== 1) throw new UsageError("give exactly one DvP id");
    io.out(JSON.stringify(await call(io, values, "POST", `/dvp/${encodeURIComponent(positionals[0]!)}/cancel`), null, 2));
    return 0;
  },
};
