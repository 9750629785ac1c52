//! Server commands: INFO, CONFIG, DBSIZE, TIME, LASTSAVE, SHUTDOWN, SLOWLOG
//! and MEMORY (DEBUG is in `debug`).
//!
//! INFO reads the counters other parts keep (`State::stats`, the dbs, the
//! allocator in `crate::alloc`) and formats them with Valkey's field names.
//! CONFIG works on the directive table in `crate::config`: SET validates
//! every pair on a copy of the configuration and commits all or nothing.

use std::fmt::{Display, Write as _};
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;

use super::args::is;
use super::flags::*;
use super::meta::{acl, arg, ks, Doc, Group, Secret};
use super::{CommandSpec, Ctx, KeySpec, CMD_TABLE};
use crate::config::directives::format_percentile;
use crate::config::directives::{HIDDEN, MULTI_ARG, PROTECTED, SAME_ONLY};
use crate::config::{Config, Directive};
use crate::error::{
    CmdError, CmdResult, NOT_INTEGER, NO_CONFIG_FILE, NO_SHUTDOWN_IN_PROGRESS, SHUTDOWN_ERRORS,
    SHUTDOWN_FAILOVER_CLUSTER, SLOWLOG_COUNT, SYNTAX,
};
use crate::exec::state::ShutdownMode;
use crate::exec::{Clients, State};
use crate::keyspace::dict::Node;
use crate::keyspace::glob::glob_match;
use crate::keyspace::{Bytes24, Entry, Str, Value};
use crate::resp::parser::parse_i64;

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

/// Valkey's `bytesToHuman`: `1018.75K`, `6.15M`.
fn human_bytes(n: u64) -> String {
    const K: f64 = 1024.0;
    let d = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if n < 1 << 20 {
        format!("{:.2}K", d / K)
    } else if n < 1 << 30 {
        format!("{:.2}M", d / (K * K))
    } else if n < 1 << 40 {
        format!("{:.2}G", d / (K * K * K))
    } else if n < 1 << 50 {
        format!("{:.2}T", d / (K * K * K * K))
    } else if n < 1 << 60 {
        format!("{:.2}P", d / (K * K * K * K * K))
    } else {
        format!("{n}B")
    }
}

fn unix_now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

// ---------------------------------------------------------------- INFO

/// Sections in the order Valkey prints them, and whether `INFO` with no
/// argument (`default`) includes them.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

