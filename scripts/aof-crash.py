#!/usr/bin/env python3
"""Crash safety of the append-only file (issue 12's yardstick): every write
a client saw acknowledged is there after a `kill -9` and a restart.

For each fsync policy (`appendfsync always`, then `everysec`), on a fresh
data dir:
  write:   THREADS connections (one thread and socket each) send, PIPELINE
           at a time, INCRs on COUNTERS shared counters and SETs of unique
           keys (u:CYCLE:THREAD:SEQ, a value naming the same); each reply
           read in full is an acknowledgement, recorded with its time (an
           INCR's reply is the counter value it made durable);
  crash:   after a random 0.2-1.5 s (some cycles also start a BGREWRITEAOF
           in that window, so the kill can land in a rewrite), SIGKILL the
           server and its fork children, with the writers still sending;
  restart: start the same binary on the same dir (appendonly yes, same
           policy), wait for INFO `loading:0`, then check:
             - each counter >= the highest value acknowledged for it, and
               >= the value it had after the previous restart;
             - each SET acknowledged in the cycle is present with its value;
             - each SET found after an earlier restart is still there;
  repeat:  CYCLES times (the last restart is checked too, then SHUTDOWN).
An acknowledged write missing after the restart is "lost". With `always`
nothing may be lost; with `everysec` the loss is reported as the number of
writes and the age, at the kill, of the oldest one lost (a kill -9 keeps
what the server had written to the OS, so this measures what it held back),
and fails over --everysec-max-loss seconds. Any other difference (a wrong
value, a counter below an earlier restart's) fails in both policies.
Prints one summary row per policy. Exit 0 when every check held, 1 on a
failed check, 2 on a setup failure (no binary, no start, a load timeout).

Usage: scripts/aof-crash.py [--target BIN] [--port-base P] [--cycles N]
                            [--threads N] [--policies always,everysec]
                            [--server-args ARGS] [--short] [--seed S] [-v]
  --target defaults to target/release/ferrokey-server; a valkey-server
  works too (scripts/aof-crash.py --target .../valkey-server is how the
  figures for Valkey 9.1 were taken). --short: 5 cycles of each policy.
"""
import argparse
import os
import random
import shlex
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
import aoflib  # noqa: E402  (scripts/aoflib.py, beside this file)

SetupError = aoflib.SetupError


class Writer(threading.Thread):
    """One connection's write loop. Its acks: incr_acks [(counter, value,
    t)], set_acks [(key, value, t)], t from time.monotonic(). It stops at
    the first error on its socket (the kill) or when told to."""

    def __init__(self, port, tid, cycle, counters, pipeline, seed, stop):
        super().__init__(daemon=True)
        self.port, self.tid, self.cycle = port, tid, cycle
        self.counters, self.pipeline = counters, pipeline
        self.rnd, self.stop = random.Random(seed), stop
        self.incr_acks, self.set_acks, self.errors = [], [], []
        self.sent = 0

    def run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        except OSError as e:
            self.errors.append("connect: %s" % e)
            return
        f = s.makefile("rb")
        seq = 0
        try:
            while not self.stop.is_set():
                batch, wire = [], []
                for _ in range(self.pipeline):
                    if self.rnd.random() < 0.5:
                        k = self.rnd.randrange(self.counters)
                        batch.append(("incr", k, None))
                        name = b"ctr:%d" % k
                        wire.append(b"*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n" % (len(name), name))
                    else:
                        seq += 1
                        key = b"u:%d:%d:%d" % (self.cycle, self.tid, seq)
                        val = b"v:%d:%d:%d:%s" % (self.cycle, self.tid, seq, b"x" * (seq % 40))
                        batch.append(("set", key, val))
                        wire.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
                            len(key), key, len(val), val))
                s.sendall(b"".join(wire))
                self.sent += len(batch)
                for kind, a, b in batch:
                    line = f.readline()
                    if not line.endswith(b"\r\n"):
                        return  # connection closed (the kill): not an ack
                    t = time.monotonic()
                    if kind == "incr" and line[:1] == b":":
                        self.incr_acks.append((a, int(line[1:-2]), t))
                    elif kind == "set" and line == b"+OK\r\n":
                        self.set_acks.append((a, b, t))
                    else:
                        self.errors.append("%s %r: reply %r" % (kind, a, line[:80]))
                        return
        except OSError:
            return  # reset by the kill
        finally:
            try:
                f.close()
                s.close()
            except OSError:
                pass


