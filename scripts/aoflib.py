"""Plumbing shared by the AOF yardstick scripts (aof-crash.py, aof-compat.py,
aof-replay.py, bench-aof.py): servers started on a data dir with an
append-only file, loading and rewrite waits, and the appendonlydir's files.

The RESP client, the key-by-key dump and its comparison come from
scripts/rdb-roundtrip.py (which takes its client from dump-roundtrip.py),
so every persistence script compares data the same way.

A server is started in its own process group (start_new_session), so that
kill() ends it together with any fork child it made (Valkey's rewrite child)
and nothing else; every script kills only the servers it started.
"""
import importlib.util
import os
import re
import signal
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

_spec = importlib.util.spec_from_file_location(
    "rdb_roundtrip", os.path.join(HERE, "rdb-roundtrip.py"))
rdb_roundtrip = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rdb_roundtrip)

SetupError = rdb_roundtrip.SetupError
Conn = rdb_roundtrip.Conn
ok = rdb_roundtrip.ok
snapshot = rdb_roundtrip.snapshot
compare = rdb_roundtrip.compare
server_kind = rdb_roundtrip.server_kind
dump_roundtrip = rdb_roundtrip.dump_roundtrip

DEFAULT_TARGET = os.path.join(ROOT, "target", "release", "ferrokey-server")


def reference_paths():
    """{"valkey-server": path, "redis-server": path, "redis-cli": ..., ...}
    from ../shared/tools/reference-servers.sh (empty when it is missing)."""
    for tool in (os.path.join(ROOT, "..", "shared", "tools", "reference-servers.sh"),
                 "/work/shared/tools/reference-servers.sh"):
        if os.path.exists(tool):
            try:
                out = subprocess.run(["bash", tool], capture_output=True, text=True,
                                     check=True, timeout=30).stdout
            except (OSError, subprocess.SubprocessError):
                continue
            return {p[0]: p[1].strip() for p in (l.split(None, 1) for l in out.splitlines())
                    if len(p) == 2}
    return {}


def check_binary(path, who):
    if not path or not os.access(path, os.X_OK):
        raise SetupError("%s: no server binary at %s (cargo build --release?)" % (who, path))
    return path


def info(c, section="persistence"):
    """INFO SECTION as a dict of str -> str."""
    r = c("INFO", section)
    if not isinstance(r, bytes):
        raise SetupError("INFO %s: %s" % (section, r))
    return dict(l.split(":", 1) for l in r.decode(errors="replace").splitlines() if ":" in l)


def digest(c):
    r = c("DEBUG", "DIGEST")
    if not isinstance(r, (bytes, str)):
        raise SetupError("DEBUG DIGEST: %s" % r)
    return r.decode() if isinstance(r, bytes) else r


