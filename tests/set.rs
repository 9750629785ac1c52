//! Set commands against the real server, replies compared byte for byte
//! with what Valkey 9.1 sends for the same commands (member order compared
//! sorted where Valkey's order is not deterministic).

mod common;

use common::{bulk, int, q, NOT_INT, NULL, OK, SYNTAX, WRONGTYPE};

use common::{cmd, raw_roundtrip, read_to_close};
use std::net::TcpStream;

/// An aggregate of bulk strings with header `tag` (`*` array, `~` set).
fn agg(tag: char, items: &[&str]) -> String {
    let mut s = format!("{tag}{}\r\n", items.len());
    for i in items {
        s.push_str(&bulk(i));
    }
    s
}

fn arr(items: &[&str]) -> String {
    agg('*', items)
}

/// Parses a flat aggregate of bulk strings: (header tag, members).
fn members(reply: &str) -> (char, Vec<String>) {
    let mut lines = reply.split("\r\n");
    let head = lines.next().expect("header");
    let tag = head.chars().next().expect("tag");
    let n: usize = head[1..].parse().expect("count");
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let len = lines.next().expect("len");
        assert!(len.starts_with('$'), "not a bulk: {reply:?}");
        out.push(lines.next().expect("member").to_string());
    }
    (tag, out)
}

fn sorted(reply: &str) -> Vec<String> {
    let mut v = members(reply).1;
    v.sort();
    v
}

fn strs(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn encoding(s: &mut TcpStream, key: &str) -> String {
    q(s, &["OBJECT", "ENCODING", key])
}

const POSITIVE: &str = "-ERR value is out of range, must be positive\r\n";
const EMPTY_ARRAY: &str = "*0\r\n";

server_test!(sadd_srem_scard_smembers, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["SADD", "s", "a", "b", "a", "c"]), int(3));
    assert_eq!(q(&mut s, &["SADD", "s", "c", "d"]), int(1));
    assert_eq!(q(&mut s, &["SCARD", "s"]), int(4));
    assert_eq!(q(&mut s, &["SCARD", "nokey"]), int(0));
    assert_eq!(
        sorted(&q(&mut s, &["SMEMBERS", "s"])),
        strs(&["a", "b", "c", "d"])
    );
    assert_eq!(q(&mut s, &["SMEMBERS", "nokey"]), EMPTY_ARRAY);
    assert_eq!(q(&mut s, &["TYPE", "s"]), "+set\r\n");
    assert_eq!(q(&mut s, &["SREM", "s", "a", "zz", "a"]), int(1));
    assert_eq!(q(&mut s, &["SREM", "nokey", "a"]), int(0));
    // Removing the last members deletes the key.
    assert_eq!(q(&mut s, &["SREM", "s", "b", "c", "d", "e"]), int(3));
    assert_eq!(q(&mut s, &["EXISTS", "s"]), int(0));
    // A listpack keeps insertion order, deletions included (as Valkey).
    q(&mut s, &["SADD", "lp", "b", "a", "c"]);
    q(&mut s, &["SREM", "lp", "a"]);
    q(&mut s, &["SADD", "lp", "d", "a"]);
    assert_eq!(q(&mut s, &["SMEMBERS", "lp"]), arr(&["b", "c", "d", "a"]));
    // An intset replies in ascending order.
    q(
        &mut s,
        &["SADD", "i", "5", "3", "9", "-1", "70000", "-5000000000"],
    );
    assert_eq!(
        q(&mut s, &["SMEMBERS", "i"]),
        arr(&["-5000000000", "-1", "3", "5", "9", "70000"])
    );
    // Errors.
    assert_eq!(
        q(&mut s, &["SADD", "s"]),
        "-ERR wrong number of arguments for 'sadd' command\r\n"
    );
    assert_eq!(
        q(&mut s, &["SREM", "s"]),
        "-ERR wrong number of arguments for 'srem' command\r\n"
    );
    q(&mut s, &["SET", "str", "x"]);
    for c in [
        &["SADD", "str", "a"][..],
        &["SREM", "str", "a"],
        &["SCARD", "str"],
        &["SMEMBERS", "str"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SPOP", "str"],
        &["SPOP", "str", "2"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "2"],
        &["SSCAN", "str", "0"],
    ] {
        assert_eq!(q(&mut s, c), WRONGTYPE, "{c:?}");
    }
});

