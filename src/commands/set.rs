//! Set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP
//! SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
//! SDIFFSTORE SSCAN. The set algebra is in `set/algebra.rs`, SPOP and
//! SRANDMEMBER in `set/random.rs`.
//!
//! Replies follow Valkey 9: whole sets (SMEMBERS, SINTER, SPOP with a count,
//! ...) are RESP3 sets, SRANDMEMBER with a count is an array (it may repeat),
//! SMISMEMBER is an array of integers. Read commands count keyspace hits and
//! misses, write commands (the STORE variants' sources included) do not, as
//! Valkey's lookupKeyRead/lookupKeyWrite split does. Result sets of the
//! STORE commands start as an empty intset and grow through the ordinary
//! add path, so their encodings are the ones Valkey ends up with.

use super::args::{int, is};
use super::flags::*;
use super::{stored, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult, CURSOR, SYNTAX, WRONGTYPE};
use crate::keyspace::set::{Elem, Limits, Member, Set};
use crate::keyspace::{Access, Db, Free, Value};
use crate::resp::ReplyBuf;
use crate::util::glob::glob_match;

mod algebra;
mod random;

use algebra::{sdiff, sdiffstore, sinter, sintercard, sinterstore, sunion, sunionstore};
use random::{spop, srandmember};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sadd",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        group: "set",
        summary: "Adds one or more members to a set. Creates the key if it doesn't exist.",
        since: "1.0.0",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        syntax: "key member [member ...]",
        handler: sadd,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "srem",
        arity: -3,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        group: "set",
        summary: "Removes one or more members from a set. Deletes the set if the last member was removed.",
        since: "1.0.0",
        complexity: "O(N) where N is the number of members to be removed.",
        syntax: "key member [member ...]",
        handler: srem,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smembers",
        arity: 2,
        flags: READONLY,
        keys: KeySpec::ONE,
        group: "set",
        summary: "Returns all members of a set.",
        since: "1.0.0",
        complexity: "O(N) where N is the set cardinality.",
        syntax: "key",
        handler: smembers,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sismember",
        arity: 3,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        group: "set",
        summary: "Determines whether a member belongs to a set.",
        since: "1.0.0",
        complexity: "O(1)",
        syntax: "key member",
        handler: sismember,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smismember",
        arity: -3,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        group: "set",
        summary: "Determines whether multiple members belong to a set.",
        since: "6.2.0",
        complexity: "O(N) where N is the number of elements being checked for membership",
        syntax: "key member [member ...]",
        handler: smismember,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "scard",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        group: "set",
        summary: "Returns the number of members in a set.",
        since: "1.0.0",
        complexity: "O(1)",
        syntax: "key",
        handler: scard,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "spop",
        arity: -2,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        group: "set",
        summary: "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
        since: "1.0.0",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        syntax: "key [count]",
        handler: spop,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "srandmember",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::ONE,
        group: "set",
        summary: "Gets one or multiple random members from a set.",
        since: "1.0.0",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        syntax: "key [count]",
        handler: srandmember,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smove",
        arity: 4,
        flags: WRITE | FAST,
        keys: KeySpec::range(1, 2, 1),
        group: "set",
        summary: "Moves a member from one set to another.",
        since: "1.0.0",
        complexity: "O(1)",
        syntax: "source destination member",
        handler: smove,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sinter",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::range(1, -1, 1),
        group: "set",
        summary: "Returns the intersect of multiple sets.",
        since: "1.0.0",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        syntax: "key [key ...]",
        handler: sinter,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sintercard",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::numkeys(1),
        group: "set",
        summary: "Returns the number of members of the intersect of multiple sets.",
        since: "7.0.0",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        syntax: "numkeys key [key ...] [LIMIT limit]",
        handler: sintercard,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sinterstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, -1, 1),
        group: "set",
        summary: "Stores the intersect of multiple sets in a key.",
        since: "1.0.0",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        syntax: "destination key [key ...]",
        handler: sinterstore,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sunion",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::range(1, -1, 1),
        group: "set",
        summary: "Returns the union of multiple sets.",
        since: "1.0.0",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        syntax: "key [key ...]",
        handler: sunion,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sunionstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, -1, 1),
        group: "set",
        summary: "Stores the union of multiple sets in a key.",
        since: "1.0.0",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        syntax: "destination key [key ...]",
        handler: sunionstore,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sdiff",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::range(1, -1, 1),
        group: "set",
        summary: "Returns the difference of multiple sets.",
        since: "1.0.0",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        syntax: "key [key ...]",
        handler: sdiff,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sdiffstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, -1, 1),
        group: "set",
        summary: "Stores the difference of multiple sets in a key.",
        since: "1.0.0",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        syntax: "destination key [key ...]",
        handler: sdiffstore,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sscan",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::ONE,
        group: "set",
        summary: "Iterates over members of a set.",
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        syntax: "key cursor [MATCH pattern] [COUNT count]",
        handler: sscan,
        ..CommandSpec::DEFAULT
    },
];

// ---------------------------------------------------------------------------
// Helpers

fn limits(ctx: &Ctx) -> Limits {
    let c = ctx.config();
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
    db.lookup(key, now, Access::READ)
        .map(|e| e.value())
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

// ---------------------------------------------------------------------------
// Single-key commands

fn sadd(ctx: &mut Ctx) -> CmdResult {
    let lim = limits(ctx);
    let now = ctx.now;
    let argv = ctx.argv;
    let db = ctx.db();
    let mut added = 0;
    match db
        .lookup(&argv[1], now, Access::WRITE)
        .map(|e| e.value_mut())
    {
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
    if added > 0 {
        ctx.modified(&argv[1]);
    }
    ctx.out.int(added);
    Ok(())
}

fn srem(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let db = ctx.db();
    let mut removed = 0;
    let mut emptied = false;
    if let Some(v) = db
        .lookup(&argv[1], now, Access::WRITE)
        .map(|e| e.value_mut())
    {
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
        db.delete(&argv[1], now, Free::Sync);
    }
    ctx.dirty(removed as u64);
    if removed > 0 {
        ctx.modified(&argv[1]);
    }
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

fn smove(ctx: &mut Ctx) -> CmdResult {
    let lim = limits(ctx);
    let now = ctx.now;
    let argv = ctx.argv;
    let (src, dst, m) = (&argv[1], &argv[2], &argv[3]);
    let db = ctx.db();
    match db.lookup(src, now, Access::WRITE).map(|e| e.value_mut()) {
        None => {
            ctx.out.int(0);
            return Ok(());
        }
        Some(v) => {
            as_set(v)?;
        }
    }
    let dst_exists = match db.lookup(dst, now, Access::WRITE).map(|e| e.value_mut()) {
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
    let (removed, emptied) = match db.lookup(src, now, Access::WRITE).map(|e| e.value_mut()) {
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
        db.delete(src, now, Free::Sync);
    }
    let mut dirty = 1;
    if dst_exists {
        if let Some(v) = db.lookup(dst, now, Access::WRITE).map(|e| e.value_mut()) {
            dirty += as_set_mut(v)?.add(m, &lim) as u64;
        }
    } else {
        let mut s = Set::create(m, 1, &lim);
        s.add(m, &lim);
        db.add(dst, Value::Set(Box::new(s)), now);
        dirty += 1;
    }
    ctx.dirty(dirty);
    ctx.modified(src);
    if dirty > 1 {
        // Added to the destination (it may have held the member already).
        ctx.modified(dst);
    }
    ctx.out.int(1);
    Ok(())
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
