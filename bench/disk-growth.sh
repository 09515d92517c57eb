#!/usr/bin/env bash
# Disk growth per 1,000 orders on both drivers: starts bin/waorders (make
# build) on a fresh database, sends N order callbacks (default 10000, one
# order of up to 5 lines each, no duplicates) and reports the bytes the
# database grew by, per 1,000 orders. SQLite: the .db file after a
# checkpoint (the WAL is truncated at shutdown; its size while running is
# bounded by journal_size_limit, 64 MiB). PostgreSQL: pg_database_size of a
# fresh database, after VACUUM so dead tuples do not count.
#   bash bench/disk-growth.sh [N]   # needs PostgreSQL on 127.0.0.1:5432 for the second row
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
BIN=bin/waorders
[ -x "$BIN" ] || make build >/dev/null
SECRET=disk-growth-secret-0123456789abcdef
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

run() { # driver url
  local addr=127.0.0.1:$((20000 + RANDOM % 20000))
  WAORDERS_CALLBACK_SECRET=$SECRET WAORDERS_API_TOKEN=disk-growth-token-0123456789abcdef \
    "$BIN" serve --addr "$addr" --database-url "$2" --migrate=$([ "$1" = postgres ] && echo true || echo false) \
    --log-level warn >"$work/$1.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf "http://$addr/readyz" >/dev/null && break; sleep 0.1; done
  [ "$N" -eq 0 ] || "$BIN" send --quiet --url "http://$addr" --callback-secret "$SECRET" --count "$N" \
    --mix order=100 --concurrency 8 --seed 1 >/dev/null 2>&1
  kill -TERM $pid; wait $pid || true
}

printf '| driver | orders | grew by | per 1,000 orders |\n| --- | --- | --- | --- |\n'
# SQLite: the size of a fresh, migrated, empty file is the baseline.
db=$work/w.db
N0=$N; N=0; run sqlite "$db.base"; N=$N0
base=$(stat -c %s "$db.base")
run sqlite "$db"
size=$(stat -c %s "$db")
printf '| SQLite | %d | %d bytes | %d KiB |\n' "$N" $((size - base)) $(((size - base) * 1000 / N / 1024))

if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  name=disk_growth_$$
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE DATABASE $name" >/dev/null
  url="postgres://postgres@127.0.0.1:5432/$name?sslmode=disable"
  N0=$N; N=0; run postgres "$url"; N=$N0
  psql -q -h 127.0.0.1 -U postgres -d "$name" -c "VACUUM" >/dev/null
  base=$(psql -tA -h 127.0.0.1 -U postgres -d "$name" -c "SELECT pg_database_size(current_database())")
  run postgres "$url"
  psql -q -h 127.0.0.1 -U postgres -d "$name" -c "VACUUM" >/dev/null
  size=$(psql -tA -h 127.0.0.1 -U postgres -d "$name" -c "SELECT pg_database_size(current_database())")
  printf '| PostgreSQL | %d | %d bytes | %d KiB |\n' "$N" $((size - base)) $(((size - base) * 1000 / N / 1024))
  psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE $name" >/dev/null
else
  echo "PostgreSQL is not running on 127.0.0.1:5432: no PostgreSQL row"
fi
