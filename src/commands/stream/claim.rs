//! XCLAIM and XAUTOCLAIM: moving pending entries to another consumer.
//! Pending entries whose stream entry was deleted are dropped on the way
//! (XAUTOCLAIM lists them). Both propagate as one XCLAIM per entry
//! touched (the idempotent form of `cg_util::xclaim_argv`), never as
//! themselves.

use bytes::Bytes;

use super::cg_access::{self as sa, Stream};
use super::cg_util::{
    id_arg, id_bytes, incr, interval_arg, no_key_or_group, parse_id, reply_id, setid_argv,
    xclaim_argv, INVALID_START,
};
use super::groups::{stream_mut, stream_read_mut};
use crate::commands::args::{int_or, is};
use crate::commands::Ctx;
use crate::config::notify;
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::keyspace::stream::cgroup::{Group, Retry};
use crate::keyspace::stream::StreamId;
use crate::keyspace::Access;

const XCLAIM_MIN_IDLE: &str = "ERR Invalid min-idle-time argument for XCLAIM";
const XAUTOCLAIM_MIN_IDLE: &str = "ERR Invalid min-idle-time argument for XAUTOCLAIM";
const BAD_IDLE: &str = "ERR Invalid IDLE option argument for XCLAIM";
const BAD_TIME: &str = "ERR Invalid TIME option argument for XCLAIM";
const BAD_RETRYCOUNT: &str = "ERR Invalid RETRYCOUNT option argument for XCLAIM";
const COUNT_RANGE: &str = "ERR COUNT must be > 0";
const COUNT_TOO_HIGH: &str =
    "ERR Insufficient memory, failed allocating transient memory, COUNT too high.";

/// Whether an allocation of `bytes` could succeed: not beyond the
/// machine's memory and swap (what the kernel's overcommit check refuses).
fn could_allocate(bytes: u64) -> bool {
    // SAFETY: sysinfo only writes the struct it is given.
    let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
    if unsafe { libc::sysinfo(&mut si) } != 0 {
        return true;
    }
    let unit = u64::from(si.mem_unit.max(1));
    let total = (si.totalram as u64)
        .saturating_add(si.totalswap as u64)
        .saturating_mul(unit);
    bytes <= total
}

/// The group `name` of a stream found by the caller.
fn group_mut<'a>(s: &'a mut Stream, name: &[u8]) -> Option<&'a mut Group> {
    sa::groups_mut_existing(s).and_then(|gs| gs.get_mut(name))
}

