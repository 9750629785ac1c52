//! Hash-field expiration (Valkey 9) against the real server: HEXPIRE and
//! friends, HTTL and friends, HPERSIST, HSETEX, HGETEX, HGETDEL, expired
//! fields hidden from reads, the active cycle, and DUMP/RESTORE of
//! Valkey's RDB type 22. Replies are the ones Valkey 9.1 sends for the same
//! commands (transcripts taken with redis-cli against valkey-server 9.1).
//! At io-threads 1 and 4.

mod common;

use std::time::{Duration, Instant};

use common::{bulk, cmd, int, q, raw_roundtrip, Server, NOT_INT, NULL, OK, SYNTAX, WRONGTYPE};

const NUMFIELDS: &str =
    "-ERR numfields should be greater than 0 and match the provided number of fields\r\n";

fn ints(v: &[i64]) -> String {
    let mut s = format!("*{}\r\n", v.len());
    for n in v {
        s += &int(*n);
    }
    s
}

fn start(io_threads: usize) -> Server {
    Server::start_with(&[
        "--io-threads",
        &io_threads.to_string(),
        "--events-per-io-thread",
        "0",
        "--enable-debug-command",
        "yes",
    ])
}

/// Polls `args` until it replies `want` (a field's TTL passing, the active
/// cycle): fails after 10 s.
fn wait_for(s: &mut std::net::TcpStream, args: &[&str], want: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = q(s, args);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{args:?}: still {got:?}, want {want:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

macro_rules! hfe_test {
    ($name:ident, |$srv:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($srv: &Server) $body
            #[test]
            fn io_threads_1() {
                run(&start(1))
            }
            #[test]
            fn io_threads_4() {
                run(&start(4))
            }
        }
    };
}

hfe_test!(hexpire_and_httl, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["HSET", "h", "a", "1", "b", "2", "c", "3"]),
        int(3)
    );
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    assert_eq!(
        q(&mut s, &["HEXPIRE", "h", "100", "FIELDS", "2", "a", "zz"]),
        ints(&[1, -2])
    );
    // A TTL converts, and the hash never goes back.
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    assert_eq!(
        q(&mut s, &["HTTL", "h", "FIELDS", "3", "a", "b", "zz"]),
        ints(&[100, -1, -2])
    );
    assert_eq!(
        q(&mut s, &["HTTL", "nokey", "FIELDS", "2", "a", "b"]),
        ints(&[-2, -2])
    );
    // Conditions: a field without TTL counts as an infinite one.
    assert_eq!(
        q(&mut s, &["HEXPIRE", "h", "100", "XX", "FIELDS", "1", "c"]),
        ints(&[0])
    );
    assert_eq!(
        q(&mut s, &["HEXPIRE", "h", "100", "NX", "FIELDS", "1", "a"]),
        ints(&[0])
    );
    assert_eq!(
        q(&mut s, &["HEXPIRE", "h", "200", "GT", "FIELDS", "1", "a"]),
        ints(&[1])
    );
    assert_eq!(
        q(&mut s, &["HEXPIRE", "h", "100", "LT", "FIELDS", "1", "a"]),
        ints(&[1])
    );
    assert_eq!(
        q(&mut s, &["HEXPIRE", "h", "100", "GT", "FIELDS", "1", "c"]),
        ints(&[0])
    );
    assert_eq!(
        q(
            &mut s,
            &["HEXPIREAT", "h", "1900000000", "FIELDS", "1", "b"]
        ),
        ints(&[1])
    );
    assert_eq!(
        q(&mut s, &["HPEXPIRETIME", "h", "FIELDS", "2", "b", "c"]),
        ints(&[1_900_000_000_000, -1])
    );
    assert_eq!(
        q(&mut s, &["HEXPIRETIME", "h", "FIELDS", "1", "b"]),
        ints(&[1_900_000_000])
    );
    let pttl = q(&mut s, &["HPTTL", "h", "FIELDS", "1", "a"]);
    let ms: i64 = pttl.lines().nth(1).unwrap()[1..].parse().unwrap();
    assert!((99_000..=100_000).contains(&ms), "{pttl}");
    assert_eq!(
        q(&mut s, &["HPERSIST", "h", "FIELDS", "3", "a", "c", "zz"]),
        ints(&[1, -1, -2])
    );
    assert_eq!(q(&mut s, &["HTTL", "h", "FIELDS", "1", "a"]), ints(&[-1]));
    // A time already past deletes; the last field takes the key.
    assert_eq!(
        q(&mut s, &["HEXPIRE", "h", "0", "FIELDS", "2", "a", "zz"]),
        ints(&[2, -2])
    );
    assert_eq!(
        q(&mut s, &["HPEXPIREAT", "h", "1", "FIELDS", "2", "b", "c"]),
        ints(&[2, 2])
    );
    assert_eq!(q(&mut s, &["EXISTS", "h"]), int(0));
    // A listpack field has no TTL: XX and GT fail without converting.
    assert_eq!(q(&mut s, &["HSET", "l", "a", "1"]), int(1));
    assert_eq!(
        q(&mut s, &["HEXPIRE", "l", "10", "XX", "FIELDS", "1", "a"]),
        ints(&[0])
    );
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "l"]), bulk("listpack"));
    assert_eq!(
        q(&mut s, &["HPERSIST", "l", "FIELDS", "1", "a"]),
        ints(&[-1])
    );
    assert_eq!(
        q(&mut s, &["HEXPIRE", "l", "10", "FIELDS", "2", "a", "a"]),
        ints(&[1, 1])
    );
});

