//! INFO's event-loop metrics (`eventloop_*` in stats, the `debug` section)
//! and the counts of clients closed for breaking their buffer limits, as
//! the Valkey suite's unit/info checks them.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{bulk, cmd, q, read_to_close, OK};

/// One numeric field of an INFO reply (None when absent).
fn field(info: &str, name: &str) -> Option<u64> {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(|v| v.trim().parse().expect("numeric field"))
}

fn info(s: &mut TcpStream, section: &str) -> String {
    q(s, &["INFO", section])
}

/// Waits until INFO stats shows `name` at `want` (a closed client is
/// counted once its IO thread has told the main thread).
fn wait_stat(s: &mut TcpStream, name: &str, want: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let st = info(s, "stats");
        if field(&st, name) == Some(want) {
            return;
        }
        assert!(Instant::now() < deadline, "{name} never {want}: {st}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

server_test!(eventloop_metrics_grow_with_cycles, |srv| {
    let mut s = srv.raw();
    q(&mut s, &["SET", "k", "v"]);
    let a = info(&mut s, "stats");
    let cycles1 = field(&a, "eventloop_cycles").expect("eventloop_cycles");
    let el1 = field(&a, "eventloop_duration_sum").expect("duration sum");
    let cmd1 = field(&a, "eventloop_duration_cmd_sum").expect("cmd sum");
    assert!(cycles1 > 0 && el1 > 0, "{a}");
    // The INFO that just ran counts once the next cycle starts; its time
    // (several µs of formatting) is in the command sum after it.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let b = info(&mut s, "stats");
        let cycles2 = field(&b, "eventloop_cycles").unwrap();
        let el2 = field(&b, "eventloop_duration_sum").unwrap();
        let cmd2 = field(&b, "eventloop_duration_cmd_sum").unwrap();
        assert!(cycles2 >= cycles1 && el2 >= el1 && cmd2 >= cmd1, "{b}");
        if cycles2 > cycles1 && el2 > el1 && cmd2 > cmd1 {
            break;
        }
        assert!(Instant::now() < deadline, "metrics did not grow: {b}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The cron samples the rates: both become positive within 16 ticks.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let b = info(&mut s, "stats");
        let per_sec = field(&b, "instantaneous_eventloop_cycles_per_sec").unwrap();
        let usec = field(&b, "instantaneous_eventloop_duration_usec").unwrap();
        if per_sec > 0 && usec > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "no instantaneous rates: {b}");
        std::thread::sleep(Duration::from_millis(50));
    }
});

server_test!(debug_section_only_when_named, |srv| {
    let mut s = srv.raw();
    for section in ["default", "all", "everything"] {
        let text = info(&mut s, section);
        assert!(!text.contains("# Debug"), "{section}: {text}");
        assert!(!text.contains("eventloop_duration_cron_sum"), "{section}");
    }
    let d = info(&mut s, "debug");
    assert!(d.contains("# Debug\r\n"), "{d}");
    assert_eq!(field(&d, "eventloop_duration_aof_sum"), Some(0));
    assert!(field(&d, "eventloop_duration_max").unwrap() > 0, "{d}");
    assert!(field(&d, "eventloop_cmd_per_cycle_max").unwrap() > 0, "{d}");
    // The cron runs hz (10) times a second: its time adds up.
    let cron1 = field(&d, "eventloop_duration_cron_sum").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while field(&info(&mut s, "debug"), "eventloop_duration_cron_sum").unwrap() <= cron1 {
        assert!(Instant::now() < deadline, "cron time did not grow");
        std::thread::sleep(Duration::from_millis(50));
    }
});

server_test!(buffer_limit_disconnections_are_counted, |srv| {
    let mut s = srv.raw();
    let st = info(&mut s, "stats");
    assert_eq!(
        field(&st, "client_query_buffer_limit_disconnections"),
        Some(0)
    );
    assert_eq!(
        field(&st, "client_output_buffer_limit_disconnections"),
        Some(0)
    );

    // A query buffer past client-query-buffer-limit closes the client.
    q(
        &mut s,
        &["CONFIG", "SET", "client-query-buffer-limit", "1mb"],
    );
    let mut c = srv.raw();
    let mut big = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n".to_vec();
    big.extend(vec![b'a'; 1_100_000]);
    let _ = c.write_all(&big);
    read_to_close(&mut c);
    wait_stat(&mut s, "client_query_buffer_limit_disconnections", 1);
    q(
        &mut s,
        &["CONFIG", "SET", "client-query-buffer-limit", "1gb"],
    );

    // CONFIG SET of the output limit applies at once; a reply within the
    // first 16 KB is not counted (Valkey's fixed reply buffer), a larger
    // one closes the client.
    let value = "a".repeat(100_000);
    assert_eq!(q(&mut s, &["SET", "big", &value]), OK);
    assert_eq!(
        q(
            &mut s,
            &[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "normal 10 0 0"
            ]
        ),
        OK
    );
    let mut c = srv.raw();
    assert_eq!(q(&mut c, &["GET", "k"]), common::NULL);
    assert_eq!(q(&mut c, &["SET", "small", "0123456789abcdef"]), OK);
    assert_eq!(q(&mut c, &["GET", "small"]), bulk("0123456789abcdef"));
    c.write_all(&cmd(&[b"GET", b"big"])).expect("write");
    let got = read_to_close(&mut c);
    assert!(got.len() < value.len(), "sent {} bytes", got.len());
    wait_stat(&mut s, "client_output_buffer_limit_disconnections", 1);
    assert_eq!(
        q(
            &mut s,
            &[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "normal 0 0 0"
            ]
        ),
        OK
    );
    // CONFIG RESETSTAT zeroes both counts.
    assert_eq!(q(&mut s, &["CONFIG", "RESETSTAT"]), OK);
    let st = info(&mut s, "stats");
    assert_eq!(
        field(&st, "client_query_buffer_limit_disconnections"),
        Some(0)
    );
    assert_eq!(
        field(&st, "client_output_buffer_limit_disconnections"),
        Some(0)
    );
});
