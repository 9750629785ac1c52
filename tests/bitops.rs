//! The bitmap family against the real server (io-threads 1 and 4): every
//! reply compared byte for byte with Valkey 9.1's to the same commands.
//! The transcripts below were captured by `scripts/capture-bitops.py` from
//! a Valkey 9.1 server; each group starts on an empty server. Commands are
//! written with `\xNN` escapes for binary arguments and `''` for an empty
//! one.

mod common;

use common::{cmd, raw_roundtrip};
use std::net::TcpStream;

/// The arguments of a transcript command.
fn args_of(line: &str) -> Vec<Vec<u8>> {
    line.split(' ')
        .map(|a| {
            if a == "''" {
                return Vec::new();
            }
            let b = a.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < b.len() {
                if b[i..].starts_with(b"\\x") {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).expect("hex");
                    out.push(u8::from_str_radix(hex, 16).expect("hex"));
                    i += 4;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            out
        })
        .collect()
}

/// Replays a transcript on a fresh connection, each reply checked.
fn replay(s: &mut TcpStream, transcript: &[(&str, &[u8])]) {
    for (line, want) in transcript {
        let a = args_of(line);
        let refs: Vec<&[u8]> = a.iter().map(|x| &x[..]).collect();
        let got = raw_roundtrip(s, &cmd(&refs), 1);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want),
            "reply to {line}"
        );
        assert_eq!(&got[..], *want, "reply bytes to {line}");
    }
}

server_test!(setbit_getbit, |srv| {
    replay(&mut srv.raw(), SETBIT_GETBIT)
});
server_test!(bitcount, |srv| { replay(&mut srv.raw(), BITCOUNT) });
server_test!(bitpos, |srv| { replay(&mut srv.raw(), BITPOS) });
server_test!(bitop, |srv| { replay(&mut srv.raw(), BITOP) });
server_test!(bitfield, |srv| { replay(&mut srv.raw(), BITFIELD) });
server_test!(big_bitmaps, |srv| { replay(&mut srv.raw(), BIG) });

server_test!(bitfield_fail_is_resp3_null, |srv| {
    let mut s = srv.raw();
    raw_roundtrip(&mut s, &cmd(&[b"HELLO", b"3"]), 1);
    let got = raw_roundtrip(
        &mut s,
        &cmd(&[
            b"BITFIELD",
            b"k",
            b"OVERFLOW",
            b"FAIL",
            b"INCRBY",
            b"u2",
            b"0",
            b"10",
            b"GET",
            b"u2",
            b"0",
        ]),
        1,
    );
    assert_eq!(&got[..], b"*2\r\n_\r\n:0\r\n");
});

server_test!(pipelined_setbits_then_count, |srv| {
    // Many SETBITs in one write, then reads: the bitmap grows in place.
    let mut s = srv.raw();
    let mut batch = Vec::new();
    for i in 0..500u64 {
        let off = (i * 7919) % 100_000;
        batch.extend_from_slice(&cmd(&[b"SETBIT", b"bm", off.to_string().as_bytes(), b"1"]));
    }
    raw_roundtrip(&mut s, &batch, 500);
    let count = raw_roundtrip(&mut s, &cmd(&[b"BITCOUNT", b"bm"]), 1);
    // 7919 and 100,000 are coprime, so the 500 offsets are distinct.
    assert_eq!(&count[..], b":500\r\n");
    let first = raw_roundtrip(&mut s, &cmd(&[b"BITPOS", b"bm", b"1", b"1"]), 1);
    // Start byte 1: the smallest offset set from bit 8 on.
    let min = (0..500u64)
        .map(|i| (i * 7919) % 100_000)
        .filter(|&o| o >= 8)
        .min()
        .expect("some");
    assert_eq!(String::from_utf8_lossy(&first), format!(":{min}\r\n"));
});