hfe_test!(errors_in_valkeys_order, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["HSET", "h", "a", "1", "b", "2"]);
    q(&mut s, &["SET", "s", "v"]);
    let arity = |c: &str| format!("-ERR wrong number of arguments for '{c}' command\r\n");
    let invalid = |c: &str| format!("-ERR invalid expire time in '{c}' command\r\n");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["HEXPIRE", "h", "10", "FIELDS", "0"], arity("hexpire")),
        (
            vec!["HEXPIRE", "h", "10", "FIELDS", "2", "a"],
            NUMFIELDS.into(),
        ),
        (
            vec!["HEXPIRE", "h", "10", "FIELDS", "1", "a", "b"],
            NUMFIELDS.into(),
        ),
        (
            vec!["HEXPIRE", "h", "10", "foo", "1", "a"],
            NUMFIELDS.into(),
        ),
        (
            vec!["HEXPIRE", "h", "10", "FIELDS", "-1", "a"],
            NUMFIELDS.into(),
        ),
        (
            vec!["HEXPIRE", "h", "10", "FIELDS", "x", "a"],
            NOT_INT.into(),
        ),
        (
            vec!["HEXPIRE", "h", "abc", "FIELDS", "1", "a"],
            NOT_INT.into(),
        ),
        (
            vec!["HEXPIRE", "h", "-1", "FIELDS", "1", "a"],
            invalid("hexpire"),
        ),
        (
            vec!["HEXPIRE", "s", "-1", "FIELDS", "1", "a"],
            invalid("hexpire"),
        ),
        (
            vec!["HEXPIRE", "s", "10", "FIELDS", "1", "a"],
            WRONGTYPE.into(),
        ),
        (
            vec!["HPEXPIRE", "h", "9223372036854775807", "FIELDS", "1", "a"],
            invalid("hpexpire"),
        ),
        (
            vec!["HEXPIRE", "h", "9223372036854775", "FIELDS", "1", "a"],
            invalid("hexpire"),
        ),
        (
            vec!["HPEXPIREAT", "h", "-5", "FIELDS", "1", "a"],
            invalid("hpexpireat"),
        ),
        (
            vec!["HEXPIRE", "h", "10", "NX", "XX", "FIELDS", "1", "a"],
            "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n".into(),
        ),
        (
            vec!["HEXPIRE", "h", "10", "GT", "LT", "FIELDS", "1", "a"],
            "-ERR GT and LT options at the same time are not compatible\r\n".into(),
        ),
        (
            vec!["HEXPIRE", "h", "abc", "foo", "FIELDS", "1", "b"],
            "-ERR Unsupported option foo\r\n".into(),
        ),
        (vec!["HTTL", "h", "foo", "1", "a"], SYNTAX.into()),
        (vec!["HTTL", "h", "FIELDS", "2", "a"], SYNTAX.into()),
        (vec!["HTTL", "h", "FIELDS", "x", "a"], NOT_INT.into()),
        (vec!["HTTL", "s", "FIELDS", "2", "a"], SYNTAX.into()),
        (vec!["HTTL", "s", "FIELDS", "1", "a"], WRONGTYPE.into()),
        (vec!["HPERSIST", "h", "foo", "1", "a"], SYNTAX.into()),
        (vec!["HPERSIST", "h", "FIELDS", "2", "a"], NUMFIELDS.into()),
        (vec!["HPERSIST", "s", "FIELDS", "1", "a"], WRONGTYPE.into()),
        (vec!["HSETEX", "h", "FIELDS", "1", "a"], arity("hsetex")),
        (
            vec!["HSETEX", "h", "FIELDS", "1", "a", "1", "b"],
            NUMFIELDS.into(),
        ),
        (
            vec!["HSETEX", "h", "FIELDS", "0", "a", "1"],
            NUMFIELDS.into(),
        ),
        (
            vec![
                "HSETEX", "h", "EX", "10", "PX", "10", "FIELDS", "1", "a", "1",
            ],
            SYNTAX.into(),
        ),
        (
            vec!["HSETEX", "h", "EX", "-1", "FIELDS", "1", "a", "1"],
            invalid("hsetex"),
        ),
        (
            vec!["HSETEX", "h", "EX", "abc", "FIELDS", "1", "a", "1"],
            NOT_INT.into(),
        ),
        (
            vec!["HSETEX", "h", "FNX", "FXX", "FIELDS", "1", "a", "1"],
            SYNTAX.into(),
        ),
        (
            vec!["HSETEX", "h", "NX", "XX", "FIELDS", "1", "a", "1"],
            SYNTAX.into(),
        ),
        (
            vec![
                "HSETEX", "h", "KEEPTTL", "EX", "10", "FIELDS", "1", "a", "1",
            ],
            SYNTAX.into(),
        ),
        (
            vec!["HSETEX", "h", "PERSIST", "FIELDS", "1", "a", "1"],
            SYNTAX.into(),
        ),
        (
            vec!["HSETEX", "s", "EX", "-1", "FIELDS", "1", "a", "1"],
            WRONGTYPE.into(),
        ),
        (
            vec!["HSETEX", "h", "NX", "EX", "-1", "FIELDS", "1", "a", "1"],
            int(0),
        ),
        (
            vec!["HSETEX", "fields", "FIELDS", "1", "a", "1"],
            NOT_INT.into(),
        ),
        (
            vec!["HSETEX", "h", "FIELDS", "4611686018427387904", "a", "1"],
            NUMFIELDS.into(),
        ),
        (
            vec!["HGETEX", "h", "PERSIST", "EX", "10", "FIELDS", "1", "a"],
            SYNTAX.into(),
        ),
        (
            vec!["HGETEX", "h", "KEEPTTL", "FIELDS", "1", "a"],
            SYNTAX.into(),
        ),
        (vec!["HGETEX", "h", "FIELDS", "2", "a"], NUMFIELDS.into()),
        (vec!["HGETEX", "h", "FIELDS", "0"], arity("hgetex")),
        (
            vec!["HGETEX", "h", "EX", "10", "FIELDS", "-1", "a"],
            NUMFIELDS.into(),
        ),
        (
            vec!["HGETEX", "h", "EX", "-1", "FIELDS", "1", "a"],
            invalid("hgetex"),
        ),
        (
            vec!["HGETEX", "s", "EX", "-1", "FIELDS", "1", "a"],
            WRONGTYPE.into(),
        ),
        (vec!["HGETDEL", "h", "FIELDS", "1"], arity("hgetdel")),
        (vec!["HGETDEL", "h", "FIELDS", "2", "a"], NUMFIELDS.into()),
        (vec!["HGETDEL", "h", "foo", "x", "a"], SYNTAX.into()),
        (vec!["HGETDEL", "h", "FIELDS", "x", "a"], NOT_INT.into()),
        (vec!["HGETDEL", "s", "FIELDS", "1", "a"], WRONGTYPE.into()),
    ];
    for (args, want) in cases {
        assert_eq!(q(&mut s, &args), want, "{args:?}");
    }
    // Nothing above changed the hash.
    assert_eq!(
        q(&mut s, &["HTTL", "h", "FIELDS", "2", "a", "b"]),
        ints(&[-1, -1])
    );
});

