//! Loading an RDB file into fresh dbs: at startup in the background
//! (`Loader`), and synchronously (`load_file`, for DEBUG RELOAD).
//!
//! At startup a loader thread parses `dir`/`dbfilename`
//! (`persist::rdb_read`), drops keys already expired (as a Valkey primary
//! does), builds each key's entry, and hands bounded batches to the main
//! thread over a bounded channel. The main thread inserts them into dbs of
//! its own, between turns of its event loop, so clients are served
//! meanwhile: INFO says `loading:1` with the progress, and commands without
//! the `loading` flag get `-LOADING`. Only when the whole file has parsed
//! and its checksum matched are the dbs installed: a file is never half
//! loaded. A corrupt or truncated file is reported as Valkey reports it
//! (the reason, then a check-rdb style summary naming the file, offset and
//! key) and the server exits non-zero without serving any of it.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::keyspace::db::{access_clock, Access};
use crate::keyspace::{Db, Entry};
use crate::persist::rdb_read::{
    type_name, Failure, LoadError, LoadProgress, Options, RdbReader, Record,
};
use crate::state::State;

/// Keys per batch handed to the main thread, and batches in flight: the
/// memory between the threads stays bounded whatever the file's size.
const BATCH_KEYS: usize = 1024;
const BATCH_BYTES: usize = 1 << 20;
const BATCHES_IN_FLIGHT: usize = 16;
/// Main-thread time one event-loop turn may spend inserting.
const TURN_BUDGET: Duration = Duration::from_millis(2);

/// Counters of a load (INFO `rdb_last_load_*` and the "Done loading" line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub keys_loaded: u64,
    pub keys_expired: u64,
    pub empty_keys_skipped: u64,
}

/// A file loaded into fresh dbs (not installed anywhere yet).
pub struct LoadedData {
    pub dbs: Vec<Db>,
    pub stats: LoadStats,
    /// The AUX fields, in file order.
    pub aux: Vec<(String, String)>,
}

/// The parser's options from the configuration.
pub fn options(c: &Config) -> Options {
    let extra = |name: &str| c.extra.get(name).map(String::as_str);
    Options {
        limits: crate::commands::dump::load_limits(c),
        databases: c.databases,
        check_crc: extra("rdbchecksum") != Some("no") && crate::persist::checksums_checked(),
        relaxed: extra("rdb-version-check") == Some("relaxed"),
    }
}

/// What the record loop needs besides the reader.
#[derive(Clone, Copy)]
struct Rules {
    /// Keys expiring before this (ms) are dropped.
    now: i64,
    lfu: bool,
    /// `key-load-delay`: microseconds per key (negative: a 1 µs sleep once
    /// in that many keys, as Valkey's debugDelay).
    delay: i64,
    hide_keys: bool,
}

impl Rules {
    fn of(c: &Config) -> Rules {
        let extra = |name: &str| c.extra.get(name).map(String::as_str);
        Rules {
            now: crate::keyspace::now_ms(),
            lfu: c.lfu_policy(),
            delay: extra("key-load-delay")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            hide_keys: extra("hide-user-data-from-log") == Some("yes"),
        }
    }

    /// The access word FREQ or IDLE asks for (as RESTORE applies them):
    /// FREQ under an LFU policy, IDLE under any other.
    fn access(&self, rec: &Record<'_>) -> Option<u32> {
        if self.lfu {
            let f = rec.freq?;
            let minutes = ((self.now / 60_000) as u64 & 0xffff) as u32;
            Some(minutes << 8 | u32::from(f))
        } else {
            let idle = u32::try_from(rec.idle?).unwrap_or(u32::MAX);
            Some(access_clock(self.now).saturating_sub(idle))
        }
    }
}

