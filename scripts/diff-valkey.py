#!/usr/bin/env python3
"""Differential test: the same seeded random commands against ferrokey and
Valkey 9.1, replies compared byte for byte.

Both servers run on free loopback ports with small encoding thresholds, so
that listpack/intset -> hashtable/skiplist/quicklist conversions happen all
the time, and OBJECT ENCODING of every key a command names is compared
after the command. Replies whose order or content is unspecified are
compared after a normalization (see NORMALIZATIONS below and
docs/differential.md). Stdlib only: raw sockets speaking RESP2.

Usage: scripts/diff-valkey.py [--seed N] [--ops N] [--families a,b]
                              [--ferrokey PATH] [--valkey PATH]
Exit status: 0 when every reply matched, 1 on any difference (the seed, the
command history and both replies are printed), 2 on a setup failure.
"""

import argparse
import os
import random
import socket
import subprocess
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import diff_valkey_families as families  # noqa: E402

THRESHOLDS = [
    ("list-max-listpack-size", "4"),
    ("hash-max-listpack-entries", "4"),
    ("hash-max-listpack-value", "16"),
    ("set-max-intset-entries", "4"),
    ("set-max-listpack-entries", "4"),
    ("set-max-listpack-value", "16"),
    ("zset-max-listpack-entries", "4"),
    ("zset-max-listpack-value", "16"),
]

FAMILIES = ["strings", "keys", "lists", "hashes", "sets", "zsets", "sort", "blocking", "geo", "bitops", "streams",
            "stream-groups", "hll", "hfe"]

# How replies are compared (the `norm` of an operation):
#   exact     byte for byte (the default).
#   sorted    an array whose order is unspecified (SMEMBERS, HKEYS, KEYS,
#             SINTER, SORT ... BY nosort of a set...): elements sorted first.
#   pairs     a flat array of pairs in unspecified order (HGETALL on a
#             hashtable): pairs sorted first.
#   count     random elements (SRANDMEMBER/HRANDFIELD/ZRANDMEMBER with a
#             count): only the reply's type and element count compared.
#   present   one random element or none (RANDOMKEY, SRANDMEMBER without
#             count, SPOP without count): only nil versus not nil compared.
#   pttl      PTTL, EXPIRETIME, PEXPIRETIME: relative expires were set a
#             few milliseconds apart on the two servers, so a positive value
#             is only compared as positive (-1 and -2 exactly).
#   scan      SCAN/SSCAN/HSCAN/ZSCAN: cursors differ by design; the cursor
#             is iterated to 0 on each server with the same options and the
#             sets of elements returned are compared (duplicates dropped).
#   ordered-if-small  HGETALL/HKEYS/HVALS: exact when the key is a listpack
#             on Valkey (a defined order clients see), else `sorted` (or
#             `pairs` for HGETALL). SMEMBERS: exact only for an intset (a
#             listpack set built by a STORE command from a hashtable source
#             has that hashtable's order, which depends on the hash seed).
# After an SPOP that removed random members, the key is re-created on both
# servers from ferrokey's remaining members, so the states stay equal.


# ---------------------------------------------------------------------------
# RESP


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, args):
        self.sock.sendall(encode(args))

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def _line(self, pos):
        while True:
            i = self.buf.find(b"\r\n", pos)
            if i >= 0:
                return i
            self._fill()

    def _parse(self, pos):
        """(value, end) of the reply starting at pos; value: bytes, int,
        None, list, or ("err", bytes) / ("status", bytes)."""
        i = self._line(pos)
        t, rest = self.buf[pos:pos + 1], self.buf[pos + 1:i]
        end = i + 2
        if t == b"+":
            return ("status", rest), end
        if t == b"-":
            return ("err", rest), end
        if t == b":":
            return int(rest), end
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None, end
            while len(self.buf) < end + n + 2:
                self._fill()
            return self.buf[end:end + n], end + n + 2
        if t in (b"*", b"~", b">", b"%", b"|"):
            n = int(rest)
            if n < 0:
                return None, end
            if t in (b"%", b"|"):
                n *= 2
            items = []
            for _ in range(n):
                v, end = self._parse(end)
                items.append(v)
            if t == b"|":
                # An attribute precedes the reply it describes.
                return self._parse(end)
            return items, end
        if t == b"_":
            return None, end
        if t in (b",", b"#", b"("):
            return (t.decode(), rest), end
        if t in (b"=", b"!"):
            n = int(rest)
            while len(self.buf) < end + n + 2:
                self._fill()
            return (t.decode(), self.buf[end:end + n]), end + n + 2
        raise ValueError("bad reply type %r in %r" % (t, self.buf[pos:pos + 80]))

    def read(self):
        """One reply: (raw bytes, parsed value)."""
        v, end = self._parse(0)
        raw, self.buf = self.buf[:end], self.buf[end:]
        return raw, v

    def call(self, *args):
        self.send(list(args))
        return self.read()[1]


# ---------------------------------------------------------------------------
# Servers


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(path, name):
    port = free_port()
    args = [path, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--loglevel", "warning",
            # Blocking timeouts are handled at least every 1/hz s: at the
            # default 10, a 10 ms timeout would take up to 100 ms.
            "--hz", "100"]
    for k, v in THRESHOLDS:
        args += ["--" + k, v]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace")
            raise SetupError("%s exited at start: %s" % (name, err[-2000:]))
        try:
            c = Conn(port)
            if c.call("PING") == ("status", b"PONG"):
                c.sock.close()
                return proc, port
        except OSError:
            pass
        time.sleep(0.02)
    proc.kill()
    raise SetupError("%s did not answer PING on port %d" % (name, port))


def valkey_path():
    tool = os.path.join(ROOT, "..", "shared", "tools", "reference-servers.sh")
    if not os.path.exists(tool):
        tool = "/work/shared/tools/reference-servers.sh"
    try:
        out = subprocess.run([tool], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SetupError("cannot run %s: %s" % (tool, e))
    for line in out.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0] == "valkey-server":
            return parts[1].strip()
    raise SetupError("reference-servers.sh printed no valkey-server path")


# ---------------------------------------------------------------------------
# Normalization


def flat_sorted(v):
    # repr as the key: nils and nested arrays (SORT ... GET) sort too.
    return sorted(v, key=repr) if isinstance(v, list) else v


def pairs_sorted(v):
    if not isinstance(v, list):
        return v
    return sorted(zip(v[0::2], v[1::2]), key=repr)