hfe_test!(hsetex_hgetex_hgetdel, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(
            &mut s,
            &["HSETEX", "h", "PX", "100000", "FIELDS", "2", "a", "1", "b", "2"]
        ),
        int(1)
    );
    assert_eq!(
        q(&mut s, &["HSETEX", "h", "KEEPTTL", "FIELDS", "1", "a", "3"]),
        int(1)
    );
    assert_eq!(q(&mut s, &["HTTL", "h", "FIELDS", "1", "a"]), ints(&[100]));
    // HSET overwrites the TTL away; HINCRBY keeps it.
    assert_eq!(q(&mut s, &["HSET", "h", "a", "5"]), int(0));
    assert_eq!(
        q(&mut s, &["HTTL", "h", "FIELDS", "2", "a", "b"]),
        ints(&[-1, 100])
    );
    assert_eq!(q(&mut s, &["HINCRBY", "h", "b", "1"]), int(3));
    assert_eq!(q(&mut s, &["HINCRBYFLOAT", "h", "b", "0.5"]), bulk("3.5"));
    assert_eq!(q(&mut s, &["HTTL", "h", "FIELDS", "1", "b"]), ints(&[100]));
    // Field and key conditions.
    assert_eq!(
        q(&mut s, &["HSETEX", "h", "FNX", "FIELDS", "1", "a", "9"]),
        int(0)
    );
    assert_eq!(
        q(
            &mut s,
            &["HSETEX", "h", "FXX", "FIELDS", "2", "a", "9", "zz", "1"]
        ),
        int(0)
    );
    assert_eq!(
        q(
            &mut s,
            &["HSETEX", "h", "FXX", "EX", "50", "FIELDS", "1", "a", "9"]
        ),
        int(1)
    );
    assert_eq!(
        q(&mut s, &["HSETEX", "h", "NX", "FIELDS", "1", "a", "9"]),
        int(0)
    );
    assert_eq!(
        q(&mut s, &["HSETEX", "nokey", "XX", "FIELDS", "1", "a", "9"]),
        int(0)
    );
    assert_eq!(
        q(&mut s, &["HSETEX", "nokey", "FXX", "FIELDS", "1", "a", "9"]),
        int(0)
    );
    assert_eq!(q(&mut s, &["EXISTS", "nokey"]), int(0));
    // HGETEX: values, and TTLs set, removed, or the fields deleted.
    assert_eq!(
        q(
            &mut s,
            &["HGETEX", "h", "EX", "70", "FIELDS", "2", "a", "zz"]
        ),
        format!("*2\r\n{}{NULL}", bulk("9"))
    );
    assert_eq!(q(&mut s, &["HTTL", "h", "FIELDS", "1", "a"]), ints(&[70]));
    assert_eq!(
        q(&mut s, &["HGETEX", "h", "PERSIST", "FIELDS", "1", "a"]),
        format!("*1\r\n{}", bulk("9"))
    );
    assert_eq!(q(&mut s, &["HTTL", "h", "FIELDS", "1", "a"]), ints(&[-1]));
    assert_eq!(
        q(&mut s, &["HGETEX", "h", "EXAT", "1", "FIELDS", "1", "a"]),
        format!("*1\r\n{}", bulk("9"))
    );
    assert_eq!(q(&mut s, &["HEXISTS", "h", "a"]), int(0));
    assert_eq!(
        q(&mut s, &["HGETEX", "nokey", "EX", "10", "FIELDS", "1", "a"]),
        format!("*1\r\n{NULL}")
    );
    // HGETDEL: values, then gone; the last field takes the key.
    assert_eq!(q(&mut s, &["HSET", "d", "a", "1", "b", "2"]), int(2));
    assert_eq!(
        q(&mut s, &["HGETDEL", "d", "FIELDS", "3", "a", "a", "zz"]),
        format!("*3\r\n{}{NULL}{NULL}", bulk("1"))
    );
    assert_eq!(
        q(&mut s, &["HGETDEL", "d", "FIELDS", "1", "b"]),
        format!("*1\r\n{}", bulk("2"))
    );
    assert_eq!(q(&mut s, &["EXISTS", "d"]), int(0));
    // A past time deletes what it names; an emptied hash goes away.
    assert_eq!(
        q(&mut s, &["HSETEX", "h", "EX", "0", "FIELDS", "1", "b", "1"]),
        int(1)
    );
    assert_eq!(
        q(&mut s, &["HSETEX", "e", "PX", "0", "FIELDS", "1", "a", "1"]),
        int(1)
    );
    assert_eq!(q(&mut s, &["EXISTS", "e"]), int(0));
});

