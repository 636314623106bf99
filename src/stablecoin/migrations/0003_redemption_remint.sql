-- A redemption whose DT payout was refused may be re-minted to its redeemer instead: a mint request that
-- reverses it on chain (TengeStablecoin.reverseRedemption). The unique key makes it at most one per redemption.
ALTER TABLE stablecoin.mint_requests ADD COLUMN reverses_redemption text UNIQUE REFERENCES stablecoin.redemptions (id);

-- The operators' audit records re-mints too: no DT account is named, the mint request is.
ALTER TABLE stablecoin.redemption_actions DROP CONSTRAINT redemption_actions_action_check;
ALTER TABLE stablecoin.redemption_actions ADD CONSTRAINT redemption_actions_action_check CHECK (action IN ('rerouted', 'reminted'));
ALTER TABLE stablecoin.redemption_actions ALTER COLUMN to_dt_account DROP NOT NULL;
ALTER TABLE stablecoin.redemption_actions ADD COLUMN mint_id text REFERENCES stablecoin.mint_requests (id);
