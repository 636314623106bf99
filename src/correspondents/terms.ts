import { CodedError } from "../core/errors.ts";
import { ledgerKindOf } from "../core/ledger-name.ts";
import { amountToDecimal, currencyMinorUnits } from "../core/money.ts";
import type { Database, Queryable } from "../persistence/database.ts";

/**
 * Standing terms: what a correspondent lets this gateway move of its funds on a foreign ledger the gateway
 * holds keys for, per corridor (foreign ledger + currency, against KZT on DT). Kept in the directory of
 * correspondents; set by the operator on the correspondent's word, every change audited.
 */
export interface StandingTerms {
  counterpartyAgent: string;
  foreignLedger: string;
  foreignCurrency: string;
  /** Largest foreign leg of one PvP, minor units of the foreign currency. */
  maxForeignAmount: bigint;
  /** Largest sum of foreign legs created per UTC day, minor units of the foreign currency. */
  dailyForeignAmount: bigint;
  /** Largest distance of a PvP's rate from the reference rate, in basis points of it. */
  rateBandBps: number;
  /** The counterparty's own settlement accounts on DT: the only DT beneficiaries allowed. */
  dtBeneficiaries: string[];
  updatedBy: string;
  updatedAt: Date;
}

export type NewStandingTerms = Omit<StandingTerms, "updatedBy" | "updatedAt">;

/** KZT per one major unit of a foreign currency, as the operator maintains it. */
export interface ReferenceRate {
  foreignCurrency: string;
  /** Decimal text, up to 9 decimals ("125.00"). */
  rate: string;
  setBy: string;
  setAt: Date;
}

export interface ConsentAuditEntry {
  id: string;
  at: Date;
  actor: string;
  action: string;
  subject: string;
  detail: Record<string, unknown>;
}

export type TermsErrorCode = "TERMS_INVALID" | "TERMS_NOT_FOUND" | "CORRESPONDENT_NOT_FOUND";
export class TermsError extends CodedError<TermsErrorCode> {}

const RATE = /^(\d{1,12})(?:\.(\d{1,9}))?$/;

/** A reference rate as a fraction: "125.5" -> 1255 / 10. */
export function rateFraction(rate: string): { numerator: bigint; denominator: bigint } {
  const match = RATE.exec(rate);
  if (!match) throw new TermsError("TERMS_INVALID", `rate must be a positive decimal with at most 9 decimals, got ${JSON.stringify(rate)}`);
  const fraction = match[2] ?? "";
  const numerator = BigInt(match[1]! + fraction);
  if (numerator === 0n) throw new TermsError("TERMS_INVALID", "rate must be positive");
  return { numerator, denominator: 10n ** BigInt(fraction.length) };
}

/**
 * Whether a PvP's rate (KZT per foreign major unit) lies within `bandBps` of the reference, either way.
 * Everything in integers: the two legs' minor units differ (ISO 4217 exponents), so both are scaled first.
 * rate = (dt / 10^dtExp) / (foreign / 10^fExp); |rate - ref| <= ref * band / 10000.
 */
export function withinRateBand(leg: { dtAmount: bigint; dtCurrency: string; foreignAmount: bigint; foreignCurrency: string }, reference: string, bandBps: number): boolean {
  const dtExponent = currencyMinorUnits(leg.dtCurrency);
  const foreignExponent = currencyMinorUnits(leg.foreignCurrency);
  if (dtExponent === undefined || foreignExponent === undefined || leg.foreignAmount <= 0n) return false;
  const { numerator, denominator } = rateFraction(reference);
  // rate = dt * 10^fExp / (foreign * 10^dtExp); ref = numerator / denominator. Cross-multiplied:
  const rateSide = leg.dtAmount * 10n ** BigInt(foreignExponent) * denominator;
  const referenceSide = numerator * leg.foreignAmount * 10n ** BigInt(dtExponent);
  const distance = rateSide > referenceSide ? rateSide - referenceSide : referenceSide - rateSide;
  return distance * 10_000n <= referenceSide * BigInt(bandBps);
}

function checkTerms(terms: NewStandingTerms): void {
  if (currencyMinorUnits(terms.foreignCurrency) === undefined) throw new TermsError("TERMS_INVALID", `unknown ISO 4217 currency ${terms.foreignCurrency}`);
  if (ledgerKindOf(terms.foreignLedger).kind === "peer") throw new TermsError("TERMS_INVALID", "peer legs are locked by the correspondent's own gateway under its own terms; standing terms are for ledgers this gateway holds keys on");
  if (terms.maxForeignAmount <= 0n || terms.dailyForeignAmount <= 0n) throw new TermsError("TERMS_INVALID", "limits must be positive");
  if (terms.maxForeignAmount > terms.dailyForeignAmount) throw new TermsError("TERMS_INVALID", "the per-PvP limit cannot exceed the daily limit");
  if (!Number.isInteger(terms.rateBandBps) || terms.rateBandBps < 0 || terms.rateBandBps > 10_000) throw new TermsError("TERMS_INVALID", "rateBandBps must be an integer from 0 to 10000");
  if (terms.dtBeneficiaries.length === 0 || terms.dtBeneficiaries.some((account) => account.trim() === "" || account.length > 128)) {
    throw new TermsError("TERMS_INVALID", "name at least one DT settlement account of the counterparty (1 to 128 characters each)");
  }
}

