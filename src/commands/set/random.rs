//! Random members: SPOP and SRANDMEMBER, with or without a count, using
//! Valkey's strategies (and its thresholds) for choosing between random
//! picks and one walk over the set.

use super::*;
use crate::commands::ctx::Parts;
use crate::commands::propagate::{arg, server_del, word};
use crate::util::num::parse_i64;
use bytes::Bytes;

const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
const SRANDMEMBER_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// Valkey's SPOP_MOVE_STRATEGY_MUL: SPOP with a count rebuilds the set from
/// the members it keeps once those are few enough.
const SPOP_MOVE_STRATEGY_MUL: usize = 5;
/// Valkey's SRANDMEMBER_SUB_STRATEGY_MUL: a distinct sample that is a large
/// part of the set is taken in one walk instead of by random picks.
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;
/// Without an output limit, SRANDMEMBER with a huge negative count stops
/// (and closes the client, as an output limit would) past this reply size,
/// since its reply is not bounded by anything stored.
const SRANDMEMBER_MAX_REPLY: usize = 1 << 30;

pub(super) fn spop(ctx: &mut Ctx) -> CmdResult {
    match ctx.argv.len() {
        2 => {}
        3 => return spop_count(ctx),
        _ => return Err(SYNTAX.into()),
    }
    let now = ctx.now;
    let key = &ctx.argv[1];
    let Parts { db, out, rng, .. } = ctx.parts();
    let Some(v) = db.lookup(key, now, Access::WRITE).map(|e| e.value_mut()) else {
        out.null();
        return Ok(());
    };
    let s = as_set_mut(v)?;
    let Some(e) = s.pop_random(&mut *rng) else {
        out.null();
        return Ok(());
    };
    let emptied = s.is_empty();
    reply_member(out, e.as_member());
    if emptied {
        db.delete(key, now, Free::Sync);
    }
    ctx.dirty(1);
    ctx.modified(key);
    ctx.notify(notify::SET, "spop", key);
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    if ctx.propagating() {
        // What was picked, not a new random pick on the replica.
        let member = arg(&e.as_member().to_bytes());
        ctx.rewrite(vec![word("SREM"), arg(key), member]);
    }
    Ok(())
}

fn spop_count(ctx: &mut Ctx) -> CmdResult {
    let count = parse_i64(&ctx.argv[2])
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(CmdError::from(MUST_BE_POSITIVE))?;
    let now = ctx.now;
    let key = &ctx.argv[1];
    // The members popped, for the SREMs that go out instead of SPOP.
    let propagating = ctx.propagating();
    let mut srem: Vec<Bytes> = Vec::new();
    let Parts {
        db,
        out,
        rng,
        config,
    } = ctx.parts();
    let Some(v) = db.lookup(key, now, Access::WRITE).map(|e| e.value_mut()) else {
        out.set(0);
        return Ok(());
    };
    let s = as_set_mut(v)?;
    if count == 0 {
        out.set(0);
        return Ok(());
    }
    let size = s.len();
    if count >= size {
        // Everything goes: reply the set as it is and drop the key.
        reply_set(out, s);
        db.delete(key, now, Free::Sync);
        ctx.dirty(size as u64);
        ctx.modified(key);
        ctx.notify(notify::SET, "spop", key);
        ctx.notify(notify::GENERIC, "del", key);
        if propagating {
            let del = server_del(ctx.config().lazyfree_lazy_server_del);
            ctx.rewrite(vec![del, arg(key)]);
        }
        return Ok(());
    }
    let remaining = size - count;
    if remaining * SPOP_MOVE_STRATEGY_MUL > count || !s.is_hashtable() {
        let popped = s.pop_random_many(count, &mut *rng);
        out.set(popped.len());
        for e in &popped {
            reply_member(out, e.as_member());
        }
        if propagating {
            srem.extend(popped.iter().map(|e| arg(&e.as_member().to_bytes())));
        }
    } else {
        // Few members stay: take those out into a new set (a listpack, as
        // Valkey builds it, so a big table can shrink back to a compact
        // encoding here) and reply what is left in the old one.
        let lim = Limits {
            max_intset_entries: config.set_max_intset_entries as usize,
            max_listpack_entries: config.set_max_listpack_entries as usize,
            max_listpack_value: config.set_max_listpack_value as usize,
        };
        let kept = s.pop_random_many(remaining, &mut *rng);
        let mut fresh = Set::new_listpack();
        for e in &kept {
            fresh.add_member(e.as_member(), &lim);
        }
        reply_set(out, s);
        if propagating {
            srem.extend(s.members().map(|m| arg(&m.to_bytes())));
        }
        let old = std::mem::replace(s, fresh);
        db.discard(Value::Set(Box::new(old)));
    }
    ctx.dirty(count as u64);
    ctx.modified(key);
    ctx.notify(notify::SET, "spop", key);
    if propagating {
        // SREMs of at most 1,024 members each, as Valkey batches them.
        let db = ctx.db_index();
        for batch in srem.chunks(1024) {
            let mut v = Vec::with_capacity(batch.len() + 2);
            v.push(word("SREM"));
            v.push(arg(key));
            v.extend_from_slice(batch);
            ctx.also_propagate(db, v);
        }
        ctx.prevent_propagation();
    }
    Ok(())
}

