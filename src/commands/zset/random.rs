//! ZRANDMEMBER: random members of a sorted set, distinct (a partial shuffle
//! or rejection sampling over ranks) or with repeats, with or without scores.

use super::*;

const OUT_OF_RANGE: &str = "ERR value is out of range";
const RANDMEMBER_COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// Most elements ZRANDMEMBER with a negative count replies. Valkey has no
/// limit and tries to build whatever was asked (a count near -2^62 never
/// finishes and exhausts memory); we refuse beyond this so one command
/// cannot make the server allocate without bound.
const RANDMEMBER_MAX_REPEATS: u64 = 1 << 24;

pub(super) fn zrandmember(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() > 4 {
        return Err(SYNTAX.into());
    }
    let now = ctx.now;
    if argv.len() == 2 {
        let Parts { db, out, rng, .. } = ctx.parts();
        let z = read(&mut *db, &argv[1], now)?;
        match z.and_then(|z| z.get(rng.below(z.len()))) {
            Some((m, _)) => out.bulk(m),
            None => out.null(),
        }
        return Ok(());
    }
    let withscores = match argv.get(3) {
        Some(a) if is(a, "withscores") => true,
        Some(_) => return Err(SYNTAX.into()),
        None => false,
    };
    let l = int(&argv[2])?;
    if l == i64::MIN {
        return Err(RANDMEMBER_COUNT_RANGE.into());
    }
    if withscores && l < -(i64::MAX / 2) {
        return Err(OUT_OF_RANGE.into());
    }
    if l < 0 && l.unsigned_abs() > RANDMEMBER_MAX_REPEATS {
        return Err(OUT_OF_RANGE.into());
    }
    let Parts { db, out, rng, .. } = ctx.parts();
    let Some(z) = read(&mut *db, &argv[1], now)? else {
        out.array(0);
        return Ok(());
    };
    let len = z.len();
    let nested = out.is_resp3();
    let emit = |out: &mut ReplyBuf, m: &[u8], s: f64| {
        if withscores {
            reply_pair(out, m, s, nested);
        } else {
            out.bulk(m);
        }
    };
    if l < 0 {
        // Repetitions allowed: independent uniform picks.
        let n = l.unsigned_abs() as usize;
        elements_header(out, n, withscores);
        for _ in 0..n {
            if let Some((m, s)) = z.get(rng.below(len)) {
                emit(out, m, s);
            }
        }
        return Ok(());
    }
    let n = l as u64 as usize;
    if n >= len {
        // The whole set, highest first, as Valkey replies it.
        elements_header(out, len, withscores);
        z.for_range(0, len, true, |m, s| emit(out, m, s));
        return Ok(());
    }
    // Distinct ranks: a partial shuffle when many are wanted, rejection
    // sampling when few (both bounded by the set's size).
    let ranks: Vec<usize> = if n * 3 > len {
        let mut all: Vec<usize> = (0..len).collect();
        for k in 0..n {
            let r = k + rng.below(len - k);
            all.swap(k, r);
        }
        all.truncate(n);
        all
    } else {
        let mut seen = hashbrown::HashSet::with_capacity(n);
        let mut v = Vec::with_capacity(n);
        while v.len() < n {
            let r = rng.below(len);
            if seen.insert(r) {
                v.push(r);
            }
        }
        v
    };
    elements_header(out, n, withscores);
    for r in ranks {
        if let Some((m, s)) = z.get(r) {
            emit(out, m, s);
        }
    }
    Ok(())
}
