//! The call path: every command runs through `call`, whoever asks (a
//! client's batch today; a MULTI queue, a script, AOF loading and a
//! replication stream later). In order: authentication, the unknown
//! command and arity errors (found by `CommandTable::resolve`), the
//! command's own flags against where it runs (`Origin`), the handler,
//! statistics (command stats, latency histogram, latency monitor), the
//! slow log, reply suppression (CLIENT REPLY), and the command's effects:
//! the keys it modified and what it propagates (`state::Effects`).

use bytes::Bytes;

use crate::commands::table::CmdId;
use crate::commands::{flags, CommandSpec, Ctx, CMD_TABLE};
use crate::error::{CmdError, NOAUTH};
use crate::resp::ReplyBuf;
use crate::state::latency;
use crate::state::monitor::Peer;
use crate::state::{Client, Clients, ReplyMode, SlowEntry, State};

pub use crate::state::Origin;

pub use crate::state::client::AOF_CLIENT_ID;

pub const LOADING_ERR: &str = "LOADING Valkey is loading the dataset in memory";
pub const MASTERDOWN_ERR: &str =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
pub const NO_SCRIPT_ERR: &str = "ERR This Valkey command is not allowed from script";

/// The command's own flags against where it runs and what the server is
/// doing: `noscript` from a script, `no-multi` in a transaction, and while
/// a dataset loads (`loading`) or a replica's primary link is down with
/// `replica-serve-stale-data no` (`stale`), only the commands that allow it.
#[inline]
fn check_flags(
    spec: &CommandSpec,
    origin: Origin,
    in_multi: bool,
    state: &State,
) -> Result<(), CmdError> {
    if origin == Origin::Script && spec.has(flags::NOSCRIPT) && !state.debug.allow_noscript {
        return Err(NO_SCRIPT_ERR.into());
    }
    if (in_multi || origin == Origin::Multi) && spec.has(flags::NO_MULTI) {
        return Err(CmdError::owned(format!(
            "ERR Command '{}' not allowed inside a transaction",
            spec.name
        )));
    }
    if state.mode.loading && !spec.has(flags::LOADING) {
        return Err(LOADING_ERR.into());
    }
    if state.mode.stale && !spec.has(flags::STALE) {
        return Err(MASTERDOWN_ERR.into());
    }
    Ok(())
}

pub const OOM_ERR: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// With a `maxmemory` limit (policy `noeviction`), over the limit: the
/// commands that may use memory (`denyoom`) are refused, queued or not,
/// and so is an EXEC whose queue has one (as Valkey 9.1).
#[inline]
fn out_of_memory(state: &State, spec: &CommandSpec, client: &Client, in_multi: bool) -> bool {
    let max = state.config.maxmemory;
    if max == 0 || !state.mode.limited {
        return false;
    }
    let rejects = spec.has(flags::DENYOOM)
        || (in_multi && spec.name == "exec" && client.multi.as_ref().is_some_and(|m| m.denyoom));
    rejects && crate::alloc::allocated() as u64 > max
}

pub const NOREPLICAS_ERR: &str = "NOREPLICAS Not enough good replicas to write.";

/// A write (`write` flag), or an EXEC whose queue holds one: what
/// `min-replicas-to-write` refuses (Valkey's is_write_command). Only asked
/// while that limit is armed, so the queue is resolved again here rather
/// than tracked at queueing time.
fn writes(spec: &CommandSpec, client: &Client, in_multi: bool) -> bool {
    if spec.has(flags::WRITE) {
        return true;
    }
    in_multi
        && spec.name == "exec"
        && client.multi.as_ref().is_some_and(|m| {
            m.cmds.iter().any(|argv| {
                CMD_TABLE
                    .resolve(argv)
                    .is_ok_and(|id| CMD_TABLE.specs[id].has(flags::WRITE))
            })
        })
}

/// Commands a client in MULTI runs at once instead of queueing (MULTI and
/// WATCH are refused there by their `no-multi` flag).
fn runs_in_multi(spec: &CommandSpec) -> bool {
    matches!(spec.name, "exec" | "discard" | "quit" | "reset")
}

