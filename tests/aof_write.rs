//! The AOF writer end to end: the files and manifest it creates, the
//! commands it appends (RESP, SELECT, MULTI/EXEC, absolute expiries),
//! `appendfsync always` acknowledging only what is in the file (also after
//! kill -9), BGREWRITEAOF with and without the RDB preamble (its files
//! replayed into a fresh server give the same DEBUG DIGEST), CONFIG SET
//! appendonly, the INFO fields and WAITAOF.

mod common;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{cmd, q, raw_roundtrip, Server};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrokey-aof-write-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn start(io_threads: usize, dir: &Path, extra: &[&str]) -> Server {
    let io = io_threads.to_string();
    let mut args = vec![
        "--io-threads",
        &io,
        "--events-per-io-thread",
        "0",
        "--dir",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Server::start_with(&args)
}

fn aof_dir(dir: &Path) -> PathBuf {
    dir.join("appendonlydir")
}

fn manifest(dir: &Path) -> String {
    std::fs::read_to_string(aof_dir(dir).join("appendonly.aof.manifest")).unwrap_or_default()
}

/// The files the manifest lists, as (name, type letter).
fn listed(dir: &Path) -> Vec<(String, String)> {
    manifest(dir)
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            (w[1].to_string(), w[5].to_string())
        })
        .collect()
}

fn incr_file(dir: &Path) -> PathBuf {
    let (name, _) = listed(dir)
        .into_iter()
        .rfind(|(_, t)| t == "i")
        .expect("an INCR file");
    aof_dir(dir).join(name)
}

/// RESP commands of an AOF (annotations skipped), as words.
fn parse_commands(mut b: &[u8]) -> Vec<Vec<String>> {
    fn line<'a>(b: &mut &'a [u8]) -> Option<&'a [u8]> {
        let i = b.windows(2).position(|w| w == b"\r\n")?;
        let l = &b[..i];
        *b = &b[i + 2..];
        Some(l)
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let Some(head) = line(&mut b) else { break };
        if head.starts_with(b"#") {
            continue;
        }
        assert_eq!(head[0], b'*', "{:?}", String::from_utf8_lossy(head));
        let n: usize = std::str::from_utf8(&head[1..]).unwrap().parse().unwrap();
        let mut argv = Vec::new();
        for _ in 0..n {
            let l = line(&mut b).unwrap();
            let len: usize = std::str::from_utf8(&l[1..]).unwrap().parse().unwrap();
            argv.push(String::from_utf8_lossy(&b[..len]).into_owned());
            b = &b[len + 2..];
        }
        out.push(argv);
    }
    out
}

fn commands(dir: &Path) -> Vec<Vec<String>> {
    parse_commands(&std::fs::read(incr_file(dir)).unwrap())
}