hfe_test!(expired_fields_read_as_absent, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), OK);
    q(&mut s, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(
        q(&mut s, &["HPEXPIRE", "h", "20", "FIELDS", "2", "a", "b"]),
        ints(&[1, 1])
    );
    wait_for(&mut s, &["HEXISTS", "h", "a"], &int(0));
    wait_for(&mut s, &["HEXISTS", "h", "b"], &int(0));
    // As Valkey: hidden everywhere, but HLEN counts them until removed.
    assert_eq!(q(&mut s, &["HLEN", "h"]), int(3));
    assert_eq!(q(&mut s, &["HGET", "h", "a"]), NULL);
    assert_eq!(q(&mut s, &["HSTRLEN", "h", "b"]), int(0));
    assert_eq!(
        q(&mut s, &["HGETALL", "h"]),
        format!("*2\r\n{}{}", bulk("c"), bulk("3"))
    );
    assert_eq!(q(&mut s, &["HKEYS", "h"]), format!("*1\r\n{}", bulk("c")));
    assert_eq!(
        q(&mut s, &["HSCAN", "h", "0"]),
        format!("*2\r\n{}*2\r\n{}{}", bulk("0"), bulk("c"), bulk("3"))
    );
    assert_eq!(
        q(&mut s, &["HTTL", "h", "FIELDS", "2", "a", "c"]),
        ints(&[-2, -1])
    );
    assert_eq!(q(&mut s, &["HDEL", "h", "a"]), int(0));
    assert_eq!(
        q(&mut s, &["HPERSIST", "h", "FIELDS", "1", "b"]),
        ints(&[-2])
    );
    assert_eq!(
        q(&mut s, &["HEXPIRE", "h", "100", "FIELDS", "1", "b"]),
        ints(&[-2])
    );
    // Writing over an expired field counts as new, without its old TTL.
    assert_eq!(q(&mut s, &["HSETNX", "h", "b", "9"]), int(1));
    assert_eq!(q(&mut s, &["HTTL", "h", "FIELDS", "1", "b"]), ints(&[-1]));
    assert_eq!(q(&mut s, &["HSET", "h", "a", "5"]), int(1));
    assert_eq!(q(&mut s, &["HLEN", "h"]), int(3));
    // Every field expired: nothing to read, the key still there.
    q(&mut s, &["HSET", "g", "a", "1"]);
    q(&mut s, &["HPEXPIRE", "g", "20", "FIELDS", "1", "a"]);
    wait_for(&mut s, &["HEXISTS", "g", "a"], &int(0));
    assert_eq!(q(&mut s, &["HRANDFIELD", "g"]), NULL);
    assert_eq!(q(&mut s, &["HRANDFIELD", "g", "3"]), "*0\r\n");
    assert_eq!(
        q(&mut s, &["HRANDFIELD", "g", "-3", "WITHVALUES"]),
        "*0\r\n"
    );
    assert_eq!(q(&mut s, &["HGETALL", "g"]), "*0\r\n");
    assert_eq!(q(&mut s, &["EXISTS", "g"]), int(1));
    assert_eq!(q(&mut s, &["HLEN", "g"]), int(1));
    // The active cycle removes them, and the emptied key.
    assert_eq!(q(&mut s, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), OK);
    wait_for(&mut s, &["EXISTS", "g"], &int(0));
    wait_for(&mut s, &["HLEN", "h"], &int(3));
    let info = q(&mut s, &["INFO", "stats"]);
    assert!(info.contains("expired_fields:"), "{info}");
});

