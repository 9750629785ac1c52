//! String commands: GET, SET and friends, counters, ranges, APPEND and
//! SETRANGE. LCS lives in `lcs.rs`, INCRBYFLOAT's exact long-double
//! arithmetic in `util::long_double`.
//!
//! Values are `Str`s: `Int` for integers (kept by the INCR family), `Fixed`
//! when set whole, `Growable` once edited in place (APPEND, SETRANGE), which
//! gives the OBJECT ENCODING names Valkey reports; `Big` once an edited one
//! reaches 16 KiB, so replies send it by reference like large values set
//! whole. Writes count lookups the
//! way Valkey does: read paths (`Access::READ`) count hits and misses, write
//! paths (`Access::PEEK`, `Access::WRITE`) do not.

use bytes::Bytes;

use super::args::{int, is};
use super::flags::*;
use super::meta::{acl, arg, ks, Doc, Group};
use super::propagate::{arg, expire_del, num, word};
use super::{CommandSpec, Ctx, KeySpec};
use crate::config::notify;
use crate::error::{
    wrong_arity, CmdError, CmdResult, DECREMENT_OVERFLOW, INCR_NAN_OR_INF, LCS_ALLOC_FAILED,
    LCS_LEN_AND_IDX, LCS_MEMORY_LIMIT, LCS_NOT_STRINGS, LCS_TOO_LONG, NOT_FLOAT, NOT_INTEGER,
    OFFSET_OUT_OF_RANGE, OVERFLOW, STRING_TOO_LONG, SYNTAX, WRONGTYPE,
};
use crate::keyspace::{Access, Bytes24, Db, Entry, Free, Str, StrRef, Value};
use crate::resp::ReplyBuf;
use crate::util::long_double::{self, Ld, Parsed};

/// GETEX's expiration argument, which HGETEX shares.
pub(super) const EXPIRATION_OR_PERSIST: super::meta::Arg = arg::oneof(
    "expiration",
    &[
        arg::integer("seconds").token("EX"),
        arg::integer("milliseconds").token("PX"),
        arg::unix_time("unix-time-seconds").token("EXAT"),
        arg::unix_time("unix-time-milliseconds").token("PXAT"),
        arg::pure("persist", "PERSIST"),
    ],
)
.optional();