class Server:
    """One server process on DIR with `appendonly yes` (unless extra says
    otherwise), its output appended to LOG. Options are passed on the
    command line the way both valkey-server and ferrokey-server take them."""

    def __init__(self, binary, port, dir_, log_path, extra=(), appendonly="yes"):
        self.binary, self.port, self.dir, self.log_path = binary, port, dir_, log_path
        self.args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", dir_,
                     "--dbfilename", "dump.rdb", "--save", "", "--appendonly", appendonly,
                     "--enable-debug-command", "local"] + [str(x) for x in extra]
        if port_open(port):
            raise SetupError("port %d is already in use" % port)
        with open(log_path, "ab") as log:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.proc.pid

    def log_tail(self, n=5):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        return " | ".join(l.strip() for l in lines[-n:])

    def wait_loaded(self, timeout):
        """A connection once INFO persistence says `loading:0`; SetupError
        when the process exits first or the deadline passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError("server on port %d exited (%s): %s" % (
                    self.port, self.proc.returncode, self.log_tail()))
            try:
                c = Conn(self.port)
            except OSError:
                time.sleep(0.02)
                continue
            try:
                while time.monotonic() < deadline:
                    r = c("INFO", "persistence")
                    if isinstance(r, bytes) and re.search(rb"^loading:0\r?$", r, re.M):
                        return c
                    if self.proc.poll() is not None:
                        break
                    time.sleep(0.02)
            except (OSError, RuntimeError):
                pass  # closed under us: exited, or retry
            c.close()
        raise SetupError("server on port %d not loaded after %.0f s: %s" % (
            self.port, timeout, self.log_tail()))

    def kill(self):
        """SIGKILL to the server's process group (itself and its fork
        children, if any), then reap it."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        # A fork child (Valkey's rewrite) may outlive the reaped parent for
        # a moment; wait until the group is gone so the next start is clean.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(self.pid, 0)
            except (ProcessLookupError, PermissionError):
                return
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            time.sleep(0.01)

    def shutdown(self, c=None, timeout=30):
        """SHUTDOWN NOSAVE (the AOF is flushed and fsynced; no RDB is
        written), then wait for the exit. Returns the exit code."""
        try:
            c = c or Conn(self.port)
            c("SHUTDOWN", "NOSAVE")
        except (OSError, RuntimeError):
            pass  # the reply to SHUTDOWN is the closed connection
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise SetupError("server on port %d did not exit after SHUTDOWN" % self.port)


def port_open(port):
    s = socket.socket()
    s.settimeout(0.2)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_rewrite(c, before, timeout):
    """Waits for the BGREWRITEAOF started after INFO persistence `before`
    to finish: aof_rewrite_in_progress and aof_rewrite_scheduled at 0 and
    aof_rewrites moved on. Returns the final INFO persistence."""
    deadline = time.monotonic() + timeout
    n0 = int(before.get("aof_rewrites", "0"))
    while time.monotonic() < deadline:
        p = info(c)
        if (p.get("aof_rewrite_in_progress") == "0" and p.get("aof_rewrite_scheduled", "0") == "0"
                and int(p.get("aof_rewrites", "0")) > n0):
            if p.get("aof_last_bgrewrite_status", "ok") != "ok":
                raise SetupError("BGREWRITEAOF failed: aof_last_bgrewrite_status:%s" % (
                    p.get("aof_last_bgrewrite_status")))
            return p
        time.sleep(0.02)
    raise SetupError("BGREWRITEAOF not finished after %.0f s" % timeout)


def rewrite(c, timeout=120):
    before = info(c)
    r = c("BGREWRITEAOF")
    if isinstance(r, Exception):
        raise SetupError("BGREWRITEAOF: %s" % r)
    return wait_rewrite(c, before, timeout)


def manifest(dir_, dirname="appendonlydir", filename="appendonly.aof"):
    """The manifest's entries as [(name, seq, type)], or None when there is
    no manifest."""
    path = os.path.join(dir_, dirname, filename + ".manifest")
    if not os.path.exists(path):
        return None
    out = []
    with open(path, "rb") as f:
        for line in f.read().decode(errors="replace").splitlines():
            parts = line.split()
            fields = dict(zip(parts[0::2], parts[1::2]))
            if "file" in fields:
                out.append((fields["file"], int(fields.get("seq", -1)), fields.get("type", "?")))
    return out


def aof_size(dir_, dirname="appendonlydir"):
    """The sum of the sizes of the files in DIR/appendonlydir."""
    d = os.path.join(dir_, dirname)
    return sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d)
               if os.path.isfile(os.path.join(d, n)))


def status_kb(pid, field):
    """A VmRSS/VmHWM-style field of /proc/PID/status in kB (0 when gone)."""
    try:
        with open("/proc/%d/status" % pid, "rb") as f:
            for line in f:
                if line.startswith(field.encode() + b":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ns(pid):
    """The run time of all threads of pid, from /proc schedstat."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid), "rb") as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass
    except OSError:
        pass
    return total