/// Looks up the stream and group (NOGROUP when either is missing) and
/// makes the consumer `argv[3]` (seen now); returns its slot and whether
/// it was created.
fn consumer_of(ctx: &mut Ctx) -> Result<(u32, bool), CmdError> {
    let argv = ctx.argv;
    let now = ctx.now;
    let s = stream_mut(ctx.db(), &argv[1], now)?;
    let Some(g) = s.and_then(|s| group_mut(s, &argv[2])) else {
        return Err(no_key_or_group(&argv[1], &argv[2], ""));
    };
    let (slot, created) = g.create_consumer(&argv[3], now);
    if let Some(c) = g.consumer_mut(slot) {
        c.seen_time = now;
    }
    Ok((slot, created))
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
/// [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id].
pub fn xclaim(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    // The key and group first, as Valkey checks them before the arguments.
    {
        let s = stream_read_mut(ctx.db(), &argv[1], now)?;
        if s.and_then(|s| group_mut(s, &argv[2])).is_none() {
            return Err(no_key_or_group(&argv[1], &argv[2], ""));
        }
    }
    let min_idle = int_or(&argv[4], XCLAIM_MIN_IDLE)?.max(0);
    // Ids run until the first argument that is not one: the options.
    let ids_end = 5 + argv[5..]
        .iter()
        .take_while(|a| parse_id(a, 0, true).is_some())
        .count();
    let (mut force, mut justid) = (false, false);
    let mut delivery: Option<i64> = None;
    let mut retry: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    let mut j = ids_end;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        let a = &argv[j];
        if is(a, "FORCE") {
            force = true;
        } else if is(a, "JUSTID") {
            justid = true;
        } else if is(a, "IDLE") && more {
            j += 1;
            delivery = Some(now.wrapping_sub(int_or(&argv[j], BAD_IDLE)?));
        } else if is(a, "TIME") && more {
            j += 1;
            delivery = Some(int_or(&argv[j], BAD_TIME)?);
        } else if is(a, "RETRYCOUNT") && more {
            j += 1;
            retry = Some(int_or(&argv[j], BAD_RETRYCOUNT)?);
        } else if is(a, "LASTID") && more {
            j += 1;
            last_id = id_arg(&argv[j], 0, true)?;
        } else {
            return Err(CmdError::owned(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                super::cg_util::cstr(a)
            )));
        }
        j += 1;
    }
    let delivery_time = match delivery {
        Some(t) if (0..=now).contains(&t) => t,
        _ => now,
    };
    let retry = match retry {
        Some(n) if n >= 0 => Retry::Set(n as u64),
        _ if justid => Retry::Keep,
        _ => Retry::Increment,
    };
    let propagating = ctx.propagating();
    let db_index = ctx.db_index();
    let mut also = Vec::new();
    let mut dirty = 0;
    let mut propagate_last_id = false;
    {
        let s = stream_mut(ctx.db(), &argv[1], now)?;
        if let Some(g) = s.and_then(|s| group_mut(s, &argv[2])) {
            if last_id > g.last_id {
                g.last_id = last_id;
                propagate_last_id = true;
            }
        }
    }
    let (slot, created) = consumer_of(ctx)?;
    let (db, out) = ctx.db_and_out();
    let Some(s) = stream_mut(db, &argv[1], now)? else {
        return Ok(());
    };
    // The reply's length comes first: claims are decided, then written.
    let mut claimed: Vec<StreamId> = Vec::new();
    for a in &argv[5..ids_end] {
        let Some(id) = parse_id(a, 0, true) else {
            continue;
        };
        let exists = sa::entry_exists(s, id);
        let Some(g) = group_mut(s, &argv[2]) else {
            break;
        };
        if !exists {
            // Pending but gone from the stream: dropped.
            if let Some(n) = g.pending(id).copied() {
                if propagating {
                    also.push(xclaim_argv(&argv[1], &argv[2], g, a, &n));
                }
                propagate_last_id = false;
                dirty += 1;
                g.remove_pending(id);
            }
            continue;
        }
        if let Some(n) = g.claim(id, slot, min_idle, delivery_time, retry, force, now) {
            claimed.push(id);
            if propagating {
                also.push(xclaim_argv(&argv[1], &argv[2], g, a, &n));
            }
            propagate_last_id = false;
            dirty += 1;
        }
    }
    out.array(claimed.len());
    for id in claimed {
        if justid || !sa::reply_entry(out, s, id) {
            reply_id(out, id);
        }
    }
    if propagate_last_id {
        if let Some(g) = group_mut(s, &argv[2]) {
            if propagating {
                also.push(setid_argv(&argv[1], &argv[2], g));
            }
        }
        dirty += 1;
    }
    finish(ctx, created, dirty, db_index, also);
    Ok(())
}

