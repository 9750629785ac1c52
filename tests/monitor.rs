//! MONITOR: one `+<secs>.<micros> [<db> <ip:port>] "cmd" "arg"` line per
//! command run, from clients on every IO thread, in the order they ran;
//! arguments quoted as Valkey's sdscatrepr, secrets redacted; admin
//! commands and rejected ones not shown; MULTI/EXEC and blocked commands
//! as Valkey 9.1 shows them; the monitor's own commands, RESET and QUIT.
//! Lines and replies compared with what Valkey 9.1 sends. Waits poll with
//! a deadline.

mod common;

use common::{cmd, q, read_replies, read_to_close, Server, OK};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn send(s: &mut TcpStream, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    s.write_all(&cmd(&a)).expect("write");
}

/// Starts monitoring on a new connection.
fn monitor(srv: &Server) -> Lines {
    let mut m = srv.raw();
    assert_eq!(q(&mut m, &["MONITOR"]), OK);
    Lines::new(m)
}

/// The monitor's stream, line by line (lines may arrive together).
struct Lines {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Lines {
    fn new(s: TcpStream) -> Lines {
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        Lines { s, buf: Vec::new() }
    }

    /// The next line, `\r\n` removed.
    fn raw(&mut self) -> String {
        loop {
            if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let l = String::from_utf8_lossy(&self.buf[..p]).into_owned();
                self.buf.drain(..p + 2);
                return l;
            }
            let mut chunk = [0u8; 65536];
            let k = self.s.read(&mut chunk).expect("read");
            assert!(
                k > 0,
                "closed after {:?}",
                String::from_utf8_lossy(&self.buf)
            );
            self.buf.extend_from_slice(&chunk[..k]);
        }
    }

    /// The next monitor line, its timestamp checked and removed: what
    /// follows it (`[db addr] "cmd" ...`).
    fn next(&mut self) -> String {
        let l = self.raw();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let l = l
            .strip_prefix('+')
            .unwrap_or_else(|| panic!("not a line: {l}"));
        let (stamp, rest) = l.split_once(' ').expect("stamp");
        let (secs, micros) = stamp.split_once('.').expect("secs.micros");
        let secs: u64 = secs.parse().expect("secs");
        assert!(secs + 30 > now && secs <= now + 1, "{l}");
        assert!(micros.len() == 6 && micros.bytes().all(|b| b.is_ascii_digit()));
        rest.to_string()
    }

    fn take(&mut self, n: usize) -> Vec<String> {
        (0..n).map(|_| self.next()).collect()
    }

    /// The next line that is not the INFO polls of `wait_blocked`.
    fn next_not_info(&mut self) -> String {
        loop {
            let l = self.next();
            if !l.contains("] \"INFO\"") {
                return l;
            }
        }
    }
}

fn addr(s: &TcpStream) -> String {
    s.local_addr().expect("addr").to_string()
}

fn commands_of_every_thread_in_order(io_threads: usize) {
    let srv = Server::start(io_threads);
    let mut m = monitor(&srv);
    // Clients land on different IO threads (by id).
    let mut cs: Vec<TcpStream> = (0..6).map(|_| srv.raw()).collect();
    let mut want = Vec::new();
    for i in 0..30 {
        let c = &mut cs[i % 6];
        let (k, v) = (format!("k{i}"), format!("v{i}"));
        assert_eq!(q(c, &["SET", &k, &v]), OK);
        want.push(format!("[0 {}] \"SET\" \"{k}\" \"{v}\"", addr(c)));
    }
    // A pipeline from one client, then one from another.
    let mut burst = Vec::new();
    for i in 0..50 {
        burst.extend_from_slice(&cmd(&[b"INCR", format!("n{i}").as_bytes()]));
        want.push(format!("[0 {}] \"INCR\" \"n{i}\"", addr(&cs[1])));
    }
    cs[1].write_all(&burst).expect("write");
    read_replies(&mut cs[1], 50);
    assert_eq!(q(&mut cs[4], &["GET", "k1"]), "$2\r\nv1\r\n");
    want.push(format!("[0 {}] \"GET\" \"k1\"", addr(&cs[4])));
    assert_eq!(m.take(want.len()), want);
}

#[test]
fn commands_of_every_thread_in_order_io1() {
    commands_of_every_thread_in_order(1);
}

#[test]
fn commands_of_every_thread_in_order_io4() {
    commands_of_every_thread_in_order(4);
}

