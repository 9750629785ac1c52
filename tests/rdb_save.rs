//! SAVE, BGSAVE and the `save` schedule write RDB files: each file is read
//! back here with the crate's own codec (header, aux fields, records, CRC)
//! and compared with the data the server held when the save started, at
//! io-threads 1 and 4. Also SHUTDOWN SAVE, SIGTERM with save points,
//! `stop-writes-on-bgsave-error` with an unwritable dir, BGSAVE CANCEL and
//! the temp files left behind (none).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::Server;
use ferrokey::config::Config;
use ferrokey::keyspace::Value;
use ferrokey::persist::codec::Reader;
use ferrokey::persist::object::{read_type, read_value};
use ferrokey::persist::rdb_write::{OP_AUX, OP_EOF, OP_EXPIRETIME_MS, OP_RESIZEDB, OP_SELECTDB};
use redis::Connection;

/// A key's contents in a form both sides can build: strings, elements in
/// order (lists, sorted sets as member/score pairs), sorted sets of members
/// and pairs (sets, hashes).
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    ZSet(Vec<(Vec<u8>, String)>),
    Stream(String),
}

/// (db, key) → (contents, has a TTL).
type Image = BTreeMap<(usize, Vec<u8>), (Shown, bool)>;

fn shown(v: &Value) -> Shown {
    match v {
        Value::Str(s) => Shown::Str(s.to_bytes().into_owned()),
        Value::List(l) => Shown::List(l.iter().map(|e| e.to_vec()).collect()),
        Value::Set(s) => {
            let mut m: Vec<Vec<u8>> = s.members().map(|m| m.to_bytes().into_owned()).collect();
            m.sort();
            Shown::Set(m)
        }
        Value::Hash(h) => {
            let mut p: Vec<(Vec<u8>, Vec<u8>)> =
                h.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
            p.sort();
            Shown::Hash(p)
        }
        Value::ZSet(z) => Shown::ZSet(z.iter().map(|(m, s)| (m.to_vec(), score(s))).collect()),
        Value::Stream(s) => Shown::Stream(format!("{:?} last {}", s.entries(), s.last_id)),
    }
}

fn score(s: f64) -> String {
    format!("{s}")
}

/// What an RDB file holds, checked on the way: the magic and version, the
/// aux fields Valkey writes, a RESIZEDB after each db's first SELECTDB, the
/// CRC-64 (or 0), nothing after EOF.
struct Parsed {
    aux: BTreeMap<String, String>,
    image: Image,
}

fn parse(path: &Path, checksum: bool) -> Parsed {
    let file = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&file[..9], b"REDIS0011", "magic and version");
    let body_end = file.len() - 8;
    let crc = u64::from_le_bytes(file[body_end..].try_into().unwrap());
    if checksum {
        assert_eq!(crc, ferrokey::persist::crc64(&file[..body_end]), "CRC-64");
    } else {
        assert_eq!(crc, 0, "rdbchecksum no writes 0");
    }
    let limits = ferrokey::commands::dump::load_limits(&Config::default());
    let mut r = Reader::new(&file[9..body_end]);
    let mut p = Parsed {
        aux: BTreeMap::new(),
        image: Image::new(),
    };
    let mut db = usize::MAX;
    let mut expire = 0u64;
    let mut seen_dbs = Vec::new();
    loop {
        match r.byte("opcode").unwrap() {
            OP_AUX => {
                let k = r.string().unwrap();
                let v = r.string().unwrap();
                p.aux.insert(
                    String::from_utf8_lossy(&k).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                );
            }
            OP_SELECTDB => {
                db = r.length("db").unwrap() as usize;
                if !seen_dbs.contains(&db) {
                    seen_dbs.push(db);
                    assert_eq!(r.byte("RESIZEDB").unwrap(), OP_RESIZEDB, "db {db}");
                    r.length("keys").unwrap();
                    r.length("expires").unwrap();
                }
            }
            OP_EXPIRETIME_MS => expire = r.u64_le().unwrap(),
            OP_EOF => break,
            t => {
                let byte = [t];
                let t = read_type(&mut Reader::new(&byte)).unwrap();
                let key = r.string().unwrap().into_owned();
                let v = read_value(&mut r, t, &limits).unwrap();
                let prev = p.image.insert((db, key.clone()), (shown(&v), expire != 0));
                assert!(prev.is_none(), "{key:?} twice");
                expire = 0;
            }
        }
    }
    assert!(r.is_empty(), "bytes after EOF");
    p
}

