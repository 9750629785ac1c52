//! Loading RDB files at startup, through the real binary: the Valkey
//! suite's fixtures, files written by Valkey 9.1 and redis 7.0 holding
//! every type and encoding (compared key by key with Valkey 9.1's view of
//! them), corrupt, truncated and bit-flipped files (the server refuses to
//! start, naming the offset), checksums, and a slow load watched from a
//! client (INFO `loading:1`, `-LOADING`). Each runs at io-threads 1 and 4.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::dir_server::DirServer as Srv;
use ferrokey::persist::codec::{write_len, write_string};
use ferrokey::persist::crc64;
use redis::Value as V;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rdb");

/// A fresh directory holding `file` (bytes) as `dump.rdb`.
fn dir_with(bytes: Option<&[u8]>) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "ferrokey-rdb-load-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    if let Some(b) = bytes {
        std::fs::write(d.join("dump.rdb"), b).unwrap();
    }
    d
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(FIXTURES).join(name)).unwrap()
}

fn cmd(c: &mut redis::Connection, args: &[&str]) -> V {
    let mut k = redis::cmd(args[0]);
    for a in &args[1..] {
        k.arg(*a);
    }
    k.query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn bulks(v: V) -> Vec<Vec<u8>> {
    match v {
        V::Array(items) => items
            .into_iter()
            .map(|x| match x {
                V::BulkString(b) => b,
                other => panic!("{other:?}"),
            })
            .collect(),
        other => panic!("{other:?}"),
    }
}

fn text(v: V) -> String {
    match v {
        V::SimpleString(s) => s,
        V::BulkString(b) => String::from_utf8(b).unwrap(),
        V::Okay => "OK".into(),
        other => panic!("{other:?}"),
    }
}

fn int(v: V) -> i64 {
    match v {
        V::Int(n) => n,
        other => panic!("{other:?}"),
    }
}

fn hex(b: &[u8]) -> String {
    if b.is_empty() {
        return "-".into();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Every key of every db as `make_fixtures.py` writes its `.expected`.
fn dump(c: &mut redis::Connection) -> String {
    let mut out = String::new();
    for db in 0..16 {
        cmd(c, &["SELECT", &db.to_string()]);
        let mut keys = bulks(cmd(c, &["KEYS", "*"]));
        keys.sort();
        for k in keys {
            let ks = String::from_utf8(k.clone()).unwrap();
            let t = text(cmd(c, &["TYPE", &ks]));
            let enc = text(cmd(c, &["OBJECT", "ENCODING", &ks]));
            let exp = int(cmd(c, &["PEXPIRETIME", &ks]));
            let items: Vec<Vec<u8>> = match t.as_str() {
                "string" => vec![match cmd(c, &["GET", &ks]) {
                    V::BulkString(b) => b,
                    other => panic!("{other:?}"),
                }],
                "list" => bulks(cmd(c, &["LRANGE", &ks, "0", "-1"])),
                "set" => {
                    let mut m = bulks(cmd(c, &["SMEMBERS", &ks]));
                    m.sort();
                    m
                }
                "hash" => {
                    let h = bulks(cmd(c, &["HGETALL", &ks]));
                    let mut pairs: Vec<_> =
                        h.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect();
                    pairs.sort();
                    pairs.into_iter().flat_map(|(a, b)| [a, b]).collect()
                }
                _ => bulks(cmd(c, &["ZRANGE", &ks, "0", "-1", "WITHSCORES"])),
            };
            let items: Vec<String> = items.iter().map(|i| hex(i)).collect();
            out.push_str(&format!(
                "{db} {} {t} {enc} {exp} {}\n",
                hex(&k),
                items.join(",")
            ));
        }
    }
    cmd(c, &["SELECT", "0"]);
    out
}

fn info_field(c: &mut redis::Connection, name: &str) -> Option<String> {
    let info = text(cmd(c, &["INFO", "persistence"]));
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
}

#[test]
fn reference_files_load_key_by_key() {
    for io in [1, 4] {
        for name in ["valkey-9.1-types", "redis-7.0-types"] {
            let dir = dir_with(Some(&fixture(&format!("{name}.rdb"))));
            // Valkey 9.1's defaults where ferrokey's differ.
            let mut s = Srv::spawn(&dir, io, &["--hash-max-listpack-entries", "512"]);
            s.ready();
            let mut c = s.conn();
            let want =
                std::fs::read_to_string(Path::new(FIXTURES).join(format!("{name}.expected")))
                    .unwrap();
            let got = dump(&mut c);
            for (w, g) in want.lines().zip(got.lines()) {
                assert_eq!(g, w, "{name} at io-threads {io}");
            }
            assert_eq!(got.lines().count(), want.lines().count(), "{name}");
            assert_eq!(info_field(&mut c, "loading").as_deref(), Some("0"));
            // The expired key was dropped and counted.
            assert_eq!(
                info_field(&mut c, "rdb_last_load_keys_expired").as_deref(),
                Some("1")
            );
            let loaded = want.lines().count().to_string();
            assert_eq!(
                info_field(&mut c, "rdb_last_load_keys_loaded"),
                Some(loaded.clone())
            );
            let log = s.log();
            assert!(
                log.contains(&format!(
                    "Done loading RDB, keys loaded: {loaded}, keys expired: 1"
                )),
                "{log}"
            );
            assert!(log.contains("DB loaded from disk: "), "{log}");
            let ready = log.find("Ready to accept connections tcp").unwrap();
            assert!(log.find("DB loaded from disk").unwrap() < ready, "{log}");
            let producer = if name.starts_with("valkey") {
                "Loading RDB produced by Valkey version 9.1.2"
            } else {
                "Loading RDB produced by Redis version 7.0"
            };
            assert!(log.contains(producer), "{log}");
        }
    }
}

#[test]
fn valkey_suite_fixtures() {
    for io in [1, 4] {
        // integration/rdb.tcl: "RDB encoding loading test".
        let mut s = Srv::spawn(&dir_with(Some(&fixture("encodings.rdb"))), io, &[]);
        s.ready();
        let mut c = s.conn();
        assert_eq!(int(cmd(&mut c, &["DBSIZE"])), 13);
        let get = |c: &mut redis::Connection, k: &str| text(cmd(c, &["GET", k]));
        assert_eq!(get(&mut c, "compressible"), "a".repeat(137));
        assert_eq!(get(&mut c, "number"), "10");
        assert_eq!(get(&mut c, "string"), "Hello World");
        let list: Vec<String> = bulks(cmd(&mut c, &["LRANGE", "list", "0", "-1"]))
            .into_iter()
            .map(|b| String::from_utf8(b).unwrap())
            .collect();
        let unit = ["1", "2", "3", "a", "b", "c", "100000", "6000000000"];
        assert_eq!(list, unit.repeat(3));
        let zipped = bulks(cmd(&mut c, &["LRANGE", "list_zipped", "0", "-1"]));
        assert_eq!(zipped.len(), 8);
        for (k, n) in [
            ("set", 8),
            ("set_zipped_1", 4),
            ("set_zipped_2", 4),
            ("set_zipped_3", 6),
        ] {
            assert_eq!(int(cmd(&mut c, &["SCARD", k])), n, "{k}");
        }
        assert_eq!(
            int(cmd(&mut c, &["SISMEMBER", "set_zipped_3", "6000000000"])),
            1
        );
        assert_eq!(text(cmd(&mut c, &["HGET", "hash", "eee"])), "5000000000");
        assert_eq!(int(cmd(&mut c, &["HLEN", "hash"])), 11);
        assert_eq!(int(cmd(&mut c, &["HLEN", "hash_zipped"])), 3);
        assert_eq!(text(cmd(&mut c, &["ZSCORE", "zset", "bbbb"])), "5000000000");
        assert_eq!(text(cmd(&mut c, &["ZSCORE", "zset", "cccc"])), "123456789");
        assert_eq!(int(cmd(&mut c, &["ZCARD", "zset_zipped"])), 3);
        drop(s);

        // "test old version rdb file".
        let mut s = Srv::spawn(&dir_with(Some(&fixture("list-quicklist.rdb"))), io, &[]);
        s.ready();
        let mut c = s.conn();
        assert_eq!(text(cmd(&mut c, &["GET", "x"])), "7");
        assert_eq!(
            text(cmd(&mut c, &["OBJECT", "ENCODING", "list"])),
            "listpack"
        );
        assert_eq!(text(cmd(&mut c, &["LPOP", "list"])), "7");
        drop(s);

        // convert-zipmap-hash-on-load, convert-ziplist-{hash,zset}-on-load.
        for (file, key, args, enc) in [
            ("hash-zipmap.rdb", "hash", &[][..], "listpack"),
            (
                "hash-zipmap.rdb",
                "hash",
                &["--hash-max-ziplist-entries", "1"][..],
                "hashtable",
            ),
            (
                "hash-zipmap.rdb",
                "hash",
                &["--hash-max-ziplist-value", "1"][..],
                "hashtable",
            ),
            ("hash-ziplist.rdb", "hash", &[][..], "listpack"),
            (
                "hash-ziplist.rdb",
                "hash",
                &["--hash-max-ziplist-entries", "1"][..],
                "hashtable",
            ),
            ("zset-ziplist.rdb", "zset", &[][..], "listpack"),
            (
                "zset-ziplist.rdb",
                "zset",
                &["--zset-max-ziplist-entries", "1"][..],
                "skiplist",
            ),
        ] {
            let mut s = Srv::spawn(&dir_with(Some(&fixture(file))), io, args);
            s.ready();
            let mut c = s.conn();
            assert_eq!(
                text(cmd(&mut c, &["OBJECT", "ENCODING", key])),
                enc,
                "{file} {args:?}"
            );
            if key == "hash" {
                let v = bulks(cmd(&mut c, &["HMGET", "hash", "f1", "f2"]));
                assert_eq!(v, [b"v1".to_vec(), b"v2".to_vec()]);
            } else {
                let v = bulks(cmd(&mut c, &["ZRANGE", "zset", "0", "-1", "WITHSCORES"]));
                assert_eq!(v, [&b"one"[..], b"1", b"two", b"2"]);
            }
        }

        // The Lua script in an AUX field is ignored.
        let mut s = Srv::spawn(&dir_with(Some(&fixture("scriptbackup.rdb"))), io, &[]);
        s.ready();
        assert_eq!(int(cmd(&mut s.conn(), &["DBSIZE"])), 0);
        drop(s);

        // corrupt-dump.tcl: "load corrupted rdb with empty keys".
        for sanitize in ["no", "yes"] {
            let dir = dir_with(Some(&fixture("corrupt_empty_keys.rdb")));
            let mut s = Srv::spawn(&dir, io, &["--sanitize-dump-payload", sanitize]);
            s.ready();
            assert_eq!(int(cmd(&mut s.conn(), &["DBSIZE"])), 0);
            let log = s.log();
            for k in [
                "set",
                "list_quicklist",
                "list_quicklist_empty_ziplist",
                "list_ziplist",
                "hash",
                "hash_ziplist",
                "zset",
                "zset_ziplist",
                "zset_listpack",
            ] {
                assert!(
                    log.contains(&format!("skipping empty key: {k}\n")),
                    "{k}: {log}"
                );
            }
            assert!(log.contains("empty keys skipped: 9"), "{log}");
        }

        // "load corrupted rdb with no CRC - #3505".
        let dir = dir_with(Some(&fixture("corrupt_ziplist.rdb")));
        let mut s = Srv::spawn(&dir, io, &["--sanitize-dump-payload", "no"]);
        assert_eq!(s.exit().code(), Some(1));
        let log = s.log();
        let count = |what: &str| log.lines().filter(|l| l.contains(what)).count();
        assert_eq!(
            count("Terminating server after rdb file reading failure."),
            1,
            "{log}"
        );
        assert!(count("integrity check failed") > 1, "{log}");
        assert!(log.contains("Reading key 'key:000000000091'"), "{log}");
    }
}

/// A REDIS0011 file of `n` string keys `key:i` = 100-byte values.
fn strings_file(n: usize) -> Vec<u8> {
    let mut f = b"REDIS0011".to_vec();
    f.push(0xfa);
    write_string(&mut f, b"used-mem", false);
    write_string(&mut f, b"123456", false);
    f.extend_from_slice(&[0xfe, 0]);
    for i in 0..n {
        f.push(0);
        write_string(&mut f, format!("key:{i}").as_bytes(), false);
        write_string(&mut f, format!("{i:0>100}").as_bytes(), false);
    }
    f.push(0xff);
    let crc = crc64(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    f
}

#[test]
fn slow_load_is_watched_from_a_client() {
    for io in [1, 4] {
        let n = 3000;
        let file = strings_file(n);
        let dir = dir_with(Some(&file));
        let s = Srv::spawn(
            &dir,
            io,
            &[
                "--key-load-delay",
                "1000",
                "--loading-process-events-interval-bytes",
                "1024",
            ],
        );
        // Connect while it loads (3000 keys at 1 ms each).
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut c = loop {
            if let Ok(c) = redis::Client::open(format!("redis://127.0.0.1:{}/", s.port))
                .unwrap()
                .get_connection()
            {
                break c;
            }
            assert!(Instant::now() < deadline, "no connection: {}", s.log());
            std::thread::sleep(Duration::from_millis(10));
        };
        // The loader thread reads the AUX fields a moment after the
        // listener opens: poll until `used-mem` has been seen.
        let deadline = Instant::now() + Duration::from_secs(20);
        let info = loop {
            let info = text(cmd(&mut c, &["INFO", "persistence"]));
            assert!(info.contains("loading:1\r\n"), "{info}");
            if info.contains("loading_rdb_used_mem:123456\r\n") {
                break info;
            }
            assert!(Instant::now() < deadline, "{info}");
            std::thread::sleep(Duration::from_millis(5));
        };
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}:")))
                .unwrap_or_else(|| panic!("{name} missing: {info}"))
                .to_string()
        };
        assert_eq!(field("loading_total_bytes"), file.len().to_string());
        assert_eq!(field("loading_rdb_used_mem"), "123456");
        // Bytes parsed: the loader thread may have read the whole file
        // while the main thread still inserts (the channel between them).
        let loaded: u64 = field("loading_loaded_bytes").parse().unwrap();
        assert!(loaded <= file.len() as u64, "{info}");
        let perc: f64 = field("loading_loaded_perc").parse().unwrap();
        assert!((0.0..=100.0).contains(&perc), "{info}");
        assert!(field("loading_eta_seconds").parse::<u64>().is_ok());
        assert!(field("loading_start_time").parse::<u64>().unwrap() > 1_700_000_000);
        // Commands without the `loading` flag are refused; the data is not
        // visible half loaded.
        for args in [
            &["GET", "key:1"][..],
            &["DBSIZE"],
            &["PING"],
            &["SET", "x", "y"],
        ] {
            let mut k = redis::cmd(args[0]);
            for a in &args[1..] {
                k.arg(*a);
            }
            let e = k.query::<V>(&mut c).unwrap_err();
            assert_eq!(e.code(), Some("LOADING"), "{args:?}: {e}");
            assert_eq!(e.detail(), Some("Valkey is loading the dataset in memory"));
        }
        assert!(!s.log().contains("Ready to accept connections"));
        // Then it finishes: all keys, loading:0, and the ready line.
        let deadline = Instant::now() + Duration::from_secs(60);
        while info_field(&mut c, "loading").as_deref() != Some("0") {
            assert!(Instant::now() < deadline, "still loading: {}", s.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(int(cmd(&mut c, &["DBSIZE"])), n as i64);
        assert_eq!(
            text(cmd(&mut c, &["GET", "key:2999"])),
            format!("{:0>100}", 2999)
        );
        assert_eq!(
            info_field(&mut c, "rdb_last_load_keys_loaded"),
            Some(n.to_string())
        );
        assert!(info_field(&mut c, "loading_total_bytes").is_none());
        assert!(s.log().contains("Ready to accept connections tcp"));
    }
}

fn assert_refused(file: &[u8], args: &[&str], want: &[&str]) {
    for io in [1, 4] {
        let dir = dir_with(Some(file));
        let mut s = Srv::spawn(&dir, io, args);
        let st = s.exit();
        assert_eq!(st.code(), Some(1), "{}", s.log());
        let log = s.log();
        for w in want {
            assert!(log.contains(w), "{w:?} not in:\n{log}");
        }
        assert!(!log.contains("Ready to accept"), "{log}");
    }
}

#[test]
fn truncated_and_corrupt_files_stop_startup() {
    let good = fixture("valkey-9.1-types.rdb");
    // Truncated at a few places: the log says so and names the offset.
    for cut in [9, 100, good.len() / 2, good.len() - 9, good.len() - 1] {
        assert_refused(
            &good[..cut],
            &[],
            &[
                "Short read or OOM loading DB. Unrecoverable error, aborting now.",
                "Unexpected EOF reading RDB file",
                "Checking RDB file dump.rdb",
                "Terminating server after rdb file reading failure.",
            ],
        );
    }
    // Bit flips in the data: refused (the checksum at least catches them).
    for at in [200, good.len() / 3, good.len() - 20] {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        assert_refused(&bad, &[], &["--- RDB ERROR DETECTED ---", "[offset "]);
    }
    // A checksum mismatch (integration/rdb.tcl's "foobar00").
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 8..].copy_from_slice(b"foobar00");
    assert_refused(
        &bad,
        &[],
        &["Wrong RDB checksum expected: (", "RDB CRC error"],
    );
    // ... loads with rdbchecksum no.
    for io in [1, 4] {
        let mut s = Srv::spawn(&dir_with(Some(&bad)), io, &["--rdbchecksum", "no"]);
        s.ready();
        assert_eq!(int(cmd(&mut s.conn(), &["DBSIZE"])), 25);
    }
    // Too many dbs for `databases`; a version Valkey 9.1 refuses.
    assert_refused(
        &good,
        &["--databases", "4"],
        &["configured to handle more than 4 databases"],
    );
    let with_version = |v: &[u8; 9]| {
        let mut f = fixture("redis-7.0-types.rdb");
        f[..9].copy_from_slice(v);
        let body = f.len() - 8;
        let crc = crc64(&f[..body]);
        f[body..].copy_from_slice(&crc.to_le_bytes());
        f
    };
    // Redis 7.4's version 12 loads (the issue asks for versions 1 to 12).
    let mut s = Srv::spawn(&dir_with(Some(&with_version(b"REDIS0012"))), 1, &[]);
    s.ready();
    assert_eq!(int(cmd(&mut s.conn(), &["DBSIZE"])), 25);
    let v13 = with_version(b"REDIS0013");
    assert_refused(
        &v13,
        &[],
        &[
            "Can't handle RDB format version 13",
            "Fatal error loading the DB, check server logs. Exiting.",
        ],
    );
    // ... unless relaxed.
    let mut s = Srv::spawn(
        &dir_with(Some(&v13)),
        1,
        &["--rdb-version-check", "relaxed"],
    );
    s.ready();
    assert_eq!(int(cmd(&mut s.conn(), &["DBSIZE"])), 25);
    // A duplicated key.
    let mut dup = b"REDIS0011".to_vec();
    for _ in 0..2 {
        dup.push(0);
        write_string(&mut dup, b"same", false);
        write_string(&mut dup, b"v", false);
    }
    dup.push(0xff);
    let crc = crc64(&dup);
    dup.extend_from_slice(&crc.to_le_bytes());
    assert_refused(&dup, &[], &["RDB has duplicated key 'same' in DB 0"]);
    // Not an RDB file at all; an empty file.
    assert_refused(
        b"hello world, not an rdb",
        &[],
        &["Wrong signature trying to load DB from file"],
    );
    assert_refused(b"", &[], &["Unexpected EOF reading RDB file"]);
    // A module's AUX data.
    let mut m = b"REDIS0011".to_vec();
    m.push(247);
    write_len(&mut m, 1 << 10);
    m.extend_from_slice(&[2, 0, 0]);
    assert_refused(&m, &[], &["AUX module data I can't load"]);
}

/// tests/data/functions/valkey-9.1-functions.rdb (made by its
/// make_fixtures.py): Valkey 9.1's SAVE with two function libraries.
#[test]
fn a_valkey_file_with_functions_loads_them() {
    let f = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/functions/valkey-9.1-functions.rdb"
    ))
    .unwrap();
    // The libraries load with the keys, and their functions run.
    for io in [1, 4] {
        let mut s = Srv::spawn(&dir_with(Some(&f)), io, &[]);
        s.ready();
        let mut c = s.conn();
        // k1 and l in db 0, k2 in db 2.
        assert_eq!(int(cmd(&mut c, &["DBSIZE"])), 2);
        let V::Array(libs) = cmd(&mut c, &["FUNCTION", "LIST"]) else {
            panic!("FUNCTION LIST is no array");
        };
        assert_eq!(libs.len(), 2, "{libs:?}");
        assert_eq!(int(cmd(&mut c, &["FCALL", "f1", "0"])), 1);
    }
    // Cut inside the first library: the usual truncation report.
    let tail = b"\xfa\x08aof-base\xc0\x00";
    let first = f.windows(tail.len()).position(|w| w == tail).unwrap() + tail.len();
    assert_eq!(f[first], 245, "FUNCTION2 after the AUX fields");
    assert_refused(
        &f[..first + 20],
        &[],
        &[
            "Short read or OOM loading DB. Unrecoverable error, aborting now.",
            "Unexpected EOF reading RDB file",
            "[info] 0 functions",
        ],
    );
}

#[test]
fn no_file_starts_empty() {
    for io in [1, 4] {
        let mut s = Srv::spawn(&dir_with(None), io, &[]);
        s.ready();
        let mut c = s.conn();
        assert_eq!(int(cmd(&mut c, &["DBSIZE"])), 0);
        assert_eq!(
            info_field(&mut c, "rdb_last_load_keys_loaded").as_deref(),
            Some("0")
        );
        assert!(!s.log().contains("DB loaded from disk"));
    }
}
