-- The directory of correspondent central banks. Their signing keys are identity credentials of the
-- principal named here (role correspondent), so the request verifier reads them at use time.
CREATE TABLE pvp_correspondent (
  bic text PRIMARY KEY CHECK (bic ~ '^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$'),
  name text NOT NULL,
  base_url text NOT NULL,
  -- The identity principal (identity.principals) that holds its signing keys.
  principal_id text NOT NULL UNIQUE,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  -- Responder side: accounts on our ledger that may pay when this correspondent instructs us.
  liquidity_accounts text[] NOT NULL DEFAULT '{}',
  -- Largest amount of one PvP leg it may instruct, in minor units of the leg's currency; NULL = no limit.
  max_amount bigint CHECK (max_amount IS NULL OR max_amount > 0),
  validation_profile text NOT NULL DEFAULT 'cbpr+',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
