-- One pool, several chains (docs/stablecoin.md "Several chains"): every mint request names the chain it mints
-- on. NULL marks a request written before this migration; the component gives those to the first configured
-- chain when it starts, so a later reordering of STABLECOIN_CHAINS cannot move them.
ALTER TABLE stablecoin.mint_requests ADD COLUMN chain_id bigint;
CREATE INDEX mint_requests_chain_work ON stablecoin.mint_requests (chain_id, state)
  WHERE state IN ('deposited', 'signed', 'submitted');

-- A minter key may sign on several chains, each with its own nonces: the row is per (chain, minter). 0 marks
-- a row from before this migration, adopted by the first configured chain at start like the requests.
ALTER TABLE stablecoin.minter_nonces ADD COLUMN chain_id bigint NOT NULL DEFAULT 0;
ALTER TABLE stablecoin.minter_nonces DROP CONSTRAINT minter_nonces_pkey;
ALTER TABLE stablecoin.minter_nonces ADD PRIMARY KEY (chain_id, minter);
ALTER TABLE stablecoin.minter_nonces ALTER COLUMN chain_id DROP DEFAULT;

-- Issuance allotments the gateway relayed to a chain (submitIssuanceAllotment, signed by the chain's minter key
-- under its nonce lock) so that a mint there fits the chain's limit. Relaying is harmless to repeat (the token
-- refuses an older sequence); the rows let a stuck or lost relay be resent or replaced instead of guessed at.
CREATE TABLE stablecoin.allotment_relays (
  hash text PRIMARY KEY,
  chain_id bigint NOT NULL,
  sequence numeric NOT NULL,
  minter text NOT NULL,
  nonce int8 NOT NULL,
  raw text NOT NULL,
  -- 'pending' until a receipt or a taken nonce settles it: 'mined', 'reverted' or 'dropped'.
  outcome text NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'mined', 'reverted', 'dropped')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX allotment_relays_pending ON stablecoin.allotment_relays (chain_id, created_at) WHERE outcome = 'pending';
