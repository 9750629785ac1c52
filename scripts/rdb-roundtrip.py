#!/usr/bin/env python3
"""RDB file round trips between reference servers and a target server.

For each source kind (Debian's redis-server 7.0 and Valkey 9.1, paths from
../shared/tools/reference-servers.sh):
  fill:    every type and encoding (scripts/dump-roundtrip.py's fill, plus
           int-like and large strings, plain and big-element quicklist
           nodes, skiplists with inf/-inf/-0/fractional scores, binary key
           names, absolute TTLs on every type, data in dbs 0, 1 and 9);
  forward: SAVE on the source, start the target on a copy of that file
           (--dir/--dbfilename), wait for INFO `loading:0`, compare a
           key-by-key dump (db, key, type, PEXPIRETIME, full contents; sets
           and hashes as sets, zset scores as doubles) with the source's;
  reverse: SAVE on the target, start a fresh source-kind server on that
           file, compare again with the source's dump.
A leg whose file version (from the file's header) is newer than the reader
reads (known from the reader's --version: Redis 7.0 reads RDB <= 10) is
reported as skipped, after checking that the reader does refuse it; a
file ferrokey writes must be version 11 (Valkey 8's), else that fails.

Encodings are printed when they differ but are not compared: a loader picks
them from its own thresholds (Redis 7.0 has no set listpack, for one).
Exit status: 0 when every leg matched or was skipped, 1 on any difference,
2 on a setup failure.

Usage: scripts/rdb-roundtrip.py [--target BIN] [--sources redis,valkey]
                                [--port-base P] [--deadline S] [-v]
  --target defaults to target/release/ferrokey-server; any valkey-server or
  redis-server binary works too (e.g. Valkey 9.1 <-> Valkey 9.1).
"""
import argparse
import importlib.util
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# scripts/dump-roundtrip.py's RESP client and fill (every type and
# encoding in db 0), shared so that both passes cover the same keys.
_spec = importlib.util.spec_from_file_location(
    "dump_roundtrip", os.path.join(HERE, "dump-roundtrip.py"))
dump_roundtrip = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dump_roundtrip)


class SetupError(Exception):
    pass


class Conn(dump_roundtrip.Conn):
    """dump-roundtrip's client with a socket timeout, so a hung server
    fails the run instead of blocking it."""

    def __init__(self, port, timeout=20):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.s.makefile("rb")

    def close(self):
        self.f.close()
        self.s.close()


def ok(reply, what):
    if isinstance(reply, Exception):
        raise SetupError("%s: %s" % (what, reply))
    return reply


# ---------------------------------------------------------------------------
# Servers


