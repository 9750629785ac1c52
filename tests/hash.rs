//! Hash commands against the real server; replies compared byte for byte
//! with what Valkey 9.1 sends for the same commands.

mod common;

use common::{bulk, int, q, NOT_INT, NULL, OK, SYNTAX, WRONGTYPE};

/// An array of bulk strings.
fn arr(items: &[&str]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s += &bulk(i);
    }
    s
}

const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";

/// The elements of a flat array reply of bulk strings.
fn items(reply: &str) -> Vec<String> {
    let mut lines = reply.split("\r\n");
    let head = lines.next().unwrap_or("");
    assert!(head.starts_with('*'), "not an array: {reply:?}");
    let mut v = Vec::new();
    while let Some(l) = lines.next() {
        if l.starts_with('$') {
            v.push(lines.next().unwrap_or("").to_string());
        }
    }
    v
}

server_test!(set_get_and_friends, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["HSET", "h", "a", "1", "b", "2"]), int(2));
    assert_eq!(q(&mut s, &["HSET", "h", "a", "1", "c", "3"]), int(1));
    assert_eq!(
        q(&mut s, &["HSET", "h", "a"]),
        "-ERR wrong number of arguments for 'hset' command\r\n"
    );
    assert_eq!(
        q(&mut s, &["HMSET", "h", "a", "1", "b"]),
        "-ERR wrong number of arguments for 'hmset' command\r\n"
    );
    assert_eq!(q(&mut s, &["HMSET", "h", "a", "x", "b", "y"]), OK);
    assert_eq!(q(&mut s, &["HSETNX", "h", "a", "5"]), int(0));
    assert_eq!(q(&mut s, &["HSETNX", "h", "d", "4"]), int(1));
    assert_eq!(q(&mut s, &["HGET", "h", "a"]), bulk("x"));
    assert_eq!(q(&mut s, &["HGET", "h", "zz"]), NULL);
    assert_eq!(q(&mut s, &["HGET", "nokey", "a"]), NULL);
    assert_eq!(
        q(&mut s, &["HMGET", "h", "a", "zz", "b"]),
        "*3\r\n$1\r\nx\r\n$-1\r\n$1\r\ny\r\n"
    );
    assert_eq!(q(&mut s, &["HMGET", "nokey", "a"]), "*1\r\n$-1\r\n");
    // A listpack keeps insertion order.
    assert_eq!(
        q(&mut s, &["HGETALL", "h"]),
        arr(&["a", "x", "b", "y", "c", "3", "d", "4"])
    );
    assert_eq!(q(&mut s, &["HGETALL", "nokey"]), "*0\r\n");
    assert_eq!(q(&mut s, &["HKEYS", "h"]), arr(&["a", "b", "c", "d"]));
    assert_eq!(q(&mut s, &["HVALS", "h"]), arr(&["x", "y", "3", "4"]));
    assert_eq!(q(&mut s, &["HKEYS", "nokey"]), "*0\r\n");
    assert_eq!(q(&mut s, &["HLEN", "h"]), int(4));
    assert_eq!(q(&mut s, &["HLEN", "nokey"]), int(0));
    assert_eq!(q(&mut s, &["HEXISTS", "h", "a"]), int(1));
    assert_eq!(q(&mut s, &["HEXISTS", "h", "zz"]), int(0));
    assert_eq!(q(&mut s, &["HEXISTS", "nokey", "a"]), int(0));
    assert_eq!(q(&mut s, &["HSET", "h", "long", "hello world"]), int(1));
    assert_eq!(q(&mut s, &["HSTRLEN", "h", "long"]), int(11));
    assert_eq!(q(&mut s, &["HSTRLEN", "h", "zz"]), int(0));
    assert_eq!(q(&mut s, &["HSTRLEN", "nokey", "zz"]), int(0));
    // Empty fields and values are fine.
    assert_eq!(q(&mut s, &["HSET", "h", "", ""]), int(1));
    assert_eq!(q(&mut s, &["HGET", "h", ""]), bulk(""));
    assert_eq!(q(&mut s, &["TYPE", "h"]), "+hash\r\n");
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "h"]), bulk("listpack"));
});

