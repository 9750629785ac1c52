//! Running one command: authentication, the handler, statistics, slow log,
//! reply suppression (CLIENT REPLY), errors written as replies.

use std::time::Instant;

use bytes::Bytes;

use super::client::{Clients, ReplyMode};
use super::state::{SlowEntry, State};
use super::Ctx;
use crate::commands::table::CmdId;
use crate::commands::{flags, CMD_TABLE};
use crate::error::{CmdError, NOAUTH};
use crate::resp::ReplyBuf;

/// Executes `argv` (already resolved to `cmd`, or the resolution error) for
/// the client in `slot`, appending the reply to `out`.
pub fn execute(
    state: &mut State,
    clients: &mut Clients,
    slot: usize,
    argv: &[Bytes],
    cmd: Result<CmdId, CmdError>,
    out: &mut ReplyBuf,
    now: i64,
) {
    let reply_start = out.buf.len();
    let client = clients.at_mut(slot);
    client.last_interaction = Instant::now();
    client.commands += 1;
    let suppress = match client.reply_mode {
        ReplyMode::On => false,
        ReplyMode::Off => true,
        ReplyMode::SkipNext => {
            client.reply_mode = ReplyMode::On;
            true
        }
    };
    out.resp = client.resp;
    state.stats.commands_processed += 1;
    match cmd {
        Err(e) => {
            if let Some(id) = CMD_TABLE.find(&argv[0]) {
                state.stats.commands[id].rejected += 1;
            }
            state.stats.count_error(e.code());
            out.error(&e.0);
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
                let start = Instant::now();
                let mut ctx = Ctx {
                    state,
                    clients,
                    me: slot,
                    argv,
                    out,
                    now,
                    cmd: spec,
                };
                let result = (spec.handler)(&mut ctx);
                let usec = start.elapsed().as_micros() as u64;
                let st = &mut state.stats.commands[id];
                st.calls += 1;
                st.usec += usec;
                if let Err(e) = result {
                    st.failed += 1;
                    state.stats.count_error(e.code());
                    out.error(&e.0);
                }
                let threshold = state.config.slowlog_log_slower_than;
                if threshold >= 0 && usec >= threshold as u64 && !spec.has(flags::SKIP_SLOWLOG) {
                    log_slow(state, clients, slot, argv, usec, now);
                }
            }
        }
    }
    if suppress {
        out.buf.truncate(reply_start);
    }
    // HELLO may have switched the protocol for what follows.
    out.resp = clients.at(slot).resp;
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
    // Valkey keeps at most 32 arguments of at most 128 bytes each.
    let mut args: Vec<Bytes> = argv
        .iter()
        .take(32)
        .map(|a| {
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
