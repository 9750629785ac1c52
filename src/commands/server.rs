//! Server commands: DBSIZE, TIME, LASTSAVE, SHUTDOWN (which saves through
//! `save`), SLOWLOG and MEMORY, and the rows of INFO (handled in `info`)
//! and CONFIG (in `config`); DEBUG is in `debug`.
//!
//! INFO reads the counters other parts keep (`State::stats`, the dbs, the
//! allocator in `crate::alloc`) and formats them with Valkey's field names.
//! CONFIG works on the directive table in `crate::config`: SET validates
//! every pair on a copy of the configuration and commits all or nothing.

use std::time::Duration;

use super::args::is;
use super::flags::*;
use super::meta::{acl, arg, ks, Doc, Group, Secret};
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
        keys: KeySpec::NONE,
        handler: dbsize,
        subcommands: &[],
        doc: &Doc {
            summary: "Counts the keys of the selected database.",
            complexity: "O(1)",
            tips: &["request_policy:all_shards", "response_policy:agg_sum"],
            ..Doc::new(Group::Server, "1.0.0", acl::KEYSPACE)
        },
    },
    CommandSpec {
        name: "info",
        arity: -1,
        flags: LOADING | STALE,
        keys: KeySpec::NONE,
        handler: info,
        subcommands: &[],
        doc: &Doc {
            summary: "Reports the server's state and counters by section.",
            complexity: "O(1)",
            tips: &[
                "nondeterministic_output",
                "request_policy:all_shards",
                "response_policy:special",
            ],
            args: &[arg::string("section").optional().multiple()],
            history: &[("7.0.0", "Takes several sections.")],
            ..Doc::new(Group::Server, "1.0.0", acl::DANGEROUS)
        },
    },
    CommandSpec {
        name: "config",
        arity: -2,
        flags: 0,
        keys: KeySpec::NONE,
        handler: super::container,
        subcommands: &[
            CommandSpec {
                name: "config|get",
                arity: -3,
                flags: ADMIN | NOSCRIPT | LOADING | STALE,
                keys: KeySpec::NONE,
                handler: config_get,
                subcommands: &[],
                doc: &Doc {
                    summary: "Gets the settings matching patterns.",
                    complexity: "O(N), N settings given.",
                    args: &[arg::string("parameter").multiple()],
                    history: &[("7.0.0", "Takes several patterns at once.")],
                    ..Doc::new(Group::Server, "2.0.0", 0)
                },
            },
            CommandSpec {
                name: "config|set",
                arity: -4,
                flags: ADMIN | NOSCRIPT | LOADING | STALE,
                keys: KeySpec::NONE,
                handler: config_set,
                subcommands: &[],
                doc: &Doc {
                    summary: "Changes settings while running.",
                    complexity: "O(N), N settings given.",
                    tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                    args: &[
                        arg::block("data", &[arg::string("parameter"), arg::string("value")])
                            .multiple(),
                    ],
                    history: &[("7.0.0", "Sets several parameters at once.")],
                    secret: Secret::SensitiveConfigValues,
                    ..Doc::new(Group::Server, "2.0.0", 0)
                },
            },
            CommandSpec {
                name: "config|resetstat",
                arity: 2,
                flags: ADMIN | NOSCRIPT | LOADING | STALE,
                keys: KeySpec::NONE,
                handler: config_resetstat,
                subcommands: &[],
                doc: &Doc {
                    summary: "Zeroes the server's counters.",
                    complexity: "O(1)",
                    tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                    ..Doc::new(Group::Server, "2.0.0", 0)
                },
            },
            CommandSpec {
                name: "config|rewrite",
                arity: 2,
                flags: ADMIN | NOSCRIPT | LOADING | STALE,
                keys: KeySpec::NONE,
                handler: config_rewrite,
                subcommands: &[],
                doc: &Doc {
                    summary: "Writes the running settings back into the config file.",
                    complexity: "O(1)",
                    tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                    ..Doc::new(Group::Server, "2.8.0", 0)
                },
            },
            CommandSpec {
                name: "config|help",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: config_help,
                subcommands: &[],
                doc: &Doc {
                    summary: "Lists the subcommands and what they do.",
                    complexity: "O(1)",
                    ..Doc::new(Group::Server, "5.0.0", 0)
                },
            },
        ],
        doc: &Doc {
            summary: "CONFIG subcommands: read, change and save settings.",
            complexity: "Depends on the subcommand.",
            ..Doc::new(Group::Server, "2.0.0", 0)
        },
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: LOADING | STALE | FAST,
        keys: KeySpec::NONE,
        handler: time,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells the server's clock, seconds and microseconds.",
            complexity: "O(1)",
            tips: &["nondeterministic_output"],
            ..Doc::new(Group::Server, "2.6.0", 0)
        },
    },
    CommandSpec {
        name: "lastsave",
        arity: 1,
        flags: LOADING | STALE | FAST,
        keys: KeySpec::NONE,
        handler: lastsave,
        subcommands: &[],
        doc: &Doc {
            summary: "Tells when the data was last saved to disk.",
            complexity: "O(1)",
            tips: &["nondeterministic_output"],
            ..Doc::new(Group::Server, "1.0.0", acl::ADMIN | acl::DANGEROUS)
        },
    },
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: shutdown,
        subcommands: &[],
        doc: &Doc {
            summary: "Stops the server, saving first if configured to.",
            complexity: "O(N) when saving N keys, else O(1).",
            args: &[arg::oneof(
                "abort-selector",
                &[
                    arg::block(
                        "save-selector-block",
                        &[
                            arg::oneof(
                                "save-selector",
                                &[arg::pure("nosave", "NOSAVE"), arg::pure("save", "SAVE")],
                            )
                            .optional(),
                            arg::pure("now", "NOW").since("7.0.0").optional(),
                            arg::pure("force", "FORCE").since("7.0.0").optional(),
                            arg::pure("safe", "SAFE").since("9.0.0").optional(),
                            arg::pure("failover", "FAILOVER").since("9.0.0").optional(),
                        ],
                    ),
                    arg::pure("abort", "ABORT").since("7.0.0"),
                ],
            )
            .optional()],
            history: &[
                ("7.0.0", "The NOW, FORCE and ABORT options."),
                ("9.0.0", "The SAFE and FAILOVER options."),
            ],
            ..Doc::new(Group::Server, "1.0.0", 0)
        },
    },
    CommandSpec {
        name: "slowlog",
        arity: -2,
        flags: 0,
        keys: KeySpec::NONE,
        handler: super::container,
        subcommands: &[
            CommandSpec {
                name: "slowlog|get",
                arity: -2,
                flags: ADMIN | LOADING | STALE,
                keys: KeySpec::NONE,
                handler: slowlog_get,
                subcommands: &[],
                doc: &Doc {
                    summary: "Gets the latest slow log entries.",
                    complexity: "O(N), N entries replied.",
                    tips: &["request_policy:all_nodes", "nondeterministic_output"],
                    args: &[arg::integer("count").optional()],
                    history: &[("4.0.0", "Entries carry the client's address and name.")],
                    ..Doc::new(Group::Server, "2.2.12", 0)
                },
            },
            CommandSpec {
                name: "slowlog|len",
                arity: 2,
                flags: ADMIN | LOADING | STALE,
                keys: KeySpec::NONE,
                handler: slowlog_len,
                subcommands: &[],
                doc: &Doc {
                    summary: "Counts the slow log's entries.",
                    complexity: "O(1)",
                    tips: &[
                        "request_policy:all_nodes",
                        "response_policy:agg_sum",
                        "nondeterministic_output",
                    ],
                    ..Doc::new(Group::Server, "2.2.12", 0)
                },
            },
            CommandSpec {
                name: "slowlog|reset",
                arity: 2,
                flags: ADMIN | LOADING | STALE,
                keys: KeySpec::NONE,
                handler: slowlog_reset,
                subcommands: &[],
                doc: &Doc {
                    summary: "Empties the slow log.",
                    complexity: "O(N), N entries in the log.",
                    tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                    ..Doc::new(Group::Server, "2.2.12", 0)
                },
            },
            CommandSpec {
                name: "slowlog|help",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: slowlog_help,
                subcommands: &[],
                doc: &Doc {
                    summary: "Lists the subcommands and what they do.",
                    complexity: "O(1)",
                    ..Doc::new(Group::Server, "6.2.0", 0)
                },
            },
        ],
        doc: &Doc {
            summary: "SLOWLOG subcommands: the log of slow commands.",
            complexity: "Depends on the subcommand.",
            ..Doc::new(Group::Server, "2.2.12", 0)
        },
    },
    CommandSpec {
        name: "memory",
        arity: -2,
        flags: 0,
        keys: KeySpec::NONE,
        handler: super::container,
        subcommands: &[
            CommandSpec {
                name: "memory|usage",
                arity: -3,
                flags: READONLY,
                keys: KeySpec::range(2, 2, 1),
                handler: memory_usage,
                subcommands: &[],
                doc: &Doc {
                    summary: "Estimates how many bytes a key and its value use.",
                    complexity: "O(N), N elements sampled.",
                    key_specs: &[ks::one(2, ks::RO)],
                    args: &[
                        arg::key("key", 0),
                        arg::integer("count").token("SAMPLES").optional(),
                    ],
                    ..Doc::new(Group::Server, "4.0.0", 0)
                },
            },
            CommandSpec {
                name: "memory|malloc-stats",
                arity: 2,
                flags: LOADING,
                keys: KeySpec::NONE,
                handler: memory_malloc_stats,
                subcommands: &[],
                doc: &Doc {
                    summary: "Reports the allocator's own statistics.",
                    complexity: "Grows with the memory allocated; may be slow.",
                    tips: &[
                        "nondeterministic_output",
                        "request_policy:all_shards",
                        "response_policy:special",
                    ],
                    ..Doc::new(Group::Server, "4.0.0", 0)
                },
            },
            CommandSpec {
                name: "memory|purge",
                arity: 2,
                flags: LOADING,
                keys: KeySpec::NONE,
                handler: memory_purge,
                subcommands: &[],
                doc: &Doc {
                    summary: "Makes the allocator give unused memory back.",
                    complexity: "Grows with the memory allocated; may be slow.",
                    tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
                    ..Doc::new(Group::Server, "4.0.0", 0)
                },
            },
            CommandSpec {
                name: "memory|help",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: memory_help,
                subcommands: &[],
                doc: &Doc {
                    summary: "Lists the subcommands and what they do.",
                    complexity: "O(1)",
                    ..Doc::new(Group::Server, "4.0.0", 0)
                },
            },
        ],
        doc: &Doc {
            summary: "MEMORY subcommands: memory usage and the allocator.",
            complexity: "Depends on the subcommand.",
            ..Doc::new(Group::Server, "4.0.0", 0)
        },
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
    // A script sees the time it started at, however long it runs.
    let now = ctx.script_clock().unwrap_or_else(unix_now);
    ctx.out.array(2);
    ctx.out.bulk_int(now.as_secs() as i64);
    ctx.out.bulk_int(now.subsec_micros() as i64);
    Ok(())
}