server_test!(hdel_removes_empty_hash, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["HSET", "h", "a", "1", "b", "2", "c", "3"]),
        int(3)
    );
    assert_eq!(q(&mut s, &["HDEL", "h", "a", "zz", "b"]), int(2));
    assert_eq!(q(&mut s, &["HDEL", "nokey", "a"]), int(0));
    assert_eq!(q(&mut s, &["HGETALL", "h"]), arr(&["c", "3"]));
    assert_eq!(q(&mut s, &["HDEL", "h", "c", "c"]), int(1));
    assert_eq!(q(&mut s, &["EXISTS", "h"]), int(0));
});

server_test!(wrong_type, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["SET", "str", "x"]), OK);
    for c in [
        &["HGET", "str", "a"][..],
        &["HSET", "str", "a", "1"],
        &["HSETNX", "str", "a", "1"],
        &["HMSET", "str", "a", "1"],
        &["HMGET", "str", "a"],
        &["HGETALL", "str"],
        &["HDEL", "str", "a"],
        &["HLEN", "str"],
        &["HEXISTS", "str", "a"],
        &["HSTRLEN", "str", "a"],
        &["HKEYS", "str"],
        &["HVALS", "str"],
        &["HINCRBY", "str", "a", "1"],
        &["HINCRBYFLOAT", "str", "a", "1"],
        &["HRANDFIELD", "str"],
        &["HRANDFIELD", "str", "1"],
        &["HRANDFIELD", "str", "-1", "WITHVALUES"],
        &["HSCAN", "str", "0"],
        &["HSCAN", "str", "0", "foo"],
    ] {
        assert_eq!(q(&mut s, c), WRONGTYPE, "{c:?}");
    }
    // Argument errors come before the key is looked at.
    assert_eq!(q(&mut s, &["HINCRBY", "str", "a", "x"]), NOT_INT);
    assert_eq!(q(&mut s, &["HINCRBYFLOAT", "str", "a", "x"]), NOT_FLOAT);
    assert_eq!(q(&mut s, &["HRANDFIELD", "str", "x"]), NOT_INT);
    assert_eq!(q(&mut s, &["HRANDFIELD", "str", "1", "foo"]), SYNTAX);
    assert_eq!(q(&mut s, &["HSCAN", "str", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(q(&mut s, &["GET", "str"]), bulk("x"));
});

server_test!(hincrby, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["HINCRBY", "h", "a", "5"]), int(5));
    assert_eq!(q(&mut s, &["HINCRBY", "h", "a", "-10"]), int(-5));
    assert_eq!(q(&mut s, &["HGET", "h", "a"]), bulk("-5"));
    assert_eq!(q(&mut s, &["HINCRBY", "h", "a", "x"]), NOT_INT);
    assert_eq!(q(&mut s, &["HINCRBY", "h", "a", "1.5"]), NOT_INT);
    assert_eq!(
        q(&mut s, &["HSET", "h", "m", "9223372036854775807"]),
        int(1)
    );
    assert_eq!(
        q(&mut s, &["HINCRBY", "h", "m", "1"]),
        "-ERR increment or decrement would overflow\r\n"
    );
    let not_int = "-ERR hash value is not an integer\r\n";
    for v in ["abc", " 10", "10.0", "", "0x10"] {
        q(&mut s, &["HSET", "h", "s", v]);
        assert_eq!(q(&mut s, &["HINCRBY", "h", "s", "1"]), not_int, "{v:?}");
    }
});

