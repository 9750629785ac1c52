//! The directive table: name, default, whether CONFIG SET may change it, and
//! how to read and write its value. Value syntax follows valkey.conf:
//! `yes`/`no`, memory sizes like `512mb`, enums, lists.

use super::Config;

pub struct Directive {
    pub name: &'static str,
    /// Valkey's other name for it (`hash-max-ziplist-entries`,
    /// `slave-read-only`, `masterauth`, ...): accepted everywhere the name
    /// is, and listed by CONFIG GET patterns as its own entry.
    pub alias: Option<&'static str>,
    /// May be changed by CONFIG SET at run time.
    pub mutable: bool,
    pub default: &'static str,
    pub get: fn(&Config) -> String,
    pub set: fn(&mut Config, &[String]) -> Result<(), String>,
    /// `HIDDEN`, `PROTECTED`, `SENSITIVE`, `MULTI_ARG`, `SAME_ONLY`.
    pub flags: u8,
}

/// Listed by CONFIG GET only when asked for by exact name (Valkey's
/// HIDDEN_CONFIG: test and debugging knobs).
pub const HIDDEN: u8 = 1;
/// CONFIG SET allowed only as `enable-protected-configs` permits.
pub const PROTECTED: u8 = 2;
/// The value is a secret: redacted from the slow log.
pub const SENSITIVE: u8 = 4;
/// The value is a list of words: CONFIG SET splits it on spaces, a config
/// file line with one quoted argument is split, REWRITE writes it unquoted.
pub const MULTI_ARG: u8 = 8;
/// Valkey can change it at run time but ferrokey cannot (the listening
/// port, say): CONFIG SET accepts only the value it already has.
pub const SAME_ONLY: u8 = 16;

impl Directive {
    /// Gives the directive Valkey's alias.
    pub const fn aka(mut self, alias: &'static str) -> Self {
        self.alias = Some(alias);
        self
    }

    pub const fn with(mut self, flags: u8) -> Self {
        self.flags |= flags;
        self
    }

    pub const fn immutable(mut self) -> Self {
        self.mutable = false;
        self
    }

    #[inline]
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// A value as one text, as its setter takes it: the words of a
    /// list-valued directive, else the text as one argument.
    pub fn value_args(&self, value: &str) -> Vec<String> {
        if self.has(MULTI_ARG) {
            super::file::split_value(value)
        } else {
            vec![value.to_string()]
        }
    }

    /// The registered spelling (name or alias) that `name` matched, as
    /// Valkey names it in CONFIG SET errors.
    pub fn matched_name(&self, name: &str) -> &'static str {
        match self.alias {
            Some(a) if a.eq_ignore_ascii_case(name) => a,
            _ => self.name,
        }
    }
}

pub(super) fn one(a: &[String]) -> Result<&str, String> {
    match a {
        [v] => Ok(v.as_str()),
        _ => Err("wrong number of arguments".into()),
    }
}

pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

