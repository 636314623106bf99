-- One timed attestation per interval across every gateway process: the process that inserts the
-- interval's slot issues it; the others serve the latest from the table.
CREATE TABLE proof_of_collateral.attestation_slots (
  interval_ms integer NOT NULL,
  slot bigint NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (interval_ms, slot)
);