mod lcs;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "get",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: get,
        subcommands: &[],
        doc: &Doc {
            summary: "Returns the string value of a key.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::String, "1.0.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        handler: set,
        subcommands: &[],
        doc: &Doc {
            summary:
                "Stores a string value, whatever the key held, with optional expiry and conditions.",
            complexity: "O(1)",
            key_specs: &[
                ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE | ks::VARIABLE_FLAGS)
                    .notes("RW and ACCESS due to the optional `GET` argument"),
            ],
            args: &[
                arg::key("key", 0),
                arg::string("value"),
                arg::oneof(
                    "condition",
                    &[
                        arg::pure("nx", "NX").since("2.6.12"),
                        arg::pure("xx", "XX").since("2.6.12"),
                        arg::string("comparison-value")
                            .token("IFEQ")
                            .summary("Set only when the current value equals this.")
                            .since("8.1.0"),
                    ],
                )
                .optional(),
                arg::pure("get", "GET").since("6.2.0").optional(),
                arg::oneof(
                    "expiration",
                    &[
                        arg::integer("seconds").token("EX").since("2.6.12"),
                        arg::integer("milliseconds").token("PX").since("2.6.12"),
                        arg::unix_time("unix-time-seconds")
                            .token("EXAT")
                            .since("6.2.0"),
                        arg::unix_time("unix-time-milliseconds")
                            .token("PXAT")
                            .since("6.2.0"),
                        arg::pure("keepttl", "KEEPTTL").since("6.0.0"),
                    ],
                )
                .optional(),
            ],
            history: &[
                ("2.6.12", "The EX, PX, NX and XX options."),
                ("6.0.0", "The KEEPTTL option."),
                ("6.2.0", "The GET, EXAT and PXAT options."),
                ("7.0.0", "NX and GET together."),
                ("8.1.0", "The IFEQ condition."),
            ],
            ..Doc::new(Group::String, "1.0.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "setnx",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: setnx,
        subcommands: &[],
        doc: &Doc {
            summary: "Sets a string value only if the key is free.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::OW | ks::INSERT)],
            args: &[arg::key("key", 0), arg::string("value")],
            ..Doc::new(Group::String, "1.0.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "setex",
        arity: 4,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        handler: setex,
        subcommands: &[],
        doc: &Doc {
            summary: "Sets a string value that expires after some seconds.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::OW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::integer("seconds"),
                arg::string("value"),
            ],
            ..Doc::new(Group::String, "2.0.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "psetex",
        arity: 4,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        handler: psetex,
        subcommands: &[],
        doc: &Doc {
            summary: "Sets a string value that expires after some milliseconds.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::OW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::integer("milliseconds"),
                arg::string("value"),
            ],
            ..Doc::new(Group::String, "2.6.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "getset",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: getset,
        subcommands: &[],
        doc: &Doc {
            summary: "Sets a string value and replies the old one.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE)],
            args: &[arg::key("key", 0), arg::string("value")],
            ..Doc::new(Group::String, "1.0.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "getdel",
        arity: 2,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: getdel,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets a string value and removes the key.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::DELETE)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::String, "6.2.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "getex",
        arity: -2,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: getex,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets a string value and changes the key's expiry.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE)
                .notes("Writes as well: it can change the expiry.")],
            args: &[arg::key("key", 0), EXPIRATION_OR_PERSIST],
            ..Doc::new(Group::String, "6.2.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "delifeq",
        arity: 3,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        handler: delifeq,
        subcommands: &[],
        doc: &Doc {
            summary: "Removes a key when its value equals the given one.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RM | ks::DELETE)],
            args: &[arg::key("key", 0), arg::string("value")],
            ..Doc::new(Group::String, "9.0.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "mget",
        arity: -2,
        flags: READONLY | FAST,
        keys: KeySpec::range(1, -1, 1),
        handler: mget,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the string values of several keys.",
            complexity: "O(N), N keys asked for.",
            tips: &["request_policy:multi_shard"],
            key_specs: &[ks::range(1, -1, 1, ks::RO | ks::ACCESS)],
            args: &[arg::key("key", 0).multiple()],
            ..Doc::new(Group::String, "1.0.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "mset",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, -1, 2),
        handler: mset,
        subcommands: &[],
        doc: &Doc {
            summary: "Sets several keys to string values at once.",
            complexity: "O(N), N keys set.",
            tips: &[
                "request_policy:multi_shard",
                "response_policy:all_succeeded",
            ],
            key_specs: &[ks::range(1, -1, 2, ks::OW | ks::UPDATE)],
            args: &[arg::block("data", &[arg::key("key", 0), arg::string("value")]).multiple()],
            ..Doc::new(Group::String, "1.0.1", acl::STRING)
        },
    },
    CommandSpec {
        name: "msetnx",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, -1, 2),
        handler: msetnx,
        subcommands: &[],
        doc: &Doc {
            summary: "Sets several keys to string values at once, only if none of them exists.",
            complexity: "O(N), N keys set.",
            key_specs: &[ks::range(1, -1, 2, ks::OW | ks::INSERT)],
            args: &[arg::block("data", &[arg::key("key", 0), arg::string("value")]).multiple()],
            ..Doc::new(Group::String, "1.0.1", acl::STRING)
        },
    },
    CommandSpec {
        name: "incr",
        arity: 2,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: incr,
        subcommands: &[],
        doc: &Doc {
            summary: "Adds one to a key's number (a missing key counts as 0).",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::String, "1.0.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "decr",
        arity: 2,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: decr,
        subcommands: &[],
        doc: &Doc {
            summary: "Subtracts one from a key's number (a missing key counts as 0).",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::String, "1.0.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "incrby",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: incrby,
        subcommands: &[],
        doc: &Doc {
            summary: "Adds an integer to a key's number (a missing key counts as 0).",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE)],
            args: &[arg::key("key", 0), arg::integer("increment")],
            ..Doc::new(Group::String, "1.0.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "decrby",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: decrby,
        subcommands: &[],
        doc: &Doc {
            summary: "Subtracts an integer from a key's number (a missing key counts as 0).",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE)],
            args: &[arg::key("key", 0), arg::integer("decrement")],
            ..Doc::new(Group::String, "1.0.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "incrbyfloat",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: incrbyfloat,
        subcommands: &[],
        doc: &Doc {
            summary: "Adds a decimal number to a key's number (a missing key counts as 0).",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RW | ks::ACCESS | ks::UPDATE)],
            args: &[arg::key("key", 0), arg::double("increment")],
            ..Doc::new(Group::String, "2.6.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "append",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        handler: append,
        subcommands: &[],
        doc: &Doc {
            summary: "Appends to a string value, creating the key if needed.",
            complexity: "O(1) amortized for short appends.",
            key_specs: &[ks::one(1, ks::RW | ks::INSERT)],
            args: &[arg::key("key", 0), arg::string("value")],
            ..Doc::new(Group::String, "2.0.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "strlen",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        handler: strlen,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells a string value's length in bytes.",
            complexity: "O(1)",
            key_specs: &[ks::one(1, ks::RO)],
            args: &[arg::key("key", 0)],
            ..Doc::new(Group::String, "2.2.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "getrange",
        arity: 4,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: getrange,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets the part of a string value between two offsets.",
            complexity: "O(N), N bytes replied.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::integer("start"),
                arg::integer("end"),
            ],
            ..Doc::new(Group::String, "2.4.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "substr",
        arity: 4,
        flags: READONLY,
        keys: KeySpec::ONE,
        handler: getrange,
        subcommands: &[],
        doc: &Doc {
            summary: "Gets part of a string value (old name of GETRANGE).",
            complexity: "O(N), N bytes replied.",
            key_specs: &[ks::one(1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key", 0),
                arg::integer("start"),
                arg::integer("end"),
            ],
            ..Doc::new(Group::String, "1.0.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "setrange",
        arity: 4,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        handler: setrange,
        subcommands: &[],
        doc: &Doc {
            summary:
                "Writes over part of a string value from an offset, creating the key if needed.",
            complexity: "O(M), M bytes written.",
            key_specs: &[ks::one(1, ks::RW | ks::UPDATE)],
            args: &[
                arg::key("key", 0),
                arg::integer("offset"),
                arg::string("value"),
            ],
            ..Doc::new(Group::String, "2.2.0", acl::STRING)
        },
    },
    CommandSpec {
        name: "lcs",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::range(1, 2, 1),
        handler: lcs::lcs,
        subcommands: &[],
        doc: &Doc {
            summary: "Finds the longest common subsequence of two strings.",
            complexity: "O(N*M), N and M the lengths of the two strings.",
            key_specs: &[ks::range(1, 1, 1, ks::RO | ks::ACCESS)],
            args: &[
                arg::key("key1", 0),
                arg::key("key2", 0),
                arg::pure("len", "LEN").optional(),
                arg::pure("idx", "IDX").optional(),
                arg::integer("min-match-len")
                    .token("MINMATCHLEN")
                    .optional(),
                arg::pure("withmatchlen", "WITHMATCHLEN").optional(),
            ],
            ..Doc::new(Group::String, "7.0.0", acl::STRING)
        },
    },
];

/// The string in an entry, or WRONGTYPE.
fn as_str(e: &Entry) -> Result<StrRef<'_>, CmdError> {
    e.str_ref().ok_or_else(|| WRONGTYPE.into())
}

#[allow(unreachable_patterns)]
fn as_str_mut(v: &mut Value) -> Result<&mut Str, CmdError> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(WRONGTYPE.into()),
    }
}

/// The string at `key`: Ok(None) if missing, WRONGTYPE if another type.
pub fn get_str<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Result<Option<StrRef<'a>>, CmdError> {
    db.lookup(key, now, Access::READ)
        .map(|e| as_str(e))
        .transpose()
}

pub fn reply_str(out: &mut ReplyBuf, s: StrRef<'_>) {
    match s {
        StrRef::Int(n) => out.bulk_int(n),
        StrRef::Bytes(b) => out.bulk(b),
        StrRef::Shared(b) => out.bulk_shared(b),
        StrRef::SharedVec(b) => out.bulk_shared_vec(b),
    }
}

/// True when the string's bytes equal `b` (integers compare as decimal).
fn str_eq(s: StrRef<'_>, b: &[u8]) -> bool {
    match s {
        StrRef::Int(n) => crate::util::num::parse_i64(b) == Some(n),
        StrRef::Bytes(x) => x == b,
        StrRef::Shared(x) => &x[..] == b,
        StrRef::SharedVec(x) => &x[..] == b,
    }
}

/// Valkey's `checkStringLength`: a string may not outgrow proto-max-bulk-len.
fn check_len(ctx: &Ctx, size: u64, append: u64) -> CmdResult {
    if size.saturating_add(append) > ctx.config().proto_max_bulk_len as u64 {
        return Err(STRING_TOO_LONG.into());
    }
    Ok(())
}

/// Grows `v` to `len` bytes (zero filled), failing instead of aborting when
/// memory runs out.
fn grow_zeroed(v: &mut Vec<u8>, len: usize) -> CmdResult {
    if len > v.len() {
        v.try_reserve(len - v.len())
            .map_err(|_| CmdError::from(STRING_TOO_LONG))?;
        v.resize(len, 0);
    }
    Ok(())
}

fn get(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    match get_str(db, &argv[1], now)? {
        Some(s) => reply_str(out, s),
        None => out.null(),
    }
    Ok(())
}

/// Which expire option was given (SET, GETEX).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Ex,
    Px,
    Exat,
    Pxat,
}

/// Options of SET and GETEX, as Valkey's shared parser accepts them: a
/// flag may repeat (the last EX/PX/EXAT/PXAT argument wins) but may not be
/// combined with one it excludes.
#[derive(Default)]
struct ExtArgs<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    ifeq: Option<&'a [u8]>,
    expire: Option<(Unit, &'a [u8])>,
}

/// Parses options from `argv[from..]`; `set` selects SET's options (NX,
/// XX, IFEQ, GET, KEEPTTL) over GETEX's (PERSIST).
fn parse_ext(argv: &[Bytes], from: usize, set: bool) -> Result<ExtArgs<'_>, CmdError> {
    let mut o = ExtArgs::default();
    let mut i = from;
    while i < argv.len() {
        let a = &argv[i][..];
        let next = argv.get(i + 1).map(|b| &b[..]);
        let unit = if is(a, "ex") {
            Some(Unit::Ex)
        } else if is(a, "px") {
            Some(Unit::Px)
        } else if is(a, "exat") {
            Some(Unit::Exat)
        } else if is(a, "pxat") {
            Some(Unit::Pxat)
        } else {
            None
        };
        if set && is(a, "nx") && !o.xx && o.ifeq.is_none() {
            o.nx = true;
        } else if set && is(a, "xx") && !o.nx && o.ifeq.is_none() {
            o.xx = true;
        } else if set && is(a, "ifeq") && !o.nx && !o.xx && o.ifeq.is_none() && next.is_some() {
            o.ifeq = next;
            i += 1;
        } else if set && is(a, "get") {
            o.get = true;
        } else if set && is(a, "keepttl") && o.expire.is_none() {
            o.keepttl = true;
        } else if !set && is(a, "persist") && o.expire.is_none() {
            o.persist = true;
        } else if let (Some(u), Some(v)) = (unit, next) {
            if o.keepttl || o.persist || o.expire.is_some_and(|(p, _)| p != u) {
                return Err(SYNTAX.into());
            }
            o.expire = Some((u, v));
            i += 1;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    Ok(o)
}

/// `ERR invalid expire time in 'set' command`, naming the command.
fn invalid_expire(cmd: &str) -> CmdError {
    CmdError::owned(format!("ERR invalid expire time in '{cmd}' command"))
}

/// The absolute expire time (Unix ms) an expire option asks for.
fn expire_at(cmd: &str, unit: Unit, arg: &[u8], now: i64) -> Result<i64, CmdError> {
    let n = int(arg)?;
    let secs = matches!(unit, Unit::Ex | Unit::Exat);
    if n <= 0 || (secs && n > i64::MAX / 1000) {
        return Err(invalid_expire(cmd));
    }
    let ms = if secs { n * 1000 } else { n };
    let when = match unit {
        Unit::Ex | Unit::Px => ms.checked_add(now),
        Unit::Exat | Unit::Pxat => Some(ms),
    };
    when.filter(|&w| w > 0).ok_or_else(|| invalid_expire(cmd))
}

/// What the SET family asks: conditions, GET, and what happens to the TTL.
#[derive(Default)]
struct SetReq<'a> {
    nx: bool,
    xx: bool,
    ifeq: Option<&'a [u8]>,
    get: bool,
    keepttl: bool,
    /// Absolute expire time in ms.
    when: Option<i64>,
}

/// The SET family's core. With `get`, the old value (or null) has been
/// replied when this returns Ok. Ok(false): a condition stopped the write.
/// Inlined into SET: passing `SetReq` to a call cost SET more than the
/// notification test added (3,341 -> 3,303 instructions per request).
#[inline(always)]
fn set_generic(ctx: &mut Ctx, key: &[u8], val: &[u8], req: SetReq) -> Result<bool, CmdError> {
    // Read once, up front: SET is the hottest write.
    let notifying = ctx.notifying(notify::NEW | notify::STRING | notify::GENERIC);
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let (found, equal) = if req.get {
        // GET counts as a read lookup, as Valkey's GET does.
        match get_str(db, key, now)? {
            None => {
                out.null();
                (false, false)
            }
            Some(s) => {
                reply_str(out, s);
                (true, req.ifeq.is_some_and(|c| str_eq(s, c)))
            }
        }
    } else {
        match db.lookup(key, now, Access::PEEK) {
            None => (false, false),
            Some(e) => match req.ifeq {
                None => (true, false),
                Some(c) => (true, str_eq(as_str(e)?, c)),
            },
        }
    };
    if (req.ifeq.is_some() && !equal) || (req.nx && found) || (req.xx && !found) {
        return Ok(false);
    }
    if let Some(when) = req.when {
        if db.already_expired(when, now) {
            // Already expired: the key ends up gone, the reply is still OK.
            if found {
                db.delete(key, now, Free::Sync);
                ctx.dirty(1);
                ctx.modified(key);
                ctx.notify(notify::EXPIRED, "expired", key);
                if ctx.propagating() {
                    let del = expire_del(ctx.config().lazyfree_lazy_expire);
                    ctx.rewrite(vec![del, arg(key)]);
                }
            }
            return Ok(true);
        }
    }
    db.set(
        key,
        Value::Str(Str::from_bytes(val)),
        req.keepttl || req.when.is_some(),
        now,
    );
    if let Some(when) = req.when {
        db.set_expire(key, when);
    }
    ctx.dirty(1);
    ctx.modified(key);
    if notifying {
        notify_set(ctx, key, !found, req.when.is_some());
    }
    Ok(true)
}

/// SET's events: `new` for a created key, `set`, and `expire` with a TTL.
#[cold]
#[inline(never)]
fn notify_set(ctx: &mut Ctx, key: &[u8], created: bool, expire: bool) {
    if created {
        ctx.notify(notify::NEW, "new", key);
    }
    ctx.notify(notify::STRING, "set", key);
    if expire {
        ctx.notify(notify::GENERIC, "expire", key);
    }
}

/// SET key value [NX | XX | IFEQ v] [GET] [EX | PX | EXAT | PXAT t | KEEPTTL]
fn set(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let o = parse_ext(argv, 3, true)?;
    let when = match o.expire {
        Some((u, a)) => Some(expire_at(ctx.cmd.name, u, a, ctx.now)?),
        None => None,
    };
    let req = SetReq {
        nx: o.nx,
        xx: o.xx,
        ifeq: o.ifeq,
        get: o.get,
        keepttl: o.keepttl,
        when,
    };
    let done = set_generic(ctx, &argv[1], &argv[2], req)?;
    if done && ctx.propagating() {
        match (o.expire, when) {
            // Past times were rewritten as the deletion.
            (Some((u, _)), Some(w)) if u != Unit::Pxat && w > ctx.now => ctx.rewrite(vec![
                word("SET"),
                arg(&argv[1]),
                arg(&argv[2]),
                word("PXAT"),
                num(w),
            ]),
            // Valkey drops every argument spelled GET after the value (an
            // IFEQ value too), unless an expire option was given.
            (None, _) if o.get => ctx.rewrite(
                argv.iter()
                    .enumerate()
                    .filter(|(i, a)| *i < 3 || !is(a, "get"))
                    .map(|(_, a)| a.clone())
                    .collect(),
            ),
            _ => {}
        }
    }
    if !o.get {
        if done {
            ctx.out.ok();
        } else {
            ctx.out.null();
        }
    }
    Ok(())
}

fn setnx(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let req = SetReq {
        nx: true,
        ..SetReq::default()
    };
    let done = set_generic(ctx, &argv[1], &argv[2], req)?;
    ctx.out.int(done as i64);
    Ok(())
}

/// SETEX and PSETEX: SET with EX or PX.
fn set_with_ttl(ctx: &mut Ctx, unit: Unit) -> CmdResult {
    let argv = ctx.argv;
    let when = expire_at(ctx.cmd.name, unit, &argv[2], ctx.now)?;
    let req = SetReq {
        when: Some(when),
        ..SetReq::default()
    };
    set_generic(ctx, &argv[1], &argv[3], req)?;
    if ctx.propagating() {
        ctx.rewrite(vec![
            word("SET"),
            arg(&argv[1]),
            arg(&argv[3]),
            word("PXAT"),
            num(when),
        ]);
    }
    ctx.out.ok();
    Ok(())
}

fn setex(ctx: &mut Ctx) -> CmdResult {
    set_with_ttl(ctx, Unit::Ex)
}

fn psetex(ctx: &mut Ctx) -> CmdResult {
    set_with_ttl(ctx, Unit::Px)
}

fn getset(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let req = SetReq {
        get: true,
        ..SetReq::default()
    };
    set_generic(ctx, &argv[1], &argv[2], req)?;
    if ctx.propagating() {
        ctx.rewrite(vec![word("SET"), arg(&argv[1]), arg(&argv[2])]);
    }
    Ok(())
}

fn getdel(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let key = &argv[1];
    let (db, out) = ctx.db_and_out();
    match get_str(db, key, now)? {
        None => out.null(),
        Some(s) => {
            reply_str(out, s);
            db.delete(key, now, Free::Sync);
            ctx.dirty(1);
            ctx.modified(key);
            ctx.notify(notify::GENERIC, "del", key);
            if ctx.propagating() {
                ctx.rewrite(vec![word("DEL"), arg(key)]);
            }
        }
    }
    Ok(())
}

/// GETEX key [EX | PX | EXAT | PXAT time | PERSIST]
fn getex(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let now = ctx.now;
    let o = parse_ext(argv, 2, false)?;
    let when = match o.expire {
        Some((u, a)) => Some((u, expire_at(ctx.cmd.name, u, a, now)?)),
        None => None,
    };
    let key = &argv[1];
    let (db, out) = ctx.db_and_out();
    match get_str(db, key, now)? {
        None => {
            out.null();
            return Ok(());
        }
        Some(s) => reply_str(out, s),
    }
    let past = match when {
        Some((Unit::Exat | Unit::Pxat, w)) => db.already_expired(w, now),
        Some((_, w)) => w <= now,
        None => false,
    };
    let changed = match when {
        // An absolute time already past deletes the key, as expiry would.
        Some((Unit::Exat | Unit::Pxat, _)) if past => db.delete(key, now, Free::Sync),
        Some((_, w)) => db.set_expire(key, w),
        None => o.persist && db.persist(key),
    };
    if changed {
        ctx.dirty(1);
        ctx.modified(key);
        match when {
            Some(_) if past => ctx.notify(notify::EXPIRED, "expired", key),
            Some(_) => ctx.notify(notify::GENERIC, "expire", key),
            None => ctx.notify(notify::GENERIC, "persist", key),
        }
        if ctx.propagating() {
            let lazy = ctx.config().lazyfree_lazy_expire;
            ctx.rewrite(match when {
                Some(_) if past => vec![expire_del(lazy), arg(key)],
                Some((_, w)) => vec![word("PEXPIREAT"), arg(key), num(w)],
                None => vec![word("PERSIST"), arg(key)],
            });
        }
    }
    Ok(())
}

/// DELIFEQ key value: deletes the key if it holds exactly `value`.
fn delifeq(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let db = ctx.db();
    let equal = match db.lookup(&argv[1], now, Access::PEEK) {
        None => false,
        Some(e) => str_eq(as_str(e)?, &argv[2]),
    };
    if equal {
        db.delete(&argv[1], now, Free::Sync);
        ctx.dirty(1);
        ctx.modified(&argv[1]);
        ctx.notify(notify::GENERIC, "del", &argv[1]);
        if ctx.propagating() {
            ctx.rewrite(vec![word("DEL"), arg(&argv[1])]);
        }
    }
    ctx.out.int(equal as i64);
    Ok(())
}

fn mget(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    out.array(argv.len() - 1);
    for key in &argv[1..] {
        // Keys of other types read as missing, as in Valkey.
        match db.lookup(key, now, Access::READ).map(|e| as_str(e)) {
            Some(Ok(s)) => reply_str(out, s),
            _ => out.null(),
        }
    }
    Ok(())
}

/// MSET and MSETNX (`nx`): all pairs are set, or (MSETNX) none if any
/// key exists.
fn mset_generic(ctx: &mut Ctx, nx: bool) -> Result<bool, CmdError> {
    let argv = ctx.argv;
    if argv.len().is_multiple_of(2) {
        return Err(wrong_arity(ctx.cmd.name));
    }
    let now = ctx.now;
    let db = ctx.db();
    if nx
        && argv[1..]
            .chunks(2)
            .any(|p| db.lookup(&p[0], now, Access::PEEK).is_some())
    {
        return Ok(false);
    }
    for pair in argv[1..].chunks(2) {
        ctx.notify_if_new(&pair[0]);
        let db = ctx.db();
        db.set(&pair[0], Value::Str(Str::from_bytes(&pair[1])), false, now);
        ctx.notify(notify::STRING, "set", &pair[0]);
    }
    ctx.dirty((argv.len() / 2) as u64);
    for pair in argv[1..].chunks(2) {
        ctx.modified(&pair[0]);
    }
    Ok(true)
}

fn mset(ctx: &mut Ctx) -> CmdResult {
    mset_generic(ctx, false)?;
    ctx.out.ok();
    Ok(())
}

fn msetnx(ctx: &mut Ctx) -> CmdResult {
    let done = mset_generic(ctx, true)?;
    ctx.out.int(done as i64);
    Ok(())
}

/// INCR family: adds `by` to the integer at argv[1], keeping its TTL.
fn incr_by(ctx: &mut Ctx, by: i64) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let key = &argv[1];
    let db = ctx.db();
    let v = match db.lookup(key, now, Access::WRITE) {
        Some(e) => {
            let cur = as_str(e)?.as_int().ok_or(CmdError::from(NOT_INTEGER))?;
            let v = cur.checked_add(by).ok_or(CmdError::from(OVERFLOW))?;
            // In place for an integer already embedded; the old value held
            // an integer, so it is small: drop it here.
            drop(e.replace_value(Value::Str(Str::Int(v))));
            v
        }
        None => {
            db.add(key, Value::Str(Str::Int(by)), now);
            ctx.notify(notify::NEW, "new", key);
            by
        }
    };
    ctx.dirty(1);
    ctx.modified(key);
    ctx.notify(notify::STRING, "incrby", key);
    ctx.out.int(v);
    Ok(())
}

fn incr(ctx: &mut Ctx) -> CmdResult {
    incr_by(ctx, 1)
}

fn decr(ctx: &mut Ctx) -> CmdResult {
    incr_by(ctx, -1)
}

fn incrby(ctx: &mut Ctx) -> CmdResult {
    let by = int(&ctx.argv[2])?;
    incr_by(ctx, by)
}

fn decrby(ctx: &mut Ctx) -> CmdResult {
    let by = int(&ctx.argv[2])?;
    // -i64::MIN does not exist.
    let neg = by.checked_neg().ok_or(CmdError::from(DECREMENT_OVERFLOW))?;
    incr_by(ctx, neg)
}

/// INCRBYFLOAT: long double arithmetic as Valkey's, see `long_double`. The
/// result is stored as text (never `int` encoded) and the TTL is kept.
fn incrbyfloat(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let key = &argv[1];
    let db = ctx.db();
    let cur = match db.lookup(key, now, Access::WRITE) {
        None => None,
        Some(e) => Some(match as_str(e)? {
            StrRef::Int(n) => Parsed::Finite(Ld::from_i64(n)),
            s => long_double::parse(&s.to_bytes()).ok_or(CmdError::from(NOT_FLOAT))?,
        }),
    };
    let by = long_double::parse(&argv[2]).ok_or(CmdError::from(NOT_FLOAT))?;
    let sum = match (cur.unwrap_or(Parsed::Finite(Ld::ZERO)), by) {
        (Parsed::Finite(a), Parsed::Finite(b)) => long_double::add(a, b),
        _ => None,
    };
    let text = long_double::format(sum.ok_or(CmdError::from(INCR_NAN_OR_INF))?);
    let new = Value::Str(Str::Fixed(Bytes24::new(text.as_bytes())));
    match db.lookup(key, now, Access::WRITE) {
        Some(e) => {
            if let Some(old) = e.replace_value(new) {
                db.discard(old);
            }
        }
        None => {
            db.add(key, new, now);
            ctx.notify(notify::NEW, "new", key);
        }
    }
    ctx.out.bulk(text.as_bytes());
    ctx.dirty(1);
    ctx.modified(key);
    ctx.notify(notify::STRING, "incrbyfloat", key);
    if ctx.propagating() {
        // The result, not the increment: replicas must not redo the
        // arithmetic (their long double may differ).
        ctx.rewrite(vec![
            word("SET"),
            arg(key),
            arg(text.as_bytes()),
            word("KEEPTTL"),
        ]);
    }
    Ok(())
}

fn append(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (key, tail) = (&argv[1], &argv[2]);
    let max = ctx.config().proto_max_bulk_len as u64;
    let db = ctx.db();
    let len = match db.lookup(key, now, Access::WRITE) {
        None => {
            let s = Str::from_bytes(tail);
            let len = s.len();
            db.add(key, Value::Str(s), now);
            ctx.notify(notify::NEW, "new", key);
            len
        }
        Some(e) => {
            let s = as_str_mut(e.value_mut())?;
            if (s.len() as u64).saturating_add(tail.len() as u64) > max {
                return Err(STRING_TOO_LONG.into());
            }
            let v = s.make_growable();
            v.try_reserve(tail.len())
                .map_err(|_| CmdError::from(STRING_TOO_LONG))?;
            v.extend_from_slice(tail);
            let len = v.len();
            s.settle();
            len
        }
    };
    ctx.dirty(1);
    ctx.modified(key);
    ctx.notify(notify::STRING, "append", key);
    ctx.out.int(len as i64);
    Ok(())
}

fn strlen(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let len = get_str(ctx.db(), &argv[1], now)?.map_or(0, |s| s.len());
    ctx.out.int(len as i64);
    Ok(())
}

/// The inclusive byte range GETRANGE returns, None when empty.
fn substr_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i128;
    let (start, end) = (start as i128, end as i128);
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    if len == 0 || start > end {
        return None;
    }
    Some((start as usize, end as usize))
}

/// GETRANGE (and SUBSTR) key start end
fn getrange(ctx: &mut Ctx) -> CmdResult {
    let start = int(&ctx.argv[2])?;
    let end = int(&ctx.argv[3])?;
    let now = ctx.now;
    let argv = ctx.argv;
    let (db, out) = ctx.db_and_out();
    let Some(s) = get_str(db, &argv[1], now)? else {
        out.bulk(b"");
        return Ok(());
    };
    let bytes = s.to_bytes();
    match substr_range(start, end, bytes.len()) {
        Some((a, b)) => out.bulk(&bytes[a..=b]),
        None => out.bulk(b""),
    }
    Ok(())
}

/// SETRANGE key offset value
fn setrange(ctx: &mut Ctx) -> CmdResult {
    let offset = int(&ctx.argv[2])?;
    if offset < 0 {
        return Err(OFFSET_OUT_OF_RANGE.into());
    }
    let now = ctx.now;
    let argv = ctx.argv;
    let (key, value) = (&argv[1], &argv[3]);
    let too_long = check_len(ctx, offset as u64, value.len() as u64);
    // offset + len fits in usize once check_len has passed.
    let end = (offset as usize).wrapping_add(value.len());
    let db = ctx.db();
    let len = match db.lookup(key, now, Access::WRITE) {
        None => {
            if value.is_empty() {
                // Nothing to write: no key is created.
                ctx.out.int(0);
                return Ok(());
            }
            too_long?;
            let mut v = Vec::new();
            grow_zeroed(&mut v, end)?;
            v[offset as usize..].copy_from_slice(value);
            db.add(key, Value::Str(Str::grown(v)), now);
            ctx.notify(notify::NEW, "new", key);
            end
        }
        Some(e) => {
            let s = as_str_mut(e.value_mut())?;
            if value.is_empty() {
                let len = s.len();
                ctx.out.int(len as i64);
                return Ok(());
            }
            too_long?;
            let v = s.make_growable();
            grow_zeroed(v, end)?;
            v[offset as usize..end].copy_from_slice(value);
            let len = v.len();
            s.settle();
            len
        }
    };
    ctx.dirty(1);
    ctx.modified(key);
    ctx.notify(notify::STRING, "setrange", key);
    ctx.out.int(len as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getrange_indexes() {
        // (start, end, len) → what Valkey returns for "Hello World".
        assert_eq!(substr_range(-5, -1, 11), Some((6, 10)));
        assert_eq!(substr_range(-1, -5, 11), None);
        assert_eq!(substr_range(0, -100, 11), Some((0, 0)));
        assert_eq!(substr_range(-100, -100, 11), Some((0, 0)));
        assert_eq!(substr_range(5, 3, 11), None);
        assert_eq!(substr_range(0, 100, 11), Some((0, 10)));
        assert_eq!(substr_range(100, 200, 11), None);
        assert_eq!(substr_range(i64::MIN, i64::MAX, 11), Some((0, 10)));
        assert_eq!(substr_range(0, -1, 0), None);
        assert_eq!(substr_range(-1, 0, 0), None);
    }

    #[test]
    fn ext_args_rules() {
        let v =
            |s: &str| -> Vec<Bytes> { s.split(' ').map(|a| Bytes::from(a.to_string())).collect() };
        let ok = |s: &str, set: bool| parse_ext(&v(s), 0, set).is_ok();
        assert!(ok("nx nx get get keepttl keepttl", true));
        assert!(ok("ex 10 ex abc", true));
        assert!(ok("ifeq v get px 5", true));
        assert!(!ok("nx xx", true));
        assert!(!ok("ifeq v ifeq v", true));
        assert!(!ok("xx ifeq v", true));
        assert!(!ok("ex 10 px 10", true));
        assert!(!ok("keepttl ex 10", true));
        assert!(!ok("ex", true));
        assert!(!ok("persist", true));
        assert!(ok("persist persist", false));
        assert!(!ok("persist ex 1", false));
        assert!(!ok("keepttl", false));
        assert!(!ok("get", false));
        let now = 1_700_000_000_000;
        assert!(expire_at("set", Unit::Ex, b"0", now).is_err());
        assert!(expire_at("set", Unit::Ex, b"9223372036854775", now).is_err());
        assert_eq!(
            expire_at("set", Unit::Ex, b"9223372036855", now),
            Ok(9223372036855000 + now)
        );
        assert!(expire_at("set", Unit::Exat, b"9223372036854776", now).is_err());
        assert_eq!(
            expire_at("set", Unit::Pxat, b"9223372036854775807", now),
            Ok(i64::MAX)
        );
        assert_eq!(
            expire_at("getex", Unit::Px, b"9223372036854775000", now)
                .unwrap_err()
                .0,
            "ERR invalid expire time in 'getex' command"
        );
    }
}
