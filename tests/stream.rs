//! Stream commands against the real server: a transcript of Valkey 9.1's
//! replies (tests/data/stream-transcript.bin, from
//! scripts/capture-stream-transcript.py) replayed byte for byte, RESTORE
//! of Valkey's DUMP payloads, blocking XREAD across connections, and
//! streams through DEBUG RELOAD and an AOF rewrite. Waits are polls with
//! a deadline.

mod common;

use common::{bulk, cmd, int, q, read_replies, NULL_ARRAY, OK};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A fresh directory of this test process's (DEBUG RELOAD writes there).
fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("fk-stream-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A server with DEBUG enabled, its own `dir`, and `io-threads n` (all
/// active).
fn debug_server(io_threads: usize) -> common::Server {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let k = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = temp_dir(&format!("{io_threads}-{k}"));
    let n = io_threads.to_string();
    common::Server::start_with(&[
        "--enable-debug-command",
        "yes",
        "--dir",
        dir.to_str().expect("utf-8 temp dir"),
        "--io-threads",
        &n,
        "--events-per-io-thread",
        "0",
    ])
}

/// `server_test!` on a server with DEBUG enabled.
macro_rules! debug_test {
    ($name:ident, |$srv:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($srv: &common::Server) $body
            #[test]
            fn io_threads_1() {
                run(&debug_server(1))
            }
            #[test]
            fn io_threads_4() {
                run(&debug_server(4))
            }
        }
    };
}

/// The transcript's records: (protocol, command bytes, Valkey's reply).
fn transcript() -> Vec<(u8, Vec<u8>, Vec<u8>)> {
    let data = include_bytes!("data/stream-transcript.bin");
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let nl = i + data[i..]
            .iter()
            .position(|&b| b == b'\n')
            .expect("header line");
        let head = std::str::from_utf8(&data[i..nl]).expect("ascii header");
        let n: Vec<usize> = head
            .split(' ')
            .map(|x| x.parse().expect("number"))
            .collect();
        let c = nl + 1;
        let r = c + n[1];
        out.push((n[0] as u8, data[c..r].to_vec(), data[r..r + n[2]].to_vec()));
        i = r + n[2];
    }
    out
}

debug_test!(valkey_transcript, |srv| {
    let mut s2 = srv.raw();
    let mut s3 = srv.raw();
    let _ = q(&mut s3, &["HELLO", "3"]);
    let records = transcript();
    assert!(records.len() > 100);
    let mut restored: Vec<(String, Vec<u8>)> = Vec::new();
    for (proto, command, want) in records {
        let argv = parse_command(&command);
        if argv[0] == b"RESTORE" {
            restored.push((
                String::from_utf8_lossy(&argv[1]).into_owned(),
                argv[3].clone(),
            ));
        }
        let s = if proto == 3 { &mut s3 } else { &mut s2 };
        s.write_all(&command).expect("write");
        let got = read_replies(s, 1);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "command {:?}",
            String::from_utf8_lossy(&command)
        );
    }
    // Our DUMP of what Valkey's payload restored is that payload but for
    // the footer's RDB version (and so the CRC): Valkey restores it too.
    assert!(!restored.is_empty());
    for (key, payload) in restored {
        s2.write_all(&cmd(&[b"DUMP", key.as_bytes()]))
            .expect("write");
        let reply = read_replies(&mut s2, 1);
        let nl = reply
            .iter()
            .position(|&b| b == b'\n')
            .expect("a bulk reply");
        let ours = &reply[nl + 1..reply.len() - 2];
        assert_eq!(
            ours[..ours.len() - 10],
            payload[..payload.len() - 10],
            "DUMP {key}"
        );
    }
});

/// The arguments of a command as RESP (an array of bulk strings).
fn parse_command(c: &[u8]) -> Vec<Vec<u8>> {
    let line = |at: usize| -> (usize, usize) {
        let end = at + c[at..].windows(2).position(|w| w == b"\r\n").expect("line");
        let n = std::str::from_utf8(&c[at + 1..end])
            .expect("ascii")
            .parse()
            .expect("length");
        (n, end + 2)
    };
    let (n, mut at) = line(0);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (len, body) = line(at);
        out.push(c[body..body + len].to_vec());
        at = body + len + 2;
    }
    out
}

