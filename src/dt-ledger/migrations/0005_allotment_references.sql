-- Each allotment request names its change once for all retries (issue 22): `mint:<id>`, `move:<id>`,
-- `chain:<chainId>:<token>`. The same reference again answers the row that first applied it, so a retried
-- mint or move is never allotted twice. Rows signed before this migration have none.
ALTER TABLE dt_ledger.issuance_allotments
  ADD COLUMN reference text CHECK (length(reference) BETWEEN 1 AND 128),
  ADD COLUMN change jsonb;

CREATE UNIQUE INDEX issuance_allotments_reference ON dt_ledger.issuance_allotments (account_id, reference);
