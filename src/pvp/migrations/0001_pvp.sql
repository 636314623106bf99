-- PvP engine: one row per PvP, its timeline, the outbox of ledger commands and messages, and every
-- ISO 20022 message sent or received (replay protection by BizMsgIdr and UETR).
CREATE TABLE pvp (
  id text PRIMARY KEY,
  -- The PvP id both gateways use in messages (/PVP/ tag): ours as initiator, the initiator's as responder.
  pvp_ref text NOT NULL,
  role text NOT NULL CHECK (role IN ('initiator', 'responder')),
  state text NOT NULL,
  version integer NOT NULL DEFAULT 0,
  uetr uuid NOT NULL,
  hash_lock text NOT NULL,
  -- The secret: the initiator's from creation, the responder's once revealed. Never logged.
  preimage text,
  -- The responder only learns the foreign leg from the pacs.009; the DT leg stays with the initiator.
  dt_leg jsonb,
  foreign_leg jsonb NOT NULL,
  dt_reference text,
  foreign_reference text,
  our_agent text NOT NULL,
  counterparty_agent text NOT NULL,
  created_by text NOT NULL,
  -- Last status the correspondent reported for the leg on its side (peer legs only).
  peer_status text,
  peer_reason text,
  cancel_requested boolean NOT NULL DEFAULT false,
  dt_lock_refused boolean NOT NULL DEFAULT false,
  foreign_lock_refused boolean NOT NULL DEFAULT false,
  dt_lock_issued boolean NOT NULL DEFAULT false,
  foreign_lock_issued boolean NOT NULL DEFAULT false,
  reason_code text,
  -- The pacs.009 every later message refers to (PvpOriginal of the ISO layer).
  instruction jsonb,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  next_run_at timestamptz NOT NULL,
  -- False once the PvP is final and its outbox is empty: workers no longer look at it.
  active boolean NOT NULL DEFAULT true,
  lease_owner text,
  lease_until timestamptz,
  UNIQUE (our_agent, role, uetr)
);
CREATE INDEX pvp_due ON pvp (our_agent, next_run_at) WHERE active;
CREATE INDEX pvp_state ON pvp (state, created_at);

CREATE TABLE pvp_timeline (
  seq bigserial PRIMARY KEY,
  pvp_id text NOT NULL REFERENCES pvp (id),
  at timestamptz NOT NULL,
  kind text NOT NULL,
  from_state text,
  to_state text,
  event text,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX pvp_timeline_pvp ON pvp_timeline (pvp_id, seq);

CREATE TABLE pvp_outbox (
  id bigserial PRIMARY KEY,
  pvp_id text NOT NULL REFERENCES pvp (id),
  command text NOT NULL,
  side text,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  idempotency_key text NOT NULL UNIQUE,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'cancelled', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  last_error text,
  created_at timestamptz NOT NULL,
  done_at timestamptz
);
CREATE INDEX pvp_outbox_pending ON pvp_outbox (pvp_id, id) WHERE status = 'pending';

CREATE TABLE pvp_message (
  business_message_id text NOT NULL,
  direction text NOT NULL CHECK (direction IN ('in', 'out')),
  pvp_id text REFERENCES pvp (id),
  message_type text NOT NULL,
  uetr uuid,
  counterparty text NOT NULL,
  summary jsonb NOT NULL DEFAULT '{}'::jsonb,
  xml text NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (direction, counterparty, business_message_id)
);
CREATE INDEX pvp_message_pvp ON pvp_message (pvp_id, at);
