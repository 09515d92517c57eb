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
# latency under a realistic load. Prints throughput, p50/p99 latency, peak RSS,
# the server process's CPU per request at full speed and the bytes it wrote
# to disk per callback at the fixed rate (PostgreSQL's own processes are not
# counted: "-"), each target's throughput as a share of the ceiling, then the
# disk's fsync latencies as the journal measured them. --rounds N runs all of it N times, in turn, and
# prints medians (a shared machine's disk and CPU vary from minute to minute).
#
# Usage: bash bench/run.sh [--duration 10s] [--rounds 1] [--connections 64] [--threads 2]
#                          [--rate 1000] [--rate-duration 10s] [--no-postgres]
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10s connections=64 threads=2 postgres=auto rate=1000 rate_duration=10s rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --rate-duration) rate_duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --no-postgres) postgres=no; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
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

# cpu_ticks PID: the user+system CPU time of PID so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# written PID: the bytes PID has caused to be written to storage so far.
written() { awk '/^write_bytes:/ {print $2}' "/proc/$1/io"; }
clk_tck=$(getconf CLK_TCK)

# drive NAME: wrk at full speed against $url; sets rps p50 p99 errors cpu_us.
drive() {
  local name=$1
  local t0; t0=$(cpu_ticks "$server_pid")
  BENCH_RUN="$name$RANDOM" wrk -t"$threads" -c"$connections" -d"$duration" --latency -s bench/order.lua "$url" >"$work/$name.wrk" 2>&1
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$work/$name.wrk")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' "$work/$name.wrk")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' "$work/$name.wrk")")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$work/$name.wrk"); errors=${errors:-0}
  local reqs; reqs=$(awk '/requests in/ {print $1}' "$work/$name.wrk")
  cpu_us=$(awk -v a="$t0" -v b="$(cpu_ticks "$server_pid")" -v hz="$clk_tck" -v n="${reqs:-0}" \
    'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1e6 / hz / n; else print "-" }')
  local sockerr; sockerr=$(awk '/Socket errors:/ {print}' "$work/$name.wrk")
  [ -z "$sockerr" ] || echo "$name: $sockerr" >&2
}

# paced NAME: waorders send at a fixed rate; sets r_p50 r_p99 r_acked.
paced() {
  local name=$1
  r_p50=- r_p99=- r_acked=- r_kb=-
  local w0; w0=$(written "$server_pid")
  if "$work/waorders" send --url "$url" --callback-secret "$secret" --rate "$rate" --duration "$rate_duration" \
       --concurrency 32 --mix order=1 --seed "$RANDOM" --json >"$work/$name.send" 2>"$work/$name.send.err"; then
    r_p50=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % d["latency"]["p50_ms"])' "$work/$name.send" 2>/dev/null || echo -)
    r_p99=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % d["latency"]["p99_ms"])' "$work/$name.send" 2>/dev/null || echo -)
    r_acked=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["acknowledged"])' "$work/$name.send" 2>/dev/null || echo -)
    r_kb=$(awk -v a="$w0" -v b="$(written "$server_pid")" -v n="$r_acked" \
      'BEGIN { if (n + 0 > 0) printf "%.1f", (b - a) / 1024 / n; else print "-" }')
  else
    echo "$name: waorders send failed: $(tail -3 "$work/$name.send.err")" >&2
  fi
}

