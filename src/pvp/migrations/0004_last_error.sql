-- The last failure the engine met on a PvP (a ledger command refused or retried, a leg not readable, a step
-- that failed), so the API and `pvp show` say why a PvP does not move. Never a preimage or a key.
ALTER TABLE pvp ADD COLUMN last_error text;
ALTER TABLE pvp ADD COLUMN last_error_at timestamptz;
