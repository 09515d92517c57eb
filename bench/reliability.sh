#!/usr/bin/env bash
# The crash test of waorders (make reliability; CI runs --rounds 5 --short):
# `waorders serve` driven by the load generator is killed with SIGKILL at
# random moments and restarted, N rounds, on SQLite and (when a server
# answers) PostgreSQL; then every acknowledged message, order and status is
# looked up in the database. Prints the counts table at the end and exits
# non-zero if anything acknowledged was lost or stored twice.
#
# Usage: bash bench/reliability.sh [--rounds N] [--short] [--seed N]
#   --rounds N  kill -9 rounds per driver (default $ROUNDS, else 10)
#   --short     a lighter load per round (CI)
#   --seed N    replay the kill timing of an earlier run (its seed is logged)
# PostgreSQL: WAORDERS_TEST_POSTGRES_URL (default the local server); with
# CI set, a missing server fails the run instead of skipping that driver.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${ROUNDS:-10} short="" seed=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=${2:-}; shift 2 || { echo "--rounds needs a number" >&2; exit 2; } ;;
    --rounds=*) rounds=${1#*=}; shift ;;
    --short) short=-short; shift ;;
    --seed) seed=${2:-}; shift 2 || { echo "--seed needs a number" >&2; exit 2; } ;;
    --seed=*) seed=${1#*=}; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$rounds" in ''|*[!0-9]*|0) echo "--rounds wants a whole number of at least 1, got '$rounds'" >&2; exit 2 ;; esac
case "$seed" in ''|*[!0-9]*) echo "--seed wants a whole number, got '$seed'" >&2; exit 2 ;; esac

out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
go test -count=1 -v $short -run 'TestCrashKill9' ./internal/e2e -args -rounds "$rounds" -seed "$seed" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e

echo
echo "== crash test: kill -9 under load, $rounds rounds per driver${short:+ (short)}"
if ! grep -q '^CRASH ' "$out"; then
  echo "no counts were printed: the crash test did not run to its end" >&2
  [ "$status" -ne 0 ] || status=1
else
  grep '^CRASH ' "$out" | awk '!seen[$0]++' | sed 's/^CRASH //'
  grep -A1 -e '--- SKIP: TestCrashKill9/' "$out" || true
fi
if [ "$status" -ne 0 ]; then
  echo "FAILED (LOST or DUPLICATE lines name lost or doubled records; see the test output above)" >&2
  exit "$status"
fi
echo "OK: nothing acknowledged was lost, nothing was stored twice"
