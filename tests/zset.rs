//! Sorted set commands against the real server, replies compared byte for
//! byte with what Valkey 9.1 sends for the same commands (RESP2 and RESP3).

mod common;

use common::{arr, bulk, int, q, EMPTY, NOT_INT, NULL, NULL_ARRAY, OK, SYNTAX, WRONGTYPE};

use common::{cmd, raw_roundtrip, read_replies};
use std::io::Write;
use std::net::TcpStream;

/// A connection switched to RESP3.
fn resp3(srv: &common::Server) -> TcpStream {
    let mut s = srv.raw();
    let _ = q(&mut s, &["HELLO", "3"]);
    s
}

const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";
const MINMAX: &str = "-ERR min or max is not a float\r\n";
const LEX: &str = "-ERR min or max not valid string range item\r\n";

server_test!(zadd_options_and_errors, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["ZADD", "z", "NX", "XX", "1", "a"]),
        "-ERR XX and NX options at the same time are not compatible\r\n"
    );
    let gtltnx = "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n";
    assert_eq!(q(&mut s, &["ZADD", "z", "GT", "LT", "1", "a"]), gtltnx);
    assert_eq!(q(&mut s, &["ZADD", "z", "NX", "GT", "1", "a"]), gtltnx);
    assert_eq!(
        q(&mut s, &["ZADD", "z", "INCR", "1", "a", "2", "b"]),
        "-ERR INCR option supports a single increment-element pair\r\n"
    );
    // An odd element count is checked before the option conflicts.
    assert_eq!(q(&mut s, &["ZADD", "z", "NX", "XX", "1", "a", "2"]), SYNTAX);
    assert_eq!(
        q(&mut s, &["ZADD", "z", "1"]),
        "-ERR wrong number of arguments for 'zadd' command\r\n"
    );
    for bad in ["x", "nan", "1e400", "1e-400", "0x10", " 1", "1 ", ""] {
        assert_eq!(q(&mut s, &["ZADD", "z", bad, "a"]), NOT_FLOAT, "{bad}");
    }
    assert_eq!(q(&mut s, &["EXISTS", "z"]), int(0));
    assert_eq!(q(&mut s, &["ZADD", "z", "1", "a", "2", "b"]), int(2));
    assert_eq!(q(&mut s, &["ZADD", "z", "1", "a", "3", "c"]), int(1));
    // CH counts changed scores too; GT never lowers, but adds new members.
    assert_eq!(
        q(
            &mut s,
            &["ZADD", "z", "CH", "GT", "5", "a", "0", "b", "1", "q"]
        ),
        int(2)
    );
    assert_eq!(q(&mut s, &["ZSCORE", "z", "a"]), bulk("5"));
    assert_eq!(q(&mut s, &["ZSCORE", "z", "b"]), bulk("2"));
    assert_eq!(
        q(&mut s, &["ZADD", "z", "LT", "CH", "0", "a", "100", "b"]),
        int(1)
    );
    assert_eq!(q(&mut s, &["ZADD", "z", "XX", "9", "new"]), int(0));
    assert_eq!(q(&mut s, &["ZSCORE", "z", "new"]), NULL);
    assert_eq!(q(&mut s, &["ZADD", "z", "NX", "9", "a"]), int(0));
    assert_eq!(q(&mut s, &["ZSCORE", "z", "a"]), bulk("0"));
    // INCR replies the new score, or null when a condition stops it.
    assert_eq!(q(&mut s, &["ZADD", "z", "INCR", "2.5", "a"]), bulk("2.5"));
    assert_eq!(q(&mut s, &["ZADD", "z", "XX", "INCR", "1", "zz"]), NULL);
    assert_eq!(q(&mut s, &["ZADD", "z", "NX", "INCR", "1", "a"]), NULL);
    assert_eq!(q(&mut s, &["ZADD", "z", "GT", "INCR", "-1", "a"]), NULL);
    assert_eq!(q(&mut s, &["ZADD", "z", "incr", "nx", "1", "m"]), bulk("1"));
    assert_eq!(q(&mut s, &["ZADD", "xx", "XX", "1", "a"]), int(0));
    assert_eq!(q(&mut s, &["EXISTS", "xx"]), int(0));
    assert_eq!(q(&mut s, &["SET", "str", "x"]), OK);
    assert_eq!(q(&mut s, &["ZADD", "str", "1", "a"]), WRONGTYPE);
    // Scores are checked before the type.
    assert_eq!(q(&mut s, &["ZADD", "str", "x", "a"]), NOT_FLOAT);
});

server_test!(scores_inf_nan_and_formatting, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["ZADD", "z", "inf", "i", "-inf", "n", "+inf", "p"]),
        int(3)
    );
    assert_eq!(q(&mut s, &["ZSCORE", "z", "i"]), bulk("inf"));
    assert_eq!(q(&mut s, &["ZSCORE", "z", "n"]), bulk("-inf"));
    assert_eq!(
        q(&mut s, &["ZADD", "z", "INCR", "-inf", "i"]),
        "-ERR resulting score is not a number (NaN)\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZINCRBY", "z", "-inf", "i"]),
        "-ERR resulting score is not a number (NaN)\r\n"
    );
    assert_eq!(q(&mut s, &["ZSCORE", "z", "i"]), bulk("inf"));
    for (input, shown) in [
        ("1.5e3", "1500"),
        ("0.1", "0.1"),
        ("1e20", "1e+20"),
        ("1e-310", "1e-310"),
        ("-2.5", "-2.5"),
        ("123456789012345678", "123456789012345680"),
        ("3.0", "3"),
    ] {
        assert!(q(&mut s, &["ZADD", "f", input, "m"]).starts_with(':'));
        assert_eq!(q(&mut s, &["ZSCORE", "f", "m"]), bulk(shown), "{input}");
    }
    // Overflow to infinity is allowed; NaN is not.
    assert_eq!(q(&mut s, &["ZINCRBY", "o", "1e308", "m"]), bulk("1e+308"));
    assert_eq!(q(&mut s, &["ZINCRBY", "o", "1e308", "m"]), bulk("inf"));
    assert_eq!(q(&mut s, &["ZINCRBY", "o", "abc", "m"]), NOT_FLOAT);
    assert_eq!(q(&mut s, &["ZINCRBY", "o", "nan", "m"]), NOT_FLOAT);
    assert_eq!(q(&mut s, &["ZINCRBY", "new", "-2", "m"]), bulk("-2"));
    // Negative zero: replied "-0"; a listpack keeps it as 0.
    assert_eq!(q(&mut s, &["ZINCRBY", "nz", "-0", "m"]), bulk("-0"));
    assert_eq!(q(&mut s, &["ZSCORE", "nz", "m"]), bulk("0"));
    let mut r3 = resp3(srv);
    assert_eq!(q(&mut r3, &["ZSCORE", "z", "i"]), ",inf\r\n");
    assert_eq!(q(&mut r3, &["ZSCORE", "z", "none"]), "_\r\n");
    assert_eq!(q(&mut r3, &["ZINCRBY", "z", "1", "x"]), ",1\r\n");
    assert_eq!(
        q(&mut r3, &["ZADD", "z", "XX", "INCR", "1", "none"]),
        "_\r\n"
    );
});