server_test!(hincrbyfloat, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["HINCRBYFLOAT", "h", "a", "1.5"]), bulk("1.5"));
    assert_eq!(q(&mut s, &["HINCRBYFLOAT", "h", "a", "0.1"]), bulk("1.6"));
    assert_eq!(q(&mut s, &["HINCRBYFLOAT", "h", "a", "-1.6"]), bulk("0"));
    let cases = [
        ("10.0", "1", "11"),
        ("1e2", "1", "101"),
        ("0x10", "1", "17"),
        ("5", "1.50", "6.5"),
    ];
    for (start, by, want) in cases {
        q(&mut s, &["HSET", "h", "g", start]);
        assert_eq!(q(&mut s, &["HINCRBYFLOAT", "h", "g", by]), bulk(want));
        assert_eq!(q(&mut s, &["HGET", "h", "g"]), bulk(want));
    }
    let nan_inf = "-ERR value is NaN or Infinity\r\n";
    assert_eq!(q(&mut s, &["HINCRBYFLOAT", "h", "g", "inf"]), nan_inf);
    assert_eq!(q(&mut s, &["HINCRBYFLOAT", "h", "g", "-inf"]), nan_inf);
    assert_eq!(q(&mut s, &["HINCRBYFLOAT", "h", "g", "nan"]), NOT_FLOAT);
    assert_eq!(q(&mut s, &["HINCRBYFLOAT", "h", "g", "1e5000"]), NOT_FLOAT);
    assert_eq!(q(&mut s, &["HINCRBYFLOAT", "h", "g", "abc"]), NOT_FLOAT);
    q(&mut s, &["HSET", "h", "s", " 10"]);
    assert_eq!(
        q(&mut s, &["HINCRBYFLOAT", "h", "s", "1"]),
        "-ERR hash value is not a float\r\n"
    );
    q(&mut s, &["HSET", "h", "big", "1e308"]);
    let two_e308 = "199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096";
    assert_eq!(
        q(&mut s, &["HINCRBYFLOAT", "h", "big", "1e308"]),
        bulk(two_e308)
    );
    // The long result no longer fits a listpack entry.
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    q(&mut s, &["HSET", "h2", "x", "inf"]);
    assert_eq!(
        q(&mut s, &["HINCRBYFLOAT", "h2", "x", "1"]),
        "-ERR increment would produce NaN or Infinity\r\n"
    );
});

server_test!(encoding_conversion, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "hash-max-listpack-entries", "2"]),
        OK
    );
    assert_eq!(q(&mut s, &["HSET", "h", "a", "1", "b", "2"]), int(2));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    assert_eq!(q(&mut s, &["HSET", "h", "c", "3"]), int(1));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    // Never back.
    assert_eq!(q(&mut s, &["HDEL", "h", "c", "b"]), int(2));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    assert_eq!(q(&mut s, &["HGETALL", "h"]), arr(&["a", "1"]));
    // More pairs than entries converts even when they repeat a field.
    assert_eq!(
        q(&mut s, &["HSET", "d", "a", "1", "a", "2", "a", "3"]),
        int(1)
    );
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "d"]), bulk("hashtable"));
    assert_eq!(q(&mut s, &["HLEN", "d"]), int(1));
    q(&mut s, &["HSET", "n", "a", "1"]);
    q(&mut s, &["HSETNX", "n", "b", "2"]);
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "n"]), bulk("listpack"));
    q(&mut s, &["HSETNX", "n", "c", "3"]);
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "n"]), bulk("hashtable"));

    assert_eq!(
        q(
            &mut s,
            &["CONFIG", "SET", "hash-max-listpack-entries", "512"]
        ),
        OK
    );
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "hash-max-listpack-value", "3"]),
        OK
    );
    q(&mut s, &["HSETNX", "v1", "a", "1234"]);
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "v1"]), bulk("hashtable"));
    q(&mut s, &["HSETNX", "v2", "aaaa", "1"]);
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "v2"]), bulk("hashtable"));
    // HSETNX that sets nothing converts nothing.
    q(&mut s, &["HSET", "v3", "a", "1"]);
    assert_eq!(q(&mut s, &["HSETNX", "v3", "a", "12345"]), int(0));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "v3"]), bulk("listpack"));
    // Reads of long fields convert nothing either.
    assert_eq!(q(&mut s, &["HGET", "v3", "aaaaaa"]), NULL);
    assert_eq!(q(&mut s, &["HINCRBYFLOAT", "v3", "a", "0.5"]), bulk("1.5"));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "v3"]), bulk("listpack"));
    assert_eq!(q(&mut s, &["HINCRBY", "v4", "a", "10000"]), int(10000));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "v4"]), bulk("hashtable"));
    q(&mut s, &["HSET", "v5", "a", "1"]);
    q(&mut s, &["HSET", "v5", "a", "12345"]);
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "v5"]), bulk("hashtable"));
    assert_eq!(q(&mut s, &["HGET", "v5", "a"]), bulk("12345"));
});

