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
//!
//! A file's function libraries (their code, gathered by the parser) go to
//! `load_function_libraries`, the scripting engine's hook, once the whole
//! file has parsed and before anything is installed; its refusal fails
//! the load like any corrupt file.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::commands::reload::Reloaded;
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
/// How many keys ahead of the insert their buckets are prefetched.
const PREFETCH_AHEAD: usize = 8;
/// Main-thread time one event-loop turn may spend inserting.
const TURN_BUDGET: Duration = Duration::from_millis(2);

/// Counters of a load (INFO `rdb_last_load_*` and the "Done loading" line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub keys_loaded: u64,
    pub keys_expired: u64,
    pub empty_keys_skipped: u64,
    /// Function libraries read (check-rdb's "[info] N functions").
    pub functions: u64,
}

/// A file loaded into fresh dbs (not installed anywhere yet).
pub struct LoadedData {
    pub dbs: Vec<Db>,
    /// The file's function libraries (their code), checked.
    pub functions: Vec<Bytes>,
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
    /// Keys already expired are loaded too (an AOF's RDB part: Valkey's
    /// RDBFLAGS_AOF_PREAMBLE keeps them for the commands after it).
    keep_expired: bool,
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
            keep_expired: false,
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

/// Why the scripting engine refused a file's function libraries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryRefused {
    /// The refused library: its index in the list handed over.
    pub index: usize,
    /// Valkey's reason, logged after "Failed loading library, ".
    pub reason: String,
}

/// THE HOOK where the scripting engine plugs into loading (issue 13):
/// every RDB load (startup, an AOF's RDB part, DEBUG RELOAD) hands it the
/// file's function libraries, each one's code (`#!lua name=<lib>` first)
/// in file order, once the whole file has parsed and its checksum matched,
/// before any key is installed. Err refuses the whole load (nothing is
/// installed), reported as Valkey's "Failed loading library, <reason>" at
/// that library's offset. Runs on the thread that parsed the file (the
/// loader thread at startup, the main thread for DEBUG RELOAD).
///
/// The libraries are loaded here into a Lua state of this thread, which
/// checks them as FUNCTION LOAD would; the codes then go with the dbs to
/// the main thread, which loads them into the server's own state when it
/// installs the dbs (`install_functions`).
pub fn load_function_libraries(codes: &[Bytes]) -> Result<(), LibraryRefused> {
    if codes.is_empty() {
        return Ok(());
    }
    crate::script::library::Libraries::from_codes(codes)
        .map(|_| ())
        .map_err(|(index, reason)| LibraryRefused { index, reason })
}

/// Makes a loaded file's libraries the server's (on the main thread).
pub fn install_functions(state: &mut State, codes: &[Bytes]) {
    match crate::script::library::Libraries::from_codes(codes) {
        Ok(libs) => state.functions = Some(Box::new(libs)),
        Err((_, reason)) => {
            // Checked when the file was read: not expected.
            tracing::warn!("Failed loading library, {reason}");
        }
    }
}

/// After the whole file parsed: its function libraries to the engine
/// (`load_function_libraries`); a refusal becomes the load's error.
fn hand_over_functions<R: io::Read>(
    rd: &mut RdbReader<R>,
    stats: &mut LoadStats,
) -> Result<Vec<Bytes>, LoadError> {
    let libs = std::mem::take(&mut rd.functions);
    stats.functions = libs.len() as u64;
    let offsets: Vec<u64> = libs.iter().map(|(at, _)| *at).collect();
    let codes: Vec<Bytes> = libs.into_iter().map(|(_, code)| code).collect();
    load_function_libraries(&codes)
        .map(|()| codes)
        .map_err(|r| LoadError {
            file: rd.file().to_string(),
            offset: offsets.get(r.index).copied().unwrap_or(0),
            what: format!("Failed loading library, {}", r.reason),
            failure: Failure::Unsupported,
            doing: "read-functions",
            key: None,
            rdb_type: None,
        })
}

