//! Connection lifecycle: a peer that goes away is noticed in every client
//! state, a killed client is served nothing more, and a client that does not
//! read its replies cannot make the server build them without bound.
//! Each test runs at io-threads 1 and 4 (all IO threads active).

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use common::{cmd, raw_roundtrip, read_replies, Server};

macro_rules! lifecycle_test {
    ($name:ident, |$srv:ident| $body:block) => {
        mod $name {
            use super::*;
            fn run($srv: &Server) $body
            #[test]
            fn io_threads_1() {
                run(&Server::start_with(&[
                    "--io-threads", "1", "--enable-debug-command", "local",
                ]))
            }
            #[test]
            fn io_threads_4() {
                run(&Server::start_with(&[
                    "--io-threads", "4", "--events-per-io-thread", "0",
                    "--enable-debug-command", "local",
                ]))
            }
        }
    };
}

fn info_field(s: &mut TcpStream, section: &str, field: &str) -> i64 {
    let reply = raw_roundtrip(s, &cmd(&[b"INFO", section.as_bytes()]), 1);
    let text = String::from_utf8_lossy(&reply).into_owned();
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {text}"))
}

fn calls(s: &mut TcpStream, command: &str) -> i64 {
    let reply = raw_roundtrip(s, &cmd(&[b"INFO", b"commandstats"]), 1);
    let text = String::from_utf8_lossy(&reply).into_owned();
    let prefix = format!("cmdstat_{command}:calls=");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.split(',').next()?.parse().ok())
        .unwrap_or(0)
}