server_test!(resp3_shapes, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["HELLO", "3"]);
    q(&mut s, &["HSET", "h", "a", "1", "b", "2"]);
    assert_eq!(
        q(&mut s, &["HGETALL", "h"]),
        "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(q(&mut s, &["HGETALL", "nokey"]), "%0\r\n");
    assert_eq!(q(&mut s, &["HGET", "h", "zz"]), "_\r\n");
    assert_eq!(
        q(&mut s, &["HMGET", "h", "a", "zz"]),
        "*2\r\n$1\r\n1\r\n_\r\n"
    );
    assert_eq!(q(&mut s, &["HRANDFIELD", "nokey"]), "_\r\n");
    assert_eq!(
        q(&mut s, &["HRANDFIELD", "nokey", "2", "WITHVALUES"]),
        "*0\r\n"
    );
    assert_eq!(
        q(&mut s, &["HRANDFIELD", "h", "5", "WITHVALUES"]),
        "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    let r = q(&mut s, &["HRANDFIELD", "h", "-3", "WITHVALUES"]);
    assert!(r.starts_with("*3\r\n*2\r\n$1\r\n"), "{r:?}");
    assert_eq!(r.matches("*2\r\n").count(), 3, "{r:?}");
    assert_eq!(q(&mut s, &["HKEYS", "h"]), arr(&["a", "b"]));
});

server_test!(hrandfield, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["HRANDFIELD", "nokey"]), NULL);
    assert_eq!(q(&mut s, &["HRANDFIELD", "nokey", "3"]), "*0\r\n");
    assert_eq!(
        q(&mut s, &["HRANDFIELD", "nokey", "-3", "WITHVALUES"]),
        "*0\r\n"
    );
    q(&mut s, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(q(&mut s, &["HRANDFIELD", "h", "0"]), "*0\r\n");
    assert_eq!(q(&mut s, &["HRANDFIELD", "h", "0", "WITHVALUES"]), "*0\r\n");
    assert_eq!(
        q(&mut s, &["HRANDFIELD", "h", "-9223372036854775808"]),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    let range = "-ERR value is out of range\r\n";
    assert_eq!(
        q(
            &mut s,
            &["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"]
        ),
        range
    );
    assert_eq!(
        q(
            &mut s,
            &["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"]
        ),
        range
    );
    assert_eq!(
        q(&mut s, &["HRANDFIELD", "h", "1", "WITHVALUES", "x"]),
        SYNTAX
    );
    // All of it, in the hash's order, when asking for at least its size.
    assert_eq!(
        q(&mut s, &["HRANDFIELD", "h", "100"]),
        arr(&["a", "b", "c"])
    );
    assert_eq!(
        q(&mut s, &["HRANDFIELD", "h", "3", "WITHVALUES"]),
        arr(&["a", "1", "b", "2", "c", "3"])
    );
    let one = q(&mut s, &["HRANDFIELD", "h"]);
    assert!([bulk("a"), bulk("b"), bulk("c")].contains(&one), "{one:?}");
    // Distinct picks for a positive count, repeats for a negative one.
    for key_setup in [false, true] {
        if key_setup {
            assert_eq!(
                q(&mut s, &["CONFIG", "SET", "hash-max-listpack-entries", "4"]),
                OK
            );
            let mut args = vec!["HSET".to_string(), "h".to_string()];
            for i in 0..100 {
                args.push(format!("f{i}"));
                args.push(format!("{i}"));
            }
            let a: Vec<&str> = args.iter().map(|x| x.as_str()).collect();
            q(&mut s, &a);
            assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
        }
        let len: usize = q(&mut s, &["HLEN", "h"])[1..].trim().parse().unwrap();
        for count in [2, len - 1, len / 4 + 1] {
            let got = items(&q(&mut s, &["HRANDFIELD", "h", &count.to_string()]));
            let mut uniq = got.clone();
            uniq.sort();
            uniq.dedup();
            assert_eq!(uniq.len(), count, "{got:?}");
        }
        let got = items(&q(&mut s, &["HRANDFIELD", "h", "-500"]));
        assert_eq!(got.len(), 500);
        let got = items(&q(&mut s, &["HRANDFIELD", "h", "-20", "WITHVALUES"]));
        assert_eq!(got.len(), 40);
        for p in got.chunks(2) {
            assert_eq!(q(&mut s, &["HGET", "h", &p[0]]), bulk(&p[1]));
        }
        let got = items(&q(&mut s, &["HRANDFIELD", "h", "2", "WITHVALUES"]));
        assert_eq!(got.len(), 4);
    }
});