class Policy:
    """The state of one policy's run across its cycles."""

    def __init__(self, name):
        self.name = name
        self.durable_sets = {}   # key -> value, seen after a restart
        self.durable_ctr = {}    # counter -> value seen after the last restart
        self.acked_incr = self.acked_set = 0
        self.lost = 0
        self.lost_age = []       # per cycle with a loss: oldest lost ack's age at the kill, s
        self.failures = []
        self.load_ms = []
        self.rates = []
        self.rewrites = 0


def check_restart(c, pol, cycle, incr_acks, set_acks, kill_t, verbose):
    """Compares the restarted server with the cycle's acknowledgements and
    the earlier restarts; records losses and failures in pol."""
    lost_t = []
    # Counters.
    best = {}
    for k, v, t in incr_acks:
        best[k] = max(best.get(k, 0), v)
    names = sorted(set(best) | set(pol.durable_ctr))
    if names:
        vals = c("MGET", *["ctr:%d" % k for k in names])
        if not isinstance(vals, list):
            raise SetupError("MGET counters: %s" % vals)
        for k, raw in zip(names, vals):
            got = int(raw) if raw is not None else 0
            if got < pol.durable_ctr.get(k, 0):
                pol.failures.append("cycle %d: ctr:%d is %d, below the %d of the previous restart" % (
                    cycle, k, got, pol.durable_ctr[k]))
            if got < best.get(k, 0):
                lost = [(v, t) for kk, v, t in incr_acks if kk == k and v > got]
                pol.lost += len(lost)
                lost_t += [t for _, t in lost]
                if verbose or pol.name == "always":
                    print("  %s cycle %d: ctr:%d is %d, acknowledged up to %d (%d INCRs lost)" % (
                        pol.name, cycle, k, got, best[k], len(lost)))
            pol.durable_ctr[k] = got
    # This cycle's SETs, then every earlier one found after a restart.
    def fetch(keys):
        out = []
        for i in range(0, len(keys), 1000):
            r = c("MGET", *keys[i:i + 1000])
            if not isinstance(r, list):
                raise SetupError("MGET: %s" % r)
            out += r
        return out
    keys = [k for k, _, _ in set_acks]
    missing = []
    for (k, v, t), got in zip(set_acks, fetch(keys)):
        if got is None:
            missing.append((k, t))
        elif got != v:
            pol.failures.append("cycle %d: %s is %r, acknowledged %r" % (cycle, k, got[:40], v[:40]))
        else:
            pol.durable_sets[k] = v
    if missing:
        pol.lost += len(missing)
        lost_t += [t for _, t in missing]
        if verbose or pol.name == "always":
            print("  %s cycle %d: %d acknowledged SETs missing, e.g. %s" % (
                pol.name, cycle, len(missing), missing[0][0].decode()))
    old = [k for k in pol.durable_sets if not k.startswith(b"u:%d:" % cycle)]
    for k, got in zip(old, fetch(old)):
        if got != pol.durable_sets[k]:
            pol.failures.append("cycle %d: %s, present after an earlier restart, is now %r" % (
                cycle, k.decode(), got if got is None else got[:40]))
    if lost_t:
        # An ack's time is when its writer thread read the reply, a little
        # after it arrived (so a reply read after the kill shows as age 0).
        pol.lost_age.append(max(0.0, kill_t - min(lost_t)))


