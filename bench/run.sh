#!/usr/bin/env bash
# The HTTP benchmark table of waorders, in one run on this machine:
#   ceiling   a Go handler that only reads the body and answers 200
#   journal   a Go handler that appends the body to a file and answers after
#             an fsync (group commit): the most any service that answers only
#             for durable data reaches on this disk (bench/journal)
#   sqlite    waorders serve on SQLite (WAL, synchronous=FULL, group commit)
#   postgres  waorders serve on PostgreSQL (when a server answers)
# Each is driven by wrk with unique Kaleyra order callbacks (bench/order.lua)
# at full speed, then by `waorders send` at a fixed 1,000 callbacks/s for the
# latency under a realistic load. Prints throughput, p50/p99 latency, peak RSS
# and each as a share of the ceiling, then the disk's fsync latencies as the
# journal measured them.
#
# Usage: bash bench/run.sh [--duration 10s] [--connections 64] [--threads 2] [--no-postgres]
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10s connections=64 threads=2 postgres=auto rate=1000 rate_duration=10s
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --rate-duration) rate_duration=$2; shift 2 ;;
    --no-postgres) postgres=no; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "building..." >&2
go build -o "$work/waorders" ./cmd/waorders
go build -o "$work/ceiling" ./bench/ceiling
go build -o "$work/journal" ./bench/journal
secret=bench-secret-0123456789abcdef
token=bench-api-token-0123456789abcdef
export BENCH_SECRET=$secret

# start NAME CMD...: runs CMD in the background, waits for its "listening on URL" line.
start() {
  local name=$1; shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$work/$name.out" 2>/dev/null | head -1 | sed 's/listening on //') || true
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/$name.err" >&2; echo "$name did not start" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$url" ] || { echo "$name did not print its URL" >&2; exit 1; }
  server_pid=$pid
}

# to_ms VALUE: wrk's "1.23ms" / "850.00us" / "1.01s" in milliseconds.
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v/1000; else if (v ~ /ms$/) printf "%.2f", v+0; else if (v ~ /s$/) printf "%.2f", v*1000; else print v }'; }

# drive NAME: wrk at full speed against $url; sets rps p50 p99 errors.
drive() {
  local name=$1
  BENCH_RUN="$name$RANDOM" wrk -t"$threads" -c"$connections" -d"$duration" --latency -s bench/order.lua "$url" >"$work/$name.wrk" 2>&1
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$work/$name.wrk")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' "$work/$name.wrk")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' "$work/$name.wrk")")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$work/$name.wrk"); errors=${errors:-0}
  local sockerr; sockerr=$(awk '/Socket errors:/ {print}' "$work/$name.wrk")
  [ -z "$sockerr" ] || echo "$name: $sockerr" >&2
}

# paced NAME: waorders send at a fixed rate; sets r_p50 r_p99 r_acked.
paced() {
  local name=$1
  r_p50=- r_p99=- r_acked=-
  if "$work/waorders" send --url "$url" --callback-secret "$secret" --rate "$rate" --duration "$rate_duration" \
       --concurrency 32 --mix order=1 --seed "$RANDOM" --json >"$work/$name.send" 2>"$work/$name.send.err"; then
    r_p50=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % d["latency"]["p50_ms"])' "$work/$name.send" 2>/dev/null || echo -)
    r_p99=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % d["latency"]["p99_ms"])' "$work/$name.send" 2>/dev/null || echo -)
    r_acked=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["acknowledged"])' "$work/$name.send" 2>/dev/null || echo -)
  else
    echo "$name: waorders send failed: $(tail -3 "$work/$name.send.err")" >&2
  fi
}

rss_mib() { awk '/^VmHWM:/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

rows=()
echo "ceiling..." >&2
start ceiling "$work/ceiling"
drive ceiling
ceiling_rps=$rps
rows+=("ceiling|$rps|$p50|$p99|$errors|$(rss_mib "$server_pid")|100%|-|-")
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true

echo "journal..." >&2
mkdir -p "$work/journal.d"
start journal "$work/journal" -dir "$work/journal.d"
drive journal
paced journal
rows+=("journal|$rps|$p50|$p99|$errors|$(rss_mib "$server_pid")|$(awk -v a="$rps" -v b="$ceiling_rps" 'BEGIN { printf "%.0f%%", 100*a/b }')|$r_p50|$r_p99")
kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true
fsync_line=$(grep '^fsync ' "$work/journal.out" || echo "fsync: not reported")

serve_args=(serve --addr 127.0.0.1:0 --callback-secret "$secret" --api-token "$token" --log-level warn)

run_waorders() {
  local name=$1 dburl=$2; shift 2
  echo "$name..." >&2
  start "$name" "$work/waorders" "${serve_args[@]}" --database-url "$dburl" "$@"
  drive "$name"
  paced "$name"
  local rss; rss=$(rss_mib "$server_pid")
  local share; share=$(awk -v a="$rps" -v b="$ceiling_rps" 'BEGIN { printf "%.0f%%", 100*a/b }')
  rows+=("$name|$rps|$p50|$p99|$errors|$rss|$share|$r_p50|$r_p99")
  kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true
}

run_waorders sqlite "$work/bench.db"

if [ "$postgres" != no ] && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  db=waorders_bench
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  run_waorders postgres "postgres://postgres@127.0.0.1:5432/$db?sslmode=disable" --migrate
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null || true
elif [ "$postgres" != no ]; then
  echo "postgres: no server on 127.0.0.1:5432, column skipped" >&2
fi

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo
echo "waorders HTTP benchmark, $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), $(free -g | awk '/Mem:/ {print $2}') GiB, $(go version | awk '{print $3}')"
echo "wrk -t$threads -c$connections -d$duration, unique order callbacks (~1.3 KB); paced: waorders send --rate $rate for $rate_duration"
echo
printf "| %-9s | %9s | %8s | %8s | %7s | %8s | %10s | %13s | %13s |\n" target "req/s" "p50 ms" "p99 ms" non-2xx "RSS MiB" "of ceiling" "p50 @${rate}/s" "p99 @${rate}/s"
printf "|%s|\n" "-----------|-----------|----------|----------|---------|----------|------------|---------------|---------------"
for r in "${rows[@]}"; do
  IFS='|' read -r a b c d e f g h i <<<"$r"
  printf "| %-9s | %9s | %8s | %8s | %7s | %8s | %10s | %13s | %13s |\n" "$a" "$b" "$c" "$d" "$e" "$f" "$g" "$h" "$i"
done
echo
echo "disk, as the journal measured it during its runs: $fsync_line"
