//! Sorted set commands: ZADD and friends, ranges by rank, score and lex,
//! pops (blocking too), random members, set algebra, ZSCAN. The range
//! family is in `zset/range.rs`, the set algebra in `zset/setop.rs`,
//! ZRANDMEMBER in `zset/random.rs`.
//!
//! Values are `keyspace::zset::ZSet`s. Argument errors are checked in
//! Valkey's order (options, then ranges, then the key's type), since
//! clients and tests see which error comes first. Read paths use
//! `Access::READ` (hit/miss accounting), writes `Access::WRITE`.

use crate::commands::ctx::Parts;
use std::borrow::Cow;

use bytes::Bytes;

use super::args::{int, is, timeout};
use super::propagate::{arg, num, word};
use super::Ctx;
use crate::config::notify;
use crate::error::{wrong_arity, CmdError, CmdResult, CURSOR, NOT_FLOAT, SYNTAX, WRONGTYPE};
use crate::keyspace::set::{Member, Set};
use crate::keyspace::zset::{cmp, Limits, ZSet};
use crate::keyspace::{Access, Db, Free, Value};
use crate::resp::ReplyBuf;
use crate::state::TimeoutReply;
use crate::util::glob::glob_match;
use crate::util::num::parse_f64;

mod random;
mod range;
mod rows;
mod setop;

use random::zrandmember;
pub use rows::COMMANDS;

const XX_AND_NX: &str = "ERR XX and NX options at the same time are not compatible";
const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
const INCR_ONE_PAIR: &str = "ERR INCR option supports a single increment-element pair";
const SCORE_NAN: &str = "ERR resulting score is not a number (NaN)";
const MINMAX_NOT_FLOAT: &str = "ERR min or max is not a float";
const LEX_RANGE: &str = "ERR min or max not valid string range item";
const LIMIT_NEEDS_BY: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
const WITHSCORES_BYLEX: &str =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
const NUMKEYS_POSITIVE: &str = "ERR numkeys should be greater than 0";
const COUNT_POSITIVE: &str = "ERR count should be greater than 0";
const WEIGHT_NOT_FLOAT: &str = "ERR weight value is not a float";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";

// ---------------------------------------------------------------------------
// Shared helpers

fn limits(ctx: &Ctx) -> Limits {
    let c = ctx.config();
    Limits::new(c.zset_max_listpack_entries, c.zset_max_listpack_value)
}

fn as_zset(v: &Value) -> Result<&ZSet, CmdError> {
    match v {
        Value::ZSet(z) => Ok(z),
        _ => Err(WRONGTYPE.into()),
    }
}

/// Reads a zset (hit/miss counted); None when the key is missing.
fn read<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Result<Option<&'a ZSet>, CmdError> {
    db.lookup(key, now, Access::READ)
        .map(|e| e.value())
        .map(|v| super::stored(v).and_then(as_zset))
        .transpose()
}

/// Looks a zset up for writing; None when the key is missing.
fn write<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Result<Option<&'a mut ZSet>, CmdError> {
    match db.lookup(key, now, Access::WRITE).map(|e| e.value_mut()) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(WRONGTYPE.into()),
    }
}

/// Checks the type of a key about to be written without counting a
/// lookup; true if it holds a zset.
fn check_write(db: &mut Db, key: &[u8], now: i64) -> Result<bool, CmdError> {
    match db.lookup(key, now, Access::PEEK) {
        None => Ok(false),
        Some(e) if matches!(&*e.value(), Value::ZSet(_)) => Ok(true),
        Some(_) => Err(WRONGTYPE.into()),
    }
}

/// Deletes `key` if its zset was emptied; true if it was.
fn drop_if_empty(db: &mut Db, key: &[u8], now: i64) -> bool {
    if matches!(db.lookup(key, now, Access::PEEK), Some(e) if matches!(&*e.value(), Value::ZSet(z) if z.is_empty()))
    {
        db.delete(key, now, Free::Sync);
        return true;
    }
    false
}

/// The notifications of `removed` elements taken from `key` by `event`:
/// the event, then `del` if that emptied the key.
fn notify_removed(ctx: &mut Ctx, key: &[u8], event: &'static str, emptied: bool) {
    ctx.notify(notify::ZSET, event, key);
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
}