hfe_test!(active_cycle_removes_many_fields, |srv| {
    let mut s = srv.raw();
    // 2,000 hashes of 50 fields, all due soon, plus one field to keep.
    let batch = hashes_with_due_fields(true);
    raw_roundtrip(&mut s, &batch, 4000);
    wait_for(&mut s, &["DBSIZE"], &int(1));
    assert_eq!(
        q(&mut s, &["HGETALL", "h0"]),
        format!("*2\r\n{}{}", bulk("keep"), bulk("v"))
    );
    assert_eq!(q(&mut s, &["HLEN", "h0"]), int(1));
    let info = q(&mut s, &["INFO", "stats"]);
    assert!(info.contains("expired_fields:100000\r\n"), "{info}");
    let ks = q(&mut s, &["INFO", "keyspace"]);
    assert!(ks.contains("keys_with_volatile_items=0"), "{ks}");
});

// One cron tick a second: a backlog of 100,000 due fields still goes in
// well under 10 s, in slices between the ticks (the tick's own slice, a
// millisecond, would take minutes over it).
hfe_test!(backlog_clears_between_ticks, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["CONFIG", "SET", "hz", "1"]), OK);
    let batch = hashes_with_due_fields(false);
    raw_roundtrip(&mut s, &batch, 4000);
    wait_for(&mut s, &["DBSIZE"], &int(0));
    let info = q(&mut s, &["INFO", "stats"]);
    assert!(info.contains("expired_fields:100000\r\n"), "{info}");
});