server_test!(membership, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SADD", "s", "a", "1"]);
    q(&mut s, &["SADD", "i", "1", "2", "-3"]);
    assert_eq!(q(&mut s, &["SISMEMBER", "s", "a"]), int(1));
    assert_eq!(q(&mut s, &["SISMEMBER", "s", "b"]), int(0));
    assert_eq!(q(&mut s, &["SISMEMBER", "nokey", "a"]), int(0));
    assert_eq!(q(&mut s, &["SISMEMBER", "i", "-3"]), int(1));
    // Integers match only in canonical form.
    assert_eq!(q(&mut s, &["SISMEMBER", "i", "01"]), int(0));
    assert_eq!(q(&mut s, &["SISMEMBER", "i", "+1"]), int(0));
    assert_eq!(q(&mut s, &["SISMEMBER", "i", "a"]), int(0));
    assert_eq!(
        q(&mut s, &["SMISMEMBER", "s", "a", "z", "1"]),
        "*3\r\n:1\r\n:0\r\n:1\r\n"
    );
    assert_eq!(
        q(&mut s, &["SMISMEMBER", "nokey", "a", "b"]),
        "*2\r\n:0\r\n:0\r\n"
    );
});

server_test!(spop_and_srandmember, |srv| {
    let mut s = srv.raw();
    // Argument errors come before the key is looked at.
    assert_eq!(q(&mut s, &["SPOP", "nokey", "-1"]), POSITIVE);
    assert_eq!(q(&mut s, &["SPOP", "nokey", "x"]), POSITIVE);
    assert_eq!(q(&mut s, &["SPOP", "nokey", "1", "2"]), SYNTAX);
    assert_eq!(q(&mut s, &["SRANDMEMBER", "nokey", "x"]), NOT_INT);
    assert_eq!(q(&mut s, &["SRANDMEMBER", "nokey", "1", "2"]), SYNTAX);
    assert_eq!(
        q(&mut s, &["SRANDMEMBER", "nokey", "-9223372036854775808"]),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    // Missing keys.
    assert_eq!(q(&mut s, &["SPOP", "nokey"]), NULL);
    assert_eq!(q(&mut s, &["SPOP", "nokey", "3"]), EMPTY_ARRAY);
    assert_eq!(q(&mut s, &["SRANDMEMBER", "nokey"]), NULL);
    assert_eq!(q(&mut s, &["SRANDMEMBER", "nokey", "3"]), EMPTY_ARRAY);
    assert_eq!(q(&mut s, &["SRANDMEMBER", "nokey", "-3"]), EMPTY_ARRAY);

    q(&mut s, &["SADD", "s", "a", "b", "c"]);
    assert_eq!(q(&mut s, &["SRANDMEMBER", "s", "0"]), EMPTY_ARRAY);
    assert_eq!(q(&mut s, &["SPOP", "s", "0"]), EMPTY_ARRAY);
    let one = q(&mut s, &["SRANDMEMBER", "s"]);
    assert!([bulk("a"), bulk("b"), bulk("c")].contains(&one), "{one}");
    // Positive counts: distinct members, at most the whole set.
    let two = sorted(&q(&mut s, &["SRANDMEMBER", "s", "2"]));
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    assert_eq!(
        sorted(&q(&mut s, &["SRANDMEMBER", "s", "10"])),
        strs(&["a", "b", "c"])
    );
    // Negative counts: exactly that many, repeats allowed.
    let many = members(&q(&mut s, &["SRANDMEMBER", "s", "-100"])).1;
    assert_eq!(many.len(), 100);
    assert!(many.iter().all(|m| ["a", "b", "c"].contains(&m.as_str())));
    assert_eq!(q(&mut s, &["SCARD", "s"]), int(3));

    // SPOP with a count larger than the set pops it all and deletes it.
    assert_eq!(
        sorted(&q(&mut s, &["SPOP", "s", "10"])),
        strs(&["a", "b", "c"])
    );
    assert_eq!(q(&mut s, &["EXISTS", "s"]), int(0));
    q(&mut s, &["SADD", "s", "a", "b", "c"]);
    let p = q(&mut s, &["SPOP", "s"]);
    assert!([bulk("a"), bulk("b"), bulk("c")].contains(&p), "{p}");
    assert_eq!(q(&mut s, &["SCARD", "s"]), int(2));
    q(&mut s, &["SPOP", "s"]);
    q(&mut s, &["SPOP", "s"]);
    assert_eq!(q(&mut s, &["EXISTS", "s"]), int(0));

    // Every strategy, every encoding: popped + kept == before.
    for (key, prefix, n) in [("pi", "", 300), ("pl", "m", 100), ("ph", "m", 600)] {
        for count in [1usize, 5, n / 2, n - 10, n - 1] {
            let mut all = Vec::new();
            for i in 0..n {
                all.push(format!("{prefix}{i}"));
            }
            let mut args = vec!["SADD", key];
            args.extend(all.iter().map(|x| x.as_str()));
            q(&mut s, &args);
            let c = count.to_string();
            let popped = members(&q(&mut s, &["SPOP", key, &c])).1;
            assert_eq!(popped.len(), count, "{key} {count}");
            let mut rest = sorted(&q(&mut s, &["SMEMBERS", key]));
            assert_eq!(rest.len(), n - count);
            rest.extend(popped);
            rest.sort();
            all.sort();
            assert_eq!(rest, all, "{key} {count}");
            let d = (n - count).to_string();
            let sample = sorted(&q(&mut s, &["SRANDMEMBER", key, &d]));
            assert_eq!(sample.len(), n - count);
            sample.windows(2).for_each(|w| assert_ne!(w[0], w[1]));
            q(&mut s, &["DEL", key]);
        }
    }
    // Distinct samples of every size from a hashtable set.
    let mut args = vec!["SADD".to_string(), "h".to_string()];
    args.extend((0..300).map(|i| format!("m{i}")));
    let a: Vec<&str> = args.iter().map(|x| x.as_str()).collect();
    q(&mut s, &a);
    for count in [1, 2, 50, 99, 100, 150, 299, 300, 301] {
        let got = sorted(&q(&mut s, &["SRANDMEMBER", "h", &count.to_string()]));
        assert_eq!(got.len(), count.min(300));
        got.windows(2).for_each(|w| assert_ne!(w[0], w[1]));
    }
    assert_eq!(
        members(&q(&mut s, &["SRANDMEMBER", "h", "-1000"])).1.len(),
        1000
    );
});

server_test!(spop_rebuilds_small_sets, |srv| {
    let mut s = srv.raw();
    // A hashtable that keeps few members after SPOP is rebuilt as a
    // listpack (Valkey's "keep the few" strategy); intsets stay intsets.
    let mut args = vec!["SADD".to_string(), "h".to_string()];
    args.extend((0..200).map(|i| format!("s{i}")));
    let a: Vec<&str> = args.iter().map(|x| x.as_str()).collect();
    q(&mut s, &a);
    assert_eq!(encoding(&mut s, "h"), bulk("hashtable"));
    assert_eq!(members(&q(&mut s, &["SPOP", "h", "190"])).1.len(), 190);
    assert_eq!(q(&mut s, &["SCARD", "h"]), int(10));
    assert_eq!(encoding(&mut s, "h"), bulk("listpack"));
    // Fewer popped: the table stays.
    q(&mut s, &a);
    q(&mut s, &["SPOP", "h", "20"]);
    assert_eq!(encoding(&mut s, "h"), bulk("hashtable"));

    let mut args = vec!["SADD".to_string(), "i".to_string()];
    args.extend((0..200).map(|i| i.to_string()));
    let a: Vec<&str> = args.iter().map(|x| x.as_str()).collect();
    q(&mut s, &a);
    q(&mut s, &["SPOP", "i", "199"]);
    assert_eq!(encoding(&mut s, "i"), bulk("intset"));
    assert_eq!(q(&mut s, &["SCARD", "i"]), int(1));
});

server_test!(srandmember_huge_negative_count_hits_output_limit, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SADD", "s", "a", "b"]);
    assert_eq!(
        q(
            &mut s,
            &[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "normal 1mb 0 0"
            ]
        ),
        OK
    );
    // Not allocated up front, not sent whole: the client is closed once
    // the reply passes its output limit, as Valkey does.
    let mut c = srv.raw();
    use std::io::Write;
    c.write_all(&cmd(&[b"SRANDMEMBER", b"s", b"-9223372036854775807"]))
        .expect("write");
    let got = read_to_close(&mut c);
    assert!(got.len() < 64 << 20, "sent {} bytes", got.len());
    assert_eq!(
        q(
            &mut s,
            &[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "normal 0 0 0"
            ]
        ),
        OK
    );
    assert_eq!(q(&mut s, &["SCARD", "s"]), int(2));
});

