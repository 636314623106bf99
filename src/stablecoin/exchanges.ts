import { randomBytes } from "node:crypto";
import { getAddress, isAddress, type Address } from "viem";
import { IdentityStore } from "../identity/store.ts";
import { CodedError } from "../core/errors.ts";
import type { Database, Queryable } from "../persistence/database.ts";
import { sqlState } from "../persistence/database.ts";
import type { Exchange, ExchangeStatus } from "./model.ts";
import { exchangeRows } from "./store/exchanges.ts";

export { EXCHANGE_STATUSES, type Exchange, type ExchangeStatus } from "./model.ts";

export interface OnboardExchange {
  name: string;
  dtAccount: string;
  evmAddresses: string[];
  perMintLimit: bigint;
  dailyLimit: bigint;
  /** Chosen id (default: generated `exch_...`). */
  id?: string;
}

export interface ExchangeUpdate {
  status?: ExchangeStatus;
  perMintLimit?: bigint;
  dailyLimit?: bigint;
  evmAddresses?: string[];
}

export type ExchangeErrorCode =
  | "EXCHANGE_NOT_FOUND"
  | "INVALID_EVM_ADDRESS"
  | "INVALID_LIMITS"
  | "DT_ACCOUNT_TAKEN"
  | "EXCHANGE_ID_TAKEN";

/** A refused exchange change (onboarding, update, lookup); statuses in src/server/http-status.ts. */
export class ExchangeError extends CodedError<ExchangeErrorCode> {}

function checkedAddresses(addresses: string[]): Address[] {
  if (addresses.length === 0) throw new ExchangeError("INVALID_EVM_ADDRESS", "give at least one EVM address");
  return addresses.map((address) => {
    if (!isAddress(address, { strict: false })) throw new ExchangeError("INVALID_EVM_ADDRESS", `${address} is not an EVM address`);
    return getAddress(address);
  });
}

function checkLimits(perMint: bigint, daily: bigint): void {
  if (perMint <= 0n || daily < perMint) {
    throw new ExchangeError("INVALID_LIMITS", "the per-mint limit must be positive and at most the daily limit");
  }
}

/**
 * Exchanges and their limits. Onboarding creates the `exchange` principal and its first API key in the
 * same transaction as the exchange, so an exchange never exists without credentials or the reverse.
 */
export class ExchangeStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** Onboards an exchange; the API key is returned once and stored only hashed. */
  async onboard(request: OnboardExchange): Promise<{ exchange: Exchange; credentialId: string; apiKey: string }> {
    const addresses = checkedAddresses(request.evmAddresses);
    checkLimits(request.perMintLimit, request.dailyLimit);
    const id = request.id ?? `exch_${randomBytes(6).toString("hex")}`;
    try {
      return await this.#db.transaction(async (tx) => {
        const identity = new IdentityStore(tx);
        const principalId = await identity.createPrincipal("exchange", request.name, id);
        const issued = await identity.issueApiKey(principalId, "exchange onboarding");
        const exchange = await exchangeRows.insert(tx, {
          id,
          principalId,
          name: request.name,
          dtAccount: request.dtAccount,
          evmAddresses: addresses,
          perMintLimit: request.perMintLimit,
          dailyLimit: request.dailyLimit,
        });
        return { exchange, ...issued };
      });
    } catch (error) {
      if (sqlState(error) === "23505") {
        const message = String((error as Error).message);
        if (message.includes("dt_account")) throw new ExchangeError("DT_ACCOUNT_TAKEN", `DT account ${request.dtAccount} belongs to another exchange`);
        throw new ExchangeError("EXCHANGE_ID_TAKEN", `exchange id ${id} is taken`);
      }
      throw error;
    }
  }

  async update(id: string, update: ExchangeUpdate): Promise<Exchange> {
    return this.#db.transaction(async (tx) => {
      const current = await this.get(id, tx);
      const perMint = update.perMintLimit ?? current.perMintLimit;
      const daily = update.dailyLimit ?? current.dailyLimit;
      checkLimits(perMint, daily);
      const addresses = update.evmAddresses ? checkedAddresses(update.evmAddresses) : current.evmAddresses;
      return exchangeRows.update(tx, id, { status: update.status ?? current.status, perMintLimit: perMint, dailyLimit: daily, evmAddresses: addresses });
    });
  }

  async get(id: string, db: Queryable = this.#db): Promise<Exchange> {
    const found = await exchangeRows.get(db, id);
    if (!found) throw new ExchangeError("EXCHANGE_NOT_FOUND", `no exchange ${id}`);
    return found;
  }

  list(): Promise<Exchange[]> {
    return exchangeRows.list(this.#db);
  }

  byPrincipal(principalId: string): Promise<Exchange | undefined> {
    return exchangeRows.byPrincipal(this.#db, principalId);
  }

  /** The exchange that owns an EVM address (addresses compare checksummed). */
  byAddress(address: string, db: Queryable = this.#db): Promise<Exchange | undefined> {
    return exchangeRows.byAddress(db, address);
  }
}

/**
 * The embedded stack's demo exchange: onboarded once under a fixed id; later starts find it and issue
 * nothing. The API key and its credential id are returned only when the exchange is created (the key
 * cannot be shown again).
 */
export async function ensureDemoExchange(
  store: ExchangeStore,
  demo: { dtAccount: string; evmAddress: string; id?: string; name?: string },
): Promise<{ exchange: Exchange; apiKey: string | undefined; credentialId: string | undefined }> {
  const id = demo.id ?? "demo-exchange";
  try {
    return { exchange: await store.get(id), apiKey: undefined, credentialId: undefined };
  } catch (error) {
    if (!(error instanceof ExchangeError) || error.code !== "EXCHANGE_NOT_FOUND") throw error;
  }
  const onboarded = await store.onboard({
    id,
    name: demo.name ?? "Demo Exchange",
    dtAccount: demo.dtAccount,
    evmAddresses: [demo.evmAddress],
    // 1 000 000 KZT per mint, 10 000 000 KZT a day.
    perMintLimit: 100_000_000n,
    dailyLimit: 1_000_000_000n,
  });
  return onboarded;
}