/// Runs through every record: empty keys skipped and logged, expired ones
/// dropped and counted, the rest passed to `keep` as (db, key, entry,
/// access override).
fn each_key<R: io::Read>(
    rd: &mut RdbReader<R>,
    rules: Rules,
    stats: &mut LoadStats,
    mut keep: impl FnMut(usize, &[u8], Entry, Option<u32>) -> Result<(), LoadError>,
) -> Result<(), LoadError> {
    let mut n: u64 = 0;
    while let Some(rec) = rd.next()? {
        n += 1;
        let access = rules.access(&rec);
        let Record {
            db,
            key,
            value,
            expire_ms,
            ..
        } = rec;
        match value {
            None => {
                stats.empty_keys_skipped += 1;
                if stats.empty_keys_skipped <= 10 {
                    if rules.hide_keys {
                        tracing::info!("rdbLoadObject skipping empty key");
                    } else {
                        let k = String::from_utf8_lossy(&key);
                        tracing::info!("rdbLoadObject skipping empty key: {k}");
                    }
                }
            }
            Some(_) if expire_ms.is_some_and(|t| t < rules.now) => stats.keys_expired += 1,
            Some(value) => {
                let entry = Entry::new(&key, value, expire_ms.unwrap_or(0), 0);
                keep(db, &key, entry, access)?;
            }
        }
        if rules.delay > 0 {
            std::thread::sleep(Duration::from_micros(rules.delay as u64));
        } else if rules.delay < 0 && n % rules.delay.unsigned_abs() == 0 {
            std::thread::sleep(Duration::from_micros(1));
        }
    }
    Ok(())
}

/// Fresh dbs being filled.
struct DbBuilder {
    dbs: Vec<Db>,
    now: i64,
    hide_keys: bool,
}

impl DbBuilder {
    fn new(c: &Config) -> DbBuilder {
        let lfu = c.lfu_policy();
        DbBuilder {
            dbs: (0..c.databases)
                .map(|i| {
                    let mut db = Db::new(i);
                    db.lfu = lfu;
                    db
                })
                .collect(),
            now: crate::keyspace::now_ms(),
            hide_keys: c.extra.get("hide-user-data-from-log").map(String::as_str) == Some("yes"),
        }
    }

    /// Adds a key; a key the db already has is an error (Valkey panics).
    fn insert(
        &mut self,
        db: usize,
        key: &[u8],
        entry: Entry,
        access: Option<u32>,
    ) -> Result<(), String> {
        let Some(d) = self.dbs.get_mut(db) else {
            return Err(format!("a key for db {db}, past the last db"));
        };
        if d.table().get(key).is_some() {
            return Err(if self.hide_keys {
                format!("RDB has duplicated key in DB {db}")
            } else {
                format!(
                    "RDB has duplicated key '{}' in DB {db}",
                    String::from_utf8_lossy(key)
                )
            });
        }
        d.insert_entry(key, entry, self.now);
        if let Some(a) = access {
            if let Some(e) = d.lookup(key, self.now, Access::NO_EFFECTS) {
                e.set_access(a);
            }
        }
        Ok(())
    }
}

/// Loads `path` synchronously into fresh dbs (DEBUG RELOAD's path; the
/// lead installs them). Logs the AUX fields and the "Done loading" line
/// as Valkey's rdbLoad does.
pub fn load_file(path: &Path, c: &Config) -> Result<LoadedData, LoadError> {
    let name = path.display().to_string();
    let (file, size) = open(path).map_err(|e| LoadError {
        file: name.clone(),
        offset: 0,
        what: format!("can't open the RDB file {name} for reading: {e}"),
        failure: Failure::Io,
        doing: "start",
        key: None,
        rdb_type: None,
    })?;
    let mut rd = RdbReader::new(file, size, &name, options(c))?;
    let rules = Rules::of(c);
    let mut builder = DbBuilder::new(c);
    let mut stats = LoadStats::default();
    let at = std::cell::Cell::new(0u64);
    each_key(&mut rd, rules, &mut stats, |db, key, entry, access| {
        at.set(at.get() + 1);
        builder
            .insert(db, key, entry, access)
            .map_err(|what| dup_error(&name, what))
    })?;
    stats.keys_loaded = at.get();
    log_done(&stats);
    Ok(LoadedData {
        dbs: builder.dbs,
        stats,
        aux: rd.aux.into_iter().map(|(_, k, v)| (k, v)).collect(),
    })
}

