//! Server commands: DBSIZE, TIME, LASTSAVE, SHUTDOWN, SLOWLOG and MEMORY,
//! and the rows of INFO (handled in `info`) and CONFIG (in `config`);
//! DEBUG is in `debug`.
//!
//! INFO reads the counters other parts keep (`State::stats`, the dbs, the
//! allocator in `crate::alloc`) and formats them with Valkey's field names.
//! CONFIG works on the directive table in `crate::config`: SET validates
//! every pair on a copy of the configuration and commits all or nothing.

use std::time::Duration;

use super::args::is;
use super::flags::*;
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::{
    CmdError, CmdResult, NOT_INTEGER, NO_SHUTDOWN_IN_PROGRESS, SHUTDOWN_ERRORS,
    SHUTDOWN_FAILOVER_CLUSTER, SLOWLOG_COUNT, SYNTAX,
};
use crate::keyspace::dict::Node;
use crate::keyspace::{Access, Bytes24, Entry, Str, Value};
use crate::state::ShutdownMode;
use crate::util::num::parse_i64;

use super::config::{config_get, config_help, config_resetstat, config_rewrite, config_set};
use super::info::info;

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
        name: "info",
        arity: -1,
        flags: LOADING | STALE,
        group: "server",
        summary: "Returns information and statistics about the server.",
        complexity: "O(1)",
        syntax: "[section [section ...]]",
        handler: info,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "config",
        arity: -2,
        group: "server",
        summary: "A container for server configuration commands.",
        since: "2.0.0",
        complexity: "Depends on subcommand.",
        subcommands: &[
            CommandSpec {
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
            },
            CommandSpec {
                name: "config|set",
                arity: -4,
                flags: ADMIN | NOSCRIPT | LOADING | STALE,
                group: "server",
                summary: "Sets configuration parameters in-flight.",
                since: "2.0.0",
                complexity: "O(N) when N is the number of configuration parameters provided",
                syntax: "parameter value [parameter value ...]",
                handler: config_set,
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "config|resetstat",
                arity: 2,
                flags: ADMIN | NOSCRIPT | LOADING | STALE,
                group: "server",
                summary: "Resets the server's statistics.",
                since: "2.0.0",
                handler: config_resetstat,
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "config|rewrite",
                arity: 2,
                flags: ADMIN | NOSCRIPT | LOADING | STALE,
                group: "server",
                summary: "Persists the effective configuration to file.",
                since: "2.8.0",
                handler: config_rewrite,
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "config|help",
                arity: 2,
                flags: LOADING | STALE,
                group: "server",
                summary: "Returns helpful text about the different subcommands.",
                since: "5.0.0",
                handler: config_help,
                ..CommandSpec::DEFAULT
            },
        ],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: LOADING | STALE | FAST,
        group: "server",
        summary: "Returns the server time.",
        since: "2.6.0",
        handler: time,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lastsave",
        arity: 1,
        flags: LOADING | STALE | FAST,
        group: "server",
        summary: "Returns the Unix timestamp of the last successful save to disk.",
        handler: lastsave,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        group: "server",
        summary: "Synchronously saves the database(s) to disk and shuts down the server.",
        complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
        syntax: "[[NOSAVE | SAVE] [NOW] [FORCE] [SAFE] [FAILOVER] | ABORT]",
        handler: shutdown,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "slowlog",
        arity: -2,
        group: "server",
        summary: "A container for slow log commands.",
        since: "2.2.12",
        complexity: "Depends on subcommand.",
        subcommands: &[
            CommandSpec {
                name: "slowlog|get",
                arity: -2,
                flags: ADMIN | LOADING | STALE,
                group: "server",
                summary: "Returns the slow log's entries.",
                since: "2.2.12",
                complexity: "O(N) where N is the number of entries returned",
                syntax: "[count]",
                handler: slowlog_get,
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "slowlog|len",
                arity: 2,
                flags: ADMIN | LOADING | STALE,
                group: "server",
                summary: "Returns the number of entries in the slow log.",
                since: "2.2.12",
                handler: slowlog_len,
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "slowlog|reset",
                arity: 2,
                flags: ADMIN | LOADING | STALE,
                group: "server",
                summary: "Clears all entries from the slow log.",
                since: "2.2.12",
                complexity: "O(N) where N is the number of entries in the slowlog",
                handler: slowlog_reset,
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "slowlog|help",
                arity: 2,
                flags: LOADING | STALE,
                group: "server",
                summary: "Show helpful text about the different subcommands",
                since: "6.2.0",
                handler: slowlog_help,
                ..CommandSpec::DEFAULT
            },
        ],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "memory",
        arity: -2,
        group: "server",
        summary: "A container for memory diagnostics commands.",
        since: "4.0.0",
        complexity: "Depends on subcommand.",
        subcommands: &[
            CommandSpec {
                name: "memory|usage",
                arity: -3,
                flags: READONLY,
                keys: KeySpec::range(2, 2, 1),
                group: "server",
                summary: "Estimates the memory usage of a key.",
                since: "4.0.0",
                complexity: "O(N) where N is the number of samples.",
                syntax: "key [SAMPLES count]",
                handler: memory_usage,
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "memory|malloc-stats",
                arity: 2,
                flags: LOADING,
                group: "server",
                summary: "Returns the allocator statistics.",
                since: "4.0.0",
                complexity: "Depends on how much memory is allocated, could be slow",
                handler: memory_malloc_stats,
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "memory|purge",
                arity: 2,
                flags: LOADING,
                group: "server",
                summary: "Asks the allocator to release memory.",
                since: "4.0.0",
                complexity: "Depends on how much memory is allocated, could be slow",
                handler: memory_purge,
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "memory|help",
                arity: 2,
                flags: LOADING | STALE,
                group: "server",
                summary: "Returns helpful text about the different subcommands.",
                since: "4.0.0",
                handler: memory_help,
                ..CommandSpec::DEFAULT
            },
        ],
        ..CommandSpec::DEFAULT
    },
];

