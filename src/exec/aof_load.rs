//! Loading the append-only file at startup (`appendonly yes`), as Valkey's
//! loadDataFromDisk / loadAppendOnlyFiles: the AOF wins over the RDB file
//! (which is not read even when there is no AOF).
//!
//! The files are those the manifest (`appenddirname`/`<appendfilename>
//! .manifest`) lists: the BASE, then each INCR file in order. A Redis ≤ 6
//! single file (`dir`/`appendfilename` and no usable manifest) is first
//! moved into the multi-part layout as Valkey's aofUpgradePrepare does
//! (directory, a manifest naming it as BASE seq 1, then the rename). Every
//! listed file must exist (its size is taken first, for INFO's
//! `loading_total_bytes`), or startup stops.
//!
//! A file starting with an RDB signature is loaded as RDB by the RDB
//! loader (its thread, keys kept even when expired, as Valkey loads an AOF
//! preamble), and whatever follows its checksum is read as commands
//! (`persist::aof_read`) and replayed through the one call path as the AOF
//! client (`call::AOF_CLIENT_ID`, `Origin::AofLoad`): never refused, never
//! blocked (a blocking command answers as at its timeout), replies
//! dropped, and what it would propagate dropped too (this AOF already
//! holds it).
//!
//! The load runs in steps between turns of the event loop, so clients get
//! `-LOADING` and INFO shows the progress. Replay needs the call path,
//! which works on `State::dbs`: the loader keeps its dbs apart and swaps
//! their contents in only for its own step (O(databases)), so between
//! steps the live dbs stay empty, cron and saves see nothing half-loaded,
//! and the dataset is installed only when every file loaded. Any failure
//! is logged in Valkey's words and the server exits with status 1.
//!
//! A truncated last command (or a MULTI without its EXEC at the end) is
//! Valkey's short read: with `aof-load-truncated yes` the file is cut at
//! the end of the last whole command and the load goes on, if it is the
//! last file; otherwise startup stops. A file that is truncated but not
//! the last one is not cut (Valkey cuts it, then refuses to start anyway).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::call::{call, Origin, AOF_CLIENT_ID};
use super::loading::{Loader, RdbLoad};
use crate::commands::CMD_TABLE;
use crate::config::Config;
use crate::keyspace::Db;
use crate::persist::aof_manifest::{self, AofFile, FileKind, Manifest};
use crate::persist::aof_read::{AofReader, ReadError};
use crate::persist::rdb_read::LoadProgress;
use crate::resp::ReplyBuf;
use crate::state::{Client, Clients, State};
use crate::util::strerror;

/// Main-thread time one event-loop turn may spend replaying.
const TURN_BUDGET: Duration = Duration::from_millis(2);
/// Commands between two looks at the clock.
const CLOCK_EVERY: u32 = 32;

fn extra<'a>(c: &'a Config, name: &str, default: &'a str) -> &'a str {
    c.extra.get(name).map_or(default, String::as_str)
}

/// `dir` as a path ("." when unset).
fn data_dir(c: &Config) -> PathBuf {
    PathBuf::from(if c.dir.is_empty() { "." } else { &c.dir })
}

/// `dir`/`appenddirname`.
pub fn aof_dir(c: &Config) -> PathBuf {
    data_dir(c).join(extra(c, "appenddirname", "appendonlydir"))
}

/// `appendfilename`.
pub fn aof_filename(c: &Config) -> &str {
    extra(c, "appendfilename", "appendonly.aof")
}

/// Reads the manifest, if there is one (Valkey's aofLoadManifestFromDisk,
/// which runs whatever `appendonly` says). A bad one is logged and is an
/// error: the server exits.
pub fn read_manifest(state: &State) -> io::Result<Option<Manifest>> {
    let c = &state.config;
    match aof_manifest::load(&aof_dir(c), aof_filename(c)) {
        Ok(m) => Ok(m),
        Err(aof_manifest::LoadError::Io(line)) => {
            tracing::warn!("{line}");
            Err(io::Error::other(line))
        }
        Err(aof_manifest::LoadError::Format(e)) => {
            for line in e.log_lines() {
                tracing::warn!("{line}");
            }
            Err(io::Error::other(e.reason))
        }
    }
}

