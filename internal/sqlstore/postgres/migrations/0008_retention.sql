-- 0008: retention and legal holds (issue 15 §3). (0007 is main's chains.)
--
-- A tenant's policy: event_days purges events older than that many days
-- (0 keeps them forever, the default for a tenant without a row);
-- archive_min_days refuses the deletion of an archive for that many days
-- after it completed.
CREATE TABLE retention_policies (
	tenant_id        TEXT COLLATE "C" PRIMARY KEY,
	event_days       INTEGER NOT NULL DEFAULT 0 CHECK (event_days >= 0),
	archive_min_days INTEGER NOT NULL DEFAULT 0 CHECK (archive_min_days >= 0),
	updated_at       BIGINT NOT NULL,
	CHECK (tenant_id <> '')
);
-- The sweeper visits the tenants that purge.
CREATE INDEX retention_policies_purging ON retention_policies (tenant_id) WHERE event_days > 0;

-- Legal holds. range_start/range_end bound occurred_at inclusively (NULL:
-- unbounded); both NULL is a hold on the whole tenant. A released hold is
-- kept, with released_at, as the record of it.
CREATE TABLE legal_holds (
	id                TEXT COLLATE "C" PRIMARY KEY,
	tenant_id         TEXT COLLATE "C" NOT NULL,
	name              TEXT NOT NULL DEFAULT '',
	range_start       BIGINT,
	range_end         BIGINT,
	created_at        BIGINT NOT NULL,
	created_by_key_id TEXT NOT NULL DEFAULT '',
	released_at       BIGINT,
	CHECK (tenant_id <> ''),
	CHECK (range_start IS NULL OR range_end IS NULL OR range_start <= range_end)
);
CREATE INDEX legal_holds_tenant ON legal_holds (tenant_id, created_at, id);

-- An export's range (occurred_at, inclusive; NULL: unbounded), copied from
-- its params so that SQL can tell which archives a hold covers and which
-- events an unfinished export still needs. Exports made before this have
-- NULL, which reads as unbounded: a hold covers them all, the safe side.
ALTER TABLE exports ADD COLUMN range_start BIGINT;
ALTER TABLE exports ADD COLUMN range_end BIGINT;
-- The minimum retention its schedule asked for (days after completion).
ALTER TABLE exports ADD COLUMN min_retention_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE schedules ADD COLUMN min_retention_days INTEGER NOT NULL DEFAULT 0;
-- A purge batch reads the tenant's unfinished exports (it never passes the
-- earliest range they read).
CREATE INDEX exports_unfinished ON exports (tenant_id, range_start) WHERE status IN ('queued', 'running');
