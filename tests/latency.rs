//! LATENCY (the latency monitor and the per-command histograms), its
//! configuration and INFO latencystats, against the real binary. Shapes and
//! error texts are Valkey 9's.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{cmd, raw_roundtrip, Server};
use redis::Value;

/// Like `server_test!`, with DEBUG allowed from loopback (for DEBUG SLEEP).
macro_rules! debug_test {
    ($name:ident, |$srv:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($srv: &common::Server) $body
            #[test]
            fn io_threads_1() {
                run(&common::Server::start_with(&[
                    "--io-threads", "1", "--enable-debug-command", "local",
                ]))
            }
            #[test]
            fn io_threads_4() {
                run(&common::Server::start_with(&[
                    "--io-threads", "4", "--events-per-io-thread", "0",
                    "--enable-debug-command", "local",
                ]))
            }
        }
    };
}

/// Sends one command and returns its raw reply.
fn rt(s: &mut TcpStream, args: &[&str]) -> String {
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    String::from_utf8_lossy(&raw_roundtrip(s, &cmd(&argv), 1)).into_owned()
}

fn q(con: &mut redis::Connection, args: &[&str]) -> Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::VerbatimString { text, .. } => text.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

fn arr(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) => a,
        other => panic!("not an array: {other:?}"),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        other => panic!("not an int: {other:?}"),
    }
}

/// A RESP2 flat map or a RESP3 map, as pairs.
fn pairs(v: &Value) -> Vec<(Value, Value)> {
    match v {
        Value::Map(m) => m.clone(),
        Value::Array(a) => a.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect(),
        other => panic!("not a map: {other:?}"),
    }
}

/// LATENCY LATEST as (event, time, latest, max, sum, count).
fn latest(con: &mut redis::Connection) -> Vec<(String, i64, i64, i64, i64, i64)> {
    arr(&q(con, &["LATENCY", "LATEST"]))
        .iter()
        .map(|e| {
            let f = arr(e);
            assert_eq!(f.len(), 6, "{e:?}");
            (
                text(&f[0]),
                int(&f[1]),
                int(&f[2]),
                int(&f[3]),
                int(&f[4]),
                int(&f[5]),
            )
        })
        .collect()
}

fn history(con: &mut redis::Connection, event: &str) -> Vec<(i64, i64)> {
    arr(&q(con, &["LATENCY", "HISTORY", event]))
        .iter()
        .map(|p| (int(&arr(p)[0]), int(&arr(p)[1])))
        .collect()
}

/// One command's LATENCY HISTOGRAM entry: name, calls, and (µs,
/// cumulative calls) per bucket.
type Entry = (String, i64, Vec<(i64, i64)>);

fn histogram(con: &mut redis::Connection, names: &[&str]) -> Vec<Entry> {
    let mut args = vec!["LATENCY", "HISTOGRAM"];
    args.extend_from_slice(names);
    pairs(&q(con, &args))
        .into_iter()
        .map(|(name, h)| {
            let f = pairs(&h);
            assert_eq!(text(&f[0].0), "calls");
            assert_eq!(text(&f[1].0), "histogram_usec");
            let buckets = pairs(&f[1].1)
                .iter()
                .map(|(u, c)| (int(u), int(c)))
                .collect();
            (text(&name), int(&f[0].1), buckets)
        })
        .collect()
}

/// The unix time according to the server.
fn server_time(con: &mut redis::Connection) -> i64 {
    text(&arr(&q(con, &["TIME"]))[0]).parse().expect("seconds")
}

/// Bucket bounds Valkey reports: the top of each power of two from 1024 ns
/// at two significant digits, in µs, and the top of the 1 s range.
const BOUNDS: &[i64] = &[
    1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266,
    270532, 541065, 1073741,
];

