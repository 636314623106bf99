-- Whether a stored message holds the preimage (a pacs.002 ACSC): the API shows such a message only once
-- its PvP is settled. Set when the message is recorded; rows from before are marked by their /PRIM/ tag.
ALTER TABLE pvp_message ADD COLUMN carries_preimage boolean NOT NULL DEFAULT false;
UPDATE pvp_message SET carries_preimage = true WHERE xml LIKE '%/PRIM/%';