server_test!(smove, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SADD", "src", "a", "b", "1"]);
    q(&mut s, &["SET", "str", "x"]);
    // A missing source replies 0 before the destination's type is checked.
    assert_eq!(q(&mut s, &["SMOVE", "nokey", "str", "a"]), int(0));
    assert_eq!(q(&mut s, &["SMOVE", "src", "str", "a"]), WRONGTYPE);
    assert_eq!(q(&mut s, &["SMOVE", "str", "src", "a"]), WRONGTYPE);
    assert_eq!(q(&mut s, &["SMOVE", "src", "src", "a"]), int(1));
    assert_eq!(q(&mut s, &["SMOVE", "src", "src", "z"]), int(0));
    assert_eq!(q(&mut s, &["SMOVE", "src", "dst", "z"]), int(0));
    assert_eq!(q(&mut s, &["EXISTS", "dst"]), int(0));
    assert_eq!(q(&mut s, &["SMOVE", "src", "dst", "a"]), int(1));
    assert_eq!(q(&mut s, &["SMEMBERS", "dst"]), arr(&["a"]));
    assert_eq!(encoding(&mut s, "dst"), bulk("listpack"));
    // A new destination for an integer is an intset.
    assert_eq!(q(&mut s, &["SMOVE", "src", "dst2", "1"]), int(1));
    assert_eq!(encoding(&mut s, "dst2"), bulk("intset"));
    // Already in the destination: still moved out of the source.
    q(&mut s, &["SADD", "dst", "b"]);
    assert_eq!(q(&mut s, &["SMOVE", "src", "dst", "b"]), int(1));
    assert_eq!(q(&mut s, &["EXISTS", "src"]), int(0));
    assert_eq!(sorted(&q(&mut s, &["SMEMBERS", "dst"])), strs(&["a", "b"]));
    assert_eq!(
        q(&mut s, &["SMOVE", "a", "b"]),
        "-ERR wrong number of arguments for 'smove' command\r\n"
    );
});

