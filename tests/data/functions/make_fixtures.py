#!/usr/bin/env python3
"""Captures the function-library fixtures of persist::functions_dump,
persist::rdb_read and tests/rdb_load.rs from a reference Valkey.

    python3 tests/data/functions/make_fixtures.py VALKEY_SERVER [PORT]

Starts VALKEY_SERVER (`--save ''`, in a temp dir, on PORT, default 18601),
FUNCTION LOADs `mylib.lua` (too short for LZF to pay: stored raw) and
writes FUNCTION DUMP's payload as `dump-mylib.hex`; then loads `lib2.lua`
(repetitive: stored LZF-compressed) and writes the two-library payload as
`dump-two.hex`; then sets a few keys (k1 and l in db 0, k2 in db 2),
SAVEs, and keeps the file as `valkey-9.1-functions.rdb` (the libraries
come after the AUX fields, before the first SELECTDB). Both hold the
libraries in the server's dict order, which varies from run to run: it is
written to `order.txt`. Hex files hold one line of lowercase hex.
"""
import os, shutil, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))


def cmd(port, *args):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)
    line = f.readline()
    if line.startswith(b"$"):
        n = int(line[1:])
        data = f.read(n + 2)[:n] if n >= 0 else None
    elif line.startswith(b"-"):
        raise RuntimeError(line.decode().strip())
    else:
        data = line.strip()
    s.close()
    return data


def main():
    server = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 18601
    tmp = tempfile.mkdtemp()
    proc = subprocess.Popen(
        [server, "--save", "", "--appendonly", "no", "--port", str(port),
         "--bind", "127.0.0.1", "--dir", tmp, "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while True:
            try:
                cmd(port, "PING")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        libs = {}
        for name in ("mylib", "lib2"):
            code = open(os.path.join(HERE, name + ".lua"), "rb").read()
            assert cmd(port, "FUNCTION", "LOAD", code) == name.encode()
            libs[name] = code
            if name == "mylib":
                with open(os.path.join(HERE, "dump-mylib.hex"), "w") as f:
                    f.write(cmd(port, "FUNCTION", "DUMP").hex() + "\n")
        payload = cmd(port, "FUNCTION", "DUMP")
        with open(os.path.join(HERE, "dump-two.hex"), "w") as f:
            f.write(payload.hex() + "\n")
        # Which library comes first in the payload.
        order = sorted(libs, key=lambda n: payload.find(b"name=" + n.encode()))
        with open(os.path.join(HERE, "order.txt"), "w") as f:
            f.write("\n".join(order) + "\n")
        cmd(port, "SET", "k1", "v1")
        cmd(port, "RPUSH", "l", "a", "b", "c")
        # db 2 on a connection of its own: SELECT, then SET, replies read.
        s = socket.create_connection(("127.0.0.1", port))
        f = s.makefile("rb")
        s.sendall(b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n")
        assert f.readline() == b"+OK\r\n"
        s.sendall(b"*3\r\n$3\r\nSET\r\n$2\r\nk2\r\n$2\r\n22\r\n")
        assert f.readline() == b"+OK\r\n"
        s.close()
        cmd(port, "SAVE")
        rdb = open(os.path.join(tmp, "dump.rdb"), "rb").read()
        assert sorted(libs, key=lambda n: rdb.find(b"name=" + n.encode())) == order
        with open(os.path.join(HERE, "valkey-9.1-functions.rdb"), "wb") as f:
            f.write(rdb)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
