//! Raw-byte protocol tests: framing, inline commands, pipelining, malformed
//! input (replied in order, then that connection closes, others unaffected).

mod common;

use common::{cmd, raw_roundtrip, read_to_close};
use std::io::Write;

server_test!(inline_and_multibulk, |srv| {
    let mut s = srv.raw();
    assert_eq!(raw_roundtrip(&mut s, b"PING\r\n", 1), b"+PONG\r\n");
    assert_eq!(
        raw_roundtrip(&mut s, b"set k \"a b\"\r\nget k\r\n", 2),
        b"+OK\r\n$3\r\na b\r\n"
    );
    assert_eq!(
        raw_roundtrip(&mut s, &cmd(&[b"ECHO", b"hi\r\nthere"]), 1),
        b"$9\r\nhi\r\nthere\r\n"
    );
    // Empty lines and empty multibulks are skipped.
    assert_eq!(
        raw_roundtrip(&mut s, b"\r\n*0\r\nPING\r\n", 1),
        b"+PONG\r\n"
    );
});

server_test!(deep_pipeline_keeps_order, |srv| {
    let mut s = srv.raw();
    let mut req = Vec::new();
    let mut want = Vec::new();
    for i in 0..5000 {
        let v = format!("v{i}");
        req.extend(cmd(&[b"SET", b"k", v.as_bytes()]));
        req.extend(cmd(&[b"GET", b"k"]));
        want.extend_from_slice(b"+OK\r\n");
        want.extend_from_slice(format!("${}\r\n{v}\r\n", v.len()).as_bytes());
    }
    assert_eq!(raw_roundtrip(&mut s, &req, 10000), want);
});

server_test!(input_split_at_every_byte, |srv| {
    let mut s = srv.raw();
    let req = [cmd(&[b"SET", b"key", b"value"]), cmd(&[b"GET", b"key"])].concat();
    for b in &req {
        s.write_all(&[*b]).unwrap();
    }
    assert_eq!(common::read_replies(&mut s, 2), b"+OK\r\n$5\r\nvalue\r\n");
});

server_test!(protocol_error_replies_then_closes, |srv| {
    let mut other = srv.raw();
    let mut s = srv.raw();
    s.write_all(b"PING\r\n*1\r\n$abc\r\n").unwrap();
    let got = read_to_close(&mut s);
    assert_eq!(
        got,
        b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut s = srv.raw();
    s.write_all(b"*1\r\n:1\r\n").unwrap();
    assert_eq!(
        read_to_close(&mut s),
        b"-ERR Protocol error: expected '$', got ':'\r\n"
    );
    let mut s = srv.raw();
    s.write_all(b"*x\r\n").unwrap();
    assert_eq!(
        read_to_close(&mut s),
        b"-ERR Protocol error: invalid multibulk length\r\n"
    );
    let mut s = srv.raw();
    s.write_all(b"set a \"b\r\n").unwrap();
    assert_eq!(
        read_to_close(&mut s),
        b"-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    // Other clients keep working.
    assert_eq!(raw_roundtrip(&mut other, b"PING\r\n", 1), b"+PONG\r\n");
});

server_test!(unknown_command_and_arity, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        raw_roundtrip(&mut s, b"FOO a b\r\n", 1),
        b"-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n".to_vec()
    );
    assert_eq!(
        raw_roundtrip(&mut s, b"GET\r\n", 1),
        b"-ERR wrong number of arguments for 'get' command\r\n".to_vec()
    );
});

