//! DUMP and RESTORE: payloads captured from Valkey 9.1 restore to the same
//! values and encodings (and, where the encoding is deterministic, DUMP
//! gives the same bytes back, footer included), and RESTORE's options and
//! errors are Valkey's.

#[macro_use]
mod common;

use common::{bulk, cmd, int, q, raw_roundtrip, NULL, OK, SYNTAX};
use std::net::TcpStream;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn send(s: &mut TcpStream, args: &[&[u8]]) -> Vec<u8> {
    raw_roundtrip(s, &cmd(args), 1)
}

/// The bulk string's payload in a raw reply.
fn bulk_body(reply: &[u8]) -> Vec<u8> {
    let nl = reply
        .iter()
        .position(|&b| b == b'\n')
        .expect("a bulk reply");
    reply[nl + 1..reply.len() - 2].to_vec()
}

fn dump(s: &mut TcpStream, key: &str) -> Vec<u8> {
    bulk_body(&send(s, &[b"DUMP", key.as_bytes()]))
}

server_test!(valkey_payloads_restore_to_the_same_values, |srv| {
    let mut s = srv.raw();
    let data = include_str!("data/valkey-dump-payloads.txt");
    let mut seen = 0;
    for line in data.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<Vec<u8>> = line.split('\t').map(unhex).collect();
        let (key, payload, read, reply, enc, same) = (&f[0], &f[1], &f[2], &f[3], &f[4], &f[5]);
        let name = String::from_utf8_lossy(key).into_owned();
        assert_eq!(
            send(&mut s, &[b"RESTORE", key, b"0", payload]),
            OK.as_bytes(),
            "{name}"
        );
        let args: Vec<&[u8]> = read.split(|&b| b == b' ').collect();
        assert_eq!(
            String::from_utf8_lossy(&send(&mut s, &args)),
            String::from_utf8_lossy(reply),
            "{name}"
        );
        let got_enc = send(&mut s, &[b"OBJECT", b"ENCODING", key]);
        assert_eq!(bulk_body(&got_enc), *enc, "{name}");
        if same == b"1" {
            // The whole payload, footer (version 80, CRC) included.
            let back = dump(&mut s, &name);
            assert_eq!(back, *payload, "{name}");
        }
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} fixtures");
});

