//! Generic keyspace commands against the real server; the expected replies
//! are what Valkey 9.1 sends for the same commands, byte for byte.

mod common;

use common::{bulk, int, q, NOT_INT, NULL, OK, SYNTAX};

use std::collections::HashSet;
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn err(msg: &str) -> String {
    format!("-{msg}\r\n")
}

/// The integer of an integer reply.
fn int_of(r: &str) -> i64 {
    r.strip_prefix(':')
        .and_then(|r| r.trim_end().parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {r:?}"))
}

const DB_RANGE: &str = "-ERR DB index is out of range\r\n";
const SAME: &str = "-ERR source and destination objects are the same\r\n";
const INT32: &str = "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n";

/// Sorted keys of a KEYS reply (order is the hash table's).
fn keys(con: &mut redis::Connection, pattern: &str) -> Vec<String> {
    let mut v: Vec<String> = redis::cmd("KEYS").arg(pattern).query(con).unwrap();
    v.sort();
    v
}

/// Every key a full SCAN iteration returns (with repetitions), and the
/// number of calls it took.
fn full_scan(con: &mut redis::Connection, extra: &[&str]) -> (Vec<String>, usize) {
    let mut cursor = "0".to_string();
    let mut all = Vec::new();
    let mut calls = 0;
    loop {
        let (next, batch): (String, Vec<String>) = redis::cmd("SCAN")
            .arg(&cursor)
            .arg(extra)
            .query(con)
            .unwrap();
        calls += 1;
        all.extend(batch);
        if next == "0" {
            return (all, calls);
        }
        assert!(calls < 100_000, "SCAN does not terminate");
        cursor = next;
    }
}

server_test!(del_unlink_exists, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SET", "a", "1"]);
    q(&mut s, &["SET", "b", "2"]);
    q(&mut s, &["SET", "", "empty"]);
    assert_eq!(q(&mut s, &["EXISTS", "a", "a", "zz", ""]), int(3));
    assert_eq!(q(&mut s, &["DEL", "a", "a", "zz"]), int(1));
    assert_eq!(q(&mut s, &["DEL", "a"]), int(0));
    assert_eq!(q(&mut s, &["EXISTS", "a"]), int(0));
    assert_eq!(q(&mut s, &["UNLINK", "b", "zz", ""]), int(2));
    assert_eq!(q(&mut s, &["EXISTS", "b", ""]), int(0));
    assert_eq!(
        q(&mut s, &["DEL"]),
        err("ERR wrong number of arguments for 'del' command")
    );
    assert_eq!(
        q(&mut s, &["UNLINK"]),
        err("ERR wrong number of arguments for 'unlink' command")
    );
    // A large value goes to another thread to be freed; the key is gone now.
    let big = "x".repeat(300 * 1024);
    for lazy in ["no", "yes"] {
        assert_eq!(
            q(&mut s, &["CONFIG", "SET", "lazyfree-lazy-user-del", lazy]),
            OK
        );
        q(&mut s, &["SET", "big", &big]);
        q(&mut s, &["SET", "big2", &big]);
        assert_eq!(q(&mut s, &["DEL", "big"]), int(1));
        assert_eq!(q(&mut s, &["UNLINK", "big2"]), int(1));
        assert_eq!(q(&mut s, &["EXISTS", "big", "big2"]), int(0));
    }
    assert_eq!(q(&mut s, &["DBSIZE"]), int(0));
});

server_test!(type_touch_randomkey, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["TYPE", "nokey"]), "+none\r\n");
    assert_eq!(q(&mut s, &["RANDOMKEY"]), NULL);
    q(&mut s, &["SET", "a", "1"]);
    assert_eq!(q(&mut s, &["TYPE", "a"]), "+string\r\n");
    assert_eq!(q(&mut s, &["TOUCH", "a", "nokey", "a"]), int(2));
    assert_eq!(q(&mut s, &["TOUCH", "nokey"]), int(0));
    assert_eq!(q(&mut s, &["RANDOMKEY"]), bulk("a"));
    q(&mut s, &["SET", "b", "2"]);
    let mut seen = HashSet::new();
    for _ in 0..200 {
        seen.insert(q(&mut s, &["RANDOMKEY"]));
    }
    assert_eq!(seen, HashSet::from([bulk("a"), bulk("b")]));
    // RESP3 nulls and simple strings.
    q(&mut s, &["HELLO", "3"]);
    assert_eq!(q(&mut s, &["TYPE", "a"]), "+string\r\n");
    q(&mut s, &["FLUSHDB"]);
    assert_eq!(q(&mut s, &["RANDOMKEY"]), "_\r\n");
    assert_eq!(q(&mut s, &["TYPE", "a"]), "+none\r\n");
});

