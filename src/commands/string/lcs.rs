//! LCS: the longest common subsequence of two strings, as text, length,
//! or matching ranges (IDX, MINMATCHLEN, WITHMATCHLEN), in Valkey's order.

use super::*;

/// One matching range of LCS IDX: positions in a and b, inclusive.
struct Match {
    a: (u32, u32),
    b: (u32, u32),
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]
pub(super) fn lcs(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let max_bulk = ctx.config().proto_max_bulk_len as u64;
    let db = ctx.db();
    // Both keys are looked up (and counted) before either is checked.
    let a = db
        .lookup(&argv[1], now, Access::READ)
        .map(|e| as_str(e).map(|s| s.to_bytes().into_owned()));
    let b = db
        .lookup(&argv[2], now, Access::READ)
        .map(|e| as_str(e).map(|s| s.to_bytes().into_owned()));
    let (a, b) = match (a.transpose(), b.transpose()) {
        (Ok(a), Ok(b)) => (a.unwrap_or_default(), b.unwrap_or_default()),
        _ => return Err(LCS_NOT_STRINGS.into()),
    };
    let (mut want_len, mut want_idx, mut with_len, mut min_len) = (false, false, false, 0i64);
    let mut i = 3;
    while i < argv.len() {
        let o = &argv[i];
        if is(o, "idx") {
            want_idx = true;
        } else if is(o, "len") {
            want_len = true;
        } else if is(o, "withmatchlen") {
            with_len = true;
        } else if is(o, "minmatchlen") && i + 1 < argv.len() {
            min_len = int(&argv[i + 1])?.max(0);
            i += 1;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if want_len && want_idx {
        return Err(LCS_LEN_AND_IDX.into());
    }
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(LCS_TOO_LONG.into());
    }
    let (alen, blen) = (a.len(), b.len());
    let w = blen + 1;
    // The table is client-sized: bounded by proto-max-bulk-len as in Valkey.
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.checked_mul(4).is_none_or(|bytes| bytes > max_bulk) {
        return Err(LCS_MEMORY_LIMIT.into());
    }
    let mut t: Vec<u32> = Vec::new();
    t.try_reserve_exact(cells as usize)
        .map_err(|_| CmdError::from(LCS_ALLOC_FAILED))?;
    t.resize(cells as usize, 0);
    // t[i*w + j]: LCS length of a[..i] and b[..j].
    for i in 1..=alen {
        for j in 1..=blen {
            t[i * w + j] = if a[i - 1] == b[j - 1] {
                t[(i - 1) * w + j - 1] + 1
            } else {
                t[(i - 1) * w + j].max(t[i * w + j - 1])
            };
        }
    }
    let total = t[alen * w + blen];
    // Walk back from the end, collecting the LCS and its contiguous runs.
    let mut text = Vec::new();
    let mut matches = Vec::new();
    if want_idx || !want_len {
        let _ = text.try_reserve_exact(total as usize);
        let (mut i, mut j) = (alen, blen);
        let mut run: Option<Match> = None;
        while i > 0 && j > 0 {
            let mut emit = false;
            if a[i - 1] == b[j - 1] {
                text.push(a[i - 1]);
                let (ai, bj) = ((i - 1) as u32, (j - 1) as u32);
                match &mut run {
                    None => {
                        run = Some(Match {
                            a: (ai, ai),
                            b: (bj, bj),
                        })
                    }
                    Some(r) if r.a.0 == ai + 1 && r.b.0 == bj + 1 => {
                        r.a.0 = ai;
                        r.b.0 = bj;
                    }
                    Some(_) => emit = true,
                }
                if run.as_ref().is_some_and(|r| r.a.0 == 0 || r.b.0 == 0) {
                    emit = true;
                }
                i -= 1;
                j -= 1;
            } else {
                if t[(i - 1) * w + j] > t[i * w + j - 1] {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit = run.is_some();
            }
            if emit {
                if let Some(r) = run.take() {
                    let len = (r.a.1 - r.a.0 + 1) as i64;
                    if want_idx && (min_len == 0 || len >= min_len) {
                        matches.push(r);
                    }
                }
            }
        }
        text.reverse();
    }
    let out = &mut *ctx.out;
    if want_idx {
        out.map(2);
        out.bulk(b"matches");
        out.array(matches.len());
        for m in &matches {
            out.array(if with_len { 3 } else { 2 });
            out.array(2);
            out.int(m.a.0 as i64);
            out.int(m.a.1 as i64);
            out.array(2);
            out.int(m.b.0 as i64);
            out.int(m.b.1 as i64);
            if with_len {
                out.int((m.a.1 - m.a.0 + 1) as i64);
            }
        }
        out.bulk(b"len");
        out.int(total as i64);
    } else if want_len {
        out.int(total as i64);
    } else {
        out.bulk(&text);
    }
    Ok(())
}
