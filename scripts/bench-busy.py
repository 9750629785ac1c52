#!/usr/bin/env python3
"""What a busy script costs other clients: the latency of a command from a
second connection while a script runs past busy-reply-threshold.

Usage: scripts/bench-busy.py PORT [PINGS]
Sets busy-reply-threshold to 10 ms, starts `while true` in an EVAL on one
connection, waits on another until PING answers -BUSY, then times PINGS
(default 200) sequential PINGs there and prints the median and p99 in
microseconds; ends the script with SCRIPT KILL. Stdlib only.
"""
import socket
import sys
import time


def conn(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def line(s):
    buf = b""
    while not buf.endswith(b"\r\n"):
        d = s.recv(1)
        if not d:
            raise SystemExit("connection closed")
        buf += d
    return buf


def main():
    port = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    b = conn(port)
    b.sendall(cmd("CONFIG", "SET", "busy-reply-threshold", "10"))
    line(b)
    a = conn(port)
    a.sendall(cmd("EVAL", "local x = 0 while true do x = x + 1 end", "0"))
    deadline = time.time() + 10
    while True:
        b.sendall(cmd("PING"))
        if line(b).startswith(b"-BUSY"):
            break
        if time.time() > deadline:
            raise SystemExit("no -BUSY within 10 s")
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        b.sendall(cmd("PING"))
        line(b)
        lat.append((time.perf_counter() - t) * 1e6)
    b.sendall(cmd("SCRIPT", "KILL"))
    line(b)
    line(a)
    lat.sort()
    print("median %.0f us, p99 %.0f us over %d PINGs" % (lat[len(lat) // 2], lat[int(len(lat) * 0.99)], n))


if __name__ == "__main__":
    main()