/// The call path as a nested call (EXEC's queue, a script's calls): runs
/// `argv` from `origin`, resolving it unless the caller did.
#[allow(clippy::too_many_arguments)]
fn call_nested(
    state: &mut State,
    clients: &mut Clients,
    slot: usize,
    argv: &[Bytes],
    resolved: Option<CmdId>,
    out: &mut ReplyBuf,
    now: i64,
    origin: Origin,
) {
    let cmd = match resolved {
        Some(id) => Ok(id),
        None => CMD_TABLE.resolve(argv),
    };
    call(state, clients, slot, argv, cmd, out, now, origin);
}

/// What the common case skips (a client's command, not in MULTI, the
/// server neither loading, stale, under a memory limit nor asking for
/// replicas): the command's flags against where it runs, the memory limit,
/// `min-replicas-to-write`, and queueing in MULTI.
/// True when the command was refused or queued, its reply written.
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn gate(
    state: &mut State,
    client: &mut Client,
    id: CmdId,
    spec: &CommandSpec,
    argv: &[Bytes],
    out: &mut ReplyBuf,
    origin: Origin,
    in_multi: bool,
) -> bool {
    if client.id == AOF_CLIENT_ID {
        // It queues its MULTI blocks as a client does (`in_multi` is only
        // a client's).
        let queues = client.in_multi && origin == Origin::AofLoad;
        return queues && !runs_in_multi(spec) && queue(state, client, spec, argv, out);
    }
    if let Err(e) = check_flags(spec, origin, in_multi, state) {
        if in_multi {
            client.multi_aborted = true;
        }
        state.stats.commands[id].rejected += 1;
        state.stats.count_error(e.code());
        out.error(&e.0);
        return true;
    }
    let aof_err;
    // (No eviction or memory check while a script keeps the server busy,
    // as Valkey.)
    // A script's own `allow-oom` flag lets its writes through.
    let oom_allowed = state.mode.busy || (origin == Origin::Script && state.script_allow_oom);
    let refusal = if !oom_allowed && out_of_memory(state, spec, client, in_multi) {
        Some(OOM_ERR)
    } else if state.mode.disk_error && (writes(spec, client, in_multi) || spec.name == "ping") {
        // The last background save, or AOF write, failed (Valkey refuses
        // PING too).
        match state.aof.disk_error() {
            Some(e) if !state.save.refuses_writes(true, &state.config.save) => {
                aof_err = format!("MISCONF Errors writing to the AOF file: {e}");
                Some(aof_err.as_str())
            }
            _ => Some(crate::commands::save::MISCONF_ERR),
        }
    } else if state.mode.min_replicas
        && matches!(origin, Origin::Client | Origin::Script)
        && writes(spec, client, in_multi)
    {
        Some(NOREPLICAS_ERR)
    } else if state.mode.busy && origin == Origin::Client && !spec.has(flags::ALLOW_BUSY) {
        // A script runs past busy-reply-threshold (`state::script_run`).
        Some(state.busy_error())
    } else {
        None
    };
    if let Some(err) = refusal {
        state.stats.commands[id].rejected += 1;
        if in_multi && spec.name == "exec" {
            // Monitors see the EXEC that ends the transaction they saw
            // begin (Valkey's execCommandAbort).
            if state.monitors.active() {
                let secret = spec.secret_positions(argv);
                let peer = Peer::Client(&client.addr);
                state.monitors.feed(client.db, peer, argv, &secret);
            }
            // EXEC refused: the transaction ends, as Valkey's
            // execCommandAbort.
            state.stats.count_error("EXECABORT");
            out.error(&format!(
                "EXECABORT Transaction discarded because of: {err}"
            ));
            client.in_multi = false;
            client.multi_aborted = false;
            client.dirty_cas = false;
            if let Some(m) = client.multi.as_mut() {
                m.cmds.clear();
                m.mem = 0;
                m.denyoom = false;
                m.writes = false;
            }
            state.unwatch_all(client);
        } else {
            if in_multi {
                client.multi_aborted = true;
            }
            state
                .stats
                .count_error(CmdError::owned(err.to_string()).code());
            out.error(err);
        }
        return true;
    }
    if client.monitor && origin == Origin::Client && touches_keyspace(spec) {
        // A monitor is a replica to Valkey, which may not use the keyspace.
        if in_multi {
            client.multi_aborted = true;
        }
        state.stats.commands[id].rejected += 1;
        state.stats.count_error("ERR");
        out.error(MONITOR_KEYSPACE_ERR);
        return true;
    }
    in_multi && !runs_in_multi(spec) && queue(state, client, spec, argv, out)
}

