#!/usr/bin/env python3
"""Captures Valkey's replies to the consumer-group scenarios below into
tests/data/stream-cgroups.txt, which tests/stream_cgroups.rs replays against
ferrokey byte for byte.

Usage: scripts/capture-stream-cgroups.py VALKEY_PORT

Each scenario starts with FLUSHALL. A command line starting with `~` has
nondeterministic integers in its reply (idle times, seen times): both
sides compare with every integer reply replaced by `:N`.
File format: `> args...` (shlex-quoted), then `< reply` (Python-escaped).
"""
import os
import shlex
import socket
import sys

SCENARIOS = r"""
# --- XGROUP
XGROUP HELP
XGROUP CREATE s g $
XGROUP CREATE s g $ MKSTREAM
XGROUP CREATE s g $ MKSTREAM
EXISTS s
XGROUP CREATE s g2 0 ENTRIESREAD -3
XGROUP CREATE s g2 0 ENTRIESREAD x
XGROUP CREATE s g2 0 ENTRIESREAD 5
XGROUP CREATE s g3 0 ENTRIESREAD -1 MKSTREAM
XGROUP CREATE s g4 0 FOO
XGROUP CREATE s g4 0 ENTRIESREAD
XGROUP CREATE s g4 bad-id
XGROUP CREATE s g4 -
XGROUP CREATE s g4 + MKSTREAM
XGROUP CREATE s g5 123 MKSTREAM ENTRIESREAD 3 MKSTREAM
XGROUP CREATE s g6 1-2 MKSTREAM MKSTREAM MKSTREAM MKSTREAM
XGROUP SETID s g 5-5
XGROUP SETID s g - ENTRIESREAD 4
XGROUP SETID s g + ENTRIESREAD 4 FOO
XGROUP SETID s g $ MKSTREAM
XGROUP SETID s nog 0
XGROUP SETID nokey g 0
XGROUP SETID s g 1 ENTRIESREAD -2
XINFO GROUPS s
XGROUP CREATECONSUMER s g alice
XGROUP CREATECONSUMER s g alice
XGROUP CREATECONSUMER s nog alice
XGROUP CREATECONSUMER nokey g alice
XGROUP DELCONSUMER s g bob
XGROUP DELCONSUMER s g alice
XGROUP DESTROY s g
XGROUP DESTROY s g
XGROUP DESTROY nokey g
XGROUP DESTROY s
XGROUP FOO s g
XGROUP
SET str x
XGROUP CREATE str g $
XGROUP CREATE str g $ MKSTREAM
XGROUP DESTROY str g
XINFO GROUPS str
XINFO GROUPS nokey
XINFO CONSUMERS s nog
XINFO HELP
XGROUP create s lower $
XINFO GROUPS s
---
# --- XREADGROUP basics and history
XADD s 1-0 a 1
XADD s 2-0 b 2
XADD s 3-0 c 3
XGROUP CREATE s g 0
XREADGROUP GROUP g alice COUNT 1 STREAMS s >
XREADGROUP GROUP g alice STREAMS s >
XREADGROUP GROUP g alice STREAMS s >
XREADGROUP GROUP g alice STREAMS s 0
XREADGROUP GROUP g alice COUNT 2 STREAMS s 0
XREADGROUP GROUP g alice STREAMS s 1
XREADGROUP GROUP g alice STREAMS s 3-0
XREADGROUP GROUP g bob STREAMS s 0
XDEL s 2-0
XREADGROUP GROUP g alice STREAMS s 0
~XPENDING s g
~XPENDING s g - + 10
XACK s g 1-0 2-0 9-0
XACK s g 1-0
XACK s nog 1-0
XACK nokey g 1-0
XACK s g bad
XACK s g 3-0 bad
XACK s g -
~XPENDING s g
XADD s 4-0 d 4
XREADGROUP GROUP g carol NOACK STREAMS s >
~XPENDING s g
XREADGROUP GROUP g carol STREAMS s >
XREADGROUP GROUP g carol BLOCK 10 STREAMS s >
XREADGROUP GROUP g carol STREAMS s $
XREADGROUP GROUP g carol STREAMS s +
XREADGROUP GROUP g carol STREAMS s
XREADGROUP GROUP g carol STREAMS s t >
XREADGROUP STREAMS s >
XREADGROUP GROUP g carol
XREADGROUP GROUP g carol COUNT x STREAMS s >
XREADGROUP GROUP g carol COUNT -5 STREAMS s 0
XREADGROUP GROUP g carol BLOCK x STREAMS s >
XREADGROUP GROUP g carol BLOCK -1 STREAMS s >
XREADGROUP GROUP g carol FOO STREAMS s >
XREADGROUP GROUP nog carol STREAMS s >
XREADGROUP GROUP g carol STREAMS nokey >
XREADGROUP GROUP g carol STREAMS s bad
SET str x
XREADGROUP GROUP g carol STREAMS str >
XREADGROUP GROUP g carol STREAMS s str > >
~XINFO CONSUMERS s g
XINFO GROUPS s
---
# --- several streams, RESP3
XADD a 1-0 f v
XADD b 1-0 f v
XADD b 2-0 f w
XGROUP CREATE a g 0
XGROUP CREATE b g 0
XGROUP CREATE c g 0 MKSTREAM
XREADGROUP GROUP g x STREAMS a b c > > >
XREADGROUP GROUP g x STREAMS a b c 0 0 0
XREADGROUP GROUP g x STREAMS a b c > > >
HELLO 3
XREADGROUP GROUP g x STREAMS a b c 0 0 0
XADD c 5-0 f v
XREADGROUP GROUP g x STREAMS a b c > > >
XREADGROUP GROUP g x STREAMS a >
XINFO GROUPS b
~XPENDING b g - + 10
XPENDING c g
HELLO 2
---
# --- XPENDING forms
XADD s 1-0 a 1
XADD s 2-0 a 2
XADD s 3-0 a 3
XADD s 4-0 a 4
XGROUP CREATE s g 0
XREADGROUP GROUP g c1 COUNT 2 STREAMS s >
XREADGROUP GROUP g c2 STREAMS s >
XPENDING s g
~XPENDING s g - + 10
~XPENDING s g - + 10 c2
~XPENDING s g - + 10 nobody
~XPENDING s g (1-0 (4-0 10
~XPENDING s g 2 + 1
~XPENDING s g - + 0
~XPENDING s g - + -1
~XPENDING s g IDLE 0 - + 10
XPENDING s g IDLE 999999 - + 10
XPENDING s g IDLE x - + 10
XPENDING s g IDLE 10 - +
XPENDING s g - + x
XPENDING s g bad + 10
XPENDING s g - bad 10
XPENDING s g (- + 10
XPENDING s g ( + 10
XPENDING s g (18446744073709551615-18446744073709551615 + 10
XPENDING s g - (0-0 10
XPENDING s g -
XPENDING s g - +
~XPENDING s g - + 1 c1 extra x
XPENDING s nog
XPENDING nokey g
XPENDING nokey g - + 10
SET str x
XPENDING str g
---
# --- XCLAIM
XADD s 1-0 a 1
XADD s 2-0 b 2
XADD s 3-0 c 3
XGROUP CREATE s g 0
XREADGROUP GROUP g alice STREAMS s >
XCLAIM s g bob 0 1-0 TIME 1000
XCLAIM s g bob 0 1-0 2-0 JUSTID TIME 2000
~XINFO STREAM s FULL
XCLAIM s g bob 0 2-0 RETRYCOUNT 7 TIME 3000
XCLAIM s g bob 0 3-0 RETRYCOUNT -4 TIME 3000
XCLAIM s g bob 0 9-0 TIME 3000
XCLAIM s g bob 0 9-0 FORCE TIME 3000
XADD s 4-0 d 4
XCLAIM s g carol 0 4-0 FORCE TIME 3000
XCLAIM s g carol 0 4-0 FORCE JUSTID TIME 3000
XCLAIM s g carol 99999999 1-0
XCLAIM s g carol 0 1-0 IDLE 99999999999999 JUSTID
XINFO GROUPS s
XCLAIM s g carol 0 1-0 LASTID 10-0 JUSTID TIME 1
XINFO GROUPS s
XCLAIM s g carol 0 LASTID 20-0
XINFO GROUPS s
XCLAIM s g carol 0 1-0 LASTID 5-0 TIME 1
XINFO GROUPS s
XCLAIM s g carol x 1-0
XCLAIM s g carol 0 1-0 IDLE x
XCLAIM s g carol 0 1-0 TIME x
XCLAIM s g carol 0 1-0 RETRYCOUNT x
XCLAIM s g carol 0 1-0 LASTID x
XCLAIM s g carol 0 1-0 FOO
XCLAIM s g carol 0 1-0 IDLE
XCLAIM s g carol 0 1-0 2 x 3-0
XCLAIM s nog carol 0 1-0
XCLAIM nokey g carol 0 1-0
XDEL s 1-0
XCLAIM s g dave 0 1-0 2-0 TIME 4000
~XINFO STREAM s FULL COUNT 1
~XINFO STREAM s FULL COUNT 0
~XINFO STREAM s FULL COUNT -3
~XINFO STREAM s FULL COUNT x
~XINFO STREAM s FULL FOO 1
XINFO STREAM s FOO
~XINFO STREAM s FULL COUNT
SET str x
XCLAIM str g c 0 1-0
XINFO STREAM nokey
---
# --- XAUTOCLAIM
XADD s 1-0 a 1
XADD s 2-0 b 2
XADD s 3-0 c 3
XADD s 4-0 d 4
XADD s 5-0 e 5
XGROUP CREATE s g 0
XREADGROUP GROUP g alice STREAMS s >
XAUTOCLAIM s g bob 0 0 COUNT 2
XAUTOCLAIM s g bob 0 3-0 COUNT 2 JUSTID
XAUTOCLAIM s g bob 0 5-0 COUNT 2 JUSTID
XAUTOCLAIM s g bob 0 (4-0 COUNT 2 JUSTID
XDEL s 2-0 4-0
XAUTOCLAIM s g carol 0 - COUNT 1
XAUTOCLAIM s g carol 0 - COUNT 1
XAUTOCLAIM s g carol 0 -
~XPENDING s g - + 10
XAUTOCLAIM s g carol 99999999 -
XAUTOCLAIM s g carol 0 - COUNT 0
XAUTOCLAIM s g carol 0 - COUNT x
XAUTOCLAIM s g carol 0 - COUNT 8070450532247928833
XAUTOCLAIM s g carol 0 - COUNT 576460752303423487
XAUTOCLAIM s g carol x -
XAUTOCLAIM s g carol 0 x
XAUTOCLAIM s g carol 0 (18446744073709551615-18446744073709551615
XAUTOCLAIM s g carol 0 - FOO
XAUTOCLAIM s g carol 0 - COUNT
XAUTOCLAIM s nog carol 0 -
XAUTOCLAIM nokey g carol 0 -
XAUTOCLAIM nokey g carol 0 - FOO
~XINFO CONSUMERS s g
---
# --- lag and entries-read
XGROUP CREATE x g1 0 MKSTREAM
XINFO GROUPS x
XADD x 1-0 data a
XDEL x 1-0
XINFO GROUPS x
DEL x
XADD x 1-0 data a
XADD x 2-0 data b
XADD x 3-0 data c
XADD x 4-0 data d
XADD x 5-0 data e
XDEL x 3-0
XGROUP CREATE x g1 0
XGROUP CREATE x g2 0
XINFO GROUPS x
XREADGROUP GROUP g1 c11 COUNT 1 STREAMS x >
XINFO GROUPS x
XREADGROUP GROUP g1 c11 COUNT 3 STREAMS x >
XINFO GROUPS x
XREADGROUP GROUP g1 c11 COUNT 1 STREAMS x >
XINFO GROUPS x
XADD x 6-0 data f
XINFO GROUPS x
XTRIM x MINID = 3-0
XINFO GROUPS x
XTRIM x MINID = 5-0
XINFO GROUPS x
XGROUP SETID x g2 5-0 ENTRIESREAD 2
XINFO GROUPS x
XGROUP SETID x g2 $
XINFO GROUPS x
XGROUP CREATE x g3 $ ENTRIESREAD 100
XINFO GROUPS x
"""


