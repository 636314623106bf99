CREATE SCHEMA proof_of_collateral;

-- Every attestation the gateway published: the signed document exactly as served, plus the figures the
-- history endpoint lists without parsing it.
CREATE TABLE proof_of_collateral.attestations (
  id bigserial PRIMARY KEY,
  issued_at timestamptz NOT NULL,
  collateral int8 NOT NULL,
  supply int8 NOT NULL,
  ledger_height int8 NOT NULL,
  block_number int8 NOT NULL,
  healthy boolean NOT NULL,
  alerts text[] NOT NULL,
  document text NOT NULL
);
CREATE INDEX attestations_issued ON proof_of_collateral.attestations (issued_at DESC);