def server_kind(binary):
    """(name, readable) from `BIN --version`: a short name like redis-7.0 and
    a predicate on RDB versions that server loads (None: unknown, try)."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise SetupError("cannot run %s --version: %s" % (binary, e))
    m = re.search(r"(Redis|Valkey) server v=(\d+)\.(\d+)", out)
    if m:
        kind, major, minor = m.group(1).lower(), int(m.group(2)), int(m.group(3))
        name = "%s-%d.%d" % (kind, major, minor)
        if kind == "redis":
            top = 10 if (major, minor) < (7, 2) else 11 if (major, minor) < (7, 4) else 12
            return name, top, (lambda v, top=top: 1 <= v <= top)
        if major >= 9:
            # Valkey 9 writes VALKEY080 and reads its own and <= 11 (strict).
            return name, 80, (lambda v: 1 <= v <= 11 or v == 80)
        return name, 11, (lambda v: 1 <= v <= 11)
    if "ferrokey" in out:
        # Issue 11: ferrokey loads versions 1 to 12 and Valkey 9's 80.
        return "ferrokey", 80, (lambda v: 1 <= v <= 12 or v == 80)
    return os.path.basename(binary), None, (lambda v: True)


def rdb_version(path):
    with open(path, "rb") as f:
        magic = f.read(9)
    if magic.startswith(b"REDIS") and magic[5:9].isdigit():
        return int(magic[5:9])
    if magic.startswith(b"VALKEY") and magic[6:9].isdigit():
        return int(magic[6:9])
    raise SetupError("%s: not an RDB file (header %r)" % (path, magic))


class Ports:
    def __init__(self, base):
        self.base, self.next = base, base

    def take(self):
        if not self.base:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            return port
        port = self.next
        self.next += 1
        return port


class Server:
    """One server process we started, on its own dir and dbfilename, its
    output in DIR/server.log. stop() kills that pid only."""

    def __init__(self, binary, name, port, dir_, dbfilename, debug=False):
        self.name, self.port, self.dir = name, port, dir_
        self.log_path = os.path.join(dir_, "server.log")
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", dir_,
                "--dbfilename", dbfilename, "--save", "", "--appendonly", "no"]
        if debug:
            args += ["--enable-debug-command", "local"]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    def log_tail(self, n=6):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        return " | ".join(l.strip() for l in lines[-n:])

    def wait_loaded(self, deadline):
        """Poll INFO persistence until `loading:0`. Returns a connection, or
        None when the process exited first (see .proc.returncode)."""
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return None
            try:
                c = Conn(self.port)
            except OSError:
                time.sleep(0.02)
                continue
            try:
                while time.time() < deadline:
                    info = c("INFO", "persistence")
                    if isinstance(info, bytes) and re.search(rb"^loading:0\r?$", info, re.M):
                        return c
                    if self.proc.poll() is not None:
                        break
                    time.sleep(0.02)
            except (OSError, RuntimeError):
                pass  # the server closed the connection: exited, or retry
            c.close()
        raise SetupError("%s on port %d not loaded before the deadline (log: %s)" % (
            self.name, self.port, self.log_tail()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


# ---------------------------------------------------------------------------
# Fill


def fill(c, far_ms):
    """dump-roundtrip's keys in db 0, then what only a whole file has."""
    dump_roundtrip.fill(c)
    rnd = random.Random(11)
    ints = ["0", "-1", "127", "-128", "32767", "-32768", "2147483647", "-2147483648",
            "2147483648", "9223372036854775807", "-9223372036854775808",
            "18446744073709551616", "1.5", " 1", "+1", "01", "-0"]
    for i, v in enumerate(ints):
        ok(c("SET", "str:intlike:%02d" % i, v), "SET")
    ok(c("SET", "str:empty", ""), "SET")
    ok(c("SET", "str:large-compressible", "ferrokey rdb " * 160000), "SET")  # ~2 MB
    ok(c("SET", "str:large-random", bytes(rnd.getrandbits(8) for _ in range(1 << 20))), "SET")
    ok(c("SET", b"key:\x00\xff\r\n binary", b"\x00\x01"), "SET")
    ok(c("SET", "key:utf8 \u00e9\u20ac", "\u00e9"), "SET")
    # Quicklist plain nodes: elements above the packed threshold, which only
    # DEBUG lowers (the default is 1 GB).
    plain = c("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000")
    if isinstance(plain, Exception):
        print("  note: no plain-node list (%s)" % plain)
    else:
        ok(c("RPUSH", "list:plain-nodes", "a", "P" * 5000, "b",
             bytes(rnd.getrandbits(8) for _ in range(3000)), "c", "Q" * 1001), "RPUSH")
        ok(c("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"), "DEBUG")
    ok(c("RPUSH", "list:big-elements", *[("E%d" % i) * 1500 for i in range(60)]), "RPUSH")
    ok(c("ZADD", "zset:skiplist-inf", "inf", "pinf", "-inf", "ninf", "-0", "negzero",
         "0.1", "tenth", "1e-300", "tiny", "-2.5", "neg", "1.7976931348623157e308", "max",
         *sum(([repr(i / 3), "s%d" % i] for i in range(200)), [])), "ZADD")
    # Absolute TTLs with milliseconds on one key of every type.
    for i, k in enumerate(["str:large-random", "list:quicklist", "list:listpack",
                           "set:intset", "set:listpack", "set:hashtable", "zset:listpack",
                           "zset:skiplist", "hash:listpack", "hash:hashtable"]):
        ok(c("PEXPIREAT", k, far_ms + i * 1001 + 7), "PEXPIREAT")
    for db in (1, 9):
        ok(c("SELECT", db), "SELECT")
        # Some names as in db 0 with other values: the dbs must stay apart.
        ok(c("SET", "str:int", str(db * 1000 + 1)), "SET")
        ok(c("SET", "str:db", "db%d " % db * 10), "SET")
        ok(c("RPUSH", "list:listpack", "db%d" % db, "2", "3"), "RPUSH")
        ok(c("RPUSH", "list:quicklist", *["db%d-%d" % (db, i) for i in range(700)]), "RPUSH")
        ok(c("SADD", "set:intset", *[str(i * db) for i in range(1, 40)]), "SADD")
        ok(c("SADD", "set:hashtable", *["db%d-m%d" % (db, i) for i in range(200)]), "SADD")
        ok(c("ZADD", "zset:listpack", "1", "a", "-inf", "b", "2.25", "c"), "ZADD")
        ok(c("ZADD", "zset:skiplist", *sum(([str(i * 0.25), "m%d" % i] for i in range(150)), [])), "ZADD")
        ok(c("HSET", "hash:listpack", "db", str(db), "f", "v"), "HSET")
        ok(c("HSET", "hash:hashtable", *sum((["f%d" % i, "db%d" % db] for i in range(300)), [])), "HSET")
        ok(c("SET", "str:ttl", "v", "PXAT", far_ms + db), "SET")
        ok(c("PEXPIREAT", "hash:listpack", far_ms + 5000 + db), "PEXPIREAT")
    ok(c("SELECT", 0), "SELECT")


