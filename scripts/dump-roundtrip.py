#!/usr/bin/env python3
"""DUMP/RESTORE round trips between ferrokey and reference servers.

Fills the same keys (every type and encoding, some with TTLs) in ferrokey
and in a reference server (Valkey 9.1, Redis 7.0), then:
  forward: DUMP each key on the reference, RESTORE it on ferrokey under
           KEY:r, compare TYPE, OBJECT ENCODING and contents with the key
           ferrokey built itself from the same commands, and the payload
           bodies (footer aside) where the encoding is deterministic;
  reverse: DUMP each key on ferrokey, RESTORE it on the reference, compare
           the same way there.
Prints one line per failure and a summary per direction; exit 1 on any
failure (a refusal the reference is known to make is reported, not failed).

Usage: scripts/dump-roundtrip.py FERROKEY_PORT REF_PORT [REF_NAME]
       scripts/dump-roundtrip.py --capture REF_PORT  (rewrites the fixture
       tests/data/valkey-dump-payloads.txt from a Valkey 9.1, which
       tests/dump.rs restores without a reference server)
"""
import random
import socket
import sys


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def __call__(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return self.read()

    def read(self):
        line = self.f.readline()[:-2]
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return Exception(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)


def fill(c):
    rnd = random.Random(42)
    c("FLUSHALL")
    c("SET", "str:int", "12345")
    c("SET", "str:neg", "-7")
    c("SET", "str:bigint", "123456789012345")
    c("SET", "str:embstr", "hello world")
    c("SET", "str:zeros", "00012")
    c("SET", "str:compressible", "abc" * 200)
    c("SET", "str:random", bytes(rnd.randrange(256) for _ in range(300)))
    c("SET", "str:large", ("0123456789" * 1700))
    c("SET", "str:binary", b"\x00\r\n\xff" * 9)
    c("SET", "str:ttl", "v", "PX", 500000)
    c("APPEND", "str:appended", "12")
    c("RPUSH", "list:listpack", "a", "b", "1", "-2", "300000", "x" * 60)
    c("RPUSH", "list:quicklist", *["element-%d" % i for i in range(1200)])
    c("RPUSH", "list:ints", *[str(i * 997) for i in range(200)])
    c("RPUSH", "list:plain", "small", "L" * 10000, "small2")
    c("RPUSH", "list:ttl", "a")
    c("PEXPIRE", "list:ttl", 900000)
    c("SADD", "set:intset", *[str(i) for i in range(100)])
    c("SADD", "set:intset64", "1", "-9000000000", "9000000000")
    c("SADD", "set:listpack", "a", "b", "c", "1")
    c("SADD", "set:hashtable", *["m%d" % i for i in range(300)])
    c("SADD", "set:bigints", *[str(i) for i in range(600)])
    c("SADD", "set:longmember", "y" * 100)
    c("HSET", "hash:listpack", "f1", "v1", "f2", "22", "f3", "")
    c("HSET", "hash:hashtable", *sum((["f%d" % i, "v%d" % i] for i in range(600)), []))
    c("HSET", "hash:longvalue", "f", "z" * 100)
    c("ZADD", "zset:listpack", "1", "a", "2.5", "b", "-3", "c", "0.1", "d", "1e300", "e")
    c("ZADD", "zset:inf", "inf", "up", "-inf", "down", "0", "zero")
    c("ZADD", "zset:skiplist", *sum(([str(i / 7), "m%d" % i] for i in range(300)), []))
    c("ZADD", "zset:longmember", "1", "w" * 100)
    keys = sorted(k.decode() for k in c("KEYS", "*"))
    return keys


def contents(c, k):
    t = c("TYPE", k)
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
        v = c("ZRANGE", k, 0, -1, "WITHSCORES")
    else:
        v = None
    return t, c("OBJECT", "ENCODING", k).decode(), v


# Encodings whose serialization is the same bytes on every server.
DETERMINISTIC = {"int", "embstr", "raw", "listpack", "intset", "quicklist", "skiplist"}


def run(src, dst, src_name, dst_name, keys):
    ok = fail = refused = 0
    for k in keys:
        payload = src("DUMP", k)
        pttl = src("PTTL", k)
        ttl = max(pttl, 0)
        r = dst("RESTORE", k + ":r", ttl, payload, "REPLACE")
        if isinstance(r, Exception):
            msg = str(r)
            version = payload[-10] | payload[-9] << 8
            if "version" in msg and dst_name.startswith("redis-7.0") and version > 10:
                # Redis 7.0 reads RDB 10 at most (it refuses Valkey's own
                # payloads, version 80, the same way).
                refused += 1
            else:
                print("  %s -> %s %s: RESTORE failed: %s" % (src_name, dst_name, k, msg))
                fail += 1
            continue
        want = contents(dst, k)
        got = contents(dst, k + ":r")
        problems = []
        if got != want:
            problems.append("value/encoding differ: restored %r native %r" % (
                got[:2], want[:2]) if got[:2] != want[:2] else "contents differ")
        if ttl and dst("PTTL", k + ":r") <= 0:
            problems.append("TTL lost")
        # Bodies are compared between Valkey and ferrokey, for encodings
        # serialized the same everywhere (not a hashtable's bucket order),
        # when the key's native encodings agree on both sides.
        src_native = contents(src, k)
        if ("valkey" in src_name + dst_name and src_native[1] == want[1]
                and want[1] in DETERMINISTIC):
            back = dst("DUMP", k + ":r")
            if back[:-10] != payload[:-10]:
                problems.append("payload bodies differ")
        if problems:
            fail += 1
            print("  %s -> %s %s: %s" % (src_name, dst_name, k, "; ".join(problems)))
        else:
            ok += 1
    print("%s -> %s: %d ok, %d failed, %d refused by version" % (
        src_name, dst_name, ok, fail, refused))
    return fail


def read_command(c, k):
    """A command whose reply shows the whole value in a fixed order."""
    t = c("TYPE", k)
    if t == "string":
        return ["GET", k]
    if t == "list":
        return ["LRANGE", k, "0", "-1"]
    if t == "set":
        return ["SORT", k, "ALPHA"]
    if t == "hash":
        return ["HMGET", k] + sorted(f.decode() for f in c("HKEYS", k))
    return ["ZRANGE", k, "0", "-1", "WITHSCORES"]


def raw_reply(c, args):
    """The reply to `args`, as the bytes on the wire."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    c.s.sendall(b"".join(out))
    buf = bytearray()

    def one():
        line = c.f.readline()
        buf.extend(line)
        t, n = line[:1], line[1:-2]
        if t == b"$" and int(n) >= 0:
            buf.extend(c.f.read(int(n) + 2))
        elif t == b"*":
            for _ in range(int(n)):
                one()
    one()
    return bytes(buf)


def capture(port):
    ref = Conn(port)
    keys = fill(ref)
    lines = ["# key, DUMP payload, read command, its reply, OBJECT ENCODING, whether a",
             "# re-DUMP must give the same body; written by scripts/dump-roundtrip.py",
             "# --capture from Valkey 9.1, read by tests/dump.rs. Fields are hex, tab-separated."]
    for k in keys:
        if ref("PTTL", k) > 0:
            continue
        payload = ref("DUMP", k)
        cmd = read_command(ref, k)
        enc = ref("OBJECT", "ENCODING", k).decode()
        same = enc in DETERMINISTIC and ref("TYPE", k) != "hash" or enc == "listpack"
        fields = [k.encode(), payload, " ".join(cmd).encode(), raw_reply(ref, cmd),
                  enc.encode(), b"1" if same else b"0"]
        lines.append("\t".join(f.hex() for f in fields))
    with open("tests/data/valkey-dump-payloads.txt", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("captured %d payloads" % (len(lines) - 3))


def main():
    if sys.argv[1] == "--capture":
        capture(int(sys.argv[2]))
        return
    fk = Conn(int(sys.argv[1]))
    ref = Conn(int(sys.argv[2]))
    name = sys.argv[3] if len(sys.argv) > 3 else "reference"
    keys = fill(fk)
    keys_ref = fill(ref)
    assert keys == keys_ref, (keys, keys_ref)
    fails = run(ref, fk, name, "ferrokey", keys)
    fails += run(fk, ref, "ferrokey", name, keys)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
