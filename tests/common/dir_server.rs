//! A server started on a data directory of the test's (`--dir`), logging to
//! `dir`/log, for tests of what it loads at startup: it may refuse to start,
//! so its exit and its log are what the test reads. The directory is
//! removed, and the server killed by its pid, on drop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

pub struct DirServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl DirServer {
    /// `io_threads` (all active from the start), then `args`.
    pub fn spawn(dir: &Path, io_threads: usize, args: &[&str]) -> DirServer {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrokey-server"));
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"]);
        cmd.args(["--loglevel", "notice", "--logfile"]);
        cmd.arg(dir.join("log"));
        cmd.arg("--dir").arg(dir);
        cmd.args(["--io-threads", &io_threads.to_string()]);
        if io_threads > 1 {
            cmd.args(["--events-per-io-thread", "0"]);
        }
        cmd.args(args);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        DirServer {
            child: cmd.spawn().unwrap(),
            port,
            dir: dir.to_path_buf(),
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// Answers PING with `+PONG` (loaded and serving).
    fn pongs(&self, timeout: Duration) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(timeout));
        let mut buf = [0u8; 64];
        s.write_all(b"PING\r\n").is_ok()
            && s.read(&mut buf)
                .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
    }

    /// Waits until it answers PING with PONG (loaded and serving).
    pub fn ready(&mut self) -> &mut Self {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("server exited ({st}); log:\n{}", self.log());
            }
            if self.pongs(Duration::from_secs(5)) {
                return self;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("not ready; log:\n{}", self.log());
    }

    /// Waits for the process to exit by itself.
    pub fn exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("still running; log:\n{}", self.log());
    }

    /// Waits for the process to exit by itself, checking meanwhile that it
    /// never served (no PONG, no ready line).
    pub fn exit_unserved(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                assert!(
                    !self.log().contains("Ready to accept connections"),
                    "{}",
                    self.log()
                );
                return st;
            }
            assert!(
                !self.pongs(Duration::from_millis(200)),
                "served: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("still running; log:\n{}", self.log());
    }

    pub fn conn(&self) -> redis::Connection {
        let c = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .unwrap()
            .get_connection()
            .unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c
    }
}

impl Drop for DirServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
