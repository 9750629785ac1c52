#!/usr/bin/env python3
"""Captures Valkey 9.1's replies to the bitmap commands of tests/bitops.rs and
prints them as the Rust transcript rows that file checks (one `t(...)` call
per command: the command with `\\xNN` escapes, Valkey's raw reply).

Usage: scripts/capture-bitops.py PORT  (a Valkey 9.1 already running there)
Each group starts with FLUSHALL on its own connection. Stdlib only.
"""

import socket
import sys

GROUPS = {
    "setbit_getbit": [
        r"SETBIT k 7 1", r"SETBIT k 7 1", r"SETBIT k 7 0", r"GET k", r"OBJECT ENCODING k",
        r"SETBIT k 100 1", r"STRLEN k", r"GETBIT k 100", r"GETBIT k 101", r"GETBIT k 99999999",
        r"GETBIT nokey 0", r"SETBIT k 4294967296 1",
        r"SETBIT k -1 1", r"SETBIT k 01 1", r"SETBIT k x 1", r"SETBIT k 0 2", r"SETBIT k 0 -1",
        r"SETBIT k 0 x", r"SETBIT k 0 01", r"GETBIT k -1", r"GETBIT k 4294967296",
        r"SET n 12345", r"GETBIT n 2", r"GETBIT n 7", r"OBJECT ENCODING n", r"SETBIT n 0 0",
        r"OBJECT ENCODING n", r"SETBIT n 1 0", r"GET n", r"SET e a", r"SETBIT e 7 1",
        r"OBJECT ENCODING e", r"RPUSH l a", r"SETBIT l 0 1", r"GETBIT l 0", r"SETBIT l x 1",
        r"SET t a EXAT 4000000000", r"SETBIT t 0 1", r"EXPIRETIME t",
    ],
    "bitcount": [
        r"SET s foobar", r"BITCOUNT s", r"BITCOUNT s 0 0", r"BITCOUNT s 1 1", r"BITCOUNT s 1 1 BYTE",
        r"BITCOUNT s 5 30 BIT", r"BITCOUNT s 5 30 bit", r"BITCOUNT s 1", r"BITCOUNT s -2",
        r"BITCOUNT s -1 -3", r"BITCOUNT s -3 -1", r"BITCOUNT s 0 -1 BIT", r"BITCOUNT s -100 100",
        r"BITCOUNT s 100 200", r"BITCOUNT s 0 -100", r"BITCOUNT s 7 6 BIT", r"BITCOUNT s -1 -1 BIT",
        r"BITCOUNT s 0 0 foo", r"BITCOUNT s a 0 foo", r"BITCOUNT s 0 a", r"BITCOUNT s 0 a foo",
        r"BITCOUNT s 1 2 BIT x", r"BITCOUNT nokey", r"BITCOUNT nokey 0 1 BIT", r"BITCOUNT nokey 0 1 x",
        r"SET n -123", r"BITCOUNT n", r"BITCOUNT n 0 0", r"SET z ''", r"BITCOUNT z", r"BITCOUNT z 0 -1 BIT",
        r"RPUSH l a", r"BITCOUNT l", r"BITCOUNT l 0 1 x",
        r"BITCOUNT s -9223372036854775808 9223372036854775807",
        r"BITCOUNT s -9223372036854775808 9223372036854775807 BIT",
    ],
    "bitpos": [
        r"SET s \xff\xf0\x00", r"BITPOS s 0", r"BITPOS s 1", r"BITPOS s 0 0", r"BITPOS s 0 0 -1",
        r"BITPOS s 1 2", r"BITPOS s 1 2 -1 BIT", r"BITPOS s 0 -1", r"BITPOS s 0 8 15 BIT",
        r"BITPOS s 0 7 11 BIT", r"BITPOS s 0 7 12 BIT", r"BITPOS s 1 12 23 BIT", r"BITPOS s 0 3 5 BIT",
        r"SET f \xff\xff\xff", r"BITPOS f 0", r"BITPOS f 0 0", r"BITPOS f 0 0 -1", r"BITPOS f 0 1 2 BIT",
        r"BITPOS f 1 -1", r"BITPOS f 1 -100 -90", r"BITPOS f 0 -2 -5", r"BITPOS s 1 -1 -3", r"BITPOS s 0 -1 -3", r"SET one \x0f", r"BITPOS one 0 -2 -5", r"BITPOS one 1 -2 -5", r"BITCOUNT one -2 -5", r"BITPOS f 1 5 2", r"BITPOS f 0 -3 -1 BIT",
        r"SET z \x00\x00\x00", r"BITPOS z 1", r"BITPOS z 0", r"BITPOS z 1 0 -1 BIT", r"BITPOS z 0 9 9 BIT",
        r"BITPOS nokey 0", r"BITPOS nokey 1", r"BITPOS nokey 0 5 10 BIT",
        r"SET e ''", r"BITPOS e 0", r"BITPOS e 1", r"BITPOS e 0 0 -1",
        r"SET n 10", r"BITPOS n 1", r"BITPOS n 0",
        r"BITPOS s 2", r"BITPOS s -1", r"BITPOS s x", r"BITPOS s 1 x", r"BITPOS s 1 0 x",
        r"BITPOS s 1 0 1 x", r"BITPOS s 1 0 1 BIT x", r"BITPOS s 2 0 1 BIT x",
        r"RPUSH l a", r"BITPOS l 0", r"BITPOS l 0 0 1 x",
    ],
    "bitop": [
        r"SET a \xff\x0f\xaa", r"SET b \xf0", r"SET c \x01\x02\x03\x04\x05",
        r"BITOP AND d a b c", r"GET d", r"OBJECT ENCODING d", r"BITOP or d a b c", r"GET d",
        r"BITOP XOR d a b c", r"GET d", r"BITOP NOT d a", r"GET d", r"BITOP NOT d a b",
        r"BITOP NOT d nokey", r"EXISTS d", r"BITOP AND d a nokey", r"GET d",
        r"BITOP OR d nokey nokey2", r"EXISTS d", r"BITOP FOO d a", r"BITOP ANDX d a",
        r"SET n 12", r"BITOP OR d n", r"GET d", r"OBJECT ENCODING d",
        r"RPUSH l a", r"BITOP OR d a l", r"BITOP OR l a", r"TYPE l",
        r"SET t x EX 100", r"BITOP OR t a", r"TTL t", r"BITOP AND a a b", r"GET a",
    ],
    "bitfield": [
        r"BITFIELD b SET i8 0 100 INCRBY i8 0 100 GET u4 #1", r"GET b",
        r"BITFIELD b OVERFLOW SAT INCRBY i8 0 100 OVERFLOW FAIL INCRBY i8 0 100 OVERFLOW WRAP INCRBY u2 100 5",
        r"BITFIELD b GET i64 0 SET i64 1 -1 GET i64 1 GET u63 1", r"BITFIELD b GET u64 0",
        r"BITFIELD b GET i65 0", r"BITFIELD b GET i0 0", r"BITFIELD b GET x8 0", r"BITFIELD b GET i 0",
        r"BITFIELD b GET i08 0", r"BITFIELD b GET i8 -1", r"BITFIELD b GET i8 #-1", r"BITFIELD b GET i8 #",
        r"BITFIELD b GET i8 4294967296", r"BITFIELD b GET i8 #536870912",
        r"BITFIELD b SET i8 0 x", r"BITFIELD b SET i8 0", r"BITFIELD b GET i8", r"BITFIELD b FOO",
        r"BITFIELD b OVERFLOW", r"BITFIELD b OVERFLOW foo GET i8 0", r"BITFIELD b overflow sat",
        r"BITFIELD b SET i99 x x", r"BITFIELD b SET i8 x x",
        r"BITFIELD b GET i8 #2305843009213693952",
        r"BITFIELD_RO b GET i8 0 GET u16 #1", r"BITFIELD_RO b GET i8 0 SET i8 0 1",
        r"BITFIELD_RO b INCRBY i8 0 1", r"BITFIELD_RO b", r"BITFIELD_RO nokey GET u8 0",
        r"BITFIELD nokey GET u8 100", r"EXISTS nokey", r"BITFIELD nk OVERFLOW FAIL INCRBY u2 0 10",
        r"GET nk", r"BITFIELD nk2",
        r"SET s 255", r"BITFIELD s GET u8 0", r"OBJECT ENCODING s", r"BITFIELD s SET u8 0 50",
        r"OBJECT ENCODING s", r"GET s",
        r"BITFIELD w SET u8 0 -1", r"BITFIELD w OVERFLOW SAT SET u8 0 -1", r"BITFIELD w OVERFLOW SAT SET i8 0 -1000",
        r"BITFIELD w OVERFLOW FAIL SET u8 0 256", r"BITFIELD w OVERFLOW WRAP SET i8 0 200",
        r"BITFIELD w SET i64 0 9223372036854775807 INCRBY i64 0 1 OVERFLOW SAT INCRBY i64 0 -1",
        r"BITFIELD w OVERFLOW SAT INCRBY i64 0 -9223372036854775808",
        r"BITFIELD w SET u63 0 9223372036854775807 INCRBY u63 0 1 GET u63 0",
        r"BITFIELD w SET u1 3 1 SET i3 5 -2 GET u8 0 GET i1 3",
        r"RPUSH l a", r"BITFIELD l GET u8 0", r"BITFIELD l SET u8 0 1", r"BITFIELD_RO l GET u8 0",
        r"BITFIELD l", r"BITFIELD l SET u8 0 x",
    ],
    "big": [
        r"SETBIT big 8388607 1", r"STRLEN big", r"BITCOUNT big", r"BITPOS big 1", r"BITPOS big 0",
        r"BITPOS big 1 1000 -1", r"BITPOS big 0 0 -1 BIT", r"SETRANGE big 500000 \xff\xff\x7f",
        r"BITCOUNT big", r"BITCOUNT big 500000 500001", r"BITCOUNT big 4000001 4000020 BIT",
        r"BITPOS big 1", r"BITPOS big 0 500000", r"BITPOS big 1 500003", r"OBJECT ENCODING big",
        r"SETBIT big 4000000 0", r"BITCOUNT big", r"BITFIELD big GET u32 3999990 INCRBY u8 #500000 1",
        r"BITCOUNT big", r"SET ones \xff", r"BITOP AND dst big ones", r"STRLEN dst", r"BITCOUNT dst",
        r"BITOP OR dst big ones", r"BITCOUNT dst", r"BITOP NOT dst big", r"BITCOUNT dst", r"BITPOS dst 0",
        # The offset limit follows proto-max-bulk-len (1 MB: bits 0 to 8388607).
        r"CONFIG SET proto-max-bulk-len 1048576", r"SETBIT big 8388608 1", r"SETBIT big 8388607 0",
        r"BITFIELD big GET u8 8388600", r"BITFIELD big GET u8 8388608", r"BITFIELD big SET u16 8388600 1",
        r"GETBIT big 8388608", r"STRLEN big", r"CONFIG SET proto-max-bulk-len 536870912",
    ],
}


