//! Sorted set algebra: ZUNION, ZINTER, ZDIFF, their STORE forms and
//! ZINTERCARD. Inputs may be sorted sets or plain sets (scores 1); NaN
//! handling of weighted scores follows Valkey's zunionInterDiffGenericCommand.

use super::*;

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Agg {
    Sum,
    Min,
    Max,
}

/// An input of the set algebra: a zset, a plain set (scores 1), or missing.
enum Src<'a> {
    Z(&'a ZSet),
    S(&'a Set),
    Empty,
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
            Src::Empty => 0,
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
            Src::Empty => None,
        }
    }

    fn for_each<'b>(&'b self, mut f: impl FnMut(Cow<'b, [u8]>, f64)) {
        match self {
            Src::Z(z) => z.for_range(0, z.len(), false, |m, s| f(Cow::Borrowed(m), s)),
            Src::S(s) => {
                for m in s.members() {
                    let b = match m {
                        Member::Bytes(b) => Cow::Borrowed(b),
                        Member::Int(n) => Cow::Owned(n.to_string().into_bytes()),
                    };
                    f(b, 1.0);
                }
            }
            Src::Empty => {}
        }
    }
}

/// `numkeys` at `at`: the count, with Valkey's errors for this command.
fn parse_numkeys(ctx: &Ctx, at: usize) -> Result<usize, CmdError> {
    let argv = ctx.argv;
    let n = int(&argv[at])?;
    if n < 1 {
        return Err(CmdError::owned(format!(
            "ERR at least 1 input key is needed for '{}' command",
            ctx.cmd.name
        )));
    }
    if n as u64 > (argv.len() - at - 1) as u64 {
        return Err(SYNTAX.into());
    }
    Ok(n as usize)
}

/// Checks every input key's type (a lookup each, as Valkey's reads do),
/// before any option is parsed.
fn check_inputs(ctx: &mut Ctx, keys: &[Bytes]) -> CmdResult {
    let now = ctx.now;
    let db = ctx.db();
    for k in keys {
        match db
            .lookup(k, now, Access::READ)
            .map(|e| e.value())
            .as_deref()
        {
            None | Some(Value::ZSet(_)) | Some(Value::Set(_)) => {}
            Some(_) => return Err(WRONGTYPE.into()),
        }
    }
    Ok(())
}

/// The inputs, borrowed together (expired keys were removed by
/// `check_inputs`, so the dict holds exactly the live ones).
fn inputs<'a>(db: &'a Db, keys: &[Bytes]) -> Vec<Src<'a>> {
    keys.iter()
        .map(
            |k| match db.table().get(k).and_then(|e| e.value().stored()) {
                Some(Value::ZSet(z)) => Src::Z(z),
                Some(Value::Set(s)) => Src::S(s),
                _ => Src::Empty,
            },
        )
        .collect()
}

