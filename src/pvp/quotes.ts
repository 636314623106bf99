import { verify, type KeyObject } from "node:crypto";
import { CodedError } from "../core/errors.ts";
import { amountFromDecimal } from "../core/money.ts";
import type { Queryable } from "../persistence/database.ts";

/**
 * A quote the counterparty signed: the exact terms of one PvP, under a once-only id, until an expiry.
 * The bank passes it at creation as the signed bytes (JSON text) and an Ed25519 signature over exactly those
 * bytes, so there is no canonical form to agree on: what was signed is what is read and what is stored.
 */
export interface SignedQuote {
  /** The signed JSON text of a `Quote`. */
  payload: string;
  /** Ed25519 signature over the payload's UTF-8 bytes, hex. */
  signature: string;
  /** The id of a signing key registered for the counterparty (its directory keys). */
  keyId: string;
}

export interface Quote {
  quoteId: string;
  counterpartyAgent: string;
  /** The bank the quote is for; absent = any bank may use it (once). */
  bankAgent?: string;
  dtAmount: bigint;
  dtCurrency: string;
  dtBeneficiary: string;
  foreignLedger: string;
  foreignAmount: bigint;
  foreignCurrency: string;
  /** KZT per major unit of the foreign currency, as quoted (decimal text); must agree with the amounts. */
  rate: string;
  expiresAt: Date;
}

export type QuoteErrorCode = "QUOTE_INVALID" | "QUOTE_SIGNATURE_INVALID" | "QUOTE_EXPIRED" | "QUOTE_TERMS_MISMATCH" | "QUOTE_ALREADY_USED";
export class QuoteError extends CodedError<QuoteErrorCode> {}

const text = (value: unknown, field: string, max = 128): string => {
  if (typeof value !== "string" || value.length === 0 || value.length > max) throw new QuoteError("QUOTE_INVALID", `quote field ${field} must be a string of 1 to ${max} characters`);
  return value;
};

/** Reads a quote's payload; any missing or malformed field refuses it. */
export function readQuote(payload: string): Quote {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    throw new QuoteError("QUOTE_INVALID", "the quote payload is not JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new QuoteError("QUOTE_INVALID", "the quote payload is not a JSON object");
  const dtCurrency = text(json["dtCurrency"], "dtCurrency", 3);
  const foreignCurrency = text(json["foreignCurrency"], "foreignCurrency", 3);
  const expiresAt = new Date(text(json["expiresAt"], "expiresAt", 40));
  if (Number.isNaN(expiresAt.getTime())) throw new QuoteError("QUOTE_INVALID", "quote field expiresAt must be a date-time");
  const amount = (field: string, currency: string) => {
    try {
      return amountFromDecimal(text(json[field], field, 40), currency).minorUnits;
    } catch {
      throw new QuoteError("QUOTE_INVALID", `quote field ${field} must be a decimal amount in ${currency}`);
    }
  };
  const quote: Quote = {
    quoteId: text(json["quoteId"], "quoteId", 64),
    counterpartyAgent: text(json["counterpartyAgent"], "counterpartyAgent", 11),
    dtAmount: amount("dtAmount", dtCurrency),
    dtCurrency,
    dtBeneficiary: text(json["dtBeneficiary"], "dtBeneficiary"),
    foreignLedger: text(json["foreignLedger"], "foreignLedger", 64),
    foreignAmount: amount("foreignAmount", foreignCurrency),
    foreignCurrency,
    rate: text(json["rate"], "rate", 24),
    expiresAt,
  };
  if (json["bankAgent"] !== undefined) quote.bankAgent = text(json["bankAgent"], "bankAgent", 11);
  return quote;
}

/** Whether the signature over the payload verifies with the key. */
export function quoteSignatureValid(quote: SignedQuote, key: KeyObject): boolean {
  if (!/^[0-9a-fA-F]{128}$/.test(quote.signature)) return false;
  try {
    return verify(null, Buffer.from(quote.payload, "utf8"), key, Buffer.from(quote.signature, "hex"));
  } catch {
    return false;
  }
}

export interface ConsumedQuote {
  quoteId: string;
  counterpartyAgent: string;
  keyId: string;
  payload: string;
  signature: string;
  pvpId: string;
  consumedBy: string;
  consumedAt: Date;
}

/** The SQL of consumed quotes: the primary key on the quote id is the once-only guarantee. */
export const quoteStore = {
  /** Consumes a quote for a PvP inside the caller's transaction; refused when any PvP consumed it before. */
  async consume(tx: Queryable, quote: Quote, signed: SignedQuote, pvpId: string, consumedBy: string): Promise<void> {
    const inserted = await tx.query(
      `INSERT INTO pvp_quote (quote_id, counterparty_agent, key_id, payload, signature, pvp_id, consumed_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (quote_id) DO NOTHING`,
      [quote.quoteId, quote.counterpartyAgent, signed.keyId, signed.payload, signed.signature.toLowerCase(), pvpId, consumedBy],
    );
    if (inserted.rowCount === 0) throw new QuoteError("QUOTE_ALREADY_USED", `quote ${quote.quoteId} was used by another PvP already`);
  },

  async list(db: Queryable, limit = 100): Promise<ConsumedQuote[]> {
    const rows = (
      await db.query<{ quote_id: string; counterparty_agent: string; key_id: string; payload: string; signature: string; pvp_id: string; consumed_by: string; consumed_at: Date }>(
        "SELECT * FROM pvp_quote ORDER BY consumed_at DESC, quote_id LIMIT $1",
        [Math.min(limit, 500)],
      )
    ).rows;
    return rows.map((row) => ({
      quoteId: row.quote_id,
      counterpartyAgent: row.counterparty_agent,
      keyId: row.key_id,
      payload: row.payload,
      signature: row.signature,
      pvpId: row.pvp_id,
      consumedBy: row.consumed_by,
      consumedAt: row.consumed_at,
    }));
  },
};
