#!/usr/bin/env python3
"""BGSAVE under write load, and loading at startup: Valkey 9.1 beside ferrokey
(issue 11's yardstick).

Each server runs alone in turn (rounds alternate between them), on its own
temp dir under /tmp:
  fill:   KEYS string keys of SIZE-byte values, named as redis-benchmark
          -r names them (key:%012d, 0..KEYS-1), streamed through
          `redis-cli --pipe`; DBSIZE must then be KEYS. (redis-benchmark
          -r KEYS -n KEYS would leave only ~63% of the names set; DEBUG
          POPULATE names keys key:N, which the benchmark below would add
          to instead of overwrite.)
  load:   `redis-benchmark -t set -r KEYS -d SIZE -P 16 --csv -n N` in a
          loop of ~0.5 s segments, overwriting those keys throughout;
  save:   latency-monitor-threshold 1, LATENCY RESET, BGSAVE; poll INFO
          persistence every 20 ms until rdb_bgsave_in_progress:0 with
          rdb_saves (or rdb_last_save_time, or LASTSAVE) moved on;
  memory: every ~20 ms, the sum of Pss (/proc/PID/smaps_rollup) over the
          server and all its descendants (a fork child's copy-on-write
          pages count); before = median over the last second before
          BGSAVE, peak = the highest sample during the save;
  stall:  the highest max_ms in LATENCY LATEST (Valkey's `fork` event);
          time, stall and p99 come from a first save run without memory
          sampling (reading smaps_rollup holds the server's mmap lock for
          ~20 ms and stalls its page faults), memory from a second save;
  p99:    redis-benchmark's p99 for the segments overlapping the save (the
          highest of them), and the median of the segments before it;
  reload: kill the server, start it on its own file, time until INFO
          loading:0 and DBSIZE = KEYS, and read its "DB loaded from disk:
          X seconds" log line.
Prints one table (medians over --rounds). Kills only the pids it started and
removes its temp dirs (the RDB files are ~400 MB).

Usage: scripts/bench-bgsave.py [FERROKEY_BIN] [--valkey BIN] [--rounds N]
                               [--keys N] [--size B] [--port-base P]
  FERROKEY_BIN defaults to target/release/ferrokey-server; passing a
  valkey-server there measures Valkey against itself (to test the plumbing).
"""
import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SAMPLE_S = 0.02


class BenchError(Exception):
    pass


class Conn:
    """A minimal RESP2 client (errors come back as Exception values)."""

    def __init__(self, port, timeout=30):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.s.makefile("rb")

    def __call__(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return self.read()

    def read(self):
        line = self.f.readline()
        if not line:
            raise OSError("connection closed")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return Exception(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise OSError("bad reply %r" % line)

    def close(self):
        self.f.close()
        self.s.close()


def info_fields(c, section):
    info = c("INFO", section)
    if not isinstance(info, bytes):
        raise BenchError("INFO %s: %s" % (section, info))
    return dict(l.split(":", 1) for l in info.decode().splitlines() if ":" in l)


# ---------------------------------------------------------------------------
# Processes


def server_name(binary):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True,
                         timeout=10).stdout
    m = re.search(r"(Redis|Valkey) server v=(\d+\.\d+)", out)
    if m:
        return "%s-%s" % (m.group(1).lower(), m.group(2))
    return "ferrokey" if "ferrokey" in out else os.path.basename(binary)


class Server:
    def __init__(self, binary, port, dir_):
        self.port, self.dir = port, dir_
        self.log_path = os.path.join(dir_, "server.log")
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", dir_,
                "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no"]
        with open(self.log_path, "ab") as log:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    def wait_loaded(self, timeout):
        """A connection once INFO says loading:0."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("server exited (%s): %s" % (self.proc.returncode, self.log_tail()))
            try:
                c = Conn(self.port)
                while time.monotonic() < deadline:
                    if info_fields(c, "persistence").get("loading") == "0":
                        return c
                    time.sleep(0.01)
                c.close()
            except OSError:
                time.sleep(0.01)
        raise BenchError("not loaded after %d s: %s" % (timeout, self.log_tail()))

    def log_tail(self, n=4):
        with open(self.log_path, "rb") as f:
            return " | ".join(l.strip() for l in f.read().decode(errors="replace").splitlines()[-n:])

    def loaded_log_seconds(self):
        with open(self.log_path, "rb") as f:
            m = re.findall(rb"DB loaded from disk: ([0-9.]+) seconds", f.read())
        return float(m[-1]) if m else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def descendants(pid):
    """pid and every process below it (a scan of /proc: this kernel has no
    /proc/PID/task/TID/children)."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid, "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass  # a fork child that just exited
    return 0