interface TermsRow {
  counterparty_agent: string;
  foreign_ledger: string;
  foreign_currency: string;
  max_foreign_amount: string;
  daily_foreign_amount: string;
  rate_band_bps: number;
  dt_beneficiaries: string[];
  updated_by: string;
  updated_at: Date;
}

const termsFromRow = (row: TermsRow): StandingTerms => ({
  counterpartyAgent: row.counterparty_agent,
  foreignLedger: row.foreign_ledger,
  foreignCurrency: row.foreign_currency,
  maxForeignAmount: BigInt(row.max_foreign_amount),
  dailyForeignAmount: BigInt(row.daily_foreign_amount),
  rateBandBps: row.rate_band_bps,
  dtBeneficiaries: row.dt_beneficiaries,
  updatedBy: row.updated_by,
  updatedAt: row.updated_at,
});

const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/** One entry of the consent audit trail (terms, rates, FX providers), in the caller's transaction. */
export async function audit(db: Queryable, actor: string, action: string, subject: string, detail: Record<string, unknown>): Promise<void> {
  await db.query("INSERT INTO pvp_consent_audit (actor, action, subject, detail) VALUES ($1, $2, $3, $4)", [actor, action, subject, JSON.stringify(detail)]);
}

/** The SQL of standing terms, reference rates, daily usage and their audit trail. */
export const termsStore = {
  /** Sets (creates or replaces) a corridor's terms, with its audit record, in one transaction. */
  async setTerms(db: Database, terms: NewStandingTerms, actor: string): Promise<StandingTerms> {
    checkTerms(terms);
    await db.transaction(async (tx) => {
      const known = await tx.query("SELECT 1 FROM pvp_correspondent WHERE bic = $1", [terms.counterpartyAgent]);
      if (known.rowCount === 0) throw new TermsError("CORRESPONDENT_NOT_FOUND", `no correspondent ${terms.counterpartyAgent} in the directory`);
      await tx.query(
        `INSERT INTO pvp_standing_terms (counterparty_agent, foreign_ledger, foreign_currency, max_foreign_amount, daily_foreign_amount, rate_band_bps, dt_beneficiaries, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
         ON CONFLICT (counterparty_agent, foreign_ledger, foreign_currency) DO UPDATE SET max_foreign_amount = EXCLUDED.max_foreign_amount,
           daily_foreign_amount = EXCLUDED.daily_foreign_amount, rate_band_bps = EXCLUDED.rate_band_bps, dt_beneficiaries = EXCLUDED.dt_beneficiaries,
           updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [terms.counterpartyAgent, terms.foreignLedger, terms.foreignCurrency, terms.maxForeignAmount.toString(), terms.dailyForeignAmount.toString(), terms.rateBandBps, terms.dtBeneficiaries, actor],
      );
      await audit(tx, actor, "terms.set", `${terms.counterpartyAgent}/${terms.foreignLedger}/${terms.foreignCurrency}`, {
        maxForeignAmount: terms.maxForeignAmount.toString(),
        dailyForeignAmount: terms.dailyForeignAmount.toString(),
        rateBandBps: terms.rateBandBps,
        dtBeneficiaries: terms.dtBeneficiaries,
      });
    });
    return (await this.terms(db, terms.counterpartyAgent, terms.foreignLedger, terms.foreignCurrency))!;
  },

  async removeTerms(db: Database, corridor: { counterpartyAgent: string; foreignLedger: string; foreignCurrency: string }, actor: string): Promise<void> {
    await db.transaction(async (tx) => {
      const removed = await tx.query("DELETE FROM pvp_standing_terms WHERE counterparty_agent = $1 AND foreign_ledger = $2 AND foreign_currency = $3", [
        corridor.counterpartyAgent,
        corridor.foreignLedger,
        corridor.foreignCurrency,
      ]);
      if (removed.rowCount === 0) throw new TermsError("TERMS_NOT_FOUND", `no standing terms for ${corridor.counterpartyAgent} on ${corridor.foreignLedger} in ${corridor.foreignCurrency}`);
      await audit(tx, actor, "terms.removed", `${corridor.counterpartyAgent}/${corridor.foreignLedger}/${corridor.foreignCurrency}`, {});
    });
  },

  async terms(db: Queryable, counterpartyAgent: string, foreignLedger: string, foreignCurrency: string): Promise<StandingTerms | undefined> {
    const row = (
      await db.query<TermsRow>("SELECT * FROM pvp_standing_terms WHERE counterparty_agent = $1 AND foreign_ledger = $2 AND foreign_currency = $3", [counterpartyAgent, foreignLedger, foreignCurrency])
    ).rows[0];
    return row ? termsFromRow(row) : undefined;
  },

  /** Every corridor's terms (of one correspondent), with what today's PvPs used of the daily limit. */
  async listTerms(db: Queryable, now: Date, counterpartyAgent?: string): Promise<Array<StandingTerms & { usedToday: bigint }>> {
    const rows = (
      await db.query<TermsRow & { used: string | null }>(
        `SELECT t.*, u.used FROM pvp_standing_terms t
           LEFT JOIN pvp_terms_usage u ON u.counterparty_agent = t.counterparty_agent AND u.foreign_ledger = t.foreign_ledger AND u.foreign_currency = t.foreign_currency AND u.day = $2::date
          WHERE ($1::text IS NULL OR t.counterparty_agent = $1) ORDER BY t.counterparty_agent, t.foreign_ledger, t.foreign_currency`,
        [counterpartyAgent ?? null, utcDay(now)],
      )
    ).rows;
    return rows.map((row) => ({ ...termsFromRow(row), usedToday: BigInt(row.used ?? "0") }));
  },

  /**
   * Takes `amount` from the corridor's limit for the UTC day of `at`, inside the caller's transaction; false
   * (nothing taken) when it does not fit. The conditional upsert holds the row lock until the caller commits,
   * so a concurrent creation sees the sum including this one.
   */
  async reserveDaily(tx: Queryable, terms: StandingTerms, amount: bigint, at: Date): Promise<boolean> {
    if (amount > terms.dailyForeignAmount) return false;
    const taken = await tx.query(
      `INSERT INTO pvp_terms_usage AS u (counterparty_agent, foreign_ledger, foreign_currency, day, used) VALUES ($1, $2, $3, $4::date, $5)
       ON CONFLICT (counterparty_agent, foreign_ledger, foreign_currency, day) DO UPDATE SET used = u.used + EXCLUDED.used
        WHERE u.used + EXCLUDED.used <= $6
       RETURNING used`,
      [terms.counterpartyAgent, terms.foreignLedger, terms.foreignCurrency, utcDay(at), amount.toString(), terms.dailyForeignAmount.toString()],
    );
    return taken.rowCount > 0;
  },

  async setReferenceRate(db: Database, foreignCurrency: string, rate: string, actor: string): Promise<ReferenceRate> {
    if (currencyMinorUnits(foreignCurrency) === undefined) throw new TermsError("TERMS_INVALID", `unknown ISO 4217 currency ${foreignCurrency}`);
    rateFraction(rate);
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO pvp_reference_rate (foreign_currency, rate, set_by, set_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (foreign_currency) DO UPDATE SET rate = EXCLUDED.rate, set_by = EXCLUDED.set_by, set_at = now()`,
        [foreignCurrency, rate, actor],
      );
      await audit(tx, actor, "reference_rate.set", foreignCurrency, { rate, quotedIn: "KZT" });
    });
    return (await this.referenceRate(db, foreignCurrency))!;
  },

  async referenceRate(db: Queryable, foreignCurrency: string): Promise<ReferenceRate | undefined> {
    return (await this.referenceRates(db)).find((rate) => rate.foreignCurrency === foreignCurrency);
  },

  async referenceRates(db: Queryable): Promise<ReferenceRate[]> {
    const rows = (await db.query<{ foreign_currency: string; rate: string; set_by: string; set_at: Date }>("SELECT * FROM pvp_reference_rate ORDER BY foreign_currency")).rows;
    return rows.map((row) => ({ foreignCurrency: row.foreign_currency, rate: row.rate, setBy: row.set_by, setAt: row.set_at }));
  },

  /** The audit trail of terms and rates, newest first. */
  async auditTrail(db: Queryable, limit = 100): Promise<ConsentAuditEntry[]> {
    const rows = (
      await db.query<{ id: string; at: Date; actor: string; action: string; subject: string; detail: Record<string, unknown> | string }>(
        "SELECT id::text AS id, at, actor, action, subject, detail FROM pvp_consent_audit ORDER BY id DESC LIMIT $1",
        [Math.min(limit, 500)],
      )
    ).rows;
    return rows.map((row) => ({ ...row, detail: typeof row.detail === "string" ? (JSON.parse(row.detail) as Record<string, unknown>) : row.detail }));
  },
};

/** Standing terms as the API and the CLI show them: amounts in the foreign currency's decimals. */
export function standingTermsToJson(terms: StandingTerms & { usedToday?: bigint }): Record<string, unknown> {
  const money = (minorUnits: bigint) => amountToDecimal({ currency: terms.foreignCurrency, minorUnits });
  return {
    counterpartyAgent: terms.counterpartyAgent,
    foreignLedger: terms.foreignLedger,
    foreignCurrency: terms.foreignCurrency,
    maxAmount: money(terms.maxForeignAmount),
    dailyLimit: money(terms.dailyForeignAmount),
    ...(terms.usedToday === undefined ? {} : { usedToday: money(terms.usedToday) }),
    rateBandBps: terms.rateBandBps,
    dtBeneficiaries: terms.dtBeneficiaries,
    updatedBy: terms.updatedBy,
    updatedAt: terms.updatedAt.toISOString(),
  };
}
