//! HyperLogLog commands against the real server: a transcript of replies
//! captured from Valkey 9.1 (values read back byte for byte with GET,
//! corrupt values, errors, PFDEBUG, hll-sparse-max-bytes), and a DUMP
//! payload made by Valkey restored and counted here.

mod common;

use common::{cmd, raw_roundtrip, read_replies};
use std::io::Write;

// Captured from valkey-server 9.1 (one connection, commands in order, the
// bytes of each reply; PFDEBUG SIMD with a bad argument replies twice).
const TRANSCRIPT: &[(&[&[u8]], &[u8])] = &[
    (&[b"PFADD", b"h", b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h", b"i", b"j"], b":1\r\n"),
    (&[b"GET", b"h"], b"$47\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80Fm\x80I\xe8\x80L\"\x80D<\x848\x80B=\x80K\x83\x80B\xed\x84I\x8c\x80Bm\x80BZ\r\n"),
    (&[b"PFCOUNT", b"h"], b":10\r\n"),
    (&[b"GET", b"h"], b"$47\r\nHYLL\x01\x00\x00\x00\n\x00\x00\x00\x00\x00\x00\x00Fm\x80I\xe8\x80L\"\x80D<\x848\x80B=\x80K\x83\x80B\xed\x84I\x8c\x80Bm\x80BZ\r\n"),
    (&[b"PFADD", b"h", b"a", b"b"], b":0\r\n"),
    (&[b"PFADD", b"h"], b":0\r\n"),
    (&[b"PFADD", b"h", b"zz"], b":1\r\n"),
    (&[b"GET", b"h"], b"$50\r\nHYLL\x01\x00\x00\x00\n\x00\x00\x00\x00\x00\x00\x80Fm\x80Dj\x80E|\x80L\"\x80D<\x848\x80B=\x80K\x83\x80B\xed\x84I\x8c\x80Bm\x80BZ\r\n"),
    (&[b"PFDEBUG", b"DECODE", b"h"], b"$143\r\nZ:1646 v:1,1 Z:1131 v:1,1 Z:1405 v:1,1 Z:3107 v:1,1 Z:1085 v:2,1 z:57 v:1,1 Z:574 v:1,1 Z:2948 v:1,1 Z:750 v:2,1 Z:2445 v:1,1 Z:622 v:1,1 Z:603\r\n"),
    (&[b"PFDEBUG", b"ENCODING", b"h"], b"+sparse\r\n"),
    (&[b"PFDEBUG", b"encoding", b"nokey"], b"-ERR The specified key does not exist\r\n"),
    (&[b"PFDEBUG", b"foo", b"h"], b"-ERR Unknown PFDEBUG subcommand 'foo'\r\n"),
    (&[b"PFDEBUG", b"foo", b"nokey"], b"-ERR The specified key does not exist\r\n"),
    (&[b"PFDEBUG", b"SIMD", b"ON"], b"+enabled\r\n"),
    (&[b"PFDEBUG", b"SIMD", b"maybe"], b"-ERR Argument must be ON or OFF\r\n+enabled\r\n"),
    (&[b"PFDEBUG", b"SIMD", b"off"], b"+disabled\r\n"),
    (&[b"PFDEBUG", b"SIMD", b"on"], b"+enabled\r\n"),
    (&[b"PFADD", b"d", b"a", b"b", b"c", b"d", b"e"], b":1\r\n"),
    (&[b"PFDEBUG", b"TODENSE", b"d"], b":1\r\n"),
    (&[b"PFDEBUG", b"TODENSE", b"d"], b":0\r\n"),
    (&[b"PFDEBUG", b"ENCODING", b"d"], b"+dense\r\n"),
    (&[b"PFDEBUG", b"DECODE", b"d"], b"-ERR HLL encoding is not sparse\r\n"),
    (&[b"PFCOUNT", b"d"], b":5\r\n"),
    (&[b"PFCOUNT", b"h", b"d", b"nokey"], b":11\r\n"),
    (&[b"PFMERGE", b"m", b"h", b"d"], b"+OK\r\n"),
    (&[b"PFDEBUG", b"ENCODING", b"m"], b"+dense\r\n"),
    (&[b"PFCOUNT", b"m"], b":11\r\n"),
    (&[b"PFMERGE", b"m2", b"h"], b"+OK\r\n"),
    (&[b"GET", b"m2"], b"$50\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80Fm\x80Dj\x80E|\x80L\"\x80D<\x848\x80B=\x80K\x83\x80B\xed\x84I\x8c\x80Bm\x80BZ\r\n"),
    (&[b"PFMERGE", b"m3"], b"+OK\r\n"),
    (&[b"GET", b"m3"], b"$18\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\r\n"),
    (&[b"SET", b"e", b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"], b"+OK\r\n"),
    (&[b"OBJECT", b"ENCODING", b"e"], b"$6\r\nembstr\r\n"),
    (&[b"PFCOUNT", b"e"], b":0\r\n"),
    (&[b"OBJECT", b"ENCODING", b"e"], b"$3\r\nraw\r\n"),
    (&[b"SET", b"s", b"hello"], b"+OK\r\n"),
    (&[b"PFADD", b"s", b"a"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&[b"PFCOUNT", b"s"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&[b"PFCOUNT", b"h", b"s"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&[b"PFMERGE", b"s", b"h"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&[b"PFMERGE", b"h", b"s"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&[b"OBJECT", b"ENCODING", b"s"], b"$6\r\nembstr\r\n"),
    (&[b"RPUSH", b"l", b"a"], b":1\r\n"),
    (&[b"PFADD", b"l", b"a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&[b"PFCOUNT", b"l"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&[b"PFCOUNT", b"h", b"l"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&[b"PFDEBUG", b"ENCODING", b"l"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&[b"SET", b"n", b"12345678901234567"], b"+OK\r\n"),
    (&[b"PFCOUNT", b"n"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&[b"SET", b"x", b"HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"], b"+OK\r\n"),
    (&[b"PFCOUNT", b"x"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&[b"SET", b"x", b"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"], b"+OK\r\n"),
    (&[b"PFCOUNT", b"x"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&[b"SET", b"x", b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xfe"], b"+OK\r\n"),
    (&[b"PFCOUNT", b"x"], b"-INVALIDOBJ Corrupted HLL object detected\r\n"),
    (&[b"PFCOUNT", b"x", b"h"], b"-INVALIDOBJ Corrupted HLL object detected\r\n"),
    (&[b"PFMERGE", b"y", b"x"], b"-INVALIDOBJ Corrupted HLL object detected\r\n"),
    (&[b"PFADD", b"x", b"a"], b":1\r\n"),
    (&[b"PFDEBUG", b"TODENSE", b"x"], b"-INVALIDOBJ Corrupted HLL object detected\r\n"),
    (&[b"PFDEBUG", b"GETREG", b"x"], b"-INVALIDOBJ Corrupted HLL object detected\r\n"),
    (&[b"PFDEBUG", b"DECODE", b"x"], b"$20\r\nZ:12711 v:2,1 Z:3671\r\n"),
    (&[b"SET", b"x", b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\x00"], b"+OK\r\n"),
    (&[b"PFCOUNT", b"x"], b"-INVALIDOBJ Corrupted HLL object detected\r\n"),
    (&[b"PFADD", b"x", b"a", b"b"], b":1\r\n"),
    (&[b"GET", b"x"], b"$25\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80q\xa6\x84K\xfb\x80BZ\x00\r\n"),
    (&[b"SET", b"x", b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80"], b"+OK\r\n"),
    (&[b"PFADD", b"x", b"a"], b"-INVALIDOBJ Corrupted HLL object detected\r\n"),
    (&[b"PFCOUNT", b"x"], b"-INVALIDOBJ Corrupted HLL object detected\r\n"),
    (&[b"SET", b"x", b"HYLL\x01\x00\x00\x00"], b"+OK\r\n"),
    (&[b"PFCOUNT", b"x"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&[b"PFSELFTEST", b"x"], b"-ERR wrong number of arguments for 'pfselftest' command\r\n"),
    (&[b"PFDEBUG", b"x"], b"-ERR wrong number of arguments for 'pfdebug' command\r\n"),
    (&[b"PFCOUNT"], b"-ERR wrong number of arguments for 'pfcount' command\r\n"),
    (&[b"PFADD"], b"-ERR wrong number of arguments for 'pfadd' command\r\n"),
    (&[b"PFMERGE"], b"-ERR wrong number of arguments for 'pfmerge' command\r\n"),
    // PFADD to a dense key: the reply, and the cached cardinality kept or
    // marked stale (the header's last byte).
    (&[b"PFADD", b"dd", b"a", b"b", b"c"], b":1\r\n"),
    (&[b"PFDEBUG", b"TODENSE", b"dd"], b":1\r\n"),
    (&[b"PFCOUNT", b"dd"], b":3\r\n"),
    (&[b"PFADD", b"dd", b"a"], b":0\r\n"),
    (&[b"GETRANGE", b"dd", b"0", b"15"], b"$16\r\nHYLL\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\r\n"),
    (&[b"PFADD", b"dd"], b":0\r\n"),
    (&[b"PFADD", b"dd", b"b", b"x", b"y"], b":1\r\n"),
    (&[b"GETRANGE", b"dd", b"0", b"15"], b"$16\r\nHYLL\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x80\r\n"),
    (&[b"PFCOUNT", b"dd"], b":5\r\n"),
    (&[b"GETRANGE", b"dd", b"0", b"15"], b"$16\r\nHYLL\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\r\n"),
    (&[b"STRLEN", b"dd"], b":12304\r\n"),
    (&[b"OBJECT", b"ENCODING", b"dd"], b"$3\r\nraw\r\n"),
    (&[b"CONFIG", b"SET", b"hll-sparse-max-bytes", b"30"], b"+OK\r\n"),
    (&[b"DEL", b"h"], b":1\r\n"),
    (&[b"PFADD", b"h", b"a", b"b", b"c"], b":1\r\n"),
    (&[b"PFDEBUG", b"ENCODING", b"h"], b"+sparse\r\n"),
    (&[b"PFADD", b"h", b"d", b"e", b"f", b"g"], b":1\r\n"),
    (&[b"PFDEBUG", b"ENCODING", b"h"], b"+dense\r\n"),
    (&[b"PFCOUNT", b"h"], b":7\r\n"),
    (&[b"CONFIG", b"GET", b"hll-sparse-max-bytes"], b"*2\r\n$20\r\nhll-sparse-max-bytes\r\n$2\r\n30\r\n"),
    (&[b"CONFIG", b"SET", b"hll-sparse-max-bytes", b"-1"], b"-ERR CONFIG SET failed (possibly related to argument 'hll-sparse-max-bytes') - argument must be a memory value\r\n"),
    (&[b"CONFIG", b"SET", b"hll-sparse-max-bytes", b"3000"], b"+OK\r\n"),
];

/// DUMP of `PFADD h a b c d e f g h i j` in Valkey 9.1 (RDB version 80).
const VALKEY_DUMP: &[u8] = b"\x00/HYLL\x01\x00\x00\x00\n\x00\x00\x00\x00\x00\x00\x00Fm\x80I\xe8\x80L\"\x80D<\x848\x80B=\x80K\x83\x80B\xed\x84I\x8c\x80Bm\x80BZP\x00\xefT\xa6%\xe9\x0e\xf7\x07";

fn replay(srv: &common::Server) {
    let mut s = srv.raw();
    for (args, want) in TRANSCRIPT {
        s.write_all(&cmd(args)).expect("write");
        let n = if args.len() == 3 && args[1] == b"SIMD" && args[2] == b"maybe" {
            2
        } else {
            1
        };
        let got = read_replies(&mut s, n);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want),
            "reply to {:?}",
            args.iter()
                .map(|a| String::from_utf8_lossy(a))
                .collect::<Vec<_>>()
        );
    }
}

server_test!(transcript_matches_valkey, |srv| {
    replay(srv);
});

server_test!(valkey_dump_restores_and_counts, |srv| {
    let mut s = srv.raw();
    let r = raw_roundtrip(&mut s, &cmd(&[b"RESTORE", b"r", b"0", VALKEY_DUMP]), 1);
    assert_eq!(r, b"+OK\r\n");
    let r = raw_roundtrip(&mut s, &cmd(&[b"PFCOUNT", b"r"]), 1);
    assert_eq!(r, b":10\r\n");
    // The same bytes as PFADD makes here (after its count is cached).
    raw_roundtrip(
        &mut s,
        &cmd(&[
            b"PFADD", b"h", b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h", b"i", b"j",
        ]),
        1,
    );
    raw_roundtrip(&mut s, &cmd(&[b"PFCOUNT", b"h"]), 1);
    let a = raw_roundtrip(&mut s, &cmd(&[b"GET", b"r"]), 1);
    let b = raw_roundtrip(&mut s, &cmd(&[b"GET", b"h"]), 1);
    assert_eq!(a, b);
});

server_test!(getreg_lists_every_register, |srv| {
    let mut s = srv.raw();
    raw_roundtrip(&mut s, &cmd(&[b"PFADD", b"h", b"1", b"2", b"3"]), 1);
    let r = raw_roundtrip(&mut s, &cmd(&[b"PFDEBUG", b"GETREG", b"h"]), 1);
    let text = String::from_utf8_lossy(&r);
    assert!(text.starts_with("*16384\r\n"));
    let nonzero = text.lines().skip(1).filter(|l| *l != ":0").count();
    assert_eq!(nonzero, 3);
    // GETREG turned it dense.
    let r = raw_roundtrip(&mut s, &cmd(&[b"PFDEBUG", b"ENCODING", b"h"]), 1);
    assert_eq!(r, b"+dense\r\n");
});

server_test!(counts_stay_within_error_and_union, |srv| {
    let mut s = srv.raw();
    for k in 0..3 {
        let mut args: Vec<Vec<u8>> = vec![b"PFADD".to_vec(), format!("h{k}").into_bytes()];
        for i in 0..5000 {
            args.push(format!("{k}-{i}").into_bytes());
        }
        let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        assert_eq!(raw_roundtrip(&mut s, &cmd(&refs), 1), b":1\r\n");
    }
    let r = raw_roundtrip(&mut s, &cmd(&[b"PFCOUNT", b"h0", b"h1", b"h2"]), 1);
    let n: i64 = String::from_utf8_lossy(&r[1..r.len() - 2]).parse().unwrap();
    assert!((n - 15000).abs() < 15000 * 5 / 100, "union estimate {n}");
    // PFCOUNT of several keys changes none of them.
    let before = raw_roundtrip(&mut s, &cmd(&[b"GET", b"h0"]), 1);
    raw_roundtrip(&mut s, &cmd(&[b"PFCOUNT", b"h0", b"h1"]), 1);
    assert_eq!(raw_roundtrip(&mut s, &cmd(&[b"GET", b"h0"]), 1), before);
});
