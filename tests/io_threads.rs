//! The threaded IO layer: clients keep working while they move between the
//! main thread and IO threads, output buffer limits close runaway readers.

mod common;

use common::{cmd, raw_roundtrip, read_to_close};
use std::io::Write;

fn output_limit_closes_client(threads: &str) {
    let srv = common::Server::start_with(&[
        "--io-threads",
        threads,
        "--events-per-io-thread",
        "0",
        "--client-output-buffer-limit",
        "normal",
        "1mb",
        "0",
        "0",
    ]);
    let big = vec![b'x'; 2 * 1024 * 1024];
    let mut s = srv.raw();
    assert_eq!(
        raw_roundtrip(&mut s, &cmd(&[b"SET", b"big", &big]), 1),
        b"+OK\r\n"
    );
    assert_eq!(
        raw_roundtrip(&mut s, &cmd(&[b"SET", b"small", b"v"]), 1),
        b"+OK\r\n"
    );
    // A 2 MB reply is over the 1 MB hard limit: the client is closed.
    s.write_all(&cmd(&[b"GET", b"big"])).unwrap();
    let got = read_to_close(&mut s);
    assert!(
        got.len() < big.len(),
        "the oversized reply must not be delivered"
    );
    // Others are unaffected, and small replies are fine.
    let mut other = srv.raw();
    assert_eq!(
        raw_roundtrip(&mut other, &cmd(&[b"GET", b"small"]), 1),
        b"$1\r\nv\r\n"
    );
}

#[test]
fn output_limit_closes_client_io_threads_1() {
    output_limit_closes_client("1");
}

#[test]
fn output_limit_closes_client_io_threads_4() {
    output_limit_closes_client("4");
}

/// Clients connected while all IO is on the main thread keep working when
/// the IO threads are switched on (they move to them), and when switched off
/// again (they move back).
#[test]
fn clients_keep_working_across_thread_moves() {
    let srv =
        common::Server::start_with(&["--io-threads", "4", "--events-per-io-thread", "1000000"]);
    let mut conns: Vec<_> = (0..6).map(|_| srv.raw()).collect();
    for (i, s) in conns.iter_mut().enumerate() {
        let v = format!("v{i}");
        assert_eq!(
            raw_roundtrip(
                s,
                &cmd(&[b"SET", format!("k{i}").as_bytes(), v.as_bytes()]),
                1
            ),
            b"+OK\r\n"
        );
    }
    let info_field = |field: &str| -> i64 {
        let mut s = srv.raw();
        let r = raw_roundtrip(&mut s, &cmd(&[b"INFO", b"everything"]), 1);
        let text = String::from_utf8_lossy(&r).into_owned();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{field}:")))
            .unwrap_or_else(|| panic!("no {field}"));
        line[field.len() + 1..].trim().parse().expect("number")
    };
    let use_all = |s: &mut Vec<std::net::TcpStream>| {
        for (i, s) in s.iter_mut().enumerate() {
            let key = format!("k{i}");
            let want = format!("$2\r\nv{i}\r\n");
            let pipeline = [
                cmd(&[b"GET", key.as_bytes()]),
                cmd(&[b"GET", key.as_bytes()]),
            ]
            .concat();
            assert_eq!(
                raw_roundtrip(s, &pipeline, 2),
                [want.as_bytes(), want.as_bytes()].concat()
            );
        }
    };
    assert_eq!(info_field("io_threads_active"), 0);
    for round in 0..2 {
        let mut admin = srv.raw();
        // 0 activates every IO thread: the clients move to them.
        let r = raw_roundtrip(
            &mut admin,
            &cmd(&[b"CONFIG", b"SET", b"events-per-io-thread", b"0"]),
            1,
        );
        assert_eq!(r, b"+OK\r\n");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            // Keep using every connection while the cron moves them.
            use_all(&mut conns);
            let before = info_field("io_threaded_reads_processed");
            use_all(&mut conns);
            if info_field("io_threaded_reads_processed") >= before + conns.len() as i64 {
                break; // every client's batch went through an IO thread
            }
            assert!(
                std::time::Instant::now() < deadline,
                "clients never moved to IO threads (round {round})"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(info_field("io_threads_active"), 1);
        // A large threshold lets the load decide: idle, so no IO threads.
        let r = raw_roundtrip(
            &mut admin,
            &cmd(&[b"CONFIG", b"SET", b"events-per-io-thread", b"1000000"]),
            1,
        );
        assert_eq!(r, b"+OK\r\n");
        loop {
            use_all(&mut conns);
            if info_field("io_threads_active") == 0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline + std::time::Duration::from_secs(10),
                "IO threads never parked"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // io_threads_active is 0 only once every client is back on the main
        // thread: batches no longer go through IO threads.
        use_all(&mut conns);
        let before = info_field("io_threaded_reads_processed");
        use_all(&mut conns);
        assert_eq!(info_field("io_threaded_reads_processed"), before);
    }
}
