//! INFO: the server's counters and facts, section by section, with
//! Valkey's field names and order. It reads what other parts keep (`State`
//! stats, the dbs, the clients, the allocator in `crate::alloc`) and the
//! process figures Linux gives in /proc.

use std::fmt::{Display, Write as _};
use std::sync::OnceLock;

use super::args::is;
use super::server::unix_now;
use super::{Ctx, CMD_TABLE};
use crate::config::directives::format_percentile;
use crate::error::CmdResult;
use crate::state::pubsub::Kind;
use crate::state::{Clients, State};

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
    // Not in `all` or `everything`: only when named.
    ("debug", false),
];

pub(super) fn info(ctx: &mut Ctx) -> CmdResult {
    let mut want = [false; SECTIONS.len()];
    if ctx.argv.len() == 1 {
        for (w, (_, default)) in want.iter_mut().zip(SECTIONS) {
            *w = *default;
        }
    }
    for a in &ctx.argv[1..] {
        if is(a, "all") || is(a, "everything") {
            for (w, (name, _)) in want.iter_mut().zip(SECTIONS) {
                *w |= *name != "debug";
            }
        } else if is(a, "default") {
            for (w, (_, default)) in want.iter_mut().zip(SECTIONS) {
                *w |= *default;
            }
        } else if let Some(i) = SECTIONS.iter().position(|(n, _)| is(a, n)) {
            want[i] = true;
        }
        // Unknown section names are ignored, as Valkey does.
    }
    let a = ctx.admin();
    let text = info_text(a.state, a.clients, &want);
    a.out.verbatim(text.as_bytes());
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
            "debug" => info_debug(&mut s, state),
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
    kv(s, "redis_version", crate::REDIS_COMPAT_VERSION);
    kv(s, "redis_git_sha1", "00000000");
    kv(s, "redis_git_dirty", 0);
    kv(s, "redis_build_id", "0");
    kv(s, "redis_mode", "standalone");
    kv(s, "os", os_name());
    kv(s, "arch_bits", usize::BITS);
    kv(s, "monotonic_clock", crate::util::clock::describe());
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
    // One line per kind of listener, numbered by kind as Valkey numbers
    // its connection types (0 TCP, 1 Unix), and only for those listening.
    if st.config.port != 0 {
        let mut l = String::from("name=tcp");
        for b in &st.config.bind {
            let _ = write!(l, ",bind={b}");
        }
        let _ = write!(l, ",port={}", st.tcp_port);
        kv(s, "listener0", l);
    }
    let unix = st.config.get("unixsocket").unwrap_or_default();
    if !unix.is_empty() {
        kv(s, "listener1", format!("name=unix,bind={unix}"));
    }
}

fn info_clients(s: &mut String, st: &State, clients: &Clients) {
    s.push_str("# Clients\r\n");
    kv(s, "connected_clients", clients.len());
    kv(s, "cluster_connections", 0);
    kv(s, "maxclients", st.config.maxclients);
    kv(
        s,
        "blocked_clients",
        st.blocking.len() + st.pause.postponed.len(),
    );
    kv(s, "tracking_clients", st.tracking.client_count());
    kv(s, "pubsub_clients", st.pubsub.client_count());
    kv(
        s,
        "watching_clients",
        clients.iter().filter(|c| !c.watched.is_empty()).count(),
    );
    kv(s, "clients_in_timeout_table", 0);
    kv(s, "total_watched_keys", st.watches.len());
    kv(s, "total_blocking_keys", st.blocking.key_count());
    kv(
        s,
        "total_blocking_keys_on_nokey",
        st.blocking.change_key_count(),
    );
    let (reason, actions, left) = match (st.pause.mode(), st.pause.end_ms()) {
        (Some(mode), Some(end)) => (
            "client_pause",
            match mode {
                crate::state::pause::PauseMode::Write => "write",
                crate::state::pause::PauseMode::All => "all",
            },
            (end - crate::keyspace::now_ms()).max(0),
        ),
        _ => ("none", "none", 0),
    };
    kv(s, "paused_reason", reason);
    kv(s, "paused_actions", actions);
    kv(s, "paused_timeout_milliseconds", left);
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
    // While a script runs, the engine is out: what it was then.
    let seen = &st.scripting_seen;
    let (lua, scripts, cached) = st.scripting.as_ref().map_or(
        (
            seen.lua_memory as u64,
            seen.scripts_memory as u64,
            seen.scripts,
        ),
        |e| (e.memory() as u64, e.scripts_memory() as u64, e.len()),
    );
    kv(s, "used_memory_lua", lua);
    kv(s, "used_memory_vm_eval", lua);
    kv(s, "used_memory_lua_human", human_bytes(lua));
    kv(s, "used_memory_scripts_eval", scripts);
    kv(s, "number_of_cached_scripts", cached);
    kv(s, "number_of_functions", 0);
    kv(s, "number_of_libraries", 0);
    kv(s, "used_memory_vm_functions", 0);
    kv(s, "used_memory_vm_total", lua);
    kv(s, "used_memory_vm_total_human", human_bytes(lua));
    kv(s, "used_memory_functions", 0);
    kv(s, "used_memory_scripts", scripts);
    kv(s, "used_memory_scripts_human", human_bytes(scripts));
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
    kv(s, "lazyfree_pending_objects", st.lazyfree.pending());
    kv(s, "lazyfreed_objects", st.lazyfree.freed());
}

