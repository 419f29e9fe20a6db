# shellcheck shell=bash
# scripts/lib/postgres.sh — a throwaway PostgreSQL cluster, shared by
# scripts/test.sh (make test, CI) and bench/run.sh (make bench). Source it;
# the caller defines die MESSAGE.
#
#   pg_bindir               prints the newest server binaries directory
#   pg_start DIR [OPT...]   initdb in DIR/data and start it on a free port of
#                           127.0.0.1 with the throwaway settings plus OPTs
#                           (postgres -c NAME=VALUE pairs, e.g. -c
#                           max_connections=300). DIR must exist and be
#                           empty; as root it is handed to the postgres user,
#                           so its parent must be traversable. Sets PGBIN,
#                           PG_AS, PG_DIR, PG_PORT, PG_URL and PG_PM (the
#                           postmaster's PID).
#   pg_stop                 stops the cluster (immediately); safe to call twice
#                           or when none was started

PGBIN="" PG_DIR="" PG_PORT="" PG_URL="" PG_PM=""
PG_AS=()

pg_bindir() {
	local d
	# Newest major version first.
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -rn); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

pg_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pg_start() {
	local dir=$1
	shift
	PGBIN=$(pg_bindir) || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
	PG_DIR=$dir
	if [ "$(id -u)" = 0 ]; then
		# PostgreSQL refuses to run as root.
		id postgres >/dev/null 2>&1 || die "running as root and there is no 'postgres' user to run PostgreSQL as"
		chown postgres: "$dir"
		chmod 700 "$dir"
		PG_AS=(runuser -u postgres --)
	else
		PG_AS=(env)
	fi
	"${PG_AS[@]}" "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
		>"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		die "initdb failed (log above)"
	}
	local try port="" opts
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + RANDOM % 30000))
		pg_port_free "$port" || continue
		opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir"
		# Durability is worthless for a throwaway cluster; speed is not.
		opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off $*"
		if "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start \
			-o "$opts" >/dev/null 2>&1; then
			break
		fi
		port=""
		# The server may have started and died (the port taken in between).
		"${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	done
	if [ -z "$port" ]; then
		tail -n 30 "$dir/postgres.log" >&2 || true
		die "could not start a throwaway PostgreSQL ($PGBIN/pg_ctl; log above)"
	fi
	PG_PORT=$port
	PG_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	psql "$PG_URL" -qAtc 'select 1' >/dev/null 2>&1 ||
		die "throwaway PostgreSQL started on port $port but does not answer queries"
	read -r PG_PM <"$dir/data/postmaster.pid" ||
		die "cannot read the postmaster's PID from $dir/data/postmaster.pid"
}

pg_stop() {
	if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
		"${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
}
