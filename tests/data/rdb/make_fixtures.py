#!/usr/bin/env python3
"""Makes the RDB fixtures of tests/rdb_load.rs with the reference servers.

    python3 tests/data/rdb/make_fixtures.py VALKEY_SERVER REDIS_SERVER [PORT]

For each server: fills it with every type in every encoding (small and
large values, a quicklist with plain and LZF-compressed nodes, TTLs, an
already expired key, several dbs), SAVEs, and keeps the file as
<name>.rdb. Then Valkey 9.1 loads that file and its view of every key
(type, encoding, expire time, contents) is written to <name>.expected: what
ferrokey must show after loading the same file.
"""
import os, shutil, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline()[:-2]
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            d = self.f.read(n + 2)[:-2]
            return d
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)


def start(server, d, port, *extra):
    p = subprocess.Popen([server, "--port", str(port), "--save", "", "--appendonly", "no",
                          "--dir", d, "--enable-debug-command", "yes", *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            c = Conn(port)
            if c.cmd("PING") == b"PONG":
                return p, c
        except (OSError, RuntimeError):
            pass
        time.sleep(0.05)
    raise RuntimeError("server did not start")


FAR = 4102444800000  # 2100-01-01, in ms


def fill(c, valkey):
    c.cmd("SELECT", 0)
    c.cmd("SET", "str:small", "hello")
    c.cmd("SET", "str:int", "12345")
    c.cmd("SET", "str:neg", "-7")
    c.cmd("SET", "str:bigint", "9223372036854775807")
    c.cmd("SET", "str:compressible", "a" * 100)
    c.cmd("SET", "str:raw", "".join(chr(33 + (i * 7) % 90) for i in range(60)))
    c.cmd("SET", "str:binary", bytes(range(256)))
    c.cmd("SET", "str:empty", "")
    c.cmd("RPUSH", "list:small", "a", "b", "1", "2", "-3", "4294967296")
    c.cmd("RPUSH", "list:big", *["element-%d" % i for i in range(1000)])
    c.cmd("CONFIG", "SET", "list-compress-depth", "1")
    c.cmd("RPUSH", "list:compressed", *["compress-me-%d" % (i % 10) for i in range(3000)])
    c.cmd("CONFIG", "SET", "list-compress-depth", "0")
    try:
        c.cmd("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100")
        c.cmd("RPUSH", "list:plain", "x", "p" * 300, "y")
        c.cmd("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1073741824")
    except RuntimeError:
        c.cmd("RPUSH", "list:plain", "x", "p" * 300, "y")
    c.cmd("SADD", "set:int", 1, 2, 3, -100, 70000)
    c.cmd("SADD", "set:small", "a", "b", "c", "7")
    c.cmd("SADD", "set:big", *["member-%d" % i for i in range(200)])
    c.cmd("SADD", "set:bigint", *range(600))
    c.cmd("HSET", "hash:small", "f", "v", "n", "12", "e", "")
    # Past both 128 (Valkey 8) and 512 (Valkey 9.1) hash-max-listpack-entries.
    c.cmd("HSET", "hash:big", *sum([["field-%d" % i, "value-%d" % i] for i in range(600)], []))
    c.cmd("HSET", "hash:longval", "f", "v" * 100)
    c.cmd("ZADD", "zset:small", 1.5, "a", -3, "b", 0, "c", 100, "d")
    c.cmd("ZADD", "zset:big", *sum([[i / 3, "member-%d" % i] for i in range(200)], []))
    c.cmd("ZADD", "zset:inf", "inf", "top", "-inf", "bottom", "3.25", "mid")
    c.cmd("ZADD", "zset:longmember", 1, "m" * 100)
    c.cmd("SET", "ttl:str", "v")
    c.cmd("PEXPIREAT", "ttl:str", FAR)
    c.cmd("RPUSH", "ttl:list", "a", "b")
    c.cmd("PEXPIREAT", "ttl:list", FAR + 1234)
    # Saved although expired (active expiry off): dropped on load.
    c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    c.cmd("SET", "expired:str", "gone", "PX", 1)
    c.cmd("SELECT", 1)
    c.cmd("SET", "db1:str", "one")
    c.cmd("HSET", "db1:hash", "a", "1")
    c.cmd("SELECT", 15)
    c.cmd("SET", "db15:str", "fifteen")
    c.cmd("PEXPIREAT", "db15:str", FAR)
    time.sleep(0.01)


def hexs(b):
    return b.hex() if b else "-"


def dump(c, dbs=16):
    lines = []
    for db in range(dbs):
        c.cmd("SELECT", db)
        for k in sorted(c.cmd("KEYS", "*")):
            t = c.cmd("TYPE", k).decode()
            enc = c.cmd("OBJECT", "ENCODING", k).decode()
            exp = c.cmd("PEXPIRETIME", k)
            if t == "string":
                items = [c.cmd("GET", k)]
            elif t == "list":
                items = c.cmd("LRANGE", k, 0, -1)
            elif t == "set":
                items = sorted(c.cmd("SMEMBERS", k))
            elif t == "hash":
                h = c.cmd("HGETALL", k)
                pairs = sorted(zip(h[0::2], h[1::2]))
                items = [x for p in pairs for x in p]
            else:
                items = c.cmd("ZRANGE", k, 0, -1, "WITHSCORES")
            lines.append("%d %s %s %s %d %s" % (db, hexs(k), t, enc, exp, ",".join(map(hexs, items))))
    return "\n".join(lines) + "\n"


def make(name, server, valkey, port):
    d = tempfile.mkdtemp()
    p, c = start(server, d, port)
    fill(c, valkey)
    c.cmd("SAVE")
    p.kill(); p.wait()
    rdb = os.path.join(HERE, name + ".rdb")
    shutil.copy(os.path.join(d, "dump.rdb"), rdb)
    shutil.rmtree(d)
    return rdb


def expected(valkey_server, rdb, port):
    d = tempfile.mkdtemp()
    shutil.copy(rdb, os.path.join(d, "dump.rdb"))
    p, c = start(valkey_server, d, port)
    text = dump(c)
    p.kill(); p.wait()
    shutil.rmtree(d)
    with open(rdb[:-4] + ".expected", "w") as f:
        f.write(text)


if __name__ == "__main__":
    valkey, redis = sys.argv[1], sys.argv[2]
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 18520
    for name, server, is_valkey in [("valkey-9.1-types", valkey, True), ("redis-7.0-types", redis, False)]:
        rdb = make(name, server, is_valkey, port)
        expected(valkey, rdb, port + 1)
        print(rdb, os.path.getsize(rdb))
