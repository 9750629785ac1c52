//! Blocking list commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP) across
//! connections: served at once, woken by pushes, FIFO waiters, timeouts,
//! disconnects. Waits are polls on INFO with a generous bound, never sleeps
//! that a slow machine could outrun.

mod common;

use common::{bulk, cmd, q, read_replies};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Sends a command without reading its reply (it is expected to block).
fn send(s: &mut TcpStream, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    s.write_all(&cmd(&a)).expect("write");
}

fn reply(s: &mut TcpStream) -> String {
    String::from_utf8_lossy(&read_replies(s, 1)).into_owned()
}

/// `[key, value]` as BLPOP replies it.
fn kv(k: &str, v: &str) -> String {
    format!("*2\r\n{}{}", bulk(k), bulk(v))
}

/// Waits until the server reports `n` blocked clients.
fn wait_blocked(s: &mut TcpStream, n: usize) {
    let want = format!("blocked_clients:{n}\r\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if q(s, &["INFO", "clients"]).contains(&want) {
            return;
        }
        assert!(Instant::now() < deadline, "never saw {want:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

server_test!(served_immediately, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["RPUSH", "k", "a", "b"]);
    assert_eq!(q(&mut s, &["BLPOP", "nokey", "k", "0"]), kv("k", "a"));
    assert_eq!(q(&mut s, &["BRPOP", "k", "1"]), kv("k", "b"));
    assert_eq!(q(&mut s, &["EXISTS", "k"]), ":0\r\n");
    q(&mut s, &["RPUSH", "k", "a", "b", "c"]);
    assert_eq!(
        q(
            &mut s,
            &["BLMPOP", "0", "2", "nokey", "k", "RIGHT", "COUNT", "2"]
        ),
        "*2\r\n$1\r\nk\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        q(&mut s, &["BLMOVE", "k", "d", "LEFT", "RIGHT", "0"]),
        bulk("a")
    );
    assert_eq!(q(&mut s, &["BRPOPLPUSH", "d", "k", "0"]), bulk("a"));
    assert_eq!(q(&mut s, &["LRANGE", "k", "0", "-1"]), "*1\r\n$1\r\na\r\n");
});

server_test!(woken_by_push, |srv| {
    let mut ctl = srv.raw();
    let mut w = srv.raw();
    send(&mut w, &["BLPOP", "k1", "k2", "0"]);
    wait_blocked(&mut ctl, 1);
    assert_eq!(q(&mut ctl, &["LPUSH", "k2", "v"]), ":1\r\n");
    assert_eq!(reply(&mut w), kv("k2", "v"));
    wait_blocked(&mut ctl, 0);
    assert_eq!(q(&mut ctl, &["EXISTS", "k2"]), ":0\r\n");
    // The woken connection goes on working.
    assert_eq!(q(&mut w, &["PING"]), "+PONG\r\n");
    // BRPOP and BLMPOP wake the same way.
    send(&mut w, &["BRPOP", "k3", "0"]);
    wait_blocked(&mut ctl, 1);
    q(&mut ctl, &["RPUSH", "k3", "x", "y"]);
    assert_eq!(reply(&mut w), kv("k3", "y"));
    q(&mut ctl, &["DEL", "k3"]);
    send(&mut w, &["BLMPOP", "0", "1", "k3", "LEFT", "COUNT", "5"]);
    wait_blocked(&mut ctl, 1);
    q(&mut ctl, &["RPUSH", "k3", "x", "y"]);
    assert_eq!(
        reply(&mut w),
        "*2\r\n$2\r\nk3\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n"
    );
});

server_test!(fifo_waiters, |srv| {
    // With io-threads 4 these connections land on different IO threads.
    let mut ctl = srv.raw();
    let mut ws: Vec<TcpStream> = (0..4).map(|_| srv.raw()).collect();
    for (i, w) in ws.iter_mut().enumerate() {
        send(w, &["BLPOP", "q", "0"]);
        wait_blocked(&mut ctl, i + 1);
    }
    // One push serves exactly one waiter, the first to block.
    q(&mut ctl, &["RPUSH", "q", "v0"]);
    assert_eq!(reply(&mut ws[0]), kv("q", "v0"));
    wait_blocked(&mut ctl, 3);
    // Several elements at once serve the next waiters in order.
    q(&mut ctl, &["RPUSH", "q", "v1", "v2", "v3"]);
    assert_eq!(reply(&mut ws[1]), kv("q", "v1"));
    assert_eq!(reply(&mut ws[2]), kv("q", "v2"));
    assert_eq!(reply(&mut ws[3]), kv("q", "v3"));
    wait_blocked(&mut ctl, 0);
    assert_eq!(q(&mut ctl, &["EXISTS", "q"]), ":0\r\n");
});