// Valkey checks the two bytes after a bulk: anything but CRLF is a protocol
// error (the request is not run), replied after the commands before it.
server_test!(bulk_must_end_with_crlf, |srv| {
    let mut s = srv.raw();
    s.write_all(b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n")
        .unwrap();
    assert_eq!(
        read_to_close(&mut s),
        b"-ERR Protocol error: invalid CRLF in request\r\n"
    );
    let mut s = srv.raw();
    s.write_all(b"PING\r\n*1\r\n$4\r\nPING\rx").unwrap();
    assert_eq!(
        read_to_close(&mut s),
        b"+PONG\r\n-ERR Protocol error: invalid CRLF in request\r\n"
    );
    // The bulk and its terminator in separate writes (incremental parser).
    let mut s = srv.raw();
    assert_eq!(
        raw_roundtrip(&mut s, b"*2\r\n$4\r\nECHO\r\n$2\r\nab\r\n", 1),
        b"$2\r\nab\r\n"
    );
    s.write_all(b"*2\r\n$4\r\nECHO\r\n$2\r\nab").unwrap();
    assert_eq!(raw_roundtrip(&mut s, b"\r\n", 1), b"$2\r\nab\r\n");
    s.write_all(b"*2\r\n$4\r\nECHO\r\n$2\r\nab").unwrap();
    s.write_all(b"\n\r").unwrap();
    assert_eq!(
        read_to_close(&mut s),
        b"-ERR Protocol error: invalid CRLF in request\r\n"
    );
});

// Inline lines are split as Valkey 9.1 splits them (replies compared with
// valkey-server 9.1.2 byte for byte).
server_test!(inline_quoting_like_valkey, |srv| {
    let mut s = srv.raw();
    let cases: &[(&[u8], &[u8])] = &[
        (b"ECHO \"abc\\\"\r\n", b"$4\r\nabc\\\r\n"),
        (b"ECHO \"abc\"x\r\n", b"$4\r\nabcx\r\n"),
        (b"ECHO a\"b c\"'d'\r\n", b"$5\r\nab cd\r\n"),
        (b"ECHO \"\\x41\\x4g\"\r\n", b"$4\r\nAx4g\r\n"),
        (b"ECHO 'it\\'s'\r\n", b"$4\r\nit's\r\n"),
        (b"ECHO a\xffb\r\n", b"$2\r\nab\r\n"),
        (b"ECHO a\x0bb\r\n", b"$3\r\na\x0bb\r\n"),
        (b"ECHO \x0bab\r\n", b"$2\r\nab\r\n"),
        (b"\r\n", b""),
        (b"\n", b""),
        (b"   \r\n", b""),
        (b"ECHO  a  \n", b"$1\r\na\r\n"),
    ];
    for (req, want) in cases {
        // Each followed by a PING so that empty lines are seen to be skipped.
        let mut req = req.to_vec();
        req.extend_from_slice(b"PING\r\n");
        let mut want = want.to_vec();
        want.extend_from_slice(b"+PONG\r\n");
        let n = if want.len() > 7 { 2 } else { 1 };
        assert_eq!(
            raw_roundtrip(&mut s, &req, n),
            want,
            "{:?}",
            String::from_utf8_lossy(&req)
        );
    }
    for bad in [
        &b"ECHO \"abc\\\" \r\n"[..],
        b"ECHO \"a\r\n",
        b"ECHO 'a\r\n",
        b"ECHO a\\\"b\r\n",
    ] {
        let mut s = srv.raw();
        s.write_all(bad).unwrap();
        assert_eq!(
            read_to_close(&mut s),
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
});

// Valkey finds an inline line's end with strchr: a NUL before the newline
// keeps the request pending (the PING after it never runs) until the
// buffer passes the 64 KiB inline limit.
server_test!(nul_in_inline_line_stalls_like_valkey, |srv| {
    let mut s = srv.raw();
    s.write_all(b"PING\r\nECHO a\x00\r\nPING\r\n").unwrap();
    assert_eq!(common::read_replies(&mut s, 1), b"+PONG\r\n");
    // Exactly one byte over the limit with the last byte: the server
    // closes only once it has read everything (no reset losing the reply).
    let pending = b"ECHO a\x00\r\nPING\r\n".len();
    s.write_all(&vec![b'a'; 64 * 1024 - pending + 1]).unwrap();
    assert_eq!(
        read_to_close(&mut s),
        b"-ERR Protocol error: too big inline request\r\n"
    );
});

// A declared bulk length reserves at most a bounded read-ahead: with the
// limit at its maximum, a 100 GB bulk header used to abort the process.
server_test!(huge_declared_bulk_allocates_nothing, |srv| {
    let mut c = srv.raw();
    assert_eq!(
        raw_roundtrip(
            &mut c,
            &cmd(&[
                b"CONFIG",
                b"SET",
                b"proto-max-bulk-len",
                b"9223372036854775807"
            ]),
            1
        ),
        b"+OK\r\n"
    );
    for header in [&b"*1\r\n$99999999999\r\n"[..], b"*2147483647\r\n"] {
        let mut s = srv.raw();
        // One write: the header is parsed with the PING, before its reply.
        let mut req = b"PING\r\n".to_vec();
        req.extend_from_slice(header);
        assert_eq!(raw_roundtrip(&mut s, &req, 1), b"+PONG\r\n");
        assert_eq!(raw_roundtrip(&mut c, b"PING\r\n", 1), b"+PONG\r\n");
    }
    let mut s = srv.raw();
    s.write_all(b"PING\r\n*99999999999\r\n").unwrap();
    assert_eq!(
        read_to_close(&mut s),
        b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"
    );
    // A real bulk bigger than the read-ahead still arrives whole.
    let mut s = srv.raw();
    let big = vec![b'v'; 3 << 20];
    let req = cmd(&[b"ECHO", &big]);
    s.write_all(&req).unwrap();
    let mut want = format!("${}\r\n", big.len()).into_bytes();
    want.extend_from_slice(&big);
    want.extend_from_slice(b"\r\n");
    assert_eq!(common::read_replies(&mut s, 1), want);
});
