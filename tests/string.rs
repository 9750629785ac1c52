//! String commands against the real server, replies compared byte for byte
//! with what Valkey 9.1 sends for the same commands.

mod common;

use common::{bulk, int, q, NOT_INT, NULL, OK, SYNTAX, WRONGTYPE};

use common::{cmd, raw_roundtrip};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";

/// TTL in seconds of a key just given `secs`: allows one second of drift.
fn assert_ttl(s: &mut TcpStream, key: &str, secs: i64) {
    let r = q(s, &["TTL", key]);
    let got: i64 = r.trim_start_matches(':').trim().parse().expect("ttl");
    assert!(got <= secs && got >= secs - 1, "ttl {got} for {secs}");
}

/// Makes `key` hold a non-string value if some other type's command exists.
fn make_non_string(s: &mut TcpStream, key: &str) -> bool {
    for c in [
        &["RPUSH", key, "a"][..],
        &["SADD", key, "a"],
        &["HSET", key, "f", "v"],
        &["ZADD", key, "1", "a"],
    ] {
        if q(s, c).starts_with(':') {
            return true;
        }
    }
    false
}

server_test!(set_option_errors, |srv| {
    let mut s = srv.raw();
    let inv = "-ERR invalid expire time in 'set' command\r\n";
    assert_eq!(q(&mut s, &["SET", "k", "v", "EX", "0"]), inv);
    assert_eq!(q(&mut s, &["SET", "k", "v", "EX", "-1"]), inv);
    assert_eq!(q(&mut s, &["SET", "k", "v", "PXAT", "0"]), inv);
    assert_eq!(q(&mut s, &["SET", "k", "v", "EX", "abc"]), NOT_INT);
    assert_eq!(q(&mut s, &["SET", "k", "v", "NX", "XX"]), SYNTAX);
    assert_eq!(q(&mut s, &["SET", "k", "v", "XX", "NX"]), SYNTAX);
    assert_eq!(
        q(&mut s, &["SET", "k", "v", "EX", "10", "PX", "10"]),
        SYNTAX
    );
    assert_eq!(q(&mut s, &["SET", "k", "v", "KEEPTTL", "EX", "10"]), SYNTAX);
    assert_eq!(q(&mut s, &["SET", "k", "v", "EX", "10", "KEEPTTL"]), SYNTAX);
    assert_eq!(q(&mut s, &["SET", "k", "v", "EX"]), SYNTAX);
    assert_eq!(q(&mut s, &["SET", "k", "v", "foo"]), SYNTAX);
    assert_eq!(q(&mut s, &["SET", "k", "v", "IFEQ"]), SYNTAX);
    assert_eq!(
        q(&mut s, &["SET", "k", "v", "IFEQ", "a", "IFEQ", "a"]),
        SYNTAX
    );
    assert_eq!(q(&mut s, &["SET", "k", "v", "IFEQ", "a", "NX"]), SYNTAX);
    assert_eq!(q(&mut s, &["SET", "k", "v", "XX", "IFEQ", "a"]), SYNTAX);
    // Syntax is checked over all options before the expire value.
    assert_eq!(q(&mut s, &["SET", "k", "v", "EX", "abc", "foo"]), SYNTAX);
    // Overflowing expires.
    assert_eq!(
        q(&mut s, &["SET", "k", "v", "EX", "9223372036854775807"]),
        inv
    );
    assert_eq!(q(&mut s, &["SET", "k", "v", "EX", "9223372036854775"]), inv);
    assert_eq!(
        q(&mut s, &["SET", "k", "v", "PX", "9223372036854775807"]),
        inv
    );
    assert_eq!(
        q(&mut s, &["SET", "k", "v", "EXAT", "9223372036854775807"]),
        inv
    );
    assert_eq!(
        q(&mut s, &["SET", "k", "v", "EXAT", "9223372036854776"]),
        inv
    );
    assert_eq!(q(&mut s, &["EXISTS", "k"]), int(0));
    assert_eq!(
        q(&mut s, &["SET", "k"]),
        "-ERR wrong number of arguments for 'set' command\r\n"
    );
});

server_test!(set_repeated_options_and_expire, |srv| {
    let mut s = srv.raw();
    // Repeating a flag is allowed; the last expire value wins.
    assert_eq!(q(&mut s, &["SET", "k", "v", "GET", "GET"]), NULL);
    assert_eq!(q(&mut s, &["SET", "k", "v", "NX", "NX"]), NULL);
    assert_eq!(q(&mut s, &["SET", "k", "v", "EX", "abc", "EX", "100"]), OK);
    assert_ttl(&mut s, "k", 100);
    assert_eq!(
        q(&mut s, &["SET", "k", "v", "EX", "100", "EX", "abc"]),
        NOT_INT
    );
    assert_eq!(q(&mut s, &["SET", "k", "v", "ex", "50", "ex", "50"]), OK);
    assert_ttl(&mut s, "k", 50);
    assert_eq!(q(&mut s, &["SET", "k", "w", "KEEPTTL", "keepttl"]), OK);
    assert_ttl(&mut s, "k", 50);
    assert_eq!(q(&mut s, &["SET", "k", "w"]), OK);
    assert_eq!(q(&mut s, &["TTL", "k"]), int(-1));
    assert_eq!(q(&mut s, &["SET", "k", "v", "PX", "100000"]), OK);
    assert_ttl(&mut s, "k", 100);
    assert_eq!(q(&mut s, &["SET", "k", "v", "EX", "9223372036854"]), OK);
    assert_ttl(&mut s, "k", 9223372036854);
    assert_eq!(
        q(&mut s, &["SET", "k", "v", "EXAT", "9223372036854775"]),
        OK
    );
    assert_eq!(
        q(&mut s, &["SET", "k", "v", "PXAT", "9223372036854775807"]),
        OK
    );
    assert!(q(&mut s, &["TTL", "k"]).starts_with(":92233"));
    // An absolute time in the past: OK, and the key is gone.
    assert_eq!(q(&mut s, &["SET", "k", "v", "PXAT", "1"]), OK);
    assert_eq!(q(&mut s, &["GET", "k"]), NULL);
    assert_eq!(q(&mut s, &["SET", "k2", "v", "EXAT", "1"]), OK);
    assert_eq!(q(&mut s, &["EXISTS", "k2"]), int(0));
    // A short PX really expires.
    assert_eq!(q(&mut s, &["SET", "short", "v", "PX", "30"]), OK);
    let deadline = Instant::now() + Duration::from_secs(10);
    while q(&mut s, &["GET", "short"]) != NULL {
        assert!(Instant::now() < deadline, "key did not expire");
        std::thread::sleep(Duration::from_millis(10));
    }
});

