-- The engine runs two kinds of hash-locked exchange from one table: PvP (cash against cash) and DvP
-- (tokenized securities against DT cash, docs/dvp.md). A DvP keeps its trade terms (ISIN, quantity, the
-- brokers and their holdings) in exchange_terms; it waits for its counterparty broker's affirmation before
-- anything is locked (awaiting_affirmation).
ALTER TABLE pvp ADD COLUMN kind text NOT NULL DEFAULT 'pvp' CHECK (kind IN ('pvp', 'dvp'));
ALTER TABLE pvp ADD COLUMN exchange_terms jsonb;
ALTER TABLE pvp ADD COLUMN awaiting_affirmation boolean NOT NULL DEFAULT false;
CREATE INDEX pvp_kind_created ON pvp (our_agent, kind, created_at DESC, id DESC);
