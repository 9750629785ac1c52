//! Running one command: authentication, the handler, statistics (command
//! stats, latency histogram, latency monitor), slow log, reply suppression
//! (CLIENT REPLY), errors written as replies.

use std::time::Instant;

use bytes::Bytes;

use super::client::{Clients, ReplyMode};
use super::latency;
use super::state::{SlowEntry, State};
use super::Ctx;
use crate::commands::table::CmdId;
use crate::commands::{flags, CMD_TABLE};
use crate::error::{CmdError, NOAUTH};
use crate::resp::ReplyBuf;

/// Executes `argv` (already resolved to `cmd`, or the resolution error) for
/// the client in `slot`, appending the reply to `out`. Returns how long the
/// handler ran, in µs (0 when it did not run).
pub fn execute(
    state: &mut State,
    clients: &mut Clients,
    slot: usize,
    argv: &[Bytes],
    cmd: Result<CmdId, CmdError>,
    out: &mut ReplyBuf,
    now: i64,
) -> u64 {
    let mut ran_usec = 0;
    let reply_start = out.mark();
    let client = clients.at_mut(slot);
    // Times the command (commandstats, slowlog, latency) and is the
    // client's last interaction.
    let start = Instant::now();
    client.last_interaction = start;
    // The SKIP asked for by the previous command applies to this one.
    if client.reply_mode == ReplyMode::SkipNext {
        client.reply_mode = ReplyMode::Skip;
    }
    out.resp = client.resp;
    state.stats.commands_processed += 1;
    match cmd {
        Err(e) => {
            let found = CMD_TABLE.find(&argv[0]);
            if let Some(id) = found {
                state.stats.commands[id].rejected += 1;
            }
            // Valkey checks authentication before existence and arity,
            // except for the commands allowed before AUTH.
            let no_auth = found.is_some_and(|id| CMD_TABLE.specs[id].has(flags::NO_AUTH));
            if !client.authenticated && state.config.requirepass.is_some() && !no_auth {
                state.stats.count_error("NOAUTH");
                out.error(NOAUTH);
            } else {
                state.stats.count_error(e.code());
                out.error(&e.0);
            }
        }
        Ok(id) => {
            let spec = CMD_TABLE.specs[id];
            client.last_cmd = spec.name;
            if !client.authenticated
                && state.config.requirepass.is_some()
                && !spec.has(flags::NO_AUTH)
            {
                state.stats.commands[id].rejected += 1;
                state.stats.count_error("NOAUTH");
                out.error(NOAUTH);
            } else {
                let mut ctx = Ctx {
                    state,
                    clients,
                    me: slot,
                    argv,
                    out,
                    now,
                    cmd: spec,
                };
                // CLIENT NO-TOUCH: lookups leave access data alone.
                let no_touch = ctx.client_ref().no_touch;
                if no_touch {
                    ctx.state.dbs.iter_mut().for_each(|d| d.no_touch = true);
                }
                let result = (spec.handler)(&mut ctx);
                if no_touch {
                    ctx.state.dbs.iter_mut().for_each(|d| d.no_touch = false);
                }
                let nsec = start.elapsed().as_nanos() as u64;
                ran_usec = nsec / 1000;
                if let Err(e) = result {
                    state.stats.commands[id].failed += 1;
                    state.stats.count_error(e.code());
                    out.error(&e.0);
                }
                let c = clients.at_mut(slot);
                if state.block_request.is_some() {
                    // Blocked: counted once, when it completes (served,
                    // timed out or unblocked), with all its run time.
                    c.blocked_nsec += nsec;
                } else {
                    let total = nsec + std::mem::take(&mut c.blocked_nsec);
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
    if suppress {
        out.truncate(reply_start);
    }
    // HELLO may have switched the protocol for what follows.
    out.resp = clients.at(slot).resp;
    ran_usec
}

/// Statistics of a command that completed after `nsec` of run time:
/// commandstats (summed in ns), the latency histogram and monitor, and the
/// slow log (µs thresholds). Inlined: it is on every command's path.
#[inline(always)]
fn record_completion(
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
        log_slow(state, clients, slot, argv, usec, now);
    }
}

/// A blocked command that ends without being served (timeout, CLIENT
/// UNBLOCK): counted once with the time it ran, as Valkey does at unblock.
/// CLIENT UNBLOCK ... ERROR counts as a rejected call and an `UNBLOCKED`
/// error reply, as in Valkey 9.1.
pub fn record_unblocked(
    state: &mut State,
    clients: &mut Clients,
    slot: usize,
    argv: &[Bytes],
    id: CmdId,
    with_error: bool,
    now: i64,
) {
    let nsec = std::mem::take(&mut clients.at_mut(slot).blocked_nsec);
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
    argv: &[Bytes],
    usec: u64,
    now: i64,
) {
    let max = state.config.slowlog_max_len as usize;
    if max == 0 {
        return;
    }
    // Passwords never reach the log, as in Valkey.
    let secret = secret_args(argv);
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
        id: state.slowlog_next_id,
        time: now / 1000,
        usec,
        argv: args,
        addr: c.addr.to_string(),
        name: c.name.clone().unwrap_or_default(),
    };
    state.slowlog_next_id += 1;
    state.slowlog.push_front(entry);
    state.slowlog.truncate(max);
}

/// Indexes of arguments that carry a password: all of AUTH's, the two after
/// HELLO's AUTH, and the value of CONFIG SET of a sensitive directive
/// (requirepass, masterauth/primaryauth, TLS key passwords, ...).
fn secret_args(argv: &[Bytes]) -> Vec<usize> {
    let is = |a: &[u8], s: &str| a.eq_ignore_ascii_case(s.as_bytes());
    let name = &argv[0][..];
    if is(name, "auth") {
        return (1..argv.len()).collect();
    }
    let mut out = Vec::new();
    if is(name, "hello") {
        if let Some(p) = argv.iter().position(|a| is(a, "auth")) {
            out.extend([p + 1, p + 2]);
        }
    } else if is(name, "config") && argv.len() > 1 && is(&argv[1], "set") {
        for i in (2..argv.len()).step_by(2) {
            let sensitive = std::str::from_utf8(&argv[i])
                .ok()
                .and_then(crate::config::Config::directive)
                .is_some_and(|d| d.has(crate::config::directives::SENSITIVE));
            if sensitive {
                out.push(i + 1);
            }
        }
    }
    out
}
