//! Configuration: one table of directives serves the config file, the
//! `--name value` command line, and CONFIG GET / SET / REWRITE.
//!
//! Names and value syntax are Valkey's, so an existing valkey.conf keeps
//! working for every directive listed here. A directive not in the table, or
//! a value we would not honour, stops startup with file, line and reason.

pub mod directives;
pub mod file;

pub use directives::{Directive, DIRECTIVES};
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
    pub maxclients: usize,
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
            config_file: None,
        };
        // The table's defaults are the single source of truth.
        for d in DIRECTIVES {
            let args = file::split_value(d.default);
            if let Err(e) = (d.set)(&mut c, &args) {
                panic!("built-in default of '{}' is invalid: {e}", d.name);
            }
        }
        c
    }
}

impl Config {
    /// Finds a directive by name or alias, case-insensitively.
    pub fn directive(name: &str) -> Option<&'static Directive> {
        DIRECTIVES.iter().find(|d| {
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
        assert_eq!(c.get("save").unwrap(), "");
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = DIRECTIVES.iter().map(|d| d.name).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len());
    }

    #[test]
    fn every_directive_round_trips_its_value() {
        let mut c = Config::default();
        for d in DIRECTIVES {
            let v = (d.get)(&c);
            let args = file::split_value(&v);
            (d.set)(&mut c, &args).unwrap_or_else(|e| panic!("{}: {v:?}: {e}", d.name));
            assert_eq!((d.get)(&c), v, "{}", d.name);
        }
    }
}
