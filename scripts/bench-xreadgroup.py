#!/usr/bin/env python3
"""XREADGROUP + XACK load at pipeline depth 16, against one or more servers
in alternating rounds (A B, B A, ...), so drift of a shared machine hits
all alike.

Each round: the stream `s` is loaded with N entries (1-1 .. 1-N, field `f`,
value `v`) by RESTORE of one DUMP payload (taken from the first server), so
every server reads the same bytes; each client has its own group (gI, from
0) and sends pairs `XREADGROUP GROUP gI c COUNT 1 STREAMS s >` + `XACK s gI
1-<n>` for the entry the read delivers, 16 commands per round trip. The
replies are known to the byte (they are checked), so a client only counts
bytes: the load costs little client CPU.

Usage: scripts/bench-xreadgroup.py [--pairs N] [--clients C] [--rounds R]
                                    [--depth 16] PORT [PORT ...]
       scripts/bench-xreadgroup.py --load-only [--source PORT2] ... PORT
           (one run, for callgrind: see docs/benchmarks.md)
Prints requests/s per server per round and the median, and the ratio of each
server's median to the first's.
"""
import argparse
import multiprocessing
import os
import socket
import statistics
import time


def enc(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")

    def reply(self):
        line = self.f.readline()
        t = line[:1]
        if t in b"+-:":
            if t == b"-":
                raise SystemExit("error: %r" % line)
            return line[1:-2]
        if t == b"$":
            n = int(line[1:-2])
            if n < 0:
                return None
            return self.f.read(n + 2)[:-2]
        if t == b"*":
            n = int(line[1:-2])
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise SystemExit("bad reply %r" % line)

    def call(self, *args):
        self.s.sendall(enc(*args))
        return self.reply()


def read_reply_len(seq):
    """Bytes of XREADGROUP's reply delivering entry 1-<seq>."""
    ident = b"1-%d" % seq
    return len(b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$%d\r\n%s\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
               % (len(ident), ident))


def client(port, group, pairs, depth, start_evt, out_q):
    c = Conn(port)
    chunks = []
    per = depth // 2
    seq = 1
    while seq <= pairs:
        n = min(per, pairs - seq + 1)
        buf = b""
        want = 0
        for i in range(seq, seq + n):
            buf += enc("XREADGROUP", "GROUP", group, "c", "COUNT", "1", "STREAMS", "s", ">")
            buf += enc("XACK", "s", group, "1-%d" % i)
            want += read_reply_len(i) + len(b":1\r\n")
        chunks.append((buf, want))
        seq += n
    start_evt.wait()
    t0 = time.perf_counter()
    sock = c.s
    for buf, want in chunks:
        sock.sendall(buf)
        got = 0
        while got < want:
            data = sock.recv(65536)
            if not data:
                raise SystemExit("closed")
            got += len(data)
        if got != want:
            raise SystemExit("reply size %d, expected %d" % (got, want))
    out_q.put(time.perf_counter() - t0)


def setup(port, payload, clients):
    c = Conn(port)
    c.call("FLUSHALL")
    assert c.call("RESTORE", "s", "0", payload) == b"OK"
    for i in range(clients):
        assert c.call("XGROUP", "CREATE", "s", "g%d" % i, "0") == b"OK"


def make_payload(port, pairs):
    c = Conn(port)
    c.call("DEL", "__bench_src")
    batch = b""
    for i in range(1, pairs + 1):
        batch += enc("XADD", "__bench_src", "1-%d" % i, "f", "v")
        if i % 1000 == 0 or i == pairs:
            c.s.sendall(batch)
            for _ in range(batch.count(b"*5\r\n")):
                c.reply()
            batch = b""
    payload = c.call("DUMP", "__bench_src")
    c.call("DEL", "__bench_src")
    return payload


def cpu_ticks(pid):
    """utime + stime of every thread of `pid`, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def run(port, pairs, clients, depth):
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    q = ctx.Queue()
    procs = [ctx.Process(target=client, args=(port, "g%d" % i, pairs, depth, start, q))
             for i in range(clients)]
    for p in procs:
        p.start()
    time.sleep(0.5)  # let every client build its buffers
    t0 = time.perf_counter()
    start.set()
    times = [q.get() for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    del times
    return 2 * pairs * clients / wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=100000, help="XREADGROUP+XACK pairs per client")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--depth", type=int, default=16)
    ap.add_argument("--load-only", action="store_true")
    ap.add_argument("--phase", choices=["both", "setup", "run"], default="both",
                    help="with --load-only: only the setup, or only the load")
    ap.add_argument("--source", type=int, default=None,
                    help="port of a server with XADD and DUMP to build the stream (default: the first)")
    ap.add_argument("--pids", default="", help="comma-separated server pids, one per port: "
                    "also report server CPU time per request")
    ap.add_argument("ports", type=int, nargs="+")
    a = ap.parse_args()
    if a.load_only and a.phase == "run":
        print("%.0f req/s" % run(a.ports[0], a.pairs, a.clients, a.depth))
        return
    payload = make_payload(a.source or a.ports[0], a.pairs)
    if a.load_only:
        setup(a.ports[0], payload, a.clients)
        if a.phase == "both":
            print("%.0f req/s" % run(a.ports[0], a.pairs, a.clients, a.depth))
        return
    pids = dict(zip(a.ports, [int(x) for x in a.pids.split(",") if x]))
    tick_ns = 1e9 / os.sysconf("SC_CLK_TCK")
    results = {p: [] for p in a.ports}
    cpu = {p: [] for p in a.ports}
    for r in range(a.rounds):
        order = a.ports if r % 2 == 0 else list(reversed(a.ports))
        for p in order:
            setup(p, payload, a.clients)
            t0 = cpu_ticks(pids[p]) if p in pids else 0
            rps = run(p, a.pairs, a.clients, a.depth)
            results[p].append(rps)
            line = "round %d port %d: %.0f req/s" % (r + 1, p, rps)
            if p in pids:
                ns = (cpu_ticks(pids[p]) - t0) * tick_ns / (2 * a.pairs * a.clients)
                cpu[p].append(ns)
                line += ", server CPU %.0f ns/req" % ns
            print(line, flush=True)
    ref = statistics.median(results[a.ports[0]])
    for p in a.ports:
        m = statistics.median(results[p])
        line = "port %d: median %.0f req/s, %.2fx the first" % (p, m, m / ref)
        if cpu[p]:
            line += "; median server CPU %.0f ns/req" % statistics.median(cpu[p])
        print(line)


if __name__ == "__main__":
    main()
