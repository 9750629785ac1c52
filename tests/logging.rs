//! The log as Valkey writes it: plain `pid:M dd Mon yyyy hh:mm:ss.mmm C msg`
//! lines (no colour codes) on a pipe or in a file, with the startup lines
//! tools and the Valkey suite wait for.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Starts the server with stdout piped; a thread forwards its lines.
fn start(args: &[&str]) -> (Child, mpsc::Receiver<String>, u16) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrokey-server"))
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).split(b'\n') {
            let Ok(line) = line else { break };
            // Lossless: a stray ESC byte must reach the assertions.
            if tx
                .send(String::from_utf8_lossy(&line).into_owned())
                .is_err()
            {
                break;
            }
        }
    });
    (child, rx, port)
}

/// Collects lines until one contains `until` (deadline 20 s).
fn lines_until(rx: &mpsc::Receiver<String>, until: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut lines = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(l) => {
                let done = l.contains(until);
                lines.push(l);
                if done {
                    return lines;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no line containing {until:?} in {lines:#?}");
}

/// Checks Valkey's prefix: `<pid>:M 06 Dec 2026 19:07:49.949 <level> `.
/// Returns the message after it.
fn valkey_line(line: &str, pid: u32) -> &str {
    let want = format!("{pid}:M ");
    let rest = line
        .strip_prefix(&want)
        .unwrap_or_else(|| panic!("no pid/role prefix: {line:?}"));
    let b = rest.as_bytes();
    assert!(b.len() > 27, "{line:?}");
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    assert!(digits(0..2) && b[2] == b' ', "{line:?}");
    assert!(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            .contains(&&rest[3..6]),
        "{line:?}"
    );
    assert!(b[6] == b' ' && digits(7..11) && b[11] == b' ', "{line:?}");
    assert!(
        digits(12..14) && b[14] == b':' && digits(15..17) && b[17] == b':',
        "{line:?}"
    );
    assert!(
        digits(18..20) && b[20] == b'.' && digits(21..24) && b[24] == b' ',
        "{line:?}"
    );
    assert!(
        matches!(b[25], b'.' | b'-' | b'*' | b'#') && b[26] == b' ',
        "{line:?}"
    );
    &rest[27..]
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn piped_log_is_plain_valkey_layout() {
    let (child, rx, port) = start(&["--loglevel", "notice"]);
    let pid = child.id();
    let lines = lines_until(&rx, "Ready to accept connections tcp");
    let mut msgs = Vec::new();
    for l in &lines {
        assert!(!l.contains('\x1b'), "colour code in a piped log: {l:?}");
        msgs.push(valkey_line(l, pid).to_string());
    }
    assert_eq!(msgs[0], "oO0OoO0OoO0Oo ferrokey is starting oO0OoO0OoO0Oo");
    assert!(msgs.iter().any(|m| m == "Configuration loaded"), "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| *m == format!("Running mode=standalone, port={port}.")),
        "{msgs:?}"
    );
    let init = msgs.iter().position(|m| m == "Server initialized");
    let ready = msgs
        .iter()
        .position(|m| m == "Ready to accept connections tcp");
    assert!(init.is_some() && init < ready, "{msgs:?}");
    // Shutdown lines are warnings ('#'), as in Valkey.
    let st = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "shutdown", "nosave"])
        .output();
    if st.is_ok() {
        let lines = lines_until(&rx, "ready to exit, bye bye");
        let last = lines.last().expect("line");
        assert!(!last.contains('\x1b'));
        assert!(last.contains(" # "), "{last:?}");
        valkey_line(last, pid);
    }
    stop(child);
}

#[test]
fn logo_has_the_pid_line_the_suite_waits_for() {
    // tests/support/server.tcl: regexp " PID: $pid.*Server initialized".
    let (child, rx, _) = start(&["--always-show-logo", "yes"]);
    let pid = child.id();
    let lines = lines_until(&rx, "Server initialized");
    let text = lines.join("\n");
    let at = text.find(&format!(" PID: {pid}")).expect("PID line");
    assert!(at < text.find("Server initialized").expect("initialized"));
    assert!(!text.contains('\x1b'));
    stop(child);
}

#[test]
fn loglevel_warning_hides_notices_and_logfile_gets_plain_lines() {
    let path = std::env::temp_dir().join(format!("ferrokey-log-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let (child, _rx, port) = start(&[
        "--logfile",
        path.to_str().expect("utf8"),
        "--enable-debug-command",
        "yes",
    ]);
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut text = String::new();
    while Instant::now() < deadline {
        text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.contains("Ready to accept connections tcp") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(text.contains("Ready to accept connections tcp"), "{text}");
    for l in text.lines() {
        valkey_line(l, pid);
    }
    // A log rotated away (moved) is followed: the next line goes to a new
    // file at the configured path, as Valkey reopens it for every line.
    let moved = path.with_extension("log.1");
    std::fs::rename(&path, &moved).expect("rotate");
    let _ = inline(port, "DEBUG LOG after-rotation");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let t = std::fs::read_to_string(&path).unwrap_or_default();
        if t.contains("DEBUG LOG: after-rotation") {
            break;
        }
        assert!(Instant::now() < deadline, "no line in the new log file");
        std::thread::sleep(Duration::from_millis(20));
    }
    stop(child);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&moved);

    // loglevel warning: no notice lines at all. A port already taken
    // fails startup with a warning in Valkey's words (the suite retries
    // another port when it sees "Failed listening on port").
    let held = TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = held.local_addr().expect("addr").port().to_string();
    let (child, rx, _) = start(&["--loglevel", "warning", "--port", &taken]);
    let _ = port;
    let lines = lines_until(&rx, "Failed listening on port");
    assert!(lines.last().expect("line").ends_with(&format!(
        "Failed listening on port {taken} (tcp), aborting."
    )));
    let pid = child.id();
    for l in &lines {
        assert!(l.contains(" # "), "only warnings: {l:?}");
        valkey_line(l, pid);
    }
    stop(child);
}

/// Sends one inline command and reads one reply line.
fn inline(port: u16, line: &str) -> String {
    use std::io::{Read, Write};
    // At loglevel warning there is no "Ready" line to wait for: retry.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut s = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("connect: {e}"),
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(format!("{line}\r\n").as_bytes())
        .expect("write");
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).expect("read");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn config_set_loglevel_applies_at_once() {
    let (child, rx, port) = start(&["--loglevel", "warning", "--enable-debug-command", "yes"]);
    let pid = child.id();
    // Startup notices are hidden; the first line is our own warning.
    assert_eq!(inline(port, "DEBUG change-repl-id"), "+OK\r\n");
    assert_eq!(inline(port, "DEBUG LOG marker-one"), "+OK\r\n");
    let lines = lines_until(&rx, "marker-one");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(valkey_line(&lines[0], pid), "DEBUG LOG: marker-one");
    assert_eq!(inline(port, "CONFIG SET loglevel notice"), "+OK\r\n");
    assert_eq!(inline(port, "DEBUG change-repl-id"), "+OK\r\n");
    let lines = lines_until(&rx, "Changing replication IDs");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(
        valkey_line(&lines[0], pid),
        "Changing replication IDs after receiving DEBUG change-repl-id"
    );
    assert!(lines[0].contains(" * "), "a notice: {lines:?}");
    stop(child);
}

#[test]
fn signals_are_named_in_the_shutdown_line() {
    for (sig, name) in [("-TERM", "SIGTERM"), ("-INT", "SIGINT")] {
        let (child, rx, _port) = start(&["--loglevel", "notice"]);
        let pid = child.id();
        lines_until(&rx, "Ready to accept connections tcp");
        let st = Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .expect("kill");
        assert!(st.success());
        let lines = lines_until(&rx, "scheduling shutdown...");
        let last = lines.last().expect("a line");
        assert_eq!(
            valkey_line(last, pid),
            format!("Received {name} scheduling shutdown...")
        );
        assert!(last.contains(" # "), "a warning: {last}");
        stop(child);
    }
}