server_test!(subcommand_errors_and_empty_replies, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        rt(&mut s, &["LATENCY"]),
        "-ERR wrong number of arguments for 'latency' command\r\n"
    );
    assert_eq!(
        rt(&mut s, &["LATENCY", "foo"]),
        "-ERR unknown subcommand 'foo'. Try LATENCY HELP.\r\n"
    );
    for (args, name) in [
        (&["LATENCY", "HISTORY"][..], "latency|history"),
        (&["LATENCY", "GRAPH"][..], "latency|graph"),
        (&["LATENCY", "HISTORY", "a", "b"][..], "latency|history"),
        (&["LATENCY", "LATEST", "x"][..], "latency|latest"),
        (&["LATENCY", "DOCTOR", "x"][..], "latency|doctor"),
        (&["LATENCY", "HELP", "x"][..], "latency|help"),
    ] {
        assert_eq!(
            rt(&mut s, args),
            format!("-ERR wrong number of arguments for '{name}' command\r\n")
        );
    }
    assert_eq!(
        rt(&mut s, &["LATENCY", "GRAPH", "nosuch"]),
        "-ERR No samples available for event 'nosuch'\r\n"
    );
    assert_eq!(rt(&mut s, &["LATENCY", "LATEST"]), "*0\r\n");
    assert_eq!(rt(&mut s, &["LATENCY", "HISTORY", "command"]), "*0\r\n");
    assert_eq!(rt(&mut s, &["LATENCY", "RESET"]), ":0\r\n");
    assert_eq!(rt(&mut s, &["LATENCY", "RESET", "command", "x"]), ":0\r\n");
    // The monitor is off by default and has never seen anything.
    let doctor = rt(&mut s, &["LATENCY", "DOCTOR"]);
    assert!(
        doctor.contains("I'm sorry, Dave, I can't do that. Latency monitoring is disabled"),
        "{doctor}"
    );
    let help = rt(&mut s, &["latency", "help"]);
    assert!(help.starts_with(
        "*17\r\n+LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+DOCTOR\r\n"
    ));
    assert!(
        help.ends_with("+HELP\r\n+    Print this help.\r\n"),
        "{help}"
    );
    assert!(help.contains("+HISTOGRAM [COMMAND ...]\r\n"), "{help}");
});

debug_test!(slow_command_is_recorded, |srv| {
    let mut con = srv.conn();
    // Off (the default): nothing is recorded.
    q(&mut con, &["DEBUG", "SLEEP", "0.05"]);
    assert!(latest(&mut con).is_empty());
    // Below the threshold: nothing either.
    q(
        &mut con,
        &["CONFIG", "SET", "latency-monitor-threshold", "1000"],
    );
    q(&mut con, &["DEBUG", "SLEEP", "0.05"]);
    assert!(latest(&mut con).is_empty());

    // A threshold well above what any other command here can take on a
    // loaded machine, so the sleep is the only event.
    q(
        &mut con,
        &["CONFIG", "SET", "latency-monitor-threshold", "100"],
    );
    let before = server_time(&mut con);
    q(&mut con, &["DEBUG", "SLEEP", "0.15"]);
    let after = server_time(&mut con);
    let events = latest(&mut con);
    assert_eq!(events.len(), 1, "{events:?}");
    let (event, time, ms, max, sum, count) = events[0].clone();
    assert_eq!(event, "command");
    assert!(
        time >= before && time <= after,
        "{time} not in {before}..={after}"
    );
    assert!(ms >= 150 && max >= 150 && sum >= 150, "{events:?}");
    assert_eq!(count, 1);
    let h = history(&mut con, "command");
    assert_eq!(h, vec![(time, ms)]);
    // Event names are exact for HISTORY and GRAPH, as in Valkey.
    assert!(history(&mut con, "COMMAND").is_empty());

    let graph = text(&q(&mut con, &["LATENCY", "GRAPH", "command"]));
    let title = format!("command - high {ms} ms, low {ms} ms (all time high {max} ms)\n");
    assert!(graph.starts_with(&title), "{graph}");
    assert!(graph.contains(&format!("{}\n", "-".repeat(80))), "{graph}");
    // One column: three empty rows, the bottom mark, a blank, the label.
    let body: Vec<&str> = graph.lines().skip(2).collect();
    assert_eq!(&body[..5], &[" ", " ", " ", "_", " "], "{graph}");
    assert!(body[5..].concat().ends_with('s'), "{graph}");

    let doctor = text(&q(&mut con, &["LATENCY", "DOCTOR"]));
    assert!(
        doctor.starts_with("Latency spikes are observed in this Valkey instance.\n\n1. command: 1 latency spikes (average "),
        "{doctor}"
    );
    assert!(
        doctor.contains(&format!("Worst all time event {max}ms.")),
        "{doctor}"
    );
    assert!(doctor.contains("Here is some advice for you:"), "{doctor}");
    assert!(doctor.contains("SLOWLOG GET"), "{doctor}");

    // RESET counts the events it drops, any case.
    assert_eq!(
        int(&q(&mut con, &["LATENCY", "RESET", "COMMAND", "command"])),
        1
    );
    assert!(latest(&mut con).is_empty());
    assert_eq!(int(&q(&mut con, &["LATENCY", "RESET"])), 0);
    // Enabled but quiet.
    let doctor = text(&q(&mut con, &["LATENCY", "DOCTOR"]));
    assert!(!doctor.contains("Dave"), "{doctor}");
});

