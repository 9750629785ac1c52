#!/usr/bin/env python3
"""Captures the keyspace notifications of ferrokey's write commands from the
real Valkey 9.1. The result, tests/data/notifications.jsonl, is the ground
truth the in-process notification tests (src/exec/notify_tests.rs) replay.

How:
- Valkey runs on a loopback port with persistence off and active expiry off
  (DEBUG SET-ACTIVE-EXPIRE 0), so an elapsed TTL is seen by the command under
  test (lazy expiry); scenarios marked `active` switch active expiry on and
  wait for the cron to remove the key.
- A second connection PSUBSCRIBEs `__key*__:*`. Each scenario runs on a
  fresh keyspace (FLUSHALL): `notify-keyspace-events` is set to the
  scenario's flags (default `KEAn`: every class, and key creation), the
  setup runs, then a begin marker, the command under test, an end marker.
  Markers are PUBLISHes to `__keymark__:<tag>`, which the pattern also
  matches, so the messages between them, in order, are the command's.
- The scenarios are those of scripts/capture-effects.py (every write
  command, with no-ops and lazy expiry) plus the ones below: errors, active
  expiry, flushes, several flag sets.

Each line: name, db, flags, setup, sleep_ms, command, blocked (a blocking
command a second client sends after the setup, served by the command),
active, reply, and messages: [channel, message] pairs in Latin-1.

Usage: scripts/capture-notifications.py [--port 17560] [--valkey PATH] [--out FILE]
Stdlib only.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

_spec = importlib.util.spec_from_file_location(
    "capture_effects", os.path.join(HERE, "capture-effects.py"))
effects = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(effects)
Conn, Err, R, subst = effects.Conn, effects.Err, effects.R, effects.subst

DEFAULT_FLAGS = "KEAn"


def S(name, command, setup=(), db=0, flags=DEFAULT_FLAGS, sleep_ms=0, blocked=None,
      active=False):
    return dict(name=name, command=list(command), setup=[list(c) for c in setup], db=db,
                flags=flags, sleep_ms=sleep_ms, blocked=blocked, active=active)


def from_effects(sc):
    return S(sc["name"], sc["command"], sc["setup"], db=sc["db"], sleep_ms=sc["sleep_ms"],
             blocked=sc["blocked"])


EXTRA = [
    # ---- errors and no-ops: nothing is emitted
    S("err/lpush-wrongtype", ["LPUSH", "k", "a"], R("SET k v")),
    S("err/incr-wrongtype", ["INCR", "k"], R("LPUSH k a")),
    S("err/hset-wrongtype", ["HSET", "k", "f", "v"], R("SET k v")),
    S("err/sadd-wrongtype", ["SADD", "k", "a"], R("SET k v")),
    S("err/zadd-wrongtype", ["ZADD", "k", "1", "a"], R("SET k v")),
    S("err/append-wrongtype", ["APPEND", "k", "a"], R("SADD k a")),
    S("err/rename-missing", ["RENAME", "k", "k2"]),
    S("err/zincrby-nan", ["ZINCRBY", "k", "inf", "a"], R("ZADD k -inf a")),
    S("err/hincrby-notint", ["HINCRBY", "k", "f", "1"], R("HSET k f x")),
    S("err/setrange-wrongtype", ["SETRANGE", "k", "0", "a"], R("RPUSH k a")),
    # ---- more cases per family
    S("set/new-db5", ["SET", "k", "v"], db=5),
    S("getex/missing-persist", ["GETEX", "k", "PERSIST"]),
    S("incrbyfloat/missing", ["INCRBYFLOAT", "k", "1"]),
    S("decrby/new", ["DECRBY", "k", "3"]),
    S("setrange/new", ["SETRANGE", "k", "3", "x"]),
    S("mset/overwrite", ["MSET", "k1", "a", "k2", "b"], R("SET k1 x")),
    S("del/types", ["DEL", "k1", "k2", "k3", "k4"],
      R("SET k1 a", "RPUSH k2 a", "SADD k3 a", "ZADD k4 1 a")),
    S("expire/pexpire-past-nottl", ["PEXPIRE", "k", "0"], R("RPUSH k a")),
    S("rename/list", ["RENAME", "k1", "k2"], R("RPUSH k1 a", "SADD k2 x")),
    S("renamenx/same", ["RENAMENX", "k1", "k1"], R("SET k1 v")),
    S("move/ttl", ["MOVE", "k", "2"], R("SET k v EX 100")),
    S("copy/replace-db", ["COPY", "k1", "k2", "DB", "3", "REPLACE"],
      R("RPUSH k1 a", "SELECT 3", "SET k2 w", "SELECT 0")),
    S("swapdb/empty", ["SWAPDB", "0", "1"]),
    S("swapdb/many", ["SWAPDB", "0", "1"],
      R("SET k1 a", "SET k2 b", "SELECT 1", "SET k3 c", "SELECT 0")),
    S("flushdb/keys", ["FLUSHDB"], R("SET k1 a", "RPUSH k2 b")),
    S("flushall/keys", ["FLUSHALL"], R("SET k1 a", "SELECT 2", "SET k2 b", "SELECT 0")),
    S("lpush/new-db2", ["LPUSH", "k", "a"], db=2),
    S("linsert/after", ["LINSERT", "k", "AFTER", "a", "x"], R("RPUSH k a b")),
    S("linsert/missing", ["LINSERT", "k", "AFTER", "a", "x"]),
    S("lset/outofrange", ["LSET", "k", "5", "x"], R("RPUSH k a")),
    S("lmove/to-new-same-side", ["LMOVE", "src", "dst", "LEFT", "LEFT"], R("RPUSH src a b")),
    S("lmove/missing", ["LMOVE", "src", "dst", "LEFT", "LEFT"]),
    S("lmpop/right-count-all", ["LMPOP", "1", "k", "RIGHT", "COUNT", "3"], R("RPUSH k a b")),
    S("rpop/last", ["RPOP", "k"], R("RPUSH k a")),
    S("ltrim/all", ["LTRIM", "k", "1", "0"], R("RPUSH k a b")),
    S("hset/new-field", ["HSET", "k", "g", "w"], R("HSET k f v")),
    S("hmset/multi", ["HMSET", "k", "f", "v", "g", "w"], R("HSET k f x")),
    S("hincrby/new", ["HINCRBY", "k", "f", "5"]),
    S("hdel/all", ["HDEL", "k", "f", "g"], R("HSET k f v g w")),
    S("sadd/new-intset", ["SADD", "k", "1", "2"]),
    S("srem/all", ["SREM", "k", "a", "b"], R("SADD k a b")),
    S("smove/to-existing", ["SMOVE", "src", "dst", "a"], R("SADD src a b", "SADD dst c")),
    S("smove/missing-src", ["SMOVE", "src", "dst", "a"]),
    S("smove/member-in-both", ["SMOVE", "src", "dst", "a"], R("SADD src a b", "SADD dst a")),
    S("spop/last-count", ["SPOP", "k", "1"], R("SADD k a")),
    S("sunionstore/empty", ["SUNIONSTORE", "dst", "k1"], R("SET dst x")),
    S("sunionstore/empty-nodst", ["SUNIONSTORE", "dst", "k1"]),
    S("sdiffstore/overwrite", ["SDIFFSTORE", "dst", "k1"], R("SADD k1 a", "RPUSH dst x")),
    S("sinterstore/overwrite", ["SINTERSTORE", "dst", "k1"], R("SADD k1 a", "SADD dst b")),
    S("zadd/update-score", ["ZADD", "k", "3", "a"], R("ZADD k 1 a")),
    S("zadd/mixed", ["ZADD", "k", "3", "a", "4", "b"], R("ZADD k 1 a")),
    S("zadd/incr-nx-exists", ["ZADD", "k", "NX", "INCR", "5", "a"], R("ZADD k 1 a")),
    S("zadd/xx-update", ["ZADD", "k", "XX", "5", "a"], R("ZADD k 1 a")),
    S("zadd/lt-noop", ["ZADD", "k", "LT", "5", "a"], R("ZADD k 1 a")),
    S("zincrby/zero", ["ZINCRBY", "k", "0", "a"], R("ZADD k 1 a")),
    S("zremrangebyrank/some", ["ZREMRANGEBYRANK", "k", "0", "0"], R("ZADD k 1 a 2 b")),
    S("zremrangebyrank/none", ["ZREMRANGEBYRANK", "k", "5", "6"], R("ZADD k 1 a")),
    S("zremrangebylex/all", ["ZREMRANGEBYLEX", "k", "-", "+"], R("ZADD k 0 a 0 b")),
    S("zremrangebylex/none", ["ZREMRANGEBYLEX", "k", "[x", "[y"], R("ZADD k 0 a")),
    S("zremrangebyscore/all", ["ZREMRANGEBYSCORE", "k", "-inf", "+inf"], R("ZADD k 1 a")),
    S("zpopmax/last", ["ZPOPMAX", "k"], R("ZADD k 1 a")),
    S("zpopmin/count-zero", ["ZPOPMIN", "k", "0"], R("ZADD k 1 a")),
    S("zmpop/all", ["ZMPOP", "1", "k", "MIN", "COUNT", "9"], R("ZADD k 1 a")),
    S("zinterstore/empty", ["ZINTERSTORE", "dst", "2", "k1", "k2"],
      R("ZADD k1 1 a", "ZADD k2 1 b", "ZADD dst 1 x")),
    S("zinterstore/empty-nodst", ["ZINTERSTORE", "dst", "2", "k1", "k2"],
      R("ZADD k1 1 a", "ZADD k2 1 b")),
    S("zdiffstore/empty", ["ZDIFFSTORE", "dst", "1", "k1"], R("ZADD dst 1 x")),
    S("zdiffstore/empty-nodst", ["ZDIFFSTORE", "dst", "1", "k1"]),
    S("zrangestore/empty-nodst", ["ZRANGESTORE", "dst", "k", "5", "6"], R("ZADD k 1 a")),
    S("zrangestore/byscore", ["ZRANGESTORE", "dst", "k", "1", "2", "BYSCORE"],
      R("ZADD k 1 a 2 b 3 c", "SET dst x")),
    S("zunionstore/from-set", ["ZUNIONSTORE", "dst", "2", "k1", "k2"],
      R("SADD k1 a", "ZADD k2 2 b")),
    S("sort/store-overwrite", ["SORT", "k", "ALPHA", "STORE", "dst"],
      R("SADD k b a", "SET dst x")),
    S("sort/store-same", ["SORT", "k", "STORE", "k"], R("RPUSH k 3 1 2")),
    S("sort/store-limit-empty", ["SORT", "k", "LIMIT", "5", "5", "STORE", "dst"],
      R("RPUSH k 3 1 2", "RPUSH dst x")),
    # ---- served blocked clients
    S("blpop/served-by-rpush-multi", ["RPUSH", "k", "a", "b"], blocked=["BLPOP", "k", "0"]),
    S("brpop/served-by-lmove", ["LMOVE", "src", "k", "LEFT", "LEFT"], R("RPUSH src a"),
      blocked=["BRPOP", "k", "0"]),
    S("bzpopmax/served-later", ["ZADD", "k", "1", "a"], blocked=["BZPOPMAX", "k", "0"]),
    S("blmpop/served-by-rename", ["RENAME", "src", "k"], R("RPUSH src a b"),
      blocked=["BLMPOP", "0", "1", "k", "RIGHT"]),
    # ---- expiry
    S("expired/lazy-zadd", ["ZADD", "k", "1", "b"], R("ZADD k 1 a", "PEXPIRE k 1"),
      sleep_ms=20),
    S("expired/lazy-hget", ["HGET", "k", "f"], R("HSET k f v", "PEXPIRE k 1"), sleep_ms=20),
    S("expired/lazy-ttl", ["TTL", "k"], R("SET k v PX 1"), sleep_ms=20),
    S("expired/lazy-dbsize-none", ["DBSIZE"], R("SET k v PX 1"), sleep_ms=20),
    S("expired/lazy-mget", ["MGET", "k1", "k2"], R("SET k1 v PX 1", "SET k2 v PX 1"),
      sleep_ms=20),
    S("expired/lazy-copy-src", ["COPY", "k1", "k2"], R("SET k1 v PX 1"), sleep_ms=20),
    S("expired/lazy-sunionstore", ["SUNIONSTORE", "dst", "k1", "k2"],
      R("SADD k1 a", "SADD k2 b", "PEXPIRE k2 1"), sleep_ms=20),
    S("expired/scan", ["SCAN", "0", "COUNT", "100"], R("SET k1 v PX 1", "SET k2 v"),
      sleep_ms=20),
    S("expired/keys", ["KEYS", "*"], R("SET k1 v PX 1", "SET k2 v"), sleep_ms=20),
    S("expired/randomkey", ["RANDOMKEY"], R("SET k1 v PX 1"), sleep_ms=20),
    S("expired/exists-many", ["EXISTS", "k1", "k2", "k3"],
      R("SET k1 v PX 1", "SET k2 v", "SET k3 v PX 1"), sleep_ms=20),
    S("expired/touch", ["TOUCH", "k"], R("SET k v PX 1"), sleep_ms=20),
    S("expired/move-target", ["MOVE", "k", "1"],
      R("SET k v", "SELECT 1", "SET k w PX 1", "SELECT 0"), sleep_ms=20),
    S("expired/copy-db-target", ["COPY", "k1", "k2", "DB", "2"],
      R("SET k1 v", "SELECT 2", "SET k2 w PX 1", "SELECT 0"), sleep_ms=20),
    S("expired/sort-by", ["SORT", "k", "BY", "w_*"], R("RPUSH k a b", "SET w_a 1 PX 1"),
      sleep_ms=20),
    S("expired/sinterstore-dst", ["SINTERSTORE", "dst", "k1"],
      R("SADD k1 a", "SADD dst x", "PEXPIRE dst 1"), sleep_ms=20),
    S("expired/lmove-both", ["LMOVE", "src", "dst", "LEFT", "LEFT"],
      R("RPUSH src a", "RPUSH dst x", "PEXPIRE dst 1"), sleep_ms=20),
    S("expired/smove-dst", ["SMOVE", "src", "dst", "a"],
      R("SADD src a", "SADD dst b", "PEXPIRE dst 1"), sleep_ms=20),
    S("expired/hset", ["HSET", "k", "f", "v"], R("HSET k f v", "PEXPIRE k 1"), sleep_ms=20),
    S("expired/msetnx", ["MSETNX", "k1", "a", "k2", "b"], R("SET k2 x PX 1"), sleep_ms=20),
    S("expired/mset", ["MSET", "k1", "a", "k2", "b"], R("SET k2 x PX 1"), sleep_ms=20),
    S("expired/active", ["DEBUG", "SET-ACTIVE-EXPIRE", "1"], R("SET k v PX 1"),
      sleep_ms=20, active=True),
    S("expired/active-db3", ["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
      R("SET k1 v PX 1", "SELECT 3", "RPUSH k2 a", "PEXPIRE k2 1"), db=3, sleep_ms=20,
      active=True),
    S("hfe/active-empties", ["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
      R("HSET k f v g w", "HPEXPIRE k 1 FIELDS 2 f g"), sleep_ms=20, active=True),
    # ---- flag sets: classes select, K and E choose the channels
    S("flags/Egx-set-expire", ["SET", "k", "v", "EX", "100"], flags="Egx"),
    S("flags/Egx-expire", ["EXPIRE", "k", "100"], R("SET k v"), flags="Egx"),
    S("flags/Egx-expired", ["GET", "k"], R("SET k v PX 1"), flags="Egx", sleep_ms=20),
    S("flags/K$-set", ["SET", "k", "v"], flags="K$"),
    S("flags/El-lpush-del", ["DEL", "k1", "k2"], R("RPUSH k1 a", "SET k2 b"), flags="El"),
    S("flags/Eg-lpush-del", ["DEL", "k1", "k2"], R("RPUSH k1 a", "SET k2 b"), flags="Eg"),
    S("flags/KEl-lmove", ["LMOVE", "src", "dst", "LEFT", "LEFT"], R("RPUSH src a"), flags="KEl"),
    S("flags/KEs-smove", ["SMOVE", "src", "dst", "a"], R("SADD src a"), flags="KEs"),
    S("flags/KEz-zadd", ["ZADD", "k", "1", "a"], flags="KEz"),
    S("flags/KEh-hset", ["HSET", "k", "f", "v"], flags="KEh"),
    S("flags/KEn-set", ["SET", "k", "v"], flags="KEn"),
    S("flags/KEA-set-no-new", ["SET", "k", "v"], flags="KEA"),
    S("flags/g-no-channels", ["DEL", "k"], R("SET k v"), flags="g"),
    S("flags/none", ["SET", "k", "v"], flags=""),
    S("flags/KEx-getex-past", ["GETEX", "k", "PXAT", "1"], R("SET k v"), flags="KEx"),
    S("flags/KEg-getex-past", ["GETEX", "k", "PXAT", "1"], R("SET k v"), flags="KEg"),
    S("flags/KEg-set-past", ["SET", "k", "v", "PXAT", "1"], R("SET k v"), flags="KEg"),
    S("flags/KEs-sort-store", ["SORT", "k", "STORE", "dst"], R("SADD k 1"), flags="KEs"),
    S("flags/KEl-sort-store", ["SORT", "k", "STORE", "dst"], R("SADD k 1"), flags="KEl"),
    # ---- key misses (m): read lookups that find nothing
    S("keymiss/get", ["GET", "k"], flags="KEm"),
    S("keymiss/get-hit", ["GET", "k"], R("SET k v"), flags="KEm"),
    S("keymiss/get-expired", ["GET", "k"], R("SET k v PX 1"), flags="KEAm", sleep_ms=20),
    S("keymiss/mget", ["MGET", "k1", "k2", "k3"], R("SET k2 v"), flags="KEm"),
    S("keymiss/mget-expired", ["MGET", "k1", "k2", "k3"],
      R("SET k1 v PX 1", "SET k3 v PX 1"), flags="KEAm", sleep_ms=20),
    S("keymiss/exists", ["EXISTS", "k1", "k2"], flags="KEm"),
    S("keymiss/type", ["TYPE", "k"], flags="KEm"),
    S("keymiss/ttl", ["TTL", "k"], flags="KEm"),
    S("keymiss/pttl", ["PTTL", "k"], flags="KEm"),
    S("keymiss/strlen", ["STRLEN", "k"], flags="KEm"),
    S("keymiss/getrange", ["GETRANGE", "k", "0", "1"], flags="KEm"),
    S("keymiss/lrange", ["LRANGE", "k", "0", "-1"], flags="KEm"),
    S("keymiss/llen", ["LLEN", "k"], flags="KEm"),
    S("keymiss/lindex", ["LINDEX", "k", "0"], flags="KEm"),
    S("keymiss/lpos", ["LPOS", "k", "a"], flags="KEm"),
    S("keymiss/hget", ["HGET", "k", "f"], flags="KEm"),
    S("keymiss/hgetall", ["HGETALL", "k"], flags="KEm"),
    S("keymiss/hlen", ["HLEN", "k"], flags="KEm"),
    S("keymiss/hexists", ["HEXISTS", "k", "f"], flags="KEm"),
    S("keymiss/hrandfield", ["HRANDFIELD", "k"], flags="KEm"),
    S("keymiss/smembers", ["SMEMBERS", "k"], flags="KEm"),
    S("keymiss/sismember", ["SISMEMBER", "k", "a"], flags="KEm"),
    S("keymiss/scard", ["SCARD", "k"], flags="KEm"),
    S("keymiss/srandmember", ["SRANDMEMBER", "k"], flags="KEm"),
    S("keymiss/sunion", ["SUNION", "k1", "k2"], R("SADD k2 a"), flags="KEm"),
    S("keymiss/sinter", ["SINTER", "k1", "k2"], flags="KEm"),
    S("keymiss/sintercard", ["SINTERCARD", "2", "k1", "k2"], flags="KEm"),
    S("keymiss/zscore", ["ZSCORE", "k", "a"], flags="KEm"),
    S("keymiss/zrange", ["ZRANGE", "k", "0", "-1"], flags="KEm"),
    S("keymiss/zcard", ["ZCARD", "k"], flags="KEm"),
    S("keymiss/zrank", ["ZRANK", "k", "a"], flags="KEm"),
    S("keymiss/zunion", ["ZUNION", "2", "k1", "k2"], flags="KEm"),
    S("keymiss/zrandmember", ["ZRANDMEMBER", "k"], flags="KEm"),
    S("keymiss/sort-ro", ["SORT_RO", "k"], flags="KEm"),
    S("keymiss/sort-by-get", ["SORT", "k", "BY", "w_*", "GET", "o_*"], R("RPUSH k a"),
      flags="KEm"),
    S("keymiss/object-encoding", ["OBJECT", "ENCODING", "k"], flags="KEm"),
    S("keymiss/touch", ["TOUCH", "k"], flags="KEm"),
    S("keymiss/dump-like-randomkey", ["RANDOMKEY"], flags="KEm"),
    S("keymiss/set-get", ["SET", "k", "v", "GET"], flags="KEm"),
    S("keymiss/getdel", ["GETDEL", "k"], flags="KEm"),
    S("keymiss/getex", ["GETEX", "k"], flags="KEm"),
    S("keymiss/incr", ["INCR", "k"], flags="KEm"),
    S("keymiss/lpushx", ["LPUSHX", "k", "a"], flags="KEm"),
    S("keymiss/del", ["DEL", "k"], flags="KEm"),
    S("keymiss/copy", ["COPY", "k1", "k2"], flags="KEm"),
    S("keymiss/rename", ["RENAME", "k1", "k2"], flags="KEm"),
    S("keymiss/sunionstore", ["SUNIONSTORE", "dst", "k1"], flags="KEm"),
    S("keymiss/zunionstore", ["ZUNIONSTORE", "dst", "1", "k1"], flags="KEm"),
    S("keymiss/lmpop", ["LMPOP", "1", "k", "LEFT"], flags="KEm"),
    S("keymiss/lcs", ["LCS", "k1", "k2"], flags="KEm"),
    S("keymiss/smismember", ["SMISMEMBER", "k", "a"], flags="KEm"),
    S("keymiss/zmscore", ["ZMSCORE", "k", "a"], flags="KEm"),
    S("keymiss/hmget", ["HMGET", "k", "a"], flags="KEm"),
    S("keymiss/hstrlen", ["HSTRLEN", "k", "a"], flags="KEm"),
    S("keymiss/zcount", ["ZCOUNT", "k", "0", "1"], flags="KEm"),
    S("keymiss/expiretime", ["EXPIRETIME", "k"], flags="KEm"),
    S("keymiss/smove", ["SMOVE", "k1", "k2", "a"], flags="KEm"),
    S("keymiss/sinterstore", ["SINTERSTORE", "dst", "k1", "k2"], flags="KEm"),
    S("keymiss/sdiffstore", ["SDIFFSTORE", "dst", "k1", "k2"], R("SADD k1 a"), flags="KEm"),
    S("keymiss/zinterstore", ["ZINTERSTORE", "dst", "2", "k1", "k2"], flags="KEm"),
    S("keymiss/zdiffstore", ["ZDIFFSTORE", "dst", "2", "k1", "k2"], R("ZADD k1 1 a"),
      flags="KEm"),
    S("keymiss/zrangestore", ["ZRANGESTORE", "dst", "k", "0", "-1"], flags="KEm"),
    S("keymiss/sort-store", ["SORT", "k", "STORE", "dst"], flags="KEm"),
    S("keymiss/object-freq", ["OBJECT", "IDLETIME", "k"], flags="KEm"),
    S("keymiss/rpoplpush", ["RPOPLPUSH", "k1", "k2"], flags="KEm"),
    S("keymiss/hincrby", ["HINCRBY", "k", "f", "1"], flags="KEm"),
    S("keymiss/zadd", ["ZADD", "k", "1", "a"], flags="KEm"),
    S("keymiss/lpop", ["LPOP", "k"], flags="KEm"),
    S("keymiss/spop", ["SPOP", "k"], flags="KEm"),
    S("keymiss/zpopmin", ["ZPOPMIN", "k"], flags="KEm"),
    S("keymiss/hdel", ["HDEL", "k", "f"], flags="KEm"),
    S("keymiss/persist", ["PERSIST", "k"], flags="KEm"),
    S("keymiss/expire", ["EXPIRE", "k", "10"], flags="KEm"),
    S("keymiss/move", ["MOVE", "k", "1"], flags="KEm"),
    S("keymiss/append", ["APPEND", "k", "a"], flags="KEm"),
    S("keymiss/sadd", ["SADD", "k", "a"], flags="KEm"),
    S("keymiss/linsert", ["LINSERT", "k", "BEFORE", "a", "b"], flags="KEm"),
    S("keymiss/getset", ["GETSET", "k", "v"], flags="KEm"),
    S("keymiss/msetnx", ["MSETNX", "k", "v"], flags="KEm"),
    S("keymiss/setnx", ["SETNX", "k", "v"], flags="KEm"),
    S("keymiss/zincrby", ["ZINCRBY", "k", "1", "a"], flags="KEm"),
    S("keymiss/zrem", ["ZREM", "k", "a"], flags="KEm"),
    S("keymiss/srem", ["SREM", "k", "a"], flags="KEm"),
    S("keymiss/ltrim", ["LTRIM", "k", "0", "1"], flags="KEm"),
    S("keymiss/zremrangebyscore", ["ZREMRANGEBYSCORE", "k", "0", "1"], flags="KEm"),
    S("keymiss/delifeq", ["DELIFEQ", "k", "v"], flags="KEm"),
    S("keymiss/set", ["SET", "k", "v"], flags="KEm"),
    # ---- geo
    S("geoadd/err-wrongtype", ["GEOADD", "k", "1", "1", "a"], R("SET k v")),
    S("geosearch/keymiss", ["GEOSEARCH", "k", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"], flags="KEm"),
    S("geosearchstore/keymiss", ["GEOSEARCHSTORE", "dst", "k", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
      flags="KEm"),
    S("geopos/keymiss", ["GEOPOS", "k", "a"], flags="KEm"),
    S("geodist/keymiss", ["GEODIST", "k", "a", "b"], flags="KEm"),
    S("geohash/keymiss", ["GEOHASH", "k", "a"], flags="KEm"),
    S("bitmap/keymiss-getbit", ["GETBIT", "k", "0"], flags="KEm"),
    S("bitmap/keymiss-bitcount", ["BITCOUNT", "k"], flags="KEm"),
    S("bitmap/keymiss-bitpos", ["BITPOS", "k", "1"], flags="KEm"),
    S("bitmap/keymiss-bitop", ["BITOP", "OR", "k", "k1", "k2"], R("SET k1 a"), flags="KEm"),
    S("bitmap/keymiss-bitfield", ["BITFIELD", "k", "GET", "u8", "0"], flags="KEm"),
    S("bitmap/keymiss-bitfield-set", ["BITFIELD", "k", "SET", "u8", "0", "1"], flags="KEm"),
    S("bitmap/keymiss-setbit", ["SETBIT", "k", "0", "1"], flags="KEm"),
    S("bitmap/string-only", ["SETBIT", "k", "0", "1"], flags="K$"),
]

# Flag strings CONFIG SET accepts or refuses, and what CONFIG GET shows.
CONFIG_CASES = ["", "KEA", "AKE", "A", "g$lshzxetdn", "Ag", "KEAn", "KEAm", "AKEmnd",
                "Kx", "Ex", "E", "K", "m", "n", "d", "t", "e", "xxgg", "KEg$lshzxe",
                "KEg$lshzxetd", "KEg$lshzxetdnm", "Z", "KEAy", "ke", " ", "A "]


def wait_active(m, db):
    """Until the cron has removed every key of db (DBSIZE does not expire)."""
    deadline = time.time() + 10
    m.call("SELECT", db)
    while m.call("DBSIZE") != 0:
        assert time.time() < deadline, "active expiry did not remove the keys"
        time.sleep(0.005)


class Runner:
    def __init__(self, port):
        self.main = Conn(port)
        self.sub = Conn(port)
        self.blocker = Conn(port)
        self.sub.send(["PSUBSCRIBE", "__key*__:*"])
        r = self.sub.read()[0]
        assert r[0] == b"psubscribe", r
        self.seq = 0

    def mark(self):
        self.seq += 1
        tag = "m%d" % self.seq
        self.main.call("PUBLISH", "__keymark__:" + tag, tag)
        return tag

    def messages_until(self, tag):
        out = []
        while True:
            v = self.sub.read()[0]
            assert v[0] == b"pmessage", v
            chan, msg = v[2].decode("latin-1"), v[3].decode("latin-1")
            if chan.startswith("__keymark__:"):
                if msg == tag:
                    return out
                continue
            out.append([chan, msg])

    def scenario(self, sc):
        m = self.main
        assert m.call("CONFIG", "SET", "notify-keyspace-events", "") == "OK"
        assert m.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
        assert m.call("FLUSHALL") == "OK"
        assert m.call("CONFIG", "SET", "notify-keyspace-events", sc["flags"]) == "OK"
        assert m.call("SELECT", sc["db"]) == "OK"
        t0 = int(time.time() * 1000)
        restore = []
        for cmd in sc["setup"]:
            if [a.lower() for a in cmd[:2]] == ["config", "set"]:
                old = m.call("CONFIG", "GET", cmd[2])
                restore.append(["CONFIG", "SET", cmd[2], old[1]])
            r = m.call(*subst(cmd, t0))
            assert not isinstance(r, Err), (sc["name"], cmd, r)
        if sc["sleep_ms"]:
            time.sleep(sc["sleep_ms"] / 1000)
        if sc["blocked"]:
            b = self.blocker
            assert b.call("SELECT", sc["db"]) == "OK"
            b.send(sc["blocked"])
            deadline = time.time() + 5
            while b"blocked_clients:1" not in m.call("INFO", "clients"):
                assert time.time() < deadline, "the blocking command did not block"
                time.sleep(0.005)
        begin = self.mark()
        m.send(subst(sc["command"], t0))
        _, raw = m.read()
        if sc["blocked"]:
            self.blocker.read()
        if sc["active"]:
            wait_active(m, sc["db"])
            for db in range(16):
                wait_active(m, db)
            m.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        end = self.mark()
        for cmd in restore:
            assert m.call(*cmd) == "OK"
        self.messages_until(begin)
        messages = self.messages_until(end)
        return {
            "name": sc["name"], "db": sc["db"], "flags": sc["flags"], "setup": sc["setup"],
            "sleep_ms": sc["sleep_ms"], "command": sc["command"], "blocked": sc["blocked"],
            "active": sc["active"], "reply": raw.decode("latin-1"), "messages": messages,
        }

    def config_case(self, flags):
        m = self.main
        r = m.call("CONFIG", "SET", "notify-keyspace-events", flags)
        got = m.call("CONFIG", "GET", "notify-keyspace-events")
        m.call("CONFIG", "SET", "notify-keyspace-events", "")
        return {"config": flags, "reply": str(r) if isinstance(r, Err) else r,
                "error": isinstance(r, Err), "get": got[1].decode("latin-1")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=17560)
    ap.add_argument("--valkey", default=effects.VALKEY)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "notifications.jsonl"))
    ap.add_argument("--only", default=None, help="run scenarios whose name starts with this")
    args = ap.parse_args()
    proc = subprocess.Popen(
        [args.valkey, "--port", str(args.port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "no", "--enable-debug-command", "local"],
        stdout=open("/tmp/hnotify-valkey.log", "w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        while True:
            try:
                probe = Conn(args.port)
                if probe.call("PING") == "PONG":
                    break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("valkey did not start")
            time.sleep(0.05)
        runner = Runner(args.port)
        scenarios = [from_effects(s) for s in effects.SCENARIOS] + EXTRA
        scenarios = [s for s in scenarios if not args.only or s["name"].startswith(args.only)]
        names = [s["name"] for s in scenarios]
        assert len(names) == len(set(names)), "duplicate scenario names"
        rows = [runner.scenario(sc) for sc in scenarios]
        rows += [runner.config_case(f) for f in CONFIG_CASES]
    finally:
        proc.terminate()
        proc.wait(10)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print("%d rows -> %s" % (len(rows), os.path.relpath(args.out, ROOT)))


if __name__ == "__main__":
    main()
