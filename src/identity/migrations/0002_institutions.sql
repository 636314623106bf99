-- Every bank, correspondent and exchange principal acts for an institution: its BIC and, for a bank, the
-- DT participant that services its customers' digital accounts (a bank pays only from those).
ALTER TABLE identity.principals ADD COLUMN institution_bic text
  CHECK (institution_bic IS NULL OR institution_bic ~ '^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$');
ALTER TABLE identity.principals ADD COLUMN dt_participant text;
ALTER TABLE identity.principals ADD CONSTRAINT principals_operator_no_institution
  CHECK (role <> 'operator' OR (institution_bic IS NULL AND dt_participant IS NULL));

-- Accounts on foreign ledgers (EVM addresses, lowercase) the operator registered for an institution: the
-- only payers and beneficiaries a bank may name on those ledgers. One owner per account and ledger.
CREATE TABLE identity.ledger_accounts (
  ledger text NOT NULL,
  account text NOT NULL,
  institution_bic text NOT NULL CHECK (institution_bic ~ '^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ledger, account)
);
CREATE INDEX ledger_accounts_institution ON identity.ledger_accounts (institution_bic);
