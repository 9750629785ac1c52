//! Stream consumer groups against the real server: the transcript in
//! tests/data/stream-cgroups.txt (captured from Valkey 9.1 by
//! scripts/capture-stream-cgroups.py) replayed byte for byte, and blocking
//! XREADGROUP across connections (woken by XADD in FIFO order, unblocked
//! with Valkey's errors when the group or key goes, non-blocking in MULTI).

mod common;

use common::{cmd, q, read_replies};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Undoes Python's bytes repr escapes (`\r`, `\n`, `\\`, `\'`, `\xNN`).
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        match b[i + 1] {
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'x' => {
                let h = std::str::from_utf8(&b[i + 2..i + 4]).expect("hex");
                out.push(u8::from_str_radix(h, 16).expect("hex"));
                i += 2;
            }
            c => out.push(c),
        }
        i += 2;
    }
    out
}

/// Splits a shlex-quoted command line (single quotes only, as Python's
/// shlex.join writes them).
fn split(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    args.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            '"' if !quoted => {
                // shlex.join writes '"'"' for a single quote.
                for d in chars.by_ref() {
                    if d == '"' {
                        break;
                    }
                    cur.push(d);
                }
                any = true;
            }
            _ => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        args.push(cur);
    }
    args
}

/// Every integer reply (`:n`) as `:N`, for replies holding times.
fn fuzz(reply: &[u8]) -> String {
    let text = String::from_utf8_lossy(reply);
    let mut out = String::new();
    for part in text.split_inclusive("\r\n") {
        if part.starts_with(':') {
            out.push_str(":N\r\n");
        } else {
            out.push_str(part);
        }
    }
    out
}

server_test!(valkey_transcript, |srv| {
    let data = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/stream-cgroups.txt"
    ))
    .expect("transcript");
    let mut s = srv.raw();
    let mut lines = data.lines();
    let mut fresh = true;
    let mut n = 0;
    while let Some(line) = lines.next() {
        if line == "---" {
            fresh = true;
            continue;
        }
        if fresh {
            q(&mut s, &["FLUSHALL"]);
            fresh = false;
        }
        let (fuzzy, command) = match line.strip_prefix("~> ") {
            Some(c) => (true, c),
            None => (false, line.strip_prefix("> ").expect("command line")),
        };
        let want = unescape(lines.next().expect("reply").strip_prefix("< ").expect("<"));
        let args = split(command);
        let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
        s.write_all(&cmd(&a)).expect("write");
        let got = read_replies(&mut s, 1);
        if args[0] == "HELLO" {
            // The server's name, version and client id are our own.
            assert_eq!(got[..1], want[..1], "{command}");
        } else if fuzzy {
            assert_eq!(fuzz(&got), fuzz(&want), "{command}");
        } else {
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "{command}"
            );
        }
        n += 1;
    }
    assert!(n > 200, "only {n} commands replayed");
});

fn send(s: &mut TcpStream, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    s.write_all(&cmd(&a)).expect("write");
}

fn reply(s: &mut TcpStream) -> String {
    String::from_utf8_lossy(&read_replies(s, 1)).into_owned()
}

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

/// One entry `id` with field `f` = `v`, as XREADGROUP replies it for `key`.
fn one(key: &str, id: &str, f: &str, v: &str) -> String {
    format!(
        "*1\r\n*2\r\n${}\r\n{key}\r\n*1\r\n*2\r\n${}\r\n{id}\r\n*2\r\n${}\r\n{f}\r\n${}\r\n{v}\r\n",
        key.len(),
        id.len(),
        f.len(),
        v.len()
    )
}

server_test!(blocked_readers_served_in_order, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        q(&mut s, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        "+OK\r\n"
    );
    let mut a = srv.raw();
    let mut b = srv.raw();
    send(
        &mut a,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "a",
            "COUNT",
            "1",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
    );
    wait_blocked(&mut s, 1);
    send(
        &mut b,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "b",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
    );
    wait_blocked(&mut s, 2);
    assert_eq!(q(&mut s, &["XADD", "s", "1-0", "f", "x"]), "$3\r\n1-0\r\n");
    assert_eq!(reply(&mut a), one("s", "1-0", "f", "x"));
    wait_blocked(&mut s, 1);
    assert_eq!(q(&mut s, &["XADD", "s", "2-0", "f", "y"]), "$3\r\n2-0\r\n");
    assert_eq!(reply(&mut b), one("s", "2-0", "f", "y"));
    wait_blocked(&mut s, 0);
    // Each delivery is pending for its reader.
    assert_eq!(
        q(&mut s, &["XPENDING", "s", "g"]),
        "*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n1\r\n"
    );
    // A timeout replies a null array.
    assert_eq!(
        q(
            &mut s,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "a",
                "BLOCK",
                "50",
                "STREAMS",
                "s",
                ">"
            ]
        ),
        "*-1\r\n"
    );
});

server_test!(blocked_reader_sees_group_and_key_go, |srv| {
    let mut s = srv.raw();
    let mut r = srv.raw();
    let read = [
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ];
    q(&mut s, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    send(&mut r, &read);
    wait_blocked(&mut s, 1);
    assert_eq!(q(&mut s, &["XGROUP", "DESTROY", "s", "g"]), ":1\r\n");
    assert_eq!(
        reply(&mut r),
        "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );
    q(&mut s, &["XGROUP", "CREATE", "s", "g", "$"]);
    send(&mut r, &read);
    wait_blocked(&mut s, 1);
    assert_eq!(q(&mut s, &["DEL", "s"]), ":1\r\n");
    assert_eq!(
        reply(&mut r),
        "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );
    q(&mut s, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    send(&mut r, &read);
    wait_blocked(&mut s, 1);
    assert_eq!(q(&mut s, &["SET", "s", "x"]), "+OK\r\n");
    assert_eq!(
        reply(&mut r),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    wait_blocked(&mut s, 0);
});

server_test!(no_blocking_in_multi, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    assert_eq!(q(&mut s, &["MULTI"]), "+OK\r\n");
    assert_eq!(
        q(
            &mut s,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "0",
                "STREAMS",
                "s",
                ">"
            ]
        ),
        "+QUEUED\r\n"
    );
    assert_eq!(q(&mut s, &["EXEC"]), "*1\r\n*-1\r\n");
});
