//! Set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP
//! SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
//! SDIFFSTORE SSCAN.
//!
//! Replies follow Valkey 9: whole sets (SMEMBERS, SINTER, SPOP with a count,
//! ...) are RESP3 sets, SRANDMEMBER with a count is an array (it may repeat),
//! SMISMEMBER is an array of integers. Read commands count keyspace hits and
//! misses, write commands (the STORE variants' sources included) do not, as
//! Valkey's lookupKeyRead/lookupKeyWrite split does. Result sets of the
//! STORE commands start as an empty intset and grow through the ordinary
//! add path, so their encodings are the ones Valkey ends up with.

use bytes::Bytes;

use super::args::{int, is};
use super::flags::*;
use super::meta::{acl, arg, ks, Doc, Group};
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult, CURSOR, SYNTAX, WRONGTYPE};
use crate::keyspace::glob::glob_match;
use crate::keyspace::set::{Elem, Limits, Member, Set};
use crate::keyspace::{Db, Value};
use crate::resp::parser::parse_i64;
use crate::resp::ReplyBuf;

const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
const SRANDMEMBER_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
const NUMKEYS_POSITIVE: &str = "ERR numkeys should be greater than 0";
const NUMKEYS_TOO_MANY: &str = "ERR Number of keys can't be greater than number of args";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";

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

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sadd",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: sadd,
        subcommands: &[],
        doc: &Doc {
            summary: "Adds members to a set, creating it if needed.",
            complexity: "O(N) for N elements added.",
            key_specs: &[ks::one(1, ks::RW | ks::INSERT)],
            args: &[arg::key("key", 0), arg::string("member").multiple()],
            history: &[("2.4.0", "Takes several members.")],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "srem",
        arity: -3,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: srem,
        subcommands: &[],
        doc: &Doc {
            summary: "Deletes members from a set; an emptied set goes away.",
            complexity: "O(N), N members removed.",
            key_specs: &[ks::one(1, ks::RW | ks::DELETE)],
            args: &[arg::key("key", 0), arg::string("member").multiple()],
            history: &[("2.4.0", "Takes several members.")],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "smembers",
        arity: 2,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: smembers,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets every member of a set.",
            complexity: "O(N), N members.",
            tips: &["nondeterministic_output_order"],
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "sismember",
        arity: 3,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: sismember,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells whether a value is in a set.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO)],
            args: &[arg::key("key", 0), arg::string("member")],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "smismember",
        arity: -3,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: smismember,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells, for each of several values, whether it is in a set.",
            complexity: "O(N), N values checked.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), arg::string("member").multiple()],
            ..Doc::new(Group::Set, "6.2.0", acl::SET)
        },
    },
    CommandSpec {
        name: "scard",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: scard,
        subcommands: &[],
        doc: &Doc {
            summary: "Counts a set's members.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "spop",
        arity: -2,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: spop,
        subcommands: &[],
        doc: &Doc {
            summary: "Removes and replies random members of a set.",
            complexity: "O(1), or O(N) with a count of N.",
            tips: &["nondeterministic_output"],
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[
                arg::key("key", 0),
                arg::integer("count").since("3.2.0").optional(),
            ],
            history: &[("3.2.0", "The count argument.")],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "srandmember",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: srandmember,
        subcommands: &[],
        doc: &Doc {
            summary: "Picks random members of a set without removing them.",
            complexity: "O(1), or O(N) with a count of N (or -N).",
            tips: &["nondeterministic_output"],
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::integer("count").since("2.6.0").optional(),
            ],
            history: &[("2.6.0", "The count argument.")],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "smove",
        arity: 4,
        flags: WRITE | FAST,
        keys: KeySpec::range(1, 2, 1),
        handler: smove,
        subcommands: &[],
        doc: &Doc {
            summary: "Transfers a member from one set to another.",
            complexity: "O(1)",
            key_specs: &[
                ks::one(1, ks::RW | ks::ACCESS | ks::DELETE),
                ks::one(2, ks::RW | ks::INSERT),
            ],
            args: &[
                arg::key("source", 0),
                arg::key("destination", 1),
                arg::string("member"),
            ],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "sinter",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::range(1, -1, 1),
        handler: sinter,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the members common to several sets.",
            complexity: "O(N*M) at worst: N members in the smallest of M sets.",
            tips: &["nondeterministic_output_order"],
            key_specs: &[ks::range(1, -1, 1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0).multiple()],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "sintercard",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::numkeys(1),
        handler: sintercard,
        subcommands: &[],
        doc: &Doc {
            summary: "Counts the members common to several sets.",
            complexity: "O(N*M) at worst: N members in the smallest of M sets.",
            key_specs: &[ks::keynum(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::integer("numkeys"),
                arg::key("key", 0).multiple(),
                arg::integer("limit").token("LIMIT").optional(),
            ],
            ..Doc::new(Group::Set, "7.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "sinterstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, -1, 1),
        handler: sinterstore,
        subcommands: &[],
        doc: &Doc {
            summary: "Stores the members common to several sets.",
            complexity: "O(N*M) at worst: N members in the smallest of M sets.",
            key_specs: &[
                ks::one(1, ks::OW | ks::UPDATE),
                ks::range(2, -1, 1, ks::RO | ks::ACCESS),
            ],
            args: &[arg::key("destination", 0), arg::key("key", 1).multiple()],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "sunion",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::range(1, -1, 1),
        handler: sunion,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the members of any of several sets.",
            complexity: "O(N), N members in all the sets together.",
            tips: &["nondeterministic_output_order"],
            key_specs: &[ks::range(1, -1, 1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0).multiple()],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "sunionstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, -1, 1),
        handler: sunionstore,
        subcommands: &[],
        doc: &Doc {
            summary: "Stores the members of any of several sets.",
            complexity: "O(N), N members in all the sets together.",
            key_specs: &[
                ks::one(1, ks::OW | ks::UPDATE),
                ks::range(2, -1, 1, ks::RO | ks::ACCESS),
            ],
            args: &[arg::key("destination", 0), arg::key("key", 1).multiple()],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "sdiff",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::range(1, -1, 1),
        handler: sdiff,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the members of the first set missing from the others.",
            complexity: "O(N), N members in all the sets together.",
            tips: &["nondeterministic_output_order"],
            key_specs: &[ks::range(1, -1, 1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0).multiple()],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "sdiffstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, -1, 1),
        handler: sdiffstore,
        subcommands: &[],
        doc: &Doc {
            summary: "Stores the members of the first set missing from the others.",
            complexity: "O(N), N members in all the sets together.",
            key_specs: &[
                ks::one(1, ks::OW | ks::UPDATE),
                ks::range(2, -1, 1, ks::RO | ks::ACCESS),
            ],
            args: &[arg::key("destination", 0), arg::key("key", 1).multiple()],
            ..Doc::new(Group::Set, "1.0.0", acl::SET)
        },
    },
    CommandSpec {
        name: "sscan",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: sscan,
        subcommands: &[],
        doc: &Doc {
            summary: "Walks a set's members a batch at a time.",
            complexity: "O(1) per call; O(N) for a whole walk over N elements.",
            tips: &["nondeterministic_output"],
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::integer("cursor"),
                arg::pattern("pattern").token("MATCH").optional(),
                arg::integer("count").token("COUNT").optional(),
            ],
            ..Doc::new(Group::Set, "2.8.0", acl::SET)
        },
    },
];

// ---------------------------------------------------------------------------
// Helpers

fn limits(ctx: &Ctx) -> Limits {
    let c = &ctx.state.config;
    Limits {
        max_intset_entries: c.set_max_intset_entries as usize,
        max_listpack_entries: c.set_max_listpack_entries as usize,
        max_listpack_value: c.set_max_listpack_value as usize,
    }
}

#[allow(unreachable_patterns)]
fn as_set(v: &Value) -> Result<&Set, CmdError> {
    match v {
        Value::Set(s) => Ok(s),
        _ => Err(WRONGTYPE.into()),
    }
}

#[allow(unreachable_patterns)]
fn as_set_mut(v: &mut Value) -> Result<&mut Set, CmdError> {
    match v {
        Value::Set(s) => Ok(s),
        _ => Err(WRONGTYPE.into()),
    }
}

/// The set at `key` for reading (hits and misses counted).
fn read_set<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Result<Option<&'a Set>, CmdError> {
    db.get(key, now)
        .map(|v| super::stored(v).and_then(as_set))
        .transpose()
}

fn reply_member(out: &mut ReplyBuf, m: Member<'_>) {
    match m {
        Member::Int(n) => out.bulk_int(n),
        Member::Bytes(b) => out.bulk(b),
    }
}

/// Replies a whole set as a RESP3 set (an array in RESP2).
fn reply_set(out: &mut ReplyBuf, s: &Set) {
    out.set(s.len());
    for m in s.members() {
        reply_member(out, m);
    }
}

/// Looks every key up, failing with WRONGTYPE if any holds another type
/// (missing keys are empty sets). Expired keys are removed here, so the
/// borrowed lookups of `sets_of` that follow see only live keys.
fn check_sets(db: &mut Db, keys: &[Bytes], now: i64, write: bool) -> CmdResult {
    for k in keys {
        if write {
            if let Some(v) = db.get_mut_value(k, now) {
                as_set(v)?;
            }
        } else if let Some(v) = db.get(k, now) {
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

/// Stores `res` at `dst` (deleting `dst` when empty) and replies its size.
fn store(ctx: &mut Ctx, dst: &[u8], res: Set) {
    let now = ctx.now;
    let n = res.len();
    let db = ctx.db();
    if n == 0 {
        if db.delete(dst, now) {
            ctx.dirty(1);
        }
    } else {
        db.set(dst, Value::Set(Box::new(res)), false, now);
        ctx.dirty(1);
    }
    ctx.out.int(n as i64);
}

// ---------------------------------------------------------------------------
// Single-key commands

fn sadd(ctx: &mut Ctx) -> CmdResult {
    let lim = limits(ctx);
    let now = ctx.now;
    let argv = ctx.argv;
    let db = ctx.db();
    let mut added = 0;
    match db.get_mut_value(&argv[1], now) {
        Some(v) => {
            let s = as_set_mut(v)?;
            s.maybe_convert(argv.len() - 2, &lim);
            for m in &argv[2..] {
                added += s.add(m, &lim) as i64;
            }
        }
        None => {
            let mut s = Set::create(&argv[2], argv.len() - 2, &lim);
            for m in &argv[2..] {
                added += s.add(m, &lim) as i64;
            }
            db.add(&argv[1], Value::Set(Box::new(s)), now);
        }
    }
    ctx.dirty(added as u64);
    ctx.out.int(added);
    Ok(())
}

fn srem(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let db = ctx.db();
    let mut removed = 0;
    let mut emptied = false;
    if let Some(v) = db.get_mut_value(&argv[1], now) {
        let s = as_set_mut(v)?;
        for m in &argv[2..] {
            removed += s.remove(m) as i64;
            if s.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if emptied {
        db.delete(&argv[1], now);
    }
    ctx.dirty(removed as u64);
    ctx.out.int(removed);
    Ok(())
}

fn smembers(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    match read_set(db, &argv[1], now)? {
        Some(s) => reply_set(out, s),
        None => out.set(0),
    }
    Ok(())
}

fn sismember(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    let hit = read_set(db, &argv[1], now)?.is_some_and(|s| s.contains(&argv[2]));
    out.int(hit as i64);
    Ok(())
}

fn smismember(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    let s = read_set(db, &argv[1], now)?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        out.int(s.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

fn scard(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    let n = read_set(db, &argv[1], now)?.map_or(0, |s| s.len());
    out.int(n as i64);
    Ok(())
}

fn spop(ctx: &mut Ctx) -> CmdResult {
    match ctx.argv.len() {
        2 => {}
        3 => return spop_count(ctx),
        _ => return Err(SYNTAX.into()),
    }
    let now = ctx.now;
    let key = &ctx.argv[1];
    let i = ctx.client_ref().db;
    let state = &mut *ctx.state;
    let db = &mut state.dbs[i];
    let Some(v) = db.get_mut_value(key, now) else {
        ctx.out.null();
        return Ok(());
    };
    let s = as_set_mut(v)?;
    let Some(e) = s.pop_random(&mut state.rng) else {
        ctx.out.null();
        return Ok(());
    };
    let emptied = s.is_empty();
    reply_member(ctx.out, e.as_member());
    if emptied {
        db.delete(key, now);
    }
    state.dirty += 1;
    Ok(())
}

fn spop_count(ctx: &mut Ctx) -> CmdResult {
    let count = parse_i64(&ctx.argv[2])
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(CmdError::from(MUST_BE_POSITIVE))?;
    let now = ctx.now;
    let key = &ctx.argv[1];
    let i = ctx.client_ref().db;
    let state = &mut *ctx.state;
    let db = &mut state.dbs[i];
    let out = &mut *ctx.out;
    let Some(v) = db.get_mut_value(key, now) else {
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
        db.delete(key, now);
        state.dirty += size as u64;
        return Ok(());
    }
    let remaining = size - count;
    if remaining * SPOP_MOVE_STRATEGY_MUL > count || !s.is_hashtable() {
        let popped = s.pop_random_many(count, &mut state.rng);
        out.set(popped.len());
        for e in &popped {
            reply_member(out, e.as_member());
        }
    } else {
        // Few members stay: take those out into a new set (a listpack, as
        // Valkey builds it, so a big table can shrink back to a compact
        // encoding here) and reply what is left in the old one.
        let lim = Limits {
            max_intset_entries: state.config.set_max_intset_entries as usize,
            max_listpack_entries: state.config.set_max_listpack_entries as usize,
            max_listpack_value: state.config.set_max_listpack_value as usize,
        };
        let kept = s.pop_random_many(remaining, &mut state.rng);
        let mut fresh = Set::new_listpack();
        for e in &kept {
            fresh.add_member(e.as_member(), &lim);
        }
        reply_set(out, s);
        let old = std::mem::replace(s, fresh);
        db.discard(Value::Set(Box::new(old)));
    }
    state.dirty += count as u64;
    Ok(())
}

fn srandmember(ctx: &mut Ctx) -> CmdResult {
    match ctx.argv.len() {
        2 => {}
        3 => return srandmember_count(ctx),
        _ => return Err(SYNTAX.into()),
    }
    let now = ctx.now;
    let key = &ctx.argv[1];
    let i = ctx.client_ref().db;
    let state = &mut *ctx.state;
    match read_set(&mut state.dbs[i], key, now)?.and_then(|s| s.random(&mut state.rng)) {
        Some(m) => reply_member(ctx.out, m),
        None => ctx.out.null(),
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
    let i = ctx.client_ref().db;
    let me = ctx.client_ref().id;
    let state = &mut *ctx.state;
    let out = &mut *ctx.out;
    let hard = state.config.client_output_buffer_limit[0].0 as usize;
    let max_reply = if hard > 0 {
        hard.min(SRANDMEMBER_MAX_REPLY)
    } else {
        SRANDMEMBER_MAX_REPLY
    };
    let rng = &mut state.rng;
    let Some(s) = read_set(&mut state.dbs[i], key, now)? else {
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
    let pick = |rng: &mut crate::keyspace::dict::Rng| match &index {
        Some(v) => v.get(rng.below(v.len())).copied(),
        None => s.random(rng),
    };
    if !uniq || count == 1 {
        // With repeats: exactly `count` picks, streamed, never allocated
        // up front. The reply is not bounded by the data, so a huge count
        // is cut off by the output limit, closing the client.
        let start = out.buf.len();
        out.array(count as usize);
        for _ in 0..count {
            if let Some(m) = pick(rng) {
                reply_member(out, m);
            }
            if out.buf.len() - start > max_reply {
                state.kills.push(me);
                break;
            }
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

fn smove(ctx: &mut Ctx) -> CmdResult {
    let lim = limits(ctx);
    let now = ctx.now;
    let argv = ctx.argv;
    let (src, dst, m) = (&argv[1], &argv[2], &argv[3]);
    let db = ctx.db();
    match db.get_mut_value(src, now) {
        None => {
            ctx.out.int(0);
            return Ok(());
        }
        Some(v) => {
            as_set(v)?;
        }
    }
    let dst_exists = match db.get_mut_value(dst, now) {
        Some(v) => {
            as_set(v)?;
            true
        }
        None => false,
    };
    if src == dst {
        let hit = read_set(db, src, now)?.is_some_and(|s| s.contains(m));
        ctx.out.int(hit as i64);
        return Ok(());
    }
    let (removed, emptied) = match db.get_mut_value(src, now) {
        Some(v) => {
            let s = as_set_mut(v)?;
            (s.remove(m), s.is_empty())
        }
        None => (false, false),
    };
    if !removed {
        ctx.out.int(0);
        return Ok(());
    }
    if emptied {
        db.delete(src, now);
    }
    let mut dirty = 1;
    if dst_exists {
        if let Some(v) = db.get_mut_value(dst, now) {
            dirty += as_set_mut(v)?.add(m, &lim) as u64;
        }
    } else {
        let mut s = Set::create(m, 1, &lim);
        s.add(m, &lim);
        db.add(dst, Value::Set(Box::new(s)), now);
        dirty += 1;
    }
    ctx.dirty(dirty);
    ctx.out.int(1);
    Ok(())
}

// ---------------------------------------------------------------------------
// Multi-key commands

fn sinter(ctx: &mut Ctx) -> CmdResult {
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

fn sinterstore(ctx: &mut Ctx) -> CmdResult {
    let lim = limits(ctx);
    let now = ctx.now;
    let argv = ctx.argv;
    let keys = &argv[2..];
    let db = ctx.db();
    check_sets(db, keys, now, true)?;
    let mut res = Set::new_intset();
    if let Some(sets) = sets_of(db, keys).into_iter().collect::<Option<Vec<&Set>>>() {
        intersect(&sets, |m| {
            res.add_member(m, &lim);
            true
        });
    }
    store(ctx, &argv[1], res);
    Ok(())
}

fn sintercard(ctx: &mut Ctx) -> CmdResult {
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
    check_sets(db, keys, now, true)?;
    let res = union_diff(db, keys, op, &lim);
    store(ctx, &argv[1], res);
    Ok(())
}

fn sunion(ctx: &mut Ctx) -> CmdResult {
    union_diff_reply(ctx, Op::Union)
}

fn sdiff(ctx: &mut Ctx) -> CmdResult {
    union_diff_reply(ctx, Op::Diff)
}

fn sunionstore(ctx: &mut Ctx) -> CmdResult {
    union_diff_store(ctx, Op::Union)
}

fn sdiffstore(ctx: &mut Ctx) -> CmdResult {
    union_diff_store(ctx, Op::Diff)
}

// ---------------------------------------------------------------------------
// SSCAN

fn sscan(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let cursor = crate::commands::args::scan_cursor(&argv[2]).ok_or(CmdError::from(CURSOR))?;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    // As Valkey: a missing key replies an empty scan before the options
    // are even looked at.
    let Some(s) = read_set(db, &argv[1], now)? else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let opts = super::args::scan_opts(argv, 3, super::args::ScanKind::Set)?;
    let (count, pattern) = (opts.count, opts.pattern);
    let mut buf = Vec::new();
    let mut keep = |m: Member<'_>| match pattern {
        Some(p) => {
            buf.clear();
            m.write_to(&mut buf);
            glob_match(p, &buf, false)
        }
        None => true,
    };
    let mut found: Vec<Elem> = Vec::new();
    let mut cursor = cursor;
    if s.is_hashtable() {
        // The count bounds the work (buckets visited, members sampled),
        // never an allocation. Members are copied out (inline when short)
        // because the table lends them for one step only.
        let mut sampled: i64 = 0;
        let mut steps_left = count.saturating_mul(10);
        loop {
            cursor = s.scan(cursor, |m| {
                sampled += 1;
                if keep(m) {
                    found.push(m.to_owned());
                }
            });
            steps_left -= 1;
            if cursor == 0 || steps_left <= 0 || sampled >= count {
                break;
            }
        }
    } else {
        found.extend(s.members().filter(|m| keep(*m)).map(|m| m.to_owned()));
        cursor = 0;
    }
    out.array(2);
    out.bulk(cursor.to_string().as_bytes());
    out.array(found.len());
    for e in &found {
        reply_member(out, e.as_member());
    }
    Ok(())
}
