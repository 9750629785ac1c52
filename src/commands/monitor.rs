//! MONITOR: the client sees every command the server runs from then on,
//! one line each (`state::monitor` formats and delivers them; the call
//! path feeds them). RESET ends it, as does closing the connection.
//!
//! To Valkey a monitor is a replica: it may not run commands that read,
//! write or propagate (`exec::call` refuses them), and a second MONITOR
//! is ignored without a reply.

use super::flags::*;
use super::meta::{Doc, Group};
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::CmdResult;

/// MONITOR inside a transaction (a script cannot run it: `noscript`).
const MONITOR_DENY_BLOCKING: &str = "ERR MONITOR isn't allowed for DENY BLOCKING client";

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "monitor",
    arity: 1,
    flags: ADMIN | NOSCRIPT | LOADING | STALE,
    keys: KeySpec::NONE,
    handler: monitor,
    subcommands: &[],
    doc: &Doc {
        summary: "Streams every command the server runs to this connection.",
        ..Doc::new(Group::Server, "1.0.0", 0)
    },
}];

fn monitor(ctx: &mut Ctx) -> CmdResult {
    if !ctx.may_block() {
        return Err(MONITOR_DENY_BLOCKING.into());
    }
    if ctx.client_ref().monitor {
        // Already one: Valkey says nothing at all.
        return Ok(());
    }
    let admin = ctx.admin();
    let c = admin.clients.at_mut(admin.me);
    admin.state.start_monitor(c);
    ctx.out.ok();
    Ok(())
}

/// RESET: the client stops monitoring (a no-op if it was not).
pub fn stop(ctx: &mut Ctx) {
    if ctx.client_ref().monitor {
        let admin = ctx.admin();
        let c = admin.clients.at_mut(admin.me);
        admin.state.stop_monitor(c);
    }
}
