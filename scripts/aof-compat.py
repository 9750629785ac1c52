#!/usr/bin/env python3
"""Append-only files both ways between Valkey 9.1 and a target server
(issue 12's compatibility yardstick).

The workload (the same in every leg, seeded): scripts/rdb-roundtrip.py's
fill (every type and encoding, binary names, absolute TTLs, dbs 0/1/9),
then writes whose AOF form differs from the command sent: SET EX/PX,
SETEX, GETEX and EXPIRE/PEXPIRE (stored as PXAT/PEXPIREAT), INCRBYFLOAT
and HINCRBYFLOAT, SPOP with and without a count, blocking pops (BLPOP,
BRPOPLPUSH, BLMOVE, BZPOPMIN, BLMPOP) blocked first and served by a later
push, MULTI/EXEC (with SELECT and a failing command inside), SELECT of
dbs 0/1/3/5/9, RENAME, COPY, MOVE, SWAPDB, RESTORE, SORT STORE, DEL,
UNLINK, FLUSHDB, and keys with 50-150 ms TTLs left to active and lazy
expiry (waited for, so nothing is due while the files move). Every other
TTL is over an hour away.

  forward (a): the source (Valkey 9.1) runs the workload with appendonly
      yes in four variants: `aof-use-rdb-preamble yes` and `no`, each with
      a BGREWRITEAOF between the workload's two halves, and no rewrite at
      all, with and without `aof-timestamp-enabled yes` (#TS: annotations
      in the INCR file). Record DEBUG DIGEST and a key-by-key dump (rdb-roundtrip.py's:
      db, key, type, PEXPIRETIME, contents), SHUTDOWN NOSAVE, copy the dir,
      start the target on the copy with appendonly yes, wait for INFO
      `loading:0`, compare digest and dump.
  reverse (b): the target runs the same workload (with a rewrite, preamble
      yes and no), then Valkey 9.1 loads a copy of the target's dir.
  single file (c): a Redis <= 6 style `appendonly.aof` in --dir and no
      appendonlydir, crafted from a forward variant's files: its BASE and
      INCR files concatenated (with the preamble variant, the RDB BASE then
      RESP; without, RESP only). With --redis (Debian's redis-server 7.0,
      found by default) a third one comes from a Redis 7.0 source, whose
      RDB BASE carries the REDIS0010 header a Redis 6 preamble has. The
      target must load it with the same dump and digest (for the Redis
      7.0 file, whose DEBUG DIGEST differs from Valkey's, the digest
      Valkey 9.1 gets loading the same file), and its dir must then have
      the multi-part layout (a manifest whose files all exist, and no
      appendonly.aof left in --dir).

Prints one row per leg. Exit 0 when every leg matched, 1 on a difference,
2 on a setup failure (no binary, a start or load timeout).

Usage: scripts/aof-compat.py [--target BIN] [--valkey BIN] [--redis BIN|'']
                             [--port-base P] [--legs forward,reverse,single]
                             [--server-args ARGS] [--short] [-v]
  --target defaults to target/release/ferrokey-server; passing Valkey 9.1
  there proves the legs Valkey -> Valkey. --short skips the no-rewrite
  forward variant without #TS and the Redis 7.0 single file.
"""
import argparse
import os
import random
import shlex
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True
import aoflib  # noqa: E402  (scripts/aoflib.py, beside this file)