server_test!(set_conditions_and_get, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["SET", "k", "v", "XX"]), NULL);
    assert_eq!(q(&mut s, &["SET", "k", "v", "NX"]), OK);
    assert_eq!(q(&mut s, &["SET", "k", "w", "NX"]), NULL);
    assert_eq!(q(&mut s, &["SET", "k", "w", "NX", "GET"]), bulk("v"));
    assert_eq!(q(&mut s, &["SET", "k", "w", "XX", "GET"]), bulk("v"));
    assert_eq!(q(&mut s, &["SET", "k", "x", "GET"]), bulk("w"));
    assert_eq!(q(&mut s, &["GET", "k"]), bulk("x"));
    assert_eq!(q(&mut s, &["SET", "new", "1", "XX", "GET"]), NULL);
    assert_eq!(q(&mut s, &["EXISTS", "new"]), int(0));
    // IFEQ compares the current value; a missing key never matches.
    assert_eq!(q(&mut s, &["SET", "k", "y", "IFEQ", "nope"]), NULL);
    assert_eq!(q(&mut s, &["SET", "k", "y", "IFEQ", "x"]), OK);
    assert_eq!(
        q(&mut s, &["SET", "k", "z", "IFEQ", "nope", "GET"]),
        bulk("y")
    );
    assert_eq!(q(&mut s, &["SET", "k", "z", "IFEQ", "y", "GET"]), bulk("y"));
    assert_eq!(q(&mut s, &["GET", "k"]), bulk("z"));
    assert_eq!(q(&mut s, &["SET", "missing", "v", "IFEQ", "x"]), NULL);
    assert_eq!(
        q(&mut s, &["SET", "missing", "v", "IFEQ", "x", "GET"]),
        NULL
    );
    assert_eq!(q(&mut s, &["EXISTS", "missing"]), int(0));
    // Integers compare by their text.
    assert_eq!(q(&mut s, &["SET", "n", "123"]), OK);
    assert_eq!(q(&mut s, &["SET", "n", "124", "IFEQ", "0123"]), NULL);
    assert_eq!(q(&mut s, &["SET", "n", "124", "IFEQ", "123"]), OK);
    assert_eq!(q(&mut s, &["GET", "n"]), bulk("124"));
    // Binary-safe values.
    assert_eq!(
        raw_roundtrip(&mut s, &cmd(&[b"SET", b"bin", b"a\r\n\0b"]), 1),
        b"+OK\r\n"
    );
    assert_eq!(
        raw_roundtrip(&mut s, &cmd(&[b"GET", b"bin"]), 1),
        b"$5\r\na\r\n\0b\r\n"
    );
});

server_test!(setnx_setex_psetex, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["SETNX", "k", "x"]), int(1));
    assert_eq!(q(&mut s, &["SETNX", "k", "y"]), int(0));
    assert_eq!(q(&mut s, &["GET", "k"]), bulk("x"));
    let inv = |c: &str| format!("-ERR invalid expire time in '{c}' command\r\n");
    assert_eq!(q(&mut s, &["SETEX", "k", "0", "v"]), inv("setex"));
    assert_eq!(q(&mut s, &["SETEX", "k", "-1", "v"]), inv("setex"));
    assert_eq!(
        q(&mut s, &["SETEX", "k", "9223372036854775807", "v"]),
        inv("setex")
    );
    assert_eq!(q(&mut s, &["SETEX", "k", "abc", "v"]), NOT_INT);
    assert_eq!(q(&mut s, &["PSETEX", "k", "0", "v"]), inv("psetex"));
    assert_eq!(
        q(&mut s, &["PSETEX", "k", "9223372036854775807", "v"]),
        inv("psetex")
    );
    assert_eq!(q(&mut s, &["GET", "k"]), bulk("x"));
    assert_eq!(q(&mut s, &["SETEX", "k", "100", "v"]), OK);
    assert_ttl(&mut s, "k", 100);
    assert_eq!(q(&mut s, &["GET", "k"]), bulk("v"));
    assert_eq!(q(&mut s, &["PSETEX", "k", "50000", "w"]), OK);
    assert_ttl(&mut s, "k", 50);
    assert_eq!(q(&mut s, &["GET", "k"]), bulk("w"));
    assert_eq!(
        q(&mut s, &["SETEX", "k", "1"]),
        "-ERR wrong number of arguments for 'setex' command\r\n"
    );
});

server_test!(getset_getdel_getex, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["GETSET", "k", "a"]), NULL);
    assert_eq!(q(&mut s, &["GETSET", "k", "b"]), bulk("a"));
    assert_eq!(q(&mut s, &["SET", "t", "v", "EX", "100"]), OK);
    // GETSET drops the TTL.
    assert_eq!(q(&mut s, &["GETSET", "t", "w"]), bulk("v"));
    assert_eq!(q(&mut s, &["TTL", "t"]), int(-1));
    assert_eq!(q(&mut s, &["GETDEL", "k"]), bulk("b"));
    assert_eq!(q(&mut s, &["GETDEL", "k"]), NULL);
    assert_eq!(q(&mut s, &["EXISTS", "k"]), int(0));

    assert_eq!(q(&mut s, &["GETEX", "missing"]), NULL);
    assert_eq!(q(&mut s, &["GETEX", "missing", "PERSIST"]), NULL);
    assert_eq!(q(&mut s, &["GETEX", "t"]), bulk("w"));
    assert_eq!(q(&mut s, &["GETEX", "t", "EX", "100"]), bulk("w"));
    assert_ttl(&mut s, "t", 100);
    assert_eq!(q(&mut s, &["GETEX", "t", "PERSIST", "PERSIST"]), bulk("w"));
    assert_eq!(q(&mut s, &["TTL", "t"]), int(-1));
    assert_eq!(
        q(&mut s, &["GETEX", "t", "EX", "10", "EX", "20"]),
        bulk("w")
    );
    assert_ttl(&mut s, "t", 20);
    assert_eq!(q(&mut s, &["GETEX", "t", "PX", "30000"]), bulk("w"));
    assert_ttl(&mut s, "t", 30);
    assert_eq!(q(&mut s, &["GETEX", "t", "PERSIST", "EX", "10"]), SYNTAX);
    assert_eq!(q(&mut s, &["GETEX", "t", "EX", "10", "PERSIST"]), SYNTAX);
    assert_eq!(q(&mut s, &["GETEX", "t", "KEEPTTL"]), SYNTAX);
    assert_eq!(q(&mut s, &["GETEX", "t", "GET"]), SYNTAX);
    assert_eq!(q(&mut s, &["GETEX", "t", "NX"]), SYNTAX);
    assert_eq!(q(&mut s, &["GETEX", "t", "EX"]), SYNTAX);
    let inv = "-ERR invalid expire time in 'getex' command\r\n";
    assert_eq!(q(&mut s, &["GETEX", "t", "EX", "0"]), inv);
    assert_eq!(q(&mut s, &["GETEX", "missing", "EX", "0"]), inv);
    assert_eq!(q(&mut s, &["GETEX", "missing", "EX", "abc"]), NOT_INT);
    assert_eq!(
        q(&mut s, &["GETEX", "t", "PXAT", "9223372036854775807"]),
        bulk("w")
    );
    assert!(q(&mut s, &["TTL", "t"]).starts_with(":92233"));
    // An absolute time in the past deletes the key after replying it.
    assert_eq!(q(&mut s, &["GETEX", "t", "EXAT", "1"]), bulk("w"));
    assert_eq!(q(&mut s, &["EXISTS", "t"]), int(0));
});

