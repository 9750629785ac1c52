//! Server commands: COMMAND, CONFIG, INFO, DBSIZE, FLUSHALL, SHUTDOWN, ...

use super::flags::*;
use super::{CommandSpec, Ctx};
use crate::config::Config;
use crate::error::CmdResult;
use crate::keyspace::glob::glob_match;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: READONLY | FAST,
        group: "server",
        summary: "Returns the number of keys in the database.",
        handler: dbsize,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "config",
        arity: -2,
        group: "server",
        summary: "A container for server configuration commands.",
        since: "2.0.0",
        complexity: "Depends on subcommand.",
        subcommands: &[CommandSpec {
            name: "config|get",
            arity: -3,
            flags: ADMIN | NOSCRIPT | LOADING | STALE,
            group: "server",
            summary: "Returns the effective values of configuration parameters.",
            since: "2.0.0",
            complexity: "O(N) when N is the number of configuration parameters provided",
            syntax: "parameter [parameter ...]",
            handler: config_get,
            ..CommandSpec::DEFAULT
        }],
        ..CommandSpec::DEFAULT
    },
];

fn dbsize(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.db().len();
    ctx.out.int(n as i64);
    Ok(())
}

fn config_get(ctx: &mut Ctx) -> CmdResult {
    let mut pairs: Vec<(&'static str, String)> = Vec::new();
    for pat in &ctx.argv[2..] {
        for d in crate::config::DIRECTIVES {
            if glob_match(pat, d.name.as_bytes(), true) && !pairs.iter().any(|(n, _)| *n == d.name)
            {
                pairs.push((d.name, (d.get)(&ctx.state.config)));
            }
        }
    }
    let _ = Config::directive;
    ctx.out.map(pairs.len());
    for (n, v) in pairs {
        ctx.out.bulk(n.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
    Ok(())
}
