#!/usr/bin/env bash
# bench/run.sh — `make bench`: Audit Sentinel's export benchmark, end to end,
# with the real binaries on private services (127.0.0.1 only).
#
#   1. builds api, worker, sentinelctl and bench/cmd/exportbench into a temp dir
#   2. starts PostgreSQL (throwaway cluster, or a fresh database on
#      BENCH_DATABASE_URL's server), a private redis-server and versitygw
#   3. seeds 1,000,000 events: big 600,000 · mid 100,000 · t3 150,000 · t4 150,000
#   4. starts the api and ONE worker process (restarted before each measured
#      export, so the worker's VmHWM is that export's peak RSS) and measures:
#        (a) the 600,000-event CSV export, GET to last byte (BENCH_RUNS times)
#        (b) psql \copy of the same query to a CSV file (BENCH_RUNS times)
#        and, for each (a) and (b) run, the CPU time every process used
#        (PostgreSQL, api, worker, versitygw, redis-server, the client)
#        worker peak RSS for the 100,000-event export
#        30 sequential 1,000-event exports, each with a different range
#        a 5,000-event PDF, GET to last byte, and its worker peak RSS
#      the 600,000-event CSV export with Accept-Encoding zstd and gzip (issue
#      13), on loopback and then, with the identity export and psql \copy,
#      across a shaped link (exportbench link, BENCH_LINK_MBIT)
#      and, with WORKER_CONCURRENCY=8, the worker's peak RSS while 1, 2, 4
#      and 8 different 600,000-event CSV exports run at once
#      then (issues 13, 14):
#        the 600,000-event NDJSON and Parquet exports, GET to last byte
#        (BENCH_RUNS times each, worker peak RSS; the Parquet file's rows
#        counted with parquet-go), against (a)'s rows/s; one gzip and one
#        zstd CSV export, for the stored bytes per event of each format
#        the event feed (GET /events, NDJSON pages of 10,000) read by one
#        poller from no cursor to the end of tenant big, beside (a)'s rows/s
#   5. seeds a 1,000,000-event tenant "huge" (the table then holds 2M) and
#      exports it for the worker's peak RSS at 1M
#   6. ingest (issue 14): 100,000 generated events (exportbench gen) loaded
#      BENCH_RUNS times each way, each time into a fresh tenant: one NDJSON
#      POST /events (key scope events:write) and psql \copy events FROM
#      their CSV; each tenant must then hold exactly 100,000. The api's
#      peak RSS after a 10,000-event and after each 100,000-event request,
#      the api restarted before each (VmHWM cannot be lowered otherwise)
#   7. purge (issue 15): the 100,000-event CSV export of mid and a
#      10,000-event NDJSON ingest, BENCH_RUNS times each, without a purge
#      and then while the sweeper purges 10 tenants of 60,000 events spread
#      over 400 days (retention set to 30 days); fails if nothing was
#      purged during the measured window
#   8. prints a table and writes bench/results/latest.md and a dated copy
#
# Environment:
#   BENCH_DATABASE_URL  use this PostgreSQL server (a database is created and
#                       dropped); default: a throwaway cluster like scripts/test.sh
#   BENCH_RUNS          repetitions of (a) and (b) (default 3; the median counts)
#   BENCH_SKIP_1M=1     skip step 5
#   BENCH_ONLY_PDF=1    seed only tenant big and measure only the 5,000-event
#                       PDF exports (a quick run of those figures)
#   BENCH_ONLY_CONCURRENT=1  seed only tenant big and measure only the
#                       concurrent exports (a quick run of that one figure)
#   BENCH_ONLY_NDJSON=1 seed only tenant big; measure a CSV, the NDJSON and
#                       the Parquet export BENCH_RUNS times (in turn), then
#                       the gzip and zstd CSV exports, then BENCH_RUNS times
#                       the CSV export as stored, with Accept-Encoding zstd
#                       and gzip, and psql \copy; then those four across
#                       the shaped link
#   BENCH_ONLY_FEED=1   seed only tenant big; one CSV export (for the ratio),
#                       then the feed BENCH_RUNS times
#   BENCH_ONLY_INGEST=1 seed nothing; only step 6
#   BENCH_ONLY_PURGE=1  seed only tenant mid; only step 7
#                       The four BENCH_ONLY_ above combine (one run, one
#                       report on stdout; nothing written to bench/results),
#                       and BENCH_ONLY_CONCURRENT=1 beside them adds its step.
#   BENCH_SCALE=F       with those quick modes only: multiply the event
#                       counts (big, mid, ingest, the small requests) by F,
#                       0 < F <= 1 (e.g. 0.05); the purge tenants keep
#                       60,000 events each, which one sweep needs to outlast
#                       the measured window
#   BENCH_PURGE_TENANTS tenants purged in step 7 (default 10; one purge pass
#                       deletes at most 50,000 events of each)
#   BENCH_FEED_LIMIT    the feed's page size (default 10000, its maximum)
#   BENCH_LINK_MBIT     the shaped link's rate, Mbit/s each way (default 100;
#                       0 skips the measurements across it)
#   BENCH_KEEP=1        keep the temp dir (logs, files) and print where it is
#   BENCH_WORKER_ENV    extra VAR=VALUE words for every worker, e.g.
#                       "GODEBUG=gctrace=1" (the gctrace goes to its log;
#                       keep it with BENCH_KEEP=1)
#   BENCH_PROFILE=S     with a quick mode only (profiling costs CPU, so its
#                       figures are not a report's): the api and every
#                       worker serve DEBUG_ADDR, and each measured export
#                       takes an S-second CPU profile of both from just
#                       before its GET, kept as prof/NAME-N-{api,worker}.pprof
#                       in the temp dir (with BENCH_KEEP=1); read them with
#                       go tool pprof -top [-diff_base OTHER] FILE
#
# Exits non-zero when something cannot be provisioned or a measurement fails
# (wrong row count, bad checksum, error status). Missed targets do not fail
# the run: they are printed as MISSED.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${BENCH_RUNS:-3}
WHATIF_LIMIT=48MiB
SECONDS=0

# Quick modes of the issue 13-15 steps (any combination), and BENCH_SCALE
# for their sizes. QUICK lists the ones asked for.
ONLY_INGEST=${BENCH_ONLY_INGEST:-} ONLY_FEED=${BENCH_ONLY_FEED:-}
ONLY_NDJSON=${BENCH_ONLY_NDJSON:-} ONLY_PURGE=${BENCH_ONLY_PURGE:-}
QUICK=""
for v in INGEST FEED NDJSON PURGE; do
	o=ONLY_$v
	case ${!o} in
	"") ;;
	1) QUICK+="BENCH_ONLY_$v " ;;
	*) printf 'bench/run.sh: BENCH_ONLY_%s takes 1, not %s\n' "$v" "${!o}" >&2 && exit 2 ;;
	esac
done
SCALE=${BENCH_SCALE:-1}
if ! [[ $SCALE =~ ^(1|0?\.[0-9]+)$ ]] || [ "$SCALE" = 0 ] || [[ $SCALE =~ ^0?\.0*$ ]]; then
	printf 'bench/run.sh: BENCH_SCALE must be a number in (0, 1], not %s\n' "$SCALE" >&2
	exit 2
