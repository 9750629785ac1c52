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