fn dup_error(file: &str, what: String) -> LoadError {
    LoadError {
        file: file.to_string(),
        offset: 0,
        what,
        failure: Failure::Corrupt,
        doing: "read-key",
        key: None,
        rdb_type: None,
    }
}

fn open(path: &Path) -> io::Result<(File, u64)> {
    let f = File::open(path)?;
    let size = f.metadata()?.len();
    Ok((f, size))
}

/// Valkey's line at the end of a successful parse.
fn log_done(s: &LoadStats) {
    if s.empty_keys_skipped > 0 {
        tracing::info!(
            "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}, all fields expired hashes: 0.",
            s.keys_loaded,
            s.keys_expired,
            s.empty_keys_skipped
        );
    } else {
        tracing::info!(
            "Done loading RDB, keys loaded: {}, keys expired: {}, all fields expired hashes: 0.",
            s.keys_loaded,
            s.keys_expired
        );
    }
}

// ---------------------------------------------------------------------------
// In the background, at startup

/// Keys parsed on the loader thread, for the main thread to insert.
struct Batch {
    /// The keys, end to end.
    keys: Vec<u8>,
    /// (db, end of the key in `keys`, entry, access override).
    items: Vec<(usize, usize, Entry, Option<u32>)>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            keys: Vec::with_capacity(16 * BATCH_KEYS),
            items: Vec::with_capacity(BATCH_KEYS),
        }
    }
}

/// What the loader thread sends.
enum Msg {
    Batch(Batch),
    /// Parsed to the end and the checksum matched.
    Done(LoadStats),
    /// The report of a failure (keys read, expires, aux fields at offsets).
    Failed(Box<(LoadError, u64, u64, Vec<(u64, String, String)>, LoadStats)>),
}

/// A load running in the background, owned by the main loop.
pub struct Loader {
    rx: Receiver<Msg>,
    builder: DbBuilder,
    started: Instant,
    /// "Ready to accept connections" lines, logged once loaded.
    ready: Vec<&'static str>,
    keys_loaded: u64,
    /// `loading-process-events-interval-bytes`: keys' bytes inserted per
    /// turn before clients are served again.
    turn_bytes: usize,
    /// Batches were left in the channel at the end of the last turn.
    behind: bool,
}

/// Starts loading `dir`/`dbfilename` if it exists: None (and the ready
/// lines logged) when there is no file; Err when it cannot be opened.
pub fn start(state: &mut State, ready: Vec<&'static str>) -> io::Result<Option<Loader>> {
    let c = &state.config;
    let path: PathBuf = Path::new(if c.dir.is_empty() { "." } else { &c.dir }).join(&c.dbfilename);
    let (file, size) = match open(&path) {
        Ok(x) => x,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            log_ready(&ready);
            return Ok(None);
        }
        Err(e) => {
            tracing::warn!(
                "Fatal error: can't open the RDB file {} for reading: {e}",
                c.dbfilename
            );
            tracing::warn!("Fatal error loading the DB, check server logs. Exiting.");
            return Err(e);
        }
    };
    let name = c.dbfilename.clone();
    let reader = match RdbReader::new(file, size, &name, options(c)) {
        Ok(r) => r,
        Err(e) => {
            report(&e, 0, 0, &[], &LoadStats::default(), true);
            return Err(io::Error::other(e.to_string()));
        }
    };
    state.rdb_load.in_progress = Some(LoadProgress {
        start_unix: crate::keyspace::now_ms() / 1000,
        total_bytes: size,
        loaded_bytes: reader.progress.clone(),
        rdb_used_mem: reader.used_mem.clone(),
    });
    state.rdb_load.keys_loaded = 0;
    state.rdb_load.keys_expired = 0;
    state.mode.loading = true;
    let (tx, rx) = sync_channel(BATCHES_IN_FLIGHT);
    let rules = Rules::of(c);
    std::thread::Builder::new()
        .name("rdb-load".into())
        .spawn(move || parse_thread(reader, rules, tx))?;
    let turn_bytes = c
        .extra
        .get("loading-process-events-interval-bytes")
        .and_then(|v| v.parse().ok())
        .unwrap_or(2 << 20);
    Ok(Some(Loader {
        rx,
        builder: DbBuilder::new(c),
        started: Instant::now(),
        ready,
        keys_loaded: 0,
        turn_bytes,
        behind: false,
    }))
}