/// Valkey's fileExist: a regular file.
fn file_exists(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file())
}

/// aofUpgradePrepare: the old single file becomes the BASE of a
/// multi-part AOF (the directory, the manifest, then the move, so a crash
/// at any point is resumed by the next start).
fn upgrade(c: &Config, m: &mut Manifest) -> io::Result<()> {
    let dir = aof_dir(c);
    let dirname = extra(c, "appenddirname", "appendonlydir");
    let name = aof_filename(c);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        tracing::warn!(
            "Can't open or create append-only dir {dirname}: {}",
            strerror(&e)
        );
        return Err(e);
    }
    m.base = Some(AofFile {
        name: name.as_bytes().to_vec(),
        seq: 1,
        kind: FileKind::Base,
    });
    m.base_seq = 1;
    m.dirty = true;
    if let Err(line) = aof_manifest::persist(&dir, name, m) {
        tracing::warn!("{line}");
        return Err(io::Error::other(line));
    }
    if let Err(e) = std::fs::rename(data_dir(c).join(name), dir.join(name)) {
        tracing::warn!(
            "Error trying to move the old AOF file {name} into dir {dirname}: {}",
            strerror(&e)
        );
        return Err(e);
    }
    tracing::info!(
        "Successfully migrated an old-style AOF file ({name}) into the AOF directory ({dirname})."
    );
    Ok(())
}

/// Starts loading the AOF (`manifest`: the one read from disk). None when
/// there is nothing to load (the ready lines logged); Err after a failure
/// was logged.
pub fn start(
    state: &mut State,
    manifest: Option<Manifest>,
    ready: Vec<&'static str>,
) -> io::Result<Option<Loader>> {
    let started = Instant::now();
    let c = &state.config;
    let name = aof_filename(c).to_string();
    let dir = aof_dir(c);
    let found = manifest.is_some();
    let mut m = manifest.unwrap_or_default();
    // Three layouts mean an upgrade from a single-file AOF: no AOF dir, a
    // manifest listing nothing, or an interrupted upgrade (the manifest
    // names the old file as the only BASE, which is not moved yet).
    let mut upgraded = false;
    if file_exists(&data_dir(c).join(&name)) {
        let empty = m.base.is_none() && m.incr.is_empty();
        let interrupted = m.incr.is_empty()
            && m.base.as_ref().is_some_and(|b| b.name == name.as_bytes())
            && !file_exists(&dir.join(&name));
        if !dir.is_dir() || empty || interrupted {
            upgrade(c, &mut m)?;
            upgraded = true;
        }
    }
    if m.base.is_none() && m.incr.is_empty() {
        state.aof_manifest = (found || upgraded).then_some(m);
        log_lines(&ready);
        return Ok(None);
    }
    let mut files = Vec::new();
    let mut total = 0u64;
    for f in m.files_to_load() {
        let path = f.path(&dir);
        match std::fs::metadata(&path) {
            Ok(md) => total += md.len(),
            Err(e) => {
                tracing::warn!(
                    "Unable to obtain the AOF file {} length. stat: {}",
                    f.display(),
                    strerror(&e)
                );
                return Err(e);
            }
        }
        files.push(Part {
            name: f.display(),
            path,
            base: f.kind == FileKind::Base,
        });
    }
    if total == 0 {
        // Nothing in any file: loaded, with nothing to do.
        tracing::info!(
            "DB loaded from append only file: {:.3} seconds",
            started.elapsed().as_secs_f64()
        );
        state.aof_manifest = Some(m);
        log_lines(&ready);
        return Ok(None);
    }
    let progress = Arc::new(AtomicU64::new(0));
    state.rdb_load.in_progress = Some(LoadProgress {
        start_unix: crate::keyspace::now_ms() / 1000,
        total_bytes: total,
        loaded_bytes: progress.clone(),
        rdb_used_mem: Arc::default(),
    });
    state.rdb_load.keys_loaded = 0;
    state.rdb_load.keys_expired = 0;
    state.mode.loading = true;
    let mut clients = Clients::default();
    let nowhere = SocketAddr::from(([0, 0, 0, 0], 0));
    let slot = clients.insert(Client::new(AOF_CLIENT_ID, nowhere, nowhere, 0, true));
    let lfu = c.lfu_policy();
    let dbs = (0..c.databases)
        .map(|i| {
            let mut db = Db::new(i);
            db.lfu = lfu;
            db
        })
        .collect();
    Ok(Some(Loader::Aof(Box::new(AofLoad {
        old_style_name: name,
        files,
        next: 0,
        phase: Phase::Between,
        dbs,
        clients,
        slot,
        truncate_ok: extra(c, "aof-load-truncated", "yes") == "yes",
        key_load_delay: extra(c, "key-load-delay", "0").parse().unwrap_or(0),
        started,
        file_started: started,
        ready,
        done_bytes: 0,
        progress,
        manifest: Some(m),
        valid_up_to: 0,
        valid_before_multi: 0,
        behind: false,
    }))))
}

