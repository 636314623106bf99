-- Each attestation's chains (version 2 documents cover every chain the token is issued on), so the history
-- lists each chain beside the total without parsing documents. `supply` of attestations stays the total.
CREATE TABLE proof_of_collateral.attestation_chains (
  attestation_id int8 NOT NULL REFERENCES proof_of_collateral.attestations (id),
  position integer NOT NULL,
  chain_id int8 NOT NULL,
  token text NOT NULL,
  supply int8 NOT NULL,
  block_number int8 NOT NULL,
  -- The chain's issuance limit in force at block_number; NULL for a token without allotments.
  issuance_limit numeric(78, 0),
  PRIMARY KEY (attestation_id, chain_id),
  UNIQUE (attestation_id, position)
);

-- Version 1 documents name their one chain in attestation.supply.
INSERT INTO proof_of_collateral.attestation_chains (attestation_id, position, chain_id, token, supply, block_number, issuance_limit)
SELECT id, 0, (document::jsonb #>> '{attestation,supply,chainId}')::int8, document::jsonb #>> '{attestation,supply,token}', supply, block_number, NULL
  FROM proof_of_collateral.attestations;
