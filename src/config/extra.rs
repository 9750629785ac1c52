//! The rest of Valkey 8's directives: those of features ferrokey does not
//! run (replication, cluster, TLS, the AOF, active defrag, ...) and a few
//! knobs with no counterpart here. Each value is validated as Valkey
//! validates it and kept, so CONFIG GET / SET / REWRITE and a stock
//! valkey.conf (or the Valkey suite's default.conf) work.
//!
//! A directive that would switch on something ferrokey does not have is
//! accepted only with the value that leaves it off (`cluster-enabled no`,
//! `tls-port 0`, ...), and a
//! tuning knob of something built in a fixed way only with that fixed value
//! (`lfu-log-factor 10`): anything else is refused with the reason, never
//! silently ignored. Tuning knobs of absent features (replication timeouts,
//! TLS files while `tls-port 0`, AOF file names while `appendonly no`) have
//! no effect, as in a Valkey that does not use the feature.

use super::directives::{
    int_in, one, one_of, parse_bool, parse_memory, yes_no, Directive, HIDDEN, MULTI_ARG, SENSITIVE,
};

type Check = fn(&[String]) -> Result<String, String>;

/// A directive stored in `Config::extra` under its name.
macro_rules! d {
    ($name:literal, $default:literal, $check:expr) => {
        Directive {
            name: $name,
            alias: None,
            flags: 0,
            mutable: true,
            default: $default,
            get: |c| c.extra.get($name).cloned().unwrap_or_default(),
            set: |c, a| {
                let check: Check = $check;
                let v = check(a)?;
                c.extra.insert($name, v);
                Ok(())
            },
        }
    };
}

/// Only the listed (normalised) values pass `$check`; others get `$why`.
macro_rules! only {
    ($check:expr, [$($ok:literal),+], $why:literal) => {
        |a| {
            let check: Check = $check;
            let v = check(a)?;
            if [$($ok),+].contains(&v.as_str()) {
                Ok(v)
            } else {
                Err($why.to_string())
            }
        }
    };
}

macro_rules! int {
    ($lo:expr, $hi:expr) => {
        |a| Ok(int_in::<i64>(one(a)?, $lo, $hi)?.to_string())
    };
}

macro_rules! choice {
    ($($v:literal),+) => {
        |a| one_of(one(a)?, &[$($v),+])
    };
}

const INT_MAX: i64 = i32::MAX as i64;
const LONG_MAX: i64 = i64::MAX;

fn boolean(a: &[String]) -> Result<String, String> {
    Ok(yes_no(parse_bool(one(a)?)?))
}

fn text(a: &[String]) -> Result<String, String> {
    Ok(one(a)?.to_string())
}

fn mem(a: &[String]) -> Result<String, String> {
    Ok(parse_memory(one(a)?)?.to_string())
}

fn mem_min1(a: &[String]) -> Result<String, String> {
    let v = parse_memory(one(a)?)?;
    if v < 1 {
        return Err("argument must be between 1 and 9223372036854775807 inclusive".into());
    }
    Ok(v.to_string())
}

/// `maxmemory-clients`: a memory value or a percentage of maxmemory.
fn mem_or_percent(a: &[String]) -> Result<String, String> {
    let v = one(a)?;
    if let Some(p) = v.strip_suffix('%') {
        let n: i64 = p
            .parse()
            .map_err(|_| "argument must be a memory or percent value".to_string())?;
        if n > 100 {
            return Err("percentage argument must be less or equal to 100".into());
        }
        if n < 0 {
            return Err("argument must be a memory or percent value".into());
        }
        return Ok(if n == 0 { "0".into() } else { format!("{n}%") });
    }
    Ok(parse_memory(v)?.to_string())
}

/// `unixsocketperm`: octal, 0..=0777, printed in octal.
fn octal_perm(a: &[String]) -> Result<String, String> {
    let v = one(a)?;
    let n = i64::from_str_radix(v, 8)
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if !(0..=0o777).contains(&n) {
        return Err("argument must be between 0 and 511 inclusive".into());
    }
    Ok(format!("{n:o}"))
}

/// `replicaof` / `slaveof`: `no one` is the only value without replication.
fn replicaof(a: &[String]) -> Result<String, String> {
    match a {
        [v] if v.is_empty() => Ok(String::new()),
        [h, p] if h.eq_ignore_ascii_case("no") && p.eq_ignore_ascii_case("one") => {
            Ok(String::new())
        }
        [_, _] => Err("replication is not supported by ferrokey; use replicaof no one".into()),
        _ => Err("wrong number of arguments".into()),
    }
}

