//! Configuration: one table of directives serves the config file, the
//! `--name value` command line, and CONFIG GET / SET / REWRITE.
//!
//! Names and value syntax are Valkey's, so an existing valkey.conf keeps
//! working for every directive listed here. A directive not in the table, or
//! a value we would not honour, stops startup with file, line and reason.

pub mod directives;
pub mod extra;
pub mod file;
pub mod notify;

pub use directives::{Directive, DIRECTIVES};

/// Every directive: those ferrokey acts on, then the rest of Valkey's
/// (`extra`).
pub fn all() -> impl Iterator<Item = &'static Directive> {
    DIRECTIVES.iter().chain(extra::EXTRA.iter())
}
pub use file::{load_args, ConfigError};

/// Every setting, typed. Defaults are Valkey's.
#[derive(Clone, Debug)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    pub io_threads: usize,
    pub events_per_io_thread: usize,
    pub prefetch_batch_max_size: usize,
    pub databases: usize,
    pub hz: u32,
    pub requirepass: Option<String>,
    pub protected_mode: bool,
    pub maxclients: u64,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub tcp_backlog: u32,
    pub proto_max_bulk_len: usize,
    pub client_query_buffer_limit: usize,
    pub loglevel: String,
    pub logfile: String,
    pub pidfile: String,
    pub dir: String,
    pub dbfilename: String,
    pub save: String,
    /// A `save` line was read: the first one replaces the built-in points,
    /// later ones add to it (Valkey's config loading).
    pub save_given: bool,
    pub appendonly: bool,
    pub maxmemory: u64,
    pub maxmemory_policy: String,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_server_del: bool,
    pub enable_debug_command: String,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub latency_monitor_threshold: u64,
    /// Per-command latency histograms (LATENCY HISTOGRAM, INFO latencystats).
    pub latency_tracking: bool,
    /// Percentiles INFO latencystats reports.
    pub latency_tracking_info_percentiles: Vec<f64>,
    pub daemonize: bool,
    pub hash_max_listpack_entries: u64,
    pub hash_max_listpack_value: u64,
    pub set_max_intset_entries: u64,
    pub set_max_listpack_entries: u64,
    pub set_max_listpack_value: u64,
    pub zset_max_listpack_entries: u64,
    pub zset_max_listpack_value: u64,
    pub list_max_listpack_size: i64,
    pub list_compress_depth: u64,
    /// Stream node limits (0: none).
    pub stream_node_max_bytes: usize,
    pub stream_node_max_entries: i64,
    /// (hard, soft, soft-seconds) for the normal, replica and pubsub classes.
    pub client_output_buffer_limit: [(u64, u64, u64); 3],
    /// Keyspace notification classes and channels (`notify::` bits).
    pub notify_keyspace_events: u32,
    /// Values of the directives in `extra` (features not running, knobs
    /// with no counterpart), by name.
    pub extra: std::collections::BTreeMap<&'static str, String>,
    /// The config file this server was started with, for CONFIG REWRITE.
    pub config_file: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        let mut c = Config {
            port: 0,
            bind: Vec::new(),
            io_threads: 1,
            events_per_io_thread: 2,
            prefetch_batch_max_size: 16,
            databases: 16,
            hz: 10,
            requirepass: None,
            protected_mode: true,
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            tcp_backlog: 511,
            proto_max_bulk_len: 0,
            client_query_buffer_limit: 0,
            loglevel: String::new(),
            logfile: String::new(),
            pidfile: String::new(),
            dir: String::new(),
            dbfilename: String::new(),
            save: String::new(),
            save_given: false,
            appendonly: false,
            maxmemory: 0,
            maxmemory_policy: String::new(),
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            enable_debug_command: String::new(),
            slowlog_log_slower_than: 0,
            slowlog_max_len: 0,
            latency_monitor_threshold: 0,
            latency_tracking: false,
            latency_tracking_info_percentiles: Vec::new(),
            daemonize: false,
            hash_max_listpack_entries: 0,
            hash_max_listpack_value: 0,
            set_max_intset_entries: 0,
            set_max_listpack_entries: 0,
            set_max_listpack_value: 0,
            zset_max_listpack_entries: 0,
            zset_max_listpack_value: 0,
            list_max_listpack_size: 0,
            list_compress_depth: 0,
            stream_node_max_bytes: 0,
            stream_node_max_entries: 0,
            client_output_buffer_limit: [(0, 0, 0); 3],
            notify_keyspace_events: 0,
            extra: Default::default(),
            config_file: None,
        };
        // The table's defaults are the single source of truth.
        for d in all() {
            let args = d.value_args(d.default);
            if let Err(e) = (d.set)(&mut c, &args) {
                panic!("built-in default of '{}' is invalid: {e}", d.name);
            }
        }
        c.save_given = false;
        c
    }
}

impl Config {
    /// Whether keys track access frequency (an `*-lfu` maxmemory-policy)
    /// rather than access time.
    pub fn lfu_policy(&self) -> bool {
        self.maxmemory_policy.ends_with("-lfu")
    }