fn info(ctx: &mut Ctx) -> CmdResult {
    let mut want = [false; SECTIONS.len()];
    if ctx.argv.len() == 1 {
        for (w, (_, default)) in want.iter_mut().zip(SECTIONS) {
            *w = *default;
        }
    }
    for a in &ctx.argv[1..] {
        if is(a, "all") || is(a, "everything") {
            want = [true; SECTIONS.len()];
        } else if is(a, "default") {
            for (w, (_, default)) in want.iter_mut().zip(SECTIONS) {
                *w |= *default;
            }
        } else if let Some(i) = SECTIONS.iter().position(|(n, _)| is(a, n)) {
            want[i] = true;
        }
        // Unknown section names are ignored, as Valkey does.
    }
    let text = info_text(ctx.state, ctx.clients, &want);
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// One `name:value` line.
fn kv(s: &mut String, name: &str, value: impl Display) {
    let _ = write!(s, "{name}:{value}\r\n");
}

fn info_text(state: &State, clients: &Clients, want: &[bool]) -> String {
    let mut s = String::with_capacity(4096);
    let mut first = true;
    for (i, (name, _)) in SECTIONS.iter().enumerate() {
        if !want[i] {
            continue;
        }
        // Sections are separated by an empty line.
        if !first {
            s.push_str("\r\n");
        }
        first = false;
        match *name {
            "server" => info_server(&mut s, state),
            "clients" => info_clients(&mut s, state, clients),
            "memory" => info_memory(&mut s, state),
            "persistence" => info_persistence(&mut s, state),
            "stats" => info_stats(&mut s, state),
            "replication" => info_replication(&mut s, state),
            "cpu" => info_cpu(&mut s),
            "modules" => s.push_str("# Modules\r\n"),
            "commandstats" => info_commandstats(&mut s, state),
            "errorstats" => info_errorstats(&mut s, state),
            "latencystats" => info_latencystats(&mut s, state),
            "cluster" => {
                s.push_str("# Cluster\r\n");
                kv(&mut s, "cluster_enabled", 0);
            }
            _ => info_keyspace(&mut s, state),
        }
    }
    s
}

/// `Linux 6.1.0 x86_64`, as `uname -srm`.
fn os_name() -> &'static str {
    static OS: OnceLock<String> = OnceLock::new();
    OS.get_or_init(|| {
        let read = |p: &str| {
            std::fs::read_to_string(p)
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let mut ty = read("/proc/sys/kernel/ostype");
        if ty.is_empty() {
            ty = std::env::consts::OS.to_string();
        }
        let rel = read("/proc/sys/kernel/osrelease");
        format!("{ty} {rel} {}", std::env::consts::ARCH)
    })
}

fn info_server(s: &mut String, st: &State) {
    let up = st.started.elapsed().as_secs();
    let now = unix_now();
    s.push_str("# Server\r\n");
    kv(s, "redis_version", crate::server::REDIS_COMPAT_VERSION);
    kv(s, "redis_git_sha1", "00000000");
    kv(s, "redis_git_dirty", 0);
    kv(s, "redis_build_id", "0");
    kv(s, "redis_mode", "standalone");
    kv(s, "os", os_name());
    kv(s, "arch_bits", usize::BITS);
    kv(s, "monotonic_clock", "POSIX clock_gettime");
    kv(s, "multiplexing_api", "epoll");
    kv(s, "process_id", std::process::id());
    kv(s, "process_supervised", "no");
    kv(s, "run_id", &st.run_id);
    kv(s, "tcp_port", st.tcp_port);
    kv(s, "server_time_usec", now.as_micros());
    kv(s, "uptime_in_seconds", up);
    kv(s, "uptime_in_days", up / 86400);
    kv(s, "hz", st.config.hz);
    kv(s, "configured_hz", st.config.hz);
    // Valkey's LRU clock: seconds, wrapping at 24 bits.
    kv(s, "lru_clock", now.as_secs() & ((1 << 24) - 1));
    kv(s, "executable", &st.executable);
    let cf = st
        .config
        .config_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    kv(s, "config_file", cf);
    // A flag in Valkey: whether IO threads are in use at all.
    kv(s, "io_threads_active", u8::from(st.io_threads_active > 0));
    let mut l = String::from("name=tcp");
    for b in &st.config.bind {
        let _ = write!(l, ",bind={b}");
    }
    let _ = write!(l, ",port={}", st.tcp_port);
    kv(s, "listener0", l);
}

fn info_clients(s: &mut String, st: &State, clients: &Clients) {
    s.push_str("# Clients\r\n");
    kv(s, "connected_clients", clients.len());
    kv(s, "cluster_connections", 0);
    kv(s, "maxclients", st.config.maxclients);
    kv(s, "blocked_clients", st.blocked.len());
    kv(s, "tracking_clients", 0);
    kv(s, "pubsub_clients", 0);
    kv(s, "watching_clients", 0);
    kv(s, "clients_in_timeout_table", 0);
    kv(s, "total_watched_keys", 0);
    kv(s, "total_blocking_keys", 0);
    kv(s, "total_blocking_keys_on_nokey", 0);
}

/// A `Key:   123 kB` line of a /proc file, in bytes.
fn proc_kb(path: &str, key: &str) -> u64 {
    let Ok(text) = std::fs::read_to_string(path) else {
        return 0;
    };
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn info_memory(s: &mut String, st: &State) {
    let (used, peak) = crate::alloc::update_peak();
    let (used, peak) = (used as u64, peak as u64);
    let rss = proc_kb("/proc/self/status", "VmRSS");
    let total = proc_kb("/proc/meminfo", "MemTotal");
    let maxmem = st.config.maxmemory;
    s.push_str("# Memory\r\n");
    kv(s, "used_memory", used);
    kv(s, "used_memory_human", human_bytes(used));
    kv(s, "used_memory_rss", rss);
    kv(s, "used_memory_rss_human", human_bytes(rss));
    kv(s, "used_memory_peak", peak);
    kv(s, "used_memory_peak_human", human_bytes(peak));
    let perc = if peak > 0 {
        used as f64 * 100.0 / peak as f64
    } else {
        0.0
    };
    kv(s, "used_memory_peak_perc", format!("{perc:.2}%"));
    kv(s, "total_system_memory", total);
    kv(s, "total_system_memory_human", human_bytes(total));
    kv(s, "maxmemory", maxmem);
    kv(s, "maxmemory_human", human_bytes(maxmem));
    kv(s, "maxmemory_policy", &st.config.maxmemory_policy);
    let frag = if used > 0 {
        rss as f64 / used as f64
    } else {
        0.0
    };
    kv(s, "mem_fragmentation_ratio", format!("{frag:.2}"));
    kv(s, "mem_fragmentation_bytes", rss as i64 - used as i64);
    kv(s, "mem_allocator", "libc");
    kv(s, "lazyfree_pending_objects", st.stats.lazyfree_pending);
    kv(s, "lazyfreed_objects", st.stats.lazyfreed_objects);
}

fn info_persistence(s: &mut String, st: &State) {
    // Nothing is ever saved or loaded: the constant fields say so.
    s.push_str("# Persistence\r\n");
    kv(s, "loading", 0);
    kv(s, "async_loading", 0);
    kv(s, "current_cow_peak", 0);
    kv(s, "current_cow_size", 0);
    kv(s, "current_cow_size_age", 0);
    kv(s, "current_fork_perc", "0.00");
    kv(s, "current_save_keys_processed", 0);
    kv(s, "current_save_keys_total", 0);
    kv(s, "rdb_changes_since_last_save", st.dirty);
    kv(s, "rdb_bgsave_in_progress", 0);
    kv(s, "rdb_last_save_time", st.started_unix_ms / 1000);
    kv(s, "rdb_last_bgsave_status", "ok");
    kv(s, "rdb_last_bgsave_time_sec", -1);
    kv(s, "rdb_current_bgsave_time_sec", -1);
    kv(s, "rdb_saves", 0);
    kv(s, "rdb_last_cow_size", 0);
    kv(s, "rdb_last_load_keys_expired", 0);
    kv(s, "rdb_last_load_keys_loaded", 0);
    kv(s, "aof_enabled", 0);
    kv(s, "aof_rewrite_in_progress", 0);
    kv(s, "aof_rewrite_scheduled", 0);
    kv(s, "aof_last_rewrite_time_sec", -1);
    kv(s, "aof_current_rewrite_time_sec", -1);
    kv(s, "aof_last_bgrewrite_status", "ok");
    kv(s, "aof_rewrites", 0);
    kv(s, "aof_rewrites_consecutive_failures", 0);
    kv(s, "aof_last_write_status", "ok");
    kv(s, "aof_last_cow_size", 0);
    kv(s, "module_fork_in_progress", 0);
    kv(s, "module_fork_last_cow_size", 0);
}

fn info_stats(s: &mut String, st: &State) {
    let stats = &st.stats;
    let (ops, in_kbps, out_kbps) = st.rates.current();
    let (mut expired, mut hits, mut misses) = (0u64, 0u64, 0u64);
    for db in &st.dbs {
        expired += db.expired_keys;
        hits += db.hits;
        misses += db.misses;
    }
    s.push_str("# Stats\r\n");
    kv(s, "total_connections_received", stats.connections_received);
    kv(s, "total_commands_processed", stats.commands_processed);
    kv(s, "instantaneous_ops_per_sec", ops);
    kv(s, "total_net_input_bytes", stats.net_input_bytes);
    kv(s, "total_net_output_bytes", stats.net_output_bytes);
    kv(s, "total_net_repl_input_bytes", 0);
    kv(s, "total_net_repl_output_bytes", 0);
    kv(s, "instantaneous_input_kbps", format!("{in_kbps:.2}"));
    kv(s, "instantaneous_output_kbps", format!("{out_kbps:.2}"));
    kv(s, "instantaneous_input_repl_kbps", "0.00");
    kv(s, "instantaneous_output_repl_kbps", "0.00");
    kv(s, "rejected_connections", stats.rejected_connections);
    kv(s, "sync_full", 0);
    kv(s, "sync_partial_ok", 0);
    kv(s, "sync_partial_err", 0);
    kv(s, "expired_keys", expired);
    kv(
        s,
        "expired_stale_perc",
        format!("{:.2}", stats.expired_stale_perc),
    );
    kv(s, "evicted_keys", 0);
    kv(s, "evicted_clients", stats.evicted_clients);
    kv(s, "keyspace_hits", hits);
    kv(s, "keyspace_misses", misses);
    kv(s, "pubsub_channels", 0);
    kv(s, "pubsub_patterns", 0);
    kv(s, "pubsubshard_channels", 0);
    kv(s, "latest_fork_usec", 0);
    kv(s, "total_forks", 0);
    kv(s, "unexpected_error_replies", 0);
    kv(s, "total_error_replies", stats.total_error_replies);
    kv(s, "io_threaded_reads_processed", stats.io_threaded_reads);
    kv(s, "io_threaded_writes_processed", stats.io_threaded_writes);
}

/// The replication id (DEBUG CHANGE-REPL-ID makes a new one).
fn master_replid(st: &State) -> &str {
    &st.replid
}

fn info_replication(s: &mut String, st: &State) {
    s.push_str("# Replication\r\n");
    kv(s, "role", "master");
    kv(s, "connected_slaves", 0);
    kv(s, "replicas_waiting_psync", 0);
    kv(s, "master_failover_state", "no-failover");
    kv(s, "master_replid", master_replid(st));
    kv(
        s,
        "master_replid2",
        "0000000000000000000000000000000000000000",
    );
    kv(s, "master_repl_offset", 0);
    kv(s, "second_repl_offset", -1);
    kv(s, "repl_backlog_active", 0);
    kv(s, "repl_backlog_first_byte_offset", 0);
    kv(s, "repl_backlog_histlen", 0);
}

/// User and system CPU seconds from a /proc `stat` file: fields 14 and 15
/// (16 and 17 for waited-for children), counted in USER_HZ ticks, which
/// Linux fixes at 100 for user space whatever the kernel's HZ.
fn proc_cpu(path: &str, children: bool) -> (f64, f64) {
    const USER_HZ: f64 = 100.0;
    let Ok(text) = std::fs::read_to_string(path) else {
        return (0.0, 0.0);
    };
    // The command name (field 2) may hold spaces: count from its ')'.
    let Some(end) = text.rfind(')') else {
        return (0.0, 0.0);
    };
    let fields: Vec<&str> = text[end + 1..].split_whitespace().collect();
    let at = if children { 13 } else { 11 };
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .map_or(0.0, |t| t as f64 / USER_HZ)
    };
    (tick(at), tick(at + 1))
}

fn info_cpu(s: &mut String) {
    let (user, sys) = proc_cpu("/proc/self/stat", false);
    let (cuser, csys) = proc_cpu("/proc/self/stat", true);
    // INFO runs on the main thread, so this thread's numbers are its own.
    let (muser, msys) = proc_cpu("/proc/thread-self/stat", false);
    s.push_str("# CPU\r\n");
    kv(s, "used_cpu_sys", format!("{sys:.6}"));
    kv(s, "used_cpu_user", format!("{user:.6}"));
    kv(s, "used_cpu_sys_children", format!("{csys:.6}"));
    kv(s, "used_cpu_user_children", format!("{cuser:.6}"));
    kv(s, "used_cpu_sys_main_thread", format!("{msys:.6}"));
    kv(s, "used_cpu_user_main_thread", format!("{muser:.6}"));
}

fn info_commandstats(s: &mut String, st: &State) {
    s.push_str("# Commandstats\r\n");
    for (id, c) in st.stats.commands.iter().enumerate() {
        if c.calls == 0 && c.failed == 0 && c.rejected == 0 {
            continue;
        }
        let Some(spec) = CMD_TABLE.specs.get(id) else {
            continue;
        };
        // Valkey prints whole µs and the mean to two decimals.
        let usec = c.usec();
        let per_call = c.usec_per_call();
        let _ = write!(
            s,
            "cmdstat_{}:calls={},usec={usec},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
            spec.name, c.calls, per_call, c.rejected, c.failed
        );
    }
}

fn info_errorstats(s: &mut String, st: &State) {
    s.push_str("# Errorstats\r\n");
    // Valkey keeps error codes in a radix tree: listed in byte order.
    let mut errors: Vec<&(String, u64)> = st.stats.errors.iter().collect();
    errors.sort_by(|a, b| a.0.cmp(&b.0));
    for (code, n) in errors {
        let _ = write!(s, "errorstat_{code}:count={n}\r\n");
    }
}

/// One line per command with a latency histogram, the configured
/// percentiles in µs; no lines while `latency-tracking` is off.
fn info_latencystats(s: &mut String, st: &State) {
    s.push_str("# Latencystats\r\n");
    if !st.config.latency_tracking {
        return;
    }
    let percentiles = &st.config.latency_tracking_info_percentiles;
    for (id, h) in st.stats.histograms.iter() {
        let Some(spec) = CMD_TABLE.specs.get(id) else {
            continue;
        };
        let _ = write!(s, "latency_percentiles_usec_{}:", spec.name);
        for (i, p) in percentiles.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let usec = h.value_at_percentile(*p) as f64 / 1000.0;
            let _ = write!(s, "p{}={usec:.3}", format_percentile(*p));
        }
        s.push_str("\r\n");
    }
}

