//! Valkey's configuration surface: the directives of the Valkey suite's
//! default.conf and Valkey's aliases load from a file, and CONFIG GET / SET
//! / REWRITE treat aliases as Valkey does. Replies are compared with what
//! Valkey 9.1 sends. Each test runs at io-threads 1 and 4.

mod common;

use std::net::TcpStream;

use common::{cmd, raw_roundtrip, Server};

fn rt(s: &mut TcpStream, args: &[&str]) -> String {
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    String::from_utf8_lossy(&raw_roundtrip(s, &cmd(&argv), 1)).into_owned()
}

/// A RESP2 map reply of CONFIG GET with these pairs, in order.
fn pairs(p: &[(&str, &str)]) -> String {
    let mut out = format!("*{}\r\n", p.len() * 2);
    for (k, v) in p {
        out.push_str(&format!("${}\r\n{k}\r\n${}\r\n{v}\r\n", k.len(), v.len()));
    }
    out
}

fn temp_config(tag: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "ferrokey-vkconf-{tag}-{}-{}.conf",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
    ));
    std::fs::write(&path, text).expect("write config");
    path
}

/// tests/assets/default.conf of the Valkey suite (the pid file path made
/// private), plus aliases and deprecated lines Valkey still reads.
fn suite_conf(io_threads: usize) -> String {
    let pidfile = std::env::temp_dir().join(format!(
        "ferrokey-vkconf-{}-{io_threads}.pid",
        std::process::id()
    ));
    format!(
        "always-show-logo yes\ndaemonize no\npidfile {}\nport 6379\ntimeout 0\nbind 127.0.0.1\n\
         loglevel verbose\nlogfile ''\ndatabases 16\nlatency-monitor-threshold 1\n\
         repl-diskless-sync-delay 0\nsave ''\nrdbcompression yes\ndbfilename dump.rdb\ndir ./\n\
         slave-serve-stale-data yes\nappendonly no\nappendfsync everysec\n\
         no-appendfsync-on-rewrite no\nactiverehashing yes\nenable-protected-configs yes\n\
         enable-debug-command yes\nenable-module-command yes\npropagation-error-behavior panic\n\
         shutdown-on-sigterm force\nenable-debug-assert yes\nhide-user-data-from-log no\n\
         notify-keyspace-events KEA\n\
         # aliases and old names\n\
         list-max-ziplist-size -3\nhash-max-ziplist-entries 64\nhash-max-ziplist-value 32\n\
         zset-max-ziplist-entries 100\nZSET-MAX-ZIPLIST-VALUE 20\nslave-read-only yes\n\
         slave-priority 50\nmasterauth secret\nmasteruser bob\nmin-slaves-max-lag 7\n\
         repl-ping-slave-period 3\nlua-time-limit 4000\nslaveof no one\n\
         list-max-ziplist-entries 512\nlist-max-ziplist-value 64\n\
         shutdown-on-sigint \"nosave now\"\nlocale-collate \"\"\n",
        pidfile.display()
    )
}

