#!/usr/bin/env python3
"""BGSAVE of big aggregates: how long the snapshot's main-thread steps get
(issue 11, docs/benchmarks.md "Big aggregates").

For each run, on a fresh temp dir:
  start:  BINARY --port PORT --save '' --loglevel verbose
          --enable-debug-command yes --slowlog-log-slower-than 1000;
  fill:   one 1 M-element value per kind asked (s: SADD s, l: RPUSH l,
          h: HSET h, z: ZADD z), 1,000 elements per command, pipelined;
  save:   SLOWLOG RESET, BGSAVE, poll INFO persistence every 50 ms until
          rdb_bgsave_in_progress:0 (rdb_last_bgsave_status must be ok),
          sampling the server's VmRSS meanwhile;
  report: the server's "Snapshot done" log line (its longest step in wall
          and CPU time, and the steps over 1 ms of CPU), the peak RSS over
          the RSS before the save, and the SLOWLOG entries (over 1 ms)
          logged during the save (the longest per command);
  --writes: right after BGSAVE, write to each value asked (SADD, RPUSH,
          HDEL, ZADD) and then DEL them, so the save takes their images
          from the write hooks rather than from its walk;
  --reload: then restart on the same file and compare DEBUG DIGEST with
          the digest before BGSAVE (the point-in-time image).
Prints one line per run and the median of the longest step's CPU time.

Usage: scripts/bench-big-save.py [-p PORT] [-k KINDS] [-n RUNS] [--writes]
                                 [--reload] BINARY
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

N = 1_000_000
BATCH = 1000


def enc(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class ServerError(Exception):
    pass


class Conn:
    def __init__(self, port, deadline_s=20):
        deadline = time.time() + deadline_s
        while True:
            try:
                self.s = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.f = self.s.makefile("rb")

    def reply(self):
        line = self.f.readline()
        if not line:
            raise ConnectionError("connection closed")
        t, rest = line[:1], line[1:-2]
        if t in (b"+", b":"):
            return rest
        if t == b"-":
            raise ServerError(rest.decode(errors="replace"))
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if t == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise ConnectionError("bad reply %r" % line)

    def cmd(self, *args):
        self.s.sendall(enc(args))
        return self.reply()

    def pipeline(self, cmds):
        self.s.sendall(b"".join(enc(c) for c in cmds))
        for _ in cmds:
            self.reply()

    def when_loaded(self, *args, deadline_s=120):
        deadline = time.time() + deadline_s
        while True:
            try:
                return self.cmd(*args)
            except ServerError as e:
                if "LOADING" not in str(e) or time.time() > deadline:
                    raise
                time.sleep(0.1)


def fill(c, kinds):
    for start in range(0, N, BATCH * 50):
        cmds = []
        for i in range(start, min(N, start + BATCH * 50), BATCH):
            r = range(i, i + BATCH)
            if "s" in kinds:
                cmds.append(["SADD", "s"] + ["m%d" % j for j in r])
            if "l" in kinds:
                cmds.append(["RPUSH", "l"] + ["e%d" % j for j in r])
            if "h" in kinds:
                cmds.append(["HSET", "h"] + [x for j in r for x in ("f%d" % j, "v%d" % j)])
            if "z" in kinds:
                cmds.append(["ZADD", "z"] + [x for j in r for x in (j, "z%d" % j)])
        c.pipeline(cmds)


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def start(binary, port, d, log, extra=()):
    return subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--enable-debug-command", "yes",
         "--dir", d, "--dbfilename", "big.rdb", *extra],
        stdout=log, stderr=subprocess.STDOUT)


WRITES = {"s": ("SADD", "s", "new"), "l": ("RPUSH", "l", "new"),
          "h": ("HDEL", "h", "f5"), "z": ("ZADD", "z", 1, "new")}


def run(binary, port, kinds, reload, writes):
    d = tempfile.mkdtemp(prefix="ferrokey-big-save-")
    log_path = os.path.join(d, "log.txt")
    log = open(log_path, "w")
    srv = start(binary, port, d, log,
                ("--loglevel", "verbose", "--slowlog-log-slower-than", "1000"))
    try:
        c = Conn(port)
        fill(c, kinds)
        digest = c.cmd("DEBUG", "DIGEST")
        c.cmd("SLOWLOG", "RESET")
        rss0 = peak = rss(srv.pid)
        t0 = time.time()
        c.cmd("BGSAVE")
        if writes:
            for k in kinds:
                c.cmd(*WRITES[k])
            for k in kinds:
                c.cmd("DEL", k)
        deadline = t0 + 300
        while True:
            peak = max(peak, rss(srv.pid))
            info = c.cmd("INFO", "persistence").decode()
            if "rdb_bgsave_in_progress:0" in info:
                break
            if time.time() > deadline:
                raise TimeoutError("BGSAVE still running after 300 s")
            time.sleep(0.05)
        took = time.time() - t0
        if "rdb_last_bgsave_status:ok" not in info:
            raise RuntimeError("BGSAVE failed")
        slow = c.cmd("SLOWLOG", "GET", "1000")
        log.flush()
        with open(log_path) as f:
            done = [l for l in f if "Snapshot done" in l][-1]
        cpu_us = int(done.split(" us (CPU)")[0].rsplit(" ", 1)[1])
        slow_by = {}
        for e in slow:
            name = e[3][0].decode(errors="replace").upper()
            slow_by[name] = max(slow_by.get(name, 0), int(e[2]))
        line = "bgsave %.2f s, rss %d MB + peak %d MB, slowlog %d %s%s" % (
            took, rss0 >> 20, (peak - rss0) >> 20, len(slow),
            sorted(slow_by.items()), done.strip().split("Snapshot done")[1])
        if reload:
            try:
                c.cmd("SHUTDOWN", "NOSAVE")
            except (ConnectionError, ServerError):
                pass
            srv.wait(30)
            srv = start(binary, port, d, log)
            c = Conn(port)
            # DEBUG answers while loading (an empty digest): wait on DBSIZE.
            c.when_loaded("DBSIZE")
            after = c.cmd("DEBUG", "DIGEST")
            line += "\n  reload: digest %s" % ("equal" if after == digest else
                                               "DIFFERENT %s %s" % (digest, after))
        return cpu_us, line
    finally:
        srv.kill()
        srv.wait()
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("-p", "--port", type=int, default=18401)
    ap.add_argument("-k", "--kinds", default="slhz", help="subset of slhz")
    ap.add_argument("-n", "--runs", type=int, default=3)
    ap.add_argument("--writes", action="store_true")
    ap.add_argument("--reload", action="store_true")
    a = ap.parse_args()
    cpus = []
    for _ in range(a.runs):
        cpu_us, line = run(a.binary, a.port, a.kinds, a.reload, a.writes)
        cpus.append(cpu_us)
        print(line, flush=True)
    print("median longest step: %d us of CPU" % statistics.median(cpus))


if __name__ == "__main__":
    main()
