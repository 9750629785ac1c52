//! DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: the dataset saved and loaded
//! back unchanged (every type and encoding, TTLs, several dbs: same DEBUG
//! DIGEST, same encodings), the options as Valkey's, and a reload that
//! cannot complete leaves the dataset as it was. At io-threads 1 and 4.

mod common;

use std::path::{Path, PathBuf};

use common::Server;
use redis::{Connection, Value};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ferrokey-debug-reload-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn start(dir: &Path, io_threads: usize) -> Server {
    let dir = dir.to_str().unwrap().to_string();
    let io = io_threads.to_string();
    Server::start_with(&[
        "--dir",
        &dir,
        "--io-threads",
        &io,
        "--events-per-io-thread",
        "0",
        "--enable-debug-command",
        "yes",
    ])
}

fn run(c: &mut Connection, args: &[&str]) -> redis::RedisResult<Value> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
}

fn text(c: &mut Connection, args: &[&str]) -> String {
    match run(c, args) {
        Ok(Value::Okay) => "OK".into(),
        Ok(Value::SimpleString(s)) => s,
        Ok(Value::BulkString(b)) => String::from_utf8_lossy(&b).into_owned(),
        Ok(Value::Int(n)) => n.to_string(),
        Ok(Value::Nil) => "(nil)".into(),
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("ERR {}", e.detail().unwrap_or_default()),
    }
}

/// Every type in its compact and its plain encoding, TTLs, dbs 0, 2, 9.
fn fill(c: &mut Connection) {
    let big: Vec<String> = (0..300).map(|i| format!("member-{i}")).collect();
    for db in ["0", "2", "9"] {
        run(c, &["SELECT", db]).unwrap();
        run(c, &["SET", "int", "12345"]).unwrap();
        run(c, &["SET", "str", &"abc".repeat(100)]).unwrap();
        run(c, &["SET", "ttl", "v", "PX", "500000"]).unwrap();
        run(c, &["RPUSH", "list", "a", "1", "b"]).unwrap();
        run(c, &["SADD", "intset", "1", "2", "3"]).unwrap();
        run(c, &["SADD", "lpset", "a", "b"]).unwrap();
        run(c, &["HSET", "hash", "f", "v", "g", "w"]).unwrap();
        run(c, &["ZADD", "zset", "1.5", "a", "-inf", "b"]).unwrap();
        for m in &big {
            run(c, &["RPUSH", "biglist", m]).unwrap();
            run(c, &["SADD", "bigset", m]).unwrap();
            run(c, &["HSET", "bighash", m, "x"]).unwrap();
            run(c, &["ZADD", "bigzset", "2.25", m]).unwrap();
        }
        run(c, &["PEXPIRE", "bighash", "900000"]).unwrap();
    }
    run(c, &["SELECT", "0"]).unwrap();
}

/// Each key's encoding and TTL presence, db by db.
fn layout(c: &mut Connection) -> Vec<String> {
    let mut out = Vec::new();
    for db in ["0", "2", "9"] {
        run(c, &["SELECT", db]).unwrap();
        let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).unwrap();
        keys.sort();
        for k in keys {
            let enc = text(c, &["OBJECT", "ENCODING", &k]);
            let ttl: i64 = redis::cmd("PTTL").arg(&k).query(c).unwrap();
            out.push(format!("{db} {k} {enc} {}", ttl > 0));
        }
    }
    run(c, &["SELECT", "0"]).unwrap();
    out
}

#[test]
fn reload_keeps_every_type_encoding_ttl_and_db() {
    for io in [1, 4] {
        let dir = temp_dir(&format!("types-{io}"));
        let s = start(&dir, io);
        let mut c = s.conn();
        fill(&mut c);
        let digest = text(&mut c, &["DEBUG", "DIGEST"]);
        let before = layout(&mut c);
        assert!(before.len() == 36, "{before:?}");
        assert_eq!(text(&mut c, &["DEBUG", "RELOAD"]), "OK");
        assert_eq!(text(&mut c, &["DEBUG", "DIGEST"]), digest);
        assert_eq!(layout(&mut c), before);
        assert!(dir.join("dump.rdb").exists(), "RELOAD saved the file");
        let info = text(&mut c, &["INFO", "persistence"]);
        assert!(info.contains("rdb_last_load_keys_loaded:36"), "{info}");
        assert!(info.contains("rdb_changes_since_last_save:0"), "{info}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn reload_options_as_valkey() {
    for io in [1, 4] {
        let dir = temp_dir(&format!("opts-{io}"));
        let s = start(&dir, io);
        let mut c = s.conn();
        assert_eq!(
            text(&mut c, &["DEBUG", "RELOAD", "FOO"]),
            "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
        );
        run(&mut c, &["SET", "a", "1"]).unwrap();
        run(&mut c, &["SET", "b", "1"]).unwrap();
        assert_eq!(text(&mut c, &["SAVE"]), "OK");
        // After the save: one key changed, one added.
        run(&mut c, &["SET", "a", "2"]).unwrap();
        run(&mut c, &["SET", "extra", "x"]).unwrap();
        // NOFLUSH without MERGE meets live keys: refused, nothing changed
        // (Valkey aborts the server here).
        assert_eq!(
            text(&mut c, &["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH"]),
            "ERR Error trying to load the RDB dump, check server logs."
        );
        assert_eq!(text(&mut c, &["GET", "a"]), "2");
        assert_eq!(text(&mut c, &["DBSIZE"]), "3");
        // MERGE: the file's keys win, the others stay.
        assert_eq!(
            text(&mut c, &["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]),
            "OK"
        );
        assert_eq!(text(&mut c, &["GET", "a"]), "1");
        assert_eq!(text(&mut c, &["GET", "extra"]), "x");
        // NOSAVE: the dataset becomes the file's.
        assert_eq!(text(&mut c, &["DEBUG", "RELOAD", "NOSAVE"]), "OK");
        assert_eq!(text(&mut c, &["DBSIZE"]), "2");
        assert_eq!(text(&mut c, &["GET", "extra"]), "(nil)");
        // A file that went bad: the reload fails and the dataset stays.
        std::fs::write(dir.join("dump.rdb"), b"REDIS0011\xfe\x00garbage").unwrap();
        assert_eq!(
            text(&mut c, &["DEBUG", "RELOAD", "NOSAVE"]),
            "ERR Error trying to load the RDB dump, check server logs."
        );
        assert_eq!(text(&mut c, &["DBSIZE"]), "2");
        assert_eq!(text(&mut c, &["GET", "a"]), "1");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn reload_wakes_watchers_like_a_flush() {
    let dir = temp_dir("watch");
    let s = start(&dir, 1);
    let mut c = s.conn();
    let mut other = s.conn();
    run(&mut c, &["SET", "w", "1"]).unwrap();
    run(&mut c, &["WATCH", "w"]).unwrap();
    assert_eq!(text(&mut other, &["DEBUG", "RELOAD"]), "OK");
    run(&mut c, &["MULTI"]).unwrap();
    run(&mut c, &["SET", "w", "2"]).unwrap();
    let r: Value = redis::cmd("EXEC").query(&mut c).unwrap();
    assert_eq!(r, Value::Nil, "EXEC fails: the watched key was reloaded");
    let _ = std::fs::remove_dir_all(&dir);
}