fi
PROFILE=${BENCH_PROFILE:-}
if [ -n "$PROFILE" ] && { ! [[ $PROFILE =~ ^[1-9][0-9]?$ ]] || [ -z "$QUICK" ]; }; then
	printf 'bench/run.sh: BENCH_PROFILE takes seconds (1-99), with a BENCH_ONLY_ quick mode, not %s\n' "$PROFILE" >&2
	exit 2
fi
if [ "$SCALE" != 1 ] && [ -z "$QUICK" ]; then
	printf 'bench/run.sh: BENCH_SCALE works with the BENCH_ONLY_INGEST/FEED/NDJSON/PURGE quick modes only\n' >&2
	exit 2
fi
scaled() { awk -v n="$1" -v s="$SCALE" 'BEGIN { v = int(n * s); if (v < 1) v = 1; print v }'; }
N_BIG=$(scaled 600000)             # tenant big: CSV, NDJSON exports and the feed
N_MID=$(scaled 100000)             # tenant mid: the CSV export of the purge step
N_INGEST=$(scaled 100000)          # the ingest step's events (API and COPY)
N_INGEST_SMALL=$(scaled 10000)     # its small request (api peak RSS), and the purge step's ingests
# Each purge tenant: 60,000 events over 400 days, of which 92 % are past a
# 30-day retention, more than the 50,000 one pass purges per tenant; not
# scaled, as the pass must outlast the measured window.
N_OLD=60000
PURGE_TENANTS=${BENCH_PURGE_TENANTS:-10}
FEED_LIMIT=${BENCH_FEED_LIMIT:-10000}
LINK_MBIT=${BENCH_LINK_MBIT:-100}
[[ $LINK_MBIT =~ ^(0|[1-9][0-9]{0,4})$ ]] || { echo "bench/run.sh: BENCH_LINK_MBIT must be 0-99999" >&2 && exit 2; }
[[ $PURGE_TENANTS =~ ^[1-9][0-9]?$ ]] || { echo "bench/run.sh: BENCH_PURGE_TENANTS must be 1-99" >&2 && exit 2; }

say() { printf '==> [%4ds] %s\n' "$SECONDS" "$*" >&2; }
die() {
	printf '\n!!! bench/run.sh: %s\n\n' "$*" >&2
	exit 2
}
# shellcheck source=scripts/lib/postgres.sh
. "$ROOT/scripts/lib/postgres.sh"

command -v redis-server >/dev/null || die "redis-server is not installed (apt-get install redis-server)"
command -v psql >/dev/null || die "psql is not installed (apt-get install postgresql-client)"
command -v go >/dev/null || die "go is not on PATH"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sentinel-bench.XXXXXX") || die "cannot make a temp dir"
BIN=$TMP/bin
RESULTS=$TMP/results.jsonl
: >"$RESULTS"

# ---------------------------------------------------------------- teardown
PIDS=()     # processes we started, stopped in reverse order
DROPDB_URL="" # BENCH_DATABASE_URL's maintenance database, when we created one
BENCH_DB=""
WORKER_PID=""
API_PID=""

stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	stop_pid "$WORKER_PID"
	stop_pid "$API_PID"
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${PIDS[$i]}"
	done
	pg_stop
	if [ -n "$DROPDB_URL" ] && [ -n "$BENCH_DB" ]; then
		psql "$DROPDB_URL" -qAtc "DROP DATABASE IF EXISTS \"$BENCH_DB\" WITH (FORCE)" >/dev/null 2>&1
	fi
	if [ "${BENCH_KEEP:-}" = 1 ]; then
		say "kept $TMP"
	else
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		if port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

