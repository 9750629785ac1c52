//! The stream commands that read: XRANGE, XREVRANGE, XLEN and XREAD.
//!
//! XREAD blocks on the project's blocking machinery: a client that finds
//! nothing waits on its keys and runs again when one is signalled (XADD,
//! or a stream moved or restored under the key), first come first served.
//! Before blocking, `$` arguments are replaced by each stream's last ID
//! (0-0 for a missing key), so the retry reads what arrived since. On a
//! retry, a key holding another type waits on unless a stream can serve
//! (then the WRONGTYPE of a re-run, as Valkey re-runs the command only
//! when a readied key holds a stream).

use bytes::Bytes;

use super::super::args::{int, is};
use super::super::Ctx;
use super::{reply_entry, stream_read};
use crate::error::{CmdError, CmdResult, SYNTAX, WRONGTYPE};
use crate::keyspace::stream::{id, Stream, StreamId};
use crate::keyspace::{Access, Value};
use crate::state::TimeoutReply;

fn range_generic(ctx: &mut Ctx, rev: bool) -> CmdResult {
    let argv = ctx.argv;
    let (start_arg, end_arg) = if rev {
        (&argv[3], &argv[2])
    } else {
        (&argv[2], &argv[3])
    };
    let (mut start, start_ex) = id::parse_interval(start_arg, 0)?;
    if start_ex {
        start = start
            .incr()
            .ok_or(CmdError::from("ERR invalid start ID for the interval"))?;
    }
    let (mut end, end_ex) = id::parse_interval(end_arg, u64::MAX)?;
    if end_ex {
        end = end
            .decr()
            .ok_or(CmdError::from("ERR invalid end ID for the interval"))?;
    }
    let mut count: i64 = -1;
    let mut j = 4;
    while j < argv.len() {
        if is(&argv[j], "count") && j + 1 < argv.len() {
            count = int(&argv[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let Some(s) = stream_read(db, &argv[1], now)? else {
        out.array(0);
        return Ok(());
    };
    if count == 0 {
        out.null_array();
        return Ok(());
    }
    let limit = if count < 0 {
        usize::MAX
    } else {
        count as usize
    };
    reply_range(out, s, start, end, rev, limit);
    Ok(())
}

/// Entries of `start..=end` as an array of [id, [field, value ...]].
pub fn reply_range(
    out: &mut crate::resp::ReplyBuf,
    s: &Stream,
    start: StreamId,
    end: StreamId,
    rev: bool,
    limit: usize,
) {
    let entries: Vec<_> = s.range(start, end, rev).take(limit).collect();
    out.array(entries.len());
    for e in &entries {
        reply_entry(out, e);
    }
}

pub fn xrange(ctx: &mut Ctx) -> CmdResult {
    range_generic(ctx, false)
}

pub fn xrevrange(ctx: &mut Ctx) -> CmdResult {
    range_generic(ctx, true)
}

pub fn xlen(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let key = &ctx.argv[1];
    let n = stream_read(ctx.db(), key, now)?.map_or(0, |s| s.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// XREAD's `BLOCK` argument: milliseconds, 0 for ever.
fn block_ms(a: &[u8]) -> Result<Option<std::time::Duration>, CmdError> {
    let ms = crate::util::num::parse_i64(a).ok_or(CmdError::from(
        "ERR timeout is not an integer or out of range",
    ))?;
    if ms < 0 {
        return Err(crate::error::TIMEOUT_NEGATIVE.into());
    }
    if ms > i64::MAX - crate::keyspace::now_ms() {
        return Err(crate::error::TIMEOUT_OUT_OF_RANGE.into());
    }
    Ok((ms > 0).then(|| std::time::Duration::from_millis(ms as u64)))
}

pub fn xread(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let mut block: Option<Option<std::time::Duration>> = None;
    let mut count: i64 = 0;
    let mut streams_at = 0;
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let a = &argv[i];
        if is(a, "block") && more > 0 {
            i += 1;
            block = Some(block_ms(&argv[i])?);
        } else if is(a, "count") && more > 0 {
            i += 1;
            count = int(&argv[i])?.max(0);
        } else if is(a, "streams") && more > 0 {
            streams_at = i + 1;
            if !(argv.len() - streams_at).is_multiple_of(2) {
                return Err("ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.".into());
            }
            break;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if streams_at == 0 {
        return Err(SYNTAX.into());
    }
    let n = (argv.len() - streams_at) / 2;
    let keys = &argv[streams_at..streams_at + n];
    let id_args = &argv[streams_at + n..];
    let retry = ctx.is_blocked_retry();
    let now = ctx.now;
    // Resolve the IDs: entries strictly after each are wanted.
    let mut after: Vec<Option<StreamId>> = Vec::with_capacity(n);
    let mut wrong_type = false;
    {
        let db = ctx.db();
        for (k, a) in keys.iter().zip(id_args) {
            let found = db
                .lookup(k, now, Access::READ)
                .map(|e| match e.value().stored() {
                    Some(Value::Stream(s)) => Ok((s.last_id, s.len())),
                    _ => Err(()),
                });
            let last = match found {
                None => None,
                Some(Ok(x)) => Some(x),
                Some(Err(())) => {
                    if !retry {
                        return Err(WRONGTYPE.into());
                    }
                    wrong_type = true;
                    after.push(None);
                    continue;
                }
            };
            let gt = if &a[..] == b"$" {
                last.map_or(StreamId::MIN, |(l, _)| l)
            } else if &a[..] == b"+" {
                match last {
                    // The last entry only: IDs after the one before it (a
                    // stream with entries has a last ID above 0-0).
                    Some((l, len)) if len > 0 => l.decr().unwrap_or(StreamId::MIN),
                    _ => StreamId::MIN,
                }
            } else if &a[..] == b">" {
                return Err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.".into());
            } else {
                id::parse_strict(a, 0)?
            };
            after.push(Some(gt));
        }
    }
    // Which streams have something after their ID.
    let limit = if count == 0 {
        usize::MAX
    } else {
        count as usize
    };
    let mut served: Vec<usize> = Vec::new();
    {
        let db = ctx.db();
        for (idx, k) in keys.iter().enumerate() {
            let Some(gt) = after[idx] else { continue };
            let servable = match db.lookup(k, now, Access::READ).map(|e| e.value()) {
                Some(v) => match v.stored() {
                    Some(Value::Stream(s)) => {
                        !s.is_empty() && s.edge_id(true).is_some_and(|m| m > gt)
                    }
                    _ => false,
                },
                None => false,
            };
            if servable {
                served.push(idx);
            }
        }
    }
    if !served.is_empty() {
        if wrong_type {
            return Err(WRONGTYPE.into());
        }
        let (db, out) = ctx.db_and_out();
        if out.is_resp3() {
            out.map(served.len());
        } else {
            out.array(served.len());
        }
        for &idx in &served {
            let k = &keys[idx];
            let Some(gt) = after[idx] else { continue };
            let start = gt.incr().unwrap_or(StreamId::MAX);
            if !out.is_resp3() {
                out.array(2);
            }
            out.bulk(k);
            match db.find(k).map(|e| e.value()) {
                Some(v) => match v.stored() {
                    Some(Value::Stream(s)) => {
                        reply_range(out, s, start, StreamId::MAX, false, limit)
                    }
                    _ => out.array(0),
                },
                None => out.array(0),
            }
        }
        return Ok(());
    }
    let Some(timeout) = block else {
        ctx.out.null_array();
        return Ok(());
    };
    // `$` becomes the ID it stood for, so the retry reads what arrives.
    let dollar = id_args.iter().any(|a| &a[..] == b"$");
    if dollar && ctx.may_block() {
        let mut v: Vec<Bytes> = argv.to_vec();
        for (j, a) in id_args.iter().enumerate() {
            if &a[..] == b"$" {
                let id = after[j].unwrap_or(StreamId::MIN);
                v[streams_at + n + j] = Bytes::from(id.to_bytes());
            }
        }
        ctx.block_with_argv(keys, timeout, TimeoutReply::NullArray, v);
    } else {
        ctx.block(keys, timeout, TimeoutReply::NullArray);
    }
    Ok(())
}