/// Runs through every record: empty keys skipped and logged, expired ones
/// dropped and counted, the rest passed to `keep` as (db, key, entry,
/// access override); `reserve` gets the dbs' size hints.
fn each_key<R: io::Read>(
    rd: &mut RdbReader<R>,
    rules: Rules,
    stats: &mut LoadStats,
    mut reserve: impl FnMut(usize, u64),
    mut keep: impl FnMut(usize, &[u8], Entry, Option<u32>) -> Result<(), LoadError>,
) -> Result<(), LoadError> {
    let mut n: u64 = 0;
    while let Some(rec) = rd.next_key()? {
        n += 1;
        let access = rules.access(&rec);
        let Record {
            db,
            key,
            value,
            expire_ms,
            size_hint,
            ..
        } = rec;
        if let Some(n) = size_hint {
            reserve(db, n);
        }
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
            Some(_) if !rules.keep_expired && expire_ms.is_some_and(|t| t < rules.now) => {
                stats.keys_expired += 1
            }
            Some(value) => {
                let entry = Entry::new(&key, value, expire_ms.unwrap_or(0), 0);
                keep(db, &key, entry, access)?;
            }
        }
        if rules.delay > 0 {
            std::thread::sleep(Duration::from_micros(rules.delay as u64));
        } else if rules.delay < 0 && n.is_multiple_of(rules.delay.unsigned_abs()) {
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

    /// Sizes an empty db for `keys` keys, as Valkey's dbExpand on RESIZEDB.
    fn reserve(&mut self, db: usize, keys: u64) {
        if let Some(d) = self.dbs.get_mut(db) {
            d.reserve(usize::try_from(keys).unwrap_or(usize::MAX));
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
    let builder = DbBuilder::new(c);
    let mut stats = LoadStats::default();
    let mut loaded = 0u64;
    let builder = std::cell::RefCell::new(builder);
    each_key(
        &mut rd,
        rules,
        &mut stats,
        |db, n| builder.borrow_mut().reserve(db, n),
        |db, key, entry, access| {
            loaded += 1;
            builder
                .borrow_mut()
                .insert(db, key, entry, access)
                .map_err(|what| dup_error(&name, what))
        },
    )?;
    let functions = hand_over_functions(&mut rd, &mut stats)?;
    let builder = builder.into_inner();
    stats.keys_loaded = loaded;
    log_done(&stats);
    Ok(LoadedData {
        dbs: builder.dbs,
        functions,
        stats,
        aux: rd.aux.into_iter().map(|(_, k, v)| (k, v)).collect(),
    })
}

/// DEBUG RELOAD's loader (`commands::reload::RDB_LOADER`): `load_file`,
/// with a failure logged (the server goes on with its dataset).
pub fn load_for_reload(path: &Path, c: &Config) -> Option<Reloaded> {
    match load_file(path, c) {
        Ok(d) => Some(Reloaded {
            dbs: d.dbs,
            functions: d.functions,
            keys_loaded: d.stats.keys_loaded,
            keys_expired: d.stats.keys_expired,
        }),
        Err(e) => {
            tracing::warn!("Error loading the RDB file for DEBUG RELOAD: {e}");
            None
        }
    }
}

/// Makes DEBUG RELOAD able to load (called wherever a server is built).
pub fn register_reload() {
    let _ = crate::commands::reload::RDB_LOADER.set(load_for_reload);
    let _ = crate::commands::reload::AOF_LOADER.set(super::aof_load::load_sync);
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
    /// Size hints (db, keys) to apply before the items.
    hints: Vec<(usize, u64)>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            keys: Vec::with_capacity(16 * BATCH_KEYS),
            items: Vec::with_capacity(BATCH_KEYS),
            hints: Vec::new(),
        }
    }
}

/// What the loader thread sends.
enum Msg {
    Batch(Batch),
    /// Parsed to the end and the checksum matched; the offset after it
    /// and the file's function libraries.
    Done(LoadStats, u64, Vec<Bytes>),
    Failed(Box<Failed>),
}

/// What the failure report needs from the loader thread.
struct Failed {
    error: LoadError,
    keys_read: u64,
    expires: u64,
    /// The AUX fields read, at their offsets.
    aux: Vec<(u64, String, String)>,
    stats: LoadStats,
}

/// What the main loop drives at startup: an RDB file, or the AOF
/// (`appendonly yes`, `exec::aof_load`).
pub enum Loader {
    Rdb(RdbLoad),
    Aof(Box<super::aof_load::AofLoad>),
}

impl Loader {
    /// How long the main loop may sleep in its poll.
    pub fn poll_timeout(&self) -> Duration {
        match self {
            Loader::Rdb(l) => l.poll_timeout(),
            Loader::Aof(l) => l.poll_timeout(),
        }
    }

    /// One event-loop turn's share of the load; Ok(true) once it is
    /// installed, Err after a failure was reported (the server must exit).
    pub fn step(&mut self, state: &mut State) -> io::Result<bool> {
        match self {
            Loader::Rdb(l) => l.step(state),
            Loader::Aof(l) => l.step(state),
        }
    }
}

/// An RDB file loading in the background.
pub struct RdbLoad {
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
    /// Install the dbs when done (false: an AOF's RDB part, whose dbs the
    /// AOF loader takes with `take_done`).
    install: bool,
    /// The counts and the offset after the RDB part, once done.
    done: Option<(LoadStats, u64)>,
    /// Bytes parsed so far (the reader's, shared with its thread).
    pub progress: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Starts loading the dataset: the AOF with `appendonly yes`
/// (`exec::aof_load`), else `dir`/`dbfilename` if it exists. None (and the
/// ready lines logged) when there is nothing to load; Err when it cannot
/// be loaded (reported; the server exits).
pub fn start(state: &mut State, ready: Vec<&'static str>) -> io::Result<Option<Loader>> {
    // The manifest is read whatever `appendonly` says, as Valkey does.
    let manifest = super::aof_load::read_manifest(state)?;
    if state.config.appendonly {
        return super::aof_load::start(state, manifest, ready);
    }
    state.aof_manifest = manifest;
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
    let progress = reader.progress.clone();
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
    Ok(Some(Loader::Rdb(RdbLoad {
        rx,
        builder: DbBuilder::new(c),
        started: Instant::now(),
        ready,
        keys_loaded: 0,
        turn_bytes,
        behind: false,
        install: true,
        done: None,
        progress,
    })))
}

/// Starts loading the RDB part of an AOF file (`file`, opened, of `size`
/// bytes, `name` in messages) into fresh dbs that are not installed:
/// expired keys are kept, as Valkey loads an AOF preamble. Err after the
/// failure was reported.
pub(super) fn start_aof_part(
    c: &Config,
    file: File,
    size: u64,
    name: &str,
) -> Result<RdbLoad, LoadError> {
    let reader = RdbReader::new(file, size, name, options(c))?;
    let progress = reader.progress.clone();
    let (tx, rx) = sync_channel(BATCHES_IN_FLIGHT);
    let mut rules = Rules::of(c);
    rules.keep_expired = true;
    std::thread::Builder::new()
        .name("rdb-load".into())
        .spawn(move || parse_thread(reader, rules, tx))
        .map_err(|e| LoadError {
            file: name.to_string(),
            offset: 0,
            what: format!("can't start the loader thread: {e}"),
            failure: Failure::Io,
            doing: "start",
            key: None,
            rdb_type: None,
        })?;
    let turn_bytes = c
        .extra
        .get("loading-process-events-interval-bytes")
        .and_then(|v| v.parse().ok())
        .unwrap_or(2 << 20);
    Ok(RdbLoad {
        rx,
        builder: DbBuilder::new(c),
        started: Instant::now(),
        ready: Vec::new(),
        keys_loaded: 0,
        turn_bytes,
        behind: false,
        install: false,
        done: None,
        progress,
    })
}

fn log_ready(ready: &[&'static str]) {
    for line in ready {
        tracing::info!("{line}");
    }
}

/// The loader thread: parse, batch, send; then the outcome.
fn parse_thread(mut rd: RdbReader<File>, rules: Rules, tx: SyncSender<Msg>) {
    let mut stats = LoadStats::default();
    let batch = std::cell::RefCell::new(Batch::new());
    let r = each_key(
        &mut rd,
        rules,
        &mut stats,
        |db, n| batch.borrow_mut().hints.push((db, n)),
        |db, key, entry, access| {
            let mut batch = batch.borrow_mut();
            batch.keys.extend_from_slice(key);
            let end = batch.keys.len();
            batch.items.push((db, end, entry, access));
            if batch.items.len() >= BATCH_KEYS
                || batch.keys.len() >= BATCH_BYTES
                || rules.delay != 0
            {
                let full = std::mem::replace(&mut *batch, Batch::new());
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
        },
    );
    let r = r.and_then(|()| hand_over_functions(&mut rd, &mut stats));
    let batch = batch.into_inner();
    let msg = match r {
        Ok(functions) => {
            if !batch.items.is_empty() && tx.send(Msg::Batch(batch)).is_err() {
                return;
            }
            Msg::Done(stats, rd.pos(), functions)
        }
        Err(error) => Msg::Failed(Box::new(Failed {
            error,
            keys_read: rd.keys_read,
            expires: rd.expires,
            aux: std::mem::take(&mut rd.aux),
            stats: LoadStats {
                functions: stats.functions.max(rd.functions.len() as u64),
                ..stats
            },
        })),
    };
    let _ = tx.send(msg);
}

impl RdbLoad {
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
                    for &(db, n) in &b.hints {
                        self.builder.reserve(db, n);
                    }
                    // Each insert starts with a probe of a bucket no cache
                    // holds: ask for the buckets a few keys ahead.
                    let dbs = &self.builder.dbs;
                    let mut starts = Vec::with_capacity(b.items.len());
                    let mut hashes = Vec::with_capacity(b.items.len());
                    let mut from = 0;
                    for (db, end, ..) in &b.items {
                        starts.push(from);
                        let h = dbs.get(*db).map_or(0, |d| d.hash(&b.keys[from..*end]));
                        hashes.push((*db, h));
                        from = *end;
                    }
                    for &(db, h) in hashes.iter().take(PREFETCH_AHEAD) {
                        self.prefetch(db, h);
                    }
                    for (i, (db, end, entry, access)) in b.items.into_iter().enumerate() {
                        if let Some(&(ahead, h)) = hashes.get(i + PREFETCH_AHEAD) {
                            self.prefetch(ahead, h);
                        }
                        let key = &b.keys[starts[i]..end];
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
                Msg::Done(mut stats, end, functions) => {
                    stats.keys_loaded = self.keys_loaded;
                    log_done(&stats);
                    if !functions.is_empty() {
                        install_functions(state, &functions);
                    }
                    if self.install {
                        self.install(state, stats);
                    } else {
                        self.done = Some((stats, end));
                    }
                    return Ok(true);
                }
                Msg::Failed(f) => {
                    let hide = self.builder.hide_keys;
                    report(&f.error, f.keys_read, f.expires, &f.aux, &f.stats, hide);
                    return Err(io::Error::other(f.error.to_string()));
                }
            }
        }
    }

    /// An uninstalled load that finished: its dbs, counts and the offset
    /// after the RDB part.
    pub(super) fn take_done(&mut self) -> Option<(Vec<Db>, LoadStats, u64)> {
        let (stats, end) = self.done.take()?;
        Some((std::mem::take(&mut self.builder.dbs), stats, end))
    }

    fn prefetch(&self, db: usize, hash: u64) {
        if let Some(p) = self.builder.dbs.get(db).and_then(|d| d.bucket_addr(hash)) {
            super::prefetch::prefetch(p);
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
pub(super) fn report(
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
    tracing::warn!(target: RAW, "[info] {} functions", stats.functions);
    tracing::warn!("Terminating server after rdb file reading failure.");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::db::Access;
    use crate::persist::codec::{write_len, write_string};
    use crate::persist::crc64;

    fn key(f: &mut Vec<u8>, k: &str, v: &str) {
        f.push(0);
        write_string(f, k.as_bytes(), false);
        write_string(f, v.as_bytes(), false);
    }

    fn write(name: &str, body: &[u8]) -> PathBuf {
        let mut f = b"REDIS0011".to_vec();
        f.extend_from_slice(body);
        f.push(0xff);
        let crc = crc64(&f);
        f.extend_from_slice(&crc.to_le_bytes());
        let p =
            std::env::temp_dir().join(format!("ferrokey-loading-{}-{name}", std::process::id()));
        std::fs::write(&p, f).unwrap();
        p
    }

    #[test]
    fn function_libraries_reach_the_hook_after_the_whole_file() {
        assert_eq!(load_function_libraries(&[]), Ok(()));
        // Valkey's file: two libraries, three keys; both libraries load.
        let path = std::env::temp_dir().join(format!(
            "ferrokey-loading-{}-functions.rdb",
            std::process::id()
        ));
        std::fs::write(&path, crate::persist::functions_dump::fixtures::RDB).unwrap();
        let data = load_file(&path, &Config::default()).unwrap();
        assert_eq!(data.functions.len(), 2);
        assert_eq!(data.stats.functions, 2);
        let libs = crate::script::library::Libraries::from_codes(&data.functions).unwrap();
        assert_eq!(libs.libraries().count(), 2);
        // The same library twice: refused whole, at the second's offset.
        let code = b"#!lua name=dup\nredis.register_function('f', function() return 1 end)";
        let mut body = Vec::new();
        let mut second = 0;
        for i in 0..2 {
            if i == 1 {
                second = 9 + body.len();
            }
            body.push(245);
            write_string(&mut body, code, false);
        }
        let p = write("dup-functions.rdb", &body);
        let e = load_file(&p, &Config::default()).err().unwrap();
        assert_eq!(e.failure, Failure::Unsupported);
        assert_eq!(
            e.what,
            "Failed loading library, Library 'dup' already exists"
        );
        assert_eq!(e.doing, "read-functions");
        assert_eq!(e.offset, second as u64);
        assert!(load_for_reload(&p, &Config::default()).is_none());
        let _ = std::fs::remove_file(&p);
        // A library cut short is the usual truncation, not the hook's.
        let mut b = vec![245];
        write_len(&mut b, 100);
        b.extend_from_slice(b"#!lua name=x");
        let mut f = b"REDIS0011".to_vec();
        f.extend_from_slice(&b);
        std::fs::write(&path, &f).unwrap();
        let e = load_file(&path, &Config::default()).err().unwrap();
        assert_eq!((e.failure, e.offset), (Failure::Truncated, 10), "{e}");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn load_file_builds_fresh_dbs() {
        let now = crate::keyspace::now_ms();
        let mut b = Vec::new();
        key(&mut b, "plain", "v");
        b.push(0xfc);
        b.extend_from_slice(&(now + 3_600_000).to_le_bytes());
        key(&mut b, "ttl", "v");
        b.push(0xfc);
        b.extend_from_slice(&(now - 1000).to_le_bytes());
        key(&mut b, "expired", "v");
        b.push(0xf8); // IDLE 500 s
        write_len(&mut b, 500);
        key(&mut b, "idle", "v");
        b.push(0xfe);
        write_len(&mut b, 3);
        b.push(0xf9); // FREQ: ignored without an LFU policy
        b.push(42);
        key(&mut b, "in3", "x");
        b.extend_from_slice(&[0x02, 0x05]); // an empty set: skipped
        b.extend_from_slice(b"empty\x00");
        let path = write("sync", &b);
        let c = Config::default();
        let mut data = load_file(&path, &c).unwrap();
        assert_eq!(
            data.stats,
            LoadStats {
                keys_loaded: 4,
                keys_expired: 1,
                empty_keys_skipped: 1,
                functions: 0,
            }
        );
        assert_eq!(data.dbs.len(), c.databases);
        assert_eq!((data.dbs[0].len(), data.dbs[3].len()), (3, 1));
        assert_eq!(data.dbs[0].expires_len(), 1);
        let e = data.dbs[0].lookup(b"ttl", now, Access::PEEK).unwrap();
        assert_eq!(e.expire(), now + 3_600_000);
        let e = data.dbs[0].lookup(b"idle", now, Access::PEEK).unwrap();
        assert!(
            (499..=501).contains(&e.idle_secs(now)),
            "{}",
            e.idle_secs(now)
        );
        let e = data.dbs[3].lookup(b"in3", now, Access::PEEK).unwrap();
        assert!(e.idle_secs(now) <= 1);

        // Under an LFU policy FREQ sets the counter.
        let lfu = Config {
            maxmemory_policy: "allkeys-lfu".into(),
            ..Config::default()
        };
        let mut data = load_file(&path, &lfu).unwrap();
        let e = data.dbs[3].lookup(b"in3", now, Access::PEEK).unwrap();
        assert_eq!(e.freq(now), 42);
        std::fs::remove_file(&path).unwrap();

        // A duplicated key, a missing file, a corrupt one.
        let mut b = Vec::new();
        key(&mut b, "k", "1");
        key(&mut b, "k", "2");
        let path = write("dup", &b);
        let e = load_file(&path, &c).err().unwrap();
        assert_eq!(e.what, "RDB has duplicated key 'k' in DB 0");
        std::fs::write(&path, b"REDIS0011\x00\x01k").unwrap();
        let e = load_file(&path, &c).err().unwrap();
        assert_eq!(e.failure, Failure::Truncated);
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        std::fs::remove_file(&path).unwrap();
        let e = load_file(&path, &c).err().unwrap();
        assert_eq!(e.failure, Failure::Io);
    }
}