hfe_test!(dump_restore_type_22, |srv| {
    let mut s = srv.raw();
    // DUMP of a hash from Valkey 9.1: a=1 (expires at 1900000000000 ms),
    // b=2 (no TTL).
    let payload: &[u8] = b"\x16\x02\x01a\xc0\x01\x008\xd3`\xba\x01\x00\x00\x01b\xc0\x02\
        \xff\xff\xff\xff\xff\xff\xff\xffP\x00\xde\xdc\xc8)\xac\xbc\x9aQ";
    let r = raw_roundtrip(&mut s, &cmd(&[b"RESTORE", b"k", b"0", payload]), 1);
    assert_eq!(String::from_utf8_lossy(&r), OK);
    assert_eq!(
        q(&mut s, &["HPEXPIRETIME", "k", "FIELDS", "3", "a", "b", "c"]),
        ints(&[1_900_000_000_000, -1, -2])
    );
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "k"]), bulk("hashtable"));
    // Ours comes back the same, through our own DUMP.
    let dump = raw_roundtrip(&mut s, &cmd(&[b"DUMP", b"k"]), 1);
    let at = dump.iter().position(|&b| b == b'\n').unwrap() + 1;
    let body = &dump[at..dump.len() - 2];
    assert_eq!(body[0], 22, "type byte");
    // Valkey 9.1's footer: RDB version 80 (as for every type).
    assert_eq!(&body[body.len() - 10..body.len() - 8], b"P\x00");
    // RESTORE still takes the version 11 this server used to write.
    let mut v11 = body[..body.len() - 10].to_vec();
    v11.extend_from_slice(&11u16.to_le_bytes());
    let crc = ferrokey::persist::crc64(&v11);
    v11.extend_from_slice(&crc.to_le_bytes());
    let r = raw_roundtrip(&mut s, &cmd(&[b"RESTORE", b"k11", b"0", &v11]), 1);
    assert_eq!(String::from_utf8_lossy(&r), OK);
    assert_eq!(
        q(&mut s, &["HPEXPIRETIME", "k11", "FIELDS", "2", "a", "b"]),
        ints(&[1_900_000_000_000, -1])
    );
    let r = raw_roundtrip(&mut s, &cmd(&[b"RESTORE", b"k2", b"0", body]), 1);
    assert_eq!(String::from_utf8_lossy(&r), OK);
    assert_eq!(
        q(&mut s, &["HPEXPIRETIME", "k2", "FIELDS", "2", "a", "b"]),
        ints(&[1_900_000_000_000, -1])
    );
    // A RESTOREd hash's fields expire actively too.
    q(&mut s, &["HPEXPIRE", "k2", "30", "FIELDS", "2", "a", "b"]);
    let dump = raw_roundtrip(&mut s, &cmd(&[b"DUMP", b"k2"]), 1);
    let at = dump.iter().position(|&b| b == b'\n').unwrap() + 1;
    let r = raw_roundtrip(
        &mut s,
        &cmd(&[b"RESTORE", b"k3", b"0", &dump[at..dump.len() - 2]]),
        1,
    );
    assert_eq!(String::from_utf8_lossy(&r), OK);
    wait_for(&mut s, &["EXISTS", "k3"], &int(0));
});