server_test!(rem_card_score_rank, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]),
        int(3)
    );
    assert_eq!(q(&mut s, &["ZCARD", "z"]), int(3));
    assert_eq!(q(&mut s, &["ZCARD", "none"]), int(0));
    assert_eq!(
        q(&mut s, &["ZMSCORE", "z", "a", "nope", "c"]),
        "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n3\r\n"
    );
    assert_eq!(q(&mut s, &["ZMSCORE", "none", "a"]), "*1\r\n$-1\r\n");
    assert_eq!(q(&mut s, &["ZRANK", "z", "c"]), int(2));
    assert_eq!(q(&mut s, &["ZREVRANK", "z", "c"]), int(0));
    assert_eq!(q(&mut s, &["ZRANK", "z", "nope"]), NULL);
    assert_eq!(
        q(&mut s, &["ZRANK", "z", "c", "WITHSCORE"]),
        "*2\r\n:2\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZREVRANK", "z", "a", "withscore"]),
        "*2\r\n:2\r\n$1\r\n1\r\n"
    );
    assert_eq!(q(&mut s, &["ZRANK", "z", "nope", "WITHSCORE"]), NULL_ARRAY);
    assert_eq!(q(&mut s, &["ZRANK", "z", "c", "WITHSCORES"]), SYNTAX);
    assert_eq!(
        q(&mut s, &["ZRANK", "z", "a", "b", "c"]),
        "-ERR wrong number of arguments for 'zrank' command\r\n"
    );
    assert_eq!(q(&mut s, &["ZREM", "z", "a", "nope", "a"]), int(1));
    assert_eq!(q(&mut s, &["ZREM", "z", "b", "c"]), int(2));
    assert_eq!(q(&mut s, &["EXISTS", "z"]), int(0));
    assert_eq!(q(&mut s, &["ZREM", "none", "a"]), int(0));
    assert_eq!(q(&mut s, &["SET", "str", "x"]), OK);
    for c in [
        &["ZCARD", "str"][..],
        &["ZSCORE", "str", "a"],
        &["ZMSCORE", "str", "a"],
        &["ZRANK", "str", "a"],
        &["ZREM", "str", "a"],
        &["ZINCRBY", "str", "1", "a"],
    ] {
        assert_eq!(q(&mut s, c), WRONGTYPE, "{c:?}");
    }
    let mut r3 = resp3(srv);
    assert_eq!(q(&mut r3, &["ZADD", "y", "1.5", "a"]), int(1));
    assert_eq!(
        q(&mut r3, &["ZRANK", "y", "a", "WITHSCORE"]),
        "*2\r\n:0\r\n,1.5\r\n"
    );
    assert_eq!(q(&mut r3, &["ZRANK", "y", "x", "WITHSCORE"]), "_\r\n");
    assert_eq!(
        q(&mut r3, &["ZMSCORE", "y", "a", "x"]),
        "*2\r\n,1.5\r\n_\r\n"
    );
});