debug_test!(spikes_of_one_second_merge, |srv| {
    let mut con = srv.conn();
    q(
        &mut con,
        &["CONFIG", "SET", "latency-monitor-threshold", "20"],
    );
    // Each well over the threshold; nothing else here comes near it.
    for secs in ["0.03", "0.06", "0.03"] {
        q(&mut con, &["DEBUG", "SLEEP", secs]);
    }
    let events = latest(&mut con);
    let (_, time, ms, max, sum, count) = events
        .iter()
        .find(|e| e.0 == "command")
        .cloned()
        .unwrap_or_else(|| panic!("no command event: {events:?}"));
    // Every spike counts in the totals ...
    assert_eq!(count, 3);
    assert!(sum >= 120 && max >= 60, "{events:?}");
    // ... but the history keeps one sample per second, its worst.
    let h = history(&mut con, "command");
    assert!(!h.is_empty() && h.len() <= 3, "{h:?}");
    assert!(h.windows(2).all(|w| w[0].0 < w[1].0), "{h:?}");
    assert_eq!(h.last(), Some(&(time, ms)));
    assert_eq!(h.iter().map(|p| p.1).max(), Some(max));
    assert!(h.iter().map(|p| p.1).sum::<i64>() <= sum);
});

server_test!(expire_cycle_is_recorded, |srv| {
    let mut con = srv.conn();
    q(
        &mut con,
        &["CONFIG", "SET", "latency-monitor-threshold", "1"],
    );
    // Enough keys expiring at once that the cron's active expiry works
    // well past 1 ms per run (its budget is 25 ms).
    let mut s = srv.raw();
    for batch in 0..10 {
        let mut buf = Vec::new();
        for i in 0..20_000 {
            let k = format!("k{batch}:{i}");
            buf.extend(cmd(&[b"SET", k.as_bytes(), b"v", b"PX", b"50"]));
        }
        raw_roundtrip(&mut s, &buf, 20_000);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let events = latest(&mut con);
        if let Some(e) = events.iter().find(|e| e.0 == "expire-cycle") {
            assert!(e.2 >= 1 && e.5 >= 1, "{events:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no expire-cycle event: {events:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let graph = text(&q(&mut con, &["LATENCY", "GRAPH", "expire-cycle"]));
    assert!(graph.starts_with("expire-cycle - high "), "{graph}");
    let doctor = text(&q(&mut con, &["LATENCY", "DOCTOR"]));
    assert!(doctor.contains(". expire-cycle: "), "{doctor}");
    assert!(doctor.contains("'CONFIG SET hz 100'"), "{doctor}");
});

server_test!(histogram_counts_calls, |srv| {
    let mut con = srv.conn();
    q(&mut con, &["CONFIG", "RESETSTAT"]);
    let h = histogram(&mut con, &[]);
    // Only CONFIG RESETSTAT itself has run since.
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!((h[0].0.as_str(), h[0].1), ("config|resetstat", 1));

    for _ in 0..3 {
        q(&mut con, &["SET", "a", "b"]);
    }
    q(&mut con, &["GET", "a"]);
    q(&mut con, &["HSET", "h", "f", "v"]);
    let h = histogram(&mut con, &["set", "GET", "nosuch", "zadd"]);
    let names: Vec<(&str, i64)> = h.iter().map(|(n, c, _)| (n.as_str(), *c)).collect();
    assert_eq!(names, vec![("set", 3), ("get", 1)]);
    for (name, calls, buckets) in &h {
        assert!(!buckets.is_empty(), "{name}");
        assert!(buckets.iter().all(|(b, _)| BOUNDS.contains(b)), "{h:?}");
        assert!(buckets
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1));
        assert_eq!(buckets.last().map(|b| b.1), Some(*calls), "{name}");
    }
    // Repeats are answered again, as Valkey does.
    assert_eq!(histogram(&mut con, &["set", "set"]).len(), 2);
    assert!(histogram(&mut con, &["blabla", "get|x", "client|id|x"]).is_empty());

    // A container brings its subcommands; a full name picks one.
    q(&mut con, &["CLIENT", "ID"]);
    q(&mut con, &["CLIENT", "GETNAME"]);
    let h = histogram(&mut con, &["client"]);
    let names: Vec<&str> = h.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names, vec!["client|id", "client|getname"]);
    let h = histogram(&mut con, &["CLIENT|ID"]);
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].0.as_str(), h[0].1), ("client|id", 1));

    // All of them, without names.
    let all = histogram(&mut con, &[]);
    for want in ["set", "get", "hset", "client|id", "latency|histogram"] {
        assert!(all.iter().any(|e| e.0 == want), "{want} missing: {all:?}");
    }

    // latency-tracking no: calls stop counting, what was counted stays.
    q(&mut con, &["CONFIG", "SET", "latency-tracking", "no"]);
    q(&mut con, &["SET", "a", "b"]);
    assert_eq!(histogram(&mut con, &["set"])[0].1, 3);
    q(&mut con, &["CONFIG", "SET", "latency-tracking", "yes"]);
    q(&mut con, &["SET", "a", "b"]);
    assert_eq!(histogram(&mut con, &["set"])[0].1, 4);

    // CONFIG RESETSTAT clears them.
    q(&mut con, &["CONFIG", "RESETSTAT"]);
    assert!(histogram(&mut con, &["set"]).is_empty());
});