def run_policy(a, name, port, root, rnd):
    pol = Policy(name)
    data = os.path.join(root, name)
    os.mkdir(data)
    log = os.path.join(root, "%s.log" % name)
    extra = ["--appendfsync", name] + shlex.split(a.server_args)
    srv = aoflib.Server(a.target, port, data, log, extra)
    c = srv.wait_loaded(a.load_timeout)
    try:
        for cycle in range(1, a.cycles + 1):
            stop = threading.Event()
            writers = [Writer(port, t, cycle, a.counters, a.pipeline,
                              rnd.getrandbits(32), stop) for t in range(a.threads)]
            t0 = time.monotonic()
            for w in writers:
                w.start()
            run_for = rnd.uniform(a.min_run, a.max_run)
            if rnd.random() < a.rewrite_share:
                # A rewrite somewhere in the window: the kill may land in it.
                time.sleep(rnd.uniform(0, run_for))
                r = c("BGREWRITEAOF")
                if isinstance(r, Exception):
                    print("  %s cycle %d: BGREWRITEAOF: %s" % (name, cycle, r))
                else:
                    pol.rewrites += 1
            time.sleep(max(0.0, t0 + run_for - time.monotonic()))
            kill_t = time.monotonic()
            srv.kill()
            c.close()
            stop.set()
            for w in writers:
                w.join(30)
            incr_acks = [x for w in writers for x in w.incr_acks]
            set_acks = [x for w in writers for x in w.set_acks]
            for w in writers:
                for e in w.errors:
                    pol.failures.append("cycle %d: writer %d: %s" % (cycle, w.tid, e))
            pol.acked_incr += len(incr_acks)
            pol.acked_set += len(set_acks)
            pol.rates.append((len(incr_acks) + len(set_acks)) / max(1e-3, kill_t - t0))
            srv = aoflib.Server(a.target, port, data, log, extra)
            c = srv.wait_loaded(a.load_timeout)
            pol.load_ms.append((time.monotonic() - srv.started) * 1000)
            check_restart(c, pol, cycle, incr_acks, set_acks, kill_t, a.verbose)
            if a.verbose:
                print("  %s cycle %d: %.2f s, %d INCR + %d SET acks, restart %.0f ms, "
                      "lost so far %d" % (name, cycle, kill_t - t0, len(incr_acks),
                                          len(set_acks), pol.load_ms[-1], pol.lost))
        srv.shutdown(c)
    finally:
        srv.kill()
    return pol


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", default=aoflib.DEFAULT_TARGET,
                    help="server binary (default: the release ferrokey-server)")
    ap.add_argument("--port-base", type=int, default=18500,
                    help="first loopback port; one per policy")
    ap.add_argument("--policies", default="always,everysec")
    ap.add_argument("--cycles", type=int, default=20, help="kills per policy")
    ap.add_argument("--threads", type=int, default=20, help="writer connections")
    ap.add_argument("--counters", type=int, default=4)
    ap.add_argument("--pipeline", type=int, default=1, help="commands in flight per connection")
    ap.add_argument("--min-run", type=float, default=0.2, help="shortest time to the kill, s")
    ap.add_argument("--max-run", type=float, default=1.5, help="longest time to the kill, s")
    ap.add_argument("--rewrite-share", type=float, default=0.25,
                    help="share of cycles that start a BGREWRITEAOF before the kill")
    ap.add_argument("--everysec-max-loss", type=float, default=2.0,
                    help="everysec fails when a lost write was acknowledged this long before the kill, s")
    ap.add_argument("--load-timeout", type=float, default=60)
    ap.add_argument("--server-args", default="",
                    help="more server options, e.g. '--io-threads 4' (last wins)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--short", action="store_true", help="CI form: 5 cycles per policy")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if a.short:
        a.cycles = min(a.cycles, 5)
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rnd = random.Random(seed)
    root = tempfile.mkdtemp(prefix="aof-crash-")
    results = []
    t0 = time.time()
    try:
        aoflib.check_binary(a.target, "aof-crash")
        kind = aoflib.server_kind(a.target)[0]
        print("aof-crash: %s, %d cycles per policy, %d connections x pipeline %d, seed %d" % (
            kind, a.cycles, a.threads, a.pipeline, seed))
        for i, name in enumerate(p.strip() for p in a.policies.split(",") if p.strip()):
            results.append(run_policy(a, name, a.port_base + i, root, rnd))
    except (SetupError, OSError, RuntimeError) as e:
        print("aof-crash: setup failed: %s (logs kept in %s)" % (e, root), file=sys.stderr)
        return 2
    failed = False
    print("%-9s %6s %10s %10s %8s %6s %14s %11s %9s  %s" % (
        "policy", "kills", "INCR acks", "SET acks", "acks/s", "lost", "lost max age", "restart ms",
        "rewrites", "result"))
    for p in results:
        age = max(p.lost_age) if p.lost_age else 0.0
        bad = list(p.failures)
        if p.name == "always" and p.lost:
            bad.append("%d acknowledged writes lost under appendfsync always" % p.lost)
        if p.name != "always" and age > a.everysec_max_loss:
            bad.append("lost writes acknowledged %.2f s before the kill (limit %.1f s)" % (
                age, a.everysec_max_loss))
        for b in bad[:20]:
            print("  %s: %s" % (p.name, b))
        failed |= bool(bad)
        print("%-9s %6d %10d %10d %8.0f %6d %12.0f ms %11.0f %9d  %s" % (
            p.name, a.cycles, p.acked_incr, p.acked_set, statistics.median(p.rates), p.lost,
            age * 1000, statistics.median(p.load_ms), p.rewrites,
            "FAIL" if bad else "ok"))
    print("aof-crash: %s in %.0f s" % ("FAILED" if failed else "ok", time.time() - t0))
    if failed:
        print("aof-crash: logs kept in %s" % root)
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