server_test!(ranges_by_rank_score_and_lex, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(
            &mut s,
            &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]
        ),
        int(4)
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "z", "0", "-1"]),
        arr(&["a", "b", "c", "d"])
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "z", "-2", "-1", "WITHSCORES"]),
        arr(&["c", "3", "d", "4"])
    );
    assert_eq!(q(&mut s, &["ZRANGE", "z", "2", "1"]), EMPTY);
    assert_eq!(
        q(&mut s, &["ZRANGE", "z", "-100", "100"]),
        arr(&["a", "b", "c", "d"])
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "z", "0", "1", "REV"]),
        arr(&["d", "c"])
    );
    assert_eq!(
        q(&mut s, &["ZREVRANGE", "z", "0", "0", "WITHSCORES"]),
        arr(&["d", "4"])
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "z", "(1", "3", "BYSCORE"]),
        arr(&["b", "c"])
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "z", "3", "(1", "BYSCORE", "REV"]),
        arr(&["c", "b"])
    );
    assert_eq!(
        q(
            &mut s,
            &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2"]
        ),
        arr(&["b", "c"])
    );
    assert_eq!(
        q(
            &mut s,
            &["ZRANGE", "z", "0", "9", "BYSCORE", "LIMIT", "1", "-1"]
        ),
        arr(&["b", "c", "d"])
    );
    assert_eq!(
        q(
            &mut s,
            &["ZRANGE", "z", "0", "9", "BYSCORE", "LIMIT", "-1", "1"]
        ),
        EMPTY
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "ZRANGEBYSCORE",
                "z",
                "-inf",
                "inf",
                "WITHSCORES",
                "LIMIT",
                "1",
                "1"
            ]
        ),
        arr(&["b", "2"])
    );
    assert_eq!(
        q(
            &mut s,
            &["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "0", "2"]
        ),
        arr(&["d", "c"])
    );
    assert_eq!(q(&mut s, &["ZRANGEBYSCORE", "z", "+inf", "-inf"]), EMPTY);
    assert_eq!(q(&mut s, &["ZRANGEBYSCORE", "z", "(2", "(2"]), EMPTY);
    assert_eq!(q(&mut s, &["ZCOUNT", "z", "1", "(3"]), int(2));
    assert_eq!(q(&mut s, &["ZCOUNT", "z", "-inf", "+inf"]), int(4));
    assert_eq!(q(&mut s, &["ZCOUNT", "none", "0", "1"]), int(0));
    // Range errors, in Valkey's order.
    assert_eq!(q(&mut s, &["ZRANGE", "z", "a", "3", "BYSCORE"]), MINMAX);
    assert_eq!(q(&mut s, &["ZRANGEBYSCORE", "z", "(x", "1"]), MINMAX);
    assert_eq!(q(&mut s, &["ZRANGEBYSCORE", "z", "nan", "1"]), MINMAX);
    assert_eq!(q(&mut s, &["ZCOUNT", "z", "x", "1"]), MINMAX);
    assert_eq!(q(&mut s, &["ZRANGE", "z", "x", "1"]), NOT_INT);
    assert_eq!(q(&mut s, &["ZRANGE", "z", "0", "-1", "BYLEX"]), LEX);
    assert_eq!(
        q(&mut s, &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"]),
        "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]),
        "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX"]),
        SYNTAX
    );
    assert_eq!(q(&mut s, &["ZRANGE", "z", "0", "-1", "REV", "REV"]), SYNTAX);
    assert_eq!(
        q(&mut s, &["ZRANGE", "z", "0", "-1", "BYSCORE", "LIMIT", "0"]),
        SYNTAX
    );
    assert_eq!(q(&mut s, &["ZRANGEBYSCORE", "z", "0", "1", "REV"]), SYNTAX);
    assert_eq!(
        q(
            &mut s,
            &["ZRANGE", "z", "0", "3", "BYSCORE", "LIMIT", "1", "x"]
        ),
        NOT_INT
    );
    // Lex ranges (all scores equal).
    assert_eq!(
        q(
            &mut s,
            &["ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d"]
        ),
        int(4)
    );
    assert_eq!(
        q(&mut s, &["ZRANGEBYLEX", "l", "[a", "(c"]),
        arr(&["a", "b"])
    );
    assert_eq!(
        q(&mut s, &["ZRANGEBYLEX", "l", "-", "+", "LIMIT", "1", "2"]),
        arr(&["b", "c"])
    );
    assert_eq!(
        q(
            &mut s,
            &["ZREVRANGEBYLEX", "l", "+", "-", "LIMIT", "0", "2"]
        ),
        arr(&["d", "c"])
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "l", "+", "-", "BYLEX", "REV"]),
        arr(&["d", "c", "b", "a"])
    );
    assert_eq!(q(&mut s, &["ZRANGE", "l", "+", "-", "BYLEX"]), EMPTY);
    assert_eq!(q(&mut s, &["ZRANGEBYLEX", "l", "[c", "[a"]), EMPTY);
    assert_eq!(q(&mut s, &["ZLEXCOUNT", "l", "(a", "+"]), int(3));
    assert_eq!(q(&mut s, &["ZLEXCOUNT", "l", "a", "b"]), LEX);
    assert_eq!(q(&mut s, &["ZRANGEBYLEX", "l", "a", "b"]), LEX);
    assert_eq!(q(&mut s, &["SET", "str", "x"]), OK);
    assert_eq!(q(&mut s, &["ZRANGE", "str", "0", "-1"]), WRONGTYPE);
    // Argument errors come before the type check.
    assert_eq!(q(&mut s, &["ZRANGE", "str", "x", "1"]), NOT_INT);
    assert_eq!(q(&mut s, &["ZRANGE", "none", "0", "-1"]), EMPTY);
    // RESP3: WITHSCORES gives [member, double] pairs.
    let mut r3 = resp3(srv);
    assert_eq!(
        q(&mut r3, &["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    );
    assert_eq!(q(&mut r3, &["ZRANGE", "z", "0", "1"]), arr(&["a", "b"]));
});

server_test!(store_and_remove_ranges, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]),
        int(3)
    );
    assert_eq!(q(&mut s, &["ZRANGESTORE", "dst", "z", "0", "-1"]), int(3));
    assert_eq!(
        q(&mut s, &["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        arr(&["a", "1", "b", "2", "c", "3"])
    );
    assert_eq!(
        q(&mut s, &["ZRANGESTORE", "dst", "z", "[a", "[b", "BYLEX"]),
        int(2)
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "ZRANGESTORE",
                "dst",
                "z",
                "3",
                "2",
                "BYSCORE",
                "REV",
                "LIMIT",
                "0",
                "1"
            ]
        ),
        int(1)
    );
    assert_eq!(q(&mut s, &["ZRANGE", "dst", "0", "-1"]), arr(&["c"]));
    assert_eq!(q(&mut s, &["ZRANGESTORE", "dst", "z", "5", "10"]), int(0));
    assert_eq!(q(&mut s, &["EXISTS", "dst"]), int(0));
    assert_eq!(
        q(
            &mut s,
            &["ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES"]
        ),
        SYNTAX
    );
    assert_eq!(q(&mut s, &["SET", "str", "x"]), OK);
    assert_eq!(
        q(&mut s, &["ZRANGESTORE", "dst", "str", "0", "-1"]),
        WRONGTYPE
    );
    // An empty result deletes the destination whatever its type.
    assert_eq!(
        q(&mut s, &["ZRANGESTORE", "str", "none", "0", "-1"]),
        int(0)
    );
    assert_eq!(q(&mut s, &["TYPE", "str"]), "+none\r\n");
    assert_eq!(q(&mut s, &["ZREMRANGEBYRANK", "z", "x", "1"]), NOT_INT);
    assert_eq!(q(&mut s, &["ZREMRANGEBYSCORE", "z", "x", "1"]), MINMAX);
    assert_eq!(q(&mut s, &["ZREMRANGEBYLEX", "z", "a", "b"]), LEX);
    assert_eq!(q(&mut s, &["ZREMRANGEBYSCORE", "z", "(1", "2"]), int(1));
    assert_eq!(q(&mut s, &["ZREMRANGEBYLEX", "z", "-", "[a"]), int(1));
    assert_eq!(q(&mut s, &["ZRANGE", "z", "0", "-1"]), arr(&["c"]));
    assert_eq!(q(&mut s, &["ZREMRANGEBYRANK", "z", "0", "-1"]), int(1));
    assert_eq!(q(&mut s, &["EXISTS", "z"]), int(0));
    assert_eq!(q(&mut s, &["ZREMRANGEBYRANK", "none", "0", "1"]), int(0));
});