fn dbsize(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.db().len();
    ctx.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------- helpers

/// `ERR unknown subcommand or wrong number of arguments for 'x'. Try Y HELP.`
pub(super) fn subcommand_syntax_error(sub: &[u8], container: &str) -> CmdError {
    CmdError::owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        crate::error::excerpt(sub, 128),
        container
    ))
}

/// A HELP reply: the usage line, the given lines, then HELP itself, as
/// status replies (Valkey's `addReplyHelp`).
pub(super) fn reply_help(ctx: &mut Ctx, container: &str, lines: &[&str]) {
    ctx.out.array(lines.len() + 3);
    ctx.out.simple(&format!(
        "{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        ctx.out.simple(l);
    }
    ctx.out.simple("HELP");
    ctx.out.simple("    Print this help.");
}

pub(super) fn unix_now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

// ---------------------------------------------------------------- TIME, LASTSAVE, SHUTDOWN

fn time(ctx: &mut Ctx) -> CmdResult {
    let now = unix_now();
    ctx.out.array(2);
    ctx.out.bulk_int(now.as_secs() as i64);
    ctx.out.bulk_int(now.subsec_micros() as i64);
    Ok(())
}

fn lastsave(ctx: &mut Ctx) -> CmdResult {
    // Nothing is ever saved: the dataset dates from startup.
    let started = ctx.admin().state.started_unix_ms;
    ctx.out.int(started / 1000);
    Ok(())
}

fn shutdown(ctx: &mut Ctx) -> CmdResult {
    let (mut save, mut nosave, mut force, mut failover, mut abort) =
        (false, false, false, false, false);
    let mut any_flag = false;
    for a in &ctx.argv[1..] {
        if is(a, "nosave") {
            nosave = true;
        } else if is(a, "save") {
            save = true;
        } else if is(a, "force") {
            force = true;
        } else if is(a, "failover") {
            failover = true;
        } else if is(a, "abort") {
            abort = true;
            continue;
        } else if !(is(a, "now") || is(a, "safe")) {
            // NOW skips waiting for replicas and SAFE guards cluster
            // primaries: neither changes anything for a standalone server.
            return Err(SYNTAX.into());
        }
        any_flag = true;
    }
    if (abort && any_flag) || (save && nosave) {
        return Err(SYNTAX.into());
    }
    if abort {
        // SHUTDOWN never waits here (no replicas), so none is ever pending.
        return Err(NO_SHUTDOWN_IN_PROGRESS.into());
    }
    if failover {
        return Err(SHUTDOWN_FAILOVER_CLUSTER.into());
    }
    let mode = if save {
        if !force {
            tracing::warn!("Error trying to save the DB: persistence is not supported");
            return Err(SHUTDOWN_ERRORS.into());
        }
        tracing::warn!("Persistence is not supported; exiting anyway (SHUTDOWN FORCE)");
        ShutdownMode::Save
    } else if nosave {
        ShutdownMode::NoSave
    } else {
        ShutdownMode::Default
    };
    // No reply: the main loop exits after this batch and the connection
    // closes, which is what the client waits for.
    ctx.admin().state.shutdown = Some(mode);
    Ok(())
}

// ---------------------------------------------------------------- SLOWLOG

fn slowlog_get(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(subcommand_syntax_error(&ctx.argv[1], "SLOWLOG"));
    }
    let count = match ctx.argv.get(2) {
        None => 10,
        Some(a) => match parse_i64(a) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => return Err(SLOWLOG_COUNT.into()),
        },
    };
    let a = ctx.admin();
    let (entries, out) = (&a.state.slowlog.entries, a.out);
    let n = count.min(entries.len());
    out.array(n);
    for e in entries.iter().take(n) {
        out.array(6);
        out.int(e.id as i64);
        out.int(e.time);
        out.int(e.usec as i64);
        out.array(e.argv.len());
        for a in &e.argv {
            out.bulk(a);
        }
        out.bulk(e.addr.as_bytes());
        out.bulk(&e.name);
    }
    Ok(())
}

