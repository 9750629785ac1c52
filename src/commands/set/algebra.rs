//! Set algebra: SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF
//! and SDIFFSTORE. Intersections walk the smallest set; unions and
//! differences build their result from an empty intset, member by member, as
//! Valkey does, so a stored result gets Valkey's encoding.

use bytes::Bytes;

use super::*;
use crate::util::num::parse_i64;

const NUMKEYS_POSITIVE: &str = "ERR numkeys should be greater than 0";
const NUMKEYS_TOO_MANY: &str = "ERR Number of keys can't be greater than number of args";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";

/// Looks every key up, failing with WRONGTYPE if any holds another type
/// (missing keys are empty sets). Expired keys are removed here, so the
/// borrowed lookups of `sets_of` that follow see only live keys.
fn check_sets(db: &mut Db, keys: &[Bytes], now: i64, write: bool) -> CmdResult {
    for k in keys {
        if write {
            if let Some(v) = db.lookup(k, now, Access::WRITE).map(|e| e.value_mut()) {
                as_set(v)?;
            }
        } else if let Some(v) = db.lookup(k, now, Access::READ).map(|e| e.value()) {
            super::stored(v).and_then(as_set)?;
        }
    }
    Ok(())
}

/// The sets at `keys` (None where missing), all borrowed at once.
fn sets_of<'a>(db: &'a Db, keys: &[Bytes]) -> Vec<Option<&'a Set>> {
    keys.iter()
        .map(
            |k| match db.table().get(k).and_then(|e| e.value().stored()) {
                Some(Value::Set(s)) => Some(&**s),
                _ => None,
            },
        )
        .collect()
}

/// Calls `f` on each member of the intersection, walking the smallest set;
/// stops when `f` returns false. The caller handles missing sets.
fn intersect<'a>(sets: &[&'a Set], mut f: impl FnMut(Member<'a>) -> bool) {
    let mut order: Vec<&Set> = sets.to_vec();
    order.sort_by_key(|s| s.len());
    let Some((first, rest)) = order.split_first() else {
        return;
    };
    for m in first.members() {
        if rest
            .iter()
            .all(|s| std::ptr::eq(*s, *first) || s.contains_member(m))
            && !f(m)
        {
            return;
        }
    }
}

/// Stores `res` at `dst` (deleting `dst` when empty) and replies its size;
/// `event` is the command's notification.
fn store(ctx: &mut Ctx, dst: &[u8], res: Set, event: &'static str) {
    let now = ctx.now;
    let n = res.len();
    if n == 0 {
        if ctx.db().delete(dst, now, Free::Sync) {
            ctx.dirty(1);
            ctx.modified(dst);
            ctx.notify(notify::GENERIC, "del", dst);
        }
    } else {
        ctx.notify_if_new(dst);
        ctx.db().set(dst, Value::Set(Box::new(res)), false, now);
        ctx.dirty(1);
        ctx.modified(dst);
        ctx.notify(notify::SET, event, dst);
    }
    ctx.out.int(n as i64);
}

pub(super) fn sinter(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let keys = &ctx.argv[1..];
    let (db, out) = ctx.db_and_out();
    check_sets(db, keys, now, false)?;
    let sets = sets_of(db, keys);
    let Some(sets) = sets.into_iter().collect::<Option<Vec<&Set>>>() else {
        out.set(0);
        return Ok(());
    };
    let mut found = Vec::new();
    intersect(&sets, |m| {
        found.push(m);
        true
    });
    out.set(found.len());
    for m in found {
        reply_member(out, m);
    }
    Ok(())
}

pub(super) fn sinterstore(ctx: &mut Ctx) -> CmdResult {
    let lim = limits(ctx);
    let now = ctx.now;
    let argv = ctx.argv;
    let keys = &argv[2..];
    let db = ctx.db();
    // Sources are read lookups even when storing, as Valkey's.
    check_sets(db, keys, now, false)?;
    let mut res = Set::new_intset();
    if let Some(sets) = sets_of(db, keys).into_iter().collect::<Option<Vec<&Set>>>() {
        intersect(&sets, |m| {
            res.add_member(m, &lim);
            true
        });
    }
    store(ctx, &argv[1], res, "sinterstore");
    Ok(())
}

pub(super) fn sintercard(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let numkeys = parse_i64(&argv[1])
        .filter(|n| *n > 0)
        .ok_or(CmdError::from(NUMKEYS_POSITIVE))? as u64;
    if numkeys > (argv.len() - 2) as u64 {
        return Err(NUMKEYS_TOO_MANY.into());
    }
    let end = 2 + numkeys as usize;
    let mut limit = 0usize;
    let mut j = end;
    while j < argv.len() {
        if is(&argv[j], "limit") && j + 1 < argv.len() {
            limit = parse_i64(&argv[j + 1])
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(CmdError::from(LIMIT_NEGATIVE))?;
            j += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    let now = ctx.now;
    let keys = &argv[2..end];
    let (db, out) = ctx.db_and_out();
    check_sets(db, keys, now, false)?;
    let mut n = 0usize;
    if let Some(sets) = sets_of(db, keys).into_iter().collect::<Option<Vec<&Set>>>() {
        intersect(&sets, |_| {
            n += 1;
            limit == 0 || n < limit
        });
    }
    out.int(n as i64);
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

/// The union or difference of `keys` as a new set, built member by member
/// from an empty intset as Valkey builds it (so its encoding matches).
fn union_diff(db: &Db, keys: &[Bytes], op: Op, lim: &Limits) -> Set {
    let sets = sets_of(db, keys);
    let mut res = Set::new_intset();
    match op {
        Op::Union => {
            for s in sets.iter().flatten() {
                for m in s.members() {
                    res.add_member(m, lim);
                }
            }
        }
        Op::Diff => {
            if let Some((Some(first), rest)) = sets.split_first() {
                for m in first.members() {
                    if !rest.iter().flatten().any(|s| s.contains_member(m)) {
                        res.add_member(m, lim);
                    }
                }
            }
        }
    }
    res
}

fn union_diff_reply(ctx: &mut Ctx, op: Op) -> CmdResult {
    let lim = limits(ctx);
    let now = ctx.now;
    let keys = &ctx.argv[1..];
    let (db, out) = ctx.db_and_out();
    check_sets(db, keys, now, false)?;
    let res = union_diff(db, keys, op, &lim);
    reply_set(out, &res);
    Ok(())
}

fn union_diff_store(ctx: &mut Ctx, op: Op) -> CmdResult {
    let lim = limits(ctx);
    let now = ctx.now;
    let argv = ctx.argv;
    let keys = &argv[2..];
    let db = ctx.db();
    // Sources are read lookups even when storing, as Valkey's.
    check_sets(db, keys, now, false)?;
    let res = union_diff(db, keys, op, &lim);
    let event = match op {
        Op::Union => "sunionstore",
        Op::Diff => "sdiffstore",
    };
    store(ctx, &argv[1], res, event);
    Ok(())
}

pub(super) fn sunion(ctx: &mut Ctx) -> CmdResult {
    union_diff_reply(ctx, Op::Union)
}

pub(super) fn sdiff(ctx: &mut Ctx) -> CmdResult {
    union_diff_reply(ctx, Op::Diff)
}

pub(super) fn sunionstore(ctx: &mut Ctx) -> CmdResult {
    union_diff_store(ctx, Op::Union)
}

pub(super) fn sdiffstore(ctx: &mut Ctx) -> CmdResult {
    union_diff_store(ctx, Op::Diff)
}