server_test!(pops_and_mpop, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(
            &mut s,
            &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]
        ),
        int(4)
    );
    assert_eq!(q(&mut s, &["ZPOPMIN", "z"]), arr(&["a", "1"]));
    assert_eq!(
        q(&mut s, &["ZPOPMAX", "z", "2"]),
        arr(&["d", "4", "c", "3"])
    );
    assert_eq!(q(&mut s, &["ZPOPMAX", "z", "0"]), EMPTY);
    let pos = "-ERR value is out of range, must be positive\r\n";
    assert_eq!(q(&mut s, &["ZPOPMIN", "z", "-1"]), pos);
    assert_eq!(q(&mut s, &["ZPOPMIN", "z", "x"]), pos);
    assert_eq!(q(&mut s, &["ZPOPMIN", "z", "1", "2"]), SYNTAX);
    assert_eq!(q(&mut s, &["ZPOPMIN", "z", "10"]), arr(&["b", "2"]));
    assert_eq!(q(&mut s, &["EXISTS", "z"]), int(0));
    assert_eq!(q(&mut s, &["ZPOPMIN", "none"]), EMPTY);
    assert_eq!(q(&mut s, &["ZADD", "z", "1", "a", "2", "b"]), int(2));
    assert_eq!(
        q(&mut s, &["ZMPOP", "2", "none", "z", "MIN"]),
        "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZMPOP", "1", "z", "MAX", "COUNT", "5"]),
        "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(q(&mut s, &["ZMPOP", "1", "z", "MIN"]), NULL_ARRAY);
    let nk = "-ERR numkeys should be greater than 0\r\n";
    assert_eq!(q(&mut s, &["ZMPOP", "0", "z", "MIN"]), nk);
    assert_eq!(q(&mut s, &["ZMPOP", "x", "z", "MIN"]), nk);
    assert_eq!(q(&mut s, &["ZMPOP", "2", "z", "MIN"]), SYNTAX);
    assert_eq!(q(&mut s, &["ZMPOP", "1", "z", "FOO"]), SYNTAX);
    let cnt = "-ERR count should be greater than 0\r\n";
    assert_eq!(q(&mut s, &["ZMPOP", "1", "z", "MIN", "COUNT", "0"]), cnt);
    assert_eq!(
        q(
            &mut s,
            &["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"]
        ),
        SYNTAX
    );
    assert_eq!(q(&mut s, &["SET", "str", "x"]), OK);
    assert_eq!(q(&mut s, &["ZMPOP", "1", "str", "MIN"]), WRONGTYPE);
    assert_eq!(q(&mut s, &["ZPOPMIN", "str"]), WRONGTYPE);
    let mut r3 = resp3(srv);
    assert_eq!(
        q(&mut r3, &["ZADD", "y", "1", "a", "2", "b", "3", "c"]),
        int(3)
    );
    // Without a count: a flat pair; with one: nested pairs.
    assert_eq!(q(&mut r3, &["ZPOPMIN", "y"]), "*2\r\n$1\r\na\r\n,1\r\n");
    assert_eq!(
        q(&mut r3, &["ZPOPMIN", "y", "1"]),
        "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    );
    assert_eq!(
        q(&mut r3, &["ZMPOP", "1", "y", "MAX"]),
        "*2\r\n$1\r\ny\r\n*1\r\n*2\r\n$1\r\nc\r\n,3\r\n"
    );
    assert_eq!(q(&mut r3, &["ZMPOP", "1", "y", "MAX"]), "_\r\n");
});

server_test!(randmember, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]),
        int(3)
    );
    let one = q(&mut s, &["ZRANDMEMBER", "z"]);
    assert!([bulk("a"), bulk("b"), bulk("c")].contains(&one), "{one}");
    assert_eq!(q(&mut s, &["ZRANDMEMBER", "none"]), NULL);
    assert_eq!(q(&mut s, &["ZRANDMEMBER", "none", "5"]), EMPTY);
    assert_eq!(q(&mut s, &["ZRANDMEMBER", "z", "0"]), EMPTY);
    // The whole set, highest first, when the count covers it.
    assert_eq!(
        q(&mut s, &["ZRANDMEMBER", "z", "5", "WITHSCORES"]),
        arr(&["c", "3", "b", "2", "a", "1"])
    );
    let two = q(&mut s, &["ZRANDMEMBER", "z", "2"]);
    assert!(two.starts_with("*2\r\n"), "{two}");
    let rep = q(&mut s, &["ZRANDMEMBER", "z", "-7", "WITHSCORES"]);
    assert!(rep.starts_with("*14\r\n"), "{rep}");
    assert_eq!(q(&mut s, &["ZRANDMEMBER", "z", "2", "x"]), SYNTAX);
    assert_eq!(q(&mut s, &["ZRANDMEMBER", "z", "abc"]), NOT_INT);
    assert_eq!(
        q(&mut s, &["ZRANDMEMBER", "z", "-9223372036854775808"]),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    assert_eq!(
        q(
            &mut s,
            &["ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES"]
        ),
        "-ERR value is out of range\r\n"
    );
    // A huge repeat count is refused rather than built.
    assert_eq!(
        q(&mut s, &["ZRANDMEMBER", "z", "-4611686018427387903"]),
        "-ERR value is out of range\r\n"
    );
    let mut r3 = resp3(srv);
    assert!(q(&mut r3, &["ZRANDMEMBER", "z", "-1", "WITHSCORES"]).starts_with("*1\r\n*2\r\n$1\r\n"));
});