const SETBIT_GETBIT: &[(&str, &[u8])] = &[
    (r"SETBIT k 7 1", b":0\r\n"),
    (r"SETBIT k 7 1", b":1\r\n"),
    (r"SETBIT k 7 0", b":1\r\n"),
    (r"GET k", b"$1\r\n\x00\r\n"),
    (r"OBJECT ENCODING k", b"$3\r\nraw\r\n"),
    (r"SETBIT k 100 1", b":0\r\n"),
    (r"STRLEN k", b":13\r\n"),
    (r"GETBIT k 100", b":1\r\n"),
    (r"GETBIT k 101", b":0\r\n"),
    (r"GETBIT k 99999999", b":0\r\n"),
    (r"GETBIT nokey 0", b":0\r\n"),
    (
        r"SETBIT k 4294967296 1",
        b"-ERR bit offset is not an integer or out of range\r\n",
    ),
    (
        r"SETBIT k -1 1",
        b"-ERR bit offset is not an integer or out of range\r\n",
    ),
    (
        r"SETBIT k 01 1",
        b"-ERR bit offset is not an integer or out of range\r\n",
    ),
    (
        r"SETBIT k x 1",
        b"-ERR bit offset is not an integer or out of range\r\n",
    ),
    (
        r"SETBIT k 0 2",
        b"-ERR bit is not an integer or out of range\r\n",
    ),
    (
        r"SETBIT k 0 -1",
        b"-ERR bit is not an integer or out of range\r\n",
    ),
    (
        r"SETBIT k 0 x",
        b"-ERR bit is not an integer or out of range\r\n",
    ),
    (
        r"SETBIT k 0 01",
        b"-ERR bit is not an integer or out of range\r\n",
    ),
    (
        r"GETBIT k -1",
        b"-ERR bit offset is not an integer or out of range\r\n",
    ),
    (
        r"GETBIT k 4294967296",
        b"-ERR bit offset is not an integer or out of range\r\n",
    ),
    (r"SET n 12345", b"+OK\r\n"),
    (r"GETBIT n 2", b":1\r\n"),
    (r"GETBIT n 7", b":1\r\n"),
    (r"OBJECT ENCODING n", b"$3\r\nint\r\n"),
    (r"SETBIT n 0 0", b":0\r\n"),
    (r"OBJECT ENCODING n", b"$3\r\nraw\r\n"),
    (r"SETBIT n 1 0", b":0\r\n"),
    (r"GET n", b"$5\r\n12345\r\n"),
    (r"SET e a", b"+OK\r\n"),
    (r"SETBIT e 7 1", b":1\r\n"),
    (r"OBJECT ENCODING e", b"$3\r\nraw\r\n"),
    (r"RPUSH l a", b":1\r\n"),
    (
        r"SETBIT l 0 1",
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    ),
    (
        r"GETBIT l 0",
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    ),
    (
        r"SETBIT l x 1",
        b"-ERR bit offset is not an integer or out of range\r\n",
    ),
    (r"SET t a EXAT 4000000000", b"+OK\r\n"),
    (r"SETBIT t 0 1", b":0\r\n"),
    (r"EXPIRETIME t", b":4000000000\r\n"),
];

const BITCOUNT: &[(&str, &[u8])] = &[
    (r"SET s foobar", b"+OK\r\n"),
    (r"BITCOUNT s", b":26\r\n"),
    (r"BITCOUNT s 0 0", b":4\r\n"),
    (r"BITCOUNT s 1 1", b":6\r\n"),
    (r"BITCOUNT s 1 1 BYTE", b":6\r\n"),
    (r"BITCOUNT s 5 30 BIT", b":17\r\n"),
    (r"BITCOUNT s 5 30 bit", b":17\r\n"),
    (r"BITCOUNT s 1", b":22\r\n"),
    (r"BITCOUNT s -2", b":7\r\n"),
    (r"BITCOUNT s -1 -3", b":0\r\n"),
    (r"BITCOUNT s -3 -1", b":10\r\n"),
    (r"BITCOUNT s 0 -1 BIT", b":26\r\n"),
    (r"BITCOUNT s -100 100", b":26\r\n"),
    (r"BITCOUNT s 100 200", b":0\r\n"),
    (r"BITCOUNT s 0 -100", b":4\r\n"),
    (r"BITCOUNT s 7 6 BIT", b":0\r\n"),
    (r"BITCOUNT s -1 -1 BIT", b":0\r\n"),
    (r"BITCOUNT s 0 0 foo", b"-ERR syntax error\r\n"),
    (
        r"BITCOUNT s a 0 foo",
        b"-ERR value is not an integer or out of range\r\n",
    ),
    (
        r"BITCOUNT s 0 a",
        b"-ERR value is not an integer or out of range\r\n",
    ),
    (r"BITCOUNT s 0 a foo", b"-ERR syntax error\r\n"),
    (r"BITCOUNT s 1 2 BIT x", b"-ERR syntax error\r\n"),
    (r"BITCOUNT nokey", b":0\r\n"),
    (r"BITCOUNT nokey 0 1 BIT", b":0\r\n"),
    (r"BITCOUNT nokey 0 1 x", b"-ERR syntax error\r\n"),
    (r"SET n -123", b"+OK\r\n"),
    (r"BITCOUNT n", b":14\r\n"),
    (r"BITCOUNT n 0 0", b":4\r\n"),
    (r"SET z ''", b"+OK\r\n"),
    (r"BITCOUNT z", b":0\r\n"),
    (r"BITCOUNT z 0 -1 BIT", b":0\r\n"),
    (r"RPUSH l a", b":1\r\n"),
    (
        r"BITCOUNT l",
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    ),
    (r"BITCOUNT l 0 1 x", b"-ERR syntax error\r\n"),
    (
        r"BITCOUNT s -9223372036854775808 9223372036854775807",
        b":26\r\n",
    ),
    (
        r"BITCOUNT s -9223372036854775808 9223372036854775807 BIT",
        b":26\r\n",
    ),
];

