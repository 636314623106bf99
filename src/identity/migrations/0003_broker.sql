-- Brokers (exchange members settling DvPs, docs/dvp.md): bound to their institution's BIC and the DT
-- participant that services their digital accounts, like banks; their holdings on a securities ledger are
-- registered in identity.ledger_accounts.
ALTER TABLE identity.principals DROP CONSTRAINT principals_role_check;
ALTER TABLE identity.principals ADD CONSTRAINT principals_role_check CHECK (role IN ('operator', 'bank', 'correspondent', 'exchange', 'broker'));
