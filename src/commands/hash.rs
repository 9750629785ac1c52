//! Hash commands: HSET and friends, HGET/HMGET/HGETALL/HKEYS/HVALS, the
//! HINCRBY pair, HRANDFIELD and HSCAN.
//!
//! Values are `keyspace::hash::Hash` (`listpack` while small, `hashtable`
//! beyond, never back). Argument checks come in Valkey's order (the
//! increment before the key lookup, for instance) so the same bad command
//! gets the same error. Read paths use `Access::READ` (hit/miss accounting),
//! write paths `Access::WRITE`/`PEEK` (none), as Valkey's
//! lookupKeyRead/lookupKeyWrite do.
//!
//! Fields with a TTL whose time passed (`hash_ttl.rs` sets them) read as
//! absent everywhere here except HLEN, which counts them until the active
//! cycle removes them, as Valkey's does. A write over such a field counts
//! as new and reports it `hexpired`.

use bytes::Bytes;

use super::args::{int, is};
use super::flags::*;
use super::meta::{acl, arg, ks, Doc, Group};
use super::propagate::{arg, word};
use super::{CommandSpec, Ctx, KeySpec};
use crate::commands::ctx::Parts;
use crate::config::notify;
use crate::error::{
    wrong_arity, CmdError, CmdResult, CURSOR, INCR_NAN_OR_INF, NOT_FLOAT, OVERFLOW, SYNTAX,
    WRONGTYPE,
};
use crate::keyspace::hash::{Hash, Limits, Put, Ttl};
use crate::keyspace::{Access, Bytes24, Db, Free, Value};
use crate::resp::ReplyBuf;
use crate::util::glob::glob_match;
use crate::util::long_double::{self, Parsed};
use crate::util::num::parse_i64;
use crate::util::rng::Rng;