# ---------------------------------------------------------------------------
# Canonical dump


def dbs_with_keys(c):
    info = ok(c("INFO", "keyspace"), "INFO keyspace")
    return sorted(int(m) for m in re.findall(rb"^db(\d+):keys=", info, re.M))


def snapshot(c):
    """{(db, key): (type, expire, contents)} and {(db, key): encoding}.
    expire is PEXPIRETIME (absolute ms, what the file stores) or -1."""
    data, enc = {}, {}
    for db in dbs_with_keys(c):
        ok(c("SELECT", db), "SELECT")
        cursor, keys = b"0", set()
        while True:
            cursor, batch = ok(c("SCAN", cursor, "COUNT", 1000), "SCAN")
            keys.update(batch)
            if cursor == b"0":
                break
        for k in sorted(keys):
            t = ok(c("TYPE", k), "TYPE")
            if t == "string":
                v = c("GET", k)
            elif t == "list":
                v = c("LRANGE", k, 0, -1)
            elif t == "set":
                v = sorted(c("SMEMBERS", k))
            elif t == "hash":
                h = c("HGETALL", k)
                v = sorted(zip(h[::2], h[1::2]))
            elif t == "zset":
                z = c("ZRANGE", k, 0, -1, "WITHSCORES")
                # Scores as doubles: Redis 7.0 prints %.17g, Valkey the
                # shortest form ("0.10000000000000001" vs "0.1").
                v = [(m, float(s)) for m, s in zip(z[::2], z[1::2])]
            else:
                v = None
            data[(db, k)] = (t, ok(c("PEXPIRETIME", k), "PEXPIRETIME"), v)
            e = c("OBJECT", "ENCODING", k)
            enc[(db, k)] = e.decode() if isinstance(e, bytes) else str(e)
    ok(c("SELECT", 0), "SELECT")
    return data, enc


def short(v, n=60):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


