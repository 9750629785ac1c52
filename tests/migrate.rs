//! MIGRATE between two real servers: every type with its TTL, single keys
//! and KEYS batches, COPY, REPLACE and the target's BUSYKEY, AUTH and
//! AUTH2, +NOKEY, the IOERR errors of a dead or silent target, the cached
//! connection (reused; a restarted target still works), and what the
//! source propagates (DEL of the acknowledged keys only). Replies are
//! Valkey 9.1's, checked by hand against it with the same commands.

#[macro_use]
mod common;

use bytes::Bytes;
use common::{bulk, int, q, Server, NOT_INT, NULL, OK, SYNTAX};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BUSYKEY: &str =
    "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n";
const NOKEY: &str = "+NOKEY\r\n";
const IOERR_READING: &str = "-IOERR error or timeout reading to target instance\r\n";
const IOERR_WRITING: &str = "-IOERR error or timeout writing to target instance\r\n";
const IOERR_CONNECTING: &str = "-IOERR error or timeout connecting to the client\r\n";

fn migrate(s: &mut TcpStream, port: u16, key: &str, rest: &[&str]) -> String {
    let port = port.to_string();
    let mut args = vec!["MIGRATE", "127.0.0.1", &port, key, "0", "5000"];
    args.extend_from_slice(rest);
    q(s, &args)
}

/// The payload of a bulk reply (DUMP), or None for a null.
fn dump(s: &mut TcpStream, key: &str) -> Option<Vec<u8>> {
    let r = common::raw_roundtrip(s, &common::cmd(&[b"DUMP", key.as_bytes()]), 1);
    if r == NULL.as_bytes() {
        return None;
    }
    let nl = r.iter().position(|&b| b == b'\n').expect("bulk");
    Some(r[nl + 1..r.len() - 2].to_vec())
}

/// One key of every type and encoding, some with a TTL.
fn fill(s: &mut TcpStream) -> Vec<&'static str> {
    let setup: &[&[&str]] = &[
        &["SET", "str", "hello"],
        &["SET", "int", "12345", "PX", "100000"],
        &["RPUSH", "list", "a", "b", "c"],
        &["SADD", "intset", "1", "2", "3"],
        &["SADD", "set", "a", "b"],
        &["ZADD", "zset", "1", "a", "2.5", "b"],
        &["HSET", "hash", "f", "v", "g", "w"],
        &["EXPIRE", "hash", "500"],
    ];
    for c in setup {
        let r = q(s, c);
        assert!(!r.starts_with('-'), "{c:?}: {r}");
    }
    let long: String = "x".repeat(5000);
    assert_eq!(q(s, &["SET", "long", &long, "EX", "1000"]), OK);
    // Past the listpack limits: a skiplist sorted set and a hashtable set.
    let mut zadd = vec!["ZADD".to_string(), "bigz".to_string()];
    let mut sadd = vec!["SADD".to_string(), "bigset".to_string()];
    for i in 0..200 {
        zadd.extend([i.to_string(), format!("m{i}")]);
        sadd.push(format!("e{i}"));
    }
    for c in [zadd, sadd] {
        let c: Vec<&str> = c.iter().map(String::as_str).collect();
        assert_eq!(q(s, &c), int(200));
    }
    vec![
        "str", "int", "list", "intset", "set", "zset", "hash", "long", "bigz", "bigset",
    ]
}

