-- The account exchanges pay mint deposits into; the gateway moves matched ones on into the segregated wallet.
ALTER TABLE dt_ledger.accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE dt_ledger.accounts ADD CONSTRAINT accounts_kind_check
  CHECK (kind IN ('individual', 'legal_entity', 'government_agency', 'exchange', 'segregated_wallet', 'collateral_intake'));