server_test!(histogram_resp3_is_maps, |srv| {
    let mut s = srv.raw();
    rt(&mut s, &["HELLO", "3"]);
    rt(&mut s, &["CONFIG", "RESETSTAT"]);
    rt(&mut s, &["SET", "a", "b"]);
    let r = rt(&mut s, &["LATENCY", "HISTOGRAM", "set"]);
    assert!(
        r.starts_with(
            "%1\r\n$3\r\nset\r\n%2\r\n$5\r\ncalls\r\n:1\r\n$14\r\nhistogram_usec\r\n%1\r\n:"
        ),
        "{r}"
    );
    assert!(r.ends_with("\r\n:1\r\n"), "{r}");
    // And flat arrays in RESP2.
    rt(&mut s, &["HELLO", "2"]);
    let r = rt(&mut s, &["LATENCY", "HISTOGRAM", "set"]);
    assert!(
        r.starts_with(
            "*2\r\n$3\r\nset\r\n*4\r\n$5\r\ncalls\r\n:1\r\n$14\r\nhistogram_usec\r\n*2\r\n:"
        ),
        "{r}"
    );
});

/// The `latency_percentiles_usec_<cmd>` line of INFO text, if any.
fn percentile_line(info: &str, command: &str) -> Option<String> {
    let key = format!("latency_percentiles_usec_{command}:");
    info.split("\r\n")
        .find_map(|l| l.strip_prefix(&key).map(str::to_string))
}

fn info(con: &mut redis::Connection, section: Option<&str>) -> String {
    match section {
        Some(s) => text(&q(con, &["INFO", s])),
        None => text(&q(con, &["INFO"])),
    }
}

server_test!(info_latencystats, |srv| {
    let mut con = srv.conn();
    q(&mut con, &["SET", "a", "b"]);
    assert!(!info(&mut con, None).contains("# Latencystats"));
    assert!(!info(&mut con, Some("default")).contains("# Latencystats"));
    for section in ["all", "everything"] {
        let all = info(&mut con, Some(section));
        let (before, after) = all.split_once("# Latencystats\r\n").expect(section);
        assert!(before.contains("# Errorstats"), "{section}");
        assert!(after.contains("# Keyspace"), "{section}");
    }
    let section = info(&mut con, Some("latencystats"));
    assert!(section.starts_with("# Latencystats\r\n"), "{section}");
    let line = percentile_line(&section, "set").expect("set line");
    let keys: Vec<&str> = line
        .split(',')
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("p=v");
            let (_, decimals) = v.split_once('.').expect("3 decimals");
            assert_eq!(decimals.len(), 3, "{line}");
            assert!(v.parse::<f64>().expect("number") > 0.0, "{line}");
            k
        })
        .collect();
    assert_eq!(keys, vec!["p50", "p99", "p99.9"]);

    q(
        &mut con,
        &[
            "CONFIG",
            "SET",
            "latency-tracking-info-percentiles",
            "50.0 99.90 100 0",
        ],
    );
    let got = arr(&q(
        &mut con,
        &["CONFIG", "GET", "latency-tracking-info-percentiles"],
    ))[1]
        .clone();
    assert_eq!(text(&got), "50 99.9 100 0");
    let line = percentile_line(&info(&mut con, Some("latencystats")), "set").expect("set");
    let keys: Vec<&str> = line
        .split(',')
        .map(|kv| kv.split('=').next().unwrap_or(""))
        .collect();
    assert_eq!(keys, vec!["p50", "p99.9", "p100", "p0"]);

    q(
        &mut con,
        &["CONFIG", "SET", "latency-tracking-info-percentiles", ""],
    );
    let line = percentile_line(&info(&mut con, Some("latencystats")), "set").expect("set");
    assert_eq!(line, "");

    // Tracking off: the section is empty.
    q(&mut con, &["CONFIG", "SET", "latency-tracking", "no"]);
    assert_eq!(info(&mut con, Some("latencystats")), "# Latencystats\r\n");
});

