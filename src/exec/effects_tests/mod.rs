//! The effects of every write command, checked against Valkey 9.1: for each
//! scenario in tests/data/propagation.jsonl (captured from the real server
//! by scripts/capture-effects.py), the scenario runs in the in-process
//! `Harness` and what the call path propagated and the keys it signalled as
//! modified are compared with what Valkey's replication stream carried and
//! which WATCHed keys it touched.
//!
//! Differences between the two views, by design:
//! - Valkey wraps the several commands one call propagates (a lazily
//!   expired key's UNLINK and the command) in MULTI/EXEC; the call path
//!   must do the same, then the commands inside are compared.
//! - Absolute times (`<abs:+N>`) are compared with a tolerance around the
//!   scenario's start.
//! - SPOP's members are random (`<rand>`): the propagated SREM must name
//!   exactly the members the reply returned.
//! - Flushes and SWAPDB touch every watched key that exists in the dbs
//!   involved without signalling keys one by one (Valkey's
//!   signalFlushedDb / touchAllWatchedKeysInDb). The data keeps the keys
//!   WATCH saw touched; here no key may be signalled for them, and WATCH
//!   will need a whole-db signal of its own.

mod json;
mod notify;
mod restore;

use std::collections::BTreeSet;

use bytes::Bytes;

use super::call::{call, Origin};
use super::Harness;
use crate::commands::CMD_TABLE;
use crate::config::Config;
use crate::keyspace::now_ms;
use crate::resp::ReplyBuf;
use json::Json;

const DATA: &str = include_str!("../../../tests/data/propagation.jsonl");

/// How far an absolute time may be from the scenario's start + N: a
/// seconds-based input truncates to the second, and the two clocks were
/// read a few milliseconds apart.
const ABS_TOLERANCE_MS: i64 = 1_500;

struct Scenario {
    name: String,
    db: usize,
    setup: Vec<Vec<String>>,
    sleep_ms: i64,
    command: Vec<String>,
    reply: Vec<u8>,
    rand: bool,
    blocked: Option<Vec<String>>,
    blocked_reply: Option<Vec<u8>>,
    /// (db, argv); MULTI/EXEC removed.
    propagated: Vec<(usize, Vec<String>)>,
    /// Valkey propagated the call inside MULTI/EXEC.
    transaction: bool,
    modified: BTreeSet<(usize, String)>,
}

/// Reply bytes were written as Latin-1 text.
fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| c as u32 as u8).collect()
}

fn scenarios() -> Vec<Scenario> {
    DATA.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v = Json::parse(line).unwrap_or_else(|e| panic!("bad line {line}: {e}"));
            let mut propagated = Vec::new();
            let mut transaction = false;
            for p in v.get("propagated").arr() {
                let argv = p.get("argv").strings();
                if argv[0] == "MULTI" || argv[0] == "EXEC" {
                    transaction = true;
                    continue;
                }
                propagated.push((p.get("db").num() as usize, argv));
            }
            Scenario {
                name: v.get("name").str().to_owned(),
                db: v.get("db").num() as usize,
                setup: v.get("setup").arr().iter().map(Json::strings).collect(),
                sleep_ms: v.get("sleep_ms").num(),
                command: v.get("command").strings(),
                reply: latin1(v.get("reply").str()),
                rand: v.get("rand").truthy(),
                blocked: (!v.get("blocked").is_null()).then(|| v.get("blocked").strings()),
                blocked_reply: (!v.get("blocked_reply").is_null())
                    .then(|| latin1(v.get("blocked_reply").str())),
                propagated,
                transaction,
                modified: v
                    .get("modified")
                    .arr()
                    .iter()
                    .map(|m| (m.arr()[0].num() as usize, m.arr()[1].str().to_owned()))
                    .collect(),
            }
        })
        .collect()
}

/// `<abs:+N>` / `<abs_s:+N>` in an input argument: the scenario's start
/// plus N milliseconds, or its start in seconds plus N seconds.
fn subst(arg: &str, t0: i64) -> String {
    let Some(inner) = arg.strip_prefix('<').and_then(|a| a.strip_suffix('>')) else {
        return arg.to_owned();
    };
    if let Some(n) = inner.strip_prefix("abs:") {
        return (t0 + n.parse::<i64>().expect("abs offset")).to_string();
    }
    if let Some(n) = inner.strip_prefix("abs_s:") {
        return (t0 / 1000 + n.parse::<i64>().expect("abs_s offset")).to_string();
    }
    arg.to_owned()
}

