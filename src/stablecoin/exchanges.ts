import { randomBytes } from "node:crypto";
import { getAddress, isAddress, type Address } from "viem";
import { IdentityStore } from "../identity/store.ts";
import type { Database, Queryable } from "../persistence/database.ts";
import { sqlState } from "../persistence/database.ts";

export const EXCHANGE_STATUSES = ["active", "suspended"] as const;
export type ExchangeStatus = (typeof EXCHANGE_STATUSES)[number];

/** An exchange allowed to mint and redeem: its DT account, its EVM addresses and its limits (tiyn). */
export interface Exchange {
  id: string;
  principalId: string;
  name: string;
  dtAccount: string;
  evmAddresses: Address[];
  perMintLimit: bigint;
  dailyLimit: bigint;
  status: ExchangeStatus;
  createdAt: Date;
}

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

export class ExchangeError extends Error {
  override name = "ExchangeError";
  readonly code: ExchangeErrorCode;
  constructor(code: ExchangeErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

interface ExchangeRow {
  id: string;
  principal_id: string;
  name: string;
  dt_account: string;
  evm_addresses: string[];
  per_mint_limit: bigint;
  daily_limit: bigint;
  status: ExchangeStatus;
  created_at: Date;
}

const fromRow = (row: ExchangeRow): Exchange => ({
  id: row.id,
  principalId: row.principal_id,
  name: row.name,
  dtAccount: row.dt_account,
  evmAddresses: row.evm_addresses.map((address) => getAddress(address)),
  perMintLimit: BigInt(row.per_mint_limit),
  dailyLimit: BigInt(row.daily_limit),
  status: row.status,
  createdAt: row.created_at,
});

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
        const inserted = await tx.query<ExchangeRow>(
          `INSERT INTO stablecoin.exchanges (id, principal_id, name, dt_account, evm_addresses, per_mint_limit, daily_limit, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'active') RETURNING *`,
          [id, principalId, request.name, request.dtAccount, addresses, request.perMintLimit, request.dailyLimit],
        );
        return { exchange: fromRow(inserted.rows[0]!), ...issued };
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
      const updated = await tx.query<ExchangeRow>(
        `UPDATE stablecoin.exchanges SET status = $2, per_mint_limit = $3, daily_limit = $4, evm_addresses = $5, updated_at = now()
          WHERE id = $1 RETURNING *`,
        [id, update.status ?? current.status, perMint, daily, addresses],
      );
      return fromRow(updated.rows[0]!);
    });
  }

  async get(id: string, db: Queryable = this.#db): Promise<Exchange> {
    const found = await db.query<ExchangeRow>("SELECT * FROM stablecoin.exchanges WHERE id = $1", [id]);
    if (!found.rows[0]) throw new ExchangeError("EXCHANGE_NOT_FOUND", `no exchange ${id}`);
    return fromRow(found.rows[0]);
  }

  async list(): Promise<Exchange[]> {
    const found = await this.#db.query<ExchangeRow>("SELECT * FROM stablecoin.exchanges ORDER BY created_at, id");
    return found.rows.map(fromRow);
  }

  async byPrincipal(principalId: string): Promise<Exchange | undefined> {
    const found = await this.#db.query<ExchangeRow>("SELECT * FROM stablecoin.exchanges WHERE principal_id = $1", [principalId]);
    return found.rows[0] ? fromRow(found.rows[0]) : undefined;
  }

  /** The exchange that owns an EVM address (addresses compare checksummed). */
  async byAddress(address: string, db: Queryable = this.#db): Promise<Exchange | undefined> {
    const found = await db.query<ExchangeRow>("SELECT * FROM stablecoin.exchanges WHERE $1 = ANY(evm_addresses)", [getAddress(address)]);
    return found.rows[0] ? fromRow(found.rows[0]) : undefined;
  }
}

/** Start of the UTC day of `at`: daily limits reset at midnight UTC. */
export function utcDayStart(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

/** Tiyn of the exchange's deposits matched to mints since the start of the UTC day. */
export async function mintedToday(db: Queryable, exchangeId: string, at: Date): Promise<bigint> {
  const found = await db.query<{ total: bigint | null }>(
    "SELECT sum(amount)::int8 AS total FROM stablecoin.deposits WHERE exchange_id = $1 AND status = 'matched' AND booked_at >= $2",
    [exchangeId, utcDayStart(at)],
  );
  return BigInt(found.rows[0]?.total ?? 0n);
}

/** Tiyn of the exchange's open and completed mint requests created since the start of the UTC day. */
export async function requestedToday(db: Queryable, exchangeId: string, at: Date): Promise<bigint> {
  const found = await db.query<{ total: bigint | null }>(
    `SELECT sum(amount)::int8 AS total FROM stablecoin.mint_requests
      WHERE exchange_id = $1 AND created_at >= $2 AND state NOT IN ('cancelled', 'failed')`,
    [exchangeId, utcDayStart(at)],
  );
  return BigInt(found.rows[0]?.total ?? 0n);
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
