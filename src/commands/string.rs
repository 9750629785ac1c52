//! String commands: GET, SET and friends, counters, ranges, LCS.
//!
//! Values are `Str`s: `Int` for integers (kept by the INCR family), `Fixed`
//! when set whole, `Growable` once edited in place (APPEND, SETRANGE), which
//! gives the OBJECT ENCODING names Valkey reports. Writes count lookups the
//! way Valkey does: read paths (`Db::get`) count hits and misses, write paths
//! (`peek`, `get_entry_mut`) do not.

use bytes::Bytes;

use super::args::{int, is};
use super::flags::*;
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::{
    wrong_arity, CmdError, CmdResult, DECREMENT_OVERFLOW, INCR_NAN_OR_INF, LCS_ALLOC_FAILED,
    LCS_LEN_AND_IDX, LCS_MEMORY_LIMIT, LCS_NOT_STRINGS, LCS_TOO_LONG, NOT_FLOAT, NOT_INTEGER,
    OFFSET_OUT_OF_RANGE, OVERFLOW, STRING_TOO_LONG, SYNTAX, WRONGTYPE,
};
use crate::keyspace::{Bytes24, Db, Entry, Str, StrRef, Value};
use crate::resp::ReplyBuf;
use long_double::{Ld, Parsed};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "get",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Returns the string value of a key.",
        since: "1.0.0",
        complexity: "O(1)",
        syntax: "key",
        handler: get,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        since: "1.0.0",
        complexity: "O(1)",
        syntax: "key value [NX | XX | IFEQ comparison-value] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]",
        handler: set,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setnx",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Sets the string value of a key only when the key doesn't exist.",
        since: "1.0.0",
        complexity: "O(1)",
        syntax: "key value",
        handler: setnx,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setex",
        arity: 4,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
        since: "2.0.0",
        complexity: "O(1)",
        syntax: "key seconds value",
        handler: setex,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "psetex",
        arity: 4,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
        since: "2.6.0",
        complexity: "O(1)",
        syntax: "key milliseconds value",
        handler: psetex,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getset",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Returns the previous string value of a key after setting it to a new value.",
        since: "1.0.0",
        complexity: "O(1)",
        syntax: "key value",
        handler: getset,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getdel",
        arity: 2,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Returns the string value of a key after deleting the key.",
        since: "6.2.0",
        complexity: "O(1)",
        syntax: "key",
        handler: getdel,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getex",
        arity: -2,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Returns the string value of a key after setting its expiration time.",
        since: "6.2.0",
        complexity: "O(1)",
        syntax: "key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]",
        handler: getex,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "delifeq",
        arity: 3,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Delete key if value matches string.",
        since: "9.0.0",
        complexity: "O(1)",
        syntax: "key value",
        handler: delifeq,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "mget",
        arity: -2,
        flags: READONLY | FAST,
        keys: KeySpec::range(1, -1, 1),
        group: "string",
        summary: "Atomically returns the string values of one or more keys.",
        since: "1.0.0",
        complexity: "O(N) where N is the number of keys to retrieve.",
        syntax: "key [key ...]",
        handler: mget,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "mset",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, -1, 2),
        group: "string",
        summary: "Atomically creates or modifies the string values of one or more keys.",
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys to set.",
        syntax: "key value [key value ...]",
        handler: mset,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "msetnx",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: KeySpec::range(1, -1, 2),
        group: "string",
        summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.",
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys to set.",
        syntax: "key value [key value ...]",
        handler: msetnx,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incr",
        arity: 2,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        since: "1.0.0",
        complexity: "O(1)",
        syntax: "key",
        handler: incr,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "decr",
        arity: 2,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        since: "1.0.0",
        complexity: "O(1)",
        syntax: "key",
        handler: decr,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incrby",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        since: "1.0.0",
        complexity: "O(1)",
        syntax: "key increment",
        handler: incrby,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "decrby",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Decrements the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        since: "1.0.0",
        complexity: "O(1)",
        syntax: "key decrement",
        handler: decrby,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incrbyfloat",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Increments the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        since: "2.6.0",
        complexity: "O(1)",
        syntax: "key increment",
        handler: incrbyfloat,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "append",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.",
        since: "2.0.0",
        complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by the server will double the free space available on every reallocation.",
        syntax: "key value",
        handler: append,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "strlen",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Returns the length of a string value.",
        since: "2.2.0",
        complexity: "O(1)",
        syntax: "key",
        handler: strlen,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getrange",
        arity: 4,
        flags: READONLY,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Returns a substring of the string stored at a key.",
        since: "2.4.0",
        complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
        syntax: "key start end",
        handler: getrange,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "substr",
        arity: 4,
        flags: READONLY,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Returns a substring from a string value.",
        since: "1.0.0",
        complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
        syntax: "key start end",
        handler: getrange,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setrange",
        arity: 4,
        flags: WRITE | DENYOOM,
        keys: KeySpec::ONE,
        group: "string",
        summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
        since: "2.2.0",
        complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
        syntax: "key offset value",
        handler: setrange,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lcs",
        arity: -3,
        flags: READONLY,
        keys: KeySpec::range(1, 2, 1),
        group: "string",
        summary: "Finds the longest common substring.",
        since: "7.0.0",
        complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        syntax: "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]",
        handler: lcs,
        ..CommandSpec::DEFAULT
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
    db.get_entry(key, now).map(as_str).transpose()
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
        StrRef::Int(n) => crate::resp::parser::parse_i64(b) == Some(n),
        StrRef::Bytes(x) => x == b,
        StrRef::Shared(x) => &x[..] == b,
        StrRef::SharedVec(x) => &x[..] == b,
    }
}