/// Every key of the server, read through commands.
fn image_of(c: &mut Connection) -> Image {
    let mut img = Image::new();
    for db in 0..16usize {
        redis::cmd("SELECT").arg(db).query::<()>(c).unwrap();
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(c).unwrap();
        for k in keys {
            let t: String = redis::cmd("TYPE").arg(&k).query(c).unwrap();
            let v = match t.as_str() {
                "string" => Shown::Str(redis::cmd("GET").arg(&k).query(c).unwrap()),
                "list" => Shown::List(
                    redis::cmd("LRANGE")
                        .arg(&k)
                        .arg(0)
                        .arg(-1)
                        .query(c)
                        .unwrap(),
                ),
                "set" => {
                    let mut m: Vec<Vec<u8>> = redis::cmd("SMEMBERS").arg(&k).query(c).unwrap();
                    m.sort();
                    Shown::Set(m)
                }
                "hash" => {
                    let mut p: Vec<(Vec<u8>, Vec<u8>)> =
                        redis::cmd("HGETALL").arg(&k).query(c).unwrap();
                    p.sort();
                    Shown::Hash(p)
                }
                "zset" => {
                    let p: Vec<(Vec<u8>, f64)> = redis::cmd("ZRANGE")
                        .arg(&k)
                        .arg(0)
                        .arg(-1)
                        .arg("WITHSCORES")
                        .query(c)
                        .unwrap();
                    Shown::ZSet(p.into_iter().map(|(m, s)| (m, score(s))).collect())
                }
                other => panic!("type {other}"),
            };
            let ttl: i64 = redis::cmd("PTTL").arg(&k).query(c).unwrap();
            img.insert((db, k), (v, ttl > 0));
        }
    }
    redis::cmd("SELECT").arg(0).query::<()>(c).unwrap();
    img
}

fn run(c: &mut Connection, args: &[&str]) -> redis::RedisResult<redis::Value> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
}

fn ok(c: &mut Connection, args: &[&str]) -> redis::Value {
    run(c, args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn err(c: &mut Connection, args: &[&str]) -> String {
    match run(c, args) {
        Err(e) => {
            let code = e.code().unwrap_or("");
            let detail = e.detail().unwrap_or("");
            if detail.is_empty() {
                code.to_string()
            } else {
                format!("{code} {detail}")
            }
        }
        Ok(v) => panic!("{args:?} succeeded: {v:?}"),
    }
}

fn status(c: &mut Connection, args: &[&str]) -> String {
    match ok(c, args) {
        redis::Value::SimpleString(s) => s,
        redis::Value::Okay => "OK".into(),
        v => panic!("{args:?}: {v:?}"),
    }
}

fn info_field(c: &mut Connection, name: &str) -> String {
    let section = if name.contains("fork") {
        "stats"
    } else {
        "persistence"
    };
    let info: String = redis::cmd("INFO").arg(section).query(c).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {name} in {info}"))
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_bgsave_done(c: &mut Connection) {
    wait_for("the background save to end", || {
        info_field(c, "rdb_bgsave_in_progress") == "0"
    });
}

/// A fresh directory for one server's files.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrokey-rdb-save-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn start(dir: &Path, io_threads: usize, extra: &[&str]) -> Server {
    let dir = dir.to_str().unwrap().to_string();
    let log = format!("{dir}/server.log");
    let io = io_threads.to_string();
    let mut args = vec![
        "--dir",
        &dir,
        "--logfile",
        &log,
        "--loglevel",
        "notice",
        "--io-threads",
        &io,
        "--events-per-io-thread",
        "0",
        "--enable-debug-command",
        "yes",
    ];
    args.extend_from_slice(extra);
    Server::start_with(&args)
}

fn log_has(dir: &Path, line: &str) -> bool {
    std::fs::read_to_string(dir.join("server.log")).is_ok_and(|l| l.contains(line))
}

fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("temp-"))
        .collect()
}