server_test!(inter_union_diff, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SADD", "q1", "1", "2", "3", "x"]);
    q(&mut s, &["SADD", "q2", "2", "3", "4", "x"]);
    q(&mut s, &["SADD", "q3", "3", "4", "5", "x"]);
    q(&mut s, &["SET", "str", "v"]);
    assert_eq!(
        sorted(&q(&mut s, &["SINTER", "q1", "q2", "q3"])),
        strs(&["3", "x"])
    );
    assert_eq!(
        sorted(&q(&mut s, &["SINTER", "q1", "q2"])),
        strs(&["2", "3", "x"])
    );
    assert_eq!(
        sorted(&q(&mut s, &["SINTER", "q1"])),
        strs(&["1", "2", "3", "x"])
    );
    assert_eq!(q(&mut s, &["SINTER", "q1", "nokey"]), EMPTY_ARRAY);
    assert_eq!(
        sorted(&q(&mut s, &["SUNION", "q1", "q2", "q3", "nokey"])),
        strs(&["1", "2", "3", "4", "5", "x"])
    );
    assert_eq!(q(&mut s, &["SUNION", "nokey"]), EMPTY_ARRAY);
    assert_eq!(q(&mut s, &["SDIFF", "q1", "q2", "q3"]), arr(&["1"]));
    assert_eq!(q(&mut s, &["SDIFF", "q3", "q1"]), arr(&["4", "5"]));
    assert_eq!(q(&mut s, &["SDIFF", "q1", "q1"]), EMPTY_ARRAY);
    assert_eq!(q(&mut s, &["SDIFF", "nokey", "q1"]), EMPTY_ARRAY);
    assert_eq!(
        sorted(&q(&mut s, &["SDIFF", "q1", "nokey"])),
        strs(&["1", "2", "3", "x"])
    );
    // Every key is type-checked, even after a missing one.
    for c in [
        &["SINTER", "nokey", "str"][..],
        &["SINTER", "q1", "str"],
        &["SUNION", "q1", "str"],
        &["SDIFF", "nokey", "str"],
        &["SINTERSTORE", "d", "nokey", "str"],
        &["SUNIONSTORE", "d", "q1", "str"],
        &["SDIFFSTORE", "d", "q1", "str"],
        &["SINTERCARD", "2", "nokey", "str"],
    ] {
        assert_eq!(q(&mut s, c), WRONGTYPE, "{c:?}");
    }
    // Results of integers only reply in ascending order (an intset).
    q(&mut s, &["SADD", "i1", "9", "1", "5", "3"]);
    q(&mut s, &["SADD", "i2", "7", "1", "3", "2"]);
    assert_eq!(q(&mut s, &["SINTER", "i1", "i2"]), arr(&["1", "3"]));
    assert_eq!(
        q(&mut s, &["SUNION", "i1", "i2"]),
        arr(&["1", "2", "3", "5", "7", "9"])
    );
    assert_eq!(q(&mut s, &["SDIFF", "i1", "i2"]), arr(&["5", "9"]));
});