/// Queues a command of a client in MULTI: it runs, and is counted, when
/// EXEC runs it. Always true (the reply is written).
fn queue(
    state: &mut State,
    client: &mut Client,
    spec: &CommandSpec,
    argv: &[Bytes],
    out: &mut ReplyBuf,
) -> bool {
    state.stats.commands_processed -= 1;
    let m = client.multi.get_or_insert_with(Default::default);
    m.mem += argv.iter().map(|a| a.len()).sum::<usize>();
    m.denyoom |= spec.has(flags::DENYOOM);
    m.writes |= may_replicate(state, spec, argv);
    m.cmds.push(argv.to_vec());
    out.simple("QUEUED");
    true
}

/// Whether `argv` may write or propagate (what CLIENT PAUSE WRITE holds).
/// A script command counts by its script's flags, as Valkey's
/// evalGetCommandFlags: one that declared flags writes unless it said
/// `no-writes`; one that declared none (or is not cached) may replicate.
pub(super) fn may_replicate(state: &State, spec: &CommandSpec, argv: &[Bytes]) -> bool {
    use crate::script::flags::{EVAL_COMPAT_MODE, NO_WRITES};
    if !spec.has(flags::WRITE) && !spec.has(flags::MAY_REPLICATE) {
        return false;
    }
    if !spec.has(flags::RUNS_SCRIPT) || argv.len() < 2 {
        return true;
    }
    let declared = match spec.name {
        "eval" => crate::script::flags::parse_shebang(&argv[1])
            .ok()
            .map(|(f, _)| f),
        "evalsha" => state.scripting.as_ref().and_then(|e| {
            let sha = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
            e.get(&sha).map(|s| s.flags)
        }),
        "fcall" => state.functions.as_ref().and_then(|l| {
            l.function(&String::from_utf8_lossy(&argv[1]))
                .map(|(_, f)| f.flags)
        }),
        _ => None,
    };
    match declared {
        Some(f) if f & EVAL_COMPAT_MODE == 0 => f & NO_WRITES == 0,
        _ => true,
    }
}

pub const MONITOR_KEYSPACE_ERR: &str = "ERR Replica can't interact with the keyspace";

/// Reads, writes or may propagate: refused to a monitor.
fn touches_keyspace(spec: &CommandSpec) -> bool {
    spec.has(flags::READONLY) || spec.has(flags::WRITE) || spec.has(flags::MAY_REPLICATE)
}

/// Shows a command that ran to the monitors, as Valkey's call(): not the
/// admin commands nor those that show themselves (`skip_monitor`), not a
/// blocked command's retries (it was shown when it first ran), nothing
/// while loading. The db is the client's after the command (SELECT shows
/// its new one).
#[cold]
#[inline(never)]
fn feed_monitors(
    state: &mut State,
    clients: &Clients,
    slot: usize,
    spec: &CommandSpec,
    argv: &[Bytes],
    origin: Origin,
) {
    let c = clients.at(slot);
    if spec.has(flags::ADMIN)
        || spec.has(flags::SKIP_MONITOR)
        || state.mode.loading
        || state.blocking.is_blocked(c.id)
    {
        return;
    }
    let secret = spec.secret_positions(argv);
    let peer = if origin == Origin::Script {
        Peer::Script
    } else {
        Peer::Client(&c.addr)
    };
    state.monitors.feed(c.db, peer, argv, &secret);
}

