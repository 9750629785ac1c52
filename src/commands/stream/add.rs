//! The stream commands that change a stream: XADD, XTRIM, XDEL, XSETID.
//!
//! Arguments are checked in Valkey's order (options, then the key). XADD
//! with `*` or `<ms>-*` propagates the ID it picked; a trim with `~` (or
//! LIMIT) propagates as the exact trim it turned out to be (`=` and the
//! resulting length or first ID), as Valkey's streamRewrite* do, so that
//! replicas and the AOF end with the same entries.

use bytes::Bytes;

use super::super::args::{int, is};
use super::super::propagate::word;
use super::super::Ctx;
use super::stream_mut;
use crate::config::notify;
use crate::error::{CmdError, CmdResult, NO_SUCH_KEY, SYNTAX};
use crate::keyspace::stream::{
    id, AddError, NodeLimits, ParsedId, Stream, StreamId, TrimArgs, TrimStrategy,
};
use crate::keyspace::Value;

const MAXLEN_NEGATIVE: &str = "ERR The MAXLEN argument must be >= 0.";
const LIMIT_NEGATIVE: &str = "ERR The LIMIT argument must be >= 0.";
const BOTH_STRATEGIES: &str =
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
const LIMIT_NO_STRATEGY: &str =
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
const LIMIT_NO_APPROX: &str = "ERR syntax error, LIMIT cannot be used without the special ~ option";
const XTRIM_NO_STRATEGY: &str = "ERR syntax error, XTRIM must be called with a trimming strategy";
const ID_ZERO: &str = "ERR The ID specified in XADD must be greater than 0-0";
const ID_EXHAUSTED: &str =
    "ERR The stream has exhausted the last possible ID, unable to add more items";
const ID_NOT_GREATER: &str =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
const TOO_LARGE: &str = "ERR Elements are too large to be stored";

/// XADD's and XTRIM's options as parsed (Valkey's streamAddTrimArgs).
struct AddTrim {
    trim: Option<TrimArgs>,
    /// Index of the threshold argument (the `~` is just before it).
    threshold_at: usize,
    nomkstream: bool,
    /// None for `*`.
    id: Option<ParsedId>,
    /// Index of the ID (XADD).
    id_at: usize,
}

