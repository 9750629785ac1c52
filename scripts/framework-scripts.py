#!/usr/bin/env python3
"""Framework-style Lua scripts against a server: one fixed sequence of
EVAL/EVALSHA/SCRIPT calls, every reply printed as raw RESP.

The scripts (tests/data/scripting/frameworks/*.lua) are written for this
test in the style of job-queue, scheduler, lock and rate-limiter libraries:
msgpack-packed arguments, JSON results, multi-key atomic moves. The sequence
is fixed and needs no clock: timestamps are ARGV; ttls are only compared
against a range inside the scripts.

Output is a transcript that tests/scripting_frameworks.rs replays:

    ## section name          a section; each starts with FLUSHALL on a new
                             connection, so sections are independent
    -> "EVAL" @name "1" ...  a command; @name is the file name.lua
    <- "+OK\\r\\n"            its reply (raw RESP, escaped as below)
    <- ?                     a reply not compared (HELLO: server name, version)

Strings are double-quoted with \\\\ \\" \\r \\n \\t and \\xHH for other bytes
outside printable ASCII.

Capture from a freshly started server: math.random's state lives as long as
the server, so the sequence expects no earlier math.random calls.
Capture (Valkey 9.1 on a free port):
    valkey-server --save '' --appendonly no --port 18800 &
    scripts/framework-scripts.py --port 18800 \\
        > tests/data/scripting/frameworks.transcript
Compare a server with the stored transcript:
    scripts/framework-scripts.py --port P | diff tests/data/scripting/frameworks.transcript -
Stdlib only.
"""

import argparse
import hashlib
import os
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LUA_DIR = os.path.join(os.path.dirname(HERE), "tests", "data", "scripting", "frameworks")


# ---------------------------------------------------------------- msgpack
def mp_pack(v):
    """msgpack of a Python value, as the client side of a framework would
    pack options (dict keys in insertion order)."""
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        if 0 <= v < 2**8:
            return b"\xcc" + struct.pack(">B", v)
        if 0 <= v < 2**16:
            return b"\xcd" + struct.pack(">H", v)
        if 0 <= v < 2**32:
            return b"\xce" + struct.pack(">I", v)
        if 0 <= v < 2**64:
            return b"\xcf" + struct.pack(">Q", v)
        if -(2**7) <= v:
            return b"\xd0" + struct.pack(">b", v)
        if -(2**15) <= v:
            return b"\xd1" + struct.pack(">h", v)
        if -(2**31) <= v:
            return b"\xd2" + struct.pack(">i", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, F32):
        return b"\xca" + struct.pack(">f", v.x)
    if isinstance(v, str):
        v = v.encode()
        n = len(v)
        if n < 32:
            return bytes([0xA0 | n]) + v
        if n < 2**8:
            return b"\xd9" + bytes([n]) + v
        return b"\xda" + struct.pack(">H", n) + v
    if isinstance(v, bytes):
        return b"\xc4" + bytes([len(v)]) + v
    if isinstance(v, list):
        n = len(v)
        head = bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n)
        return head + b"".join(mp_pack(x) for x in v)
    if isinstance(v, dict):
        n = len(v)
        head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
        return head + b"".join(mp_pack(k) + mp_pack(x) for k, x in v.items())
    raise TypeError(v)


class F32:
    def __init__(self, x):
        self.x = x