/// Sends a command without reading its reply (it is expected to block).
fn send(s: &mut TcpStream, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    s.write_all(&cmd(&a)).expect("write");
}

fn reply(s: &mut TcpStream) -> String {
    String::from_utf8_lossy(&read_replies(s, 1)).into_owned()
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

/// XREAD's reply for one stream with one entry of one pair.
fn one(key: &str, id: &str, f: &str, v: &str) -> String {
    format!(
        "*1\r\n*2\r\n{}*1\r\n*2\r\n{}*2\r\n{}{}",
        bulk(key),
        bulk(id),
        bulk(f),
        bulk(v)
    )
}

server_test!(xread_blocks_until_new_data, |srv| {
    let mut c = srv.raw();
    let mut w1 = srv.raw();
    let mut w2 = srv.raw();
    q(&mut c, &["XADD", "s", "1-0", "old", "x"]);
    // `$` is the last ID at the time of blocking: only newer entries.
    send(
        &mut w1,
        &["XREAD", "BLOCK", "0", "STREAMS", "nokey", "s", "$", "$"],
    );
    wait_blocked(&mut c, 1);
    send(&mut w2, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut c, 2);
    q(&mut c, &["XADD", "s", "2-0", "new", "y"]);
    // Both waiters are served, in the order they blocked.
    assert_eq!(reply(&mut w1), one("s", "2-0", "new", "y"));
    assert_eq!(reply(&mut w2), one("s", "2-0", "new", "y"));
    wait_blocked(&mut c, 0);
    // Served at once when there is data after the ID.
    assert_eq!(
        q(&mut w1, &["XREAD", "BLOCK", "0", "STREAMS", "s", "1-0"]),
        one("s", "2-0", "new", "y")
    );
    // A timeout replies a null array.
    assert_eq!(
        q(&mut w1, &["XREAD", "BLOCK", "20", "STREAMS", "s", "$"]),
        NULL_ARRAY
    );
    // Inside MULTI it never waits.
    q(&mut w1, &["MULTI"]);
    q(&mut w1, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    assert_eq!(q(&mut w1, &["EXEC"]), "*1\r\n*-1\r\n");
});

server_test!(xread_ignores_deleted_and_wrong_type_keys, |srv| {
    let mut c = srv.raw();
    let mut w = srv.raw();
    send(&mut w, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut c, 1);
    // Added then deleted, then a list under the key: nothing to serve.
    q(&mut c, &["MULTI"]);
    q(&mut c, &["XADD", "s", "1-0", "old", "x"]);
    q(&mut c, &["DEL", "s"]);
    q(&mut c, &["LPUSH", "s", "a"]);
    q(&mut c, &["EXEC"]);
    q(&mut c, &["DEL", "s"]);
    // Still blocked: a later stream entry is what it gets.
    wait_blocked(&mut c, 1);
    q(&mut c, &["XADD", "s", "5-0", "new", "y"]);
    assert_eq!(reply(&mut w), one("s", "5-0", "new", "y"));
    // `+` on a missing stream waits for its first entry.
    send(&mut w, &["XREAD", "BLOCK", "0", "STREAMS", "t", "+"]);
    wait_blocked(&mut c, 1);
    q(&mut c, &["XADD", "t", "1-1", "k", "v"]);
    assert_eq!(reply(&mut w), one("t", "1-1", "k", "v"));
    // A blocked client dropped while waiting leaves no waiter behind.
    let mut gone = srv.raw();
    send(&mut gone, &["XREAD", "BLOCK", "0", "STREAMS", "t", "$"]);
    wait_blocked(&mut c, 1);
    drop(gone);
    wait_blocked(&mut c, 0);
});

/// XINFO STREAM FULL and XRANGE of `key`, as one string.
fn state(s: &mut TcpStream, key: &str) -> String {
    q(s, &["XINFO", "STREAM", key, "FULL", "COUNT", "0"]) + &q(s, &["XRANGE", key, "-", "+"])
}

/// `state` less the node counts, which a rewrite (one XADD per live
/// entry) does not keep.
fn logical(s: &mut TcpStream, key: &str) -> String {
    let full = state(s, key);
    let mut parts: Vec<&str> = full.split("\r\n").collect();
    for name in ["radix-tree-keys", "radix-tree-nodes"] {
        if let Some(i) = parts.iter().position(|p| *p == name) {
            parts.remove(i + 1);
        }
    }
    parts.join("\r\n")
}

/// Fills `k` with entries over several nodes, some deleted, and makes
/// `e` an empty stream with a last ID.
fn fill(s: &mut TcpStream) {
    assert_eq!(q(s, &["CONFIG", "SET", "stream-node-max-entries", "4"]), OK);
    for i in 1..=30 {
        let id = format!("{i}-{}", i % 3);
        let v = (i * 1000).to_string();
        if i % 5 == 0 {
            q(s, &["XADD", "k", &id, "other", &v, "f", "x"]);
        } else {
            q(s, &["XADD", "k", &id, "f", &v]);
        }
    }
    assert_eq!(q(s, &["XDEL", "k", "3-0", "10-1", "30-0"]), int(3));
    assert_eq!(q(s, &["XTRIM", "k", "MAXLEN", "20"]), int(7));
    assert_eq!(
        q(s, &["XADD", "e", "MAXLEN", "0", "7-7", "a", "b"]),
        bulk("7-7")
    );
}

debug_test!(streams_survive_debug_reload, |srv| {
    let mut s = srv.raw();
    fill(&mut s);
    let before = (state(&mut s, "k"), state(&mut s, "e"));
    assert_eq!(q(&mut s, &["DEBUG", "RELOAD"]), OK);
    assert_eq!((state(&mut s, "k"), state(&mut s, "e")), before);
    assert_eq!(q(&mut s, &["TYPE", "e"]), "+stream\r\n");
});

#[test]
fn streams_survive_an_aof_rewrite_without_preamble() {
    let dir = temp_dir("aof");
    let mut srv = common::dir_server::DirServer::spawn(
        &dir,
        1,
        &[
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            "no",
            "--enable-debug-command",
            "yes",
        ],
    );
    srv.ready();
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    fill(&mut s);
    // `*` is propagated as the ID it picked.
    let id = q(&mut s, &["XADD", "auto", "*", "f", "v"]);
    let before = (
        state(&mut s, "k"),
        state(&mut s, "e"),
        state(&mut s, "auto"),
    );
    assert_eq!(
        q(&mut s, &["DEBUG", "LOADAOF"]),
        OK,
        "reload of the AOF as written"
    );
    assert_eq!(
        (
            state(&mut s, "k"),
            state(&mut s, "e"),
            state(&mut s, "auto")
        ),
        before
    );
    assert!(before
        .2
        .contains(&id[id.find("\r\n").map_or(0, |i| i + 2)..]));
    let logical_before = (
        logical(&mut s, "k"),
        logical(&mut s, "e"),
        logical(&mut s, "auto"),
    );
    q(&mut s, &["BGREWRITEAOF"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info = q(&mut s, &["INFO", "persistence"]);
        if info.contains("aof_rewrite_in_progress:0\r\n")
            && info.contains("aof_rewrite_scheduled:0\r\n")
            && info.contains("aof_last_bgrewrite_status:ok\r\n")
        {
            break;
        }
        assert!(Instant::now() < deadline, "rewrite never ended");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(q(&mut s, &["DEBUG", "LOADAOF"]), OK);
    assert_eq!(
        (
            logical(&mut s, "k"),
            logical(&mut s, "e"),
            logical(&mut s, "auto")
        ),
        logical_before
    );
    drop(s);
    drop(srv);
}