fn argv_of(args: &[String], t0: i64) -> Vec<Bytes> {
    args.iter()
        .map(|a| Bytes::from(subst(a, t0).into_bytes()))
        .collect()
}

/// Does a propagated argument match the expected one?
fn arg_matches(expected: &str, actual: &[u8], t0: i64) -> bool {
    if let Some(n) = expected
        .strip_prefix("<abs:")
        .and_then(|a| a.strip_suffix('>'))
    {
        let want = t0 + n.parse::<i64>().expect("abs offset");
        return std::str::from_utf8(actual)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .is_some_and(|got| (got - want).abs() <= ABS_TOLERANCE_MS);
    }
    latin1(expected) == actual
}

/// The members of a RESP2 reply (a bulk string or an array of them), for
/// matching SPOP's SREM against what it returned.
fn reply_members(reply: &[u8]) -> BTreeSet<Vec<u8>> {
    let mut out = BTreeSet::new();
    let mut lines = reply
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    while let Some(line) = lines.next() {
        if line.first() == Some(&b'$') && line != b"$-1" {
            if let Some(m) = lines.next() {
                out.insert(m.to_vec());
            }
        }
    }
    out
}

fn is_flush(command: &[String]) -> bool {
    matches!(
        command[0].to_ascii_lowercase().as_str(),
        "flushall" | "flushdb" | "swapdb"
    )
}

