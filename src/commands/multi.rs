//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! MULTI puts the client in a mode where the call path (`exec::call`)
//! queues what it sends, replying `+QUEUED`; a command refused while
//! queueing (unknown, wrong arity, `no-multi`) makes EXEC abort. EXEC runs
//! the queue through the call path (`Ctx::call`, origin `Multi`), nothing
//! else interleaved, and replies their replies as one array; blocking
//! commands in it reply as if their timeout passed. WATCHed keys
//! (`state::watch`) that change before EXEC make it reply a null array.
//! What EXEC's commands propagate goes out as one MULTI/EXEC unit.

use super::flags::*;
use super::meta::{acl, arg, ks, Doc, Group};
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::CmdResult;
use crate::state::Origin;

const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";
const DISCARD_WITHOUT_MULTI: &str = "ERR DISCARD without MULTI";
const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "multi",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_MULTI | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: multi,
        subcommands: &[],
        doc: &Doc {
            summary: "Starts a transaction: later commands are queued until EXEC.",
            complexity: "O(1)",
            ..Doc::new(Group::Transactions, "1.2.0", acl::TRANSACTION)
        },
    },
    CommandSpec {
        name: "exec",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        keys: KeySpec::NONE,
        handler: exec,
        subcommands: &[],
        doc: &Doc {
            summary: "Runs every command queued since MULTI, as one unit.",
            complexity: "The sum of the queued commands' complexities.",
            ..Doc::new(Group::Transactions, "1.2.0", acl::TRANSACTION)
        },
    },
    CommandSpec {
        name: "discard",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: discard,
        subcommands: &[],
        doc: &Doc {
            summary: "Drops the queued commands of a transaction and ends it.",
            complexity: "O(N), N being the number of queued commands.",
            ..Doc::new(Group::Transactions, "2.0.0", acl::TRANSACTION)
        },
    },
    CommandSpec {
        name: "watch",
        arity: -2,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_MULTI | ALLOW_BUSY,
        keys: KeySpec::range(1, -1, 1),
        handler: watch,
        subcommands: &[],
        doc: &Doc {
            summary: "Makes the next EXEC fail if any of these keys changes first.",
            complexity: "O(1) per key.",
            key_specs: &[ks::range(1, -1, 1, ks::RO)],
            args: &[arg::key("key", 0).multiple()],
            ..Doc::new(Group::Transactions, "2.2.0", acl::TRANSACTION)
        },
    },
    CommandSpec {
        name: "unwatch",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: unwatch,
        subcommands: &[],
        doc: &Doc {
            summary: "Stops watching every key this connection watches.",
            complexity: "O(N), N being the number of watched keys.",
            ..Doc::new(Group::Transactions, "2.2.0", acl::TRANSACTION)
        },
    },
];

fn multi(ctx: &mut Ctx) -> CmdResult {
    // Nested MULTI never gets here: its `no-multi` flag refuses it.
    let c = ctx.client();
    c.in_multi = true;
    let m = c.multi.get_or_insert_with(Default::default);
    m.cmds.clear();
    m.mem = 0;
    m.denyoom = false;
    m.writes = false;
    ctx.out.ok();
    Ok(())
}

/// Ends the transaction state and the watches (EXEC, DISCARD, RESET).
pub(super) fn discard_transaction(ctx: &mut Ctx) -> Vec<crate::resp::Argv> {
    let c = ctx.client();
    c.in_multi = false;
    c.multi_aborted = false;
    c.dirty_cas = false;
    let queued = c
        .multi
        .as_mut()
        .map(|m| {
            m.mem = 0;
            m.denyoom = false;
            m.writes = false;
            std::mem::take(&mut m.cmds)
        })
        .unwrap_or_default();
    ctx.unwatch_all();
    queued
}

fn exec(ctx: &mut Ctx) -> CmdResult {
    let c = ctx.client_ref();
    if !c.in_multi {
        return Err(EXEC_WITHOUT_MULTI.into());
    }
    if c.multi_aborted {
        discard_transaction(ctx);
        return Err(EXECABORT.into());
    }
    if c.dirty_cas || ctx.watched_key_expired() {
        discard_transaction(ctx);
        ctx.out.null_array();
        return Ok(());
    }
    // Unwatched first: the transaction's own writes must not touch it.
    let queued = discard_transaction(ctx);
    ctx.out.array(queued.len());
    for argv in &queued {
        ctx.call(argv, Origin::Multi);
    }
    // The queued commands propagate themselves; EXEC adds nothing.
    ctx.prevent_propagation();
    ctx.client().last_cmd = "exec";
    Ok(())
}

fn discard(ctx: &mut Ctx) -> CmdResult {
    if !ctx.client_ref().in_multi {
        return Err(DISCARD_WITHOUT_MULTI.into());
    }
    discard_transaction(ctx);
    ctx.out.ok();
    Ok(())
}

fn watch(ctx: &mut Ctx) -> CmdResult {
    // WATCH inside MULTI never gets here: its `no-multi` flag refuses it.
    for key in &ctx.argv[1..] {
        ctx.watch(key);
    }
    ctx.out.ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx) -> CmdResult {
    ctx.unwatch_all();
    ctx.client().dirty_cas = false;
    ctx.out.ok();
    Ok(())
}