SetupError = aoflib.SetupError
ok = aoflib.ok


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def wait_blocked(c, n, timeout=5):
    """Until INFO clients shows at least n blocked clients (so the push
    below serves a blocked pop rather than racing it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if int(aoflib.info(c, "clients").get("blocked_clients", n)) >= n:
            return
        time.sleep(0.005)
    raise SetupError("the blocking pop did not block within %d s" % timeout)


def blocked_pops(c, c2, tag):
    """Blocking pops blocked first, then served by a push from c."""
    cases = [
        (("BLPOP", "bl:%s:a" % tag, "bl:%s:b" % tag, 0), ("RPUSH", "bl:%s:b" % tag, "x", "y", "z")),
        (("BRPOPLPUSH", "bl:%s:c" % tag, "bl:%s:dst" % tag, 0), ("LPUSH", "bl:%s:c" % tag, "1", "2")),
        (("BLMOVE", "bl:%s:d" % tag, "bl:%s:dst" % tag, "LEFT", "RIGHT", 0),
         ("RPUSH", "bl:%s:d" % tag, "m1", "m2")),
        (("BZPOPMIN", "bl:%s:z" % tag, 0), ("ZADD", "bl:%s:z" % tag, "2", "b", "1", "a")),
        (("BLMPOP", 0, 2, "bl:%s:e" % tag, "bl:%s:f" % tag, "RIGHT", "COUNT", 2),
         ("RPUSH", "bl:%s:f" % tag, "p", "q", "r")),
    ]
    for block, push in cases:
        c2.s.sendall(encode(*block))
        wait_blocked(c, 1)
        ok(c(*push), push[0])
        r = c2.read()
        if r is None or isinstance(r, Exception):
            raise SetupError("%s served by %s replied %r" % (block[0], push[0], r))


def short_ttls(c, tag, n=20):
    """Keys with 50-150 ms TTLs, in dbs 0 and 5. Returns their names and
    each db's DBSIZE before them."""
    names, sizes = [], {}
    for db in (0, 5):
        ok(c("SELECT", db), "SELECT")
        sizes[db] = c("DBSIZE")
        for i in range(n):
            k = "ttl:%s:%d" % (tag, i)
            if i % 3 == 0:
                ok(c("SET", k, "v", "PX", 50 + i * 5), "SET PX")
            elif i % 3 == 1:
                ok(c("RPUSH", k, "a", "b"), "RPUSH")
                ok(c("PEXPIRE", k, 50 + i * 5), "PEXPIRE")
            else:
                ok(c("HSET", k, "f", "v"), "HSET")
                ok(c("PEXPIREAT", k, int(time.time() * 1000) + 60 + i * 4), "PEXPIREAT")
            names.append((db, k))
    ok(c("SELECT", 0), "SELECT")
    return names, sizes


def settle_ttls(c, short, timeout=3):
    """Lets the short-TTL keys go: EXISTS on every other one once it is due
    (lazy expiry), then DBSIZE polled until active expiry has deleted the
    rest, and EXISTS on any still there after the timeout. Each way makes
    the server propagate a DEL; nothing with a TTL is due afterwards."""
    names, sizes = short
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = False
        for db, k in names[::2]:
            ok(c("SELECT", db), "SELECT")
            if c("PTTL", k) != -2:
                pending = True
            else:
                c("EXISTS", k)  # deletes it: lazy expiry
        if not pending:
            break
        time.sleep(0.02)
    while time.monotonic() < deadline:
        left = 0
        for db, n in sizes.items():
            ok(c("SELECT", db), "SELECT")
            left += c("DBSIZE") - n
        if not left:
            break
        time.sleep(0.02)
    for db, k in names:
        ok(c("SELECT", db), "SELECT")
        c("EXISTS", k)
    ok(c("SELECT", 0), "SELECT")


