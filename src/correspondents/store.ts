import { CodedError } from "../core/errors.ts";
import { AmountError, amountFromDecimal, amountToDecimal, currencyMinorUnits } from "../core/money.ts";
import type { Database, Queryable } from "../persistence/database.ts";
import { IdentityError, IdentityStore } from "../identity/store.ts";
import { KeySetError, type PublishedKeySet } from "./published-keys.ts";

/** Profiles an inbound message of a correspondent is validated with: CBPR+ usage rules on top of the XSDs, or the XSDs alone. */
import { validationProfiles as VALIDATION_PROFILES, type ValidationProfile } from "../iso20022/validation/profiles.ts";

export { VALIDATION_PROFILES, type ValidationProfile };

export const CORRESPONDENT_STATUSES = ["active", "suspended"] as const;
export type CorrespondentStatus = (typeof CORRESPONDENT_STATUSES)[number];

export interface CorrespondentSigningKey {
  keyId: string;
  /** Raw Ed25519 public key, hex. */
  publicKey: string;
  createdAt: Date;
  /** From this instant on, requests signed with it are refused (may be ahead: a retiring key pinned from its key set). */
  revokedAt: Date | null;
}

/** One correspondent central bank as the directory holds it. */
export interface CorrespondentRecord {
  bic: string;
  name: string;
  /** Base URL of its gateway; messages go to `<baseUrl>/iso20022/inbound`. */
  baseUrl: string;
  status: CorrespondentStatus;
  /** The identity principal (role correspondent) that holds its signing keys. */
  principalId: string;
  /** Accounts on our ledger that may pay when it instructs us. */
  liquidityAccounts: string[];
  /** Its own account on our ledger, paid by every leg it instructs us to lock; undefined = it may not instruct us. */
  settlementAccount: string | undefined;
  /** Largest leg it may instruct, in minor units of `maxAmountCurrency`; undefined = no limit. */
  maxAmount: bigint | undefined;
  /** The currency of that limit; a leg in another currency is refused while a limit is set. */
  maxAmountCurrency: string | undefined;
  validationProfile: ValidationProfile;
  signingKeys: CorrespondentSigningKey[];
  createdAt: Date;
  updatedAt: Date;
}

export interface NewCorrespondent {
  bic: string;
  name: string;
  baseUrl: string;
  liquidityAccounts?: string[];
  settlementAccount?: string;
  maxAmount?: bigint;
  /** Required with `maxAmount`. */
  maxAmountCurrency?: string;
  validationProfile?: ValidationProfile;
  signingKeys?: Array<{ keyId: string; publicKey: string }>;
}

export type CorrespondentChange = Partial<Pick<CorrespondentRecord, "name" | "baseUrl" | "liquidityAccounts" | "validationProfile">> & {
  /** null removes it. */
  settlementAccount?: string | null;
  /** null removes the limit. */
  maxAmount?: bigint | null;
  /** Required with a new `maxAmount`. */
  maxAmountCurrency?: string;
};

export type CorrespondentErrorCode =
  | "CORRESPONDENT_NOT_FOUND"
  | "CORRESPONDENT_EXISTS"
  | "CORRESPONDENT_INVALID"
  | "SIGNING_KEY_NOT_FOUND"
  | "INVALID_PUBLIC_KEY"
  | "DUPLICATE_KEY_ID"
  | "PUBLIC_KEY_TAKEN";

export class CorrespondentError extends CodedError<CorrespondentErrorCode> {}

const BIC = /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;

/** The principal that holds a correspondent's keys. */
export const principalIdOf = (bic: string) => `corr-${bic}`;

interface Row {
  bic: string;
  name: string;
  base_url: string;
  status: CorrespondentStatus;
  principal_id: string;
  liquidity_accounts: string[];
  settlement_account: string | null;
  max_amount: bigint | string | null;
  max_amount_currency: string | null;
  validation_profile: ValidationProfile;
  created_at: Date;
  updated_at: Date;
}