/// A command `resolve` refused (unknown, wrong arity): its error, or
/// NOAUTH first, as Valkey checks authentication before existence and
/// arity except for the commands allowed before AUTH. Out of line: the
/// call path's registers are for the commands that run.
#[cold]
#[inline(never)]
fn refuse_unresolved(
    state: &mut State,
    client: &mut Client,
    argv: &[Bytes],
    e: &CmdError,
    out: &mut ReplyBuf,
    origin: Origin,
    in_multi: bool,
) {
    if in_multi {
        client.multi_aborted = true;
    }
    let found = CMD_TABLE.find(&argv[0]);
    let charged = CMD_TABLE.charged_for_refusal(argv);
    if let Some(id) = charged {
        state.stats.commands[id].rejected += 1;
    }
    if client.tracking.is_some() {
        end_caching_on_refusal(client, charged.map(|id| CMD_TABLE.specs[id].name), origin);
    }
    let no_auth = found.is_some_and(|id| CMD_TABLE.specs[id].has(flags::NO_AUTH));
    if !client.authenticated && state.config.requirepass.is_some() && !no_auth {
        state.stats.count_error("NOAUTH");
        out.error(NOAUTH);
    } else {
        state.stats.count_error(e.code());
        out.error(&e.0);
    }
}

/// A refused command (unknown, wrong arity, not allowed now) still ends
/// CLIENT CACHING's one command, as Valkey's resetClient does, except a
/// CLIENT subcommand (`charged`: the command refused, if one was found)
/// and inside a transaction.
#[cold]
#[inline(never)]
fn end_caching_on_refusal(client: &mut Client, charged: Option<&str>, origin: Origin) {
    if origin != Origin::Client || client.in_multi {
        return;
    }
    if charged.is_some_and(|n| n.starts_with("client|")) {
        return;
    }
    if let Some(t) = client.tracking.as_deref_mut() {
        t.caching = false;
    }
}

/// What a RESP2 client with subscriptions may run (Valkey's list).
fn allowed_subscribed(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "ping"
            | "subscribe"
            | "ssubscribe"
            | "psubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "punsubscribe"
            | "quit"
            | "reset"
    )
}

/// (Un)subscribe confirmations are pushes, which CLIENT REPLY OFF/SKIP
/// leave alone (Valkey's CLIENT_PUSHING); their errors are not.
#[cold]
fn is_push_reply(cmd: Option<CmdId>, out: &ReplyBuf, start: usize) -> bool {
    let Some(id) = cmd else { return false };
    let spec = CMD_TABLE.specs[id];
    spec.has(flags::PUBSUB)
        && spec.name.ends_with("subscribe")
        && matches!(out.buf.get(start), Some(b'*' | b'>'))
}

fn subscribed_error(spec: &CommandSpec) -> String {
    format!(
        "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
        spec.name
    )
}

