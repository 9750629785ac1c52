#!/usr/bin/env bash
# End-to-end checks with Debian's redis-cli and redis-benchmark against the
# release build, at io-threads 1 and 4. Prints "e2e: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-benchmark >/dev/null || ! command -v redis-cli >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-tools; } >/dev/null 2>&1 \
    || { echo "e2e: cannot install redis-tools"; exit 1; }
fi
cargo build --release -q || exit 1
BIN=target/release/ferrokey-server

pass=0 fail=0
check() { # name, expected, actual
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: expected [$2] got [$3]"; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# "4!" runs io-threads 4 with every IO thread active whatever the load.
for threads in 1 4 '4!'; do
  port=$(free_port)
  extra=()
  [ "$threads" = '4!' ] && extra=(--events-per-io-thread 0)
  $BIN --port "$port" --io-threads "${threads%!}" "${extra[@]}" --save "" --loglevel warning &
  pid=$!
  for _ in $(seq 1 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  cli() { redis-cli -p "$port" "$@"; }

  check "ping/$threads" PONG "$(cli ping)"
  check "set/$threads" OK "$(cli set greeting hello)"
  check "get/$threads" hello "$(cli get greeting)"
  check "expire/$threads" 1 "$(cli expire greeting 100)"
  ttl=$(cli ttl greeting)
  if [ "$ttl" -ge 99 ] && [ "$ttl" -le 100 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL ttl/$threads: $ttl"; fi
  check "info/$threads" "redis_version:7.2.4" "$(cli info server | tr -d '\r' | grep '^redis_version:')"
  docs=$(cli command docs get | head -n 1)
  check "command docs/$threads" "get" "$docs"

  out=$(redis-benchmark -p "$port" -t ping,set,get,incr,mset -n 100000 -P 16 -q 2>&1)
  echo "$out" | tr '\r' '\n' | grep 'requests per second' | sed "s/^/io-threads $threads: /"
  n=$(echo "$out" | tr '\r' '\n' | grep -c 'requests per second' || true)
  check "benchmark completes/$threads" 6 "$n"
  if echo "$out" | grep -qi 'error'; then fail=$((fail + 1)); echo "FAIL benchmark errors/$threads: $out"; else pass=$((pass + 1)); fi

  # redis-benchmark's whole default test list (every data type).
  out=$(redis-benchmark -p "$port" -n 20000 -q 2>&1)
  n=$(echo "$out" | tr '\r' '\n' | grep -c 'requests per second' || true)
  check "default benchmark list completes/$threads" 20 "$n"
  if echo "$out" | grep -qi 'error'; then fail=$((fail + 1)); echo "FAIL default list errors/$threads: $out"; else pass=$((pass + 1)); fi

  kill "$pid"; wait "$pid" 2>/dev/null
done

echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