function check(input: Partial<Omit<NewCorrespondent, "maxAmount" | "settlementAccount">> & CorrespondentChange): void {
  if (input.bic !== undefined && !BIC.test(input.bic)) throw new CorrespondentError("CORRESPONDENT_INVALID", `bic ${JSON.stringify(input.bic)} is not a BIC`);
  if (input.name !== undefined && input.name.trim() === "") throw new CorrespondentError("CORRESPONDENT_INVALID", "name must not be empty");
  if (input.baseUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(input.baseUrl);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) throw new CorrespondentError("CORRESPONDENT_INVALID", "baseUrl must be an http or https URL");
  }
  if (input.maxAmount !== undefined && input.maxAmount !== null && input.maxAmount <= 0n) throw new CorrespondentError("CORRESPONDENT_INVALID", "maxAmount must be positive");
  if (input.maxAmount !== undefined && input.maxAmount !== null && (input.maxAmountCurrency === undefined || currencyMinorUnits(input.maxAmountCurrency) === undefined)) {
    throw new CorrespondentError("CORRESPONDENT_INVALID", "maxAmount needs maxAmountCurrency, an ISO 4217 currency code");
  }
  if (input.validationProfile !== undefined && !(VALIDATION_PROFILES as readonly string[]).includes(input.validationProfile)) {
    throw new CorrespondentError("CORRESPONDENT_INVALID", `validationProfile must be one of ${VALIDATION_PROFILES.join(", ")}`);
  }
  for (const account of input.liquidityAccounts ?? []) {
    if (account.trim() === "" || account.length > 128) throw new CorrespondentError("CORRESPONDENT_INVALID", "liquidity accounts must be 1 to 128 characters");
  }
  const settlement = input.settlementAccount;
  if (typeof settlement === "string" && (settlement.trim() === "" || settlement.length > 128)) {
    throw new CorrespondentError("CORRESPONDENT_INVALID", "the settlement account must be 1 to 128 characters");
  }
}

function identityFailure(error: unknown): never {
  if (error instanceof IdentityError) {
    if (error.code === "INVALID_PUBLIC_KEY" || error.code === "DUPLICATE_KEY_ID" || error.code === "PUBLIC_KEY_TAKEN") throw new CorrespondentError(error.code, error.message);
    throw new CorrespondentError("CORRESPONDENT_NOT_FOUND", error.message);
  }
  throw error;
}

/**
 * The directory of correspondents in the gateway's database. Every change is one transaction: a
 * correspondent, its principal and its first keys appear together or not at all.
 */
