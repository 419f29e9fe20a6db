-- 0001: events, API keys, exports.
--
-- The same schema as internal/postgres's 0001 (one SQL in sqlstore serves
-- both): every timestamp is BIGINT unix microseconds; text compares in byte
-- order (SQLite's BINARY collation, PostgreSQL's "C"). See that file for the
-- index choices.
CREATE TABLE events (
	tenant_id      TEXT NOT NULL,
	id             TEXT NOT NULL CHECK (id <> ''),
	occurred_at    BIGINT NOT NULL,
	event_type     TEXT NOT NULL,
	sub_type       TEXT NOT NULL,
	system_source  TEXT NOT NULL,
	auditee_id     TEXT NOT NULL DEFAULT '',
	description    TEXT NOT NULL DEFAULT '',
	-- One column per audit.MetadataKeys entry; NULL when the event lacks it.
	meta_entity_id                TEXT,
	meta_assessment_id            TEXT,
	meta_task_id                  TEXT,
	meta_workflow_instance_id     TEXT,
	meta_screening_application_id TEXT,
	meta_screening_config_id      TEXT,
	meta_match_id                 TEXT,
	meta_inquiry_id               TEXT,
	meta_tag                      TEXT,
	meta_cache_id                 TEXT,
	meta_workflow_step            TEXT,
	-- The other metadata keys: JSON object with sorted keys, NULL when none.
	metadata_extra TEXT,
	PRIMARY KEY (tenant_id, id),
	CHECK (tenant_id <> '')
);

-- The export scan: a tenant's events in stream order, optionally bounded in
-- time. Also serves any filter without a more selective index.
CREATE INDEX events_tenant_time ON events (tenant_id, occurred_at, id);
-- Filters by event type, the most common narrowing.
CREATE INDEX events_tenant_type_time ON events (tenant_id, event_type, occurred_at, id);
-- "Everything user X did": auditee is empty for system actions, which are
-- left out of the index.
CREATE INDEX events_tenant_auditee_time ON events (tenant_id, auditee_id, occurred_at, id) WHERE auditee_id <> '';
-- Metadata keys that identify one business object (high cardinality: a
-- value selects few events, so an index beats scanning the tenant's range).
-- Partial, so an event pays only for the keys it carries. Not indexed: tag,
-- workflow_step and screening_config_id (few distinct values: a filter on
-- them matches a large share of a tenant, where the time index with a filter
-- is as good) and cache_id (an internal reference nobody audits by).
CREATE INDEX events_meta_entity_id ON events (tenant_id, meta_entity_id, occurred_at) WHERE meta_entity_id IS NOT NULL;
CREATE INDEX events_meta_assessment_id ON events (tenant_id, meta_assessment_id, occurred_at) WHERE meta_assessment_id IS NOT NULL;
CREATE INDEX events_meta_task_id ON events (tenant_id, meta_task_id, occurred_at) WHERE meta_task_id IS NOT NULL;
CREATE INDEX events_meta_workflow_instance_id ON events (tenant_id, meta_workflow_instance_id, occurred_at) WHERE meta_workflow_instance_id IS NOT NULL;
CREATE INDEX events_meta_screening_application_id ON events (tenant_id, meta_screening_application_id, occurred_at) WHERE meta_screening_application_id IS NOT NULL;
CREATE INDEX events_meta_match_id ON events (tenant_id, meta_match_id, occurred_at) WHERE meta_match_id IS NOT NULL;
CREATE INDEX events_meta_inquiry_id ON events (tenant_id, meta_inquiry_id, occurred_at) WHERE meta_inquiry_id IS NOT NULL;

CREATE TABLE api_keys (
	id          TEXT PRIMARY KEY,
	tenant_id   TEXT NOT NULL,
	name        TEXT NOT NULL,
	prefix      TEXT NOT NULL,
	secret_hash TEXT NOT NULL UNIQUE,
	created_at  BIGINT NOT NULL,
	revoked_at  BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at, id);

CREATE TABLE exports (
	id             TEXT PRIMARY KEY,
	tenant_id      TEXT NOT NULL,
	params         TEXT NOT NULL, -- JSON of audit.ExportParams
	file_type      TEXT NOT NULL, -- copy of params' file_type, for listing
	request_hash   TEXT NOT NULL,
	status         TEXT NOT NULL
		CHECK (status IN ('queued', 'running', 'completed', 'failed', 'expired')),
	rows_written   BIGINT NOT NULL DEFAULT 0,
	rows_total     BIGINT NOT NULL DEFAULT -1,
	size_bytes     BIGINT NOT NULL DEFAULT 0,
	sha256         TEXT NOT NULL DEFAULT '',
	object_key     TEXT, -- NULL until there is an object
	content_type   TEXT NOT NULL DEFAULT '',
	first_event_id TEXT NOT NULL DEFAULT '',
	last_event_id  TEXT NOT NULL DEFAULT '',
	error_code     TEXT NOT NULL DEFAULT '',
	error_message  TEXT NOT NULL DEFAULT '',
	attempts       INTEGER NOT NULL DEFAULT 0,
	schedule_id    TEXT, -- NULL for on-demand exports
	occurrence     BIGINT,
	webhook_url    TEXT NOT NULL DEFAULT '',
	retention_days INTEGER NOT NULL DEFAULT 0,
	created_at     BIGINT NOT NULL,
	started_at     BIGINT,
	heartbeat_at   BIGINT, -- last sign of life from the worker running it
	completed_at   BIGINT,
	expires_at     BIGINT,
	CHECK (tenant_id <> '')
);
-- At most one unfinished on-demand export per identical request: what makes
-- concurrent CreateOrAttachExport calls converge on one row.
CREATE UNIQUE INDEX exports_one_active_request ON exports (tenant_id, request_hash)
	WHERE status IN ('queued', 'running') AND schedule_id IS NULL;
-- Finding a completed export to reuse.
CREATE INDEX exports_tenant_request ON exports (tenant_id, request_hash, completed_at);
-- Listing newest first, with keyset pagination.
CREATE INDEX exports_tenant_created ON exports (tenant_id, created_at DESC, id DESC);
-- The sweeper: completed exports by expiry, stale queued ones by age.
CREATE INDEX exports_status_expires ON exports (status, expires_at);
CREATE INDEX exports_queued_created ON exports (created_at) WHERE status = 'queued';
-- Orphan detection by object key.
CREATE INDEX exports_object_key ON exports (object_key) WHERE object_key IS NOT NULL;
-- Schedules list their runs.
CREATE INDEX exports_schedule ON exports (schedule_id, created_at) WHERE schedule_id IS NOT NULL;

-- Running exports whose worker went silent (the sweeper fails them so that no
-- export stays "running" forever after its task was lost).
CREATE INDEX exports_running_heartbeat ON exports (heartbeat_at) WHERE status = 'running';