server_test!(moves_every_type_with_its_ttl, |srv| {
    let target = Server::start(1);
    let mut s = srv.raw();
    let mut t = target.raw();
    let keys = fill(&mut s);
    let before: Vec<_> = keys.iter().map(|k| dump(&mut s, k)).collect();
    let sorted_bigset = q(&mut s, &["SORT", "bigset", "ALPHA"]);
    // One key alone, then the rest (and a missing one) in a KEYS batch.
    assert_eq!(migrate(&mut s, target.port, "str", &[]), OK);
    assert_eq!(q(&mut s, &["EXISTS", "str"]), int(0));
    let mut batch = vec!["KEYS"];
    batch.extend(&keys[1..]);
    batch.push("missing");
    assert_eq!(migrate(&mut s, target.port, "", &batch), OK);
    assert_eq!(q(&mut s, &["DBSIZE"]), int(0));
    assert_eq!(q(&mut t, &["DBSIZE"]), int(keys.len() as i64));
    for (k, b) in keys.iter().zip(&before) {
        if *k == "bigset" {
            // A hash table's order is its own: same members, same encoding.
            let members = |c: &mut TcpStream| q(c, &["SORT", "bigset", "ALPHA"]);
            assert_eq!(members(&mut t), sorted_bigset);
            assert_eq!(
                q(&mut t, &["OBJECT", "ENCODING", "bigset"]),
                bulk("hashtable")
            );
            continue;
        }
        assert!(dump(&mut t, k) == *b, "{k}: another payload");
    }
    let ttl = |t: &mut TcpStream, k: &str| {
        let r = q(t, &["PTTL", k]);
        r[1..r.len() - 2].parse::<i64>().expect("integer")
    };
    assert!((1..=100_000).contains(&ttl(&mut t, "int")));
    assert!((400_000..=500_000).contains(&ttl(&mut t, "hash")));
    assert!((900_000..=1_000_000).contains(&ttl(&mut t, "long")));
    assert_eq!(ttl(&mut t, "list"), -1);
    // Into another db of the target, then back to db 0 (SELECT each time).
    assert_eq!(q(&mut s, &["SET", "k", "v"]), OK);
    let port = target.port.to_string();
    assert_eq!(
        q(&mut s, &["MIGRATE", "127.0.0.1", &port, "k", "3", "5000"]),
        OK
    );
    assert_eq!(q(&mut t, &["SELECT", "3"]), OK);
    assert_eq!(q(&mut t, &["GET", "k"]), bulk("v"));
    assert_eq!(q(&mut s, &["SET", "k", "w"]), OK);
    assert_eq!(migrate(&mut s, target.port, "k", &[]), OK);
    assert_eq!(q(&mut t, &["SELECT", "0"]), OK);
    assert_eq!(q(&mut t, &["GET", "k"]), bulk("w"));
    // A db the target does not have is its error.
    assert_eq!(q(&mut s, &["SET", "k", "v"]), OK);
    assert_eq!(
        q(&mut s, &["MIGRATE", "127.0.0.1", &port, "k", "99", "5000"]),
        "-ERR Target instance replied with error: ERR DB index is out of range\r\n"
    );
    assert_eq!(q(&mut s, &["EXISTS", "k"]), int(1));
});

server_test!(copy_replace_and_busykey, |srv| {
    let target = Server::start(1);
    let mut s = srv.raw();
    let mut t = target.raw();
    assert_eq!(q(&mut s, &["SET", "a", "1"]), OK);
    assert_eq!(migrate(&mut s, target.port, "a", &["COPY"]), OK);
    assert_eq!(q(&mut s, &["GET", "a"]), bulk("1"));
    assert_eq!(q(&mut t, &["GET", "a"]), bulk("1"));
    // The key is there: the target's BUSYKEY, and the source keeps it.
    assert_eq!(q(&mut s, &["SET", "a", "2"]), OK);
    assert_eq!(migrate(&mut s, target.port, "a", &[]), BUSYKEY);
    assert_eq!(q(&mut s, &["GET", "a"]), bulk("2"));
    assert_eq!(migrate(&mut s, target.port, "a", &["COPY", "REPLACE"]), OK);
    assert_eq!(q(&mut t, &["GET", "a"]), bulk("2"));
    assert_eq!(q(&mut s, &["GET", "a"]), bulk("2"));
    assert_eq!(q(&mut s, &["SET", "a", "3"]), OK);
    assert_eq!(migrate(&mut s, target.port, "a", &["replace"]), OK);
    assert_eq!(q(&mut s, &["EXISTS", "a"]), int(0));
    assert_eq!(q(&mut t, &["GET", "a"]), bulk("3"));
    // A batch where one key is refused: the first error is the reply, the
    // keys acknowledged around it are gone from the source.
    for k in ["b", "a", "c"] {
        assert_eq!(q(&mut s, &["SET", k, "new"]), OK);
    }
    assert_eq!(
        migrate(&mut s, target.port, "", &["KEYS", "b", "a", "c"]),
        BUSYKEY
    );
    assert_eq!(q(&mut s, &["EXISTS", "a", "b", "c"]), int(1));
    assert_eq!(q(&mut s, &["GET", "a"]), bulk("new"));
    assert_eq!(
        q(&mut t, &["MGET", "a", "b", "c"]),
        common::arr(&["3", "new", "new"])
    );
});

