-- Moves of stablecoin between chains of one pool (docs/stablecoin.md "Moving between chains"): one row per
-- MovedOut log, keyed as the source chain names it, so a log seen twice (or forged into a second scan) is one
-- move. `target_chain_id` is set once, when the move asks the DT ledger for its allotment: the destination,
-- or the source for a refund. One reference per move (`move:<id>`), so the ledger allots one of the two.
CREATE TABLE stablecoin.moves (
  id text PRIMARY KEY,
  source_chain_id bigint NOT NULL,
  tx_hash text NOT NULL,
  log_index integer NOT NULL,
  block_number bigint NOT NULL,
  block_hash text NOT NULL,
  holder text NOT NULL,
  amount int8 NOT NULL CHECK (amount > 0),
  destination_chain_id numeric NOT NULL,
  recipient text NOT NULL,
  exchange_id text REFERENCES stablecoin.exchanges (id),
  state text NOT NULL,
  target_chain_id bigint,
  refund_reason text,
  allotment_sequence numeric,
  attempts integer NOT NULL DEFAULT 0,
  failure_code text,
  failure_message text,
  settled_at timestamptz,
  next_check_at timestamptz NOT NULL DEFAULT now(),
  version integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_chain_id, tx_hash, log_index)
);
CREATE INDEX moves_work ON stablecoin.moves (source_chain_id, state) WHERE state IN ('seen', 'confirmed', 'allotting', 'minting');
CREATE INDEX moves_exchange ON stablecoin.moves (exchange_id, created_at);

-- The mint that completes a move (on the destination, or back on the source as a refund): at most one per
-- move, minted by the chain's mint worker like any other request, with no deposit behind it.
ALTER TABLE stablecoin.mint_requests ADD COLUMN move_id text UNIQUE REFERENCES stablecoin.moves (id);

-- Operators' refund requests for moves, written in the same transaction as the state change.
CREATE TABLE stablecoin.move_actions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  move_id text NOT NULL REFERENCES stablecoin.moves (id),
  action text NOT NULL CHECK (action IN ('refund')),
  principal_id text NOT NULL,
  reason text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX move_actions_move ON stablecoin.move_actions (move_id, at);