fn what_is_shown(io_threads: usize) {
    let srv = Server::start(io_threads);
    let mut m = monitor(&srv);
    let mut c = srv.raw();
    let me = addr(&c);
    let batch: &[&[&[u8]]] = &[
        &[b"SET", b"foo", b"bar\x00\n\"\xc3\xa9"],
        // Admin commands are not shown, nor rejected ones.
        &[b"CLIENT", b"LIST"],
        &[b"CONFIG", b"GET", b"maxmemory"],
        &[b"NOSUCH"],
        &[b"GET"],
        // A command that fails in its handler is.
        &[b"LPUSH", b"foo", b"x"],
        &[b"AUTH", b"pw"],
        &[b"AUTH", b"user", b"pw"],
        &[b"HELLO", b"3", b"AUTH", b"a", b"b"],
        &[b"ECHO", b"a b\t\x01\x7f'\\"],
        &[b"SELECT", b"3"],
        &[b"CLIENT", b"INFO"],
    ];
    let mut all = Vec::new();
    for a in batch {
        all.extend_from_slice(&cmd(a));
    }
    c.write_all(&all).expect("write");
    read_replies(&mut c, batch.len());
    let want = [
        r#""SET" "foo" "bar\x00\n\"\xc3\xa9""#,
        r#""LPUSH" "foo" "x""#,
        r#""AUTH" "(redacted)""#,
        r#""AUTH" "(redacted)" "(redacted)""#,
        r#""HELLO" "3" "AUTH" "(redacted)" "(redacted)""#,
        r#""ECHO" "a b\t\x01\x7f'\\""#,
    ];
    let mut want: Vec<String> = want.iter().map(|w| format!("[0 {me}] {w}")).collect();
    // The db after the command: SELECT shows its new one.
    want.push(format!("[3 {me}] \"SELECT\" \"3\""));
    want.push(format!("[3 {me}] \"CLIENT\" \"INFO\""));
    assert_eq!(m.take(want.len()), want);
}

#[test]
fn what_is_shown_io1() {
    what_is_shown(1);
}

#[test]
fn what_is_shown_io4() {
    what_is_shown(4);
}

fn multi_exec(io_threads: usize) {
    let srv = Server::start(io_threads);
    let mut m = monitor(&srv);
    let mut c = srv.raw();
    let me = addr(&c);
    for (a, r) in [
        (&["MULTI"][..], OK),
        (&["SET", "foo", "bar"], "+QUEUED\r\n"),
        (&["EXEC"], "*1\r\n+OK\r\n"),
    ] {
        assert_eq!(q(&mut c, a), r);
    }
    // A transaction that aborts: MULTI, then EXEC closes it.
    q(&mut c, &["MULTI"]);
    q(&mut c, &["SYNTAX", "ERROR"]);
    assert!(q(&mut c, &["EXEC"]).starts_with("-EXECABORT"));
    let want: Vec<String> = [
        "\"MULTI\"",
        "\"SET\" \"foo\" \"bar\"",
        "\"EXEC\"",
        "\"MULTI\"",
        "\"EXEC\"",
    ]
    .iter()
    .map(|w| format!("[0 {me}] {w}"))
    .collect();
    assert_eq!(m.take(want.len()), want);
}

#[test]
fn multi_exec_io1() {
    multi_exec(1);
}

#[test]
fn multi_exec_io4() {
    multi_exec(4);
}