fn info_persistence(s: &mut String, st: &State) {
    // Nothing is ever saved or loaded: the constant fields say so.
    s.push_str("# Persistence\r\n");
    kv(s, "loading", u8::from(st.rdb_load.in_progress.is_some()));
    kv(s, "async_loading", 0);
    kv(s, "current_cow_peak", 0);
    kv(s, "current_cow_size", 0);
    kv(s, "current_cow_size_age", 0);
    kv(s, "current_fork_perc", "0.00");
    let (processed, total) = super::save::current_save_keys(st);
    kv(s, "current_save_keys_processed", processed);
    kv(s, "current_save_keys_total", total);
    kv(s, "rdb_changes_since_last_save", st.dirty);
    kv(
        s,
        "rdb_bgsave_in_progress",
        u8::from(st.save.running.is_some()),
    );
    kv(s, "rdb_last_save_time", st.save.lastsave);
    let status = if st.save.last_bgsave_ok { "ok" } else { "err" };
    kv(s, "rdb_last_bgsave_status", status);
    kv(s, "rdb_last_bgsave_time_sec", st.save.last_bgsave_secs);
    kv(
        s,
        "rdb_current_bgsave_time_sec",
        super::save::current_bgsave_secs(st),
    );
    kv(s, "rdb_saves", st.save.saves);
    kv(s, "rdb_last_cow_size", 0);
    kv(s, "rdb_last_load_keys_expired", st.rdb_load.keys_expired);
    kv(s, "rdb_last_load_keys_loaded", st.rdb_load.keys_loaded);
    let aof = &st.aof;
    kv(s, "aof_enabled", u8::from(aof.is_on()));
    kv(
        s,
        "aof_rewrite_in_progress",
        u8::from(aof.rewrite.is_some()),
    );
    kv(s, "aof_rewrite_scheduled", u8::from(aof.rewrite_scheduled));
    kv(s, "aof_last_rewrite_time_sec", aof.last_rewrite_secs);
    let current = aof
        .rewrite
        .as_ref()
        .map_or(-1, |r| r.started.elapsed().as_secs() as i64);
    kv(s, "aof_current_rewrite_time_sec", current);
    let ok = |b: bool| if b { "ok" } else { "err" };
    kv(s, "aof_last_bgrewrite_status", ok(aof.last_bgrewrite_ok));
    kv(s, "aof_rewrites", aof.rewrites);
    kv(s, "aof_rewrites_consecutive_failures", aof.rewrite_failures);
    kv(s, "aof_last_write_status", ok(aof.disk_error().is_none()));
    kv(s, "aof_last_cow_size", 0);
    kv(s, "module_fork_in_progress", 0);
    kv(s, "module_fork_last_cow_size", 0);
    if aof.is_on() {
        kv(s, "aof_current_size", aof.current_size);
        kv(s, "aof_base_size", aof.rewrite_base_size);
        kv(s, "aof_pending_rewrite", u8::from(aof.rewrite_scheduled));
        kv(s, "aof_buffer_length", aof.buf.len());
        kv(s, "aof_pending_bio_fsync", aof.pending_bio_fsync());
        kv(s, "aof_delayed_fsync", aof.delayed_fsync);
    }
    if let Some(p) = &st.rdb_load.in_progress {
        let now = crate::keyspace::now_ms() / 1000;
        for (name, value) in p.info_fields(now) {
            kv(s, name, value);
        }
    }
}