server_test!(delifeq, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["DELIFEQ", "k", "v"]), int(0));
    assert_eq!(q(&mut s, &["SET", "k", "v"]), OK);
    assert_eq!(q(&mut s, &["DELIFEQ", "k", "w"]), int(0));
    assert_eq!(q(&mut s, &["DELIFEQ", "k", "v"]), int(1));
    assert_eq!(q(&mut s, &["EXISTS", "k"]), int(0));
    assert_eq!(q(&mut s, &["SET", "n", "10"]), OK);
    assert_eq!(q(&mut s, &["DELIFEQ", "n", "010"]), int(0));
    assert_eq!(q(&mut s, &["DELIFEQ", "n", "10"]), int(1));
});

server_test!(mget_mset_msetnx, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["MSET", "a", "1", "b", "x", "a", "2"]), OK);
    assert_eq!(
        q(&mut s, &["MGET", "a", "b", "nokey"]),
        format!("*3\r\n{}{}{NULL}", bulk("2"), bulk("x"))
    );
    assert_eq!(
        q(&mut s, &["MSET", "a"]),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
    assert_eq!(
        q(&mut s, &["MSET", "a", "1", "b"]),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
    assert_eq!(
        q(&mut s, &["MSETNX", "c", "1", "d"]),
        "-ERR wrong number of arguments for 'msetnx' command\r\n"
    );
    assert_eq!(q(&mut s, &["MSETNX", "a", "9", "c", "9"]), int(0));
    assert_eq!(q(&mut s, &["EXISTS", "c"]), int(0));
    assert_eq!(q(&mut s, &["MSETNX", "c", "1", "d", "2", "c", "3"]), int(1));
    assert_eq!(
        q(&mut s, &["MGET", "c", "d"]),
        format!("*2\r\n{}{}", bulk("3"), bulk("2"))
    );
    // MSET drops TTLs.
    assert_eq!(q(&mut s, &["SET", "t", "v", "EX", "100"]), OK);
    assert_eq!(q(&mut s, &["MSET", "t", "w"]), OK);
    assert_eq!(q(&mut s, &["TTL", "t"]), int(-1));
    assert_eq!(
        q(&mut s, &["MGET"]),
        "-ERR wrong number of arguments for 'mget' command\r\n"
    );
});

server_test!(incr_decr_family, |srv| {
    let mut s = srv.raw();
    let overflow = "-ERR increment or decrement would overflow\r\n";
    assert_eq!(q(&mut s, &["INCR", "n"]), int(1));
    assert_eq!(q(&mut s, &["INCRBY", "n", "10"]), int(11));
    assert_eq!(q(&mut s, &["DECR", "n"]), int(10));
    assert_eq!(q(&mut s, &["DECRBY", "n", "20"]), int(-10));
    assert_eq!(q(&mut s, &["DECR", "fresh"]), int(-1));
    assert_eq!(q(&mut s, &["INCRBY", "nokey", "abc"]), NOT_INT);
    assert_eq!(q(&mut s, &["EXISTS", "nokey"]), int(0));
    assert_eq!(q(&mut s, &["SET", "m", "9223372036854775807"]), OK);
    assert_eq!(q(&mut s, &["INCR", "m"]), overflow);
    assert_eq!(q(&mut s, &["DECR", "m"]), int(9223372036854775806));
    assert_eq!(q(&mut s, &["SET", "m", "-9223372036854775808"]), OK);
    assert_eq!(q(&mut s, &["DECR", "m"]), overflow);
    assert_eq!(q(&mut s, &["SET", "m", "5"]), OK);
    assert_eq!(q(&mut s, &["INCRBY", "m", "9223372036854775807"]), overflow);
    assert_eq!(
        q(&mut s, &["DECRBY", "m", "-9223372036854775808"]),
        "-ERR decrement would overflow\r\n"
    );
    assert_eq!(q(&mut s, &["SET", "m", "-5"]), OK);
    assert_eq!(
        q(&mut s, &["INCRBY", "m", "-9223372036854775808"]),
        overflow
    );
    assert_eq!(
        q(&mut s, &["DECRBY", "m", "9223372036854775803"]),
        int(i64::MIN)
    );
    for bad in [
        "abc",
        " 1",
        "1 ",
        "+1",
        "01",
        "-0",
        "1.5",
        "99999999999999999999",
        "",
    ] {
        assert_eq!(q(&mut s, &["SET", "b", bad]), OK);
        assert_eq!(q(&mut s, &["INCR", "b"]), NOT_INT, "{bad:?}");
    }
    // The TTL stays.
    assert_eq!(q(&mut s, &["SET", "t", "1", "EX", "100"]), OK);
    assert_eq!(q(&mut s, &["INCR", "t"]), int(2));
    assert_ttl(&mut s, "t", 100);
    // A value made by APPEND counts too.
    assert_eq!(q(&mut s, &["SET", "g", "1"]), OK);
    assert_eq!(q(&mut s, &["APPEND", "g", "2"]), int(2));
    assert_eq!(q(&mut s, &["INCR", "g"]), int(13));
});

