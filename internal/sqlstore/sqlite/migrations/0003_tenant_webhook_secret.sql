-- 0003: a tenant's webhook signing secret, for exports requested on demand
-- with a webhook_url.
--
-- The same schema as internal/postgres's 0003 (one SQL in sqlstore serves
-- both); see that file for the reasons.

CREATE TABLE tenant_webhook_secrets (
	tenant_id  TEXT PRIMARY KEY,
	-- Kept in clear: signing needs the secret itself, not a hash of it.
	secret     TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	CHECK (tenant_id <> '' AND secret <> '')
);

-- Listing an on-demand export's delivery attempts, newest first.
CREATE INDEX webhook_attempts_export ON webhook_attempts (tenant_id, export_id, at DESC, delivery_id DESC, attempt_no DESC);
