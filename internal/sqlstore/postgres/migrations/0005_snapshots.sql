-- 0005: ingest positions and export snapshots (issue 14).
--
-- Every event records the transaction that ingested it (ingest_tx, the
-- xid8 of pg_current_xact_id() as a BIGINT: 64 bits with the epoch, so it
-- never wraps). A tenant's ingest order is (ingest_tx, id).
--
-- Why transaction ids and not a sequence: concurrent ingest transactions
-- commit out of order, so a sequence value handed out early can become
-- visible after larger ones; a reader that has moved past the larger ones
-- would skip it for good. PostgreSQL's own MVCC snapshot says exactly which
-- transactions had committed when it was taken (pg_current_snapshot():
-- xmin, xmax and the ids in progress between them), and that set never
-- changes afterwards. So:
-- * an export records the snapshot it was created at and selects the events
--   whose ingest_tx was committed in it (pg_visible_in_snapshot's rule,
--   evaluated on the stored numbers): every attempt and every re-run sees
--   the same events, whatever is ingested meanwhile, and an event whose
--   ingest returned before the export was requested is always in;
-- * the feed hands out only events below the snapshot's xmin (every
--   transaction below it has ended), in (ingest_tx, id) order, so a cursor
--   never passes a transaction that may still commit.
-- The existing events get 0: committed long ago, below every snapshot.
ALTER TABLE events ADD COLUMN ingest_tx BIGINT NOT NULL DEFAULT 0;
-- The store passes ingest_tx on every INSERT; the default covers COPY
-- (sentinelctl seed) and any other writer.
ALTER TABLE events ALTER COLUMN ingest_tx SET DEFAULT (pg_current_xact_id()::text::bigint);
-- The feed, and "was anything ingested after this export's snapshot?".
CREATE INDEX events_tenant_ingest ON events (tenant_id, ingest_tx, id);

-- An export's snapshot: when it was taken, and the snapshot itself as
-- "xmin:xmax:xip,..." (pg_snapshot's text form). as_of_position is its
-- xmax, for display. NULL for exports made before 0005.
ALTER TABLE exports ADD COLUMN as_of_at BIGINT;
ALTER TABLE exports ADD COLUMN as_of_position BIGINT;
ALTER TABLE exports ADD COLUMN as_of_snapshot TEXT;
-- Set when a newer export of the same request took over because events had
-- been ingested after this one's snapshot (or the client said no-cache):
-- the superseded export still finishes for whoever waits for it, but new
-- identical requests no longer attach to it.
ALTER TABLE exports ADD COLUMN superseded_at BIGINT;
DROP INDEX exports_one_active_request;
CREATE UNIQUE INDEX exports_one_active_request ON exports (tenant_id, request_hash)
	WHERE status IN ('queued', 'running') AND schedule_id IS NULL AND superseded_at IS NULL;
