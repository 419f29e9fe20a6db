-- 0006: least privilege and accountability (issue 15).
--
-- API keys carry scopes (space-separated audit.Scope names), may expire and
-- may be limited to a time window they read (auditor keys). The column's
-- default is the empty set, which authorises nothing, so an insert that
-- forgot the scopes fails closed; the UPDATE makes every key that existed
-- before this an admin key, which is exactly the access it had.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
ALTER TABLE api_keys ADD COLUMN window_start BIGINT;
ALTER TABLE api_keys ADD COLUMN window_end BIGINT;
UPDATE api_keys SET scopes = 'admin';

-- Who asked for an export: the key (its id, and its name then, so the
-- record still reads after the key is renamed or gone), or the schedule
-- (schedule_id). Empty for exports made before this.
ALTER TABLE exports ADD COLUMN requester_key_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE exports ADD COLUMN requester_key_name TEXT NOT NULL DEFAULT '';
CREATE INDEX exports_tenant_requester ON exports (tenant_id, requester_key_id, created_at) WHERE requester_key_id <> '';
