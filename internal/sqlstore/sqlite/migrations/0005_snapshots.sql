-- 0005: ingest positions and export snapshots (issue 14). The same columns
-- as internal/postgres's 0005 (see the reasons there).
--
-- SQLite has one writer at a time, so transactions commit in the order
-- they begin: ingest_tx is a counter (ingest_clock) that each ingest
-- transaction increments first, and a snapshot is simply "every
-- ingest_tx up to the counter's committed value".
ALTER TABLE events ADD COLUMN ingest_tx BIGINT NOT NULL DEFAULT 0;
CREATE INDEX events_tenant_ingest ON events (tenant_id, ingest_tx, id);
CREATE TABLE ingest_clock (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	tx  BIGINT NOT NULL
);
INSERT INTO ingest_clock (one, tx) VALUES (1, 0);

ALTER TABLE exports ADD COLUMN as_of_at BIGINT;
ALTER TABLE exports ADD COLUMN as_of_position BIGINT;
ALTER TABLE exports ADD COLUMN as_of_snapshot TEXT;
ALTER TABLE exports ADD COLUMN superseded_at BIGINT;
DROP INDEX exports_one_active_request;
CREATE UNIQUE INDEX exports_one_active_request ON exports (tenant_id, request_hash)
	WHERE status IN ('queued', 'running') AND schedule_id IS NULL AND superseded_at IS NULL;