/// A score as ZADD/ZINCRBY accept it: like `strtod` with Valkey's checks,
/// so overflow (`1e400`) and underflow to zero (`1e-400`) are errors.
fn parse_score(a: &[u8]) -> Option<f64> {
    let v = parse_f64(a)?;
    let lower = a.to_ascii_lowercase();
    if v.is_infinite() && !lower.windows(3).any(|w| w == b"inf") {
        return None;
    }
    if v == 0.0 {
        let mantissa = lower.split(|&c| c == b'e').next().unwrap_or(&[]);
        if mantissa.iter().any(|c| (b'1'..=b'9').contains(c)) {
            return None;
        }
    }
    Some(v)
}

fn score_arg(a: &[u8]) -> Result<f64, CmdError> {
    parse_score(a).ok_or(CmdError::from(NOT_FLOAT))
}

/// A score reply: a double, with negative zero written "-0" as Valkey
/// does (the shared formatter writes it "0").
fn reply_score(out: &mut ReplyBuf, s: f64) {
    if s == 0.0 && s.is_sign_negative() {
        if out.is_resp3() {
            out.raw(b",-0\r\n");
        } else {
            out.bulk(b"-0");
        }
    } else {
        out.double(s);
    }
}

/// A score as text (ZSCAN), "-0" included.
fn score_text(s: f64) -> String {
    if s == 0.0 && s.is_sign_negative() {
        "-0".into()
    } else {
        crate::util::num::format_double(s)
    }
}

/// A score as C's `%.17g` prints it: what Valkey's SCAN callback sends for
/// a skiplist-encoded sorted set (`0.10000000000000001`, `1e+17`), where a
/// listpack's scores are sent as stored (shortest form).
fn score_g17(s: f64) -> String {
    if !s.is_finite() {
        return if s > 0.0 { "inf" } else { "-inf" }.into();
    }
    if s == 0.0 {
        return if s.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // 17 significant digits, correctly rounded, and the decimal exponent.
    let sci = format!("{s:.16e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |t: &str| -> String {
        if t.contains('.') {
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            t.to_string()
        }
    };
    if !(-4..17).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mant), exp.unsigned_abs())
    } else {
        trim(&format!("{:.*}", (16 - exp) as usize, s))
    }
}

/// One (member, score) element of a reply: a flat pair in RESP2, a
/// two-element array in RESP3 when `nested`.
fn reply_pair(out: &mut ReplyBuf, member: &[u8], score: f64, nested: bool) {
    if nested {
        out.array(2);
    }
    out.bulk(member);
    reply_score(out, score);
}

/// The array header for `n` elements, with scores or not: RESP3 nests
/// pairs, RESP2 flattens them.
fn elements_header(out: &mut ReplyBuf, n: usize, withscores: bool) {
    if withscores && !out.is_resp3() {
        out.array(n * 2);
    } else {
        out.array(n);
    }
}

fn reply_elements<M: AsRef<[u8]>>(out: &mut ReplyBuf, items: &[(M, f64)], withscores: bool) {
    elements_header(out, items.len(), withscores);
    let nested = out.is_resp3();
    for (m, s) in items {
        if withscores {
            reply_pair(out, m.as_ref(), *s, nested);
        } else {
            out.bulk(m.as_ref());
        }
    }
}

/// Builds a zset from sorted-or-not elements with the encoding Valkey
/// gives a result of this size (ZUNIONSTORE & co, ZRANGESTORE).
fn build<M: AsRef<[u8]>>(items: &[(M, f64)], limits: Limits, sized: bool) -> ZSet {
    // ZRANGESTORE starts from an encoding picked by the count alone
    // (Valkey's zsetTypeCreate(length, 0)): a listpack that converts when
    // a long member arrives, so scores added before then went through the
    // listpack (-0 reads back as 0).
    let maxlen = if sized {
        items
            .iter()
            .map(|(m, _)| m.as_ref().len())
            .max()
            .unwrap_or(0)
    } else {
        0
    };
    let mut z = ZSet::with_hint(items.len(), maxlen, limits);
    for (m, s) in items {
        z.set(m.as_ref(), *s, limits);
    }
    z
}