class Sampler(threading.Thread):
    """Samples the Pss sum of a process tree every ~20 ms."""

    def __init__(self, pid, every):
        super().__init__(daemon=True)
        self.every = every
        self.pid, self.samples, self.stop_flag = pid, [], threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            t = time.monotonic()
            pids = descendants(self.pid)
            self.samples.append((t, sum(pss_kb(p) for p in pids) * 1024, len(pids)))
            self.stop_flag.wait(max(0.0, self.every - (time.monotonic() - t)))


class Load(threading.Thread):
    """redis-benchmark SET overwrites in ~segment_s segments until stopped;
    each segment's (start, end, rps, p50, p99, max)."""

    def __init__(self, bench, port, keys, size, segment_s):
        super().__init__(daemon=True)
        self.bench, self.port, self.keys, self.size = bench, port, keys, size
        self.segment_s, self.segments, self.error = segment_s, [], None
        self.stop_flag, self.proc = threading.Event(), None

    def run(self):
        n = 100000
        while not self.stop_flag.is_set():
            t0 = time.monotonic()
            self.proc = subprocess.Popen(
                [self.bench, "-p", str(self.port), "-t", "set", "-r", str(self.keys),
                 "-d", str(self.size), "-P", "16", "-n", str(n), "--csv"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
            out, err = self.proc.communicate()
            t1 = time.monotonic()
            rows = [l for l in out.decode().splitlines() if l.startswith('"SET"')]
            if self.proc.returncode != 0 or not rows:
                self.error = "redis-benchmark: %s %s" % (out.decode()[-200:], err.decode()[-200:])
                return
            f = [float(x.strip('"')) for x in rows[0].split(",")[1:]]
            # rps, avg, min, p50, p95, p99, max
            self.segments.append((t0, t1, f[0], f[3], f[5], f[6]))
            n = max(20000, int(f[0] * self.segment_s))


# ---------------------------------------------------------------------------
# One round on one server


def fill(cli, port, keys, size):
    """KEYS SETs of key:%012d through redis-cli --pipe."""
    rnd = random.Random(1)
    alphabet = bytes(range(33, 127))
    values = [bytes(rnd.choice(alphabet) for _ in range(size)) for _ in range(1024)]
    head = b"*3\r\n$3\r\nSET\r\n$16\r\n"
    vhead = b"\r\n$%d\r\n" % size
    p = subprocess.Popen([cli, "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        chunk = 20000
        for base in range(0, keys, chunk):
            p.stdin.write(b"".join(
                b"%skey:%012d%s%s\r\n" % (head, i, vhead, values[i & 1023])
                for i in range(base, min(keys, base + chunk))))
        p.stdin.close()
        out = p.stdout.read().decode(errors="replace")
        p.wait(timeout=600)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if p.returncode != 0 or "errors: 0," not in out:
        raise BenchError("redis-cli --pipe: %s" % out[-300:])


def save_marks(c, p):
    """What moves on when a save completes: rdb_saves, else the last save
    time (INFO's, else LASTSAVE's; the fill took over a second)."""
    return (p.get("rdb_saves"), p.get("rdb_last_save_time") or c("LASTSAVE"))


def poll_save(c, marks0, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = info_fields(c, "persistence")
        marks = save_marks(c, p)
        moved = marks[0] != marks0[0] if marks0[0] is not None else marks[1] != marks0[1]
        if p.get("rdb_bgsave_in_progress", "0") == "0" and moved:
            return time.monotonic(), p
        time.sleep(SAMPLE_S)
    raise BenchError("BGSAVE still running after %d s" % timeout)


def save_under_load(a, tools, c, srv, port, sample):
    """One BGSAVE under the overwrite load: its time, stalls and client
    latency, and (with `sample`) the memory during it."""
    r = {}
    load = sampler = None
    try:
        for cmd in (("CONFIG", "SET", "latency-monitor-threshold", "1"), ("LATENCY", "RESET")):
            if isinstance(c(*cmd), Exception):
                raise BenchError("%s: %s" % (" ".join(cmd), c(*cmd)))
        if sample:
            sampler = Sampler(srv.proc.pid, a.sample_ms / 1000)
            sampler.start()
        load = Load(tools["redis-benchmark"], port, a.keys, a.size, a.segment_seconds)
        load.start()
        deadline = time.monotonic() + 60
        while len(load.segments) < 3 and load.error is None and time.monotonic() < deadline:
            time.sleep(SAMPLE_S)
        if load.error or len(load.segments) < 3:
            raise BenchError(load.error or "redis-benchmark made no progress")
        marks0 = save_marks(c, info_fields(c, "persistence"))
        t0 = time.monotonic()
        reply = c("BGSAVE")
        if isinstance(reply, Exception):
            raise BenchError("BGSAVE: %s" % reply)
        t1, p1 = poll_save(c, marks0, a.save_timeout)
        if p1.get("rdb_last_bgsave_status", "ok") != "ok":
            raise BenchError("BGSAVE failed: %s" % srv.log_tail())
        load.stop_flag.set()
        load.join(60)
        r["bgsave s"] = t1 - t0
        r["rdb_last_bgsave_time_sec"] = float(p1.get("rdb_last_bgsave_time_sec", "nan"))
        if sampler is not None:
            sampler.stop_flag.set()
            sampler.join(5)
            before = [s[1] for s in sampler.samples if t0 - 1.0 <= s[0] < t0]
            during = [s for s in sampler.samples if t0 <= s[0] <= t1 + SAMPLE_S]
            if not before or not during:
                raise BenchError("no memory samples around the save")
            r["pss before MB"] = statistics.median(before) / 1e6
            r["pss peak MB"] = max(s[1] for s in during) / 1e6
            r["peak/before"] = r["pss peak MB"] / r["pss before MB"]
            r["processes in save"] = max(s[2] for s in during)
            r["sample every ms"] = (t1 - t0) * 1000 / len(during)
        lat = c("LATENCY", "LATEST")
        events = [(e[0].decode(), e[3]) for e in lat] if isinstance(lat, list) else []
        r["stall max ms"] = max([ms for _, ms in events] + [0])
        r["stall event"] = max(events, key=lambda e: e[1])[0] if events else "-"
        r["fork event ms"] = max([ms for n, ms in events if n == "fork"] + [0])
        over = [s for s in load.segments if s[1] >= t0 and s[0] <= t1]
        pre = [s for s in load.segments if s[1] < t0]
        r["p99 during ms"] = max(s[4] for s in over)
        r["max during ms"] = max(s[5] for s in over)
        r["p99 before ms"] = statistics.median(s[4] for s in pre)
        r["rps before"] = statistics.median(s[2] for s in pre)
        r["rps during"] = statistics.median(s[2] for s in over)
        return r
    finally:
        for th in (load, sampler):
            if th is not None:
                th.stop_flag.set()
        if load is not None:
            if load.proc is not None and load.proc.poll() is None:
                load.proc.kill()
            load.join(10)


def one_round(a, tools, binary, port, tmp_root):
    r = {}
    d = tempfile.mkdtemp(prefix="bench-bgsave-", dir=tmp_root)
    srv = Server(binary, port, d)
    try:
        c = srv.wait_loaded(30)
        t = time.monotonic()
        fill(tools["redis-cli"], port, a.keys, a.size)
        r["fill s"] = time.monotonic() - t
        if c("DBSIZE") != a.keys:
            raise BenchError("DBSIZE %s after the fill, want %d" % (c("DBSIZE"), a.keys))
        # Pass 1, latency: no memory sampling (reading smaps_rollup holds
        # the server's mmap lock for ~20 ms, which stalls its page faults and
        # would be counted as the server's own stall).
        lat_run = save_under_load(a, tools, c, srv, port, sample=False)
        for k in ("bgsave s", "rdb_last_bgsave_time_sec", "stall max ms", "stall event",
                  "fork event ms", "p99 during ms", "max during ms", "p99 before ms",
                  "rps before", "rps during"):
            r[k] = lat_run[k]
        # Pass 2, memory: the same save again, sampled.
        mem_run = save_under_load(a, tools, c, srv, port, sample=True)
        for k in ("pss before MB", "pss peak MB", "peak/before", "processes in save",
                  "sample every ms"):
            r[k] = mem_run[k]
        r["dbsize after"] = c("DBSIZE")
        c.close()
        srv.stop()
        rdb = os.path.join(d, "dump.rdb")
        r["rdb MB"] = os.path.getsize(rdb) / 1e6
        with open(rdb, "rb") as f:
            r["rdb header"] = f.read(9).decode(errors="replace")

        # Reload: start to loading:0 plus the whole keyspace there.
        srv = Server(binary, port, d)
        c = srv.wait_loaded(a.save_timeout)
        n = c("DBSIZE")
        r["load s"] = time.monotonic() - srv.started
        if n != r["dbsize after"]:
            raise BenchError("loaded %s keys, saved %s" % (n, r["dbsize after"]))
        r["load log s"] = srv.loaded_log_seconds()
        c.close()
        return r
    finally:
        srv.stop()
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------


ROWS = [
    ("fill s", "%.1f"), ("pss before MB", "%.0f"), ("bgsave s", "%.2f"),
    ("rdb_last_bgsave_time_sec", "%.0f"), ("pss peak MB", "%.0f"), ("peak/before", "%.2fx"),
    ("processes in save", "%d"), ("sample every ms", "%.0f"), ("stall max ms", "%d"),
    ("stall event", "%s"), ("fork event ms", "%d"), ("p99 before ms", "%.3f"), ("p99 during ms", "%.3f"),
    ("max during ms", "%.3f"), ("rps before", "%.0f"), ("rps during", "%.0f"), ("dbsize after", "%d"),
    ("rdb MB", "%.0f"), ("rdb header", "%s"), ("load s", "%.2f"), ("load log s", "%s"),
]


def median_of(values):
    nums = [v for v in values if isinstance(v, (int, float))]
    if len(nums) == len(values) and nums:
        return statistics.median(nums)
    return values[0] if len(set(map(str, values))) == 1 else "/".join(map(str, values))


def tool_paths():
    tool = os.path.join(ROOT, "..", "shared", "tools", "reference-servers.sh")
    if not os.path.exists(tool):
        tool = "/work/shared/tools/reference-servers.sh"
    out = subprocess.run(["bash", tool], capture_output=True, text=True, check=True).stdout
    return dict(l.split(None, 1) for l in out.splitlines() if len(l.split(None, 1)) == 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("target", nargs="?", default=os.path.join(ROOT, "target", "release", "ferrokey-server"))
    ap.add_argument("--valkey", help="valkey-server (default: from reference-servers.sh)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--keys", type=int, default=3000000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--port-base", type=int, default=18750)
    ap.add_argument("--segment-seconds", type=float, default=0.5,
                    help="length of each redis-benchmark run (p99 is per run)")
    ap.add_argument("--sample-ms", type=float, default=20,
                    help="Pss sampling period; reading smaps_rollup of a 500 MB process "
                         "takes ~20 ms, so the real period is printed")
    ap.add_argument("--save-timeout", type=float, default=300)
    ap.add_argument("--only", choices=["valkey", "target"], help="measure one column only")
    a = ap.parse_args()
    tools = {k: v.strip() for k, v in tool_paths().items()}
    valkey = a.valkey or tools["valkey-server"]
    cols = []
    if a.only != "target":
        cols.append((server_name(valkey), valkey))
    if a.only != "valkey":
        if not os.access(a.target, os.X_OK):
            print("bench-bgsave: no binary at %s (cargo build --release)" % a.target, file=sys.stderr)
            return 2
        name = server_name(a.target)
        cols.append((name + " (2)" if cols and name == cols[0][0] else name, a.target))
    print("bench-bgsave: %d keys x %d B, %d round(s), load average %s" % (
        a.keys, a.size, a.rounds, " ".join(open("/proc/loadavg").read().split()[:3])))
    tmp_root = tempfile.mkdtemp(prefix="bench-bgsave-", dir="/tmp")
    results = {name: [] for name, _ in cols}
    try:
        for rnd in range(a.rounds):
            for i, (name, binary) in enumerate(cols):
                t = time.monotonic()
                try:
                    r = one_round(a, tools, binary, a.port_base + i, tmp_root)
                except BenchError as e:
                    print("bench-bgsave: %s round %d failed: %s" % (name, rnd + 1, e))
                    return 1
                results[name].append(r)
                print("  round %d %-12s bgsave %.2f s, peak/before %.2fx, stall %d ms, "
                      "p99 %.2f ms, load %.2f s (%.0f s)" % (
                          rnd + 1, name, r["bgsave s"], r["peak/before"], r["stall max ms"],
                          r["p99 during ms"], r["load s"], time.monotonic() - t))
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    print("%-26s" % ("median of %d" % a.rounds) + "".join("%22s" % n for n, _ in cols))
    for key, fmt in ROWS:
        cells = []
        for name, _ in cols:
            v = median_of([r[key] for r in results[name]])
            cells.append(fmt % v if isinstance(v, (int, float)) and "%s" not in fmt
                         else str(v if v is not None else "-"))
        print("%-26s" % key + "".join("%22s" % x for x in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
