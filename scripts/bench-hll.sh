#!/usr/bin/env bash
# bench-hll.sh - HyperLogLog throughput, server CPU and instructions per
# request, ferrokey against Valkey: PFADD, PFCOUNT of one key, PFCOUNT of ten
# keys, and SET at the same settings as a control for the client/IO path.
#
# Usage: scripts/bench-hll.sh [-r ROUNDS] [-p BASEPORT] [-P PIPELINE] [-C CLIENTS]
#                             [-j JOBS] [-c] FERROKEY_BIN VALKEY_BIN
#   Each round starts a fresh server of each kind in turn (order alternating
#   between rounds, so drift of a shared machine hits both alike), fills ten
#   dense HLLs (hll0..hll9, 20,000 random elements each), then runs
#   redis-benchmark -P PIPELINE (16) -c CLIENTS (10) -r 1000000:
#     pfadd     200,000 x  PFADD hll __rand_int__   (a new key: sparse, then dense)
#     pfcount1  200,000 x  PFCOUNT hll0             (its cached cardinality)
#     pfcount10  20,000 x  PFCOUNT hll0 ... hll9    (a union: no cache)
#     set       200,000 x  SET key:__rand_int__ (16 bytes, -r 100000): the control
#   and prints requests/s and the server's CPU time per request (all its
#   threads, user + kernel, from /proc/PID/task/*/schedstat) per round, then
#   the medians. Per round it also shows how long the server's threads sat
#   runnable waiting for a CPU: on a shared machine, rounds with much of it
#   measure the other load more than the server. -j JOBS runs that many
#   redis-benchmark processes at once, each with CLIENTS connections and
#   its share of the requests; requests/s
#   is then all requests over the wall time of the group (process start
#   included), so it loads the server harder than one client process can.
#   -c  instead: each server once under valgrind --tool=callgrind, user-space
#       instructions per request of each phase (server threads only; the
#       machine's noise does not move these).
set -euo pipefail
ROUNDS=3 BASE=18560 CG=0 PIPE=16 CLIENTS=10 JOBS=1
usage() { sed -n '2,27p' "$0"; exit 2; }
while getopts "r:p:P:C:j:c" o; do
  case $o in r) ROUNDS=$OPTARG ;; p) BASE=$OPTARG ;; P) PIPE=$OPTARG ;; C) CLIENTS=$OPTARG ;;
             j) JOBS=$OPTARG ;; c) CG=1 ;; *) usage ;; esac
