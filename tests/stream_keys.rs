//! The keys of XREAD and XREADGROUP (after STREAMS, half the remaining
//! arguments: a keyword search in their key specifications) as the server
//! finds them: COMMAND GETKEYS / GETKEYSANDFLAGS replies captured from
//! Valkey 9.1, and client-side tracking of the streams XREAD reads (the
//! same declared specifications drive the batch prefetch), with Valkey's
//! invalidations, also for a blocked XREAD.

mod common;

use common::{arr, bulk, cmd, q, read_replies};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// (command, Valkey 9.1's reply).
const GETKEYS: &[(&[&str], &str)] = &[
    (
        &["XREAD", "STREAMS", "a", "b", "0", "0"],
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    ),
    (
        &["XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "a", "0"],
        "*1\r\n$1\r\na\r\n",
    ),
    (
        &["XREAD", "streams", "a", "b", "c", "1", "2", "3"],
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
    ),
    (&["XREAD", "STREAMS", "a", "b", "0"], "*1\r\n$1\r\na\r\n"),
    (
        &["XREAD", "COUNT", "1", "STREAMS"],
        "-ERR Invalid arguments specified for command\r\n",
    ),
    (
        &["XREAD", "COUNT", "1", "STREAMS", "a"],
        "-ERR Invalid arguments specified for command\r\n",
    ),
    (
        &["XREAD", "COUNT", "STREAMS", "STREAMS", "a", "0"],
        "*1\r\n$7\r\nSTREAMS\r\n",
    ),
    (
        &["XREAD", "STREAMS", "STREAMS", "STREAMS", "0", "0"],
        "*2\r\n$7\r\nSTREAMS\r\n$7\r\nSTREAMS\r\n",
    ),
    (
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
        "*1\r\n$1\r\ns\r\n",
    ),
    (
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "COUNT",
            "1",
            "NOACK",
            "STREAMS",
            "s1",
            "s2",
            ">",
            ">",
        ],
        "*2\r\n$2\r\ns1\r\n$2\r\ns2\r\n",
    ),
    (
        &["XREADGROUP", "GROUP", "streams", "c", "STREAMS", "s", ">"],
        "*1\r\n$1\r\ns\r\n",
    ),
    (
        &["XREADGROUP", "GROUP", "g", "streams", "STREAMS", "s", ">"],
        "*1\r\n$1\r\ns\r\n",
    ),
    (
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s"],
        "-ERR Invalid number of arguments specified for command\r\n",
    ),
];

const RO_ACCESS: &str = "*2\r\n+RO\r\n+access\r\n";

server_test!(getkeys_match_valkey, |srv| {
    let mut s = srv.raw();
    for (call, want) in GETKEYS {
        let mut args = vec!["COMMAND", "GETKEYS"];
        args.extend_from_slice(call);
        assert_eq!(q(&mut s, &args), *want, "{call:?}");
    }
    let two = format!("*2\r\n*2\r\n$1\r\na\r\n{RO_ACCESS}*2\r\n$1\r\nb\r\n{RO_ACCESS}");
    assert_eq!(
        q(
            &mut s,
            &[
                "COMMAND",
                "GETKEYSANDFLAGS",
                "XREAD",
                "STREAMS",
                "a",
                "b",
                "0",
                "0"
            ]
        ),
        two
    );
    assert_eq!(
        q(
            &mut s,
            &[
                "COMMAND",
                "GETKEYSANDFLAGS",
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "STREAMS",
                "a",
                "b",
                "0",
                "0"
            ]
        ),
        two
    );
});

fn send(s: &mut TcpStream, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    s.write_all(&cmd(&a)).expect("write");
}

fn next(s: &mut TcpStream, n: usize) -> String {
    String::from_utf8_lossy(&read_replies(s, n)).into_owned()
}

fn invalidate(key: &str) -> String {
    format!(">2\r\n{}{}", bulk("invalidate"), arr(&[key]))
}

/// XREAD's reply (RESP3) of one stream with one entry `f v`.
fn one_entry(key: &str, id: &str) -> String {
    format!(
        "%1\r\n{}*1\r\n*2\r\n{}{}",
        bulk(key),
        bulk(id),
        arr(&["f", "v"])
    )
}

/// A PING answered with nothing before it: no invalidation was pending.
fn nothing_pending(s: &mut TcpStream) {
    assert_eq!(q(s, &["PING"]), "+PONG\r\n");
}

server_test!(tracking_remembers_the_streams_xread_reads, |srv| {
    let mut a = srv.raw();
    let mut w = srv.raw();
    for k in ["s1", "s2", "s3"] {
        assert_eq!(q(&mut w, &["XADD", k, "1-0", "f", "v"]), bulk("1-0"));
    }
    assert_eq!(q(&mut w, &["XGROUP", "CREATE", "s3", "g", "0"]), "+OK\r\n");
    assert!(q(&mut a, &["HELLO", "3"]).starts_with('%'));
    assert_eq!(q(&mut a, &["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    let r = q(
        &mut a,
        &["XREAD", "COUNT", "1", "STREAMS", "s1", "s2", "0", "0"],
    );
    assert!(r.starts_with("%2\r\n"), "{r}");
    assert_eq!(q(&mut w, &["XADD", "s2", "2-0", "f", "v"]), bulk("2-0"));
    assert_eq!(next(&mut a, 1), invalidate("s2"));
    assert_eq!(q(&mut w, &["XADD", "s1", "2-0", "f", "v"]), bulk("2-0"));
    assert_eq!(next(&mut a, 1), invalidate("s1"));
    // Invalidated once: the next write sends nothing.
    assert_eq!(q(&mut w, &["XADD", "s1", "3-0", "f", "v"]), bulk("3-0"));
    nothing_pending(&mut a);
    // XREADGROUP writes (the group): its keys are not remembered.
    assert_eq!(
        q(
            &mut a,
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s3", ">"]
        ),
        one_entry("s3", "1-0")
    );
    assert_eq!(q(&mut w, &["XADD", "s3", "2-0", "f", "v"]), bulk("2-0"));
    nothing_pending(&mut a);
    // A blocked XREAD read its key when it ran: the write that serves it
    // invalidates first, and the reply remembers the key again.
    send(&mut a, &["XREAD", "BLOCK", "0", "STREAMS", "s4", "$"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !q(&mut w, &["INFO", "clients"]).contains("blocked_clients:1\r\n") {
        assert!(Instant::now() < deadline, "XREAD never blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(q(&mut w, &["XADD", "s4", "1-0", "f", "v"]), bulk("1-0"));
    assert_eq!(
        next(&mut a, 2),
        format!("{}{}", invalidate("s4"), one_entry("s4", "1-0"))
    );
    assert_eq!(q(&mut w, &["XADD", "s4", "2-0", "f", "v"]), bulk("2-0"));
    assert_eq!(next(&mut a, 1), invalidate("s4"));
});
