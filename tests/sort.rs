//! SORT and SORT_RO against the real server: every reply below is what
//! Valkey 9.1 sent for the same command sequence, byte for byte. Lists are
//! made with SORT ... STORE itself, so these tests need no list commands.

mod common;

#[allow(unused_imports)]
use common::q;

use std::net::TcpStream;

fn check(s: &mut TcpStream, cases: &[(&[&str], &str)]) {
    for (args, want) in cases {
        assert_eq!(q(s, args), *want, "{args:?}");
    }
}

// Sets, strings and hashes for BY/GET, lists made by STORE, sorted sets.
server_test!(sort_like_valkey, |srv| {
    let mut s = srv.raw();
    check(
        &mut s,
        &[
        (&["sadd", "s", "3", "1", "2", "10", "-5", "2.5"], ":6\r\n"),
        (&["sort", "s"], "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n$2\r\n10\r\n"),
        (&["sort", "s", "asc"], "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n$2\r\n10\r\n"),
        (&["sort", "s", "desc"], "*6\r\n$2\r\n10\r\n$1\r\n3\r\n$3\r\n2.5\r\n$1\r\n2\r\n$1\r\n1\r\n$2\r\n-5\r\n"),
        (&["sort", "s", "limit", "1", "2"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
        (&["sort", "s", "limit", "1", "2", "desc"], "*2\r\n$1\r\n3\r\n$3\r\n2.5\r\n"),
        (&["sort", "s", "limit", "-5", "2"], "*2\r\n$2\r\n-5\r\n$1\r\n1\r\n"),
        (&["sort", "s", "limit", "4", "100"], "*2\r\n$1\r\n3\r\n$2\r\n10\r\n"),
        (&["sort", "s", "limit", "6", "1"], "*0\r\n"),
        (&["sort", "s", "limit", "0", "0"], "*0\r\n"),
        (&["sort", "s", "limit", "0", "-1"], "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n$2\r\n10\r\n"),
        (&["sort", "s", "limit", "10", "-5"], "*0\r\n"),
        (&["sort", "s", "limit", "x", "1"], "-ERR value is not an integer or out of range\r\n"),
        (&["sort", "s", "limit", "1", "x"], "-ERR value is not an integer or out of range\r\n"),
        (&["sort", "s", "limit", "1"], "-ERR syntax error\r\n"),
        (&["sort", "s", "alpha"], "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$2\r\n10\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n"),
        (&["sort", "s", "alpha", "desc"], "*6\r\n$1\r\n3\r\n$3\r\n2.5\r\n$1\r\n2\r\n$2\r\n10\r\n$1\r\n1\r\n$2\r\n-5\r\n"),
        (&["sort", "s", "ALPHA", "DESC", "LIMIT", "0", "3"], "*3\r\n$1\r\n3\r\n$3\r\n2.5\r\n$1\r\n2\r\n"),
        (&["sort", "s", "foo"], "-ERR syntax error\r\n"),
        (&["sort", "s", "store"], "-ERR syntax error\r\n"),
        (&["sort", "s", "by"], "-ERR syntax error\r\n"),
        (&["sort", "s", "get"], "-ERR syntax error\r\n"),
        (&["sort_ro", "s", "store", "d"], "-ERR syntax error\r\n"),
        (&["sort_ro", "s", "limit", "0", "2"], "*2\r\n$2\r\n-5\r\n$1\r\n1\r\n"),
        (&["sort_ro", "s", "desc", "alpha"], "*6\r\n$1\r\n3\r\n$3\r\n2.5\r\n$1\r\n2\r\n$2\r\n10\r\n$1\r\n1\r\n$2\r\n-5\r\n"),
        (&["set", "w_3", "30"], "+OK\r\n"),
        (&["set", "w_1", "100"], "+OK\r\n"),
        (&["set", "w_2", "-1"], "+OK\r\n"),
        (&["set", "w_10", "7.5"], "+OK\r\n"),
        (&["sort", "s", "by", "w_*"], "*6\r\n$1\r\n2\r\n$2\r\n-5\r\n$3\r\n2.5\r\n$2\r\n10\r\n$1\r\n3\r\n$1\r\n1\r\n"),
        (&["sort", "s", "by", "w_*", "desc"], "*6\r\n$1\r\n1\r\n$1\r\n3\r\n$2\r\n10\r\n$3\r\n2.5\r\n$2\r\n-5\r\n$1\r\n2\r\n"),
        (&["sort", "s", "by", "w_*", "limit", "1", "3"], "*3\r\n$2\r\n-5\r\n$3\r\n2.5\r\n$2\r\n10\r\n"),
        (&["sort", "s", "by", "w_*", "alpha"], "*6\r\n$2\r\n-5\r\n$3\r\n2.5\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n$2\r\n10\r\n"),
        (&["sort", "s", "by", "w_*", "alpha", "desc"], "*6\r\n$2\r\n10\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n$2\r\n-5\r\n$3\r\n2.5\r\n"),
        (&["sort", "s", "by", "w_*", "get", "#", "get", "w_*"], "*12\r\n$1\r\n2\r\n$2\r\n-1\r\n$2\r\n-5\r\n$-1\r\n$3\r\n2.5\r\n$-1\r\n$2\r\n10\r\n$3\r\n7.5\r\n$1\r\n3\r\n$2\r\n30\r\n$1\r\n1\r\n$3\r\n100\r\n"),
        (&["sort", "s", "by", "w_*", "get", "w_*", "get", "#", "limit", "0", "3"], "*6\r\n$2\r\n-1\r\n$1\r\n2\r\n$-1\r\n$2\r\n-5\r\n$-1\r\n$3\r\n2.5\r\n"),
        (&["sort", "s", "by", "w_*", "get", "#", "get", "w_*", "store", "dst"], ":12\r\n"),
        (&["type", "dst"], "+list\r\n"),
        (&["object", "encoding", "dst"], "$8\r\nlistpack\r\n"),
        (&["sort", "dst", "by", "nosort"], "*12\r\n$1\r\n2\r\n$2\r\n-1\r\n$2\r\n-5\r\n$0\r\n\r\n$3\r\n2.5\r\n$0\r\n\r\n$2\r\n10\r\n$3\r\n7.5\r\n$1\r\n3\r\n$2\r\n30\r\n$1\r\n1\r\n$3\r\n100\r\n"),
        (&["sort", "dst", "by", "nosort", "desc"], "*12\r\n$3\r\n100\r\n$1\r\n1\r\n$2\r\n30\r\n$1\r\n3\r\n$3\r\n7.5\r\n$2\r\n10\r\n$0\r\n\r\n$3\r\n2.5\r\n$0\r\n\r\n$2\r\n-5\r\n$2\r\n-1\r\n$1\r\n2\r\n"),
        (&["sort", "dst", "by", "nosort", "limit", "2", "3"], "*3\r\n$2\r\n-5\r\n$0\r\n\r\n$3\r\n2.5\r\n"),
        (&["sort", "dst", "by", "nosort", "limit", "2", "3", "desc"], "*3\r\n$2\r\n30\r\n$1\r\n3\r\n$3\r\n7.5\r\n"),
        (&["sort", "dst", "by", "nosort", "limit", "20", "3"], "*0\r\n"),
        (&["sort", "dst", "by", "nosort", "limit", "-1", "1"], "*1\r\n$1\r\n2\r\n"),
        (&["sort", "s", "by", "nosort", "store", "dst2"], ":6\r\n"),
        (&["sort", "dst2", "by", "nosort"], "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$2\r\n10\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n"),
        (&["sort", "s", "alpha", "store", "dst3"], ":6\r\n"),
        (&["sort", "dst3", "by", "nosort"], "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$2\r\n10\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n"),
        (&["sort", "s", "store", "dst4"], ":6\r\n"),
        (&["sort", "dst4", "by", "nosort"], "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n$2\r\n10\r\n"),
        (&["sort", "s", "limit", "0", "0", "store", "dst4"], ":0\r\n"),
        (&["exists", "dst4"], ":0\r\n"),
        (&["sort", "nokey"], "*0\r\n"),
        (&["sort", "nokey", "store", "dst"], ":0\r\n"),
        (&["exists", "dst"], ":0\r\n"),
        (&["sort_ro", "nokey"], "*0\r\n"),
        (&["sort", "nokey", "by", "nosort"], "*0\r\n"),
        (&["sort", "nokey", "get", "#"], "*0\r\n"),
        (&["set", "str", "x"], "+OK\r\n"),
        (&["sort", "s", "limit", "0", "0", "store", "str"], ":0\r\n"),
        (&["exists", "str"], ":0\r\n"),
        (&["set", "str", "x"], "+OK\r\n"),
        (&["sort", "s", "limit", "0", "1", "store", "str"], ":1\r\n"),
        (&["type", "str"], "+list\r\n"),
        (&["expire", "dst3", "1000"], ":1\r\n"),
        (&["sort", "s", "store", "dst3"], ":6\r\n"),
        (&["ttl", "dst3"], ":-1\r\n"),
        (&["hset", "h_1", "f", "a"], ":1\r\n"),
        (&["hset", "h_3", "f", "b"], ":1\r\n"),
        (&["hset", "h_10", "f", "c"], ":1\r\n"),
        (&["hset", "h_2", "g", "zz"], ":1\r\n"),
        (&["sort", "s", "by", "h_*->f", "alpha", "get", "h_*->f", "get", "#"], "*12\r\n$-1\r\n$2\r\n-5\r\n$-1\r\n$1\r\n2\r\n$-1\r\n$3\r\n2.5\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\nc\r\n$2\r\n10\r\n"),
        (&["sort", "s", "by", "h_*->f", "get", "h_*->f"], "-ERR One or more scores can't be converted into double\r\n"),
        (&["sort", "s", "get", "h_*->f"], "*6\r\n$-1\r\n$1\r\na\r\n$-1\r\n$-1\r\n$1\r\nb\r\n$1\r\nc\r\n"),
        (&["sort", "s", "get", "h_*->"], "*6\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"),
        (&["sort", "s", "get", "h_*->f->g"], "*6\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"),
        (&["sort", "s", "get", "nostar"], "*6\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"),
        (&["sort", "s", "get", "#nostar"], "*6\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"),
        (&["sort", "s", "get", "w_*->f"], "*6\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"),
        (&["sort", "s", "get", "h_*"], "*6\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"),
        (&["sort", "s", "by", "w_*", "limit", "0", "2", "get", "#", "get", "h_*->f"], "*4\r\n$1\r\n2\r\n$-1\r\n$2\r\n-5\r\n$-1\r\n"),
        (&["sort", "s", "by", "w_*", "limit", "0", "2", "get", "#", "get", "h_*->f", "store", "dst5"], ":4\r\n"),
        (&["sort", "dst5", "by", "nosort"], "*4\r\n$1\r\n2\r\n$0\r\n\r\n$2\r\n-5\r\n$0\r\n\r\n"),
        (&["sort", "s", "by", "h_*->"], "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$2\r\n10\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n"),
        (&["sort", "s", "by", "w_*->f"], "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$2\r\n10\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n"),
        (&["set", "str", "x"], "+OK\r\n"),
        (&["sort", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sort_ro", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sort", "str", "by", "nosort"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sort", "str", "limit", "x", "1"], "-ERR value is not an integer or out of range\r\n"),
        (&["hset", "hh", "a", "1"], ":1\r\n"),
        (&["sort", "hh"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sadd", "bad", "a", "b", "1"], ":3\r\n"),
        (&["sort", "bad"], "-ERR One or more scores can't be converted into double\r\n"),
        (&["sort", "bad", "alpha"], "*3\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\nb\r\n"),
        (&["sort", "bad", "by", "w_*"], "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\n1\r\n"),
        (&["sort", "bad", "limit", "0", "0"], "-ERR One or more scores can't be converted into double\r\n"),
        (&["sort", "bad", "alpha", "store", "dst6"], ":3\r\n"),
        (&["sort", "dst6", "by", "nosort"], "*3\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\nb\r\n"),
        (&["sort", "dst6"], "-ERR One or more scores can't be converted into double\r\n"),
        (&["sadd", "ties", "1.0", "1", "01", "1e0", "+1", ".1e1"], ":6\r\n"),
        (&["sort", "ties"], "*6\r\n$2\r\n+1\r\n$4\r\n.1e1\r\n$2\r\n01\r\n$1\r\n1\r\n$3\r\n1.0\r\n$3\r\n1e0\r\n"),
        (&["sort", "ties", "desc"], "*6\r\n$3\r\n1e0\r\n$3\r\n1.0\r\n$1\r\n1\r\n$2\r\n01\r\n$4\r\n.1e1\r\n$2\r\n+1\r\n"),
        (&["sort", "ties", "alpha"], "*6\r\n$2\r\n+1\r\n$4\r\n.1e1\r\n$2\r\n01\r\n$1\r\n1\r\n$3\r\n1.0\r\n$3\r\n1e0\r\n"),
        (&["set", "x_1.0", "1"], "+OK\r\n"),
        (&["set", "x_01", "1"], "+OK\r\n"),
        (&["sort", "ties", "by", "x_*"], "*6\r\n$2\r\n+1\r\n$4\r\n.1e1\r\n$1\r\n1\r\n$3\r\n1e0\r\n$2\r\n01\r\n$3\r\n1.0\r\n"),
        (&["sort", "ties", "by", "x_*", "desc"], "*6\r\n$3\r\n1.0\r\n$2\r\n01\r\n$3\r\n1e0\r\n$1\r\n1\r\n$4\r\n.1e1\r\n$2\r\n+1\r\n"),
        (&["sort", "ties", "by", "x_*", "alpha"], "*6\r\n$1\r\n1\r\n$3\r\n1e0\r\n$2\r\n+1\r\n$4\r\n.1e1\r\n$3\r\n1.0\r\n$2\r\n01\r\n"),
        (&["sadd", "fl", "1e-320", "inf", "-inf", "1.", ".5", "+5", "INFINITY", "0"], ":8\r\n"),
        (&["sort", "fl"], "*8\r\n$4\r\n-inf\r\n$1\r\n0\r\n$6\r\n1e-320\r\n$2\r\n.5\r\n$2\r\n1.\r\n$2\r\n+5\r\n$8\r\nINFINITY\r\n$3\r\ninf\r\n"),
        (&["sort", "fl", "desc"], "*8\r\n$3\r\ninf\r\n$8\r\nINFINITY\r\n$2\r\n+5\r\n$2\r\n1.\r\n$2\r\n.5\r\n$6\r\n1e-320\r\n$1\r\n0\r\n$4\r\n-inf\r\n"),
        (&["sadd", "fl2", "1e-400"], ":1\r\n"),
        (&["sort", "fl2"], "-ERR One or more scores can't be converted into double\r\n"),
        (&["sadd", "fl3", " 7"], ":1\r\n"),
        (&["sort", "fl3"], "-ERR One or more scores can't be converted into double\r\n"),
        (&["sadd", "fl4", "0x10"], ":1\r\n"),
        (&["sort", "fl4"], "-ERR One or more scores can't be converted into double\r\n"),
        (&["sadd", "fl5", "1e400"], ":1\r\n"),
        (&["sort", "fl5"], "-ERR One or more scores can't be converted into double\r\n"),
        (&["zadd", "z", "5", "a", "1", "b", "3", "c", "2", "d", "4", "e"], ":5\r\n"),
        (&["sort", "z"], "-ERR One or more scores can't be converted into double\r\n"),
        (&["sort", "z", "alpha"], "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"),
        (&["sort", "z", "by", "nosort"], "*5\r\n$1\r\nb\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\ne\r\n$1\r\na\r\n"),
        (&["object", "encoding", "z"], "$8\r\nskiplist\r\n"),
        (&["sort", "z", "by", "nosort", "desc"], "*5\r\n$1\r\na\r\n$1\r\ne\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\nb\r\n"),
        (&["sort", "z", "by", "nosort", "limit", "1", "2"], "*2\r\n$1\r\nd\r\n$1\r\nc\r\n"),
        (&["sort", "z", "by", "nosort", "limit", "1", "2", "desc"], "*2\r\n$1\r\ne\r\n$1\r\nc\r\n"),
        (&["sort", "z", "by", "nosort", "limit", "4", "10", "desc"], "*1\r\n$1\r\nb\r\n"),
        (&["sort", "z", "by", "nosort", "limit", "5", "1"], "*0\r\n"),
        (&["sort", "z", "by", "nosort", "alpha", "desc"], "*5\r\n$1\r\na\r\n$1\r\ne\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\nb\r\n"),
        (&["sort", "z", "alpha", "desc", "limit", "0", "2"], "*2\r\n$1\r\ne\r\n$1\r\nd\r\n"),
        (&["sort", "z", "by", "nosort", "get", "#", "store", "zl"], ":5\r\n"),
        (&["sort", "zl", "by", "nosort"], "*5\r\n$1\r\nb\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\ne\r\n$1\r\na\r\n"),
        (&["zadd", "zn", "5", "10", "1", "2", "3", "-1"], ":3\r\n"),
        (&["sort", "zn"], "*3\r\n$2\r\n-1\r\n$1\r\n2\r\n$2\r\n10\r\n"),
        (&["sort", "zn", "by", "nosort"], "*3\r\n$1\r\n2\r\n$2\r\n-1\r\n$2\r\n10\r\n"),
        (&["sort", "zn", "by", "nosort", "desc"], "*3\r\n$2\r\n10\r\n$2\r\n-1\r\n$1\r\n2\r\n"),
        (&["zadd", "zs", "1", "x", "2", "y"], ":2\r\n"),
        (&["sort_ro", "zs", "by", "nosort", "desc"], "*2\r\n$1\r\ny\r\n$1\r\nx\r\n"),
        (&["object", "encoding", "zs"], "$8\r\nskiplist\r\n"),
        (&["sort", "zs", "alpha", "store", "zs"], ":2\r\n"),
        (&["type", "zs"], "+list\r\n"),
        (&["sort", "zs", "by", "nosort"], "*2\r\n$1\r\nx\r\n$1\r\ny\r\n"),
        ],
    );
});

server_test!(resp3_nulls_and_stats, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["HELLO", "3"]);
    check(
        &mut s,
        &[
            (&["SADD", "s", "1", "2", "3"], ":3\r\n"),
            (&["HSET", "h_2", "f", "b"], ":1\r\n"),
            (
                &["SORT", "s", "GET", "h_*->f", "GET", "#"],
                "*6\r\n_\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n_\r\n$1\r\n3\r\n",
            ),
            (&["SORT", "nokey"], "*0\r\n"),
            (&["SORT", "s", "STORE", "d"], ":3\r\n"),
        ],
    );
    // BY and GET lookups are reads: they count as keyspace hits and misses.
    q(&mut s, &["CONFIG", "RESETSTAT"]);
    q(
        &mut s,
        &["SORT", "s", "BY", "h_*->f", "ALPHA", "GET", "h_*->f"],
    );
    let info = q(&mut s, &["INFO", "stats"]);
    assert!(info.contains("keyspace_hits:3\r\n"), "{info}");
    assert!(info.contains("keyspace_misses:4\r\n"), "{info}");
});

server_test!(command_rows, |srv| {
    let mut s = srv.raw();
    let r = q(&mut s, &["COMMAND", "INFO", "sort", "sort_ro"]);
    assert!(r.contains("$4\r\nsort\r\n:-2\r\n"), "{r}");
    assert!(r.contains("+write\r\n+denyoom\r\n"), "{r}");
    // Both are movablekeys in Valkey (the STORE and BY/GET keys can be anywhere).
    assert!(r.contains("+write\r\n+denyoom\r\n+movablekeys\r\n"), "{r}");
    assert!(
        r.contains("$7\r\nsort_ro\r\n:-2\r\n*2\r\n+readonly\r\n+movablekeys\r\n"),
        "{r}"
    );
});
