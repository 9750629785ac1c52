//! What the consumer-group commands propagate, as Valkey's
//! streamPropagateXCLAIM / streamPropagateGroupID make it: a delivery by
//! XREADGROUP as `XCLAIM ... FORCE JUSTID LASTID`, the group's position as
//! `XGROUP SETID ... ENTRIESREAD`, NOACK's new consumer as XGROUP
//! CREATECONSUMER, XCLAIM/XAUTOCLAIM as one XCLAIM per entry; never the
//! commands themselves. Streams are seeded directly so these checks stand
//! without the stream commands.

use bytes::Bytes;

use super::super::Harness;
use crate::config::Config;
use crate::keyspace::stream::{NodeLimits, Stream, StreamId};
use crate::keyspace::{now_ms, Value};

fn strs(argv: &[Bytes]) -> Vec<String> {
    argv.iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// A harness with stream `s` holding entries 1-0 .. n-0 (`f` = `i`).
fn seeded(n: u64) -> (Harness, usize) {
    let mut h = Harness::new(Config::default());
    let c = h.add_client();
    let mut s = Stream::new();
    for i in 1..=n {
        let v = i.to_string();
        let id = StreamId::new(i, 0);
        s.append(id, &[b"f", v.as_bytes()], NodeLimits::default())
            .expect("append");
    }
    h.state.dbs[0].add(b"s", Value::Stream(Box::new(s)), now_ms());
    (h, c)
}

fn propagated(h: &mut Harness) -> Vec<Vec<String>> {
    h.take_propagated().iter().map(|p| strs(&p.argv)).collect()
}

fn line(s: &str) -> Vec<String> {
    s.split(' ').map(String::from).collect()
}

/// Several commands of one call go out as one MULTI/EXEC unit, as Valkey
/// wraps them.
fn unit(cmds: &[&str]) -> Vec<Vec<String>> {
    let mut v = vec![line("MULTI")];
    v.extend(cmds.iter().map(|c| line(c)));
    v.push(line("EXEC"));
    v
}

/// `TIME <t>` of a propagated XCLAIM, checked to be close to now and
/// replaced by `T` so the rest compares exactly.
fn untime(mut cmds: Vec<Vec<String>>, around: i64) -> Vec<Vec<String>> {
    for c in &mut cmds {
        if c[0] == "XCLAIM" {
            let t: i64 = c[7].parse().expect("time");
            assert!((t - around).abs() < 5_000, "time {t} far from {around}");
            c[7] = "T".into();
        }
    }
    cmds
}

#[test]
fn readgroup_propagates_claims_and_position() {
    let (mut h, c) = seeded(3);
    assert_eq!(
        h.run_str(c, &["XGROUP", "CREATE", "s", "g", "0"]),
        b"+OK\r\n"
    );
    assert_eq!(propagated(&mut h), [line("XGROUP CREATE s g 0")]);
    let now = now_ms();
    let reply = h.run_str(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "s",
            ">",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&reply),
        "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        untime(propagated(&mut h), now),
        unit(&[
            "XCLAIM s g alice 0 1-0 TIME T RETRYCOUNT 1 FORCE JUSTID LASTID 1-0",
            "XCLAIM s g alice 0 2-0 TIME T RETRYCOUNT 1 FORCE JUSTID LASTID 2-0",
            "XGROUP SETID s g 2-0 ENTRIESREAD 2",
        ])
    );
    // History reads change delivery counts but propagate nothing.
    h.run_str(
        c,
        &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"],
    );
    assert!(propagated(&mut h).is_empty());
    // NOACK: a new consumer and the position only.
    h.run_str(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "bob",
            "NOACK",
            "STREAMS",
            "s",
            ">",
        ],
    );
    assert_eq!(
        propagated(&mut h),
        unit(&[
            "XGROUP CREATECONSUMER s g bob",
            "XGROUP SETID s g 3-0 ENTRIESREAD 3",
        ])
    );
    // Nothing new: nothing served, nothing propagated.
    assert_eq!(
        h.run_str(c, &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]),
        b"*-1\r\n"
    );
    assert!(propagated(&mut h).is_empty());
    assert_eq!(h.run_str(c, &["XACK", "s", "g", "1-0", "9-0"]), b":1\r\n");
    assert_eq!(propagated(&mut h), [line("XACK s g 1-0 9-0")]);
    assert_eq!(h.run_str(c, &["XACK", "s", "g", "1-0"]), b":0\r\n");
    assert!(propagated(&mut h).is_empty());
}

