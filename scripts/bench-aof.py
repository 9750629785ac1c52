#!/usr/bin/env python3
"""The append-only file side by side: Valkey 9.1 beside a target server
(issue 12's figures for docs/benchmarks.md).

Each server runs alone in turn, with appendonly yes, on its own temp dir
(on --dir-root: a real disk, since fsync is what is measured):
  throughput: for appendfsync always and everysec, `redis-benchmark -c 50
          --csv` of `-t set -d 16 -r 1000000` and `-t incr -r 1000000`, at
          -P 1 and -P 16, on a fresh server per policy and round; rounds
          alternate the servers' order (A B, B A, ...), as
          ../shared/tools/bench-vs.sh does (its fixed test list has no AOF
          policies, hence this script). Requests/s and server CPU ns per
          request (all threads' run time from /proc/PID/task/*/schedstat),
          medians over --rounds;
  size:   the appendonlydir's total size after `redis-benchmark -t set -n
          SETS -r SETS` (the default 3-byte values) on a fresh server, read
          after SHUTDOWN NOSAVE so every write is in it;
  rewrite: KEYS keys of SIZE-byte values, named key:%012d as redis-benchmark
          -r names them, through `redis-cli --pipe` (scripts/bench-bgsave.py's
          fill: the load then overwrites keys spread over the whole keyspace,
          which is what a fork's copy-on-write pays for; --fill populate
          uses DEBUG POPULATE instead, whose key:N names the load adds to),
          then BGREWRITEAOF while `redis-benchmark -t set -r KEYS -d SIZE
          -P 16` writes in ~0.5 s segments (bench-bgsave.py's load); INFO
          persistence polled every 20 ms until aof_rewrite_in_progress:0
          with aof_rewrites moved on.
          Memory: every 20 ms, the VmRSS sum over the server and its
          descendants (a fork child's RSS counts, pages it shares with the
          parent twice, so this is an upper bound of the footprint; --pss
          samples Pss instead, which is exact but reading smaps_rollup of a
          big process stalls its page faults ~20 ms); before = the median
          over the last second before the rewrite; the server's VmHWM at
          the end; the rewrite time from BGREWRITEAOF to done, beside
          aof_last_rewrite_time_sec; write requests/s and p99 before and
          during the rewrite.
Automatic rewrites are off (auto-aof-rewrite-percentage 0) unless
--auto-rewrite: they would fire at a size-dependent moment of a throughput
test or of the fill, and collide with the measured BGREWRITEAOF.
Kills only the pids it started (and their fork children) and removes its
temp dirs. Exit 0 on success, 1 when a measurement failed (a benchmark
error, a failed rewrite), 2 on a setup failure.

Usage: scripts/bench-aof.py [--target BIN] [--valkey BIN] [--only valkey|target]
                            [--rounds N] [--p1-requests N] [--p16-requests N]
                            [--sets N] [--keys N] [--size B] [--fill pipe|populate]
                            [--parts throughput,size,rewrite] [--pss] [--auto-rewrite]
                            [--server-args ARGS]
                            [--port-base P] [--dir-root DIR] [--short]
  Defaults: 3 rounds, 100,000 requests at -P 1 and 1,000,000 at -P 16,
  1,000,000 SETs, 5,000,000 keys of 100 B. --short: 1 round, 10,000/50,000
  requests, 50,000 SETs, 200,000 keys (checks the plumbing, not figures).
"""
import argparse
import importlib.util
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
import aoflib  # noqa: E402  (scripts/aoflib.py, beside this file)

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "bench_bgsave", os.path.join(HERE, "bench-bgsave.py"))
bench_bgsave = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_bgsave)

SetupError = aoflib.SetupError
SAMPLE_S = 0.02


class BenchError(Exception):
    pass


class Servers:
    def __init__(self, a, tmp):
        self.a, self.tmp, self.live = a, tmp, []

    def start(self, binary, port, extra):
        d = tempfile.mkdtemp(prefix="data-", dir=self.tmp)
        if not self.a.auto_rewrite:
            extra = ["--auto-aof-rewrite-percentage", "0"] + extra
        s = aoflib.Server(binary, port, d, d + ".log", extra + shlex.split(self.a.server_args))
        self.live.append(s)
        return s, s.wait_loaded(self.a.load_timeout)

    def stop(self, s):
        s.kill()
        self.live.remove(s)
        shutil.rmtree(s.dir, ignore_errors=True)

    def kill_all(self):
        for s in list(self.live):
            self.stop(s)