/// Valkey's `checkStringLength`: a string may not outgrow proto-max-bulk-len.
fn check_len(ctx: &Ctx, size: u64, append: u64) -> CmdResult {
    if size.saturating_add(append) > ctx.state.config.proto_max_bulk_len as u64 {
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
fn set_generic(ctx: &mut Ctx, key: &[u8], val: &[u8], req: SetReq) -> Result<bool, CmdError> {
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
        match db.peek(key, now) {
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
        if when <= now {
            // Already expired: the key ends up gone, the reply is still OK.
            if found {
                db.delete(key, now);
                ctx.dirty(1);
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
    Ok(true)
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
            db.delete(key, now);
            ctx.dirty(1);
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
    let changed = match when {
        // An absolute time already past deletes the key, as expiry would.
        Some((Unit::Exat | Unit::Pxat, w)) if w <= now => db.delete(key, now),
        Some((_, w)) => db.set_expire(key, w),
        None => o.persist && db.persist(key),
    };
    if changed {
        ctx.dirty(1);
    }
    Ok(())
}

/// DELIFEQ key value: deletes the key if it holds exactly `value`.
fn delifeq(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let db = ctx.db();
    let equal = match db.peek(&argv[1], now) {
        None => false,
        Some(e) => str_eq(as_str(e)?, &argv[2]),
    };
    if equal {
        db.delete(&argv[1], now);
        ctx.dirty(1);
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
        match db.get_entry(key, now).map(as_str) {
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
    if nx && argv[1..].chunks(2).any(|p| db.exists(&p[0], now)) {
        return Ok(false);
    }
    for pair in argv[1..].chunks(2) {
        db.set(&pair[0], Value::Str(Str::from_bytes(&pair[1])), false, now);
    }
    ctx.dirty((argv.len() / 2) as u64);
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
    let v = match db.get_entry_mut(key, now) {
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
            by
        }
    };
    ctx.dirty(1);
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
    let (db, out) = ctx.db_and_out();
    let cur = match db.get_entry_mut(key, now) {
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
    match db.get_entry_mut(key, now) {
        Some(e) => {
            if let Some(old) = e.replace_value(new) {
                db.discard(old);
            }
        }
        None => db.add(key, new, now),
    }
    out.bulk(text.as_bytes());
    ctx.dirty(1);
    Ok(())
}

fn append(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let (key, tail) = (&argv[1], &argv[2]);
    let max = ctx.state.config.proto_max_bulk_len as u64;
    let db = ctx.db();
    let len = match db.get_entry_mut(key, now) {
        None => {
            let s = Str::from_bytes(tail);
            let len = s.len();
            db.add(key, Value::Str(s), now);
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
    let len = match db.get_entry_mut(key, now) {
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
    ctx.out.int(len as i64);
    Ok(())
}

/// One matching range of LCS IDX: positions in a and b, inclusive.
struct Match {
    a: (u32, u32),
    b: (u32, u32),
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]
fn lcs(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let max_bulk = ctx.state.config.proto_max_bulk_len as u64;
    let db = ctx.db();
    // Both keys are looked up (and counted) before either is checked.
    let a = db
        .get_entry(&argv[1], now)
        .map(|e| as_str(e).map(|s| s.to_bytes().into_owned()));
    let b = db
        .get_entry(&argv[2], now)
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

/// Valkey's INCRBYFLOAT arithmetic, reproduced exactly.
///
/// Valkey parses both operands with `strtold`, adds them as x87 80-bit
/// `long double`s (64-bit mantissa) and prints the sum with `%.17Lf`, trailing
/// zeros trimmed. `f64` cannot reproduce that (`0.1 + 0.2`, or
/// `18446744073709551615 + 0`, print differently), so this module does the
/// same three steps in software: correctly rounded decimal (and hex) parsing,
/// a correctly rounded addition (round half to even, subnormals included), and
/// an exact decimal print. Exponents reach the long double's (about 1e±4932).
///
/// Limits: this is Valkey as built for x86-64, where `long double` is the x87
/// format; a Valkey built where it is 64-bit (or 128-bit, as on aarch64
/// Linux) prints differently in the last digits. Inputs are capped at 5 KiB
/// as in Valkey, which bounds the big-number work of one call (well under a
/// millisecond for the longest inputs).
pub mod long_double {
    /// Largest binary exponent of a finite value's leading bit.
    const MAX_LEAD: i32 = 16383;
    /// Weight of the smallest subnormal: 2^-16445.
    const MIN_LSB: i32 = -16445;
    /// `MAX_LONG_DOUBLE_CHARS`: longer inputs are rejected by Valkey.
    pub const MAX_CHARS: usize = 5 * 1024;
    /// Decimal exponents beyond this are out of range whatever the digits.
    const EXP_CLAMP: i64 = 1_000_000;

    /// A finite value: (-1)^neg × mant × 2^exp (`mant` need not be normalized).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Ld {
        pub neg: bool,
        pub mant: u64,
        pub exp: i32,
    }

    /// What `strtold` accepted: a finite value or an infinity.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Parsed {
        Finite(Ld),
        Inf,
    }

    impl Ld {
        pub const ZERO: Ld = Ld {
            neg: false,
            mant: 0,
            exp: 0,
        };

        /// Exact, as C's `(long double)` of a `long long`.
        pub fn from_i64(n: i64) -> Ld {
            Ld {
                neg: n < 0,
                mant: n.unsigned_abs(),
                exp: 0,
            }
        }
    }

    fn bits64(m: u64) -> i32 {
        64 - m.leading_zeros() as i32
    }

    fn bits128(m: u128) -> i32 {
        128 - m.leading_zeros() as i32
    }

    /// Rounds (-1)^neg × r × 2^e0 to the long double grid, ties to even.
    /// When `r` carries a sticky bit it is bit 0, with bit 0 of the exact part
    /// known to be zero, so the rounding point (always ≥ 60 bits up in that
    /// case) never meets a value that only looks like a tie. None: overflow.
    fn round(neg: bool, r: u128, e0: i32) -> Option<Ld> {
        if r == 0 {
            return Some(Ld {
                neg,
                mant: 0,
                exp: 0,
            });
        }
        let lead = e0 + bits128(r) - 1;
        let lsb = (lead - 63).max(MIN_LSB);
        let shift = lsb - e0;
        let (m, mut exp) = if shift <= 0 {
            // Exact: at most 64 bits once shifted up (lsb ≥ lead - 63).
            ((r << (-shift) as u32) as u64, lsb)
        } else if shift > 128 {
            (0u64, lsb)
        } else {
            let (q, rem) = if shift == 128 {
                (0u128, r)
            } else {
                (r >> shift, r & ((1u128 << shift) - 1))
            };
            let half = 1u128 << (shift - 1);
            let up = rem > half || (rem == half && q & 1 == 1);
            let q = q + up as u128;
            // q ≤ 2^64: at most one carry out of the 64-bit mantissa.
            if q >> 64 != 0 {
                ((q >> 1) as u64, lsb + 1)
            } else {
                (q as u64, lsb)
            }
        };
        if m == 0 {
            exp = 0;
        } else if exp + bits64(m) - 1 > MAX_LEAD {
            return None;
        }
        Some(Ld { neg, mant: m, exp })
    }

    /// `a + b` rounded as the x87 does; None when it overflows.
    pub fn add(a: Ld, b: Ld) -> Option<Ld> {
        if a.mant == 0 {
            return Some(if b.mant == 0 {
                // IEEE: -0 + -0 = -0, any other sum of zeros is +0.
                Ld {
                    neg: a.neg && b.neg,
                    ..Ld::ZERO
                }
            } else {
                b
            });
        }
        if b.mant == 0 {
            return Some(a);
        }
        let lead = |x: &Ld| x.exp + bits64(x.mant) - 1;
        let (x, y) = if lead(&a) >= lead(&b) { (a, b) } else { (b, a) };
        // x as a 125-bit number: bit 0 stays free for y's sticky bit.
        let sx = 125 - bits64(x.mant);
        let ex0 = x.exp - sx;
        let xv = (x.mant as u128) << sx;
        let d = y.exp - ex0;
        let yv = if d >= 1 {
            // y's leading bit is at most x's: fits in 125 bits.
            (y.mant as u128) << d
        } else {
            let drop = (1 - d) as u32;
            let (kept, lost) = if drop >= 64 {
                (0u64, y.mant != 0)
            } else {
                (y.mant >> drop, y.mant & ((1u64 << drop) - 1) != 0)
            };
            ((kept as u128) << 1) | lost as u128
        };
        let (neg, r) = if x.neg == y.neg {
            (x.neg, xv + yv)
        } else if xv >= yv {
            (x.neg, xv - yv)
        } else {
            (y.neg, yv - xv)
        };
        if r == 0 {
            return Some(Ld::ZERO);
        }
        round(neg, r, ex0)
    }

    /// Parses as Valkey's `string2ld`: the whole input must be one `strtold`
    /// number (decimal or hex, `inf`/`infinity`), no leading space, no NaN,
    /// and no overflow or underflow to zero. None means "not a valid float".
    pub fn parse(s: &[u8]) -> Option<Parsed> {
        if s.is_empty() || s.len() >= MAX_CHARS {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(Parsed::Inf);
        }
        let v = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            parse_hex(neg, &body[2..])
        } else {
            parse_dec(neg, body)
        }?;
        Some(Parsed::Finite(v))
    }

    /// Splits `digits [. digits]` off the front; returns (int, frac, rest).
    fn mantissa(s: &[u8], hex: bool) -> Option<(&[u8], &[u8], &[u8])> {
        let is_digit = |c: &u8| {
            if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }
        };
        let n_int = s.iter().take_while(|c| is_digit(c)).count();
        let (int, rest) = s.split_at(n_int);
        let (frac, rest) = match rest.split_first() {
            Some((b'.', after)) => {
                let n = after.iter().take_while(|c| is_digit(c)).count();
                after.split_at(n)
            }
            _ => (&rest[..0], rest),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        Some((int, frac, rest))
    }

    /// An exponent suffix `[+-]digits` filling all of `s`, clamped.
    fn exponent(s: &[u8]) -> Option<i64> {
        let (neg, digits) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut v: i64 = 0;
        for &c in digits {
            v = (v * 10 + (c - b'0') as i64).min(EXP_CLAMP);
        }
        Some(if neg { -v } else { v })
    }

    fn parse_dec(neg: bool, s: &[u8]) -> Option<Ld> {
        let (int, frac, rest) = mantissa(s, false)?;
        let e10 = match rest.split_first() {
            None => 0,
            Some((c, after)) if c | 0x20 == b'e' => exponent(after)?,
            Some(_) => return None,
        };
        // All digits as one integer D with value = D × 10^e.
        let all: Vec<u8> = int.iter().chain(frac).copied().collect();
        let first = all.iter().position(|&c| c != b'0');
        let Some(first) = first else {
            return Some(Ld { neg, ..Ld::ZERO });
        };
        let last = all.iter().rposition(|&c| c != b'0').unwrap_or(first);
        let digits = &all[first..=last];
        let e = e10 - frac.len() as i64 + (all.len() - 1 - last) as i64;
        let n = digits.len() as i64;
        // 10^(n-1+e) ≤ value < 10^(n+e); LDBL_MAX ≈ 1.19e4932, and half the
        // smallest subnormal ≈ 1.8e-4951.
        if n - 1 + e >= 4933 || n + e <= -4951 {
            return None;
        }
        let d = Big::from_digits(digits, 10);
        let v = if e >= 0 {
            let mut d = d;
            d.mul_pow10(e as u32);
            round_big(neg, &d, 0)?
        } else {
            let mut den = Big::from_u64(1);
            den.mul_pow10((-e) as u32);
            round_ratio(neg, &d, &den)?
        };
        // Underflow to zero is an ERANGE that Valkey rejects.
        (v.mant != 0).then_some(v)
    }

    fn parse_hex(neg: bool, s: &[u8]) -> Option<Ld> {
        let (int, frac, rest) = mantissa(s, true)?;
        let e2 = match rest.split_first() {
            None => 0,
            Some((c, after)) if c | 0x20 == b'p' => exponent(after)?,
            Some(_) => return None,
        };
        let all: Vec<u8> = int.iter().chain(frac).copied().collect();
        let Some(first) = all.iter().position(|&c| c != b'0') else {
            return Some(Ld { neg, ..Ld::ZERO });
        };
        let h = Big::from_digits(&all[first..], 16);
        let e = e2 - 4 * frac.len() as i64;
        let lead = e + h.bit_len() as i64 - 1;
        if lead > MAX_LEAD as i64 || lead < MIN_LSB as i64 - 2 {
            return None;
        }
        let v = round_big(neg, &h, e as i32)?;
        (v.mant != 0).then_some(v)
    }

    /// Rounds (-1)^neg × n × 2^e2.
    fn round_big(neg: bool, n: &Big, e2: i32) -> Option<Ld> {
        let len = n.bit_len() as i32;
        if len <= 126 {
            return round(neg, n.bits_from(0), e2);
        }
        let drop = (len - 125) as u32;
        let sticky = n.any_below(drop);
        let r = (n.bits_from(drop) << 1) | sticky as u128;
        round(neg, r, e2 + drop as i32 - 1)
    }

    /// Rounds (-1)^neg × num / den (both non-zero).
    fn round_ratio(neg: bool, num: &Big, den: &Big) -> Option<Ld> {
        // Scale so the quotient has 67 or 68 bits: enough above the 64 kept
        // for rounding, with the remainder as a sticky bit.
        let t = den.bit_len() as i64 + 67 - num.bit_len() as i64;
        let (mut rem, mut sub) = if t >= 0 {
            (num.shl(t as u32), den.shl(67))
        } else {
            (num.clone(), den.shl((67 - t) as u32))
        };
        let mut q: u128 = 0;
        for i in (0..68).rev() {
            if rem.ge(&sub) {
                rem.sub_assign(&sub);
                q |= 1u128 << i;
            }
            sub.shr1();
        }
        let r = (q << 1) | !rem.is_zero() as u128;
        round(neg, r, (-t - 1) as i32)
    }

    /// `%.17Lf` with trailing zeros (and a bare point) removed, and "-0"
    /// turned into "0": the text INCRBYFLOAT stores and replies.
    pub fn format(x: Ld) -> String {
        let mut digits = if x.exp >= 0 {
            Big::from_u64(x.mant).shl(x.exp as u32).into_decimal()
        } else {
            // The value × 10^17, rounded half to even, as printf does.
            let p = x.mant as u128 * 100_000_000_000_000_000u128;
            let k = (-x.exp) as u32;
            let q = if k >= 128 {
                0 // p < 2^121: below half of 2^k
            } else {
                let q = p >> k;
                let rem = p & ((1u128 << k) - 1);
                let half = 1u128 << (k - 1);
                q + (rem > half || (rem == half && q & 1 == 1)) as u128
            };
            let mut s = q.to_string();
            if s.len() < 18 {
                s.insert_str(0, &"0".repeat(18 - s.len()));
            }
            let point = s.len() - 17;
            let frac = s[point..].trim_end_matches('0').to_string();
            s.truncate(point);
            if !frac.is_empty() {
                s.push('.');
                s.push_str(&frac);
            }
            s
        };
        if x.neg && digits != "0" {
            digits.insert(0, '-');
        }
        digits
    }

    /// A little-endian unsigned big integer, just what the conversions need.
    #[derive(Clone, Debug)]
    struct Big(Vec<u64>);

    impl Big {
        fn from_u64(v: u64) -> Big {
            let mut b = Big(vec![v]);
            b.trim();
            b
        }

        fn trim(&mut self) {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }

        fn is_zero(&self) -> bool {
            self.0.is_empty()
        }

        /// self = self × m + a.
        fn mul_add(&mut self, m: u64, a: u64) {
            let mut carry = a as u128;
            for limb in &mut self.0 {
                let v = *limb as u128 * m as u128 + carry;
                *limb = v as u64;
                carry = v >> 64;
            }
            if carry != 0 {
                self.0.push(carry as u64);
            }
        }

        /// Digits in base 10 or 16 (ASCII), most significant first.
        fn from_digits(d: &[u8], radix: u64) -> Big {
            let chunk = if radix == 10 { 19 } else { 15 };
            let mut b = Big(Vec::with_capacity(d.len() / 16 + 1));
            for part in d.chunks(chunk) {
                let mut v = 0u64;
                let mut scale = 1u64;
                for &c in part {
                    let digit = (c as char).to_digit(radix as u32).unwrap_or(0) as u64;
                    v = v * radix + digit;
                    scale *= radix;
                }
                b.mul_add(scale, v);
            }
            b.trim();
            b
        }

        fn mul_pow10(&mut self, mut k: u32) {
            while k >= 19 {
                self.mul_add(10_000_000_000_000_000_000, 0);
                k -= 19;
            }
            if k > 0 {
                self.mul_add(10u64.pow(k), 0);
            }
        }

        fn bit_len(&self) -> u32 {
            match self.0.last() {
                None => 0,
                Some(top) => self.0.len() as u32 * 64 - top.leading_zeros(),
            }
        }

        fn shl(&self, n: u32) -> Big {
            let (limbs, bits) = ((n / 64) as usize, n % 64);
            let mut v = vec![0u64; limbs];
            v.reserve(self.0.len() + 1);
            let mut carry = 0u64;
            for &l in &self.0 {
                if bits == 0 {
                    v.push(l);
                } else {
                    v.push((l << bits) | carry);
                    carry = l >> (64 - bits);
                }
            }
            v.push(carry);
            let mut b = Big(v);
            b.trim();
            b
        }

        fn shr1(&mut self) {
            let mut carry = 0u64;
            for l in self.0.iter_mut().rev() {
                let next = *l & 1;
                *l = (*l >> 1) | (carry << 63);
                carry = next;
            }
            self.trim();
        }

        fn ge(&self, o: &Big) -> bool {
            if self.0.len() != o.0.len() {
                return self.0.len() > o.0.len();
            }
            for (a, b) in self.0.iter().rev().zip(o.0.iter().rev()) {
                if a != b {
                    return a > b;
                }
            }
            true
        }

        /// self -= o, with self ≥ o.
        fn sub_assign(&mut self, o: &Big) {
            let mut borrow = false;
            for (i, l) in self.0.iter_mut().enumerate() {
                let s = o.0.get(i).copied().unwrap_or(0);
                let (v, b1) = l.overflowing_sub(s);
                let (v, b2) = v.overflowing_sub(borrow as u64);
                *l = v;
                borrow = b1 || b2;
            }
            self.trim();
        }

        /// Any of the bits below `n` set.
        fn any_below(&self, n: u32) -> bool {
            let (limbs, bits) = ((n / 64) as usize, n % 64);
            self.0.iter().take(limbs).any(|&l| l != 0)
                || (bits > 0
                    && self
                        .0
                        .get(limbs)
                        .is_some_and(|&l| l & ((1u64 << bits) - 1) != 0))
        }

        /// The 128 bits starting at bit `from`.
        fn bits_from(&self, from: u32) -> u128 {
            let limb = |i: usize| self.0.get(i).copied().unwrap_or(0) as u128;
            let (i, bits) = ((from / 64) as usize, from % 64);
            let lo = limb(i) | (limb(i + 1) << 64);
            if bits == 0 {
                lo
            } else {
                (lo >> bits) | (limb(i + 2) << (128 - bits))
            }
        }

        fn into_decimal(mut self) -> String {
            const CHUNK: u64 = 10_000_000_000_000_000_000;
            let mut parts = Vec::new();
            while !self.is_zero() {
                let mut rem = 0u128;
                for l in self.0.iter_mut().rev() {
                    let cur = (rem << 64) | *l as u128;
                    *l = (cur / CHUNK as u128) as u64;
                    rem = cur % CHUNK as u128;
                }
                self.trim();
                parts.push(rem as u64);
            }
            let mut s = match parts.pop() {
                None => return "0".into(),
                Some(top) => top.to_string(),
            };
            for p in parts.iter().rev() {
                s.push_str(&format!("{p:019}"));
            }
            s
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn fin(s: &str) -> Ld {
            match parse(s.as_bytes()) {
                Some(Parsed::Finite(v)) => v,
                other => panic!("{s}: {other:?}"),
            }
        }

        fn sum(a: &str, b: &str) -> String {
            format(add(fin(a), fin(b)).expect("finite"))
        }

        #[test]
        fn sums_print_like_valkey() {
            // Each expectation is what Valkey 9.1 replied.
            assert_eq!(sum("0.1", "0.2"), "0.3");
            assert_eq!(sum("10.5", "0.1"), "10.6");
            assert_eq!(sum("0", "5.0e3"), "5000");
            assert_eq!(sum("0", "1e20"), "100000000000000000000");
            assert_eq!(sum("18446744073709551615", "0"), "18446744073709551615");
            assert_eq!(sum("1.5", "1.5"), "3");
            assert_eq!(sum("17179869184", "1.5"), "17179869185.5");
            assert_eq!(sum("0", "0x10"), "16");
            assert_eq!(sum("16", "0x1.8p1"), "19");
            assert_eq!(sum("0", "-0.0"), "0");
            assert_eq!(sum("1e-18", "-1e-18"), "0");
            assert_eq!(sum("0", "1e-18"), "0");
            assert_eq!(sum("0", "0.000000000000000005"), "0");
            assert_eq!(sum("0", "0.000000000000000015"), "0.00000000000000002");
            assert_eq!(sum("0", "0.000000000000000025"), "0.00000000000000002");
            assert_eq!(sum("0", "1e-4940"), "0");
            assert_eq!(sum("0", "+.5"), "0.5");
            assert_eq!(sum("0", "5."), "5");
            assert_eq!(sum("3", "-5.25"), "-2.25");
            let big = sum("0", "1e4932");
            assert!(big.starts_with("10000000000000000000060189493879638913238377742545331"));
            assert_eq!(big.len(), 4933);
            assert!(add(fin("1e4932"), fin("1e4932")).is_none());
        }

        #[test]
        fn rejects_what_string2ld_rejects() {
            for bad in [
                "",
                " 1",
                "1 ",
                "abc",
                "1e",
                "1e+",
                ".",
                "-",
                "nan",
                "-nan",
                "0x",
                "0x1p",
                "1e-5000",
                "1e5000",
                "0x1p99999",
                "1.2.3",
                "infx",
                "1\0",
            ] {
                assert_eq!(parse(bad.as_bytes()), None, "{bad:?}");
            }
            assert_eq!(parse(b"inf"), Some(Parsed::Inf));
            assert_eq!(parse(b"-Infinity"), Some(Parsed::Inf));
            assert_eq!(parse(&vec![b'1'; MAX_CHARS]), None);
            assert!(parse(&vec![b'1'; MAX_CHARS - 1]).is_none()); // 1e5118: overflow
            let mut long = b"0.".to_vec();
            long.extend(vec![b'1'; 4000]);
            assert!(matches!(parse(&long), Some(Parsed::Finite(_))));
            assert_eq!(parse(b"0e999999999999"), Some(Parsed::Finite(Ld::ZERO)));
        }

        #[test]
        fn rounding_is_exact() {
            // 2^64 + 1 needs 65 bits: ties to even → 2^64.
            assert_eq!(sum("18446744073709551616", "1"), "18446744073709551616");
            assert_eq!(sum("18446744073709551616", "3"), "18446744073709551620");
            assert_eq!(sum("-9223372036854775808", "0"), "-9223372036854775808");
            assert_eq!(format(Ld::from_i64(i64::MIN)), "-9223372036854775808");
            assert_eq!(sum("1", "-0.5"), "0.5");
            assert_eq!(sum("100", "-100"), "0");
        }
    }
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