#[test]
fn claims_propagate_per_entry() {
    let (mut h, c) = seeded(3);
    h.run_str(c, &["XGROUP", "CREATE", "s", "g", "0"]);
    h.run_str(
        c,
        &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"],
    );
    propagated(&mut h);
    assert_eq!(
        h.run_str(
            c,
            &["XCLAIM", "s", "g", "bob", "0", "1", "9-0", "JUSTID", "TIME", "1000"]
        ),
        b"*1\r\n$3\r\n1-0\r\n"
    );
    // The id goes out as the argument was written.
    assert_eq!(
        propagated(&mut h),
        [line(
            "XCLAIM s g bob 0 1 TIME 1000 RETRYCOUNT 1 FORCE JUSTID LASTID 3-0"
        )]
    );
    // LASTID past the group's: the position alone when nothing is claimed.
    assert_eq!(
        h.run_str(c, &["XCLAIM", "s", "g", "bob", "0", "9-0", "LASTID", "5-0"]),
        b"*0\r\n"
    );
    assert_eq!(
        propagated(&mut h),
        [line("XGROUP SETID s g 5-0 ENTRIESREAD 3")]
    );
    let now = now_ms();
    let reply = h.run_str(
        c,
        &[
            "XAUTOCLAIM",
            "s",
            "g",
            "carol",
            "0",
            "-",
            "COUNT",
            "2",
            "JUSTID",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&reply),
        "*3\r\n$3\r\n3-0\r\n*2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*0\r\n"
    );
    assert_eq!(
        untime(propagated(&mut h), now),
        unit(&[
            "XCLAIM s g carol 0 1-0 TIME T RETRYCOUNT 1 FORCE JUSTID LASTID 5-0",
            "XCLAIM s g carol 0 2-0 TIME T RETRYCOUNT 1 FORCE JUSTID LASTID 5-0",
        ])
    );
}

#[test]
fn group_admin_propagates_itself() {
    let (mut h, c) = seeded(1);
    h.run_str(c, &["XGROUP", "CREATE", "s", "g", "$"]);
    assert_eq!(propagated(&mut h), [line("XGROUP CREATE s g $")]);
    assert_eq!(
        h.run_str(c, &["XGROUP", "CREATECONSUMER", "s", "g", "x"]),
        b":1\r\n"
    );
    assert_eq!(propagated(&mut h), [line("XGROUP CREATECONSUMER s g x")]);
    assert_eq!(
        h.run_str(c, &["XGROUP", "CREATECONSUMER", "s", "g", "x"]),
        b":0\r\n"
    );
    assert!(propagated(&mut h).is_empty());
    assert_eq!(
        h.run_str(c, &["XGROUP", "DELCONSUMER", "s", "g", "x"]),
        b":0\r\n"
    );
    assert_eq!(propagated(&mut h), [line("XGROUP DELCONSUMER s g x")]);
    assert_eq!(
        h.run_str(c, &["XGROUP", "SETID", "s", "g", "0"]),
        b"+OK\r\n"
    );
    assert_eq!(propagated(&mut h), [line("XGROUP SETID s g 0")]);
    assert_eq!(h.run_str(c, &["XGROUP", "DESTROY", "s", "g"]), b":1\r\n");
    assert_eq!(propagated(&mut h), [line("XGROUP DESTROY s g")]);
    assert_eq!(h.run_str(c, &["XGROUP", "DESTROY", "s", "g"]), b":0\r\n");
    assert!(propagated(&mut h).is_empty());
    h.run_str(c, &["XGROUP", "CREATE", "new", "g", "$", "MKSTREAM"]);
    assert_eq!(propagated(&mut h), [line("XGROUP CREATE new g $ MKSTREAM")]);
    assert_eq!(h.run_str(c, &["TYPE", "new"]), b"+stream\r\n");
}