def benchmark(a, port, args, n):
    out = subprocess.run([a.redis_benchmark, "-p", str(port), "-n", str(n), "--csv"] + args,
                         capture_output=True, text=True, timeout=3600)
    rows = [l for l in out.stdout.splitlines() if l.startswith('"') and not l.startswith('"test"')]
    if out.returncode != 0 or not rows:
        raise BenchError("redis-benchmark %s: %s %s" % (" ".join(args), out.stdout[-200:],
                                                        out.stderr[-200:]))
    return [float(x.strip('"')) for x in rows[0].split(",")[1:]]  # rps, avg, min, p50, p95, p99, max


TESTS = [
    ("SET P1", ["-t", "set", "-c", "50", "-P", "1", "-d", "16", "-r", "1000000"], "p1"),
    ("INCR P1", ["-t", "incr", "-c", "50", "-P", "1", "-r", "1000000"], "p1"),
    ("SET P16", ["-t", "set", "-c", "50", "-P", "16", "-d", "16", "-r", "1000000"], "p16"),
    ("INCR P16", ["-t", "incr", "-c", "50", "-P", "16", "-r", "1000000"], "p16"),
]


def throughput(a, servers, cols):
    """{(policy, test, name): [(rps, cpu ns/req)]} over the rounds."""
    res = {}
    for policy in ("always", "everysec"):
        for rnd in range(a.rounds):
            order = cols if rnd % 2 == 0 else cols[::-1]
            for name, binary, port in order:
                s, c = servers.start(binary, port, ["--appendfsync", policy])
                try:
                    for test, args, kind in TESTS:
                        n = a.p1_requests if kind == "p1" else a.p16_requests
                        c0 = aoflib.cpu_ns(s.pid)
                        f = benchmark(a, port, args, n)
                        c1 = aoflib.cpu_ns(s.pid)
                        res.setdefault((policy, test, name), []).append((f[0], (c1 - c0) / n))
                    p = aoflib.info(c)
                    if p.get("aof_last_write_status", "ok") != "ok":
                        raise BenchError("%s: aof_last_write_status:%s" % (
                            name, p.get("aof_last_write_status")))
                finally:
                    c.close()
                    servers.stop(s)
                print("  %-8s round %d %-12s %s" % (policy, rnd + 1, name, "  ".join(
                    "%s %.0f/s" % (t, res[(policy, t, name)][-1][0]) for t, _, _ in TESTS)),
                    flush=True)
    return res


def aof_size(a, servers, name, binary, port):
    s, c = servers.start(binary, port, [])
    try:
        t = time.monotonic()
        benchmark(a, port, ["-t", "set", "-r", str(a.sets)], a.sets)
        took = time.monotonic() - t
        keys = c("DBSIZE")
        cur = aoflib.info(c).get("aof_current_size", "-")
        s.shutdown(c)
        size = aoflib.aof_size(s.dir)
        files = len(os.listdir(os.path.join(s.dir, "appendonlydir")))
        return {"SETs": a.sets, "keys after": keys, "aof MB": size / 1e6,
                "bytes per SET": size / a.sets, "aof_current_size MB":
                int(cur) / 1e6 if str(cur).isdigit() else cur, "files": files,
                "fill s": took}
    finally:
        servers.stop(s)


class RssSampler(threading.Thread):
    """Every ~20 ms: (t, sum of VmRSS (or Pss) over the tree, processes)."""

    def __init__(self, pid, pss):
        super().__init__(daemon=True)
        self.pid, self.pss = pid, pss
        self.samples, self.stop_flag = [], threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            t = time.monotonic()
            pids = bench_bgsave.descendants(self.pid)
            kb = sum(bench_bgsave.pss_kb(p) if self.pss else aoflib.status_kb(p, "VmRSS")
                     for p in pids)
            self.samples.append((t, kb * 1024, len(pids)))
            self.stop_flag.wait(max(0.0, SAMPLE_S - (time.monotonic() - t)))


