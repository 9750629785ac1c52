//! Limits, raw bytes: proto-max-bulk-len, client-query-buffer-limit, the
//! multibulk and inline size limits, the pre-authentication limits,
//! maxclients, and load at the edges (deep unread pipelines, many clients).
//!
//! Every expected byte string here was checked against Valkey 9.1 started
//! with the same directives. Each test runs at io-threads 1 and 4; at 4 the
//! IO threads are all active from the start (`events-per-io-thread 0`), as
//! `common::Server::start` does, so they are the ones enforcing the limits.

mod common;

use common::{cmd, raw_roundtrip, read_replies, read_to_close, Server};
use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A server with `io-threads n` (IO threads active from the start) and
/// extra directives.
fn start(io_threads: usize, extra: &[&str]) -> Server {
    let n = io_threads.to_string();
    let mut args = vec!["--io-threads", n.as_str()];
    if io_threads > 1 {
        args.extend(["--events-per-io-thread", "0"]);
    }
    args.extend_from_slice(extra);
    Server::start_with(&args)
}

/// Like `server_test!`, with server directives: two tests, one per io-threads
/// setting. Attributes (`#[ignore = ".."]`) apply to both.
macro_rules! limits_test {
    ($(#[$m:meta])* $name:ident, [$($arg:expr),*], |$srv:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($srv: &Server) $body
            $(#[$m])*
            #[test]
            fn io_threads_1() {
                run(&start(1, &[$($arg),*]))
            }
            $(#[$m])*
            #[test]
            fn io_threads_4() {
                run(&start(4, &[$($arg),*]))
            }
        }
    };
}

/// Writes `data`, ignoring a failure: the server may close the connection
/// (and so reset it) before it has read everything we send.
fn write_lossy(s: &mut TcpStream, data: &[u8]) {
    let _ = s.write_all(data);
}

/// Sends `data` and returns everything the server sends until it closes.
fn send_to_close(s: &mut TcpStream, data: &[u8]) -> Vec<u8> {
    write_lossy(s, data);
    read_to_close(s)
}

// proto-max-bulk-len

limits_test!(
    bulk_over_proto_max_bulk_len,
    ["--proto-max-bulk-len", "1mb"],
    |srv| {
        let mut other = srv.raw();
        let mut s = srv.raw();
        assert_eq!(
            send_to_close(&mut s, b"*1\r\n$2000000\r\n"),
            b"-ERR Protocol error: invalid bulk length\r\n"
        );
        // One byte over is refused, ...
        let mut s = srv.raw();
        assert_eq!(
            send_to_close(&mut s, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n"),
            b"-ERR Protocol error: invalid bulk length\r\n"
        );
        // ... exactly the limit is accepted.
        let big = vec![b'v'; 1024 * 1024];
        let mut s = srv.raw();
        assert_eq!(
            raw_roundtrip(&mut s, &cmd(&[b"SET", b"k", &big]), 1),
            b"+OK\r\n"
        );
        let mut want = b"$1048576\r\n".to_vec();
        want.extend_from_slice(&big);
        want.extend_from_slice(b"\r\n");
        assert_eq!(raw_roundtrip(&mut s, &cmd(&[b"GET", b"k"]), 1), want);
        assert_eq!(raw_roundtrip(&mut other, b"PING\r\n", 1), b"+PONG\r\n");
    }
);

limits_test!(bad_bulk_lengths, ["--proto-max-bulk-len", "1mb"], |srv| {
    for len in [
        &b"-1"[..],
        b"abc",
        b"",
        b"01",
        b"+5",
        b"99999999999999999999",
    ] {
        let mut s = srv.raw();
        let req = [&b"*1\r\n$"[..], len, b"\r\n"].concat();
        assert_eq!(
            send_to_close(&mut s, &req),
            b"-ERR Protocol error: invalid bulk length\r\n",
            "bulk length {:?}",
            String::from_utf8_lossy(len)
        );
    }
    // A `$` line with no CR for more than 64 KB.
    let mut s = srv.raw();
    let mut req = b"*1\r\n$".to_vec();
    req.extend(vec![b'1'; 64 * 1024 + 1]);
    assert_eq!(
        send_to_close(&mut s, &req),
        b"-ERR Protocol error: too big bulk count string\r\n"
    );
});

// client-query-buffer-limit

limits_test!(
    unfinished_request_over_query_buffer_limit_closes,
    ["--client-query-buffer-limit", "1mb"],
    |srv| {
        let mut other = srv.raw();
        assert_eq!(raw_roundtrip(&mut other, b"PING\r\n", 1), b"+PONG\r\n");
        // A bulk within proto-max-bulk-len (512mb) but bigger than the query
        // buffer limit, never finished: Valkey closes the connection without
        // a reply once the buffered bytes pass the limit.
        let mut s = srv.raw();
        let mut req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n".to_vec();
        req.extend(vec![b'x'; 1_500_000]);
        assert_eq!(send_to_close(&mut s, &req), b"");
        // The same, finished all but its last byte.
        let mut s = srv.raw();
        let mut req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048576\r\n".to_vec();
        req.extend(vec![b'x'; 1024 * 1024]);
        req.extend_from_slice(b"\r");
        assert_eq!(send_to_close(&mut s, &req), b"");
        // Other clients are unaffected, and the half-sent SETs did nothing.
        assert_eq!(raw_roundtrip(&mut other, b"GET k\r\n", 1), b"$-1\r\n");
        let mut fresh = srv.raw();
        assert_eq!(raw_roundtrip(&mut fresh, b"PING\r\n", 1), b"+PONG\r\n");
        // A request just under the limit is fine.
        let mut s = srv.raw();
        let v = vec![b'y'; 1_000_000];
        assert_eq!(
            raw_roundtrip(&mut s, &cmd(&[b"SET", b"k", &v]), 1),
            b"+OK\r\n"
        );
    }
);

/// Sends `req` from a writer thread while this thread reads `n` replies.
/// With `slow`, the reader starts only once the server is held up by it:
/// replies wait unread in the client's socket and the server's send queue.
/// Returns the replies.
fn pipeline_with_reader(srv: &Server, req: Vec<u8>, n: usize, slow: bool) -> Vec<u8> {
    let mut s = if slow {
        small_window_client(srv)
    } else {
        srv.raw()
    };
    let mut w = s.try_clone().expect("clone");
    let writer = std::thread::spawn(move || w.write_all(&req).is_ok());
    if slow {
        wait_held_up(&s);
    }
    let got = read_replies(&mut s, n);
    assert!(writer.join().expect("writer"), "write failed");
    got
}

/// A client whose receive buffer is small, so that replies it does not
/// read back up into the server quickly.
fn small_window_client(srv: &Server) -> TcpStream {
    let addr = srv.raw().peer_addr().expect("server address");
    let sock =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    sock.set_recv_buffer_size(128 * 1024).expect("SO_RCVBUF");
    sock.connect(&addr.into()).expect("connect");
    let s: TcpStream = sock.into();
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s
}

/// Transmit and receive queue bytes of the loopback TCP socket from
/// `local` to `remote` port, from /proc/net/tcp.
fn tcp_queues(local: u16, remote: u16) -> Option<(u64, u64)> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let want_local = format!(":{local:04X}");
    let want_remote = format!(":{remote:04X}");
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 5 || !f[1].ends_with(&want_local) || !f[2].ends_with(&want_remote) {
            return None;
        }
        let (tx, rx) = f[4].split_once(':')?;
        Some((
            u64::from_str_radix(tx, 16).ok()?,
            u64::from_str_radix(rx, 16).ok()?,
        ))
    })
}

