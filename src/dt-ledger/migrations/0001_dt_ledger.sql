-- The embedded Digital Tenge ledger: participants, digital accounts, UTXO tokens with a notary, holds,
-- committed ledger transactions (the height), booked entries and the event log. Amounts are tiyn.
CREATE SCHEMA IF NOT EXISTS dt_ledger;

CREATE TABLE dt_ledger.participants (
  id text PRIMARY KEY CHECK (id ~ '^[A-Z0-9]{3,16}$'),
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('central_bank', 'bank', 'treasury', 'gateway')),
  -- Raw Ed25519 public key that signs the participant's HTTP requests (RFC 9421); null: in-process only.
  public_key bytea CHECK (public_key IS NULL OR length(public_key) = 32),
  registered_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dt_ledger.accounts (
  id text PRIMARY KEY,
  participant_id text NOT NULL REFERENCES dt_ledger.participants (id),
  kind text NOT NULL CHECK (kind IN ('individual', 'legal_entity', 'government_agency', 'exchange', 'segregated_wallet')),
  holder_name text NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  opened_at timestamptz NOT NULL,
  closed_at timestamptz
);
CREATE INDEX accounts_participant ON dt_ledger.accounts (participant_id);

-- One row: the height of the last committed ledger transaction. Taking the next height is the last
-- statement of every ledger transaction, so heights are gap-free and follow commit order.
CREATE TABLE dt_ledger.head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  height bigint NOT NULL
);
INSERT INTO dt_ledger.head (singleton, height) VALUES (true, 0);

CREATE TABLE dt_ledger.transactions (
  id uuid PRIMARY KEY,
  height bigint NOT NULL UNIQUE,
  kind text NOT NULL,
  submitted_by text NOT NULL REFERENCES dt_ledger.participants (id),
  booked_at timestamptz NOT NULL,
  from_account text,
  to_account text,
  amount bigint,
  reference text,
  payment_type text,
  hold_id uuid
);

CREATE TABLE dt_ledger.holds (
  id uuid PRIMARY KEY,
  owner_account text NOT NULL REFERENCES dt_ledger.accounts (id),
  beneficiary_account text NOT NULL REFERENCES dt_ledger.accounts (id),
  amount bigint NOT NULL CHECK (amount > 0),
  hash_lock bytea CHECK (hash_lock IS NULL OR length(hash_lock) = 32),
  event_id text,
  expires_at timestamptz NOT NULL,
  reference text NOT NULL,
  status text NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'released', 'refunded')),
  created_by text NOT NULL REFERENCES dt_ledger.participants (id),
  created_in uuid NOT NULL,
  settled_in uuid,
  preimage bytea,
  CHECK ((hash_lock IS NULL) <> (event_id IS NULL)),
  CHECK (preimage IS NULL OR status = 'released')
);
CREATE INDEX holds_expiring ON dt_ledger.holds (expires_at) WHERE status = 'held';
CREATE INDEX holds_owner ON dt_ledger.holds (owner_account) WHERE status = 'held';
CREATE INDEX holds_beneficiary ON dt_ledger.holds (beneficiary_account) WHERE status = 'held';

-- UTXO tokens: a token is created once and spent once; spending consumes it whole.
CREATE TABLE dt_ledger.tokens (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id text NOT NULL REFERENCES dt_ledger.accounts (id),
  amount bigint NOT NULL CHECK (amount > 0),
  -- Encumbered by this hold: only its release or refund may spend the token.
  hold_id uuid REFERENCES dt_ledger.holds (id),
  created_in uuid NOT NULL,
  spent_in uuid
);
CREATE INDEX tokens_spendable ON dt_ledger.tokens (account_id, amount DESC) WHERE spent_in IS NULL AND hold_id IS NULL;
CREATE INDEX tokens_unspent ON dt_ledger.tokens (account_id) WHERE spent_in IS NULL;
CREATE INDEX tokens_held ON dt_ledger.tokens (hold_id) WHERE hold_id IS NOT NULL AND spent_in IS NULL;

-- The notary: one row per spent token, the token id as primary key. A second spend of a token cannot
-- commit, whatever process tries it.
CREATE TABLE dt_ledger.spends (
  token_id bigint PRIMARY KEY REFERENCES dt_ledger.tokens (id),
  transaction_id uuid NOT NULL
);

-- Booked entries: the changes of an account's booked balance (available + held), for statements.
CREATE TABLE dt_ledger.entries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id uuid NOT NULL,
  height bigint NOT NULL,
  account_id text NOT NULL REFERENCES dt_ledger.accounts (id),
  amount bigint NOT NULL CHECK (amount <> 0),
  kind text NOT NULL,
  counterparty_account text,
  reference text NOT NULL,
  hold_id uuid,
  payment_type text,
  booked_at timestamptz NOT NULL
);
CREATE INDEX entries_account ON dt_ledger.entries (account_id, height);

-- The event log subscribers read from a cursor (height, ordinal).
CREATE TABLE dt_ledger.events (
  height bigint NOT NULL,
  ordinal integer NOT NULL,
  type text NOT NULL,
  payload jsonb NOT NULL,
  -- Participants allowed to read the event (the NBK reads every event).
  visible_to text[] NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (height, ordinal)
);

-- Idempotency: one row per (participant, key); a retry finds the first result here.
CREATE TABLE dt_ledger.requests (
  participant_id text NOT NULL,
  idempotency_key text NOT NULL,
  operation text NOT NULL,
  fingerprint text NOT NULL,
  result_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (participant_id, idempotency_key)
);

-- Nonces of signed HTTP requests, kept until the signature would be too old anyway.
CREATE TABLE dt_ledger.nonces (
  key_id text NOT NULL,
  nonce text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (key_id, nonce)
);
CREATE INDEX nonces_expiry ON dt_ledger.nonces (expires_at);