/// Every type and encoding, TTLs, several dbs.
fn fill(c: &mut Connection) {
    ok(c, &["SET", "str", "hello"]);
    ok(c, &["SET", "int", "12345"]);
    ok(c, &["SET", "long", &"abc".repeat(200)]);
    ok(c, &["SET", "huge", &"xy".repeat(20_000)]);
    ok(c, &["SET", "ttl", "v", "EX", "1000"]);
    ok(c, &["RPUSH", "list", "a", "b", "1", "2"]);
    for i in 0..300 {
        ok(
            c,
            &[
                "RPUSH",
                "biglist",
                &format!("element-{i}-{}", "z".repeat(40)),
            ],
        );
        ok(c, &["SADD", "bigset", &format!("m{i}")]);
        ok(c, &["HSET", "bighash", &format!("f{i}"), &format!("v{i}")]);
        ok(c, &["ZADD", "bigzset", &format!("{i}.5"), &format!("m{i}")]);
    }
    ok(c, &["SADD", "intset", "1", "2", "-3"]);
    ok(c, &["SADD", "set", "a", "b"]);
    ok(c, &["HSET", "hash", "f", "v", "g", "1"]);
    ok(c, &["ZADD", "zset", "1", "a", "2.5", "b", "-inf", "c"]);
    ok(c, &["PEXPIRE", "hash", "500000"]);
    ok(c, &["SELECT", "3"]);
    ok(c, &["SET", "db3", "three"]);
    ok(c, &["SELECT", "15"]);
    ok(c, &["HSET", "db15", "a", "1"]);
    ok(c, &["EXPIRE", "db15", "1000"]);
    ok(c, &["SELECT", "0"]);
}