server_test!(incrbyfloat_formatting, |srv| {
    let mut s = srv.raw();
    let naninf = "-ERR increment would produce NaN or Infinity\r\n";
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "x", "0.1"]), bulk("0.1"));
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "x", "0.2"]), bulk("0.3"));
    assert_eq!(q(&mut s, &["SET", "y", "10.5"]), OK);
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "y", "0.1"]), bulk("10.6"));
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "z", "5.0e3"]), bulk("5000"));
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "z", "-5.0e3"]), bulk("0"));
    assert_eq!(
        q(&mut s, &["INCRBYFLOAT", "w", "1e20"]),
        bulk("100000000000000000000")
    );
    assert_eq!(q(&mut s, &["SET", "f", "18446744073709551615"]), OK);
    assert_eq!(
        q(&mut s, &["INCRBYFLOAT", "f", "0"]),
        bulk("18446744073709551615")
    );
    assert_eq!(q(&mut s, &["SET", "i", "17179869184"]), OK);
    assert_eq!(
        q(&mut s, &["INCRBYFLOAT", "i", "1.5"]),
        bulk("17179869185.5")
    );
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "h", "0x10"]), bulk("16"));
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "h", "0x1.8p1"]), bulk("19"));
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "p", "+.5"]), bulk("0.5"));
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "p", "5."]), bulk("5.5"));
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "nz", "-0.0"]), bulk("0"));
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "tiny", "1e-18"]), bulk("0"));
    assert_eq!(
        q(&mut s, &["INCRBYFLOAT", "tiny2", "0.000000000000000015"]),
        bulk("0.00000000000000002")
    );
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "sub", "1e-4940"]), bulk("0"));
    // Beyond f64 but within long double.
    let r = q(&mut s, &["INCRBYFLOAT", "huge", "1e4000"]);
    assert!(
        r.starts_with("$4000\r\n9999999999999999999965463873099623784932"),
        "{}",
        &r[..40]
    );
    assert_eq!(q(&mut s, &["GET", "huge"]), r);
    let r = q(&mut s, &["INCRBYFLOAT", "max", "1e4932"]);
    assert!(
        r.starts_with("$4933\r\n10000000000000000000060189493879638913"),
        "{}",
        &r[..40]
    );
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "max", "1e4932"]), naninf);
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "q", "inf"]), naninf);
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "q", "-inf"]), naninf);
    assert_eq!(q(&mut s, &["EXISTS", "q"]), int(0));
    for bad in [
        "nan", "1 ", " 1", "1e", "abc", "", "1e-5000", "1e5000", "0x",
    ] {
        assert_eq!(q(&mut s, &["INCRBYFLOAT", "q", bad]), NOT_FLOAT, "{bad:?}");
    }
    assert_eq!(q(&mut s, &["SET", "k", "abc"]), OK);
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "k", "1"]), NOT_FLOAT);
    assert_eq!(
        raw_roundtrip(&mut s, &cmd(&[b"SET", b"nul", b"1\x002"]), 1),
        b"+OK\r\n"
    );
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "nul", "1"]), NOT_FLOAT);
    // The TTL stays; INCR works on the result when it is integral.
    assert_eq!(q(&mut s, &["SET", "t", "1", "EX", "100"]), OK);
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "t", "1.5"]), bulk("2.5"));
    assert_ttl(&mut s, "t", 100);
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "t", "0.5"]), bulk("3"));
    assert_eq!(q(&mut s, &["INCR", "t"]), int(4));
});

server_test!(append_strlen, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["STRLEN", "a"]), int(0));
    assert_eq!(q(&mut s, &["APPEND", "a", "hello"]), int(5));
    assert_eq!(q(&mut s, &["APPEND", "a", " world"]), int(11));
    assert_eq!(q(&mut s, &["GET", "a"]), bulk("hello world"));
    assert_eq!(q(&mut s, &["STRLEN", "a"]), int(11));
    assert_eq!(q(&mut s, &["APPEND", "e", ""]), int(0));
    assert_eq!(q(&mut s, &["EXISTS", "e"]), int(1));
    assert_eq!(q(&mut s, &["SET", "n", "-5"]), OK);
    assert_eq!(q(&mut s, &["STRLEN", "n"]), int(2));
    assert_eq!(q(&mut s, &["APPEND", "n", "0"]), int(3));
    assert_eq!(q(&mut s, &["GET", "n"]), bulk("-50"));
    assert_eq!(q(&mut s, &["SET", "t", "v", "EX", "100"]), OK);
    assert_eq!(q(&mut s, &["APPEND", "t", "x"]), int(2));
    assert_ttl(&mut s, "t", 100);
});

server_test!(append_beyond_max_bulk_len, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "proto-max-bulk-len", "1048576"]),
        OK
    );
    let big = "x".repeat(1048000);
    assert_eq!(q(&mut s, &["SET", "k", &big]), OK);
    assert_eq!(
        q(&mut s, &["APPEND", "k", &"y".repeat(1000)]),
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
    assert_eq!(q(&mut s, &["APPEND", "k", &"y".repeat(576)]), int(1048576));
    assert_eq!(
        q(&mut s, &["SETRANGE", "k", "1048576", "z"]),
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
    assert_eq!(q(&mut s, &["SETRANGE", "k", "1048575", "z"]), int(1048576));
});

server_test!(getrange_substr, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["GETRANGE", "nokey", "0", "1"]), bulk(""));
    assert_eq!(q(&mut s, &["GETRANGE", "nokey", "a", "1"]), NOT_INT);
    assert_eq!(q(&mut s, &["SET", "s", "Hello World"]), OK);
    assert_eq!(q(&mut s, &["GETRANGE", "s", "0", "b"]), NOT_INT);
    for (a, b, want) in [
        ("-5", "-1", "World"),
        ("-1", "-5", ""),
        ("0", "-100", "H"),
        ("-100", "-100", "H"),
        ("-100", "0", "H"),
        ("5", "3", ""),
        ("0", "100", "Hello World"),
        ("100", "200", ""),
        ("-9223372036854775808", "9223372036854775807", "Hello World"),
    ] {
        assert_eq!(q(&mut s, &["GETRANGE", "s", a, b]), bulk(want), "{a} {b}");
    }
    assert_eq!(q(&mut s, &["SUBSTR", "s", "0", "4"]), bulk("Hello"));
    assert_eq!(q(&mut s, &["SUBSTR", "s", "-3", "-1"]), bulk("rld"));
    assert_eq!(q(&mut s, &["SET", "e", ""]), OK);
    assert_eq!(q(&mut s, &["GETRANGE", "e", "0", "-1"]), bulk(""));
    assert_eq!(q(&mut s, &["GETRANGE", "e", "-1", "0"]), bulk(""));
    assert_eq!(q(&mut s, &["SET", "i", "12345"]), OK);
    assert_eq!(q(&mut s, &["GETRANGE", "i", "1", "-2"]), bulk("234"));
});

