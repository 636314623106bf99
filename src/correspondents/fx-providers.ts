import type { KeyObject } from "node:crypto";
import type { Database, Queryable } from "../persistence/database.ts";
import { ed25519PublicKey } from "../identity/http-signature.ts";
import { audit, TermsError } from "./terms.ts";

/**
 * FX providers a counterparty names to sign quotes for it (issue 18: "a quote the counterparty, or an FX
 * provider it names, signed"). A provider's keys sign quotes only: they are not identity credentials, so
 * they authenticate no request to this gateway. Set by the operator on the counterparty's word, audited.
 */
export interface FxProviderKey {
  keyId: string;
  providerId: string;
  providerName: string;
  /** Raw Ed25519 public key, hex. */
  publicKey: string;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | undefined;
  /** The counterparties that name this provider. */
  namedBy: string[];
}

const BIC = /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;
const KEY_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function rawKey(text: string): Buffer {
  const trimmed = text.trim().replace(/^0x/, "");
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (bytes.length !== 32) throw new TermsError("TERMS_INVALID", "publicKey must be 32 bytes of Ed25519 public key, hex or base64");
  return bytes;
}

interface KeyRow {
  key_id: string;
  provider_id: string;
  provider_name: string;
  public_key: Uint8Array;
  created_by: string;
  created_at: Date;
  revoked_at: Date | null;
  named_by: string[] | null;
}

const KEY_SELECT = `SELECT k.*, (SELECT array_agg(n.counterparty_agent ORDER BY n.counterparty_agent) FROM pvp_counterparty_fx_provider n WHERE n.provider_id = k.provider_id) AS named_by
  FROM pvp_fx_provider_key k`;

const keyFromRow = (row: KeyRow): FxProviderKey => ({
  keyId: row.key_id,
  providerId: row.provider_id,
  providerName: row.provider_name,
  publicKey: Buffer.from(row.public_key).toString("hex"),
  createdBy: row.created_by,
  createdAt: row.created_at,
  revokedAt: row.revoked_at ?? undefined,
  namedBy: row.named_by ?? [],
});

export const fxProviderStore = {
  /**
   * Registers a quote-signing key of an FX provider. A key id or public key already known (here or as any
   * identity credential: a correspondent's, a bank's) is refused, so no key ever speaks for two parties.
   */
  async addKey(db: Database, key: { providerId: string; providerName: string; keyId: string; publicKey: string }, actor: string): Promise<FxProviderKey> {
    if (!BIC.test(key.providerId)) throw new TermsError("TERMS_INVALID", `FX provider id ${JSON.stringify(key.providerId)} is not a BIC`);
    if (!KEY_ID.test(key.keyId)) throw new TermsError("TERMS_INVALID", "keyId must be 1 to 128 characters of A-Z, a-z, 0-9, . _ : -");
    if (key.providerName.trim() === "" || key.providerName.length > 140) throw new TermsError("TERMS_INVALID", "name must be 1 to 140 characters");
    const raw = rawKey(key.publicKey);
    await db.transaction(async (tx) => {
      const taken = await tx.query(
        `SELECT 1 FROM pvp_fx_provider_key WHERE key_id = $1 OR public_key = $2
         UNION ALL SELECT 1 FROM identity.credentials WHERE id = $1 OR public_key = $2`,
        [key.keyId, raw],
      );
      if (taken.rowCount > 0) throw new TermsError("TERMS_INVALID", "this key id or public key is registered already; each party signs with its own keys");
      await tx.query("INSERT INTO pvp_fx_provider_key (key_id, provider_id, provider_name, public_key, created_by) VALUES ($1, $2, $3, $4, $5)", [
        key.keyId,
        key.providerId,
        key.providerName,
        raw,
        actor,
      ]);
      await audit(tx, actor, "fx_provider.key_added", key.providerId, { keyId: key.keyId, publicKey: raw.toString("hex") });
    });
    return (await this.list(db)).find((entry) => entry.keyId === key.keyId)!;
  },

  async revokeKey(db: Database, providerId: string, keyId: string, actor: string): Promise<void> {
    await db.transaction(async (tx) => {
      const revoked = await tx.query("UPDATE pvp_fx_provider_key SET revoked_at = coalesce(revoked_at, now()) WHERE key_id = $1 AND provider_id = $2", [keyId, providerId]);
      if (revoked.rowCount === 0) throw new TermsError("TERMS_NOT_FOUND", `FX provider ${providerId} has no key ${keyId}`);
      await audit(tx, actor, "fx_provider.key_revoked", providerId, { keyId });
    });
  },

  /** Replaces the FX providers a counterparty names (an empty list: only its own signature counts). */
  async setNamed(db: Database, counterpartyAgent: string, providerIds: string[], actor: string): Promise<string[]> {
    const unique = [...new Set(providerIds)].sort();
    for (const id of unique) if (!BIC.test(id)) throw new TermsError("TERMS_INVALID", `FX provider id ${JSON.stringify(id)} is not a BIC`);
    if (unique.includes(counterpartyAgent)) throw new TermsError("TERMS_INVALID", "a counterparty signs its own quotes with its own keys; name other providers only");
    await db.transaction(async (tx) => {
      const known = await tx.query("SELECT 1 FROM pvp_correspondent WHERE bic = $1", [counterpartyAgent]);
      if (known.rowCount === 0) throw new TermsError("CORRESPONDENT_NOT_FOUND", `no correspondent ${counterpartyAgent} in the directory`);
      await tx.query("DELETE FROM pvp_counterparty_fx_provider WHERE counterparty_agent = $1", [counterpartyAgent]);
      for (const id of unique) {
        await tx.query("INSERT INTO pvp_counterparty_fx_provider (counterparty_agent, provider_id, named_by) VALUES ($1, $2, $3)", [counterpartyAgent, id, actor]);
      }
      await audit(tx, actor, "fx_providers.named", counterpartyAgent, { providers: unique });
    });
    return unique;
  },

  async named(db: Queryable, counterpartyAgent: string): Promise<string[]> {
    const rows = (await db.query<{ provider_id: string }>("SELECT provider_id FROM pvp_counterparty_fx_provider WHERE counterparty_agent = $1 ORDER BY provider_id", [counterpartyAgent])).rows;
    return rows.map((row) => row.provider_id);
  },

  async list(db: Queryable): Promise<FxProviderKey[]> {
    return (await db.query<KeyRow>(`${KEY_SELECT} ORDER BY k.provider_id, k.created_at, k.key_id`)).rows.map(keyFromRow);
  },

  /** An active quote-signing key, its provider and the counterparties that name it. */
  async activeKey(db: Queryable, keyId: string): Promise<{ key: KeyObject; providerId: string; namedBy: string[] } | undefined> {
    const row = (await db.query<KeyRow>(`${KEY_SELECT} WHERE k.key_id = $1 AND k.revoked_at IS NULL`, [keyId])).rows[0];
    if (!row) return undefined;
    return { key: ed25519PublicKey(new Uint8Array(row.public_key)), providerId: row.provider_id, namedBy: row.named_by ?? [] };
  },
};

export function fxProviderKeyToJson(key: FxProviderKey): Record<string, unknown> {
  return {
    keyId: key.keyId,
    providerId: key.providerId,
    providerName: key.providerName,
    publicKey: key.publicKey,
    namedBy: key.namedBy,
    createdBy: key.createdBy,
    createdAt: key.createdAt.toISOString(),
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}
