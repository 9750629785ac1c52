//! XREADGROUP: reading a stream as a consumer of a group. `>` delivers
//! entries past the group's last delivered id (each becomes pending for
//! the consumer unless NOACK); any other id replays the consumer's own
//! pending entries after it. With BLOCK and nothing to deliver, the client
//! waits on the keys (`Ctx::block`) and the command runs again when one is
//! signalled: an entry added, the group destroyed, the key deleted or
//! replaced (the retry then fails with NOGROUP or WRONGTYPE, as Valkey's).
//!
//! XREADGROUP itself is never propagated: each delivery goes out as the
//! XCLAIM that recreates its pending entry, and the group's new position
//! as XGROUP SETID (Valkey's streamPropagateXCLAIM/streamPropagateGroupID).

use std::time::Duration;

use bytes::Bytes;

use super::cg_access::{self as sa};
use super::cg_util::{
    createconsumer_argv, id_arg, id_bytes, incr, no_key_or_group, setid_argv, xclaim_argv,
};
use super::groups::stream_read_mut;
use crate::commands::args::{int, is};
use crate::commands::Ctx;
use crate::config::notify;
use crate::error::{CmdError, CmdResult, SYNTAX, WRONGTYPE};
use crate::keyspace::stream::StreamId;
use crate::keyspace::Access;
use crate::resp::ReplyBuf;
use crate::state::TimeoutReply;

const UNBALANCED: &str = "ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.";
const MISSING_GROUP: &str = "ERR Missing GROUP option for XREADGROUP";
const DOLLAR: &str = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.";
const PLUS: &str = "ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.";
const TIMEOUT_NOT_INT: &str = "ERR timeout is not an integer or out of range";
const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";

/// The parsed command.
struct Read<'a> {
    /// None: no BLOCK; Some(None): block forever.
    block: Option<Option<Duration>>,
    /// 0: no limit.
    count: usize,
    noack: bool,
    group: &'a Bytes,
    consumer: &'a Bytes,
    keys: &'a [Bytes],
    ids: &'a [Bytes],
}

fn parse(argv: &[Bytes]) -> Result<Read<'_>, CmdError> {
    let (mut block, mut count, mut noack) = (None, 0, false);
    let mut group = None;
    let mut streams = None;
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let a = &argv[i];
        if is(a, "BLOCK") && more > 0 {
            i += 1;
            let ms =
                crate::util::num::parse_i64(&argv[i]).ok_or(CmdError::from(TIMEOUT_NOT_INT))?;
            if ms < 0 {
                return Err(TIMEOUT_NEGATIVE.into());
            }
            block = Some((ms > 0).then(|| Duration::from_millis(ms as u64)));
        } else if is(a, "COUNT") && more > 0 {
            i += 1;
            count = int(&argv[i])?.max(0) as usize;
        } else if is(a, "STREAMS") && more > 0 {
            let rest = &argv[i + 1..];
            if !rest.len().is_multiple_of(2) {
                return Err(UNBALANCED.into());
            }
            streams = Some(rest.split_at(rest.len() / 2));
            break;
        } else if is(a, "GROUP") && more >= 2 {
            group = Some((&argv[i + 1], &argv[i + 2]));
            i += 2;
        } else if is(a, "NOACK") {
            noack = true;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    let Some((keys, ids)) = streams else {
        return Err(SYNTAX.into());
    };
    let Some((group, consumer)) = group else {
        return Err(MISSING_GROUP.into());
    };
    Ok(Read {
        block,
        count,
        noack,
        group,
        consumer,
        keys,
        ids,
    })
}

/// `>` as an id: new entries.
const NEW: StreamId = StreamId::MAX;

pub fn xreadgroup(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let r = parse(argv)?;
    let now = ctx.now;
    // Every key and id is checked before anything changes.
    let mut ids = Vec::with_capacity(r.keys.len().min(64));
    for (key, idarg) in r.keys.iter().zip(r.ids) {
        let s = match ctx.db().lookup(key, now, Access::READ) {
            None => None,
            Some(e) => Some(sa::as_stream(e.value()).ok_or(CmdError::from(WRONGTYPE))?),
        };
        if s.and_then(sa::groups)
            .and_then(|gs| gs.get(r.group))
            .is_none()
        {
            return Err(no_key_or_group(
                key,
                r.group,
                " in XREADGROUP with GROUP option",
            ));
        }
        ids.push(match &idarg[..] {
            b"$" => return Err(DOLLAR.into()),
            b"+" => return Err(PLUS.into()),
            b">" => NEW,
            _ => id_arg(idarg, 0, true)?,
        });
    }
    ctx.prevent_propagation();

    let served = if r.keys.len() == 1 {
        // The usual single stream: its reply is written in place, behind
        // a one-element header when it serves.
        usize::from(read_one(ctx, &r, &r.keys[0], ids[0], None)?)
    } else {
        // Several streams (maybe one twice): each decides when its turn
        // comes, after the ones before it were served, so the parts are
        // gathered first and the header counts them.
        let mut parts = ReplyBuf::new(if ctx.out.is_resp3() { 3 } else { 2 });
        let mut n = 0;
        for (key, &id) in r.keys.iter().zip(&ids) {
            n += usize::from(read_one(ctx, &r, key, id, Some(&mut parts))?);
        }
        if n > 0 {
            if ctx.out.is_resp3() {
                ctx.out.map(n);
            } else {
                ctx.out.array(n);
            }
            parts.take().pieces_from(0, |p| {
                ctx.out.raw(p);
                true
            });
        }
        n
    };
    if served > 0 {
        return Ok(());
    }
    match r.block {
        Some(t) if ctx.may_block() => ctx.block_until_changed(r.keys, t, TimeoutReply::NullArray),
        _ => ctx.out.null_array(),
    }
    Ok(())
}