/// Stores a computed result under `dst` (deleting it when empty) and
/// replies its size; `event` is the command's notification.
fn store_result<M: AsRef<[u8]>>(
    ctx: &mut Ctx,
    dst: &[u8],
    items: &[(M, f64)],
    sized: bool,
    event: &'static str,
) {
    let now = ctx.now;
    let lim = limits(ctx);
    if items.is_empty() {
        if ctx.db().delete(dst, now, Free::Sync) {
            ctx.dirty(1);
            ctx.modified(dst);
            ctx.notify(notify::GENERIC, "del", dst);
        }
        ctx.out.int(0);
        return;
    }
    let z = build(items, lim, sized);
    ctx.notify_if_new(dst);
    ctx.db().set(dst, Value::ZSet(Box::new(z)), false, now);
    ctx.dirty(1);
    ctx.modified(dst);
    ctx.notify(notify::ZSET, event, dst);
    ctx.signal_ready(dst);
    ctx.out.int(items.len() as i64);
}

// ---------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM

fn zadd(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, false);
    let mut j = 2;
    while j < argv.len() {
        let a = &argv[j][..];
        if is(a, "nx") {
            nx = true;
        } else if is(a, "xx") {
            xx = true;
        } else if is(a, "gt") {
            gt = true;
        } else if is(a, "lt") {
            lt = true;
        } else if is(a, "ch") {
            ch = true;
        } else if is(a, "incr") {
            incr = true;
        } else {
            break;
        }
        j += 1;
    }
    let elements = argv.len() - j;
    if !elements.is_multiple_of(2) || elements == 0 {
        return Err(SYNTAX.into());
    }
    if nx && xx {
        return Err(XX_AND_NX.into());
    }
    if ((gt || lt) && nx) || (gt && lt) {
        return Err(GT_LT_NX.into());
    }
    let pairs = elements / 2;
    if incr && pairs > 1 {
        return Err(INCR_ONE_PAIR.into());
    }
    let mut scores = Vec::with_capacity(pairs);
    for p in 0..pairs {
        scores.push(score_arg(&argv[j + 2 * p])?);
    }
    let key = &argv[1][..];
    let now = ctx.now;
    let lim = limits(ctx);
    let db = ctx.db();
    let exists = check_write(db, key, now)?;
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    let maxlen = (0..pairs)
        .map(|p| argv[j + 2 * p + 1].len())
        .max()
        .unwrap_or(0);
    if !exists {
        if xx {
            return reply_zadd(ctx, incr, ch, None, 0, 0);
        }
        db.add(
            key,
            Value::ZSet(Box::new(ZSet::with_hint(pairs, maxlen, lim))),
            now,
        );
        ctx.notify(notify::NEW, "new", key);
    }
    let db = ctx.db();
    let Some(z) = write(db, key, now)? else {
        return Ok(());
    };
    if exists {
        z.maybe_convert(pairs, maxlen, lim);
    }
    let mut err = None;
    for (p, &score) in scores.iter().enumerate() {
        let member = &argv[j + 2 * p + 1][..];
        match z.score(member) {
            Some(cur) => {
                if nx {
                    continue;
                }
                let mut new = score;
                if incr {
                    new += cur;
                    if new.is_nan() {
                        err = Some(SCORE_NAN);
                        break;
                    }
                }
                if (lt && new >= cur) || (gt && new <= cur) {
                    continue;
                }
                last = new;
                processed += 1;
                if new != cur {
                    z.update(member, cur, new);
                    updated += 1;
                }
            }
            None => {
                if xx {
                    continue;
                }
                z.insert_new(member, score, lim);
                last = score;
                added += 1;
                processed += 1;
            }
        }
    }
    if added + updated > 0 {
        ctx.dirty((added + updated) as u64);
        ctx.modified(key);
        ctx.notify(notify::ZSET, if incr { "zincr" } else { "zadd" }, key);
    }
    if added > 0 {
        ctx.signal_ready(key);
    }
    if let Some(e) = err {
        return Err(e.into());
    }
    reply_zadd(
        ctx,
        incr,
        ch,
        (processed > 0).then_some(last),
        added,
        updated,
    )
}