const BITPOS: &[(&str, &[u8])] = &[
    (r"SET s \xff\xf0\x00", b"+OK\r\n"),
    (r"BITPOS s 0", b":12\r\n"),
    (r"BITPOS s 1", b":0\r\n"),
    (r"BITPOS s 0 0", b":12\r\n"),
    (r"BITPOS s 0 0 -1", b":12\r\n"),
    (r"BITPOS s 1 2", b":-1\r\n"),
    (r"BITPOS s 1 2 -1 BIT", b":2\r\n"),
    (r"BITPOS s 0 -1", b":16\r\n"),
    (r"BITPOS s 0 8 15 BIT", b":12\r\n"),
    (r"BITPOS s 0 7 11 BIT", b":-1\r\n"),
    (r"BITPOS s 0 7 12 BIT", b":12\r\n"),
    (r"BITPOS s 1 12 23 BIT", b":-1\r\n"),
    (r"BITPOS s 0 3 5 BIT", b":-1\r\n"),
    (r"SET f \xff\xff\xff", b"+OK\r\n"),
    (r"BITPOS f 0", b":24\r\n"),
    (r"BITPOS f 0 0", b":24\r\n"),
    (r"BITPOS f 0 0 -1", b":-1\r\n"),
    (r"BITPOS f 0 1 2 BIT", b":-1\r\n"),
    (r"BITPOS f 1 -1", b":16\r\n"),
    (r"BITPOS f 1 -100 -90", b":0\r\n"),
    (r"BITPOS f 0 -2 -5", b":-1\r\n"),
    (r"BITPOS s 1 -1 -3", b":-1\r\n"),
    (r"BITPOS s 0 -1 -3", b":-1\r\n"),
    (r"SET one \x0f", b"+OK\r\n"),
    (r"BITPOS one 0 -2 -5", b":0\r\n"),
    (r"BITPOS one 1 -2 -5", b":4\r\n"),
    (r"BITCOUNT one -2 -5", b":0\r\n"),
    (r"BITPOS f 1 5 2", b":-1\r\n"),
    (r"BITPOS f 0 -3 -1 BIT", b":-1\r\n"),
    (r"SET z \x00\x00\x00", b"+OK\r\n"),
    (r"BITPOS z 1", b":-1\r\n"),
    (r"BITPOS z 0", b":0\r\n"),
    (r"BITPOS z 1 0 -1 BIT", b":-1\r\n"),
    (r"BITPOS z 0 9 9 BIT", b":9\r\n"),
    (r"BITPOS nokey 0", b":0\r\n"),
    (r"BITPOS nokey 1", b":-1\r\n"),
    (r"BITPOS nokey 0 5 10 BIT", b":0\r\n"),
    (r"SET e ''", b"+OK\r\n"),
    (r"BITPOS e 0", b":-1\r\n"),
    (r"BITPOS e 1", b":-1\r\n"),
    (r"BITPOS e 0 0 -1", b":-1\r\n"),
    (r"SET n 10", b"+OK\r\n"),
    (r"BITPOS n 1", b":2\r\n"),
    (r"BITPOS n 0", b":0\r\n"),
    (r"BITPOS s 2", b"-ERR The bit argument must be 1 or 0.\r\n"),
    (r"BITPOS s -1", b"-ERR The bit argument must be 1 or 0.\r\n"),
    (
        r"BITPOS s x",
        b"-ERR value is not an integer or out of range\r\n",
    ),
    (
        r"BITPOS s 1 x",
        b"-ERR value is not an integer or out of range\r\n",
    ),
    (
        r"BITPOS s 1 0 x",
        b"-ERR value is not an integer or out of range\r\n",
    ),
    (r"BITPOS s 1 0 1 x", b"-ERR syntax error\r\n"),
    (r"BITPOS s 1 0 1 BIT x", b"-ERR syntax error\r\n"),
    (
        r"BITPOS s 2 0 1 BIT x",
        b"-ERR The bit argument must be 1 or 0.\r\n",
    ),
    (r"RPUSH l a", b":1\r\n"),
    (
        r"BITPOS l 0",
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    ),
    (r"BITPOS l 0 0 1 x", b"-ERR syntax error\r\n"),
];