/// Runs `argv` (already resolved to `cmd`, or the resolution error) for
/// the client in `slot`, appending the reply to `out`. Returns how long the
/// handler ran, in µs (0 when it did not run).
#[allow(clippy::too_many_arguments)]
pub fn call(
    state: &mut State,
    clients: &mut Clients,
    slot: usize,
    argv: &[Bytes],
    cmd: Result<CmdId, CmdError>,
    out: &mut ReplyBuf,
    now: i64,
    origin: Origin,
) -> u64 {
    let mut ran_usec = 0;
    let cmd_id = cmd.as_ref().ok().copied();
    let reply_start = out.mark();
    let client = clients.at_mut(slot);
    // Times the command (commandstats, slowlog, latency) and is the
    // client's last interaction.
    let start = crate::util::clock::Stamp::now();
    client.last_interaction = start;
    // The SKIP asked for by the previous command applies to this one.
    if client.reply_mode == ReplyMode::SkipNext {
        client.reply_mode = ReplyMode::Skip;
    }
    out.resp = client.resp;
    // A client in MULTI queues what it sends (below); a refused command
    // makes its EXEC abort.
    let in_multi = client.in_multi && origin == Origin::Client;
    state.stats.commands_processed += 1;
    // Effects are collected only while someone wants them.
    let effects = state.effects.wanted();
    if effects {
        state.effects.enter();
    }
    match cmd {
        Err(e) => refuse_unresolved(state, client, argv, &e, out, origin, in_multi),
        Ok(id) => {
            let spec = CMD_TABLE.specs[id];
            client.last_cmd = spec.name;
            if !client.authenticated
                && state.config.requirepass.is_some()
                && !spec.has(flags::NO_AUTH)
            {
                if in_multi {
                    client.multi_aborted = true;
                }
                state.stats.commands[id].rejected += 1;
                state.stats.count_error("NOAUTH");
                out.error(NOAUTH);
            } else if client.subscribed && client.resp == 2 && !allowed_subscribed(spec) {
                if in_multi {
                    client.multi_aborted = true;
                }
                state.stats.commands[id].rejected += 1;
                state.stats.count_error("ERR");
                out.error(&subscribed_error(spec));
                if client.tracking.is_some() {
                    end_caching_on_refusal(client, Some(spec.name), origin);
                }
            } else if !(origin == Origin::Client && !in_multi && state.mode.is_normal())
                && gate(state, client, id, spec, argv, out, origin, in_multi)
            {
                // Refused, or queued in MULTI.
                if client.tracking.is_some() {
                    end_caching_on_refusal(client, Some(spec.name), origin);
                }
            } else {
                // CLIENT NO-TOUCH: lookups leave access data alone.
                let no_touch = client.no_touch;
                if no_touch {
                    state.dbs.iter_mut().for_each(|d| d.no_touch = true);
                }
                let dirty_before = state.dirty;
                let modified_from = if effects {
                    state.effects.modified.len()
                } else {
                    0
                };
                let result = (spec.handler)(&mut Ctx::new(
                    state,
                    clients,
                    slot,
                    argv,
                    out,
                    now,
                    spec,
                    call_nested,
                    origin,
                ));
                if no_touch {
                    state.dbs.iter_mut().for_each(|d| d.no_touch = false);
                }
                if state.monitors.active() {
                    feed_monitors(state, clients, slot, spec, argv, origin);
                }
                let nsec = start.elapsed().as_nanos() as u64;
                if state.effects.wanted() {
                    state.propagate_expired();
                    let db = clients.at(slot).db;
                    let changed = state.dirty != dirty_before;
                    state.effects.end_command(db, argv, changed);
                    // A script's writes are its caller's, for NOLOOP
                    // (Valkey's current_client is the caller).
                    let me = match (origin, state.script_run.as_ref()) {
                        (Origin::Script, Some(run)) => run.caller,
                        _ => clients.at(slot).id,
                    };
                    state.touch_watched(clients, modified_from, Some(me));
                    super::tracking::after_command(state, clients, slot, spec, argv, origin);
                }
                ran_usec = nsec / 1000;
                if let Err(e) = result {
                    state.stats.commands[id].failed += 1;
                    let custom = std::mem::take(&mut state.error_custom);
                    if std::mem::take(&mut state.error_counted) {
                        // Counted when the script's command failed.
                    } else if custom {
                        state.stats.count_custom_error(e.code());
                    } else {
                        state.stats.count_error(e.code());
                    }
                    out.error(&e.0);
                }
                if origin != Origin::Client && state.blocking.requested() {
                    // Nothing to wait for inside a transaction, a script or
                    // the AOF: a blocking command replies as if its timeout
                    // passed.
                    if let Some((req, _)) = state.blocking.take_request() {
                        req.timeout_reply.write(out);
                    }
                }
                if state.blocking.requested() {
                    // Blocked: counted once, when it completes (served,
                    // timed out or unblocked), with all its run time.
                    state.blocking.add_request_nsec(nsec);
                } else if origin != Origin::AofLoad {
                    // (Valkey runs the AOF's own commands uncounted; those
                    // its EXEC runs are counted.)
                    let total = nsec + state.blocking.take_carried_nsec();
                    record_completion(state, clients, slot, argv, id, total, now);
                }
            }
        }
    }
    // Decided after the command: CLIENT REPLY ON and RESET turn replies
    // back on for their own reply, CLIENT REPLY OFF silences its own.
    let client = clients.at_mut(slot);
    let suppress = match client.reply_mode {
        ReplyMode::On | ReplyMode::SkipNext => false,
        ReplyMode::Off => true,
        ReplyMode::Skip => {
            client.reply_mode = ReplyMode::On;
            true
        }
    };
    if suppress && !is_push_reply(cmd_id, out, reply_start) {
        out.truncate(reply_start);
    }
    // HELLO may have switched the protocol for what follows.
    out.resp = clients.at(slot).resp;
    if effects {
        state.effects.leave();
    }
    ran_usec
}

