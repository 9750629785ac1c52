//! Connection commands: PING, ECHO, SELECT, QUIT, HELLO, AUTH, CLIENT.

use super::args::is;
use super::flags::*;
use super::{CommandSpec, Ctx};
use crate::error::{CmdResult, DB_INDEX, NOT_INTEGER};
use crate::resp::parser::parse_i64;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: FAST,
        group: "connection",
        summary: "Returns the server's liveliness response.",
        syntax: "[message]",
        handler: ping,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: FAST,
        group: "connection",
        summary: "Returns the given string.",
        syntax: "message",
        handler: echo,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: LOADING | STALE | FAST,
        group: "connection",
        summary: "Changes the selected database.",
        since: "1.0.0",
        syntax: "index",
        handler: select,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        group: "connection",
        summary: "Closes the connection.",
        syntax: "",
        handler: quit,
        ..CommandSpec::DEFAULT
    },
];

fn ping(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 2 {
        return Err(crate::error::wrong_arity("ping"));
    }
    match ctx.argv.get(1) {
        Some(m) => ctx.out.bulk(m),
        None => ctx.out.simple("PONG"),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx) -> CmdResult {
    ctx.out.bulk(&ctx.argv[1]);
    Ok(())
}

fn select(ctx: &mut Ctx) -> CmdResult {
    let n = parse_i64(&ctx.argv[1]).ok_or(NOT_INTEGER)?;
    if n < 0 || n as usize >= ctx.state.dbs.len() {
        return Err(DB_INDEX.into());
    }
    ctx.client().db = n as usize;
    ctx.out.ok();
    Ok(())
}

fn quit(ctx: &mut Ctx) -> CmdResult {
    let _ = is;
    ctx.client().close_after_reply = true;
    ctx.out.ok();
    Ok(())
}