fn render(p: &[(usize, Vec<Bytes>)]) -> String {
    p.iter()
        .map(|(db, argv)| {
            let args: Vec<String> = argv
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            format!("db{db}: {}", args.join(" "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs one scenario and returns what went wrong, if anything.
fn check(sc: &Scenario) -> Result<(), String> {
    let mut h = Harness::new(Config::default());
    let c = h.add_client();
    let select = [
        Bytes::from_static(b"SELECT"),
        Bytes::from(sc.db.to_string()),
    ];
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
    h.take_propagated();
    h.take_modified();

    // With a blocked client the ready keys must survive the command, which
    // `Harness::run` forgets.
    let reply = if blocker.is_some() {
        call_direct(&mut h, c, &argv_of(&sc.command, t0))
    } else {
        h.run(c, &argv_of(&sc.command, t0))
    };
    if let (Some((b, blocked_argv)), Some(want)) = (blocker, &sc.blocked_reply) {
        let got = serve(&mut h, b, blocked_argv);
        if &got != want {
            return Err(format!(
                "blocked client got {:?}, Valkey {:?}",
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(want)
            ));
        }
    }
    // A call that propagated several commands goes out wrapped in
    // MULTI/EXEC, as Valkey's: checked against the scenario, then unwrapped.
    let mut propagated: Vec<(usize, Vec<Bytes>)> = h
        .take_propagated()
        .into_iter()
        .map(|p| (p.db, p.argv))
        .collect();
    let wrapped = propagated.len() > 2
        && propagated[0].1[..] == [Bytes::from_static(b"MULTI")]
        && propagated[propagated.len() - 1].1[..] == [Bytes::from_static(b"EXEC")];
    if wrapped != sc.transaction {
        return Err(format!(
            "propagated [{}]; Valkey wrapped it in MULTI/EXEC: {}",
            render(&propagated),
            sc.transaction
        ));
    }
    if wrapped {
        propagated.pop();
        propagated.remove(0);
    }
    let modified: BTreeSet<(usize, String)> = h
        .take_modified()
        .into_iter()
        .map(|(db, k)| (db, String::from_utf8_lossy(&k).into_owned()))
        .collect();

    if sc.rand {
        // Random members: as many as Valkey popped.
        if reply_members(&reply).len() != reply_members(&sc.reply).len() {
            return Err(format!("reply {:?}", String::from_utf8_lossy(&reply)));
        }
    } else if reply != sc.reply {
        return Err(format!(
            "reply {:?}, Valkey {:?}",
            String::from_utf8_lossy(&reply),
            String::from_utf8_lossy(&sc.reply)
        ));
    }

    let same = propagated.len() == sc.propagated.len()
        && propagated
            .iter()
            .zip(&sc.propagated)
            .all(|((db, argv), (edb, eargv))| {
                db == edb
                    && argv.len() == eargv.len()
                    && argv.iter().zip(eargv).enumerate().all(|(i, (a, e))| {
                        e == "<rand>"
                            || (i == 0 && a.eq_ignore_ascii_case(e.as_bytes()))
                            || arg_matches(e, a, t0)
                    })
            });
    if !same {
        return Err(format!(
            "propagated [{}], Valkey {:?}",
            render(&propagated),
            sc.propagated
        ));
    }
    if sc.rand {
        let popped = reply_members(&reply);
        let srem: BTreeSet<Vec<u8>> = propagated
            .iter()
            .flat_map(|(_, argv)| argv.iter().skip(2).map(|m| m.to_vec()))
            .collect();
        if popped != srem {
            return Err(format!("SREM {srem:?} but popped {popped:?}"));
        }
    }

    // Flushes touch watched keys without naming them (see the header):
    // nothing is signalled key by key.
    let want = if is_flush(&sc.command) {
        BTreeSet::new()
    } else {
        sc.modified.clone()
    };
    if modified != want {
        return Err(format!("modified {modified:?}, Valkey {want:?}"));
    }
    Ok(())
}

/// Runs a blocking command for the client in `slot` through the call path
/// and registers it as blocked, as the batch executor does (the harness
/// itself drops block requests). Returns its argv, for `serve`.
fn block(h: &mut Harness, slot: usize, argv: Vec<Bytes>) -> Result<Vec<Bytes>, String> {
    let cmd = CMD_TABLE.resolve(&argv);
    let id = *cmd.as_ref().map_err(|e| e.0.to_string())?;
    let mut out = ReplyBuf::new(h.clients.at(slot).resp);
    call(
        &mut h.state,
        &mut h.clients,
        slot,
        &argv,
        cmd,
        &mut out,
        now_ms(),
        Origin::Client,
    );
    let Some((req, nsec)) = h.state.blocking.take_request() else {
        return Err(format!("{argv:?} did not block"));
    };
    let client = h.clients.at(slot).id;
    let db = h.clients.at(slot).db;
    h.state
        .blocking
        .block(client, db, req, argv.clone(), id, nsec);
    // The command may retry with other arguments (XREAD's `$` resolved).
    Ok(h.state
        .blocking
        .get(client)
        .map_or(argv, |w| w.argv.clone()))
}

/// Serves the client blocked by `block` once a key it waits on is ready,
/// as the batch executor's serve_ready does: its command runs again
/// through the call path. Returns its reply (empty if still blocked).
fn serve(h: &mut Harness, slot: usize, argv: Vec<Bytes>) -> Vec<u8> {
    let client = h.clients.at(slot).id;
    let ready = h.state.blocking.take_ready();
    if !ready
        .iter()
        .any(|k| h.state.blocking.waiters(k).contains(&client))
    {
        return Vec::new();
    }
    let reply = call_direct(h, slot, &argv);
    if h.state.blocking.take_request().is_some() {
        return Vec::new();
    }
    h.state.blocking.unblock(client);
    reply
}

/// One command through the call path, leaving the blocking registry's
/// requests and ready keys for the caller.
fn call_direct(h: &mut Harness, slot: usize, argv: &[Bytes]) -> Vec<u8> {
    let cmd = CMD_TABLE.resolve(argv);
    let mut out = ReplyBuf::new(h.clients.at(slot).resp);
    call(
        &mut h.state,
        &mut h.clients,
        slot,
        argv,
        cmd,
        &mut out,
        now_ms(),
        Origin::Client,
    );
    let mut bytes = Vec::new();
    out.take().pieces_from(0, |p| {
        bytes.extend_from_slice(p);
        true
    });
    bytes
}

#[test]
fn every_scenario_has_valkeys_effects() {
    let all = scenarios();
    assert!(all.len() > 200, "the data file lost its scenarios");
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

/// The table's name of the command `argv` runs: `container|sub` for a
/// subcommand (CLUSTER FLUSHSLOT), else the command's.
pub(super) fn command_name(argv: &[String]) -> String {
    let name = argv[0].to_ascii_lowercase();
    match argv.get(1) {
        Some(sub)
            if CMD_TABLE
                .get(&name)
                .is_some_and(|s| !s.subcommands.is_empty()) =>
        {
            format!("{name}|{}", sub.to_ascii_lowercase())
        }
        _ => name,
    }
}

#[test]
fn every_write_command_has_a_scenario() {
    let covered: BTreeSet<String> = scenarios()
        .iter()
        .flat_map(|sc| {
            let mut names = vec![command_name(&sc.command)];
            if let Some(b) = &sc.blocked {
                names.push(command_name(b));
            }
            names
        })
        .collect();
    let missing: Vec<&str> = CMD_TABLE
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