/// The consumer is seen (made if new) on `key`'s group; entries are
/// delivered when there are some for it: a replay of its history always,
/// `>` when the stream has an entry past the group's last delivered id.
/// The part goes to `parts`, or (None) straight to the reply behind a
/// one-element header. Returns whether it served.
fn read_one(
    ctx: &mut Ctx,
    r: &Read,
    key: &Bytes,
    id: StreamId,
    parts: Option<&mut ReplyBuf>,
) -> Result<bool, CmdError> {
    let now = ctx.now;
    let db_index = ctx.db_index();
    let propagating = ctx.propagating();
    let single = parts.is_none();
    let (db, out) = match parts {
        Some(p) => (ctx.db(), p),
        None => ctx.db_and_out(),
    };
    let Some(s) = stream_read_mut(db, key, now)? else {
        return Ok(false);
    };
    let serve = id != NEW
        || match (
            sa::last_valid_id(s),
            sa::groups(s).and_then(|gs| gs.get(r.group)),
        ) {
            (Some(max), Some(g)) => max > g.last_id,
            _ => false,
        };
    let meta = sa::meta(s);
    let Some(g) = sa::groups_mut_existing(s).and_then(|gs| gs.get_mut(r.group)) else {
        return Ok(false);
    };
    let (slot, created) = g.create_consumer(r.consumer, now);
    if let Some(c) = g.consumer_mut(slot) {
        c.seen_time = now;
    }
    let mut also = Vec::new();
    if created && r.noack && propagating {
        also.push(createconsumer_argv(key, r.group, r.consumer));
    }
    if serve {
        if single {
            if out.is_resp3() {
                out.map(1);
            } else {
                out.array(1);
            }
        }
        if !out.is_resp3() {
            out.array(2);
        }
        out.bulk(key);
        let start = incr(if id == NEW { g.last_id } else { id });
        if id != NEW {
            // The consumer's own pending entries after `id`; those
            // deleted from the stream since show as a null.
            let pel: Vec<StreamId> = match (start, g.consumer(slot)) {
                (Some(start), Some(c)) => {
                    let it = c.pel.range(start..).copied();
                    if r.count > 0 {
                        it.take(r.count).collect()
                    } else {
                        it.collect()
                    }
                }
                _ => Vec::new(),
            };
            out.array(pel.len());
            let mut found = Vec::with_capacity(pel.len());
            for pid in pel {
                if sa::reply_entry(out, s, pid) {
                    found.push(pid);
                } else {
                    out.array(2);
                    super::cg_util::reply_id(out, pid);
                    out.null_array();
                }
            }
            if let Some(g) = sa::groups_mut_existing(s).and_then(|gs| gs.get_mut(r.group)) {
                for pid in found {
                    g.redeliver(pid, now);
                }
            }
        } else {
            let mut delivered = Vec::new();
            match start {
                Some(start) => sa::reply_entries_from(out, s, start, r.count, &mut delivered),
                None => out.array(0),
            }
            if let Some(g) = sa::groups_mut_existing(s).and_then(|gs| gs.get_mut(r.group)) {
                let mut advanced = false;
                for did in delivered {
                    if did > g.last_id {
                        g.advance(did, &meta);
                        advanced = true;
                    }
                    if !r.noack {
                        let nack = g.deliver(did, slot, now);
                        if propagating {
                            also.push(xclaim_argv(key, r.group, g, &id_bytes(did), &nack));
                        }
                    }
                }
                if advanced && propagating {
                    also.push(setid_argv(key, r.group, g));
                }
            }
        }
    }
    if created {
        ctx.dirty(1);
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    for argv in also {
        ctx.also_propagate(db_index, argv);
    }
    if serve {
        ctx.dirty(1);
    }
    Ok(serve)
}