server_test!(nokey_and_argument_errors, |srv| {
    let mut s = srv.raw();
    // Nothing to move: no connection is even tried.
    assert_eq!(migrate(&mut s, 1, "nokey", &[]), NOKEY);
    assert_eq!(migrate(&mut s, 1, "", &[]), NOKEY);
    assert_eq!(migrate(&mut s, 1, "", &["KEYS", "x", "y"]), NOKEY);
    assert_eq!(migrate(&mut s, 1, "", &["COPY", "KEYS"]), NOKEY);
    assert_eq!(q(&mut s, &["SET", "k", "v"]), OK);
    assert_eq!(
        migrate(&mut s, 1, "k", &["KEYS", "k"]),
        "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string\r\n"
    );
    assert_eq!(migrate(&mut s, 1, "k", &["AUTH"]), SYNTAX);
    assert_eq!(migrate(&mut s, 1, "k", &["AUTH2", "u"]), SYNTAX);
    assert_eq!(migrate(&mut s, 1, "k", &["COPY", "nope"]), SYNTAX);
    assert_eq!(
        q(&mut s, &["MIGRATE", "127.0.0.1", "1", "k", "x", "100"]),
        NOT_INT
    );
    assert_eq!(
        q(&mut s, &["MIGRATE", "127.0.0.1", "1", "k", "0", "1.5"]),
        NOT_INT
    );
    assert_eq!(
        q(&mut s, &["MIGRATE", "127.0.0.1", "1", "k"]),
        "-ERR wrong number of arguments for 'migrate' command\r\n"
    );
    // COMMAND GETKEYS as Valkey's key function finds them.
    assert_eq!(
        q(
            &mut s,
            &[
                "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "5", "AUTH", "p", "KEYS", "a",
                "b"
            ]
        ),
        common::arr(&["a", "b"])
    );
    assert_eq!(
        q(
            &mut s,
            &["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "5"]
        ),
        common::arr(&["k"])
    );
    assert_eq!(
        q(
            &mut s,
            &["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "5", "KEYS", "a"]
        ),
        "-ERR Invalid arguments specified for command\r\n"
    );
    // RESTORE-ASKING is RESTORE here.
    let payload = dump(&mut s, "k").expect("dumped");
    let r = common::raw_roundtrip(
        &mut s,
        &common::cmd(&[b"RESTORE-ASKING", b"k2", b"0", &payload]),
        1,
    );
    assert_eq!(r, OK.as_bytes());
    assert_eq!(q(&mut s, &["GET", "k2"]), bulk("v"));
});

server_test!(auth_and_auth2, |srv| {
    let target = Server::start_with(&["--io-threads", "1", "--requirepass", "sesame"]);
    let mut s = srv.raw();
    let mut t = target.raw();
    assert_eq!(q(&mut s, &["SET", "k", "v"]), OK);
    assert_eq!(
        migrate(&mut s, target.port, "k", &[]),
        "-ERR Target instance replied with error: NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        migrate(&mut s, target.port, "k", &["AUTH", "wrong"]),
        "-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        migrate(&mut s, target.port, "k", &["AUTH2", "nobody", "sesame"]),
        "-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(q(&mut s, &["EXISTS", "k"]), int(1));
    assert_eq!(migrate(&mut s, target.port, "k", &["AUTH", "sesame"]), OK);
    assert_eq!(q(&mut s, &["SET", "k2", "w"]), OK);
    assert_eq!(
        migrate(
            &mut s,
            target.port,
            "",
            &["AUTH2", "default", "sesame", "KEYS", "k2"]
        ),
        OK
    );
    assert_eq!(q(&mut t, &["AUTH", "sesame"]), OK);
    assert_eq!(q(&mut t, &["MGET", "k", "k2"]), common::arr(&["v", "w"]));
    // The passwords never reach the slow log.
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
        OK
    );
    assert_eq!(q(&mut s, &["SET", "k3", "x"]), OK);
    let _ = migrate(&mut s, target.port, "k3", &["COPY", "AUTH", "sesame"]);
    let log = q(&mut s, &["SLOWLOG", "GET", "2"]);
    assert!(log.contains("(redacted)"), "{log}");
    assert!(!log.contains("sesame"), "{log}");
});

server_test!(dead_or_silent_target_is_an_ioerr, |srv| {
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["SET", "k", "v"]), OK);
    // A closed port: the connect "succeeds" and the write fails, twice.
    let closed = common::free_port();
    assert_eq!(migrate(&mut s, closed, "k", &[]), IOERR_WRITING);
    // No address at all.
    assert_eq!(
        q(&mut s, &["MIGRATE", "", "1", "k", "0", "100"]),
        IOERR_CONNECTING
    );
    assert_eq!(
        q(&mut s, &["MIGRATE", "127.0.0.1", "-1", "k", "0", "100"]),
        IOERR_CONNECTING
    );
    // A target that accepts and never answers: the timeout, no retry.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port().to_string();
    assert_eq!(
        q(&mut s, &["MIGRATE", "127.0.0.1", &port, "k", "0", "200"]),
        IOERR_READING
    );
    assert_eq!(q(&mut s, &["GET", "k"]), bulk("v"));
    // The server answered meanwhile nothing else went wrong.
    assert_eq!(q(&mut s, &["PING"]), "+PONG\r\n");
    drop(silent);
});

/// A ferrokey on a given port, killed on drop (the harness picks its own
/// ports; a restart needs the same one again).
struct Fixed(Child);