# wait_for DESCRIPTION SECONDS COMMAND...: retry COMMAND every 0.1 s.
wait_for() {
	local what=$1 secs=$2
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
# json KEY VALUE ...: one JSON object of strings and numbers. A VALUE that
# is a JSON number becomes one, unless its KEY is written KEY:s, which keeps
# it a string (value:s 8756306 → "value":"8756306").
json() {
	local out="{" sep="" k v
	while [ $# -gt 0 ]; do
		k=$1 v=$2
		shift 2
		if [[ $k != *:s && $v =~ ^-?(0|[1-9][0-9]*)(\.[0-9]+)?$ ]]; then
			out+="$sep\"$k\":$v"
		else
			k=${k%:s}
			v=${v//\\/\\\\}
			out+="$sep\"$k\":\"${v//\"/\\\"}\""
		fi
		sep=","
	done
	echo "$out}"
}
record() { json "$@" >>"$RESULTS"; }

# ---------------------------------------------------------------- CPU time
# Where the CPU goes during (a) and (b): each process's user and system time
# from /proc/PID/stat, in clock ticks. For (a) exportbench samples the
# servers itself, just before its GET and at its last byte (-cpu); for (b)
# pg_ticks below samples PostgreSQL around psql, and bash's `times` gives
# psql's own. No forks in these helpers.
CLK_TCK=$(getconf CLK_TCK 2>/dev/null) || CLK_TCK=100
# A VM that reports free memory back to its host (virtio-balloon free page
# reporting; this sandbox's guest kernel has it) makes the next touch of
# that memory fault on the host, counted as the toucher's system time: the
# S3 server's page cache of each export is freed (parts once assembled,
# files once deleted) and touched afresh by the next. The report names the
# setting and how much was handed back during the run, since it moves
# versitygw's system time, and with it (a), by up to a second.
PAGE_REPORTING=/sys/module/page_reporting/parameters
REPORTED0=$(cat "$PAGE_REPORTING/reported_kib" 2>/dev/null) || REPORTED0=
PG_PM=""         # the throwaway cluster's postmaster (empty on BENCH_DATABASE_URL)
REDIS_PID=""
VERSITYGW_PID=""
STAT=()
# read_stat PID: STAT=(fields 3… of /proc/PID/stat), so field N is STAT[N-3]
# (4 ppid, 14 utime, 15 stime, 16 cutime, 17 cstime). Fails when PID is gone.
read_stat() {
	local s
	[ -n "$1" ] || return 1
	read -r s 2>/dev/null <"/proc/$1/stat" || return 1
	s=${s##*) } # comm, field 2, may hold spaces and parentheses
	read -r -a STAT <<<"$s"
}
# pg_ticks: TK_U, TK_S = the postmaster's user and system ticks including
# its exited children's (cutime, cstime), plus those of its live children
# (backends, parallel workers, background processes). A child reaped
# during the walk (psql's backend, just after psql exits) would count
# nowhere: then cutime/cstime have changed, and the walk is made again.
# Fails without a postmaster.
pg_ticks() {
	local p u s reaped try
	for try in 1 2 3 4 5; do
		read_stat "$PG_PM" || return 1
		reaped="${STAT[13]} ${STAT[14]}"
		u=$((STAT[11] + STAT[13])) s=$((STAT[12] + STAT[14]))
		for p in /proc/[0-9]*; do
			read_stat "${p#/proc/}" || continue
			[ "${STAT[1]}" = "$PG_PM" ] || continue
			u=$((u + STAT[11])) s=$((s + STAT[12]))
		done
		read_stat "$PG_PM" || return 1
		[ "${STAT[13]} ${STAT[14]}" != "$reaped" ] || break
	done
	TK_U=$u TK_S=$s
}
# ms_of_times M…s: TMS = milliseconds of one `times` figure (like 1m2.345s).
ms_of_times() {
	[[ $1 =~ ^([0-9]+)m([0-9]+)[.,]?([0-9]*)s$ ]] || die "cannot parse the output of times: $1"
	local frac=${BASH_REMATCH[3]}000
	TMS=$((BASH_REMATCH[1] * 60000 + 10#${BASH_REMATCH[2]} * 1000 + 10#${frac:0:3}))
}
# children_ms FILE: CH_U, CH_S = user and system ms of the shell's waited-for
# children, from a saved `times` (its second line). `times` must run in this
# shell, not in $(…), whose children are others.
children_ms() {
	local u s
	{
		read -r _
		read -r u s
	} <"$1"
	ms_of_times "$u"
	CH_U=$TMS
	ms_of_times "$s"
	CH_S=$TMS
}

# ---------------------------------------------------------------- build
say "building api, worker, sentinelctl, exportbench into $BIN"
mkdir -p "$BIN"
go build -trimpath -o "$BIN/" ./cmd/api ./cmd/worker ./cmd/sentinelctl ./bench/cmd/exportbench ||
	die "go build failed"

VERSITYGW=${VERSITYGW_BIN:-$ROOT/bin/versitygw}
if [ ! -x "$VERSITYGW" ] || [ tools/go.mod -nt "$VERSITYGW" ] || [ tools/go.sum -nt "$VERSITYGW" ]; then
	say "building bin/versitygw (make tools)"
	make -s tools || die "could not build bin/versitygw (make tools)"
	VERSITYGW=$ROOT/bin/versitygw
fi

# ---------------------------------------------------------------- PostgreSQL
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
	psql "$BENCH_DATABASE_URL" -qAtc 'select 1' >/dev/null 2>&1 ||
		die "BENCH_DATABASE_URL is set but the server does not answer"
	BENCH_DB="sentinel_bench_$$_$RANDOM"
	DROPDB_URL=$BENCH_DATABASE_URL
	psql "$BENCH_DATABASE_URL" -qAtc "CREATE DATABASE \"$BENCH_DB\"" >/dev/null ||
		die "cannot create database $BENCH_DB on BENCH_DATABASE_URL's server"
	# Same server, our database: swap the path of the URL.
	[[ $BENCH_DATABASE_URL =~ ^(postgres(ql)?://[^/?]*)(/[^?]*)?(\?.*)?$ ]] ||
		die "BENCH_DATABASE_URL must be a postgres://HOST[:PORT]/DB URL"
	DB="${BASH_REMATCH[1]}/$BENCH_DB${BASH_REMATCH[4]}"
	say "PostgreSQL: database $BENCH_DB on BENCH_DATABASE_URL's server"
else
	pg_bindir >/dev/null || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (or set BENCH_DATABASE_URL)"
	mkdir -p "$TMP/pg"
	chmod 755 "$TMP" # as root, the postgres user must reach $TMP/pg
	# A cache that holds the whole table, as a tuned server would.
	pg_start "$TMP/pg" -c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=30min
	DB=$PG_URL
	read_stat "$PG_PM" || die "cannot read /proc/$PG_PM/stat (the postmaster)"
	say "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
fi
record kind info key postgres value "$(psql "$DB" -qAtc 'show server_version')"

# ---------------------------------------------------------------- Redis
REDIS_PORT=$(free_port)
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
	--dir "$TMP" >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
wait_for "redis" 15 redis-cli -p "$REDIS_PORT" ping ||
	{ tail "$TMP/redis.log" >&2; die "redis-server did not start on $REDIS_PORT"; }
say "redis $(redis-server --version | awk '{print $3}' | sed 's/^v=//') on 127.0.0.1:$REDIS_PORT"

# ---------------------------------------------------------------- versitygw
S3_PORT=$(free_port)
mkdir -p "$TMP/s3/exports" # a directory under the root is a bucket
export AWS_ACCESS_KEY_ID=sentinel-bench AWS_SECRET_ACCESS_KEY=sentinel-bench-secret AWS_REGION=us-east-1
# --data-integrity-etag: ETags derived from a CRC instead of an MD5 of every
# byte (0.3 CPU-s of the 600,000-event export's 181 MB on the two cores
# everything here shares). The worker already sends a CRC32C that the server
# checks; internal/objstore/s3's contract suite runs in both modes.
"$VERSITYGW" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" --region "$AWS_REGION" \
	--port "127.0.0.1:$S3_PORT" posix --data-integrity-etag "$TMP/s3" >"$TMP/versitygw.log" 2>&1 &
VERSITYGW_PID=$!
PIDS+=("$VERSITYGW_PID")
wait_for "versitygw" 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$S3_PORT" ||
	{ tail "$TMP/versitygw.log" >&2; die "versitygw did not start on $S3_PORT"; }
say "versitygw on 127.0.0.1:$S3_PORT (posix backend in $TMP/s3, --data-integrity-etag)"

# ---------------------------------------------------------------- environment
API_PORT=$(free_port)
BASE=http://127.0.0.1:$API_PORT
export DATABASE_URL=$DB
export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
export STORAGE_URL=s3://exports
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT S3_FORCE_PATH_STYLE=true
# Nothing from the host's AWS setup, and no metadata service lookups.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE
export HTTP_ADDR=127.0.0.1:$API_PORT
# Every request is a new export: nothing is answered from an earlier one.
export EXPORT_REUSE_WINDOW=0s EXPORT_WAIT=20s
export LOG_FORMAT=text LOG_LEVEL=info
unset WORKER_CONCURRENCY GOGC GOMEMLIMIT GODEBUG DEBUG_ADDR
# BENCH_PROFILE: where the api and the worker serve their profiles.
if [ -n "$PROFILE" ]; then
	API_DEBUG=127.0.0.1:$(free_port) WORKER_DEBUG=127.0.0.1:$(free_port)
	mkdir -p "$TMP/prof"
fi

# ---------------------------------------------------------------- seed
"$BIN/sentinelctl" migrate >/dev/null || die "sentinelctl migrate failed"

# settle: write the seeded data out (a checkpoint, then the kernel's dirty
# pages) before anything is measured. Seeding leaves a gigabyte or more of
# dirty pages; their write-back would otherwise run during the measurements
# and throttle whatever writes files then (psql's CSV, versitygw's parts).
settle() {
	# CHECKPOINT needs a superuser or pg_checkpoint on BENCH_DATABASE_URL.
	psql "$DB" -qAtc 'CHECKPOINT' >/dev/null 2>&1 || say "  CHECKPOINT refused: measuring with the server's dirty buffers"
	sync
}

# quiesce: each side of the comparison starts on a quiet machine, not
# while the kernel writes back what the run before it wrote.
quiesce() {
	sync
	sleep 1
}

seed() { # seed TENANT EVENTS SEED [DAYS]
	local t0 out
	t0=$(now)
	out=$("$BIN/sentinelctl" seed --tenant "$1" --events "$2" --seed "$3" --days "${4:-90}" 2>"$TMP/seed-$1.log") ||
		{ cat "$TMP/seed-$1.log" >&2; die "sentinelctl seed --tenant $1 failed"; }
	say "  $out"
	record kind seed tenant "$1" events "$2" seconds "$(since "$t0")"
}

# concurrent_rss: with WORKER_CONCURRENCY=8, the worker's peak RSS while N
# different 600,000-event CSV exports (tenant big; locales and time zones
# make each a different export) run at once, for N = 1, 2, 4, 8. The worker
# is restarted for each N, so VmHWM is that N's peak.
CONCURRENT_QUERIES=("locale=en" "locale=de" "locale=fr" "locale=es" "locale=it" "locale=nl" "locale=pt"
	"locale=en&timezone=Europe%2FBerlin")
concurrent_rss() {
	local n i pids
	for n in 1 2 4 8; do
		say "worker peak RSS: $n different 600,000-event CSV exports at once (WORKER_CONCURRENCY=8)"
		start_worker WORKER_CONCURRENCY=8
		quiesce
		pids=()
		for ((i = 0; i < n; i++)); do
			"$BIN/exportbench" export -base "$BASE" -key "$KEY_BIG" -query "file_type=csv&${CONCURRENT_QUERIES[$i]}" \
				-expect-rows 600000 -name "csv-600k-x$n" -delete >"$TMP/concurrent-$n-$i.json" &
			pids+=($!)
		done
		for i in "${!pids[@]}"; do
			wait "${pids[$i]}" || { tail -n 20 "$TMP/worker-$WORKER_N.log" >&2; die "concurrent export $i of $n failed"; }
			cat "$TMP/concurrent-$n-$i.json" >>"$RESULTS"
		done
		rss "concurrent-$n"
	done
}

# concurrent_step is BENCH_ONLY_CONCURRENT's measurement, alone or beside
# the other quick modes.
concurrent_step() {
	say "warm-up: one unmeasured 600,000-event export"
	start_worker
	export_run warmup-600k "$KEY_BIG" "file_type=csv" 600000
	sed -i '$d' "$RESULTS"
	concurrent_rss
	stop_pid "$WORKER_PID"
	WORKER_PID=""
}

# pdf_runs: RUNS 5,000-event PDF exports of tenant big, each a different
# range, each on a fresh worker (so its VmHWM is that export's peak RSS).
pdf_runs() {
	say "5,000-event PDF exports (tenant big, a different range each)"
	mapfile -t PDFS < <("$BIN/exportbench" windows -dsn "$DB" -tenant big -rows 5000 -count "$RUNS" -file-type pdf)
	[ ${#PDFS[@]} = "$RUNS" ] || die "could not pick $RUNS windows of 5,000 events"
	for w in "${PDFS[@]}"; do
		start_worker
		export_run pdf-5k "$KEY_BIG" "${w#*$'\t'}" "${w%%$'\t'*}"
		rss pdf-5k
	done
}

if [ "${BENCH_ONLY_CONCURRENT:-}" = 1 ] || [ "${BENCH_ONLY_PDF:-}" = 1 ]; then
	say "BENCH_ONLY_CONCURRENT or BENCH_ONLY_PDF: seeding tenant big (600,000 events) only"
	seed big 600000 1
	# Combined with BENCH_ONLY_PURGE, whose step exports tenant mid.
	[ -z "$ONLY_PURGE" ] || seed mid "$N_MID" 2
	psql "$DB" -qAtc 'VACUUM ANALYZE events' >/dev/null
	settle
elif [ -n "$QUICK" ]; then
	say "quick mode (${QUICK% }, BENCH_SCALE=$SCALE): seeding only what it measures"
	[ -z "$ONLY_FEED$ONLY_NDJSON" ] || seed big "$N_BIG" 1
	[ -z "$ONLY_PURGE" ] || seed mid "$N_MID" 2
	psql "$DB" -qAtc 'VACUUM ANALYZE events' >/dev/null
	settle
else
	say "seeding 1,000,000 events (big 600k, mid 100k, t3 150k, t4 150k)"
	t_seed=$(now)
	# Two loaders at a time: generation (client) and COPY (server) overlap.
	seed big 600000 1 &
	s1=$!
	seed mid 100000 2 &
	s2=$!
	wait $s2 || exit 1
	seed t3 150000 3 &
	s3=$!
	wait $s1 || exit 1
	seed t4 150000 4
	wait $s3 || exit 1
	psql "$DB" -qAtc 'VACUUM ANALYZE events' >/dev/null
	settle
	total=$(psql "$DB" -qAtc 'SELECT count(*) FROM events')
	[ "$total" = 1000000 ] || die "seeded $total events, expected 1000000"
	el=$(since "$t_seed")
	record kind info key seed_1m_seconds value "$el"
	say "seeded $total events in $el s"
fi

key_for() { "$BIN/sentinelctl" keys create --tenant "$1" --json=false 2>/dev/null | tail -n 1; }
key_scoped() { # key_scoped TENANT SCOPES: a key with only SCOPES (comma-separated)
	local k
	k=$("$BIN/sentinelctl" keys create --tenant "$1" --scopes "$2" --json=false 2>/dev/null | tail -n 1)
	[ -n "$k" ] || die "sentinelctl keys create --tenant $1 --scopes $2 failed"
	echo "$k"
}
KEY_BIG=$(key_for big)
KEY_MID=$(key_for mid)
[ -n "$KEY_BIG" ] && [ -n "$KEY_MID" ] || die "sentinelctl keys create failed"

# ---------------------------------------------------------------- api, worker
# start_api: (re)start the api, so that its VmHWM is what it has done since.
start_api() {
	stop_pid "$API_PID"
	env ${PROFILE:+DEBUG_ADDR=$API_DEBUG} "$BIN/api" >>"$TMP/api.log" 2>&1 &
	API_PID=$!
	wait_for "api" 30 curl -fsS "$BASE/readyz" ||
		{ tail -n 30 "$TMP/api.log" >&2; die "the api did not become ready on $BASE"; }
}
start_api
say "api on $BASE (pid $API_PID)"

WORKER_N=0
start_worker() { # start_worker [ENV=VALUE...]
	stop_pid "$WORKER_PID"
	WORKER_N=$((WORKER_N + 1))
	local log=$TMP/worker-$WORKER_N.log
	# BENCH_WORKER_ENV: words of extra environment for every worker, for
	# looking inside it (GODEBUG=gctrace=1); the variables unset above
	# otherwise keep the host's settings out of the figures.
	# shellcheck disable=SC2086
	env ${PROFILE:+DEBUG_ADDR=$WORKER_DEBUG} ${BENCH_WORKER_ENV:-} "$@" "$BIN/worker" >"$log" 2>&1 &
	WORKER_PID=$!
	wait_for "worker" 30 grep -q 'worker started' "$log" ||
		{ tail -n 30 "$log" >&2; die "the worker did not start (log above)"; }
}
# rss NAME: record the worker's peak RSS (VmHWM) so far.
rss() {
	local kib
	kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$WORKER_PID/status") || die "worker $WORKER_PID is gone"
	record kind rss name "$1" kib "$kib"
	say "  worker peak RSS ($1): $((kib / 1024)) MiB"
}
export_run() { # export_run NAME KEY QUERY EXPECT_ROWS [EXPORTBENCH_FLAGS...]
	local line profs=()
	[ -z "$PROFILE" ] || profile_start "$1" profs
	# -delete: each file goes once verified, so the S3 server's disk (and
	# the kernel's write-back of it) does not grow from run to run.
	line=$("$BIN/exportbench" export -base "$BASE" -key "$2" -query "$3" -expect-rows "$4" -name "$1" -delete "${@:5}") ||
		{ tail -n 20 "$TMP/worker-$WORKER_N.log" >&2; die "export $1 failed"; }
	echo "$line" >>"$RESULTS"
	say "  $line"
	phases "$1" "$line"
	local pid
	for pid in "${profs[@]}"; do # one by one: wait with several pids reports the last one's status only
		wait "$pid" || die "a CPU profile of $1 failed (see $TMP/prof)"
	done
}
# profile_start NAME PIDS_VAR: start a BENCH_PROFILE-second CPU profile of
# the api and the worker, appending the pids of the curls taking them to the
# array named PIDS_VAR.
PROFILE_N=0
profile_start() {
	local -n pids=$2
	local who
	PROFILE_N=$((PROFILE_N + 1))
	for who in api=$API_DEBUG worker=$WORKER_DEBUG; do
		curl -fsS -o "$TMP/prof/$1-$PROFILE_N-${who%%=*}.pprof" "http://${who#*=}/debug/pprof/profile?seconds=$PROFILE" &
		pids+=($!)
	done
	sleep 0.2 # both profiles are running before the GET
}
# phases NAME LINE: record where the export of exportbench's LINE spent its
# time, from its worker's completion log (render_ms: to the last byte
# rendered; store_ms: the object store finishing the upload and the record).
# Read after the clock stopped, from the log of the worker that ran it (the
# current one); an export that log does not show records nothing.
phases() {
	local id fields
	id=$(sed -n 's/.*"export_id":"\([^"]*\)".*/\1/p' <<<"$2")
	[ -n "$id" ] || return 0
	fields=$(grep -h "msg=\"export completed\" export_id=$id " "$TMP/worker-$WORKER_N.log" 2>/dev/null |
		sed -n 's/.* render_ms=\([0-9]*\) store_ms=\([0-9]*\).*/\1 \2/p' | tail -n 1)
	[ -n "$fields" ] || return 0
	record kind phases name "$1" export_id "$id" render_ms "${fields% *}" store_ms "${fields#* }"
}
# export_cpu NAME RUN KEY QUERY EXPECT_ROWS [EXPORTBENCH_FLAGS...]: export_run,
# and record the CPU time each process used from just before the GET to the
# last byte.
export_cpu() {
	local pg=unknown
	[ -z "$PG_PM" ] || pg=tree:$PG_PM
	rm -f "$TMP/cpu.json"
	export_run "$1" "$3" "$4" "$5" "${@:6}" -run "$2" -clk-tck "$CLK_TCK" -cpu-out "$TMP/cpu.json" \
		-cpu "postgres=$pg,api=$API_PID,worker=$WORKER_PID,versitygw=$VERSITYGW_PID,redis=$REDIS_PID"
	[ -s "$TMP/cpu.json" ] || die "exportbench export wrote no CPU record"
	cat "$TMP/cpu.json" >>"$RESULTS"
	say "  $(cat "$TMP/cpu.json")"
}

if [ "${BENCH_ONLY_PDF:-}" = 1 ]; then
	pdf_runs
	stop_pid "$WORKER_PID"
	WORKER_PID=""
	grep '"pdf-5k"' "$RESULTS" >&2
	exit 0
fi

# ---------------------------------------------------------------- issues 13-15
# count_events TENANT...: the tenants' events other than the service's own
# records of its use (self-audit, system_source audit_sentinel: exports
# requested and deleted, retention changes, purges), which come and go with
# the measurements.
count_events() {
	local in="" t
	for t in "$@"; do in+="${in:+,}'$t'"; done
	psql "$DB" -qAtc "SELECT count(*) FROM events WHERE tenant_id IN ($in) AND system_source <> 'audit_sentinel'"
}
# api_rss NAME EVENTS: record the api's peak RSS (VmHWM) so far.
api_rss() {
	local kib
	kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$API_PID/status") || die "api $API_PID is gone"
	record kind rss name "$1" kib "$kib" events "$2"
	say "  api peak RSS ($1, $2 events): $((kib / 1024)) MiB"
}
# ingest_run NAME KEY FILE EVENTS: one NDJSON POST of FILE, checked.
ingest_run() {
	local line
	line=$("$BIN/exportbench" ingest -base "$BASE" -key "$2" -file "$3" -expect "$4" -name "$1") ||
		{ tail -n 20 "$TMP/api.log" >&2; die "ingest $1 failed"; }
	echo "$line" >>"$RESULTS"
	say "  $line"
}
# gen ARGS...: exportbench gen, its summary said.
gen() {
	local out
	out=$("$BIN/exportbench" gen "$@") || die "exportbench gen $* failed"
	say "  generated: $out"
}

# ndjson_step (issue 13): the NDJSON and the Parquet export of tenant big
# RUNS times, each on a fresh worker (peak RSS), each NDJSON export right
# after a CSV export of the same events (csv-600k-paired), the reference its
# rows/s are compared with: (a) ran minutes earlier, and the machine's
# drift between the two (page cache, the S3 server's disk) moved the ratio
# by more than the target's margin. After each NDJSON export, one of the
# seven event fields alone (ndjson-fields-big: no metadata, about the CSV's
# bytes per event), information that separates what the format costs from
# what its bytes cost. Then one gzip and one zstd CSV export for the stored
# bytes per event.
EVENT_FIELDS=event_id,occurred_at,event_type,sub_type,system_source,auditee_id,description
ndjson_step() {
	local i c
	say "NDJSON and Parquet exports: $N_BIG events (tenant big), $RUNS runs, each NDJSON after a CSV"
	for i in $(seq 1 "$RUNS"); do
		start_worker
		quiesce
		export_cpu csv-600k-paired "$i" "$KEY_BIG" "file_type=csv" "$N_BIG"
		rss csv-600k-paired
		start_worker
		quiesce
		export_cpu ndjson-big "$i" "$KEY_BIG" "file_type=ndjson" "$N_BIG"
		rss ndjson-big
		start_worker
		quiesce
		export_cpu ndjson-fields-big "$i" "$KEY_BIG" "file_type=ndjson&columns=$EVENT_FIELDS" "$N_BIG"
		start_worker
		quiesce
		export_run parquet-big "$KEY_BIG" "file_type=parquet" "$N_BIG"
		rss parquet-big
	done
	say "compressed CSV exports (tenant big), for the stored bytes per event"
	for c in gzip zstd; do
		start_worker
		quiesce
		export_run "csv-$c-big" "$KEY_BIG" "file_type=csv&compression=$c" "$N_BIG"
	done
}

# psql_copy: (b), also the quick mode's reference for the coded exports.
COLS="id, occurred_at, event_type, sub_type, system_source, auditee_id, description, meta_entity_id, meta_assessment_id, meta_task_id, meta_workflow_instance_id, meta_screening_application_id, meta_screening_config_id, meta_match_id, meta_inquiry_id, meta_tag, meta_cache_id, meta_workflow_step, metadata_extra"
psql_copy() { # psql_copy NAME TENANT EXPECT [RUN]: with RUN, also records the CPU used
	local t0 out el bytes rc=0 pg0=() pg1=() cpu=() bu bs
	[ -z "${4:-}" ] || ! pg_ticks || pg0=("$TK_U" "$TK_S")
	t0=$(now)
	# psql's CPU: this shell's waited-for children's time (the second line
	# of bash's `times`, run in this shell) before and after; only psql
	# ends in between.
	times >"$TMP/times.before"
	out=$(psql "${COPY_DB:-$DB}" -qAt -c "\\copy (SELECT $COLS FROM events WHERE tenant_id = '$2' ORDER BY occurred_at, id) TO '$TMP/copy.csv' CSV" 2>&1) ||
		rc=$?
	times >"$TMP/times.after"
	el=$(since "$t0")
	[ -z "${4:-}" ] || ! pg_ticks || pg1=("$TK_U" "$TK_S")
	[ "$rc" = 0 ] || die "psql \\copy failed: $out"
	if [ -n "${4:-}" ]; then
		if [ ${#pg0[@]} = 2 ] && [ ${#pg1[@]} = 2 ]; then
			cpu+=(postgres_user_ms $(((pg1[0] - pg0[0]) * 1000 / CLK_TCK)) postgres_sys_ms $(((pg1[1] - pg0[1]) * 1000 / CLK_TCK)))
		else
			cpu+=(postgres_user_ms unknown postgres_sys_ms unknown)
		fi
		children_ms "$TMP/times.before"
		bu=$CH_U bs=$CH_S
		children_ms "$TMP/times.after"
		cpu+=(psql_user_ms $((CH_U - bu)) psql_sys_ms $((CH_S - bs)))
		record kind cpu name "$1" run "$4" window_s "$el" "${cpu[@]}"
		say "  CPU ms: ${cpu[*]}"
	fi
	bytes=$(stat -c %s "$TMP/copy.csv")
	# The tenant's seeded events, and (as the export does) the service's
	# own records of earlier exports (system_source audit_sentinel), which
	# \copy writes too: rows is everything it wrote.
	local rows seeded
	seeded=$(psql "$DB" -qAtc "SELECT count(*) FROM events WHERE tenant_id = '$2' AND system_source <> 'audit_sentinel'")
	[ "$seeded" = "$3" ] || die "tenant $2 has $seeded seeded events, expected $3"
	rows=$(psql "$DB" -qAtc "SELECT count(*) FROM events WHERE tenant_id = '$2'")
	record kind copy name "$1" seconds "$el" rows "$rows" bytes "$bytes"
	say "  psql \\copy $1: $rows rows, $bytes bytes in $(printf '%.3f' "$el") s"
	rm -f "$TMP/copy.csv"
}

# coded_exports RUN: the 600,000-event CSV export of tenant big fetched with
# Accept-Encoding zstd, then gzip (issue 13), each on a fresh worker; the
# client decodes the body and checks its SHA-256 before its clock stops.
coded_exports() {
	local c
	for c in zstd gzip; do
		start_worker
		quiesce
		export_cpu "csv-600k-$c" "$1" "$KEY_BIG" "file_type=csv" "$N_BIG" -accept-encoding "$c"
	done
}

# link_step (issue 13): the identity, zstd- and gzip-coded CSV exports of
# tenant big and psql \copy of the same rows, BENCH_RUNS times, each across
# the same shaped link (exportbench link: LINK_MBIT megabits a second each
# way, no added latency), one in front of the api and one in front of
# PostgreSQL. Compressed transfer is for a client at the far end of a
# network; on loopback the bytes it saves are free and only its CPU shows.
link_step() {
	local i c api_port pg_port authority hostport target link_db api_link pg_link
	[ "$LINK_MBIT" != 0 ] || return 0
	api_port=$(free_port)
	pg_port=$(free_port)
	# DB is postgres://[user[:password]@]host[:port]/db[?…]: psql goes to
	# the same database through the link's port.
	authority=${DB#*://}
	authority=${authority%%/*}
	hostport=${authority##*@}
	target=$hostport
	[[ $target == *:* ]] || target+=:5432
	link_db=${DB/"$authority"/"${authority%"$hostport"}127.0.0.1:$pg_port"}
	[ "$link_db" != "$DB" ] || die "cannot put the link in front of $DB"
	"$BIN/exportbench" link -listen "127.0.0.1:$api_port" -to "127.0.0.1:$API_PORT" -mbit "$LINK_MBIT" \
		2>>"$TMP/link.log" &
	api_link=$!
	"$BIN/exportbench" link -listen "127.0.0.1:$pg_port" -to "$target" -mbit "$LINK_MBIT" 2>>"$TMP/link.log" &
	pg_link=$!
	PIDS+=("$api_link" "$pg_link")
	wait_for "link to the api" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$api_port" || die "exportbench link did not start"
	wait_for "link to PostgreSQL" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$pg_port" || die "exportbench link did not start"
	record kind info key link_mbit value "$LINK_MBIT"
	say "across a $LINK_MBIT Mbit/s link: identity, zstd- and gzip-coded CSV exports of $N_BIG events and psql \\copy, $RUNS runs"
	for i in $(seq 1 "$RUNS"); do
		for c in identity zstd gzip; do
			start_worker
			quiesce
			if [ "$c" = identity ]; then
				export_run "csv-600k-link" "$KEY_BIG" "file_type=csv" "$N_BIG" -base "http://127.0.0.1:$api_port"
			else
				export_run "csv-600k-$c-link" "$KEY_BIG" "file_type=csv" "$N_BIG" -base "http://127.0.0.1:$api_port" \
					-accept-encoding "$c"
			fi
		done
		quiesce
		COPY_DB=$link_db psql_copy copy-600k-link big "$N_BIG"
	done
	stop_pid "$api_link"
	stop_pid "$pg_link"
}

# coded_step (the quick mode's): per run, (a) the identity export, the two
# coded ones, and (b) psql \copy, so that each has its references in the
# same run.
coded_step() {
	local i
	say "content-coded CSV exports: $N_BIG events (tenant big) beside (a) and (b), $RUNS runs"
	psql_copy warmup-big big "$N_BIG"
	sed -i '$d' "$RESULTS"
	for i in $(seq 1 "$RUNS"); do
		start_worker
		quiesce
		export_cpu csv-600k "$i" "$KEY_BIG" "file_type=csv" "$N_BIG"
		coded_exports "$i"
		quiesce
		psql_copy copy-600k big "$N_BIG" "$i"
	done
	link_step
}

# feed_step (issue 14): one poller reads tenant big's feed from no cursor
# to the end, RUNS times, with a key of scope events:read.
feed_step() {
	local i line key
	key=$(key_scoped big events:read)
	say "event feed: tenant big from the start to the end, pages of $FEED_LIMIT, $RUNS runs"
	for i in $(seq 1 "$RUNS"); do
		quiesce
		line=$("$BIN/exportbench" feed -base "$BASE" -key "$key" -limit "$FEED_LIMIT" -expect "$N_BIG" -name feed-big) ||
			{ tail -n 20 "$TMP/api.log" >&2; die "feed run $i failed"; }
		echo "$line" >>"$RESULTS"
		say "  $line"
	done
}

# ingest_step (issue 14): the same N_INGEST generated events loaded RUNS
# times each way into the events table, each time for a fresh tenant:
# one NDJSON POST to the api (restarted before it, so its VmHWM is that
# request's peak) and psql \copy events (…) FROM the CSV. Before them, an
# N_INGEST_SMALL-event request on a fresh api gives the small peak.
ingest_step() {
	local i key t0 el out cols n t
	say "ingest: generating $N_INGEST events once (NDJSON body, and a CSV per COPY tenant)"
	local copy_tenants=()
	for i in $(seq 1 "$RUNS"); do copy_tenants+=("copyin-$i"); done
	gen -events "$N_INGEST" -seed 101 -ndjson "$TMP/ingest.ndjson" -csv "$TMP/ingest-%s.csv" \
		-csv-tenants "$(
			IFS=,
			echo "${copy_tenants[*]}"
		)"
	gen -events "$N_INGEST_SMALL" -seed 102 -ndjson "$TMP/ingest-small.ndjson"
	cols=$("$BIN/exportbench" gen -columns)

	say "api peak RSS: one $N_INGEST_SMALL-event NDJSON request on a fresh api (tenant ingest-small)"
	key=$(key_scoped ingest-small events:write)
	start_api
	quiesce
	ingest_run ingest-small "$key" "$TMP/ingest-small.ndjson" "$N_INGEST_SMALL"
	api_rss api-ingest-small "$N_INGEST_SMALL"

	for i in $(seq 1 "$RUNS"); do
		say "ingest run $i of $RUNS: $N_INGEST events, API (tenant ingest-$i) and psql \\copy FROM (tenant copyin-$i)"
		key=$(key_scoped "ingest-$i" events:write)
		start_api
		quiesce
		ingest_run ingest-api "$key" "$TMP/ingest.ndjson" "$N_INGEST"
		api_rss api-ingest-large "$N_INGEST"
		quiesce
		t0=$(now)
		out=$(psql "$DB" -qAt -c "\\copy events ($cols) FROM '$TMP/ingest-copyin-$i.csv' CSV" 2>&1) ||
			die "psql \\copy FROM failed: $out"
		el=$(since "$t0")
		n=$(count_events "copyin-$i")
		record kind copyin name copyin tenant "copyin-$i" seconds "$el" rows "$n" bytes "$(stat -c %s "$TMP/ingest-copyin-$i.csv")"
		say "  psql \\copy FROM: $n events in $el s"
	done
	for t in ingest-small; do
		n=$(count_events "$t")
		[ "$n" = "$N_INGEST_SMALL" ] || die "tenant $t holds $n events, expected $N_INGEST_SMALL"
	done
	for i in $(seq 1 "$RUNS"); do
		for t in "ingest-$i" "copyin-$i"; do
			n=$(count_events "$t")
			[ "$n" = "$N_INGEST" ] || die "tenant $t holds $n events, expected $N_INGEST"
		done
	done
	say "  every ingest tenant holds exactly its events"
	rm -f "$TMP"/ingest*.ndjson "$TMP"/ingest-copyin-*.csv
}

# purge_step (issue 15): the N_MID-event CSV export of tenant mid and an
# N_INGEST_SMALL-event NDJSON ingest, RUNS times each, without a purge and
# then while the sweeper purges PURGE_TENANTS tenants of N_OLD events
# spread over 400 days (retention 30 days). The sweeper runs at its
# defaults (SWEEP_EVERY 15 s; PURGE_EVERY 1 min for the whole cluster, under
# a lease in Redis; 50 batches of 1,000 per tenant per pass): the purge
# lease the earlier workers' passes took is deleted, so a fresh worker's
# first sweep purges; the window starts as soon as the purge is seen
# (polled every 0.1 s), and several tenants make that pass long enough to
# cover the window (one pass purged ~37,000 events in under 0.5 s on the
# 2-core bench machine). The events purged during the window are counted;
# none is a failure.
purge_step() {
	local i k key olds=() before w0 w1 t0 el deadline
	for ((k = 1; k <= PURGE_TENANTS; k++)); do olds+=("old-$k"); done
	say "purge: seeding ${#olds[@]} tenants of $N_OLD events over 400 days"
	for k in "${olds[@]}"; do
		seed "$k" "$N_OLD" "$((300 + ${k#old-}))" 400
	done
	psql "$DB" -qAtc 'VACUUM ANALYZE events' >/dev/null
	settle
	for i in $(seq 1 $((2 * RUNS))); do
		gen -events "$N_INGEST_SMALL" -seed $((200 + i)) -ndjson "$TMP/purge-ingest-$i.ndjson"
	done
	key=$(key_scoped ingest-purge events:write)
	say "purge: without a purge (no retention set), $RUNS runs"
	start_worker
	export_run warmup-mid "$KEY_MID" "file_type=csv" "$N_MID"
	sed -i '$d' "$RESULTS"
	for i in $(seq 1 "$RUNS"); do
		quiesce
		export_run purge-off-csv "$KEY_MID" "file_type=csv" "$N_MID"
		ingest_run purge-off-ingest "$key" "$TMP/purge-ingest-$i.ndjson" "$N_INGEST_SMALL"
	done
	for k in "${olds[@]}"; do
		"$BIN/sentinelctl" retention set --tenant "$k" --event-days 30 --json=false >/dev/null 2>&1 ||
			die "sentinelctl retention set --tenant $k failed"
	done
	before=$(count_events "${olds[@]}")
	say "purge: retention 30 days on ${olds[*]} ($before events); a fresh worker, waiting for its first sweep to purge"
	# The last purge pass (of no tenant, before the retention was set) holds
	# the cluster's purge lease for up to a minute; the fresh worker's first
	# sweep must not wait for it.
	redis-cli -p "$REDIS_PORT" del sentinel:lease:sweep-purge >/dev/null ||
		die "redis-cli could not delete the purge lease"
	start_worker
	deadline=$((SECONDS + 90))
	while [ "$(count_events "${olds[@]}")" = "$before" ]; do
		[ "$SECONDS" -lt "$deadline" ] || die "the sweeper purged nothing within 90 s"
		sleep 0.1
	done
	w0=$(count_events "${olds[@]}")
	t0=$(now)
	say "purge: under way ($((before - w0)) purged so far); measuring, $RUNS runs"
	for i in $(seq 1 "$RUNS"); do
		export_run purge-on-csv "$KEY_MID" "file_type=csv" "$N_MID"
		ingest_run purge-on-ingest "$key" "$TMP/purge-ingest-$((RUNS + i)).ndjson" "$N_INGEST_SMALL"
	done
	el=$(since "$t0")
	w1=$(count_events "${olds[@]}")
	record kind purge name purge purged $((w0 - w1)) window_s "$el" before "$before" after "$w1"
	say "purge: $((w0 - w1)) events purged during the ${el}s window ($((before - w1)) in all so far)"
	[ $((w0 - w1)) -gt 0 ] || die "the sweeper purged no event during the measured window"
	n=$(count_events ingest-purge)
	[ "$n" = $((2 * RUNS * N_INGEST_SMALL)) ] || die "tenant ingest-purge holds $n events, expected $((2 * RUNS * N_INGEST_SMALL))"
	rm -f "$TMP"/purge-ingest-*.ndjson
}

# record_env and write_report: the run's context, then the table.
record_env() {
	record kind info key nproc value "$(nproc)"
	record kind info key clk_tck value "$CLK_TCK"
	local reporting=""
	if [ -n "$REPORTED0" ]; then
		reporting=", free memory reported to the host (page_reporting order $(cat "$PAGE_REPORTING/page_reporting_order"), min_free_ms $(cat "$PAGE_REPORTING/min_free_ms" 2>/dev/null || echo '?'); $(awk -v a="$REPORTED0" -v b="$(cat "$PAGE_REPORTING/reported_kib")" 'BEGIN {printf "%.1f GiB", (b - a) / 1048576}') during the run)"
	fi
	record kind info key machine value "$(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)$reporting"
	record kind info key go value "$(go version | awk '{print $3}')"
	record kind info key commit value:s "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+dirty')"
	record kind info key duration_seconds value "$SECONDS"
	# The report's header time: the run's, however much later the report
	# is made again from the results; the results' file names use it too.
	FINISHED=$(date -u +%s)
	record kind info key finished value:s "$(date -u -d "@$FINISHED" '+%Y-%m-%d %H:%M UTC')"
}

if [ -n "$QUICK" ]; then
	if [ -n "$ONLY_NDJSON$ONLY_FEED" ]; then
		say "warm-up: one unmeasured $N_BIG-event export"
		start_worker
		export_run warmup-600k "$KEY_BIG" "file_type=csv" "$N_BIG"
		sed -i '$d' "$RESULTS"
	fi
	[ -z "$ONLY_NDJSON" ] || ndjson_step
	[ -z "$ONLY_NDJSON" ] || coded_step
	if [ -n "$ONLY_FEED" ]; then
		if [ -z "$ONLY_NDJSON" ]; then # a CSV export for the feed's ratio
			start_worker
			quiesce
			export_run csv-600k "$KEY_BIG" "file_type=csv" "$N_BIG"
		fi
		feed_step
	fi
	[ -z "$ONLY_INGEST" ] || ingest_step
	[ -z "$ONLY_PURGE" ] || purge_step
	stop_pid "$WORKER_PID"
	WORKER_PID=""
	[ "${BENCH_ONLY_CONCURRENT:-}" != 1 ] || concurrent_step
	record_env
	"$BIN/exportbench" report -in "$RESULTS" >"$TMP/quick.md" || die "report failed"
	echo
	cat "$TMP/quick.md"
	say "quick mode: nothing written to bench/results (BENCH_KEEP=1 keeps $TMP/results.jsonl)"
	exit 0
fi


if [ "${BENCH_ONLY_CONCURRENT:-}" = 1 ]; then
	concurrent_step
	grep '"kind":"rss"' "$RESULTS" >&2
	exit 0
fi


# Warm the caches once for both sides alike (the first scan reads the heap
# from disk; every measured run then finds it in memory).
say "warm-up: one unmeasured psql \\copy of each tenant"
psql_copy warmup-big big 600000
sed -i '$d' "$RESULTS"
psql_copy warmup-mid mid 100000
sed -i '$d' "$RESULTS"

say "worker peak RSS: 100,000-event CSV export (tenant mid)"
start_worker
export_run csv-100k "$KEY_MID" "file_type=csv" 100000
rss csv-100k

# (b) had its unmeasured run above; (a) gets one too (the api's and
# versitygw's first large request, Redis's first large stream).
say "warm-up: one unmeasured 600,000-event export"
export_run warmup-600k "$KEY_BIG" "file_type=csv" 600000
sed -i '$d' "$RESULTS"

for i in $(seq 1 "$RUNS"); do
	say "(a)/(b) run $i of $RUNS: 600,000 events (tenant big)"
	start_worker
	quiesce
	export_cpu "csv-600k" "$i" "$KEY_BIG" "file_type=csv" 600000
	rss csv-600k
	coded_exports "$i"
	quiesce
	psql_copy "copy-600k" big 600000 "$i"
done

link_step
concurrent_rss

say "1,000-event exports: 30 sequential, each a different range (EXPORT_REUSE_WINDOW=0s)"
start_worker
line=$("$BIN/exportbench" latency -base "$BASE" -key "$KEY_BIG" -dsn "$DB" -tenant big -rows 1000 -count 30 -name csv-1k) ||
	{ tail -n 20 "$TMP/worker-$WORKER_N.log" >&2; die "latency series failed"; }
echo "$line" | sed 's/^{/{"kind":"latency",/' >>"$RESULTS"
say "  $line"
rss csv-1k-series

pdf_runs

ndjson_step
feed_step

if [ "${BENCH_SKIP_1M:-}" != 1 ]; then
	say "seeding tenant huge with 1,000,000 events (the table then holds 2,000,000)"
	seed huge 1000000 5
	psql "$DB" -qAtc 'VACUUM ANALYZE events' >/dev/null
	settle
	KEY_HUGE=$(key_for huge)
	psql_copy warmup-huge huge 1000000
	sed -i '$d' "$RESULTS"
	say "worker peak RSS: 1,000,000-event CSV export (tenant huge)"
	start_worker
	export_run csv-1m "$KEY_HUGE" "file_type=csv" 1000000
	rss csv-1m
	# What-if, reported apart from the targets: the same export with a
	# soft memory limit, showing how much of the peak is GC headroom.
	say "what-if: the 1,000,000-event export again with GOMEMLIMIT=$WHATIF_LIMIT"
	start_worker GOMEMLIMIT="$WHATIF_LIMIT"
	export_run csv-1m-memlimit "$KEY_HUGE" "file_type=csv" 1000000
	rss csv-1m-memlimit
fi

# Last, as they add tenants to the table (and purge some).
ingest_step
purge_step

stop_pid "$WORKER_PID"
WORKER_PID=""
# How the live path fared (internal/live): a response that finishes from
# storage waited for the file to be stored.
record kind info key live_from_storage value "$(grep -c 'live download finishes from storage' "$TMP/api.log" || true)"

# ---------------------------------------------------------------- report
record_env
mkdir -p bench/results
stamp=$(date -u -d "@$FINISHED" +%Y%m%dT%H%M%SZ)
"$BIN/exportbench" report -in "$RESULTS" >"bench/results/$stamp.md" || die "report failed"
cp "bench/results/$stamp.md" bench/results/latest.md
cp "$RESULTS" "bench/results/$stamp.jsonl"
echo
cat bench/results/latest.md
echo
say "written to bench/results/latest.md and bench/results/$stamp.md (raw: $stamp.jsonl)"
