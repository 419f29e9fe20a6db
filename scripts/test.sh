#!/usr/bin/env bash
# scripts/test.sh — the whole test suite on a fresh machine, as `make test`
# and CI run it.
#
#   1. installs missing OS packages (redis-server, PostgreSQL, poppler-utils,
#      libreoffice-calc-nogui)
#   2. builds bin/versitygw (the S3 server tests run) if missing or stale
#   3. starts a throwaway PostgreSQL on a free port, unless TEST_DATABASE_URL
#      is set, and exports TEST_DATABASE_URL
#   4. leaves Redis to internal/testenv (a private redis-server per test),
#      unless TEST_REDIS_URL is set
#   5. scripts/lint.sh (go vet, gofmt, golangci-lint), go test -race
#
# Usage: scripts/test.sh [PACKAGES...]     (default ./...)
#   GOTESTFLAGS="-run TestX -v"  extra flags for go test
#
# Exits with go test's status, or 1 when go test passed but vet or gofmt did
# not. A service that cannot be provisioned stops the run with status 2.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

say() { printf '==> %s\n' "$*" >&2; }
# shellcheck source=scripts/lib/postgres.sh
. "$ROOT/scripts/lib/postgres.sh"
die() {
	printf '\n!!! scripts/test.sh: %s\n\n' "$*" >&2
	exit 2
}

# ---------------------------------------------------------------- packages
as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		die "need root (or passwordless sudo) to run: $*"
	fi
}

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
# A real spreadsheet engine: the CSV injection test opens exports with it.
command -v soffice >/dev/null || missing+=(libreoffice-calc-nogui)
# The console's browser tests drive Debian's chromium (internal/console).
command -v chromium >/dev/null || missing+=(chromium)
if [ -z "${TEST_DATABASE_URL:-}" ]; then
	pg_bindir >/dev/null || missing+=(postgresql)
	command -v psql >/dev/null || missing+=(postgresql-client)
fi
if [ ${#missing[@]} -gt 0 ]; then
	say "installing OS packages: ${missing[*]}"
	command -v apt-get >/dev/null || die "missing ${missing[*]} and there is no apt-get to install them"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get update -qq </dev/null >/dev/null ||
		die "apt-get update failed; cannot install ${missing[*]}"
	as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null ||
		die "apt-get install ${missing[*]} failed"
fi
command -v redis-server >/dev/null || die "redis-server is still not on PATH after installing redis-server"
command -v pdftotext >/dev/null || die "pdftotext is still not on PATH after installing poppler-utils"
command -v soffice >/dev/null || die "soffice is still not on PATH after installing libreoffice-calc-nogui"
command -v chromium >/dev/null || die "chromium is still not on PATH after installing chromium"

# ---------------------------------------------------------------- versitygw
if [ -z "${VERSITYGW_BIN:-}" ]; then
	if [ ! -x bin/versitygw ] || [ tools/go.mod -nt bin/versitygw ] || [ tools/go.sum -nt bin/versitygw ]; then
		say "building bin/versitygw from tools/go.mod"
		mkdir -p bin
		(cd tools && go build -o ../bin/versitygw github.com/versity/versitygw/cmd/versitygw) ||
			die "could not build bin/versitygw (cd tools && go build …); the S3 tests need it"
	fi
	"$ROOT/bin/versitygw" --version >/dev/null 2>&1 || die "bin/versitygw does not run"
fi

# ---------------------------------------------------------------- PostgreSQL
PGTMP=""
cleanup() {
	local rc=$?
	pg_stop
	if [ -n "$PGTMP" ]; then
		rm -rf "$PGTMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_postgres() {
	PGTMP=$(mktemp -d "${TMPDIR:-/tmp}/sentinel-pg.XXXXXX") || die "cannot make a temp dir for PostgreSQL"
	# Test packages run in parallel, each with its own pools.
	pg_start "$PGTMP" -c max_connections=300
	export TEST_DATABASE_URL=$PG_URL
	say "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (data in $PGTMP)"
}

if [ -n "${TEST_DATABASE_URL:-}" ]; then
	say "using TEST_DATABASE_URL from the environment"
	if command -v psql >/dev/null; then
		psql "$TEST_DATABASE_URL" -qAtc 'select 1' >/dev/null ||
			die "TEST_DATABASE_URL is set but the server does not answer (psql above)"
	fi
else
	start_postgres
fi

if [ -n "${TEST_REDIS_URL:-}" ]; then
	say "using TEST_REDIS_URL from the environment (tests FLUSHALL it)"
else
	say "Redis: testenv starts a private $(redis-server --version | awk '{print $3}' | sed 's/^v=//') per test"
fi

# ---------------------------------------------------------------- checks
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)

status=0
# vet, gofmt and golangci-lint: one script, the same as `make lint`.
bash "$ROOT/scripts/lint.sh" "${pkgs[@]}" || status=1

say "go test -race -count=1 -timeout 40m ${GOTESTFLAGS:-} ${pkgs[*]}"
set +e
# shellcheck disable=SC2086 # GOTESTFLAGS is a list of flags
go test -race -count=1 -timeout 40m ${GOTESTFLAGS:-} "${pkgs[@]}"
test_status=$?
set -e

if [ "$test_status" -ne 0 ]; then
	say "FAILED: go test exited $test_status"
	exit "$test_status"
fi
if [ "$status" -ne 0 ]; then
	say "FAILED: tests passed but lint (vet, gofmt or golangci-lint) did not"
	exit 1
fi
say "ok"
