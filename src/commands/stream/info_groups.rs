//! XINFO GROUPS, XINFO CONSUMERS, and the groups part of XINFO STREAM
//! FULL: what Valkey shows of a stream's consumer groups, in its order
//! (groups and consumers by name, pending entries by id).

use super::cg_access::{self as sa, Stream};
use super::cg_util::{no_group_for_key, reply_id};
use crate::commands::Ctx;
use crate::error::{CmdError, CmdResult, NO_SUCH_KEY, WRONGTYPE};
use crate::keyspace::stream::cgroup::{Group, StreamMeta, INVALID_ENTRIES_READ};
use crate::keyspace::Access;
use crate::resp::ReplyBuf;

/// The stream at `argv[2]` for XINFO: `ERR no such key` when missing.
fn info_stream<'a>(ctx: &'a mut Ctx) -> Result<&'a Stream, CmdError> {
    let argv = ctx.argv;
    let now = ctx.now;
    let db = ctx.db();
    let e = db
        .lookup(&argv[2], now, Access::READ)
        .ok_or(CmdError::from(NO_SUCH_KEY))?;
    sa::as_stream(e.value()).ok_or(CmdError::from(WRONGTYPE))
}

fn reply_entries_read(out: &mut ReplyBuf, g: &Group) {
    if g.entries_read == INVALID_ENTRIES_READ {
        out.null();
    } else {
        out.int(g.entries_read);
    }
}

fn reply_lag(out: &mut ReplyBuf, meta: &StreamMeta, g: &Group) {
    match meta.lag(g) {
        Some(lag) => out.int(lag),
        None => out.null(),
    }
}

/// XINFO GROUPS key.
pub fn xinfo_groups(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let e = db
        .lookup(&argv[2], now, Access::READ)
        .ok_or(CmdError::from(NO_SUCH_KEY))?;
    let s = sa::as_stream(e.value()).ok_or(CmdError::from(WRONGTYPE))?;
    let meta = sa::meta(s);
    let Some(gs) = sa::groups(s) else {
        out.array(0);
        return Ok(());
    };
    out.array(gs.len());
    for (name, g) in gs.iter() {
        out.map(6);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"consumers");
        out.int(g.consumer_count() as i64);
        out.bulk(b"pending");
        out.int(g.pel_len() as i64);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(out, g);
        out.bulk(b"lag");
        reply_lag(out, &meta, g);
    }
    Ok(())
}

/// XINFO CONSUMERS key group.
pub fn xinfo_consumers(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    info_stream(ctx)?;
    let (db, out) = ctx.db_and_out();
    let Some(s) = db
        .lookup(&argv[2], now, Access::PEEK)
        .and_then(|e| sa::as_stream(e.value()))
    else {
        return Err(NO_SUCH_KEY.into());
    };
    let Some(g) = sa::groups(s).and_then(|gs| gs.get(&argv[3])) else {
        return Err(no_group_for_key(&argv[3], &argv[2]));
    };
    out.array(g.consumer_count());
    for c in g.consumers() {
        out.map(4);
        out.bulk(b"name");
        out.bulk(&c.name);
        out.bulk(b"pending");
        out.int(c.pel.len() as i64);
        out.bulk(b"idle");
        out.int((now - c.seen_time).max(0));
        out.bulk(b"inactive");
        out.int(if c.active_time == -1 {
            -1
        } else {
            now - c.active_time
        });
    }
    Ok(())
}

/// The `groups` value of XINFO STREAM FULL: every group with its pending
/// entries and consumers, at most `count` pending entries each (0: all).
pub fn reply_full_groups(out: &mut ReplyBuf, s: &Stream, count: usize) {
    let meta = sa::meta(s);
    let Some(gs) = sa::groups(s) else {
        out.array(0);
        return;
    };
    let limit = if count == 0 { usize::MAX } else { count };
    out.array(gs.len());
    for (name, g) in gs.iter() {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(out, g);
        out.bulk(b"lag");
        reply_lag(out, &meta, g);
        out.bulk(b"pel-count");
        out.int(g.pel_len() as i64);
        out.bulk(b"pending");
        out.array(g.pel_len().min(limit));
        for (&id, n) in g
            .pel_from(crate::keyspace::stream::StreamId::MIN)
            .take(limit)
        {
            out.array(4);
            reply_id(out, id);
            out.bulk(g.owner_name(n));
            out.int(n.delivery_time);
            out.int(n.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumer_count());
        for c in g.consumers() {
            out.map(5);
            out.bulk(b"name");
            out.bulk(&c.name);
            out.bulk(b"seen-time");
            out.int(c.seen_time);
            out.bulk(b"active-time");
            out.int(c.active_time);
            out.bulk(b"pel-count");
            out.int(c.pel.len() as i64);
            out.bulk(b"pending");
            out.array(c.pel.len().min(limit));
            for &id in c.pel.iter().take(limit) {
                let (time, deliveries) = g
                    .pending(id)
                    .map_or((0, 0), |n| (n.delivery_time, n.delivery_count));
                out.array(3);
                reply_id(out, id);
                out.int(time);
                out.int(deliveries as i64);
            }
        }
    }
}