server_test!(config_directives, |srv| {
    let mut s = srv.raw();
    let get = rt(&mut s, &["CONFIG", "GET", "latency*"]);
    for part in [
        "$25\r\nlatency-monitor-threshold\r\n$1\r\n0\r\n",
        "$16\r\nlatency-tracking\r\n$3\r\nyes\r\n",
        "$33\r\nlatency-tracking-info-percentiles\r\n$10\r\n50 99 99.9\r\n",
    ] {
        assert!(get.contains(part), "{get}");
    }
    let failed = |name: &str, why: &str| {
        format!("-ERR CONFIG SET failed (possibly related to argument '{name}') - {why}\r\n")
    };
    let p = "latency-tracking-info-percentiles";
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", p, "101"]),
        failed(
            p,
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
        )
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", p, "50 abc"]),
        failed(p, "Invalid latency-tracking-info-percentiles parameters")
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "latency-tracking", "maybe"]),
        failed("latency-tracking", "argument must be 'yes' or 'no'")
    );
    assert_eq!(
        rt(
            &mut s,
            &["CONFIG", "SET", "latency-monitor-threshold", "-1"]
        ),
        failed(
            "latency-monitor-threshold",
            "argument must be between 0 and 9223372036854775807 inclusive"
        )
    );
    // A failed SET changed nothing.
    assert!(rt(&mut s, &["CONFIG", "GET", p]).contains("50 99 99.9"));
});

#[test]
fn config_file_and_rewrite() {
    let dir = std::env::temp_dir().join(format!("ferrokey-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("valkey.conf");
    std::fs::write(
        &path,
        "latency-monitor-threshold 5\nlatency-tracking no\nlatency-tracking-info-percentiles 90 99.99\n",
    )
    .expect("write");
    let srv = Server::start_full(path.to_str(), &["--io-threads", "1"]);
    let mut s = srv.raw();
    let get = rt(&mut s, &["CONFIG", "GET", "latency*"]);
    assert!(get.contains("$1\r\n5\r\n"), "{get}");
    assert!(get.contains("$2\r\nno\r\n"), "{get}");
    assert!(get.contains("$8\r\n90 99.99\r\n"), "{get}");
    assert_eq!(
        rt(
            &mut s,
            &[
                "CONFIG",
                "SET",
                "latency-tracking-info-percentiles",
                "75 95"
            ]
        ),
        "+OK\r\n"
    );
    assert_eq!(rt(&mut s, &["CONFIG", "REWRITE"]), "+OK\r\n");
    let written = std::fs::read_to_string(&path).expect("read");
    assert!(
        written.contains("latency-tracking-info-percentiles 75 95\n"),
        "{written}"
    );
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

server_test!(command_table_rows, |srv| {
    let mut con = srv.conn();
    let info = q(&mut con, &["COMMAND", "INFO", "latency"]);
    let row = arr(&arr(&info)[0]);
    assert_eq!(text(&row[0]), "latency");
    assert_eq!(int(&row[1]), -2);
    let subs: Vec<(String, i64)> = arr(&row[9])
        .iter()
        .map(|s| (text(&arr(s)[0]), int(&arr(s)[1])))
        .collect();
    let mut names: Vec<(&str, i64)> = subs.iter().map(|(n, a)| (n.as_str(), *a)).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("latency|doctor", 2),
            ("latency|graph", 3),
            ("latency|help", 2),
            ("latency|histogram", -2),
            ("latency|history", 3),
            ("latency|latest", 2),
            ("latency|reset", -2),
        ]
    );
    let info = q(&mut con, &["COMMAND", "INFO", "latency|reset"]);
    let row = arr(&arr(&info)[0]);
    let flags: Vec<String> = match &row[2] {
        Value::Array(a) | Value::Set(a) => a.iter().map(text).collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(flags, vec!["admin", "noscript", "loading", "stale"]);
});
