//! Loading the append-only file at startup (`appendonly yes`), through the
//! real binary at io-threads 1 and 4: Valkey 9.1's own appendonlydirs
//! (tests/data/aof, made by scripts/aof-fixtures.sh) load with Valkey's
//! DEBUG DIGEST; hand-built manifests with RESP and RDB bases and several
//! INCR files; truncated last files with `aof-load-truncated` yes and no,
//! a MULTI left open, a truncated file that is not the last, a corrupt
//! middle, an unknown command, a missing file, a bad manifest; the
//! Redis ≤ 6 single file upgraded, with and without an RDB preamble; and
//! a slow load watched from a client.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::dir_server::DirServer as Srv;
use ferrokey::persist::codec::write_string;
use ferrokey::persist::crc64;
use redis::Value as V;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/aof");

/// A fresh, empty directory.
fn fresh_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "ferrokey-aof-load-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A directory holding `appendonlydir` with these files and a manifest of
/// these lines.
fn aof_dir(files: &[(&str, &[u8])], manifest: &str) -> PathBuf {
    let d = fresh_dir();
    let a = d.join("appendonlydir");
    std::fs::create_dir_all(&a).unwrap();
    for (name, bytes) in files {
        std::fs::write(a.join(name), bytes).unwrap();
    }
    std::fs::write(a.join("appendonly.aof.manifest"), manifest).unwrap();
    d
}

