//! Sorted set ranges: ZRANGE (BYSCORE, BYLEX, REV, LIMIT) and its older
//! forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT and the ZREMRANGEBY* family.
//!
//! Ranges are resolved to rank spans first (`select`), so every form reads
//! or removes one contiguous run of the sorted set.

use super::*;

/// A score interval; `(x` makes a bound exclusive.
#[derive(Clone, Copy, Debug)]
struct ScoreRange {
    min: f64,
    max: f64,
    minex: bool,
    maxex: bool,
}

/// A score bound as range arguments accept it: stricter than ZADD in
/// nothing but NaN (out-of-range values become infinities, the empty
/// string is 0, as Valkey's parser does).
fn parse_bound(a: &[u8]) -> Option<(f64, bool)> {
    let (ex, s) = match a.first() {
        Some(b'(') => (true, &a[1..]),
        _ => (false, a),
    };
    if s.is_empty() {
        return Some((0.0, ex));
    }
    parse_f64(s).map(|v| (v, ex))
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<Self, CmdError> {
        let (min, minex) = parse_bound(min).ok_or(CmdError::from(MINMAX_NOT_FLOAT))?;
        let (max, maxex) = parse_bound(max).ok_or(CmdError::from(MINMAX_NOT_FLOAT))?;
        Ok(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    /// Ranks `[lo, hi)` of the elements inside the range.
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let r = *self;
        let lo = z.count_before(|s, _| s < r.min || (r.minex && s == r.min));
        let hi = z.count_before(|s, _| s < r.max || (!r.maxex && s == r.max));
        (lo, hi.max(lo))
    }
}

#[derive(Clone, Copy, Debug)]
enum LexBound<'a> {
    NegInf,
    PosInf,
    Incl(&'a [u8]),
    Excl(&'a [u8]),
}

fn parse_lex(a: &[u8]) -> Result<LexBound<'_>, CmdError> {
    match a {
        b"-" => Ok(LexBound::NegInf),
        b"+" => Ok(LexBound::PosInf),
        [b'[', rest @ ..] => Ok(LexBound::Incl(rest)),
        [b'(', rest @ ..] => Ok(LexBound::Excl(rest)),
        _ => Err(LEX_RANGE.into()),
    }
}

#[derive(Clone, Copy, Debug)]
struct LexRange<'a> {
    min: LexBound<'a>,
    max: LexBound<'a>,
}

impl<'a> LexRange<'a> {
    fn parse(min: &'a [u8], max: &'a [u8]) -> Result<Self, CmdError> {
        Ok(LexRange {
            min: parse_lex(min)?,
            max: parse_lex(max)?,
        })
    }

    /// Ranks `[lo, hi)` of the elements inside the range (members being
    /// compared alone, which is meaningful when all scores are equal).
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let below_min = |m: &[u8]| match self.min {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(x) => m < x,
            LexBound::Excl(x) => m <= x,
        };
        let upto_max = |m: &[u8]| match self.max {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(x) => m <= x,
            LexBound::Excl(x) => m < x,
        };
        let lo = z.count_before(|_, m| below_min(m));
        let hi = z.count_before(|_, m| upto_max(m));
        (lo, hi.max(lo))
    }
}

/// Ranks `[lo, hi)` for a rank range (negative indexes from the end),
/// counted from the end when `rev`; None when empty.
fn rank_span(start: i64, end: i64, len: usize, rev: bool) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { start + llen } else { start };
    let mut end = if end < 0 { end + llen } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    let (s, e) = (start as usize, end as usize + 1);
    Some(if rev { (len - e, len - s) } else { (s, e) })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Auto,
    Forward,
    Reverse,
}

/// A parsed ZRANGE-family request. `key_at` is where the source key is
/// (1, or 2 for ZRANGESTORE).
struct RangeReq<'a> {
    by: By,
    rev: bool,
    withscores: bool,
    /// LIMIT offset count (count < 0: all).
    limit: Option<(i64, i64)>,
    min: &'a [u8],
    max: &'a [u8],
}

