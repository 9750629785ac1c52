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
use super::meta::{acl, arg, ks, Doc, Group};
use super::{stored, CommandSpec, Ctx, KeySpec};
use crate::config::notify;
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
            ctx.notify(notify::NEW, "new", &argv[1]);
        }
    }
    ctx.dirty(added as u64);
    if added > 0 {
        ctx.modified(&argv[1]);
        ctx.notify(notify::SET, "sadd", &argv[1]);
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
        ctx.notify(notify::SET, "srem", &argv[1]);
    }
    if emptied {
        ctx.notify(notify::GENERIC, "del", &argv[1]);
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
    ctx.notify(notify::SET, "srem", src);
    if emptied {
        ctx.notify(notify::GENERIC, "del", src);
    }
    let db = ctx.db();
    let mut dirty = 1;
    if dst_exists {
        if let Some(v) = db.lookup(dst, now, Access::WRITE).map(|e| e.value_mut()) {
            dirty += as_set_mut(v)?.add(m, &lim) as u64;
        }
    } else {
        let mut s = Set::create(m, 1, &lim);
        s.add(m, &lim);
        db.add(dst, Value::Set(Box::new(s)), now);
        ctx.notify(notify::NEW, "new", dst);
        dirty += 1;
    }
    ctx.dirty(dirty);
    ctx.modified(src);
    if dirty > 1 {
        // Added to the destination (it may have held the member already).
        ctx.modified(dst);
        ctx.notify(notify::SET, "sadd", dst);
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