fn wait_blocked(c: &mut TcpStream, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !q(c, &["INFO", "clients"]).contains(&format!("blocked_clients:{n}\r\n")) {
        assert!(Instant::now() < deadline, "never {n} blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_blocked_command_is_shown_once_when_it_blocks() {
    for io_threads in [1, 4] {
        let srv = Server::start(io_threads);
        let mut m = monitor(&srv);
        let mut b = srv.raw();
        let mut c = srv.raw();
        send(&mut b, &["BLPOP", "mylist", "0"]);
        wait_blocked(&mut c, 1);
        assert_eq!(q(&mut c, &["LPUSH", "mylist", "1"]), ":1\r\n");
        assert_eq!(
            String::from_utf8_lossy(&read_replies(&mut b, 1)),
            "*2\r\n$6\r\nmylist\r\n$1\r\n1\r\n"
        );
        assert_eq!(q(&mut c, &["LPUSH", "mylist", "2"]), ":1\r\n");
        // The BLPOP when it blocked, the push that served it, and no
        // second BLPOP when it was served.
        let b_addr = addr(&b);
        let c_addr = addr(&c);
        assert_eq!(
            m.next_not_info(),
            format!("[0 {b_addr}] \"BLPOP\" \"mylist\" \"0\"")
        );
        assert_eq!(
            m.next_not_info(),
            format!("[0 {c_addr}] \"LPUSH\" \"mylist\" \"1\"")
        );
        assert_eq!(
            m.next_not_info(),
            format!("[0 {c_addr}] \"LPUSH\" \"mylist\" \"2\"")
        );
    }
}

#[test]
fn the_monitor_itself() {
    for io_threads in [1, 4] {
        let srv = Server::start(io_threads);
        let mut m = monitor(&srv);
        let me = addr(&m.s);
        // A monitor may not touch the keyspace; its other commands run and
        // are shown after their reply. A second MONITOR gets no reply.
        send(&mut m.s, &["GET", "x"]);
        assert_eq!(m.raw(), "-ERR Replica can't interact with the keyspace");
        send(&mut m.s, &["MONITOR"]);
        send(&mut m.s, &["PING"]);
        assert_eq!(m.raw(), "+PONG");
        assert_eq!(m.next(), format!("[0 {me}] \"PING\""));
        let mut c = srv.raw();
        let list = q(&mut c, &["CLIENT", "LIST"]);
        let mine = list
            .lines()
            .find(|l| l.contains(&format!("addr={me} ")))
            .expect("monitor listed");
        assert!(mine.contains(" flags=O "), "{mine}");
        // Its socket's descriptor, as Valkey shows it.
        let fd = mine.split(" fd=").nth(1).and_then(|r| r.split(' ').next());
        assert!(fd.and_then(|f| f.parse::<u32>().ok()).is_some(), "{mine}");
        assert!(mine.contains(" cmd=ping "), "{mine}");
        // RESET ends monitoring.
        send(&mut m.s, &["RESET"]);
        assert_eq!(m.raw(), "+RESET");
        assert_eq!(q(&mut c, &["SET", "a", "1"]), OK);
        send(&mut m.s, &["PING"]);
        assert_eq!(m.raw(), "+PONG");
        assert!(!q(&mut c, &["CLIENT", "LIST"]).contains("flags=O"));
        // Not from a transaction.
        for (a, r) in [(&["MULTI"][..], OK), (&["MONITOR"], "+QUEUED\r\n")] {
            assert_eq!(q(&mut c, a), r);
        }
        assert_eq!(
            q(&mut c, &["EXEC"]),
            "*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n"
        );
        // QUIT: its reply, and the connection closes with no line of it.
        let mut m2 = monitor(&srv);
        send(&mut m2.s, &["QUIT"]);
        assert_eq!(read_to_close(&mut m2.s), b"+OK\r\n");
        assert_eq!(q(&mut c, &["PING"]), "+PONG\r\n");
        // A normal client to CLIENT LIST and KILL, not a replica.
        let mut m3 = monitor(&srv);
        assert!(q(&mut c, &["CLIENT", "LIST", "TYPE", "normal"]).contains(" flags=O "));
        assert!(!q(&mut c, &["CLIENT", "LIST", "TYPE", "replica"]).contains("id="));
        assert_eq!(
            q(&mut c, &["CLIENT", "KILL", "TYPE", "normal", "FLAGS", "O"]),
            ":1\r\n"
        );
        assert_eq!(read_to_close(&mut m3.s), b"");
    }
}

/// To Valkey a monitor is a replica: `timeout` does not close it and
/// CLIENT PAUSE does not hold its commands.
#[test]
fn never_timed_out_nor_paused() {
    for io_threads in [1, 4] {
        let srv = Server::start_with(&[
            "--io-threads",
            &io_threads.to_string(),
            "--events-per-io-thread",
            "0",
            "--timeout",
            "1",
        ]);
        let mut m = monitor(&srv);
        let me = addr(&m.s);
        let idle = srv.raw();
        let idle_addr = addr(&idle);
        // The idle client goes; the monitor, idle as long, stays.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut c = srv.raw();
            let list = q(&mut c, &["CLIENT", "LIST"]);
            if !list.contains(&idle_addr) {
                assert!(list.contains(&me), "{list}");
                break;
            }
            assert!(Instant::now() < deadline, "idle client never closed");
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut c = srv.raw();
        assert_eq!(q(&mut c, &["CLIENT", "PAUSE", "100000", "ALL"]), OK);
        send(&mut m.s, &["PING"]);
        assert_eq!(m.raw(), "+PONG");
        assert_eq!(m.next(), format!("[0 {me}] \"PING\""));
        // (The pause holds everyone else's commands, CLIENT UNPAUSE too;
        // the server ends with the test.)
    }
}

/// Clients on every IO thread sending pipelines at once: each command
/// appears once, each client's in the order it sent them.
#[test]
fn concurrent_pipelines_all_appear_in_client_order() {
    for io_threads in [1, 4] {
        let srv = Server::start(io_threads);
        let mut m = monitor(&srv);
        let workers: Vec<_> = (0..6)
            .map(|_| {
                let mut c = srv.raw();
                let me = addr(&c);
                let t = std::thread::spawn(move || {
                    for round in 0..10 {
                        let mut all = Vec::new();
                        for i in 0..20 {
                            let n = format!("{}", round * 20 + i);
                            all.extend_from_slice(&cmd(&[b"SET", b"k", n.as_bytes()]));
                        }
                        c.write_all(&all).expect("write");
                        read_replies(&mut c, 20);
                    }
                });
                (me, t)
            })
            .collect();
        let mut next: std::collections::HashMap<String, usize> =
            workers.iter().map(|(a, _)| (a.clone(), 0)).collect();
        for _ in 0..6 * 200 {
            let l = m.next();
            let (who, what) = l.split_once("] ").expect("line");
            let who = who.strip_prefix("[0 ").expect("db 0");
            let n = next.get_mut(who).unwrap_or_else(|| panic!("who? {l}"));
            assert_eq!(what, format!("\"SET\" \"k\" \"{n}\""));
            *n += 1;
        }
        for (_, t) in workers {
            t.join().expect("worker");
        }
        assert!(next.values().all(|&n| n == 200), "{next:?}");
    }
}