fn parse_range_req<'a>(
    argv: &'a [Bytes],
    key_at: usize,
    by: By,
    dir: Dir,
    store: bool,
) -> Result<RangeReq<'a>, CmdError> {
    let (mut by, mut dir) = (by, dir);
    let mut withscores = false;
    let mut limit = None;
    let mut j = key_at + 3;
    while j < argv.len() {
        let a = &argv[j][..];
        let left = argv.len() - j - 1;
        if !store && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            limit = Some((int(&argv[j + 1])?, int(&argv[j + 2])?));
            j += 2;
        } else if by == By::Auto && is(a, "byscore") {
            by = By::Score;
        } else if by == By::Auto && is(a, "bylex") {
            by = By::Lex;
        } else if dir == Dir::Auto && is(a, "rev") {
            dir = Dir::Reverse;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    if by == By::Auto {
        by = By::Rank;
    }
    if limit.is_some() && by == By::Rank {
        return Err(LIMIT_NEEDS_BY.into());
    }
    if withscores && by == By::Lex {
        return Err(WITHSCORES_BYLEX.into());
    }
    let rev = dir == Dir::Reverse;
    let (mut min, mut max) = (&argv[key_at + 1][..], &argv[key_at + 2][..]);
    if rev && by != By::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    Ok(RangeReq {
        by,
        rev,
        withscores,
        limit,
        min,
        max,
    })
}

/// Parsed bounds of a request, checked before the key is looked up.
enum Bounds<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

impl<'a> RangeReq<'a> {
    fn bounds(&self) -> Result<Bounds<'a>, CmdError> {
        Ok(match self.by {
            By::Score => Bounds::Score(ScoreRange::parse(self.min, self.max)?),
            By::Lex => Bounds::Lex(LexRange::parse(self.min, self.max)?),
            _ => Bounds::Rank(int(self.min)?, int(self.max)?),
        })
    }
}

/// The ranks `[s, e)` a request selects, to be walked backwards when
/// `rev`; LIMIT applied.
fn select(z: &ZSet, b: &Bounds<'_>, rev: bool, limit: Option<(i64, i64)>) -> (usize, usize) {
    let (lo, hi) = match b {
        Bounds::Rank(s, e) => return rank_span(*s, *e, z.len(), rev).unwrap_or((0, 0)),
        Bounds::Score(r) => r.ranks(z),
        Bounds::Lex(r) => r.ranks(z),
    };
    let (mut offset, count) = limit.unwrap_or((0, -1));
    let n = (hi - lo) as u64;
    if offset < 0 {
        // Valkey's listpack walk never finishes skipping a negative offset
        // (empty reply); its skiplist path moves by rank, which makes a
        // negative offset count back from the end of the range.
        if z.encoding() != "skiplist" || offset.unsigned_abs() > n {
            return (0, 0);
        }
        offset += n as i64;
    }
    if (offset as u64) >= n {
        return (0, 0);
    }
    let avail = hi - lo - offset as usize;
    let n = if count < 0 {
        avail
    } else {
        avail.min(count as u64 as usize)
    };
    if rev {
        (hi - offset as usize - n, hi - offset as usize)
    } else {
        (lo + offset as usize, lo + offset as usize + n)
    }
}

fn range_generic(ctx: &mut Ctx, by: By, dir: Dir) -> CmdResult {
    let argv = ctx.argv;
    let req = parse_range_req(argv, 1, by, dir, false)?;
    let bounds = req.bounds()?;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let Some(z) = read(db, &argv[1], now)? else {
        out.array(0);
        return Ok(());
    };
    let (s, e) = select(z, &bounds, req.rev, req.limit);
    elements_header(out, e - s, req.withscores);
    let nested = out.is_resp3();
    z.for_range(s, e, req.rev, |m, sc| {
        if req.withscores {
            reply_pair(out, m, sc, nested);
        } else {
            out.bulk(m);
        }
    });
    Ok(())
}

