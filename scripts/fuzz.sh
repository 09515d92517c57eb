#!/usr/bin/env bash
# Runs every fuzz target of the module for the given time each (default 60s).
# New interesting inputs land in testdata/fuzz/ of their package: commit them.
set -euo pipefail
fuzztime=${1:-60s}
cd "$(dirname "$0")/.."
found=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    found=1
    echo "== fuzz $pkg $target for $fuzztime"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" -fuzzminimizetime=5s "$pkg"
  done
done
[ "$found" = 1 ] || { echo "no fuzz targets found" >&2; exit 1; }
