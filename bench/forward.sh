#!/usr/bin/env bash
# The forwarding benchmark (issue 14): what the event log and the relay cost
# the callback path, and how fast and how soon events reach a receiver.
# For each driver (SQLite; PostgreSQL when a server answers), each scenario
# on a fresh database and a fresh server, --rounds times in turn (none,
# healthy, dead, none, healthy, dead, ...: the machine's drift falls on
# all three alike):
#   none     waorders serve with no webhook: intake throughput (wrk, full speed)
#   healthy  one endpoint at bench/receiver answering 200: intake throughput;
#            the events that reached the receiver while wrk ran; then the
#            events delivered per second draining the backlog wrk left
#            (distinct webhook-ids arriving after wrk ended, over the time
#            from its end to the last arrival)
#   dead     one endpoint at a port where nothing listens: intake throughput
# then, once per driver, on a fresh server and database with the healthy
# endpoint, commit-to-delivery latency at a paced 1,000 order callbacks/s
# (waorders send --rate): the receiver's clock minus the event's
# "timestamp" (the order's receipt, so the figure also holds the intake's
# own commit wait). It prints the medians (and ranges) of the rounds and
# intake with forwarding as a ratio of intake without it, per round.
# Goals: healthy ≥ 0.85, dead ≥ 0.95, p99 at 1,000/s ≤ 50 ms.
#
# With --pin (the default on 2 or more cores) the server side (waorders,
# and the whole PostgreSQL cluster's processes for the duration of the run;
# a run killed with -9 leaves them pinned: taskset -a -p -c 0-N PID for
# each of pgrep -u postgres undoes it) runs on the last
# CPU and wrk and the receiver on the others, so the load generator and the
# receiver do not take the server's CPU time from it: on a shared 2-core
# machine the unpinned ratios move ±15 % from run to run. It also prints the
# server side's CPU time per acknowledged callback while wrk ran (waorders
# plus PostgreSQL's processes) and "capacity", no-forwarding's CPU per
# callback divided by this scenario's: the share of the intake a CPU-bound
# server keeps. The paced phase is never pinned: taking 1,000 callbacks/s
# and forwarding 1,000 events/s needs more than one core of this machine.
#
# Usage: bash bench/forward.sh [--rounds 3] [--duration 10s] [--connections 64] [--threads 2]
#                              [--rate 1000] [--rate-duration 10s] [--no-postgres] [--no-pin]
#                              [-- extra serve flags, e.g. --relay-busy-share 1]
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10s connections=64 threads=2 postgres=auto rate=1000 rate_duration=10s rounds=3 pin=auto
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --rate-duration) rate_duration=$2; shift 2 ;;
    --no-postgres) postgres=no; shift ;;
    --pin) pin=yes; shift ;;
    --no-pin) pin=no; shift ;;
    -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

ncpu=$(nproc)
if [ "$pin" = auto ]; then if [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then pin=yes; else pin=no; fi; fi
server_cpus=all load_cpus=all
if [ "$pin" = yes ]; then
  [ "$ncpu" -ge 2 ] || { echo "--pin needs 2 or more CPUs, this machine has $ncpu" >&2; exit 2; }
  server_cpus=$((ncpu - 1)) load_cpus=0-$((ncpu - 2))
fi
on_server=() on_load=() # command prefixes (not functions: a backgrounded function is a subshell whose pid is not the server's)
[ "$pin" = no ] || { on_server=(taskset -c "$server_cpus"); on_load=(taskset -c "$load_cpus"); }
pg_pids() { pgrep -u postgres 2>/dev/null || true; }
pin_postgres() { # pin_postgres CPUS: every PostgreSQL process (new backends inherit the postmaster's)
  [ "$pin" = yes ] || return 0
  local p; for p in $(pg_pids); do taskset -a -p -c "$1" "$p" >/dev/null 2>&1 || true; done
}

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
  pin_postgres "0-$((ncpu - 1))"
}
trap cleanup EXIT

echo "building..." >&2
go build -o "$work/waorders" ./cmd/waorders
go build -o "$work/receiver" ./bench/receiver
secret=bench-secret-0123456789abcdef
token=bench-api-token-0123456789abcdef
export BENCH_SECRET=$secret

