import { createHash, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import { CodedError } from "../core/errors.ts";
import { sqlState, type Queryable } from "../persistence/database.ts";
import { ed25519PublicKey } from "./http-signature.ts";
import { BIC_PATTERN, type Institution, type Principal, type Role } from "./principal.ts";

export interface PrincipalRecord {
  id: string;
  role: Role;
  name: string;
  institution: Institution | undefined;
  createdAt: Date;
  revokedAt: Date | null;
  credentials: CredentialRecord[];
}

export interface CredentialRecord {
  id: string;
  kind: "api_key" | "ed25519";
  label: string | null;
  /** Hex of the raw Ed25519 public key (signing keys only). */
  publicKey: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export type IdentityErrorCode =
  | "PRINCIPAL_NOT_FOUND"
  | "CREDENTIAL_NOT_FOUND"
  | "INVALID_PUBLIC_KEY"
  | "DUPLICATE_ID"
  | "DUPLICATE_KEY_ID"
  | "INSTITUTION_REQUIRED"
  | "INSTITUTION_NOT_ALLOWED"
  | "LEDGER_ACCOUNT_TAKEN"
  | "PUBLIC_KEY_TAKEN";

export class IdentityError extends CodedError<IdentityErrorCode> {}

const API_KEY_PATTERN = /^tgk_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;
const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest();
const newId = (prefix: string) => `${prefix}_${randomBytes(8).toString("hex")}`;

/**
 * Principals and their credentials. API keys are shown once at creation and stored only as a hash;
 * signing keys are Ed25519 public keys that sign requests (RFC 9421) under their credential id.
 */
export class IdentityStore {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /**
   * Registers a principal. Banks need their institution's BIC and DT participant, correspondents and
   * exchanges their BIC; operators have none (they act for the gateway itself).
   */
  async createPrincipal(role: Role, name: string, id: string = newId(role), institution?: Institution): Promise<string> {
    checkInstitution(role, institution);
    try {
      await this.#db.query("INSERT INTO identity.principals (id, role, name, institution_bic, dt_participant) VALUES ($1, $2, $3, $4, $5)", [
        id,
        role,
        name,
        institution?.bic ?? null,
        institution?.dtParticipant ?? null,
      ]);
    } catch (error) {
      if (sqlState(error) === "23505") throw new IdentityError("DUPLICATE_ID", "that id is taken");
      throw error;
    }
    return id;
  }

  /**
   * Registers an account on a foreign ledger (an EVM address) as the institution's: banks may name it as a
   * PvP foreign leg's payer or beneficiary only for that institution. An account has one owner per ledger.
   */
  async registerLedgerAccount(bic: string, ledger: string, account: string): Promise<void> {
    if (!new RegExp(BIC_PATTERN).test(bic)) throw new IdentityError("INSTITUTION_REQUIRED", `${bic} is not a BIC`);
    const inserted = await this.#db.query(
      "INSERT INTO identity.ledger_accounts (ledger, account, institution_bic) VALUES ($1, $2, $3) ON CONFLICT (ledger, account) DO NOTHING",
      [ledger, ledgerAccountKey(account), bic],
    );
    if (inserted.rowCount === 0 && (await this.ledgerAccountOwner(ledger, account)) !== bic) {
      throw new IdentityError("LEDGER_ACCOUNT_TAKEN", `${account} on ${ledger} is registered for another institution`);
    }
  }

  /** The BIC of the institution an account on a foreign ledger is registered for, or undefined. */
  async ledgerAccountOwner(ledger: string, account: string): Promise<string | undefined> {
    const result = await this.#db.query<{ institution_bic: string }>("SELECT institution_bic FROM identity.ledger_accounts WHERE ledger = $1 AND account = $2", [
      ledger,
      ledgerAccountKey(account),
    ]);
    return result.rows[0]?.institution_bic;
  }

  async ledgerAccounts(bic: string): Promise<Array<{ ledger: string; account: string }>> {
    const result = await this.#db.query<{ ledger: string; account: string }>(
      "SELECT ledger, account FROM identity.ledger_accounts WHERE institution_bic = $1 ORDER BY ledger, account",
      [bic],
    );
    return result.rows.map((row) => ({ ledger: row.ledger, account: row.account }));
  }

  /** Issues an API key; the returned secret is not stored and cannot be shown again. */
  async issueApiKey(principalId: string, label?: string): Promise<{ credentialId: string; apiKey: string }> {
    await this.#requirePrincipal(principalId);
    const keyHex = randomBytes(8).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const credentialId = `tgk_${keyHex}`;
    await this.#db.query(
      "INSERT INTO identity.credentials (id, principal_id, kind, secret_hash, label) VALUES ($1, $2, 'api_key', $3, $4)",
      [credentialId, principalId, sha256(secret), label ?? null],
    );
    return { credentialId, apiKey: `${credentialId}_${secret}` };
  }

  /**
   * Registers an API key issued earlier (stored as its hash, as issued keys are). The embedded demo keeps
   * its keys per data directory and registers them again in each fresh database, so they keep working.
   */
  async importApiKey(principalId: string, apiKey: string, label?: string): Promise<{ credentialId: string }> {
    await this.#requirePrincipal(principalId);
    const match = API_KEY_PATTERN.exec(apiKey);
    if (!match) throw new IdentityError("CREDENTIAL_NOT_FOUND", "not an API key of this gateway (tgk_<16 hex>_<43 base64url>)");
    const credentialId = `tgk_${match[1]}`;
    await this.#db.query(
      "INSERT INTO identity.credentials (id, principal_id, kind, secret_hash, label) VALUES ($1, $2, 'api_key', $3, $4)",
      [credentialId, principalId, sha256(match[2]!), label ?? null],
    );
    return { credentialId };
  }

  /** Registers an Ed25519 public key (32 raw bytes, hex or base64) under a key id the caller signs with. */
  async registerSigningKey(principalId: string, publicKey: string, keyId?: string, label?: string): Promise<string> {
    await this.#requirePrincipal(principalId);
    const raw = decodeKey(publicKey);
    if (!raw) throw new IdentityError("INVALID_PUBLIC_KEY", "publicKey must be 32 bytes of Ed25519 public key, hex or base64");
    const id = keyId ?? newId("key");
    const existing = await this.#db.query("SELECT 1 FROM identity.credentials WHERE id = $1", [id]);
    if (existing.rowCount > 0) throw new IdentityError("DUPLICATE_KEY_ID", `key id ${id} is taken`);
    // A key belongs to one institution (a principal without one is its own): else a message signed for one
    // would pass as the other's. The check and the insert are one statement; revoked keys count too.
    const inserted = await this.#db.query(
      `INSERT INTO identity.credentials (id, principal_id, kind, public_key, label)
       SELECT $1, $2, 'ed25519', $3, $4
        WHERE NOT EXISTS (
          SELECT 1 FROM identity.credentials c
            JOIN identity.principals holder ON holder.id = c.principal_id
            JOIN identity.principals asker ON asker.id = $2
           WHERE c.public_key = $3
             AND COALESCE(holder.institution_bic, 'principal:' || holder.id) <> COALESCE(asker.institution_bic, 'principal:' || asker.id))`,
      [id, principalId, raw, label ?? null],
    );
    if (inserted.rowCount === 0) throw new IdentityError("PUBLIC_KEY_TAKEN", "this public key is registered for another institution; each institution signs with its own keys");
    return id;
  }

  /** Revokes one credential (API key or signing key) by its id; the principal and its other credentials stay. */
  async revokeCredential(id: string): Promise<void> {
    const result = await this.#db.query("UPDATE identity.credentials SET revoked_at = LEAST(coalesce(revoked_at, now()), now()) WHERE id = $1", [id]);
    if (result.rowCount === 0) throw new IdentityError("CREDENTIAL_NOT_FOUND", `no credential ${id}`);
  }

  /** Revokes a principal and every credential it holds. */
  async revokePrincipal(id: string): Promise<void> {
    // One statement: the principal and its credentials are revoked together or not at all.
    const result = await this.#db.query<{ id: string }>(
      `WITH principal AS (
         UPDATE identity.principals SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING id
       ), credentials AS (
         UPDATE identity.credentials SET revoked_at = LEAST(coalesce(revoked_at, now()), now()) WHERE principal_id IN (SELECT id FROM principal)
       )
       SELECT id FROM principal`,
      [id],
    );
    if (result.rowCount === 0) throw new IdentityError("PRINCIPAL_NOT_FOUND", `no principal ${id}`);
  }

  async list(): Promise<PrincipalRecord[]> {
    const principals = await this.#db.query<{
      id: string;
      role: Role;
      name: string;
      institution_bic: string | null;
      dt_participant: string | null;
      created_at: Date;
      revoked_at: Date | null;
    }>("SELECT id, role, name, institution_bic, dt_participant, created_at, revoked_at FROM identity.principals ORDER BY created_at, id");
    const credentials = await this.#db.query<{
      id: string;
      principal_id: string;
      kind: "api_key" | "ed25519";
      label: string | null;
      public_key: Uint8Array | null;
      created_at: Date;
      revoked_at: Date | null;
    }>("SELECT id, principal_id, kind, label, public_key, created_at, revoked_at FROM identity.credentials ORDER BY created_at, id");
    return principals.rows.map((row) => ({
      id: row.id,
      role: row.role,
      name: row.name,
      institution: institutionOf(row),
      createdAt: row.created_at,
      revokedAt: row.revoked_at,
      credentials: credentials.rows
        .filter((credential) => credential.principal_id === row.id)
        .map((credential) => ({
          id: credential.id,
          kind: credential.kind,
          label: credential.label,
          publicKey: credential.public_key ? Buffer.from(credential.public_key).toString("hex") : null,
          createdAt: credential.created_at,
          revokedAt: credential.revoked_at,
        })),
    }));
  }

  /** The principal behind an API key, or undefined (unknown, wrong secret, or revoked). */
  async authenticateApiKey(apiKey: string): Promise<Principal | undefined> {
    const match = API_KEY_PATTERN.exec(apiKey);
    if (!match) return undefined;
    const row = await this.#activeCredential(`tgk_${match[1]}`, "api_key");
    if (!row?.secret_hash) return undefined;
    const presented = sha256(match[2]!);
    if (!timingSafeEqual(presented, Buffer.from(row.secret_hash))) return undefined;
    return { id: row.principal_id, role: row.role, name: row.name, institution: institutionOf(row), credentialId: row.id };
  }

  /** The public key and principal of an active signing key. */
  async signingKey(keyId: string): Promise<{ key: KeyObject; principal: Principal } | undefined> {
    const row = await this.#activeCredential(keyId, "ed25519");
    if (!row?.public_key) return undefined;
    return {
      key: ed25519PublicKey(row.public_key),
      principal: { id: row.principal_id, role: row.role, name: row.name, institution: institutionOf(row), credentialId: row.id },
    };
  }

  /**
   * Records a request nonce until `keepUntil` (past the last moment its signature is acceptable, see
   * NONCE_RETENTION_MARGIN_SECONDS); false if the key already used it. Expired nonces are pruned on the way.
   */
  async rememberNonce(keyId: string, nonce: string, keepUntil: Date): Promise<boolean> {
    const inserted = await this.#db.query(
      "INSERT INTO identity.request_nonces (key_id, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
      [keyId, nonce, keepUntil],
    );
    if (Math.random() < 0.01) await this.#db.query("DELETE FROM identity.request_nonces WHERE expires_at < now()");
    return inserted.rowCount === 1;
  }

  async #requirePrincipal(principalId: string): Promise<void> {
    const found = await this.#db.query("SELECT 1 FROM identity.principals WHERE id = $1 AND revoked_at IS NULL", [principalId]);
    if (found.rowCount === 0) throw new IdentityError("PRINCIPAL_NOT_FOUND", `no active principal ${principalId}`);
  }

  async #activeCredential(id: string, kind: "api_key" | "ed25519") {
    const result = await this.#db.query<{
      id: string;
      principal_id: string;
      secret_hash: Uint8Array | null;
      public_key: Uint8Array | null;
      role: Role;
      name: string;
      institution_bic: string | null;
      dt_participant: string | null;
    }>(
      `SELECT c.id, c.principal_id, c.secret_hash, c.public_key, p.role, p.name, p.institution_bic, p.dt_participant
         FROM identity.credentials c JOIN identity.principals p ON p.id = c.principal_id
        WHERE c.id = $1 AND c.kind = $2 AND (c.revoked_at IS NULL OR c.revoked_at > now()) AND p.revoked_at IS NULL`,
      [id, kind],
    );
    return result.rows[0];
  }
}

