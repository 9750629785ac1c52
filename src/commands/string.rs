//! String commands: GET, SET and friends, counters, ranges.

use super::args::{int, is};
use super::flags::*;
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult, INVALID_EXPIRE, SYNTAX, WRONGTYPE};
use crate::keyspace::{Db, Str, Value};
use crate::resp::ReplyBuf;

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
        syntax: "key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]",
        handler: set,
        ..CommandSpec::DEFAULT
    },
];

/// The string at `key`: Ok(None) if missing, WRONGTYPE if another type.
pub fn get_str<'a>(db: &'a mut Db, key: &[u8], now: i64) -> Result<Option<&'a Str>, CmdError> {
    match db.get(key, now) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        #[allow(unreachable_patterns)]
        Some(_) => Err(WRONGTYPE.into()),
    }
}

pub fn reply_str(out: &mut ReplyBuf, s: &Str) {
    match s {
        Str::Int(n) => out.bulk_int(*n),
        Str::Fixed(b) => out.bulk(b.as_slice()),
        Str::Growable(v) => out.bulk(v),
    }
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cond {
    None,
    Nx,
    Xx,
}

/// SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT time | KEEPTTL]
fn set(ctx: &mut Ctx) -> CmdResult {
    let mut cond = Cond::None;
    let mut want_get = false;
    let mut keep_ttl = false;
    let mut expire: Option<i64> = None; // absolute ms
    let mut unit_seen = false;
    let mut i = 3;
    while i < ctx.argv.len() {
        let a = &ctx.argv[i];
        let next = ctx.argv.get(i + 1);
        if is(a, "nx") && cond == Cond::None {
            cond = Cond::Nx;
        } else if is(a, "xx") && cond == Cond::None {
            cond = Cond::Xx;
        } else if is(a, "get") && !want_get {
            want_get = true;
        } else if is(a, "keepttl") && !unit_seen && !keep_ttl {
            keep_ttl = true;
        } else if (is(a, "ex") || is(a, "px") || is(a, "exat") || is(a, "pxat"))
            && !unit_seen
            && !keep_ttl
        {
            let Some(v) = next else {
                return Err(SYNTAX.into());
            };
            let n = int(v)?;
            if n <= 0 {
                return Err(INVALID_EXPIRE.into());
            }
            let ms = if is(a, "ex") || is(a, "exat") {
                n.checked_mul(1000)
            } else {
                Some(n)
            };
            let abs = if is(a, "ex") || is(a, "px") {
                ms.and_then(|m| m.checked_add(ctx.now))
            } else {
                ms
            };
            let Some(abs) = abs else {
                return Err(INVALID_EXPIRE.into());
            };
            expire = Some(abs);
            unit_seen = true;
            i += 1;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    let argv = ctx.argv;
    let key = &argv[1];
    let now = ctx.now;
    let (db, out) = ctx.db_and_out();
    let exists = match db.peek(key, now) {
        None => {
            if want_get {
                out.null();
            }
            false
        }
        Some(e) => match &e.value {
            Value::Str(s) => {
                if want_get {
                    reply_str(out, s);
                }
                true
            }
            #[allow(unreachable_patterns)]
            _ if want_get => return Err(WRONGTYPE.into()),
            #[allow(unreachable_patterns)]
            _ => true,
        },
    };
    if (cond == Cond::Nx && exists) || (cond == Cond::Xx && !exists) {
        if !want_get {
            out.null();
        }
        return Ok(());
    }
    db.set(key, Value::Str(Str::from_bytes(&argv[2])), keep_ttl, now);
    if let Some(at) = expire {
        if at <= now {
            // Already in the past: the key is gone as soon as it is set.
            db.delete(key, now);
        } else {
            db.set_expire(key, at);
        }
    }
    if !want_get {
        out.ok();
    }
    ctx.dirty(1);
    Ok(())
}