/// `oom-score-adj-values`: three integers in -2000..=2000.
fn oom_values(a: &[String]) -> Result<String, String> {
    if a.len() != 3 {
        return Err("wrong number of arguments".into());
    }
    let mut out = Vec::with_capacity(3);
    for w in a {
        let v = int_in::<i64>(w, -2000, 2000).map_err(|_| "Invalid oom-score-adj-values")?;
        out.push(v.to_string());
    }
    Ok(out.join(" "))
}

/// `shutdown-on-sigint` / `shutdown-on-sigterm`: flags as SHUTDOWN takes
/// them, printed in Valkey's order.
fn shutdown_flags(a: &[String]) -> Result<String, String> {
    const NAMES: [&str; 7] = [
        "default", "save", "nosave", "now", "force", "safe", "failover",
    ];
    let bad = || {
        format!(
            "argument(s) must be one of the following: {}",
            NAMES.join(", ")
        )
    };
    if a.is_empty() {
        return Err(bad());
    }
    let mut set = [false; 7];
    for w in a {
        let i = NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(w))
            .ok_or_else(bad)?;
        set[i] = true;
    }
    if set[1] && set[2] {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    let words: Vec<&str> = (1..7).filter(|&i| set[i]).map(|i| NAMES[i]).collect();
    Ok(if words.is_empty() {
        "default".into()
    } else {
        words.join(" ")
    })
}

/// `locale-collate`: SORT ALPHA compares bytes, which is what these
/// locales' collation is (`""` takes the environment's, C in a service).
fn locale(a: &[String]) -> Result<String, String> {
    let v = one(a)?;
    match v {
        "" | "C" | "POSIX" | "C.UTF-8" | "C.utf8" => Ok(v.to_string()),
        _ => Err(
            "Invalid locale name: ferrokey collates as the C locale only (\"\", C, POSIX, C.UTF-8)"
                .into(),
        ),
    }
}

