#!/usr/bin/env bash
# scripts/lint.sh — go vet, a gofmt check and golangci-lint (.golangci.yml),
# as `make lint` and `make test` run them. Builds bin/golangci-lint from the
# version pinned in tools/lint/go.mod when it is missing or stale; it lives in
# a module of its own so its many dependencies never touch ours or versitygw's.
#
# Usage: scripts/lint.sh [PACKAGES...]     (default ./...)
# Exits 1 when any check fails, 2 when the linter cannot be built.
set -euo pipefail

cd "$(dirname "$0")/.."
say() { printf '==> %s\n' "$*" >&2; }

pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)

lint=${GOLANGCI_LINT_BIN:-bin/golangci-lint}
if [ -z "${GOLANGCI_LINT_BIN:-}" ]; then
	if [ ! -x "$lint" ] || [ tools/lint/go.mod -nt "$lint" ] || [ tools/lint/go.sum -nt "$lint" ]; then
		say "building bin/golangci-lint from tools/lint/go.mod (a minute or two, once)"
		mkdir -p bin
		(cd tools/lint && go build -o ../../bin/golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint) || {
			printf '\n!!! scripts/lint.sh: could not build bin/golangci-lint\n\n' >&2
			exit 2
		}
	fi
fi

status=0
say "go vet ${pkgs[*]}"
go vet "${pkgs[@]}" || status=1

say "gofmt check"
unformatted=$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -not -path './tools/*' -print0 | xargs -0 -r gofmt -l)
if [ -n "$unformatted" ]; then
	printf 'gofmt: these files need formatting (run `make fmt`):\n%s\n' "$unformatted" >&2
	status=1
fi

say "golangci-lint run ${pkgs[*]}"
# --allow-parallel-runners: several checkouts of a developer may lint at once.
"$lint" run --allow-parallel-runners "${pkgs[@]}" || status=1
exit "$status"