server_test!(store_variants, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SADD", "q1", "1", "2", "3"]);
    q(&mut s, &["SADD", "q2", "2", "3", "4"]);
    q(&mut s, &["SADD", "w", "a", "b"]);
    // The destination is overwritten whatever its type.
    q(&mut s, &["SET", "d", "x"]);
    q(&mut s, &["EXPIRE", "d", "100"]);
    assert_eq!(q(&mut s, &["SINTERSTORE", "d", "q1", "q2"]), int(2));
    assert_eq!(q(&mut s, &["SMEMBERS", "d"]), arr(&["2", "3"]));
    assert_eq!(q(&mut s, &["TTL", "d"]), int(-1));
    assert_eq!(encoding(&mut s, "d"), bulk("intset"));
    assert_eq!(q(&mut s, &["SUNIONSTORE", "d", "q1", "q2", "w"]), int(6));
    assert_eq!(encoding(&mut s, "d"), bulk("listpack"));
    assert_eq!(
        sorted(&q(&mut s, &["SMEMBERS", "d"])),
        strs(&["1", "2", "3", "4", "a", "b"])
    );
    assert_eq!(q(&mut s, &["SDIFFSTORE", "d", "q1", "q2"]), int(1));
    assert_eq!(q(&mut s, &["SMEMBERS", "d"]), arr(&["1"]));
    // The destination may be a source.
    assert_eq!(q(&mut s, &["SUNIONSTORE", "q1", "q1", "q2"]), int(4));
    assert_eq!(q(&mut s, &["SMEMBERS", "q1"]), arr(&["1", "2", "3", "4"]));
    // Empty results delete the destination.
    for c in [
        &["SINTERSTORE", "d", "q1", "nokey"][..],
        &["SINTERSTORE", "d", "q1", "w"],
        &["SUNIONSTORE", "d", "nokey"],
        &["SDIFFSTORE", "d", "q1", "q1"],
        &["SDIFFSTORE", "d", "nokey", "q1"],
    ] {
        q(&mut s, &["SET", "d", "x"]);
        assert_eq!(q(&mut s, c), int(0), "{c:?}");
        assert_eq!(q(&mut s, &["EXISTS", "d"]), int(0), "{c:?}");
    }
    assert_eq!(
        q(&mut s, &["SINTERSTORE", "d"]),
        "-ERR wrong number of arguments for 'sinterstore' command\r\n"
    );
});

server_test!(sintercard, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SADD", "s", "a", "b", "c"]);
    q(&mut s, &["SADD", "t", "b", "c", "d"]);
    let nk = "-ERR numkeys should be greater than 0\r\n";
    assert_eq!(q(&mut s, &["SINTERCARD", "0", "s"]), nk);
    assert_eq!(q(&mut s, &["SINTERCARD", "-1", "s"]), nk);
    assert_eq!(q(&mut s, &["SINTERCARD", "x", "s"]), nk);
    assert_eq!(
        q(&mut s, &["SINTERCARD", "2", "s"]),
        "-ERR Number of keys can't be greater than number of args\r\n"
    );
    let neg = "-ERR LIMIT can't be negative\r\n";
    assert_eq!(q(&mut s, &["SINTERCARD", "1", "s", "LIMIT", "-1"]), neg);
    assert_eq!(q(&mut s, &["SINTERCARD", "1", "s", "LIMIT", "x"]), neg);
    assert_eq!(q(&mut s, &["SINTERCARD", "1", "s", "LIMIT"]), SYNTAX);
    assert_eq!(q(&mut s, &["SINTERCARD", "1", "s", "foo", "1"]), SYNTAX);
    assert_eq!(q(&mut s, &["SINTERCARD", "1", "s"]), int(3));
    assert_eq!(q(&mut s, &["SINTERCARD", "2", "s", "t"]), int(2));
    assert_eq!(
        q(&mut s, &["SINTERCARD", "2", "s", "t", "limit", "1"]),
        int(1)
    );
    assert_eq!(
        q(&mut s, &["SINTERCARD", "2", "s", "t", "LIMIT", "0"]),
        int(2)
    );
    assert_eq!(
        q(
            &mut s,
            &["SINTERCARD", "1", "s", "LIMIT", "1", "LIMIT", "2"]
        ),
        int(2)
    );
    assert_eq!(q(&mut s, &["SINTERCARD", "2", "s", "nokey"]), int(0));
    // Words after numkeys keys count as keys when numkeys says so.
    assert_eq!(q(&mut s, &["SINTERCARD", "3", "s", "LIMIT", "1"]), int(0));
    assert_eq!(
        q(
            &mut s,
            &[
                "COMMAND",
                "GETKEYS",
                "SINTERCARD",
                "2",
                "s",
                "t",
                "LIMIT",
                "1"
            ]
        ),
        arr(&["s", "t"])
    );
});

