//! CLIENT PAUSE and UNPAUSE, at io-threads 1 and 4: held commands wait in
//! order and run at UNPAUSE or the pause's end; reads pass a WRITE pause;
//! keys do not expire while paused (as Valkey 9.1).

#[macro_use]
mod common;

use common::{bulk, cmd, int, q, read_replies, OK};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

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
    while !q(s, &["INFO", "clients"]).contains(&want) {
        assert!(Instant::now() < deadline, "never saw {want:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

server_test!(writes_wait_for_unpause_in_order, |srv| {
    let mut ctl = srv.raw();
    assert_eq!(q(&mut ctl, &["SET", "foo", "bar"]), OK);
    let info = q(&mut ctl, &["INFO", "clients"]);
    assert!(
        info.contains(
            "paused_reason:none\r\npaused_actions:none\r\npaused_timeout_milliseconds:0\r\n"
        ),
        "{info}"
    );
    assert_eq!(q(&mut ctl, &["CLIENT", "PAUSE", "100000", "WRITE"]), OK);
    let info = q(&mut ctl, &["INFO", "clients"]);
    assert!(
        info.contains("paused_reason:client_pause\r\npaused_actions:write\r\n"),
        "{info}"
    );
    // Reads, and errors found before running, pass.
    let mut r = srv.raw();
    assert_eq!(q(&mut r, &["GET", "foo"]), bulk("bar"));
    assert_eq!(
        q(&mut r, &["SET", "foo"]),
        "-ERR wrong number of arguments for 'set' command\r\n"
    );
    // Writes wait, each client's in order, and count as blocked.
    let mut w: Vec<TcpStream> = (0..3).map(|_| srv.raw()).collect();
    for (i, c) in w.iter_mut().enumerate() {
        send(c, &["APPEND", "log", &i.to_string()]);
    }
    send(&mut w[0], &["GET", "log"]);
    wait_blocked(&mut ctl, 3);
    assert!(q(&mut ctl, &["CLIENT", "LIST"]).contains("flags=b "));
    assert_eq!(q(&mut r, &["EXISTS", "log"]), int(0));
    assert_eq!(q(&mut ctl, &["CLIENT", "UNPAUSE"]), OK);
    // w[0]'s APPEND and then its GET, in that order.
    let first = String::from_utf8_lossy(&read_replies(&mut w[0], 2)).into_owned();
    assert!(first.starts_with(':') && first.contains("\r\n$"), "{first}");
    for c in w.iter_mut().skip(1) {
        let r = reply(c);
        assert!(r.starts_with(':'), "{r}");
    }
    let log = q(&mut r, &["GET", "log"]);
    assert!(
        log.starts_with("$3\r\n") && ["0", "1", "2"].iter().all(|d| log.contains(d)),
        "{log}"
    );
    wait_blocked(&mut ctl, 0);
    // A transaction that writes waits; one that only reads does not.
    assert_eq!(q(&mut r, &["MULTI"]), OK);
    assert_eq!(q(&mut r, &["SET", "x", "1"]), "+QUEUED\r\n");
    assert_eq!(q(&mut ctl, &["CLIENT", "PAUSE", "100000", "WRITE"]), OK);
    send(&mut r, &["EXEC"]);
    wait_blocked(&mut ctl, 1);
    let mut ro = srv.raw();
    assert_eq!(q(&mut ro, &["MULTI"]), OK);
    assert_eq!(q(&mut ro, &["GET", "foo"]), "+QUEUED\r\n");
    assert_eq!(q(&mut ro, &["EXEC"]), format!("*1\r\n{}", bulk("bar")));
    assert_eq!(q(&mut ctl, &["CLIENT", "UNPAUSE"]), OK);
    assert_eq!(reply(&mut r), "*1\r\n+OK\r\n");
});

server_test!(
    pause_all_ends_by_itself_and_keeps_the_stricter_mode,
    |srv| {
        let mut ctl = srv.raw();
        assert_eq!(q(&mut ctl, &["SET", "foo", "bar"]), OK);
        // A pause ends by itself: the held GET is answered without UNPAUSE.
        assert_eq!(q(&mut ctl, &["CLIENT", "PAUSE", "50", "ALL"]), OK);
        let mut r = srv.raw();
        send(&mut r, &["GET", "foo"]);
        assert_eq!(reply(&mut r), bulk("bar"));
        // A shorter pause keeps the later end, and the stricter of the two
        // modes applies (Valkey's pauseClientsByClient). Seen from a
        // monitor, which a pause never holds.
        let mut m = srv.raw();
        assert_eq!(q(&mut m, &["MONITOR"]), OK);
        assert_eq!(q(&mut ctl, &["CLIENT", "PAUSE", "100000", "WRITE"]), OK);
        assert_eq!(q(&mut ctl, &["CLIENT", "PAUSE", "10", "ALL"]), OK);
        // (The monitor's own command follows its reply.)
        send(&mut m, &["INFO", "clients"]);
        let both = String::from_utf8_lossy(&read_replies(&mut m, 2)).into_owned();
        let info = both.split("\r\n\r\n").next().unwrap_or_default();
        assert!(info.contains("paused_actions:all\r\n"), "{info}");
        let left: i64 = info
            .lines()
            .find_map(|l| l.strip_prefix("paused_timeout_milliseconds:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("paused_timeout_milliseconds");
        assert!(left > 10_000, "{info}");
        assert!(both.ends_with("\"INFO\" \"clients\"\r\n"), "{both}");
        assert_eq!(q(&mut m, &["CLIENT", "UNPAUSE"]), OK);
        assert_eq!(q(&mut ctl, &["GET", "foo"]), bulk("bar"));
    }
);

server_test!(keys_do_not_expire_while_paused, |srv| {
    let mut c = srv.raw();
    let before = |c: &mut TcpStream| {
        q(c, &["INFO", "stats"])
            .lines()
            .find_map(|l| {
                l.strip_prefix("expired_keys:")
                    .map(|v| v.trim().to_string())
            })
            .expect("expired_keys")
    };
    let n0 = before(&mut c);
    assert_eq!(q(&mut c, &["MULTI"]), OK);
    assert_eq!(q(&mut c, &["SET", "a", "1", "PX", "10"]), "+QUEUED\r\n");
    assert_eq!(
        q(&mut c, &["CLIENT", "PAUSE", "50000", "WRITE"]),
        "+QUEUED\r\n"
    );
    assert_eq!(q(&mut c, &["EXEC"]), "*2\r\n+OK\r\n+OK\r\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    while q(&mut c, &["GET", "a"]) != "$-1\r\n" {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    // Logically gone, but not expired while paused.
    assert_eq!(before(&mut c), n0);
    assert_eq!(q(&mut c, &["CLIENT", "UNPAUSE"]), OK);
    assert_eq!(q(&mut c, &["GET", "a"]), "$-1\r\n");
    let n1: u64 = before(&mut c).parse().expect("number");
    assert_eq!(n1, n0.parse::<u64>().expect("number") + 1);
});

server_test!(pause_errors, |srv| {
    let mut c = srv.raw();
    assert_eq!(
        q(&mut c, &["CLIENT", "PAUSE", "abc"]),
        "-ERR timeout is not an integer or out of range\r\n"
    );
    assert_eq!(
        q(&mut c, &["CLIENT", "PAUSE", "-1"]),
        "-ERR timeout is negative\r\n"
    );
    assert_eq!(
        q(&mut c, &["CLIENT", "PAUSE", "abc", "foo"]),
        "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"
    );
    assert_eq!(
        q(&mut c, &["CLIENT", "UNPAUSE", "x"]),
        "-ERR wrong number of arguments for 'client|unpause' command\r\n"
    );
});

// Valkey 9.1: PFCOUNT and PUBLISH may replicate, so a WRITE pause holds
// them, as it holds a script without declared flags; a script declared
// `no-writes` (or EVAL_RO) runs through it.
server_test!(may_replicate_commands_and_writing_scripts_wait, |srv| {
    let mut ctl = srv.raw();
    assert_eq!(q(&mut ctl, &["PFADD", "hll", "a"]), ":1\r\n");
    assert_eq!(q(&mut ctl, &["CLIENT", "PAUSE", "100000", "WRITE"]), OK);
    assert_eq!(
        q(&mut ctl, &["EVAL", "#!lua flags=no-writes\nreturn 1", "0"]),
        ":1\r\n"
    );
    assert_eq!(q(&mut ctl, &["EVAL_RO", "return 2", "0"]), ":2\r\n");
    let mut a = srv.raw();
    send(&mut a, &["PFCOUNT", "hll"]);
    wait_blocked(&mut ctl, 1);
    let mut b = srv.raw();
    send(&mut b, &["PUBLISH", "ch", "m"]);
    wait_blocked(&mut ctl, 2);
    let mut c = srv.raw();
    send(&mut c, &["EVAL", "return 3", "0"]);
    wait_blocked(&mut ctl, 3);
    assert_eq!(q(&mut ctl, &["CLIENT", "UNPAUSE"]), OK);
    assert_eq!(reply(&mut a), ":1\r\n");
    assert_eq!(reply(&mut b), ":0\r\n");
    assert_eq!(reply(&mut c), ":3\r\n");
});