/// Polls until `connected_clients` is `want`, failing after a deadline.
fn wait_clients(admin: &mut TcpStream, want: i64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = info_field(admin, "clients", "connected_clients");
        if n == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {n} clients, want {want}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

// A command and the FIN after it arrive in one read event (the server is
// busy in DEBUG SLEEP while the clients send both). The short read that
// returns the command must not hide the FIN: each connection is released.
lifecycle_test!(half_close_after_command_releases_the_client, |srv| {
    let mut admin = srv.raw();
    for round in 0..3 {
        // Connected and registered first: a new connection's registration
        // raises an edge of its own, which would hide the fault.
        let mut clients: Vec<TcpStream> = (0..20).map(|_| srv.raw()).collect();
        for c in &mut clients {
            assert_eq!(raw_roundtrip(c, b"PING\r\n", 1), b"+PONG\r\n");
        }
        let mut sleeper = srv.raw();
        sleeper
            .write_all(&cmd(&[b"DEBUG", b"SLEEP", b"0.2"]))
            .expect("write");
        for c in &mut clients {
            c.write_all(b"PING\r\n").expect("write");
            c.shutdown(Shutdown::Write).expect("shutdown");
        }
        assert_eq!(read_replies(&mut sleeper, 1), b"+OK\r\n");
        for c in &mut clients {
            let mut got = Vec::new();
            c.read_to_end(&mut got).expect("read to close");
            assert_eq!(got, b"+PONG\r\n", "round {round}");
        }
        drop(clients);
        drop(sleeper);
        wait_clients(&mut admin, 1, &format!("round {round}"));
    }
});

// The same with the client still connected to read: the server closes its
// side after the reply, whatever state the client was in.
lifecycle_test!(peer_gone_is_noticed_in_every_state, |srv| {
    let mut admin = srv.raw();
    // Idle, after some commands.
    let mut idle = srv.raw();
    assert_eq!(raw_roundtrip(&mut idle, b"PING\r\n", 1), b"+PONG\r\n");
    // Blocked forever on an empty list.
    let mut blocked = srv.raw();
    blocked
        .write_all(&cmd(&[b"BLPOP", b"nothing-here", b"0"]))
        .expect("write");
    // Replies switched off.
    let mut silent = srv.raw();
    silent
        .write_all(&cmd(&[b"CLIENT", b"REPLY", b"OFF"]))
        .expect("write");
    silent.write_all(b"PING\r\n").expect("write");
    // Half a command sent.
    let mut partial = srv.raw();
    partial
        .write_all(b"*2\r\n$3\r\nGET\r\n$5\r\nab")
        .expect("write");
    wait_clients(&mut admin, 5, "all connected");
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_field(&mut admin, "clients", "blocked_clients") != 1 {
        assert!(Instant::now() < deadline, "BLPOP never blocked");
        std::thread::sleep(Duration::from_millis(10));
    }
    for s in [&idle, &blocked, &silent, &partial] {
        s.shutdown(Shutdown::Write).expect("shutdown");
    }
    // Each sees the server close (nothing else: the partial command and
    // the silenced PING reply nothing).
    for (name, s) in [
        ("idle", &mut idle),
        ("blocked", &mut blocked),
        ("silent", &mut silent),
        ("partial", &mut partial),
    ] {
        let mut got = Vec::new();
        s.read_to_end(&mut got).expect("read to close");
        assert_eq!(got, b"", "{name}");
    }
    wait_clients(&mut admin, 1, "after half-close");
    assert_eq!(info_field(&mut admin, "clients", "blocked_clients"), 0);
    // A push now stays in the list: the blocked client that left took nothing.
    assert_eq!(
        raw_roundtrip(&mut admin, &cmd(&[b"RPUSH", b"nothing-here", b"x"]), 1),
        b":1\r\n"
    );
    assert_eq!(
        raw_roundtrip(&mut admin, &cmd(&[b"LLEN", b"nothing-here"]), 1),
        b":1\r\n"
    );
});

// A client killed earlier in a pipeline is never served: the element pushed
// after CLIENT KILL stays in the list (as in Valkey).
lifecycle_test!(killed_blocked_client_is_not_served, |srv| {
    let mut admin = srv.raw();
    let mut b = srv.raw();
    let id = String::from_utf8(raw_roundtrip(&mut b, &cmd(&[b"CLIENT", b"ID"]), 1)).expect("utf8");
    let id = id.trim_start_matches(':').trim_end().to_string();
    b.write_all(&cmd(&[b"BLPOP", b"q", b"0"])).expect("write");
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_field(&mut admin, "clients", "blocked_clients") != 1 {
        assert!(Instant::now() < deadline, "BLPOP never blocked");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut req = cmd(&[b"CLIENT", b"KILL", b"ID", id.as_bytes()]);
    req.extend(cmd(&[b"RPUSH", b"q", b"1"]));
    assert_eq!(raw_roundtrip(&mut admin, &req, 2), b":1\r\n:1\r\n");
    let mut got = Vec::new();
    b.read_to_end(&mut got).expect("read to close");
    assert_eq!(got, b"", "the killed client got a reply");
    assert_eq!(
        raw_roundtrip(&mut admin, &cmd(&[b"LRANGE", b"q", b"0", b"-1"]), 1),
        b"*1\r\n$1\r\n1\r\n"
    );
    wait_clients(&mut admin, 1, "after kill");
});

// A client that pipelines commands with large copied replies and does not
// read them: the server runs only as many as its output bound allows, and
// the rest once the client reads. Nothing is lost or reordered.
lifecycle_test!(unread_large_replies_are_bounded, |srv| {
    let mut admin = srv.raw();
    let value_len = 4_000_000usize;
    assert_eq!(
        raw_roundtrip(
            &mut admin,
            &cmd(&[b"SETRANGE", b"big", b"3999999", b"v"]),
            1
        ),
        b":4000000\r\n"
    );
    let before = info_field(&mut admin, "memory", "used_memory");
    let n = 100;
    let mut req = Vec::new();
    for i in 0..n {
        // GETRANGE always copies: the bound is what protects memory here.
        req.extend(cmd(&[b"GETRANGE", b"big", b"0", b"-1"]));
        req.extend(cmd(&[b"ECHO", i.to_string().as_bytes()]));
    }
    let mut c = srv.raw();
    c.write_all(&req).expect("write");
    // Some ran; while the client reads nothing, the server never holds more
    // than a few replies' worth, whatever the timing.
    let deadline = Instant::now() + Duration::from_secs(10);
    while calls(&mut admin, "getrange") < 2 {
        assert!(Instant::now() < deadline, "no GETRANGE ran");
        std::thread::sleep(Duration::from_millis(10));
    }
    for _ in 0..20 {
        let ran = calls(&mut admin, "getrange");
        let used = info_field(&mut admin, "memory", "used_memory");
        assert!(
            ran < 20,
            "{ran} GETRANGEs ran for a client that reads nothing"
        );
        assert!(
            used - before < 64 << 20,
            "used_memory grew by {} MB",
            (used - before) >> 20
        );
    }
    // Reading lets the rest run, in order.
    let mut r = std::io::BufReader::with_capacity(1 << 20, c);
    let mut got = vec![0u8; value_len + 12];
    for i in 0..n {
        r.read_exact(&mut got).expect("read GETRANGE reply");
        assert!(got.starts_with(b"$4000000\r\n\0\0\0"), "reply {i}");
        assert!(got.ends_with(b"v\r\n"), "reply {i}");
        let s = i.to_string();
        let want = format!("${}\r\n{s}\r\n", s.len()).into_bytes();
        let mut echo = vec![0u8; want.len()];
        r.read_exact(&mut echo).expect("read ECHO reply");
        assert!(
            echo == want,
            "reply {i}: {:?}",
            String::from_utf8_lossy(&echo)
        );
    }
    let mut c = r.into_inner();
    assert_eq!(calls(&mut admin, "getrange"), n);
    assert_eq!(raw_roundtrip(&mut c, b"PING\r\n", 1), b"+PONG\r\n");
});