const HASH_NOT_INTEGER: &str = "ERR hash value is not an integer";
const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
const INCR_NOT_FINITE: &str = "ERR value is NaN or Infinity";
const OUT_OF_RANGE: &str = "ERR value is out of range";
const RANDFIELD_COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// Most elements HRANDFIELD with a negative count replies (values count
/// too). Valkey has no limit and builds whatever reply was asked for (a
/// count near -2^62 makes it run out of memory); we refuse beyond this so
/// a single command cannot make the server allocate without bound.
const RANDFIELD_MAX_REPEATS: u64 = 1 << 24;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "hset",
        arity: -4,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: hset,
        subcommands: &[],
        doc: &Doc {
            summary: "Sets fields of a hash, creating it if needed.",
            complexity: "O(N) for N fields set.",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::block("data", &[arg::string("field"), arg::string("value")]).multiple(),
            ],
            history: &[("4.0.0", "Takes several field/value pairs.")],
            ..Doc::new(Group::Hash, "2.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hsetnx",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: hsetnx,
        subcommands: &[],
        doc: &Doc {
            summary: "Sets a hash field only if it is not there yet.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::INSERT)],
            args: &[
                arg::key("key", 0),
                arg::string("field"),
                arg::string("value"),
            ],
            ..Doc::new(Group::Hash, "2.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hmset",
        arity: -4,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: hmset,
        subcommands: &[],
        doc: &Doc {
            summary: "Sets fields of a hash (older form of HSET).",
            complexity: "O(N), N fields set.",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::block("data", &[arg::string("field"), arg::string("value")]).multiple(),
            ],
            ..Doc::new(Group::Hash, "2.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hget",
        arity: 3,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: hget,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets a hash field's value.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), arg::string("field")],
            ..Doc::new(Group::Hash, "2.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hmget",
        arity: -3,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: hmget,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the values of several hash fields.",
            complexity: "O(N), N fields asked for.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), arg::string("field").multiple()],
            ..Doc::new(Group::Hash, "2.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hgetall",
        arity: 2,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: hgetall,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets every field of a hash with its value.",
            complexity: "O(N), N fields in the hash.",
            tips: &["nondeterministic_output_order"],
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::Hash, "2.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hdel",
        arity: -3,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: hdel,
        subcommands: &[],
        doc: &Doc {
            summary: "Removes fields from a hash; an emptied hash goes away.",
            complexity: "O(N), N fields removed.",
            key_specs: &[ks::one(1, ks::RW | ks::DELETE)],
            args: &[arg::key("key", 0), arg::string("field").multiple()],
            history: &[("2.4.0", "Takes several fields.")],
            ..Doc::new(Group::Hash, "2.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hexists",
        arity: 3,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: hexists,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells whether a hash has a field.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO)],
            args: &[arg::key("key", 0), arg::string("field")],
            ..Doc::new(Group::Hash, "2.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hlen",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: hlen,
        subcommands: &[],
        doc: &Doc {
            summary: "Counts a hash's fields.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::Hash, "2.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hstrlen",
        arity: 3,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: hstrlen,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells the length of a hash field's value.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO)],
            args: &[arg::key("key", 0), arg::string("field")],
            ..Doc::new(Group::Hash, "3.2.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hkeys",
        arity: 2,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: hkeys,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets a hash's field names.",
            complexity: "O(N), N fields in the hash.",
            tips: &["nondeterministic_output_order"],
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::Hash, "2.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hvals",
        arity: 2,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: hvals,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets a hash's values.",
            complexity: "O(N), N fields in the hash.",
            tips: &["nondeterministic_output_order"],
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::Hash, "2.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hincrby",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: hincrby,
        subcommands: &[],
        doc: &Doc {
            summary: "Adds an integer to a hash field (a missing field counts as 0).",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::string("field"),
                arg::integer("increment"),
            ],
            ..Doc::new(Group::Hash, "2.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hincrbyfloat",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: hincrbyfloat,
        subcommands: &[],
        doc: &Doc {
            summary: "Adds a decimal number to a hash field (a missing field counts as 0).",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::string("field"),
                arg::double("increment"),
            ],
            ..Doc::new(Group::Hash, "2.6.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hrandfield",
        arity: -2,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: hrandfield,
        subcommands: &[],
        doc: &Doc {
            summary: "Picks random fields of a hash.",
            complexity: "O(N), N fields replied.",
            tips: &["nondeterministic_output"],
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::block(
                    "options",
                    &[
                        arg::integer("count"),
                        arg::pure("withvalues", "WITHVALUES").optional(),
                    ],
                )
                .optional(),
            ],
            ..Doc::new(Group::Hash, "6.2.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hscan",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: hscan,
        subcommands: &[],
        doc: &Doc {
            summary: "Walks a hash's fields and values a batch at a time.",
            complexity: "O(1) per call; O(N) for a whole walk over N elements.",
            tips: &["nondeterministic_output"],
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::integer("cursor"),
                arg::pattern("pattern").token("MATCH").optional(),
                arg::integer("count").token("COUNT").optional(),
                arg::pure("novalues", "NOVALUES").optional(),
            ],
            ..Doc::new(Group::Hash, "2.8.0", acl::HASH)
        },
    },
];

// ---------------------------------------------------------------------------
// Lookups

/// The hash in a value, or WRONGTYPE.
pub fn as_hash(v: &Value) -> Result<&Hash, CmdError> {
    match v {
        Value::Hash(h) => Ok(h),
        _ => Err(WRONGTYPE.into()),
    }
}

/// The hash at `key` for reading (counts a hit or miss): Ok(None) if missing.
pub fn get_hash<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Result<Option<&'a Hash>, CmdError> {
    db.lookup(key, now, Access::READ)
        .map(|e| e.value())
        .map(|v| super::stored(v).and_then(as_hash))
        .transpose()
}

/// The hash at `key` for writing: None if missing, WRONGTYPE if another type.
fn hash_mut<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Result<Option<&'a mut Hash>, CmdError> {
    match db.lookup(key, now, Access::WRITE).map(|e| e.value_mut()) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(WRONGTYPE.into()),
    }
}

/// The hash at `key` for writing, created empty if missing (the caller
/// always adds to it, so no empty hash is left behind).
fn hash_or_create<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Result<&'a mut Hash, CmdError> {
    match db.lookup(key, now, Access::PEEK) {
        Some(e) => {
            super::stored(e.value()).and_then(as_hash)?;
        }
        None => db.add(key, Value::Hash(Hash::default()), now),
    }
    hash_mut(db, key, now)?.ok_or(CmdError::from(WRONGTYPE))
}

pub(super) fn limits(ctx: &Ctx) -> Limits {
    Limits {
        max_entries: ctx.config().hash_max_listpack_entries,
        max_value: ctx.config().hash_max_listpack_value,
    }
}

// ---------------------------------------------------------------------------
// Writes

fn hset(ctx: &mut Ctx) -> CmdResult {
    hset_generic(ctx, "hset")
}

fn hmset(ctx: &mut Ctx) -> CmdResult {
    hset_generic(ctx, "hmset")
}

/// HSET and HMSET: the pairs are checked before the key is looked at.
fn hset_generic(ctx: &mut Ctx, name: &str) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() % 2 == 1 {
        return Err(wrong_arity(name));
    }
    let lim = limits(ctx);
    let now = ctx.now;
    ctx.notify_if_new(&argv[1]);
    let (db, out) = ctx.db_and_out();
    let loading = db.loading();
    let h = hash_or_create(db, &argv[1], now)?;
    let pairs = (argv.len() - 2) / 2;
    h.prepare_for(pairs, argv[2..].iter().map(|a| &a[..]), lim);
    let (mut created, mut revived) = (0, 0);
    if h.has_volatile_fields() {
        let clock = if loading { i64::MIN } else { now };
        (created, revived) = hset_volatile(h, &argv[2..], lim, clock);
        db.expired_fields += revived;
    } else {
        for p in argv[2..].chunks_exact(2) {
            created += h.set(&p[0], &p[1], lim) as i64;
        }
    }
    if name == "hset" {
        out.int(created);
    } else {
        out.ok();
    }
    ctx.dirty(pairs as u64);
    ctx.modified(&argv[1]);
    if revived > 0 {
        ctx.notify(notify::HASH, "hexpired", &argv[1]);
    }
    ctx.notify(notify::HASH, "hset", &argv[1]);
    Ok(())
}

/// HSET's pairs into a hash with field TTLs: (fields created, of which
/// expired ones written over). Out of line: the plain loop stays small.
#[cold]
#[inline(never)]
fn hset_volatile(h: &mut Hash, pairs: &[Bytes], lim: Limits, clock: i64) -> (i64, u64) {
    let (mut created, mut revived) = (0, 0);
    for p in pairs.chunks_exact(2) {
        match h.put(&p[0], &p[1], lim, clock, Ttl::Clear) {
            Put::New => created += 1,
            Put::Revived => {
                created += 1;
                revived += 1;
            }
            Put::Updated => {}
        }
    }
    (created, revived)
}

fn hsetnx(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let lim = limits(ctx);
    let now = ctx.now;
    ctx.notify_if_new(&argv[1]);
    let (db, out) = ctx.db_and_out();
    let clock = field_clock(db, now);
    let h = hash_or_create(db, &argv[1], now)?;
    if h.get_live(&argv[2], clock).is_some() {
        out.int(0);
        return Ok(());
    }
    h.prepare_for(1, [&argv[2][..], &argv[3][..]].into_iter(), lim);
    let volatile = h.has_volatile_fields();
    let revived = h.put(&argv[2], &argv[3], lim, clock, Ttl::Clear) == Put::Revived;
    db.expired_fields += revived as u64;
    out.int(1);
    ctx.dirty(1);
    ctx.modified(&argv[1]);
    if revived {
        ctx.notify(notify::HASH, "hexpired", &argv[1]);
    }
    ctx.notify(notify::HASH, "hset", &argv[1]);
    // The replica may find the field expired or not: the write goes out
    // unconditional, as Valkey's.
    if volatile && ctx.propagating() {
        ctx.rewrite(vec![
            word("HSET"),
            arg(&argv[1]),
            arg(&argv[2]),
            arg(&argv[3]),
        ]);
    }
    Ok(())
}

fn hdel(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let clock = field_clock(db, now);
    let Some(h) = hash_mut(db, &argv[1], now)? else {
        out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for f in &argv[2..] {
        if h.remove_live(f, clock) {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    let emptied = h.is_empty();
    if emptied {
        db.delete(&argv[1], now, Free::Sync);
    }
    out.int(deleted);
    ctx.dirty(deleted as u64);
    if deleted > 0 {
        ctx.modified(&argv[1]);
        ctx.notify(notify::HASH, "hdel", &argv[1]);
    }
    if emptied {
        ctx.notify(notify::GENERIC, "del", &argv[1]);
    }
    Ok(())
}

fn hincrby(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let by = int(&argv[3])?;
    let lim = limits(ctx);
    let now = ctx.now;
    ctx.notify_if_new(&argv[1]);
    let (db, out) = ctx.db_and_out();
    let clock = field_clock(db, now);
    let h = hash_or_create(db, &argv[1], now)?;
    let cur = match h.get_live(&argv[2], clock) {
        Some(v) => parse_i64(v).ok_or(CmdError::from(HASH_NOT_INTEGER))?,
        None => 0,
    };
    let n = cur.checked_add(by).ok_or(CmdError::from(OVERFLOW))?;
    let text = n.to_string();
    let volatile = h.has_volatile_fields();
    let revived = h.put(&argv[2], text.as_bytes(), lim, clock, Ttl::Keep) == Put::Revived;
    let ttl = h.field_expiry(&argv[2]).flatten();
    db.expired_fields += revived as u64;
    out.int(n);
    ctx.dirty(1);
    ctx.modified(&argv[1]);
    if revived {
        ctx.notify(notify::HASH, "hexpired", &argv[1]);
    }
    ctx.notify(notify::HASH, "hincrby", &argv[1]);
    if volatile && ctx.propagating() {
        ctx.rewrite(set_with_ttl(&argv[1], &argv[2], text.as_bytes(), ttl));
    }
    Ok(())
}

/// Long double arithmetic and formatting exactly as INCRBYFLOAT's.
fn hincrbyfloat(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let by = match long_double::parse(&argv[3]).ok_or(CmdError::from(NOT_FLOAT))? {
        Parsed::Finite(x) => x,
        Parsed::Inf => return Err(INCR_NOT_FINITE.into()),
    };
    let lim = limits(ctx);
    let now = ctx.now;
    ctx.notify_if_new(&argv[1]);
    let (db, out) = ctx.db_and_out();
    let clock = field_clock(db, now);
    let h = hash_or_create(db, &argv[1], now)?;
    let cur = match h.get_live(&argv[2], clock) {
        Some(v) => long_double::parse(v).ok_or(CmdError::from(HASH_NOT_FLOAT))?,
        None => Parsed::Finite(long_double::Ld::ZERO),
    };
    let sum = match cur {
        Parsed::Finite(a) => long_double::add(a, by),
        Parsed::Inf => None,
    };
    let text = long_double::format(sum.ok_or(CmdError::from(INCR_NAN_OR_INF))?);
    let revived = h.put(&argv[2], text.as_bytes(), lim, clock, Ttl::Keep) == Put::Revived;
    let ttl = h.field_expiry(&argv[2]).flatten();
    db.expired_fields += revived as u64;
    out.bulk(text.as_bytes());
    ctx.dirty(1);
    ctx.modified(&argv[1]);
    if revived {
        ctx.notify(notify::HASH, "hexpired", &argv[1]);
    }
    ctx.notify(notify::HASH, "hincrbyfloat", &argv[1]);
    if ctx.propagating() {
        // The result, not the increment, as INCRBYFLOAT.
        ctx.rewrite(set_with_ttl(&argv[1], &argv[2], text.as_bytes(), ttl));
    }
    Ok(())
}

/// How an increment propagates as a plain write: HSET, or HSETEX with the
/// field's TTL so the replica keeps it.
fn set_with_ttl(key: &[u8], field: &[u8], value: &[u8], ttl: Option<i64>) -> Vec<Bytes> {
    match ttl {
        None => vec![word("HSET"), arg(key), arg(field), arg(value)],
        Some(w) => vec![
            word("HSETEX"),
            arg(key),
            word("PXAT"),
            Bytes::from(w.to_string()),
            word("FIELDS"),
            word("1"),
            arg(field),
            arg(value),
        ],
    }
}

/// The clock fields expire by: none expire while the AOF loads.
fn field_clock(db: &Db, now: i64) -> i64 {
    if db.loading() {
        i64::MIN
    } else {
        now
    }
}

// ---------------------------------------------------------------------------
// Reads

fn hget(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    match get_hash(db, &argv[1], now)?.and_then(|h| h.get_live(&argv[2], now)) {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

fn hmget(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let h = get_hash(db, &argv[1], now)?;
    out.array(argv.len() - 2);
    for f in &argv[2..] {
        match h.and_then(|h| h.get_live(f, now)) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
    Ok(())
}

/// HGETALL, HKEYS, HVALS.
fn getall(ctx: &mut Ctx, keys: bool, vals: bool) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let h = get_hash(db, &argv[1], now)?;
    let len = h.map_or(0, |h| h.len_live(now));
    if keys && vals {
        out.map(len);
    } else {
        out.array(len);
    }
    if let Some(h) = h {
        for (k, v) in h.iter_live(now) {
            if keys {
                out.bulk(k);
            }
            if vals {
                out.bulk(v);
            }
        }
    }
    Ok(())
}

fn hgetall(ctx: &mut Ctx) -> CmdResult {
    getall(ctx, true, true)
}

fn hkeys(ctx: &mut Ctx) -> CmdResult {
    getall(ctx, true, false)
}

fn hvals(ctx: &mut Ctx) -> CmdResult {
    getall(ctx, false, true)
}

fn hexists(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let found = get_hash(db, &argv[1], now)?.is_some_and(|h| h.get_live(&argv[2], now).is_some());
    out.int(found as i64);
    Ok(())
}

fn hlen(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let n = get_hash(db, &argv[1], now)?.map_or(0, |h| h.len());
    out.int(n as i64);
    Ok(())
}

fn hstrlen(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let n = get_hash(db, &argv[1], now)?
        .and_then(|h| h.get_live(&argv[2], now))
        .map_or(0, |v| v.len());
    out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// HRANDFIELD

fn hrandfield(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let Parts { db, out, rng, .. } = ctx.parts();
    if argv.len() == 2 {
        match get_hash(db, &argv[1], now)?.and_then(|h| h.random_live(rng, now)) {
            Some((k, _)) => out.bulk(k),
            None => out.null(),
        }
        return Ok(());
    }
    let count = int(&argv[2])?;
    if count == i64::MIN {
        return Err(RANDFIELD_COUNT_RANGE.into());
    }
    let withvalues = match argv.len() {
        3 => false,
        4 if is(&argv[3], "withvalues") => true,
        _ => return Err(SYNTAX.into()),
    };
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(OUT_OF_RANGE.into());
    }
    let Some(h) = get_hash(db, &argv[1], now)? else {
        out.array(0);
        return Ok(());
    };
    if count == 0 || h.is_empty() {
        out.array(0);
        return Ok(());
    }
    let pair_header = |out: &mut ReplyBuf| {
        if withvalues && out.is_resp3() {
            out.array(2);
        }
    };
    let array_len = |out: &ReplyBuf, n: usize| {
        if withvalues && !out.is_resp3() {
            2 * n
        } else {
            n
        }
    };
    // Negative: `|count|` independent picks, repeats allowed.
    if count < 0 {
        let n = count.unsigned_abs();
        if n * (1 + withvalues as u64) > RANDFIELD_MAX_REPEATS {
            return Err(OUT_OF_RANGE.into());
        }
        let n = n as usize;
        if h.has_volatile_fields() {
            // Picks may run dry (every field expired): count them first.
            let mut picks = Vec::new();
            while picks.len() < n {
                let Some(p) = h.random_live(rng, now) else {
                    break;
                };
                picks.push(p);
            }
            out.array(array_len(out, picks.len()));
            for (k, v) in picks {
                pair_header(out);
                out.bulk(k);
                if withvalues {
                    out.bulk(v);
                }
            }
            return Ok(());
        }
        out.array(array_len(out, n));
        // A listpack is read once into a table so each pick costs O(1).
        let small: Vec<(&[u8], &[u8])> = if h.is_listpack() {
            h.iter().collect()
        } else {
            Vec::new()
        };
        for _ in 0..n {
            let pick = if small.is_empty() {
                h.random(rng)
            } else {
                Some(small[rng.below(small.len())])
            };
            let Some((k, v)) = pick else { break };
            pair_header(out);
            out.bulk(k);
            if withvalues {
                out.bulk(v);
            }
        }
        return Ok(());
    }
    let size = h.len();
    let count = count as usize;
    let picked: Vec<(&[u8], &[u8])> = if count >= size {
        // The whole hash, in its own order.
        h.iter_live(now).collect()
    } else if h.is_listpack() || count.saturating_mul(3) > size {
        // Many of them: take all, keep a random subset.
        let mut all: Vec<(&[u8], &[u8])> = h.iter_live(now).collect();
        partial_shuffle(&mut all, count, rng);
        all.truncate(count);
        all
    } else {
        // Few of a big table: sample until enough distinct fields.
        let mut seen: hashbrown::HashSet<&[u8]> = hashbrown::HashSet::with_capacity(count);
        let mut v = Vec::with_capacity(count);
        let mut tries = count.saturating_mul(10);
        while v.len() < count && tries > 0 {
            tries -= 1;
            let Some((k, val)) = h.random_live(rng, now) else {
                break;
            };
            if seen.insert(k) {
                v.push((k, val));
            }
        }
        v
    };
    out.array(array_len(out, picked.len()));
    for (k, v) in picked {
        pair_header(out);
        out.bulk(k);
        if withvalues {
            out.bulk(v);
        }
    }
    Ok(())
}

/// Moves a uniform random choice of `n` elements to the front.
fn partial_shuffle<T>(v: &mut [T], n: usize, rng: &mut Rng) {
    for i in 0..n.min(v.len()) {
        let j = i + rng.below(v.len() - i);
        v.swap(i, j);
    }
}

// ---------------------------------------------------------------------------
// HSCAN

fn hscan(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let cursor = crate::commands::args::scan_cursor(&argv[2]).ok_or(CmdError::from(CURSOR))?;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let Some(h) = get_hash(db, &argv[1], now)? else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let opts = super::args::scan_opts(argv, 3, super::args::ScanKind::Hash)?;
    let (count, pattern, novalues) = (opts.count, opts.pattern, opts.novalues);
    // Copied out because the table lends entries only for one step; short
    // fields and values are inline, so mostly without allocation. COUNT
    // bounds the steps, never an allocation up front.
    let mut found: Vec<(Bytes24, Option<Bytes24>)> = Vec::new();
    let mut steps_left = count.saturating_mul(10);
    let mut cursor = cursor;
    loop {
        cursor = h.scan_live(cursor, now, |k, v| {
            if pattern.is_some_and(|p| !glob_match(p, k, false)) {
                return;
            }
            found.push((Bytes24::new(k), (!novalues).then(|| Bytes24::new(v))));
        });
        steps_left -= 1;
        if cursor == 0 || steps_left <= 0 || found.len() as i64 >= count {
            break;
        }
    }
    out.array(2);
    out.bulk(cursor.to_string().as_bytes());
    out.array(found.len() * if novalues { 1 } else { 2 });
    for (k, v) in &found {
        out.bulk(k.as_slice());
        if let Some(v) = v {
            out.bulk(v.as_slice());
        }
    }
    Ok(())
}
