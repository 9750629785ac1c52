//! WAIT and WAITAOF: block until enough replicas (and, for WAITAOF, the
//! local append-only file) have acknowledged this client's writes, or the
//! timeout passes, then reply how many did.
//!
//! This server has no replicas, so no replica ever acknowledges: a wait for
//! none replies at once, any other waits out its timeout (for ever with 0,
//! until CLIENT UNBLOCK) and replies 0, exactly as Valkey does with no
//! replicas. WAITAOF's local count is 1 once the AOF is synced up to every
//! write run before it (all clients' writes so far: a bound on the
//! client's own); it blocks until then, woken by the AOF writer after a
//! sync (`commands::aof::WAITAOF_KEY`). Inside MULTI the wait is skipped.

use super::args::{int, positive};
use super::flags::*;
use super::meta::{acl, arg, Doc, Group};
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult, TIMEOUT_NEGATIVE};
use crate::state::TimeoutReply;
use crate::util::num::parse_i64;

const TIMEOUT_NOT_INT: &str = "ERR timeout is not an integer or out of range";
const NUMLOCAL_RANGE: &str = "ERR value is out of range, value must between 0 and 1";
const NO_AOF: &str = "ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "wait",
        arity: 3,
        flags: BLOCKING,
        keys: KeySpec::NONE,
        handler: wait,
        subcommands: &[],
        doc: &Doc {
            summary: "Waits until this connection's writes reach a number of replicas, or a \
                      timeout passes.",
            complexity: "O(1)",
            tips: &["request_policy:all_shards", "response_policy:agg_min"],
            args: &[arg::integer("numreplicas"), arg::integer("timeout")],
            ..Doc::new(Group::Generic, "3.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "waitaof",
        arity: 4,
        flags: BLOCKING,
        keys: KeySpec::NONE,
        handler: waitaof,
        subcommands: &[],
        doc: &Doc {
            summary: "Waits until this connection's writes are in the local append-only file \
                      and on a number of replicas, or a timeout passes.",
            complexity: "O(1)",
            tips: &["request_policy:all_shards", "response_policy:agg_min"],
            args: &[
                arg::integer("numlocal"),
                arg::integer("numreplicas"),
                arg::integer("timeout"),
            ],
            ..Doc::new(Group::Generic, "7.2.0", acl::CONNECTION)
        },
    },
];

/// A timeout in whole milliseconds: None for 0 (for ever).
fn timeout_ms(a: &[u8]) -> Result<Option<std::time::Duration>, CmdError> {
    let ms = parse_i64(a).ok_or(CmdError::from(TIMEOUT_NOT_INT))?;
    if ms < 0 {
        return Err(TIMEOUT_NEGATIVE.into());
    }
    Ok((ms > 0).then(|| std::time::Duration::from_millis(ms as u64)))
}

fn wait(ctx: &mut Ctx) -> CmdResult {
    let wanted = int(&ctx.argv[1])?;
    let timeout = timeout_ms(&ctx.argv[2])?;
    // No replicas: 0 acknowledged, enough only for a wait for none.
    if wanted <= 0 || !ctx.may_block() {
        ctx.out.int(0);
        return Ok(());
    }
    ctx.block(&[], timeout, TimeoutReply::NoReplicaAcks);
    Ok(())
}

fn waitaof(ctx: &mut Ctx) -> CmdResult {
    let local = int(&ctx.argv[1])?;
    if !(0..=1).contains(&local) {
        return Err(NUMLOCAL_RANGE.into());
    }
    let replicas = positive(&ctx.argv[2])?;
    let timeout = timeout_ms(&ctx.argv[3])?;
    if local != 0 && !ctx.config().appendonly {
        return Err(NO_AOF.into());
    }
    let may_block = ctx.may_block();
    let (id, db) = {
        let c = ctx.client();
        (c.id, c.db)
    };
    let st = ctx.admin().state;
    // A retry (the client is still blocked) keeps the offset it began with.
    let kept = st
        .aof
        .waitaof
        .get(&id)
        .filter(|_| st.blocking.is_blocked(id))
        .map(|t| t.0);
    let target = kept.unwrap_or_else(|| super::aof::write_offset(st));
    let synced = st.aof.is_on() && st.aof.fsynced() >= target;
    // No replicas: none ever acknowledges.
    if (replicas == 0 && (local == 0 || synced)) || !may_block {
        st.aof.waitaof.remove(&id);
        ctx.out.array(2);
        ctx.out.int(i64::from(synced));
        ctx.out.int(0);
        return Ok(());
    }
    st.aof.waitaof.insert(id, (target, db));
    let key = bytes::Bytes::from_static(super::aof::WAITAOF_KEY);
    ctx.block(&[key], timeout, TimeoutReply::NoAofAcks);
    Ok(())
}