server_test!(timeouts, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["BLPOP", "nokey", "0.1"]), "*-1\r\n");
    assert_eq!(q(&mut s, &["BRPOP", "nokey", "other", "0.1"]), "*-1\r\n");
    assert_eq!(
        q(&mut s, &["BLMPOP", "0.1", "1", "nokey", "LEFT"]),
        "*-1\r\n"
    );
    // List waits time out with a null array, BLMOVE's too.
    assert_eq!(
        q(&mut s, &["BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.1"]),
        "*-1\r\n"
    );
    assert_eq!(q(&mut s, &["BRPOPLPUSH", "nokey", "d", "0.1"]), "*-1\r\n");
    assert!(q(&mut s, &["HELLO", "3"]).starts_with('%'));
    assert_eq!(q(&mut s, &["BLPOP", "nokey", "0.1"]), "_\r\n");
    assert_eq!(
        q(&mut s, &["BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.1"]),
        "_\r\n"
    );
    assert_eq!(q(&mut s, &["BLMPOP", "0.1", "1", "nokey", "LEFT"]), "_\r\n");
    assert_eq!(q(&mut s, &["PING"]), "+PONG\r\n");
});

server_test!(zero_blocks_until_pushed, |srv| {
    let mut ctl = srv.raw();
    let mut w = srv.raw();
    send(&mut w, &["BLPOP", "k", "0"]);
    wait_blocked(&mut ctl, 1);
    // Other keys and other types do not wake it.
    q(&mut ctl, &["RPUSH", "other", "x"]);
    q(&mut ctl, &["SET", "k2", "x"]);
    wait_blocked(&mut ctl, 1);
    q(&mut ctl, &["RPUSH", "k", "late"]);
    assert_eq!(reply(&mut w), kv("k", "late"));
});

server_test!(blmove_chain, |srv| {
    let mut ctl = srv.raw();
    let mut a = srv.raw();
    let mut b = srv.raw();
    let mut c = srv.raw();
    send(&mut a, &["BLMOVE", "l1", "l2", "LEFT", "RIGHT", "0"]);
    wait_blocked(&mut ctl, 1);
    send(&mut b, &["BRPOPLPUSH", "l2", "l3", "0"]);
    wait_blocked(&mut ctl, 2);
    send(&mut c, &["BLPOP", "l3", "0"]);
    wait_blocked(&mut ctl, 3);
    q(&mut ctl, &["RPUSH", "l1", "hop"]);
    assert_eq!(reply(&mut a), bulk("hop"));
    assert_eq!(reply(&mut b), bulk("hop"));
    assert_eq!(reply(&mut c), kv("l3", "hop"));
    wait_blocked(&mut ctl, 0);
    for k in ["l1", "l2", "l3"] {
        assert_eq!(q(&mut ctl, &["EXISTS", k]), ":0\r\n");
    }
});

/// A waiter that disconnects must leave the queue: the next push goes to
/// the waiter behind it. Ignored until the IO side reports a peer close of a
/// connection whose command is in flight (a blocked one) to the main thread:
/// today `Conn::finished` waits for the batch to end, so the dead waiter
/// stays first in line and swallows the element.
fn disconnected_waiter(srv: &common::Server) {
    let mut ctl = srv.raw();
    let mut gone = srv.raw();
    let mut w = srv.raw();
    send(&mut gone, &["BLPOP", "k", "0"]);
    wait_blocked(&mut ctl, 1);
    send(&mut w, &["BLPOP", "k", "0"]);
    wait_blocked(&mut ctl, 2);
    drop(gone);
    wait_blocked(&mut ctl, 1);
    // The element goes to the waiter still there, nothing is lost.
    q(&mut ctl, &["RPUSH", "k", "a", "b"]);
    assert_eq!(reply(&mut w), kv("k", "a"));
    assert_eq!(
        q(&mut ctl, &["LRANGE", "k", "0", "-1"]),
        "*1\r\n$1\r\nb\r\n"
    );
}

#[test]
fn disconnected_waiter_io_threads_1() {
    disconnected_waiter(&common::Server::start(1))
}

#[test]
fn disconnected_waiter_io_threads_4() {
    disconnected_waiter(&common::Server::start(4))
}