impl Fixed {
    fn start(port: u16) -> Fixed {
        // Owned at once: a failed start is killed on the way out.
        let fixed = Fixed(
            Command::new(env!("CARGO_BIN_EXE_ferrokey-server"))
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                ])
                .args(["--loglevel", "warning", "--io-threads", "1"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn"),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) {
                c.set_read_timeout(Some(Duration::from_secs(5))).ok();
                let mut buf = [0u8; 7];
                if c.write_all(b"PING\r\n").is_ok() && c.read_exact(&mut buf).is_ok() {
                    return fixed;
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("ferrokey did not start on {port}");
    }
}

impl Drop for Fixed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn connections_received(port: u16) -> i64 {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let info = q(&mut c, &["INFO", "stats"]);
    info.lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("total_connections_received")
}

server_test!(cached_connection_is_reused_and_survives_a_restart, |srv| {
    let port = common::free_port();
    let target = Fixed::start(port);
    let mut s = srv.raw();
    for k in ["a", "b", "c"] {
        assert_eq!(q(&mut s, &["SET", k, "v"]), OK);
    }
    assert_eq!(migrate(&mut s, port, "a", &[]), OK);
    let after_first = connections_received(port);
    assert_eq!(migrate(&mut s, port, "b", &[]), OK);
    // The second MIGRATE came on the same connection (the count includes
    // our own INFO connections).
    assert_eq!(connections_received(port), after_first + 1);
    // The target goes away and comes back: the cached connection fails on
    // first use, and the retry reconnects.
    drop(target);
    let _target = Fixed::start(port);
    assert_eq!(migrate(&mut s, port, "c", &[]), OK);
    let mut t = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    t.set_read_timeout(Some(Duration::from_secs(10))).ok();
    assert_eq!(q(&mut t, &["GET", "c"]), bulk("v"));
});

/// What the source propagates: the acknowledged keys as one DEL, nothing
/// with COPY (the in-process call path, against a real target).
#[test]
fn propagates_the_acknowledged_deletions() {
    use ferrokey::config::Config;
    use ferrokey::exec::Harness;
    let target = Server::start(1);
    let mut t = target.raw();
    let port = target.port.to_string();
    let mut h = Harness::new(Config::default());
    let c = h.add_client();
    for k in ["a", "b", "c"] {
        assert_eq!(h.run_str(c, &["SET", k, "v"]), OK.as_bytes());
    }
    assert_eq!(q(&mut t, &["SET", "b", "there"]), OK);
    h.take_propagated();
    h.take_modified();
    let reply = h.run_str(
        c,
        &[
            "MIGRATE",
            "127.0.0.1",
            &port,
            "",
            "0",
            "5000",
            "KEYS",
            "a",
            "b",
            "c",
        ],
    );
    assert_eq!(reply, BUSYKEY.as_bytes());
    let p = h.take_propagated();
    assert_eq!(p.len(), 1, "{p:?}");
    let want: Vec<Bytes> = ["DEL", "a", "c"].iter().map(|s| Bytes::from(*s)).collect();
    assert_eq!(p[0].argv, want);
    let modified: Vec<Bytes> = h.take_modified().into_iter().map(|(_, k)| k).collect();
    assert_eq!(modified, [Bytes::from("a"), Bytes::from("c")]);
    // COPY changes nothing here: nothing goes out.
    let reply = h.run_str(
        c,
        &[
            "MIGRATE",
            "127.0.0.1",
            &port,
            "b",
            "0",
            "5000",
            "COPY",
            "REPLACE",
        ],
    );
    assert_eq!(reply, OK.as_bytes());
    assert!(h.take_propagated().is_empty());
    assert_eq!(q(&mut t, &["GET", "b"]), bulk("v"));
}

fn connected_clients(port: u16) -> i64 {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let info = q(&mut c, &["INFO", "clients"]);
    info.lines()
        .find_map(|l| l.strip_prefix("connected_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("connected_clients")
}

/// INFO stats' count of cached MIGRATE connections.
fn cached_sockets(s: &mut TcpStream) -> i64 {
    let info = q(s, &["INFO", "stats"]);
    info.lines()
        .find_map(|l| l.strip_prefix("migrate_cached_sockets:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("migrate_cached_sockets")
}

/// The cron closes a cached connection once it has been idle for 10 s.
#[test]
fn idle_cached_connection_is_closed() {
    let srv = Server::start(1);
    let target = Server::start(1);
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["SET", "k", "v"]), OK);
    assert_eq!(migrate(&mut s, target.port, "k", &[]), OK);
    // MIGRATE's connection and the one asking.
    assert_eq!(connected_clients(target.port), 2);
    assert_eq!(cached_sockets(&mut s), 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    while connected_clients(target.port) != 1 {
        assert!(Instant::now() < deadline, "still connected after 30 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(cached_sockets(&mut s), 0);
}
