//! Server commands against the real binary: INFO, CONFIG, SLOWLOG, TIME,
//! LASTSAVE, SHUTDOWN, DEBUG, MEMORY, DBSIZE. Replies are compared byte for
//! byte with what Valkey sends.

mod common;

use std::fmt::Write as _;
use std::net::TcpStream;
use std::time::Duration;

use common::{cmd, raw_roundtrip, Server};

/// Sends one command and returns its raw reply.
fn rt(s: &mut TcpStream, args: &[&str]) -> String {
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    String::from_utf8_lossy(&raw_roundtrip(s, &cmd(&argv), 1)).into_owned()
}

/// The text of a RESP2 bulk reply (`$n\r\n...\r\n`).
fn bulk_text(reply: &str) -> String {
    let (head, rest) = reply.split_once("\r\n").expect("bulk header");
    assert!(head.starts_with('$'), "not a bulk: {reply:?}");
    let n: usize = head[1..].parse().expect("bulk length");
    rest[..n].to_string()
}

fn info(s: &mut TcpStream, sections: &[&str]) -> String {
    let mut args = vec!["INFO"];
    args.extend_from_slice(sections);
    bulk_text(&rt(s, &args))
}

/// The value of `field` in INFO text.
fn field(info: &str, name: &str) -> Option<String> {
    info.split("\r\n").find_map(|l| {
        l.strip_prefix(name)
            .and_then(|r| r.strip_prefix(':'))
            .map(str::to_string)
    })
}

fn headers(info: &str) -> Vec<&str> {
    info.split("\r\n").filter(|l| l.starts_with("# ")).collect()
}

/// Like `server_test!`, with extra server arguments.
macro_rules! server_test_with {
    ($name:ident, [$($arg:expr),*], |$srv:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($srv: &common::Server) $body
            #[test]
            fn io_threads_1() {
                run(&common::Server::start_with(&["--io-threads", "1", $($arg),*]))
            }
            #[test]
            fn io_threads_4() {
                run(&common::Server::start_with(&["--io-threads", "4", $($arg),*]))
            }
        }
    };
}

server_test!(info_sections, |srv| {
    let mut s = srv.raw();
    let all = info(&mut s, &[]);
    assert_eq!(
        headers(&all),
        [
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Errorstats",
            "# Cluster",
            "# Keyspace"
        ]
    );
    assert!(all.ends_with("\r\n"));
    // Every line ends with CRLF: no bare LF anywhere.
    assert!(!all.replace("\r\n", "").contains('\n'));
    assert_eq!(field(&all, "redis_version").as_deref(), Some("7.2.4"));
    assert_eq!(field(&all, "redis_mode").as_deref(), Some("standalone"));
    assert_eq!(field(&all, "arch_bits").as_deref(), Some("64"));
    assert_eq!(
        field(&all, "tcp_port").as_deref(),
        Some(srv.port.to_string().as_str())
    );
    assert_eq!(
        field(&all, "process_id").as_deref(),
        Some(srv.pid().to_string().as_str())
    );
    assert_eq!(field(&all, "run_id").map(|r| r.len()), Some(40));
    assert_eq!(field(&all, "role").as_deref(), Some("master"));
    assert_eq!(field(&all, "connected_slaves").as_deref(), Some("0"));
    assert_eq!(field(&all, "loading").as_deref(), Some("0"));
    assert_eq!(field(&all, "aof_enabled").as_deref(), Some("0"));
    assert_eq!(field(&all, "rdb_bgsave_in_progress").as_deref(), Some("0"));
    assert_eq!(field(&all, "maxclients").as_deref(), Some("10000"));
    assert_eq!(
        field(&all, "maxmemory_policy").as_deref(),
        Some("noeviction")
    );
    assert_eq!(field(&all, "cluster_enabled").as_deref(), Some("0"));
    // The harness's startup probe may not have been reaped yet.
    let clients: u64 = field(&all, "connected_clients").unwrap().parse().unwrap();
    assert!((1..=2).contains(&clients), "{clients}");
    let used: u64 = field(&all, "used_memory").unwrap().parse().unwrap();
    let peak: u64 = field(&all, "used_memory_peak").unwrap().parse().unwrap();
    let rss: u64 = field(&all, "used_memory_rss").unwrap().parse().unwrap();
    assert!(used > 0 && peak >= used && rss > 0, "{used} {peak} {rss}");
    let cpu: f64 = field(&all, "used_cpu_user").unwrap().parse().unwrap();
    assert!(cpu >= 0.0);

    let every = info(&mut s, &["everything"]);
    assert!(headers(&every).contains(&"# Commandstats"));
    assert_eq!(headers(&info(&mut s, &["ALL"])), headers(&every));
    assert_eq!(info(&mut s, &["nosuchsection"]), "");
    // Canonical order, each section once, separated by an empty line.
    let two = info(&mut s, &["keyspace", "CPU", "cpu", "nosuch"]);
    assert!(two.starts_with("# CPU\r\nused_cpu_sys:"), "{two:?}");
    assert!(two.ends_with("\r\n\r\n# Keyspace\r\n"), "{two:?}");
    assert_eq!(
        headers(&info(&mut s, &["default", "commandstats"])).len(),
        12
    );
});

