#!/usr/bin/env bash
# bench-hll.sh - HyperLogLog throughput and instructions per request, ferrokey
# against Valkey: PFADD, PFCOUNT of one key, PFCOUNT of ten keys.
#
# Usage: scripts/bench-hll.sh [-r ROUNDS] [-p BASEPORT] [-c] FERROKEY_BIN VALKEY_BIN
#   Each round starts a fresh server of each kind in turn (order alternating
#   between rounds, so drift of a shared machine hits both alike), fills ten
#   dense HLLs (hll0..hll9, 20,000 random elements each), then runs
#   redis-benchmark -P 16 -c 10:
#     PFADD    200,000 x  PFADD hll __rand_int__   (-r 1000000)
#     PFCOUNT1 200,000 x  PFCOUNT hll0             (its cached cardinality)
#     PFCOUNT10 20,000 x  PFCOUNT hll0 ... hll9    (a union: no cache)
#   and prints requests/s per round and the medians.
#   -c  instead: each server once under valgrind --tool=callgrind, user-space
#       instructions per request of each phase (server threads only; the
#       machine's noise does not move these).
set -euo pipefail
ROUNDS=3 BASE=18560 CG=0
while getopts "r:p:c" o; do
  case $o in r) ROUNDS=$OPTARG ;; p) BASE=$OPTARG ;; c) CG=1 ;; *) sed -n '2,18p' "$0"; exit 2 ;; esac
done
shift $((OPTIND - 1)); (( $# == 2 )) || { sed -n '2,18p' "$0"; exit 2; }
FK=$1 VK=$2
TMP=$(mktemp -d); PID=""
cleanup() { [[ -n $PID ]] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; }; rm -rf "$TMP"; }
trap cleanup EXIT

KEYS10="hll0 hll1 hll2 hll3 hll4 hll5 hll6 hll7 hll8 hll9"
start() {  # start BIN PORT [wrapper...]: the server in the background, PID set
  local bin=$1 port=$2; shift 2
  "$@" "$bin" --port "$port" --save '' --appendonly no --daemonize no > "$TMP/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 600); do
    [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]] && return
    kill -0 "$PID" 2>/dev/null || { tail "$TMP/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "server on $port did not start" >&2; exit 1
}
stop() {
  redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true; PID=""
}
fill() {
  for k in $KEYS10; do
    redis-benchmark -p "$1" -n 20000 -P 16 -c 10 -r 1000000 pfadd "$k" __rand_int__ >/dev/null 2>&1
  done
}
bench() {  # bench PORT N ARGS...: requests per second
  local port=$1 n=$2; shift 2
  redis-benchmark -p "$port" -n "$n" -P 16 -c 10 -r 1000000 -q "$@" 2>/dev/null |
    tr '\r' '\n' | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1
}
phases() {  # phases PORT SCALE: runs the three phases, printing "name n" before each
  local port=$1 s=$2
  echo "pfadd $((200000 / s))"; bench "$port" $((200000 / s)) pfadd hll __rand_int__
  echo "pfcount1 $((200000 / s))"; bench "$port" $((200000 / s)) pfcount hll0
  # shellcheck disable=SC2086
  echo "pfcount10 $((20000 / s))"; bench "$port" $((20000 / s)) pfcount $KEYS10
}

if (( CG )); then
  printf "%-8s %-10s %9s %12s\n" server phase requests instr/req
  for pair in "ferrokey $FK" "valkey $VK"; do
    set -- $pair; label=$1 bin=$2 port=$BASE
    start "$bin" "$port" valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" --dump-instr=no
    fill "$port"
    for ph in "pfadd 20000 pfadd hll __rand_int__" "pfcount1 20000 pfcount hll0" "pfcount10 1000 pfcount $KEYS10"; do
      set -- $ph; name=$1 n=$2; shift 2
      callgrind_control -z "$PID" >/dev/null 2>&1
      bench "$port" "$n" "$@" >/dev/null
      before=$(ls "$TMP" | grep -c '^cg.out\.' || true)
      callgrind_control -d "$name" "$PID" >/dev/null 2>&1
      for _ in $(seq 100); do (( $(ls "$TMP" | grep -c '^cg.out\.' || true) > before )) && break; sleep 0.1; done
      f=$(ls -t "$TMP"/cg.out.* | head -1)
      ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$f")
      awk -v l="$label" -v p="$name" -v n="$n" -v ir="$ir" 'BEGIN { printf "%-8s %-10s %9d %12.0f\n", l, p, n, ir / n }'
    done
    stop "$port"; rm -f "$TMP"/cg.out*
  done
  exit 0
fi

declare -A R
for r in $(seq "$ROUNDS"); do
  order="ferrokey valkey"; (( r % 2 == 0 )) && order="valkey ferrokey"
  for label in $order; do
    bin=$FK; [[ $label == valkey ]] && bin=$VK
    port=$((BASE + r)); start "$bin" "$port"; fill "$port"
    while read -r name n; do
      read -r rps
      R[$label,$name]+="$rps "
      printf "round %d %-8s %-10s %12s req/s\n" "$r" "$label" "$name" "$rps"
    done < <(phases "$port" 1)
    stop "$port"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
printf "\n%-10s %14s %14s %8s\n" phase ferrokey valkey ratio
for name in pfadd pfcount1 pfcount10; do
  f=$(echo "${R[ferrokey,$name]}" | median); v=$(echo "${R[valkey,$name]}" | median)
  awk -v p="$name" -v f="$f" -v v="$v" 'BEGIN { printf "%-10s %14.0f %14.0f %7.2fx\n", p, f, v, f / v }'
done