server_test!(set_algebra, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]),
        int(3)
    );
    assert_eq!(
        q(&mut s, &["ZADD", "y", "10", "b", "20", "c", "30", "d"]),
        int(3)
    );
    assert_eq!(
        q(&mut s, &["ZUNION", "2", "z", "y", "WITHSCORES"]),
        arr(&["a", "1", "b", "12", "c", "23", "d", "30"])
    );
    assert_eq!(
        q(&mut s, &["ZINTER", "2", "z", "y", "WITHSCORES"]),
        arr(&["b", "12", "c", "23"])
    );
    assert_eq!(
        q(&mut s, &["ZDIFF", "2", "z", "y", "WITHSCORES"]),
        arr(&["a", "1"])
    );
    assert_eq!(
        q(
            &mut s,
            &["ZUNION", "2", "z", "y", "WEIGHTS", "1", "2", "WITHSCORES"]
        ),
        arr(&["a", "1", "b", "22", "c", "43", "d", "60"])
    );
    assert_eq!(
        q(
            &mut s,
            &["ZUNION", "2", "z", "y", "AGGREGATE", "MAX", "WITHSCORES"]
        ),
        arr(&["a", "1", "b", "10", "c", "20", "d", "30"])
    );
    assert_eq!(
        q(&mut s, &["ZINTER", "2", "z", "y", "AGGREGATE", "MIN"]),
        arr(&["b", "c"])
    );
    assert_eq!(q(&mut s, &["ZINTERCARD", "2", "z", "y"]), int(2));
    assert_eq!(
        q(&mut s, &["ZINTERCARD", "2", "z", "y", "LIMIT", "1"]),
        int(1)
    );
    // Plain sets count with score 1, if the set family is there.
    if q(&mut s, &["SADD", "st", "a", "d", "x"]) == int(3) {
        assert_eq!(
            q(&mut s, &["ZUNION", "2", "z", "st", "WITHSCORES"]),
            arr(&["d", "1", "x", "1", "a", "2", "b", "2", "c", "3"])
        );
        assert_eq!(q(&mut s, &["ZINTERCARD", "2", "z", "st"]), int(1));
    }
    // inf - inf and 0 * inf count as 0.
    assert_eq!(q(&mut s, &["ZADD", "i", "inf", "a"]), int(1));
    assert_eq!(q(&mut s, &["ZADD", "j", "-inf", "a"]), int(1));
    assert_eq!(
        q(&mut s, &["ZUNION", "2", "i", "j", "WITHSCORES"]),
        arr(&["a", "0"])
    );
    assert_eq!(
        q(&mut s, &["ZINTER", "2", "i", "j", "WITHSCORES"]),
        arr(&["a", "0"])
    );
    assert_eq!(
        q(
            &mut s,
            &["ZUNION", "2", "i", "j", "WEIGHTS", "0", "0", "WITHSCORES"]
        ),
        arr(&["a", "0"])
    );
    // Errors.
    let need = |c: &str| format!("-ERR at least 1 input key is needed for '{c}' command\r\n");
    assert_eq!(q(&mut s, &["ZUNION", "0", "z"]), need("zunion"));
    assert_eq!(
        q(&mut s, &["ZUNIONSTORE", "d", "0", "z"]),
        need("zunionstore")
    );
    assert_eq!(q(&mut s, &["ZINTERCARD", "0", "z"]), need("zintercard"));
    assert_eq!(q(&mut s, &["ZUNION", "3", "z", "y"]), SYNTAX);
    assert_eq!(q(&mut s, &["ZUNION", "x", "z"]), NOT_INT);
    assert_eq!(
        q(&mut s, &["ZUNION", "2", "z", "y", "WEIGHTS", "1"]),
        SYNTAX
    );
    assert_eq!(
        q(&mut s, &["ZUNION", "2", "z", "y", "WEIGHTS", "1", "x"]),
        "-ERR weight value is not a float\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZUNION", "2", "z", "y", "AGGREGATE", "FOO"]),
        SYNTAX
    );
    assert_eq!(
        q(&mut s, &["ZDIFF", "2", "z", "y", "WEIGHTS", "1", "2"]),
        SYNTAX
    );
    assert_eq!(
        q(&mut s, &["ZUNIONSTORE", "d", "2", "z", "y", "WITHSCORES"]),
        SYNTAX
    );
    assert_eq!(
        q(&mut s, &["ZINTERCARD", "2", "z", "y", "LIMIT", "-1"]),
        "-ERR LIMIT can't be negative\r\n"
    );
    assert_eq!(q(&mut s, &["SET", "str", "x"]), OK);
    // Key types are checked before the options.
    assert_eq!(
        q(&mut s, &["ZUNION", "2", "z", "str", "WEIGHTS", "1", "x"]),
        WRONGTYPE
    );
    // STORE forms.
    assert_eq!(
        q(
            &mut s,
            &["ZUNIONSTORE", "d", "2", "z", "none", "WEIGHTS", "2", "3"]
        ),
        int(3)
    );
    assert_eq!(
        q(&mut s, &["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
        arr(&["a", "2", "b", "4", "c", "6"])
    );
    assert_eq!(q(&mut s, &["ZINTERSTORE", "d", "2", "z", "none"]), int(0));
    assert_eq!(q(&mut s, &["EXISTS", "d"]), int(0));
    assert_eq!(q(&mut s, &["ZDIFFSTORE", "d", "1", "z"]), int(3));
    assert_eq!(q(&mut s, &["ZDIFFSTORE", "d", "2", "z", "z"]), int(0));
    assert_eq!(q(&mut s, &["ZUNIONSTORE", "str", "1", "z"]), int(3));
    assert_eq!(q(&mut s, &["TYPE", "str"]), "+zset\r\n");
    // The destination may be an input.
    assert_eq!(q(&mut s, &["ZUNIONSTORE", "z", "2", "z", "y"]), int(4));
    assert_eq!(q(&mut s, &["ZSCORE", "z", "b"]), bulk("12"));
    let mut r3 = resp3(srv);
    assert!(q(&mut r3, &["ZDIFF", "2", "y", "i", "WITHSCORES"])
        .starts_with("*3\r\n*2\r\n$1\r\nb\r\n,10\r\n"));
});