const BITOP: &[(&str, &[u8])] = &[
    (r"SET a \xff\x0f\xaa", b"+OK\r\n"),
    (r"SET b \xf0", b"+OK\r\n"),
    (r"SET c \x01\x02\x03\x04\x05", b"+OK\r\n"),
    (r"BITOP AND d a b c", b":5\r\n"),
    (r"GET d", b"$5\r\n\x00\x00\x00\x00\x00\r\n"),
    (r"OBJECT ENCODING d", b"$3\r\nraw\r\n"),
    (r"BITOP or d a b c", b":5\r\n"),
    (r"GET d", b"$5\r\n\xff\x0f\xab\x04\x05\r\n"),
    (r"BITOP XOR d a b c", b":5\r\n"),
    (r"GET d", b"$5\r\n\x0e\r\xa9\x04\x05\r\n"),
    (r"BITOP NOT d a", b":3\r\n"),
    (r"GET d", b"$3\r\n\x00\xf0U\r\n"),
    (
        r"BITOP NOT d a b",
        b"-ERR BITOP NOT must be called with a single source key.\r\n",
    ),
    (r"BITOP NOT d nokey", b":0\r\n"),
    (r"EXISTS d", b":0\r\n"),
    (r"BITOP AND d a nokey", b":3\r\n"),
    (r"GET d", b"$3\r\n\x00\x00\x00\r\n"),
    (r"BITOP OR d nokey nokey2", b":0\r\n"),
    (r"EXISTS d", b":0\r\n"),
    (r"BITOP FOO d a", b"-ERR syntax error\r\n"),
    (r"BITOP ANDX d a", b"-ERR syntax error\r\n"),
    (r"SET n 12", b"+OK\r\n"),
    (r"BITOP OR d n", b":2\r\n"),
    (r"GET d", b"$2\r\n12\r\n"),
    (r"OBJECT ENCODING d", b"$3\r\nraw\r\n"),
    (r"RPUSH l a", b":1\r\n"),
    (
        r"BITOP OR d a l",
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    ),
    (r"BITOP OR l a", b":3\r\n"),
    (r"TYPE l", b"+string\r\n"),
    (r"SET t x EX 100", b"+OK\r\n"),
    (r"BITOP OR t a", b":3\r\n"),
    (r"TTL t", b":-1\r\n"),
    (r"BITOP AND a a b", b":3\r\n"),
    (r"GET a", b"$3\r\n\xf0\x00\x00\r\n"),
];