def conn(port):
    s = socket.create_connection(("127.0.0.1", port))
    return s, s.makefile("rb")


def encode(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        b = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(b), b)
    return out


def read_reply(f):
    """One whole reply's raw bytes."""
    line = f.readline()
    t = line[:1]
    if t in b"+-:_#,(":
        return line
    if t in b"$=!":
        n = int(line[1:-2])
        return line if n < 0 else line + f.read(n + 2)
    if t in b"*~>%|":
        n = int(line[1:-2])
        if n < 0:
            return line
        if t in b"%|":
            n *= 2
        return line + b"".join(read_reply(f) for _ in range(n))
    raise SystemExit("bad reply line %r" % line)


def main():
    port = int(sys.argv[1])
    s, f = conn(port)
    out = []
    for scenario in SCENARIOS.split("\n---\n"):
        s.sendall(encode(["FLUSHALL"]))
        read_reply(f)
        for line in scenario.strip().split("\n"):
            if not line or line.startswith("#"):
                continue
            fuzzy = line.startswith("~")
            args = shlex.split(line.lstrip("~"))
            s.sendall(encode(args))
            r = read_reply(f)
            out.append(("~" if fuzzy else "") + "> " + shlex.join(args))
            out.append("< " + repr(r)[2:-1])
        out.append("---")
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "tests", "data", "stream-cgroups.txt")
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")
    print("wrote", len(out) // 2, "commands to", path)


main()