server_test!(zscan, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["ZADD", "z", "1", "a", "2", "b", "3.5", "ab"]),
        int(3)
    );
    assert_eq!(
        q(&mut s, &["ZSCAN", "z", "0"]),
        "*2\r\n$1\r\n0\r\n".to_string() + &arr(&["a", "1", "b", "2", "ab", "3.5"])
    );
    assert_eq!(
        q(&mut s, &["ZSCAN", "z", "0", "MATCH", "a*"]),
        "*2\r\n$1\r\n0\r\n".to_string() + &arr(&["a", "1", "ab", "3.5"])
    );
    assert_eq!(
        q(&mut s, &["ZSCAN", "z", "0", "NOSCORES"]),
        "*2\r\n$1\r\n0\r\n".to_string() + &arr(&["a", "b", "ab"])
    );
    assert_eq!(q(&mut s, &["ZSCAN", "z", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(q(&mut s, &["ZSCAN", "z", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(q(&mut s, &["ZSCAN", "z", "-1"]), "-ERR invalid cursor\r\n");
    assert_eq!(
        q(&mut s, &["ZSCAN", "z", "0", "NOVALUES"]),
        "-ERR NOVALUES option can only be used in HSCAN\r\n"
    );
    assert_eq!(
        q(&mut s, &["ZSCAN", "none", "0"]),
        "*2\r\n$1\r\n0\r\n*0\r\n"
    );
    assert_eq!(q(&mut s, &["SET", "str", "x"]), OK);
    assert_eq!(q(&mut s, &["ZSCAN", "str", "0"]), WRONGTYPE);
    // A large set: every member comes back across the cursor walk.
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "zset-max-listpack-entries", "4"]),
        OK
    );
    let mut args = vec!["ZADD".to_string(), "big".to_string()];
    for i in 0..300 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    let a: Vec<&str> = args.iter().map(|x| x.as_str()).collect();
    assert_eq!(q(&mut s, &a), int(300));
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let a: Vec<&[u8]> = vec![
            b"ZSCAN",
            b"big",
            cursor.as_bytes(),
            b"COUNT",
            b"20",
            b"NOSCORES",
        ];
        let r = String::from_utf8_lossy(&raw_roundtrip(&mut s, &cmd(&a), 1)).into_owned();
        let lines: Vec<&str> = r.split("\r\n").collect();
        cursor = lines[2].to_string();
        for l in lines.iter().skip(5).step_by(2) {
            if l.starts_with('m') {
                seen.insert(l.to_string());
            }
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 300);
    let mut r3 = resp3(srv);
    // Scores stay strings in RESP3.
    assert_eq!(
        q(&mut r3, &["ZSCAN", "z", "0"]),
        "*2\r\n$1\r\n0\r\n".to_string() + &arr(&["a", "1", "b", "2", "ab", "3.5"])
    );
});

server_test!(encoding_conversions, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "zset-max-listpack-entries", "2"]),
        OK
    );
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "zset-max-listpack-value", "3"]),
        OK
    );
    assert_eq!(q(&mut s, &["ZADD", "z", "1", "a", "2", "b"]), int(2));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "z"]), bulk("listpack"));
    assert_eq!(q(&mut s, &["ZADD", "z", "3", "c"]), int(1));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    // No conversion back on removal.
    assert_eq!(q(&mut s, &["ZREM", "z", "c", "b"]), int(2));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    // A new key sized by its arguments, duplicates included.
    assert_eq!(
        q(&mut s, &["ZADD", "d", "1", "a", "1", "a", "1", "a"]),
        int(1)
    );
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "d"]), bulk("skiplist"));
    assert_eq!(q(&mut s, &["ZADD", "long", "1", "abcd"]), int(1));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "long"]), bulk("skiplist"));
    assert_eq!(q(&mut s, &["ZADD", "e", "1", "abc"]), int(1));
    // A long member converts even when XX stops it from being added.
    assert_eq!(q(&mut s, &["ZADD", "e", "XX", "1", "abcd"]), int(0));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "e"]), bulk("skiplist"));
    assert_eq!(
        q(&mut s, &["ZADD", "a", "1", "x", "2", "y", "3", "z"]),
        int(3)
    );
    assert_eq!(q(&mut s, &["ZUNIONSTORE", "b", "1", "a"]), int(3));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "b"]), bulk("skiplist"));
    // Results that fit are listpacks again.
    assert_eq!(q(&mut s, &["ZRANGESTORE", "c", "a", "0", "0"]), int(1));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "c"]), bulk("listpack"));
    assert_eq!(q(&mut s, &["ZINTERSTORE", "c", "2", "a", "c"]), int(1));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "c"]), bulk("listpack"));
    // A skiplist keeps a negative zero; a listpack writes it as 0.
    assert_eq!(q(&mut s, &["ZADD", "z", "-0", "nz"]), int(1));
    assert_eq!(q(&mut s, &["ZSCORE", "z", "nz"]), bulk("-0"));
    // Bigger sets keep order and ranks through conversions.
    assert_eq!(
        q(
            &mut s,
            &["CONFIG", "SET", "zset-max-listpack-entries", "128"]
        ),
        OK
    );
    let mut args = vec!["ZADD".to_string(), "big".to_string()];
    for i in 0..1000 {
        args.push(((i * 7919) % 1000).to_string());
        args.push(format!("m{i}"));
    }
    let a: Vec<&str> = args.iter().map(|x| x.as_str()).collect();
    assert_eq!(q(&mut s, &a), int(1000));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "big"]), bulk("skiplist"));
    assert_eq!(
        q(&mut s, &["ZRANGE", "big", "500", "500", "WITHSCORES"]),
        arr(&["m500", "500"])
    );
    assert_eq!(
        q(&mut s, &["ZRANK", "big", "m999"]),
        int(((999 * 7919) % 1000) as i64)
    );
    assert_eq!(q(&mut s, &["ZCOUNT", "big", "(100", "200"]), int(100));
    assert_eq!(
        q(&mut s, &["ZREMRANGEBYSCORE", "big", "0", "899"]),
        int(900)
    );
    assert_eq!(q(&mut s, &["ZCARD", "big"]), int(100));
    assert_eq!(q(&mut s, &["ZRANGE", "big", "0", "0"]), arr(&["m100"]));
});