server_test!(pipelined_before_block, |srv| {
    let mut ctl = srv.raw();
    let mut w = srv.raw();
    let mut both = cmd(&[b"SET", b"a", b"1"]);
    both.extend_from_slice(&cmd(&[b"BLPOP", b"k", b"0"]));
    both.extend_from_slice(&cmd(&[b"GET", b"a"]));
    w.write_all(&both).expect("write");
    // The reply before the blocking command arrives while it waits.
    assert_eq!(reply(&mut w), "+OK\r\n");
    wait_blocked(&mut ctl, 1);
    q(&mut ctl, &["RPUSH", "k", "v"]);
    // Then the blocked reply, then the command queued after it.
    let rest = String::from_utf8_lossy(&read_replies(&mut w, 2)).into_owned();
    assert_eq!(rest, kv("k", "v") + &bulk("1"));
});

server_test!(blocking_errors, |srv| {
    let mut s = srv.raw();
    let neg = "-ERR timeout is negative\r\n";
    let nf = "-ERR timeout is not a float or out of range\r\n";
    assert_eq!(q(&mut s, &["BLPOP", "k", "-1"]), neg);
    assert_eq!(q(&mut s, &["BRPOP", "k", "-0.5"]), neg);
    assert_eq!(q(&mut s, &["BLPOP", "k", "abc"]), nf);
    assert_eq!(q(&mut s, &["BLMOVE", "k", "d", "LEFT", "LEFT", "x"]), nf);
    assert_eq!(q(&mut s, &["BLMOVE", "k", "d", "LEFT", "LEFT", "-1"]), neg);
    assert_eq!(
        q(&mut s, &["BLMOVE", "k", "d", "UP", "LEFT", "-1"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(q(&mut s, &["BRPOPLPUSH", "k", "d", "-1"]), neg);
    assert_eq!(
        q(&mut s, &["BLPOP", "k", "9223372036854775807"]),
        "-ERR timeout is out of range\r\n"
    );
    assert_eq!(q(&mut s, &["BLMPOP", "-1", "1", "k", "LEFT"]), neg);
    assert_eq!(
        q(&mut s, &["BLMPOP", "0", "0", "k", "LEFT"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(
        q(&mut s, &["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "0"]),
        "-ERR count should be greater than 0\r\n"
    );
    assert_eq!(
        q(&mut s, &["BLMPOP", "0", "2", "k", "LEFT"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        q(&mut s, &["BLPOP", "k"]),
        "-ERR wrong number of arguments for 'blpop' command\r\n"
    );
    assert_eq!(q(&mut s, &["PING"]), "+PONG\r\n");
});

// A blocking command and the push that serves it, in one batch (both
// arrive while the server sleeps): the waiter is registered the moment it
// blocks, so the push later in the same batch wakes it.
mod blocked_and_served_in_one_batch {
    use super::*;

    fn run(srv: &common::Server) {
        let mut admin = srv.raw();
        for round in 0..3 {
            let mut sleeper = srv.raw();
            let mut a = srv.raw();
            let mut b = srv.raw();
            // Registered connections, so both reads land in the same turn.
            q(&mut a, &["PING"]);
            q(&mut b, &["PING"]);
            send(&mut sleeper, &["DEBUG", "SLEEP", "0.2"]);
            send(&mut a, &["BLPOP", "q", "2"]);
            send(&mut b, &["RPUSH", "q", "foo"]);
            assert_eq!(reply(&mut sleeper), "+OK\r\n");
            assert_eq!(reply(&mut b), ":1\r\n", "round {round}");
            assert_eq!(reply(&mut a), kv("q", "foo"), "round {round}");
            assert_eq!(q(&mut admin, &["LLEN", "q"]), ":0\r\n");
        }
    }

    #[test]
    fn io_threads_1() {
        run(&common::Server::start_with(&[
            "--io-threads",
            "1",
            "--enable-debug-command",
            "local",
        ]))
    }

    #[test]
    fn io_threads_4() {
        run(&common::Server::start_with(&[
            "--io-threads",
            "4",
            "--events-per-io-thread",
            "0",
            "--enable-debug-command",
            "local",
        ]))
    }
}

// A command that blocks is counted once, when it completes, as Valkey does:
// commandstats calls, the slow log (nothing while it waits), and CLIENT
// UNBLOCK ... ERROR as a rejected call with an UNBLOCKED error.
server_test!(blocked_command_is_counted_once, |srv| {
    let mut admin = srv.raw();
    q(
        &mut admin,
        &["CONFIG", "SET", "slowlog-log-slower-than", "0"],
    );
    q(&mut admin, &["SLOWLOG", "RESET"]);
    q(&mut admin, &["CONFIG", "RESETSTAT"]);
    let blpops_logged =
        |s: &mut TcpStream| q(s, &["SLOWLOG", "GET", "128"]).matches("BLPOP").count();
    let stat = |s: &mut TcpStream| {
        q(s, &["INFO", "commandstats"])
            .lines()
            .find(|l| l.starts_with("cmdstat_blpop:"))
            .map(|l| l.split(",usec=").next().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    let mut c = srv.raw();
    send(&mut c, &["BLPOP", "q", "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(blpops_logged(&mut admin), 0);
    assert_eq!(stat(&mut admin), "");
    q(&mut admin, &["RPUSH", "q", "a"]);
    assert_eq!(reply(&mut c), kv("q", "a"));
    assert_eq!(stat(&mut admin), "cmdstat_blpop:calls=1");
    assert_eq!(blpops_logged(&mut admin), 1);
    // Timed out: once more.
    assert_eq!(q(&mut c, &["BLPOP", "q", "0.01"]), "*-1\r\n");
    assert_eq!(stat(&mut admin), "cmdstat_blpop:calls=2");
    // Unblocked with an error: a rejected call.
    let id = q(&mut c, &["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim_end().to_string();
    send(&mut c, &["BLPOP", "q", "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(
        q(&mut admin, &["CLIENT", "UNBLOCK", &id, "ERROR"]),
        ":1\r\n"
    );
    assert!(reply(&mut c).starts_with("-UNBLOCKED"));
    let line = q(&mut admin, &["INFO", "commandstats"]);
    assert!(
        line.contains("cmdstat_blpop:calls=3,") && line.contains("rejected_calls=1,failed_calls=0"),
        "{line}"
    );
    assert!(q(&mut admin, &["INFO", "errorstats"]).contains("errorstat_UNBLOCKED:count=1"));
});

// A transaction that adds to a key a client waits on, then replaces it with
// a string, does not wake the waiter with WRONGTYPE: it waits on and is
// served by the next sorted set under the key (Valkey serves a waiter only
// from a key of its type). The same for lists.
server_test!(a_key_of_another_type_does_not_wake_a_waiter, |srv| {
    let cases: [(&str, &[&str], &[&str], String); 4] = [
        (
            "BZPOPMIN",
            &["BZPOPMIN", "z", "0"],
            &["ZADD", "z", "1", "bar"],
            format!("*3\r\n{}{}{}", bulk("z"), bulk("bar"), bulk("1")),
        ),
        (
            "BZMPOP",
            &["BZMPOP", "0", "1", "z", "MIN"],
            &["ZADD", "z", "1", "bar"],
            format!(
                "*2\r\n{}*1\r\n*2\r\n{}{}",
                bulk("z"),
                bulk("bar"),
                bulk("1")
            ),
        ),
        (
            "BLPOP",
            &["BLPOP", "z", "0"],
            &["RPUSH", "z", "bar"],
            format!("*2\r\n{}{}", bulk("z"), bulk("bar")),
        ),
        (
            "BLMPOP",
            &["BLMPOP", "0", "1", "z", "LEFT"],
            &["RPUSH", "z", "bar"],
            format!("*2\r\n{}*1\r\n{}", bulk("z"), bulk("bar")),
        ),
    ];
    let mut c = srv.raw();
    for (name, block, add, want) in cases {
        let mut w = srv.raw();
        q(&mut c, &["DEL", "z"]);
        send(&mut w, block);
        wait_blocked(&mut c, 1);
        assert_eq!(q(&mut c, &["MULTI"]), "+OK\r\n");
        let first: Vec<&str> = add
            .iter()
            .map(|a| if *a == "bar" { "foo" } else { a })
            .collect();
        assert_eq!(q(&mut c, &first), "+QUEUED\r\n");
        assert_eq!(q(&mut c, &["DEL", "z"]), "+QUEUED\r\n");
        assert_eq!(q(&mut c, &["SET", "z", "foo"]), "+QUEUED\r\n");
        let exec = q(&mut c, &["EXEC"]);
        assert!(exec.ends_with("+OK\r\n"), "{name}: {exec}");
        wait_blocked(&mut c, 1);
        assert_eq!(q(&mut c, &["DEL", "z"]), ":1\r\n");
        q(&mut c, add);
        assert_eq!(reply(&mut w), want, "{name}");
        wait_blocked(&mut c, 0);
    }
});
