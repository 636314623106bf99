-- Operator actions on redemptions whose DT payout was refused: who did what, when, from which account to
-- which. Written in the same database transaction as the state change it records.
CREATE TABLE stablecoin.redemption_actions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  redemption_id text NOT NULL REFERENCES stablecoin.redemptions (id),
  action text NOT NULL CHECK (action IN ('rerouted')),
  principal_id text NOT NULL,
  from_dt_account text NOT NULL,
  to_dt_account text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX redemption_actions_redemption ON stablecoin.redemption_actions (redemption_id, at);
