-- A correspondent's limit is in one currency, so its decimals are that currency's (ISO 4217 minor units):
-- 3 for BHD or KWD, 0 for JPY. Limits set before were entered with 2 decimals, as KZT.
ALTER TABLE pvp_correspondent ADD COLUMN max_amount_currency text CHECK (max_amount_currency ~ '^[A-Z]{3}$');
UPDATE pvp_correspondent SET max_amount_currency = 'KZT' WHERE max_amount IS NOT NULL;
ALTER TABLE pvp_correspondent ADD CONSTRAINT pvp_correspondent_limit_has_currency CHECK ((max_amount IS NULL) = (max_amount_currency IS NULL));