server_test!(setrange, |srv| {
    let mut s = srv.raw();
    let too_big = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
    assert_eq!(
        q(&mut s, &["SETRANGE", "k", "-1", "x"]),
        "-ERR offset is out of range\r\n"
    );
    assert_eq!(q(&mut s, &["SETRANGE", "k", "a", "x"]), NOT_INT);
    // Nothing to write on a missing key: 0 and no key.
    assert_eq!(q(&mut s, &["SETRANGE", "k", "0", ""]), int(0));
    assert_eq!(q(&mut s, &["SETRANGE", "k", "536870912", ""]), int(0));
    assert_eq!(q(&mut s, &["EXISTS", "k"]), int(0));
    assert_eq!(q(&mut s, &["SETRANGE", "k", "536870912", "x"]), too_big);
    assert_eq!(
        q(&mut s, &["SETRANGE", "k", "9223372036854775807", "xx"]),
        too_big
    );
    assert_eq!(q(&mut s, &["SETRANGE", "k", "5", "abc"]), int(8));
    assert_eq!(
        raw_roundtrip(&mut s, &cmd(&[b"GET", b"k"]), 1),
        b"$8\r\n\0\0\0\0\0abc\r\n"
    );
    assert_eq!(q(&mut s, &["SETRANGE", "k", "1", "Z"]), int(8));
    assert_eq!(q(&mut s, &["SETRANGE", "k", "10", "end"]), int(13));
    assert_eq!(
        raw_roundtrip(&mut s, &cmd(&[b"GET", b"k"]), 1),
        b"$13\r\n\0Z\0\0\0abc\0\0end\r\n"
    );
    assert_eq!(q(&mut s, &["SETRANGE", "k", "536870911", "xx"]), too_big);
    assert_eq!(q(&mut s, &["SETRANGE", "k", "0", ""]), int(13));
    assert_eq!(q(&mut s, &["SET", "n", "10"]), OK);
    assert_eq!(q(&mut s, &["SETRANGE", "n", "0", "2"]), int(2));
    assert_eq!(q(&mut s, &["GET", "n"]), bulk("20"));
    assert_eq!(q(&mut s, &["INCR", "n"]), int(21));
    assert_eq!(q(&mut s, &["SET", "t", "v", "EX", "100"]), OK);
    assert_eq!(q(&mut s, &["SETRANGE", "t", "0", "w"]), int(1));
    assert_ttl(&mut s, "t", 100);
});

server_test!(lcs, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["MSET", "key1", "ohmytext", "key2", "mynewtext"]),
        OK
    );
    assert_eq!(q(&mut s, &["LCS", "key1", "key2"]), bulk("mytext"));
    assert_eq!(q(&mut s, &["LCS", "key1", "key2", "LEN"]), int(6));
    let m = |a: (i64, i64), b: (i64, i64)| {
        format!(
            "*2\r\n*2\r\n:{}\r\n:{}\r\n*2\r\n:{}\r\n:{}\r\n",
            a.0, a.1, b.0, b.1
        )
    };
    let ml = |a: (i64, i64), b: (i64, i64), l: i64| {
        format!(
            "*3\r\n*2\r\n:{}\r\n:{}\r\n*2\r\n:{}\r\n:{}\r\n:{l}\r\n",
            a.0, a.1, b.0, b.1
        )
    };
    assert_eq!(
        q(&mut s, &["LCS", "key1", "key2", "IDX"]),
        format!(
            "*4\r\n{}*2\r\n{}{}{}:6\r\n",
            bulk("matches"),
            m((4, 7), (5, 8)),
            m((2, 3), (0, 1)),
            bulk("len")
        )
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "LCS",
                "key1",
                "key2",
                "IDX",
                "MINMATCHLEN",
                "4",
                "WITHMATCHLEN"
            ]
        ),
        format!(
            "*4\r\n{}*1\r\n{}{}:6\r\n",
            bulk("matches"),
            ml((4, 7), (5, 8), 4),
            bulk("len")
        )
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "LCS",
                "key1",
                "key2",
                "minmatchlen",
                "-5",
                "idx",
                "withmatchlen"
            ]
        ),
        format!(
            "*4\r\n{}*2\r\n{}{}{}:6\r\n",
            bulk("matches"),
            ml((4, 7), (5, 8), 4),
            ml((2, 3), (0, 1), 2),
            bulk("len")
        )
    );
    assert_eq!(
        q(&mut s, &["LCS", "key1", "key2", "LEN", "IDX"]),
        "-ERR If you want both the length and indexes, please just use IDX.\r\n"
    );
    assert_eq!(q(&mut s, &["LCS", "key1", "key2", "foo"]), SYNTAX);
    assert_eq!(q(&mut s, &["LCS", "key1", "key2", "MINMATCHLEN"]), SYNTAX);
    assert_eq!(
        q(&mut s, &["LCS", "key1", "key2", "MINMATCHLEN", "x"]),
        NOT_INT
    );
    assert_eq!(q(&mut s, &["LCS", "key1", "key2", "LEN", "LEN"]), int(6));
    assert_eq!(q(&mut s, &["LCS", "key1", "nokey"]), bulk(""));
    assert_eq!(q(&mut s, &["LCS", "nokey", "nokey2", "LEN"]), int(0));
    assert_eq!(
        q(&mut s, &["LCS", "nokey", "nokey2", "IDX"]),
        format!("*4\r\n{}*0\r\n{}:0\r\n", bulk("matches"), bulk("len"))
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "MSET",
                "x1",
                "aaaaabbbbbcccccc",
                "x2",
                "bbbbaaaaacccccccxab"
            ]
        ),
        OK
    );
    assert_eq!(q(&mut s, &["LCS", "x1", "x2"]), bulk("aaaaacccccc"));
    assert_eq!(q(&mut s, &["MSET", "ni", "12345", "nj", "2345"]), OK);
    assert_eq!(q(&mut s, &["LCS", "ni", "nj"]), bulk("2345"));
    // The DP table is bounded by proto-max-bulk-len.
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "proto-max-bulk-len", "1048576"]),
        OK
    );
    let long = "ab".repeat(400);
    assert_eq!(q(&mut s, &["MSET", "l1", &long, "l2", &long]), OK);
    assert_eq!(
        q(&mut s, &["LCS", "l1", "l2", "LEN"]),
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
    );
    assert_eq!(q(&mut s, &["LCS", "l1", "x1", "LEN"]), int(10));
});

