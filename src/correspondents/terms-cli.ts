import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { UsageError } from "../core/cli-command.ts";
import type { DatabaseCommand } from "../persistence/database-command.ts";
import { amountFromDecimal } from "../core/money.ts";
import { connection, viaApi, viaDatabase } from "./cli.ts";
import { standingTermsToJson, termsStore } from "./terms.ts";

/**
 * `tenge-gateway correspondents terms|rates|quotes|audit ...`: the counterparties' consent (standing terms,
 * reference rates) and what it was used for (consumed quotes, the audit trail), like the other directory
 * commands: on the database of DATABASE_URL, or with --gateway URL through the operator API.
 */
const where = `Works on the database of DATABASE_URL (unset: the PGlite under DATA_DIR; also from TENGE_CONFIG_FILE), or with
--gateway URL calls the operator API of a running gateway (--api-key or TENGE_API_KEY). Every change is audited
with who made it (the operator, or cli:<user> on the database).`;

const actor = () => `cli:${userInfo().username}`;


export const setTerms: DatabaseCommand = {
  help: `Usage: npx tenge-gateway correspondents terms set BIC --ledger LEDGER --currency CCY --max-amount 100000.00
         --daily-limit 1000000.00 --rate-band-bps 200 --dt-beneficiary ACCOUNT... [--gateway URL]

Sets a correspondent's standing terms for one corridor (its funds on LEDGER in CCY against KZT on DT): the
largest foreign leg of one PvP, the daily sum, how far (basis points) a PvP's rate may be from the reference
rate, and its own KZT settlement accounts on DT (the only DT beneficiaries allowed). Amounts in CCY.
${where}`,
  async run(args, io) {
    const options = {
      ledger: { type: "string" },
      currency: { type: "string" },
      "max-amount": { type: "string" },
      "daily-limit": { type: "string" },
      "rate-band-bps": { type: "string" },
      "dt-beneficiary": { type: "string", multiple: true },
      ...connection,
    } as const;
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError("give exactly one BIC");
    const [bic] = positionals as [string];
    const { ledger, currency } = values;
    if (!ledger || !currency || !values["max-amount"] || !values["daily-limit"] || values["rate-band-bps"] === undefined || !values["dt-beneficiary"]) {
      throw new UsageError("--ledger, --currency, --max-amount, --daily-limit, --rate-band-bps and --dt-beneficiary are required");
    }
    const rateBandBps = Number(values["rate-band-bps"]);
    if (!Number.isInteger(rateBandBps)) throw new UsageError("--rate-band-bps must be an integer");
    const body = { maxAmount: values["max-amount"], dailyLimit: values["daily-limit"], rateBandBps, dtBeneficiaries: values["dt-beneficiary"] };
    if (values.gateway) {
      const path = `/operator/correspondents/${encodeURIComponent(bic)}/terms/${encodeURIComponent(ledger)}/${encodeURIComponent(currency)}`;
      io.out(JSON.stringify(await viaApi(io, values, "PUT", path, body)));
      return 0;
    }
    return viaDatabase(io, async (db) => {
      const terms = await termsStore.setTerms(
        db,
        {
          counterpartyAgent: bic,
          foreignLedger: ledger,
          foreignCurrency: currency,
          maxForeignAmount: amountFromDecimal(body.maxAmount, currency).minorUnits,
          dailyForeignAmount: amountFromDecimal(body.dailyLimit, currency).minorUnits,
          rateBandBps,
          dtBeneficiaries: body.dtBeneficiaries,
        },
        actor(),
      );
      io.out(JSON.stringify(standingTermsToJson(terms)));
      return 0;
    });
  },
};

export const listTerms: DatabaseCommand = {
  help: `Usage: npx tenge-gateway correspondents terms list [--counterparty BIC] [--gateway URL]

Prints one JSON line per corridor's standing terms, with what today's (UTC) PvPs used of its daily limit.
${where}`,
  async run(args, io) {
    const { values } = parseArgs({ args, options: { counterparty: { type: "string" }, ...connection }, strict: true });
    if (values.gateway) {
      const answer = (await viaApi(io, values, "GET", `/operator/terms${values.counterparty ? `?counterparty=${encodeURIComponent(values.counterparty)}` : ""}`)) as { items: unknown[] };
      for (const item of answer.items) io.out(JSON.stringify(item));
      return 0;
    }
    return viaDatabase(io, async (db) => {
      for (const terms of await termsStore.listTerms(db, new Date(), values.counterparty)) io.out(JSON.stringify(standingTermsToJson(terms)));
      return 0;
    });
  },
};

export const setRate: DatabaseCommand = {
  help: `Usage: npx tenge-gateway correspondents rates set CCY RATE [--gateway URL]

Sets the reference rate of a currency: KZT per one unit of it (e.g. rates set AED 125.00). Standing terms'
rate bands are judged around it.
${where}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, options: connection, strict: true, allowPositionals: true });
    if (positionals.length !== 2) throw new UsageError("give CCY and RATE");
    const [currency, rate] = positionals as [string, string];
    if (values.gateway) {
      io.out(JSON.stringify(await viaApi(io, values, "PUT", `/operator/reference-rates/${encodeURIComponent(currency)}`, { rate })));
      return 0;
    }
    return viaDatabase(io, async (db) => {
      const set = await termsStore.setReferenceRate(db, currency, rate, actor());
      io.out(JSON.stringify({ ...set, setAt: set.setAt.toISOString() }));
      return 0;
    });
  },
};

export function listing(help: string, path: string, read: (db: Parameters<Parameters<typeof viaDatabase>[1]>[0]) => Promise<unknown[]>): DatabaseCommand {
  return {
    help,
    async run(args, io) {
      const { values, positionals } = parseArgs({ args, options: connection, strict: true, allowPositionals: true });
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const items = values.gateway ? ((await viaApi(io, values, "GET", path)) as { items: unknown[] }).items : await viaDatabase(io, read);
      for (const item of items) io.out(JSON.stringify(item));
      return 0;
    },
  };
}

export const iso = <T extends Record<string, unknown>>(row: T, field: keyof T) => ({ ...row, [field]: (row[field] as Date).toISOString() });

export const listRates = listing(
  `Usage: npx tenge-gateway correspondents rates list [--gateway URL]\n\nPrints one JSON line per reference rate (KZT per unit), who set it and when.\n${where}`,
  "/operator/reference-rates",
  async (db) => (await termsStore.referenceRates(db)).map((rate) => iso({ ...rate }, "setAt")),
);

export const listAudit = listing(
  `Usage: npx tenge-gateway correspondents audit [--gateway URL]\n\nPrints every change of standing terms and reference rates, newest first, with who made it.\n${where}`,
  "/operator/consent/audit",
  async (db) => (await termsStore.auditTrail(db)).map((entry) => iso({ ...entry }, "at")),
);
