-- The order messages were recorded in, for ties of `at` (one clock instant): the status-request chase
-- asks whether the last word about a PvP is ours, which needs a total order of its log.
ALTER TABLE pvp_message ADD COLUMN seq bigserial;