fn reply_zadd(
    ctx: &mut Ctx,
    incr: bool,
    ch: bool,
    score: Option<f64>,
    added: i64,
    updated: i64,
) -> CmdResult {
    if incr {
        match score {
            Some(s) => reply_score(ctx.out, s),
            None => ctx.out.null(),
        }
    } else {
        ctx.out.int(if ch { added + updated } else { added });
    }
    Ok(())
}

fn zincrby(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let by = score_arg(&argv[2])?;
    let (key, member) = (&argv[1][..], &argv[3][..]);
    let now = ctx.now;
    let lim = limits(ctx);
    let db = ctx.db();
    if !check_write(db, key, now)? {
        db.add(
            key,
            Value::ZSet(Box::new(ZSet::with_hint(1, member.len(), lim))),
            now,
        );
        ctx.notify(notify::NEW, "new", key);
    }
    let db = ctx.db();
    let mut changed = true;
    let Some(z) = write(db, key, now)? else {
        return Ok(());
    };
    z.maybe_convert(1, member.len(), lim);
    let new = match z.score(member) {
        Some(cur) => {
            let new = cur + by;
            if new.is_nan() {
                return Err(SCORE_NAN.into());
            }
            if new != cur {
                z.update(member, cur, new);
            } else {
                changed = false;
            }
            new
        }
        None => {
            z.insert_new(member, by, lim);
            ctx.signal_ready(key);
            by
        }
    };
    ctx.dirty(1);
    ctx.modified(key);
    if changed {
        ctx.notify(notify::ZSET, "zincr", key);
    }
    reply_score(ctx.out, new);
    Ok(())
}

fn zrem(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1][..];
    let now = ctx.now;
    let db = ctx.db();
    let mut removed = 0;
    if let Some(z) = write(db, key, now)? {
        for m in &argv[2..] {
            if z.remove(m).is_some() {
                removed += 1;
                if z.is_empty() {
                    break;
                }
            }
        }
    }
    if removed > 0 {
        let emptied = drop_if_empty(db, key, now);
        ctx.dirty(removed);
        ctx.modified(key);
        notify_removed(ctx, key, "zrem", emptied);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK

fn zcard(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let n = read(ctx.db(), &argv[1], now)?.map_or(0, |z| z.len());
    ctx.out.int(n as i64);
    Ok(())
}

fn zscore(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    match read(db, &argv[1], now)?.and_then(|z| z.score(&argv[2])) {
        Some(s) => reply_score(out, s),
        None => out.null(),
    }
    Ok(())
}

fn zmscore(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    let z = read(db, &argv[1], now)?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => reply_score(out, s),
            None => out.null(),
        }
    }
    Ok(())
}

fn rank_generic(ctx: &mut Ctx, rev: bool) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() > 4 {
        return Err(wrong_arity(ctx.cmd.name));
    }
    let withscore = match argv.get(3) {
        Some(a) if is(a, "withscore") => true,
        Some(_) => return Err(SYNTAX.into()),
        None => false,
    };
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let found = match read(db, &argv[1], now)? {
        Some(z) => z
            .rank(&argv[2])
            .map(|(r, s)| (if rev { z.len() - 1 - r } else { r }, s)),
        None => None,
    };
    match (found, withscore) {
        (Some((r, _)), false) => out.int(r as i64),
        (Some((r, s)), true) => {
            out.array(2);
            out.int(r as i64);
            reply_score(out, s);
        }
        (None, false) => out.null(),
        (None, true) => out.null_array(),
    }
    Ok(())
}

fn zrank(ctx: &mut Ctx) -> CmdResult {
    rank_generic(ctx, false)
}

fn zrevrank(ctx: &mut Ctx) -> CmdResult {
    rank_generic(ctx, true)
}

// ---------------------------------------------------------------------------
// Pops

/// Removes up to `count` elements from the low (or high, `max`) end of the
/// zset at `key`, deleting the key when emptied.
fn pop(
    ctx: &mut Ctx,
    key: &[u8],
    max: bool,
    count: usize,
) -> Result<Vec<(Vec<u8>, f64)>, CmdError> {
    let now = ctx.now;
    let db = ctx.db();
    let Some(z) = write(db, key, now)? else {
        return Ok(Vec::new());
    };
    let n = count.min(z.len());
    let items = if max {
        z.collect_range(z.len() - n, z.len(), true)
    } else {
        z.collect_range(0, n, false)
    };
    for (m, _) in &items {
        z.remove(m);
    }
    if !items.is_empty() {
        let emptied = drop_if_empty(db, key, now);
        ctx.dirty(items.len() as u64);
        ctx.modified(key);
        let event = if max { "zpopmax" } else { "zpopmin" };
        notify_removed(ctx, key, event, emptied);
    }
    Ok(items)
}

