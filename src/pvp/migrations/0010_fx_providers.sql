-- FX providers a counterparty lets sign quotes for it: their quote-signing keys (kept apart from identity
-- credentials, so a provider's key signs quotes and nothing else: no request to this gateway), and which
-- counterparty names which provider, on its word.
CREATE TABLE pvp_fx_provider_key (
  key_id text PRIMARY KEY,
  provider_id text NOT NULL CHECK (provider_id ~ '^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$'),
  provider_name text NOT NULL,
  public_key bytea NOT NULL UNIQUE,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

CREATE TABLE pvp_counterparty_fx_provider (
  counterparty_agent text NOT NULL REFERENCES pvp_correspondent (bic) ON DELETE CASCADE,
  provider_id text NOT NULL,
  named_by text NOT NULL,
  named_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (counterparty_agent, provider_id)
);