fn bgsave_and_save(io_threads: usize) {
    let dir = temp_dir(&format!("basic-{io_threads}"));
    let s = start(&dir, io_threads, &["--save", ""]);
    let mut c = s.conn();
    fill(&mut c);
    let want = image_of(&mut c);
    assert!(want.len() > 15);
    let before: i64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    assert_eq!(status(&mut c, &["SAVE"]), "OK");
    assert!(log_has(&dir, "DB saved on disk"));
    let p = parse(&dir.join("dump.rdb"), true);
    assert_eq!(p.image, want, "SAVE");
    assert_eq!(p.aux["redis-ver"], "7.2.4");
    assert_eq!(p.aux["redis-bits"], "64");
    assert_eq!(p.aux["aof-base"], "0");
    let ctime: i64 = p.aux["ctime"].parse().unwrap();
    assert!(ctime >= before, "ctime {ctime} < {before}");
    assert!(p.aux["used-mem"].parse::<u64>().unwrap() > 0);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    assert_eq!(info_field(&mut c, "rdb_saves"), "1");
    // SAVE is not a background snapshot (not a fork in Valkey).
    assert_eq!(info_field(&mut c, "total_forks"), "0");

    // BGSAVE of a changed dataset, with rdbchecksum and compression off.
    ok(&mut c, &["DEL", "str"]);
    ok(&mut c, &["SET", "new", "value"]);
    ok(&mut c, &["CONFIG", "SET", "rdbcompression", "no"]);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "2");
    let want = image_of(&mut c);
    std::fs::remove_file(dir.join("dump.rdb")).unwrap();
    assert_eq!(status(&mut c, &["BGSAVE"]), "Background saving started");
    wait_bgsave_done(&mut c);
    wait_for("the success line", || {
        log_has(&dir, "Background saving terminated with success")
    });
    assert!(log_has(&dir, "Background saving started"));
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    assert_eq!(info_field(&mut c, "rdb_saves"), "2");
    assert_ne!(info_field(&mut c, "rdb_last_bgsave_time_sec"), "-1");
    // Each background snapshot stands for Valkey's fork; RESETSTAT zeroes it.
    assert_eq!(info_field(&mut c, "total_forks"), "1");
    ok(&mut c, &["CONFIG", "RESETSTAT"]);
    assert_eq!(info_field(&mut c, "total_forks"), "0");
    assert_eq!(info_field(&mut c, "latest_fork_usec"), "0");
    let p = parse(&dir.join("dump.rdb"), true);
    assert_eq!(p.image, want, "BGSAVE");
    let last: i64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    assert!(last >= before);
    assert!(temp_files(&dir).is_empty(), "{:?}", temp_files(&dir));
    assert_eq!(err(&mut c, &["BGSAVE", "NOW"]), "ERR syntax error");
    assert_eq!(
        err(&mut c, &["BGSAVE", "CANCEL"]),
        "ERR Background saving is currently not in progress or scheduled"
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bgsave_and_save_write_what_the_server_holds() {
    bgsave_and_save(1);
    bgsave_and_save(4);
}

fn writes_during_a_bgsave(io_threads: usize) {
    let dir = temp_dir(&format!("during-{io_threads}"));
    let s = start(&dir, io_threads, &["--save", ""]);
    let mut c = s.conn();
    ok(&mut c, &["DEBUG", "POPULATE", "3000", "key", "20"]);
    ok(&mut c, &["RPUSH", "list", "a", "b", "c"]);
    ok(&mut c, &["SELECT", "2"]);
    ok(&mut c, &["DEBUG", "POPULATE", "500", "two", "10"]);
    ok(&mut c, &["SELECT", "0"]);
    let want = image_of(&mut c);
    // 3,500 keys at 500 µs each: nearly two seconds of writing.
    ok(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "500"]);
    assert_eq!(status(&mut c, &["BGSAVE"]), "Background saving started");
    assert_eq!(
        err(&mut c, &["BGSAVE"]),
        "ERR Background save already in progress"
    );
    assert_eq!(
        err(&mut c, &["SAVE"]),
        "ERR Background save already in progress"
    );
    for i in (0..3000).step_by(7) {
        ok(&mut c, &["SET", &format!("key:{i}"), "overwritten"]);
    }
    for i in (1..3000).step_by(11) {
        ok(&mut c, &["DEL", &format!("key:{i}")]);
    }
    ok(&mut c, &["RPUSH", "list", "d"]);
    ok(&mut c, &["SET", "brand-new", "x"]);
    ok(&mut c, &["SELECT", "2"]);
    ok(&mut c, &["FLUSHDB"]);
    ok(&mut c, &["SELECT", "0"]);
    ok(&mut c, &["SWAPDB", "0", "5"]);
    // All that ran while the save went on.
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "1");
    let total: u64 = info_field(&mut c, "current_save_keys_total")
        .parse()
        .unwrap();
    assert_eq!(total, 3501);
    let processed: u64 = info_field(&mut c, "current_save_keys_processed")
        .parse()
        .unwrap();
    assert!(processed < total, "{processed}");
    wait_bgsave_done(&mut c);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    // The changes made during the save are still unsaved.
    let dirty: u64 = info_field(&mut c, "rdb_changes_since_last_save")
        .parse()
        .unwrap();
    assert!(dirty > 400, "{dirty}");
    let p = parse(&dir.join("dump.rdb"), true);
    assert_eq!(p.image.len(), want.len());
    assert!(p.image == want, "the file holds the data as the save began");
    assert!(temp_files(&dir).is_empty());
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn writes_during_a_bgsave_stay_out_of_the_file() {
    writes_during_a_bgsave(1);
    writes_during_a_bgsave(4);
}

