import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { UsageError, type CommandIo, type CommandModule } from "../core/cli-command.ts";
import { loadConfig } from "../config/config.ts";
import { openGatewayDatabase } from "../gateway/database.ts";
import { IdentityError } from "../identity/store.ts";
import { AmountError } from "../core/money.ts";
import { CURRENCY, formatKzt, parseKzt } from "./kzt.ts";
import { StablecoinError } from "./errors.ts";
import { ExchangeStore, EXCHANGE_STATUSES, type Exchange, type ExchangeStatus } from "./exchanges.ts";
import { StablecoinService } from "./service.ts";

/** Runs `work` with the stablecoin service on the gateway's database; a refusal is a usage error (exit 2). */
export async function withService<T>(io: CommandIo, work: (service: StablecoinService) => Promise<T>): Promise<T> {
  const db = await openGatewayDatabase(loadConfig(io.env));
  try {
    return await work(new StablecoinService({ db, exchanges: new ExchangeStore(db) }));
  } catch (error) {
    if (error instanceof StablecoinError || error instanceof IdentityError) throw new UsageError(`${error.code}: ${error.message}`);
    if (error instanceof AmountError) throw new UsageError(error.message);
    throw error;
  } finally {
    await db.close();
  }
}

const exchangeLine = (exchange: Exchange) =>
  JSON.stringify({ ...exchange, perMintLimit: formatKzt(exchange.perMintLimit), dailyLimit: formatKzt(exchange.dailyLimit), currency: CURRENCY });

export const create: CommandModule = {
  help: `Usage: npx tenge-gateway exchanges create --name NAME --dt-account ACCOUNT --evm-address ADDRESS [--evm-address ADDRESS...]
                                      --per-mint-limit KZT --daily-limit KZT [--id ID]

Onboards an exchange (KYB done outside): creates its \`exchange\` principal and prints its API key once, as
JSON; only a hash of the key is stored. Limits are in KZT with up to 2 decimals (e.g. 250000.00).
Writes directly to the database; with a running embedded gateway, use the operator API (POST
/stablecoin/exchanges) instead.
Settings: DATABASE_URL (unset: the embedded PGlite under DATA_DIR), also from TENGE_CONFIG_FILE (the gateway's settings file).`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        name: { type: "string" },
        "dt-account": { type: "string" },
        "evm-address": { type: "string", multiple: true },
        "per-mint-limit": { type: "string" },
        "daily-limit": { type: "string" },
        id: { type: "string" },
      },
      strict: true,
    });
    for (const required of ["name", "dt-account", "evm-address", "per-mint-limit", "daily-limit"] as const) {
      if (!values[required]) throw new UsageError(`--${required} is required`);
    }
    return withService(io, async (service) => {
      const onboarded = await service.onboardExchange({
        name: values.name!,
        dtAccount: values["dt-account"]!,
        evmAddresses: values["evm-address"]!,
        perMintLimit: parseKzt(values["per-mint-limit"]!),
        dailyLimit: parseKzt(values["daily-limit"]!),
        ...(values.id ? { id: values.id } : {}),
      });
      io.out(JSON.stringify({ exchange: onboarded.exchange.id, principal: onboarded.exchange.principalId, credentialId: onboarded.credentialId, apiKey: onboarded.apiKey }));
      return 0;
    });
  },
};

export const list: CommandModule = {
  help: `Usage: npx tenge-gateway exchanges list

Prints one JSON line per exchange: DT account, EVM addresses, limits (KZT) and status.
Settings: DATABASE_URL (unset: the embedded PGlite under DATA_DIR), also from TENGE_CONFIG_FILE (the gateway's settings file).`,
  async run(args, io) {
    if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
    return withService(io, async (service) => {
      for (const exchange of await service.listExchanges()) io.out(exchangeLine(exchange));
      return 0;
    });
  },
};

export const update: CommandModule = {
  help: `Usage: npx tenge-gateway exchanges update ID [--status active|suspended] [--per-mint-limit KZT] [--daily-limit KZT]
                                      [--evm-address ADDRESS...]

Changes an exchange. A suspended exchange cannot request mints; its deposits are held for an operator.
Settings: DATABASE_URL (unset: the embedded PGlite under DATA_DIR), also from TENGE_CONFIG_FILE (the gateway's settings file).`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        status: { type: "string" },
        "per-mint-limit": { type: "string" },
        "daily-limit": { type: "string" },
        "evm-address": { type: "string", multiple: true },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new UsageError("give exactly one exchange id");
    if (values.status && !(EXCHANGE_STATUSES as readonly string[]).includes(values.status)) throw new UsageError(`--status must be one of ${EXCHANGE_STATUSES.join(", ")}`);
    return withService(io, async (service) => {
      const updated = await service.updateExchange(positionals[0]!, {
        ...(values.status ? { status: values.status as ExchangeStatus } : {}),
        ...(values["per-mint-limit"] ? { perMintLimit: parseKzt(values["per-mint-limit"]) } : {}),
        ...(values["daily-limit"] ? { dailyLimit: parseKzt(values["daily-limit"]) } : {}),
        ...(values["evm-address"] ? { evmAddresses: values["evm-address"] } : {}),
      });
      io.out(exchangeLine(updated));
      return 0;
    });
  },
};

export const reroute: CommandModule = {
  help: `Usage: npx tenge-gateway redemptions reroute ID --dt-account ACCOUNT

Pays a redemption whose DT payout was refused (state failed) to a corrected DT account instead. Works on
the gateway's database (DATABASE_URL or DATA_DIR, also from TENGE_CONFIG_FILE), so only whoever operates the gateway can run it; the
action is recorded with "cli:<os user>" as who. A redemption that is not failed is left alone (exit 2).
The running gateway pays it within its next poll.`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, options: { "dt-account": { type: "string" } }, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError("give exactly one redemption id");
    const dtAccount = values["dt-account"];
    if (!dtAccount || dtAccount.length > 64) throw new UsageError("--dt-account must be a DT account id of 1 to 64 characters");
    return withService(io, async (service) => {
      const rerouted = await service.rerouteRedemption(positionals[0]!, dtAccount, `cli:${userInfo().username}`);
      io.out(JSON.stringify({ id: rerouted.id, state: rerouted.state, dtAccount: rerouted.dtAccount, amount: formatKzt(rerouted.amount), currency: CURRENCY }));
      return 0;
    });
  },
};

export const remint: CommandModule = {
  help: `Usage: npx tenge-gateway redemptions remint ID

Mints the tokens of a redemption whose DT payout was refused (state failed) back to the address that
burned them, instead of paying DT: the redemption becomes "reminted" and is never paid, and the running
gateway's mint worker reverses it on chain (reverseRedemption, once per redemption) with a fresh collateral
statement. Works on the gateway's database (DATABASE_URL or DATA_DIR, also from TENGE_CONFIG_FILE); recorded with "cli:<os user>" as who.
A redemption that is not failed, or cannot be re-minted, is left alone (exit 2).`,
  async run(args, io) {
    const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError("give exactly one redemption id");
    return withService(io, async (service) => {
      const { redemption, mint } = await service.remintRedemption(positionals[0]!, `cli:${userInfo().username}`);
      io.out(JSON.stringify({ id: redemption.id, state: redemption.state, mint: mint.id, to: mint.toAddress, amount: formatKzt(mint.amount), currency: CURRENCY }));
      return 0;
    });
  },
};