/// A NaN from `inf - inf` or `0 * inf` counts as 0, as Valkey does.
fn no_nan(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// Valkey's zunionInterAggregate: the accumulator is never NaN, and a
/// NaN `v` leaves MIN/MAX unchanged (`v < acc` and `v > acc` are false).
fn aggregate(agg: Agg, acc: f64, v: f64) -> f64 {
    match agg {
        Agg::Sum => no_nan(acc + v),
        Agg::Min => {
            if v < acc {
                v
            } else {
                acc
            }
        }
        Agg::Max => {
            if v > acc {
                v
            } else {
                acc
            }
        }
    }
}

/// Computes the result, sorted by (score, member).
fn compute<'a>(
    op: SetOp,
    srcs: &'a [Src<'a>],
    weights: &[f64],
    agg: Agg,
) -> Vec<(Cow<'a, [u8]>, f64)> {
    // Smallest inputs first, as Valkey orders them (it matters for the
    // intersection's work and for the order sums are taken in); DIFF
    // keeps its first input first.
    let mut order: Vec<usize> = (0..srcs.len()).collect();
    if op != SetOp::Diff {
        order.sort_by_key(|&i| srcs[i].len());
    }
    let mut res: Vec<(Cow<'a, [u8]>, f64)> = Vec::new();
    match op {
        SetOp::Union => {
            let mut acc: hashbrown::HashMap<Cow<'a, [u8]>, f64> = hashbrown::HashMap::new();
            for &i in &order {
                let w = weights[i];
                srcs[i].for_each(|m, s| {
                    let v = no_nan(s * w);
                    match acc.get_mut(&m) {
                        Some(a) => *a = aggregate(agg, *a, v),
                        None => {
                            acc.insert(m, v);
                        }
                    }
                });
            }
            res.extend(acc);
        }
        SetOp::Inter => {
            let first = order[0];
            if srcs[first].len() > 0 {
                srcs[first].for_each(|m, s| {
                    let mut v = no_nan(s * weights[first]);
                    for &j in &order[1..] {
                        // Only the first weighted score is cleaned of NaN;
                        // later ones go to the aggregate as they are, as in
                        // Valkey's zunionInterDiffGenericCommand: a SUM then
                        // turns NaN into 0, while MIN/MAX ignore it (a NaN
                        // never compares smaller or larger).
                        match srcs[j].score(&m) {
                            Some(o) => v = aggregate(agg, v, o * weights[j]),
                            None => return,
                        }
                    }
                    res.push((m, v));
                });
            }
        }
        SetOp::Diff => {
            srcs[0].for_each(|m, s| {
                if srcs[1..].iter().all(|o| o.score(&m).is_none()) {
                    res.push((m, s));
                }
            });
        }
    }
    res.sort_by(|a, b| cmp(a.1, &a.0, b.1, &b.0));
    res
}

/// ZUNION/ZINTER/ZDIFF and their STORE forms. `store`: the destination
/// is argv[1] and numkeys argv[2].
fn setop_generic(ctx: &mut Ctx, op: SetOp, store: bool) -> CmdResult {
    let argv = ctx.argv;
    let at = if store { 2 } else { 1 };
    let n = parse_numkeys(ctx, at)?;
    let keys = &argv[at + 1..at + 1 + n];
    check_inputs(ctx, keys)?;
    let mut weights = vec![1.0; n];
    let mut agg = Agg::Sum;
    let mut withscores = false;
    let mut j = at + 1 + n;
    while j < argv.len() {
        let a = &argv[j][..];
        let left = argv.len() - j - 1;
        if op != SetOp::Diff && is(a, "weights") && left >= n {
            for (k, w) in weights.iter_mut().enumerate() {
                *w = parse_score(&argv[j + 1 + k]).ok_or(CmdError::from(WEIGHT_NOT_FLOAT))?;
            }
            j += n;
        } else if op != SetOp::Diff && is(a, "aggregate") && left >= 1 {
            let v = &argv[j + 1];
            agg = if is(v, "sum") {
                Agg::Sum
            } else if is(v, "min") {
                Agg::Min
            } else if is(v, "max") {
                Agg::Max
            } else {
                return Err(SYNTAX.into());
            };
            j += 1;
        } else if !store && is(a, "withscores") {
            withscores = true;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let (db, out) = ctx.db_and_out();
    let srcs = inputs(db, keys);
    let res = compute(op, &srcs, &weights, agg);
    if store {
        // Own the result: the destination may be one of the inputs.
        let owned: Vec<(Vec<u8>, f64)> =
            res.into_iter().map(|(m, s)| (m.into_owned(), s)).collect();
        drop(srcs);
        let event = match op {
            SetOp::Union => "zunionstore",
            SetOp::Inter => "zinterstore",
            SetOp::Diff => "zdiffstore",
        };
        store_result(ctx, &argv[1], &owned, true, event);
    } else {
        reply_elements(out, &res, withscores);
    }
    Ok(())
}

pub(super) fn zunion(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, SetOp::Union, false)
}

pub(super) fn zinter(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, SetOp::Inter, false)
}

pub(super) fn zdiff(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, SetOp::Diff, false)
}

pub(super) fn zunionstore(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, SetOp::Union, true)
}

pub(super) fn zinterstore(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, SetOp::Inter, true)
}

pub(super) fn zdiffstore(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, SetOp::Diff, true)
}

pub(super) fn zintercard(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let n = parse_numkeys(ctx, 1)?;
    let keys = &argv[2..2 + n];
    check_inputs(ctx, keys)?;
    let mut limit = 0usize;
    let mut j = 2 + n;
    while j < argv.len() {
        if is(&argv[j], "limit") && j + 1 < argv.len() {
            let l = int(&argv[j + 1]).map_err(|_| CmdError::from(LIMIT_NEGATIVE))?;
            if l < 0 {
                return Err(LIMIT_NEGATIVE.into());
            }
            limit = l as u64 as usize;
            j += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    let (db, out) = ctx.db_and_out();
    let srcs = inputs(db, keys);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| srcs[i].len());
    let mut count = 0usize;
    let first = &srcs[order[0]];
    // Stops early at the limit: iteration is by callback, so later
    // elements are only skipped, not looked up.
    first.for_each(|m, _| {
        if limit > 0 && count >= limit {
            return;
        }
        if order[1..].iter().all(|&j| srcs[j].score(&m).is_some()) {
            count += 1;
        }
    });
    out.int(count as i64);
    Ok(())
}
