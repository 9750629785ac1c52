#!/usr/bin/env python3
"""Slow Pub/Sub subscribers against the `pubsub` output buffer limit (issue 10).

SUBS subscribers subscribe to one channel and never read; one more subscriber reads everything; a
publisher pipelines MSGS PUBLISHes of SIZE bytes to that channel. With the default
`client-output-buffer-limit pubsub 32mb 8mb 60`, every slow subscriber passes the hard limit and is
disconnected, and the reader receives every message. Reports the server's peak RSS (the largest
VmRSS sampled every 20 ms, and VmHWM), how many slow subscribers were dropped, and how many messages
the reader got.

Usage: scripts/pubsub-slow-subscribers.py PORT [--subs 100] [--msgs 40000] [--size 1024]
  against a freshly started server (Valkey or ferrokey) on 127.0.0.1:PORT; the server's pid is read
  from INFO server (process_id), so it must run on this machine.
"""
import argparse
import socket
import threading
import time


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


def query(port, *args):
    """One command on a new connection; the reply's raw text."""
    s = connect(port)
    s.sendall(enc(*args))
    s.settimeout(5)
    data = b""
    while True:
        data += s.recv(1 << 20)
        if data.startswith(b"$"):
            n = int(data[1:data.index(b"\r\n")])
            if len(data) >= data.index(b"\r\n") + 2 + n + 2:
                break
        elif data.endswith(b"\r\n"):
            break
    s.close()
    return data.decode(errors="replace")


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--subs", type=int, default=100)
    ap.add_argument("--msgs", type=int, default=40000)
    ap.add_argument("--size", type=int, default=1024)
    a = ap.parse_args()
    info = query(a.port, "INFO", "server")
    pid = int(info.split("process_id:")[1].split("\r\n")[0])
    rss0 = status_kb(pid, "VmRSS")

    peak = [rss0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], status_kb(pid, "VmRSS"))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    channel = b"slow-subscribers"
    slow = []
    for _ in range(a.subs):
        s = connect(a.port)
        s.sendall(enc("SUBSCRIBE", channel))
        slow.append(s)
    reader = connect(a.port)
    reader.sendall(enc("SUBSCRIBE", channel))
    payload = b"x" * a.size
    one = enc("message", channel, payload)  # a RESP2 message has the same bytes
    sub_reply = b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(channel), channel)
    got = [0]

    def read_all():
        want = len(sub_reply) + len(one) * a.msgs
        n = 0
        reader.settimeout(120)
        while n < want:
            d = reader.recv(1 << 20)
            if not d:
                break
            n += len(d)
        got[0] = max(0, n - len(sub_reply)) // len(one)

    rt = threading.Thread(target=read_all)
    rt.start()
    deadline = time.time() + 30
    while time.time() < deadline:
        r = query(a.port, "PUBSUB", "NUMSUB", channel)
        if r.endswith(":%d\r\n" % (a.subs + 1)):
            break
        time.sleep(0.01)

    pub = connect(a.port)
    replies = [0]

    def read_replies():
        pub.settimeout(300)
        buf = b""
        while replies[0] < a.msgs:
            d = pub.recv(1 << 20)
            if not d:
                break
            buf += d
            k = buf.count(b"\r\n")
            replies[0] += k
            buf = buf[buf.rfind(b"\r\n") + 2:]

    pt = threading.Thread(target=read_replies)
    pt.start()
    t0 = time.time()
    cmd = enc("PUBLISH", channel, payload)
    batch = 1000
    for i in range(0, a.msgs, batch):
        pub.sendall(cmd * min(batch, a.msgs - i))
    pt.join()
    rt.join()
    elapsed = time.time() - t0
    # Dropped subscribers: those no longer counted by the server.
    left = None
    deadline = time.time() + 10
    while time.time() < deadline:
        r = query(a.port, "PUBSUB", "NUMSUB", channel)
        left = int(r.rsplit(":", 1)[1])
        if left == 1:
            break
        time.sleep(0.05)
    stop.set()
    sampler.join()
    hwm = status_kb(pid, "VmHWM")
    print(
        "subs=%d msgs=%d size=%d publish_replies=%d delivered_to_reader=%d dropped=%d "
        "rss_start_mb=%.0f peak_rss_mb=%.0f vmhwm_mb=%.0f seconds=%.1f"
        % (a.subs, a.msgs, a.size, replies[0], got[0], a.subs + 1 - left, rss0 / 1024,
           peak[0] / 1024, hwm / 1024, elapsed)
    )
    for s in slow:
        s.close()
    reader.close()
    pub.close()


if __name__ == "__main__":
    main()
