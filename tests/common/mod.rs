//! Test harness: starts the real `ferrokey-server` binary on a free port and
//! talks to it with the `redis` crate or raw bytes. The server is killed
//! (by its pid) when the `Server` is dropped.

#![allow(dead_code)]

pub mod dir_server;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    /// A server with `io-threads n` and otherwise default settings, except
    /// that with IO threads they are all active from the start
    /// (`events-per-io-thread 0`): at test loads the server would otherwise
    /// keep all IO on the main thread and the IO threads would go untested.
    pub fn start(io_threads: usize) -> Server {
        if io_threads > 1 {
            Server::start_with(&[
                "--io-threads",
                &io_threads.to_string(),
                "--events-per-io-thread",
                "0",
            ])
        } else {
            Server::start_with(&["--io-threads", "1"])
        }
    }

    /// A server with extra `--directive value` arguments.
    pub fn start_with(args: &[&str]) -> Server {
        Server::start_full(None, args)
    }

    /// A server with a config file and extra arguments.
    pub fn start_full(config_file: Option<&str>, args: &[&str]) -> Server {
        for _attempt in 0..20 {
            let port = free_port();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrokey-server"));
            match config_file {
                Some(f) => {
                    cmd.arg(f);
                }
                // No snapshots of test data unless a test asks (Valkey's
                // default save points would write dump.rdb into the cwd).
                None => {
                    cmd.args(["--save", ""]);
                }
            }
            cmd.args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--loglevel",
                "warning",
            ]);
            cmd.args(args);
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
            let mut child = cmd.spawn().expect("spawn ferrokey-server");
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: most likely the port was taken; retry
                }
                if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_ok() {
                        let mut buf = [0u8; 64];
                        if let Ok(n) = s.read(&mut buf) {
                            if n > 0 && (buf.starts_with(b"+PONG") || buf.starts_with(b"-NOAUTH")) {
                                return Server { child, port };
                            }
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("ferrokey-server did not start");
    }

    pub fn client(&self) -> redis::Client {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).expect("client")
    }

    pub fn conn(&self) -> redis::Connection {
        let c = self.client().get_connection().expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        c
    }

    /// A raw TCP connection with a read timeout.
    pub fn raw(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s.set_nodelay(true).expect("nodelay");
        s
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit by itself (after SHUTDOWN, say).
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    l.local_addr().expect("addr").port()
}

/// Sends raw bytes and reads back `n` complete RESP replies, as bytes.
pub fn raw_roundtrip(s: &mut TcpStream, send: &[u8], n: usize) -> Vec<u8> {
    s.write_all(send).expect("write");
    read_replies(s, n)
}

/// Reads exactly `n` complete RESP replies (any type, nested) from `s`.
pub fn read_replies(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    loop {
        if let Some(end) = complete_replies(&buf, n) {
            assert_eq!(
                end,
                buf.len(),
                "more bytes than {n} replies: {:?}",
                String::from_utf8_lossy(&buf)
            );
            return buf;
        }
        let mut chunk = [0u8; 65536];
        let k = s.read(&mut chunk).expect("read reply");
        if k == 0 {
            panic!(
                "connection closed after {:?}",
                String::from_utf8_lossy(&buf)
            );
        }
        buf.extend_from_slice(&chunk[..k]);
    }
}

/// Reads until the server closes the connection; returns all bytes.
/// Panics if the connection is still open when the read timeout expires.
pub fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return buf,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            // A reset after the server closed with unread input is a close too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return buf,
            Err(e) => panic!(
                "connection not closed ({e}) after {:?}",
                String::from_utf8_lossy(&buf)
            ),
        }
    }
}

fn line(buf: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rel = buf[at..].windows(2).position(|w| w == b"\r\n")?;
    Some((&buf[at..at + rel], at + rel + 2))
}

/// End offset of `n` complete replies starting at 0, if all are there.
fn complete_replies(buf: &[u8], n: usize) -> Option<usize> {
    let mut at = 0;
    for _ in 0..n {
        at = one_reply(buf, at)?;
    }
    Some(at)
}

fn one_reply(buf: &[u8], at: usize) -> Option<usize> {
    if at >= buf.len() {
        return None;
    }
    let (l, next) = line(buf, at)?;
    let tag = l[0];
    let num = || std::str::from_utf8(&l[1..]).ok()?.parse::<i64>().ok();
    match tag {
        b'+' | b'-' | b':' | b',' | b'#' | b'_' | b'(' => Some(next),
        b'$' | b'=' | b'!' => {
            let len = num()?;
            if len < 0 {
                return Some(next);
            }
            let end = next + len as usize + 2;
            (buf.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let mut len = num()?;
            if len < 0 {
                return Some(next);
            }
            if tag == b'%' || tag == b'|' {
                len *= 2;
            }
            let mut p = next;
            for _ in 0..len {
                p = one_reply(buf, p)?;
            }
            Some(p)
        }
        _ => panic!("not RESP: {:?}", String::from_utf8_lossy(buf)),
    }
}

/// Sends one command (arguments as text) and returns its reply as text.
pub fn q(s: &mut TcpStream, args: &[&str]) -> String {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    String::from_utf8_lossy(&raw_roundtrip(s, &cmd(&a), 1)).into_owned()
}

/// The RESP bulk string of `v`.
pub fn bulk(v: &str) -> String {
    format!("${}\r\n{v}\r\n", v.len())
}

/// An array of bulk strings.
pub fn arr(items: &[&str]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(&bulk(i));
    }
    s
}

/// The RESP integer `n`.
pub fn int(n: i64) -> String {
    format!(":{n}\r\n")
}

pub const OK: &str = "+OK\r\n";
pub const NULL: &str = "$-1\r\n";
pub const NULL_ARRAY: &str = "*-1\r\n";
pub const EMPTY: &str = "*0\r\n";
pub const SYNTAX: &str = "-ERR syntax error\r\n";
pub const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
pub const WRONGTYPE: &str =
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/// Encodes a command as a RESP multibulk.
pub fn cmd(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Runs a test body once against a server at `io-threads 1` and once at
/// `io-threads 4`, as two separate tests.
#[macro_export]
macro_rules! server_test {
    ($name:ident, |$srv:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($srv: &common::Server) $body
            #[test]
            fn io_threads_1() {
                run(&common::Server::start(1))
            }
            #[test]
            fn io_threads_4() {
                run(&common::Server::start(4))
            }
        }
    };
}
