-- 0002: export schedules and their webhook deliveries.
--
-- The same schema as internal/postgres's 0002 (one SQL in sqlstore serves
-- both); see that file for the reasons. SQLite stores BOOLEAN as 0/1.

CREATE TABLE schedules (
	id             TEXT PRIMARY KEY,
	tenant_id      TEXT NOT NULL,
	name           TEXT NOT NULL,
	cron           TEXT NOT NULL,
	timezone       TEXT NOT NULL,
	window_kind    TEXT NOT NULL,
	window_hours   INTEGER NOT NULL DEFAULT 0,
	params         TEXT NOT NULL, -- JSON of audit.ExportParams, without a range
	retention_days INTEGER NOT NULL,
	enabled        BOOLEAN NOT NULL,
	webhook_url    TEXT NOT NULL DEFAULT '',
	-- Kept in clear: signing needs the secret itself, not a hash of it.
	webhook_secret TEXT NOT NULL,
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL,
	-- The last occurrence fired; advanced only by a compare-and-set
	-- (MarkScheduleFired), never by an update of the schedule.
	last_fired_at  BIGINT,
	CHECK (tenant_id <> '')
);
-- Listing a tenant's schedules newest first, with keyset pagination.
CREATE INDEX schedules_tenant_created ON schedules (tenant_id, created_at DESC, id DESC);
-- The dispatcher pages through enabled schedules of every tenant by id.
CREATE INDEX schedules_enabled ON schedules (id) WHERE enabled;

-- Each occurrence of a schedule creates at most one export, however many
-- dispatchers race for it: the loser's INSERT is a unique violation.
CREATE UNIQUE INDEX exports_schedule_occurrence ON exports (tenant_id, schedule_id, occurrence)
	WHERE schedule_id IS NOT NULL;

-- One webhook delivery per export and final status: the id is the event id
-- receivers see on every attempt.
CREATE TABLE webhook_deliveries (
	id            TEXT PRIMARY KEY,
	tenant_id     TEXT NOT NULL,
	schedule_id   TEXT NOT NULL DEFAULT '',
	export_id     TEXT NOT NULL,
	export_status TEXT NOT NULL,
	url           TEXT NOT NULL,
	state         TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	created_at    BIGINT NOT NULL,
	finished_at   BIGINT,
	UNIQUE (tenant_id, export_id, export_status)
);
CREATE INDEX webhook_deliveries_schedule ON webhook_deliveries (tenant_id, schedule_id);

-- Every attempt of every delivery, as the API lists them.
CREATE TABLE webhook_attempts (
	tenant_id   TEXT NOT NULL,
	delivery_id TEXT NOT NULL,
	schedule_id TEXT NOT NULL DEFAULT '',
	export_id   TEXT NOT NULL,
	url         TEXT NOT NULL,
	attempt_no  INTEGER NOT NULL,
	at          BIGINT NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	duration_us BIGINT NOT NULL DEFAULT 0,
	-- A task retried after a crash numbers its attempts from 1 again.
	PRIMARY KEY (tenant_id, delivery_id, attempt_no, at)
);
CREATE INDEX webhook_attempts_schedule ON webhook_attempts (tenant_id, schedule_id, at DESC, delivery_id DESC, attempt_no DESC);