fn pop_generic(ctx: &mut Ctx, max: bool) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() > 3 {
        return Err(SYNTAX.into());
    }
    let count = match argv.get(2) {
        Some(a) => {
            let n = int(a).map_err(|_| CmdError::from(MUST_BE_POSITIVE))?;
            if n < 0 {
                return Err(MUST_BE_POSITIVE.into());
            }
            Some(n as u64 as usize)
        }
        None => None,
    };
    let now = ctx.now;
    // Type errors come before a zero count would return (a write lookup,
    // as Valkey's: no keyspace miss).
    check_write(ctx.db(), &argv[1], now)?;
    let items = pop(ctx, &argv[1], max, count.unwrap_or(1))?;
    let out = &mut *ctx.out;
    if count.is_none() {
        // One element: a flat [member, score] even in RESP3.
        out.array(items.len() * 2);
        for (m, s) in &items {
            reply_pair(out, m, *s, false);
        }
    } else {
        reply_elements(out, &items, true);
    }
    Ok(())
}

/// The non-blocking pop the blocking and multi-key forms go out as.
fn pop_name(max: bool) -> Bytes {
    word(if max { "ZPOPMAX" } else { "ZPOPMIN" })
}

fn zpopmin(ctx: &mut Ctx) -> CmdResult {
    pop_generic(ctx, false)
}

fn zpopmax(ctx: &mut Ctx) -> CmdResult {
    pop_generic(ctx, true)
}