server_test!(randomkey_skips_expired_keys, |srv| {
    let mut s = srv.raw();
    for i in 0..50 {
        q(&mut s, &["SET", &format!("k{i}"), "v", "PX", "1"]);
    }
    q(&mut s, &["SET", "live", "v"]);
    // Wait until the short-lived keys have expired (they may linger).
    let deadline = Instant::now() + Duration::from_secs(5);
    // k49 was set last: once it has expired, all have.
    while q(&mut s, &["PTTL", "k49"]) != int(-2) {
        assert!(Instant::now() < deadline, "k49 never expired");
        std::thread::sleep(Duration::from_millis(5));
    }
    for _ in 0..20 {
        assert_eq!(q(&mut s, &["RANDOMKEY"]), bulk("live"));
    }
});

server_test!(keys_patterns, |srv| {
    let mut con = srv.conn();
    let mut s = srv.raw();
    for k in ["", "a", "ab", "abc", "b", "h?llo", "hello", "hallo", "A"] {
        q(&mut s, &["SET", k, "1"]);
    }
    assert_eq!(
        keys(&mut con, "*"),
        ["", "A", "a", "ab", "abc", "b", "h?llo", "hallo", "hello"]
    );
    // Only a lone `*` matches the empty key.
    assert_eq!(
        keys(&mut con, "**"),
        ["A", "a", "ab", "abc", "b", "h?llo", "hallo", "hello"]
    );
    assert_eq!(keys(&mut con, "a*"), ["a", "ab", "abc"]);
    assert_eq!(keys(&mut con, "?"), ["A", "a", "b"]);
    assert_eq!(keys(&mut con, "[a-b]"), ["a", "b"]);
    assert_eq!(keys(&mut con, "[^a]"), ["A", "b"]);
    assert_eq!(keys(&mut con, "h[ae]llo"), ["hallo", "hello"]);
    assert_eq!(keys(&mut con, "h\\?llo"), ["h?llo"]);
    assert_eq!(keys(&mut con, "nomatch*"), Vec::<String>::new());
    assert_eq!(q(&mut s, &["KEYS", "zz*"]), "*0\r\n");
    assert_eq!(
        q(&mut s, &["KEYS", "abc"]),
        format!("*1\r\n{}", bulk("abc"))
    );
    assert_eq!(
        q(&mut s, &["KEYS"]),
        err("ERR wrong number of arguments for 'keys' command")
    );
    // Expired keys are not listed.
    q(&mut s, &["SET", "gone", "1", "PX", "1"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while q(&mut s, &["KEYS", "gone"]) != "*0\r\n" {
        assert!(Instant::now() < deadline, "expired key still listed");
        std::thread::sleep(Duration::from_millis(5));
    }
});

server_test!(scan_full_iteration_match_type_count, |srv| {
    let mut con = srv.conn();
    let mut s = srv.raw();
    let mut pipe = redis::pipe();
    for i in 0..3000 {
        pipe.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
    }
    pipe.cmd("SET").arg("").arg("empty").ignore();
    pipe.query::<()>(&mut con).unwrap();

    let want: HashSet<String> = (0..3000)
        .map(|i| format!("key:{i}"))
        .chain([String::new()])
        .collect();
    let (all, calls) = full_scan(&mut con, &[]);
    assert!(calls > 10, "COUNT 10 by default: {calls} calls");
    assert_eq!(all.iter().cloned().collect::<HashSet<_>>(), want);
    let (all, _) = full_scan(&mut con, &["MATCH", "*", "COUNT", "1000"]);
    assert_eq!(all.into_iter().collect::<HashSet<_>>(), want);

    // Keys added and removed while scanning: the ones there all along are
    // all returned.
    let mut cursor = "0".to_string();
    let mut seen = HashSet::new();
    let mut step = 0;
    loop {
        let (next, batch): (String, Vec<String>) = redis::cmd("SCAN")
            .arg(&cursor)
            .arg("COUNT")
            .arg(50)
            .query(&mut con)
            .unwrap();
        seen.extend(batch);
        if step < 40 {
            let mut p = redis::pipe();
            for j in 0..100 {
                p.cmd("SET").arg(format!("new:{step}:{j}")).arg(1).ignore();
            }
            p.query::<()>(&mut con).unwrap();
        }
        step += 1;
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert!(want.is_subset(&seen), "a key present all along was missed");
    for step in 0..40 {
        for j in 0..100 {
            q(&mut s, &["DEL", &format!("new:{step}:{j}")]);
        }
    }

    let (all, _) = full_scan(&mut con, &["MATCH", "key:1??", "COUNT", "100"]);
    let got: HashSet<String> = all.into_iter().collect();
    let want_match: HashSet<String> = (100..200).map(|i| format!("key:{i}")).collect();
    assert_eq!(got, want_match);
    let (all, _) = full_scan(&mut con, &["TYPE", "string", "MATCH", "key:29*"]);
    assert_eq!(all.len(), 111, "key:29, key:29x, key:29xx, each once");
    let (all, _) = full_scan(&mut con, &["TYPE", "LIST"]);
    assert!(all.is_empty());
    let (all, _) = full_scan(&mut con, &["MATCH", "nomatch*", "COUNT", "5"]);
    assert!(all.is_empty());
    // A cursor walks at most COUNT * 10 buckets, so a filtered-out call
    // still makes progress and can return nothing.
    let r = q(&mut s, &["SCAN", "0", "MATCH", "nomatch*", "COUNT", "1"]);
    assert!(r.starts_with("*2\r\n$"), "{r}");
    assert!(r.ends_with("*0\r\n"), "{r}");
});

server_test!(scan_errors_and_cursor_forms, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SET", "a", "1"]);
    let one = format!("*2\r\n{}*1\r\n{}", bulk("0"), bulk("a"));
    assert_eq!(q(&mut s, &["SCAN", "0"]), one);
    // Cursors as strtoull reads them, negatives refused.
    for c in [
        "+0",
        "00",
        " 0",
        "-0",
        "18446744073709551615",
        "-18446744073709551615",
    ] {
        let r = q(&mut s, &["SCAN", c]);
        assert!(r.starts_with("*2\r\n"), "{c:?}: {r}");
    }
    let bad_cursor = err("ERR invalid cursor");
    for c in ["abc", "-1", "0 ", "", "1e3", "18446744073709551616", " "] {
        assert_eq!(q(&mut s, &["SCAN", c]), bad_cursor, "{c:?}");
    }
    assert_eq!(q(&mut s, &["SCAN", "abc", "NOVALUES"]), bad_cursor);
    assert_eq!(q(&mut s, &["SCAN", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(q(&mut s, &["SCAN", "0", "COUNT", "-1"]), SYNTAX);
    assert_eq!(q(&mut s, &["SCAN", "0", "COUNT", "x"]), NOT_INT);
    assert_eq!(
        q(&mut s, &["SCAN", "0", "COUNT", "9223372036854775808"]),
        NOT_INT
    );
    assert_eq!(q(&mut s, &["SCAN", "0", "COUNT"]), SYNTAX);
    assert_eq!(q(&mut s, &["SCAN", "0", "MATCH"]), SYNTAX);
    assert_eq!(q(&mut s, &["SCAN", "0", "foo"]), SYNTAX);
    assert_eq!(
        q(&mut s, &["SCAN", "0", "TYPE", "foo"]),
        err("ERR unknown type name 'foo'")
    );
    assert_eq!(
        q(&mut s, &["SCAN", "0", "TYPE", "none"]),
        err("ERR unknown type name 'none'")
    );
    assert_eq!(
        q(&mut s, &["SCAN", "0", "TYPE", "string", "TYPE", "foo"]),
        err("ERR unknown type name 'foo'")
    );
    assert_eq!(
        q(&mut s, &["SCAN", "0", "COUNT", "0", "TYPE", "foo"]),
        SYNTAX
    );
    assert_eq!(
        q(&mut s, &["SCAN", "0", "NOVALUES", "COUNT", "0"]),
        err("ERR NOVALUES option can only be used in HSCAN")
    );
    assert_eq!(
        q(&mut s, &["SCAN", "0", "NOSCORES"]),
        err("ERR NOSCORES option can only be used in ZSCAN")
    );
    assert_eq!(q(&mut s, &["SCAN", "0", "COUNT", "0", "NOVALUES"]), SYNTAX);
    assert_eq!(
        q(
            &mut s,
            &["SCAN", "0", "type", "STRING", "count", "1", "count", "5"]
        ),
        one
    );
    assert_eq!(
        q(&mut s, &["SCAN"]),
        err("ERR wrong number of arguments for 'scan' command")
    );
    q(&mut s, &["HELLO", "3"]);
    assert_eq!(q(&mut s, &["SCAN", "0"]), one);
});

server_test!(rename_and_renamenx, |srv| {
    let mut s = srv.raw();
    let no_key = err("ERR no such key");
    assert_eq!(q(&mut s, &["RENAME", "nokey", "b"]), no_key);
    assert_eq!(q(&mut s, &["RENAMENX", "nokey", "b"]), no_key);
    assert_eq!(q(&mut s, &["RENAME", "nokey", "nokey"]), no_key);
    assert_eq!(q(&mut s, &["RENAMENX", "nokey", "nokey"]), no_key);
    q(&mut s, &["SET", "a", "1"]);
    assert_eq!(q(&mut s, &["RENAME", "a", "a"]), OK);
    assert_eq!(q(&mut s, &["RENAMENX", "a", "a"]), int(0));
    assert_eq!(q(&mut s, &["GET", "a"]), bulk("1"));
    // The TTL goes with the value.
    q(&mut s, &["PEXPIREAT", "a", "99999999999999"]);
    assert_eq!(q(&mut s, &["RENAME", "a", "b"]), OK);
    assert_eq!(q(&mut s, &["EXISTS", "a"]), int(0));
    assert_eq!(q(&mut s, &["PEXPIRETIME", "b"]), int(99999999999999));
    q(&mut s, &["SET", "c", "2"]);
    assert_eq!(q(&mut s, &["RENAMENX", "b", "c"]), int(0));
    assert_eq!(q(&mut s, &["GET", "c"]), bulk("2"));
    // Overwriting drops the destination's own TTL too.
    q(&mut s, &["EXPIRE", "c", "1000"]);
    q(&mut s, &["PERSIST", "b"]);
    assert_eq!(q(&mut s, &["RENAME", "b", "c"]), OK);
    assert_eq!(q(&mut s, &["GET", "c"]), bulk("1"));
    assert_eq!(q(&mut s, &["TTL", "c"]), int(-1));
    assert_eq!(q(&mut s, &["RENAMENX", "c", "d"]), int(1));
    assert_eq!(q(&mut s, &["GET", "d"]), bulk("1"));
    assert_eq!(q(&mut s, &["DBSIZE"]), int(1));
    assert_eq!(
        q(&mut s, &["RENAME", "d"]),
        err("ERR wrong number of arguments for 'rename' command")
    );
    // An expired source is no source.
    q(&mut s, &["SET", "e", "1", "PX", "1"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while q(&mut s, &["RENAME", "e", "f"]) != no_key {
        assert!(Instant::now() < deadline);
        q(&mut s, &["DEL", "f"]);
        q(&mut s, &["SET", "e", "1", "PX", "1"]);
        std::thread::sleep(Duration::from_millis(5));
    }
});

server_test!(move_between_dbs, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SET", "c", "1"]);
    assert_eq!(q(&mut s, &["MOVE", "c", "0"]), SAME);
    assert_eq!(q(&mut s, &["MOVE", "nokey", "0"]), SAME);
    assert_eq!(q(&mut s, &["MOVE", "c", "16"]), DB_RANGE);
    assert_eq!(q(&mut s, &["MOVE", "c", "-1"]), DB_RANGE);
    assert_eq!(q(&mut s, &["MOVE", "c", "x"]), NOT_INT);
    assert_eq!(q(&mut s, &["MOVE", "c", "2147483648"]), INT32);
    assert_eq!(q(&mut s, &["MOVE", "nokey", "1"]), int(0));
    q(&mut s, &["PEXPIREAT", "c", "99999999999999"]);
    assert_eq!(q(&mut s, &["MOVE", "c", "1"]), int(1));
    assert_eq!(q(&mut s, &["EXISTS", "c"]), int(0));
    q(&mut s, &["SET", "c", "2"]);
    // Not moved when the destination has the key.
    assert_eq!(q(&mut s, &["MOVE", "c", "1"]), int(0));
    assert_eq!(q(&mut s, &["GET", "c"]), bulk("2"));
    q(&mut s, &["SELECT", "1"]);
    assert_eq!(q(&mut s, &["GET", "c"]), bulk("1"));
    assert_eq!(q(&mut s, &["PEXPIRETIME", "c"]), int(99999999999999));
    assert_eq!(q(&mut s, &["MOVE", "c", "0"]), int(0));
});

server_test!(copy_within_and_across_dbs, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SET", "c", "1"]);
    assert_eq!(q(&mut s, &["COPY", "c", "c"]), SAME);
    assert_eq!(q(&mut s, &["COPY", "c", "c", "DB", "0"]), SAME);
    assert_eq!(q(&mut s, &["COPY", "nokey", "nokey"]), SAME);
    assert_eq!(q(&mut s, &["COPY", "c", "d", "DB", "16"]), DB_RANGE);
    assert_eq!(q(&mut s, &["COPY", "c", "d", "DB", "-1"]), DB_RANGE);
    assert_eq!(q(&mut s, &["COPY", "c", "d", "DB", "x"]), NOT_INT);
    assert_eq!(q(&mut s, &["COPY", "c", "d", "DB", "99999999999"]), INT32);
    assert_eq!(q(&mut s, &["COPY", "c", "d", "DB"]), SYNTAX);
    assert_eq!(q(&mut s, &["COPY", "c", "d", "foo"]), SYNTAX);
    assert_eq!(q(&mut s, &["COPY", "nokey", "d"]), int(0));
    assert_eq!(q(&mut s, &["COPY", "c", "d", "REPLACE", "replace"]), int(1));
    assert_eq!(q(&mut s, &["COPY", "c", "d"]), int(0));
    q(&mut s, &["SET", "c", "new"]);
    q(&mut s, &["PEXPIREAT", "c", "99999999999999"]);
    assert_eq!(q(&mut s, &["COPY", "c", "d", "REPLACE"]), int(1));
    assert_eq!(q(&mut s, &["GET", "d"]), bulk("new"));
    assert_eq!(q(&mut s, &["PEXPIRETIME", "d"]), int(99999999999999));
    // The copy is independent of the source.
    q(&mut s, &["APPEND", "d", "er"]);
    assert_eq!(q(&mut s, &["GET", "c"]), bulk("new"));
    // The last DB option wins; the same name in another db is fine.
    assert_eq!(q(&mut s, &["COPY", "c", "c", "DB", "9", "DB", "1"]), int(1));
    assert_eq!(q(&mut s, &["COPY", "c", "c", "DB", "1"]), int(0));
    q(&mut s, &["SELECT", "1"]);
    assert_eq!(q(&mut s, &["GET", "c"]), bulk("new"));
    assert_eq!(q(&mut s, &["PEXPIRETIME", "c"]), int(99999999999999));
    q(&mut s, &["SELECT", "9"]);
    assert_eq!(q(&mut s, &["DBSIZE"]), int(0));
});

server_test!(expire_options_and_errors, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SET", "k", "v"]);
    let nx_err = err("ERR NX and XX, GT or LT options at the same time are not compatible");
    let gt_lt = err("ERR GT and LT options at the same time are not compatible");
    assert_eq!(q(&mut s, &["EXPIRE", "k", "100", "NX", "XX"]), nx_err);
    assert_eq!(q(&mut s, &["EXPIRE", "k", "100", "nx", "gt"]), nx_err);
    assert_eq!(q(&mut s, &["PEXPIRE", "k", "100", "nx", "lt"]), nx_err);
    assert_eq!(q(&mut s, &["EXPIRE", "k", "100", "gt", "lt"]), gt_lt);
    assert_eq!(q(&mut s, &["EXPIRE", "nokey", "10", "nx", "gt"]), nx_err);
    assert_eq!(
        q(&mut s, &["EXPIRE", "k", "100", "foo"]),
        err("ERR Unsupported option foo")
    );
    // Options are checked before the time.
    assert_eq!(
        q(&mut s, &["EXPIRE", "k", "abc", "foo"]),
        err("ERR Unsupported option foo")
    );
    assert_eq!(
        q(&mut s, &["EXPIRE", "k", "100", "a\r\nb"]),
        err("ERR Unsupported option a  b")
    );
    assert_eq!(q(&mut s, &["EXPIRE", "k", "abc"]), NOT_INT);
    assert_eq!(q(&mut s, &["EXPIRE", "nokey", "abc"]), NOT_INT);
    for (c, t) in [
        ("expire", "9223372036854775807"),
        ("expire", "9223372036854775"),
        ("expire", "-9223372036854775808"),
        ("pexpire", "9223372036854775807"),
        ("expireat", "9223372036854775807"),
        ("expireat", "-9223372036854776"),
    ] {
        assert_eq!(
            q(&mut s, &[c, "k", t]),
            err(&format!("ERR invalid expire time in '{c}' command")),
            "{c} {t}"
        );
    }
    assert_eq!(q(&mut s, &["EXISTS", "k"]), int(1));
    assert_eq!(q(&mut s, &["EXPIRE", "nokey", "10"]), int(0));
    assert_eq!(
        q(&mut s, &["PEXPIREAT", "k", "9223372036854775807"]),
        int(1)
    );
    assert_eq!(q(&mut s, &["PEXPIRETIME", "k"]), int(9223372036854775807));
    assert_eq!(q(&mut s, &["EXPIRETIME", "k"]), int(9223372036854776));

    // NX / XX / GT / LT; a key without TTL counts as an infinite TTL.
    q(&mut s, &["SET", "k", "v"]);
    assert_eq!(q(&mut s, &["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(q(&mut s, &["EXPIRE", "k", "100", "GT"]), int(0));
    assert_eq!(
        q(&mut s, &["EXPIREAT", "k", "99999999999", "XX", "GT"]),
        int(0)
    );
    assert_eq!(q(&mut s, &["TTL", "k"]), int(-1));
    assert_eq!(
        q(&mut s, &["PEXPIREAT", "k", "99999999999000", "NX"]),
        int(1)
    );
    assert_eq!(
        q(&mut s, &["PEXPIREAT", "k", "99999999999999", "NX"]),
        int(0)
    );
    assert_eq!(
        q(&mut s, &["PEXPIREAT", "k", "99999999998000", "GT"]),
        int(0)
    );
    assert_eq!(
        q(&mut s, &["PEXPIREAT", "k", "99999999999000", "GT"]),
        int(0)
    );
    assert_eq!(
        q(&mut s, &["PEXPIREAT", "k", "99999999999500", "gt", "xx"]),
        int(1)
    );
    assert_eq!(
        q(&mut s, &["PEXPIREAT", "k", "99999999999500", "LT"]),
        int(0)
    );
    assert_eq!(q(&mut s, &["EXPIREAT", "k", "99999999990", "LT"]), int(1));
    assert_eq!(q(&mut s, &["PEXPIRETIME", "k"]), int(99999999990000));
    assert_eq!(q(&mut s, &["EXPIRETIME", "k"]), int(99999999990));
    q(&mut s, &["PERSIST", "k"]);
    assert_eq!(q(&mut s, &["EXPIREAT", "k", "99999999990", "LT"]), int(1));
    assert_eq!(q(&mut s, &["EXPIRE", "k", "100"]), int(1));
    let t = int_of(&q(&mut s, &["TTL", "k"]));
    assert!((99..=100).contains(&t), "ttl {t}");
    let t = int_of(&q(&mut s, &["PTTL", "k"]));
    assert!((98_000..=100_000).contains(&t), "pttl {t}");

    // A time in the past deletes the key (and says 1).
    for (c, t) in [
        ("EXPIRE", "-1"),
        ("EXPIRE", "0"),
        ("PEXPIRE", "-9223372036854775808"),
        ("EXPIREAT", "1"),
        ("PEXPIREAT", "0"),
    ] {
        q(&mut s, &["SET", "k", "v"]);
        assert_eq!(q(&mut s, &[c, "k", t]), int(1), "{c} {t}");
        assert_eq!(q(&mut s, &["EXISTS", "k"]), int(0), "{c} {t}");
    }
    // ... but not when a condition refuses it first.
    q(&mut s, &["SET", "k", "v"]);
    assert_eq!(q(&mut s, &["EXPIRE", "k", "-5", "GT"]), int(0));
    assert_eq!(q(&mut s, &["EXPIRE", "k", "-5", "XX"]), int(0));
    assert_eq!(q(&mut s, &["EXISTS", "k"]), int(1));
    assert_eq!(q(&mut s, &["EXPIRE", "k", "-5", "LT"]), int(1));
    assert_eq!(q(&mut s, &["EXISTS", "k"]), int(0));
});

server_test!(ttl_family_and_persist, |srv| {
    let mut s = srv.raw();
    for c in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(q(&mut s, &[c, "nokey"]), int(-2), "{c}");
    }
    q(&mut s, &["SET", "k", "v"]);
    for c in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(q(&mut s, &[c, "k"]), int(-1), "{c}");
    }
    assert_eq!(q(&mut s, &["PERSIST", "k"]), int(0));
    assert_eq!(q(&mut s, &["PERSIST", "nokey"]), int(0));
    q(&mut s, &["PEXPIREAT", "k", "99999999999499"]);
    assert_eq!(q(&mut s, &["EXPIRETIME", "k"]), int(99999999999));
    q(&mut s, &["PEXPIREAT", "k", "99999999999500"]);
    assert_eq!(q(&mut s, &["EXPIRETIME", "k"]), int(100000000000));
    assert_eq!(q(&mut s, &["PEXPIRETIME", "k"]), int(99999999999500));
    q(&mut s, &["PEXPIRE", "k", "100500"]);
    let t = int_of(&q(&mut s, &["TTL", "k"]));
    assert!((100..=101).contains(&t), "rounded to nearest: {t}");
    assert_eq!(q(&mut s, &["PERSIST", "k"]), int(1));
    assert_eq!(q(&mut s, &["PERSIST", "k"]), int(0));
    assert_eq!(q(&mut s, &["TTL", "k"]), int(-1));
    assert_eq!(
        q(&mut s, &["TTL"]),
        err("ERR wrong number of arguments for 'ttl' command")
    );
});

server_test!(pexpire_then_key_disappears, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SET", "k", "v"]);
    q(&mut s, &["SET", "other", "v"]);
    assert_eq!(q(&mut s, &["PEXPIRE", "k", "50"]), int(1));
    let t = int_of(&q(&mut s, &["PTTL", "k"]));
    assert!((0..=50).contains(&t), "pttl {t}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while q(&mut s, &["EXISTS", "k"]) != int(0) {
        assert!(Instant::now() < deadline, "key still there after 5 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(q(&mut s, &["GET", "k"]), NULL);
    assert_eq!(q(&mut s, &["TTL", "k"]), int(-2));
    assert_eq!(q(&mut s, &["DBSIZE"]), int(1));
    // Active expiry removes keys nobody reads.
    q(&mut s, &["SET", "k2", "v", "PX", "20"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while q(&mut s, &["DBSIZE"]) != int(1) {
        assert!(Instant::now() < deadline, "k2 never actively expired");
        std::thread::sleep(Duration::from_millis(10));
    }
});

server_test!(flushdb_flushall_swapdb, |srv| {
    let mut s = srv.raw();
    for (opt, lazy_conf) in [
        (None, "no"),
        (None, "yes"),
        (Some("ASYNC"), "no"),
        (Some("sync"), "yes"),
    ] {
        assert_eq!(
            q(
                &mut s,
                &["CONFIG", "SET", "lazyfree-lazy-user-flush", lazy_conf]
            ),
            OK
        );
        q(&mut s, &["SELECT", "0"]);
        q(&mut s, &["SET", "a", "1"]);
        q(&mut s, &["SET", "big", &"x".repeat(200 * 1024)]);
        q(&mut s, &["SELECT", "1"]);
        q(&mut s, &["SET", "b", "1", "EX", "100"]);
        let mut flushdb = vec!["FLUSHDB"];
        flushdb.extend(opt);
        assert_eq!(q(&mut s, &flushdb), OK);
        assert_eq!(q(&mut s, &["DBSIZE"]), int(0));
        q(&mut s, &["SELECT", "0"]);
        assert_eq!(q(&mut s, &["DBSIZE"]), int(2));
        q(&mut s, &["SELECT", "1"]);
        q(&mut s, &["SET", "b", "1"]);
        let mut flushall = vec!["FLUSHALL"];
        flushall.extend(opt);
        assert_eq!(q(&mut s, &flushall), OK);
        assert_eq!(q(&mut s, &["DBSIZE"]), int(0));
        q(&mut s, &["SELECT", "0"]);
        assert_eq!(q(&mut s, &["DBSIZE"]), int(0));
        // The flushed dbs work as new.
        q(&mut s, &["SET", "a", "2"]);
        assert_eq!(q(&mut s, &["GET", "a"]), bulk("2"));
        q(&mut s, &["FLUSHALL"]);
    }
    assert_eq!(q(&mut s, &["FLUSHALL", "foo"]), SYNTAX);
    assert_eq!(q(&mut s, &["FLUSHALL", "async", "sync"]), SYNTAX);
    assert_eq!(q(&mut s, &["FLUSHDB", "x"]), SYNTAX);

    // SWAPDB: clients keep their db number and see the other contents.
    let mut other = srv.raw();
    q(&mut s, &["SET", "in0", "zero"]);
    q(&mut s, &["PEXPIREAT", "in0", "99999999999999"]);
    q(&mut other, &["SELECT", "1"]);
    q(&mut other, &["SET", "in1", "one"]);
    assert_eq!(q(&mut s, &["SWAPDB", "0", "1"]), OK);
    assert_eq!(q(&mut s, &["GET", "in1"]), bulk("one"));
    assert_eq!(q(&mut s, &["EXISTS", "in0"]), int(0));
    assert_eq!(q(&mut other, &["GET", "in0"]), bulk("zero"));
    assert_eq!(q(&mut other, &["PEXPIRETIME", "in0"]), int(99999999999999));
    assert_eq!(q(&mut s, &["SWAPDB", "1", "1"]), OK);
    assert_eq!(q(&mut other, &["DBSIZE"]), int(1));
    assert_eq!(q(&mut s, &["SWAPDB", "0", "16"]), DB_RANGE);
    assert_eq!(q(&mut s, &["SWAPDB", "-1", "0"]), DB_RANGE);
    assert_eq!(
        q(&mut s, &["SWAPDB", "x", "1"]),
        err("ERR invalid first DB index")
    );
    assert_eq!(
        q(&mut s, &["SWAPDB", "1", "x"]),
        err("ERR invalid second DB index")
    );
    assert_eq!(
        q(&mut s, &["SWAPDB", "2147483648", "1"]),
        err("ERR invalid first DB index")
    );
    assert_eq!(
        q(&mut s, &["SWAPDB", "1"]),
        err("ERR wrong number of arguments for 'swapdb' command")
    );
});

server_test!(object_subcommands, |srv| {
    let mut s = srv.raw();
    for (k, v) in [
        ("a", "1"),
        ("b", "123456"),
        ("c", "hello"),
        ("e", "10000"),
        ("g", "1.5"),
    ] {
        q(&mut s, &["SET", k, v]);
    }
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "a"]), bulk("int"));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "b"]), bulk("int"));
    assert_eq!(q(&mut s, &["object", "encoding", "c"]), bulk("embstr"));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "g"]), bulk("embstr"));
    q(&mut s, &["SET", "r", &"x".repeat(200)]);
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "r"]), bulk("raw"));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "nokey"]), NULL);
    // Raw because of its long name, and raw it stays under a short one.
    let long = "k".repeat(100);
    q(&mut s, &["SET", &long, &"v".repeat(50)]);
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", &long]), bulk("raw"));
    assert_eq!(q(&mut s, &["COPY", &long, "short"]), int(1));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "short"]), bulk("raw"));
    assert_eq!(q(&mut s, &["RENAME", &long, "s2"]), OK);
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "s2"]), bulk("raw"));
    q(&mut s, &["SET", "s3", &"v".repeat(50)]);
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "s3"]), bulk("embstr"));
    assert_eq!(q(&mut s, &["RENAME", "s3", &long]), OK);
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", &long]), bulk("raw"));
    for k in ["a", "e", "c", "r"] {
        assert_eq!(q(&mut s, &["OBJECT", "REFCOUNT", k]), int(1), "{k}");
    }
    assert_eq!(q(&mut s, &["OBJECT", "REFCOUNT", "nokey"]), NULL);
    assert_eq!(q(&mut s, &["OBJECT", "IDLETIME", "a"]), int(0));
    assert_eq!(q(&mut s, &["OBJECT", "IDLETIME", "nokey"]), NULL);
    let no_lfu = err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    assert_eq!(q(&mut s, &["OBJECT", "FREQ", "a"]), no_lfu);
    assert_eq!(q(&mut s, &["OBJECT", "FREQ", "nokey"]), NULL);

    // Under an LFU policy: FREQ counts accesses, IDLETIME is refused.
    assert_eq!(
        q(
            &mut s,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]
        ),
        OK
    );
    q(&mut s, &["SET", "lfu", "1"]);
    assert_eq!(q(&mut s, &["OBJECT", "FREQ", "lfu"]), int(5));
    q(&mut s, &["GET", "lfu"]);
    assert_eq!(q(&mut s, &["OBJECT", "FREQ", "lfu"]), int(6));
    // Inspection does not count as access.
    assert_eq!(q(&mut s, &["TYPE", "lfu"]), "+string\r\n");
    assert_eq!(q(&mut s, &["OBJECT", "FREQ", "lfu"]), int(6));
    assert_eq!(q(&mut s, &["TOUCH", "lfu"]), int(1));
    let f = int_of(&q(&mut s, &["OBJECT", "FREQ", "lfu"]));
    assert!(f == 6 || f == 7, "freq {f}");
    assert_eq!(
        q(&mut s, &["OBJECT", "IDLETIME", "lfu"]),
        err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    );
    assert_eq!(q(&mut s, &["OBJECT", "IDLETIME", "nokey"]), NULL);
    // A copy, a renamed or a moved key starts over as a new object.
    assert_eq!(q(&mut s, &["COPY", "lfu", "lfu2"]), int(1));
    assert_eq!(q(&mut s, &["OBJECT", "FREQ", "lfu2"]), int(5));
    assert_eq!(q(&mut s, &["RENAME", "lfu", "lfu3"]), OK);
    assert_eq!(q(&mut s, &["OBJECT", "FREQ", "lfu3"]), int(5));
    q(&mut s, &["GET", "lfu3"]);
    assert_eq!(q(&mut s, &["MOVE", "lfu3", "1"]), int(1));
    q(&mut s, &["SELECT", "1"]);
    assert_eq!(q(&mut s, &["OBJECT", "FREQ", "lfu3"]), int(5));
    q(&mut s, &["SELECT", "0"]);
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]),
        OK
    );

    let help = q(&mut s, &["OBJECT", "HELP"]);
    assert!(help.starts_with("*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n"), "{help}");
    assert!(
        help.ends_with("+HELP\r\n+    Print this help.\r\n"),
        "{help}"
    );
    assert_eq!(
        q(&mut s, &["OBJECT"]),
        err("ERR wrong number of arguments for 'object' command")
    );
    assert_eq!(
        q(&mut s, &["OBJECT", "foo"]),
        err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
    );
    assert_eq!(
        q(&mut s, &["OBJECT", "ENCODING"]),
        err("ERR wrong number of arguments for 'object|encoding' command")
    );
    assert_eq!(
        q(&mut s, &["OBJECT", "ENCODING", "a", "b"]),
        err("ERR wrong number of arguments for 'object|encoding' command")
    );
    assert_eq!(
        q(&mut s, &["OBJECT", "HELP", "x"]),
        err("ERR wrong number of arguments for 'object|help' command")
    );
    q(&mut s, &["HELLO", "3"]);
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "nokey"]), "_\r\n");
});