/// Parses options from index 2 up to XADD's ID (or the end, for XTRIM).
fn parse_add_trim(ctx: &Ctx, xadd: bool) -> Result<AddTrim, CmdError> {
    let argv = ctx.argv;
    let mut strategy: Option<TrimStrategy> = None;
    let mut approx = false;
    let mut limit: i64 = 0;
    let mut limit_given = false;
    let mut threshold_at = 0;
    let mut nomkstream = false;
    let mut id = None;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let a = &argv[i][..];
        if xadd && a == b"*" {
            break;
        } else if (is(a, "maxlen") || is(a, "minid")) && more > 0 {
            if strategy.is_some() {
                return Err(BOTH_STRATEGIES.into());
            }
            approx = false;
            let next = &argv[i + 1][..];
            if more >= 2 && next == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let t = &argv[i + 1];
            strategy = Some(if is(a, "maxlen") {
                let n = int(t)?;
                if n < 0 {
                    return Err(MAXLEN_NEGATIVE.into());
                }
                TrimStrategy::MaxLen(n as u64)
            } else {
                TrimStrategy::MinId(id::parse_strict(t, 0)?)
            });
            i += 1;
            threshold_at = i;
        } else if is(a, "limit") && more > 0 {
            limit = int(&argv[i + 1])?;
            if limit < 0 {
                return Err(LIMIT_NEGATIVE.into());
            }
            limit_given = true;
            i += 1;
        } else if xadd && is(a, "nomkstream") {
            nomkstream = true;
        } else if xadd {
            id = Some(id::parse(a, 0, true, true)?);
            break;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if limit != 0 && strategy.is_none() {
        return Err(LIMIT_NO_STRATEGY.into());
    }
    if !xadd && strategy.is_none() {
        return Err(XTRIM_NO_STRATEGY.into());
    }
    if ctx.must_obey() {
        // From the AOF: the trim was made exact when it was propagated.
        limit = 0;
    } else if limit_given {
        if !approx {
            return Err(LIMIT_NO_APPROX.into());
        }
    } else if approx {
        limit = 100i64.saturating_mul(ctx.config().stream_node_max_entries);
        if limit <= 0 || limit > 1_000_000 {
            limit = 10_000;
        }
    } else {
        limit = 0;
    }
    Ok(AddTrim {
        trim: strategy.map(|strategy| TrimArgs {
            strategy,
            approx,
            limit,
        }),
        threshold_at,
        nomkstream,
        id,
        id_at: i,
    })
}

fn node_limits(ctx: &Ctx) -> NodeLimits {
    let c = ctx.config();
    NodeLimits {
        max_bytes: c.stream_node_max_bytes,
        max_entries: c.stream_node_max_entries,
    }
}

/// The exact trim an approximate one turned out to be, for propagation:
/// `argv` with `~` made `=` and the threshold made the length (MAXLEN) or
/// the first ID, deleted entries included (MINID).
fn exact_trim_argv(argv: &mut [Bytes], s: &Stream, t: &TrimArgs, threshold_at: usize) {
    argv[threshold_at - 1] = word("=");
    argv[threshold_at] = match t.strategy {
        TrimStrategy::MaxLen(_) => Bytes::from(s.len().to_string()),
        TrimStrategy::MinId(_) => Bytes::from(
            s.first_id_with_tombstones()
                .unwrap_or(StreamId::MAX)
                .to_bytes(),
        ),
    };
}

pub fn xadd(ctx: &mut Ctx) -> CmdResult {
    let p = parse_add_trim(ctx, true)?;
    let argv = ctx.argv;
    let fields_at = p.id_at + 1;
    if argv.len() < fields_at + 2 || !(argv.len() - fields_at).is_multiple_of(2) {
        return Err(crate::error::wrong_arity("xadd"));
    }
    if let Some(pid) = p.id {
        if pid.seq_given && pid.id.is_zero() {
            return Err(ID_ZERO.into());
        }
    }
    let key = &argv[1];
    let now = ctx.now;
    let lim = node_limits(ctx);
    let fv: smallvec_fv::Fv = smallvec_fv::collect(&argv[fields_at..]);
    let db = ctx.db();
    let (id, created, trimmed, exact) = {
        let existing = stream_mut(db, key, now)?;
        let created = existing.is_none();
        if created && p.nomkstream {
            ctx.out.null();
            return Ok(());
        }
        let mut fresh = None;
        let s: &mut Stream = match existing {
            Some(s) => s,
            None => fresh.insert(Stream::new()),
        };
        if s.last_id == StreamId::MAX {
            return Err(ID_EXHAUSTED.into());
        }
        let id = s.next_id(p.id, now.max(0) as u64).map_err(add_error)?;
        s.append(id, &fv, lim).map_err(add_error)?;
        let mut trimmed = 0;
        let mut exact = None;
        if let Some(t) = &p.trim {
            trimmed = s.trim(*t);
            if t.approx {
                exact = Some(match t.strategy {
                    TrimStrategy::MaxLen(_) => Bytes::from(s.len().to_string()),
                    TrimStrategy::MinId(_) => Bytes::from(
                        s.first_id_with_tombstones()
                            .unwrap_or(StreamId::MAX)
                            .to_bytes(),
                    ),
                });
            }
        }
        if let Some(s) = fresh {
            db.add(key, Value::Stream(Box::new(s)), now);
        }
        (id, created, trimmed, exact)
    };
    let idb = id.to_bytes();
    ctx.out.bulk(&idb);
    if created {
        ctx.notify(notify::NEW, "new", key);
    }
    ctx.modified(key);
    ctx.notify(notify::STREAM, "xadd", key);
    ctx.dirty(1);
    if trimmed > 0 {
        ctx.notify(notify::STREAM, "xtrim", key);
    }
    let id_generated = p.id.is_none_or(|pid| !pid.seq_given);
    if (exact.is_some() || id_generated) && ctx.propagating() {
        let mut v: Vec<Bytes> = argv.to_vec();
        if let Some(threshold) = exact {
            v[p.threshold_at - 1] = word("=");
            v[p.threshold_at] = threshold;
        }
        if id_generated {
            v[p.id_at] = Bytes::from(idb);
        }
        ctx.rewrite(v);
    }
    ctx.signal_ready(key);
    Ok(())
}

fn add_error(e: AddError) -> CmdError {
    match e {
        AddError::NotGreater => ID_NOT_GREATER.into(),
        AddError::TooLarge => TOO_LARGE.into(),
    }
}

/// Field and value arguments as slices, without allocating for the usual
/// few pairs.
mod smallvec_fv {
    use bytes::Bytes;

    pub enum Fv<'a> {
        Small([&'a [u8]; 8], usize),
        Big(Vec<&'a [u8]>),
    }

    impl<'a> std::ops::Deref for Fv<'a> {
        type Target = [&'a [u8]];
        fn deref(&self) -> &[&'a [u8]] {
            match self {
                Fv::Small(a, n) => &a[..*n],
                Fv::Big(v) => v,
            }
        }
    }

    pub fn collect(args: &[Bytes]) -> Fv<'_> {
        if args.len() <= 8 {
            let mut a: [&[u8]; 8] = [&[]; 8];
            for (slot, x) in a.iter_mut().zip(args) {
                *slot = x;
            }
            Fv::Small(a, args.len())
        } else {
            Fv::Big(args.iter().map(|b| &b[..]).collect())
        }
    }
}

pub fn xtrim(ctx: &mut Ctx) -> CmdResult {
    let p = parse_add_trim(ctx, false)?;
    if p.id_at < ctx.argv.len() {
        // Unreachable: XTRIM's loop runs to the end or errs.
        return Err(SYNTAX.into());
    }
    let Some(t) = p.trim else {
        return Err(XTRIM_NO_STRATEGY.into());
    };
    let argv = ctx.argv;
    let key = &argv[1];
    let now = ctx.now;
    let db = ctx.db();
    let Some(s) = stream_mut(db, key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let deleted = s.trim(t);
    let mut rewritten = None;
    if deleted > 0 && t.approx {
        let mut v: Vec<Bytes> = argv.to_vec();
        exact_trim_argv(&mut v, s, &t, p.threshold_at);
        rewritten = Some(v);
    }
    if deleted > 0 {
        ctx.notify(notify::STREAM, "xtrim", key);
        ctx.modified(key);
        ctx.dirty(deleted as u64);
        if let Some(v) = rewritten {
            if ctx.propagating() {
                ctx.rewrite(v);
            }
        }
    }
    ctx.out.int(deleted);
    Ok(())
}

pub fn xdel(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1];
    let now = ctx.now;
    let db = ctx.db();
    let Some(s) = stream_mut(db, key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    // Every ID is checked before any is deleted.
    let mut ids = Vec::with_capacity(argv.len() - 2);
    for a in &argv[2..] {
        ids.push(id::parse_strict(a, 0)?);
    }
    let deleted = s.xdel(&ids);
    if deleted > 0 {
        ctx.modified(key);
        ctx.notify(notify::STREAM, "xdel", key);
        ctx.dirty(deleted);
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

pub fn xsetid(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1];
    let new_id = id::parse_strict(&argv[2], 0)?;
    let mut entries_added: i64 = -1;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if is(&argv[i], "entriesadded") && more > 0 {
            entries_added = int(&argv[i + 1])?;
            if entries_added < 0 {
                return Err("ERR entries_added must be positive".into());
            }
        } else if is(&argv[i], "maxdeletedid") && more > 0 {
            max_deleted = id::parse_strict(&argv[i + 1], 0)?;
            if new_id < max_deleted {
                return Err(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
                        .into(),
                );
            }
        } else {
            return Err(SYNTAX.into());
        }
        i += 2;
    }
    let now = ctx.now;
    let db = ctx.db();
    let Some(s) = stream_mut(db, key, now)? else {
        return Err(NO_SUCH_KEY.into());
    };
    if new_id < s.max_deleted_entry_id {
        return Err(
            "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id".into(),
        );
    }
    if !s.is_empty() {
        let top = s.edge_id(true).unwrap_or(StreamId::MIN);
        if new_id < top {
            return Err(
                "ERR The ID specified in XSETID is smaller than the target stream top item".into(),
            );
        }
        if entries_added != -1 && s.len() > entries_added as u64 {
            return Err(
                "ERR The entries_added specified in XSETID is smaller than the target stream length"
                    .into(),
            );
        }
    }
    s.last_id = new_id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_deleted.is_zero() {
        s.max_deleted_entry_id = max_deleted;
    }
    // Valkey 9.1 signals no modified key here (WATCH does not fail).
    ctx.notify(notify::STREAM, "xsetid", key);
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}