const BITFIELD: &[(&str, &[u8])] = &[
    (r"BITFIELD b SET i8 0 100 INCRBY i8 0 100 GET u4 #1", b"*3\r\n:0\r\n:-56\r\n:8\r\n"),
    (r"GET b", b"$1\r\n\xc8\r\n"),
    (r"BITFIELD b OVERFLOW SAT INCRBY i8 0 100 OVERFLOW FAIL INCRBY i8 0 100 OVERFLOW WRAP INCRBY u2 100 5", b"*3\r\n:44\r\n$-1\r\n:1\r\n"),
    (r"BITFIELD b GET i64 0 SET i64 1 -1 GET i64 1 GET u63 1", b"*4\r\n:3170534137668829184\r\n:6341068275337658368\r\n:-1\r\n:9223372036854775807\r\n"),
    (r"BITFIELD b GET u64 0", b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (r"BITFIELD b GET i65 0", b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (r"BITFIELD b GET i0 0", b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (r"BITFIELD b GET x8 0", b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (r"BITFIELD b GET i 0", b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (r"BITFIELD b GET i08 0", b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (r"BITFIELD b GET i8 -1", b"-ERR bit offset is not an integer or out of range\r\n"),
    (r"BITFIELD b GET i8 #-1", b"-ERR bit offset is not an integer or out of range\r\n"),
    (r"BITFIELD b GET i8 #", b"-ERR bit offset is not an integer or out of range\r\n"),
    (r"BITFIELD b GET i8 4294967296", b"-ERR bit offset is not an integer or out of range\r\n"),
    (r"BITFIELD b GET i8 #536870912", b"-ERR bit offset is not an integer or out of range\r\n"),
    (r"BITFIELD b SET i8 0 x", b"-ERR value is not an integer or out of range\r\n"),
    (r"BITFIELD b SET i8 0", b"-ERR syntax error\r\n"),
    (r"BITFIELD b GET i8", b"-ERR syntax error\r\n"),
    (r"BITFIELD b FOO", b"-ERR syntax error\r\n"),
    (r"BITFIELD b OVERFLOW", b"-ERR syntax error\r\n"),
    (r"BITFIELD b OVERFLOW foo GET i8 0", b"-ERR Invalid OVERFLOW type specified\r\n"),
    (r"BITFIELD b overflow sat", b"*0\r\n"),
    (r"BITFIELD b SET i99 x x", b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (r"BITFIELD b SET i8 x x", b"-ERR bit offset is not an integer or out of range\r\n"),
    (r"BITFIELD b GET i8 #2305843009213693952", b"*1\r\n:127\r\n"),
    (r"BITFIELD_RO b GET i8 0 GET u16 #1", b"*2\r\n:127\r\n:65535\r\n"),
    (r"BITFIELD_RO b GET i8 0 SET i8 0 1", b"-ERR BITFIELD_RO only supports the GET subcommand\r\n"),
    (r"BITFIELD_RO b INCRBY i8 0 1", b"-ERR BITFIELD_RO only supports the GET subcommand\r\n"),
    (r"BITFIELD_RO b", b"*0\r\n"),
    (r"BITFIELD_RO nokey GET u8 0", b"*1\r\n:0\r\n"),
    (r"BITFIELD nokey GET u8 100", b"*1\r\n:0\r\n"),
    (r"EXISTS nokey", b":0\r\n"),
    (r"BITFIELD nk OVERFLOW FAIL INCRBY u2 0 10", b"*1\r\n$-1\r\n"),
    (r"GET nk", b"$1\r\n\x00\r\n"),
    (r"BITFIELD nk2", b"*0\r\n"),
    (r"SET s 255", b"+OK\r\n"),
    (r"BITFIELD s GET u8 0", b"*1\r\n:50\r\n"),
    (r"OBJECT ENCODING s", b"$3\r\nint\r\n"),
    (r"BITFIELD s SET u8 0 50", b"*1\r\n:50\r\n"),
    (r"OBJECT ENCODING s", b"$3\r\nraw\r\n"),
    (r"GET s", b"$3\r\n255\r\n"),
    (r"BITFIELD w SET u8 0 -1", b"*1\r\n:0\r\n"),
    (r"BITFIELD w OVERFLOW SAT SET u8 0 -1", b"*1\r\n:255\r\n"),
    (r"BITFIELD w OVERFLOW SAT SET i8 0 -1000", b"*1\r\n:-1\r\n"),
    (r"BITFIELD w OVERFLOW FAIL SET u8 0 256", b"*1\r\n$-1\r\n"),
    (r"BITFIELD w OVERFLOW WRAP SET i8 0 200", b"*1\r\n:-128\r\n"),
    (r"BITFIELD w SET i64 0 9223372036854775807 INCRBY i64 0 1 OVERFLOW SAT INCRBY i64 0 -1", b"*3\r\n:-4035225266123964416\r\n:-9223372036854775808\r\n:-9223372036854775808\r\n"),
    (r"BITFIELD w OVERFLOW SAT INCRBY i64 0 -9223372036854775808", b"*1\r\n:-9223372036854775808\r\n"),
    (r"BITFIELD w SET u63 0 9223372036854775807 INCRBY u63 0 1 GET u63 0", b"*3\r\n:4611686018427387904\r\n:0\r\n:0\r\n"),
    (r"BITFIELD w SET u1 3 1 SET i3 5 -2 GET u8 0 GET i1 3", b"*4\r\n:0\r\n:0\r\n:22\r\n:-1\r\n"),
    (r"RPUSH l a", b":1\r\n"),
    (r"BITFIELD l GET u8 0", b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (r"BITFIELD l SET u8 0 1", b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (r"BITFIELD_RO l GET u8 0", b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (r"BITFIELD l", b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (r"BITFIELD l SET u8 0 x", b"-ERR value is not an integer or out of range\r\n"),
];

const BIG: &[(&str, &[u8])] = &[
    (r"SETBIT big 8388607 1", b":0\r\n"),
    (r"STRLEN big", b":1048576\r\n"),
    (r"BITCOUNT big", b":1\r\n"),
    (r"BITPOS big 1", b":8388607\r\n"),
    (r"BITPOS big 0", b":0\r\n"),
    (r"BITPOS big 1 1000 -1", b":8388607\r\n"),
    (r"BITPOS big 0 0 -1 BIT", b":0\r\n"),
    (r"SETRANGE big 500000 \xff\xff\x7f", b":1048576\r\n"),
    (r"BITCOUNT big", b":24\r\n"),
    (r"BITCOUNT big 500000 500001", b":16\r\n"),
    (r"BITCOUNT big 4000001 4000020 BIT", b":19\r\n"),
    (r"BITPOS big 1", b":4000000\r\n"),
    (r"BITPOS big 0 500000", b":4000016\r\n"),
    (r"BITPOS big 1 500003", b":8388607\r\n"),
    (r"OBJECT ENCODING big", b"$3\r\nraw\r\n"),
    (r"SETBIT big 4000000 0", b":1\r\n"),
    (r"BITCOUNT big", b":23\r\n"),
    (
        r"BITFIELD big GET u32 3999990 INCRBY u8 #500000 1",
        b"*2\r\n:2097119\r\n:128\r\n",
    ),
    (r"BITCOUNT big", b":17\r\n"),
    (r"SET ones \xff", b"+OK\r\n"),
    (r"BITOP AND dst big ones", b":1048576\r\n"),
    (r"STRLEN dst", b":1048576\r\n"),
    (r"BITCOUNT dst", b":0\r\n"),
    (r"BITOP OR dst big ones", b":1048576\r\n"),
    (r"BITCOUNT dst", b":25\r\n"),
    (r"BITOP NOT dst big", b":1048576\r\n"),
    (r"BITCOUNT dst", b":8388591\r\n"),
    (r"BITPOS dst 0", b":4000000\r\n"),
    (r"CONFIG SET proto-max-bulk-len 1048576", b"+OK\r\n"),
    (
        r"SETBIT big 8388608 1",
        b"-ERR bit offset is not an integer or out of range\r\n",
    ),
    (r"SETBIT big 8388607 0", b":1\r\n"),
    (r"BITFIELD big GET u8 8388600", b"*1\r\n:0\r\n"),
    (
        r"BITFIELD big GET u8 8388608",
        b"-ERR bit offset is not an integer or out of range\r\n",
    ),
    (r"BITFIELD big SET u16 8388600 1", b"*1\r\n:0\r\n"),
    (
        r"GETBIT big 8388608",
        b"-ERR bit offset is not an integer or out of range\r\n",
    ),
    (r"STRLEN big", b":1048577\r\n"),
    (r"CONFIG SET proto-max-bulk-len 536870912", b"+OK\r\n"),
];