server_test!(restore_options_and_errors, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["DUMP", "nokey"]), NULL);
    assert_eq!(q(&mut s, &["SET", "k", "hello"]), OK);
    let p = dump(&mut s, "k");
    // RDB version 80, then the CRC-64 of all before it: Valkey 9.1's
    // bytes (captured with redis-cli).
    assert_eq!(p, b"\x00\x05helloP\x00\xacX\x16\xe7\xfbfG\xfe");
    let r =
        |s: &mut TcpStream, args: &[&[u8]]| String::from_utf8_lossy(&send(s, args)).into_owned();
    assert_eq!(
        r(&mut s, &[b"RESTORE", b"k", b"0", &p]),
        "-BUSYKEY Target key name already exists.\r\n"
    );
    assert_eq!(r(&mut s, &[b"RESTORE", b"k", b"0", &p, b"REPLACE"]), OK);
    assert_eq!(
        r(&mut s, &[b"RESTORE", b"n", b"-1", &p]),
        "-ERR Invalid TTL value, must be >= 0\r\n"
    );
    assert_eq!(
        r(&mut s, &[b"RESTORE", b"n", b"x", &p]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(r(&mut s, &[b"RESTORE", b"n", b"0", &p, b"BOGUS"]), SYNTAX);
    assert_eq!(
        r(&mut s, &[b"RESTORE", b"n", b"0", &p, b"IDLETIME", b"-1"]),
        "-ERR Invalid IDLETIME value, must be >= 0\r\n"
    );
    assert_eq!(
        r(&mut s, &[b"RESTORE", b"n", b"0", &p, b"FREQ", b"256"]),
        "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"
    );
    // IDLETIME and FREQ together: the second is a syntax error.
    assert_eq!(
        r(
            &mut s,
            &[b"RESTORE", b"n", b"0", &p, b"IDLETIME", b"1", b"FREQ", b"1"]
        ),
        SYNTAX
    );
    let wrong = "-ERR DUMP payload version or checksum are wrong\r\n";
    let mut bad = p.clone();
    bad[2] ^= 1;
    assert_eq!(r(&mut s, &[b"RESTORE", b"n", b"0", &bad]), wrong);
    assert_eq!(r(&mut s, &[b"RESTORE", b"n", b"0", b"short"]), wrong);
    // Version 12 (Redis 7.4's) is refused, Valkey 9's 80 accepted.
    let with_version = |body: &[u8], v: u16| {
        let mut out = body.to_vec();
        out.extend_from_slice(&v.to_le_bytes());
        let crc = ferrokey::persist::crc64(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    };
    assert_eq!(
        r(
            &mut s,
            &[b"RESTORE", b"n", b"0", &with_version(b"\x00\x01x", 12)]
        ),
        wrong
    );
    assert_eq!(
        r(
            &mut s,
            &[b"RESTORE", b"n", b"0", &with_version(b"\x00\x01x", 80)]
        ),
        OK
    );
    // rdb-version-check relaxed: other forks' versions are read, but not
    // the value types that mean something else there (as Valkey 9.1).
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "rdb-version-check", "relaxed"]),
        OK
    );
    assert_eq!(
        r(
            &mut s,
            &[b"RESTORE", b"rv", b"0", &with_version(b"\x00\x01x", 12)]
        ),
        OK
    );
    assert_eq!(
        r(
            &mut s,
            &[b"RESTORE", b"rv2", b"0", &with_version(b"\x16\x00", 12)]
        ),
        "-ERR Unsupported foreign data type: 22\r\n"
    );
    assert_eq!(
        r(
            &mut s,
            &[b"RESTORE", b"rv3", b"0", &with_version(b"\x00\x01x", 90)]
        ),
        OK
    );
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "rdb-version-check", "strict"]),
        OK
    );
    // A checksum that holds over a corrupt body: Bad data format.
    for body in [&b"\x00\x09x"[..], b"\x08\x00", b"\x02\x00", b"\x0f\x00"] {
        assert_eq!(
            r(&mut s, &[b"RESTORE", b"m", b"0", &with_version(body, 11)]),
            "-ERR Bad data format\r\n",
            "{body:?}"
        );
    }
    assert_eq!(q(&mut s, &["EXISTS", "m"]), int(0));

    // TTLs: relative, absolute, already expired (nothing created).
    assert_eq!(r(&mut s, &[b"RESTORE", b"t1", b"100000", &p]), OK);
    let pttl: i64 = q(&mut s, &["PTTL", "t1"])[1..].trim().parse().unwrap();
    assert!(pttl > 90_000 && pttl <= 100_000, "{pttl}");
    assert_eq!(r(&mut s, &[b"RESTORE", b"t2", b"1", &p, b"ABSTTL"]), OK);
    assert_eq!(q(&mut s, &["EXISTS", "t2"]), int(0));
    assert_eq!(
        r(&mut s, &[b"RESTORE", b"k", b"1", &p, b"ABSTTL", b"REPLACE"]),
        OK
    );
    assert_eq!(q(&mut s, &["EXISTS", "k"]), int(0));
    assert_eq!(q(&mut s, &["GET", "t1"]), bulk("hello"));

    // IDLETIME under the default (LRU) policy; FREQ under an LFU one.
    assert_eq!(
        r(&mut s, &[b"RESTORE", b"i", b"0", &p, b"IDLETIME", b"1000"]),
        OK
    );
    let idle: i64 = q(&mut s, &["OBJECT", "IDLETIME", "i"])[1..]
        .trim()
        .parse()
        .unwrap();
    assert!((1000..1010).contains(&idle), "{idle}");
    assert_eq!(
        q(
            &mut s,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]
        ),
        OK
    );
    assert_eq!(
        r(&mut s, &[b"RESTORE", b"f", b"0", &p, b"FREQ", b"100"]),
        OK
    );
    assert_eq!(q(&mut s, &["OBJECT", "FREQ", "f"]), int(100));
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]),
        OK
    );
});

server_test!(restore_notifies_and_wakes_waiters, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["RPUSH", "src", "a", "b"]), int(2));
    let p = dump(&mut s, "src");
    let mut sub = srv.raw();
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "notify-keyspace-events", "KAn"]),
        OK
    );
    let _ = q(&mut sub, &["SUBSCRIBE", "__keyspace@0__:dst"]);
    assert_eq!(
        String::from_utf8_lossy(&send(&mut s, &[b"RESTORE", b"dst", b"0", &p])),
        OK
    );
    let got = String::from_utf8_lossy(&common::read_replies(&mut sub, 2)).into_owned();
    assert!(got.contains("$3\r\nnew\r\n"), "{got}");
    assert!(got.ends_with("$7\r\nrestore\r\n"), "{got}");
    assert_eq!(
        q(&mut s, &["LRANGE", "dst", "0", "-1"]),
        common::arr(&["a", "b"])
    );
});