# ---------------------------------------------------------------- RESP
def encode_cmd(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            self._more()
        i = self.buf.index(b"\r\n")
        line, self.buf = self.buf[: i + 2], self.buf[i + 2 :]
        return line

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _exact(self, n):
        while len(self.buf) < n:
            self._more()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def reply(self):
        """One complete reply, raw."""
        line = self._line()
        tag, rest = line[:1], line[1:-2]
        if tag in b"$=!":
            n = int(rest)
            return line if n < 0 else line + self._exact(n + 2)
        if tag in b"*~>%|":
            n = int(rest)
            if tag in b"%|":
                n *= 2
            return line + b"".join(self.reply() for _ in range(max(n, 0)))
        return line

    def call(self, args):
        self.sock.sendall(encode_cmd(args))
        return self.reply()

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------- transcript
def quote(b):
    out = ['"']
    for c in b:
        if c == 0x5C:
            out.append("\\\\")
        elif c == 0x22:
            out.append('\\"')
        elif c == 0x0D:
            out.append("\\r")
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x09:
            out.append("\\t")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    out.append('"')
    return "".join(out)


class Script:
    """A script file: sent as its text, written in the transcript as @name."""

    def __init__(self, name):
        self.name = name
        with open(os.path.join(LUA_DIR, name + ".lua"), "rb") as f:
            self.body = f.read()
        self.sha = hashlib.sha1(self.body).hexdigest()


def as_bytes(a):
    if isinstance(a, bytes):
        return a
    if isinstance(a, Script):
        return a.body
    return str(a).encode()


class Session:
    def __init__(self, port, out):
        self.port = port
        self.out = out
        self.conn = None

    def section(self, name):
        if self.conn:
            self.conn.close()
        self.conn = Conn(self.port)
        self.out.write("\n## %s\n" % name)
        self.call("FLUSHALL")

    def call(self, *args, check=True):
        """Sends a command and records it; with check=False its reply (one
        that differs between servers by design) is recorded as ?."""
        raw = self.conn.call([as_bytes(a) for a in args])
        words = ["@" + a.name if isinstance(a, Script) else quote(as_bytes(a)) for a in args]
        self.out.write("-> %s\n<- %s\n" % (" ".join(words), quote(raw) if check else "?"))
        return raw

    def close(self):
        if self.conn:
            self.conn.close()


S = {}


def script(name):
    if name not in S:
        S[name] = Script(name)
    return S[name]


# ---------------------------------------------------------------- sequences
NOW = 1700000000000  # fixed "now" in ms
PFX = "bull:mail:"
QKEYS = [PFX + k for k in ("wait", "delayed", "id", "events", "meta")]
AKEYS = [PFX + k for k in ("wait", "active", "delayed", "limiter", "events")]
FKEYS = [PFX + k for k in ("active", "completed", "failed", "wait", "delayed", "events")]


def add_job(s, name, data, **opts):
    return s.call("EVAL", script("queue_add_job"), 5, *QKEYS, PFX, mp_pack(opts), name, data)


def take(s, now, token="tok-1", limiter=b""):
    return s.call("EVAL", script("queue_move_to_active"), 5, *AKEYS, PFX, token, 30000, now, limiter)


def finish(s, job_id, now, target, value, token="tok-1", **opts):
    return s.call("EVAL", script("queue_move_to_finished"), 6, *FKEYS, PFX, job_id, token, now,
                  target, value, mp_pack(opts))


def job_queue(s):
    s.section("job queue: add, take, complete")
    s.call("HSET", PFX + "meta", "maxEvents", "50")
    add_job(s, "welcome", '{"to":"a@example.com","n":1}', timestamp=NOW, attempts=3)
    add_job(s, "welcome", '{"to":"b@example.com","tags":["x","y"]}', timestamp=NOW + 1, attempts=1)
    add_job(s, "custom", '{"v":1}', jobId="fixed-id", timestamp=NOW + 2)
    add_job(s, "custom", '{"v":2}', jobId="fixed-id", timestamp=NOW + 3)
    add_job(s, "lifo", '[1,2,3]', timestamp=NOW + 4, lifo=True)
    add_job(s, "broken", '{"v":', timestamp=NOW + 5)
    s.call("LRANGE", PFX + "wait", 0, -1)
    s.call("HGETALL", PFX + "1")
    r = take(s, NOW + 10)
    s.call("LRANGE", PFX + "active", 0, -1)
    s.call("GET", PFX + "3:lock")
    s.call("EVAL", script("lock_inspect"), 1, PFX + "3:lock", 20000, 30000)
    finish(s, "3", NOW + 20, "completed", '{"ok":true,"ids":[1,2]}', keepCompleted=2)
    finish(s, "3", NOW + 21, "completed", '{"ok":true}')
    take(s, NOW + 30, token="tok-2")
    finish(s, "1", NOW + 31, "completed", '"done"', token="wrong-token")
    finish(s, "1", NOW + 32, "completed", '{"sent":1,"at":1700000000032.5}', token="tok-2",
           keepCompleted=1)
    take(s, NOW + 40, token="tok-3")
    finish(s, "2", NOW + 41, "completed", "[]", token="tok-3", keepCompleted=1)
    take(s, NOW + 50, token="tok-4")
    finish(s, "fixed-id", NOW + 51, "completed", "null", token="tok-4", keepCompleted=1)
    take(s, NOW + 60)
    s.call("ZRANGE", PFX + "completed", 0, -1, "WITHSCORES")
    s.call("EXISTS", PFX + "1", PFX + "2", PFX + "3", PFX + "fixed-id")
    s.call("LLEN", PFX + "events")
    s.call("EVAL", "local out = {} for i, e in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do "
           "out[i] = cmsgpack.unpack(e) end return out", 1, PFX + "events")
    s.call("GET", PFX + "id")

    s.section("job queue: delayed jobs, retries and backoff")
    add_job(s, "later", '{"d":1}', timestamp=NOW, delay=5000, attempts=3)
    add_job(s, "later", '{"d":2}', timestamp=NOW, delay=2500, attempts=1)
    add_job(s, "now", '{"d":3}', timestamp=NOW, attempts=2)
    s.call("ZRANGE", PFX + "delayed", 0, -1, "WITHSCORES")
    take(s, NOW + 100)
    finish(s, "3", NOW + 101, "failed", "smtp timeout", backoff=1000)
    s.call("ZRANGE", PFX + "delayed", 0, -1, "WITHSCORES")
    take(s, NOW + 200)
    take(s, NOW + 1101)
    finish(s, "3", NOW + 1102, "failed", "smtp timeout again", backoff=1000)
    s.call("ZRANGE", PFX + "failed", 0, -1, "WITHSCORES")
    s.call("HMGET", PFX + "3", "attemptsMade", "attemptsStarted", "failedReason", "finishedOn")
    take(s, NOW + 2500)
    take(s, NOW + 2501)
    finish(s, "2", NOW + 2502, "failed", "bounced")
    take(s, NOW + 5000)
    finish(s, "1", NOW + 5001, "failed", "again")
    take(s, NOW + 5002)
    finish(s, "1", NOW + 5003, "completed", '{"n":[1,2.5,-3]}')
    take(s, NOW + 6000)
    s.call("HGETALL", PFX + "1")

    s.section("job queue: retry without backoff, paused queue")
    add_job(s, "r", '{}', timestamp=NOW, attempts=2)
    take(s, NOW + 1)
    finish(s, "1", NOW + 2, "failed", "flaky")
    s.call("LRANGE", PFX + "wait", 0, -1)
    take(s, NOW + 3)
    finish(s, "1", NOW + 4, "failed", "flaky twice")
    finish(s, "1", NOW + 5, "failed", "not active any more")
    finish(s, "nope", NOW + 6, "completed", "1")
    s.call("HSET", PFX + "meta", "paused", "1")
    add_job(s, "p", '{}', timestamp=NOW + 7)
    s.call("LLEN", PFX + "wait")

    s.section("job queue: rate limiter")
    for i in range(5):
        add_job(s, "rl", '{"i":%d}' % i, timestamp=NOW + i)
    lim = mp_pack({"max": 2, "duration": 60000})
    for i in range(4):
        take(s, NOW + 10 + i, limiter=lim)
    s.call("GET", PFX + "limiter")
    s.call("EVAL", "local t = redis.call('PTTL', KEYS[1]) return {t > 0, t <= 60000}", 1,
           PFX + "limiter")
    s.call("DEL", PFX + "limiter")
    take(s, NOW + 20, limiter=lim)
    s.call("LRANGE", PFX + "active", 0, -1)


def scheduler(s):
    poll = script("sidekiq_enqueue_scheduled")
    s.section("scheduled-job poller: EVALSHA, NOSCRIPT, EVAL fallback")
    jobs = [
        (1700000000.25, '{"class":"Mailer","args":[1,"x"],"jid":"j1","queue":"mail","at":1700000000.25}'),
        (1700000000.5, '{"class":"Report","args":[],"jid":"j2","queue":"default","at":1700000000.5}'),
        (1700000005, '{"class":"Mailer","args":[{"id":3}],"jid":"j3","queue":"mail","at":1700000005}'),
        (1700000010.125, '{"class":"Cleanup","args":[null,true],"jid":"j4","at":1700000010.125}'),
        (1700000010.125, '{"class":"Cleanup","args":[false],"jid":"j5","at":1700000010.125}'),
    ]
    for score, job in jobs:
        s.call("ZADD", "schedule", repr(score), job)
    s.call("SCRIPT", "LOAD", poll)
    s.call("SCRIPT", "EXISTS", poll.sha, "0" * 40)

    def enqueue(now):
        r = s.call("EVALSHA", poll.sha, 1, "schedule", now, "sq:")
        if r.startswith(b"-NOSCRIPT"):
            r = s.call("EVAL", poll, 1, "schedule", now, "sq:")
        return r

    enqueue("1699999999")
    enqueue("1700000000.5")
    s.call("SCRIPT", "FLUSH")
    s.call("SCRIPT", "EXISTS", poll.sha)
    enqueue("1700000005")
    s.call("SCRIPT", "EXISTS", poll.sha)
    s.call("SCRIPT", "FLUSH", "ASYNC")
    enqueue("+inf")
    enqueue("+inf")
    s.call("SORT", "sq:queues", "ALPHA")
    s.call("LRANGE", "sq:queue:mail", 0, -1)
    s.call("LRANGE", "sq:queue:default", 0, -1)
    s.call("EVALSHA", poll.sha.upper(), 1, "schedule", "0", "sq:")
    s.call("EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", 0)
    s.call("EVALSHA", "abc", 0)
    s.call("EVALSHA_RO", poll.sha, 1, "schedule", "0", "sq:")
    s.call("ZADD", "schedule", "1", '{"jid":"j6","queue":"ro"}')
    s.call("EVALSHA_RO", poll.sha, 1, "schedule", "1", "sq:")


def locks(s):
    acq, rel, ext, insp = (script(n) for n in ("lock_acquire", "lock_release", "lock_extend",
                                               "lock_inspect"))
    s.section("locks: acquire, extend, release")
    s.call("EVAL", acq, 2, "lock:a", "lock:b", "owner-1", 30000)
    s.call("EVAL", acq, 2, "lock:b", "lock:c", "owner-2", 30000)
    s.call("EVAL", acq, 1, "lock:c", "owner-2", 10000)
    s.call("EVAL", insp, 3, "lock:a", "lock:b", "lock:c", 20000, 30000)
    s.call("EVAL", ext, 2, "lock:a", "lock:c", "owner-1", 60000)
    s.call("EVAL", ext, 2, "lock:a", "lock:b", "owner-1", 60000)
    s.call("EVAL", insp, 3, "lock:a", "lock:b", "lock:c", 50000, 60000)
    s.call("EVAL", rel, 3, "lock:a", "lock:b", "lock:c", "owner-2")
    s.call("EVAL", rel, 2, "lock:a", "lock:b", "owner-1")
    s.call("EVAL", insp, 3, "lock:a", "lock:b", "lock:c", 0, 10000)
    s.call("SET", "lock:s", "owner-3", "NX", "PX", "5000")
    s.call("SET", "lock:s", "owner-4", "NX", "PX", "5000")
    s.call("EVAL", rel, 1, "lock:s", "owner-4")
    s.call("EVAL", rel, 1, "lock:s", "owner-3")
    s.call("EVAL", acq, 0, "x", 1000)
    s.call("EVAL", acq, 1, "lock:bad", "owner", "-5")
    s.call("EVAL", acq, 1, "lock:bad", "owner", "soon")


def limiters(s):
    sw, tb = script("limiter_sliding_window"), script("limiter_token_bucket")
    s.section("limiters: sliding window")
    for i, t in enumerate([0, 100, 200, 300, 950, 1050, 1101, 1200, 2500]):
        s.call("EVAL", sw, 1, "rl:ip:1", NOW + t, 1000, 3, "req-%d" % i)
    s.call("ZRANGE", "rl:ip:1", 0, -1, "WITHSCORES")
    s.call("EVAL", "local t = redis.call('PTTL', KEYS[1]) return t > 0 and t <= 1000", 1,
           "rl:ip:1")

    s.section("limiters: token bucket")
    for t, want in [(0, 1), (10, 3), (20, 1), (400, 1), (1000, 2), (1001, 1), (5000, 4),
                    (5333, 1), (5334, 1)]:
        s.call("EVAL", tb, 1, "tb:user:7", NOW + t, 4, "2.5", want)
    s.call("HGETALL", "tb:user:7")
    s.call("EVAL", tb, 1, "tb:user:8", NOW, 10, "0.3", 3)
    s.call("EVAL", tb, 1, "tb:user:8", NOW + 1, 10, "0.3", 3)
    s.call("HGET", "tb:user:8", "tokens")


def json_msgpack(s):
    s.section("cjson: decode nested documents")
    walk = script("json_walk")
    s.call("EVAL", walk, 0, '{"job":{"id":"42","opts":{"attempts":3,"backoff":{"type":"exponential",'
           '"delay":1000}},"tags":["a","b",null,{"deep":[[],{}]}],"ok":true,"no":false}}')
    s.call("EVAL", walk, 0, '[1, -2, 3.5, 1e3, -0.0, 1E-2, 12345678901234567890, 9007199254740993]')
    s.call("EVAL", walk, 0, '{"s":"caf\\u00e9 \\ud83d\\ude00 \\/ \\" \\\\ \\b\\f\\n\\r\\t"}')
    s.call("EVAL", walk, 0, '{"dup":1,"dup":2}')
    s.call("EVAL", walk, 0, '{"a":}')
    s.call("EVAL", walk, 0, "[1,2")
    s.call("EVAL", walk, 0, "")
    s.call("EVAL", walk, 0, "[" * 1001 + "]" * 1001)
    s.call("EVAL", walk, 0, "[" * 1000 + "]" * 1000)

    s.section("cjson: encode")
    s.call("EVAL", script("json_encode_cases"), 0)
    s.call("EVAL", script("json_decode_cases"), 0, "null", "true", "0", "-0", "1.5", "1e400",
           "-1e400", "0x10", "NaN", "nan", "Infinity", "-inf", '"\\u0000x"', '"\\ud800"',
           '"\\uZZZZ"', '"\\q"', "[1,]", '{"k":1,}', '{1:2}', "  [ ]  ", "[] []", '"\x01"',
           "123abc", "1.", ".5", "+1", "01", '"\\u00e9\\u20ac"', "[1e2,1E+2,1e-2]")
    s.call("EVAL", "return cjson.encode(cjson.decode(ARGV[1]))", 0,
           '[{"k":[1,2,{"n":null}]},[[]],"x"]')
    s.call("EVAL", "return {cjson.decode('[1,null,3]')[2] == cjson.null, "
           "type(cjson.null), cjson.null == nil}", 0)
    s.call("EVAL", "return cjson.decode('[1,null,3]')", 0)
    s.call("EVAL", "return cjson.null", 0)

    s.section("cmsgpack: pack and unpack")
    s.call("EVAL", script("msgpack_pack_cases"), 0)
    walk = script("msgpack_walk")
    s.call("EVAL", walk, 0, mp_pack({"name": "job", "opts": {"attempts": 3, "delay": 0,
                                                              "backoff": [1000, 2.5, -7]},
                                      "flags": [True, False, None], "big": 2**40,
                                      "neg": -(2**40), "u64": 2**63 + 1, "i64": -(2**63),
                                      "f32": F32(0.75)}))
    s.call("EVAL", walk, 0, mp_pack(b"\x00\x01\xff"))
    s.call("EVAL", walk, 0, mp_pack(1) + mp_pack("two") + mp_pack([3, [4]]) + mp_pack(None))
    s.call("EVAL", walk, 0, mp_pack([None, 2, None]))
    s.call("EVAL", walk, 0, mp_pack({1: "a", 2: "b", "x": {}}))
    s.call("EVAL", walk, 0, b"\xd9\x05abc")
    s.call("EVAL", walk, 0, b"\xc7\x01\x05a")
    s.call("EVAL", "return cmsgpack.unpack(ARGV[1])", 0, mp_pack([1, "a", [2.5, True, None, 4]]))
    s.call("EVAL", "return cmsgpack.pack(cmsgpack.unpack(ARGV[1]))", 0, mp_pack([1, [2, "c"]]))


def api(s):
    s.section("server API: replies and errors")
    e = lambda body, *args: s.call("EVAL", body, *(args or (0,)))
    e("return redis.status_reply('QUEUED-FINE')")
    e("return redis.error_reply('MYERR custom failure')")
    e("return redis.error_reply('no code here')")
    e("return redis.error_reply('-DASH leading dash')")
    e("return {err = 'RAW table error'}")
    e("return {ok = 'RAW status'}")
    e("return {ok = 'first', err = 'E both'}")
    e("error({err = 'THROWN table error'})")
    e("error('plain message')")
    e("error('plain message', 0)")
    e("error()")
    e("error(42)")
    e("return redis.status_reply()")
    e("return redis.error_reply(1)")
    s.call("HSET", "h", "f", "v")
    e("local r = redis.pcall('INCR', 'h') return {type(r), r.err}")
    e("local r = redis.pcall('INCR', 'h') return r")
    e("local r = redis.pcall('NOSUCHCMD') return {type(r), r.err}")
    e("local r = redis.pcall('SET', 'k') return r")
    e("local ok, err = pcall(redis.call, 'INCR', 'h') return {tostring(ok), err}")
    e("local ok, err = pcall(redis.call, 'INCR', 'h') return {tostring(ok), type(err), err.err}")
    e("return redis.call('INCR', 'h')")
    e("return redis.pcall('HGET', 'h', 'f', 'extra')")
    e("local r = redis.pcall('LPUSH', 'h', 'x') if r.err then return redis.error_reply(r.err) end")
    e("return {redis.pcall('INCR', 'h'), 'after'}")
    e("return {1, redis.error_reply('NESTED inside array'), 3}")
    e("return {1, redis.status_reply('NESTED'), {ok = 'S'}, 3}")
    e("return redis.sha1hex('') .. ' ' .. redis.sha1hex('abc')")
    e("return {redis.replicate_commands(), redis.set_repl(redis.REPL_ALL)}")
    e("redis.log(redis.LOG_WARNING, 'framework-scripts log line') return 'logged'")
    e("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}")
    e("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}")
    e("return type(server) .. ' ' .. tostring(server == redis)")
    e("return server.call('PING')")
    e("return redis.call('GET', 'missing')")
    e("return {redis.call('GET', 'missing') == false}")
    e("return redis.call('HMGET', 'h', 'f', 'nope', 'f')")
    e("return tonumber(redis.call('HGET', 'h', 'nope'))")
    e("return redis.call('EXISTS', KEYS[1], KEYS[2])", 2, "h", "nope")
    e("return #KEYS + #ARGV", 2, "a", "b", "c")
    e("return ARGV", 0, "", "x", b"\x00bin\xff")
    e("return redis.call('SET', KEYS[1], ARGV[1], 'GET')", 1, "k", "v1")
    e("return redis.call('SET', KEYS[1], ARGV[1], 'GET')", 1, "k", "v2")

    # A Lua number argument is sent as an integer when it is one (within
    # +-2^62), else in the shortest form that reads back the same.
    s.section("server API: numbers passed to commands")
    for expr in ["1", "-1", "1.5", "100000000000000", "2^53", "2^53+1", "1700000000123 * 4096 + 5",
                 "1e15", "1e16", "3.0", "1/0", "-1/0", "0/0", "1e21", "1e22", "123.456",
                 "1700000000.25"]:
        e("redis.call('SET', 'n', %s) return redis.call('GET', 'n')" % expr)
    e("redis.call('ZADD', 'z', 1700000000123 * 4096 + 5, 'm') return redis.call('ZSCORE', 'z', 'm')")
    e("return redis.call('INCRBY', 'c', 2^31)")
    e("return redis.call('INCRBY', 'c', 1.5)")
    e("return tostring(1e15) .. ' ' .. tostring(1e16) .. ' ' .. tostring(0.1) .. ' ' .. "
      "tostring(2^63) .. ' ' .. tostring(-0)")
    e("return string.format('%d %s %.3f %5.1f %x %g', 42, 'x', 1/3, 2.25, 255, 1e20)")

    s.section("server API: numbers passed to commands, shortest form")
    for expr in ["0.1", "1/3", "123456789012345678", "-0", "1e-5", "2^63", "2^62", "-2^62",
                 "2^62 + 2^11", "1.5e-7", "5e-324", "-1e300"]:
        e("redis.call('SET', 'n', %s) return redis.call('GET', 'n')" % expr)
    e("redis.call('HSET', 'h2', 'f', 2.5 * 3) return redis.call('HINCRBYFLOAT', 'h2', 'f', 0.1)")


def table_returns(s):
    s.section("table returns: RESP2")
    e = lambda body, *args: s.call("EVAL", body, *(args or (0,)))
    e("return {1, 'two', {3, {4, 'five', {}}}, true, false, 3.99, -2.5}")
    e("return {1, nil, 3}")
    e("return {nil, 2}")
    e("return {}")
    e("return {{}, {{}}}")
    e("return {a = 1, b = 2}")
    e("return {1, 2, x = 'ignored'}")
    e("return true")
    e("return false")
    e("return nil")
    e("return")
    e("return 3.99")
    e("return -3.99")
    e("return 2^53")
    e("return -2^63")
    e("return 1e20")
    e("return 0/0")
    e("return 'text', 'second'")
    e("local t = {} t[1] = 'a' t[2] = 'b' t[4] = 'd' return t")
    e("local t = {} for i = 1, 300 do t[i] = i end return #t")
    e("return {redis.call('HGETALL', 'none'), redis.call('LRANGE', 'none', 0, -1)}")
    e("return {cjson.null}")
    e("return {1, cjson.null, 3}")
    e("return {double = 1.5}")
    e("return {map = {k = 'v'}}")
    e("return {set = {m = true}}")
    e("return {big_number = '123'}")
    e("return {verbatim_string = {format = 'txt', string = 'hello'}}")
    e("return print")
    e("return {print, 1}")
    e("return coroutine.create(function() end)")
    e("local t = setmetatable({}, {__index = function() return 1 end}) return t")

    s.section("table returns: RESP3")
    s.call("HELLO", "3", check=False)  # server name and version differ by design
    e("return {1, 'two', {3, {4, 'five', {}}}, true, false, 3.99}")
    e("return {1, nil, 3}")
    e("return true")
    e("return false")
    e("return nil")
    e("return {double = 1.5}")
    e("return {double = 0/0}")
    e("return {double = 1/0}")
    e("return {double = -1/0}")
    e("return {double = 3}")
    e("return {map = {k = 'v'}}")
    e("return {map = {k = {1, {map = {}}}}}")
    e("return {set = {m = true}}")
    e("return {set = {}}")
    e("return {big_number = '123456789012345678901234567890'}")
    e("return {verbatim_string = {format = 'txt', string = 'hello'}}")
    e("return {cjson.null, false}")
    e("redis.setresp(3) return {true, false, 1.5, {double = 2.5}}")
    e("redis.setresp(3) return false")
    e("redis.setresp(3) return true")
    e("redis.setresp(3) return redis.call('HGETALL', 'none')")
    s.call("HSET", "h", "f", "v")
    e("redis.setresp(3) return redis.call('HGETALL', 'h')")
    e("redis.setresp(3) local m = redis.call('HGETALL', 'h') return {type(m), type(m.map), m.map.f}")
    e("redis.setresp(3) return redis.call('HGET', 'h', 'nope')")
    e("redis.setresp(3) return {redis.call('HGET', 'h', 'nope') == nil}")
    e("redis.setresp(3) return redis.call('ZSCORE', 'nope', 'm')")
    s.call("ZADD", "z", "1.5", "m")
    e("redis.setresp(3) return redis.call('ZSCORE', 'z', 'm')")
    e("redis.setresp(3) local d = redis.call('ZSCORE', 'z', 'm') return {type(d), d.double}")
    e("redis.setresp(3) return redis.call('SMISMEMBER', 'nope', 'a')")
    e("redis.setresp(3) return redis.call('HELLO', '3')")
    e("redis.setresp(2) return redis.call('HGETALL', 'h')")
    e("redis.setresp(4)")
    e("return redis.call('HGETALL', 'h')")

    s.section("table returns: RESP3 verbatim format not 3 characters")
    s.call("HELLO", "3", check=False)
    e("return {verbatim_string = {format = 'md', string = 'x'}}")
    e("return {verbatim_string = {format = '', string = 'x'}}")
    e("return {verbatim_string = {format = 'markdown', string = 'x'}}")


def helpers(s):
    s.section("bit and struct")
    e = lambda body, *args: s.call("EVAL", body, *(args or (0,)))
    e("return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.lshift(1, 31), "
      "bit.rshift(-1, 28), bit.arshift(-256, 4), bit.bnot(0), bit.tobit(2^32 + 5), bit.tohex(255), "
      "bit.tohex(-1, -4), bit.rol(1, 33), bit.bswap(0x01020304)}")
    e("return {struct.pack('>I2i4', 258, -2), struct.size('>I2i4'), "
      "struct.unpack('<I4', 'abcd'), struct.pack('s', 'zs')}")
    e("local a, b, n = struct.unpack('>hB', ARGV[1]) return {a, b, n}", 0, b"\xff\xfe\x07")
    e("return {pcall(struct.unpack, '>I4', 'ab')}")


def bulk(s):
    s.section("bulk arguments and replies")
    e = lambda body, *args: s.call("EVAL", body, *(args or (0,)))
    ids = ["job-%d" % i for i in range(5000)]
    s.call("RPUSH", "bulk:list", *ids)
    e("local t = {} for i = 1, 9000 do t[i] = i end return redis.call('RPUSH', KEYS[1], unpack(t))",
      1, "bulk:list2")
    e("local t = {} for i = 1, 10000 do t[i] = i end return t")
    e("local r = redis.call('LRANGE', KEYS[1], 0, -1) return {#r, r[1], r[#r]}", 1, "bulk:list")
    e("local t = {} for i = 1, 20000 do t[i] = i end return {#t, select('#', unpack(t, 1, 7000))}")
    s.call("SCRIPT", "LOAD", "return (")
    e("return (")
    e("local x = = 1")
    s.call("EVAL", "return 1", "-1")
    s.call("EVAL", "return 1", "3", "a")
    s.call("EVAL", "return 1", "x")
    s.call("EVAL", "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])", 1, "k")
    s.call("EVAL", "#!lua flags=no-writes\nreturn redis.call('SET', KEYS[1], 'v')", 1, "k")
    s.call("EVAL_RO", "return redis.call('LLEN', KEYS[1])", 1, "bulk:list")
    s.call("EVAL", "#!lua name=x\nreturn 1", 0)
    s.call("EVAL", "#!lua\nreturn redis.call('SET', 'undeclared', 1)", 0)
    s.call("EVAL", "#!lua\nreturn redis.call('SET', KEYS[1], 1)", 1, "declared")

    # Bulk adds spread thousands of ARGV over one call; Lua's C stack allows
    # about 8,000 values.
    s.section("bulk: thousands of arguments to one call")
    e("return redis.call('RPUSH', KEYS[1], unpack(ARGV))", 1, "bulk:list", *ids)
    e("return redis.call('RPUSH', KEYS[1], unpack(ARGV))", 1, "bulk:list", *(["x"] * 7997))
    e("local t = {} for i = 1, 7000 do t[i] = i end return redis.call('SADD', 'bulk:set', unpack(t))")
    e("return redis.call('LLEN', KEYS[1])", 1, "bulk:list")


def sort_in_scripts(s):
    s.section("SORT from scripts")
    e = lambda body, *args: s.call("EVAL", body, *args)
    s.call("RPUSH", "jobs", "3", "1", "2", "10")
    s.call("MSET", "w_1", "30", "w_2", "10", "w_3", "20", "w_10", "5")
    s.call("HSET", "job:1", "name", "one", "pri", "2")
    s.call("HSET", "job:2", "name", "two", "pri", "1")
    s.call("HSET", "job:3", "name", "three", "pri", "3")
    e("return redis.call('SORT', KEYS[1])", 1, "jobs")
    e("return redis.call('SORT', KEYS[1], 'BY', 'w_*', 'GET', '#', 'GET', 'job:*->name')", 1, "jobs")
    e("return redis.call('SORT', KEYS[1], 'BY', 'job:*->pri', 'DESC', 'LIMIT', 0, 2)", 1, "jobs")
    e("return redis.call('SORT', KEYS[1], 'BY', 'nosort')", 1, "jobs")
    e("return redis.call('SORT', KEYS[1], 'BY', 'nosort', 'STORE', KEYS[2])", 2, "jobs", "copy")
    e("return redis.call('LRANGE', KEYS[1], 0, -1)", 1, "copy")
    e("return redis.call('SORT', KEYS[1], 'ALPHA', 'STORE', KEYS[2])", 2, "jobs", "copy")
    e("return redis.call('LRANGE', KEYS[1], 0, -1)", 1, "copy")
    s.call("EVAL_RO", "return redis.call('SORT_RO', KEYS[1], 'BY', 'w_*', 'GET', 'w_*')", 1, "jobs")
    s.call("EVAL_RO", "return redis.call('SORT', KEYS[1], 'STORE', 'x')", 1, "jobs")
    s.call("EVAL_RO", "return redis.call('SORT', KEYS[1])", 1, "jobs")
    s.call("SADD", "ints", "5", "3", "9", "1")
    e("return redis.call('SORT', KEYS[1], 'BY', 'nosort')", 1, "ints")
    s.call("SADD", "names", "carol", "alice", "bob")
    e("return redis.call('SORT', KEYS[1], 'ALPHA', 'DESC')", 1, "names")
    s.call("SORT", "names", "BY", "nosort", "STORE", "sorted-names")
    s.call("LRANGE", "sorted-names", 0, -1)
    s.call("ZADD", "zs", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e")
    e("return {redis.call('SORT', KEYS[1], 'BY', 'nosort', 'ASC'), "
      "redis.call('SORT', KEYS[1], 'BY', 'nosort', 'DESC', 'LIMIT', 1, 2)}", 1, "zs")
    e("return redis.call('SORT', KEYS[1])", 1, "names")
    e("return redis.pcall('SORT', KEYS[1])", 1, "names")

    # A set sorted BY nosort (or a missing key) from a script is sorted ALPHA
    # so that its replicas and AOF see the same order.
    s.section("SORT from scripts: sets BY nosort")
    s.call("SADD", "names", "carol", "alice", "bob")
    e("return redis.call('SORT', KEYS[1], 'BY', 'nosort')", 1, "names")
    e("return redis.call('SORT', KEYS[1], 'BY', 'nokey', 'DESC')", 1, "names")
    e("return redis.call('SORT', KEYS[1], 'BY', 'nosort', 'LIMIT', 0, 2)", 1, "names")
    s.call("EVAL_RO", "return redis.call('SORT_RO', KEYS[1], 'BY', 'nosort')", 1, "names")


def pipelines(s):
    poll = script("sidekiq_enqueue_scheduled")
    s.section("EVALSHA in MULTI/EXEC, NOSCRIPT retried with EVAL")
    s.call("SCRIPT", "FLUSH")
    s.call("ZADD", "schedule", "1", '{"jid":"m1","queue":"q"}')
    s.call("MULTI")
    s.call("EVALSHA", poll.sha, 1, "schedule", "5", "sq:")
    s.call("LLEN", "sq:queue:q")
    s.call("EXEC")
    s.call("MULTI")
    s.call("EVAL", poll, 1, "schedule", "5", "sq:")
    s.call("LLEN", "sq:queue:q")
    s.call("EXEC")
    s.call("MULTI")
    s.call("SCRIPT", "LOAD", "return redis.call('INCR', KEYS[1])")
    s.call("EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", 0)
    s.call("EVAL", "return redis.call('INCR', KEYS[1])", 1, "ctr")
    s.call("EVAL", "return redis.call('HSET', KEYS[1], 'f', 'v')", 1, "ctr")
    s.call("EVAL", "return redis.call('INCR', KEYS[1])", 1, "ctr")
    s.call("EXEC")
    s.call("WATCH", "ctr")
    s.call("EVAL", "return redis.call('INCR', KEYS[1])", 1, "ctr")
    s.call("MULTI")
    s.call("GET", "ctr")
    s.call("EXEC")
    s.call("EVAL", "return redis.call('MULTI')", 0)
    s.call("EVAL", "return redis.call('EVAL', 'return 1', 0)", 0)
    s.call("EVAL", "return redis.call('WATCH', 'x')", 0)

    s.section("script environment: globals, runtime errors, SELECT")
    e = lambda body, *args: s.call("EVAL", body, *(args or (0,)))
    e("counter = 1 return counter")
    e("function helper() return 1 end return helper()")
    e("return undefined_global")
    e("local t = nil return t.x")
    e("return nil + 1")
    e("return tonumber('a') < 1")
    e("local function f() error('boom') end f()")
    e("local function f()\n  local x = {}\n  return x.y.z\nend\nreturn f()")
    e("return #KEYS[1]", 0)
    e("KEYS[1] = 'changed' table.insert(ARGV, 'more') return {KEYS[1], #ARGV}", 1, "k", "a")
    for name in ["os", "os.clock", "os.time", "os.exit", "loadstring", "setfenv", "getfenv",
                 "module", "require", "dofile", "newproxy", "gcinfo", "debug", "io"]:
        e("return type(%s)" % name)
    e("return loadstring('return 1 + 1')()")
    e("return {math.random(100), math.random(100), math.floor(math.random() * 1000)}")
    e("return {math.random(100), math.random(100), math.floor(math.random() * 1000)}")
    e("local t = redis.call('TIME') redis.call('SET', 'written-after-time', 1) return #t")
    s.call("SET", "k", "db0")
    e("redis.call('SELECT', 1) redis.call('SET', 'k', 'db1') return redis.call('GET', 'k')")
    s.call("GET", "k")
    s.call("SELECT", "1")
    s.call("GET", "k")
    s.call("SELECT", "0")
    e("return _G == nil")
    e("return tostring(getmetatable('').__index == string)")
    e("string.rep = nil return 1")
    e("return redis.call('GET', 'k', 'x')")
    e("return string.rep('ab', 3) .. string.sub('hello', 2, 3) .. string.upper('x') .. "
      "#string.format('%5s', 'a')")
    e("return table.concat({1, 2, 3}, ',') .. ' ' .. select('#', unpack({1, 2, nil, 4}))")
    e("local t = {5, 2, 8, 1} table.sort(t, function(a, b) return a > b end) return t")

    # Valkey patched Lua's string hash: the order pairs() visits string keys
    # in is fixed across Valkey restarts but is not the order here.
    s.section("pairs() order of string keys")
    e("return cjson.encode({id = 5, name = 'x', opts = {attempts = 3, delay = 0}, data = {a = 1}, ts = 1})")
    e("local ks = {} for k in pairs({alpha = 1, beta = 2, gamma = 3, delta = 4, epsilon = 5}) do "
      "ks[#ks + 1] = k end return ks")
    e("return cmsgpack.pack({id = 5, name = 'x', ts = 1})")


def script_cache(s):
    # EVAL'd scripts beyond 500 are evicted, least recently run first;
    # SCRIPT LOAD keeps one for good. Clients see NOSCRIPT and resend.
    def evals(first, last):
        for i in range(first, last):
            s.call("EVAL", "return %d" % i, 0)

    def sha(body):
        return hashlib.sha1(body.encode()).hexdigest()

    evicted = "return string.match(redis.call('INFO', 'stats'), 'evicted_scripts:%d+')"
    cached = "return string.match(redis.call('INFO', 'memory'), 'number_of_cached_scripts:%d+')"
    s.section("script cache: EVAL scripts evicted beyond 500")
    s.call("SCRIPT", "FLUSH")
    s.call("EVAL", "return 'promoted'", 0)
    s.call("SCRIPT", "LOAD", "return 'promoted'")
    s.call("SCRIPT", "LOAD", "return 'loaded'")
    evals(0, 502)
    s.call("SCRIPT", "EXISTS", sha("return 0"), sha("return 1"), sha("return 2"), sha("return 501"),
           sha("return 'promoted'"), sha("return 'loaded'"))
    s.call("EVALSHA", sha("return 0"), 0)
    s.call("EVAL", "return 2", 0)
    evals(502, 504)
    s.call("SCRIPT", "EXISTS", sha("return 2"), sha("return 3"), sha("return 4"), sha("return 5"))
    s.call("SCRIPT", "FLUSH")
    s.call("SCRIPT", "EXISTS", sha("return 2"), sha("return 'loaded'"))

    s.section("script cache: EVALSHA keeps an EVAL script in the LRU")
    s.call("SCRIPT", "FLUSH")
    s.call("EVAL", "return 'run by sha'", 0)
    s.call("EVALSHA", sha("return 'run by sha'"), 0)
    evals(0, 500)
    s.call("SCRIPT", "EXISTS", sha("return 'run by sha'"), sha("return 0"), sha("return 499"))
    s.call("EVALSHA", sha("return 'run by sha'"), 0)

    s.section("script cache: INFO called from a script")
    s.call("SCRIPT", "FLUSH")
    s.call("CONFIG", "RESETSTAT")
    evals(0, 501)
    s.call("EVAL", cached, 0)
    s.call("EVAL", evicted, 0)


SEQUENCE = [job_queue, scheduler, locks, limiters, json_msgpack, api, table_returns, helpers, sort_in_scripts, pipelines, script_cache, bulk]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    out = sys.stdout
    out.write("# framework-style scripts: see scripts/framework-scripts.py\n")
    s = Session(args.port, out)
    try:
        for part in SEQUENCE:
            part(s)
    finally:
        s.close()


if __name__ == "__main__":
    main()
