#!/usr/bin/env python3
"""Transactions and Pub/Sub fan-out, side by side (issue 10's performance figures).

redis-benchmark has no transaction test and measures PUBLISH only from the publisher's side, so this
script drives both workloads itself, against two or more servers in alternating rounds, like
../shared/tools/bench-vs.sh:

- `MULTI/SET/EXEC`: CONNS connections, each keeping DEPTH transactions (MULTI, SET key val, EXEC)
  in flight; transactions per second, and server CPU ns per transaction.
- `PUBLISH to N`: N subscribers on one channel, drained by a separate process; redis-benchmark
  pipelines PUBLISHes (-P 16 -c 10); messages delivered per second (publishes x N, over the time
  until the last subscriber has read everything), and server CPU ns per delivered message.

Server CPU is the sum of all server threads' run time (/proc/PID/task/*/schedstat), which the
machine's other load disturbs far less than the rates. Every test is bounded in count and time.

Usage: scripts/bench-tx-pubsub.py [-r ROUNDS] [-p BASEPORT] [--tx N] [--pub N] LABEL::CMD ...
  CMD runs in the foreground; {PORT} in it is replaced by the server's port. The first server is
  the reference for the ratio columns (other / first).
Example:
  scripts/bench-tx-pubsub.py -r 5 \\
    ferrokey::"target/release/ferrokey-server --port {PORT} --save ''" \\
    valkey::"valkey-server --port {PORT} --save '' --appendonly no"
"""
import argparse
import glob
import multiprocessing
import os
import selectors
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time

PAYLOAD = b"x" * 16
TX_REPLY = b"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n"