fn info_keyspace(s: &mut String, st: &State) {
    s.push_str("# Keyspace\r\n");
    for db in &st.dbs {
        if db.is_empty() {
            continue;
        }
        let _ = write!(
            s,
            "db{}:keys={},expires={},avg_ttl={},keys_with_volatile_items=0\r\n",
            db.id,
            db.len(),
            db.expires_len(),
            db.avg_ttl
        );
    }
}

// ---------------------------------------------------------------- CONFIG

fn is_glob(p: &[u8]) -> bool {
    p.iter().any(|c| matches!(c, b'*' | b'?' | b'['))
}

fn config_get(ctx: &mut Ctx) -> CmdResult {
    // (name as replied, value). Names are unique case-insensitively; an
    // exact (non-pattern) lookup replies with the name as the user spelled it.
    let mut pairs: Vec<(String, String)> = Vec::new();
    let seen =
        |pairs: &[(String, String)], n: &str| pairs.iter().any(|(p, _)| p.eq_ignore_ascii_case(n));
    for pat in &ctx.argv[2..] {
        if !is_glob(pat) {
            let Ok(name) = std::str::from_utf8(pat) else {
                continue;
            };
            if seen(&pairs, name) {
                continue;
            }
            if let Some(d) = Config::directive(name) {
                pairs.push((name.to_string(), (d.get)(&ctx.state.config)));
            }
            continue;
        }
        // Names and aliases alike, as Valkey lists them; hidden ones only
        // by exact name.
        for d in crate::config::all().filter(|d| !d.has(HIDDEN)) {
            for n in std::iter::once(d.name).chain(d.alias) {
                if glob_match(pat, n.as_bytes(), true) && !seen(&pairs, n) {
                    pairs.push((n.to_string(), (d.get)(&ctx.state.config)));
                }
            }
        }
    }
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    ctx.out.map(pairs.len());
    for (n, v) in pairs {
        ctx.out.bulk(n.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
    Ok(())
}

fn config_set_failed(name: &[u8], reason: &str) -> CmdError {
    CmdError::owned(format!(
        "ERR CONFIG SET failed (possibly related to argument '{}') - {reason}",
        crate::error::excerpt(name, 128)
    ))
}

fn config_set(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    if !argv.len().is_multiple_of(2) {
        return Err(SYNTAX.into());
    }
    // First pass, as Valkey: names known, mutable, not repeated; the first
    // problem found is the one reported.
    let mut chosen: Vec<(&'static Directive, &Bytes, &Bytes)> = Vec::new();
    for pair in argv[2..].chunks_exact(2) {
        let (name, value) = (&pair[0], &pair[1]);
        let d = std::str::from_utf8(name).ok().and_then(Config::directive);
        let Some(d) = d else {
            return Err(CmdError::owned(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                crate::error::excerpt(name, 128)
            )));
        };
        if !d.mutable {
            return Err(config_set_failed(name, "can't set immutable config"));
        }
        if d.has(PROTECTED) && !protected_allowed(ctx) {
            return Err(config_set_failed(name, "can't set protected config"));
        }
        // A name and its alias are separate entries in Valkey: both may be
        // given (the later wins); only the same spelling twice is refused.
        let shown = d.matched_name(&String::from_utf8_lossy(name));
        let dup = chosen.iter().any(|(c, n, _)| {
            std::ptr::eq(*c, d) && c.matched_name(&String::from_utf8_lossy(n)) == shown
        });
        if dup {
            return Err(config_set_failed(name, "duplicate parameter"));
        }
        chosen.push((d, name, value));
    }
    // Second pass on a copy: nothing changes unless every value is valid.
    let mut cfg = ctx.state.config.clone();
    for (d, name, value) in &chosen {
        let text = String::from_utf8_lossy(value);
        let args = if d.has(MULTI_ARG) {
            // Valkey splits on single spaces, not the config file's rules.
            text.split(' ').map(String::from).collect()
        } else {
            vec![text.into_owned()]
        };
        // Valkey names the directive as registered (lower case) here.
        let shown = d.matched_name(&String::from_utf8_lossy(name));
        (d.set)(&mut cfg, &args).map_err(|e| config_set_failed(shown.as_bytes(), &e))?;
        if d.has(SAME_ONLY) && (d.get)(&cfg) != (d.get)(&ctx.state.config) {
            return Err(config_set_failed(
                shown.as_bytes(),
                "changing it at run time is not supported by ferrokey",
            ));
        }
    }
    // Side effects that can fail come before the commit.
    if let Some((_, name, _)) = chosen.iter().find(|(d, _, _)| d.name == "dir") {
        std::env::set_current_dir(&cfg.dir).map_err(|e| config_set_failed(name, &strerror(&e)))?;
        // Like Valkey's getcwd(): CONFIG GET dir shows the absolute path.
        if let Ok(abs) = std::env::current_dir() {
            cfg.dir = abs.display().to_string();
        }
    }
    let limits = &ctx.state.net_limits;
    limits
        .max_bulk_len
        .store(cfg.proto_max_bulk_len, std::sync::atomic::Ordering::Relaxed);
    limits.query_buf_limit.store(
        cfg.client_query_buffer_limit,
        std::sync::atomic::Ordering::Relaxed,
    );
    // Access words switch meaning with the policy (the data adjusts over
    // time, as Valkey warns in OBJECT FREQ's error).
    let lfu = cfg.lfu_policy();
    ctx.state.dbs.iter_mut().for_each(|d| d.lfu = lfu);
    crate::log::set_level(&cfg.loglevel);
    ctx.state.config = cfg;
    ctx.out.ok();
    Ok(())
}

/// `enable-protected-configs`: yes, or local for a loopback client.
fn protected_allowed(ctx: &Ctx) -> bool {
    match ctx
        .state
        .config
        .extra
        .get("enable-protected-configs")
        .map(String::as_str)
    {
        Some("yes") => true,
        Some("local") => ctx.client_ref().addr.ip().is_loopback(),
        _ => false,
    }
}

/// An OS error as C's `strerror` words it (without Rust's "(os error N)").
fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn config_resetstat(ctx: &mut Ctx) -> CmdResult {
    reset_stats(ctx.state);
    ctx.out.ok();
    Ok(())
}

/// CONFIG RESETSTAT: counters and latency histograms back to zero; gauges
/// (pending lazy frees), the slow log and the latency monitor stay.
fn reset_stats(st: &mut State) {
    let n = st.stats.commands.len();
    let pending = st.stats.lazyfree_pending;
    st.stats = Default::default();
    st.stats.commands = vec![Default::default(); n];
    st.stats.lazyfree_pending = pending;
    for db in &mut st.dbs {
        db.expired_keys = 0;
        db.hits = 0;
        db.misses = 0;
    }
    crate::alloc::reset_peak();
    st.rates = Default::default();
}

fn config_rewrite(ctx: &mut Ctx) -> CmdResult {
    rewrite_config_file(ctx, false)
}

/// CONFIG REWRITE, or with `force_all` DEBUG CONFIG-REWRITE-FORCE-ALL
/// (every directive written, defaults too).
pub(super) fn rewrite_config_file(ctx: &mut Ctx, force_all: bool) -> CmdResult {
    let Some(path) = ctx.state.config.config_file.clone() else {
        return Err(NO_CONFIG_FILE.into());
    };
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        // A config file removed since startup is written anew, as Valkey does.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(rewrite_error(&e)),
    };
    let text = rewrite_text(&old, &ctx.state.config, &Config::default(), force_all);
    write_atomically(&path, text.as_bytes()).map_err(|e| rewrite_error(&e))?;
    ctx.out.ok();
    Ok(())
}

fn rewrite_error(e: &std::io::Error) -> CmdError {
    CmdError::owned(format!("ERR Rewriting config file: {}", strerror(e)))
}

/// Marks lines CONFIG REWRITE appended, as Valkey's signature does.
const REWRITE_SIGNATURE: &str = "# Generated by CONFIG REWRITE";

/// The new config file text: comments, blank lines and lines we do not
/// recognise stay where they are; each directive's first line is replaced
/// by its current value (later duplicates are dropped); directives not in
/// the file are appended after the signature when they differ from the
/// default, or all of them with `force_all`.
pub fn rewrite_text(old: &str, cfg: &Config, defaults: &Config, force_all: bool) -> String {
    let mut lines: Vec<Option<String>> = Vec::new();
    // Directive name → indexes of its lines.
    let mut at: Vec<(&'static str, Vec<usize>)> = Vec::new();
    let mut has_signature = false;
    for raw in old.lines() {
        let t = raw.trim();
        if t == REWRITE_SIGNATURE {
            has_signature = true;
        }
        let name = if t.is_empty() || t.starts_with('#') {
            None
        } else {
            crate::resp::parser::split_args(t.as_bytes())
                .and_then(|a| a.into_iter().next())
                .and_then(|n| Config::directive(&String::from_utf8_lossy(&n)))
                .map(|d| d.name)
        };
        if let Some(n) = name {
            match at.iter_mut().find(|(m, _)| *m == n) {
                Some((_, v)) => v.push(lines.len()),
                None => at.push((n, vec![lines.len()])),
            }
        }
        lines.push(Some(raw.to_string()));
    }
    let mut tail: Vec<String> = Vec::new();
    for d in crate::config::all() {
        let value = (d.get)(cfg);
        let line = format!("{} {}", d.name, format_value(d, &value));
        match at.iter().find(|(m, _)| *m == d.name) {
            Some((_, idx)) => {
                for (k, &i) in idx.iter().enumerate() {
                    lines[i] = if k == 0 { Some(line.clone()) } else { None };
                }
            }
            None if force_all || value != (d.get)(defaults) => tail.push(line),
            None => {}
        }
    }
    let mut out = String::new();
    for l in lines.into_iter().flatten() {
        out.push_str(&l);
        out.push('\n');
    }
    if !tail.is_empty() {
        if !has_signature {
            out.push_str(REWRITE_SIGNATURE);
            out.push('\n');
        }
        for l in tail {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
}

/// A value as the config file reads it back: quoted and escaped when it is
/// empty or holds spaces, quotes or control bytes.
fn format_value(d: &Directive, value: &str) -> String {
    let plain = |v: &str| {
        !v.is_empty()
            && v.bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\'))
    };
    if d.has(MULTI_ARG) && value.split(' ').all(plain) {
        return value.to_string();
    }
    if plain(value) {
        return value.to_string();
    }
    crate::config::file::repr(value)
}

/// Writes `data` to a temporary file beside `path`, then renames it over
/// `path`, so a crash never leaves a half-written config file.
fn write_atomically(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        unix_now().as_micros()
    ));
    let tmp = std::path::PathBuf::from(tmp);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn config_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
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
    ctx.out.int(ctx.state.started_unix_ms / 1000);
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
    ctx.state.shutdown = Some(mode);
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
    let st = &*ctx.state;
    let out = &mut *ctx.out;
    let n = count.min(st.slowlog.len());
    out.array(n);
    for e in st.slowlog.iter().take(n) {
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
    ctx.out.int(ctx.state.slowlog.len() as i64);
    Ok(())
}

fn slowlog_reset(ctx: &mut Ctx) -> CmdResult {
    ctx.state.slowlog.clear();
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
    match ctx.db().peek(&key, now) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_like_valkey() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1043200), "1018.75K");
        assert_eq!(human_bytes(6447104), "6.15M");
        assert_eq!(human_bytes(25276063744), "23.54G");
    }

    #[test]
    fn rewrite_keeps_comments_and_order() {
        let old = "# top comment\nport 6379\n\n# limits\nmaxclients 100\nmaxclients 200\nhz 10\n";
        let cfg = Config {
            maxclients: 50,
            hz: 20,
            timeout: 7,
            requirepass: Some("a b".into()),
            ..Config::default()
        };
        let text = rewrite_text(old, &cfg, &Config::default(), false);
        assert_eq!(
            text,
            "# top comment\nport 6379\n\n# limits\nmaxclients 50\nhz 20\n\
             # Generated by CONFIG REWRITE\nrequirepass \"a b\"\ntimeout 7\n"
        );
        // Rewriting again changes nothing and adds no second signature.
        assert_eq!(rewrite_text(&text, &cfg, &Config::default(), false), text);
        // Forced, every directive is written, and the file loads back to
        // the same values.
        let all = rewrite_text(old, &cfg, &Config::default(), true);
        let mut back = Config::default();
        crate::config::file::apply_text(&mut back, &all, "t").unwrap();
        for d in crate::config::all() {
            assert_eq!((d.get)(&back), (d.get)(&cfg), "{}", d.name);
            assert!(
                all.lines().any(|l| l.split(' ').next() == Some(d.name)),
                "{} not written",
                d.name
            );
        }
        // The result parses back to the same values.
        let mut back = Config::default();
        crate::config::file::apply_text(&mut back, &text, "t").unwrap();
        assert_eq!(back.maxclients, 50);
        assert_eq!(back.requirepass.as_deref(), Some("a b"));
    }

    #[test]
    fn values_quoted_only_when_needed() {
        let d = |n: &str| Config::directive(n).unwrap();
        assert_eq!(format_value(d("logfile"), ""), "\"\"");
        assert_eq!(format_value(d("save"), ""), "\"\"");
        assert_eq!(format_value(d("bind"), "127.0.0.1 -::1"), "127.0.0.1 -::1");
        assert_eq!(format_value(d("requirepass"), "x\"y\n"), "\"x\\\"y\\n\"");
        assert_eq!(format_value(d("hz"), "10"), "10");
    }

    #[test]
    fn proc_cpu_parses_own_stat() {
        let (user, sys) = proc_cpu("/proc/self/stat", false);
        assert!(user >= 0.0 && sys >= 0.0);
        assert_eq!(proc_cpu("/nonexistent", false), (0.0, 0.0));
    }
}