export const correspondentStore = {
  async add(db: Database, input: NewCorrespondent): Promise<CorrespondentRecord> {
    check(input);
    await db.transaction(async (tx) => {
      const existing = await tx.query("SELECT 1 FROM pvp_correspondent WHERE bic = $1", [input.bic]);
      if (existing.rowCount > 0) throw new CorrespondentError("CORRESPONDENT_EXISTS", `correspondent ${input.bic} is in the directory already`);
      const identity = new IdentityStore(tx);
      const principalId = principalIdOf(input.bic);
      const principal = await tx.query("SELECT 1 FROM identity.principals WHERE id = $1", [principalId]);
      if (principal.rowCount > 0) throw new CorrespondentError("CORRESPONDENT_EXISTS", `principal ${principalId} exists already`);
      await identity.createPrincipal("correspondent", input.name, principalId, { bic: input.bic });
      await tx.query(
        `INSERT INTO pvp_correspondent (bic, name, base_url, principal_id, liquidity_accounts, settlement_account, max_amount, max_amount_currency, validation_profile)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          input.bic,
          input.name,
          input.baseUrl,
          principalId,
          input.liquidityAccounts ?? [],
          input.settlementAccount ?? null,
          input.maxAmount ?? null,
          input.maxAmount === undefined ? null : input.maxAmountCurrency,
          input.validationProfile ?? "cbpr+",
        ],
      );
      for (const key of input.signingKeys ?? []) {
        await identity.registerSigningKey(principalId, key.publicKey, key.keyId, `correspondent ${input.bic}`).catch(identityFailure);
      }
    });
    return (await this.get(db, input.bic))!;
  },

  async get(db: Queryable, bic: string): Promise<CorrespondentRecord | undefined> {
    return (await this.list(db, bic))[0];
  },

  async require(db: Queryable, bic: string): Promise<CorrespondentRecord> {
    const found = await this.get(db, bic);
    if (!found) throw new CorrespondentError("CORRESPONDENT_NOT_FOUND", `no correspondent ${bic} in the directory`);
    return found;
  },

  /** The directory (or one BIC), keys included as public keys. */
  async list(db: Queryable, bic?: string): Promise<CorrespondentRecord[]> {
    const rows = (await db.query<Row>(`SELECT * FROM pvp_correspondent WHERE ($1::text IS NULL OR bic = $1) ORDER BY bic`, [bic ?? null])).rows;
    if (rows.length === 0) return [];
    const keys = (
      await db.query<{ id: string; principal_id: string; public_key: Uint8Array; created_at: Date; revoked_at: Date | null }>(
        `SELECT id, principal_id, public_key, created_at, revoked_at FROM identity.credentials
          WHERE kind = 'ed25519' AND principal_id = ANY($1::text[]) ORDER BY created_at, id`,
        [rows.map((row) => row.principal_id)],
      )
    ).rows;
    return rows.map((row) => ({
      bic: row.bic,
      name: row.name,
      baseUrl: row.base_url,
      status: row.status,
      principalId: row.principal_id,
      liquidityAccounts: row.liquidity_accounts,
      settlementAccount: row.settlement_account ?? undefined,
      maxAmount: row.max_amount === null ? undefined : BigInt(row.max_amount),
      maxAmountCurrency: row.max_amount_currency ?? undefined,
      validationProfile: row.validation_profile,
      signingKeys: keys
        .filter((key) => key.principal_id === row.principal_id)
        .map((key) => ({ keyId: key.id, publicKey: Buffer.from(key.public_key).toString("hex"), createdAt: key.created_at, revokedAt: key.revoked_at })),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    }));
  },

  async update(db: Database, bic: string, change: CorrespondentChange): Promise<CorrespondentRecord> {
    check(change);
    await db.transaction(async (tx) => {
      const current = await this.require(tx, bic);
      await tx.query(
        `UPDATE pvp_correspondent SET name = $2, base_url = $3, liquidity_accounts = $4, max_amount = $5, validation_profile = $6, settlement_account = $7, max_amount_currency = $8, updated_at = now()
          WHERE bic = $1`,
        [
          bic,
          change.name ?? current.name,
          change.baseUrl ?? current.baseUrl,
          change.liquidityAccounts ?? current.liquidityAccounts,
          change.maxAmount === undefined ? (current.maxAmount ?? null) : change.maxAmount,
          change.validationProfile ?? current.validationProfile,
          change.settlementAccount === undefined ? (current.settlementAccount ?? null) : change.settlementAccount,
          change.maxAmount === undefined ? (current.maxAmountCurrency ?? null) : change.maxAmount === null ? null : change.maxAmountCurrency,
        ],
      );
      if (change.name !== undefined) await tx.query("UPDATE identity.principals SET name = $2 WHERE id = $1", [current.principalId, change.name]);
    });
    return this.require(db, bic);
  },

  async setStatus(db: Database, bic: string, status: CorrespondentStatus): Promise<CorrespondentRecord> {
    const updated = await db.query("UPDATE pvp_correspondent SET status = $2, updated_at = now() WHERE bic = $1", [bic, status]);
    if (updated.rowCount === 0) throw new CorrespondentError("CORRESPONDENT_NOT_FOUND", `no correspondent ${bic} in the directory`);
    return this.require(db, bic);
  },

  /** Adds a signing key: requests signed with it are accepted from the next request on. */
  async addKey(db: Database, bic: string, key: { keyId: string; publicKey: string }): Promise<CorrespondentRecord> {
    await db.transaction(async (tx) => {
      const current = await this.require(tx, bic);
      await new IdentityStore(tx).registerSigningKey(current.principalId, key.publicKey, key.keyId, `correspondent ${bic}`).catch(identityFailure);
      await tx.query("UPDATE pvp_correspondent SET updated_at = now() WHERE bic = $1", [bic]);
    });
    return this.require(db, bic);
  },

  /** Revokes one of its signing keys: requests signed with it are refused from the next request on. */
  async revokeKey(db: Database, bic: string, keyId: string): Promise<CorrespondentRecord> {
    await db.transaction(async (tx) => {
      const current = await this.require(tx, bic);
      const revoked = await tx.query(
        "UPDATE identity.credentials SET revoked_at = LEAST(coalesce(revoked_at, now()), now()) WHERE id = $1 AND principal_id = $2 AND kind = 'ed25519'",
        [keyId, current.principalId],
      );
      if (revoked.rowCount === 0) throw new CorrespondentError("SIGNING_KEY_NOT_FOUND", `correspondent ${bic} has no signing key ${keyId}`);
      await tx.query("UPDATE pvp_correspondent SET updated_at = now() WHERE bic = $1", [bic]);
    });
    return this.require(db, bic);
  },

  /**
   * Pins the key set a correspondent publishes (`GET <baseUrl>/iso20022/keys`, checked by
   * parsePublishedKeySet): its next and active keys verify, a retiring key until its validUntil, a retired
   * key and any key the set no longer lists not at all. A listed key id whose public key differs from the one
   * pinned is refused (KEY_SET_KEY_CHANGED) and nothing is written: a key id names one key for good.
   */
  async pinKeys(db: Database, bic: string, set: PublishedKeySet): Promise<CorrespondentRecord> {
    if (set.agent !== bic) throw new KeySetError("KEY_SET_AGENT_MISMATCH", `the key set is for ${set.agent}, not ${bic}`);
    await db.transaction(async (tx) => {
      const current = await this.require(tx, bic);
      const pinned = new Map(current.signingKeys.map((key) => [key.keyId, key]));
      const identity = new IdentityStore(tx);
      for (const key of set.keys) {
        const known = pinned.get(key.keyId);
        if (known && known.publicKey !== key.publicKey) {
          throw new KeySetError("KEY_SET_KEY_CHANGED", `key ${key.keyId} of ${bic} is pinned with another public key: a rotated key takes a new key id`);
        }
        if (!known) {
          if (key.status === "retired") continue;
          await identity.registerSigningKey(current.principalId, key.publicKey, key.keyId, `correspondent ${bic}`).catch(identityFailure);
        }
        // Scheduled or immediate end; never later than an end already pinned.
        const until = key.status === "retired" ? "now()" : key.status === "retiring" ? "$3::timestamptz" : undefined;
        if (until) {
          await tx.query(`UPDATE identity.credentials SET revoked_at = LEAST(coalesce(revoked_at, ${until}), ${until}) WHERE id = $1 AND principal_id = $2`, [
            key.keyId,
            current.principalId,
            ...(key.status === "retiring" ? [key.validUntil] : []),
          ]);
        }
      }
      const listed = set.keys.map((key) => key.keyId);
      await tx.query(
        `UPDATE identity.credentials SET revoked_at = LEAST(coalesce(revoked_at, now()), now())
          WHERE principal_id = $1 AND kind = 'ed25519' AND NOT (id = ANY($2::text[]))`,
        [current.principalId, listed],
      );
      await tx.query("UPDATE pvp_correspondent SET updated_at = now() WHERE bic = $1", [bic]);
    });
    return this.require(db, bic);
  },
};

/** The JSON shape of a correspondent at the edges (API, CLI): the limit as a decimal in its currency's minor units. */
export function correspondentToJson(record: CorrespondentRecord): Record<string, unknown> {
  return {
    bic: record.bic,
    name: record.name,
    baseUrl: record.baseUrl,
    status: record.status,
    principalId: record.principalId,
    liquidityAccounts: record.liquidityAccounts,
    settlementAccount: record.settlementAccount ?? null,
    maxAmount: record.maxAmount === undefined ? null : amountToDecimal({ currency: record.maxAmountCurrency ?? "KZT", minorUnits: record.maxAmount }),
    maxAmountCurrency: record.maxAmountCurrency ?? null,
    validationProfile: record.validationProfile,
    signingKeys: record.signingKeys.map((key) => ({ ...key, createdAt: key.createdAt.toISOString(), revokedAt: key.revokedAt?.toISOString() ?? null })),
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

/** "5000.125" BHD -> 5000125n: as many decimals as the currency has (ISO 4217), no more. */
export function decimalToMinor(text: string, currency: string): bigint {
  try {
    if (!/^\d{1,18}(\.\d{1,4})?$/.test(text)) throw new AmountError("AMOUNT_SYNTAX", "not a decimal amount");
    return amountFromDecimal(text, currency).minorUnits;
  } catch (error) {
    if (!(error instanceof AmountError)) throw error;
    throw new CorrespondentError("CORRESPONDENT_INVALID", `maxAmount must be a decimal amount in ${currency} (${error.message}), got ${JSON.stringify(text)}`);
  }
}

/** The limit as the store takes it: minor units of its currency (KZT unless named), or null to remove it. */
export function limitOf(value: string | null | undefined, currency: string | undefined): { maxAmount?: bigint | null; maxAmountCurrency?: string } {
  if (value === undefined) {
    if (currency !== undefined) throw new CorrespondentError("CORRESPONDENT_INVALID", "maxAmountCurrency goes with maxAmount");
    return {};
  }
  if (value === null) return { maxAmount: null };
  const limitCurrency = currency ?? "KZT";
  return { maxAmount: decimalToMinor(value, limitCurrency), maxAmountCurrency: limitCurrency };
}
