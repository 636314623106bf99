CREATE SCHEMA stablecoin;

-- Exchanges onboarded by an operator (KYB happens outside). Each has an `exchange` principal in identity.
CREATE TABLE stablecoin.exchanges (
  id text PRIMARY KEY,
  principal_id text NOT NULL UNIQUE REFERENCES identity.principals (id),
  name text NOT NULL,
  dt_account text NOT NULL UNIQUE,
  -- Checksummed EVM addresses the exchange may receive mints on and redeem from.
  evm_addresses text[] NOT NULL CHECK (cardinality(evm_addresses) > 0),
  per_mint_limit int8 NOT NULL CHECK (per_mint_limit > 0),
  daily_limit int8 NOT NULL CHECK (daily_limit >= per_mint_limit),
  status text NOT NULL CHECK (status IN ('active', 'suspended')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Mint requests: a durable state machine (see src/stablecoin/mint-state.ts). `version` counts transitions.
CREATE TABLE stablecoin.mint_requests (
  id text PRIMARY KEY,
  reference text NOT NULL UNIQUE,
  exchange_id text NOT NULL REFERENCES stablecoin.exchanges (id),
  amount int8 NOT NULL CHECK (amount > 0),
  to_address text NOT NULL,
  state text NOT NULL,
  deposit_event_id text UNIQUE,
  deposited_at timestamptz,
  -- The signed collateral statement the mint transaction carries (JSON, bigints as strings).
  statement jsonb,
  minted_tx_hash text,
  minted_block bigint,
  attempts integer NOT NULL DEFAULT 0,
  failure_code text,
  failure_message text,
  submitted_at timestamptz,
  minted_at timestamptz,
  -- When a worker should look at the request again (waiting for confirmations, a stuck transaction).
  next_check_at timestamptz NOT NULL DEFAULT now(),
  version integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mint_requests_work ON stablecoin.mint_requests (state, updated_at)
  WHERE state IN ('deposited', 'signed', 'submitted');
CREATE INDEX mint_requests_exchange ON stablecoin.mint_requests (exchange_id, created_at);

-- Every signed mint transaction, recorded before it is sent: reconciliation finds a mint by receipt.
CREATE TABLE stablecoin.mint_transactions (
  hash text PRIMARY KEY,
  mint_id text NOT NULL REFERENCES stablecoin.mint_requests (id),
  minter text NOT NULL,
  nonce int8 NOT NULL,
  raw text NOT NULL,
  -- 'pending' until reconciled: 'mined' (success), 'reverted', 'dropped' (its nonce went to another tx).
  outcome text NOT NULL DEFAULT 'pending',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mint_transactions_mint ON stablecoin.mint_transactions (mint_id);

-- The next nonce of each minter key, allocated under a row lock so two gateway processes never share one.
CREATE TABLE stablecoin.minter_nonces (
  minter text PRIMARY KEY,
  next_nonce int8 NOT NULL,
  -- Ledger height of the latest statement this minter sent in a transaction: later mints with the same
  -- statement skip it (the token refuses a height it already accepted) and rely on the earlier nonce.
  statement_height int8 NOT NULL DEFAULT 0
);

-- DT payments into the segregated wallet, one row per ledger event (the event id makes it exactly once).
CREATE TABLE stablecoin.deposits (
  event_id text PRIMARY KEY,
  ledger_transaction_id text NOT NULL,
  from_account text NOT NULL,
  amount int8 NOT NULL,
  reference text NOT NULL,
  height bigint NOT NULL,
  booked_at timestamptz NOT NULL,
  -- 'matched' to a mint request, 'held' for an operator, or 'returned' to the sender.
  status text NOT NULL CHECK (status IN ('matched', 'held', 'returned')),
  hold_reason text,
  mint_id text REFERENCES stablecoin.mint_requests (id),
  exchange_id text,
  return_transaction_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deposits_held ON stablecoin.deposits (status) WHERE status = 'held';

-- Where each follower stopped: the DT ledger event cursor and the last scanned chain block.
CREATE TABLE stablecoin.cursors (
  name text PRIMARY KEY,
  position text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Redeemed logs of the token, keyed as the chain names them. A log is paid only once confirmed and
-- still canonical; a log a reorganisation removed is marked 'removed' and never paid.
CREATE TABLE stablecoin.redemptions (
  id text PRIMARY KEY,
  chain_id bigint NOT NULL,
  tx_hash text NOT NULL,
  log_index integer NOT NULL,
  block_number bigint NOT NULL,
  block_hash text NOT NULL,
  holder text NOT NULL,
  amount int8 NOT NULL,
  dt_account text NOT NULL,
  exchange_id text,
  state text NOT NULL,
  payout_transaction_id text,
  failure_code text,
  failure_message text,
  attempts integer NOT NULL DEFAULT 0,
  paid_at timestamptz,
  next_check_at timestamptz NOT NULL DEFAULT now(),
  version integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (chain_id, tx_hash, log_index)
);
CREATE INDEX redemptions_work ON stablecoin.redemptions (state) WHERE state IN ('seen', 'confirmed', 'paying');
CREATE INDEX redemptions_exchange ON stablecoin.redemptions (exchange_id, created_at);
