-- The operator's issuance allotments of a segregated wallet to the chains whose tokens it backs (issue 22):
-- every signed allotment, kept as signed, one row per sequence. Limits only rise between rows; the latest
-- row is the book the next allotment starts from.
CREATE TABLE dt_ledger.issuance_allotments (
  account_id text NOT NULL REFERENCES dt_ledger.accounts (id),
  sequence int8 NOT NULL CHECK (sequence > 0),
  allotment jsonb NOT NULL,
  signature text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, sequence)
);