pub(super) fn srandmember(ctx: &mut Ctx) -> CmdResult {
    match ctx.argv.len() {
        2 => {}
        3 => return srandmember_count(ctx),
        _ => return Err(SYNTAX.into()),
    }
    let now = ctx.now;
    let key = &ctx.argv[1];
    let Parts { db, out, rng, .. } = ctx.parts();
    match read_set(&mut *db, key, now)?.and_then(|s| s.random(&mut *rng)) {
        Some(m) => reply_member(out, m),
        None => out.null(),
    }
    Ok(())
}

fn srandmember_count(ctx: &mut Ctx) -> CmdResult {
    let l = int(&ctx.argv[2])?;
    if l == i64::MIN {
        return Err(SRANDMEMBER_RANGE.into());
    }
    let (count, uniq) = (l.unsigned_abs(), l >= 0);
    let now = ctx.now;
    let key = &ctx.argv[1];
    let Parts {
        db,
        out,
        rng,
        config,
    } = ctx.parts();
    let hard = config.client_output_buffer_limit[0].0 as usize;
    let max_reply = if hard > 0 {
        hard.min(SRANDMEMBER_MAX_REPLY)
    } else {
        SRANDMEMBER_MAX_REPLY
    };
    let rng = &mut *rng;
    let Some(s) = read_set(&mut *db, key, now)? else {
        out.array(0);
        return Ok(());
    };
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    let size = s.len();
    // A listpack has no index: pick from a list of its members instead
    // (bounded by the set, not by the count).
    let index = (s.encoding() == "listpack" && count > 1).then(|| s.to_vec());
    let pick = |rng: &mut crate::util::rng::Rng| match &index {
        Some(v) => v.get(rng.below(v.len())).copied(),
        None => s.random(rng),
    };
    if !uniq || count == 1 {
        // With repeats: exactly `count` picks, streamed, never allocated
        // up front. The reply is not bounded by the data, so a huge count
        // is cut off by the output limit, closing the client.
        let start = out.buf.len();
        out.array(count as usize);
        let mut overflow = false;
        for _ in 0..count {
            if let Some(m) = pick(rng) {
                reply_member(out, m);
            }
            if out.buf.len() - start > max_reply {
                overflow = true;
                break;
            }
        }
        if overflow {
            ctx.close_now();
        }
        return Ok(());
    }
    let count = count as usize;
    if count >= size {
        out.array(size);
        for m in s.members() {
            reply_member(out, m);
        }
        return Ok(());
    }
    if count * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        let sample = s.sample_distinct(count, rng);
        out.array(sample.len());
        for m in sample {
            reply_member(out, m);
        }
        return Ok(());
    }
    // A small part of the set: random picks until enough distinct ones
    // (count < size / 3, so few picks repeat).
    let mut seen: hashbrown::HashSet<Member<'_>> = hashbrown::HashSet::with_capacity(count);
    let mut order = Vec::with_capacity(count);
    while order.len() < count {
        match pick(rng) {
            Some(m) => {
                if seen.insert(m) {
                    order.push(m);
                }
            }
            None => break,
        }
    }
    out.array(order.len());
    for m in order {
        reply_member(out, m);
    }
    Ok(())
}