// DUMP's footer for plain values: Valkey 9.1's bytes (redis-cli against
// valkey-server 9.1.2), version 80 whatever the type.
hfe_test!(dump_footer_is_valkeys, |srv| {
    let mut s = srv.raw();
    let dump = |s: &mut std::net::TcpStream, key: &[u8]| {
        let r = raw_roundtrip(s, &cmd(&[b"DUMP", key]), 1);
        let at = r.iter().position(|&b| b == b'\n').unwrap() + 1;
        r[at..r.len() - 2].to_vec()
    };
    q(&mut s, &["SET", "s", "hello"]);
    assert_eq!(
        dump(&mut s, b"s"),
        b"\x00\x05helloP\x00\xacX\x16\xe7\xfbfG\xfe"
    );
    q(&mut s, &["HSET", "h", "a", "1", "b", "2"]);
    assert_eq!(
        dump(&mut s, b"h"),
        b"\x10\x11\x11\x00\x00\x00\x04\x00\x81a\x02\x01\x01\x81b\x02\x02\x01\xff\
          P\x00\xf1j\xaa\xfd\x11\x0f\x11n"
    );
    // A hash whose field TTLs are gone again: type 4, version 80.
    q(&mut s, &["HSET", "p", "a", "1", "b", "2"]);
    q(&mut s, &["HPEXPIRE", "p", "1000", "FIELDS", "1", "a"]);
    q(&mut s, &["HPERSIST", "p", "FIELDS", "1", "a"]);
    let p = dump(&mut s, b"p");
    assert_eq!((p[0], &p[p.len() - 10..p.len() - 8]), (4, &b"P\x00"[..]));
});

// DEBUG DIGEST and DIGEST-VALUE as Valkey 9.1.2 gives them: a field's TTL
// changes nothing; a field whose TTL passed (not yet removed, active
// expiry off) is left out, even when it is the last one.
hfe_test!(digest_skips_expired_fields, |srv| {
    let mut s = srv.raw();
    let digests = |s: &mut std::net::TcpStream, key: &str| {
        (
            q(s, &["DEBUG", "DIGEST-VALUE", key]),
            q(s, &["DEBUG", "DIGEST"]),
        )
    };
    let valkey = |value: &str, all: &str| (format!("*1\r\n+{value}\r\n"), format!("+{all}\r\n"));
    q(&mut s, &["HSET", "h", "a", "1", "b", "2"]);
    let plain = valkey(
        "6c8f22b3bf510fdcfd6122dd0f908a80e88243bf",
        "4e43099c33699e81c1cfdaa4f3eb3cd5635db0fe",
    );
    assert_eq!(digests(&mut s, "h"), plain);
    q(&mut s, &["HPEXPIRE", "h", "100000", "FIELDS", "1", "a"]);
    assert_eq!(digests(&mut s, "h"), plain);
    assert_eq!(q(&mut s, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), OK);
    q(&mut s, &["HPEXPIRE", "h", "1", "FIELDS", "1", "a"]);
    wait_for(&mut s, &["HEXISTS", "h", "a"], &int(0));
    assert_eq!(q(&mut s, &["HLEN", "h"]), int(2));
    assert_eq!(
        digests(&mut s, "h"),
        valkey(
            "ad0cab148f2e31ee9d53b9211c2641768c3f7e67",
            "7a88932a2f7b1fed229c250b44ad2ef251705217"
        )
    );
    q(&mut s, &["FLUSHALL"]);
    q(&mut s, &["HSET", "g", "a", "1"]);
    q(&mut s, &["HPEXPIRE", "g", "1", "FIELDS", "1", "a"]);
    wait_for(&mut s, &["HEXISTS", "g", "a"], &int(0));
    assert_eq!(q(&mut s, &["EXISTS", "g"]), int(1));
    assert_eq!(
        digests(&mut s, "g"),
        valkey(
            "a3e9f2f09216c6c31996d2fe563800d93d9dee85",
            "219436acf15e6ec813aba71f9cbd11744015e979"
        )
    );
});

