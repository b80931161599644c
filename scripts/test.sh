#!/usr/bin/env bash
# make test: provision PostgreSQL + pgvector like make run does, then run every
# test against throwaway databases in the project's own cluster.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

started_here=0
if ! scripts/postgres.sh running; then
  scripts/postgres.sh start
  started_here=1
fi
if [ "$started_here" = 1 ] && [ "${ATENDE_KEEP_PG:-}" = "" ]; then
  trap 'scripts/postgres.sh stop' EXIT
fi

admin="postgres://atende@127.0.0.1:$(scripts/postgres.sh port)/postgres?sslmode=disable"
# Databases left behind by an interrupted run.
psql "$admin" -qtAc "SELECT datname FROM pg_database WHERE datname LIKE 'atende\_test\_%'" | while read -r db; do
  [ -n "$db" ] && psql "$admin" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
done

export ATENDE_TEST_DATABASE_URL="$admin"
# Pages are tested in a real headless Chromium.
ATENDE_CHROMIUM=$(scripts/chromium.sh)
export ATENDE_CHROMIUM
go vet ./...
go test -count=1 "$@" ./...

# Every fuzz target runs for a short, fixed time: a parser that panics on some
# input fails the build. ATENDE_FUZZTIME=0 skips this (e.g. for -run filters).
fuzztime="${ATENDE_FUZZTIME:-5s}"
if [ "$fuzztime" != "0" ] && [ "$#" = 0 ]; then
  grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u | while read -r pkg; do
    for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$pkg"/*_test.go | sed 's/^func //'); do
      go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/dev/null \
        || { echo "fuzz $target in $pkg failed: go test -run '^\$' -fuzz '^${target}\$' $pkg" >&2; exit 1; }
      echo "fuzz $target ($fuzztime): ok"
    done
  done
fi