    /// Finds a directive by name or alias, case-insensitively.
    pub fn directive(name: &str) -> Option<&'static Directive> {
        all().find(|d| {
            d.name.eq_ignore_ascii_case(name)
                || d.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
        })
    }

    /// Sets one directive from its arguments (file, command line or CONFIG SET).
    pub fn set(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        let d = Config::directive(name)
            .ok_or_else(|| "Bad directive or wrong number of arguments".to_string())?;
        (d.set)(self, args)
    }

    pub fn get(&self, name: &str) -> Option<String> {
        Config::directive(name).map(|d| (d.get)(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valkeys() {
        let c = Config::default();
        assert_eq!(c.port, 6379);
        assert_eq!(c.bind, vec!["127.0.0.1".to_string(), "-::1".to_string()]);
        assert_eq!(c.io_threads, 1);
        assert_eq!(c.proto_max_bulk_len, 512 * 1024 * 1024);
        assert_eq!(c.client_query_buffer_limit, 1024 * 1024 * 1024);
        assert_eq!(c.get("maxmemory-policy").unwrap(), "noeviction");
        assert_eq!(c.get("save").unwrap(), "3600 1 300 100 60 10000");
    }

    #[test]
    fn stock_redis_conf_directives_load() {
        // The active lines of Debian's redis.conf (daemonize aside: ferrokey
        // leaves backgrounding to the supervisor).
        let text = "bind 127.0.0.1 -::1\nprotected-mode yes\nport 6379\ntcp-backlog 511\ntimeout 0\n\
            tcp-keepalive 300\npidfile /run/redis/redis-server.pid\nloglevel notice\nlogfile \"\"\n\
            databases 16\nalways-show-logo no\nset-proc-title yes\n\
            proc-title-template \"{title} {listen-addr} {server-mode}\"\nstop-writes-on-bgsave-error yes\n\
            rdbcompression yes\nrdbchecksum yes\ndbfilename dump.rdb\nrdb-del-sync-files no\ndir /tmp\n\
            replica-serve-stale-data yes\nreplica-read-only yes\nrepl-diskless-sync yes\n\
            repl-diskless-sync-delay 5\nrepl-diskless-sync-max-replicas 0\nrepl-diskless-load disabled\n\
            repl-disable-tcp-nodelay no\nreplica-priority 100\nacllog-max-len 128\n\
            lazyfree-lazy-eviction no\nlazyfree-lazy-expire no\nlazyfree-lazy-server-del no\n\
            replica-lazy-flush no\nlazyfree-lazy-user-del no\nlazyfree-lazy-user-flush no\n\
            oom-score-adj no\noom-score-adj-values 0 200 800\ndisable-thp yes\nappendonly no\n\
            appendfilename \"appendonly.aof\"\nappenddirname \"appendonlydir\"\nappendfsync everysec\n\
            no-appendfsync-on-rewrite no\nauto-aof-rewrite-percentage 100\nauto-aof-rewrite-min-size 64mb\n\
            aof-load-truncated yes\naof-use-rdb-preamble yes\naof-timestamp-enabled no\n\
            slowlog-log-slower-than 10000\nslowlog-max-len 128\nlatency-monitor-threshold 0\n\
            notify-keyspace-events \"\"\nhash-max-listpack-entries 128\nhash-max-listpack-value 64\n\
            list-max-listpack-size -2\nlist-compress-depth 0\nset-max-intset-entries 512\n\
            zset-max-listpack-entries 128\nzset-max-listpack-value 64\nhll-sparse-max-bytes 3000\n\
            stream-node-max-bytes 4kb\nstream-node-max-entries 100\nactiverehashing yes\n\
            client-output-buffer-limit normal 0 0 0\nclient-output-buffer-limit replica 256mb 64mb 60\n\
            client-output-buffer-limit pubsub 32mb 8mb 60\nhz 10\ndynamic-hz yes\n\
            aof-rewrite-incremental-fsync yes\nrdb-save-incremental-fsync yes\njemalloc-bg-thread yes\n";
        let mut c = Config::default();
        file::apply_text(&mut c, text, "redis.conf").unwrap();
        assert_eq!(
            c.get("client-output-buffer-limit").unwrap(),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        assert_eq!(c.get("auto-aof-rewrite-min-size").unwrap(), "67108864");
        file::apply_text(&mut c, "notify-keyspace-events KEA\n", "x").unwrap();
        assert_eq!(c.get("notify-keyspace-events").unwrap(), "AKE");
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = all()
            .flat_map(|d| std::iter::once(d.name).chain(d.alias))
            .collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len());
    }

    #[test]
    fn every_directive_round_trips_its_value() {
        let mut c = Config::default();
        for d in all() {
            let v = (d.get)(&c);
            let args = d.value_args(&v);
            (d.set)(&mut c, &args).unwrap_or_else(|e| panic!("{}: {v:?}: {e}", d.name));
            assert_eq!((d.get)(&c), v, "{}", d.name);
        }
    }
}