def unescape(arg):
    out, i = bytearray(), 0
    b = arg.encode()
    while i < len(b):
        if b[i:i + 2] == b"\\x":
            out.append(int(b[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(b[i])
            i += 1
    return bytes(out)


def args_of(line):
    return [b"" if a == "''" else unescape(a) for a in line.split(" ")]


def send(sock, args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)


class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        i = self.buf.index(b"\r\n") + 2
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exact(self, n):
        while len(self.buf) < n:
            self.buf += self.sock.recv(65536)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def reply(self):
        head = self.line()
        if head[:1] == b"$" and int(head[1:-2]) >= 0:
            return head + self.exact(int(head[1:-2]) + 2)
        if head[:1] == b"*" and int(head[1:-2]) > 0:
            return head + b"".join(self.reply() for _ in range(int(head[1:-2])))
        return head


def rust_bytes(b):
    s = ""
    for c in b:
        if c == 0x0D:
            s += "\\r"
        elif c == 0x0A:
            s += "\\n"
        elif c == 0x22 or c == 0x5C:
            s += "\\" + chr(c)
        elif 0x20 <= c < 0x7F:
            s += chr(c)
        else:
            s += "\\x%02x" % c
    return 'b"%s"' % s


def main():
    port = int(sys.argv[1])
    for name, lines in GROUPS.items():
        sock = socket.create_connection(("127.0.0.1", port))
        r = Reader(sock)
        send(sock, [b"FLUSHALL"])
        r.reply()
        print("const %s: &[(&str, &[u8])] = &[" % name.upper())
        for line in lines:
            send(sock, args_of(line))
            print('    (r"%s", %s),' % (line, rust_bytes(r.reply())))
        print("];\n")
        sock.close()


if __name__ == "__main__":
    main()
