//! Starting and stopping the binary like valkey-server: config files,
//! command-line directives, bad configuration, signals, idle timeouts.

mod common;

use std::process::Command;
use std::time::Duration;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrokey-server"))
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!(
        "ferrokey-{}-{}-{name}",
        std::process::id(),
        name.len()
    ));
    std::fs::write(&p, text).expect("write temp config");
    p
}

#[test]
fn bad_config_line_stops_startup_with_file_line_and_reason() {
    let p = temp_file("bad.conf", "# ok\nport 7000\nmaxclients lots\n");
    let out = bin().arg(&p).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    // Valkey's report, byte for byte but for the version.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("\n*** FATAL CONFIG FILE ERROR (Version "),
        "stderr was: {err}"
    );
    assert!(
        err.ends_with(") ***\nReading the configuration file, at line 3\n>>> 'maxclients lots'\nargument couldn't be parsed into an integer\n"),
        "stderr was: {err}"
    );
    let _ = std::fs::remove_file(p);
}

#[test]
fn unknown_directive_and_unsupported_value_stop_startup() {
    let out = bin().args(["--no-such-thing", "1"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.ends_with(
            "at line 2\n>>> 'no-such-thing \"1\"'\nBad directive or wrong number of arguments\n"
        ),
        "{err}"
    );
    let p = temp_file("aof.conf", "appendonly maybe\n");
    let out = bin().arg(&p).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at line 1\n>>> 'appendonly maybe'\n"), "{err}");
    let _ = std::fs::remove_file(p);
    let out = bin()
        .arg("/nonexistent/ferrokey.conf")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn version_and_help() {
    let out = bin().arg("--version").output().expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ferrokey-server v="));
    let out = bin().arg("--help").output().expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: ferrokey-server"));
}

#[test]
fn config_file_then_command_line_options() {
    // The file sets databases 4; the command line wins for io-threads.
    let p = temp_file("good.conf", "databases 4\nio-threads 2\nsave \"\"\n");
    let srv = common::Server::start_full(Some(p.to_str().unwrap()), &["--io-threads", "1"]);
    let mut c = srv.conn();
    let r: redis::RedisResult<()> = redis::cmd("SELECT").arg(3).query(&mut c);
    assert!(r.is_ok());
    let e = redis::cmd("SELECT").arg(4).query::<()>(&mut c).unwrap_err();
    assert_eq!(e.detail(), Some("DB index is out of range"));
    let _ = std::fs::remove_file(p);
}

fn sigterm_exits_cleanly(threads: &str) {
    let mut srv = common::Server::start_with(&["--io-threads", threads]);
    let mut c = srv.conn();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let st = Command::new("kill")
        .args(["-TERM", &srv.pid().to_string()])
        .status()
        .expect("kill");
    assert!(st.success());
    let exit = srv
        .wait_exit(Duration::from_secs(10))
        .expect("server exits after SIGTERM");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn sigterm_exits_cleanly_io_threads_1() {
    sigterm_exits_cleanly("1");
}

#[test]
fn sigterm_exits_cleanly_io_threads_4() {
    sigterm_exits_cleanly("4");
}

fn idle_clients_are_closed_after_timeout(threads: &str) {
    let srv = common::Server::start_with(&["--io-threads", threads, "--timeout", "1"]);
    let mut s = srv.raw();
    assert_eq!(common::raw_roundtrip(&mut s, b"PING\r\n", 1), b"+PONG\r\n");
    // Closed by the server (EOF, not the 10 s read timeout's error).
    let mut buf = [0u8; 16];
    let n = std::io::Read::read(&mut s, &mut buf).expect("EOF, not a read timeout");
    assert_eq!(n, 0);
}

#[test]
fn idle_clients_are_closed_after_timeout_io_threads_1() {
    idle_clients_are_closed_after_timeout("1");
}

#[test]
fn idle_clients_are_closed_after_timeout_io_threads_4() {
    idle_clients_are_closed_after_timeout("4");
}
