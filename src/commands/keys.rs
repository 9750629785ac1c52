//! Generic keyspace commands: DEL, EXISTS, EXPIRE and TTL families, SCAN, ...

use super::args::int;
use super::flags::*;
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::CmdResult;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "del",
        arity: -2,
        flags: WRITE,
        keys: KeySpec::range(1, -1, 1),
        summary: "Deletes one or more keys.",
        complexity: "O(N) where N is the number of keys that will be removed.",
        syntax: "key [key ...]",
        handler: del,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "exists",
        arity: -2,
        flags: READONLY | FAST,
        keys: KeySpec::range(1, -1, 1),
        summary: "Determines whether one or more keys exist.",
        since: "1.0.0",
        complexity: "O(N) where N is the number of keys to check.",
        syntax: "key [key ...]",
        handler: exists,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "expire",
        arity: -3,
        flags: WRITE | FAST,
        keys: KeySpec::ONE,
        summary: "Sets the expiration time of a key in seconds.",
        syntax: "key seconds [NX | XX | GT | LT]",
        handler: expire,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "ttl",
        arity: 2,
        flags: READONLY | FAST,
        keys: KeySpec::ONE,
        summary: "Returns the expiration time in seconds of a key.",
        syntax: "key",
        handler: ttl,
        ..CommandSpec::DEFAULT
    },
];

fn del(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let db = ctx.db();
    let n = argv[1..].iter().filter(|k| db.delete(k, now)).count();
    ctx.dirty(n as u64);
    ctx.out.int(n as i64);
    Ok(())
}

fn exists(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let db = ctx.db();
    let n = argv[1..].iter().filter(|k| db.exists(k, now)).count();
    ctx.out.int(n as i64);
    Ok(())
}

fn expire(ctx: &mut Ctx) -> CmdResult {
    let secs = int(&ctx.argv[2])?;
    let now = ctx.now;
    let argv = ctx.argv;
    let db = ctx.db();
    if !db.exists(&argv[1], now) {
        ctx.out.int(0);
        return Ok(());
    }
    let at = secs.saturating_mul(1000).saturating_add(now);
    if at <= now {
        db.delete(&argv[1], now);
    } else {
        db.set_expire(&argv[1], at);
    }
    ctx.dirty(1);
    ctx.out.int(1);
    Ok(())
}

fn ttl(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let argv = ctx.argv;
    let r = match ctx.db().expire_of(&argv[1], now) {
        None => -2,
        Some(0) => -1,
        Some(at) => (at - now + 500) / 1000,
    };
    ctx.out.int(r);
    Ok(())
}