fn log_lines(lines: &[&'static str]) {
    for l in lines {
        tracing::info!("{l}");
    }
}

/// One file to load.
struct Part {
    name: String,
    path: PathBuf,
    base: bool,
}

enum Phase {
    /// Before the next file (or the end).
    Between,
    /// Its RDB part, on the RDB loader.
    Rdb(RdbLoad),
    /// Its commands.
    Resp(AofReader<File>),
}

/// How a file's commands ended.
enum Outcome {
    /// More next turn.
    More,
    Loaded,
    /// Cut at the last whole command (`aof-load-truncated yes`).
    Truncated,
}

/// The AOF being loaded, owned by the main loop (`loading::Loader::Aof`).
pub struct AofLoad {
    /// `appendfilename`: a file of that name is an old single-file AOF.
    old_style_name: String,
    files: Vec<Part>,
    /// The file being loaded, or next.
    next: usize,
    phase: Phase,
    /// The dataset being built (swapped into the live dbs while replaying).
    dbs: Vec<Db>,
    /// The AOF client, alone.
    clients: Clients,
    slot: usize,
    truncate_ok: bool,
    key_load_delay: i64,
    started: Instant,
    file_started: Instant,
    ready: Vec<&'static str>,
    /// Bytes of the files done.
    done_bytes: u64,
    /// INFO `loading_loaded_bytes`.
    progress: Arc<AtomicU64>,
    manifest: Option<Manifest>,
    /// Where the current file's last whole command ends, and where it
    /// ended before the MULTI in progress (Valkey's valid_up_to and
    /// valid_before_multi).
    valid_up_to: u64,
    valid_before_multi: u64,
    /// The last turn stopped for time, not for want of work.
    behind: bool,
}

impl AofLoad {
    /// How long the main loop may sleep in its poll: not at all while there
    /// is replaying to do.
    pub fn poll_timeout(&self) -> Duration {
        match &self.phase {
            Phase::Rdb(l) => l.poll_timeout(),
            _ => Duration::ZERO,
        }
    }

    /// One turn's share of the load. Ok(true) once installed; Err after a
    /// failure was logged.
    pub fn step(&mut self, state: &mut State) -> io::Result<bool> {
        let deadline = Instant::now() + TURN_BUDGET;
        self.behind = false;
        loop {
            match &mut self.phase {
                Phase::Between => {
                    if self.next == self.files.len() {
                        self.install(state);
                        return Ok(true);
                    }
                    self.open(state)?;
                }
                Phase::Rdb(l) => {
                    let part = &self.files[self.next];
                    let done = l.step(state).inspect_err(|_| {
                        if part.name == self.old_style_name {
                            tracing::warn!("Error reading the RDB preamble of the AOF file {}, AOF loading aborted", part.name);
                        } else {
                            tracing::warn!(
                                "Error reading the RDB base file {}, AOF loading aborted",
                                part.name
                            );
                        }
                    })?;
                    self.progress.store(
                        self.done_bytes + l.progress.load(Ordering::Relaxed),
                        Ordering::Relaxed,
                    );
                    if !done {
                        return Ok(false);
                    }
                    self.after_rdb(state)?;
                }
                Phase::Resp(_) => match self.replay(state, deadline)? {
                    Outcome::More => {
                        self.behind = true;
                        return Ok(false);
                    }
                    outcome => self.file_done(outcome)?,
                },
            }
            if Instant::now() >= deadline {
                self.behind = true;
                return Ok(false);
            }
        }
    }

    /// Opens the next file: its RDB part on the RDB loader, or its
    /// commands. An empty file is done at once.
    fn open(&mut self, state: &mut State) -> io::Result<()> {
        let part = &self.files[self.next];
        self.file_started = Instant::now();
        self.valid_up_to = 0;
        self.valid_before_multi = 0;
        let (mut file, size) = match File::open(&part.path).and_then(|f| {
            let n = f.metadata()?.len();
            Ok((f, n))
        }) {
            Ok(x) => x,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::warn!(
                    "The append log file {} doesn't exist: {}",
                    part.name,
                    strerror(&e)
                );
                return Err(e);
            }
            Err(e) => {
                tracing::warn!(
                    "Fatal error: can't open the append log file {} for reading: {}",
                    part.name,
                    strerror(&e)
                );
                return Err(e);
            }
        };
        if size == 0 {
            // Valkey's AOF_EMPTY: nothing loaded, nothing logged.
            self.next += 1;
            return Ok(());
        }
        let mut head = [0u8; 6];
        let n = read_up_to(&mut file, &mut head).map_err(|e| self.read_error(e))?;
        let rdb = head[..n].starts_with(b"REDIS") || head[..n].starts_with(b"VALKEY");
        if rdb {
            if part.name == self.old_style_name {
                tracing::info!("Reading RDB preamble from AOF file...");
            } else {
                tracing::info!("Reading RDB base file on AOF loading...");
            }
            if self.dbs.iter().any(|d| !d.is_empty()) {
                // Only a first file can be RDB here: its dbs are the
                // dataset the commands after it build on.
                tracing::warn!(
                    "Error reading the RDB base file {}, AOF loading aborted",
                    part.name
                );
                return Err(io::Error::other("an RDB part after the first file"));
            }
            file.seek(SeekFrom::Start(0))
                .map_err(|e| self.read_error(e))?;
            let l = super::loading::start_aof_part(&state.config, file, size, &part.name).map_err(
                |e| {
                    super::loading::report(&e, 0, 0, &[], &Default::default(), false);
                    tracing::warn!(
                        "Error reading the RDB base file {}, AOF loading aborted",
                        part.name
                    );
                    io::Error::other(e.to_string())
                },
            )?;
            self.phase = Phase::Rdb(l);
        } else {
            file.seek(SeekFrom::Start(0))
                .map_err(|e| self.read_error(e))?;
            self.phase = Phase::Resp(AofReader::new(file, 0, size));
        }
        Ok(())
    }

    /// Valkey's readerr that is not an end of file.
    fn read_error(&self, e: io::Error) -> io::Error {
        tracing::warn!(
            "Unrecoverable error reading the append only file {}: {}",
            self.files[self.next].name,
            strerror(&e)
        );
        e
    }

    /// The RDB part loaded: its dbs are the dataset; the commands after
    /// its checksum follow.
    fn after_rdb(&mut self, state: &mut State) -> io::Result<()> {
        let Phase::Rdb(l) = &mut self.phase else {
            return Ok(());
        };
        let Some((dbs, _, end)) = l.take_done() else {
            return Err(io::Error::other("the RDB part ended without its data"));
        };
        self.dbs = dbs;
        let _ = state;
        let part = &self.files[self.next];
        let size = std::fs::metadata(&part.path).map_or(end, |m| m.len());
        let mut file = File::open(&part.path).map_err(|e| self.read_error(e))?;
        file.seek(SeekFrom::Start(end))
            .map_err(|e| self.read_error(e))?;
        if part.name == self.old_style_name {
            tracing::info!("Reading the remaining AOF tail...");
        }
        self.valid_up_to = end;
        self.valid_before_multi = end;
        self.phase = Phase::Resp(AofReader::new(file, end, size));
        Ok(())
    }

    /// Replays commands of the current file until the deadline or its end.
    fn replay(&mut self, state: &mut State, deadline: Instant) -> io::Result<Outcome> {
        // Nothing expires while loading (Valkey's keyIsExpired): a key the
        // AOF gave a past expire keeps it until the load is done.
        for (live, mine) in state.dbs.iter_mut().zip(self.dbs.iter_mut()) {
            live.swap_contents(mine);
            live.set_loading(true);
        }
        // This AOF already holds what replaying propagates.
        let stream_mark = state.effects.stream.len();
        let r = self.replay_swapped(state, deadline);
        state.effects.stream.truncate(stream_mark);
        for (live, mine) in state.dbs.iter_mut().zip(self.dbs.iter_mut()) {
            live.swap_contents(mine);
            live.set_loading(false);
        }
        r
    }

    fn replay_swapped(&mut self, state: &mut State, deadline: Instant) -> io::Result<Outcome> {
        let Phase::Resp(reader) = &mut self.phase else {
            return Ok(Outcome::Loaded);
        };
        let name = &self.files[self.next].name;
        let mut out = ReplyBuf::new(2);
        let mut n = 0u32;
        loop {
            n += 1;
            if n.is_multiple_of(CLOCK_EVERY) || self.key_load_delay != 0 {
                self.progress
                    .store(self.done_bytes + reader.offset(), Ordering::Relaxed);
                if Instant::now() >= deadline {
                    return Ok(Outcome::More);
                }
            }
            let cmd = match reader.next_command() {
                Ok(Some(c)) => c,
                Ok(None) => {
                    self.done_bytes += reader.offset();
                    if self.clients.at(self.slot).in_multi {
                        tracing::warn!(
                            "Revert incomplete MULTI/EXEC transaction in AOF file {name}"
                        );
                        self.valid_up_to = self.valid_before_multi;
                        return self.short_read();
                    }
                    return Ok(Outcome::Loaded);
                }
                Err(ReadError::Truncated) => {
                    self.done_bytes += reader.offset();
                    return self.short_read();
                }
                Err(ReadError::Format(at)) => {
                    tracing::warn!(
                        "Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./valkey-check-aof --fix <filename.manifest>"
                    );
                    tracing::warn!("The bad format in {name} is at offset {at}");
                    return Err(io::Error::other("bad AOF format"));
                }
                Err(ReadError::Io(e)) => {
                    tracing::warn!(
                        "Unrecoverable error reading the append only file {name}: {}",
                        strerror(&e)
                    );
                    return Err(e);
                }
            };
            let argv: Vec<Bytes> = cmd.argv;
            if CMD_TABLE.find(&argv[0]).is_none() {
                tracing::warn!(
                    "Unknown command '{}' reading the append only file {name}",
                    String::from_utf8_lossy(&argv[0])
                );
                return Err(io::Error::other("unknown command in the AOF"));
            }
            let resolved = CMD_TABLE.resolve(&argv);
            let cmd_name = resolved.as_ref().map_or("", |&id| CMD_TABLE.specs[id].name);
            if cmd_name == "multi" {
                self.valid_before_multi = self.valid_up_to;
            }
            let queued = self.clients.at(self.slot).in_multi
                && !matches!(cmd_name, "exec" | "discard" | "quit" | "reset");
            let now = crate::keyspace::now_ms();
            call(
                state,
                &mut self.clients,
                self.slot,
                &argv,
                resolved,
                &mut out,
                now,
                Origin::AofLoad,
            );
            out.truncate(0);
            // Not counted in INFO, as Valkey calls the AOF's commands
            // directly (call() counts those its EXEC runs; a queued one
            // was uncounted when queued).
            if !queued {
                state.stats.commands_processed = state.stats.commands_processed.saturating_sub(1);
            }
            self.valid_up_to = cmd.end;
            if self.key_load_delay > 0 {
                std::thread::sleep(Duration::from_micros(self.key_load_delay as u64));
            }
        }
    }

    /// Valkey's unexpected end of file: cut at the last whole command and
    /// go on with `aof-load-truncated yes` if this is the last file.
    fn short_read(&mut self) -> io::Result<Outcome> {
        let part = &self.files[self.next];
        let name = &part.name;
        let last = self.next + 1 == self.files.len();
        if self.truncate_ok {
            tracing::warn!("!!! Warning: short read while loading the AOF file {name}!!!");
            if !last {
                tracing::warn!("Fatal error: the truncated file is not the last file");
                return Err(io::Error::other("a truncated AOF file is not the last"));
            }
            let at = self.valid_up_to;
            tracing::warn!("!!! Truncating the AOF {name} at offset {at} !!!");
            let cut = std::fs::OpenOptions::new()
                .write(true)
                .open(&part.path)
                .and_then(|f| f.set_len(at));
            match cut {
                Ok(()) => {
                    tracing::warn!(
                        "AOF {name} loaded anyway because aof-load-truncated is enabled"
                    );
                    return Ok(Outcome::Truncated);
                }
                Err(e) => {
                    tracing::warn!("Error truncating the AOF file {name}: {}", strerror(&e));
                }
            }
        }
        tracing::warn!(
            "Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./valkey-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
        );
        Err(io::Error::other("truncated AOF"))
    }

    /// A file loaded (or cut and loaded, being the last): Valkey's line,
    /// then the next file.
    fn file_done(&mut self, _outcome: Outcome) -> io::Result<()> {
        let part = &self.files[self.next];
        let secs = self.file_started.elapsed().as_secs_f64();
        if part.base {
            tracing::info!("DB loaded from base file {}: {secs:.3} seconds", part.name);
        } else {
            tracing::info!("DB loaded from incr file {}: {secs:.3} seconds", part.name);
        }
        // A MULTI left open (cut away) does not carry into the next file.
        let c = self.clients.at_mut(self.slot);
        c.in_multi = false;
        c.multi = None;
        self.next += 1;
        self.phase = Phase::Between;
        Ok(())
    }

    /// Every file loaded: the dataset goes live.
    fn install(&mut self, state: &mut State) {
        for (live, mine) in state.dbs.iter_mut().zip(self.dbs.iter_mut()) {
            live.swap_contents(mine);
        }
        let old = std::mem::take(&mut self.dbs);
        state.garbage.push(Box::new(old));
        state.rdb_load.in_progress = None;
        state.mode.loading = false;
        state.aof_manifest = self.manifest.take();
        tracing::info!(
            "DB loaded from append only file: {:.3} seconds",
            self.started.elapsed().as_secs_f64()
        );
        log_lines(&self.ready);
    }
}

/// DEBUG LOADAOF (`commands::reload::AOF_LOADER`): empties the dataset,
/// reads the manifest again and loads the AOF, all at once. False after a
/// failure was logged.
pub fn load_sync(state: &mut State) -> bool {
    let Ok(manifest) = read_manifest(state) else {
        return false;
    };
    for db in state.dbs.iter_mut() {
        let old = db.flush();
        state.garbage.push(Box::new(old));
    }
    // The AOF loads its own libraries (its RDB part, FUNCTION LOAD).
    state.functions = None;
    let mut load = match start(state, manifest, Vec::new()) {
        Ok(Some(Loader::Aof(l))) => l,
        Ok(None) => return true,
        Ok(Some(Loader::Rdb(_))) | Err(_) => return false,
    };
    loop {
        match load.step(state) {
            Ok(true) => return true,
            Ok(false) => std::thread::yield_now(),
            Err(_) => return false,
        }
    }
}

/// Reads up to `buf.len()` bytes (fewer only at the end of the file).
fn read_up_to(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