server_test!(blocking_pops, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["ZADD", "z", "1", "a", "2", "b"]), int(2));
    assert_eq!(q(&mut s, &["BZPOPMIN", "z", "0"]), arr(&["z", "a", "1"]));
    assert_eq!(
        q(&mut s, &["BZPOPMAX", "none", "z", "0"]),
        arr(&["z", "b", "2"])
    );
    assert_eq!(
        q(&mut s, &["BZPOPMIN", "z", "x"]),
        "-ERR timeout is not a float or out of range\r\n"
    );
    assert_eq!(
        q(&mut s, &["BZPOPMIN", "z", "-1"]),
        "-ERR timeout is negative\r\n"
    );
    assert_eq!(
        q(&mut s, &["BZMPOP", "0", "0", "z", "MIN"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(
        q(&mut s, &["BZMPOP", "x", "0", "z", "MIN"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(
        q(&mut s, &["BZMPOP", "x", "1", "z", "MIN"]),
        "-ERR timeout is not a float or out of range\r\n"
    );
    assert_eq!(q(&mut s, &["SET", "str", "x"]), OK);
    assert_eq!(q(&mut s, &["BZPOPMIN", "none", "str", "0"]), WRONGTYPE);
    assert_eq!(q(&mut s, &["BZMPOP", "0", "1", "str", "MIN"]), WRONGTYPE);
    // Timeouts reply a null array.
    assert_eq!(q(&mut s, &["BZPOPMIN", "z", "0.01"]), NULL_ARRAY);
    assert_eq!(q(&mut s, &["BZMPOP", "0.01", "1", "z", "MIN"]), NULL_ARRAY);
    let mut r3 = resp3(srv);
    assert_eq!(q(&mut r3, &["BZPOPMIN", "z", "0.01"]), "_\r\n");
    // Woken by ZADD from another connection.
    let mut waiter = srv.raw();
    waiter
        .write_all(&cmd(&[b"BZPOPMIN", b"w1", b"w2", b"0"]))
        .expect("write");
    // Wait until INFO counts `n` blocked clients (polled: no fixed sleep).
    let mut wait_blocked = |n: usize| {
        let want = format!("blocked_clients:{n}");
        for _ in 0..3000 {
            if q(&mut s, &["INFO", "clients"]).contains(&want) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("waiters never blocked ({want})");
    };
    // The first waiter must block first: waiters are served in the order
    // they blocked, and with IO threads two writes can arrive either way.
    wait_blocked(1);
    let mut waiter2 = srv.raw();
    waiter2
        .write_all(&cmd(&[
            b"BZMPOP", b"0", b"1", b"w2", b"MAX", b"COUNT", b"5",
        ]))
        .expect("write");
    wait_blocked(2);
    assert_eq!(
        q(&mut s, &["ZADD", "w2", "1", "a", "2", "b", "3", "c"]),
        int(3)
    );
    let got = String::from_utf8_lossy(&read_replies(&mut waiter, 1)).into_owned();
    assert_eq!(got, arr(&["w2", "a", "1"]));
    let got = String::from_utf8_lossy(&read_replies(&mut waiter2, 1)).into_owned();
    assert_eq!(
        got,
        "*2\r\n$2\r\nw2\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(q(&mut s, &["EXISTS", "w2"]), int(0));
    // RESP3 shape of a served BZPOPMIN.
    assert_eq!(q(&mut r3, &["ZADD", "r", "1.5", "m"]), int(1));
    assert_eq!(
        q(&mut r3, &["BZPOPMIN", "r", "0"]),
        "*3\r\n$1\r\nr\r\n$1\r\nm\r\n,1.5\r\n"
    );
});

// Valkey 9.1's replies: only the first input's weighted score is cleaned
// of NaN (0 * inf, inf * -inf...) before the aggregate; later ones reach
// the aggregate as they are, so SUM turns a NaN into 0 while MIN/MAX keep
// the accumulator. ZUNION cleans every weighted score. Inputs of equal
// size keep their argument order. (In a listpack, -0 is stored as 0.)
server_test!(setop_weights_with_infinities, |srv| {
    let mut s = srv.raw();
    for (k, v) in [("z", "inf"), ("w", "inf"), ("zero", "0"), ("neg", "-inf")] {
        assert_eq!(q(&mut s, &["ZADD", k, v, "m"]), int(1));
    }
    #[rustfmt::skip]
    let cases = [
        ("sum", "z", "w", "1", "0", "0", "inf"),
        ("sum", "z", "w", "0", "1", "inf", "inf"),
        ("sum", "z", "w", "inf", "-inf", "0", "0"),
        ("sum", "z", "w", "-inf", "inf", "0", "0"),
        ("sum", "z", "w", "-1", "1", "0", "0"),
        ("sum", "zero", "w", "1", "0", "0", "0"),
        ("sum", "zero", "w", "0", "1", "inf", "inf"),
        ("sum", "zero", "w", "inf", "-inf", "-inf", "-inf"),
        ("sum", "zero", "w", "-inf", "inf", "inf", "inf"),
        ("sum", "zero", "w", "-1", "1", "inf", "inf"),
        ("sum", "w", "zero", "1", "0", "inf", "inf"),
        ("sum", "w", "zero", "0", "1", "0", "0"),
        ("sum", "w", "zero", "inf", "-inf", "0", "inf"),
        ("sum", "w", "zero", "-inf", "inf", "0", "-inf"),
        ("sum", "w", "zero", "-1", "1", "-inf", "-inf"),
        ("sum", "neg", "z", "1", "0", "0", "-inf"),
        ("sum", "neg", "z", "0", "1", "inf", "inf"),
        ("sum", "neg", "z", "inf", "-inf", "-inf", "-inf"),
        ("sum", "neg", "z", "-inf", "inf", "inf", "inf"),
        ("sum", "neg", "z", "-1", "1", "inf", "inf"),
        ("min", "z", "w", "1", "0", "inf", "0"),
        ("min", "z", "w", "0", "1", "0", "0"),
        ("min", "z", "w", "inf", "-inf", "-inf", "-inf"),
        ("min", "z", "w", "-inf", "inf", "-inf", "-inf"),
        ("min", "z", "w", "-1", "1", "-inf", "-inf"),
        ("min", "zero", "w", "1", "0", "0", "0"),
        ("min", "zero", "w", "0", "1", "0", "0"),
        ("min", "zero", "w", "inf", "-inf", "-inf", "-inf"),
        ("min", "zero", "w", "-inf", "inf", "0", "0"),
        ("min", "zero", "w", "-1", "1", "-0", "-0"),
        ("min", "w", "zero", "1", "0", "0", "0"),
        ("min", "w", "zero", "0", "1", "0", "0"),
        ("min", "w", "zero", "inf", "-inf", "inf", "0"),
        ("min", "w", "zero", "-inf", "inf", "-inf", "-inf"),
        ("min", "w", "zero", "-1", "1", "-inf", "-inf"),
        ("min", "neg", "z", "1", "0", "-inf", "-inf"),
        ("min", "neg", "z", "0", "1", "0", "0"),
        ("min", "neg", "z", "inf", "-inf", "-inf", "-inf"),
        ("min", "neg", "z", "-inf", "inf", "inf", "inf"),
        ("min", "neg", "z", "-1", "1", "inf", "inf"),
        ("max", "z", "w", "1", "0", "inf", "inf"),
        ("max", "z", "w", "0", "1", "inf", "inf"),
        ("max", "z", "w", "inf", "-inf", "inf", "inf"),
        ("max", "z", "w", "-inf", "inf", "inf", "inf"),
        ("max", "z", "w", "-1", "1", "inf", "inf"),
        ("max", "zero", "w", "1", "0", "0", "0"),
        ("max", "zero", "w", "0", "1", "inf", "inf"),
        ("max", "zero", "w", "inf", "-inf", "0", "0"),
        ("max", "zero", "w", "-inf", "inf", "inf", "inf"),
        ("max", "zero", "w", "-1", "1", "inf", "inf"),
        ("max", "w", "zero", "1", "0", "inf", "inf"),
        ("max", "w", "zero", "0", "1", "0", "0"),
        ("max", "w", "zero", "inf", "-inf", "inf", "inf"),
        ("max", "w", "zero", "-inf", "inf", "-inf", "0"),
        ("max", "w", "zero", "-1", "1", "0", "0"),
        ("max", "neg", "z", "1", "0", "-inf", "0"),
        ("max", "neg", "z", "0", "1", "inf", "inf"),
        ("max", "neg", "z", "inf", "-inf", "-inf", "-inf"),
        ("max", "neg", "z", "-inf", "inf", "inf", "inf"),
        ("max", "neg", "z", "-1", "1", "inf", "inf"),
    ];
    for (agg, k1, k2, w1, w2, inter, union) in cases {
        let tail = ["WEIGHTS", w1, w2, "AGGREGATE", agg];
        let what = format!("{agg} {k1} {k2} {w1} {w2}");
        let mut c = vec!["ZINTER", "2", k1, k2];
        c.extend(tail);
        c.push("WITHSCORES");
        assert_eq!(q(&mut s, &c), arr(&["m", inter]), "ZINTER {what}");
        c[0] = "ZUNION";
        assert_eq!(q(&mut s, &c), arr(&["m", union]), "ZUNION {what}");
        for (name, want) in [("ZINTERSTORE", inter), ("ZUNIONSTORE", union)] {
            let mut c = vec![name, "d", "2", k1, k2];
            c.extend(tail);
            assert_eq!(q(&mut s, &c), int(1), "{name} {what}");
            let stored = if want == "-0" { "0" } else { want };
            assert_eq!(
                q(&mut s, &["ZSCORE", "d", "m"]),
                bulk(stored),
                "{name} {what}"
            );
        }
    }
    // Three inputs: the NaN of a middle input zeroes a SUM, and a later
    // input adds to that 0.
    assert_eq!(q(&mut s, &["ZADD", "one", "1", "m"]), int(1));
    assert_eq!(
        q(
            &mut s,
            &[
                "ZINTER",
                "3",
                "z",
                "w",
                "one",
                "WEIGHTS",
                "1",
                "0",
                "5",
                "WITHSCORES"
            ]
        ),
        arr(&["m", "5"])
    );
    // A plain set's members score 1, weighted the same way.
    assert_eq!(q(&mut s, &["SADD", "s", "m"]), int(1));
    assert_eq!(
        q(
            &mut s,
            &[
                "ZINTER",
                "2",
                "z",
                "s",
                "WEIGHTS",
                "1",
                "inf",
                "AGGREGATE",
                "SUM",
                "WITHSCORES"
            ]
        ),
        arr(&["m", "inf"])
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "ZINTER",
                "2",
                "z",
                "s",
                "WEIGHTS",
                "-1",
                "inf",
                "WITHSCORES"
            ]
        ),
        arr(&["m", "0"])
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "ZUNION",
                "2",
                "s",
                "neg",
                "WEIGHTS",
                "0",
                "1",
                "AGGREGATE",
                "MAX",
                "WITHSCORES"
            ]
        ),
        arr(&["m", "0"])
    );
    // ZDIFF takes no weights; its scores are the first input's.
    assert_eq!(
        q(&mut s, &["ZDIFF", "2", "z", "none", "WITHSCORES"]),
        arr(&["m", "inf"])
    );
    assert_eq!(
        q(&mut s, &["ZDIFF", "2", "z", "w", "WEIGHTS", "1", "1"]),
        SYNTAX
    );
    assert_eq!(q(&mut s, &["ZINTERCARD", "2", "z", "w"]), int(1));
});

// Valkey's SCAN callback prints a skiplist's scores with %.17g, where a
// listpack's are sent as stored (shortest form). Found by
// scripts/diff-valkey.py.
server_test!(zscan_score_text_by_encoding, |srv| {
    let mut s = srv.raw();
    let add = [
        "ZADD",
        "z",
        "0.1",
        "a",
        "1e-5",
        "b",
        "123456789012345678",
        "c",
        "1e17",
        "d",
        "-0",
        "e",
        "inf",
        "f",
    ];
    assert_eq!(q(&mut s, &add), int(6));
    let scan = |s: &mut TcpStream, key: &str| {
        let r = q(s, &["ZSCAN", key, "0", "COUNT", "100"]);
        let mut pairs: Vec<(String, String)> = Vec::new();
        let lines: Vec<&str> = r
            .split("\r\n")
            .filter(|l| !l.starts_with(['*', '$']))
            .collect();
        // lines: cursor, then member/score alternating, then "".
        for p in lines[1..lines.len() - 1].chunks(2) {
            pairs.push((p[0].to_string(), p[1].to_string()));
        }
        pairs.sort();
        pairs
    };
    let listpack = scan(&mut s, "z");
    assert_eq!(
        listpack,
        [
            ("a", "0.1"),
            ("b", "0.00001"),
            ("c", "123456789012345680"),
            ("d", "100000000000000000"),
            ("e", "0"),
            ("f", "inf")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "zset-max-listpack-entries", "0"]),
        OK
    );
    let mut add = add.to_vec();
    add[1] = "y";
    assert_eq!(q(&mut s, &add), int(6));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "y"]), bulk("skiplist"));
    assert_eq!(
        scan(&mut s, "y"),
        [
            ("a", "0.10000000000000001"),
            ("b", "1.0000000000000001e-05"),
            ("c", "1.2345678901234568e+17"),
            ("d", "1e+17"),
            ("e", "-0"),
            ("f", "inf")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
});