/// Polls until the client `s` has unread replies waiting in its socket
/// and the server has more queued behind them: the reader is what holds
/// the server up.
fn wait_held_up(s: &TcpStream) {
    let me = s.local_addr().expect("local").port();
    let server = s.peer_addr().expect("peer").port();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let unread = tcp_queues(me, server).map_or(0, |q| q.1);
        let queued = tcp_queues(server, me).map_or(0, |q| q.0);
        if unread > 0 && queued > 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server was never held up by the reader ({unread} unread, {queued} queued)"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

// A pipeline of complete commands bigger than the query buffer limit is not
// a query buffer overflow: Valkey reads 16 KB at a time and runs what it
// read, so its buffer never holds more than one read past the last complete
// command, and every command is answered.
limits_test!(
    pipeline_bigger_than_query_buffer_limit_is_served,
    ["--client-query-buffer-limit", "1mb"],
    |srv| {
        let one = cmd(&[b"SET", b"k", &[b'v'; 100]]);
        let n = 3 * 1024 * 1024 / one.len();
        let got = pipeline_with_reader(srv, one.repeat(n), n, false);
        assert_eq!(got, b"+OK\r\n".repeat(n));
    }
);

// Nor is a client that reads its replies late: Valkey keeps parsing and
// queues the replies (normal clients have no output buffer limit).
limits_test!(
    unread_replies_do_not_count_against_query_buffer_limit,
    ["--client-query-buffer-limit", "1mb"],
    |srv| {
        let n = 600_000;
        let got = pipeline_with_reader(srv, b"PING\r\n".repeat(n), n, true);
        assert_eq!(got, b"+PONG\r\n".repeat(n));
    }
);

// Multibulk count

limits_test!(multibulk_count_limit, [], |srv| {
    // Valkey 9.1 accepts counts up to INT_MAX.
    let mut s = srv.raw();
    assert_eq!(
        send_to_close(&mut s, b"*2147483648\r\n"),
        b"-ERR Protocol error: invalid multibulk length\r\n"
    );
    let mut s = srv.raw();
    assert_eq!(
        send_to_close(&mut s, b"*99999999999999999999\r\n"),
        b"-ERR Protocol error: invalid multibulk length\r\n"
    );
    let mut s = srv.raw();
    let mut req = b"*".to_vec();
    req.extend(vec![b'1'; 64 * 1024 + 1]);
    assert_eq!(
        send_to_close(&mut s, &req),
        b"-ERR Protocol error: too big mbulk count string\r\n"
    );
    // A huge count is not an allocation: the server waits for arguments.
    let mut s = srv.raw();
    assert_eq!(
        send_to_close(&mut s, b"*1000000\r\nPING\r\n"),
        b"-ERR Protocol error: expected '$', got 'P'\r\n"
    );
    // Zero and negative counts are empty requests, skipped.
    let mut s = srv.raw();
    assert_eq!(
        raw_roundtrip(&mut s, b"*0\r\n*-1\r\n*-5\r\nPING\r\n", 1),
        b"+PONG\r\n"
    );
});

// Valkey's limit is INT_MAX (since Redis 7), not 1024*1024*1024.
limits_test!(multibulk_count_up_to_int_max_is_accepted, [], |srv| {
    for count in [&b"1073741825"[..], b"2147483647"] {
        let mut s = srv.raw();
        let req = [&b"*"[..], count, b"\r\nPING\r\n"].concat();
        assert_eq!(
            send_to_close(&mut s, &req),
            b"-ERR Protocol error: expected '$', got 'P'\r\n"
        );
    }
});

// Inline requests

limits_test!(inline_request_limit, [], |srv| {
    let mut other = srv.raw();
    let mut s = srv.raw();
    assert_eq!(
        send_to_close(&mut s, &vec![b'a'; 64 * 1024 + 1]),
        b"-ERR Protocol error: too big inline request\r\n"
    );
    // Replies to what came before are sent first.
    let mut s = srv.raw();
    let mut req = b"*1\r\n$4\r\nPING\r\n".to_vec();
    req.extend(vec![b'a'; 66_000]);
    assert_eq!(
        send_to_close(&mut s, &req),
        b"+PONG\r\n-ERR Protocol error: too big inline request\r\n"
    );
    // Exactly 64 KB without a newline yet is still waited for.
    let mut s = srv.raw();
    s.write_all(&vec![b'a'; 64 * 1024]).unwrap();
    assert_eq!(raw_roundtrip(&mut other, b"PING\r\n", 1), b"+PONG\r\n");
    drop(s);
    // A long inline line under the limit is served.
    let mut s = srv.raw();
    let mut req = b"ECHO ".to_vec();
    req.extend(vec![b'x'; 60_000]);
    req.extend_from_slice(b"\r\n");
    let mut want = b"$60000\r\n".to_vec();
    want.extend(vec![b'x'; 60_000]);
    want.extend_from_slice(b"\r\n");
    assert_eq!(raw_roundtrip(&mut s, &req, 1), want);
});

// Unauthenticated limits

const NOAUTH: &[u8] = b"-NOAUTH Authentication required.\r\n";

limits_test!(unauthenticated_limits, ["--requirepass", "pw"], |srv| {
    let mut s = srv.raw();
    assert_eq!(
        send_to_close(&mut s, b"*11\r\n"),
        b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    let mut s = srv.raw();
    assert_eq!(
        send_to_close(&mut s, b"*1\r\n$16385\r\n"),
        b"-ERR Protocol error: unauthenticated bulk length\r\n"
    );
    // Even when the command is AUTH.
    let mut s = srv.raw();
    assert_eq!(
        send_to_close(&mut s, b"*12\r\n$4\r\nAUTH\r\n"),
        b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    // At the limits: parsed, then refused for want of AUTH.
    let mut s = srv.raw();
    let ten = cmd(&[b"DEL", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9"]);
    assert_eq!(raw_roundtrip(&mut s, &ten, 1), NOAUTH);
    let big = vec![b'x'; 16384];
    assert_eq!(raw_roundtrip(&mut s, &cmd(&[b"ECHO", &big]), 1), NOAUTH);
    assert_eq!(raw_roundtrip(&mut s, b"PING\r\n", 1), NOAUTH);
});

limits_test!(
    auth_lifts_unauthenticated_limits,
    ["--requirepass", "pw"],
    |srv| {
        // A wrong password keeps the limits.
        let mut s = srv.raw();
        assert_eq!(
            send_to_close(&mut s, b"AUTH x\r\n*11\r\n"),
            &b"-WRONGPASS invalid username-password pair or user is disabled.\r\n-ERR Protocol error: unauthenticated multibulk length\r\n"[..]
        );
        // The request right after AUTH, in the same packet, is parsed with
        // the new limits.
        let mut s = srv.raw();
        let mut req = b"GET a\r\nAUTH pw\r\n".to_vec();
        let keys: Vec<Vec<u8>> = (0..11).map(|i| format!("k{i}").into_bytes()).collect();
        let mut del: Vec<&[u8]> = vec![b"DEL"];
        del.extend(keys.iter().map(|k| &k[..]));
        req.extend(cmd(&del));
        let big = vec![b'y'; 20_000];
        req.extend(cmd(&[b"ECHO", &big]));
        let mut want = [NOAUTH, b"+OK\r\n", b":0\r\n", b"$20000\r\n"].concat();
        want.extend_from_slice(&big);
        want.extend_from_slice(b"\r\n");
        assert_eq!(raw_roundtrip(&mut s, &req, 4), want);
    }
);

// maxclients

/// Connects and sends PING: Ok with the connection if served, else the
/// bytes the server sent before closing it.
fn try_client(srv: &Server) -> Result<TcpStream, Vec<u8>> {
    let mut s = srv.raw();
    write_lossy(&mut s, b"PING\r\n");
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !got.ends_with(b"\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return Err(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    if got == b"+PONG\r\n" {
        Ok(s)
    } else {
        Err([got, read_to_close(&mut s)].concat())
    }
}

/// A connection the server accepts, polling while earlier connections (the
/// harness's readiness probe, a client just dropped) are still counted.
fn accepted_client(srv: &Server) -> TcpStream {
    for _ in 0..500 {
        match try_client(srv) {
            Ok(s) => return s,
            Err(got) => assert_eq!(got, b"-ERR max number of clients reached\r\n"),
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no connection accepted after 500 tries");
}

limits_test!(maxclients, ["--maxclients", "2"], |srv| {
    let a = accepted_client(srv);
    let mut b = accepted_client(srv);
    for _ in 0..3 {
        let mut c = srv.raw();
        assert_eq!(
            read_to_close(&mut c),
            b"-ERR max number of clients reached\r\n"
        );
    }
    drop(a);
    let mut c = accepted_client(srv);
    assert_eq!(raw_roundtrip(&mut b, b"PING\r\n", 1), b"+PONG\r\n");
    assert_eq!(raw_roundtrip(&mut c, b"PING\r\n", 1), b"+PONG\r\n");
    let mut d = srv.raw();
    assert_eq!(
        read_to_close(&mut d),
        b"-ERR max number of clients reached\r\n"
    );
});

// Ordering around errors and under load

limits_test!(
    pipelined_commands_before_protocol_error_are_answered,
    [],
    |srv| {
        let mut s = srv.raw();
        assert_eq!(
            send_to_close(&mut s, b"PING\r\nSET a b\r\nGET a\r\n*1\r\n$x\r\nPING\r\n"),
            &b"+PONG\r\n+OK\r\n$1\r\nb\r\n-ERR Protocol error: invalid bulk length\r\n"[..]
        );
        // More commands than one batch to the main thread holds.
        let mut req = Vec::new();
        let mut want = Vec::new();
        for i in 0..3000 {
            let v = i.to_string();
            req.extend(cmd(&[b"SET", b"n", v.as_bytes()]));
            req.extend(cmd(&[b"GET", b"n"]));
            want.extend_from_slice(b"+OK\r\n");
            want.extend_from_slice(format!("${}\r\n{v}\r\n", v.len()).as_bytes());
        }
        req.extend_from_slice(b"*1\r\n:1\r\nPING\r\n");
        want.extend_from_slice(b"-ERR Protocol error: expected '$', got ':'\r\n");
        let mut s = srv.raw();
        assert_eq!(send_to_close(&mut s, &req), want);
    }
);

/// The reply to command `i` of the unread pipeline below.
fn pipeline_reply(i: usize) -> Vec<u8> {
    if i % 100 == 99 {
        let e = i.to_string();
        format!("${}\r\n{e}\r\n", e.len()).into_bytes()
    } else {
        let mut r = b"$1024\r\n".to_vec();
        r.extend(vec![b'a' + (i % 10) as u8; 1024]);
        r.extend_from_slice(b"\r\n");
        r
    }
}

server_test!(unread_pipeline_loses_nothing, |srv| {
    // Ten 1 KB values, then 200k GETs of them with an ECHO of the command's
    // index every 100: each reply is checked in place, so a lost, repeated
    // or reordered reply fails.
    let mut s = srv.raw();
    let mut setup = Vec::new();
    for k in 0..10u8 {
        setup.extend(cmd(&[
            b"SET",
            format!("k{k}").as_bytes(),
            &[b'a' + k; 1024],
        ]));
    }
    assert_eq!(raw_roundtrip(&mut s, &setup, 10), b"+OK\r\n".repeat(10));
    let n = 200_000;
    let mut req = Vec::with_capacity(n * 24);
    for i in 0..n {
        if i % 100 == 99 {
            req.extend(cmd(&[b"ECHO", i.to_string().as_bytes()]));
        } else {
            req.extend(cmd(&[b"GET", format!("k{}", i % 10).as_bytes()]));
        }
    }
    let s = small_window_client(srv);
    let mut w = s.try_clone().expect("clone");
    let writer = std::thread::spawn(move || w.write_all(&req).is_ok());
    // The server meets a client that does not read for a while.
    wait_held_up(&s);
    let mut r = BufReader::with_capacity(1 << 20, s);
    let mut got = Vec::new();
    for i in 0..n {
        let want = pipeline_reply(i);
        got.resize(want.len(), 0);
        r.read_exact(&mut got)
            .unwrap_or_else(|e| panic!("reply {i}: {e}"));
        assert!(
            got == want,
            "reply {i}: {:?}",
            String::from_utf8_lossy(&got[..got.len().min(40)])
        );
    }
    assert!(writer.join().expect("writer"), "write failed");
    // Nothing more than the n replies.
    let mut s = r.into_inner();
    assert_eq!(raw_roundtrip(&mut s, b"PING\r\n", 1), b"+PONG\r\n");
});

server_test!(many_concurrent_clients, |srv| {
    // 50 clients × 200 round trips each; every reply is the client's own.
    let threads: Vec<_> = (0..50)
        .map(|t| {
            let mut s = srv.raw();
            std::thread::spawn(move || {
                for j in 0..200 {
                    let k = format!("t{t}:{j}");
                    let v = format!("{t}-{j}");
                    assert_eq!(
                        raw_roundtrip(&mut s, &cmd(&[b"SET", k.as_bytes(), v.as_bytes()]), 1),
                        b"+OK\r\n"
                    );
                    let want = format!("${}\r\n{v}\r\n", v.len());
                    assert_eq!(
                        raw_roundtrip(&mut s, &cmd(&[b"GET", k.as_bytes()]), 1),
                        want.as_bytes()
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let mut s = srv.raw();
    assert_eq!(raw_roundtrip(&mut s, b"DBSIZE\r\n", 1), b":10000\r\n");
});

limits_test!(concurrent_incr_on_one_key, [], |srv| {
    // 50 clients × 200 INCRs of one key: every value 1..=10000 is
    // returned exactly once, and the key ends at 10000.
    let threads: Vec<_> = (0..50)
        .map(|_| {
            let mut s = srv.raw();
            std::thread::spawn(move || {
                (0..200)
                    .map(|_| {
                        let r = raw_roundtrip(&mut s, b"INCR counter\r\n", 1);
                        assert!(r.starts_with(b":") && r.ends_with(b"\r\n"), "{r:?}");
                        std::str::from_utf8(&r[1..r.len() - 2])
                            .expect("utf8")
                            .parse::<usize>()
                            .expect("integer reply")
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seen = vec![false; 10_001];
    for t in threads {
        for v in t.join().expect("client thread") {
            assert!(
                (1..=10_000).contains(&v) && !seen[v],
                "INCR replied {v} twice or out of range"
            );
            seen[v] = true;
        }
    }
    let mut s = srv.raw();
    assert_eq!(
        raw_roundtrip(&mut s, b"GET counter\r\n", 1),
        b"$5\r\n10000\r\n"
    );
});