server_test!(info_values_change, |srv| {
    let mut s = srv.raw();
    let before = info(&mut s, &["stats"]);
    let n0: u64 = field(&before, "total_commands_processed")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(rt(&mut s, &["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["SET", "b", "2", "EX", "100"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["GET", "a"]), "$1\r\n1\r\n");
    assert_eq!(rt(&mut s, &["GET", "nosuch"]), "$-1\r\n");
    let after = info(&mut s, &["stats"]);
    let n1: u64 = field(&after, "total_commands_processed")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(n1, n0 + 5);
    assert_eq!(field(&after, "keyspace_hits").as_deref(), Some("1"));
    assert_eq!(field(&after, "keyspace_misses").as_deref(), Some("1"));

    let ks = info(&mut s, &["keyspace"]);
    let line = field(&ks, "db0").unwrap();
    assert!(line.starts_with("keys=2,expires=1,avg_ttl="), "{line}");
    assert!(line.ends_with(",keys_with_volatile_items=0"), "{line}");
    assert_eq!(rt(&mut s, &["SELECT", "3"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["SET", "c", "3"]), "+OK\r\n");
    let ks = info(&mut s, &["keyspace"]);
    assert_eq!(
        field(&ks, "db3").as_deref(),
        Some("keys=1,expires=0,avg_ttl=0,keys_with_volatile_items=0")
    );

    assert_eq!(info(&mut s, &["errorstats"]), "# Errorstats\r\n");
    assert!(rt(&mut s, &["NOSUCHCMD"]).starts_with("-ERR unknown command"));
    assert!(rt(&mut s, &["GET"]).starts_with("-ERR wrong number"));
    assert_eq!(
        info(&mut s, &["errorstats"]),
        "# Errorstats\r\nerrorstat_ERR:count=2\r\n"
    );
    let stats = info(&mut s, &["stats"]);
    assert_eq!(field(&stats, "total_error_replies").as_deref(), Some("2"));

    let cs = info(&mut s, &["commandstats"]);
    let set = field(&cs, "cmdstat_set").unwrap();
    assert!(set.starts_with("calls=3,usec="), "{set}");
    assert!(set.contains(",usec_per_call="), "{set}");
    assert!(set.ends_with(",rejected_calls=0,failed_calls=0"), "{set}");
    assert!(field(&cs, "cmdstat_info").is_some());
    assert!(rt(&mut s, &["CONFIG", "GET", "hz"]).starts_with("*2"));
    let cs = info(&mut s, &["commandstats"]);
    assert!(field(&cs, "cmdstat_config|get")
        .unwrap()
        .starts_with("calls=1,"));
    let p = info(&mut s, &["persistence"]);
    let dirty: u64 = field(&p, "rdb_changes_since_last_save")
        .unwrap()
        .parse()
        .unwrap();
    assert!(dirty >= 3, "{dirty}");
});

server_test!(info_resp3_is_verbatim, |srv| {
    let mut s = srv.raw();
    let hello =
        String::from_utf8_lossy(&raw_roundtrip(&mut s, &cmd(&[b"HELLO", b"3"]), 1)).into_owned();
    assert!(hello.starts_with('%'), "{hello}");
    let r = rt(&mut s, &["INFO", "cluster"]);
    assert_eq!(r, "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n");
    let r = rt(&mut s, &["CONFIG", "GET", "maxclients", "hz"]);
    assert_eq!(
        r,
        "%2\r\n$2\r\nhz\r\n$2\r\n10\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    );
});

server_test!(config_get_patterns, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "maxclients"]),
        "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    );
    // An exact name is replied as spelled; patterns match any case; the
    // result is sorted by name and has no duplicates.
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "MAXCLIENTS", "maxc*"]),
        "*2\r\n$10\r\nMAXCLIENTS\r\n$5\r\n10000\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "timeout", "hz", "hz", "nosuch"]),
        "*4\r\n$2\r\nhz\r\n$2\r\n10\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "LAZYFREE-LAZY-USER-*"]),
        "*4\r\n$22\r\nlazyfree-lazy-user-del\r\n$3\r\nyes\r\n\
         $24\r\nlazyfree-lazy-user-flush\r\n$3\r\nyes\r\n"
    );
    assert_eq!(rt(&mut s, &["CONFIG", "GET", "nosuch*"]), "*0\r\n");
    let all = rt(&mut s, &["CONFIG", "GET", "*"]);
    assert!(all.contains("$4\r\nsave\r\n$0\r\n\r\n"), "{all}");
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET"]),
        "-ERR wrong number of arguments for 'config|get' command\r\n"
    );
});

