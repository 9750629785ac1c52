//! Keyspace notifications checked against Valkey 9.1: every scenario of
//! tests/data/notifications.jsonl (captured by
//! scripts/capture-notifications.py with a `PSUBSCRIBE __key*__:*` client)
//! runs in the in-process `Harness` with the scenario's
//! `notify-keyspace-events`, and the (channel, message) pairs its events
//! make (`Event::messages`) must be exactly Valkey's, in order. Blocked
//! clients are served as the batch executor serves them (`block`/`serve`
//! of the parent module); active expiry runs the cron until the keys are
//! gone, and its events are compared in any order (each server samples
//! its own table). The data's CONFIG rows check the directive's parsing, errors and
//! CONFIG GET form.

use bytes::Bytes;

use super::json::Json;
use super::{argv_of, block, call_direct, latin1, serve};
use crate::config::Config;
use crate::exec::{cron, Harness};
use crate::keyspace::now_ms;

const DATA: &str = include_str!("../../../tests/data/notifications.jsonl");

struct Scenario {
    name: String,
    db: usize,
    flags: String,
    setup: Vec<Vec<String>>,
    sleep_ms: i64,
    command: Vec<String>,
    blocked: Option<Vec<String>>,
    active: bool,
    reply: Vec<u8>,
    messages: Vec<(Vec<u8>, Vec<u8>)>,
}

struct ConfigCase {
    value: String,
    error: Option<String>,
    get: String,
}

fn data() -> (Vec<Scenario>, Vec<ConfigCase>) {
    let mut scenarios = Vec::new();
    let mut configs = Vec::new();
    for line in DATA.lines().filter(|l| !l.trim().is_empty()) {
        let v = Json::parse(line).unwrap_or_else(|e| panic!("bad line {line}: {e}"));
        if !v.get("config").is_null() {
            configs.push(ConfigCase {
                value: v.get("config").str().to_owned(),
                error: v
                    .get("error")
                    .truthy()
                    .then(|| v.get("reply").str().to_owned()),
                get: v.get("get").str().to_owned(),
            });
            continue;
        }
        scenarios.push(Scenario {
            name: v.get("name").str().to_owned(),
            db: v.get("db").num() as usize,
            flags: v.get("flags").str().to_owned(),
            setup: v.get("setup").arr().iter().map(Json::strings).collect(),
            sleep_ms: v.get("sleep_ms").num(),
            command: v.get("command").strings(),
            blocked: (!v.get("blocked").is_null()).then(|| v.get("blocked").strings()),
            active: v.get("active").truthy(),
            reply: latin1(v.get("reply").str()),
            messages: v
                .get("messages")
                .arr()
                .iter()
                .map(|m| (latin1(m.arr()[0].str()), latin1(m.arr()[1].str())))
                .collect(),
        });
    }
    (scenarios, configs)
}

fn args(v: &[&str]) -> Vec<Bytes> {
    v.iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect()
}

