-- The BIC of the bank that created a PvP (its principal's institution): the bank's notices (camt.054 of
-- its customer's debit) are addressed to it. NULL for PvPs an operator created and for responder PvPs.
ALTER TABLE pvp ADD COLUMN bank_agent text;