def normalize(norm, v):
    if norm == "sorted":
        return ("sorted", flat_sorted(v))
    if norm == "pairs":
        return ("pairs", pairs_sorted(v))
    if norm == "count":
        if isinstance(v, list):
            return ("count", len(v))
        return ("count", v)
    if norm == "present":
        if isinstance(v, tuple):
            return v
        return ("present", v is not None)
    if norm == "pttl":
        if isinstance(v, int) and v > 0:
            return ("pttl", "positive")
        return ("pttl", v)
    return v


class Diff(Exception):
    pass


class SetupError(Exception):
    """A server would not start, or Valkey's path is unknown (exit 2)."""


# ---------------------------------------------------------------------------
# The runner: one command on both servers, compared.


class Runner:
    def __init__(self, fk_port, vk_port, family, seed, resp=2):
        self.fk = Conn(fk_port)
        self.vk = Conn(vk_port)
        self.resp = resp
        if resp == 3:
            for c in (self.fk, self.vk):
                c.call("HELLO", "3")
        self.fk_port, self.vk_port = fk_port, vk_port
        self.family, self.seed = family, seed
        self.history = []
        self.ops = 0

    def fail(self, what, a, b):
        lines = ["DIFFERENCE in family %s, seed %d, op %d: %s" % (self.family, self.seed, self.ops, what)]
        lines.append("history (last %d of %d commands, oldest first):" % (min(60, len(self.history)), len(self.history)))
        for h in self.history[-60:]:
            lines.append("  " + " ".join(repr(x) if " " in str(x) or not str(x) else str(x) for x in h))
        lines.append("ferrokey: %r" % (a,))
        lines.append("valkey:   %r" % (b,))
        raise Diff("\n".join(lines))

    def both(self, args):
        self.history.append(args)
        self.fk.send(args)
        self.vk.send(args)
        return self.fk.read(), self.vk.read()

    def run(self, args, norm="exact", keys=()):
        (fr, fv), (vr, vv) = self.both(args)
        if norm == "exact":
            if fr != vr:
                self.fail("reply", fr, vr)
        elif norm == "scan":
            pass
        else:
            if normalize(norm, fv) != normalize(norm, vv):
                self.fail("reply (normalized: %s)" % norm, fr, vr)
        for k in keys:
            self.check_encoding(k)
        return fv, vv

    def check_encoding(self, key):
        (fr, _), (vr, _) = self.both(["OBJECT", "ENCODING", key])
        if fr != vr:
            self.fail("OBJECT ENCODING %s" % key, fr, vr)

    def encoding(self, key):
        (_, v) = self.vk.read() if False else (None, self.vk.call("OBJECT", "ENCODING", key))
        return v

    def ordered_if_small(self, args, key, pairs=False, ordered=(b"listpack", b"intset")):
        enc = self.vk.call("OBJECT", "ENCODING", key)
        if enc in ordered:
            return self.run(args, "exact", keys=[key])
        return self.run(args, "pairs" if pairs else "sorted", keys=[key])

    def scan(self, args, cursor_at, key=None):
        """Iterates a SCAN-like command to the end on each server."""
        self.history.append(args + ["(iterated to cursor 0)"])
        results = []
        for c in (self.fk, self.vk):
            seen = set()
            cursor = b"0"
            rounds = 0
            while True:
                a = list(args)
                a[cursor_at] = cursor
                c.send(a)
                raw, v = c.read()
                if not isinstance(v, list):
                    seen = ("reply", raw)
                    break
                cursor, items = v[0], v[1]
                if "HSCAN" == args[0] and "NOVALUES" not in args:
                    seen.update(zip(items[0::2], items[1::2]))
                elif "ZSCAN" == args[0] and "NOSCORES" not in args:
                    seen.update(zip(items[0::2], items[1::2]))
                else:
                    seen.update(items)
                rounds += 1
                if cursor == b"0" or rounds > 100000:
                    break
            results.append(seen if isinstance(seen, tuple) else ("set", sorted(seen)))
        if results[0] != results[1]:
            self.fail("iterated %s" % args[0], results[0], results[1])
        if key is not None:
            self.check_encoding(key)

    def resync_set(self, key):
        """Makes both servers hold ferrokey's members of `key`, after a
        random pop removed different members on each."""
        members = self.fk.call("SMEMBERS", key)
        args = ["DEL", key]
        self.both(args)
        if isinstance(members, list) and members:
            self.both(["SADD", key] + members)

    def resync_list(self, key):
        """Makes both servers hold ferrokey's list at `key` (after a SORT
        STORE whose order was unspecified)."""
        items = self.fk.call("LRANGE", key, "0", "-1")
        self.both(["DEL", key])
        if isinstance(items, list) and items:
            self.both(["RPUSH", key] + items)

    def close(self):
        for c in (self.fk, self.vk):
            try:
                c.sock.close()
            except OSError:
                pass


# ---------------------------------------------------------------------------
# Argument pools


def pick(rng, seq):
    return seq[rng.randrange(len(seq))]


VALUES = ["", "a", "b", "abc", "hello", "0", "1", "-1", "10", "42", "-7", "3.5",
          "1e3", "007", " 1", "9223372036854775807", "-9223372036854775808",
          "9223372036854775808", "x" * 20, "y" * 40, "inf", "nan", "0x10",
          "long-value-over-16", "\x00bin\xff"]
INTS = ["0", "1", "-1", "2", "3", "5", "10", "-3", "100", "-100", "x", "1.5",
        "9223372036854775807", "-9223372036854775808", "99999999999999999999"]
FLOATS = ["0", "1", "-1", "1.5", "-2.25", "3.0e2", "0.1", "1e308", "-1e308",
          "inf", "-inf", "+inf", "nan", "x", "5.0000000000000001", "1e-5"]


def val(rng):
    if rng.random() < 0.1:
        return "v%d" % rng.randrange(1000) * rng.randrange(1, 8)
    return pick(rng, VALUES)


def num(rng):
    return pick(rng, INTS) if rng.random() < 0.3 else str(rng.randrange(-20, 21))


def member(rng):
    r = rng.random()
    if r < 0.35:
        return str(rng.randrange(-5, 15))
    if r < 0.85:
        return pick(rng, "abcdefgh")
    if r < 0.95:
        return "m" + "z" * rng.randrange(10, 20)
    return pick(rng, ["", "1.0", "007", "-0", "9223372036854775808"])


def score(rng):
    r = rng.random()
    if r < 0.6:
        return str(rng.randrange(-5, 6))
    if r < 0.8:
        return pick(rng, ["1.5", "-2.5", "0.25", "3.0", "100", "-0", "1e10", "+5", "1.0e-5", "-0.0", "0.1", "123456789012345678"])
    if r < 0.95:
        return pick(rng, ["inf", "-inf", "+inf"])
    return pick(rng, ["nan", "x", "(1", ""])