/// `numkeys key [key ...] <MIN | MAX> [COUNT count]` from `at`: the keys,
/// MAX?, and the count.
fn parse_mpop(argv: &[Bytes], at: usize) -> Result<(&[Bytes], bool, usize), CmdError> {
    let numkeys = int(&argv[at]).map_err(|_| CmdError::from(NUMKEYS_POSITIVE))?;
    if numkeys <= 0 {
        return Err(NUMKEYS_POSITIVE.into());
    }
    let first = at + 1;
    // The keys and MIN|MAX must fit in what is left.
    if numkeys as u64 >= (argv.len() - first) as u64 {
        return Err(SYNTAX.into());
    }
    let n = numkeys as usize;
    let keys = &argv[first..first + n];
    let mut j = first + n;
    let max = if is(&argv[j], "min") {
        false
    } else if is(&argv[j], "max") {
        true
    } else {
        return Err(SYNTAX.into());
    };
    j += 1;
    let mut count = None;
    while j < argv.len() {
        if count.is_none() && is(&argv[j], "count") && j + 1 < argv.len() {
            let c = int(&argv[j + 1]).map_err(|_| CmdError::from(COUNT_POSITIVE))?;
            if c <= 0 {
                return Err(COUNT_POSITIVE.into());
            }
            count = Some(c as usize);
            j += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    Ok((keys, max, count.unwrap_or(1)))
}

/// Pops from the first non-empty key and replies `[key, [[m, s] ...]]`;
/// false if every key was empty (nothing replied).
fn mpop_serve(ctx: &mut Ctx, keys: &[Bytes], max: bool, count: usize) -> Result<bool, CmdError> {
    let now = ctx.now;
    for k in keys {
        let found = check_write(ctx.db(), k, now)?;
        if found {
            let items = pop(ctx, k, max, count)?;
            if ctx.propagating() {
                // ZPOPMIN/ZPOPMAX of what was popped, as Valkey.
                let n = num(items.len() as i64);
                ctx.rewrite(vec![pop_name(max), arg(k), n]);
            }
            let out = &mut *ctx.out;
            out.array(2);
            out.bulk(k);
            out.array(items.len());
            for (m, s) in &items {
                reply_pair(out, m, *s, true);
            }
            return Ok(true);
        }
    }
    Ok(false)
}

fn zmpop(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (keys, max, count) = parse_mpop(argv, 1)?;
    if !mpop_serve(ctx, keys, max, count)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// A blocked client's retry finding no sorted set under any of its keys
/// waits on, whatever else the keys hold now: Valkey serves a waiter only
/// from a key of its type (a key that became a string in between does not
/// wake it with WRONGTYPE).
fn retry_waits(ctx: &mut Ctx, keys: &[Bytes]) -> bool {
    if !ctx.is_blocked_retry() {
        return false;
    }
    let now = ctx.now;
    let db = ctx.db();
    !keys.iter().any(|k| {
        db.lookup(k, now, Access::PEEK)
            .is_some_and(|e| matches!(&*e.value(), Value::ZSet(_)))
    })
}

fn bzmpop(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (keys, max, count) = parse_mpop(argv, 2)?;
    let t = timeout(&argv[1])?;
    if retry_waits(ctx, keys) || !mpop_serve(ctx, keys, max, count)? {
        ctx.block(keys, t, TimeoutReply::NullArray);
    }
    Ok(())
}

fn bpop_generic(ctx: &mut Ctx, max: bool) -> CmdResult {
    let argv = ctx.argv;
    let t = timeout(&argv[argv.len() - 1])?;
    let keys = &argv[1..argv.len() - 1];
    let now = ctx.now;
    if retry_waits(ctx, keys) {
        ctx.block(keys, t, TimeoutReply::NullArray);
        return Ok(());
    }
    for k in keys {
        if check_write(ctx.db(), k, now)? {
            let items = pop(ctx, k, max, 1)?;
            if ctx.propagating() {
                ctx.rewrite(vec![pop_name(max), arg(k)]);
            }
            if let Some((m, s)) = items.first() {
                let out = &mut *ctx.out;
                out.array(3);
                out.bulk(k);
                out.bulk(m);
                reply_score(out, *s);
                return Ok(());
            }
        }
    }
    ctx.block(keys, t, TimeoutReply::NullArray);
    Ok(())
}

fn bzpopmin(ctx: &mut Ctx) -> CmdResult {
    bpop_generic(ctx, false)
}

fn bzpopmax(ctx: &mut Ctx) -> CmdResult {
    bpop_generic(ctx, true)
}

// ---------------------------------------------------------------------------
// ZSCAN

fn zscan(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let cursor = crate::commands::args::scan_cursor(&argv[2]).ok_or(CmdError::from(CURSOR))?;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let Some(z) = read(db, &argv[1], now)? else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let opts = super::args::scan_opts(argv, 3, super::args::ScanKind::ZSet)?;
    let (count, pattern, noscores) = (opts.count, opts.pattern, opts.noscores);
    let skiplist = z.encoding() == "skiplist";
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut steps_left = count.saturating_mul(10);
    let mut cursor = cursor;
    loop {
        cursor = z.scan(cursor, |m, s| {
            if pattern.is_some_and(|p| !glob_match(p, m, false)) {
                return;
            }
            found.push((m.to_vec(), s));
        });
        steps_left -= 1;
        if cursor == 0 || steps_left <= 0 || found.len() as i64 >= count {
            break;
        }
    }
    out.array(2);
    out.bulk(cursor.to_string().as_bytes());
    out.array(if noscores {
        found.len()
    } else {
        found.len() * 2
    });
    for (m, s) in &found {
        out.bulk(m);
        if !noscores {
            // Scores are strings here even in RESP3, as Valkey sends them.
            let text = if skiplist {
                score_g17(*s)
            } else {
                score_text(*s)
            };
            out.bulk(text.as_bytes());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn scores_print_like_percent_17g() {
        for (v, want) in [
            (0.1, "0.10000000000000001"),
            (1e-5, "1.0000000000000001e-05"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
            (1e17, "1e+17"),
            (1e16, "10000000000000000"),
            (1e15, "1000000000000000"),
            (12345678901234567.0, "12345678901234568"),
            (1e20, "1e+20"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (3.0, "3"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (-0.0, "-0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (1e308, "1e+308"),
            (5e-324, "4.9406564584124654e-324"),
        ] {
            assert_eq!(super::score_g17(v), want, "{v}");
        }
    }
}