done
shift $((OPTIND - 1)); (( $# == 2 )) || usage
FK=$1 VK=$2
TMP=$(mktemp -d); PID=""
cleanup() { [[ -n $PID ]] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; }; rm -rf "$TMP"; }
trap cleanup EXIT

KEYS10="hll0 hll1 hll2 hll3 hll4 hll5 hll6 hll7 hll8 hll9"
start() {  # start BIN PORT [wrapper...]: the server in the background, PID set
  local bin=$1 port=$2; shift 2
  if redis-cli -p "$port" ping >/dev/null 2>&1; then echo "port $port already in use" >&2; exit 1; fi
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
# Run time and run-queue wait of all server threads (ns): "cpu wait".
cpu_ns() { cat /proc/"$PID"/task/*/schedstat 2>/dev/null | awk '{ s += $1; w += $2 } END { printf "%.0f %.0f\n", s, w }'; }
rps_of() { tr '\r' '\n' < "$1" | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1; }
bench() {  # bench PORT N ARGS...: prints "requests/s server-CPU-ns/request server-wait-ns/request"
  local port=$1 n=$2; shift 2
  local c0 c1 w0 w1 t0 t1 rps j
  read -r c0 w0 < <(cpu_ns); t0=$(date +%s%N)
  if (( JOBS == 1 )); then
    redis-benchmark -p "$port" -n "$n" -P "$PIPE" -c "$CLIENTS" -r 1000000 -q "$@" > "$TMP/b.0" 2>/dev/null
  else
    for (( j = 0; j < JOBS; j++ )); do
      redis-benchmark -p "$port" -n $((n / JOBS)) -P "$PIPE" -c "$CLIENTS" -r 1000000 -q "$@" \
        > "$TMP/b.$j" 2>/dev/null &
    done
    wait $(jobs -p)
  fi
  t1=$(date +%s%N); read -r c1 w1 < <(cpu_ns)
  if (( JOBS == 1 )); then rps=$(rps_of "$TMP/b.0"); else
    rps=$(awk -v n=$((n / JOBS * JOBS)) -v d=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (d / 1e9) }'); fi
  awk -v r="$rps" -v c=$((c1 - c0)) -v w=$((w1 - w0)) -v n="$n" 'BEGIN { printf "%s %.0f %.0f\n", r, c / n, w / n }'
}
phases() {  # phases PORT SCALE: runs the phases, printing "name n" before each
  local port=$1 s=$2
  echo "pfadd $((200000 / s))"; bench "$port" $((200000 / s)) pfadd hll __rand_int__
  echo "pfcount1 $((200000 / s))"; bench "$port" $((200000 / s)) pfcount hll0
  # shellcheck disable=SC2086
  echo "pfcount10 $((20000 / s))"; bench "$port" $((20000 / s)) pfcount $KEYS10
  # The control: the same client and IO path with a plain SET (redis-benchmark's -t set).
  echo "set $((200000 / s))"; bench "$port" $((200000 / s)) -d 16 -t set
}

if (( CG )); then
  printf "%-8s %-10s %9s %12s\n" server phase requests instr/req
  for pair in "ferrokey $FK" "valkey $VK"; do
    set -- $pair; label=$1 bin=$2 port=$BASE
    start "$bin" "$port" valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" --dump-instr=no
    fill "$port"
    for ph in "pfadd 20000 pfadd hll __rand_int__" "pfcount1 20000 pfcount hll0" \
              "pfcount10 1000 pfcount $KEYS10" "pfadd-dense 20000 pfadd hll __rand_int__"; do
      set -- $ph; name=$1 n=$2; shift 2
      callgrind_control -z "$PID" >/dev/null 2>&1
      redis-benchmark -p "$port" -n "$n" -P 16 -c 10 -r 1000000 -q "$@" >/dev/null 2>&1
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

echo "# $(date -u +%FT%TZ) rounds=$ROUNDS -P $PIPE -c $CLIENTS jobs=$JOBS, $(nproc) cpus, load: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A R C
for r in $(seq "$ROUNDS"); do
  order="ferrokey valkey"; (( r % 2 == 0 )) && order="valkey ferrokey"
  for label in $order; do
    bin=$FK; [[ $label == valkey ]] && bin=$VK
    port=$((BASE + r)); start "$bin" "$port"; fill "$port"
    while read -r name n; do
      read -r rps ns wait
      R[$label,$name]+="$rps "; C[$label,$name]+="$ns "
      printf "round %d %-8s %-10s %12s req/s %8s ns/req CPU %8s ns/req waiting for a CPU\n" \
        "$r" "$label" "$name" "$rps" "$ns" "$wait"
    done < <(phases "$port" 1)
    stop "$port"
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
printf "\n%-10s %12s %12s %7s   %14s %14s %7s\n" phase ferrokey valkey ratio "fk ns/req" "vk ns/req" ratio
for name in pfadd pfcount1 pfcount10 set; do
  f=$(echo "${R[ferrokey,$name]}" | median); v=$(echo "${R[valkey,$name]}" | median)
  fc=$(echo "${C[ferrokey,$name]}" | median); vc=$(echo "${C[valkey,$name]}" | median)
  awk -v p="$name" -v f="$f" -v v="$v" -v fc="$fc" -v vc="$vc" \
    'BEGIN { printf "%-10s %12.0f %12.0f %6.2fx   %14.0f %14.0f %6.2fx\n", p, f, v, f / v, fc, vc, fc / vc }'
done
