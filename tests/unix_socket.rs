//! The Unix-domain socket (`unixsocket`, `unixsocketperm`,
//! `unixsocketgroup`), served beside TCP as Valkey serves it: same commands
//! and data, CLIENT LIST's address and `U` flag, INFO's listener lines, the
//! stale socket file replaced at start and removed at shutdown, and `port 0`
//! meaning no TCP at all.

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{bulk, cmd, Server, OK};

/// A fresh directory for one test's socket (short: a socket path has a
/// 107-byte limit).
fn socket_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "fk-unix-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn unix_conn(path: &Path) -> UnixStream {
    let s = UnixStream::connect(path).expect("connect unix socket");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s
}

/// One command over a Unix socket; its reply as text (one read loop until
/// a complete reply: these replies are single lines or one bulk).
fn uq(s: &mut UnixStream, args: &[&str]) -> String {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    s.write_all(&cmd(&a)).expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        if let Some(end) = complete(&buf, 0) {
            assert_eq!(end, buf.len());
            return String::from_utf8_lossy(&buf).into_owned();
        }
        let n = s.read(&mut chunk).expect("read");
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The end of one reply starting at `at` in `buf` (simple, bulk, or an
/// array of those), if it is all there.
fn complete(buf: &[u8], at: usize) -> Option<usize> {
    let nl = at + buf.get(at..)?.windows(2).position(|w| w == b"\r\n")? + 2;
    let num = || -> Option<i64> { std::str::from_utf8(&buf[at + 1..nl - 2]).ok()?.parse().ok() };
    match buf[at] {
        b'$' => {
            let len = num()?;
            if len < 0 {
                return Some(nl);
            }
            let end = nl + len as usize + 2;
            (buf.len() >= end).then_some(end)
        }
        b'*' => (0..num()?.max(0)).try_fold(nl, |p, _| complete(buf, p)),
        _ => Some(nl),
    }
}

/// The body of a bulk reply.
fn body(reply: &str) -> &str {
    let start = reply.find("\r\n").expect("bulk header") + 2;
    &reply[start..reply.len() - 2]
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn start_with_socket(io_threads: usize, sock: &Path) -> Server {
    let sock = sock.to_str().expect("utf-8 path");
    let threads = io_threads.to_string();
    Server::start_with(&[
        "--io-threads",
        &threads,
        "--events-per-io-thread",
        "0",
        "--unixsocket",
        sock,
        "--unixsocketperm",
        "700",
    ])
}

/// TCP and the Unix socket serve the same data; CLIENT LIST names a Unix
/// client by the socket's path (as Valkey 9.1: `[<path>:0]:0`) with flag
/// `U`; INFO lists both listeners; the socket file has `unixsocketperm`; a
/// large reply (partial writes) arrives whole.
fn serves_beside_tcp(io_threads: usize) {
    let dir = socket_dir();
    let sock = dir.join("sock");
    // A stale file where the socket goes is replaced, as Valkey does.
    std::fs::write(&sock, b"stale").expect("stale file");
    let srv = start_with_socket(io_threads, &sock);
    let mode = std::fs::metadata(&sock).expect("socket file").permissions();
    assert_eq!(mode.mode() & 0o777, 0o700);

    let mut u = unix_conn(&sock);
    let mut t = srv.raw();
    assert_eq!(uq(&mut u, &["SET", "k", "from-unix"]), OK);
    assert_eq!(common::q(&mut t, &["GET", "k"]), bulk("from-unix"));
    assert_eq!(common::q(&mut t, &["SET", "k2", "from-tcp"]), OK);
    assert_eq!(uq(&mut u, &["GET", "k2"]), bulk("from-tcp"));

    let path = sock.to_str().expect("utf-8");
    let info = uq(&mut u, &["CLIENT", "INFO"]);
    assert!(
        info.contains(&format!(" addr=[{path}:0]:0 laddr=[{path}:0]:0 ")),
        "{info}"
    );
    assert!(info.contains(" flags=U "), "{info}");
    let tcp_info = common::q(&mut t, &["CLIENT", "INFO"]);
    assert!(tcp_info.contains(" flags=N "), "{tcp_info}");
    assert!(tcp_info.contains(" addr=127.0.0.1:"), "{tcp_info}");

    let server = uq(&mut u, &["INFO", "server"]);
    assert!(
        server.contains(&format!(
            "\r\nlistener0:name=tcp,bind=127.0.0.1,port={}\r\n",
            srv.port
        )),
        "{server}"
    );
    assert!(
        server.contains(&format!("\r\nlistener1:name=unix,bind={path}\r\n")),
        "{server}"
    );
    let cfg = uq(&mut u, &["CONFIG", "GET", "unixsocketperm"]);
    assert!(cfg.contains("$3\r\n700\r\n"), "{cfg}");

    // 4 MB out through the Unix socket, several writes' worth.
    let big = "x".repeat(4 << 20);
    assert_eq!(uq(&mut u, &["SET", "big", &big]), OK);
    let got = uq(&mut u, &["GET", "big"]);
    assert_eq!(body(&got).len(), big.len());

    // A pipeline of 1,000 commands in one write, answered in order.
    let mut pipe = Vec::new();
    for _ in 0..1000 {
        pipe.extend_from_slice(&cmd(&[b"INCR", b"n"]));
    }
    u.write_all(&pipe).expect("pipeline");
    let mut buf = Vec::new();
    let want: String = (1..=1000).map(|i| format!(":{i}\r\n")).collect();
    let mut chunk = [0u8; 65536];
    while buf.len() < want.len() {
        let n = u.read(&mut chunk).expect("read pipeline");
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(String::from_utf8_lossy(&buf), want);

    // The redis crate connects through the socket too.
    let client = redis::Client::open(format!("redis+unix://{path}")).expect("client");
    let mut c = client.get_connection().expect("connect");
    let v: String = redis::cmd("GET").arg("k").query(&mut c).expect("get");
    assert_eq!(v, "from-unix");

    // A monitor names a Unix client `unix:<path>`, as Valkey.
    let mut m = srv.raw();
    assert_eq!(common::q(&mut m, &["MONITOR"]), OK);
    assert_eq!(uq(&mut u, &["GET", "k"]), bulk("from-unix"));
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        assert_eq!(m.read(&mut byte).expect("monitor line"), 1);
        line.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&line);
    assert!(
        line.ends_with(&format!(" [0 unix:{path}] \"GET\" \"k\"\r\n")),
        "{line}"
    );

    // CONFIG SET port replaces the TCP listener; the Unix socket stays.
    let port = common::free_port();
    let set = uq(&mut u, &["CONFIG", "SET", "port", &port.to_string()]);
    assert_eq!(set, OK);
    wait_until("the new port", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let mut u2 = unix_conn(&sock);
    assert_eq!(uq(&mut u2, &["GET", "k"]), bulk("from-unix"));
    drop(srv);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn serves_beside_tcp_io_threads_1() {
    serves_beside_tcp(1);
}

#[test]
fn serves_beside_tcp_io_threads_4() {
    serves_beside_tcp(4);
}

/// SHUTDOWN removes the socket file.
#[test]
fn shutdown_removes_the_socket_file() {
    let dir = socket_dir();
    let sock = dir.join("sock");
    let mut srv = start_with_socket(1, &sock);
    assert!(sock.exists());
    let mut u = unix_conn(&sock);
    u.write_all(&cmd(&[b"SHUTDOWN", b"NOSAVE"]))
        .expect("shutdown");
    let st = srv.wait_exit(Duration::from_secs(10)).expect("exited");
    assert!(st.success(), "{st:?}");
    assert!(!sock.exists(), "socket file left behind");
    let _ = std::fs::remove_dir_all(dir);
}

/// A server started by hand (the harness waits on TCP); killed by its pid
/// when dropped.
struct Child2(Child);

impl Drop for Child2 {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrokey-server"))
}

/// `port 0` with a Unix socket: no TCP listener, no `listener0` line, and
/// `tcp_port:0`; the Unix socket serves at io-threads 1 and 4.
#[test]
fn port_0_listens_only_on_the_unix_socket() {
    for threads in ["1", "4"] {
        let dir = socket_dir();
        let sock = dir.join("sock");
        let child = bin()
            .args([
                "--port",
                "0",
                "--loglevel",
                "warning",
                "--io-threads",
                threads,
            ])
            .args(["--events-per-io-thread", "0", "--unixsocket"])
            .arg(&sock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let _guard = Child2(child);
        wait_until("the unix socket", || UnixStream::connect(&sock).is_ok());
        let mut u = unix_conn(&sock);
        assert_eq!(uq(&mut u, &["PING"]), "+PONG\r\n");
        let server = uq(&mut u, &["INFO", "server"]);
        assert!(server.contains("\r\ntcp_port:0\r\n"), "{server}");
        assert!(!server.contains("listener0:"), "{server}");
        assert!(server.contains("\r\nlistener1:name=unix,bind="), "{server}");
        // Every client came through the socket (the probe connection of
        // the wait above may still be listed, closing).
        let clients = uq(&mut u, &["CLIENT", "LIST"]);
        let lines: Vec<&str> = clients.lines().filter(|l| l.starts_with("id=")).collect();
        assert!(!lines.is_empty(), "{clients}");
        assert!(lines.iter().all(|l| l.contains(" flags=U ")), "{clients}");
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Nothing to listen on, or a group that does not exist: Valkey's log line
/// and exit code 1.
#[test]
fn startup_failures_are_reported_as_valkey_does() {
    let out = bin().args(["--port", "0"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        log.contains("Configured to not listen anywhere, exiting."),
        "{log}"
    );

    let dir = socket_dir();
    let sock = dir.join("sock");
    let out = bin()
        .args(["--port", "0", "--unixsocket"])
        .arg(&sock)
        .args(["--unixsocketgroup", "no-such-group-fk"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        log.contains("Failed opening Unix socket: getgrnam error for group 'no-such-group-fk'"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `unixsocketgroup` sets the socket file's group (the process's own
/// group, which it may always set).
#[test]
fn unixsocketgroup_sets_the_group() {
    use std::os::unix::fs::MetadataExt;
    let dir = socket_dir();
    let sock = dir.join("sock");
    // The group of a file we create is our effective group; find its name.
    let probe = dir.join("probe");
    std::fs::write(&probe, b"").expect("probe");
    let gid = std::fs::metadata(&probe).expect("probe").gid();
    let group = std::fs::read_to_string("/etc/group")
        .ok()
        .and_then(|g| {
            g.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2] == gid.to_string()).then(|| f[0].to_string())
            })
        })
        .expect("a name for our group in /etc/group");
    let srv = Server::start_with(&[
        "--unixsocket",
        sock.to_str().expect("utf-8"),
        "--unixsocketgroup",
        &group,
        "--unixsocketperm",
        "744",
    ]);
    let meta = std::fs::metadata(&sock).expect("socket");
    assert_eq!(meta.gid(), gid);
    assert_eq!(meta.permissions().mode() & 0o777, 0o744);
    drop(srv);
    let _ = std::fs::remove_dir_all(dir);
}