def compare(want, got, tolerance_ms, label, verbose):
    """Prints each difference under `label`; returns how many there were."""
    (wd, we), (gd, ge) = want, got
    diffs = []
    for key in sorted(set(wd) | set(gd)):
        db, k = key
        name = "db%d %s" % (db, short(k))
        if key not in gd:
            diffs.append("%s: missing after load" % name)
            continue
        if key not in wd:
            diffs.append("%s: extra key after load" % name)
            continue
        (wt, wx, wv), (gt, gx, gv) = wd[key], gd[key]
        if wt != gt:
            diffs.append("%s: type %s, loaded as %s" % (name, wt, gt))
            continue
        if (wx < 0) != (gx < 0) or abs(wx - gx) > tolerance_ms:
            diffs.append("%s: expire time %d, loaded as %d" % (name, wx, gx))
        if wv != gv:
            if isinstance(wv, list) and isinstance(gv, list):
                i = next((i for i, (a, b) in enumerate(zip(wv, gv)) if a != b),
                         min(len(wv), len(gv)))
                diffs.append("%s: %s contents differ: %d vs %d elements, first difference at %d: %s vs %s" % (
                    name, wt, len(wv), len(gv), i, short(wv[i:i + 1]), short(gv[i:i + 1])))
            else:
                diffs.append("%s: %s contents differ: %s vs %s" % (name, wt, short(wv), short(gv)))
    for d in diffs[:25]:
        print("  %s: %s" % (label, d))
    if len(diffs) > 25:
        print("  %s: ... and %d more differences" % (label, len(diffs) - 25))
    enc_diff = [k for k in wd if k in gd and we.get(k) != ge.get(k)]
    if enc_diff:
        print("  %s: note: %d encodings differ (not compared)%s" % (
            label, len(enc_diff), ":" if verbose else ""))
        if verbose:
            for key in enc_diff:
                print("    db%d %s: %s -> %s" % (key[0], short(key[1]), we[key], ge[key]))
    return len(diffs)


# ---------------------------------------------------------------------------
# Legs


class Run:
    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp
        self.ports = Ports(args.port_base)
        self.servers = []
        self.rows = []  # (source kind, leg, file version, keys, result)
        self.kind = ""
        self.failures = 0
        self.deadline = time.time() + args.deadline

    def start(self, binary, name, file_path, debug=False):
        d = tempfile.mkdtemp(prefix=name + "-", dir=self.tmp)
        if file_path:
            shutil.copy(file_path, os.path.join(d, "dump.rdb"))
        s = Server(binary, name, self.ports.take(), d, "dump.rdb", debug)
        self.servers.append(s)
        return s

    def finish(self, s):
        s.stop()
        self.servers.remove(s)

    def row(self, leg, version, keys, result, failed):
        self.rows.append((self.kind, leg, "v%d" % version if version is not None else "-",
                          str(keys) if keys is not None else "-", result))
        self.failures += failed

    def save(self, c, s):
        ok(c("SAVE"), "%s SAVE" % s.name)
        path = os.path.join(s.dir, "dump.rdb")
        if not os.path.exists(path):
            raise SetupError("%s: SAVE replied OK but wrote no %s" % (s.name, path))
        return path

    def load_leg(self, leg, binary, name, readable, top, path, want):
        """Starts `binary` on a copy of `path`, compares its data with
        `want`. Returns (server, conn) when it loaded, else (None, None)."""
        version = rdb_version(path)
        expect_refusal = not readable(version)
        s = self.start(binary, name, path)
        c = s.wait_loaded(self.deadline)
        if c is None:
            rc = s.proc.returncode
            self.finish(s)
            if expect_refusal:
                self.row(leg, version, None, "skipped: %s reads RDB <= %d (refused, exit %s)" % (
                    name.replace("-", " "), top, rc), 0)
            else:
                print("  %s: %s exited %s while loading: %s" % (leg, name, rc, s.log_tail()))
                self.row(leg, version, None, "FAIL: load refused (exit %s)" % rc, 1)
            return None, None
        got = snapshot(c)
        n = compare(want, got, self.args.ttl_tolerance_ms, leg, self.args.verbose)
        note = " (loaded although %s reads RDB <= %d)" % (name, top) if expect_refusal else ""
        self.row(leg, version, len(got[0]),
                 ("ok" if not n else "FAIL: %d differences" % n) + note, 1 if n else 0)
        return s, c

    def source(self, src_bin):
        self.kind = ""
        src_name, src_top, src_reads = server_kind(src_bin)
        self.kind = src_name
        tgt_name, tgt_top, tgt_reads = server_kind(self.args.target)
        t0 = time.time()
        s = self.start(src_bin, src_name, None, debug=True)
        c = s.wait_loaded(self.deadline)
        if c is None:
            raise SetupError("%s exited at start: %s" % (src_name, s.log_tail()))
        # Far enough that nothing expires during the run; odd milliseconds.
        fill(c, int(time.time() * 1000) + 36_000_000 + 123)
        want = snapshot(c)
        src_file = self.save(c, s)
        c.close()
        self.finish(s)
        if not want[0]:
            raise SetupError("%s: the fill left no keys" % src_name)

        leg = "%s -> %s" % (src_name, tgt_name)
        t, tc = self.load_leg(leg, self.args.target, tgt_name, tgt_reads, tgt_top,
                              src_file, want)
        if t is None:
            self.row("%s -> %s" % (tgt_name, src_name), None, None,
                     "not run: the forward leg did not load", 0)
            return
        back = self.save(tc, t)
        tc.close()
        self.finish(t)
        leg = "%s -> %s" % (tgt_name, src_name)
        if tgt_name == "ferrokey" and rdb_version(back) != 11:
            # Issue 11: ferrokey writes version 11, as Valkey 8 does; a
            # newer one would be skipped below instead of loaded.
            self.row(leg, rdb_version(back), None, "FAIL: ferrokey must write RDB 11", 1)
        r, rc = self.load_leg(leg, src_bin, src_name, src_reads, src_top, back, want)
        if r is not None:
            rc.close()
            self.finish(r)
        if self.args.verbose:
            print("  %s: both legs in %.1f s" % (src_name, time.time() - t0))

    def stop_all(self):
        for s in list(self.servers):
            self.finish(s)


