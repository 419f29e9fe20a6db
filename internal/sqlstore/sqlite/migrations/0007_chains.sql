-- 0007: chained archives of schedules (issue 14, part 3). The same columns
-- as internal/sqlstore/postgres's 0007 (see the reasons there).
--
-- A scheduled run's place in its schedule's chain (audit.ChainLink): its
-- number (1, 2, …), the run before it, the first run's window start (the
-- floor of the late-event rule, copied forward) and the previous run's
-- snapshot (pg_snapshot text form). NULL for on-demand exports and for runs
-- fired before 0007: a schedule's chain starts at its first run after it.
ALTER TABLE exports ADD COLUMN chain_seq BIGINT;
ALTER TABLE exports ADD COLUMN chain_prev_export_id TEXT;
ALTER TABLE exports ADD COLUMN chain_start BIGINT;
ALTER TABLE exports ADD COLUMN chain_prev_snapshot TEXT;
-- Two dispatchers that fire different occurrences of one schedule at once
-- both read the same latest run: one number, one run.
CREATE UNIQUE INDEX exports_schedule_chain ON exports (tenant_id, schedule_id, chain_seq)
	WHERE chain_seq IS NOT NULL;
-- The signed manifest of a chained run, frozen the first time it is served:
-- the next run's manifest carries the SHA-256 of its canonical bytes, which
-- must not change when the service is upgraded (service_version) or its
-- key rotated.
ALTER TABLE exports ADD COLUMN manifest TEXT;
