-- A revoked participant's key no longer authenticates any request; its accounts and history stay.
ALTER TABLE dt_ledger.participants ADD COLUMN revoked_at timestamptz;