def rewrite_under_load(a, servers, name, binary, port):
    s, c = servers.start(binary, port, [])
    load = sampler = None
    r = {"keys": a.keys}
    try:
        t = time.monotonic()
        if a.fill == "populate":
            rep = c("DEBUG", "POPULATE", a.keys, "key", a.size)
            if isinstance(rep, Exception):
                raise BenchError("DEBUG POPULATE: %s" % rep)
        else:
            bench_bgsave.fill(a.redis_cli, port, a.keys, a.size)
        r["fill s"] = time.monotonic() - t
        if c("DBSIZE") != a.keys:
            raise BenchError("DBSIZE %s after the fill of %d" % (c("DBSIZE"), a.keys))
        sampler = RssSampler(s.pid, a.pss)
        sampler.start()
        load = bench_bgsave.Load(a.redis_benchmark, port, a.keys, a.size, 0.5)
        load.start()
        deadline = time.monotonic() + 60
        while len(load.segments) < 3 and load.error is None and time.monotonic() < deadline:
            time.sleep(SAMPLE_S)
        if load.error or len(load.segments) < 3:
            raise BenchError(load.error or "redis-benchmark made no progress")
        before = aoflib.info(c)
        t0 = time.monotonic()
        rep = c("BGREWRITEAOF")
        if isinstance(rep, Exception):
            raise BenchError("BGREWRITEAOF: %s" % rep)
        try:
            p = aoflib.wait_rewrite(c, before, a.rewrite_timeout)
        except SetupError as e:
            raise BenchError(str(e))
        t1 = time.monotonic()
        load.stop_flag.set()
        load.join(60)
        sampler.stop_flag.set()
        sampler.join(5)
        r["rewrite s"] = t1 - t0
        r["aof_last_rewrite_time_sec"] = p.get("aof_last_rewrite_time_sec", "-")
        pre = [x[1] for x in sampler.samples if t0 - 1.0 <= x[0] < t0]
        during = [x for x in sampler.samples if t0 <= x[0] <= t1 + SAMPLE_S]
        if not pre or not during:
            raise BenchError("no memory samples around the rewrite")
        mem = "pss" if a.pss else "rss"
        r[mem + " before MB"] = statistics.median(pre) / 1e6
        r[mem + " peak MB"] = max(x[1] for x in during) / 1e6
        r["peak/before"] = r[mem + " peak MB"] / r[mem + " before MB"]
        r["processes in rewrite"] = max(x[2] for x in during)
        r["VmHWM MB"] = aoflib.status_kb(s.pid, "VmHWM") * 1024 / 1e6
        over = [x for x in load.segments if x[1] >= t0 and x[0] <= t1]
        pre_seg = [x for x in load.segments if x[1] < t0]
        r["rps before"] = statistics.median(x[2] for x in pre_seg)
        r["rps during"] = statistics.median(x[2] for x in over)
        r["p99 before ms"] = statistics.median(x[4] for x in pre_seg)
        r["p99 during ms"] = max(x[4] for x in over)
        r["keys after"] = c("DBSIZE")
        r["base MB"] = sum(os.path.getsize(os.path.join(s.dir, "appendonlydir", f))
                           for f, _, t in aoflib.manifest(s.dir) if t == "b") / 1e6
        return r
    finally:
        for th in (load, sampler):
            if th is not None:
                th.stop_flag.set()
        if load is not None:
            if load.proc is not None and load.proc.poll() is None:
                load.proc.kill()
            load.join(10)
        c.close()
        servers.stop(s)