pub(super) fn zrange(ctx: &mut Ctx) -> CmdResult {
    range_generic(ctx, By::Auto, Dir::Auto)
}

pub(super) fn zrevrange(ctx: &mut Ctx) -> CmdResult {
    range_generic(ctx, By::Rank, Dir::Reverse)
}

pub(super) fn zrangebyscore(ctx: &mut Ctx) -> CmdResult {
    range_generic(ctx, By::Score, Dir::Forward)
}

pub(super) fn zrevrangebyscore(ctx: &mut Ctx) -> CmdResult {
    range_generic(ctx, By::Score, Dir::Reverse)
}

pub(super) fn zrangebylex(ctx: &mut Ctx) -> CmdResult {
    range_generic(ctx, By::Lex, Dir::Forward)
}

pub(super) fn zrevrangebylex(ctx: &mut Ctx) -> CmdResult {
    range_generic(ctx, By::Lex, Dir::Reverse)
}

pub(super) fn zrangestore(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let req = parse_range_req(argv, 2, By::Auto, Dir::Auto, true)?;
    let bounds = req.bounds()?;
    let now = ctx.now;
    let items = match read(ctx.db(), &argv[2], now)? {
        Some(z) => {
            let (s, e) = select(z, &bounds, req.rev, req.limit);
            z.collect_range(s, e, req.rev)
        }
        None => Vec::new(),
    };
    store_result(ctx, &argv[1], &items, false, "zrangestore");
    Ok(())
}

pub(super) fn zcount(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let r = ScoreRange::parse(&argv[2], &argv[3])?;
    let now = ctx.now;
    let n = read(ctx.db(), &argv[1], now)?.map_or(0, |z| {
        let (lo, hi) = r.ranks(z);
        hi - lo
    });
    ctx.out.int(n as i64);
    Ok(())
}

pub(super) fn zlexcount(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let r = LexRange::parse(&argv[2], &argv[3])?;
    let now = ctx.now;
    let n = read(ctx.db(), &argv[1], now)?.map_or(0, |z| {
        let (lo, hi) = r.ranks(z);
        hi - lo
    });
    ctx.out.int(n as i64);
    Ok(())
}

fn remrange_generic(ctx: &mut Ctx, by: By) -> CmdResult {
    let argv = ctx.argv;
    let bounds = match by {
        By::Score => Bounds::Score(ScoreRange::parse(&argv[2], &argv[3])?),
        By::Lex => Bounds::Lex(LexRange::parse(&argv[2], &argv[3])?),
        _ => Bounds::Rank(int(&argv[2])?, int(&argv[3])?),
    };
    let key = &argv[1][..];
    let now = ctx.now;
    let db = ctx.db();
    let mut removed = 0;
    if let Some(z) = write(db, key, now)? {
        let (s, e) = select(z, &bounds, false, None);
        for (m, _) in z.collect_range(s, e, false) {
            z.remove(&m);
            removed += 1;
        }
    }
    if removed > 0 {
        let emptied = drop_if_empty(db, key, now);
        ctx.dirty(removed);
        ctx.modified(key);
        let event = match by {
            By::Score => "zremrangebyscore",
            By::Lex => "zremrangebylex",
            _ => "zremrangebyrank",
        };
        notify_removed(ctx, key, event, emptied);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

pub(super) fn zremrangebyrank(ctx: &mut Ctx) -> CmdResult {
    remrange_generic(ctx, By::Rank)
}

pub(super) fn zremrangebyscore(ctx: &mut Ctx) -> CmdResult {
    remrange_generic(ctx, By::Score)
}

pub(super) fn zremrangebylex(ctx: &mut Ctx) -> CmdResult {
    remrange_generic(ctx, By::Lex)
}