pub static EXTRA: &[Directive] = &[
    // ---- snapshots and the append only file (`save ""`, `appendonly no`)
    d!("rdbchecksum", "yes", boolean).immutable(),
    d!("rdbcompression", "yes", boolean),
    d!("rdb-del-sync-files", "no", boolean),
    d!("stop-writes-on-bgsave-error", "yes", boolean),
    d!("rdb-save-incremental-fsync", "yes", boolean),
    d!("aof-rewrite-incremental-fsync", "yes", boolean),
    d!("no-appendfsync-on-rewrite", "no", boolean),
    d!("aof-load-truncated", "yes", boolean),
    d!("aof-use-rdb-preamble", "yes", boolean),
    d!("aof-timestamp-enabled", "no", boolean),
    d!("aof-disable-auto-gc", "no", boolean).with(HIDDEN),
    d!("appendfilename", "appendonly.aof", text).immutable(),
    d!("appenddirname", "appendonlydir", text).immutable(),
    d!("appendfsync", "everysec", choice!("everysec", "always", "no")),
    d!("auto-aof-rewrite-percentage", "100", int!(0, INT_MAX)),
    d!("auto-aof-rewrite-min-size", "67108864", mem),
    d!("rdb-key-save-delay", "0", int!(i32::MIN as i64, INT_MAX)).with(HIDDEN),
    d!("key-load-delay", "0", int!(i32::MIN as i64, INT_MAX)).with(HIDDEN),
    d!(
        "loading-process-events-interval-bytes",
        "2097152",
        int!(1024, INT_MAX)
    )
    .with(HIDDEN),
    d!(
        "bgsave-cpulist",
        "",
        only!(text, [""], "CPU affinity lists are not supported by ferrokey")
    )
    .immutable()
    .aka("bgsave_cpulist"),
    d!(
        "aof-rewrite-cpulist",
        "",
        only!(text, [""], "CPU affinity lists are not supported by ferrokey")
    )
    .immutable()
    .aka("aof_rewrite_cpulist"),
    // ---- replication (this server is always a primary without replicas)
    Directive {
        name: "replicaof",
        alias: Some("slaveof"),
        flags: MULTI_ARG,
        mutable: false,
        default: "",
        get: |c| c.extra.get("replicaof").cloned().unwrap_or_default(),
        set: |c, a| {
            let v = replicaof(a)?;
            c.extra.insert("replicaof", v);
            Ok(())
        },
    },
    d!("primaryauth", "", text)
        .with(SENSITIVE)
        .aka("masterauth"),
    d!("primaryuser", "", text)
        .with(SENSITIVE)
        .aka("masteruser"),
    d!("replica-serve-stale-data", "yes", boolean).aka("slave-serve-stale-data"),
    d!("replica-read-only", "yes", boolean).aka("slave-read-only"),
    d!("replica-lazy-flush", "no", boolean).aka("slave-lazy-flush"),
    d!("replica-ignore-maxmemory", "yes", boolean).aka("slave-ignore-maxmemory"),
    d!("replica-priority", "100", int!(0, INT_MAX)).aka("slave-priority"),
    d!("replica-announce-ip", "", text).aka("slave-announce-ip"),
    d!("replica-announce-port", "0", int!(0, 65535)).aka("slave-announce-port"),
    d!("replica-announced", "yes", boolean),
    d!("replica-ignore-disk-write-errors", "no", boolean),
    d!("repl-ping-replica-period", "10", int!(1, INT_MAX)).aka("repl-ping-slave-period"),
    d!("repl-timeout", "60", int!(1, INT_MAX)),
    d!("repl-backlog-size", "1048576", mem_min1),
    d!("repl-backlog-ttl", "3600", int!(0, LONG_MAX)),
    d!("repl-disable-tcp-nodelay", "no", boolean),
    d!("repl-diskless-sync", "yes", boolean),
    d!("repl-diskless-sync-delay", "5", int!(0, INT_MAX)),
    d!("repl-diskless-sync-max-replicas", "0", int!(0, INT_MAX)),
    d!(
        "repl-diskless-load",
        "disabled",
        choice!("disabled", "on-empty-db", "swapdb")
    ),
    d!("dual-channel-replication-enabled", "no", boolean),
    // With no replicas (ferrokey has none), a non-zero value with a
    // non-zero lag makes writes fail with NOREPLICAS, as in Valkey.
    d!("min-replicas-to-write", "0", int!(0, INT_MAX)).aka("min-slaves-to-write"),
    d!("min-replicas-max-lag", "10", int!(0, INT_MAX)).aka("min-slaves-max-lag"),
    d!("bind-source-addr", "", text),
    d!(
        "propagation-error-behavior",
        "ignore",
        choice!("ignore", "panic", "panic-on-replicas")
    ),
    // ---- cluster (`cluster-enabled no`)
    d!(
        "cluster-enabled",
        "no",
        only!(boolean, ["no"], "cluster mode is not supported by ferrokey")
    )
    .immutable(),
    d!("cluster-config-file", "nodes.conf", text).immutable(),
    d!("cluster-port", "0", int!(0, 65535)).immutable(),
    d!("cluster-node-timeout", "15000", int!(0, LONG_MAX)),
    d!("cluster-ping-interval", "0", int!(0, LONG_MAX)).with(HIDDEN),
    d!("cluster-require-full-coverage", "yes", boolean),
    d!("cluster-replica-no-failover", "no", boolean).aka("cluster-slave-no-failover"),
    d!("cluster-replica-validity-factor", "10", int!(0, INT_MAX))
        .aka("cluster-slave-validity-factor"),
    d!("cluster-migration-barrier", "1", int!(0, INT_MAX)),
    d!("cluster-allow-reads-when-down", "no", boolean),
    d!("cluster-allow-pubsubshard-when-down", "yes", boolean),
    d!("cluster-allow-replica-migration", "yes", boolean),
    d!("cluster-announce-ip", "", text),
    d!("cluster-announce-hostname", "", text),
    d!("cluster-announce-human-nodename", "", text),
    d!("cluster-announce-client-ipv4", "", text),
    d!("cluster-announce-client-ipv6", "", text),
    d!("cluster-announce-port", "0", int!(0, 65535)),
    d!("cluster-announce-bus-port", "0", int!(0, 65535)),
    d!("cluster-announce-tls-port", "0", int!(0, 65535)),
    d!(
        "cluster-preferred-endpoint-type",
        "ip",
        choice!("ip", "hostname", "unknown-endpoint")
    ),
    d!("cluster-link-sendbuf-limit", "0", mem),
    d!("cluster-slot-stats-enabled", "no", boolean),
    // ---- TLS (`tls-port 0`: no TLS listener, so the rest is unused)
    d!(
        "tls-port",
        "0",
        only!(int!(0, 65535), ["0"], "TLS is not supported by ferrokey: tls-port must be 0")
    ),
    d!("tls-cert-file", "", text),
    d!("tls-key-file", "", text),
    d!("tls-key-file-pass", "", text).with(SENSITIVE),
    d!("tls-client-cert-file", "", text),
    d!("tls-client-key-file", "", text),
    d!("tls-client-key-file-pass", "", text).with(SENSITIVE),
    d!("tls-dh-params-file", "", text),
    d!("tls-ca-cert-file", "", text),
    d!("tls-ca-cert-dir", "", text),
    d!("tls-protocols", "", text),
    d!("tls-ciphers", "", text),
    d!("tls-ciphersuites", "", text),
    d!("tls-auth-clients", "yes", choice!("no", "yes", "optional")),
    d!("tls-cluster", "no", boolean),
    d!("tls-replication", "no", boolean),
    d!("tls-prefer-server-ciphers", "no", boolean),
    d!("tls-session-caching", "yes", boolean),
    d!("tls-session-cache-size", "20480", int!(0, INT_MAX)),
    d!("tls-session-cache-timeout", "300", int!(0, INT_MAX)),
    d!("max-new-tls-connections-per-cycle", "1", int!(1, 1000)),
    // ---- process and operating system
    d!("always-show-logo", "no", boolean).immutable(),
    d!("set-proc-title", "yes", boolean).immutable(),
    d!(
        "proc-title-template",
        "{title} {listen-addr} {server-mode}",
        text
    ),
    d!("disable-thp", "yes", boolean).immutable(),
    d!("jemalloc-bg-thread", "yes", boolean),
    d!("oom-score-adj-values", "0 200 800", oom_values).with(MULTI_ARG),
    d!(
        "supervised",
        "no",
        only!(
            choice!("upstart", "systemd", "auto", "no"),
            ["no"],
            "supervision notifications are not supported by ferrokey; use supervised no"
        )
    )
    .immutable(),
    d!(
        "syslog-enabled",
        "no",
        only!(boolean, ["no"], "syslog is not supported by ferrokey; use logfile")
    )
    .immutable(),
    d!("syslog-ident", "ferrokey", text).immutable(),
    d!(
        "syslog-facility",
        "local0",
        choice!("user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7")
    )
    .immutable(),
    // The Unix socket: read by startup (net::listener::bind_unix).
    d!("unixsocket", "", text).immutable(),
    d!("unixsocketperm", "0", octal_perm).immutable(),
    d!("unixsocketgroup", "", text).immutable(),
    d!(
        "socket-mark-id",
        "0",
        only!(int!(0, u32::MAX as i64), ["0"], "socket marks are not supported by ferrokey")
    )
    .immutable(),
    d!(
        "server-cpulist",
        "",
        only!(text, [""], "CPU affinity lists are not supported by ferrokey")
    )
    .immutable()
    .aka("server_cpulist"),
    d!(
        "bio-cpulist",
        "",
        only!(text, [""], "CPU affinity lists are not supported by ferrokey")
    )
    .immutable()
    .aka("bio_cpulist"),
    d!("crash-log-enabled", "yes", boolean),
    d!("crash-memcheck-enabled", "yes", boolean),
    d!("use-exit-on-panic", "no", boolean).with(HIDDEN),
    d!(
        "watchdog-period",
        "0",
        only!(int!(0, INT_MAX), ["0"], "the software watchdog is not supported by ferrokey")
    )
    .with(HIDDEN),
    // Valkey 8.0's table still has it (reads are always done by the IO
    // threads here, as in later Valkeys, which dropped it): accepted,
    // listed only by exact name.
    d!("io-threads-do-reads", "no", boolean)
        .immutable()
        .with(HIDDEN),
    d!("enable-debug-assert", "no", boolean)
        .immutable()
        .with(HIDDEN),
    d!("ignore-warnings", "", text),
    d!("hide-user-data-from-log", "no", boolean),
    d!(
        "shutdown-on-sigint",
        "default",
        shutdown_flags
    )
    .with(MULTI_ARG),
    d!(
        "shutdown-on-sigterm",
        "default",
        shutdown_flags
    )
    .with(MULTI_ARG),
    d!("shutdown-timeout", "10", int!(0, INT_MAX)),
    d!("max-new-connections-per-cycle", "10", int!(1, 1000)),
    d!("locale-collate", "", locale),
    // ---- memory and eviction (`maxmemory 0`), defrag, LFU, expiry
    d!("maxmemory-samples", "5", int!(1, 64)),
    d!("maxmemory-eviction-tenacity", "10", int!(0, 100)),
    d!(
        "maxmemory-clients",
        "0",
        only!(
            mem_or_percent,
            ["0"],
            "client eviction is not supported by ferrokey: maxmemory-clients must be 0"
        )
    ),
    d!("lazyfree-lazy-eviction", "yes", boolean),
    d!(
        "lfu-log-factor",
        "10",
        only!(
            int!(0, INT_MAX),
            ["10"],
            "ferrokey's LFU counter uses the default log factor only: lfu-log-factor must be 10"
        )
    ),
    d!(
        "lfu-decay-time",
        "1",
        only!(
            int!(0, INT_MAX),
            ["1"],
            "ferrokey's LFU counter uses the default decay time only: lfu-decay-time must be 1"
        )
    ),
    d!(
        "active-expire-effort",
        "1",
        only!(
            int!(1, 10),
            ["1"],
            "ferrokey's active expiry runs at the default effort only: active-expire-effort must be 1"
        )
    ),
    d!("activerehashing", "yes", boolean),
    d!("dynamic-hz", "yes", boolean),
    d!(
        "activedefrag",
        "no",
        only!(
            boolean,
            ["no"],
            "Active defragmentation cannot be enabled: it requires a server compiled with a modified Jemalloc like the one shipped by default with the source distribution"
        )
    ),
    d!("active-defrag-ignore-bytes", "104857600", mem_min1),
    d!("active-defrag-threshold-lower", "10", int!(0, 1000)),
    d!("active-defrag-threshold-upper", "100", int!(0, 1000)),
    d!("active-defrag-cycle-min", "1", int!(1, 99)),
    d!("active-defrag-cycle-max", "25", int!(1, 99)),
    d!("active-defrag-max-scan-fields", "1000", int!(1, LONG_MAX)),
    // ---- data types and features not built (streams, HyperLogLog,
    // scripting, tracking, ACL, modules)
    d!("hll-sparse-max-bytes", "3000", mem),
    d!("busy-reply-threshold", "5000", int!(0, LONG_MAX)).aka("lua-time-limit"),
    d!("tracking-table-max-keys", "1000000", int!(0, LONG_MAX)),
    d!("acllog-max-len", "128", int!(0, LONG_MAX)),
    d!(
        "aclfile",
        "",
        only!(text, [""], "ACL files are not supported by ferrokey")
    )
    .immutable(),
    d!(
        "acl-pubsub-default",
        "resetchannels",
        choice!("allchannels", "resetchannels")
    ),
    d!(
        "enable-module-command",
        "no",
        choice!("no", "yes", "local")
    )
    .immutable(),
    d!(
        "enable-protected-configs",
        "no",
        choice!("no", "yes", "local")
    )
    .immutable(),
    d!("sanitize-dump-payload", "no", choice!("no", "yes", "clients")),
    d!("rdb-version-check", "strict", choice!("strict", "relaxed")),
    d!(
        "extended-redis-compatibility",
        "no",
        only!(
            boolean,
            ["no"],
            "extended-redis-compatibility is not supported by ferrokey"
        )
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn shutdown_flags_like_valkey() {
        assert_eq!(shutdown_flags(&args("force now")).unwrap(), "now force");
        assert_eq!(shutdown_flags(&args("DEFAULT")).unwrap(), "default");
        assert_eq!(shutdown_flags(&args("default nosave")).unwrap(), "nosave");
        assert!(shutdown_flags(&args("save nosave"))
            .unwrap_err()
            .contains("can't be used simultaneously"));
        assert_eq!(shutdown_flags(&args("force save")).unwrap(), "save force");
        assert!(shutdown_flags(&args("bogus"))
            .unwrap_err()
            .starts_with("argument(s) must be one of the following: default, save"));
    }

    #[test]
    fn value_kinds() {
        assert_eq!(octal_perm(&args("0777")).unwrap(), "777");
        assert!(octal_perm(&args("1000")).is_err());
        assert_eq!(replicaof(&args("NO ONE")).unwrap(), "");
        assert!(replicaof(&args("127.0.0.1 6379")).is_err());
        assert_eq!(
            mem_or_percent(&args("200%")).unwrap_err(),
            "percentage argument must be less or equal to 100"
        );
        assert_eq!(mem_or_percent(&args("10%")).unwrap(), "10%");
        assert_eq!(oom_values(&args("0 200 800")).unwrap(), "0 200 800");
        assert!(oom_values(&args("0 200")).is_err());
    }
}
