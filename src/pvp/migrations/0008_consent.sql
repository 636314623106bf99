-- Consent of the counterparty for the foreign legs this gateway moves with keys it holds (EVM ledgers).

-- Standing terms, per correspondent and corridor (the foreign ledger and its currency against KZT on DT).
-- Amounts are minor units of the foreign currency: what the counterparty's float may lose to PvPs.
CREATE TABLE pvp_standing_terms (
  counterparty_agent text NOT NULL REFERENCES pvp_correspondent (bic) ON DELETE CASCADE,
  foreign_ledger text NOT NULL,
  foreign_currency text NOT NULL CHECK (foreign_currency ~ '^[A-Z]{3}$'),
  max_foreign_amount numeric(38, 0) NOT NULL CHECK (max_foreign_amount > 0),
  daily_foreign_amount numeric(38, 0) NOT NULL CHECK (daily_foreign_amount > 0),
  -- Largest distance from the reference rate, in basis points of it, either way.
  rate_band_bps integer NOT NULL CHECK (rate_band_bps BETWEEN 0 AND 10000),
  -- The counterparty's own settlement accounts on DT: the only DT beneficiaries allowed.
  dt_beneficiaries text[] NOT NULL CHECK (cardinality(dt_beneficiaries) > 0),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (counterparty_agent, foreign_ledger, foreign_currency)
);

-- Reference rates the operator maintains: KZT per one major unit of the foreign currency, a decimal text.
CREATE TABLE pvp_reference_rate (
  foreign_currency text PRIMARY KEY CHECK (foreign_currency ~ '^[A-Z]{3}$'),
  rate text NOT NULL CHECK (rate ~ '^\d{1,12}(\.\d{1,9})?$'),
  set_by text NOT NULL,
  set_at timestamptz NOT NULL DEFAULT now()
);

-- What each corridor's PvPs took of its daily limit (UTC days). Reserved in the transaction that writes
-- the PvP, with a conditional upsert, so two creations at once cannot both pass a limit only one fits.
CREATE TABLE pvp_terms_usage (
  counterparty_agent text NOT NULL,
  foreign_ledger text NOT NULL,
  foreign_currency text NOT NULL,
  day date NOT NULL,
  used numeric(38, 0) NOT NULL CHECK (used >= 0),
  PRIMARY KEY (counterparty_agent, foreign_ledger, foreign_currency, day)
);

-- Quotes the counterparty signed, each consumed by exactly one PvP: the primary key is the once-only guarantee.
CREATE TABLE pvp_quote (
  quote_id text PRIMARY KEY,
  counterparty_agent text NOT NULL,
  key_id text NOT NULL,
  -- The signed bytes (JSON) and the Ed25519 signature over them, kept so anyone can verify them again.
  payload text NOT NULL,
  signature text NOT NULL,
  pvp_id text NOT NULL UNIQUE,
  consumed_by text NOT NULL,
  consumed_at timestamptz NOT NULL DEFAULT now()
);

-- Every change of terms and reference rates, who made it and what it was.
CREATE TABLE pvp_consent_audit (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  action text NOT NULL,
  subject text NOT NULL,
  detail jsonb NOT NULL
);