def enc(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def cpu_ns(pid):
    total = 0
    for f in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(f) as fh:
                total += int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def start(cmd, port):
    p = subprocess.Popen(["bash", "-c", "exec " + cmd.replace("{PORT}", str(port))],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            s = connect(port)
            s.sendall(enc("PING"))
            s.settimeout(2)
            if s.recv(16).startswith(b"+PONG"):
                s.close()
                return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise SystemExit(f"server did not answer on {port}: {cmd}")


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def bench_tx(port, pid, total, conns=8, depth=16):
    """Pipelined MULTI/SET/EXEC; returns (tx per second, server CPU ns per tx)."""
    batch = b"".join(enc("MULTI") + enc("SET", f"tx:{i}", PAYLOAD) + enc("EXEC")
                     for i in range(depth))
    want = len(TX_REPLY) * depth
    per_conn = total // (conns * depth)
    sel = selectors.DefaultSelector()
    state = {}
    socks = [connect(port) for _ in range(conns)]
    t0, c0 = time.perf_counter(), cpu_ns(pid)
    for s in socks:
        s.setblocking(False)
        s.sendall(batch)
        state[s] = [per_conn - 1, 0]
        sel.register(s, selectors.EVENT_READ)
    live = conns
    deadline = time.time() + 120
    while live and time.time() < deadline:
        for key, _ in sel.select(1):
            s = key.fileobj
            data = s.recv(1 << 16)
            if not data:
                raise SystemExit("server closed a connection")
            st = state[s]
            st[1] += len(data)
            while st[1] >= want:
                st[1] -= want
                if st[0] > 0:
                    st[0] -= 1
                    s.sendall(batch)
                else:
                    sel.unregister(s)
                    live -= 1
                    break
    t1, c1 = time.perf_counter(), cpu_ns(pid)
    for s in socks:
        s.close()
    if live:
        raise SystemExit("transactions did not finish in 120 s")
    n = per_conn * conns * depth
    return n / (t1 - t0), (c1 - c0) / n


def subscriber_proc(port, n, expect_bytes, ready, done):
    """Runs in its own process: N subscribers that read until each got expect_bytes."""
    socks = []
    for _ in range(n):
        s = connect(port)
        s.sendall(enc("SUBSCRIBE", "bench"))
        got = b""
        while got.count(b"\r\n") < 6:
            got += s.recv(4096)
        s.setblocking(False)
        socks.append(s)
    sel = selectors.DefaultSelector()
    left = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        left[s] = expect_bytes
    ready.set()
    deadline = time.time() + 180
    while left and time.time() < deadline:
        for key, _ in sel.select(1):
            s = key.fileobj
            data = s.recv(1 << 18)
            if not data:
                left.pop(s, None)
                sel.unregister(s)
                continue
            left[s] -= len(data)
            if left[s] <= 0:
                left.pop(s)
                sel.unregister(s)
    done.value = time.perf_counter() if not left else -1.0


def bench_publish(port, pid, subs, publishes):
    """Messages delivered per second and server CPU ns per delivered message."""
    msg = b"*3\r\n$7\r\nmessage\r\n$5\r\nbench\r\n$%d\r\n%s\r\n" % (len(PAYLOAD), PAYLOAD)
    ready = multiprocessing.Event()
    done = multiprocessing.Value("d", 0.0)
    sp = multiprocessing.Process(target=subscriber_proc,
                                 args=(port, subs, len(msg) * publishes, ready, done))
    sp.start()
    if not ready.wait(60):
        sp.kill()
        raise SystemExit("subscribers did not connect")
    t0, c0 = time.perf_counter(), cpu_ns(pid)
    subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(publishes), "-c", "10",
                    "-P", "16", "-q", "PUBLISH", "bench", PAYLOAD.decode()],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=180)
    sp.join(200)
    c1 = cpu_ns(pid)
    if sp.is_alive() or done.value < 0:
        sp.kill()
        raise SystemExit(f"subscribers missed messages ({subs} subscribers)")
    delivered = subs * publishes
    return delivered / (done.value - t0), (c1 - c0) / delivered


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-r", "--rounds", type=int, default=3)
    ap.add_argument("-p", "--baseport", type=int, default=7101)
    ap.add_argument("--tx", type=int, default=400_000, help="transactions per run")
    ap.add_argument("--pub", type=int, default=200_000, help="delivered messages per PUBLISH run")
    ap.add_argument("servers", nargs="+")
    a = ap.parse_args()
    servers = [(s.split("::", 1) if "::" in s else (s.split()[0], s)) for s in a.servers]
    tests = ["MULTI/SET/EXEC"] + [f"PUBLISH to {n}" for n in (1, 10, 100)]
    res = {(lbl, t): ([], []) for lbl, _ in servers for t in tests}
    print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} rounds={a.rounds} "
          f"{os.cpu_count()} cpus, load {open('/proc/loadavg').read().split()[0]}", file=sys.stderr)
    for r in range(a.rounds):
        order = list(enumerate(servers)) if r % 2 == 0 else list(enumerate(servers))[::-1]
        for i, (lbl, cmd) in order:
            port = a.baseport + i
            p = start(cmd, port)
            try:
                rate, cpu = bench_tx(port, p.pid, a.tx)
                res[(lbl, tests[0])][0].append(rate)
                res[(lbl, tests[0])][1].append(cpu)
                for t, n in zip(tests[1:], (1, 10, 100)):
                    rate, cpu = bench_publish(port, p.pid, n, max(a.pub // n, 2000))
                    res[(lbl, t)][0].append(rate)
                    res[(lbl, t)][1].append(cpu)
            finally:
                stop(p)
        print(f"# round {r + 1} done", file=sys.stderr)
    ref = servers[0][0]
    for what, idx, unit in (("per second (higher is better)", 0, "{:>12.0f}"),
                            ("server CPU ns per op (lower is better)", 1, "{:>12.0f}")):
        head = f"{what:<40}" + "".join(f"{lbl:>12}" for lbl, _ in servers)
        head += "".join(f"{lbl + '/' + ref:>20}" for lbl, _ in servers[1:])
        print(head)
        print("-" * len(head))
        for t in tests:
            meds = [statistics.median(res[(lbl, t)][idx]) for lbl, _ in servers]
            line = f"{t:<40}" + "".join(unit.format(m) for m in meds)
            line += "".join(f"{m / meds[0]:>20.2f}" for m in meds[1:])
            print(line)
        print()
    print(f"(medians over {a.rounds} rounds; MULTI/SET/EXEC: transactions; PUBLISH: messages "
          f"delivered to subscribers)")


if __name__ == "__main__":
    main()
