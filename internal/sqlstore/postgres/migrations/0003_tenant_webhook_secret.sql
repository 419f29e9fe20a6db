-- 0003: a tenant's webhook signing secret, for exports requested on demand
-- with a webhook_url (scheduled exports sign with their schedule's secret).
--
-- Same conventions as 0001: BIGINT unix microseconds, COLLATE "C" on text
-- that is compared or ordered. internal/sqlite's 0003 is the same schema.

CREATE TABLE tenant_webhook_secrets (
	tenant_id  TEXT COLLATE "C" PRIMARY KEY,
	-- Kept in clear: signing needs the secret itself, not a hash of it.
	secret     TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	CHECK (tenant_id <> '' AND secret <> '')
);

-- Listing an on-demand export's delivery attempts, newest first.
CREATE INDEX webhook_attempts_export ON webhook_attempts (tenant_id, export_id, at DESC, delivery_id DESC, attempt_no DESC);