server_test!(config_set_all_or_nothing, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        rt(
            &mut s,
            &["CONFIG", "SET", "maxclients", "100", "timeout", "5"]
        ),
        "+OK\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "maxclients", "timeout"]),
        "*4\r\n$10\r\nmaxclients\r\n$3\r\n100\r\n$7\r\ntimeout\r\n$1\r\n5\r\n"
    );
    // One bad value: nothing changes.
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "hz", "20", "maxclients", "abc"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "hz"]),
        "*2\r\n$2\r\nhz\r\n$2\r\n10\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "hz", "20", "databases", "3"]),
        "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "nosuch", "1"]),
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "hz", "20", "HZ", "30"]),
        "-ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "hz", "20", "timeout"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "hz"]),
        "-ERR wrong number of arguments for 'config|set' command\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "loglevel", "loud"]),
        "-ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning, nothing\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "protected-mode", "maybe"]),
        "-ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "hz", "timeout"]),
        "*4\r\n$2\r\nhz\r\n$2\r\n10\r\n$7\r\ntimeout\r\n$1\r\n5\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "requirepass", "a b", "save", ""]),
        "+OK\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "requirepass"]),
        "*2\r\n$11\r\nrequirepass\r\n$3\r\na b\r\n"
    );
    assert_eq!(rt(&mut s, &["CONFIG", "SET", "requirepass", ""]), "+OK\r\n");
    // Multi-word values are split as the config file would split them.
    assert_eq!(
        rt(
            &mut s,
            &[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "normal 0 0 0 pubsub 64mb 16mb 30"
            ]
        ),
        "+OK\r\n"
    );
});