/**
 * The institution a new bank, correspondent or exchange principal must name (operator API and CLI):
 * banks their BIC and DT participant, the others their BIC; operators none.
 */
export function institutionFor(role: Role, bic: string | undefined, dtParticipant: string | undefined): Institution | undefined {
  if (role === "operator") {
    if (bic !== undefined || dtParticipant !== undefined) throw new IdentityError("INSTITUTION_NOT_ALLOWED", "operators act for the gateway and have no institution");
    return undefined;
  }
  if (bic === undefined) throw new IdentityError("INSTITUTION_REQUIRED", `a ${role} principal needs its institution's BIC`);
  if ((role === "bank" || role === "broker") && dtParticipant === undefined) {
    throw new IdentityError("INSTITUTION_REQUIRED", `a ${role} principal needs the DT participant that services its accounts`);
  }
  const institution = dtParticipant === undefined ? { bic } : { bic, dtParticipant };
  checkInstitution(role, institution);
  return institution;
}

function institutionOf(row: { institution_bic: string | null; dt_participant: string | null }): Institution | undefined {
  if (row.institution_bic === null) return undefined;
  return row.dt_participant === null ? { bic: row.institution_bic } : { bic: row.institution_bic, dtParticipant: row.dt_participant };
}

function checkInstitution(role: Role, institution: Institution | undefined): void {
  if (role === "operator") {
    if (institution) throw new IdentityError("INSTITUTION_NOT_ALLOWED", "operators act for the gateway and have no institution");
    return;
  }
  if (institution === undefined) return;
  if (!new RegExp(BIC_PATTERN).test(institution.bic)) throw new IdentityError("INSTITUTION_REQUIRED", `${institution.bic} is not a BIC`);
  const paysOnDt = role === "bank" || role === "broker";
  if (paysOnDt && !institution.dtParticipant) throw new IdentityError("INSTITUTION_REQUIRED", `a ${role} needs the DT participant that services its accounts`);
  if (!paysOnDt && institution.dtParticipant) throw new IdentityError("INSTITUTION_NOT_ALLOWED", "only banks and brokers have a DT participant");
}

/** EVM addresses compare case-insensitively (EIP-55 is only a checksum). */
function ledgerAccountKey(account: string): string {
  return /^0x[0-9a-fA-F]{40}$/.test(account) ? account.toLowerCase() : account;
}

function decodeKey(text: string): Uint8Array | undefined {
  const trimmed = text.trim().replace(/^0x/, "");
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  return bytes.length === 32 ? new Uint8Array(bytes) : undefined;
}
