CREATE SCHEMA identity;

-- Who calls the gateway: operators, banks (DT participants), correspondent central banks, exchanges.
CREATE TABLE identity.principals (
  id text PRIMARY KEY,
  role text NOT NULL CHECK (role IN ('operator', 'bank', 'correspondent', 'exchange')),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

-- API keys are stored as SHA-256 of their 32 random secret bytes; Ed25519 keys as their raw public key.
CREATE TABLE identity.credentials (
  id text PRIMARY KEY,
  principal_id text NOT NULL REFERENCES identity.principals (id),
  kind text NOT NULL CHECK (kind IN ('api_key', 'ed25519')),
  secret_hash bytea,
  public_key bytea,
  label text,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  CHECK ((kind = 'api_key') = (secret_hash IS NOT NULL)),
  CHECK ((kind = 'ed25519') = (public_key IS NOT NULL))
);
CREATE INDEX credentials_principal ON identity.credentials (principal_id);

-- Nonces of signed requests, kept until their signature could no longer be accepted anyway.
CREATE TABLE identity.request_nonces (
  key_id text NOT NULL,
  nonce text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (key_id, nonce)
);
CREATE INDEX request_nonces_expiry ON identity.request_nonces (expires_at);