def reference_paths():
    tool = os.path.join(ROOT, "..", "shared", "tools", "reference-servers.sh")
    if not os.path.exists(tool):
        tool = "/work/shared/tools/reference-servers.sh"
    try:
        out = subprocess.run(["bash", tool], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SetupError("cannot run %s: %s" % (tool, e))
    paths = {}
    for line in out.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            paths[parts[0]] = parts[1].strip()
    return {"redis": paths.get("redis-server"), "valkey": paths.get("valkey-server")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", default=os.path.join(ROOT, "target", "release", "ferrokey-server"),
                    help="server binary that loads and saves (default: the release ferrokey)")
    ap.add_argument("--sources", default="redis,valkey",
                    help="comma-separated source kinds: redis (7.0), valkey (9.1)")
    ap.add_argument("--redis", help="redis-server path (default: from reference-servers.sh)")
    ap.add_argument("--valkey", help="valkey-server path (default: from reference-servers.sh)")
    ap.add_argument("--port-base", type=int, default=0,
                    help="first of the loopback ports to use (default: free ports)")
    ap.add_argument("--deadline", type=float, default=60, help="whole run, seconds")
    ap.add_argument("--ttl-tolerance-ms", type=int, default=0,
                    help="allowed expire-time difference (the file stores absolute ms)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list encoding differences")
    a = ap.parse_args()
    if not os.access(a.target, os.X_OK):
        print("rdb-roundtrip: no target binary at %s (cargo build --release)" % a.target,
              file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="rdb-roundtrip-")
    run = Run(a, tmp)
    t0 = time.time()
    try:
        refs = reference_paths() if not (a.redis and a.valkey) else {}
        bins = {"redis": a.redis or refs.get("redis"), "valkey": a.valkey or refs.get("valkey")}
        for kind in [k.strip() for k in a.sources.split(",") if k.strip()]:
            if not bins.get(kind):
                raise SetupError("no %s-server binary (kinds: redis, valkey)" % kind)
            try:
                run.source(bins[kind])
            except (SetupError, OSError, RuntimeError) as e:
                # Reported as a failed row (a timeout or a closed connection
                # included); the other source kinds still run.
                print("  %s: %s" % (run.kind or kind, e))
                run.row("error", None, None, "FAIL: %s" % str(e)[:70], 1)
                run.stop_all()
    except SetupError as e:
        print("rdb-roundtrip: setup failed: %s" % e, file=sys.stderr)
        return 2
    finally:
        run.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    head = "file written by -> loaded by"
    w = max([len(r[1]) for r in run.rows] + [len(head)])
    print("%-11s %-*s  %-5s %5s  %s" % ("source", w, head, "file", "keys", "result"))
    for kind, leg, version, keys, result in run.rows:
        print("%-11s %-*s  %-5s %5s  %s" % (kind, w, leg, version, keys, result))
    print("rdb-roundtrip: %d legs, %d failed, %.1f s" % (len(run.rows), run.failures,
                                                         time.time() - t0))
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
