//! DEBUG subcommands against the real binary, with Valkey 9.1's replies,
//! and that each one really acts (active expiry, the cron, plain list
//! nodes); INFO commandstats times (fault 9). Each test runs at io-threads
//! 1 and 4.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{cmd, raw_roundtrip, Server};

fn rt(s: &mut TcpStream, args: &[&str]) -> String {
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    String::from_utf8_lossy(&raw_roundtrip(s, &cmd(&argv), 1)).into_owned()
}

fn start(io_threads: usize, extra: &[&str]) -> Server {
    let n = io_threads.to_string();
    let mut args = vec!["--io-threads", &n, "--enable-debug-command", "yes"];
    if io_threads > 1 {
        args.extend(["--events-per-io-thread", "0"]);
    }
    args.extend_from_slice(extra);
    Server::start_with(&args)
}

macro_rules! both {
    ($name:ident, $f:ident) => {
        mod $name {
            #[test]
            fn io_threads_1() {
                super::$f(1)
            }
            #[test]
            fn io_threads_4() {
                super::$f(4)
            }
        }
    };
}

fn dbsize(s: &mut TcpStream) -> i64 {
    let r = rt(s, &["DBSIZE"]);
    r.trim_start_matches(':')
        .trim_end()
        .parse()
        .expect("dbsize")
}

/// Sets `n` keys that expire after `ms`.
fn volatile_keys(s: &mut TcpStream, prefix: &str, n: usize, ms: u64) {
    for i in 0..n {
        let k = format!("{prefix}{i}");
        assert_eq!(rt(s, &["SET", &k, "v", "PX", &ms.to_string()]), "+OK\r\n");
    }
}

/// Polls DBSIZE (which never expires keys itself) until it is 0.
fn wait_all_expired(s: &mut TcpStream) -> Duration {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(10);
    while dbsize(s) != 0 {
        assert!(Instant::now() < deadline, "keys never expired");
        std::thread::sleep(Duration::from_millis(5));
    }
    start.elapsed()
}