def part1(c, c2, far_ms):
    """The first half: rdb-roundtrip's fill, then the varied writes."""
    aoflib.rdb_roundtrip.fill(c, far_ms)
    # A -0 score survives in a skiplist but reads back as 0 from a listpack;
    # a RESP BASE re-adds a big zset in batches in hash order, so whether
    # the fill's -0 member lands in the first (listpack) batch is chance,
    # and Valkey's own digest then differs from run to run. Keep -0 where
    # it is deterministic: a listpack zset (0 both live and loaded).
    ok(c("ZREM", "zset:skiplist-inf", "negzero"), "ZREM")
    ok(c("ZADD", "z:negzero", "-0", "a", "1", "b"), "ZADD")
    rnd = random.Random(12)
    ok(c("SET", "s:ex", "v", "EX", 7200), "SET EX")
    ok(c("SET", "s:px", "v", "PX", 8000000), "SET PX")
    ok(c("SETEX", "s:setex", 9000, "v"), "SETEX")
    ok(c("PSETEX", "s:psetex", 9100000, "v"), "PSETEX")
    ok(c("SET", "s:getex", "v"), "SET")
    ok(c("GETEX", "s:getex", "EX", 7300), "GETEX")
    ok(c("SET", "s:float", "10.5", "EX", 7400), "SET")
    for inc in ("0.1", "-3.25", "1e3", "5.0e-2"):
        ok(c("INCRBYFLOAT", "s:float", inc), "INCRBYFLOAT")
    ok(c("INCR", "s:counter"), "INCR")
    ok(c("INCRBY", "s:counter", 41), "INCRBY")
    ok(c("DECRBY", "s:counter", 2), "DECRBY")
    ok(c("APPEND", "s:append", "abc"), "APPEND")
    ok(c("SETRANGE", "s:append", 10, "zz"), "SETRANGE")
    ok(c("GETSET", "s:getset", "new"), "GETSET")
    ok(c("SET", "s:getdel", "v"), "SET")
    ok(c("GETDEL", "s:getdel"), "GETDEL")
    ok(c("MSET", "s:m1", "1", "s:m2", "2"), "MSET")
    ok(c("MSETNX", "s:m3", "3", "s:m4", "4"), "MSETNX")
    ok(c("SET", "s:keepttl", "a", "EX", 7500), "SET")
    ok(c("SET", "s:keepttl", "b", "KEEPTTL"), "SET KEEPTTL")
    ok(c("SET", "s:setget", "a"), "SET")
    ok(c("SET", "s:setget", "b", "GET"), "SET GET")
    ok(c("RPUSH", "l:a", *[str(i) for i in range(30)]), "RPUSH")
    ok(c("LINSERT", "l:a", "BEFORE", "5", "ins"), "LINSERT")
    ok(c("LSET", "l:a", 0, "first"), "LSET")
    ok(c("LTRIM", "l:a", 0, 25), "LTRIM")
    ok(c("LREM", "l:a", 0, "7"), "LREM")
    ok(c("LPOP", "l:a", 2), "LPOP")
    ok(c("RPOP", "l:a"), "RPOP")
    ok(c("LMOVE", "l:a", "l:b", "LEFT", "RIGHT"), "LMOVE")
    ok(c("RPOPLPUSH", "l:a", "l:b"), "RPOPLPUSH")
    ok(c("LMPOP", 2, "l:none", "l:a", "LEFT", "COUNT", 3), "LMPOP")
    ok(c("SADD", "set:pop", *["m%d" % i for i in range(40)]), "SADD")
    ok(c("SADD", "set:popint", *[str(i) for i in range(40)]), "SADD")
    ok(c("SPOP", "set:pop"), "SPOP")
    ok(c("SPOP", "set:pop", 5), "SPOP count")
    ok(c("SPOP", "set:popint", 50), "SPOP all")
    ok(c("SREM", "set:hashtable", "m1", "m2"), "SREM")
    ok(c("SMOVE", "set:hashtable", "set:moved", "m3"), "SMOVE")
    ok(c("SINTERSTORE", "set:inter", "set:intset", "set:bigints"), "SINTERSTORE")
    ok(c("SUNIONSTORE", "set:union", "set:listpack", "set:intset64"), "SUNIONSTORE")
    ok(c("SDIFFSTORE", "set:diff", "set:bigints", "set:intset"), "SDIFFSTORE")
    ok(c("HSET", "h:a", "f1", "1", "f2", "2.5", "f3", "x"), "HSET")
    ok(c("HSETNX", "h:a", "f4", "4"), "HSETNX")
    ok(c("HINCRBY", "h:a", "f1", 10), "HINCRBY")
    ok(c("HINCRBYFLOAT", "h:a", "f2", "0.1"), "HINCRBYFLOAT")
    ok(c("HDEL", "h:a", "f3"), "HDEL")
    ok(c("HMSET", "h:b", "a", "1", "b", "2"), "HMSET")
    ok(c("ZADD", "z:a", *sum(([str(rnd.randint(-50, 50) / 4), "e%d" % i] for i in range(60)), [])), "ZADD")
    ok(c("ZADD", "z:a", "GT", "CH", "100", "e1", "-100", "e2"), "ZADD GT")
    ok(c("ZADD", "z:a", "INCR", "2.5", "e3"), "ZADD INCR")
    ok(c("ZINCRBY", "z:a", "-1.5", "e4"), "ZINCRBY")
    ok(c("ZREM", "z:a", "e5", "e6"), "ZREM")
    ok(c("ZPOPMIN", "z:a", 2), "ZPOPMIN")
    ok(c("ZPOPMAX", "z:a"), "ZPOPMAX")
    ok(c("ZREMRANGEBYSCORE", "z:a", "-3", "-2"), "ZREMRANGEBYSCORE")
    ok(c("ZUNIONSTORE", "z:union", 2, "z:a", "zset:listpack", "WEIGHTS", 2, 3), "ZUNIONSTORE")
    ok(c("ZINTERSTORE", "z:inter", 2, "z:a", "z:union", "AGGREGATE", "MAX"), "ZINTERSTORE")
    ok(c("ZRANGESTORE", "z:range", "z:a", 0, 9), "ZRANGESTORE")
    ok(c("ZMPOP", 1, "z:range", "MAX", "COUNT", 2), "ZMPOP")
    blocked_pops(c, c2, "p1")
    ok(c("EXPIRE", "l:b", 7600), "EXPIRE")
    ok(c("PEXPIRE", "h:a", 7700000), "PEXPIRE")
    ok(c("EXPIREAT", "h:b", far_ms // 1000 + 17), "EXPIREAT")
    ok(c("PEXPIREAT", "z:a", far_ms + 333), "PEXPIREAT")
    ok(c("SET", "s:persist", "v", "EX", 100), "SET")
    ok(c("PERSIST", "s:persist"), "PERSIST")
    # A transaction: SELECT inside, a command failing at run time (INCR of
    # a non-number) while the others apply.
    ok(c("MULTI"), "MULTI")
    for cmd in (("INCR", "s:counter"), ("SET", "s:multi", "1", "PX", 7800000), ("SELECT", 1),
                ("INCR", "str:db"), ("LPUSH", "l:tx", "a", "b"), ("SELECT", 0),
                ("HSET", "h:tx", "f", "v"), ("INCRBYFLOAT", "s:float", "1.5")):
        c(*cmd)
    r = ok(c("EXEC"), "EXEC")
    if not isinstance(r, list) or len(r) != 8 or not isinstance(r[3], Exception):
        raise SetupError("EXEC replied %r" % r)
    payload = ok(c("DUMP", "zset:skiplist"), "DUMP")
    ok(c("RESTORE", "z:restored", 0, payload), "RESTORE")
    ok(c("RESTORE", "z:restored-ttl", far_ms + 999, payload, "ABSTTL"), "RESTORE ABSTTL")
    ok(c("SORT", "list:ints", "DESC", "LIMIT", 0, 50, "STORE", "l:sorted"), "SORT STORE")
    for db in (1, 3, 5, 9):
        ok(c("SELECT", db), "SELECT")
        ok(c("SET", "s:in-db", "db%d" % db, "PX", 9900000 + db), "SET")
        ok(c("RPUSH", "l:in-db", *["%d-%d" % (db, i) for i in range(db * 3)]), "RPUSH")
        ok(c("ZADD", "z:in-db", db, "m"), "ZADD")
    ok(c("SELECT", 3), "SELECT")
    ok(c("FLUSHDB"), "FLUSHDB")
    ok(c("SET", "s:after-flush", "v"), "SET")
    ok(c("SELECT", 0), "SELECT")
    names = short_ttls(c, "p1")
    settle_ttls(c, names)


def part2(c, c2, far_ms):
    """The second half (after the rewrite, when there is one): changes to
    keys the BASE holds, and more of everything."""
    ok(c("SET", "str:int", "99"), "SET")
    ok(c("DEL", "str:embstr", "list:plain"), "DEL")
    ok(c("UNLINK", "set:hashtable"), "UNLINK")
    ok(c("RENAME", "hash:hashtable", "h:renamed"), "RENAME")
    ok(c("COPY", "zset:skiplist", "z:copy"), "COPY")
    ok(c("COPY", "l:a", "l:copy", "DB", 5), "COPY DB")
    ok(c("MOVE", "s:m1", 9), "MOVE")
    ok(c("INCRBYFLOAT", "s:float", "2.75"), "INCRBYFLOAT")
    ok(c("HINCRBYFLOAT", "h:a", "f2", "-0.35"), "HINCRBYFLOAT")
    ok(c("SPOP", "set:pop", 3), "SPOP count")
    ok(c("RPUSH", "list:quicklist", *["tail-%d" % i for i in range(100)]), "RPUSH")
    ok(c("LTRIM", "list:quicklist", 10, -10), "LTRIM")
    ok(c("ZADD", "zset:skiplist", "XX", "1000", "m1"), "ZADD XX")
    ok(c("EXPIRE", "str:int", 8000), "EXPIRE")
    ok(c("GETEX", "s:getex", "PERSIST"), "GETEX PERSIST")
    blocked_pops(c, c2, "p2")
    ok(c("MULTI"), "MULTI")
    for cmd in (("SELECT", 5), ("SADD", "set:tx", "a", "b", "c"), ("SPOP", "set:tx"),
                ("SELECT", 0), ("DEL", "s:m2"), ("SET", "s:tx2", "v", "EX", 7900)):
        c(*cmd)
    ok(c("EXEC"), "EXEC")
    ok(c("SWAPDB", 1, 5), "SWAPDB")
    ok(c("SELECT", 7), "SELECT")
    ok(c("SET", "s:gone", "v"), "SET")
    ok(c("FLUSHDB"), "FLUSHDB")
    ok(c("SELECT", 0), "SELECT")
    names = short_ttls(c, "p2")
    settle_ttls(c, names)


# ---------------------------------------------------------------------------


class Run:
    def __init__(self, a, tmp):
        self.a, self.tmp = a, tmp
        self.next_port = a.port_base
        self.servers = []
        self.rows = []  # (leg, written by, layout, loaded by, keys, digest, result)
        self.failures = 0

    def start(self, binary, dir_, extra=()):
        port = self.next_port
        self.next_port += 1
        log = dir_.rstrip("/") + ".log"
        s = aoflib.Server(binary, port, dir_, log, list(extra) + shlex.split(self.a.server_args))
        self.servers.append(s)
        return s, s.wait_loaded(self.a.load_timeout)

    def stop(self, s, c=None):
        """SHUTDOWN NOSAVE, so the dir holds the AOF only."""
        s.shutdown(c)
        s.kill()
        self.servers.remove(s)

    def kill_all(self):
        for s in self.servers:
            s.kill()
        self.servers = []

    def new_dir(self, name):
        d = tempfile.mkdtemp(prefix=name + "-", dir=self.tmp)
        return d

    def write(self, binary, name, preamble, do_rewrite, timestamps=False):
        """Runs the workload on `binary`; returns (dir, want, digest)."""
        d = self.new_dir(name)
        s, c = self.start(binary, d, ["--aof-use-rdb-preamble", preamble,
                                      "--aof-timestamp-enabled", "yes" if timestamps else "no"])
        c2 = aoflib.Conn(s.port)
        far_ms = int(time.time() * 1000) + 36_000_000 + 123
        part1(c, c2, far_ms)
        if do_rewrite:
            aoflib.rewrite(c, self.a.load_timeout)
        part2(c, c2, far_ms)
        want = aoflib.snapshot(c)
        dig = aoflib.digest(c)
        c2.close()
        self.stop(s, c)
        if os.path.exists(os.path.join(d, "dump.rdb")):
            raise SetupError("%s left a dump.rdb beside its AOF" % name)
        m = aoflib.manifest(d)
        if not m:
            raise SetupError("%s wrote no appendonlydir manifest" % name)
        base = [f for f, _, t in m if t == "b"]
        want_ext = ".rdb" if preamble == "yes" else ".aof"
        if do_rewrite and not (base and base[0].endswith(".base" + want_ext)):
            raise SetupError("%s: after a rewrite with preamble %s the BASE is %s" % (
                name, preamble, base))
        if timestamps:
            incr = b"".join(open(os.path.join(d, "appendonlydir", f), "rb").read()
                            for f, _, t in m if t == "i")
            if b"#TS:" not in incr:
                raise SetupError("%s: aof-timestamp-enabled yes wrote no #TS: annotation" % name)
        return d, want, dig

    def load(self, leg, writer, layout, binary, loader, src_dir, want, dig, check_layout=False):
        """Starts `binary` on a copy of src_dir, compares; one row."""
        d = self.new_dir(loader)
        shutil.rmtree(d)
        shutil.copytree(src_dir, d)
        try:
            s, c = self.start(binary, d)
        except SetupError as e:
            print("  %s: %s" % (leg, e))
            self.kill_all()
            self.row(leg, writer, layout, loader, None, "-", "FAIL: did not load", 1)
            return
        got = aoflib.snapshot(c)
        got_dig = aoflib.digest(c)
        n = aoflib.compare(want, got, 0, leg, self.a.verbose)
        problems = []
        if n:
            problems.append("%d differences" % n)
        if got_dig != dig:
            problems.append("digest differs")
        if aoflib.info(c).get("aof_enabled") != "1":
            problems.append("aof_enabled is not 1")
        self.stop(s, c)
        if check_layout:
            m = aoflib.manifest(d)
            if not m:
                problems.append("no multi-part layout after loading")
            else:
                absent = [f for f, _, _ in m
                          if not os.path.exists(os.path.join(d, "appendonlydir", f))]
                if absent or not any(t == "b" for _, _, t in m):
                    problems.append("manifest %s: files absent %s" % (m, absent))
                elif os.path.exists(os.path.join(d, "appendonly.aof")):
                    problems.append("appendonly.aof left in --dir after the upgrade")
        self.row(leg, writer, layout, loader, len(got[0]),
                 "same" if got_dig == dig else "DIFFERS",
                 "ok" if not problems else "FAIL: " + ", ".join(problems), 1 if problems else 0)

    def reference_digest(self, binary, src_dir):
        d = self.new_dir("reference")
        shutil.rmtree(d)
        shutil.copytree(src_dir, d)
        s, c = self.start(binary, d)
        dig = aoflib.digest(c)
        self.stop(s, c)
        return dig

    def row(self, leg, writer, layout, loader, keys, digest, result, failed):
        self.rows.append((leg, writer, layout, loader, "-" if keys is None else str(keys),
                          digest, result))
        self.failures += failed


def single_file(src_dir, dst_dir):
    """A Redis <= 6 style appendonly.aof in dst_dir: the BASE and then the
    INCR files of src_dir's manifest, in order, in one file."""
    m = aoflib.manifest(src_dir)
    files = [f for f, _, t in m if t == "b"] + [f for f, _, t in m if t == "i"]
    with open(os.path.join(dst_dir, "appendonly.aof"), "wb") as out:
        for f in files:
            with open(os.path.join(src_dir, "appendonlydir", f), "rb") as inp:
                shutil.copyfileobj(inp, out)
    with open(os.path.join(dst_dir, "appendonly.aof"), "rb") as f:
        return f.read(9)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    refs = aoflib.reference_paths()
    ap.add_argument("--target", default=aoflib.DEFAULT_TARGET)
    ap.add_argument("--valkey", default=refs.get("valkey-server"), help="Valkey 9.1 valkey-server")
    ap.add_argument("--redis", default=refs.get("redis-server", ""),
                    help="Redis 7.0 redis-server for the REDIS-header single file ('' to skip)")
    ap.add_argument("--port-base", type=int, default=18520)
    ap.add_argument("--legs", default="forward,reverse,single")
    ap.add_argument("--load-timeout", type=float, default=60)
    ap.add_argument("--server-args", default="", help="more options for every server started")
    ap.add_argument("--short", action="store_true",
                    help="CI form: no no-rewrite variant, no Redis 7.0 source")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    legs = set(x.strip() for x in a.legs.split(",") if x.strip())
    tmp = tempfile.mkdtemp(prefix="aof-compat-")
    run = Run(a, tmp)
    t0 = time.time()
    try:
        aoflib.check_binary(a.target, "target")
        aoflib.check_binary(a.valkey, "valkey")
        tname = aoflib.server_kind(a.target)[0]
        vname = aoflib.server_kind(a.valkey)[0]
        if vname == tname:
            tname += " (target)"
        # The #TS variant has no rewrite: Valkey annotates when the second
        # changes, so a new INCR file started within the same second as
        # the last annotation may hold none.
        variants = [("yes", True, False), ("no", True, False), ("yes", False, True)]
        if not a.short:
            variants.append(("yes", False, False))
        written = {}
        if legs & {"forward", "single"}:
            for preamble, rw, ts in variants:
                layout = ("preamble %s, rewrite" % preamble) if rw else "no rewrite"
                layout += ", #TS" if ts else ""
                written[layout] = run.write(a.valkey, "valkey", preamble, rw, ts)
        if "forward" in legs:
            for layout, (d, want, dig) in written.items():
                run.load("forward", vname, layout, a.target, tname, d, want, dig)
        if "reverse" in legs:
            for preamble in ("yes", "no"):
                layout = "preamble %s, rewrite" % preamble
                d, want, dig = run.write(a.target, "target", preamble, True)
                run.load("reverse", tname, layout, a.valkey, vname, d, want, dig)
        if "single" in legs:
            sources = [(vname, "preamble yes, rewrite"), (vname, "preamble no, rewrite")]
            if a.redis and not a.short:
                aoflib.check_binary(a.redis, "redis")
                rname = aoflib.server_kind(a.redis)[0]
                written["redis"] = run.write(a.redis, "redis", "yes", True)
                sources.append((rname, "redis"))
            for writer, key in sources:
                d, want, dig = written[key]
                one = run.new_dir("single")
                head = single_file(d, one)
                if key == "redis":
                    # Redis 7.0's DEBUG DIGEST is not Valkey's: the digest
                    # to match is the one Valkey 9.1 gets from the file.
                    dig = run.reference_digest(a.valkey, one)
                layout = "one file, %s" % (
                    "RDB preamble %s" % head.decode(errors="replace") if head[:1] in b"RV"
                    else "RESP only")
                run.load("single", writer, layout, a.target, tname, one, want, dig,
                         check_layout=True)
    except (SetupError, OSError, RuntimeError) as e:
        print("aof-compat: setup failed: %s (files kept in %s)" % (e, tmp), file=sys.stderr)
        run.kill_all()
        return 2
    finally:
        run.kill_all()
    w = [max([len(r[i]) for r in run.rows] + [len(h)]) for i, h in
         enumerate(("leg", "written by", "layout", "loaded by", "keys", "digest"))]
    fmt = "%%-%ds  %%-%ds  %%-%ds  %%-%ds  %%%ds  %%-%ds  %%s" % tuple(w)
    print(fmt % ("leg", "written by", "layout", "loaded by", "keys", "digest", "result"))
    for r in run.rows:
        print(fmt % r)
    print("aof-compat: %d legs, %d failed, %.1f s" % (len(run.rows), run.failures, time.time() - t0))
    if run.failures:
        print("aof-compat: files kept in %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