def table(title, cols, rows, results):
    print(title)
    print("%-26s" % "" + "".join("%18s" % n for n, _, _ in cols))
    for key, fmt in rows:
        cells = []
        for name, _, _ in cols:
            v = results.get(name, {}).get(key, "-")
            cells.append(fmt % v if isinstance(v, (int, float)) else str(v))
        print("%-26s" % key + "".join("%18s" % x for x in cells))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    refs = aoflib.reference_paths()
    ap.add_argument("--target", default=aoflib.DEFAULT_TARGET)
    ap.add_argument("--valkey", default=refs.get("valkey-server"))
    ap.add_argument("--redis-benchmark", default=refs.get("redis-benchmark", "redis-benchmark"))
    ap.add_argument("--redis-cli", default=refs.get("redis-cli", "redis-cli"))
    ap.add_argument("--only", choices=["valkey", "target"])
    ap.add_argument("--parts", default="throughput,size,rewrite")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--p1-requests", type=int, default=100000)
    ap.add_argument("--p16-requests", type=int, default=1000000)
    ap.add_argument("--sets", type=int, default=1000000)
    ap.add_argument("--keys", type=int, default=5000000)
    ap.add_argument("--size", type=int, default=100, help="value size of the rewrite's keys")
    ap.add_argument("--fill", choices=["pipe", "populate"], default="pipe",
                    help="pipe: key:%%012d through redis-cli --pipe, the names the load "
                         "overwrites; populate: DEBUG POPULATE (key:N, which the load adds to)")
    ap.add_argument("--pss", action="store_true", help="sample Pss instead of VmRSS")
    ap.add_argument("--auto-rewrite", action="store_true",
                    help="keep automatic rewrites on (default: auto-aof-rewrite-percentage 0)")
    ap.add_argument("--server-args", default="", help="more options for every server started")
    ap.add_argument("--rewrite-timeout", type=float, default=600)
    ap.add_argument("--load-timeout", type=float, default=120)
    ap.add_argument("--port-base", type=int, default=18560)
    ap.add_argument("--dir-root", default="/tmp", help="where the data dirs go (a real disk)")
    ap.add_argument("--short", action="store_true")
    a = ap.parse_args()
    if a.short:
        a.rounds, a.p1_requests, a.p16_requests = 1, 10000, 50000
        a.sets, a.keys = 50000, 200000
    parts = set(p.strip() for p in a.parts.split(","))
    tmp = tempfile.mkdtemp(prefix="bench-aof-", dir=a.dir_root)
    servers = Servers(a, tmp)
    try:
        cols = []
        if a.only != "target":
            aoflib.check_binary(a.valkey, "valkey")
            cols.append([aoflib.server_kind(a.valkey)[0], a.valkey, a.port_base])
        if a.only != "valkey":
            aoflib.check_binary(a.target, "target")
            name = aoflib.server_kind(a.target)[0]
            cols.append([name + " (2)" if cols and cols[0][0] == name else name, a.target,
                         a.port_base + 1])
        fs = subprocess.run(["df", "-T", tmp], capture_output=True, text=True).stdout.split()
        print("bench-aof: %s; %d round(s); data on %s (%s); load average %s" % (
            " vs ".join(c[0] for c in cols), a.rounds, a.dir_root, fs[-6] if len(fs) > 6 else "?",
            " ".join(open("/proc/loadavg").read().split()[:3])), flush=True)
        if "throughput" in parts:
            res = throughput(a, servers, cols)
            for k in (0, 1):
                print("%s, 50 clients, median of %d" % (
                    "requests/s" if k == 0 else "server CPU ns per request", a.rounds))
                head = "%-10s %-9s" % ("policy", "test") + "".join("%16s" % n[:15] for n, _, _ in cols)
                if len(cols) == 2:
                    head += "%12s" % "2nd/1st"
                print(head)
                for policy in ("always", "everysec"):
                    for test, _, _ in TESTS:
                        meds = [statistics.median(x[k] for x in res[(policy, test, n)])
                                for n, _, _ in cols]
                        line = "%-10s %-9s" % (policy, test) + "".join("%16.0f" % m for m in meds)
                        if len(meds) == 2:
                            line += "%12.2f" % (meds[1] / meds[0])
                        print(line)
        if "size" in parts:
            results = {n: aof_size(a, servers, n, b, p) for n, b, p in cols}
            table("AOF size after %d SETs (redis-benchmark -t set -n %d -r %d)" % (
                a.sets, a.sets, a.sets), cols,
                [("keys after", "%d"), ("aof MB", "%.1f"), ("bytes per SET", "%.1f"),
                 ("aof_current_size MB", "%.1f"), ("files", "%d"), ("fill s", "%.1f")], results)
        if "rewrite" in parts:
            results = {}
            for n, b, p in cols:
                results[n] = rewrite_under_load(a, servers, n, b, p)
                print("  rewrite %-12s %.2f s, peak %.0f MB" % (
                    n, results[n]["rewrite s"], results[n]["%s peak MB" % ("pss" if a.pss else "rss")]),
                    flush=True)
            mem = "pss" if a.pss else "rss"
            table("BGREWRITEAOF of %d keys under SET load (-P 16)" % a.keys, cols,
                  [("fill s", "%.1f"), ("rewrite s", "%.2f"), ("aof_last_rewrite_time_sec", "%s"),
                   ("base MB", "%.0f"), (mem + " before MB", "%.0f"), (mem + " peak MB", "%.0f"),
                   ("peak/before", "%.2fx"), ("VmHWM MB", "%.0f"), ("processes in rewrite", "%d"),
                   ("rps before", "%.0f"), ("rps during", "%.0f"), ("p99 before ms", "%.3f"),
                   ("p99 during ms", "%.3f"), ("keys after", "%d")], results)
    except (SetupError, OSError) as e:
        print("bench-aof: setup failed: %s" % e, file=sys.stderr)
        return 2
    except (BenchError, RuntimeError, subprocess.SubprocessError) as e:
        print("bench-aof: %s" % e, file=sys.stderr)
        return 1
    finally:
        servers.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