/// DEBUG RELOAD (an RDB file, `VALKEY080` because of type 22) and an AOF
/// rewrite loaded back (HSETEX PXAT per field) keep every field's TTL.
#[test]
fn rdb_and_aof_rewrite_keep_field_ttls() {
    for io in [1, 4] {
        let dir = std::env::temp_dir().join(format!("ferrokey-hfe-{}-{io}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let srv = Server::start_with(&[
            "--io-threads",
            &io.to_string(),
            "--dir",
            dir.to_str().unwrap(),
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            "no",
            "--enable-debug-command",
            "yes",
        ]);
        let mut s = srv.raw();
        q(&mut s, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        q(
            &mut s,
            &["HPEXPIREAT", "h", "1900000000000", "FIELDS", "1", "a"],
        );
        q(
            &mut s,
            &["HEXPIREAT", "h", "1800000000", "FIELDS", "1", "b"],
        );
        q(&mut s, &["SELECT", "2"]);
        q(
            &mut s,
            &[
                "HSETEX",
                "g",
                "PXAT",
                "1900000000001",
                "FIELDS",
                "1",
                "x",
                "y",
            ],
        );
        q(&mut s, &["SELECT", "0"]);
        let want = ints(&[1_900_000_000_000, 1_800_000_000_000, -1]);
        let check = |s: &mut std::net::TcpStream| {
            assert_eq!(
                q(s, &["HPEXPIRETIME", "h", "FIELDS", "3", "a", "b", "c"]),
                want
            );
            assert_eq!(q(s, &["HGET", "h", "c"]), bulk("3"));
            q(s, &["SELECT", "2"]);
            assert_eq!(
                q(s, &["HPEXPIRETIME", "g", "FIELDS", "1", "x"]),
                ints(&[1_900_000_000_001])
            );
            q(s, &["SELECT", "0"]);
        };
        assert_eq!(q(&mut s, &["DEBUG", "RELOAD"]), OK);
        check(&mut s);
        let rdb = std::fs::read(dir.join("dump.rdb")).unwrap();
        assert!(rdb.starts_with(b"VALKEY080"), "{:?}", &rdb[..9]);
        q(&mut s, &["BGREWRITEAOF"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !q(&mut s, &["INFO", "persistence"]).contains("aof_rewrite_in_progress:0\r\n")
            || q(&mut s, &["INFO", "persistence"]).contains("aof_rewrite_scheduled:1\r\n")
        {
            assert!(Instant::now() < deadline, "the rewrite did not finish");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(q(&mut s, &["DEBUG", "LOADAOF"]), OK);
        check(&mut s);
        drop(srv);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// 2,000 hashes of 50 fields, every field expiring in 50 ms, as one
/// pipeline of 4,000 commands (HSET, HPEXPIRE); with `keep`, the first hash
/// also has a field without TTL.
fn hashes_with_due_fields(keep: bool) -> Vec<u8> {
    let mut batch = Vec::new();
    for k in 0..2000 {
        let key = format!("h{k}");
        let mut hset: Vec<String> = vec!["HSET".into(), key.clone()];
        let mut hexp: Vec<String> = vec![
            "HPEXPIRE".into(),
            key,
            "50".into(),
            "FIELDS".into(),
            "50".into(),
        ];
        for f in 0..50 {
            hset.push(format!("f{f}"));
            hset.push("v".into());
            hexp.push(format!("f{f}"));
        }
        if keep && k == 0 {
            hset.push("keep".into());
            hset.push("v".into());
        }
        let a: Vec<&[u8]> = hset.iter().map(|x| x.as_bytes()).collect();
        batch.extend(cmd(&a));
        let a: Vec<&[u8]> = hexp.iter().map(|x| x.as_bytes()).collect();
        batch.extend(cmd(&a));
    }
    batch
}