/// Keys stay while `switch` is 0 and go once it is 1 again: first a
/// control run measures how fast the cron expires keys when on, then the
/// keys must survive ten times that long (at least 300 ms of DBSIZE polls)
/// with the switch off.
fn cron_switch_stops_expiry(io_threads: usize, switch: &str, off: &str, on: &str) {
    let srv = start(io_threads, &["--hz", "100"]);
    let mut s = srv.raw();
    volatile_keys(&mut s, "ctl", 30, 20);
    let with_cron = wait_all_expired(&mut s);
    assert_eq!(rt(&mut s, &["DEBUG", switch, off]), "+OK\r\n");
    volatile_keys(&mut s, "k", 30, 20);
    let window = (with_cron * 10).max(Duration::from_millis(300));
    let until = Instant::now() + window;
    while Instant::now() < until {
        assert_eq!(dbsize(&mut s), 30, "{switch} {off}: keys were expired");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(rt(&mut s, &["DEBUG", switch, on]), "+OK\r\n");
    wait_all_expired(&mut s);
}

fn set_active_expire(io_threads: usize) {
    cron_switch_stops_expiry(io_threads, "set-active-expire", "0", "1");
    let srv = start(io_threads, &[]);
    let mut s = srv.raw();
    // Valkey's argument checks: exactly one argument, read with atoi.
    assert_eq!(
        rt(&mut s, &["DEBUG", "set-active-expire"]),
        "-ERR unknown subcommand or wrong number of arguments for 'set-active-expire'. Try DEBUG HELP.\r\n"
    );
    assert_eq!(
        rt(&mut s, &["DEBUG", "SET-ACTIVE-EXPIRE", "abc"]),
        "+OK\r\n"
    );
    // Lookups still expire keys with active expiry off.
    assert_eq!(rt(&mut s, &["SET", "x", "1", "PX", "1"]), "+OK\r\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    while rt(&mut s, &["GET", "x"]) != "$-1\r\n" {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(dbsize(&mut s), 0);
}
both!(set_active_expire_stops_the_cron_expiry, set_active_expire);

fn pause_cron(io_threads: usize) {
    cron_switch_stops_expiry(io_threads, "pause-cron", "1", "0");
}
both!(pause_cron_stops_the_cron, pause_cron);

/// The `ql_*` fields of DEBUG OBJECT, from `ql_nodes` on.
fn ql_fields(reply: &str) -> String {
    let at = reply.find("ql_nodes").unwrap_or_else(|| panic!("{reply}"));
    reply[at..].trim_end().to_string()
}

fn packed_threshold(io_threads: usize) {
    let srv = start(io_threads, &["--list-max-listpack-size", "4"]);
    let mut s = srv.raw();
    for i in 10..20 {
        rt(&mut s, &["RPUSH", "a", &format!("element-number-{i}-xx")]);
    }
    assert_eq!(
        rt(&mut s, &["DEBUG", "quicklist-packed-threshold", "10b"]),
        "+OK\r\n"
    );
    for i in 10..20 {
        rt(&mut s, &["RPUSH", "b", &format!("element-number-{i}-xx")]);
    }
    assert_eq!(
        rt(&mut s, &["DEBUG", "quicklist-packed-threshold", "0"]),
        "+OK\r\n"
    );
    // Same figures as Valkey 9.1: packed nodes of 4, then one node per
    // element once the list is a quicklist and the threshold is 10 bytes.
    let a = rt(&mut s, &["DEBUG", "OBJECT", "a"]);
    assert_eq!(
        ql_fields(&a),
        "ql_nodes:3 ql_avg_node:3.33 ql_listpack_max:4 ql_compressed:0 ql_uncompressed_size:241"
    );
    assert!(a.contains(" serializedlength:152 "), "{a}");
    let b = rt(&mut s, &["DEBUG", "OBJECT", "b"]);
    assert_eq!(
        ql_fields(&b),
        "ql_nodes:7 ql_avg_node:1.43 ql_listpack_max:4 ql_compressed:0 ql_uncompressed_size:215"
    );
    assert!(b.contains(" serializedlength:187 "), "{b}");
    assert_eq!(
        rt(&mut s, &["LINDEX", "b", "-1"]),
        "$20\r\nelement-number-19-xx\r\n"
    );
    assert_eq!(
        rt(&mut s, &["DEBUG", "quicklist-packed-threshold", "5gb"]),
        "-ERR argument must be a memory value bigger than 1 and smaller than 4gb\r\n"
    );
    assert_eq!(
        rt(&mut s, &["DEBUG", "quicklist-packed-threshold", "abc"]),
        "-ERR argument must be a memory value bigger than 1 and smaller than 4gb\r\n"
    );
}
both!(
    quicklist_packed_threshold_makes_plain_nodes,
    packed_threshold
);

fn object(io_threads: usize) {
    let srv = start(io_threads, &[]);
    let mut s = srv.raw();
    rt(&mut s, &["SET", "s", "100"]);
    rt(&mut s, &["SET", "big", &"a".repeat(100)]);
    rt(&mut s, &["RPUSH", "l", "a", "b", "c"]);
    rt(&mut s, &["SADD", "st", "1", "2", "3"]);
    rt(&mut s, &["ZADD", "z", "1", "a", "2.5", "b"]);
    // Valkey 9.1's lengths for the same values.
    for (k, enc, len) in [
        ("s", "int", 2),
        ("big", "embstr", 13),
        ("l", "listpack", 19),
        ("st", "intset", 15),
        ("z", "listpack", 21),
    ] {
        let r = rt(&mut s, &["DEBUG", "OBJECT", k]);
        let rest = r
            .strip_prefix("+Value at:0x")
            .unwrap_or_else(|| panic!("{r}"));
        let (addr, rest) = rest.split_once(' ').expect("fields");
        assert!(addr.bytes().all(|b| b.is_ascii_hexdigit()), "{r}");
        let want = format!("refcount:1 encoding:{enc} serializedlength:{len} lru:");
        assert!(rest.starts_with(&want), "{r}");
        // Set just now (a second boundary may pass in between).
        let idle = rest
            .trim_end()
            .rsplit_once(" lru_seconds_idle:")
            .expect("idle")
            .1;
        assert!(matches!(idle, "0" | "1"), "{r}");
        let fast = rt(&mut s, &["DEBUG", "OBJECT", k, "fast"]);
        assert!(!fast.contains("serializedlength"), "{fast}");
    }
    assert_eq!(
        rt(&mut s, &["DEBUG", "OBJECT", "nokey"]),
        "-ERR no such key\r\n"
    );
    // Under an LFU policy the access fields are the LFU ones.
    rt(
        &mut s,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    );
    rt(&mut s, &["SET", "f", "x"]);
    let r = rt(&mut s, &["DEBUG", "OBJECT", "f"]);
    assert!(r.contains(" lfu_freq:5 lfu_access_time_minutes:"), "{r}");
    // LISTPACK: only for listpack encodings.
    assert_eq!(
        rt(&mut s, &["DEBUG", "LISTPACK", "l"]),
        "+Listpack structure printed on stdout\r\n"
    );
    assert_eq!(
        rt(&mut s, &["DEBUG", "LISTPACK", "s"]),
        "-ERR Not a listpack encoded object.\r\n"
    );
    assert_eq!(
        rt(&mut s, &["DEBUG", "LISTPACK", "x"]),
        "-ERR no such key\r\n"
    );
}
both!(object_and_listpack_like_valkey, object);

fn info_field(s: &mut TcpStream, section: &str, name: &str) -> String {
    let r = rt(s, &["INFO", section]);
    r.split("\r\n")
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')))
        .unwrap_or_else(|| panic!("{name} not in {r}"))
        .to_string()
}

fn repl_id_and_sleep(io_threads: usize) {
    let srv = start(io_threads, &[]);
    let mut s = srv.raw();
    let before = info_field(&mut s, "replication", "master_replid");
    assert_eq!(before.len(), 40);
    assert_eq!(rt(&mut s, &["DEBUG", "change-repl-id"]), "+OK\r\n");
    let after = info_field(&mut s, "replication", "master_replid");
    assert_eq!(after.len(), 40);
    assert_ne!(before, after);
    assert_eq!(rt(&mut s, &["DEBUG", "sleep", "0"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["DEBUG", "dict-resizing", "0"]), "+OK\r\n");
    for i in 0..2000 {
        rt(&mut s, &["SET", &format!("key{i}"), "v"]);
    }
    assert_eq!(rt(&mut s, &["DEBUG", "dict-resizing", "1"]), "+OK\r\n");
    assert_eq!(dbsize(&mut s), 2000);
    assert_eq!(rt(&mut s, &["GET", "key1999"]), "$1\r\nv\r\n");
    assert_eq!(
        rt(&mut s, &["DEBUG", "error", "MYERR a\nb"]),
        "-MYERR a b\r\n"
    );
    assert_eq!(
        rt(&mut s, &["DEBUG", "jmap"]),
        "-ERR unknown subcommand or wrong number of arguments for 'jmap'. Try DEBUG HELP.\r\n"
    );
}
both!(change_repl_id_sleep_dict_resizing, repl_id_and_sleep);

/// `cmdstat_<name>:calls=..,usec=..,usec_per_call=..` as numbers.
fn cmdstat(s: &mut TcpStream, name: &str) -> (u64, u64, f64) {
    let v = info_field(s, "commandstats", &format!("cmdstat_{name}"));
    let get = |k: &str| {
        v.split(',')
            .find_map(|f| f.strip_prefix(k).and_then(|x| x.strip_prefix('=')))
            .unwrap_or_else(|| panic!("{k} in {v}"))
            .to_string()
    };
    (
        get("calls").parse().expect("calls"),
        get("usec").parse().expect("usec"),
        get("usec_per_call").parse().expect("usec_per_call"),
    )
}

fn commandstats_times(io_threads: usize) {
    let srv = start(io_threads, &[]);
    let mut s = srv.raw();
    for _ in 0..3 {
        assert_eq!(rt(&mut s, &["DEBUG", "SLEEP", "0.01"]), "+OK\r\n");
    }
    let (calls, usec, per_call) = cmdstat(&mut s, "debug");
    assert_eq!(calls, 3);
    assert!(usec >= 30_000, "usec={usec}");
    assert!(per_call >= 10_000.0, "usec_per_call={per_call}");
    // Sub-microsecond commands add up instead of rounding to zero: a PING
    // handler takes well under 1 µs (0.26 µs in a debug build), so whole
    // µs per call summed to about 0. Any real timing is over 10 ns a call.
    assert_eq!(rt(&mut s, &["CONFIG", "RESETSTAT"]), "+OK\r\n");
    let n = 20_000;
    let batch = b"*1\r\n$4\r\nPING\r\n".repeat(n);
    let replies = raw_roundtrip(&mut s, &batch, n);
    assert_eq!(replies.len(), 7 * n);
    let (calls, usec, per_call) = cmdstat(&mut s, "ping");
    assert_eq!(calls, n as u64);
    assert!(usec >= calls / 100, "usec={usec} for {calls} calls");
    assert!(
        (0.01..1000.0).contains(&per_call),
        "usec_per_call={per_call}"
    );
    assert!(
        (per_call - usec as f64 / calls as f64).abs() < 1.0,
        "usec={usec} per_call={per_call}"
    );
}
both!(commandstats_sum_precise_times, commandstats_times);

fn digests(io_threads: usize) {
    let srv = start(io_threads, &[]);
    let mut s = srv.raw();
    assert_eq!(
        rt(&mut s, &["DEBUG", "DIGEST"]),
        format!("+{}\r\n", "0".repeat(40))
    );
    // Hex strings from Valkey 9.1 for the same data.
    rt(&mut s, &["SET", "a", "1"]);
    assert_eq!(
        rt(&mut s, &["DEBUG", "DIGEST"]),
        "+943d800368fb9c0e951138f1bc0e313ac769d91f\r\n"
    );
    rt(&mut s, &["SET", "b", "hello", "EX", "100"]);
    rt(&mut s, &["RPUSH", "l", "1", "2", "3"]);
    assert_eq!(
        rt(&mut s, &["DEBUG", "DIGEST"]),
        "+90cfbee00bed42bee49376ecb2b73cfd16033747\r\n"
    );
    rt(&mut s, &["SELECT", "3"]);
    rt(&mut s, &["SET", "c", "v"]);
    assert_eq!(
        rt(&mut s, &["DEBUG", "DIGEST"]),
        "+a9ee17e582df6b78ab98e358a235d1822fd94822\r\n"
    );
    rt(&mut s, &["FLUSHALL"]);
    rt(&mut s, &["SET", "s", "100"]);
    rt(&mut s, &["SET", "s2", "hello"]);
    rt(&mut s, &["RPUSH", "l", "a", "b", "3"]);
    rt(&mut s, &["HSET", "h", "a", "1", "b", "2"]);
    rt(&mut s, &["SADD", "st", "1", "2", "x"]);
    rt(&mut s, &["SADD", "si", "1", "2", "3"]);
    rt(&mut s, &["ZADD", "z", "1", "a", "2.5", "b", "1e20", "c"]);
    rt(&mut s, &["SET", "e", "v", "EX", "100"]);
    let want = [
        "3d41d4c94e50ef4c4d595fea543c6a374ebed1e9",
        "36b23a1456b2dce2c3ed252c456761301dba8060",
        "09eb1fc9381ee92790d59930ab462945f8cd948b",
        "6c8f22b3bf510fdcfd6122dd0f908a80e88243bf",
        "4c6eef6b7853d1b76391c849d71b0d35d3faf18f",
        "2a462a3f51a1db89738ebbeef0c47ce1bbc85246",
        "2b1cb0e1b4b35fa6500c4b7c020d6b346aefb452",
        "311b17018163335616e089f6b951c82c477335ac",
        "0000000000000000000000000000000000000000",
    ];
    let mut expect = format!("*{}\r\n", want.len());
    for w in want {
        expect.push_str(&format!("+{w}\r\n"));
    }
    let argv = [
        "DEBUG",
        "DIGEST-VALUE",
        "s",
        "s2",
        "l",
        "h",
        "st",
        "si",
        "z",
        "e",
        "nokey",
    ];
    assert_eq!(rt(&mut s, &argv), expect);
    assert_eq!(rt(&mut s, &["DEBUG", "DIGEST-VALUE"]), "*0\r\n");
}
both!(digest_like_valkey, digests);

fn populate(io_threads: usize) {
    let srv = start(io_threads, &[]);
    let mut s = srv.raw();
    assert_eq!(rt(&mut s, &["SET", "key:1", "mine"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["DEBUG", "POPULATE", "10"]), "+OK\r\n");
    assert_eq!(dbsize(&mut s), 10);
    // Existing keys are left alone.
    assert_eq!(rt(&mut s, &["GET", "key:1"]), "$4\r\nmine\r\n");
    assert_eq!(rt(&mut s, &["GET", "key:3"]), "$7\r\nvalue:3\r\n");
    assert_eq!(
        rt(&mut s, &["DEBUG", "POPULATE", "3", "p", "10"]),
        "+OK\r\n"
    );
    assert_eq!(rt(&mut s, &["GET", "p:2"]), "$10\r\nvalue:2\0\0\0\r\n");
    assert_eq!(rt(&mut s, &["DEBUG", "POPULATE", "3", "q", "2"]), "+OK\r\n");
    assert_eq!(rt(&mut s, &["GET", "q:1"]), "$2\r\nva\r\n");
    for bad in ["-1", "abc"] {
        assert_eq!(
            rt(&mut s, &["DEBUG", "POPULATE", bad]),
            "-ERR value is out of range, must be positive\r\n"
        );
    }
    // The same dataset digest as Valkey 9.1 after these commands.
    rt(&mut s, &["FLUSHALL"]);
    rt(&mut s, &["DEBUG", "POPULATE", "10"]);
    rt(&mut s, &["DEBUG", "POPULATE", "3", "p", "10"]);
    rt(&mut s, &["DEBUG", "POPULATE", "3", "q", "2"]);
    assert_eq!(
        rt(&mut s, &["DEBUG", "DIGEST"]),
        "+b4a34e1696793fa9dbb5ebfadea980ed02e653db\r\n"
    );
}
both!(populate_like_valkey, populate);