server_test!(inspection_counts_hits_and_misses, |srv| {
    let mut s = srv.raw();
    let stats = |s: &mut TcpStream| -> (i64, i64) {
        let info = q(s, &["INFO", "stats"]);
        let field = |name: &str| -> i64 {
            info.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} missing"))
        };
        (field("keyspace_hits:"), field("keyspace_misses:"))
    };
    q(&mut s, &["SET", "a", "1"]);
    let (h0, m0) = stats(&mut s);
    q(&mut s, &["TYPE", "a"]);
    q(&mut s, &["EXISTS", "a", "b"]);
    q(&mut s, &["TTL", "b"]);
    q(&mut s, &["OBJECT", "ENCODING", "a"]);
    q(&mut s, &["TOUCH", "a", "b"]);
    // Writes and iteration count nothing.
    q(&mut s, &["EXPIRE", "a", "100"]);
    q(&mut s, &["PERSIST", "a"]);
    q(&mut s, &["SCAN", "0"]);
    q(&mut s, &["KEYS", "*"]);
    let (h1, m1) = stats(&mut s);
    assert_eq!((h1 - h0, m1 - m0), (4, 3));
});

// One pipelined batch: the executor hashes every key before the batch runs
// and the lookups reuse those hashes, so tables replaced or swapped by
// commands earlier in the same batch must not send a lookup astray.
server_test!(lookups_after_flush_and_swap_in_one_batch, |srv| {
    let mut s = srv.raw();
    let mut send = Vec::new();
    for c in [
        &["SET", "k", "v1"][..],
        &["FLUSHDB"],
        &["SET", "k", "v2"],
        &["GET", "k"],
        &["SWAPDB", "0", "1"],
        &["GET", "k"],
        &["SET", "k", "v3"],
        &["SELECT", "1"],
        &["GET", "k"],
        &["SELECT", "0"],
        &["GET", "k"],
        &["DEL", "k"],
        &["GET", "k"],
    ] {
        let args: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
        send.extend(common::cmd(&args));
    }
    let got = common::raw_roundtrip(&mut s, &send, 13);
    let want = [
        OK.to_string(),
        OK.to_string(),
        OK.to_string(),
        bulk("v2"),
        OK.to_string(),
        NULL.to_string(),
        OK.to_string(),
        OK.to_string(),
        bulk("v2"),
        OK.to_string(),
        bulk("v3"),
        int(1),
        NULL.to_string(),
    ]
    .concat();
    assert_eq!(String::from_utf8_lossy(&got), want);
});