/// Statistics of a command that completed after `nsec` of run time (a
/// command served after blocking: `nsec` includes its earlier runs):
/// commandstats (summed in ns), the latency histogram and monitor, and the
/// slow log (µs thresholds). Inlined: it is on every command's path.
#[inline(always)]
pub fn record_completion(
    state: &mut State,
    clients: &mut Clients,
    slot: usize,
    argv: &[Bytes],
    id: CmdId,
    nsec: u64,
    now: i64,
) {
    let spec = CMD_TABLE.specs[id];
    let usec = nsec / 1000;
    // CLIENT LIST tot-cmds counts completed commands, as Valkey does.
    clients.at_mut(slot).commands += 1;
    state.stats.commands[id].record(nsec);
    if state.config.latency_tracking {
        state.stats.histograms.record(id, usec);
    }
    let event = if spec.has(flags::FAST) {
        latency::FAST_COMMAND
    } else {
        latency::COMMAND
    };
    state
        .latency
        .record(state.config.latency_monitor_threshold, event, usec);
    let threshold = state.config.slowlog_log_slower_than;
    if threshold >= 0 && usec >= threshold as u64 && !spec.has(flags::SKIP_SLOWLOG) {
        log_slow(state, clients, slot, spec, argv, usec, now);
    }
}

/// A blocked command that ends without being served (timeout, CLIENT
/// UNBLOCK) after running `nsec` in all: counted once, as Valkey does at
/// unblock. CLIENT UNBLOCK ... ERROR counts as a rejected call and an
/// `UNBLOCKED` error reply, as in Valkey 9.1.
#[allow(clippy::too_many_arguments)]
pub fn record_unblocked(
    state: &mut State,
    clients: &mut Clients,
    slot: usize,
    argv: &[Bytes],
    id: CmdId,
    nsec: u64,
    with_error: bool,
    now: i64,
) {
    if with_error {
        state.stats.commands[id].rejected += 1;
        state.stats.count_error("UNBLOCKED");
    }
    record_completion(state, clients, slot, argv, id, nsec, now);
}