fn show(m: &[(Vec<u8>, Vec<u8>)]) -> String {
    m.iter()
        .map(|(c, m)| {
            format!(
                "{} {}",
                String::from_utf8_lossy(c),
                String::from_utf8_lossy(m)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs one scenario and returns what went wrong, if anything.
fn check(sc: &Scenario) -> Result<(), String> {
    // DEBUG SET-ACTIVE-EXPIRE starts the active-expiry scenarios.
    let config = Config {
        enable_debug_command: "yes".into(),
        ..Config::default()
    };
    let mut h = Harness::new(config);
    let c = h.add_client();
    let set = h.run(
        c,
        &args(&["CONFIG", "SET", "notify-keyspace-events", &sc.flags]),
    );
    if set != b"+OK\r\n" {
        return Err(format!("CONFIG SET: {}", String::from_utf8_lossy(&set)));
    }
    let select = args(&["SELECT", &sc.db.to_string()]);
    h.run(c, &select);
    let t0 = now_ms();
    for cmd in &sc.setup {
        let reply = h.run(c, &argv_of(cmd, t0));
        if reply.first() == Some(&b'-') {
            return Err(format!(
                "setup {cmd:?}: {}",
                String::from_utf8_lossy(&reply)
            ));
        }
    }
    if sc.sleep_ms > 0 {
        // The setup's TTLs must elapse: wait on the clock, with a deadline.
        let until = now_ms() + sc.sleep_ms;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while now_ms() <= until {
            assert!(
                std::time::Instant::now() < deadline,
                "the clock stood still"
            );
            std::thread::yield_now();
        }
    }
    let blocker = match &sc.blocked {
        Some(cmd) => {
            let b = h.add_client();
            h.run(b, &select);
            Some((b, block(&mut h, b, argv_of(cmd, t0))?))
        }
        None => None,
    };
    let flags = h.state.config.notify_keyspace_events;
    h.state.effects.events.clear();

    let reply = if blocker.is_some() {
        call_direct(&mut h, c, &argv_of(&sc.command, t0))
    } else {
        h.run(c, &argv_of(&sc.command, t0))
    };
    if let Some((b, argv)) = blocker {
        if serve(&mut h, b, argv).is_empty() {
            return Err("the blocked client was not served".into());
        }
    }
    if sc.active {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while h.state.dbs.iter().any(|d| !d.is_empty()) {
            if std::time::Instant::now() > deadline {
                return Err("active expiry did not remove the keys".into());
            }
            cron::run(&mut h.state, &h.clients, &|_| false);
        }
    }
    if !sc.name.starts_with("spop/") && reply != sc.reply {
        return Err(format!(
            "reply {:?}, Valkey {:?}",
            String::from_utf8_lossy(&reply),
            String::from_utf8_lossy(&sc.reply)
        ));
    }
    let mut got: Vec<(Vec<u8>, Vec<u8>)> = std::mem::take(&mut h.state.effects.events)
        .iter()
        .flat_map(|e| e.messages(flags))
        .map(|(c, m)| (c.to_vec(), m.to_vec()))
        .collect();
    let mut want = sc.messages.clone();
    if sc.active {
        // The cron samples keys in its table's order, Valkey in its own:
        // the same events, in any order.
        got.sort();
        want.sort();
    }
    if got != want {
        return Err(format!(
            "\n   we     [{}]\n   Valkey [{}]",
            show(&got),
            show(&sc.messages)
        ));
    }
    Ok(())
}

#[test]
fn every_scenario_notifies_as_valkey() {
    let (all, _) = data();
    assert!(all.len() > 300, "the data file lost its scenarios");
    let failures: Vec<String> = all
        .iter()
        .filter_map(|sc| check(sc).err().map(|e| format!("{}: {e}", sc.name)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} scenarios differ from Valkey:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn every_write_command_has_a_scenario() {
    let (all, _) = data();
    let covered: std::collections::BTreeSet<String> = all
        .iter()
        .flat_map(|sc| {
            std::iter::once(&sc.command)
                .chain(&sc.blocked)
                .map(|c| super::command_name(c))
        })
        .collect();
    let missing: Vec<&str> = crate::commands::CMD_TABLE
        .specs
        .iter()
        .filter(|s| s.has(crate::commands::flags::WRITE))
        .map(|s| s.name)
        .filter(|n| !covered.contains(*n))
        // Its payload is binary, which the captured text cannot carry:
        // restore.rs tests it.
        .filter(|n| *n != "function|restore")
        .collect();
    assert!(
        missing.is_empty(),
        "write commands without a scenario: {missing:?}"
    );
}

#[test]
fn config_set_and_get_as_valkey() {
    let (_, cases) = data();
    assert!(cases.len() > 20, "the data file lost its CONFIG rows");
    let mut h = Harness::new(Config::default());
    let c = h.add_client();
    for case in &cases {
        let set = h.run(
            c,
            &args(&["CONFIG", "SET", "notify-keyspace-events", &case.value]),
        );
        let want = match &case.error {
            Some(e) => format!("-{e}\r\n"),
            None => "+OK\r\n".to_string(),
        };
        assert_eq!(String::from_utf8_lossy(&set), want, "{:?}", case.value);
        let get = h.run(c, &args(&["CONFIG", "GET", "notify-keyspace-events"]));
        let want = format!(
            "*2\r\n$22\r\nnotify-keyspace-events\r\n${}\r\n{}\r\n",
            case.get.len(),
            case.get
        );
        assert_eq!(String::from_utf8_lossy(&get), want, "{:?}", case.value);
        h.run(c, &args(&["CONFIG", "SET", "notify-keyspace-events", ""]));
    }
}
