//! RESTORE's propagation, as Valkey's restoreCommand rewrites it (its
//! payload arguments are binary, so it has no scenario in the captured
//! jsonl): a relative TTL goes out as an absolute one with ABSTTL
//! appended; a key restored already expired over a replaced key goes out
//! as DEL or UNLINK (`lazyfree-lazy-server-del`); one over no key, not at
//! all.

use bytes::Bytes;

use super::super::Harness;
use crate::config::Config;
use crate::keyspace::now_ms;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn strs(argv: &[Bytes]) -> Vec<String> {
    argv.iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[test]
fn restore_propagates_absolute_ttls_and_deletes() {
    let mut h = Harness::new(Config::default());
    let c = h.add_client();
    h.run_str(c, &["SET", "src", "value"]);
    let reply = h.run_str(c, &["DUMP", "src"]);
    // "$<n>\r\n<payload>\r\n"
    let start = reply.iter().position(|&x| x == b'\n').unwrap() + 1;
    let payload = Bytes::copy_from_slice(&reply[start..reply.len() - 2]);
    h.take_propagated();
    h.take_modified();

    // Relative TTL: RESTORE k <now + ttl> payload ABSTTL.
    let before = now_ms();
    assert_eq!(
        h.run(c, &[b("RESTORE"), b("k"), b("10000"), payload.clone()]),
        b"+OK\r\n"
    );
    let p = h.take_propagated();
    assert_eq!(p.len(), 1, "{p:?}");
    let argv = &p[0].argv;
    assert_eq!(argv.len(), 5);
    assert_eq!(strs(&argv[..2]), ["RESTORE", "k"]);
    let when: i64 = std::str::from_utf8(&argv[2]).unwrap().parse().unwrap();
    assert!(
        (before + 10_000..=now_ms() + 10_000).contains(&when),
        "{when}"
    );
    assert_eq!(argv[3], payload);
    assert_eq!(argv[4], b("ABSTTL"));
    assert_eq!(h.take_modified(), [(0, b("k"))]);

    // No TTL: as sent.
    h.run(c, &[b("RESTORE"), b("n"), b("0"), payload.clone()]);
    let p = h.take_propagated();
    assert_eq!(strs(&p[0].argv[..3]), ["RESTORE", "n", "0"]);
    assert_eq!(p[0].argv.len(), 4);

    // Already expired over a replaced key: DEL, or UNLINK when lazy.
    let past = (now_ms() - 5000).to_string();
    for (lazy, del) in [("no", "DEL"), ("yes", "UNLINK")] {
        h.run_str(c, &["CONFIG", "SET", "lazyfree-lazy-server-del", lazy]);
        h.run_str(c, &["SET", "old", "v"]);
        h.take_propagated();
        let args = [
            b("RESTORE"),
            b("old"),
            b(&past),
            payload.clone(),
            b("REPLACE"),
            b("ABSTTL"),
        ];
        assert_eq!(h.run(c, &args), b"+OK\r\n");
        let p = h.take_propagated();
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(strs(&p[0].argv), [del, "old"]);
        assert_eq!(h.run_str(c, &["EXISTS", "old"]), b":0\r\n");
    }
    // Already expired over no key: nothing happens, nothing goes out.
    h.take_modified();
    let args = [b("RESTORE"), b("none"), b(&past), payload, b("ABSTTL")];
    assert_eq!(h.run(c, &args), b"+OK\r\n");
    assert!(h.take_propagated().is_empty());
    assert!(h.take_modified().is_empty());
}

/// FUNCTION RESTORE propagates as sent (its payload is binary, so it has
/// no captured scenario) and modifies no key.
#[test]
fn function_restore_propagates_as_sent() {
    let mut h = Harness::new(Config::default());
    let c = h.add_client();
    let code = "#!lua name=lib\nredis.register_function('f', function() return 1 end)";
    h.run_str(c, &["FUNCTION", "LOAD", code]);
    let reply = h.run_str(c, &["FUNCTION", "DUMP"]);
    let start = reply.iter().position(|&x| x == b'\n').unwrap() + 1;
    let payload = Bytes::copy_from_slice(&reply[start..reply.len() - 2]);
    h.run_str(c, &["FUNCTION", "FLUSH"]);
    h.take_propagated();
    h.take_modified();
    let argv = [b("FUNCTION"), b("RESTORE"), payload.clone()];
    assert_eq!(h.run(c, &argv), b"+OK\r\n");
    let p = h.take_propagated();
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].argv, argv);
    assert!(h.take_modified().is_empty());
    assert_eq!(h.run_str(c, &["FCALL", "f", "0"]), b":1\r\n");
    // Restored again without FLUSH: the library exists, nothing changes
    // and nothing propagates.
    assert_eq!(h.run(c, &argv), b"-ERR Library lib already exists\r\n");
    assert!(h.take_propagated().is_empty());
}
