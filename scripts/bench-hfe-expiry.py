#!/usr/bin/env python3
"""The active expiry of many hash-field TTLs due at once: how long until
they are all gone, and how long the main thread stalls meanwhile, as a
client that PINGs every millisecond sees it.

Usage: scripts/bench-hfe-expiry.py [--rt] [--keep] PORT [HASHES] [FIELDS] [ROUNDS]
Fills HASHES (default 10,000) hashes of FIELDS (default 100) fields, gives
every field the same HPEXPIREAT (about a second ahead, by the server's
TIME), then from that moment PINGs every 1 ms on one connection and reads
INFO's expired_fields every 10 ms on another until all are counted (at
most 60 s). With --keep every hash also has a field without TTL, so the
hashes stay (and no hash empties whole). Prints
the time to clear, the main thread's CPU time meanwhile (INFO cpu,
PINGs and DBSIZEs included), the PING round trips (max, p99, p50, how many took
over 5 ms) and the `expire-cycle` event's worst and per-second worsts
(LATENCY LATEST / HISTORY at `latency-monitor-threshold 1`).
Works against Valkey 9.1 and ferrokey alike; FLUSHALLs the server first.
On a loaded machine, descheduling dominates the stalls; with --rt the
timed phase (not the fill) runs at SCHED_FIFO 1 (root), for a server
started under `chrt -f 1`, so what is left is the server's own. Stdlib
only.
"""
import os
import socket
import sys
import time


def conn(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Reader:
    """Just enough RESP to read replies (arrays, bulks, lines)."""

    def __init__(self, s):
        self.s = s
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise SystemExit("connection closed")
            self.buf += d
        i = self.buf.index(b"\r\n")
        line, self.buf = self.buf[:i], self.buf[i + 2:]
        return line

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b":"):
            return rest
        if t == b"-":
            raise SystemExit("server error: %s" % rest.decode())
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                d = self.s.recv(65536)
                if not d:
                    raise SystemExit("connection closed")
                self.buf += d
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v
        if t == b"*":
            n = int(rest)
            return [self.reply() for _ in range(max(n, 0))]
        raise SystemExit("unexpected reply %r" % line)


def call(s, r, *args):
    s.sendall(cmd(*args))
    return r.reply()


def fill(s, r, hashes, fields):
    tail = []
    for i in range(fields):
        tail += [b"f%d" % i, b"v"]
    if KEEP:
        tail += [b"keep", b"v"]
    pipeline(s, r, (cmd(b"HSET", b"h:%d" % i, *tail) for i in range(hashes)))


def expire_all(s, r, hashes, fields, at_ms):
    names = [b"f%d" % i for i in range(fields)]
    pipeline(
        s,
        r,
        (cmd(b"HPEXPIREAT", b"h:%d" % i, at_ms, b"FIELDS", fields, *names) for i in range(hashes)),
    )


def pipeline(s, r, cmds, batch=100):
    """Sends `cmds` 100 at a time, reading each batch's replies."""
    out = []
    for c in cmds:
        out.append(c)
        if len(out) == batch:
            s.sendall(b"".join(out))
            for _ in out:
                r.reply()
            out = []
    if out:
        s.sendall(b"".join(out))
        for _ in out:
            r.reply()


def expired_fields(s, r):
    """INFO stats `expired_fields`."""
    for line in call(s, r, "INFO", "stats").decode().splitlines():
        if line.startswith("expired_fields:"):
            return int(line.split(":")[1])
    raise SystemExit("no expired_fields in INFO stats")


def main_thread_cpu(s, r):
    """Seconds of CPU the server's main thread has used (INFO cpu)."""
    info = call(s, r, "INFO", "cpu").decode()
    fields = dict(l.split(":", 1) for l in info.splitlines() if ":" in l)
    return float(fields["used_cpu_user_main_thread"]) + float(fields["used_cpu_sys_main_thread"])


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def round_once(port, hashes, fields):
    s = conn(port)
    r = Reader(s)
    call(s, r, "FLUSHALL")
    call(s, r, "CONFIG", "SET", "latency-monitor-threshold", "1")
    fill(s, r, hashes, fields)
    t = time.time()
    expire_all(s, r, hashes, fields, 1 << 45)
    took = time.time() - t
    sec, usec = call(s, r, "TIME")
    server_ms = int(sec) * 1000 + int(usec) // 1000
    # Due a second after every TTL is set (the TTLs are set twice: the
    # first pass timed the second; twice its time, as the machine varies).
    at_ms = server_ms + 1000 + int(2 * took * 1000)
    expire_all(s, r, hashes, fields, at_ms)
    total = int(call(s, r, "DBSIZE"))
    if total != hashes:
        raise SystemExit("filled %d hashes, wanted %d" % (total, hashes))
    base = expired_fields(s, r)
    wait = at_ms / 1000.0 - time.time()
    if wait < 0:
        raise SystemExit("filling took past the expire time: use fewer fields")
    time.sleep(wait)
    call(s, r, "LATENCY", "RESET")
    cpu0 = main_thread_cpu(s, r)
    p = conn(port)
    pr = Reader(p)
    if RT:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    due = at_ms / 1000.0
    lat = []
    cleared = None
    deadline = time.time() + 60
    tick = 0
    next_ping = time.perf_counter()
    while time.time() < deadline:
        t0 = time.perf_counter()
        p.sendall(b"*1\r\n$4\r\nPING\r\n")
        pr.reply()
        lat.append((time.perf_counter() - t0) * 1000)
        tick += 1
        if tick % 10 == 0 and expired_fields(s, r) - base >= hashes * fields:
            cleared = time.time() - due
            break
        next_ping += 0.001
        pause = next_ping - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        else:
            next_ping = time.perf_counter()
    if RT:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    cpu = main_thread_cpu(s, r) - cpu0
    cycle = None
    for ev in call(s, r, "LATENCY", "LATEST"):
        if ev[0] == b"expire-cycle":
            cycle = (int(ev[2]), int(ev[3]))
    # The worst expire-cycle of each second, oldest first.
    history = [int(x[1]) for x in call(s, r, "LATENCY", "HISTORY", "expire-cycle")]
    s.close()
    p.close()
    return cleared, cpu, lat, cycle, history


RT = False
KEEP = False


def main():
    global RT, KEEP
    args = sys.argv[1:]
    while args and args[0].startswith("--"):
        if args[0] == "--rt":
            RT = True
        elif args[0] == "--keep":
            KEEP = True
        else:
            raise SystemExit("unknown option %s" % args[0])
        args = args[1:]
    port = int(args[0])
    hashes = int(args[1]) if len(args) > 1 else 10000
    fields = int(args[2]) if len(args) > 2 else 100
    rounds = int(args[3]) if len(args) > 3 else 1
    for _ in range(rounds):
        cleared, cpu, lat, cycle, history = round_once(port, hashes, fields)
        done = "%.2f s" % cleared if cleared is not None else "not within 60 s"
        print(
            "%d fields cleared in %s (main thread CPU %.2f s); PING ms max %.1f p99 %.2f p50 %.2f, %d of %d over 5 ms; "
            "expire-cycle max ms %s, per second %s"
            % (
                hashes * fields,
                done,
                cpu,
                max(lat),
                pct(lat, 99),
                pct(lat, 50),
                sum(1 for x in lat if x > 5),
                len(lat),
                cycle[1] if cycle else "-",
                history,
            )
        )


if __name__ == "__main__":
    main()