server_test!(encodings, |srv| {
    let mut s = srv.raw();
    let enc = |s: &mut TcpStream, k: &str| q(s, &["OBJECT", "ENCODING", k]);
    assert_eq!(q(&mut s, &["SET", "k", "1.5"]), OK);
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "k", "1.5"]), bulk("3"));
    assert_eq!(enc(&mut s, "k"), bulk("embstr"));
    assert_eq!(q(&mut s, &["INCR", "k"]), int(4));
    assert_eq!(enc(&mut s, "k"), bulk("int"));
    assert_eq!(q(&mut s, &["APPEND", "a", "123"]), int(3));
    assert_eq!(enc(&mut s, "a"), bulk("int"));
    assert_eq!(q(&mut s, &["APPEND", "a", "4"]), int(4));
    assert_eq!(enc(&mut s, "a"), bulk("raw"));
    assert_eq!(q(&mut s, &["SETRANGE", "r", "0", "12"]), int(2));
    assert_eq!(enc(&mut s, "r"), bulk("raw"));
    assert_eq!(q(&mut s, &["SET", "n", "10"]), OK);
    assert_eq!(q(&mut s, &["SETRANGE", "n", "0", ""]), int(2));
    assert_eq!(enc(&mut s, "n"), bulk("int"));
    assert_eq!(q(&mut s, &["SETRANGE", "n", "0", "2"]), int(2));
    assert_eq!(enc(&mut s, "n"), bulk("raw"));
    assert_eq!(q(&mut s, &["INCR", "n"]), int(21));
    assert_eq!(enc(&mut s, "n"), bulk("int"));
    assert_eq!(q(&mut s, &["MSET", "m1", "1", "m2", "abc"]), OK);
    assert_eq!(enc(&mut s, "m1"), bulk("int"));
    assert_eq!(enc(&mut s, "m2"), bulk("embstr"));
    assert_eq!(
        q(&mut s, &["INCRBYFLOAT", "f", "1e60"]),
        bulk("999999999999999999999373423426722168652130621984886772203520")
    );
    assert_eq!(enc(&mut s, "f"), bulk("embstr"));
});

server_test!(resp3_replies, |srv| {
    let mut s = srv.raw();
    assert!(q(&mut s, &["HELLO", "3"]).starts_with('%'));
    assert_eq!(q(&mut s, &["GET", "nokey"]), "_\r\n");
    assert_eq!(q(&mut s, &["SET", "k", "v", "NX", "GET"]), "_\r\n");
    assert_eq!(q(&mut s, &["SET", "k", "v", "NX"]), "_\r\n");
    assert_eq!(
        q(&mut s, &["MGET", "k", "nokey"]),
        format!("*2\r\n{}_\r\n", bulk("v"))
    );
    assert_eq!(q(&mut s, &["MSET", "a", "ohmytext", "b", "mynewtext"]), OK);
    assert_eq!(
        q(&mut s, &["LCS", "a", "b", "IDX", "MINMATCHLEN", "3"]),
        format!(
            "%2\r\n{}*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n{}:6\r\n",
            bulk("matches"),
            bulk("len")
        )
    );
    assert_eq!(q(&mut s, &["INCRBYFLOAT", "f", "1.25"]), bulk("1.25"));
});