/// Commands in the AOF's RESP form.
fn resp(cmds: &[&[&str]]) -> Vec<u8> {
    let mut v = Vec::new();
    for args in cmds {
        v.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in *args {
            v.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    v
}

/// A REDIS0011 file of string keys (key, value, expire ms).
fn rdb(keys: &[(&str, &str, Option<i64>)]) -> Vec<u8> {
    let mut f = b"REDIS0011".to_vec();
    for (k, v, exp) in keys {
        if let Some(t) = exp {
            f.push(0xfc);
            f.extend_from_slice(&t.to_le_bytes());
        }
        f.push(0);
        write_string(&mut f, k.as_bytes(), false);
        write_string(&mut f, v.as_bytes(), false);
    }
    f.push(0xff);
    let crc = crc64(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    f
}

/// A server with `appendonly yes` on `dir`, logging to `dir`/log.
fn aof_server(dir: &Path, io_threads: usize, args: &[&str]) -> Srv {
    let mut all = vec![
        "--save",
        "",
        "--appendonly",
        "yes",
        "--enable-debug-command",
        "yes",
    ];
    all.extend_from_slice(args);
    Srv::spawn(dir, io_threads, &all)
}

/// `name` in the server's AOF directory.
fn aof_file(s: &Srv, name: &str) -> PathBuf {
    s.dir.join("appendonlydir").join(name)
}

fn cmd(c: &mut redis::Connection, args: &[&str]) -> V {
    let mut k = redis::cmd(args[0]);
    for a in &args[1..] {
        k.arg(*a);
    }
    k.query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn text(v: V) -> String {
    match v {
        V::SimpleString(s) => s,
        V::BulkString(b) => String::from_utf8(b).unwrap(),
        V::Okay => "OK".into(),
        V::Nil => "(nil)".into(),
        V::Int(n) => n.to_string(),
        other => panic!("{other:?}"),
    }
}

fn q(c: &mut redis::Connection, args: &[&str]) -> String {
    text(cmd(c, args))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn valkey_appendonlydirs_load_with_its_digest() {
    for case in ["preamble", "resp-base", "timestamps"] {
        for io in [1, 4] {
            let dir = fresh_dir();
            copy_dir(&Path::new(FIXTURES).join(case), &dir);
            let expected = std::fs::read_to_string(dir.join("expected.txt")).unwrap();
            // A dump.rdb beside it is not read: the AOF wins.
            std::fs::write(dir.join("dump.rdb"), rdb(&[("from-rdb", "x", None)])).unwrap();
            let mut s = aof_server(&dir, io, &[]);
            s.ready();
            let mut c = s.conn();
            let mut got = format!("digest {}\n", q(&mut c, &["DEBUG", "DIGEST"]));
            for db in 0..4 {
                cmd(&mut c, &["SELECT", &db.to_string()]);
                got += &format!("dbsize{db} {}\n", q(&mut c, &["DBSIZE"]));
            }
            assert_eq!(got, expected, "{case} io {io}: {}", s.log());
            let log = s.log();
            assert!(log.contains("DB loaded from append only file: "), "{log}");
            assert!(
                log.contains("DB loaded from incr file appendonly.aof."),
                "{log}"
            );
            assert!(
                log.contains("DB loaded from base file appendonly.aof."),
                "{log}"
            );
            if case != "resp-base" {
                assert!(
                    log.contains("Reading RDB base file on AOF loading..."),
                    "{log}"
                );
            }
            cmd(&mut c, &["SELECT", "0"]);
            assert_eq!(q(&mut c, &["EXISTS", "from-rdb"]), "0");
        }
    }
}

#[test]
fn a_manifest_base_and_incr_files_build_the_dataset() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let later = (now + 3_600_000).to_string();
    for (base_name, base) in [
        (
            "appendonly.aof.1.base.aof",
            resp(&[
                &["SELECT", "0"],
                &["SET", "a", "base"],
                &["SET", "gone", "x"],
                &["SET", "old", "1", "PXAT", "1000"],
            ]),
        ),
        (
            "appendonly.aof.1.base.rdb",
            rdb(&[
                ("a", "base", None),
                ("gone", "x", None),
                // Already expired: kept while the commands replay.
                ("old", "1", Some(1000)),
            ]),
        ),
    ] {
        let incr1 = resp(&[
            &["SELECT", "0"],
            &["APPEND", "a", "+1"],
            &["MULTI"],
            &["INCR", "n"],
            &["SELECT", "3"],
            &["SET", "in3", "v"],
            &["EXEC"],
            &["SELECT", "0"],
            &["RPUSH", "list", "foo"],
            // In the past: the list keeps the expire while loading and
            // the push goes into the same list (Valkey's loading rules).
            &["PEXPIREAT", "list", "1000"],
            &["RPUSH", "list", "bar"],
            &["APPEND", "old", "2"],
            &["SET", "ttl", "v", "PXAT", &later],
            &["DEL", "gone"],
            // A blocking pop on an empty list answers at once.
            &["BLPOP", "empty", "0"],
            &["SADD", "s", "a", "b", "c"],
            &["SPOP", "s", "2"],
        ]);
        let incr3 = resp(&[&["SELECT", "0"], &["APPEND", "a", "+3"]]);
        for io in [1, 4] {
            let dir = aof_dir(
                &[
                    (base_name, &base),
                    ("appendonly.aof.1.incr.aof", &incr1),
                    ("appendonly.aof.2.incr.aof", b""),
                    ("appendonly.aof.3.incr.aof", &incr3),
                ],
                &format!(
                    "file {base_name} seq 1 type b\n\
                     file appendonly.aof.1.incr.aof seq 1 type i\n\
                     file appendonly.aof.2.incr.aof seq 2 type i\n\
                     file appendonly.aof.3.incr.aof seq 3 type i\n"
                ),
            );
            let mut s = aof_server(&dir, io, &[]);
            s.ready();
            let mut c = s.conn();
            assert_eq!(q(&mut c, &["GET", "a"]), "base+1+3", "{}", s.log());
            assert_eq!(q(&mut c, &["GET", "n"]), "1");
            assert_eq!(q(&mut c, &["EXISTS", "gone"]), "0");
            assert_eq!(q(&mut c, &["LLEN", "list"]), "0");
            assert_eq!(q(&mut c, &["EXISTS", "old"]), "0");
            assert_eq!(q(&mut c, &["PEXPIRETIME", "ttl"]), later);
            assert_eq!(q(&mut c, &["SCARD", "s"]), "1");
            cmd(&mut c, &["SELECT", "3"]);
            assert_eq!(q(&mut c, &["GET", "in3"]), "v");
            let log = s.log();
            assert!(
                log.contains(&format!("DB loaded from base file {base_name}: ")),
                "{log}"
            );
            assert!(log.contains("DB loaded from incr file appendonly.aof.3.incr.aof"));
            // An empty INCR file is loaded without a line of its own.
            assert!(!log.contains("appendonly.aof.2.incr.aof"), "{log}");
            // The replayed commands are not counted (Valkey runs them
            // directly); those EXEC ran are.
            let stats = q(&mut c, &["INFO", "commandstats"]);
            assert!(!stats.contains("cmdstat_append:"), "{stats}");
            assert!(stats.contains("cmdstat_incr:calls=1,"), "{stats}");
        }
    }
}

#[test]
fn a_truncated_last_file_is_cut_or_refused() {
    let whole = resp(&[&["INCR", "foo"], &["INCR", "foo"]]);
    let mut cut = whole.clone();
    cut.extend_from_slice(&resp(&[&["INCR", "foo"]])[..10]);
    let mut open_multi = whole.clone();
    open_multi.extend(resp(&[&["MULTI"], &["SET", "bar", "world"]]));
    let manifest = "file appendonly.aof.1.incr.aof seq 1 type i\n";
    for io in [1, 4] {
        for (file, revert) in [(&cut, false), (&open_multi, true)] {
            // Yes (the default): cut at the last whole command, loaded.
            let dir = aof_dir(&[("appendonly.aof.1.incr.aof", file)], manifest);
            let mut s = aof_server(&dir, io, &[]);
            s.ready();
            let mut c = s.conn();
            assert_eq!(q(&mut c, &["GET", "foo"]), "2");
            assert_eq!(q(&mut c, &["EXISTS", "bar"]), "0");
            let log = s.log();
            let name = "appendonly.aof.1.incr.aof";
            assert!(
                log.contains(&format!(
                    "!!! Warning: short read while loading the AOF file {name}!!!"
                )),
                "{log}"
            );
            assert!(log.contains(&format!(
                "!!! Truncating the AOF {name} at offset {} !!!",
                whole.len()
            )));
            assert!(log.contains(&format!(
                "AOF {name} loaded anyway because aof-load-truncated is enabled"
            )));
            assert_eq!(
                log.contains(&format!(
                    "Revert incomplete MULTI/EXEC transaction in AOF file {name}"
                )),
                revert
            );
            assert_eq!(std::fs::read(aof_file(&s, name)).unwrap(), whole);
            drop(c);
            drop(s);
            // No: startup stops, the file left alone.
            let dir = aof_dir(&[("appendonly.aof.1.incr.aof", file)], manifest);
            let mut s = aof_server(&dir, io, &["--aof-load-truncated", "no"]);
            assert_eq!(s.exit_unserved().code(), Some(1));
            let log = s.log();
            assert!(
                log.contains(
                    "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof"
                ),
                "{log}"
            );
            assert_eq!(std::fs::read(aof_file(&s, name)).unwrap(), **file);
        }
    }
}

#[test]
fn a_truncated_file_that_is_not_the_last_stops_startup() {
    let mut cut = resp(&[&["SET", "k", "v"]]);
    cut.extend_from_slice(b"*2\r\n$3\r\nGET");
    let dir = aof_dir(
        &[
            ("appendonly.aof.1.base.aof", &cut),
            ("appendonly.aof.1.incr.aof", &resp(&[&["SET", "x", "y"]])),
        ],
        "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
    );
    let mut s = aof_server(&dir, 1, &[]);
    assert_eq!(s.exit_unserved().code(), Some(1));
    let log = s.log();
    assert!(
        log.contains("Fatal error: the truncated file is not the last file"),
        "{log}"
    );
    assert_eq!(
        std::fs::read(aof_file(&s, "appendonly.aof.1.base.aof")).unwrap(),
        cut
    );
}

#[test]
fn bad_files_stop_startup_naming_the_file() {
    let mut corrupt = resp(&[&["SET", "foo", "hello"]]);
    let at = corrupt.len();
    corrupt.extend_from_slice(b"!!!");
    corrupt.extend(resp(&[&["SET", "foo", "hello"]]));
    let unknown = resp(&[&["SET", "foo", "hello"], &["BLA", "foo", "hello"]]);
    let incr = "file appendonly.aof.1.incr.aof seq 1 type i\n";
    // (files, manifest, log lines expected)
    type Case<'a> = (Vec<(&'a str, Vec<u8>)>, &'a str, Vec<String>);
    let cases: Vec<Case> = vec![
        (
            vec![("appendonly.aof.1.incr.aof", corrupt.clone())],
            incr,
            vec![
                "Bad file format reading the append only file appendonly.aof.1.incr.aof: make a backup of your AOF file, then use ./valkey-check-aof --fix <filename.manifest>".into(),
                format!("The bad format in appendonly.aof.1.incr.aof is at offset {at}"),
            ],
        ),
        (
            vec![("appendonly.aof.1.incr.aof", unknown)],
            incr,
            vec!["Unknown command 'BLA' reading the append only file appendonly.aof.1.incr.aof".into()],
        ),
        (
            vec![("appendonly.aof.1.base.aof", resp(&[&["SET", "k", "v"]]))],
            "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
            vec!["Unable to obtain the AOF file appendonly.aof.1.incr.aof length. stat: No such file or directory".into()],
        ),
        (
            vec![("appendonly.aof.1.incr.aof", corrupt.clone())],
            "file appendonly.aof.1.incr.aof seq 1 type i\n\nfile x seq 2 type i\n",
            vec!["Invalid AOF manifest file format".into()],
        ),
        (
            vec![("appendonly.aof.1.base.rdb", b"REDIS0011\xfe".to_vec())],
            "file appendonly.aof.1.base.rdb seq 1 type b\n",
            vec!["Error reading the RDB base file appendonly.aof.1.base.rdb, AOF loading aborted".into()],
        ),
    ];
    for io in [1, 4] {
        for (files, manifest, lines) in &cases {
            let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, &b[..])).collect();
            let dir = aof_dir(&files, manifest);
            let mut s = aof_server(&dir, io, &[]);
            assert_eq!(s.exit_unserved().code(), Some(1));
            let log = s.log();
            for l in lines {
                assert!(log.contains(l.as_str()), "{l}: {log}");
            }
        }
    }
}

#[test]
fn an_old_single_file_is_loaded_and_upgraded() {
    let tail = resp(&[&["SET", "k3", "v3"]]);
    let mut preamble = rdb(&[("k1", "v1", None), ("k2", "v2", None)]);
    preamble.extend_from_slice(&tail);
    let plain = resp(&[
        &["SET", "k1", "v1"],
        &["SET", "k2", "v2"],
        &["SET", "k3", "v3"],
    ]);
    for io in [1, 4] {
        for (file, with_preamble) in [(&plain, false), (&preamble, true)] {
            let dir = fresh_dir();
            std::fs::write(dir.join("appendonly.aof"), file).unwrap();
            let mut s = aof_server(&dir, io, &[]);
            s.ready();
            let mut c = s.conn();
            for k in ["k1", "k2", "k3"] {
                assert_eq!(q(&mut c, &["GET", k]), k.replace('k', "v"));
            }
            assert!(!dir.join("appendonly.aof").exists());
            assert_eq!(
                std::fs::read(aof_file(&s, "appendonly.aof")).unwrap(),
                **file
            );
            let manifest =
                std::fs::read_to_string(aof_file(&s, "appendonly.aof.manifest")).unwrap();
            assert!(
                manifest.starts_with("file appendonly.aof seq 1 type b\n"),
                "{manifest}"
            );
            let log = s.log();
            assert!(log.contains("Successfully migrated an old-style AOF file (appendonly.aof) into the AOF directory (appendonlydir)."), "{log}");
            assert_eq!(
                log.contains("Reading RDB preamble from AOF file...")
                    && log.contains("Reading the remaining AOF tail..."),
                with_preamble,
                "{log}"
            );
        }
    }
}

#[test]
fn a_slow_load_is_watched_from_a_client() {
    for io in [1, 4] {
        let n = 2000;
        let cmds: Vec<Vec<String>> = (0..n)
            .map(|i| vec!["SET".into(), format!("key:{i}"), format!("{i}")])
            .collect();
        let refs: Vec<Vec<&str>> = cmds
            .iter()
            .map(|c| c.iter().map(String::as_str).collect())
            .collect();
        let refs: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
        let file = resp(&refs);
        let dir = aof_dir(
            &[("appendonly.aof.1.incr.aof", &file)],
            "file appendonly.aof.1.incr.aof seq 1 type i\n",
        );
        let s = aof_server(&dir, io, &["--key-load-delay", "500"]);
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
        let info = q(&mut c, &["INFO", "persistence"]);
        assert!(info.contains("\r\nloading:1\r\n"), "{info}");
        assert!(
            info.contains(&format!("loading_total_bytes:{}\r\n", file.len())),
            "{info}"
        );
        let e = redis::cmd("GET")
            .arg("key:1")
            .query::<V>(&mut c)
            .unwrap_err();
        assert_eq!(e.code(), Some("LOADING"), "{e}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !q(&mut c, &["INFO", "persistence"]).contains("\r\nloading:0\r\n") {
            assert!(Instant::now() < deadline, "still loading: {}", s.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(q(&mut c, &["DBSIZE"]), n.to_string());
        assert_eq!(q(&mut c, &["GET", "key:1999"]), "1999");
    }
}

#[test]
fn debug_loadaof_replaces_the_dataset_with_the_aof() {
    for io in [1, 4] {
        let dir = aof_dir(
            &[("appendonly.aof.1.incr.aof", &resp(&[&["SET", "a", "1"]]))],
            "file appendonly.aof.1.incr.aof seq 1 type i\n",
        );
        let mut s = aof_server(&dir, io, &[]);
        s.ready();
        let mut c = s.conn();
        assert_eq!(q(&mut c, &["GET", "a"]), "1");
        // Written to the file behind the server's back: LOADAOF reads it.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(aof_file(&s, "appendonly.aof.1.incr.aof"))
            .unwrap();
        f.write_all(&resp(&[&["SELECT", "2"], &["SET", "b", "2"]]))
            .unwrap();
        drop(f);
        assert_eq!(q(&mut c, &["DEBUG", "LOADAOF"]), "OK");
        assert_eq!(q(&mut c, &["GET", "a"]), "1");
        cmd(&mut c, &["SELECT", "2"]);
        assert_eq!(q(&mut c, &["GET", "b"]), "2");
        assert!(s.log().contains("Append Only File loaded by DEBUG LOADAOF"));
        // A write just before it, in the same pipeline, is in the file
        // first, so the load keeps it.
        let (ok, loaded, got): (String, String, String) = redis::pipe()
            .cmd("SET")
            .arg("c")
            .arg("3")
            .cmd("DEBUG")
            .arg("LOADAOF")
            .cmd("GET")
            .arg("c")
            .query(&mut c)
            .unwrap_or_else(|e| panic!("{e}: {}", s.log()));
        assert_eq!(
            (ok.as_str(), loaded.as_str(), got.as_str()),
            ("OK", "OK", "3")
        );
    }
}