server_test!(config_set_net_limits, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "proto-max-bulk-len", "1mb"]),
        "+OK\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "proto-max-bulk-len"]),
        "*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n1048576\r\n"
    );
    // The IO side now refuses a larger bulk.
    let mut c = srv.raw();
    let reply = raw_roundtrip(&mut c, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n", 1);
    assert_eq!(reply, b"-ERR Protocol error: invalid bulk length\r\n");
});

server_test!(config_resetstat, |srv| {
    let mut s = srv.raw();
    assert_eq!(rt(&mut s, &["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["GET", "a"]), "$1\r\n1\r\n");
    assert!(rt(&mut s, &["NOSUCH"]).starts_with('-'));
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
        "+OK\r\n"
    );
    assert_eq!(rt(&mut s, &["PING"]), "+PONG\r\n");
    assert_eq!(rt(&mut s, &["CONFIG", "RESETSTAT"]), "+OK\r\n");
    let all = info(&mut s, &["everything"]);
    // Only the INFO being answered has run since the reset.
    assert_eq!(
        field(&all, "total_commands_processed").as_deref(),
        Some("1")
    );
    assert_eq!(field(&all, "keyspace_hits").as_deref(), Some("0"));
    assert_eq!(field(&all, "total_error_replies").as_deref(), Some("0"));
    assert_eq!(
        field(&all, "total_connections_received").as_deref(),
        Some("0")
    );
    assert!(field(&all, "cmdstat_set").is_none());
    assert!(field(&all, "errorstat_ERR").is_none());
    // The data and the slow log stay.
    assert_eq!(
        field(&all, "db0").as_deref(),
        Some("keys=1,expires=0,avg_ttl=0,keys_with_volatile_items=0")
    );
    let len = rt(&mut s, &["SLOWLOG", "LEN"]);
    assert_ne!(len, ":0\r\n");
});

fn temp_config(tag: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "ferrokey-server-test-{tag}-{}-{}.conf",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn config_rewrite_keeps_comments_and_order() {
    let path = temp_config(
        "rewrite",
        "# my settings\nmaxclients 500\n\n# speed\nhz 10\ntimeout 0\n# end\n",
    );
    let srv = Server::start_full(Some(path.to_str().unwrap()), &["--io-threads", "1"]);
    let mut s = srv.raw();
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "config_file"]),
        "*0\r\n",
        "config_file is not a directive"
    );
    assert_eq!(
        rt(
            &mut s,
            &[
                "CONFIG",
                "SET",
                "maxclients",
                "123",
                "hz",
                "20",
                "lazyfree-lazy-expire",
                "no"
            ]
        ),
        "+OK\r\n"
    );
    assert_eq!(rt(&mut s, &["CONFIG", "REWRITE"]), "+OK\r\n");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..7],
        [
            "# my settings",
            "maxclients 123",
            "",
            "# speed",
            "hz 20",
            "timeout 0",
            "# end"
        ]
    );
    assert_eq!(lines[7], "# Generated by CONFIG REWRITE");
    // Command-line settings that differ from the defaults are kept too.
    assert!(
        lines.contains(&format!("port {}", srv.port).as_str()),
        "{text}"
    );
    assert!(lines.contains(&"lazyfree-lazy-expire no"), "{text}");
    // Rewriting with nothing changed leaves the file as it is.
    assert_eq!(rt(&mut s, &["CONFIG", "REWRITE"]), "+OK\r\n");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let info_text = info(&mut s, &["server"]);
    assert!(field(&info_text, "config_file")
        .unwrap()
        .ends_with(path.file_name().unwrap().to_str().unwrap()));
    drop(srv);
    // The rewritten file starts a server with the new values.
    let srv = Server::start_full(Some(path.to_str().unwrap()), &[]);
    let mut s = srv.raw();
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "maxclients"]),
        "*2\r\n$10\r\nmaxclients\r\n$3\r\n123\r\n"
    );
    drop(srv);
    let _ = std::fs::remove_file(&path);
}