fn slowlog_len(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.admin().state.slowlog.entries.len();
    ctx.out.int(n as i64);
    Ok(())
}

fn slowlog_reset(ctx: &mut Ctx) -> CmdResult {
    ctx.admin().state.slowlog.entries.clear();
    ctx.out.ok();
    Ok(())
}

fn slowlog_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}

// ---------------------------------------------------------------- MEMORY

/// Heap bytes of a key stored in the dict (short keys are inline).
fn key_heap(key: &[u8]) -> usize {
    if key.len() > Bytes24::INLINE_MAX {
        key.len()
    } else {
        0
    }
}

/// Heap bytes owned by a value, beyond the entry itself.
#[allow(unreachable_patterns)]
fn value_heap(v: &Value) -> usize {
    match v {
        Value::Str(Str::Int(_)) => 0,
        Value::Str(Str::Fixed(b)) => key_heap(b.as_slice()),
        Value::Str(Str::Growable(v)) => v.capacity(),
        other => other.heap_bytes(),
    }
}

/// Bytes a key costs in our structures: its entry block and bucket slot,
/// the value's heap data, and its node in the expires table if it has a
/// TTL.
fn entry_usage(key: &[u8], e: &Entry) -> usize {
    let slot = std::mem::size_of::<usize>();
    let mut n = e.block_size() + slot + e.value().stored().map_or(0, value_heap);
    if e.expire() != 0 {
        n += std::mem::size_of::<Node<()>>() + slot + key_heap(key);
    }
    n
}

fn memory_usage(ctx: &mut Ctx) -> CmdResult {
    let mut j = 3;
    while j < ctx.argv.len() {
        if is(&ctx.argv[j], "samples") && j + 1 < ctx.argv.len() {
            let n = parse_i64(&ctx.argv[j + 1]).ok_or(CmdError::from(NOT_INTEGER))?;
            if n < 0 {
                return Err(SYNTAX.into());
            }
            // Our strings have no nested elements to sample.
            j += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    let key = ctx.argv[2].clone();
    let now = ctx.now;
    match ctx.db().lookup(&key, now, Access::PEEK) {
        Some(e) => {
            let n = entry_usage(&key, e);
            ctx.out.int(n as i64);
        }
        None => ctx.out.null(),
    }
    Ok(())
}

fn memory_malloc_stats(ctx: &mut Ctx) -> CmdResult {
    // The system allocator has no report to give (Valkey built with libc
    // replies the same).
    ctx.out
        .verbatim(b"Stats not supported for the current allocator");
    Ok(())
}

fn memory_purge(ctx: &mut Ctx) -> CmdResult {
    // Nothing to purge with the system allocator.
    ctx.out.ok();
    Ok(())
}

fn memory_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx,
        "MEMORY",
        &[
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
    Ok(())
}