fn log_ready(ready: &[&'static str]) {
    for line in ready {
        tracing::info!("{line}");
    }
}

/// The loader thread: parse, batch, send; then the outcome.
fn parse_thread(mut rd: RdbReader<File>, rules: Rules, tx: SyncSender<Msg>) {
    let mut stats = LoadStats::default();
    let mut batch = Batch::new();
    let r = each_key(&mut rd, rules, &mut stats, |db, key, entry, access| {
        batch.keys.extend_from_slice(key);
        batch.items.push((db, batch.keys.len(), entry, access));
        if batch.items.len() >= BATCH_KEYS || batch.keys.len() >= BATCH_BYTES || rules.delay != 0 {
            let full = std::mem::replace(&mut batch, Batch::new());
            if tx.send(Msg::Batch(full)).is_err() {
                // The main thread is gone (shutdown while loading).
                return Err(LoadError {
                    file: String::new(),
                    offset: 0,
                    what: "stopped".into(),
                    failure: Failure::Io,
                    doing: "start",
                    key: None,
                    rdb_type: None,
                });
            }
        }
        Ok(())
    });
    let msg = match r {
        Ok(()) => {
            if !batch.items.is_empty() && tx.send(Msg::Batch(batch)).is_err() {
                return;
            }
            Msg::Done(stats)
        }
        Err(e) => Msg::Failed(Box::new((
            e,
            rd.keys_read,
            rd.expires,
            std::mem::take(&mut rd.aux),
            stats,
        ))),
    };
    let _ = tx.send(msg);
}

impl Loader {
    /// How long the main loop may sleep in its poll.
    pub fn poll_timeout(&self) -> Duration {
        if self.behind {
            Duration::ZERO
        } else {
            Duration::from_millis(1)
        }
    }

    /// One event-loop turn's share of the load: inserts what the loader
    /// thread parsed, for a bounded time; installs the dbs when it is
    /// done. Ok(true) when the load finished; Err after a failure was
    /// reported (the server must exit).
    pub fn step(&mut self, state: &mut State) -> io::Result<bool> {
        let deadline = Instant::now() + TURN_BUDGET;
        let mut bytes = 0usize;
        self.behind = false;
        loop {
            let msg = match self.rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Empty) => return Ok(false),
                Err(TryRecvError::Disconnected) => {
                    tracing::warn!("The RDB loader thread stopped unexpectedly.");
                    return Err(io::Error::other("the RDB loader thread stopped"));
                }
            };
            match msg {
                Msg::Batch(b) => {
                    let mut from = 0;
                    for (db, end, entry, access) in b.items {
                        let key = &b.keys[from..end];
                        from = end;
                        if let Err(what) = self.builder.insert(db, key, entry, access) {
                            tracing::warn!("{what}");
                            tracing::warn!("Terminating server after rdb file reading failure.");
                            return Err(io::Error::other(what));
                        }
                        self.keys_loaded += 1;
                    }
                    bytes += b.keys.len();
                    state.rdb_load.keys_loaded = self.keys_loaded;
                    if bytes >= self.turn_bytes || Instant::now() >= deadline {
                        self.behind = true;
                        return Ok(false);
                    }
                }
                Msg::Done(mut stats) => {
                    stats.keys_loaded = self.keys_loaded;
                    log_done(&stats);
                    self.install(state, stats);
                    return Ok(true);
                }
                Msg::Failed(f) => {
                    let (e, keys_read, expires, aux, stats) = *f;
                    report(&e, keys_read, expires, &aux, &stats, self.builder.hide_keys);
                    return Err(io::Error::other(e.to_string()));
                }
            }
        }
    }

    fn install(&mut self, state: &mut State, stats: LoadStats) {
        for (live, fresh) in state.dbs.iter_mut().zip(self.builder.dbs.iter_mut()) {
            live.swap_contents(fresh);
        }
        state.rdb_load.in_progress = None;
        state.rdb_load.keys_loaded = stats.keys_loaded;
        state.rdb_load.keys_expired = stats.keys_expired;
        state.mode.loading = false;
        tracing::info!(
            "DB loaded from disk: {:.3} seconds",
            self.started.elapsed().as_secs_f64()
        );
        log_ready(&self.ready);
        // The emptied dbs (the server started empty) go off-thread anyway.
        let old = std::mem::take(&mut self.builder.dbs);
        state.garbage.push(Box::new(old));
    }
}

