#!/usr/bin/env python3
"""Exact propagation: the AOF of a long random workload, replayed into a
fresh server, gives the live server's DEBUG DIGEST (issue 12).

  run:     on the target with appendonly yes (appendfsync everysec), a
           seeded random workload of --commands commands over every write
           family: strings (SET with EX/PX/KEEPTTL/NX/XX/GET, GETEX, GETDEL,
           INCRBYFLOAT, SETRANGE, MSETNX, ...), lists, sets (SPOP with and
           without a count, the STORE forms), hashes (HINCRBYFLOAT), zsets
           (ZADD flags, ZPOP*, ZMPOP, the STORE forms), generic writes
           (EXPIRE/PEXPIRE/EXPIREAT in the past and the future, PERSIST,
           RENAME, COPY [DB], MOVE, SWAPDB, FLUSHDB, RESTORE of a DUMP,
           SORT STORE, DELIFEQ), MULTI/EXEC blocks (with SELECT inside),
           SELECT across dbs 0-3, and reads that make expired keys go
           lazily. Blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP,
           BZPOPMIN, BZPOPMAX, BZMPOP) on another connection are blocked
           first (INFO blocked_clients) and served by a later push. TTLs
           are either 1-300 ms, expiring during the run by active and lazy
           expiry, or over an hour. Halfway, a BGREWRITEAOF runs while the
           workload goes on (--no-rewrite to skip it), so the files are a
           BASE from mid-run plus INCR files.
  freeze:  wait until every short TTL is due, SCAN every db (which expires
           what is due), and check that no TTL under ten minutes is left:
           nothing can expire between the digest and the reload;
  compare: DEBUG DIGEST and a key-by-key dump (scripts/rdb-roundtrip.py's),
           SHUTDOWN NOSAVE, start a fresh server of the same binary on the
           same dir (appendonly yes), wait for INFO `loading:0`, compare
           both. With --loader BIN, a copy of the dir taken at the shutdown
           is also loaded by BIN (e.g. Valkey 9.1 loading ferrokey's files)
           and compared the same way.
Exit 0 when every load matched, 1 on a difference, 2 on a setup failure.

Usage: scripts/aof-replay.py [--target BIN] [--loader BIN] [--port-base P]
                             [--commands N] [--seed S] [--preamble yes|no]
                             [--no-rewrite] [--server-args ARGS] [--short] [-v]
  --target defaults to target/release/ferrokey-server. --short: 5,000
  commands instead of 50,000.
"""
import argparse
import collections
import os
import random
import select
import shlex
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True
import aoflib  # noqa: E402  (scripts/aoflib.py, beside this file)