start() { # start NAME CMD...: background, wait for "listening on URL"; sets url, server_pid
  local name=$1; shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$!
  pids+=("$pid")
  url=
  for _ in $(seq 1 100); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$work/$name.out" 2>/dev/null | head -1 | sed 's/listening on //') || true
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/$name.err" >&2; echo "$name did not start" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$url" ] || { echo "$name did not print its URL" >&2; exit 1; }
  server_pid=$pid
}

json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d'"$1"')'; }

start receiver "${on_load[@]}" "$work/receiver"
rcv=$url
stats() { curl -s "$rcv/stats"; }

results="$work/results"
: >"$results"

clk_tck=$(getconf CLK_TCK)
# server_ticks DRIVER: user+system CPU ticks so far of waorders and, on
# PostgreSQL, of the cluster's processes (live ones, plus the postmaster's
# exited children).
server_ticks() {
  local t; t=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
  if [ "$1" = postgres ]; then
    local p; for p in $(pg_pids); do
      t=$((t + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
  fi
  echo "$t"
}

drive() { # drive DRIVER NAME: wrk at full speed against $url; sets rps, cpu_us (server side, per acknowledged callback)
  local t0; t0=$(server_ticks "$1")
  BENCH_RUN="$2$RANDOM" "${on_load[@]}" wrk -t"$threads" -c"$connections" -d"$duration" --latency -s bench/order.lua "$url" >"$work/$1-$2.wrk" 2>&1
  local t1; t1=$(server_ticks "$1")
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$work/$1-$2.wrk")
  local reqs non2xx; reqs=$(awk '/requests in/ {print $1}' "$work/$1-$2.wrk")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$work/$1-$2.wrk")
  [ -z "$non2xx" ] || echo "$1 $2: $non2xx non-2xx answers" >&2
  cpu_us=$(awk -v a="$t0" -v b="$t1" -v hz="$clk_tck" -v n="${reqs:-0}" -v bad="${non2xx:-0}" \
    'BEGIN { n -= bad; if (n > 0) printf "%.0f", (b - a) * 1e6 / hz / n; else print "-" }')
}

drain() { # drain: wait until the receiver's count stops growing for 3 s
  local last=-1 same=0 n
  while [ "$same" -lt 6 ]; do
    n=$(stats | json '["count"]')
    if [ "$n" = "$last" ]; then same=$((same + 1)); else same=0; last=$n; fi
    sleep 0.5
  done
}

scenario() { # scenario DRIVER NAME DBURL [serve args...]; NAME: none, healthy, dead or paced
  local driver=$1 name=$2 dburl=$3; shift 3
  echo "$driver: $name..." >&2
  local pre=("${on_server[@]}")
  [ "$name" != paced ] || pre=() # see the header: the paced phase has the whole machine
  start "$driver-$name" "${pre[@]}" "$work/waorders" serve --addr 127.0.0.1:0 --callback-secret "$secret" --api-token "$token" \
    --log-level warn --database-url "$dburl" --webhook-allow-private --webhook-allow-http-hosts 127.0.0.1 "$@" "${extra[@]}"
  local hook=
  case "$name" in
    healthy|paced) hook="$rcv/hooks" ;;
    dead) hook="http://127.0.0.1:1/hooks" ;;
  esac
  if [ -n "$hook" ]; then
    curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"url\":\"$hook\",\"event_types\":[\"order.created\"]}" "$url/v1/webhooks" >/dev/null
    sleep 1.5 # the relay lists the endpoints every second
  fi
  curl -sf -X POST "$rcv/reset"
  if [ "$name" = paced ]; then
    "$work/waorders" send --url "$url" --callback-secret "$secret" --rate "$rate" --duration "$rate_duration" \
      --concurrency 32 --mix order=1 --seed "$RANDOM" --json >"$work/$driver-paced.send" 2>"$work/$driver-paced.err" ||
      echo "$driver: send failed: $(tail -3 "$work/$driver-paced.err")" >&2
    drain
    local s acked; s=$(stats)
    acked=$(json '["acknowledged"]' <"$work/$driver-paced.send" 2>/dev/null || echo -)
    echo "$driver: paced $rate/s: $acked acknowledged, $(echo "$s" | json '["count"]') delivered" >&2
    echo "$driver paced - - - - $(echo "$s" | json '["p50_ms"]') $(echo "$s" | json '["p99_ms"]') $(echo "$s" | json '["max_ms"]') -" >>"$results"
  else
    drive "$driver" "$name"
    local during=- dps=-
    if [ "$name" = healthy ]; then
      local s0 t0; s0=$(stats); t0=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
      during=$(echo "$s0" | json '["count"]')
      drain
      dps=$(python3 -c 'import json,sys,datetime as d
f=lambda t: d.datetime.fromisoformat(t[:26].rstrip("Z")).timestamp()
s0=json.loads(sys.argv[1]); s=json.loads(sys.argv[2]); n=s["count"]-s0["count"]
dt=f(s["last"])-f(sys.argv[3]) if n > 0 else 0
print("%.0f" % (n/dt) if dt > 0 else "-")' "$s0" "$(stats)" "$t0")
    fi
    echo "$driver $name $rps $during $dps - - - $cpu_us" >>"$results"
  fi
  kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true
}

sqlite_db() { rm -f "$work/$1.db"*; echo "$work/$1.db"; }
pg=no
if [ "$postgres" != no ] && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  pg=yes
  pin_postgres "$server_cpus"
  pg_db() {
    local db=waorders_fwd_$1
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
    echo "postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
  }
elif [ "$postgres" != no ]; then
  echo "postgres: no server on 127.0.0.1:5432, skipped" >&2
fi

for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds" >&2
  for name in none healthy dead; do
    scenario sqlite "$name" "$(sqlite_db "$name")"
    [ "$pg" = no ] || scenario postgres "$name" "$(pg_db "$name")" --migrate
  done
done
[ "$pg" = no ] || pin_postgres "0-$((ncpu - 1))"
scenario sqlite paced "$(sqlite_db paced)"
[ "$pg" = no ] || scenario postgres paced "$(pg_db paced)" --migrate

echo
echo "waorders forwarding benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(go version | awk '{print $3}')"
echo "intake: wrk -t$threads -c$connections -d$duration, unique order callbacks, $rounds round(s), medians [ranges]; latency: waorders send --rate $rate for $rate_duration"
[ ${#extra[@]} -eq 0 ] || echo "serve flags: ${extra[*]}"
if [ "$pin" = yes ]; then echo "pinned: waorders and PostgreSQL on CPU $server_cpus, wrk and the receiver on CPU $load_cpus"; else echo "not pinned"; fi
echo
python3 - "$results" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
drivers = list(dict.fromkeys(r[0] for r in rows))
def col(d, n, i):
    return [float(r[i]) for r in rows if r[0] == d and r[1] == n and r[i] != "-"]
def med(v, f="%.0f"):
    if not v: return "-"
    m = f % st.median(v)
    return m if len(v) == 1 else "%s [%s-%s]" % (m, f % min(v), f % max(v))
head = ["driver", "endpoint", "intake req/s", "of no-forwarding", "server CPU µs/callback", "capacity", "delivered during wrk", "delivered/s (drain)", "p50 ms @rate", "p99 ms @rate", "max ms @rate"]
table = []
for d in drivers:
    base = col(d, "none", 2)
    for n in ("none", "healthy", "dead"):
        v = col(d, n, 2)
        if not v: continue
        ratios = [a / b for a, b in zip(v, base)] if len(base) == len(v) else []
        cpu, cbase = col(d, n, 8), col(d, "none", 8)
        capacity = [b / a for a, b in zip(cpu, cbase)] if len(cpu) == len(cbase) else []
        table.append([d, n, med(v), med(ratios, "%.2f") if n != "none" else "1.00", med(cpu),
                      med(capacity, "%.2f") if n != "none" else "1.00", med(col(d, n, 3)), med(col(d, n, 4)), "-", "-", "-"])
    p = [r for r in rows if r[0] == d and r[1] == "paced"]
    if p:
        table.append([d, "healthy, paced", "-", "-", "-", "-", "-", "-", p[0][6], p[0][7], p[0][8]])
w = [max(len(x[i]) for x in table + [head]) for i in range(len(head))]
fmt = lambda x: "| " + " | ".join(c.ljust(w[i]) if i < 2 else c.rjust(w[i]) for i, c in enumerate(x)) + " |"
print(fmt(head)); print("|" + "|".join("-" * (n + 2) for n in w) + "|")
for x in table: print(fmt(x))
PY