fn info_stats(s: &mut String, st: &State) {
    let stats = &st.stats;
    let (ops, in_kbps, out_kbps) = st.rates.current();
    let (mut expired, mut hits, mut misses) = (0u64, 0u64, 0u64);
    let mut expired_fields = 0u64;
    for db in &st.dbs {
        expired += db.expired_keys;
        expired_fields += db.expired_fields;
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
    kv(s, "expired_fields", expired_fields);
    kv(
        s,
        "expired_stale_perc",
        format!("{:.2}", stats.expired_stale_perc),
    );
    kv(s, "evicted_keys", 0);
    kv(s, "evicted_clients", stats.evicted_clients);
    kv(
        s,
        "evicted_scripts",
        st.scripting
            .as_ref()
            .map_or(st.scripting_seen.evicted, |e| e.evicted),
    );
    kv(s, "keyspace_hits", hits);
    kv(s, "keyspace_misses", misses);
    kv(s, "pubsub_channels", st.pubsub.count(Kind::Channel));
    kv(s, "pubsub_patterns", st.pubsub.count(Kind::Pattern));
    kv(s, "pubsubshard_channels", st.pubsub.count(Kind::Shard));
    // No child is forked: a background snapshot stands for one.
    kv(s, "latest_fork_usec", st.stats.latest_start_usec);
    kv(s, "total_forks", st.stats.background_starts);
    kv(s, "migrate_cached_sockets", st.migrate_sockets.len());
    let (keys, items, prefixes) = st.tracking.totals();
    kv(s, "tracking_total_keys", keys);
    kv(s, "tracking_total_items", items);
    kv(s, "tracking_total_prefixes", prefixes);
    kv(s, "unexpected_error_replies", 0);
    kv(s, "total_error_replies", stats.total_error_replies);
    kv(s, "io_threaded_reads_processed", stats.io_threaded_reads);
    kv(s, "io_threaded_writes_processed", stats.io_threaded_writes);
    kv(
        s,
        "client_query_buffer_limit_disconnections",
        stats.qbuf_limit_disconnections,
    );
    kv(
        s,
        "client_output_buffer_limit_disconnections",
        stats.obuf_limit_disconnections,
    );
    kv(s, "eventloop_cycles", stats.el_cycles);
    kv(s, "eventloop_duration_sum", stats.el_duration_ns / 1000);
    kv(s, "eventloop_duration_cmd_sum", stats.cmd_duration_usec());
    let (cycles_per_sec, usec_per_cycle) = st.rates.eventloop();
    kv(s, "instantaneous_eventloop_cycles_per_sec", cycles_per_sec);
    kv(s, "instantaneous_eventloop_duration_usec", usec_per_cycle);
}

/// INFO debug (only when named): the event loop's cron time and worst
/// cycle. There is no AOF, so no time goes to writing it.
fn info_debug(s: &mut String, st: &State) {
    let stats = &st.stats;
    s.push_str("# Debug\r\n");
    kv(s, "eventloop_duration_aof_sum", 0);
    kv(s, "eventloop_duration_cron_sum", stats.el_cron_ns / 1000);
    kv(s, "eventloop_duration_max", stats.el_duration_max_ns / 1000);
    kv(
        s,
        "eventloop_cmd_per_cycle_max",
        stats.el_cmds_per_cycle_max,
    );
}

/// The replication id (DEBUG CHANGE-REPL-ID makes a new one).
fn master_replid(st: &State) -> &str {
    &st.replid
}

fn info_replication(s: &mut String, st: &State) {
    s.push_str("# Replication\r\n");
    kv(s, "role", "master");
    kv(s, "connected_slaves", 0);
    if st.mode.min_replicas {
        kv(s, "min_slaves_good_slaves", 0);
    }
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
            "db{}:keys={},expires={},avg_ttl={},keys_with_volatile_items={}\r\n",
            db.id,
            db.len(),
            db.expires_len(),
            db.avg_ttl,
            db.hfe.len()
        );
    }
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
    fn proc_cpu_parses_own_stat() {
        let (user, sys) = proc_cpu("/proc/self/stat", false);
        assert!(user >= 0.0 && sys >= 0.0);
        assert_eq!(proc_cpu("/nonexistent", false), (0.0, 0.0));
    }
}