server_test!(config_rewrite_without_file, |srv| {
    let mut s = srv.raw();
    assert_eq!(
        rt(&mut s, &["CONFIG", "REWRITE"]),
        "-ERR The server is running without a config file\r\n"
    );
});

server_test!(config_help, |srv| {
    let mut s = srv.raw();
    let r = rt(&mut s, &["CONFIG", "HELP"]);
    assert!(r.starts_with("*11\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET <pattern>\r\n"), "{r}");
    assert!(r.ends_with("+HELP\r\n+    Print this help.\r\n"));
    assert_eq!(
        rt(&mut s, &["CONFIG", "NOSUCH"]),
        "-ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP.\r\n"
    );
});

server_test_with!(slowlog, ["--slowlog-log-slower-than", "0"], |srv| {
    let mut s = srv.raw();
    assert_eq!(rt(&mut s, &["SLOWLOG", "RESET"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["SLOWLOG", "LEN"]), ":1\r\n");
    assert_eq!(rt(&mut s, &["CLIENT", "SETNAME", "tester"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["SET", "foo", "bar"]), "+OK\r\n");
    let r = rt(&mut s, &["SLOWLOG", "GET", "2"]);
    let addr = s.local_addr().unwrap().to_string();
    // Newest first: SET, then CLIENT SETNAME. Ids count from the server's
    // first command (the harness's PING is 0, RESET 1, LEN 2).
    let entry = |id: u32, args: &[&str]| {
        let mut e = String::new();
        let _ = write!(e, "*6\r\n:{id}\r\n:");
        let mut a = format!("*{}\r\n", args.len());
        for x in args {
            let _ = write!(a, "${}\r\n{x}\r\n", x.len());
        }
        let _ = write!(a, "${}\r\n{addr}\r\n$6\r\ntester\r\n", addr.len());
        (e, a)
    };
    assert!(r.starts_with("*2\r\n"), "{r}");
    let (set_head, set_rest) = entry(4, &["SET", "foo", "bar"]);
    let (name_head, name_rest) = entry(3, &["CLIENT", "SETNAME", "tester"]);
    let at_set = r.find(&set_head).expect("SET entry");
    let at_name = r.find(&name_head).expect("CLIENT entry");
    assert!(at_set < at_name, "{r}");
    assert!(r.contains(&set_rest) && r.ends_with(&name_rest), "{r}");
    // Count: default 10, -1 all, 0 none.
    assert_eq!(rt(&mut s, &["SLOWLOG", "GET", "0"]), "*0\r\n");
    let all = rt(&mut s, &["SLOWLOG", "GET", "-1"]);
    assert!(all.starts_with("*6\r\n"), "{all}");
    assert_eq!(
        rt(&mut s, &["SLOWLOG", "GET", "-2"]),
        "-ERR count should be greater than or equal to -1\r\n"
    );
    assert_eq!(
        rt(&mut s, &["SLOWLOG", "GET", "x"]),
        "-ERR count should be greater than or equal to -1\r\n"
    );
    assert_eq!(
        rt(&mut s, &["SLOWLOG", "GET", "1", "2"]),
        "-ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.\r\n"
    );
    assert_eq!(
        rt(&mut s, &["SLOWLOG", "LEN", "1"]),
        "-ERR wrong number of arguments for 'slowlog|len' command\r\n"
    );
    let help = rt(&mut s, &["SLOWLOG", "HELP"]);
    assert!(help.starts_with("*12\r\n+SLOWLOG <subcommand>"), "{help}");
    assert_eq!(rt(&mut s, &["SLOWLOG", "RESET"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["SLOWLOG", "LEN"]), ":1\r\n");
    // Long arguments are cut at 128 bytes.
    let long = "x".repeat(200);
    assert_eq!(rt(&mut s, &["ECHO", &long]).len(), 200 + 8);
    let r = rt(&mut s, &["SLOWLOG", "GET", "1"]);
    assert!(
        r.contains(&format!("{}... (72 more bytes)\r\n", "x".repeat(128))),
        "{r}"
    );
});

server_test!(time_lastsave_dbsize, |srv| {
    let mut s = srv.raw();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let r = rt(&mut s, &["TIME"]);
    let parts: Vec<&str> = r.split("\r\n").collect();
    assert_eq!(parts[0], "*2");
    let secs: u64 = parts[2].parse().unwrap();
    let usec: u64 = parts[4].parse().unwrap();
    assert!(secs.abs_diff(now) <= 5, "{r}");
    assert!(usec < 1_000_000);
    assert_eq!(
        rt(&mut s, &["TIME", "x"]),
        "-ERR wrong number of arguments for 'time' command\r\n"
    );
    let r = rt(&mut s, &["LASTSAVE"]);
    let last: u64 = r.trim_start_matches(':').trim_end().parse().unwrap();
    assert!(last <= secs && secs - last < 120, "{r}");
    assert_eq!(rt(&mut s, &["DBSIZE"]), ":0\r\n");
    assert_eq!(rt(&mut s, &["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["SET", "b", "1"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["DBSIZE"]), ":2\r\n");
    assert_eq!(rt(&mut s, &["SELECT", "1"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["DBSIZE"]), ":0\r\n");
});

fn shutdown_errors(srv: &Server) {
    let mut s = srv.raw();
    for bad in [
        &["SHUTDOWN", "foo"][..],
        &["SHUTDOWN", "SAVE", "NOSAVE"],
        &["SHUTDOWN", "ABORT", "NOW"],
        &["SHUTDOWN", "NOW", "ABORT"],
    ] {
        assert_eq!(rt(&mut s, bad), "-ERR syntax error\r\n", "{bad:?}");
    }
    assert_eq!(
        rt(&mut s, &["SHUTDOWN", "ABORT"]),
        "-ERR No shutdown in progress.\r\n"
    );
    assert_eq!(
        rt(&mut s, &["SHUTDOWN", "NOSAVE", "FAILOVER"]),
        "-ERR SHUTDOWN FAILOVER is only supported in cluster mode.\r\n"
    );
    // (SHUTDOWN SAVE and its failures: tests/rdb_save.rs.)
    assert_eq!(rt(&mut s, &["PING"]), "+PONG\r\n");
}

#[test]
fn shutdown_nosave_exits() {
    for threads in ["1", "4"] {
        let mut srv = Server::start_with(&["--io-threads", threads]);
        shutdown_errors(&srv);
        let mut s = srv.raw();
        use std::io::Write;
        s.write_all(&cmd(&[b"SHUTDOWN", b"NOSAVE", b"NOW"]))
            .unwrap();
        // No reply: the connection just closes.
        assert_eq!(common::read_to_close(&mut s), b"");
        let st = srv
            .wait_exit(Duration::from_secs(10))
            .expect("server exited");
        assert!(st.success(), "{st:?}");
    }
}

#[test]
fn shutdown_save_force_exits() {
    // The save goes to a directory of its own, not the tests' cwd.
    let dir = std::env::temp_dir().join(format!("ferrokey-shutdown-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut srv = Server::start_with(&["--io-threads", "1", "--dir", dir.to_str().unwrap()]);
    let mut s = srv.raw();
    use std::io::Write;
    s.write_all(&cmd(&[b"SHUTDOWN", b"SAVE", b"FORCE"]))
        .unwrap();
    assert_eq!(common::read_to_close(&mut s), b"");
    assert!(srv.wait_exit(Duration::from_secs(10)).is_some());
    assert!(dir.join("dump.rdb").exists(), "SHUTDOWN SAVE saved");
    let _ = std::fs::remove_dir_all(&dir);
}

const DEBUG_DENIED: &str = "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n";

server_test!(debug_not_allowed_by_default, |srv| {
    let mut s = srv.raw();
    assert_eq!(rt(&mut s, &["DEBUG", "SLEEP", "0"]), DEBUG_DENIED);
    assert_eq!(rt(&mut s, &["DEBUG", "HELP"]), DEBUG_DENIED);
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "enable-debug-command", "yes"]),
        "-ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config\r\n"
    );
});

server_test_with!(debug_enabled, ["--enable-debug-command", "yes"], |srv| {
    let mut s = srv.raw();
    assert_eq!(rt(&mut s, &["DEBUG", "SLEEP", "0"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["DEBUG", "SLEEP", "0.01"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["DEBUG", "SLEEP", "abc"]), "+OK\r\n");
    assert_eq!(
        rt(&mut s, &["DEBUG", "SLEEP"]),
        "-ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP.\r\n"
    );
    assert_eq!(
        rt(&mut s, &["DEBUG", "nosuch"]),
        "-ERR unknown subcommand or wrong number of arguments for 'nosuch'. Try DEBUG HELP.\r\n"
    );
    assert_eq!(
        rt(&mut s, &["DEBUG"]),
        "-ERR wrong number of arguments for 'debug' command\r\n"
    );
    assert_eq!(
        rt(&mut s, &["DEBUG", "PROTOCOL", "double"]),
        "$5\r\n3.141\r\n"
    );
    assert_eq!(
        rt(&mut s, &["DEBUG", "PROTOCOL", "map"]),
        "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n"
    );
    assert_eq!(
        rt(&mut s, &["DEBUG", "PROTOCOL", "push"]),
        "-ERR RESP2 is not supported by this command\r\n"
    );
    assert!(rt(&mut s, &["DEBUG", "HELP"]).starts_with("*65\r\n+DEBUG <subcommand>"));
});

server_test_with!(debug_local, ["--enable-debug-command", "local"], |srv| {
    let mut s = srv.raw();
    assert_eq!(rt(&mut s, &["DEBUG", "SLEEP", "0"]), "+OK\r\n");
});

server_test!(memory_usage, |srv| {
    let mut s = srv.raw();
    assert_eq!(rt(&mut s, &["MEMORY", "USAGE", "nosuch"]), "$-1\r\n");
    assert_eq!(rt(&mut s, &["SET", "small", "1"]), "+OK\r\n");
    let big = "v".repeat(10_000);
    assert_eq!(rt(&mut s, &["SET", "big", &big]), "+OK\r\n");
    let usage = |s: &mut TcpStream, k: &str| -> i64 {
        let r = rt(s, &["MEMORY", "USAGE", k]);
        r.trim_start_matches(':').trim_end().parse().unwrap()
    };
    let small = usage(&mut s, "small");
    let bigu = usage(&mut s, "big");
    assert!(small > 0 && small < 200, "{small}");
    assert!((10_000..10_300).contains(&bigu), "{bigu}");
    assert_eq!(rt(&mut s, &["SET", "ttl", "1", "EX", "100"]), "+OK\r\n");
    assert!(usage(&mut s, "ttl") > small);
    assert_eq!(
        rt(&mut s, &["MEMORY", "USAGE", "small", "SAMPLES", "0"]),
        format!(":{small}\r\n")
    );
    assert_eq!(
        rt(&mut s, &["MEMORY", "USAGE", "small", "SAMPLES"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        rt(&mut s, &["MEMORY", "USAGE", "small", "SAMPLES", "-1"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        rt(&mut s, &["MEMORY", "USAGE", "nosuch", "SAMPLES", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        rt(&mut s, &["MEMORY", "USAGE", "small", "foo", "1"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        rt(&mut s, &["MEMORY", "MALLOC-STATS"]),
        "$45\r\nStats not supported for the current allocator\r\n"
    );
    assert_eq!(rt(&mut s, &["MEMORY", "PURGE"]), "+OK\r\n");
    assert!(rt(&mut s, &["MEMORY", "HELP"]).starts_with("*10\r\n+MEMORY <subcommand>"));
});