fn log_slow(
    state: &mut State,
    clients: &Clients,
    slot: usize,
    spec: &CommandSpec,
    argv: &[Bytes],
    usec: u64,
    now: i64,
) {
    let max = state.config.slowlog_max_len as usize;
    if max == 0 {
        return;
    }
    // Passwords never reach the log, as in Valkey: the row declares
    // which arguments are secret.
    let secret = spec.secret_positions(argv);
    // Valkey keeps at most 32 arguments of at most 128 bytes each.
    let mut args: Vec<Bytes> = argv
        .iter()
        .enumerate()
        .take(32)
        .map(|(i, a)| {
            if secret.contains(&i) {
                return Bytes::from_static(b"(redacted)");
            }
            if a.len() > 128 {
                let mut v = a[..128].to_vec();
                v.extend_from_slice(format!("... ({} more bytes)", a.len() - 128).as_bytes());
                Bytes::from(v)
            } else {
                Bytes::copy_from_slice(a)
            }
        })
        .collect();
    if argv.len() > 32 {
        args.truncate(31);
        args.push(Bytes::from(format!(
            "... ({} more arguments)",
            argv.len() - 31
        )));
    }
    let c = clients.at(slot);
    let entry = SlowEntry {
        id: 0,
        time: now / 1000,
        usec,
        argv: args,
        addr: c.addr.to_string(),
        name: c.name.clone().unwrap_or_default(),
    };
    state.slowlog.push(entry, max);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::exec::Harness;
    use crate::state::Propagated;

    fn argv(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    /// Runs `args` from `origin` through `call`, returning the reply.
    fn run_from(h: &mut Harness, slot: usize, origin: Origin, args: &[&str]) -> Vec<u8> {
        let a = argv(args);
        let mut out = ReplyBuf::new(2);
        let cmd = CMD_TABLE.resolve(&a);
        call(
            &mut h.state,
            &mut h.clients,
            slot,
            &a,
            cmd,
            &mut out,
            0,
            origin,
        );
        let mut bytes = Vec::new();
        out.take().pieces_from(0, |p| {
            bytes.extend_from_slice(p);
            true
        });
        bytes
    }

    #[test]
    fn flags_decide_what_runs_where() {
        let mut h = Harness::new(Config::default());
        let c = h.add_client();
        // CLIENT ... is noscript; SET is not.
        assert_eq!(
            run_from(&mut h, c, Origin::Script, &["CLIENT", "ID"]),
            format!("-{NO_SCRIPT_ERR}\r\n").into_bytes()
        );
        assert_eq!(
            run_from(&mut h, c, Origin::Script, &["SET", "k", "v"]),
            b"+OK\r\n"
        );
        // WATCH is no-multi, named in the error; GET is not.
        assert_eq!(
            run_from(&mut h, c, Origin::Multi, &["WATCH", "x"]),
            b"-ERR Command 'watch' not allowed inside a transaction\r\n"
        );
        assert_eq!(
            run_from(&mut h, c, Origin::Multi, &["GET", "k"]),
            b"$1\r\nv\r\n"
        );
        // While loading, only `loading` commands (INFO, not even PING) run.
        h.state.mode.loading = true;
        assert_eq!(
            run_from(&mut h, c, Origin::Client, &["GET", "k"]),
            format!("-{LOADING_ERR}\r\n").into_bytes()
        );
        assert_eq!(
            run_from(&mut h, c, Origin::Client, &["PING"]),
            format!("-{LOADING_ERR}\r\n").into_bytes()
        );
        assert!(run_from(&mut h, c, Origin::Client, &["INFO", "server"]).starts_with(b"$"));
        h.state.mode.loading = false;
        h.state.mode.stale = true;
        assert_eq!(
            run_from(&mut h, c, Origin::Client, &["GET", "k"]),
            format!("-{MASTERDOWN_ERR}\r\n").into_bytes()
        );
        h.state.mode.stale = false;
        let get = CMD_TABLE.find(b"get").expect("get");
        assert_eq!(h.state.stats.commands[get].rejected, 2);
        assert_eq!(h.state.stats.errors[0].0, "ERR");
        assert_eq!(h.state.stats.commands[get].calls, 1);
    }

    #[test]
    fn writes_that_change_data_are_propagated_in_their_db() {
        let mut h = Harness::new(Config::default());
        let c = h.add_client();
        h.run_str(c, &["SELECT", "3"]);
        h.run_str(c, &["SET", "k", "1"]);
        h.run_str(c, &["GET", "k"]);
        h.run_str(c, &["INCR", "k"]);
        // Changes nothing: not propagated.
        h.run_str(c, &["SET", "k", "x", "NX"]);
        h.run_str(c, &["DEL", "nosuch"]);
        // Errors are not propagated either.
        h.run_str(c, &["LPUSH", "k", "a"]);
        assert_eq!(
            h.take_propagated(),
            vec![
                Propagated {
                    db: 3,
                    argv: argv(&["SET", "k", "1"])
                },
                Propagated {
                    db: 3,
                    argv: argv(&["INCR", "k"])
                },
            ]
        );
    }

    #[test]
    fn nothing_is_collected_without_a_consumer() {
        let mut h = Harness::new(Config::default());
        h.state.set_propagating(false);
        h.state.set_track_keys(false);
        let c = h.add_client();
        h.run_str(c, &["SET", "k", "1"]);
        assert!(h.take_propagated().is_empty());
        assert!(h.take_modified().is_empty());
    }

    #[test]
    fn keys_found_expired_go_out_as_deletions_before_the_command() {
        let mut h = Harness::new(Config::default());
        let c = h.add_client();
        h.run_str(c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        // b first: once a (set after it) has expired, so has b.
        h.run_str(c, &["SET", "b", "1", "PX", "1"]);
        h.run_str(c, &["SET", "a", "1", "PX", "1"]);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while h.run_str(c, &["PTTL", "a"]) != b":-2\r\n" {
            assert!(std::time::Instant::now() < deadline, "a never expired");
            std::thread::yield_now();
        }
        h.take_propagated();
        h.take_modified();
        // A read that finds b expired: UNLINK b, and GET is not propagated.
        assert_eq!(h.run_str(c, &["GET", "b"]), b"$-1\r\n");
        assert_eq!(
            h.take_propagated(),
            vec![Propagated {
                db: 0,
                argv: argv(&["UNLINK", "b"])
            }]
        );
        assert_eq!(h.take_modified(), vec![(0, Bytes::from_static(b"b"))]);
        h.run_str(c, &["CONFIG", "SET", "lazyfree-lazy-expire", "no"]);
        h.run_str(c, &["SET", "c", "1", "PX", "1"]);
        while h.run_str(c, &["PTTL", "c"]) != b":-2\r\n" {
            assert!(std::time::Instant::now() < deadline, "c never expired");
            std::thread::yield_now();
        }
        h.take_propagated();
        h.run_str(c, &["SET", "d", "1", "PX", "1"]);
        while h.run_str(c, &["PTTL", "d"]) != b":-2\r\n" {
            assert!(std::time::Instant::now() < deadline, "d never expired");
            std::thread::yield_now();
        }
        // PTTL found d expired (DEL, the config now says), then the write.
        assert_eq!(h.run_str(c, &["SET", "d", "2", "GET"]), b"$-1\r\n");
        let p = h.take_propagated();
        assert_eq!(p.len(), 3, "{p:?}");
        assert_eq!(
            p[1],
            Propagated {
                db: 0,
                argv: argv(&["DEL", "d"])
            }
        );
        assert_eq!(p[2].argv[..3], argv(&["SET", "d", "2"])[..]);
    }

    #[test]
    fn a_transaction_propagates_as_one_unit() {
        use crate::state::NO_DB;
        let mut h = Harness::new(Config::default());
        let c = h.add_client();
        let names = |p: &[Propagated]| -> Vec<(usize, String)> {
            p.iter()
                .map(|p| (p.db, String::from_utf8_lossy(&p.argv[0]).into_owned()))
                .collect()
        };
        // One write: no MULTI/EXEC around it.
        for a in [&["MULTI"][..], &["SET", "a", "1"], &["GET", "a"], &["EXEC"]] {
            h.run_str(c, a);
        }
        assert_eq!(names(&h.take_propagated()), vec![(0, "SET".into())]);
        // Several, across dbs: wrapped, each in its db.
        for a in [
            &["MULTI"][..],
            &["SET", "a", "2"],
            &["SELECT", "2"],
            &["INCR", "n"],
            &["EXEC"],
        ] {
            h.run_str(c, a);
        }
        assert_eq!(
            names(&h.take_propagated()),
            vec![
                (NO_DB, "MULTI".into()),
                (0, "SET".into()),
                (2, "INCR".into()),
                (NO_DB, "EXEC".into())
            ]
        );
        // Reads only, or writes that change nothing: nothing.
        for a in [&["MULTI"][..], &["GET", "a"], &["DEL", "nosuch"], &["EXEC"]] {
            h.run_str(c, a);
        }
        assert!(h.take_propagated().is_empty());
        // A discarded or aborted transaction propagates nothing either.
        for a in [&["MULTI"][..], &["SET", "x", "1"], &["DISCARD"]] {
            h.run_str(c, a);
        }
        for a in [&["MULTI"][..], &["SET", "x", "1"], &["NOSUCH"], &["EXEC"]] {
            h.run_str(c, a);
        }
        assert!(h.take_propagated().is_empty());
    }
}