fn info_field(s: &mut TcpStream, name: &str) -> String {
    let text = q(s, &["INFO", "persistence"]);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(str::to_string)
        .unwrap_or_default()
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wait_rewrite_done(s: &mut TcpStream, rewrites: &str) {
    // Both fields from one INFO: a rewrite may start between two.
    wait_for("the rewrite", || {
        let text = q(s, &["INFO", "persistence"]);
        text.contains("\r\naof_rewrite_in_progress:0\r\n")
            && text.contains(&format!("\r\naof_rewrites:{rewrites}\r\n"))
    });
}

fn words(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

macro_rules! both {
    ($name:ident, |$io:ident| $body:block) => {
        mod $name {
            use super::*;
            fn run($io: usize) $body
            #[test]
            fn io_threads_1() {
                run(1)
            }
            #[test]
            fn io_threads_4() {
                run(4)
            }
        }
    };
}

both!(files_and_manifest_are_created_on_start, |io| {
    let dir = temp_dir(&format!("start{io}"));
    let srv = start(io, &dir, &["--appendonly", "yes"]);
    let mut s = srv.raw();
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    let base = std::fs::read(aof_dir(&dir).join("appendonly.aof.1.base.rdb")).unwrap();
    assert!(base.starts_with(b"REDIS0011"));
    assert!(base.windows(8).any(|w| w == b"aof-base"));
    assert_eq!(info_field(&mut s, "aof_enabled"), "1");
    assert_eq!(info_field(&mut s, "aof_last_write_status"), "ok");
    drop(srv);
    // A restart opens the same INCR file for appending.
    let srv = start(io, &dir, &["--appendonly", "yes"]);
    let mut s = srv.raw();
    assert_eq!(q(&mut s, &["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(listed(&dir).len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
});

both!(
    commands_are_appended_in_resp_with_select_multi_and_absolute_expiries,
    |io| {
        let dir = temp_dir(&format!("cmds{io}"));
        let srv = start(
            io,
            &dir,
            &["--appendonly", "yes", "--appendfsync", "always"],
        );
        let mut s = srv.raw();
        q(&mut s, &["SET", "a", "1"]);
        q(&mut s, &["SET", "e", "v", "EX", "100"]);
        q(&mut s, &["SELECT", "2"]);
        q(&mut s, &["INCR", "n"]);
        q(&mut s, &["MULTI"]);
        q(&mut s, &["SET", "x", "1"]);
        q(&mut s, &["LPUSH", "l", "a"]);
        assert_eq!(q(&mut s, &["EXEC"]), "*2\r\n+OK\r\n:1\r\n");
        q(&mut s, &["SET", "gone", "v", "PX", "1"]);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(q(&mut s, &["GET", "gone"]), "$-1\r\n");
        q(&mut s, &["GET", "a"]); // reads are not written
        let c = commands(&dir);
        assert_eq!(c[0], words(&["SELECT", "0"]));
        assert_eq!(c[1], words(&["SET", "a", "1"]));
        assert_eq!(&c[2][..4], &words(&["SET", "e", "v", "PXAT"]));
        let at: i64 = c[2][4].parse().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        assert!((now + 90_000..=now + 100_000).contains(&at), "{at}");
        assert_eq!(c[3], words(&["SELECT", "2"]));
        assert_eq!(c[4], words(&["INCR", "n"]));
        assert_eq!(c[5], words(&["MULTI"]));
        assert_eq!(c[6], words(&["SET", "x", "1"]));
        assert_eq!(c[7], words(&["LPUSH", "l", "a"]));
        assert_eq!(c[8], words(&["EXEC"]));
        assert_eq!(&c[9][..4], &words(&["SET", "gone", "v", "PXAT"]));
        assert!(
            c[10] == words(&["DEL", "gone"]) || c[10] == words(&["UNLINK", "gone"]),
            "{:?}",
            c[10]
        );
        assert_eq!(c.len(), 11, "{c:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
);

both!(timestamps_are_annotated_when_enabled, |io| {
    let dir = temp_dir(&format!("ts{io}"));
    let srv = start(
        io,
        &dir,
        &["--appendonly", "yes", "--aof-timestamp-enabled", "yes"],
    );
    let mut s = srv.raw();
    q(&mut s, &["SET", "a", "1"]);
    wait_for("the write", || {
        std::fs::metadata(incr_file(&dir)).map_or(0, |m| m.len()) > 0
    });
    let text = String::from_utf8(std::fs::read(incr_file(&dir)).unwrap()).unwrap();
    let (ts, rest) = text.split_once("\r\n").unwrap();
    let secs: i64 = ts.strip_prefix("#TS:").expect(&text).parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - 5..=now).contains(&secs));
    assert!(rest.starts_with("*2\r\n$6\r\nSELECT\r\n"));
    let _ = std::fs::remove_dir_all(&dir);
});

both!(always_replies_only_once_the_write_is_in_the_file, |io| {
    let dir = temp_dir(&format!("always{io}"));
    let srv = start(
        io,
        &dir,
        &["--appendonly", "yes", "--appendfsync", "always"],
    );
    let mut s = srv.raw();
    let path = incr_file(&dir);
    for i in 0..100 {
        let k = format!("key:{i}:");
        assert_eq!(q(&mut s, &["SET", &k, "v"]), "+OK\r\n");
        let f = std::fs::read(&path).unwrap();
        assert!(f.windows(k.len()).any(|w| w == k.as_bytes()), "{k} missing");
    }
    // A pipeline: every acknowledged write is in the file when the last
    // reply arrives.
    let mut batch = Vec::new();
    for i in 0..200 {
        batch.extend(common::cmd(&[b"INCR", format!("p{i}:").as_bytes()]));
    }
    raw_roundtrip(&mut s, &batch, 200);
    let f = std::fs::read(&path).unwrap();
    for i in 0..200 {
        let k = format!("p{i}:");
        assert!(f.windows(k.len()).any(|w| w == k.as_bytes()), "{k} missing");
    }
    let _ = std::fs::remove_dir_all(&dir);
});

both!(acknowledged_writes_survive_kill_9_under_always, |io| {
    let dir = temp_dir(&format!("kill{io}"));
    let mut srv = start(
        io,
        &dir,
        &["--appendonly", "yes", "--appendfsync", "always"],
    );
    let port = srv.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for t in 0..4 {
        let stop = stop.clone();
        writers.push(std::thread::spawn(move || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let mut batch = Vec::new();
                for _ in 0..8 {
                    batch.extend(common::cmd(&[b"INCR", format!("c{t}").as_bytes()]));
                }
                use std::io::{Read, Write};
                if s.write_all(&batch).is_err() {
                    break;
                }
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                // Count complete replies as they arrive.
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return (t, n),
                        Ok(k) => got.extend_from_slice(&buf[..k]),
                    }
                    let lines = got.iter().filter(|&&c| c == b'\n').count() as u64;
                    if lines == 8 {
                        n += 8;
                        break;
                    }
                }
            }
            (t, n)
        }));
    }
    wait_for("some writes", || {
        std::fs::metadata(incr_file(&dir)).map_or(0, |m| m.len()) > 50_000
    });
    // SIGKILL: nothing gets flushed on the way out.
    // SAFETY: kill(2) on the server's pid.
    unsafe { libc::kill(srv.pid() as i32, libc::SIGKILL) };
    srv.wait_exit(Duration::from_secs(10)).expect("killed");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let counts: Vec<(usize, u64)> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let c = commands(&dir);
    for (t, n) in counts {
        let key = format!("c{t}");
        let in_file = c.iter().filter(|a| a[0] == "INCR" && a[1] == key).count() as u64;
        assert!(
            in_file >= n,
            "{key}: {n} acknowledged, {in_file} in the file"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
});

/// Fills every type, with expiries, in two dbs.
fn fill(s: &mut TcpStream) {
    for i in 0..300 {
        let k = i.to_string();
        q(s, &["SET", &format!("s{k}"), &format!("v{k}")]);
    }
    q(s, &["SET", "big", &"x".repeat(20_000)]);
    q(s, &["SET", "ttl", "v", "EX", "1000"]);
    for i in 0..150 {
        let k = i.to_string();
        q(s, &["RPUSH", "list", &k]);
        q(s, &["SADD", "set", &format!("m{k}")]);
        q(s, &["SADD", "iset", &k]);
        q(s, &["ZADD", "zset", &format!("{}.5", i), &format!("z{k}")]);
        q(s, &["HSET", "hash", &format!("f{k}"), &k]);
    }
    q(s, &["SELECT", "3"]);
    q(s, &["SET", "other", "db"]);
    q(s, &["HSET", "h3", "a", "1"]);
    q(s, &["PEXPIRE", "h3", "500000"]);
    q(s, &["SELECT", "0"]);
}

fn digest(s: &mut TcpStream) -> String {
    q(s, &["DEBUG", "DIGEST"])
}

/// Replays the AOF in `dir` into a fresh server: an RDB BASE loaded as
/// `dump.rdb`, an AOF BASE and the INCR files sent as commands.
fn replay_digest(dir: &Path) -> String {
    let files = listed(dir);
    let fresh = temp_dir(&format!(
        "replay-{}",
        dir.file_name().unwrap().to_string_lossy()
    ));
    let (base, _) = files.iter().find(|(_, t)| t == "b").unwrap().clone();
    let mut resp: Vec<u8> = Vec::new();
    if base.ends_with(".rdb") {
        std::fs::copy(aof_dir(dir).join(&base), fresh.join("dump.rdb")).unwrap();
    } else {
        resp.extend(std::fs::read(aof_dir(dir).join(&base)).unwrap());
    }
    for (name, t) in &files {
        if t == "i" {
            resp.extend(std::fs::read(aof_dir(dir).join(name)).unwrap());
        }
    }
    let srv = start(1, &fresh, &[]);
    let mut s = srv.raw();
    wait_for("the load", || info_field(&mut s, "loading") == "0");
    let n = parse_commands(&resp).len();
    if n > 0 {
        raw_roundtrip(&mut s, &resp, n);
    }
    let d = digest(&mut s);
    let _ = std::fs::remove_dir_all(&fresh);
    d
}

fn rewrite_case(io: usize, preamble: &str) {
    let dir = temp_dir(&format!("rw{preamble}{io}"));
    let srv = start(
        io,
        &dir,
        &["--appendonly", "yes", "--aof-use-rdb-preamble", preamble],
    );
    let mut s = srv.raw();
    fill(&mut s);
    assert_eq!(
        q(&mut s, &["BGREWRITEAOF"]),
        "+Background append only file rewriting started\r\n"
    );
    // Writes during and after the rewrite go to the new INCR file.
    q(&mut s, &["INCR", "after"]);
    q(&mut s, &["DEL", "s1"]);
    wait_rewrite_done(&mut s, "1");
    assert_eq!(info_field(&mut s, "aof_last_bgrewrite_status"), "ok");
    let ext = if preamble == "yes" { "rdb" } else { "aof" };
    assert_eq!(
        manifest(&dir),
        format!(
            "file appendonly.aof.2.base.{ext} seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
        )
    );
    // History files are gone.
    let mut names: Vec<String> = std::fs::read_dir(aof_dir(&dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            format!("appendonly.aof.2.base.{ext}"),
            "appendonly.aof.2.incr.aof".to_string(),
            "appendonly.aof.manifest".to_string()
        ]
    );
    let base = std::fs::read(aof_dir(&dir).join(format!("appendonly.aof.2.base.{ext}"))).unwrap();
    if preamble == "no" {
        let c = parse_commands(&base);
        assert_eq!(c[0], words(&["SELECT", "0"]));
        // Items are batched 64 per command.
        let rpush: Vec<&Vec<String>> = c.iter().filter(|a| a[0] == "RPUSH").collect();
        assert_eq!(
            rpush.iter().map(|a| a.len() - 2).collect::<Vec<_>>(),
            [64, 64, 22]
        );
        assert!(c.iter().any(|a| a[0] == "PEXPIREAT" && a[1] == "ttl"));
        assert!(c.iter().any(|a| a[0] == "HMSET" && a[1] == "h3"));
    } else {
        assert!(base.starts_with(b"REDIS0011"));
    }
    q(&mut s, &["SET", "late", "1"]);
    let live = digest(&mut s);
    assert_eq!(replay_digest(&dir), live);
    let _ = std::fs::remove_dir_all(&dir);
}

both!(
    bgrewriteaof_with_rdb_preamble_replays_to_the_same_data,
    |io| {
        rewrite_case(io, "yes");
    }
);

both!(
    bgrewriteaof_without_preamble_replays_to_the_same_data,
    |io| {
        rewrite_case(io, "no");
    }
);

both!(bgrewriteaof_replies_and_bgsave_during_a_rewrite, |io| {
    let dir = temp_dir(&format!("replies{io}"));
    let srv = start(
        io,
        &dir,
        &["--appendonly", "yes", "--rdb-key-save-delay", "2000"],
    );
    let mut s = srv.raw();
    for i in 0..200 {
        q(&mut s, &["SET", &i.to_string(), "v"]);
    }
    assert_eq!(
        q(&mut s, &["BGREWRITEAOF"]),
        "+Background append only file rewriting started\r\n"
    );
    assert_eq!(
        q(&mut s, &["BGREWRITEAOF"]),
        "-ERR Background append only file rewriting already in progress\r\n"
    );
    assert_eq!(info_field(&mut s, "aof_rewrite_in_progress"), "1");
    assert_eq!(
        q(&mut s, &["BGSAVE"]),
        "-ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.\r\n"
    );
    assert_eq!(
        q(&mut s, &["BGSAVE", "SCHEDULE"]),
        "+Background saving scheduled\r\n"
    );
    q(&mut s, &["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    wait_rewrite_done(&mut s, "1");
    // The scheduled BGSAVE runs once the rewrite is over; a rewrite asked
    // for meanwhile is scheduled.
    wait_for("the bgsave", || {
        info_field(&mut s, "rdb_bgsave_in_progress") == "1" || dir.join("dump.rdb").exists()
    });
    let _ = std::fs::remove_dir_all(&dir);
});

both!(config_set_appendonly_turns_it_on_and_off, |io| {
    let dir = temp_dir(&format!("cfg{io}"));
    let srv = start(io, &dir, &[]);
    let mut s = srv.raw();
    q(&mut s, &["SET", "before", "1"]);
    assert_eq!(info_field(&mut s, "aof_enabled"), "0");
    assert!(!info_field(&mut s, "aof_enabled").is_empty());
    assert_eq!(
        q(&mut s, &["WAITAOF", "1", "0", "0"]),
        "-ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.\r\n"
    );
    assert_eq!(
        q(&mut s, &["CONFIG", "SET", "appendonly", "yes"]),
        "+OK\r\n"
    );
    wait_rewrite_done(&mut s, "1");
    assert_eq!(info_field(&mut s, "aof_enabled"), "1");
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    q(&mut s, &["SET", "during", "1"]);
    assert_eq!(q(&mut s, &["WAITAOF", "1", "0", "0"]), "*2\r\n:1\r\n:0\r\n");
    assert_eq!(q(&mut s, &["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
    q(&mut s, &["SET", "after", "1"]);
    assert_eq!(info_field(&mut s, "aof_enabled"), "0");
    let c = commands(&dir);
    assert!(c
        .iter()
        .any(|a| a.get(1).map(String::as_str) == Some("during")));
    assert!(!c
        .iter()
        .any(|a| a.get(1).map(String::as_str) == Some("after")));
    assert!(!c
        .iter()
        .any(|a| a.get(1).map(String::as_str) == Some("before")));
    let _ = std::fs::remove_dir_all(&dir);
});

both!(
    shutdown_waits_for_the_first_base_after_turning_aof_on,
    |io| {
        let dir = temp_dir(&format!("initial{io}"));
        let mut srv = start(io, &dir, &[]);
        let mut s = srv.raw();
        for i in 0..20 {
            q(&mut s, &["SET", &format!("k{i}"), "v"]);
        }
        // One second per key: the first BASE takes a while.
        q(&mut s, &["CONFIG", "SET", "rdb-key-save-delay", "1000000"]);
        assert_eq!(
            q(&mut s, &["CONFIG", "SET", "appendonly", "yes"]),
            "+OK\r\n"
        );
        assert_eq!(info_field(&mut s, "aof_rewrite_in_progress"), "1");
        // Exiting now would leave an AOF without the dataset: refused.
        assert_eq!(
            q(&mut s, &["SHUTDOWN"]),
            "-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
        );
        assert_eq!(q(&mut s, &["PING"]), "+PONG\r\n");
        // FORCE exits anyway.
        std::io::Write::write_all(&mut s, &cmd(&[&b"SHUTDOWN"[..], b"NOSAVE", b"FORCE"])).unwrap();
        assert!(srv.wait_exit(Duration::from_secs(20)).is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }
);

both!(info_persistence_has_valkeys_aof_fields_in_order, |io| {
    let dir = temp_dir(&format!("info{io}"));
    let srv = start(io, &dir, &["--appendonly", "yes"]);
    let mut s = srv.raw();
    let text = q(&mut s, &["INFO", "persistence"]);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once(':').map(|x| x.0))
        .filter(|n| n.starts_with("aof_"))
        .collect();
    // Valkey 9.1 with appendonly yes.
    assert_eq!(
        names,
        [
            "aof_enabled",
            "aof_rewrite_in_progress",
            "aof_rewrite_scheduled",
            "aof_last_rewrite_time_sec",
            "aof_current_rewrite_time_sec",
            "aof_last_bgrewrite_status",
            "aof_rewrites",
            "aof_rewrites_consecutive_failures",
            "aof_last_write_status",
            "aof_last_cow_size",
            "aof_current_size",
            "aof_base_size",
            "aof_pending_rewrite",
            "aof_buffer_length",
            "aof_pending_bio_fsync",
            "aof_delayed_fsync",
        ]
    );
    let before: u64 = info_field(&mut s, "aof_current_size").parse().unwrap();
    q(&mut s, &["SET", "k", "v"]);
    wait_for("the size", || {
        info_field(&mut s, "aof_current_size")
            .parse::<u64>()
            .unwrap()
            > before
    });
    let _ = std::fs::remove_dir_all(&dir);
});

both!(waitaof_reports_the_local_fsync, |io| {
    let dir = temp_dir(&format!("waitaof{io}"));
    let srv = start(
        io,
        &dir,
        &["--appendonly", "yes", "--appendfsync", "everysec"],
    );
    let mut s = srv.raw();
    q(&mut s, &["SET", "k", "v"]);
    // everysec: synced within about a second.
    let t = Instant::now();
    assert_eq!(q(&mut s, &["WAITAOF", "1", "0", "0"]), "*2\r\n:1\r\n:0\r\n");
    assert!(t.elapsed() < Duration::from_secs(5));
    // In one pipeline with the write it waits for that write too.
    let mut batch = common::cmd(&[b"SET", b"k2", b"v"]);
    batch.extend(common::cmd(&[b"WAITAOF", b"1", b"0", b"0"]));
    assert_eq!(
        raw_roundtrip(&mut s, &batch, 2),
        b"+OK\r\n*2\r\n:1\r\n:0\r\n"
    );
    // appendfsync no: never synced by itself, the timeout replies 0.
    q(&mut s, &["CONFIG", "SET", "appendfsync", "no"]);
    q(&mut s, &["SET", "k3", "v"]);
    assert_eq!(
        q(&mut s, &["WAITAOF", "1", "0", "100"]),
        "*2\r\n:0\r\n:0\r\n"
    );
    // Inside MULTI it does not wait.
    q(&mut s, &["MULTI"]);
    q(&mut s, &["WAITAOF", "1", "0", "0"]);
    assert_eq!(q(&mut s, &["EXEC"]), "*1\r\n*2\r\n:0\r\n:0\r\n");
    let _ = std::fs::remove_dir_all(&dir);
});

both!(
    history_is_kept_with_auto_gc_off_and_deleted_when_on_again,
    |io| {
        let dir = temp_dir(&format!("gc{io}"));
        let srv = start(
            io,
            &dir,
            &["--appendonly", "yes", "--aof-disable-auto-gc", "yes"],
        );
        let mut s = srv.raw();
        q(&mut s, &["SET", "k", "v"]);
        q(&mut s, &["BGREWRITEAOF"]);
        wait_rewrite_done(&mut s, "1");
        q(&mut s, &["BGREWRITEAOF"]);
        wait_rewrite_done(&mut s, "2");
        assert_eq!(
            manifest(&dir),
            "file appendonly.aof.3.base.rdb seq 3 type b\n\
         file appendonly.aof.2.incr.aof seq 2 type h\n\
         file appendonly.aof.2.base.rdb seq 2 type h\n\
         file appendonly.aof.1.incr.aof seq 1 type h\n\
         file appendonly.aof.1.base.rdb seq 1 type h\n\
         file appendonly.aof.3.incr.aof seq 3 type i\n"
        );
        assert!(aof_dir(&dir).join("appendonly.aof.1.base.rdb").exists());
        assert_eq!(
            q(&mut s, &["CONFIG", "SET", "aof-disable-auto-gc", "no"]),
            "+OK\r\n"
        );
        assert_eq!(
        manifest(&dir),
        "file appendonly.aof.3.base.rdb seq 3 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n"
    );
        assert!(!aof_dir(&dir).join("appendonly.aof.1.base.rdb").exists());
        assert!(!aof_dir(&dir).join("appendonly.aof.2.incr.aof").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
);

both!(the_aof_is_rewritten_automatically_when_it_grows, |io| {
    let dir = temp_dir(&format!("auto{io}"));
    let srv = start(
        io,
        &dir,
        &[
            "--appendonly",
            "yes",
            "--auto-aof-rewrite-min-size",
            "1024",
            "--auto-aof-rewrite-percentage",
            "100",
        ],
    );
    let mut s = srv.raw();
    assert_eq!(info_field(&mut s, "aof_rewrites"), "0");
    for i in 0..100 {
        q(
            &mut s,
            &["SET", &format!("key{i}"), "some value to grow the file"],
        );
    }
    // The base was empty: past the minimum size the growth is unbounded.
    wait_rewrite_done(&mut s, "1");
    let base: u64 = info_field(&mut s, "aof_base_size").parse().unwrap();
    assert!(base > 1024, "{base}");
    assert_eq!(info_field(&mut s, "aof_current_size"), base.to_string());
    let _ = std::fs::remove_dir_all(&dir);
});

both!(
    appendonly_no_inside_a_transaction_never_leaves_half_of_it,
    |io| {
        let dir = temp_dir(&format!("multi-off{io}"));
        let srv = start(
            io,
            &dir,
            &["--appendonly", "yes", "--appendfsync", "always"],
        );
        let mut s = srv.raw();
        q(&mut s, &["MULTI"]);
        q(&mut s, &["SET", "a", "1"]);
        q(&mut s, &["CONFIG", "SET", "appendonly", "no"]);
        q(&mut s, &["SET", "b", "1"]);
        assert_eq!(q(&mut s, &["EXEC"]), "*3\r\n+OK\r\n+OK\r\n+OK\r\n");
        q(&mut s, &["SET", "c", "1"]);
        let c = commands(&dir);
        let multi = c.iter().filter(|a| a[0] == "MULTI").count();
        let exec = c.iter().filter(|a| a[0] == "EXEC").count();
        assert_eq!(multi, exec, "{c:?}");
        assert!(!c.iter().any(|a| a.get(1).map(String::as_str) == Some("c")));
        let _ = std::fs::remove_dir_all(&dir);
    }
);
