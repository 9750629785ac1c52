//! Hash-field expiration commands (Valkey 9): HEXPIRE, HPEXPIRE,
//! HEXPIREAT, HPEXPIREAT, HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME, HPERSIST,
//! HSETEX, HGETEX, and HGETDEL (9.1).
//!
//! The TTLs live in the hash (`keyspace::hash`, `keyspace::hash_ttl`);
//! a field whose time passed reads as absent. Arguments are checked in
//! Valkey's order, which differs between commands (HTTL checks the FIELDS
//! token first, HEXPIRE its options and count before the time). What
//! propagates is what Valkey propagates: HPEXPIREAT with an absolute time,
//! HSETEX with PXAT, HDEL for fields deleted by a time already past.

use bytes::Bytes;

use super::args::{int, is};
use super::flags::*;
use super::hash::{as_hash, get_hash, limits};
use super::meta::{acl, arg, ks, Arg, Doc, Group};
use super::propagate::{num, word};
use super::{CommandSpec, Ctx, KeySpec};
use crate::config::notify;
use crate::error::{CmdError, CmdResult, GT_AND_LT, NX_XX_GT_LT, SYNTAX, WRONGTYPE};
use crate::keyspace::hash::{Cond, Hash, Put, Ttl, TtlSet};
use crate::keyspace::{Access, Db, Free, Value};