/// Counts, notifies and propagates what a claim did, in Valkey's order:
/// the consumer's creation first.
fn finish(ctx: &mut Ctx, created: bool, dirty: u64, db_index: usize, also: Vec<Vec<Bytes>>) {
    let argv = ctx.argv;
    ctx.prevent_propagation();
    if created {
        ctx.dirty(1);
        ctx.notify(notify::STREAM, "xgroup-createconsumer", &argv[1]);
    }
    for a in also {
        ctx.also_propagate(db_index, a);
    }
    if dirty > 0 {
        ctx.dirty(dirty);
    }
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT n] [JUSTID]:
/// claims up to COUNT idle entries from `start` on, looking at no more
/// than ten times as many; replies the cursor to continue from, the
/// claimed entries and the ids dropped as deleted.
pub fn xautoclaim(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    // Valkey reads the key first (a keyspace hit or miss), whatever the
    // arguments turn out to be.
    ctx.db().lookup(&argv[1], now, Access::READ);
    let min_idle = int_or(&argv[4], XAUTOCLAIM_MIN_IDLE)?.max(0);
    let (mut start, ex) = interval_arg(&argv[5], 0)?;
    if ex {
        start = incr(start).ok_or(CmdError::from(INVALID_START))?;
    }
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if is(&argv[j], "COUNT") && more {
            let max = i64::MAX / 16;
            count = int_or(&argv[j + 1], COUNT_RANGE)?;
            if !(1..=max).contains(&count) {
                return Err(COUNT_RANGE.into());
            }
            j += 1;
        } else if is(&argv[j], "JUSTID") {
            justid = true;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    {
        let s = stream_mut(ctx.db(), &argv[1], now)?;
        if s.and_then(|s| group_mut(s, &argv[2])).is_none() {
            return Err(no_key_or_group(&argv[1], &argv[2], ""));
        }
    }
    // Valkey allocates COUNT deleted ids up front and fails when it cannot:
    // the same answer here, without the allocation.
    if !could_allocate((count as u64).saturating_mul(16)) {
        return Err(COUNT_TOO_HIGH.into());
    }
    let (slot, created) = consumer_of(ctx)?;
    let propagating = ctx.propagating();
    let db_index = ctx.db_index();
    let (db, out) = ctx.db_and_out();
    let Some(s) = stream_mut(db, &argv[1], now)? else {
        return Ok(());
    };
    let attempts = (count * 10) as usize;
    let candidates: Vec<StreamId> = match group_mut(s, &argv[2]) {
        Some(g) => g
            .pel_from(start)
            .map(|(id, _)| *id)
            .take(attempts)
            .collect(),
        None => Vec::new(),
    };
    let retry = if justid {
        Retry::Keep
    } else {
        Retry::Increment
    };
    let mut left = count;
    let mut last_seen = None;
    let (mut claimed, mut deleted) = (Vec::new(), Vec::new());
    let mut also = Vec::new();
    let mut dirty = 0;
    for id in candidates {
        if left == 0 {
            break;
        }
        last_seen = Some(id);
        let exists = sa::entry_exists(s, id);
        let Some(g) = group_mut(s, &argv[2]) else {
            break;
        };
        if !exists {
            if let Some(n) = g.remove_pending(id) {
                if propagating {
                    also.push(xclaim_argv(&argv[1], &argv[2], g, &id_bytes(id), &n));
                }
            }
            dirty += 1;
            deleted.push(id);
            left -= 1;
            continue;
        }
        if let Some(n) = g.claim(id, slot, min_idle, now, retry, false, now) {
            if propagating {
                also.push(xclaim_argv(&argv[1], &argv[2], g, &id_bytes(id), &n));
            }
            dirty += 1;
            claimed.push(id);
            left -= 1;
        }
    }
    // The cursor: the next pending entry after the last one looked at.
    let cursor = match (last_seen, group_mut(s, &argv[2])) {
        (Some(last), Some(g)) => incr(last)
            .and_then(|next| g.pel_from(next).next().map(|(id, _)| *id))
            .unwrap_or(StreamId::MIN),
        _ => StreamId::MIN,
    };
    out.array(3);
    reply_id(out, cursor);
    out.array(claimed.len());
    for id in claimed {
        if justid || !sa::reply_entry(out, s, id) {
            reply_id(out, id);
        }
    }
    out.array(deleted.len());
    for id in deleted {
        reply_id(out, id);
    }
    finish(ctx, created, dirty, db_index, also);
    Ok(())
}