// ZRANGESTORE starts from the encoding its count picks and converts when a
// long member arrives, as Valkey's zsetTypeCreate(length, 0) does: a -0
// stored before that conversion went through the listpack and reads 0.
// Found by scripts/diff-valkey.py; the answers are Valkey 9.1's.
server_test!(zrangestore_converts_as_members_arrive, |srv| {
    let mut s = srv.raw();
    for (k, v) in [
        ("zset-max-listpack-entries", "4"),
        ("zset-max-listpack-value", "16"),
    ] {
        assert_eq!(q(&mut s, &["CONFIG", "SET", k, v]), OK);
    }
    let long = "w".repeat(27);
    assert_eq!(
        q(&mut s, &["ZADD", "s", "-4", "wwwwwwwwww", "1", &long]),
        int(2)
    );
    assert_eq!(q(&mut s, &["ZINCRBY", "s", "-0.0", "-1"]), bulk("-0"));
    assert_eq!(q(&mut s, &["ZRANGESTORE", "d", "s", "0", "-1"]), int(3));
    assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "d"]), bulk("skiplist"));
    assert_eq!(q(&mut s, &["ZSCORE", "d", "-1"]), bulk("0"));
    // In reverse, the long member comes first: converted before the -0.
    assert_eq!(
        q(&mut s, &["ZRANGESTORE", "r", "s", "0", "-1", "REV"]),
        int(3)
    );
    assert_eq!(q(&mut s, &["ZSCORE", "r", "-1"]), bulk("-0"));
});