server_test!(wrong_type, |srv| {
    let mut s = srv.raw();
    if !make_non_string(&mut s, "l") {
        return; // no other value type is served yet
    }
    for c in [
        &["GET", "l"][..],
        &["GETDEL", "l"],
        &["GETEX", "l"],
        &["GETSET", "l", "v"],
        &["SET", "l", "v", "GET"],
        &["SET", "l", "v", "NX", "GET"],
        &["SET", "l", "v", "IFEQ", "x"],
        &["DELIFEQ", "l", "v"],
        &["INCR", "l"],
        &["DECRBY", "l", "2"],
        &["INCRBYFLOAT", "l", "1"],
        &["APPEND", "l", "x"],
        &["STRLEN", "l"],
        &["GETRANGE", "l", "0", "1"],
        &["SETRANGE", "l", "0", "x"],
    ] {
        assert_eq!(q(&mut s, c), WRONGTYPE, "{c:?}");
    }
    // Argument errors come first.
    assert_eq!(q(&mut s, &["INCRBY", "l", "abc"]), NOT_INT);
    assert_eq!(
        q(&mut s, &["SETRANGE", "l", "-1", "x"]),
        "-ERR offset is out of range\r\n"
    );
    assert_eq!(
        q(&mut s, &["GETEX", "l", "EX", "0"]),
        "-ERR invalid expire time in 'getex' command\r\n"
    );
    assert_eq!(
        q(&mut s, &["SET", "l", "v", "EX", "0", "GET"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        q(&mut s, &["LCS", "l", "nokey", "foo"]),
        "-ERR The specified keys must contain string values\r\n"
    );
    assert_eq!(
        q(&mut s, &["MGET", "l", "nokey"]),
        format!("*2\r\n{NULL}{NULL}")
    );
    assert_eq!(q(&mut s, &["SETNX", "l", "v"]), int(0));
    assert_eq!(q(&mut s, &["MSETNX", "l", "v", "z", "1"]), int(0));
    assert_eq!(q(&mut s, &["SET", "l", "v", "NX"]), NULL);
    // SET without GET overwrites any type.
    assert_eq!(q(&mut s, &["SET", "l", "v"]), OK);
    assert_eq!(q(&mut s, &["GET", "l"]), bulk("v"));
    assert!(make_non_string(&mut s, "l2"));
    assert_eq!(q(&mut s, &["SETEX", "l2", "100", "v"]), OK);
    assert_eq!(q(&mut s, &["TYPE", "l2"]), "+string\r\n");
});

/// The expected bytes of a bulk reply.
fn bulk_bytes(v: &[u8]) -> Vec<u8> {
    let mut r = format!("${}\r\n", v.len()).into_bytes();
    r.extend_from_slice(v);
    r.extend_from_slice(b"\r\n");
    r
}

// Values from 16 KiB on are sent by reference (no copy into the reply):
// they must arrive whole and in order among other replies, also when the
// socket takes them in several writes and when the key changes meanwhile.
server_test!(large_values_sent_by_reference_arrive_whole, |srv| {
    let mut s = srv.raw();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mid = vec![b'm'; 16 * 1024];
    let mut send = cmd(&[b"SET", b"big", &big]);
    send.extend(cmd(&[b"SET", b"mid", &mid]));
    assert_eq!(raw_roundtrip(&mut s, &send, 2), b"+OK\r\n+OK\r\n");
    // A pipeline mixing small replies and shared values; DEL and SET change
    // the keys after their values were queued.
    let mut send = cmd(&[b"GET", b"big"]);
    send.extend(cmd(&[b"PING"]));
    send.extend(cmd(&[b"GET", b"mid"]));
    send.extend(cmd(&[b"MGET", b"mid", b"nokey", b"big"]));
    send.extend(cmd(&[b"DEL", b"big"]));
    send.extend(cmd(&[b"SET", b"mid", b"small"]));
    send.extend(cmd(&[b"GET", b"mid"]));
    let got = raw_roundtrip(&mut s, &send, 7);
    let mut want = bulk_bytes(&big);
    want.extend_from_slice(b"+PONG\r\n");
    want.extend(bulk_bytes(&mid));
    want.extend_from_slice(b"*3\r\n");
    want.extend(bulk_bytes(&mid));
    want.extend_from_slice(b"$-1\r\n");
    want.extend(bulk_bytes(&big));
    want.extend_from_slice(b":1\r\n+OK\r\n");
    want.extend(bulk_bytes(b"small"));
    assert!(got == want, "replies differ (got {} bytes)", got.len());
    // Suppressed replies drop their shared values too.
    let mut send = cmd(&[b"SET", b"big", &big]);
    send.extend(cmd(&[b"CLIENT", b"REPLY", b"SKIP"]));
    send.extend(cmd(&[b"GET", b"big"]));
    send.extend(cmd(&[b"STRLEN", b"big"]));
    let got = raw_roundtrip(&mut s, &send, 2);
    assert_eq!(got, b"+OK\r\n:3000000\r\n");
    // GETRANGE, APPEND and GETDEL read shared values like any other.
    assert_eq!(q(&mut s, &["GETRANGE", "big", "26", "28"]), bulk("abc"));
    assert_eq!(q(&mut s, &["APPEND", "big", "!"]), int(3_000_001));
    let got = raw_roundtrip(&mut s, &cmd(&[b"GETDEL", b"big"]), 1);
    let mut appended = big.clone();
    appended.push(b'!');
    assert!(got == bulk_bytes(&appended));
});

/// The server's resident set size in bytes, from /proc.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS line");
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmRSS value");
    kb * 1024
}

/// `calls` of `cmdstat_<name>` in INFO commandstats (0 before the first).
fn calls(s: &mut TcpStream, name: &str) -> u64 {
    let info = q(s, &["INFO", "commandstats"]);
    let prefix = format!("cmdstat_{name}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Pipelines `n` GETs of `key` (a `len`-byte value) without reading, and
/// checks that the server's memory does not grow with the replies waiting
/// to be written: a large value is replied by reference to the stored one
/// whatever command built it. Copied, 100 replies of 4 MB would add 400 MB.
fn gets_share_the_value(srv: &common::Server, key: &str, len: usize) {
    const N: u64 = 100;
    let mut admin = srv.raw();
    let before_calls = calls(&mut admin, "get");
    let before = rss(srv.pid());
    let mut reader = srv.raw();
    let mut batch = Vec::new();
    for _ in 0..N {
        batch.extend_from_slice(&cmd(&[b"GET", key.as_bytes()]));
    }
    reader.write_all(&batch).expect("write");
    // Every GET has run once the counter says so; memory is sampled all
    // along, so a reply copied early is seen too.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut peak = before;
    loop {
        peak = peak.max(rss(srv.pid()));
        if calls(&mut admin, "get") >= before_calls + N {
            break;
        }
        assert!(Instant::now() < deadline, "the GETs did not all run");
        std::thread::yield_now();
    }
    peak = peak.max(rss(srv.pid()));
    let grown = peak.saturating_sub(before);
    assert!(
        grown < 64 << 20,
        "RSS grew by {grown} bytes for {N} pending GETs of {len} bytes"
    );
    // The replies are all there, whole (read and checked piece by piece,
    // not kept: 400 MB in the test would be the amplification it rules out).
    let one = raw_roundtrip(&mut admin, &cmd(&[b"GET", key.as_bytes()]), 1);
    assert_eq!(one.len(), format!("${len}\r\n").len() + len + 2);
    let mut chunk = vec![0u8; 1 << 16];
    let mut at = 0usize;
    let total = one.len() * N as usize;
    while at < total {
        let k = reader.read(&mut chunk).expect("read replies");
        assert!(k > 0, "closed after {at} of {total} bytes");
        // Compared slice by slice against the expected reply, which
        // repeats every `one.len()` bytes.
        let mut done = 0;
        while done < k {
            let pos = (at + done) % one.len();
            let n = (k - done).min(one.len() - pos);
            assert!(
                chunk[done..done + n] == one[pos..pos + n],
                "reply {} differs at byte {pos}",
                (at + done) / one.len()
            );
            done += n;
        }
        at += k;
    }
}

server_test!(
    large_values_built_in_place_are_replied_by_reference,
    |srv| {
        let mut s = srv.raw();
        const LEN: usize = 4_000_000;
        // Built by SETRANGE past the end (zero filled).
        assert_eq!(
            q(&mut s, &["SETRANGE", "big", &(LEN - 1).to_string(), "v"]),
            int(LEN as i64)
        );
        gets_share_the_value(srv, "big", LEN);
        // Built by APPEND, 64 KiB at a time.
        let chunk = "a".repeat(64 * 1024);
        let mut len = 0;
        while len < LEN {
            len += chunk.len();
            assert_eq!(q(&mut s, &["APPEND", "app", &chunk]), int(len as i64));
        }
        gets_share_the_value(srv, "app", len);
        // Still shared after SETRANGE inside it, and under a new name.
        assert_eq!(
            q(&mut s, &["SETRANGE", "app", "10", "xyz"]),
            int(len as i64)
        );
        assert_eq!(q(&mut s, &["RENAME", "app", "moved"]), OK);
        gets_share_the_value(srv, "moved", len);
        assert_eq!(q(&mut s, &["COPY", "moved", "copy"]), int(1));
        gets_share_the_value(srv, "copy", len);
        assert_eq!(q(&mut s, &["OBJECT", "ENCODING", "copy"]), bulk("raw"));
    }
);

server_test!(a_pending_reply_keeps_the_value_it_was_sent, |srv| {
    // A reply still waiting to be written holds the value by reference;
    // an edit after it (APPEND, SETRANGE) must not show in that reply.
    let mut s = srv.raw();
    let base = "b".repeat(20_000);
    assert_eq!(q(&mut s, &["APPEND", "k", &base]), int(20_000));
    assert_eq!(q(&mut s, &["APPEND", "k", "c"]), int(20_001));
    let mut batch = Vec::new();
    for c in [
        &[&b"GET"[..], b"k"][..],
        &[b"APPEND", b"k", b"d"],
        &[b"GET", b"k"],
        &[b"SETRANGE", b"k", b"0", b"X"],
        &[b"GET", b"k"],
        &[b"GETRANGE", b"k", b"0", b"1"],
        &[b"STRLEN", b"k"],
    ] {
        batch.extend_from_slice(&cmd(c));
    }
    let got = String::from_utf8(raw_roundtrip(&mut s, &batch, 7)).expect("utf8");
    let want = [
        bulk(&format!("{base}c")),
        int(20_002),
        bulk(&format!("{base}cd")),
        int(20_002),
        bulk(&format!("X{}cd", &base[1..])),
        bulk("Xb"),
        int(20_002),
    ]
    .concat();
    assert!(got == want, "replies differ from what each GET saw");
    // The copy made for COPY is independent of its source.
    assert_eq!(q(&mut s, &["COPY", "k", "k2"]), int(1));
    assert_eq!(q(&mut s, &["APPEND", "k2", "e"]), int(20_003));
    assert_eq!(q(&mut s, &["STRLEN", "k"]), int(20_002));
    assert_eq!(q(&mut s, &["GETRANGE", "k2", "-3", "-1"]), bulk("cde"));
    assert_eq!(q(&mut s, &["GETRANGE", "k", "-3", "-1"]), bulk("bcd"));
});

// Valkey 9.1 decides embstr/raw when it builds a value under its key: an
// expire on the key the value replaces counts (8 bytes), one added later
// (EXPIRE, GETEX, SET ... EX on a new key) does not; RENAME to a longer
// name builds it again, expire included. Found by scripts/diff-valkey.py;
// each line's answer is Valkey's.
server_test!(embstr_or_raw_by_history, |srv| {
    let mut s = srv.raw();
    let e = |n: usize| "e".repeat(n);
    let enc = |s: &mut TcpStream, k: &str| q(s, &["OBJECT", "ENCODING", k]);
    let run = |s: &mut TcpStream, cmds: &[&[&str]]| {
        for c in cmds {
            let r = q(s, c);
            assert!(!r.starts_with('-'), "{c:?}: {r}");
        }
    };
    let (e103, e104, e105, e107, e111, e112) = (e(103), e(104), e(105), e(107), e(111), e(112));
    let cases: Vec<(&str, Vec<Vec<&str>>, &str)> = vec![
        ("a1", vec![vec!["SET", "a1", &e111, "EX", "100"]], "embstr"),
        ("a2", vec![vec!["SET", "a2", &e112, "EX", "100"]], "raw"),
        (
            "a3",
            vec![
                vec!["SET", "a3", "x"],
                vec!["SET", "a3", &e104, "EX", "100"],
            ],
            "embstr",
        ),
        (
            "a5",
            vec![
                vec!["SET", "a5", "x", "EX", "100"],
                vec!["SET", "a5", &e103],
            ],
            "embstr",
        ),
        (
            "a6",
            vec![
                vec!["SET", "a6", "x", "EX", "100"],
                vec!["SET", "a6", &e104],
            ],
            "raw",
        ),
        (
            "a7",
            vec![
                vec!["SET", "a7", "x", "EX", "100"],
                vec!["SET", "a7", &e104, "KEEPTTL"],
            ],
            "raw",
        ),
        (
            "b3",
            vec![
                vec!["SET", "b3", "x", "EX", "100"],
                vec!["GETSET", "b3", &e104],
            ],
            "raw",
        ),
        (
            "b4",
            vec![
                vec!["SET", "b4", "x", "EX", "100"],
                vec!["MSET", "b4", &e104],
            ],
            "raw",
        ),
        (
            "b5",
            vec![
                vec!["SET", "b5", "x", "EX", "100"],
                vec!["SETEX", "b5", "100", &e104],
            ],
            "raw",
        ),
        ("b6", vec![vec!["SETEX", "b6", "100", &e104]], "embstr"),
        (
            "c1",
            vec![vec!["SET", "c1", &e107], vec!["EXPIRE", "c1", "100"]],
            "embstr",
        ),
        (
            "c3",
            vec![vec!["SET", "c3", &e107], vec!["GETEX", "c3", "EX", "100"]],
            "embstr",
        ),
        (
            "c5",
            vec![
                vec!["SET", "c4", &e107],
                vec!["EXPIRE", "c4", "100"],
                vec!["RENAME", "c4", "c5"],
            ],
            "embstr",
        ),
        (
            "c",
            vec![
                vec!["SET", "c7", "x", "EX", "100"],
                vec!["SET", "c7", &e105],
                vec!["RENAME", "c7", "c"],
            ],
            "raw",
        ),
    ];
    for (key, cmds, want) in &cases {
        let cmds: Vec<&[&str]> = cmds.iter().map(|c| &c[..]).collect();
        run(&mut s, &cmds);
        assert_eq!(enc(&mut s, key), bulk(want), "{key}");
    }
    let long = format!("c6{}", e(60));
    let e50 = e(50);
    run(
        &mut s,
        &[&["SET", "c6", &e50, "EX", "100"], &["RENAME", "c6", &long]],
    );
    assert_eq!(enc(&mut s, &long), bulk("raw"));
    let long2 = format!("d6{}", e(60));
    run(&mut s, &[&["SET", "d6", &e50], &["RENAME", "d6", &long2]]);
    assert_eq!(enc(&mut s, &long2), bulk("raw"));
    // From 32 bytes on, a key's header is 2 bytes longer.
    for (klen, vlen, want) in [
        (31, 82, "embstr"),
        (31, 83, "raw"),
        (32, 79, "embstr"),
        (32, 80, "raw"),
    ] {
        let k = "k".repeat(klen);
        run(&mut s, &[&["SET", &k, &e(vlen)]]);
        assert_eq!(enc(&mut s, &k), bulk(want), "key {klen} value {vlen}");
    }
});