server_test!(sscan, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SADD", "s", "a", "b", "c"]);
    let cur = "-ERR invalid cursor\r\n";
    assert_eq!(q(&mut s, &["SSCAN", "s", "x"]), cur);
    assert_eq!(q(&mut s, &["SSCAN", "s", "-1"]), cur);
    assert_eq!(q(&mut s, &["SSCAN", "s", "18446744073709551616"]), cur);
    // A missing key answers before the options are parsed.
    let empty = format!("*2\r\n{}*0\r\n", bulk("0"));
    assert_eq!(q(&mut s, &["SSCAN", "nokey", "0", "foo"]), empty);
    assert_eq!(q(&mut s, &["SSCAN", "s", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(q(&mut s, &["SSCAN", "s", "0", "COUNT", "x"]), NOT_INT);
    assert_eq!(q(&mut s, &["SSCAN", "s", "0", "MATCH"]), SYNTAX);
    assert_eq!(q(&mut s, &["SSCAN", "s", "0", "TYPE", "set"]), SYNTAX);
    assert_eq!(
        q(&mut s, &["SSCAN", "s", "0", "NOVALUES"]),
        "-ERR NOVALUES option can only be used in HSCAN\r\n"
    );
    assert_eq!(
        q(&mut s, &["SSCAN", "s", "0", "NOSCORES"]),
        "-ERR NOSCORES option can only be used in ZSCAN\r\n"
    );
    // Compact encodings reply everything at once, cursor 0, any cursor.
    let all = format!("*2\r\n{}{}", bulk("0"), arr(&["a", "b", "c"]));
    assert_eq!(q(&mut s, &["SSCAN", "s", "0"]), all);
    assert_eq!(q(&mut s, &["SSCAN", "s", "5", "COUNT", "1"]), all);
    assert_eq!(
        q(&mut s, &["SSCAN", "s", "0", "MATCH", "a*", "COUNT", "1"]),
        format!("*2\r\n{}{}", bulk("0"), arr(&["a"]))
    );
    q(&mut s, &["SADD", "i", "10", "2", "30"]);
    assert_eq!(
        q(&mut s, &["SSCAN", "i", "0", "MATCH", "*0"]),
        format!("*2\r\n{}{}", bulk("0"), arr(&["10", "30"]))
    );
    // A hashtable: every member once over a full iteration.
    let mut args = vec!["SADD".to_string(), "h".to_string()];
    args.extend((0..1000).map(|i| format!("m{i}")));
    let a: Vec<&str> = args.iter().map(|x| x.as_str()).collect();
    q(&mut s, &a);
    assert_eq!(encoding(&mut s, "h"), bulk("hashtable"));
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut rounds = 0;
    loop {
        let r = q(&mut s, &["SSCAN", "h", &cursor, "COUNT", "50"]);
        let rest = r.strip_prefix("*2\r\n$").expect("scan reply");
        let (len, rest) = rest.split_once("\r\n").expect("cursor len");
        let len: usize = len.parse().expect("len");
        cursor = rest[..len].to_string();
        for m in members(&rest[len + 2..]).1 {
            seen.insert(m);
        }
        rounds += 1;
        if cursor == "0" {
            break;
        }
    }
    assert!(rounds > 1);
    assert_eq!(seen.len(), 1000);
});

server_test!(encodings_and_conversions, |srv| {
    let mut s = srv.raw();
    let set = |s: &mut TcpStream, k: &str, v: &str| {
        assert_eq!(q(s, &["CONFIG", "SET", k, v]), OK);
    };
    q(&mut s, &["SADD", "a", "1", "2", "3"]);
    assert_eq!(encoding(&mut s, "a"), bulk("intset"));
    // A string into a small intset makes a listpack.
    q(&mut s, &["SADD", "a", "x"]);
    assert_eq!(encoding(&mut s, "a"), bulk("listpack"));
    // A string first: listpack, even for integers that follow.
    q(&mut s, &["SADD", "b", "x", "1", "2"]);
    assert_eq!(encoding(&mut s, "b"), bulk("listpack"));
    // An integer first picks intset, and the string converts it.
    q(&mut s, &["SADD", "c", "1", "x"]);
    assert_eq!(encoding(&mut s, "c"), bulk("listpack"));
    // Non-canonical integers are strings.
    q(&mut s, &["SADD", "n", "01"]);
    assert_eq!(encoding(&mut s, "n"), bulk("listpack"));

    set(&mut s, "set-max-intset-entries", "4");
    q(&mut s, &["SADD", "d", "1", "2", "3", "4"]);
    assert_eq!(encoding(&mut s, "d"), bulk("intset"));
    // Growing past the intset limit goes straight to a hashtable...
    q(&mut s, &["SADD", "d", "5"]);
    assert_eq!(encoding(&mut s, "d"), bulk("hashtable"));
    // ...and never comes back.
    q(&mut s, &["SREM", "d", "5", "4", "3"]);
    assert_eq!(encoding(&mut s, "d"), bulk("hashtable"));
    assert_eq!(sorted(&q(&mut s, &["SMEMBERS", "d"])), strs(&["1", "2"]));
    // The number of members given picks the encoding up front.
    q(&mut s, &["SADD", "e", "1", "2", "3", "4", "5"]);
    assert_eq!(encoding(&mut s, "e"), bulk("listpack"));
    q(&mut s, &["SADD", "f", "1", "1", "1", "1", "1"]);
    assert_eq!(encoding(&mut s, "f"), bulk("listpack"));
    // On an existing set too (Valkey's setTypeMaybeConvert): more members
    // given than the encoding's limit converts first, duplicates and
    // members already there included. (Found by scripts/diff-valkey.py.)
    set(&mut s, "set-max-listpack-entries", "4");
    q(&mut s, &["SADD", "g", "12"]);
    assert_eq!(q(&mut s, &["SADD", "g", "e", "d", "d", "e", "-5"]), int(3));
    assert_eq!(encoding(&mut s, "g"), bulk("hashtable"));
    q(&mut s, &["SADD", "h", "1"]);
    assert_eq!(q(&mut s, &["SADD", "h", "1", "1", "1", "1", "1"]), int(0));
    assert_eq!(encoding(&mut s, "h"), bulk("hashtable"));
    q(&mut s, &["SADD", "i", "a"]);
    assert_eq!(q(&mut s, &["SADD", "i", "a", "a", "a", "a"]), int(0));
    assert_eq!(encoding(&mut s, "i"), bulk("listpack"));
    assert_eq!(q(&mut s, &["SADD", "i", "a", "a", "a", "a", "a"]), int(0));
    assert_eq!(encoding(&mut s, "i"), bulk("hashtable"));
    set(&mut s, "set-max-listpack-entries", "128");
    set(&mut s, "set-max-intset-entries", "512");

    set(&mut s, "set-max-listpack-entries", "3");
    q(&mut s, &["SADD", "x", "a", "b", "c"]);
    assert_eq!(encoding(&mut s, "x"), bulk("listpack"));
    q(&mut s, &["SADD", "x", "d"]);
    assert_eq!(encoding(&mut s, "x"), bulk("hashtable"));
    q(&mut s, &["SADD", "y", "a", "b", "c", "d"]);
    assert_eq!(encoding(&mut s, "y"), bulk("hashtable"));
    // An intset as large as the listpack limit goes to a hashtable on a string.
    q(&mut s, &["SADD", "y3", "1", "2", "3"]);
    q(&mut s, &["SADD", "y3", "a"]);
    assert_eq!(encoding(&mut s, "y3"), bulk("hashtable"));
    q(&mut s, &["SADD", "y4", "1", "2"]);
    q(&mut s, &["SADD", "y4", "a"]);
    assert_eq!(encoding(&mut s, "y4"), bulk("listpack"));
    set(&mut s, "set-max-listpack-entries", "128");

    set(&mut s, "set-max-listpack-value", "3");
    q(&mut s, &["SADD", "z", "abcd"]);
    assert_eq!(encoding(&mut s, "z"), bulk("hashtable"));
    // The intset's longest member (sign included) must fit too.
    q(&mut s, &["SADD", "z1", "-10"]);
    q(&mut s, &["SADD", "z1", "a"]);
    assert_eq!(encoding(&mut s, "z1"), bulk("listpack"));
    q(&mut s, &["SADD", "z2", "-100"]);
    q(&mut s, &["SADD", "z2", "a"]);
    assert_eq!(encoding(&mut s, "z2"), bulk("hashtable"));
    // An integer too long for a listpack converts it as a string would.
    q(&mut s, &["SADD", "z3", "a"]);
    q(&mut s, &["SADD", "z3", "12345"]);
    assert_eq!(encoding(&mut s, "z3"), bulk("hashtable"));
    set(&mut s, "set-max-listpack-value", "64");

    // STORE results are built from an empty intset, member by member.
    q(&mut s, &["SADD", "ht", "a", "b", &"y".repeat(70)]);
    q(&mut s, &["SREM", "ht", &"y".repeat(70)]);
    assert_eq!(encoding(&mut s, "ht"), bulk("hashtable"));
    q(&mut s, &["SINTERSTORE", "r1", "ht"]);
    assert_eq!(encoding(&mut s, "r1"), bulk("listpack"));
    q(&mut s, &["SADD", "hti", "1", "2", &"y".repeat(70)]);
    q(&mut s, &["SREM", "hti", &"y".repeat(70)]);
    q(&mut s, &["SUNIONSTORE", "r2", "hti"]);
    assert_eq!(encoding(&mut s, "r2"), bulk("intset"));
    q(&mut s, &["SDIFFSTORE", "r3", "hti"]);
    assert_eq!(encoding(&mut s, "r3"), bulk("intset"));
    // Extreme integers stay in the intset.
    q(
        &mut s,
        &[
            "SADD",
            "ext",
            "9223372036854775807",
            "-9223372036854775808",
            "0",
        ],
    );
    assert_eq!(encoding(&mut s, "ext"), bulk("intset"));
    assert_eq!(
        q(&mut s, &["SMEMBERS", "ext"]),
        arr(&["-9223372036854775808", "0", "9223372036854775807"])
    );
    q(&mut s, &["SADD", "ext", "9223372036854775808"]);
    assert_eq!(encoding(&mut s, "ext"), bulk("listpack"));
    assert_eq!(
        q(&mut s, &["SISMEMBER", "ext", "-9223372036854775808"]),
        int(1)
    );
});

server_test!(resp3_reply_types, |srv| {
    let mut s = srv.raw();
    let hello = raw_roundtrip(&mut s, &cmd(&[b"HELLO", b"3"]), 1);
    assert!(hello.starts_with(b"%"));
    q(&mut s, &["SADD", "s", "a", "b"]);
    q(&mut s, &["SADD", "i", "1", "2"]);
    assert_eq!(q(&mut s, &["SMEMBERS", "i"]), agg('~', &["1", "2"]));
    assert_eq!(q(&mut s, &["SMEMBERS", "nokey"]), "~0\r\n");
    assert_eq!(q(&mut s, &["SINTER", "i", "i"]), agg('~', &["1", "2"]));
    assert_eq!(q(&mut s, &["SINTER", "i", "nokey"]), "~0\r\n");
    assert_eq!(q(&mut s, &["SUNION", "i"]), agg('~', &["1", "2"]));
    assert_eq!(q(&mut s, &["SDIFF", "i"]), agg('~', &["1", "2"]));
    assert_eq!(members(&q(&mut s, &["SRANDMEMBER", "s", "5"])).0, '*');
    assert_eq!(members(&q(&mut s, &["SRANDMEMBER", "s", "-5"])).0, '*');
    assert_eq!(q(&mut s, &["SRANDMEMBER", "nokey", "5"]), "*0\r\n");
    assert_eq!(q(&mut s, &["SRANDMEMBER", "nokey"]), "_\r\n");
    assert_eq!(q(&mut s, &["SPOP", "nokey"]), "_\r\n");
    assert_eq!(q(&mut s, &["SPOP", "nokey", "2"]), "~0\r\n");
    assert_eq!(q(&mut s, &["SPOP", "s", "0"]), "~0\r\n");
    assert_eq!(members(&q(&mut s, &["SPOP", "s", "1"])).0, '~');
    assert_eq!(
        q(&mut s, &["SMISMEMBER", "i", "1", "3"]),
        "*2\r\n:1\r\n:0\r\n"
    );
    assert_eq!(q(&mut s, &["SISMEMBER", "i", "1"]), ":1\r\n");
    assert_eq!(
        q(&mut s, &["SSCAN", "i", "0"]),
        format!("*2\r\n{}{}", bulk("0"), arr(&["1", "2"]))
    );
});

server_test!(expired_and_memory, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SADD", "s", "a"]);
    q(&mut s, &["PEXPIRE", "s", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(q(&mut s, &["SCARD", "s"]), int(0));
    assert_eq!(q(&mut s, &["SINTER", "s"]), EMPTY_ARRAY);
    assert_eq!(q(&mut s, &["SADD", "s", "b"]), int(1));
    assert_eq!(q(&mut s, &["SMEMBERS", "s"]), arr(&["b"]));
    // MEMORY USAGE grows with the set.
    let usage = |s: &mut TcpStream| -> i64 {
        q(s, &["MEMORY", "USAGE", "s"])
            .trim_start_matches(':')
            .trim()
            .parse()
            .expect("usage")
    };
    let small = usage(&mut s);
    let mut args = vec!["SADD".to_string(), "s".to_string()];
    args.extend((0..2000).map(|i| format!("member-{i}")));
    let a: Vec<&str> = args.iter().map(|x| x.as_str()).collect();
    q(&mut s, &a);
    assert!(usage(&mut s) > small + 2000 * 16);
});