pub(super) fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// `1gb`, `512mb`, `100k`, `1024`: k/m/g are powers of 1000, kb/mb/gb of 1024.
pub fn parse_memory(s: &str) -> Result<u64, String> {
    let l = s.to_ascii_lowercase();
    let (num, mul): (&str, u64) = if let Some(n) = l.strip_suffix("gb") {
        (n, 1 << 30)
    } else if let Some(n) = l.strip_suffix("mb") {
        (n, 1 << 20)
    } else if let Some(n) = l.strip_suffix("kb") {
        (n, 1 << 10)
    } else if let Some(n) = l.strip_suffix('g') {
        (n, 1_000_000_000)
    } else if let Some(n) = l.strip_suffix('m') {
        (n, 1_000_000)
    } else if let Some(n) = l.strip_suffix('k') {
        (n, 1000)
    } else if let Some(n) = l.strip_suffix('b') {
        (n, 1)
    } else {
        (l.as_str(), 1)
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .ok_or_else(|| "argument must be a memory value".to_string())
}

/// An integer in `min..=max`, with Valkey's messages: a number out of range
/// (negative ones too) is "between ... inclusive", not "couldn't be parsed".
pub(super) fn int_in<T>(s: &str, min: T, max: T) -> Result<T, String>
where
    T: Copy + std::fmt::Display + TryFrom<i128>,
    i128: TryFrom<T>,
{
    let v: i128 = s
        .parse()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    let lo = i128::try_from(min).unwrap_or(i128::MIN);
    let hi = i128::try_from(max).unwrap_or(i128::MAX);
    if v < lo || v > hi {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    T::try_from(v).map_err(|_| "argument couldn't be parsed into an integer".to_string())
}

pub(super) fn one_of(s: &str, allowed: &[&str]) -> Result<String, String> {
    let l = s.to_ascii_lowercase();
    if allowed.contains(&l.as_str()) {
        Ok(l)
    } else {
        Err(format!(
            "argument(s) must be one of the following: {}",
            allowed.join(", ")
        ))
    }
}

macro_rules! bool_d {
    ($name:literal, $field:ident, $default:literal, $mutable:expr) => {
        Directive {
            name: $name,
            alias: None,
            flags: 0,
            mutable: $mutable,
            default: $default,
            get: |c| yes_no(c.$field),
            set: |c, a| {
                c.$field = parse_bool(one(a)?)?;
                Ok(())
            },
        }
    };
}

macro_rules! int_d {
    ($name:literal, $field:ident, $ty:ty, $min:expr, $max:expr, $default:literal, $mutable:expr) => {
        Directive {
            name: $name,
            alias: None,
            flags: 0,
            mutable: $mutable,
            default: $default,
            get: |c| c.$field.to_string(),
            set: |c, a| {
                c.$field = int_in::<$ty>(one(a)?, $min, $max)?;
                Ok(())
            },
        }
    };
}

macro_rules! mem_d {
    ($name:literal, $field:ident, $ty:ty, $min:expr, $default:literal, $mutable:expr) => {
        Directive {
            name: $name,
            alias: None,
            flags: 0,
            mutable: $mutable,
            default: $default,
            get: |c| c.$field.to_string(),
            set: |c, a| {
                let v = parse_memory(one(a)?)?;
                if v < $min {
                    return Err(format!(
                        "argument must be a memory value of at least {}",
                        $min
                    ));
                }
                c.$field =
                    <$ty>::try_from(v).map_err(|_| "argument is out of range".to_string())?;
                Ok(())
            },
        }
    };
}

/// Why a maxmemory limit with an evicting policy is refused.
const NO_EVICTION: &str = "evicting keys under maxmemory is not supported by ferrokey yet; \
     a limit works with maxmemory-policy noeviction";

macro_rules! enum_d {
    ($name:literal, $field:ident, [$($v:literal),*], $default:literal, $mutable:expr) => {
        Directive {
            name: $name,
            alias: None,
            flags: 0,
            mutable: $mutable,
            default: $default,
            get: |c| c.$field.clone(),
            set: |c, a| {
                c.$field = one_of(one(a)?, &[$($v),*])?;
                Ok(())
            },
        }
    };
}

macro_rules! string_d {
    ($name:literal, $field:ident, $default:literal, $mutable:expr) => {
        Directive {
            name: $name,
            alias: None,
            flags: 0,
            mutable: $mutable,
            default: $default,
            get: |c| c.$field.clone(),
            set: |c, a| {
                c.$field = one(a)?.to_string();
                Ok(())
            },
        }
    };
}

/// `latency-tracking-info-percentiles`: numbers in 0..=100; one empty
/// argument means none.
fn parse_percentiles(a: &[String]) -> Result<Vec<f64>, String> {
    if matches!(a, [v] if v.is_empty()) {
        return Ok(Vec::new());
    }
    a.iter()
        .map(|w| {
            let p = parse_c_double(w).ok_or_else(|| {
                "Invalid latency-tracking-info-percentiles parameters".to_string()
            })?;
            if !(0.0..=100.0).contains(&p) {
                return Err(
                    "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                        .to_string(),
                );
            }
            Ok(p)
        })
        .collect()
}

/// A number as Valkey's `string2d` takes it: all of the text, no leading
/// space, not NaN, and no overflow of a finite spelling to infinity.
fn parse_c_double(s: &str) -> Option<f64> {
    let v: f64 = s.parse().ok()?;
    let spelled_inf = s
        .trim_start_matches(['+', '-'])
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("inf"));
    if v.is_nan() || (v.is_infinite() && !spelled_inf) {
        return None;
    }
    Some(v)
}

/// A percentile as Valkey prints it: `%f` without trailing zeros
/// (`99.9`, `50`, `33.333333`).
pub fn format_percentile(p: f64) -> String {
    let s = format!("{p:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `client-output-buffer-limit <class> <hard> <soft> <soft-seconds>` ...
fn parse_output_limits(c: &mut Config, a: &[String]) -> Result<(), String> {
    if a.is_empty() || !a.len().is_multiple_of(4) {
        return Err("wrong number of arguments".into());
    }
    let mut next = c.client_output_buffer_limit;
    for chunk in a.chunks(4) {
        let class = match chunk[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "replica" | "slave" => 1,
            "pubsub" => 2,
            other => {
                return Err(format!(
                    "Invalid client class specified in buffer limit configuration: '{other}'"
                ))
            }
        };
        let hard = parse_memory(&chunk[1])?;
        let soft = parse_memory(&chunk[2])?;
        let secs = int_in::<u64>(&chunk[3], 0, i64::MAX as u64)?;
        next[class] = (hard, soft, secs);
    }
    c.client_output_buffer_limit = next;
    Ok(())
}

fn format_output_limits(c: &Config) -> String {
    let names = ["normal", "slave", "pubsub"];
    let l = &c.client_output_buffer_limit;
    (0..3)
        .map(|i| format!("{} {} {} {}", names[i], l[i].0, l[i].1, l[i].2))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every supported directive. Keep `valkey.conf.example` in step with it.
pub static DIRECTIVES: &[Directive] = &[
    // CONFIG SET binds the new port before it commits (`commands::config`).
    int_d!("port", port, u16, 0, 65535, "6379", true),
    Directive {
        name: "bind",
        alias: None,
        // CONFIG SET binds the new addresses before it commits.
        flags: MULTI_ARG,
        mutable: true,
        default: "127.0.0.1 -::1",
        get: |c| c.bind.join(" "),
        set: |c, a| {
            if a.is_empty() {
                return Err("wrong number of arguments".into());
            }
            for addr in a {
                let bare = addr.strip_prefix('-').unwrap_or(addr);
                if bare != "*" && bare != "::*" && bare.parse::<std::net::IpAddr>().is_err() {
                    return Err(format!("invalid bind address '{addr}'"));
                }
            }
            c.bind = a.to_vec();
            Ok(())
        },
    },
    int_d!("io-threads", io_threads, usize, 1, 16, "1", false),
    int_d!(
        "events-per-io-thread",
        events_per_io_thread,
        usize,
        0,
        1_000_000,
        "2",
        true
    ),
    int_d!(
        "prefetch-batch-max-size",
        prefetch_batch_max_size,
        usize,
        0,
        128,
        "16",
        true
    ),
    int_d!("databases", databases, usize, 1, 1_000_000, "16", false),
    Directive {
        name: "hz",
        alias: None,
        flags: 0,
        mutable: true,
        default: "10",
        get: |c| c.hz.to_string(),
        set: |c, a| {
            // Valkey clamps hz into 1..=500 rather than refusing.
            c.hz = int_in::<i64>(one(a)?, i32::MIN as i64, i32::MAX as i64)?.clamp(1, 500) as u32;
            Ok(())
        },
    },
    Directive {
        name: "requirepass",
        alias: None,
        flags: SENSITIVE,
        mutable: true,
        default: "",
        get: |c| c.requirepass.clone().unwrap_or_default(),
        set: |c, a| {
            let v = one(a)?;
            c.requirepass = if v.is_empty() {
                None
            } else {
                Some(v.to_string())
            };
            Ok(())
        },
    },
    bool_d!("protected-mode", protected_mode, "yes", true),
    int_d!(
        "maxclients",
        maxclients,
        u64,
        1,
        u32::MAX as u64,
        "10000",
        true
    ),
    int_d!("timeout", timeout, u64, 0, i32::MAX as u64, "0", true),
    int_d!(
        "tcp-keepalive",
        tcp_keepalive,
        u64,
        0,
        i32::MAX as u64,
        "300",
        true
    ),
    int_d!(
        "tcp-backlog",
        tcp_backlog,
        u32,
        0,
        i32::MAX as u32,
        "511",
        false
    ),
    mem_d!(
        "proto-max-bulk-len",
        proto_max_bulk_len,
        usize,
        1024 * 1024,
        "512mb",
        true
    ),
    mem_d!(
        "client-query-buffer-limit",
        client_query_buffer_limit,
        usize,
        1024 * 1024,
        "1gb",
        true
    ),
    enum_d!(
        "loglevel",
        loglevel,
        ["debug", "verbose", "notice", "warning", "nothing"],
        "notice",
        true
    ),
    string_d!("logfile", logfile, "", false),
    string_d!("pidfile", pidfile, "", false),
    Directive {
        name: "dir",
        alias: None,
        flags: PROTECTED,
        mutable: true,
        default: ".",
        get: |c| {
            if c.dir == "." {
                std::env::current_dir()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| ".".into())
            } else {
                c.dir.clone()
            }
        },
        set: |c, a| {
            let v = one(a)?;
            if !std::path::Path::new(v).is_dir() {
                return Err(format!("No such file or directory: {v}"));
            }
            c.dir = v.to_string();
            Ok(())
        },
    },
    string_d!("dbfilename", dbfilename, "dump.rdb", true).with(PROTECTED),
    Directive {
        name: "save",
        alias: None,
        flags: MULTI_ARG,
        mutable: true,
        default: "3600 1 300 100 60 10000",
        get: |c| c.save.clone(),
        set: set_save,
    },
    Directive {
        name: "appendonly",
        alias: None,
        flags: 0,
        mutable: true,
        default: "no",
        get: |c| yes_no(c.appendonly),
        set: |c, a| {
            c.appendonly = parse_bool(one(a)?)?;
            Ok(())
        },
    },
    Directive {
        name: "maxmemory",
        alias: None,
        flags: 0,
        mutable: true,
        default: "0",
        get: |c| c.maxmemory.to_string(),
        set: |c, a| {
            let v = parse_memory(one(a)?)?;
            // A limit is enforced by refusing writes (`noeviction`);
            // evicting keys is not built yet.
            if v != 0 && c.maxmemory_policy != "noeviction" {
                return Err(NO_EVICTION.into());
            }
            c.maxmemory = v;
            Ok(())
        },
    },
    Directive {
        name: "maxmemory-policy",
        alias: None,
        flags: 0,
        mutable: true,
        default: "noeviction",
        get: |c| c.maxmemory_policy.clone(),
        set: |c, a| {
            let p = one_of(
                one(a)?,
                &[
                    "volatile-lru",
                    "volatile-lfu",
                    "volatile-random",
                    "volatile-ttl",
                    "allkeys-lru",
                    "allkeys-lfu",
                    "allkeys-random",
                    "noeviction",
                ],
            )?;
            if c.maxmemory != 0 && p != "noeviction" {
                return Err(NO_EVICTION.into());
            }
            c.maxmemory_policy = p;
            Ok(())
        },
    },
    bool_d!(
        "lazyfree-lazy-user-del",
        lazyfree_lazy_user_del,
        "yes",
        true
    ),
    bool_d!(
        "lazyfree-lazy-user-flush",
        lazyfree_lazy_user_flush,
        "yes",
        true
    ),
    bool_d!("lazyfree-lazy-expire", lazyfree_lazy_expire, "yes", true),
    bool_d!(
        "lazyfree-lazy-server-del",
        lazyfree_lazy_server_del,
        "yes",
        true
    ),
    enum_d!(
        "enable-debug-command",
        enable_debug_command,
        ["yes", "no", "local"],
        "no",
        false
    ),
    int_d!(
        "slowlog-log-slower-than",
        slowlog_log_slower_than,
        i64,
        -1,
        i64::MAX,
        "10000",
        true
    ),
    int_d!(
        "slowlog-max-len",
        slowlog_max_len,
        u64,
        0,
        i64::MAX as u64,
        "128",
        true
    ),
    int_d!(
        "latency-monitor-threshold",
        latency_monitor_threshold,
        u64,
        0,
        i64::MAX as u64,
        "0",
        true
    ),
    bool_d!("latency-tracking", latency_tracking, "yes", true),
    Directive {
        name: "latency-tracking-info-percentiles",
        alias: None,
        flags: MULTI_ARG,
        mutable: true,
        default: "50 99 99.9",
        get: |c| {
            let v: Vec<String> = c
                .latency_tracking_info_percentiles
                .iter()
                .map(|p| format_percentile(*p))
                .collect();
            v.join(" ")
        },
        set: |c, a| {
            c.latency_tracking_info_percentiles = parse_percentiles(a)?;
            Ok(())
        },
    },
    Directive {
        name: "daemonize",
        alias: None,
        flags: 0,
        mutable: false,
        default: "no",
        get: |c| yes_no(c.daemonize),
        set: |c, a| {
            if parse_bool(one(a)?)? {
                return Err(
                    "daemonize yes is not supported: run ferrokey under a supervisor".into(),
                );
            }
            c.daemonize = false;
            Ok(())
        },
    },
    int_d!(
        "hash-max-listpack-entries",
        hash_max_listpack_entries,
        u64,
        0,
        i64::MAX as u64,
        "128",
        true
    )
    .aka("hash-max-ziplist-entries"),
    int_d!(
        "hash-max-listpack-value",
        hash_max_listpack_value,
        u64,
        0,
        i64::MAX as u64,
        "64",
        true
    )
    .aka("hash-max-ziplist-value"),
    int_d!(
        "set-max-intset-entries",
        set_max_intset_entries,
        u64,
        0,
        i64::MAX as u64,
        "512",
        true
    ),
    int_d!(
        "set-max-listpack-entries",
        set_max_listpack_entries,
        u64,
        0,
        i64::MAX as u64,
        "128",
        true
    ),
    int_d!(
        "set-max-listpack-value",
        set_max_listpack_value,
        u64,
        0,
        i64::MAX as u64,
        "64",
        true
    ),
    int_d!(
        "zset-max-listpack-entries",
        zset_max_listpack_entries,
        u64,
        0,
        i64::MAX as u64,
        "128",
        true
    )
    .aka("zset-max-ziplist-entries"),
    int_d!(
        "zset-max-listpack-value",
        zset_max_listpack_value,
        u64,
        0,
        i64::MAX as u64,
        "64",
        true
    )
    .aka("zset-max-ziplist-value"),
    int_d!(
        "list-max-listpack-size",
        list_max_listpack_size,
        i64,
        // Valkey takes any int; lists read below -5 as -5 (list.rs clamps).
        i32::MIN as i64,
        i32::MAX as i64,
        "-2",
        true
    )
    .aka("list-max-ziplist-size"),
    Directive {
        name: "stream-node-max-bytes",
        alias: None,
        flags: 0,
        mutable: true,
        default: "4096",
        get: |c| c.stream_node_max_bytes.to_string(),
        set: |c, a| {
            let v = parse_memory(one(a)?)?;
            c.stream_node_max_bytes =
                usize::try_from(v).map_err(|_| "argument is out of range".to_string())?;
            Ok(())
        },
    },
    int_d!(
        "stream-node-max-entries",
        stream_node_max_entries,
        i64,
        0,
        i64::MAX,
        "100",
        true
    ),
    int_d!(
        "list-compress-depth",
        list_compress_depth,
        u64,
        0,
        i32::MAX as u64,
        "0",
        true
    ),
    Directive {
        name: "client-output-buffer-limit",
        alias: None,
        flags: MULTI_ARG,
        mutable: true,
        default: "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60",
        get: format_output_limits,
        set: parse_output_limits,
    },
    Directive {
        name: "notify-keyspace-events",
        alias: None,
        flags: 0,
        mutable: true,
        default: "",
        get: |c| super::notify::format(c.notify_keyspace_events),
        set: |c, a| {
            c.notify_keyspace_events =
                super::notify::parse(one(a)?).ok_or(super::notify::INVALID)?;
            Ok(())
        },
    },
    Directive {
        name: "oom-score-adj",
        alias: None,
        flags: 0,
        mutable: true,
        default: "no",
        get: |_| "no".into(),
        set: |_, a| match one(a)?.to_ascii_lowercase().as_str() {
            "no" => Ok(()),
            _ => Err("oom-score-adj is not supported by ferrokey; use no".into()),
        },
    },
];
/// While the config file and command line are read, `save` lines add
/// points (Valkey keeps every line of the file); afterwards (CONFIG SET)
/// a value replaces them all. `config_loaded` ends the first phase.
static SAVE_LINES_ADD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// The configuration is read: from now on `save` replaces its points.
pub fn config_loaded() {
    SAVE_LINES_ADD.store(false, std::sync::atomic::Ordering::Relaxed);
}

/// `save`: pairs of seconds (at least 1) and changes (at least 0); `""`
/// alone clears them. Shown as `3600 1 300 100`.
fn set_save(c: &mut Config, a: &[String]) -> Result<(), String> {
    // The first line of a config file replaces the built-in points.
    let add = SAVE_LINES_ADD.load(std::sync::atomic::Ordering::Relaxed) && c.save_given;
    set_save_points(c, a, add)?;
    c.save_given = true;
    Ok(())
}

fn set_save_points(c: &mut Config, a: &[String], add: bool) -> Result<(), String> {
    const INVALID: &str = "Invalid save parameters";
    if a.len() == 1 && a[0].is_empty() {
        c.save = String::new();
        return Ok(());
    }
    if a.len() % 2 == 1 {
        return Err(INVALID.into());
    }
    let mut points = Vec::new();
    for (i, w) in a.iter().enumerate() {
        // strtoll with nothing left over: an optional sign, digits.
        let v: i64 = w.parse().map_err(|_| INVALID.to_string())?;
        if (i % 2 == 0 && v < 1) || (i % 2 == 1 && v < 0) {
            return Err(INVALID.into());
        }
        points.push(v.to_string());
    }
    let text = points.join(" ");
    if add && !c.save.is_empty() {
        c.save = format!("{} {text}", c.save);
    } else {
        c.save = text;
    }
    Ok(())
}

#[cfg(test)]
mod save_tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn save_points_as_valkey() {
        let mut c = Config::default();
        set_save_points(&mut c, &words("3600 1 300 100"), false).unwrap();
        assert_eq!(c.save, "3600 1 300 100");
        // Config file lines add up; CONFIG SET replaces.
        set_save_points(&mut c, &words("60 10000"), true).unwrap();
        assert_eq!(c.save, "3600 1 300 100 60 10000");
        set_save_points(&mut c, &words("10 0"), false).unwrap();
        assert_eq!(c.save, "10 0");
        set_save_points(&mut c, &[String::new()], true).unwrap();
        assert_eq!(c.save, "");
        for bad in ["10", "abc 1", "0 0", "10 -1", "10 1 5", "1x 2", ""] {
            let mut c = Config::default();
            assert_eq!(
                set_save_points(&mut c, &words(bad), false).err().as_deref(),
                if bad.is_empty() {
                    None
                } else {
                    Some("Invalid save parameters")
                },
                "{bad:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("512mb").unwrap(), 512 << 20);
        assert_eq!(parse_memory("1GB").unwrap(), 1 << 30);
        assert_eq!(parse_memory("100k").unwrap(), 100_000);
        assert_eq!(parse_memory("42").unwrap(), 42);
        assert!(parse_memory("12x").is_err());
        assert!(parse_memory("-1").is_err());
    }

    #[test]
    fn percentiles_parse_and_print_as_valkey() {
        let args = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            parse_percentiles(&args("50.0 99.90 100 0")).unwrap(),
            vec![50.0, 99.9, 100.0, 0.0]
        );
        assert_eq!(parse_percentiles(&args("1e1")).unwrap(), vec![10.0]);
        assert!(parse_percentiles(&[String::new()]).unwrap().is_empty());
        let range = "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
        let invalid = "Invalid latency-tracking-info-percentiles parameters";
        assert_eq!(parse_percentiles(&args("101")).unwrap_err(), range);
        assert_eq!(parse_percentiles(&args("-1")).unwrap_err(), range);
        assert_eq!(parse_percentiles(&args("inf")).unwrap_err(), range);
        assert_eq!(parse_percentiles(&args("abc")).unwrap_err(), invalid);
        assert_eq!(parse_percentiles(&args("nan")).unwrap_err(), invalid);
        assert_eq!(parse_percentiles(&args("1e999")).unwrap_err(), invalid);
        assert_eq!(format_percentile(99.9), "99.9");
        assert_eq!(format_percentile(50.0), "50");
        assert_eq!(format_percentile(0.0), "0");
        assert_eq!(format_percentile(0.0001), "0.0001");
        assert_eq!(format_percentile(33.333333333), "33.333333");
    }
}