def count_arg(rng):
    return pick(rng, ["0", "1", "2", "3", "5", "10", "-1", "-3", "x"])


# ---------------------------------------------------------------------------
# Families. Each op is (args, norm, keys-to-check-encoding) or a callable
# that drives the runner itself.

FUTURE = str(int(time.time()) + 100000)


def ttl_opts(rng):
    return pick(rng, [[], [], [], ["EX", "1000"], ["PX", "1000000"],
                      ["EXAT", FUTURE], ["PXAT", FUTURE + "000"], ["KEEPTTL"],
                      ["EX", "0"], ["EX", "-1"], ["EX", "x"], ["PX", "9223372036854775807"]])


def gen_strings(rng, r):
    k = pick(rng, ["s0", "s1", "s2", "s3", "l0"])
    k2 = pick(rng, ["s0", "s1", "s2", "s3"])
    c = rng.randrange(31)
    if c == 0:
        r.run(["SET", k, val(rng)] + ttl_opts(rng) + pick(rng, [[], [], ["NX"], ["XX"], ["GET"], ["NX", "GET"], ["XX", "GET"]]), keys=[k])
    elif c == 1:
        r.run(["GET", k], keys=[k])
    elif c == 2:
        r.run(["GETSET", k, val(rng)], keys=[k])
    elif c == 3:
        r.run(["GETDEL", k], keys=[k])
    elif c == 4:
        r.run(["GETEX", k] + pick(rng, [[], ["PERSIST"], ["EX", "1000"], ["PX", "1000000"], ["EXAT", FUTURE], ["EX", "0"], ["FOO"]]), keys=[k])
    elif c == 5:
        r.run(["APPEND", k, val(rng)], keys=[k])
    elif c == 6:
        r.run(["SETRANGE", k, pick(rng, ["0", "1", "3", "10", "30", "-1", "x", "536870912"]), val(rng)], keys=[k])
    elif c == 7:
        r.run(["GETRANGE", k, num(rng), num(rng)], keys=[k])
    elif c == 8:
        r.run(["STRLEN", k])
    elif c == 9:
        r.run([pick(rng, ["INCR", "DECR"]), k], keys=[k])
    elif c == 10:
        r.run([pick(rng, ["INCRBY", "DECRBY"]), k, num(rng)], keys=[k])
    elif c == 11:
        r.run(["INCRBYFLOAT", k, pick(rng, FLOATS)], keys=[k])
    elif c == 12:
        args = ["MSET"]
        for _ in range(rng.randrange(1, 4)):
            args += [pick(rng, ["s0", "s1", "s2", "s3"]), val(rng)]
        r.run(args, keys=args[1::2])
    elif c == 13:
        r.run(["MGET", k, k2, "s9", "l0"])
    elif c == 14:
        args = ["MSETNX"]
        for _ in range(rng.randrange(1, 3)):
            args += [pick(rng, ["s0", "s1", "s2", "s3", "s4"]), val(rng)]
        r.run(args, keys=args[1::2])
    elif c == 15:
        r.run(["SETNX", k, val(rng)], keys=[k])
    elif c == 16:
        r.run([pick(rng, ["SETEX", "PSETEX"]), k, pick(rng, ["1000000", "0", "-5", "x"]), val(rng)], keys=[k])
    elif c == 17:
        r.run(["LCS", k, k2] + pick(rng, [[], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"], ["IDX", "MINMATCHLEN", "2"], ["LEN", "IDX"]]))
    elif c == 18:
        r.run(["SUBSTR", k, num(rng), num(rng)])
    elif c == 19:
        r.run(["TTL", k])
    elif c == 20:
        r.run(["PTTL", k], norm="pttl")
    elif c == 21:
        r.run(["RPUSH", "l0", val(rng)], keys=["l0"])
    elif c == 22:
        r.run(["DEL", k])
    elif c == 23:
        r.run(["SET", k, pick(rng, ["12", "-3", "0", "9223372036854775806", "1.5", "x" * rng.randrange(1, 60)])], keys=[k])
    elif c == 24:
        r.run(["INCRBYFLOAT", k, pick(rng, ["0.1", "1.5", "-2", "1e2", "3"])], keys=[k])
    elif c == 25:
        r.run(["SETRANGE", k, str(rng.randrange(0, 40)), "z" * rng.randrange(0, 10)], keys=[k])
    elif c == 26:
        r.run(["APPEND", k, str(rng.randrange(0, 100))], keys=[k])
    elif c == 27:
        r.run(["EXPIRE", k, "1000"], keys=[k])
    elif c == 28 and rng.random() < 0.5:
        r.run(["SET", k, val(rng), "GET"] + ttl_opts(rng), keys=[k])
    elif c == 28:
        if rng.random() < 0.5:
            r.run(["DELIFEQ", k, val(rng)])
        else:
            r.run(["SET", k, val(rng), "IFEQ", val(rng)] + pick(rng, [[], ["GET"], ["NX"], ["XX"], ["EX", "1000"]]), keys=[k])
    elif c == 29 and rng.random() < 0.3:
        # Large values (past the 16 KiB at which ferrokey shares them with
        # replies), built in place and set whole, then edited and read.
        which = rng.randrange(6)
        if which == 0:
            r.run(["SETRANGE", k, str(rng.randrange(16000, 17000)), val(rng)], keys=[k])
        elif which == 1:
            r.run(["APPEND", k, "p" * rng.randrange(1000, 9000)], keys=[k])
        elif which == 2:
            r.run(["SET", k, "q" * rng.randrange(16380, 16390)], keys=[k])
        elif which == 3:
            r.run(["GETRANGE", k, str(rng.randrange(-20000, 20000)), str(rng.randrange(-20000, 20000))])
        elif which == 4:
            r.run(["SETRANGE", k, str(rng.randrange(0, 17000)), "r" * rng.randrange(0, 50)], keys=[k])
        else:
            r.run(["COPY", k, k2, "REPLACE"], keys=[k, k2])
    elif c == 29:
        # Around the embstr/raw boundary: whether Valkey embeds a string
        # depends on the key's length and on the expire of the key it
        # replaced, not on one added later.
        n = rng.randrange(40, 120)
        key = pick(rng, [k, k, "s" * 40])
        r.run(["SET", key, "e" * n] + pick(rng, [[], ["EX", "1000"], ["KEEPTTL"]]), keys=[key])
        if rng.random() < 0.3:
            r.run(pick(rng, [["EXPIRE", key, "1000"], ["PERSIST", key], ["GETEX", key, "EX", "500"]]), keys=[key])
    else:
        r.run(["TYPE", k])


KEYS_POOL = ["a", "b", "c", "d", "e", "{t}f", "long:key:name:here:for:raw", "k" * 40]


def gen_keys(rng, r):
    k = pick(rng, KEYS_POOL)
    k2 = pick(rng, KEYS_POOL)
    c = rng.randrange(30)
    if c == 0:
        r.run(["SET", k, val(rng)], keys=[k])
    elif c == 1:
        r.run(["RPUSH", k, member(rng), member(rng)], keys=[k])
    elif c == 2:
        r.run(["SADD", k, member(rng), member(rng)], keys=[k])
    elif c == 3:
        r.run(["HSET", k, member(rng), val(rng)], keys=[k])
    elif c == 4:
        r.run(["ZADD", k, score(rng), member(rng)], keys=[k])
    elif c == 5:
        r.run([pick(rng, ["DEL", "UNLINK"]), k] + ([k2] if rng.random() < 0.5 else []))
    elif c == 6:
        r.run(["EXISTS", k, k2, k])
    elif c == 7:
        r.run(["TYPE", k])
    elif c == 8:
        r.run(["RENAME", k, k2], keys=[k, k2])
    elif c == 9:
        r.run(["RENAMENX", k, k2], keys=[k, k2])
    elif c == 10:
        r.run(["COPY", k, k2] + pick(rng, [[], ["REPLACE"], ["DB", "0"], ["DB", "1"], ["FOO"]]), keys=[k, k2])
    elif c == 11:
        # NX/XX/GT/LT go with absolute times only (EXPIREAT below): a
        # relative expire repeated within one millisecond on one server but
        # not the other would compare equal there and greater here.
        r.run(["EXPIRE", k, pick(rng, ["1000", "2000", "500", "x", "-1", "0"] if rng.random() < 0.2 else ["1000", "2000", "500"])]
              + pick(rng, [[], [], ["NX", "XX"], ["FOO"]]), keys=[k])
    elif c == 12:
        # Relative expires all differ by minutes, so that GT/LT never
        # compare two set within the same millisecond on one server but
        # not the other.
        r.run(["PEXPIRE", k, pick(rng, ["1500000", "2500000"])])
    elif c == 13:
        if rng.random() < 0.5:
            r.run(["EXPIREAT", k, pick(rng, [FUTURE, str(int(FUTURE) + 7)])] + pick(rng, [[], ["NX"], ["XX"], ["GT"], ["LT"]]), keys=[k])
        else:
            r.run(["PEXPIREAT", k, pick(rng, [FUTURE + "000", FUTURE + "999", str(int(FUTURE) - 50000) + "000"])] + pick(rng, [[], ["NX"], ["XX"], ["GT"], ["LT"]]), keys=[k])
    elif c == 14:
        r.run(["PERSIST", k])
    elif c == 15:
        r.run(["TTL", k])
    elif c == 16:
        r.run(["PTTL", k], norm="pttl")
    elif c == 17:
        r.run([pick(rng, ["EXPIRETIME", "PEXPIRETIME"]), k], norm="pttl")
    elif c == 18:
        r.run(["TOUCH", k, k2])
    elif c == 19:
        r.run(["RANDOMKEY"], norm="present")
    elif c == 20:
        r.run(["KEYS", pick(rng, ["*", "a*", "?", "*e*", "[a-c]", "{t}*", "*:*"])], norm="sorted")
    elif c == 21:
        r.scan(["SCAN", "0"] + pick(rng, [[], ["COUNT", "2"], ["MATCH", "*a*"], ["TYPE", "string"], ["TYPE", "list"], ["COUNT", "1", "MATCH", "?"]]), 1)
    elif c == 22:
        r.run(["DBSIZE"])
    elif c == 23:
        r.run(["OBJECT", "ENCODING", k])
    elif c == 24:
        r.run(["MOVE", k, "1"], keys=[k])
        r.run(["SELECT", "1"])
        r.run(["EXISTS", k])
        r.run(["MOVE", k, "0"])
        r.run(["SELECT", "0"], keys=[k])
    elif c == 25:
        r.run(["SET", k, val(rng), "EX", "1100"], keys=[k])
    elif c == 26:
        r.run(["APPEND", k, val(rng)], keys=[k])
    elif c == 27:
        r.run(["OBJECT", pick(rng, ["REFCOUNT", "FREQ", "HELP"]), k]) if rng.random() < 0.3 else r.run(["TYPE", k2])
    elif c == 28:
        r.run(["RPUSH", k] + [member(rng) for _ in range(rng.randrange(1, 6))], keys=[k])
    else:
        r.run(["SADD", k] + [member(rng) for _ in range(rng.randrange(1, 6))], keys=[k])


def gen_lists(rng, r):
    k = pick(rng, ["L0", "L1", "L2", "S0"])
    k2 = pick(rng, ["L0", "L1", "L2"])
    c = rng.randrange(26)
    many = lambda: [member(rng) for _ in range(rng.randrange(1, 7))]
    if c in (0, 1):
        r.run([pick(rng, ["LPUSH", "RPUSH"]), k] + many(), keys=[k])
    elif c == 2:
        r.run([pick(rng, ["LPUSHX", "RPUSHX"]), k] + many(), keys=[k])
    elif c == 3:
        r.run([pick(rng, ["LPOP", "RPOP"]), k] + ([count_arg(rng)] if rng.random() < 0.5 else []), keys=[k])
    elif c == 4:
        r.run(["LLEN", k])
    elif c == 5:
        r.run(["LRANGE", k, num(rng), num(rng)])
    elif c == 6:
        r.run(["LINDEX", k, num(rng)])
    elif c == 7:
        # Indexes beyond 32 bits are left out: Valkey truncates LSET's
        # index to an int (LSET k 4294967296 v sets element 0); see
        # docs/differential.md.
        r.run(["LSET", k, pick(rng, ["0", "1", "-1", "2", "-3", "5", "x", "2147483647", "-2147483648"]), member(rng)], keys=[k])
    elif c == 8:
        r.run(["LINSERT", k, pick(rng, ["BEFORE", "AFTER", "MIDDLE"]), member(rng), member(rng)], keys=[k])
    elif c == 9:
        r.run(["LREM", k, pick(rng, ["0", "1", "-1", "2", "-2", "x"]), member(rng)], keys=[k])
    elif c == 10:
        r.run(["LTRIM", k, num(rng), num(rng)], keys=[k])
    elif c == 11:
        opts = []
        for o in ("RANK", "COUNT", "MAXLEN"):
            if rng.random() < 0.4:
                opts += [o, pick(rng, ["0", "1", "2", "-1", "-2", "x"])]
        r.run(["LPOS", k, member(rng)] + opts)
    elif c == 12:
        r.run(["LMOVE", k, k2, pick(rng, ["LEFT", "RIGHT", "UP"]), pick(rng, ["LEFT", "RIGHT"])], keys=[k, k2])
    elif c == 13:
        r.run(["RPOPLPUSH", k, k2], keys=[k, k2])
    elif c == 14:
        r.run(["LMPOP", pick(rng, ["1", "2", "0", "x"]), k, k2, pick(rng, ["LEFT", "RIGHT", "BOTH"])]
              + pick(rng, [[], ["COUNT", "2"], ["COUNT", "0"], ["COUNT", "10"]]), keys=[k, k2])
    elif c == 15:
        r.run(["SET", "S0", val(rng)])
    elif c == 16:
        r.run(["RPUSH", k, "x" * rng.randrange(10, 80)], keys=[k])
    elif c == 17:
        r.run(["DEL", k])
    elif c == 18:
        r.run(["LPUSH", k] + [str(rng.randrange(100)) for _ in range(rng.randrange(5, 20))], keys=[k])
    elif c == 19:
        r.run(["LRANGE", k, "0", "-1"])
    elif c == 20:
        r.run(["LINSERT", k, "BEFORE", pick(rng, ["a", "b", "1", "2"]), "x" * rng.randrange(1, 70)], keys=[k])
    elif c == 21:
        r.run(["LSET", k, str(rng.randrange(-5, 5)), "y" * rng.randrange(1, 70)], keys=[k])
    elif c == 22:
        r.run(["LTRIM", k, str(rng.randrange(0, 3)), str(rng.randrange(-3, 10))], keys=[k])
    elif c == 23:
        r.run(["LPOP", k, str(rng.randrange(1, 8))], keys=[k])
    elif c == 24:
        r.run(["OBJECT", "ENCODING", k])
    else:
        r.run(["TYPE", k])


def gen_hashes(rng, r):
    k = pick(rng, ["H0", "H1", "H2", "S0"])
    c = rng.randrange(24)
    f = member(rng)
    if c in (0, 1):
        args = ["HSET", k]
        for _ in range(rng.randrange(1, 4)):
            args += [member(rng), val(rng)]
        r.run(args, keys=[k])
    elif c == 2:
        r.run(["HSETNX", k, f, val(rng)], keys=[k])
    elif c == 3:
        r.run(["HGET", k, f])
    elif c == 4:
        r.run(["HMGET", k, f, member(rng), member(rng)])
    elif c == 5:
        r.run(["HDEL", k, f] + ([member(rng)] if rng.random() < 0.5 else []), keys=[k])
    elif c == 6:
        r.run(["HLEN", k])
    elif c == 7:
        r.run(["HSTRLEN", k, f])
    elif c == 8:
        r.run(["HEXISTS", k, f])
    elif c == 9:
        r.run(["HINCRBY", k, f, num(rng)], keys=[k])
    elif c == 10:
        r.run(["HINCRBYFLOAT", k, f, pick(rng, FLOATS)], keys=[k])
    elif c == 11:
        r.ordered_if_small(["HKEYS", k], k)
    elif c == 12:
        r.ordered_if_small(["HVALS", k], k)
    elif c == 13:
        r.ordered_if_small(["HGETALL", k], k, pairs=True)
    elif c == 14:
        r.run(["HRANDFIELD", k], norm="present")
    elif c == 15:
        args = ["HRANDFIELD", k, count_arg(rng)]
        if rng.random() < 0.4:
            args.append("WITHVALUES")
        r.run(args, norm="count")
    elif c == 16:
        r.scan(["HSCAN", k, "0"] + pick(rng, [[], ["COUNT", "2"], ["MATCH", "*a*"], ["NOVALUES"]]), 2, key=k)
    elif c == 17:
        args = ["HMSET", k]
        for _ in range(rng.randrange(1, 3)):
            args += [member(rng), val(rng)]
        r.run(args, keys=[k])
    elif c == 18:
        r.run(["HSET", k, f, "v" * rng.randrange(1, 40)], keys=[k])
    elif c == 19:
        r.run(["DEL", k])
    elif c == 20:
        r.run(["SET", "S0", "x"])
    elif c == 21:
        r.run(["HINCRBY", k, f, str(rng.randrange(-3, 4))], keys=[k])
    elif c == 22:
        r.run(["HSET", k, "f" * rng.randrange(1, 30), "1"], keys=[k])
    else:
        r.run(["TYPE", k])


def gen_sets(rng, r):
    k = pick(rng, ["T0", "T1", "T2", "S0"])
    k2 = pick(rng, ["T0", "T1", "T2", "T3"])
    c = rng.randrange(26)
    many = lambda: [member(rng) for _ in range(rng.randrange(1, 6))]
    if c in (0, 1, 2):
        r.run(["SADD", k] + many(), keys=[k])
    elif c == 3:
        r.run(["SREM", k] + many(), keys=[k])
    elif c == 4:
        r.run(["SISMEMBER", k, member(rng)])
    elif c == 5:
        r.run(["SMISMEMBER", k] + many())
    elif c == 6:
        r.run(["SCARD", k])
    elif c == 7:
        # A listpack set's order is the order its members were added in,
        # which after SINTERSTORE/SUNIONSTORE/SDIFFSTORE from a hashtable
        # source is that hashtable's iteration order (Valkey's hash seed is
        # random): only intsets (sorted) are compared in order.
        r.ordered_if_small(["SMEMBERS", k], k, ordered=(b"intset",))
    elif c == 8:
        card = r.fk.call("SCARD", k)
        cnt = pick(rng, [None, "1", "2", "3", "0", "100", "-1"])
        if cnt is None:
            r.run(["SPOP", k], norm="present", keys=[k])
            r.resync_set(k)
        elif isinstance(card, int) and cnt.lstrip("-").isdigit() and int(cnt) >= card:
            r.run(["SPOP", k, cnt], norm="sorted", keys=[k])
        else:
            r.run(["SPOP", k, cnt], norm="count", keys=[k])
            r.resync_set(k)
    elif c == 9:
        r.run(["SRANDMEMBER", k], norm="present")
    elif c == 10:
        r.run(["SRANDMEMBER", k, count_arg(rng)], norm="count")
    elif c == 11:
        r.run(["SMOVE", k, k2, member(rng)], keys=[k, k2])
    elif c == 12:
        r.run([pick(rng, ["SINTER", "SUNION", "SDIFF"]), k, k2] + ([pick(rng, ["T3", "T0"])] if rng.random() < 0.5 else []), norm="sorted")
    elif c == 13:
        r.run([pick(rng, ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), pick(rng, ["T3", "T0", "S0"]), k, k2], keys=["T3", "T0"])
    elif c == 14:
        r.run(["SINTERCARD", pick(rng, ["2", "1", "0", "3"]), k, k2] + pick(rng, [[], ["LIMIT", "1"], ["LIMIT", "0"], ["LIMIT", "-1"]]))
    elif c == 15:
        r.scan(["SSCAN", k, "0"] + pick(rng, [[], ["COUNT", "2"], ["MATCH", "*1*"]]), 2, key=k)
    elif c == 16:
        r.run(["SADD", k] + [str(rng.randrange(-10, 30)) for _ in range(rng.randrange(1, 8))], keys=[k])
    elif c == 17:
        r.run(["DEL", k])
    elif c == 18:
        r.run(["SET", "S0", "x"])
    elif c == 19:
        r.run(["SADD", k, "q" * rng.randrange(5, 30)], keys=[k])
    elif c == 20:
        r.run(["SINTERSTORE", "T3", k], keys=["T3"])
    elif c == 21:
        r.run(["SUNIONSTORE", "T3", k, k2], keys=["T3"])
    elif c == 22:
        r.run(["SMEMBERS", k], norm="sorted")
    elif c == 23:
        r.run(["SREM", k, str(rng.randrange(-10, 30))], keys=[k])
    else:
        r.run(["TYPE", k])


def gen_zsets(rng, r):
    k = pick(rng, ["Z0", "Z1", "Z2", "S0"])
    k2 = pick(rng, ["Z0", "Z1", "Z2", "Z3", "T0"])
    c = rng.randrange(34)
    lex = lambda: pick(rng, ["-", "+", "[a", "(a", "[c", "(d", "[", "(", "a", "[z", "[1"])
    sc = lambda: pick(rng, ["-inf", "+inf", "0", "1", "(1", "-2", "(3", "2.5", "x", "(inf", "5"])
    if c in (0, 1, 2):
        args = ["ZADD", k] + pick(rng, [[], [], [], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["INCR"], ["GT", "CH"], ["NX", "XX"], ["LT", "NX"]])
        for _ in range(rng.randrange(1, 4)):
            args += [score(rng), member(rng)]
        r.run(args, keys=[k])
    elif c == 3:
        r.run(["ZINCRBY", k, score(rng), member(rng)], keys=[k])
    elif c == 4:
        r.run(["ZREM", k, member(rng), member(rng)], keys=[k])
    elif c == 5:
        r.run(["ZCARD", k])
    elif c == 6:
        r.run(["ZSCORE", k, member(rng)])
    elif c == 7:
        r.run(["ZMSCORE", k, member(rng), member(rng)])
    elif c == 8:
        r.run([pick(rng, ["ZRANK", "ZREVRANK"]), k, member(rng)] + (["WITHSCORE"] if rng.random() < 0.3 else []))
    elif c == 9:
        r.run(["ZRANGE", k, num(rng), num(rng)] + pick(rng, [[], ["WITHSCORES"], ["REV"], ["REV", "WITHSCORES"]]))
    elif c == 10:
        r.run(["ZRANGE", k, sc(), sc(), "BYSCORE"] + pick(rng, [[], ["REV"], ["LIMIT", "1", "2"], ["WITHSCORES"], ["LIMIT", "0", "-1", "WITHSCORES"]]))
    elif c == 11:
        r.run(["ZRANGE", "ZL", lex(), lex(), "BYLEX"] + pick(rng, [[], ["REV"], ["LIMIT", "1", "2"], ["WITHSCORES"]]))
    elif c == 12:
        r.run([pick(rng, ["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), k, sc(), sc()] + pick(rng, [[], ["WITHSCORES"], ["LIMIT", "0", "2"]]))
    elif c == 13:
        r.run([pick(rng, ["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), "ZL", lex(), lex()] + pick(rng, [[], ["LIMIT", "1", "1"]]))
    elif c == 14:
        r.run(["ZCOUNT", k, sc(), sc()])
    elif c == 15:
        r.run(["ZLEXCOUNT", "ZL", lex(), lex()])
    elif c == 16:
        which = rng.randrange(3)
        if which == 0:
            r.run(["ZREMRANGEBYRANK", k, num(rng), num(rng)], keys=[k])
        elif which == 1:
            r.run(["ZREMRANGEBYSCORE", k, sc(), sc()], keys=[k])
        else:
            r.run(["ZREMRANGEBYLEX", "ZL", lex(), lex()], keys=["ZL"])
    elif c == 17:
        r.run([pick(rng, ["ZPOPMIN", "ZPOPMAX"]), k] + ([count_arg(rng)] if rng.random() < 0.5 else []), keys=[k])
    elif c == 18:
        r.run(["ZMPOP", pick(rng, ["1", "2", "0"]), k, k2, pick(rng, ["MIN", "MAX", "MID"])] + pick(rng, [[], ["COUNT", "2"], ["COUNT", "0"]]), keys=[k, k2])
    elif c == 19:
        r.run(["ZRANDMEMBER", k], norm="present")
    elif c == 20:
        r.run(["ZRANDMEMBER", k, count_arg(rng)] + (["WITHSCORES"] if rng.random() < 0.4 else []), norm="count")
    elif c in (21, 22):
        op = pick(rng, ["ZUNION", "ZINTER", "ZDIFF"])
        n = pick(rng, ["2", "2", "3", "1", "0"])
        keys = [k, k2, pick(rng, ["Z3", "T0", "Z0"])][: max(1, int(n))]
        opts = []
        if op != "ZDIFF" or rng.random() < 0.1:
            if rng.random() < 0.5:
                opts += ["WEIGHTS"] + [pick(rng, ["1", "2", "0", "-1", "inf", "-inf", "0.5", "x"]) for _ in keys]
            if rng.random() < 0.5:
                opts += ["AGGREGATE", pick(rng, ["SUM", "MIN", "MAX", "AVG"])]
        if rng.random() < 0.5:
            r.run([op, n] + keys + opts + (["WITHSCORES"] if rng.random() < 0.6 else []))
        else:
            dst = pick(rng, ["Z3", "Z0", "S0"])
            r.run([op + "STORE", dst, n] + keys + opts, keys=[dst])
    elif c == 23:
        r.run(["ZINTERCARD", pick(rng, ["1", "2", "0"]), k, k2] + pick(rng, [[], ["LIMIT", "1"], ["LIMIT", "-1"]]))
    elif c == 24:
        r.run(["ZRANGESTORE", pick(rng, ["Z3", "Z1"]), k, num(rng), num(rng)] + pick(rng, [[], ["REV"]]), keys=["Z3", "Z1"])
    elif c == 25:
        r.scan(["ZSCAN", k, "0"] + pick(rng, [[], ["COUNT", "2"], ["MATCH", "*a*"], ["NOSCORES"]]), 2, key=k)
    elif c == 26:
        r.run(["ZADD", k, str(rng.randrange(-5, 6)), "w" * rng.randrange(5, 30)], keys=[k])
    elif c == 27:
        r.run(["DEL", k])
    elif c == 28:
        r.run(["SADD", "T0", member(rng), member(rng)], keys=["T0"])
    elif c == 29:
        args = ["ZADD", k]
        for _ in range(rng.randrange(3, 8)):
            args += [str(rng.randrange(-3, 4)), member(rng)]
        r.run(args, keys=[k])
    elif c == 30:
        r.run(["ZRANGE", k, "0", "-1", "WITHSCORES"])
    elif c == 31:
        r.run(["SET", "S0", "x"])
    elif c == 32 and rng.random() < 0.5:
        # Lex ranges are only specified when all scores are equal (the
        # result is unspecified otherwise), so they run on ZL, whose
        # members all score 0.
        r.run(["ZADD", "ZL"] + sum([["0", member(rng)] for _ in range(rng.randrange(1, 4))], []), keys=["ZL"])
    elif c == 32:
        r.run(["ZADD", k, "INCR", pick(rng, ["inf", "-inf", "1", "nan"]), member(rng)], keys=[k])
    else:
        r.run(["TYPE", k])


def gen_sort(rng, r):
    src = pick(rng, ["SL", "SS", "SZ", "SN", "SX"])
    c = rng.randrange(12)
    if c == 0:
        r.run(["RPUSH", "SL"] + [pick(rng, [str(rng.randrange(-20, 20)), "1.5", "a", "b", "10", "-0", "3e1", "zz"]) for _ in range(rng.randrange(1, 5))], keys=["SL"])
    elif c == 1:
        r.run(["SADD", "SS"] + [str(rng.randrange(-20, 20)) if rng.random() < 0.7 else pick(rng, "abcde") for _ in range(rng.randrange(1, 5))], keys=["SS"])
    elif c == 2:
        r.run(["ZADD", "SZ", score(rng) if rng.random() < 0.3 else str(rng.randrange(5)), member(rng)], keys=["SZ"])
    elif c == 3:
        r.run(["SET", "w_" + member(rng), pick(rng, ["1", "2", "-1", "0.5", "x", "10", "3"])])
    elif c == 4:
        r.run(["HSET", "h_" + member(rng), pick(rng, ["f", "g"]), pick(rng, ["1", "2", "x", "9", "-4"])])
    elif c == 5:
        r.run(["RPUSH", "SN", "3", "1", "2"]) if rng.random() < 0.5 else r.run(["DEL", pick(rng, ["SL", "SS", "SZ", "SN"])])
    else:
        args = ["SORT" if rng.random() < 0.8 else "SORT_RO", src]
        by = None
        if rng.random() < 0.4:
            by = pick(rng, ["w_*", "h_*->f", "nosort", "missing_*", "w_*->f", "h_*->g"])
            args += ["BY", by]
        if rng.random() < 0.3:
            args += ["LIMIT", pick(rng, ["0", "1", "-1", "2"]), pick(rng, ["2", "0", "-1", "10"])]
        for _ in range(rng.randrange(0, 3) if rng.random() < 0.4 else 0):
            args += ["GET", pick(rng, ["#", "w_*", "h_*->f", "h_*->g", "nokey_*"])]
        if rng.random() < 0.3:
            args.append(pick(rng, ["ASC", "DESC"]))
        if rng.random() < 0.4:
            args.append("ALPHA")
        store = args[0] == "SORT" and rng.random() < 0.25
        if store:
            args += ["STORE", pick(rng, ["DST", "SL"])]
        # BY nosort leaves a set's order unspecified (Valkey only forces an
        # order when storing), so such replies are compared sorted, and a
        # LIMIT over them is left out (which members fall in it is
        # unspecified too).
        unordered = by == "nosort" and src in ("SS",) and not store
        if unordered and "LIMIT" in args:
            i = args.index("LIMIT")
            del args[i:i + 3]
        norm = "sorted" if unordered else "exact"
        # ALPHA with a BY pattern: elements whose weights tie (equal, or
        # both missing) compare equal in Valkey's sortCompare, which leaves
        # their order to its (unstable) quicksort. Numeric ties fall back to
        # comparing the elements, so those stay exact.
        if "ALPHA" in args and by not in (None, "nosort"):
            norm = "count" if "LIMIT" in args else "sorted"
        r.run(args, norm=norm, keys=(["DST", "SL"] if store else []))
        if store:
            r.run(["LRANGE", args[-1], "0", "-1"], norm=norm)
            if norm != "exact":
                r.resync_list(args[-1])


def blocked_count(conn):
    info = conn.call("INFO", "clients")
    if isinstance(info, tuple):  # RESP3 verbatim string
        info = info[1]
    if isinstance(info, bytes):
        for line in info.split(b"\r\n"):
            if line.startswith(b"blocked_clients:"):
                return int(line.split(b":")[1])
    return -1


def gen_blocking(rng, r):
    """A client blocks while another one writes; or blocks and times out."""
    keys = ["BL0", "BL1", "BZ0"]
    c = rng.randrange(10)
    if c < 3:
        # Feed the keys (so some blocking commands are served at once).
        which = rng.randrange(3)
        if which == 0:
            r.run([pick(rng, ["RPUSH", "LPUSH"]), pick(rng, ["BL0", "BL1"])] + [member(rng) for _ in range(rng.randrange(1, 3))], keys=["BL0", "BL1"])
        elif which == 1:
            r.run(["ZADD", "BZ0", str(rng.randrange(10)), member(rng)], keys=["BZ0"])
        else:
            r.run(["DEL", pick(rng, keys)])
        return
    lst = [pick(rng, ["BL0", "BL1"])]
    blk = pick(rng, [
        ["BLPOP", lst[0], "BL1", "T"],
        ["BRPOP", lst[0], "T"],
        ["BLMOVE", lst[0], "BL1", pick(rng, ["LEFT", "RIGHT"]), pick(rng, ["LEFT", "RIGHT"]), "T"],
        ["BRPOPLPUSH", lst[0], "BL0", "T"],
        ["BLMPOP", "T", "2", "BL0", "BL1", pick(rng, ["LEFT", "RIGHT"])] + pick(rng, [[], ["COUNT", "2"]]),
        ["BZPOPMIN", "BZ0", "T"],
        ["BZPOPMAX", "BZ0", "T"],
        ["BZMPOP", "T", "1", "BZ0", pick(rng, ["MIN", "MAX"])] + pick(rng, [[], ["COUNT", "3"]]),
    ])
    if c < 6:
        # Short timeout: served at once or a nil after 10 ms.
        args = [("0.01" if a == "T" else a) for a in blk]
        r.run(args, keys=keys)
        return
    # Blocks (timeout 5 s) until another client pushes.
    args = [("5" if a == "T" else a) for a in blk]
    zset = args[0].startswith("BZ")
    if zset:
        push = ["ZADD", "BZ0", str(rng.randrange(10)), member(rng)]
    else:
        # A key the command waits on (not BLMOVE's destination), so that
        # the push serves it rather than leaving it to its timeout.
        if args[0] in ("BLMOVE", "BRPOPLPUSH", "BRPOP"):
            waited = [args[1]]
        else:
            waited = [a for a in args if a in ("BL0", "BL1")]
        target = pick(rng, waited)
        push = [pick(rng, ["RPUSH", "LPUSH"]), target] + [member(rng) for _ in range(rng.randrange(1, 3))]
    r.history.append(args + ["(on a second connection, then:)"])
    r.history.append(push)
    replies = []
    for port, main in ((r.fk_port, r.fk), (r.vk_port, r.vk)):
        before = blocked_count(main)
        b = Conn(port)
        if r.resp == 3:
            b.call("HELLO", "3")
        try:
            b.send(args)
            deadline = time.time() + 5
            served = None
            # Either it blocked (blocked_clients grows) or it was served.
            while time.time() < deadline:
                if blocked_count(main) > before:
                    break
                b.sock.setblocking(False)
                try:
                    chunk = b.sock.recv(1 << 16)
                    if chunk:
                        b.buf += chunk
                        served = True
                        break
                except BlockingIOError:
                    pass
                finally:
                    b.sock.setblocking(True)
                time.sleep(0.001)
            main.send(push)
            pushed = main.read()[0]
            got = b.read()[0]
            replies.append((got, pushed, bool(served)))
        finally:
            b.sock.close()
    if replies[0] != replies[1]:
        r.fail("blocked client's reply, then the pusher's", replies[0], replies[1])
    for k in keys:
        r.check_encoding(k)


families.B = types.SimpleNamespace(Conn=Conn, FUTURE=FUTURE, count_arg=count_arg, pick=pick, val=val)

GENERATORS = {
    "strings": gen_strings,
    "keys": gen_keys,
    "lists": gen_lists,
    "hashes": gen_hashes,
    "sets": gen_sets,
    "zsets": gen_zsets,
    "sort": gen_sort,
    "blocking": gen_blocking,
    "geo": families.gen_geo,
    "bitops": families.gen_bitops,
    "streams": families.gen_streams,
    "stream-groups": families.gen_stream_groups,
    "hll": families.gen_hll,
    "hfe": families.gen_hfe,
}


def run_family(family, seed, ops, fk_port, vk_port, resp=2):
    # The family name is part of the stream's seed, so one family can be
    # rerun alone with the same seed and get the same commands.
    rng = random.Random("%d/%s" % (seed, family))
    r = Runner(fk_port, vk_port, family, seed, resp)
    try:
        r.both(["FLUSHALL"])
        r.history.clear()
        gen = GENERATORS[family]
        for i in range(ops):
            r.ops = i
            gen(rng, r)
        return None
    except Diff as d:
        return str(d)
    except (OSError, ValueError) as e:
        # A server closed the connection or sent something unparsable.
        try:
            r.fail("connection error: %s" % e, "", "")
        except Diff as d:
            return str(d)
    finally:
        r.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: time-based, printed)")
    ap.add_argument("--ops", type=int, default=2000, help="operations per family")
    ap.add_argument("--families", default=",".join(FAMILIES), help="comma-separated, of: " + ",".join(FAMILIES))
    ap.add_argument("--ferrokey", default=os.path.join(ROOT, "target", "release", "ferrokey-server"))
    ap.add_argument("--valkey", default=None, help="valkey-server path (default: from reference-servers.sh)")
    ap.add_argument("--resp3", action="store_true", help="speak RESP3 (HELLO 3) on every connection")
    ap.add_argument("binary", nargs="?", help="ferrokey binary (same as --ferrokey)")
    a = ap.parse_args()
    fk_bin = a.binary or a.ferrokey
    seed = a.seed if a.seed is not None else int(time.time() * 1000) % 1000000007
    fams = [f.strip() for f in a.families.split(",") if f.strip()]
    for f in fams:
        if f not in GENERATORS:
            print("unknown family %r (known: %s)" % (f, ", ".join(FAMILIES)), file=sys.stderr)
            return 2
    if not os.access(fk_bin, os.X_OK):
        print("no ferrokey binary at %s (cargo build --release)" % fk_bin, file=sys.stderr)
        return 2
    procs = []
    try:
        vk_bin = a.valkey or valkey_path()
        fk_proc, fk_port = start(fk_bin, "ferrokey")
        procs.append(fk_proc)
        vk_proc, vk_port = start(vk_bin, "valkey")
        procs.append(vk_proc)
        print("diff-valkey: seed %d, %d ops per family, ferrokey :%d, valkey :%d" % (seed, a.ops, fk_port, vk_port))
        failed = 0
        for f in fams:
            t0 = time.time()
            err = run_family(f, seed, a.ops, fk_port, vk_port, 3 if a.resp3 else 2)
            if err:
                failed += 1
                print(err)
                print("FAIL %s (rerun: %s --seed %d --ops %d --families %s%s)" % (f, sys.argv[0], seed, a.ops, f, " --resp3" if a.resp3 else ""))
            else:
                print("ok   %-8s %d ops in %.1f s" % (f, a.ops, time.time() - t0))
            for p, name in ((fk_proc, "ferrokey"), (vk_proc, "valkey")):
                if p.poll() is not None:
                    print("%s exited (status %s)" % (name, p.returncode))
                    return 1
        print("diff-valkey: %d of %d families differ (seed %d)" % (failed, len(fams), seed))
        return 1 if failed else 0
    except SetupError as e:
        print("diff-valkey: setup failed: %s" % e, file=sys.stderr)
        return 2
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    sys.exit(main())