fn lastsave(ctx: &mut Ctx) -> CmdResult {
    let last = ctx.admin().state.save.lastsave;
    ctx.out.int(last);
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
    if !nosave {
        // A script keeps the server busy: only SHUTDOWN NOSAVE goes on.
        if let Some(busy) = ctx.busy_error() {
            return Err(busy.into());
        }
    }
    if failover {
        return Err(SHUTDOWN_FAILOVER_CLUSTER.into());
    }
    let state = ctx.admin().state;
    let exiting = super::save::before_exit(state, save, nosave, force);
    // A save zeroes the change count: not a change to propagate.
    ctx.prevent_propagation();
    let state = ctx.admin().state;
    if !exiting {
        tracing::warn!(
            "Errors trying to shut down the server. Check the logs for more information."
        );
        return Err(SHUTDOWN_ERRORS.into());
    }
    // No reply: the main loop exits after this batch and the connection
    // closes, which is what the client waits for. Whatever was to be saved
    // is saved: the main loop saves nothing more.
    state.shutdown = Some(ShutdownMode::NoSave);
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

/// Heap bytes owned by a value, beyond the entry itself; a stream's
/// nodes and groups are sampled (`samples`) as Valkey samples them.
#[allow(unreachable_patterns)]
fn value_heap(v: &Value, samples: usize) -> usize {
    match v {
        Value::Str(Str::Int(_)) => 0,
        Value::Str(Str::Fixed(b)) => key_heap(b.as_slice()),
        Value::Str(Str::Growable(v)) => v.capacity(),
        Value::Stream(s) => std::mem::size_of_val(&**s) + s.memory_usage(samples),
        other => other.heap_bytes(),
    }
}

/// Bytes a key costs in our structures: its entry block and bucket slot,
/// the value's heap data, and its node in the expires table if it has a
/// TTL.
fn entry_usage(key: &[u8], e: &Entry, samples: usize) -> usize {
    let slot = std::mem::size_of::<usize>();
    let value = e.value().stored().map_or(0, |v| value_heap(v, samples));
    let mut n = e.block_size() + slot + value;
    if e.expire() != 0 {
        n += std::mem::size_of::<Node<()>>() + slot + key_heap(key);
    }
    n
}

fn memory_usage(ctx: &mut Ctx) -> CmdResult {
    let mut j = 3;
    let mut samples = 5;
    while j < ctx.argv.len() {
        if is(&ctx.argv[j], "samples") && j + 1 < ctx.argv.len() {
            let n = parse_i64(&ctx.argv[j + 1]).ok_or(CmdError::from(NOT_INTEGER))?;
            if n < 0 {
                return Err(SYNTAX.into());
            }
            // 0: every element; streams sample their nodes and groups.
            samples = if n == 0 { usize::MAX } else { n as usize };
            j += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    let key = ctx.argv[2].clone();
    let now = ctx.now;
    match ctx.db().lookup(&key, now, Access::PEEK) {
        Some(e) => {
            let n = entry_usage(&key, e, samples);
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