server_test!(hscan, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["HSCAN", "nokey", "0"]),
        "*2\r\n$1\r\n0\r\n*0\r\n"
    );
    assert_eq!(
        q(&mut s, &["HSCAN", "nokey", "0", "foo"]),
        "*2\r\n$1\r\n0\r\n*0\r\n"
    );
    q(&mut s, &["HSET", "h", "", "x", "a", "1"]);
    let all = "*2\r\n$1\r\n0\r\n*4\r\n$0\r\n\r\n$1\r\nx\r\n$1\r\na\r\n$1\r\n1\r\n";
    assert_eq!(q(&mut s, &["HSCAN", "h", "0"]), all);
    assert_eq!(q(&mut s, &["HSCAN", "h", "0", "MATCH", "*"]), all);
    assert_eq!(q(&mut s, &["HSCAN", "h", "0", "COUNT", "1"]), all);
    assert_eq!(
        q(&mut s, &["HSCAN", "h", "0", "MATCH", "?"]),
        "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        q(&mut s, &["HSCAN", "h", "0", "NOVALUES", "NOVALUES"]),
        "*2\r\n$1\r\n0\r\n*2\r\n$0\r\n\r\n$1\r\na\r\n"
    );
    assert_eq!(
        q(&mut s, &["HSCAN", "h", "0", "novalues", "match", "a"]),
        "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"
    );
    assert_eq!(q(&mut s, &["HSCAN", "h", "18446744073709551615"]), all);
    let cursor = "-ERR invalid cursor\r\n";
    assert_eq!(q(&mut s, &["HSCAN", "h", "18446744073709551616"]), cursor);
    assert_eq!(q(&mut s, &["HSCAN", "h", "-1"]), cursor);
    assert_eq!(q(&mut s, &["HSCAN", "h", "0", "TYPE", "string"]), SYNTAX);
    assert_eq!(q(&mut s, &["HSCAN", "h", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(q(&mut s, &["HSCAN", "h", "0", "COUNT", "-1"]), SYNTAX);
    assert_eq!(q(&mut s, &["HSCAN", "h", "0", "COUNT"]), SYNTAX);
    assert_eq!(q(&mut s, &["HSCAN", "h", "0", "COUNT", "abc"]), NOT_INT);

    // A hashtable: a full iteration returns every field exactly once here
    // (no resize during the scan), values paired with their fields.
    q(&mut s, &["CONFIG", "SET", "hash-max-listpack-entries", "8"]);
    for i in 0..300 {
        q(&mut s, &["HSET", "big", &format!("f{i}"), &format!("v{i}")]);
    }
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "big"]), bulk("hashtable"));
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let r = q(&mut s, &["HSCAN", "big", &cursor, "COUNT", "20"]);
        let v = items(&r);
        cursor = v[0].clone();
        for p in v[1..].chunks(2) {
            assert_eq!(p[1], format!("v{}", &p[0][1..]));
            seen.insert(p[0].clone());
        }
        calls += 1;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 300);
    assert!(calls > 1);
    let r = items(&q(
        &mut s,
        &[
            "HSCAN", "big", "0", "MATCH", "f1*", "COUNT", "1000", "NOVALUES",
        ],
    ));
    assert_eq!(r[0], "0");
    assert_eq!(r.len() - 1, 111); // f1, f10-f19, f100-f199
});

server_test!(command_info, |srv| {
    let mut s = srv.raw();
    let r = q(&mut s, &["COMMAND", "INFO", "hset"]);
    assert!(r.contains("hset\r\n:-4\r\n"), "{r:?}");
    assert!(r.contains("+write\r\n+denyoom\r\n+fast\r\n"), "{r:?}");
    let r = q(&mut s, &["COMMAND", "INFO", "hgetall"]);
    assert!(r.contains("hgetall\r\n:2\r\n*1\r\n+readonly\r\n"), "{r:?}");
});

server_test!(hscan_refuses_other_scans_options, |srv| {
    let mut s = srv.raw();
    common::raw_roundtrip(&mut s, &common::cmd(&[b"HSET", b"h", b"f", b"v"]), 1);
    let mut err =
        |opt: &[u8]| common::raw_roundtrip(&mut s, &common::cmd(&[b"HSCAN", b"h", b"0", opt]), 1);
    assert_eq!(
        err(b"NOSCORES"),
        b"-ERR NOSCORES option can only be used in ZSCAN\r\n"
    );
    assert_eq!(err(b"TYPE"), b"-ERR syntax error\r\n");
});