fn loads_suite_conf_and_aliases(io_threads: usize) {
    let path = temp_config("suite", &suite_conf(io_threads));
    let mut args = vec!["--io-threads".to_string(), io_threads.to_string()];
    if io_threads > 1 {
        args.extend(["--events-per-io-thread".into(), "0".into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let srv = Server::start_full(Some(path.to_str().expect("utf8")), &args);
    let mut s = srv.raw();
    // Values set through aliases read back under both names.
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "list-max-listpack-size"]),
        pairs(&[("list-max-listpack-size", "-3")])
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "*ziplist*"]),
        pairs(&[
            ("hash-max-ziplist-entries", "64"),
            ("hash-max-ziplist-value", "32"),
            ("list-max-ziplist-size", "-3"),
            ("zset-max-ziplist-entries", "100"),
            ("zset-max-ziplist-value", "20"),
        ])
    );
    // Keyspace notification classes, shown in Valkey's normalised form.
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "notify-keyspace-events"]),
        pairs(&[("notify-keyspace-events", "AKE")])
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "primaryauth", "masteruser"]),
        pairs(&[("masteruser", "bob"), ("primaryauth", "secret")])
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "shutdown-on-sig*"]),
        pairs(&[
            ("shutdown-on-sigint", "nosave now"),
            ("shutdown-on-sigterm", "force")
        ])
    );
    assert_eq!(
        rt(
            &mut s,
            &["CONFIG", "GET", "replica-priority", "slave-priority"]
        ),
        pairs(&[("replica-priority", "50"), ("slave-priority", "50")])
    );
    // Hidden directives answer by exact name only.
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "enable-debug-assert"]),
        pairs(&[("enable-debug-assert", "yes")])
    );
    assert_eq!(rt(&mut s, &["CONFIG", "GET", "enable-debug-a*"]), "*0\r\n");
    // The old list-max-ziplist-entries is read and ignored, as in Valkey.
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "list-max-ziplist-entries"]),
        "*0\r\n"
    );

    // CONFIG SET through an alias changes the directive; name and alias
    // may both be given (the later wins); the same spelling twice may not.
    assert_eq!(
        rt(
            &mut s,
            &[
                "CONFIG",
                "SET",
                "hash-max-listpack-entries",
                "200",
                "hash-max-ziplist-entries",
                "300"
            ]
        ),
        "+OK\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "hash-max-listpack-entries"]),
        pairs(&[("hash-max-listpack-entries", "300")])
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "slave-read-only", "x"]),
        "-ERR CONFIG SET failed (possibly related to argument 'slave-read-only') - argument must be 'yes' or 'no'\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "HASH-MAX-ZIPLIST-ENTRIES", "abc"]),
        "-ERR CONFIG SET failed (possibly related to argument 'hash-max-ziplist-entries') - argument couldn't be parsed into an integer\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "slave-priority", "1", "SLAVE-PRIORITY", "2"]),
        "-ERR CONFIG SET failed (possibly related to argument 'SLAVE-PRIORITY') - duplicate parameter\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "slaveof", "no one"]),
        "-ERR CONFIG SET failed (possibly related to argument 'slaveof') - can't set immutable config\r\n"
    );
    // enable-protected-configs yes (default.conf) lets dir change.
    assert_eq!(rt(&mut s, &["CONFIG", "SET", "dir", "."]), "+OK\r\n");
    // A feature not built is accepted only switched off.
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "activedefrag", "yes"]),
        "-ERR CONFIG SET failed (possibly related to argument 'activedefrag') - Active defragmentation cannot be enabled: it requires a server compiled with a modified Jemalloc like the one shipped by default with the source distribution\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "maxmemory-clients", "200%"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "shutdown-on-sigterm", "save nosave"]),
        "-ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigterm') - shutdown options SAVE and NOSAVE can't be used simultaneously\r\n"
    );
    assert_eq!(
        rt(
            &mut s,
            &["CONFIG", "SET", "shutdown-on-sigterm", "force now"]
        ),
        "+OK\r\n"
    );
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "shutdown-on-sigterm"]),
        pairs(&[("shutdown-on-sigterm", "now force")])
    );

    // REWRITE writes alias lines back under the directive's name, in place.
    assert_eq!(
        rt(&mut s, &["CONFIG", "SET", "slave-priority", "9"]),
        "+OK\r\n"
    );
    assert_eq!(rt(&mut s, &["CONFIG", "REWRITE"]), "+OK\r\n");
    let text = std::fs::read_to_string(&path).expect("read back");
    assert!(text.contains("\nreplica-priority 9\n"), "{text}");
    assert!(!text.contains("slave-priority"), "{text}");
    assert!(text.contains("\nhash-max-listpack-entries 300\n"), "{text}");
    assert!(text.contains("\nshutdown-on-sigterm now force\n"), "{text}");
    assert!(text.contains("\nprimaryauth secret\n"), "{text}");
    // The rewritten file loads again.
    drop(s);
    drop(srv);
    let srv = Server::start_full(Some(path.to_str().expect("utf8")), &args);
    let mut s = srv.raw();
    assert_eq!(
        rt(&mut s, &["CONFIG", "GET", "slave-priority"]),
        pairs(&[("slave-priority", "9")])
    );
    // DEBUG CONFIG-REWRITE-FORCE-ALL writes every directive; the server
    // restarts from it with the same configuration (the suite's CONFIG
    // REWRITE sanity).
    let before = rt(&mut s, &["CONFIG", "GET", "*"]);
    assert_eq!(
        rt(&mut s, &["DEBUG", "CONFIG-REWRITE-FORCE-ALL"]),
        "+OK\r\n"
    );
    let text = std::fs::read_to_string(&path).expect("read back");
    assert!(text.contains("\ncluster-enabled no\n"), "{text}");
    drop(s);
    drop(srv);
    let srv = Server::start_full(Some(path.to_str().expect("utf8")), &args);
    let mut s = srv.raw();
    let after = rt(&mut s, &["CONFIG", "GET", "*"]);
    // The port differs (each start picks a free one); the rest is equal.
    let pick = |r: &str| -> Vec<String> {
        r.split("\r\n")
            .filter(|l| !l.starts_with('$') && !l.starts_with('*'))
            .map(String::from)
            .collect()
    };
    let (b, a) = (pick(&before), pick(&after));
    assert_eq!(b.len(), a.len());
    for (i, (x, y)) in b.chunks(2).zip(a.chunks(2)).enumerate() {
        if x[0] != "port" {
            assert_eq!(x, y, "pair {i}");
        }
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn loads_suite_conf_and_aliases_io_threads_1() {
    loads_suite_conf_and_aliases(1);
}

#[test]
fn loads_suite_conf_and_aliases_io_threads_4() {
    loads_suite_conf_and_aliases(4);
}

/// Every directive CONFIG GET * lists can be set to the value it shows,
/// and reads back the same (the Valkey suite's "CONFIG sanity" test), except
/// the immutable ones, which refuse.
fn config_sanity(io_threads: usize) {
    let srv = Server::start(io_threads);
    let mut c = srv.conn();
    let all: Vec<(String, String)> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("*")
        .query(&mut c)
        .expect("config get");
    assert!(all.len() > 200, "{}", all.len());
    let immutable = [
        "rdbchecksum",
        "daemonize",
        "tcp-backlog",
        "always-show-logo",
        "syslog-enabled",
        "cluster-enabled",
        "disable-thp",
        "aclfile",
        "unixsocket",
        "pidfile",
        "syslog-ident",
        "appendfilename",
        "appenddirname",
        "supervised",
        "syslog-facility",
        "databases",
        "io-threads",
        "logfile",
        "unixsocketperm",
        "unixsocketgroup",
        "replicaof",
        "slaveof",
        "server-cpulist",
        "bio-cpulist",
        "aof-rewrite-cpulist",
        "bgsave-cpulist",
        "server_cpulist",
        "bio_cpulist",
        "aof_rewrite_cpulist",
        "bgsave_cpulist",
        "set-proc-title",
        "cluster-config-file",
        "cluster-port",
        "enable-protected-configs",
        "enable-debug-command",
        "enable-module-command",
        "socket-mark-id",
    ];
    // Protected by default (enable-protected-configs no).
    let protected = ["dir", "dbfilename"];
    for (k, v) in &all {
        let r: redis::RedisResult<()> = redis::cmd("CONFIG").arg("SET").arg(k).arg(v).query(&mut c);
        if immutable.contains(&k.as_str()) {
            let e = r.expect_err(k);
            assert!(
                e.to_string().contains("can't set immutable config"),
                "{k}: {e}"
            );
        } else if protected.contains(&k.as_str()) {
            let e = r.expect_err(k);
            assert!(
                e.to_string().contains("can't set protected config"),
                "{k}: {e}"
            );
        } else {
            r.unwrap_or_else(|e| panic!("CONFIG SET {k} {v:?}: {e}"));
        }
    }
    let again: Vec<(String, String)> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("*")
        .query(&mut c)
        .expect("config get");
    let mut a = all.clone();
    let mut b = again;
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn config_sanity_io_threads_1() {
    config_sanity(1);
}

#[test]
fn config_sanity_io_threads_4() {
    config_sanity(4);
}