/// Reports a failed load as Valkey does: the reason, then (for a corrupt
/// or truncated file) the summary its RDB check prints, naming the file,
/// the offset, what was being read and the key.
fn report(
    e: &LoadError,
    keys_read: u64,
    expires: u64,
    aux: &[(u64, String, String)],
    stats: &LoadStats,
    hide_keys: bool,
) {
    use crate::log::RAW;
    match e.failure {
        Failure::Refused => {
            tracing::warn!("{}", e.what);
            tracing::warn!("Fatal error loading the DB, check server logs. Exiting.");
            return;
        }
        Failure::TooManyDbs => {
            tracing::warn!("{}", e.what.trim_end());
            return;
        }
        Failure::Truncated | Failure::Io => {
            tracing::warn!("Short read or OOM loading DB. Unrecoverable error, aborting now.");
        }
        Failure::Corrupt | Failure::Checksum | Failure::Unsupported => {}
    }
    tracing::warn!(
        "Internal error in RDB reading offset {}, function at rdb.c:0 -> {}",
        e.offset,
        e.what
    );
    tracing::warn!(target: RAW, "[offset 0] Checking RDB file {}", e.file);
    for (at, k, v) in aux {
        tracing::warn!(target: RAW, "[offset {at}] AUX FIELD {k} = '{v}'");
    }
    tracing::warn!(target: RAW, "--- RDB ERROR DETECTED ---");
    tracing::warn!(target: RAW, "[offset {}] {}", e.offset, e.what);
    tracing::warn!(target: RAW, "[additional info] While doing: {}", e.doing);
    if let Some(k) = &e.key {
        if !hide_keys {
            let k = String::from_utf8_lossy(k);
            tracing::warn!(target: RAW, "[additional info] Reading key '{k}'");
        }
    }
    if let Some(t) = e.rdb_type {
        tracing::warn!(target: RAW, "[additional info] Reading type {t} ({})", type_name(t));
    }
    tracing::warn!(target: RAW, "[info] {keys_read} keys read");
    tracing::warn!(target: RAW, "[info] {expires} expires");
    tracing::warn!(target: RAW, "[info] {} already expired", stats.keys_expired);
    tracing::warn!(target: RAW, "[info] 0 functions");
    tracing::warn!("Terminating server after rdb file reading failure.");
}

/// INFO's `loading_*` fields while a load runs (Valkey's formulas).
pub fn info_fields(p: &LoadProgress, now_unix: i64) -> [(&'static str, String); 6] {
    let loaded = p.loaded_bytes.load(Ordering::Relaxed);
    let total = p.total_bytes;
    let perc = if total == 0 {
        0.0
    } else {
        loaded as f64 / total as f64 * 100.0
    };
    let elapsed = (now_unix - p.start_unix).max(0) as u64;
    let eta = if elapsed == 0 || loaded == 0 {
        1
    } else {
        elapsed.saturating_mul(total.saturating_sub(loaded)) / loaded
    };
    [
        ("loading_start_time", p.start_unix.to_string()),
        ("loading_total_bytes", total.to_string()),
        (
            "loading_rdb_used_mem",
            p.rdb_used_mem.load(Ordering::Relaxed).to_string(),
        ),
        ("loading_loaded_bytes", loaded.to_string()),
        ("loading_loaded_perc", format!("{perc:.2}")),
        ("loading_eta_seconds", eta.to_string()),
    ]
}