SetupError = aoflib.SetupError
DBS = 4
SHORT_TTL_MS = 300
LONG_TTL_S = (3600, 90000)


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Workload:
    """The random command stream. Each generator returns one command (a
    list of arguments); what it knows of time is only for TTLs."""

    def __init__(self, rnd):
        self.r = rnd
        self.last_short_deadline = 0.0
        self.short_ttls = 0

    # -- values ------------------------------------------------------------

    def key(self, kind):
        n = {"s": 60, "l": 30, "S": 30, "h": 30, "z": 30}[kind]
        if self.r.random() < 0.05:
            kind = self.r.choice("slShz")  # sometimes the wrong type
        return "%s:%d" % (kind, self.r.randrange(n))

    def val(self):
        x = self.r.random()
        if x < 0.3:
            return str(self.r.randint(-1000, 100000))
        if x < 0.35:
            return "v" * self.r.randint(40, 300)
        return "v%d" % self.r.randrange(500)

    def member(self, n=60):
        return "m%d" % self.r.randrange(n) if self.r.random() < 0.8 else str(self.r.randrange(n))

    def num(self):
        return str(self.r.choice([self.r.randint(-5, 5), round(self.r.uniform(-1e3, 1e3), 3),
                                  self.r.randint(0, 10 ** 6) / 8]))

    def short_ms(self):
        ms = self.r.randint(1, SHORT_TTL_MS)
        self.short_ttls += 1
        self.last_short_deadline = max(self.last_short_deadline, time.time() + ms / 1000 + 0.01)
        return ms

    def long_s(self):
        return self.r.randint(*LONG_TTL_S)

    def ttl_opt(self):
        x = self.r.random()
        if x < 0.15:
            return ["PX", self.short_ms()]
        if x < 0.3:
            return ["EX", self.long_s()]
        if x < 0.35:
            return ["PXAT", int(time.time() * 1000) + self.long_s() * 1000]
        if x < 0.4:
            return ["KEEPTTL"]
        return []

    # -- families ----------------------------------------------------------

    def string(self):
        r, k = self.r, self.key("s")
        c = r.randrange(20)
        if c < 5:
            extra = self.ttl_opt() + r.choice([[], [], ["NX"], ["XX"], ["GET"]])
            return ["SET", k, self.val()] + extra
        return [
            lambda: ["SETNX", k, self.val()],
            lambda: ["SETEX", k, self.long_s(), self.val()],
            lambda: ["PSETEX", k, self.short_ms(), self.val()],
            lambda: ["GETSET", k, self.val()],
            lambda: ["GETDEL", k],
            lambda: ["GETEX", k] + r.choice([["PX", self.short_ms()], ["EX", self.long_s()],
                                              ["PERSIST"], []]),
            lambda: ["APPEND", k, self.val()],
            lambda: ["SETRANGE", k, r.randrange(30), self.val()],
            lambda: ["INCR", k],
            lambda: ["INCRBY", k, r.randint(-100, 100)],
            lambda: ["DECRBY", k, r.randint(-100, 100)],
            lambda: ["INCRBYFLOAT", k, self.num()],
            lambda: ["MSET", k, self.val(), self.key("s"), self.val()],
            lambda: ["MSETNX", k, self.val(), self.key("s"), self.val()],
            lambda: ["GET", k],
        ][c - 5]()

    def list(self):
        r, k = self.r, self.key("l")
        c = r.randrange(17)
        if c < 4:
            n = r.choice([1, 2, 3, 5, 200 if r.random() < 0.05 else 4])
            return [r.choice(["LPUSH", "RPUSH"]), k] + [self.val() for _ in range(n)]
        return [
            lambda: [r.choice(["LPUSHX", "RPUSHX"]), k, self.val()],
            lambda: [r.choice(["LPOP", "RPOP"]), k] + r.choice([[], [r.randint(1, 4)]]),
            lambda: ["LINSERT", k, r.choice(["BEFORE", "AFTER"]), self.val(), self.val()],
            lambda: ["LSET", k, r.randint(-3, 3), self.val()],
            lambda: ["LREM", k, r.randint(-2, 2), self.val()],
            lambda: ["LTRIM", k, r.randint(0, 3), r.randint(-5, 50)],
            lambda: ["LMOVE", k, self.key("l"), r.choice(["LEFT", "RIGHT"]),
                     r.choice(["LEFT", "RIGHT"])],
            lambda: ["RPOPLPUSH", k, self.key("l")],
            lambda: ["LMPOP", 2, k, self.key("l"), r.choice(["LEFT", "RIGHT"]), "COUNT",
                     r.randint(1, 3)],
            # On the main connection: a short timeout, so an empty list
            # times out (no write) instead of hanging the run.
            lambda: [r.choice(["BLPOP", "BRPOP"]), k, self.key("l"), "0.005"],
            lambda: ["LRANGE", k, 0, 5],
            lambda: ["LLEN", k],
            lambda: ["RPUSH", k, self.val()],
        ][c - 4]()

    def set(self):
        r, k = self.r, self.key("S")
        c = r.randrange(12)
        if c < 4:
            n = r.choice([1, 2, 4, 600 if r.random() < 0.05 else 3])
            ints = r.random() < 0.4
            return ["SADD", k] + [str(r.randrange(10 ** 6)) if ints else self.member(100)
                                  for _ in range(n)]
        return [
            lambda: ["SREM", k, self.member(100), self.member(100)],
            lambda: ["SPOP", k],
            lambda: ["SPOP", k, r.choice([1, 2, 5, 1000])],
            lambda: ["SMOVE", k, self.key("S"), self.member(100)],
            lambda: [r.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), self.key("S"), k,
                     self.key("S")],
            lambda: ["SRANDMEMBER", k, 3],
            lambda: ["SISMEMBER", k, self.member(100)],
            lambda: ["SCARD", k],
        ][c - 4]()

    def hash(self):
        r, k = self.r, self.key("h")
        c = r.randrange(10)
        if c < 4:
            n = r.choice([1, 2, 3, 200 if r.random() < 0.05 else 2])
            out = ["HSET", k]
            for _ in range(n):
                out += ["f%d" % r.randrange(300 if n > 100 else 40), self.val()]
            return out
        return [
            lambda: ["HSETNX", k, "f%d" % r.randrange(40), self.val()],
            lambda: ["HDEL", k, "f%d" % r.randrange(40), "f%d" % r.randrange(40)],
            lambda: ["HINCRBY", k, "n%d" % r.randrange(5), r.randint(-50, 50)],
            lambda: ["HINCRBYFLOAT", k, "x%d" % r.randrange(5), self.num()],
            lambda: ["HMSET", k, "f%d" % r.randrange(40), self.val()],
            lambda: ["HGETALL", k],
        ][c - 4]()

    def zset(self):
        r, k = self.r, self.key("z")
        c = r.randrange(16)
        if c < 4:
            n = r.choice([1, 2, 3, 200 if r.random() < 0.05 else 2])
            flags = r.choice([[], [], ["NX"], ["XX"], ["GT", "CH"], ["LT"]])
            out = ["ZADD", k] + flags
            for _ in range(n):
                out += [self.num(), self.member(300 if n > 100 else 60)]
            return out
        return [
            lambda: ["ZADD", k, "INCR", self.num(), self.member()],
            lambda: ["ZINCRBY", k, self.num(), self.member()],
            lambda: ["ZREM", k, self.member(), self.member()],
            lambda: [r.choice(["ZPOPMIN", "ZPOPMAX"]), k] + r.choice([[], [r.randint(1, 3)]]),
            lambda: ["ZREMRANGEBYSCORE", k, r.randint(-1000, 0), r.randint(-500, 500)],
            lambda: ["ZREMRANGEBYRANK", k, 0, r.randint(0, 2)],
            # Positive weights only: a -0 score reads back as 0 from a
            # listpack, and a reload may build the zset as a listpack.
            lambda: [r.choice(["ZUNIONSTORE", "ZINTERSTORE"]), self.key("z"), 2, k, self.key("z"),
                     "WEIGHTS", r.randint(1, 3), r.randint(1, 3),
                     "AGGREGATE", r.choice(["SUM", "MIN", "MAX"])],
            lambda: ["ZDIFFSTORE", self.key("z"), 2, k, self.key("z")],
            lambda: ["ZRANGESTORE", self.key("z"), k, 0, r.randint(0, 10)],
            lambda: ["ZMPOP", 2, k, self.key("z"), r.choice(["MIN", "MAX"]), "COUNT", r.randint(1, 3)],
            lambda: ["ZRANGE", k, 0, 3, "WITHSCORES"],
            lambda: ["ZSCORE", k, self.member()],
        ][c - 4]()

    def generic(self):
        r = self.r
        kind = r.choice("slShz")
        k = self.key(kind)
        c = r.randrange(20)
        now_ms = int(time.time() * 1000)
        return [
            lambda: ["DEL", k, self.key(kind)],
            lambda: ["UNLINK", k],
            lambda: ["EXPIRE", k, self.long_s()] + r.choice([[], ["NX"], ["GT"]]),
            lambda: ["PEXPIRE", k, self.short_ms()],
            lambda: ["EXPIRE", k, r.choice([-1, 0])],  # deletes now
            lambda: ["EXPIREAT", k, now_ms // 1000 + self.long_s()],
            lambda: ["PEXPIREAT", k, r.choice([now_ms - 1000, now_ms + self.short_ms()])],
            lambda: ["PERSIST", k],
            lambda: ["RENAME", k, self.key(kind)],
            lambda: ["RENAMENX", k, self.key(kind)],
            lambda: ["COPY", k, self.key(kind)] + r.choice([[], ["REPLACE"], ["DB", r.randrange(DBS)]]),
            lambda: ["MOVE", k, r.randrange(DBS)],
            lambda: ["EXISTS", k, self.key(kind)],
            lambda: ["TYPE", k],
            lambda: ["TTL", k],
            lambda: ["DELIFEQ", k, self.val()],
            lambda: ["SORT", self.key("l"), "LIMIT", 0, 10, "ALPHA", "STORE", self.key("l")],
            lambda: ["SWAPDB", r.randrange(DBS), r.randrange(DBS)] if r.random() < 0.1 else ["DEL", k],
            lambda: ["FLUSHDB"] if r.random() < 0.01 else ["UNLINK", k],
            lambda: ["DUMP-RESTORE", k, self.key(kind)],
        ][c]()

    def one(self):
        fam = self.r.choices([self.string, self.list, self.set, self.hash, self.zset,
                              self.generic], [25, 17, 14, 12, 14, 18])[0]
        return fam()


class Blocker:
    """A connection in db 0 that blocks on bk:* keys, served later."""

    LIST_CMDS = [
        lambda k: ["BLPOP", k, 0],
        lambda k: ["BRPOP", "bk:none", k, 0],
        lambda k: ["BLMOVE", k, "bk:l:dst", "LEFT", "RIGHT", 0],
        lambda k: ["BRPOPLPUSH", k, "bk:l:dst", 0],
        lambda k: ["BLMPOP", 0, 2, "bk:none", k, "LEFT", "COUNT", 2],
    ]
    ZSET_CMDS = [
        lambda k: ["BZPOPMIN", k, 0],
        lambda k: ["BZPOPMAX", k, 0],
        lambda k: ["BZMPOP", 0, 1, k, "MIN", "COUNT", 2],
    ]

    def __init__(self, port):
        self.c = aoflib.Conn(port)
        self.key = None
        self.served = self.immediate = 0

    def block(self, rnd, main):
        zset = rnd.random() < 0.4
        self.key = "bk:%s:%d" % ("z" if zset else "l", rnd.randrange(4))
        cmd = rnd.choice(self.ZSET_CMDS if zset else self.LIST_CMDS)(self.key)
        self.c.s.sendall(encode(cmd))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if select.select([self.c.s], [], [], 0)[0]:
                self.c.read()  # the key had elements: served at once
                self.immediate += 1
                self.key = None
                return
            if int(aoflib.info(main, "clients").get("blocked_clients", "1")) >= 1:
                return
            time.sleep(0.002)
        raise SetupError("%s neither blocked nor replied within 5 s" % cmd[0])

    def serve_cmd(self, rnd):
        if self.key.startswith("bk:z:"):
            return ["ZADD", self.key, rnd.randint(0, 9), "a%d" % rnd.randrange(9),
                    rnd.randint(0, 9), "b%d" % rnd.randrange(9)]
        return [rnd.choice(["RPUSH", "LPUSH"]), self.key, "x", "y", "z"][:rnd.randint(3, 5)]

    def collect(self):
        self.c.s.settimeout(10)
        r = self.c.read()
        if r is None or isinstance(r, Exception):
            raise SetupError("a served blocking pop replied %r" % (r,))
        self.served += 1
        self.key = None


def run_workload(a, c, port, rnd):
    """Runs the workload on c; returns stats."""
    w = Workload(rnd)
    stats = collections.Counter()
    blocker = Blocker(port)
    db = 0
    rewrite_at = a.commands // 2 if not a.no_rewrite else -1
    rewrite_info = None
    i = 0

    def send(cmd):
        nonlocal db
        if cmd[0] == "DUMP-RESTORE":
            payload = c("DUMP", cmd[1])
            stats["DUMP"] += 1
            if not isinstance(payload, bytes):
                return None
            ttl = rnd.choice([0, 0, w.short_ms(), w.long_s() * 1000])
            cmd = ["RESTORE", cmd[2], ttl, payload] + rnd.choice([[], ["REPLACE"]])
        r = c(*cmd)
        stats[cmd[0]] += 1
        if isinstance(r, Exception):
            stats["(error replies)"] += 1
        if cmd[0] == "SELECT" and not isinstance(r, Exception):
            db = int(cmd[1])
        return r

    while i < a.commands:
        i += 1
        if i == rewrite_at:
            rewrite_info = aoflib.info(c)
            r = c("BGREWRITEAOF")
            if isinstance(r, Exception):
                raise SetupError("BGREWRITEAOF: %s" % r)
        x = rnd.random()
        if x < 0.01:
            send(["SELECT", rnd.randrange(DBS)])
        elif x < 0.025:
            # A transaction of 2-6 commands, maybe with a SELECT inside
            # (blocking pops in it do not block).
            c("MULTI")
            n = rnd.randint(2, 6)
            cmds = []
            for _ in range(n):
                cmd = w.one()
                if cmd[0] in ("DUMP-RESTORE", "SWAPDB", "FLUSHDB"):
                    cmd = ["SET", w.key("s"), w.val()]
                if rnd.random() < 0.15:
                    cmd = ["SELECT", rnd.randrange(DBS)]
                cmds.append(cmd)
                q = c(*cmd)
                if q != "QUEUED":
                    stats["(not queued)"] += 1
            r = c("EXEC")
            stats["MULTI/EXEC"] += 1
            i += n
            if isinstance(r, list):
                for cmd, rr in zip(cmds, r):
                    if cmd[0] == "SELECT" and not isinstance(rr, Exception):
                        db = int(cmd[1])
        elif x < 0.035:
            if blocker.key is None:
                blocker.block(rnd, c)
                stats["blocking pop sent"] += 1
            else:
                if db != 0:
                    send(["SELECT", 0])
                send(blocker.serve_cmd(rnd))
                blocker.collect()
        else:
            send(w.one())
    if blocker.key is not None:
        if db != 0:
            send(["SELECT", 0])
        send(blocker.serve_cmd(rnd))
        blocker.collect()
    stats["blocking pops served later"] = blocker.served
    stats["blocking pops served at once"] = blocker.immediate
    blocker.c.close()
    if rewrite_info is not None:
        aoflib.wait_rewrite(c, rewrite_info, a.load_timeout)
        stats["BGREWRITEAOF"] = 1
    stats["short TTLs set"] = w.short_ttls
    return stats, w.last_short_deadline


def freeze(c, last_deadline):
    """Waits until every short TTL is due, SCANs every db (expiring what is
    due), and checks that no TTL under ten minutes is left."""
    time.sleep(max(0.0, last_deadline - time.time()))
    for db in range(DBS):
        aoflib.ok(c("SELECT", db), "SELECT")
        cursor = b"0"
        while True:
            cursor, keys = aoflib.ok(c("SCAN", cursor, "COUNT", 1000), "SCAN")
            for k in keys:
                pttl = c("PTTL", k)
                if 0 <= pttl < 600_000:
                    raise SetupError("db%d %r has a TTL of %d ms left after the freeze" % (
                        db, k, pttl))
            if cursor == b"0":
                break
    aoflib.ok(c("SELECT", 0), "SELECT")


def compare_load(a, label, binary, port, d, log, want, dig):
    """Starts binary on d, compares; returns (problems, keys, load s)."""
    s = aoflib.Server(binary, port, d, log, shlex.split(a.server_args))
    try:
        c = s.wait_loaded(a.load_timeout)
        load_s = time.monotonic() - s.started
        got_dig = aoflib.digest(c)
        got = aoflib.snapshot(c)
        n = aoflib.compare(want, got, 0, label, a.verbose)
        problems = []
        if n:
            problems.append("%d differences" % n)
        if got_dig != dig:
            problems.append("digest %s, live %s" % (got_dig, dig))
        s.shutdown(c)
        return problems, len(got[0]), load_s
    finally:
        s.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", default=aoflib.DEFAULT_TARGET)
    ap.add_argument("--loader", help="another server binary that also loads the files")
    ap.add_argument("--port-base", type=int, default=18540)
    ap.add_argument("--commands", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--preamble", default="yes", choices=["yes", "no"],
                    help="aof-use-rdb-preamble for the rewrite's BASE")
    ap.add_argument("--no-rewrite", action="store_true", help="no BGREWRITEAOF halfway")
    ap.add_argument("--load-timeout", type=float, default=120)
    ap.add_argument("--server-args", default="", help="more options for every server started")
    ap.add_argument("--short", action="store_true", help="CI form: 5,000 commands")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if a.short:
        a.commands = min(a.commands, 5000)
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    tmp = tempfile.mkdtemp(prefix="aof-replay-")
    d = os.path.join(tmp, "data")
    os.mkdir(d)
    rows, failed = [], False
    t0 = time.time()
    s = None
    try:
        aoflib.check_binary(a.target, "target")
        if a.loader:
            aoflib.check_binary(a.loader, "loader")
        tname = aoflib.server_kind(a.target)[0]
        print("aof-replay: %s, %d commands, seed %d, preamble %s%s" % (
            tname, a.commands, seed, a.preamble, "" if a.no_rewrite else ", a rewrite halfway"))
        s = aoflib.Server(a.target, a.port_base, d, os.path.join(tmp, "live.log"),
                          ["--aof-use-rdb-preamble", a.preamble] + shlex.split(a.server_args))
        c = s.wait_loaded(a.load_timeout)
        stats, last_deadline = run_workload(a, c, a.port_base, random.Random(seed))
        run_s = time.time() - t0
        freeze(c, last_deadline)
        expired = aoflib.info(c, "stats").get("expired_keys", "?")
        dig = aoflib.digest(c)
        want = aoflib.snapshot(c)
        s.shutdown(c)
        s.kill()
        s = None
        if not want[0]:
            raise SetupError("the workload left no keys")
        if a.verbose:
            for name, n in sorted(stats.items(), key=lambda x: -x[1]):
                print("  %7d  %s" % (n, name))
        print("aof-replay: %d commands in %.1f s (%d error replies, %d MULTI/EXEC, "
              "%d blocking pops served later, %d short TTLs, %s keys expired); %d keys, "
              "digest %s" % (
                  a.commands, run_s, stats["(error replies)"], stats["MULTI/EXEC"],
                  stats["blocking pops served later"], stats["short TTLs set"], expired,
                  len(want[0]), dig))
        if stats["blocking pops served later"] == 0:
            raise SetupError("no blocking pop was served later: the workload is too short")
        copy = None
        if a.loader:
            copy = os.path.join(tmp, "copy")
            shutil.copytree(d, copy)
        loads = [("%s -> %s" % (tname, tname), a.target, d)]
        if a.loader:
            loads.append(("%s -> %s" % (tname, aoflib.server_kind(a.loader)[0]), a.loader, copy))
        for i, (label, binary, dir_) in enumerate(loads):
            problems, keys, load_s = compare_load(a, label, binary, a.port_base + 1 + i, dir_,
                                                  os.path.join(tmp, "load%d.log" % i), want, dig)
            for p in problems:
                print("  %s: %s" % (label, p))
            failed |= bool(problems)
            rows.append((label, keys, load_s, "ok" if not problems else "FAIL"))
    except (SetupError, OSError, RuntimeError) as e:
        print("aof-replay: setup failed: %s (files kept in %s)" % (e, tmp), file=sys.stderr)
        return 2
    finally:
        if s is not None:
            s.kill()
    w = max(len(r[0]) for r in rows + [("written -> loaded by",)])
    print("%-*s  %6s  %7s  %s" % (w, "written -> loaded by", "keys", "load s", "result"))
    for label, keys, load_s, res in rows:
        print("%-*s  %6d  %7.2f  %s" % (w, label, keys, load_s, res))
    print("aof-replay: %s in %.0f s" % ("FAILED" if failed else "ok", time.time() - t0))
    if failed:
        print("aof-replay: files kept in %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