#[test]
fn the_save_schedule_triggers_a_background_save() {
    let dir = temp_dir("schedule");
    let s = start(&dir, 1, &["--save", "1 2", "--save", "3600 1"]);
    let mut c = s.conn();
    // Config lines add up; CONFIG GET shows them as Valkey does.
    let got: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("save")
        .query(&mut c)
        .unwrap();
    assert_eq!(got, ["save", "1 2 3600 1"]);
    ok(&mut c, &["SET", "a", "1"]);
    ok(&mut c, &["SET", "b", "2"]);
    wait_for("the scheduled save", || {
        log_has(&dir, "2 changes in 1 seconds. Saving...")
            && log_has(&dir, "Background saving terminated with success")
    });
    wait_bgsave_done(&mut c);
    let p = parse(&dir.join("dump.rdb"), true);
    assert_eq!(p.image.len(), 2);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    // CONFIG SET replaces the points; a bad value is refused as Valkey.
    ok(&mut c, &["CONFIG", "SET", "save", "100 10"]);
    let got: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("save")
        .query(&mut c)
        .unwrap();
    assert_eq!(got, ["save", "100 10"]);
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "save", "0 1"]),
        "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"
    );
    // FLUSHALL with save points saves the empty dataset at once.
    ok(&mut c, &["SET", "c", "3"]);
    ok(&mut c, &["FLUSHALL"]);
    let p = parse(&dir.join("dump.rdb"), true);
    assert!(p.image.is_empty());
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    // ... stopping a background save under way first.
    ok(&mut c, &["DEBUG", "POPULATE", "500"]);
    ok(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "10000"]);
    assert_eq!(status(&mut c, &["BGSAVE"]), "Background saving started");
    ok(&mut c, &["FLUSHALL"]);
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "0");
    assert!(log_has(&dir, "Background saving terminated by signal 10"));
    assert!(parse(&dir.join("dump.rdb"), true).image.is_empty());
    assert!(temp_files(&dir).is_empty(), "{:?}", temp_files(&dir));
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shutdown_save_and_sigterm_write_the_file() {
    let dir = temp_dir("shutdown");
    let mut s = start(&dir, 1, &["--save", ""]);
    let mut c = s.conn();
    ok(&mut c, &["SET", "k", "v"]);
    let _ = run(&mut c, &["SHUTDOWN", "SAVE"]);
    assert!(s.wait_exit(Duration::from_secs(20)).is_some(), "exited");
    assert!(log_has(
        &dir,
        "Saving the final RDB snapshot before exiting."
    ));
    let p = parse(&dir.join("dump.rdb"), true);
    assert_eq!(p.image.len(), 1);

    // SIGTERM with save points: the final save, in Valkey's words.
    std::fs::remove_file(dir.join("dump.rdb")).unwrap();
    std::fs::remove_file(dir.join("server.log")).unwrap();
    let mut s = start(&dir, 4, &["--save", "3600 1"]);
    let mut c = s.conn();
    ok(&mut c, &["SET", "k1", "v"]);
    ok(&mut c, &["SET", "k2", "v"]);
    // SAFETY: signalling our own child by its pid.
    unsafe {
        libc::kill(s.pid() as i32, libc::SIGTERM);
    }
    assert!(s.wait_exit(Duration::from_secs(20)).is_some(), "exited");
    assert!(log_has(
        &dir,
        "Saving the final RDB snapshot before exiting."
    ));
    assert!(log_has(&dir, "DB saved on disk"));
    let p = parse(&dir.join("dump.rdb"), true);
    assert_eq!(p.image.len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

const MISCONF: &str = "MISCONF Valkey is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Valkey logs for details about the RDB error.";

fn unwritable_dir(io_threads: usize) {
    let logs = temp_dir(&format!("logs-{io_threads}"));
    let data = temp_dir(&format!("gone-{io_threads}"));
    let log = logs.join("server.log");
    let s = Server::start_with(&[
        "--dir",
        data.to_str().unwrap(),
        "--logfile",
        log.to_str().unwrap(),
        "--loglevel",
        "notice",
        "--save",
        "3600 1",
        "--io-threads",
        &io_threads.to_string(),
        "--events-per-io-thread",
        "0",
    ]);
    let mut c = s.conn();
    ok(&mut c, &["SET", "k", "v"]);
    std::fs::remove_dir_all(&data).unwrap();
    assert_eq!(status(&mut c, &["BGSAVE"]), "Background saving started");
    wait_bgsave_done(&mut c);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "err");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("Failed opening the temp RDB file temp-"),
        "{text}"
    );
    assert!(text.contains("Background saving error"), "{text}");
    // Writes (and PING) refused; reads and BGSAVE still served.
    assert_eq!(err(&mut c, &["SET", "k", "w"]), MISCONF);
    assert_eq!(err(&mut c, &["PING"]), MISCONF);
    assert_eq!(status(&mut c, &["MULTI"]), "OK");
    assert_eq!(err(&mut c, &["INCR", "n"]), MISCONF);
    assert!(err(&mut c, &["EXEC"]).starts_with("EXECABORT"));
    let v: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(v, "v");
    assert_eq!(err(&mut c, &["SAVE"]), "ERR");
    assert_eq!(
        err(&mut c, &["SHUTDOWN"]),
        "ERR Errors trying to SHUTDOWN. Check logs."
    );
    // Only with the option, and only with save points.
    ok(
        &mut c,
        &["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"],
    );
    ok(&mut c, &["SET", "k", "w"]);
    ok(
        &mut c,
        &["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"],
    );
    assert_eq!(err(&mut c, &["SET", "k", "w"]), MISCONF);
    ok(&mut c, &["CONFIG", "SET", "save", ""]);
    ok(&mut c, &["SET", "k", "x"]);
    // A save that works again clears the error.
    ok(&mut c, &["CONFIG", "SET", "save", "3600 1"]);
    std::fs::create_dir_all(&data).unwrap();
    assert_eq!(status(&mut c, &["SAVE"]), "OK");
    ok(&mut c, &["SET", "k", "y"]);
    assert!(temp_files(&data).is_empty());
    drop(s);
    let _ = std::fs::remove_dir_all(&logs);
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn stop_writes_on_bgsave_error() {
    unwritable_dir(1);
    unwritable_dir(4);
}

#[test]
fn bgsave_cancel_removes_the_temp_file() {
    let dir = temp_dir("cancel");
    let s = start(&dir, 1, &["--save", ""]);
    let mut c = s.conn();
    ok(&mut c, &["DEBUG", "POPULATE", "2000"]);
    ok(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "1000"]);
    assert_eq!(status(&mut c, &["BGSAVE"]), "Background saving started");
    wait_for("the temp file", || !temp_files(&dir).is_empty());
    assert_eq!(
        status(&mut c, &["BGSAVE", "CANCEL"]),
        "Background saving cancelled"
    );
    wait_bgsave_done(&mut c);
    wait_for("the temp file to go", || temp_files(&dir).is_empty());
    assert!(!dir.join("dump.rdb").exists());
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    // In a transaction BGSAVE is scheduled, and CANCEL unschedules it.
    ok(&mut c, &["MULTI"]);
    ok(&mut c, &["BGSAVE"]);
    let r: Vec<String> = redis::cmd("EXEC").query(&mut c).unwrap();
    assert_eq!(r, ["Background saving scheduled"]);
    assert_eq!(
        status(&mut c, &["BGSAVE", "CANCEL"]),
        "Scheduled background saving cancelled"
    );
    // The next one runs to its end.
    ok(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    assert_eq!(status(&mut c, &["BGSAVE"]), "Background saving started");
    wait_bgsave_done(&mut c);
    assert_eq!(parse(&dir.join("dump.rdb"), true).image.len(), 2000);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rdb_key_save_delay_is_followed_during_the_save() {
    let dir = temp_dir("delay");
    let s = start(&dir, 1, &["--save", ""]);
    let mut c = s.conn();
    ok(&mut c, &["DEBUG", "POPULATE", "1000"]);
    // 100 ms per key: 100 s unless the change below reaches the writer.
    ok(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "100000"]);
    assert_eq!(status(&mut c, &["BGSAVE"]), "Background saving started");
    ok(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    wait_bgsave_done(&mut c);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_eq!(parse(&dir.join("dump.rdb"), true).image.len(), 1000);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rdbchecksum_no_writes_a_zero_checksum() {
    let dir = temp_dir("nocrc");
    let s = start(&dir, 1, &["--save", "", "--rdbchecksum", "no"]);
    let mut c = s.conn();
    ok(&mut c, &["SET", "k", "v"]);
    assert_eq!(status(&mut c, &["SAVE"]), "OK");
    assert_eq!(parse(&dir.join("dump.rdb"), false).image.len(), 1);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}
