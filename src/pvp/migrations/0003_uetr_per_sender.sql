-- UETRs are scoped per correspondent: one correspondent reusing another's UETR gets a PvP of its own,
-- never the other's.
ALTER TABLE pvp DROP CONSTRAINT pvp_our_agent_role_uetr_key;
ALTER TABLE pvp ADD CONSTRAINT pvp_uetr_per_counterparty UNIQUE (our_agent, role, counterparty_agent, uetr);

-- A BizMsgIdr a correspondent already used, sent again with other bytes: refused (409) and kept here for
-- investigation; the first message stays the one acted on.
CREATE TABLE pvp_message_conflict (
  seq bigserial PRIMARY KEY,
  counterparty text NOT NULL,
  business_message_id text NOT NULL,
  xml text NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX pvp_message_conflict_sender ON pvp_message_conflict (counterparty, business_message_id);