rss_mib() { awk '/^VmHWM:/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# Each round runs every target once, in turn, on fresh databases; with
# --rounds N the table shows each figure's median over the N rounds, and
# the range of req/s, so that one noisy moment of a shared machine does not
# make the table.
results="$work/results"
: >"$results"
record() { echo "$1 $rps $p50 $p99 $errors $2 ${r_p50:--} ${r_p99:--} ${cpu_us:--} ${r_kb:--}" >>"$results"; }

serve_args=(serve --addr 127.0.0.1:0 --callback-secret "$secret" --api-token "$token" --log-level warn)

run_waorders() {
  local name=$1 dburl=$2; shift 2
  echo "round $round: $name..." >&2
  start "$name" "$work/waorders" "${serve_args[@]}" --database-url "$dburl" "$@"
  drive "$name"
  paced "$name"
  [ "${pg_run:-}" = yes ] && r_kb=-
  record "$name" "$(rss_mib "$server_pid")"
  kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true
}

have_pg=no
if [ "$postgres" != no ] && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  have_pg=yes
elif [ "$postgres" != no ]; then
  echo "postgres: no server on 127.0.0.1:5432, column skipped" >&2
fi

for round in $(seq 1 "$rounds"); do
  echo "round $round: ceiling..." >&2
  start ceiling "$work/ceiling"
  drive ceiling
  r_p50=- r_p99=- r_kb=-
  record ceiling "$(rss_mib "$server_pid")"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true

  echo "round $round: journal..." >&2
  rm -rf "$work/journal.d"; mkdir -p "$work/journal.d"
  start journal "$work/journal" -dir "$work/journal.d"
  drive journal
  paced journal
  record journal "$(rss_mib "$server_pid")"
  kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true
  grep '^fsync ' "$work/journal.out" >>"$work/fsync" || true

  rm -f "$work"/bench.db*
  run_waorders sqlite "$work/bench.db"

  if [ "$have_pg" = yes ]; then
    db=waorders_bench
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    pg_run=yes run_waorders postgres "postgres://postgres@127.0.0.1:5432/$db?sslmode=disable" --migrate
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null || true
  fi
done

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo
echo "waorders HTTP benchmark, $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), $(free -g | awk '/Mem:/ {print $2}') GiB, $(go version | awk '{print $3}')"
echo "wrk -t$threads -c$connections -d$duration, unique order callbacks (~1.3 KB); paced: waorders send --rate $rate for $rate_duration; $rounds round(s), medians"
echo
python3 - "$results" "$work/fsync" <<'PY'
import statistics, sys
rows = {}
order = []
for line in open(sys.argv[1]):
    f = line.split()
    if f[0] not in rows:
        rows[f[0]] = []
        order.append(f[0])
    rows[f[0]].append(f[1:])

def med(vals):
    nums = [float(v) for v in vals if v not in ("-", "")]
    return statistics.median(nums) if nums else None

def fmt(v, d=2):
    return "-" if v is None else f"{v:.{d}f}"

ceiling = med(r[0] for r in rows.get("ceiling", []))
head = ["target", "req/s", "req/s range", "p50 ms", "p99 ms", "non-2xx", "RSS MiB", "CPU µs/req", "of ceiling",
        "p50 @rate ms", "p99 @rate ms", "KB written/cb @rate"]
table = [head]
for name in order:
    rs = rows[name]
    rps = med(r[0] for r in rs)
    lo, hi = min(float(r[0]) for r in rs), max(float(r[0]) for r in rs)
    share = "-" if not ceiling or rps is None else f"{100 * rps / ceiling:.0f}%"
    errors = sum(int(r[3]) for r in rs)
    table.append([name, fmt(rps, 0), f"{lo:.0f}-{hi:.0f}", fmt(med(r[1] for r in rs)), fmt(med(r[2] for r in rs)),
                  str(errors), fmt(max(float(r[4]) for r in rs), 0), fmt(med(r[7] for r in rs), 0), share,
                  fmt(med(r[5] for r in rs)), fmt(med(r[6] for r in rs)), fmt(med(r[8] for r in rs), 1)])
width = [max(len(row[i]) for row in table) for i in range(len(head))]
line = lambda row: "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, width))) + " |"
print(line(head))
print("|" + "|".join("-" * (w + 2) for w in width) + "|")
for row in table[1:]:
    print(line(row))
try:
    fs = [dict(kv.split("=") for kv in l.split()[1:]) for l in open(sys.argv[2]) if l.startswith("fsync ")]
except FileNotFoundError:
    fs = []
if fs:
    print()
    print("disk fsync, as the journal measured it (median of rounds): " + ", ".join(
        f"{k[:-3]} {statistics.median(int(f[k]) for f in fs) / 1000:.2f} ms" for k in ("p50_us", "p99_us", "p999_us", "max_us")))
PY
