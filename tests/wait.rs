//! WAIT and WAITAOF with no replicas and no append-only file, as Valkey
//! 9.1 replies then: 0 at once for a wait for none, else 0 once the
//! timeout passes (or CLIENT UNBLOCK ends the wait).

#[macro_use]
mod common;

use common::{cmd, int, q, read_replies, OK};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn send(s: &mut TcpStream, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    s.write_all(&cmd(&a)).expect("write");
}

fn wait_blocked(s: &mut TcpStream, n: usize) {
    let want = format!("blocked_clients:{n}\r\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !q(s, &["INFO", "clients"]).contains(&want) {
        assert!(Instant::now() < deadline, "never saw {want:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The id of the client whose last command is `cmd`, from CLIENT LIST.
fn id_of(s: &mut TcpStream, cmd: &str) -> String {
    q(s, &["CLIENT", "LIST"])
        .lines()
        .find(|l| l.contains(&format!(" cmd={cmd} ")))
        .and_then(|l| l.split(' ').next())
        .and_then(|f| f.strip_prefix("id="))
        .expect("the waiting client")
        .to_string()
}

server_test!(waits_reply_what_acknowledged, |srv| {
    let mut a = srv.raw();
    let mut b = srv.raw();
    assert_eq!(q(&mut a, &["WAIT", "0", "0"]), int(0));
    assert_eq!(q(&mut a, &["WAIT", "-1", "0"]), int(0));
    assert_eq!(q(&mut a, &["WAITAOF", "0", "0", "0"]), "*2\r\n:0\r\n:0\r\n");
    // A wait for a replica blocks; at its timeout nobody acknowledged.
    send(&mut a, &["WAIT", "1", "100000"]);
    wait_blocked(&mut b, 1);
    let waiting = id_of(&mut b, "wait");
    assert_eq!(q(&mut b, &["CLIENT", "UNBLOCK", &waiting]), int(1));
    assert_eq!(String::from_utf8_lossy(&read_replies(&mut a, 1)), int(0));
    assert_eq!(q(&mut a, &["WAIT", "1", "50"]), int(0));
    assert_eq!(
        q(&mut a, &["WAITAOF", "0", "1", "20"]),
        "*2\r\n:0\r\n:0\r\n"
    );
    // Timeout 0 waits until CLIENT UNBLOCK.
    send(&mut a, &["WAIT", "2", "0"]);
    wait_blocked(&mut b, 1);
    let waiting = id_of(&mut b, "wait");
    assert_eq!(q(&mut b, &["CLIENT", "UNBLOCK", &waiting]), int(1));
    assert_eq!(String::from_utf8_lossy(&read_replies(&mut a, 1)), int(0));
    // Inside MULTI nothing waits.
    assert_eq!(q(&mut a, &["MULTI"]), OK);
    assert_eq!(q(&mut a, &["WAIT", "1", "0"]), "+QUEUED\r\n");
    assert_eq!(q(&mut a, &["EXEC"]), "*1\r\n:0\r\n");
});

server_test!(wait_errors, |srv| {
    let mut a = srv.raw();
    for (args, err) in [
        (&["WAIT", "0", "-1"][..], "ERR timeout is negative"),
        (
            &["WAIT", "a", "0"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["WAIT", "0", "1.5"],
            "ERR timeout is not an integer or out of range",
        ),
        (
            &["WAITAOF", "-1", "0", "0"],
            "ERR value is out of range, value must between 0 and 1",
        ),
        (
            &["WAITAOF", "0", "-1", "0"],
            "ERR value is out of range, must be positive",
        ),
        (&["WAITAOF", "1", "0", "-1"], "ERR timeout is negative"),
        (
            &["WAITAOF", "1", "0", "0"],
            "ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.",
        ),
        (
            &["WAIT", "5", "0", "x"],
            "ERR wrong number of arguments for 'wait' command",
        ),
    ] {
        assert_eq!(q(&mut a, args), format!("-{err}\r\n"), "{args:?}");
    }
});