// The argument pieces the rows share, as Valkey 9.1's command JSON gives
// them (some rows mark `numfields` as the key spec's, or CONDITION's
// version, and some do not).
const CONDITION: Arg = arg::oneof(
    "condition",
    &[
        arg::pure("nx", "NX"),
        arg::pure("xx", "XX"),
        arg::pure("gt", "GT"),
        arg::pure("lt", "LT"),
    ],
)
.optional();
const CONDITION_9: Arg = CONDITION.since("9.0.0");
const FIELDS: Arg = arg::block(
    "fields",
    &[arg::integer("numfields"), arg::string("field").multiple()],
)
.token("FIELDS");
const FIELDS_KEYED: Arg = arg::block(
    "fields",
    &[
        arg::integer("numfields").key_spec(0),
        arg::string("field").multiple(),
    ],
)
.token("FIELDS");

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "hexpire",
        arity: -6,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: hexpire,
        subcommands: &[],
        doc: &Doc {
            summary: "Gives hash fields a time to live in seconds.",
            complexity: "O(N), N fields named.",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::integer("seconds"),
                CONDITION,
                FIELDS,
            ],
            ..Doc::new(Group::Hash, "9.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hpexpire",
        arity: -6,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: hpexpire,
        subcommands: &[],
        doc: &Doc {
            summary: "Gives hash fields a time to live in milliseconds.",
            complexity: "O(N), N fields named.",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::integer("milliseconds"),
                CONDITION_9,
                FIELDS_KEYED,
            ],
            ..Doc::new(Group::Hash, "9.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hexpireat",
        arity: -6,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: hexpireat,
        subcommands: &[],
        doc: &Doc {
            summary: "Gives hash fields an expire time as a Unix time in seconds.",
            complexity: "O(N), N fields named.",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::integer("unix-time-seconds"),
                CONDITION_9,
                FIELDS_KEYED,
            ],
            ..Doc::new(Group::Hash, "9.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hpexpireat",
        arity: -6,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: hpexpireat,
        subcommands: &[],
        doc: &Doc {
            summary: "Gives hash fields an expire time as a Unix time in milliseconds.",
            complexity: "O(N), N fields named.",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::integer("unix-time-milliseconds"),
                CONDITION_9,
                FIELDS_KEYED,
            ],
            ..Doc::new(Group::Hash, "9.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "httl",
        arity: -5,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: httl,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells the seconds left to live of hash fields.",
            complexity: "O(N), N fields named.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), FIELDS_KEYED],
            ..Doc::new(Group::Hash, "9.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hpttl",
        arity: -5,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: hpttl,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells the milliseconds left to live of hash fields.",
            complexity: "O(N), N fields named.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), FIELDS_KEYED],
            ..Doc::new(Group::Hash, "9.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hexpiretime",
        arity: -5,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: hexpiretime,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells the Unix time in seconds at which hash fields expire.",
            complexity: "O(N), N fields named.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), FIELDS_KEYED],
            ..Doc::new(Group::Hash, "9.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hpexpiretime",
        arity: -5,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: hpexpiretime,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells the Unix time in milliseconds at which hash fields expire.",
            complexity: "O(N), N fields named.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0), FIELDS_KEYED],
            ..Doc::new(Group::Hash, "9.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hpersist",
        arity: -5,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: hpersist,
        subcommands: &[],
        doc: &Doc {
            summary: "Removes the time to live of hash fields.",
            complexity: "O(N), N fields named.",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[arg::key("key", 0), FIELDS_KEYED],
            ..Doc::new(Group::Hash, "9.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hsetex",
        arity: -6,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: hsetex,
        subcommands: &[],
        doc: &Doc {
            summary: "Sets hash fields, with a time to live or keeping theirs.",
            complexity: "O(N), N fields named.",
            key_specs: &[ks::one(1, ks::RW | ks::INSERT)],
            args: &[
                arg::key("key", 0),
                arg::oneof(
                    "key-condition",
                    &[arg::pure("nx", "NX"), arg::pure("xx", "XX")],
                )
                .optional(),
                arg::oneof(
                    "fields-condition",
                    &[arg::pure("fnx", "FNX"), arg::pure("fxx", "FXX")],
                )
                .optional(),
                arg::oneof(
                    "expiration",
                    &[
                        arg::integer("seconds").token("EX"),
                        arg::integer("milliseconds").token("PX"),
                        arg::unix_time("unix-time-seconds").token("EXAT"),
                        arg::unix_time("unix-time-milliseconds").token("PXAT"),
                        arg::pure("keepttl", "KEEPTTL"),
                    ],
                )
                .optional(),
                arg::block(
                    "fields",
                    &[
                        arg::integer("numfields").key_spec(0),
                        arg::block("data", &[arg::string("field"), arg::string("value")])
                            .multiple(),
                    ],
                )
                .token("FIELDS"),
            ],
            ..Doc::new(Group::Hash, "9.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hgetex",
        arity: -5,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: hgetex,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets hash fields, and sets or removes their time to live.",
            complexity: "O(N), N fields named.",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                super::string::EXPIRATION_OR_PERSIST,
                FIELDS_KEYED,
            ],
            ..Doc::new(Group::Hash, "9.0.0", acl::HASH)
        },
    },
    CommandSpec {
        name: "hgetdel",
        arity: -5,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: hgetdel,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets hash fields and deletes them.",
            complexity: "O(N), N fields named.",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[arg::key("key", 0), FIELDS_KEYED],
            ..Doc::new(Group::Hash, "9.1.0", acl::HASH)
        },
    },
];

// ---------------------------------------------------------------------------
// Shared parsing

const NUMFIELDS: &str =
    "ERR numfields should be greater than 0 and match the provided number of fields";

fn numfields_err() -> CmdError {
    NUMFIELDS.into()
}

fn invalid_expire(name: &str) -> CmdError {
    CmdError::owned(format!("ERR invalid expire time in '{name}' command"))
}

/// The first `FIELDS` token at or after `from` (and before the last
/// argument), as Valkey's scan for it.
fn find_fields(argv: &[Bytes], from: usize) -> Option<usize> {
    (from..argv.len().saturating_sub(1)).find(|&i| is(&argv[i], "fields"))
}

/// Valkey's convertExpireArgumentToUnixTime: a negative time, or one that
/// overflows in ms or when added to `base`, is invalid.
fn unix_ms(name: &str, a: &[u8], base: i64, secs: bool) -> Result<i64, CmdError> {
    let n = int(a)?;
    if n < 0 {
        return Err(invalid_expire(name));
    }
    let ms = if secs {
        n.checked_mul(1000).ok_or_else(|| invalid_expire(name))?
    } else {
        n
    };
    ms.checked_add(base).ok_or_else(|| invalid_expire(name))
}

/// The clock fields expire by: none expire while the AOF loads.
fn field_clock(db: &Db, now: i64) -> i64 {
    if db.loading() {
        i64::MIN
    } else {
        now
    }
}

/// The hash at `key` for writing: None if missing, WRONGTYPE if another type.
fn hash_mut<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Result<Option<&'a mut Hash>, CmdError> {
    match db.lookup(key, now, Access::WRITE).map(|e| e.value_mut()) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(WRONGTYPE.into()),
    }
}

/// A field list `FIELDS numfields f ...` from `at` (the FIELDS token) with
/// HTTL's checks: the token, the count, then `bad` when it does not match.
fn field_list(argv: &[Bytes], bad: fn() -> CmdError) -> Result<&[Bytes], CmdError> {
    if !is(&argv[2], "fields") {
        return Err(SYNTAX.into());
    }
    let n = int(&argv[3])?;
    if n <= 0 || n as u64 != (argv.len() - 4) as u64 {
        return Err(bad());
    }
    Ok(&argv[4..])
}

// ---------------------------------------------------------------------------
// HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT

fn hexpire(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    hexpire_generic(ctx, now, true)
}

fn hpexpire(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    hexpire_generic(ctx, now, false)
}

fn hexpireat(ctx: &mut Ctx) -> CmdResult {
    hexpire_generic(ctx, 0, true)
}

fn hpexpireat(ctx: &mut Ctx) -> CmdResult {
    hexpire_generic(ctx, 0, false)
}

/// The NX/XX/GT/LT options of HEXPIRE, as EXPIRE's.
fn expire_cond(opts: &[Bytes]) -> Result<Cond, CmdError> {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in opts {
        if is(a, "nx") {
            nx = true;
        } else if is(a, "xx") {
            xx = true;
        } else if is(a, "gt") {
            gt = true;
        } else if is(a, "lt") {
            lt = true;
        } else {
            // Valkey formats the option as a C string: it ends at a NUL.
            let end = a.iter().position(|&b| b == 0).unwrap_or(a.len());
            return Err(CmdError::owned(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(&a[..end])
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(NX_XX_GT_LT.into());
    }
    if gt && lt {
        return Err(GT_AND_LT.into());
    }
    Ok(if nx {
        Cond::Nx
    } else if xx {
        Cond::Xx
    } else if gt {
        Cond::Gt
    } else if lt {
        Cond::Lt
    } else {
        Cond::Always
    })
}

fn hexpire_generic(ctx: &mut Ctx, base: i64, secs: bool) -> CmdResult {
    let argv = ctx.argv;
    let name = ctx.cmd.name;
    let (cond, first) = match find_fields(argv, 3) {
        Some(i) => (expire_cond(&argv[3..i])?, i + 2),
        None => return Err(numfields_err()),
    };
    let n = int(&argv[first - 1])?;
    if n <= 0 || n as u64 != (argv.len() - first) as u64 {
        return Err(numfields_err());
    }
    let when = unix_ms(name, &argv[2], base, secs)?;
    let now = ctx.now;
    let key = &argv[1];
    let (db, out) = ctx.db_and_out();
    let clock = field_clock(db, now);
    let past = db.already_expired(when, now);
    let Some(h) = hash_mut(db, key, now)? else {
        out.array(argv.len() - first);
        for _ in first..argv.len() {
            out.int(-2);
        }
        return Ok(());
    };
    out.array(argv.len() - first);
    let (mut updated, mut deleted) = (0u64, Vec::new());
    for f in &argv[first..] {
        let r = h.set_field_expiry(f, when, cond, past, clock);
        match r {
            TtlSet::NoField => out.int(-2),
            TtlSet::Refused => out.int(0),
            TtlSet::Set => {
                updated += 1;
                out.int(1)
            }
            TtlSet::Deleted => {
                deleted.push(f.clone());
                out.int(2)
            }
        }
    }
    if updated == 0 && deleted.is_empty() {
        return Ok(());
    }
    let emptied = h.is_empty();
    if updated > 0 {
        db.hfe.track(key);
    }
    db.expired_fields += deleted.len() as u64;
    if emptied {
        db.delete(key, now, Free::Sync);
    }
    ctx.dirty(updated + deleted.len() as u64);
    if !deleted.is_empty() {
        if ctx.propagating() {
            let mut v = vec![word("HDEL"), key.clone()];
            v.extend(deleted);
            ctx.rewrite(v);
        }
        ctx.notify(notify::HASH, "hexpired", key);
    } else {
        // HPEXPIREAT itself goes out as it came.
        let hpexpireat = base == 0 && !secs;
        if ctx.propagating() && !hpexpireat {
            let mut v = vec![word("HPEXPIREAT"), key.clone(), num(when)];
            v.extend(argv[3..].iter().cloned());
            ctx.rewrite(v);
        }
        ctx.notify(notify::HASH, "hexpire", key);
    }
    ctx.modified(key);
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME

fn httl(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    httl_generic(ctx, now, true)
}

fn hpttl(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    httl_generic(ctx, now, false)
}

fn hexpiretime(ctx: &mut Ctx) -> CmdResult {
    httl_generic(ctx, 0, true)
}

fn hpexpiretime(ctx: &mut Ctx) -> CmdResult {
    httl_generic(ctx, 0, false)
}

fn httl_generic(ctx: &mut Ctx, base: i64, secs: bool) -> CmdResult {
    let argv = ctx.argv;
    let fields = field_list(argv, || SYNTAX.into())?;
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let clock = field_clock(db, now);
    let h = get_hash(db, &argv[1], now)?;
    out.array(fields.len());
    for f in fields {
        match h.and_then(|h| h.field_expiry_live(f, clock)) {
            None => out.int(-2),
            Some(None) => out.int(-1),
            Some(Some(w)) => {
                let left = w.saturating_sub(base).max(0);
                out.int(if secs { (left + 500) / 1000 } else { left })
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// HPERSIST

fn hpersist(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let fields = field_list(argv, numfields_err)?;
    let now = ctx.now;
    let key = &argv[1];
    let (db, out) = ctx.db_and_out();
    let clock = field_clock(db, now);
    let Some(h) = hash_mut(db, key, now)? else {
        out.array(fields.len());
        for _ in fields {
            out.int(-2);
        }
        return Ok(());
    };
    out.array(fields.len());
    let mut changed = 0;
    for f in fields {
        match h.persist_field(f, clock) {
            None => out.int(-2),
            Some(false) => out.int(-1),
            Some(true) => {
                changed += 1;
                out.int(1)
            }
        }
    }
    if changed > 0 {
        ctx.dirty(changed);
        ctx.notify(notify::HASH, "hpersist", key);
        ctx.modified(key);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// HSETEX

/// An expire option: which unit, relative or absolute.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Ex,
    Px,
    Exat,
    Pxat,
}

impl Unit {
    fn of(a: &[u8]) -> Option<Unit> {
        if is(a, "ex") {
            Some(Unit::Ex)
        } else if is(a, "px") {
            Some(Unit::Px)
        } else if is(a, "exat") {
            Some(Unit::Exat)
        } else if is(a, "pxat") {
            Some(Unit::Pxat)
        } else {
            None
        }
    }

    fn secs(self) -> bool {
        matches!(self, Unit::Ex | Unit::Exat)
    }

    fn relative(self) -> bool {
        matches!(self, Unit::Ex | Unit::Px)
    }
}

/// HSETEX's and HGETEX's options (Valkey's parseExtendedCommandArguments
/// for COMMAND_HSET / COMMAND_HGET): every conflict is a syntax error; the
/// same expire option given twice is allowed, the last one counting.
#[derive(Default)]
struct ExOpts {
    nx: bool,
    xx: bool,
    fnx: bool,
    fxx: bool,
    keepttl: bool,
    persist: bool,
    /// The unit and the index of its value argument.
    expire: Option<(Unit, usize)>,
}

fn ex_opts(argv: &[Bytes], end: usize, set: bool) -> Result<ExOpts, CmdError> {
    let mut o = ExOpts::default();
    let mut i = 2;
    while i < end {
        let a = &argv[i];
        let has_next = i + 1 < end;
        if set && is(a, "nx") && !o.xx {
            o.nx = true;
        } else if set && is(a, "xx") && !o.nx {
            o.xx = true;
        } else if set && is(a, "fnx") && !o.fxx {
            o.fnx = true;
        } else if set && is(a, "fxx") && !o.fnx {
            o.fxx = true;
        } else if set && is(a, "keepttl") && o.expire.is_none() {
            o.keepttl = true;
        } else if !set && is(a, "persist") && o.expire.is_none() {
            o.persist = true;
        } else if let (Some(u), true) = (Unit::of(a), has_next) {
            if o.keepttl || o.persist || o.expire.is_some_and(|(p, _)| p != u) {
                return Err(SYNTAX.into());
            }
            o.expire = Some((u, i + 1));
            i += 1;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    Ok(o)
}

fn hsetex(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let name = ctx.cmd.name;
    let Some(fi) = find_fields(argv, 1) else {
        return Err(numfields_err());
    };
    let o = ex_opts(argv, fi, true)?;
    let n = int(&argv[fi + 1])?;
    let first = fi + 2;
    if n <= 0 || n > i64::MAX / 2 || (n * 2) as u64 != (argv.len() - first) as u64 {
        return Err(numfields_err());
    }
    let lim = limits(ctx);
    let now = ctx.now;
    let key = &argv[1];
    let db = ctx.db();
    let exists = match db.lookup(key, now, Access::WRITE) {
        Some(e) => {
            super::stored(e.value()).and_then(as_hash)?;
            true
        }
        None => false,
    };
    if (o.nx && exists) || (o.xx && !exists) {
        ctx.out.int(0);
        return Ok(());
    }
    let mut when = None;
    let mut past = false;
    if let (false, Some((u, at))) = (o.keepttl, o.expire) {
        let base = if u.relative() { now } else { 0 };
        let w = unix_ms(name, &argv[at], base, u.secs())?;
        past = db.already_expired(w, now);
        when = Some(w);
    }
    let clock = field_clock(db, now);
    let pairs = &argv[first..];
    if (o.fnx || o.fxx) && !fields_condition_holds(db, key, now, clock, pairs, o.fnx) {
        ctx.out.int(0);
        return Ok(());
    }
    if !exists {
        ctx.notify_if_new(key);
    }
    let db = ctx.db();
    if !exists {
        db.add(key, Value::Hash(Hash::default()), now);
    }
    let Some(h) = hash_mut(db, key, now)? else {
        return Err(WRONGTYPE.into());
    };
    let mut changes = 0u64;
    let mut deleted = Vec::new();
    let mut revived = 0u64;
    let mut keepttl_revived = Vec::new();
    if past {
        for p in pairs.chunks_exact(2) {
            if h.remove(&p[0]) {
                deleted.push(p[0].clone());
                changes += 1;
            }
        }
    } else {
        h.prepare_for(pairs.len() / 2, pairs.iter().map(|a| &a[..]), lim);
        let ttl = match (o.keepttl, when) {
            (true, _) => Ttl::Keep,
            (false, Some(w)) => Ttl::At(w),
            (false, None) => Ttl::Clear,
        };
        for p in pairs.chunks_exact(2) {
            if h.put(&p[0], &p[1], lim, clock, ttl) == Put::Revived {
                revived += 1;
                if o.keepttl {
                    keepttl_revived.push(p[0].clone());
                }
            }
            changes += 1;
        }
    }
    let emptied = h.is_empty();
    let volatile = h.has_volatile_fields();
    if volatile {
        db.hfe.track(key);
    }
    // Valkey counts every field of a past-time HSETEX as expired.
    db.expired_fields += revived + if past { (pairs.len() / 2) as u64 } else { 0 };
    if emptied {
        db.delete(key, now, Free::Sync);
    }
    if changes > 0 {
        if revived > 0 {
            ctx.notify(notify::HASH, "hexpired", key);
            if !keepttl_revived.is_empty() && ctx.propagating() {
                let db_id = ctx.client().db;
                let mut v = vec![word("HDEL"), key.clone()];
                v.extend(keepttl_revived);
                ctx.also_propagate(db_id, v);
            }
        }
        if ctx.propagating() {
            if past {
                let mut v = vec![word("HDEL"), key.clone()];
                v.extend(deleted);
                ctx.rewrite(v);
            } else if o.fnx || o.fxx || when.is_some_and(|_| !o.keepttl) {
                ctx.rewrite(hsetex_rewrite(argv, fi, &o, when));
            }
        }
        ctx.modified(key);
        ctx.dirty(changes);
    }
    ctx.notify(notify::HASH, "hset", key);
    if o.expire.is_some() {
        ctx.notify(notify::HASH, "hexpire", key);
    }
    if past {
        ctx.notify(notify::HASH, "hexpired", key);
    }
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.out.int(1);
    Ok(())
}

/// FNX: no field is there; FXX: every field is (live fields only).
fn fields_condition_holds(
    db: &mut Db,
    key: &[u8],
    now: i64,
    clock: i64,
    pairs: &[Bytes],
    fnx: bool,
) -> bool {
    let h = match db.lookup(key, now, Access::PEEK).map(|e| e.value()) {
        Some(v) => match v.stored() {
            Some(Value::Hash(h)) => Some(h),
            _ => None,
        },
        None => None,
    };
    let Some(h) = h else {
        // No hash: FNX holds for every field, FXX for none.
        return fnx;
    };
    pairs
        .chunks_exact(2)
        .all(|p| h.get_live(&p[0], clock).is_some() != fnx)
}

/// HSETEX as it propagates: FNX/FXX dropped, a relative or seconds expire
/// as PXAT in ms.
fn hsetex_rewrite(argv: &[Bytes], fi: usize, o: &ExOpts, when: Option<i64>) -> Vec<Bytes> {
    let mut v = Vec::with_capacity(argv.len() + 1);
    let exp_at = o.expire;
    let mut i = 0;
    while i < fi {
        let a = &argv[i];
        if i >= 2 && (is(a, "fnx") || is(a, "fxx")) {
            i += 1;
            continue;
        }
        if let (Some((u, at)), Some(w)) = (exp_at, when) {
            if i + 1 == at && u != Unit::Pxat {
                v.push(word("PXAT"));
                v.push(num(w));
                i += 2;
                continue;
            }
        }
        v.push(a.clone());
        i += 1;
    }
    v.extend(argv[fi..].iter().cloned());
    v
}

// ---------------------------------------------------------------------------
// HGETEX

fn hgetex(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let name = ctx.cmd.name;
    let Some(fi) = find_fields(argv, 1) else {
        return Err(numfields_err());
    };
    let o = ex_opts(argv, fi, false)?;
    let n = int(&argv[fi + 1])?;
    let first = fi + 2;
    if n <= 0 || n as u64 != (argv.len() - first) as u64 {
        return Err(numfields_err());
    }
    let fields = &argv[first..];
    let now = ctx.now;
    let key = &argv[1];
    let db = ctx.db();
    let exists = match db.lookup(key, now, Access::READ) {
        Some(e) => {
            super::stored(e.value()).and_then(as_hash)?;
            true
        }
        None => false,
    };
    let mut when = None;
    let mut past = false;
    if let Some((u, at)) = o.expire {
        let base = if u.relative() { now } else { 0 };
        let w = unix_ms(name, &argv[at], base, u.secs())?;
        past = db.already_expired(w, now);
        when = Some(w);
    }
    let clock = field_clock(db, now);
    let (db, out) = ctx.db_and_out();
    out.array(fields.len());
    let h = if exists && (o.persist || when.is_some()) {
        hash_mut(db, key, now)?
    } else {
        None
    };
    let Some(h) = h else {
        // Read only (or no hash): the values.
        let h = if exists {
            match db.lookup(key, now, Access::NO_EFFECTS).map(|e| e.value()) {
                Some(v) => super::stored(v).and_then(as_hash).ok(),
                None => None,
            }
        } else {
            None
        };
        for f in fields {
            match h.and_then(|h| h.get_live(f, clock)) {
                Some(v) => out.bulk(v),
                None => out.null(),
            }
        }
        return Ok(());
    };
    let mut changed = Vec::new();
    for f in fields {
        match h.get_live(f, clock) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
        let ok = if past {
            h.remove_live(f, clock)
        } else if let Some(w) = when {
            h.set_field_expiry(f, w, Cond::Always, false, clock) == TtlSet::Set
        } else {
            h.persist_field(f, clock) == Some(true)
        };
        if ok {
            changed.push(f.clone());
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    let emptied = h.is_empty();
    if h.has_volatile_fields() {
        db.hfe.track(key);
    }
    if past {
        db.expired_fields += changed.len() as u64;
    }
    if emptied {
        db.delete(key, now, Free::Sync);
    }
    let count = changed.len() as u64;
    if ctx.propagating() {
        let mut v = Vec::with_capacity(changed.len() + 5);
        if past {
            v.extend([word("HDEL"), key.clone()]);
        } else if let Some(w) = when {
            v.extend([word("HPEXPIREAT"), key.clone(), num(w), word("FIELDS")]);
            v.push(num(count as i64));
        } else {
            v.extend([word("HPERSIST"), key.clone(), word("FIELDS")]);
            v.push(num(count as i64));
        }
        v.extend(changed);
        ctx.rewrite(v);
    }
    let event = if past {
        "hexpired"
    } else if when.is_some() {
        "hexpire"
    } else {
        "hpersist"
    };
    ctx.notify(notify::HASH, event, key);
    ctx.dirty(count);
    ctx.modified(key);
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// HGETDEL

fn hgetdel(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let fields = field_list(argv, numfields_err)?;
    let now = ctx.now;
    let key = &argv[1];
    let (db, out) = ctx.db_and_out();
    let clock = field_clock(db, now);
    let h = hash_mut(db, key, now)?;
    out.array(fields.len());
    let Some(h) = h else {
        for _ in fields {
            out.null();
        }
        return Ok(());
    };
    let mut deleted = 0u64;
    let mut emptied = false;
    for f in fields {
        match h.get_live(f, clock) {
            Some(v) => out.bulk(v),
            None => {
                out.null();
                continue;
            }
        }
        if !emptied && h.remove(f) {
            deleted += 1;
            emptied = h.is_empty();
        }
    }
    if deleted == 0 {
        return Ok(());
    }
    if emptied {
        db.delete(key, now, Free::Sync);
    }
    ctx.dirty(deleted);
    ctx.modified(key);
    ctx.notify(notify::HASH, "hdel", key);
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    Ok(())
}
