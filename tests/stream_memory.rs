//! What a stream costs, against the real server: MEMORY USAGE counts its
//! consumer groups (pending entries, consumers) and samples nodes and
//! groups as Valkey's objectComputeSize does, and UNLINK frees a big
//! stream lazily by Valkey's effort rule, counted in INFO as Valkey counts
//! it (the stream case of Valkey's unit/lazyfree).

mod common;

use common::q;
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn int_reply(r: &str) -> i64 {
    r.strip_prefix(':')
        .and_then(|r| r.trim_end().parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {r:?}"))
}

fn usage(s: &mut TcpStream, samples: Option<&str>) -> i64 {
    let mut args = vec!["MEMORY", "USAGE", "s"];
    if let Some(n) = samples {
        args.extend(["SAMPLES", n]);
    }
    int_reply(&q(s, &args))
}

/// An INFO field as a number.
fn info_field(s: &mut TcpStream, name: &str) -> u64 {
    let info = q(s, &["INFO", "memory"]);
    let prefix = format!("{name}:");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in INFO"))
}

fn add_entries(s: &mut TcpStream, n: usize) {
    for i in 0..n {
        let v = i.to_string();
        assert!(q(s, &["XADD", "s", "*", "foo", &v]).starts_with('$'));
    }
}

fn read_group(s: &mut TcpStream, consumer: &str, count: &str) {
    let r = q(
        s,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            consumer,
            "COUNT",
            count,
            "STREAMS",
            "s",
            ">",
        ],
    );
    assert!(r.starts_with("*1\r\n"), "{r}");
}

server_test!(memory_usage_counts_groups, |srv| {
    let mut s = srv.raw();
    add_entries(&mut s, 300);
    let plain = usage(&mut s, None);
    assert!(plain > 0);
    // SAMPLES 0 counts every node: the figure differs from the sampled
    // one only by the nodes' sizes, so both are near each other.
    let exact = usage(&mut s, Some("0"));
    assert!((exact - plain).abs() < plain / 2, "{plain} vs {exact}");
    assert_eq!(q(&mut s, &["XGROUP", "CREATE", "s", "g1", "0"]), "+OK\r\n");
    let group = usage(&mut s, None);
    assert!(group > plain, "an empty group: {group} vs {plain}");
    let group_exact = usage(&mut s, Some("0"));
    assert!(group_exact > exact);
    read_group(&mut s, "alice", "200");
    let pending = usage(&mut s, None);
    // 200 pending entries: at least their ids and delivery records.
    assert!(pending >= group + 200 * 40, "{pending} vs {group}");
    read_group(&mut s, "bob", "50");
    let two = usage(&mut s, Some("0"));
    assert!(two > pending);
    // Sampling one consumer: alice (200 pending) stands for bob (50).
    assert!(usage(&mut s, Some("1")) > two);
    // Without its group the stream costs what it did.
    assert_eq!(q(&mut s, &["XGROUP", "DESTROY", "s", "g1"]), ":1\r\n");
    assert!(usage(&mut s, Some("0")) < group_exact);
    assert_eq!(q(&mut s, &["MEMORY", "USAGE", "nosuch"]), "$-1\r\n");
    assert_eq!(
        q(&mut s, &["MEMORY", "USAGE", "s", "SAMPLES", "-1"]),
        "-ERR syntax error\r\n"
    );
});

fn wait_lazyfree_done(s: &mut TcpStream) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_field(s, "lazyfree_pending_objects") != 0 {
        assert!(Instant::now() < deadline, "lazy free not done");
        std::thread::yield_now();
    }
}

server_test!(big_streams_are_lazy_freed, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["CONFIG", "RESETSTAT"]), "+OK\r\n");
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "stream-node-max-entries", "5"]),
        "+OK\r\n"
    );
    // 200 nodes: an effort of 200, over Valkey's threshold of 64.
    add_entries(&mut s, 1000);
    assert_eq!(q(&mut s, &["XGROUP", "CREATE", "s", "g1", "0"]), "+OK\r\n");
    read_group(&mut s, "alice", "2");
    assert_eq!(q(&mut s, &["UNLINK", "s"]), ":1\r\n");
    wait_lazyfree_done(&mut s);
    assert_eq!(info_field(&mut s, "lazyfreed_objects"), 1);
    // A one-node stream whose group was destroyed is freed in place.
    assert_eq!(q(&mut s, &["CONFIG", "RESETSTAT"]), "+OK\r\n");
    add_entries(&mut s, 1);
    assert_eq!(q(&mut s, &["XGROUP", "CREATE", "s", "bla", "$"]), "+OK\r\n");
    assert_eq!(q(&mut s, &["XGROUP", "DESTROY", "s", "bla"]), ":1\r\n");
    assert_eq!(q(&mut s, &["UNLINK", "s"]), ":1\r\n");
    wait_lazyfree_done(&mut s);
    assert_eq!(info_field(&mut s, "lazyfreed_objects"), 0);
    // One node but a group with a long PEL: 1 + 1 * (1 + 100).
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "stream-node-max-entries", "100"]),
        "+OK\r\n"
    );
    add_entries(&mut s, 100);
    assert_eq!(q(&mut s, &["XGROUP", "CREATE", "s", "g1", "0"]), "+OK\r\n");
    read_group(&mut s, "alice", "100");
    assert_eq!(q(&mut s, &["UNLINK", "s"]), ":1\r\n");
    wait_lazyfree_done(&mut s);
    assert_eq!(info_field(&mut s, "lazyfreed_objects"), 1);
});
