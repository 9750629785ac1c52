//! The append-only file's writer: the propagated commands encoded as RESP
//! into a buffer, written to the INCR file once per event-loop turn, and
//! synced as `appendfsync` says (Valkey's feedAppendOnlyFile and
//! flushAppendOnlyFile).
//!
//! - **Encoding.** `*N\r\n$len\r\narg\r\n...` per command, a `SELECT` when
//!   the command's db differs from the last one written (MULTI and EXEC
//!   belong to no db), and with `aof-timestamp-enabled` a `#TS:<unix
//!   secs>\r\n` annotation whenever the second changed since the last one.
//! - **`always`.** `flush` writes the whole buffer and fsyncs before it
//!   returns; the main loop calls it once per turn before any reply leaves,
//!   so one write and one fsync cover every write of the turn (group
//!   commit). A failed write or fsync is fatal (`Fatal`): the caller exits
//!   rather than acknowledge what is not on disk.
//! - **`everysec`.** The writes happen each turn; a thread of its own
//!   (`FsyncThread`, Valkey's bio AOF job) fsyncs at most once a second.
//!   While one still runs, writing is postponed up to 2 s, then done anyway
//!   (`aof_delayed_fsync`). A failed write keeps the buffer for the next
//!   turn and refuses writes (MISCONF) until one succeeds.
//! - **Offsets.** `fed` counts every byte put in the buffer since start;
//!   `written` those written; `fsynced` (shared with the fsync thread)
//!   those known on disk: WAITAOF waits for `fsynced` to reach what was fed
//!   when it ran.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::util::num::{int_len, push_int};
use crate::util::strerror;

/// `appendfsync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    Always,
    Everysec,
    No,
}

impl FsyncPolicy {
    pub fn parse(s: &str) -> FsyncPolicy {
        if s.eq_ignore_ascii_case("always") {
            FsyncPolicy::Always
        } else if s.eq_ignore_ascii_case("no") {
            FsyncPolicy::No
        } else {
            FsyncPolicy::Everysec
        }
    }
}

/// Valkey's aof_state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AofState {
    Off,
    On,
    /// Turned on at run time: the first rewrite runs, writes go to the
    /// temp INCR file until it ends.
    WaitRewrite,
}

/// The db of MULTI and EXEC in the propagation stream (`state::effects::NO_DB`).
pub const NO_DB: usize = usize::MAX;

/// How long a write may wait for a running background fsync.
const MAX_POSTPONE: Duration = Duration::from_secs(2);
/// Seconds between two logs of the same write error (AOF_WRITE_LOG_ERROR_RATE).
const WRITE_ERROR_LOG_RATE: i64 = 30;
/// A buffer this large is not kept for reuse once written.
const KEEP_BUFFER: usize = 4000;

/// Appends one command in RESP multibulk form (catAppendOnlyGenericCommand).
pub fn encode_command(out: &mut Vec<u8>, argv: &[Bytes]) {
    out.push(b'*');
    push_int(out, argv.len() as i64);
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        push_int(out, a.len() as i64);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends `SELECT db`.
pub fn encode_select(out: &mut Vec<u8>, db: usize) {
    out.extend_from_slice(b"*2\r\n$6\r\nSELECT\r\n$");
    push_int(out, int_len(db as i64) as i64);
    out.extend_from_slice(b"\r\n");
    push_int(out, db as i64);
    out.extend_from_slice(b"\r\n");
}

/// The `#TS:` annotation line.
pub fn encode_timestamp(out: &mut Vec<u8>, unix_secs: i64) {
    out.extend_from_slice(b"#TS:");
    push_int(out, unix_secs);
    out.extend_from_slice(b"\r\n");
}

/// Encodes the propagation stream, remembering the db last selected and
/// the last timestamp annotation.
#[derive(Default, Debug)]
pub struct Encoder {
    /// The db of the last command written; None forces a SELECT.
    pub selected: Option<usize>,
    last_ts: i64,
}

impl Encoder {
    /// One propagated command in `db` (`NO_DB` for MULTI/EXEC: no SELECT).
    pub fn feed(&mut self, out: &mut Vec<u8>, db: usize, argv: &[Bytes], ts: Option<i64>) {
        if let Some(now) = ts {
            if self.last_ts < now {
                encode_timestamp(out, now);
                self.last_ts = now;
            }
        }
        if db != NO_DB && self.selected != Some(db) {
            encode_select(out, db);
            self.selected = Some(db);
        }
        encode_command(out, argv);
    }
}

/// A failure that must stop the server (`appendfsync always`, or the AOF
/// not opening at start-up): the log lines were written.
#[derive(Debug)]
pub struct Fatal;

/// The background fsync of `everysec` (Valkey's bio AOF fsync job): one
/// thread, jobs in order.
pub struct FsyncThread {
    tx: Sender<FsyncJob>,
    /// Jobs queued or running (INFO `aof_pending_bio_fsync`).
    pending: Arc<AtomicU64>,
    /// The last background fsync failed (its error text).
    error: Arc<Mutex<Option<String>>>,
    failed: Arc<AtomicBool>,
}

struct FsyncJob {
    file: Arc<File>,
    /// `fed` offset the sync covers once done.
    offset: u64,
    fsynced: Arc<AtomicU64>,
}

impl FsyncThread {
    fn spawn() -> io::Result<FsyncThread> {
        let (tx, rx) = channel::<FsyncJob>();
        let pending = Arc::new(AtomicU64::new(0));
        let error = Arc::new(Mutex::new(None));
        let failed = Arc::new(AtomicBool::new(false));
        let (p, e, f) = (pending.clone(), error.clone(), failed.clone());
        std::thread::Builder::new()
            .name("bio_aof".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    match job.file.sync_data() {
                        Ok(()) => {
                            job.fsynced.fetch_max(job.offset, Ordering::AcqRel);
                            f.store(false, Ordering::Relaxed);
                        }
                        Err(err) => {
                            tracing::warn!("Fail to fsync the AOF file: {}", strerror(&err));
                            if let Ok(mut slot) = e.lock() {
                                *slot = Some(strerror(&err));
                            }
                            f.store(true, Ordering::Relaxed);
                        }
                    }
                    p.fetch_sub(1, Ordering::AcqRel);
                }
            })?;
        Ok(FsyncThread {
            tx,
            pending,
            error,
            failed,
        })
    }

    fn in_progress(&self) -> bool {
        self.pending.load(Ordering::Acquire) != 0
    }

    fn submit(&self, job: FsyncJob) {
        self.pending.fetch_add(1, Ordering::AcqRel);
        if self.tx.send(job).is_err() {
            self.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// A file switch a command asked for, applied when the turn's stream is
/// written, at the stream position where it was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A rewrite started: the writes from here on go to a new INCR file.
    OpenIncr,
    /// appendonly no: the writes up to here are written and synced, the
    /// file closed.
    Stop,
}

/// A running rewrite: the writer thread making the new BASE.
pub struct Rewrite {
    pub job: super::rdb_write::SaveJob,
    pub started: Instant,
    /// The temp file in `dir` it writes (`temp-rewriteaof-bg-<pid>.aof`).
    pub temp: String,
    /// An RDB BASE (`aof-use-rdb-preamble yes`) or commands.
    pub preamble: bool,
    /// Whether the new INCR file opened (the rewrite's writes are kept);
    /// None until the turn that started it wrote its stream.
    pub incr_opened: Option<bool>,
}

/// What is left of a rewrite once its writer thread ended.
pub struct RewriteDone {
    pub temp: String,
    pub preamble: bool,
    pub incr_opened: Option<bool>,
}

impl Rewrite {
    /// Waits for the writer thread: how it went, and the rest.
    pub fn finish(self) -> (super::rdb_write::Outcome, RewriteDone) {
        let done = RewriteDone {
            temp: self.temp,
            preamble: self.preamble,
            incr_opened: self.incr_opened,
        };
        (self.job.join(), done)
    }
}

/// Everything the main thread keeps about the AOF.
pub struct Aof {
    /// File switches asked for this turn: (stream position, what).
    pub actions: Vec<(usize, Action)>,
    pub rewrite: Option<Rewrite>,
    /// INFO `aof_rewrite_scheduled`: start one when nothing else runs.
    pub rewrite_scheduled: bool,
    /// INFO `aof_rewrites`, `aof_rewrites_consecutive_failures`,
    /// `aof_last_bgrewrite_status`, `aof_last_rewrite_time_sec`.
    pub rewrites: u64,
    pub rewrite_failures: u64,
    pub last_bgrewrite_ok: bool,
    pub last_rewrite_secs: i64,
    /// Automatic rewrites held back after failures until then.
    pub next_limited_retry: Option<Instant>,
    /// Clients blocked in WAITAOF: client id → (the offset to be synced,
    /// the db it blocked in).
    pub waitaof: std::collections::HashMap<u64, (u64, usize)>,
    pub state: AofState,
    /// The INCR file appended to (`aof_fd`).
    file: Option<Arc<File>>,
    /// Its name inside the AOF directory (log lines).
    pub file_name: String,
    /// Commands encoded, waiting to be written (`aof_buf`).
    pub buf: Vec<u8>,
    pub enc: Encoder,
    /// Bytes ever fed to the buffer, written, and known synced.
    pub fed: u64,
    pub written: u64,
    fsynced: Arc<AtomicU64>,
    /// Written bytes since the last sync covered: `written` when last synced.
    synced_upto: u64,
    /// INFO `aof_current_size` (base + INCR files) and `aof_base_size`
    /// (its value after the last rewrite or at start).
    pub current_size: u64,
    pub rewrite_base_size: u64,
    /// Size of the INCR file appended to.
    pub last_incr_size: u64,
    last_fsync: Instant,
    fsync: Option<FsyncThread>,
    flush_postponed_start: Option<Instant>,
    pub delayed_fsync: u64,
    /// The last write failed: its error (MISCONF), else None.
    pub write_error: Option<String>,
    /// DEBUG AOF-FLUSH-SLEEP: microseconds to sleep before each write.
    pub flush_sleep_us: u64,
    last_write_error_log: i64,
}

impl Default for Aof {
    fn default() -> Self {
        Aof {
            actions: Vec::new(),
            rewrite: None,
            rewrite_scheduled: false,
            rewrites: 0,
            rewrite_failures: 0,
            last_bgrewrite_ok: true,
            last_rewrite_secs: -1,
            next_limited_retry: None,
            waitaof: Default::default(),
            state: AofState::Off,
            file: None,
            file_name: String::new(),
            buf: Vec::new(),
            enc: Encoder::default(),
            fed: 0,
            written: 0,
            fsynced: Arc::new(AtomicU64::new(0)),
            synced_upto: 0,
            current_size: 0,
            rewrite_base_size: 0,
            last_incr_size: 0,
            last_fsync: Instant::now(),
            fsync: None,
            flush_postponed_start: None,
            delayed_fsync: 0,
            write_error: None,
            flush_sleep_us: 0,
            last_write_error_log: 0,
        }
    }
}

/// What `flush` should do this time.
#[derive(Clone, Copy, Debug)]
pub struct FlushOpts {
    pub policy: FsyncPolicy,
    /// Write even while a background fsync runs (shutdown, rewrite start).
    pub force: bool,
    /// `no-appendfsync-on-rewrite` with a rewrite or save running.
    pub skip_fsync: bool,
}

impl Aof {
    pub fn is_on(&self) -> bool {
        self.state != AofState::Off
    }

    /// The file writes go to.
    pub fn has_file(&self) -> bool {
        self.file.is_some()
    }

    /// Bytes known to be on disk (WAITAOF's local offset).
    pub fn fsynced(&self) -> u64 {
        self.fsynced.load(Ordering::Acquire)
    }

    /// INFO `aof_pending_bio_fsync`.
    pub fn pending_bio_fsync(&self) -> u64 {
        self.fsync
            .as_ref()
            .map_or(0, |t| t.pending.load(Ordering::Relaxed))
    }

    /// A write or background fsync failed and has not recovered: writes
    /// are refused with this error text.
    pub fn disk_error(&self) -> Option<String> {
        if let Some(e) = &self.write_error {
            return Some(e.clone());
        }
        let t = self.fsync.as_ref()?;
        if !t.failed.load(Ordering::Relaxed) {
            return None;
        }
        t.error.lock().ok().and_then(|e| e.clone())
    }

    /// Encodes one propagated command into the buffer.
    pub fn feed(&mut self, db: usize, argv: &[Bytes], ts: Option<i64>) {
        let before = self.buf.len();
        self.enc.feed(&mut self.buf, db, argv, ts);
        self.fed += (self.buf.len() - before) as u64;
    }

    /// Makes `file` (named `name`, `size` bytes long) the file appended
    /// to; the previous one is synced in the background and closed (its
    /// data is in already; `always` synced it at each turn).
    pub fn switch_file(&mut self, file: File, name: String, size: u64) -> io::Result<()> {
        if self.fsync.is_none() {
            self.fsync = Some(FsyncThread::spawn()?);
        }
        if let (Some(old), Some(t)) = (self.file.take(), &self.fsync) {
            t.submit(FsyncJob {
                file: old,
                offset: self.written,
                fsynced: self.fsynced.clone(),
            });
            self.last_fsync = Instant::now();
        }
        self.file = Some(Arc::new(file));
        self.file_name = name;
        self.last_incr_size = size;
        self.synced_upto = self.written;
        // The next command names its db again.
        self.enc.selected = None;
        Ok(())
    }

    /// Syncs the file now, on this thread (shutdown).
    pub fn sync_now(&mut self) {
        if let Some(f) = &self.file {
            match f.sync_data() {
                Ok(()) => {
                    self.synced_upto = self.written;
                    self.fsynced.fetch_max(self.written, Ordering::AcqRel);
                }
                Err(e) => tracing::warn!("Fail to fsync the AOF file: {}.", strerror(&e)),
            }
        }
    }

    /// Closes the file (appendonly no): writes what is left, then syncs.
    pub fn close(&mut self, policy: FsyncPolicy) {
        let _ = self.flush(FlushOpts {
            policy,
            force: true,
            skip_fsync: false,
        });
        if let Some(f) = self.file.take() {
            if let Err(e) = f.sync_data() {
                tracing::warn!("Fail to fsync the AOF file: {}", strerror(&e));
            } else {
                self.fsynced.fetch_max(self.written, Ordering::AcqRel);
            }
        }
        self.buf = Vec::new();
        self.state = AofState::Off;
        self.write_error = None;
    }

    /// Writes the buffer and syncs as the policy says (flushAppendOnlyFile).
    /// `Err(Fatal)` under `always` when the data could not be made durable.
    pub fn flush(&mut self, o: FlushOpts) -> Result<(), Fatal> {
        let Some(file) = self.file.clone() else {
            return Ok(());
        };
        let now = Instant::now();
        let in_progress = self.fsync.as_ref().is_some_and(FsyncThread::in_progress);
        if self.buf.is_empty() {
            let unsynced = self.synced_upto != self.written;
            let due = match o.policy {
                FsyncPolicy::Everysec => {
                    unsynced && now - self.last_fsync >= Duration::from_secs(1) && !in_progress
                }
                FsyncPolicy::Always => unsynced,
                FsyncPolicy::No => false,
            };
            if !due {
                return Ok(());
            }
            return self.sync(&file, o, now, in_progress);
        }
        if o.policy == FsyncPolicy::Everysec && !o.force && in_progress {
            match self.flush_postponed_start {
                None => {
                    self.flush_postponed_start = Some(now);
                    return Ok(());
                }
                Some(t) if now - t < MAX_POSTPONE => return Ok(()),
                Some(_) => {
                    self.delayed_fsync += 1;
                    tracing::info!(
                        "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down the server."
                    );
                }
            }
        }
        self.flush_postponed_start = None;
        if self.flush_sleep_us > 0 {
            std::thread::sleep(Duration::from_micros(self.flush_sleep_us));
        }
        let (n, err) = write_all_at_end(&file, &self.buf);
        if let Some(e) = err {
            return self.write_failed(&file, o.policy, n, e);
        }
        if self.write_error.take().is_some() {
            tracing::warn!("AOF write error looks solved. The server can write again.");
        }
        self.advance(n);
        if self.buf.capacity() > KEEP_BUFFER {
            self.buf = Vec::new();
        } else {
            self.buf.clear();
        }
        self.sync(&file, o, now, in_progress)
    }

    fn advance(&mut self, n: usize) {
        self.written += n as u64;
        self.current_size += n as u64;
        self.last_incr_size += n as u64;
    }

    fn sync(
        &mut self,
        file: &Arc<File>,
        o: FlushOpts,
        now: Instant,
        in_progress: bool,
    ) -> Result<(), Fatal> {
        if o.skip_fsync {
            return Ok(());
        }
        match o.policy {
            FsyncPolicy::Always => {
                if let Err(e) = file.sync_data() {
                    tracing::warn!(
                        "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...",
                        strerror(&e)
                    );
                    return Err(Fatal);
                }
                self.synced_upto = self.written;
                self.fsynced.fetch_max(self.written, Ordering::AcqRel);
                self.last_fsync = now;
            }
            FsyncPolicy::Everysec if now - self.last_fsync >= Duration::from_secs(1) => {
                if !in_progress {
                    if let Some(t) = &self.fsync {
                        t.submit(FsyncJob {
                            file: file.clone(),
                            offset: self.written,
                            fsynced: self.fsynced.clone(),
                        });
                        self.synced_upto = self.written;
                    }
                }
                self.last_fsync = now;
            }
            _ => {}
        }
        Ok(())
    }

    /// A write that did not complete (`n` bytes did): as Valkey, a short
    /// write is truncated away when possible; `always` cannot go on.
    fn write_failed(
        &mut self,
        file: &Arc<File>,
        policy: FsyncPolicy,
        mut n: usize,
        e: io::Error,
    ) -> Result<(), Fatal> {
        let now = crate::keyspace::now_ms() / 1000;
        let can_log = now - self.last_write_error_log > WRITE_ERROR_LOG_RATE;
        if can_log {
            self.last_write_error_log = now;
        }
        let text = if n == 0 {
            if can_log {
                tracing::warn!("Error writing to the AOF file: {}", strerror(&e));
            }
            strerror(&e)
        } else {
            if can_log {
                tracing::warn!(
                    "Short write while writing to the AOF file: (nwritten={n}, expected={})",
                    self.buf.len()
                );
            }
            match file.set_len(self.last_incr_size) {
                Ok(()) => n = 0,
                Err(te) => {
                    if can_log {
                        tracing::warn!(
                            "Could not remove short write from the append-only file. The server may refuse to load the AOF the next time it starts.  ftruncate: {}",
                            strerror(&te)
                        );
                    }
                }
            }
            strerror(&io::Error::from_raw_os_error(libc::ENOSPC))
        };
        if policy == FsyncPolicy::Always {
            tracing::warn!(
                "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."
            );
            return Err(Fatal);
        }
        self.write_error = Some(text);
        if n > 0 {
            self.advance(n);
            self.buf.drain(..n);
        }
        Ok(())
    }
}

/// Appends `buf` to `file` (opened with O_APPEND): every byte or the
/// count written before the error.
fn write_all_at_end(file: &File, buf: &[u8]) -> (usize, Option<io::Error>) {
    let mut done = 0;
    let mut f = file;
    while done < buf.len() {
        match f.write(&buf[done..]) {
            Ok(0) => return (done, Some(io::Error::from_raw_os_error(libc::ENOSPC))),
            Ok(k) => done += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

/// Opens `path` for appending, creating it (0644).
pub fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().append(true).create(true).open(path)
}

/// Creates (or empties) `path` for appending.
pub fn open_truncate(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    open_append(path)
}

/// A file's size, 0 when it cannot be read.
pub fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// `dir`/`appenddirname` (relative to the working directory, which is
/// `dir`).
pub fn aof_dir(dir: &str, dirname: &str) -> PathBuf {
    if dir.is_empty() {
        PathBuf::from(dirname)
    } else {
        Path::new(dir).join(dirname)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn commands_are_resp_with_select_when_the_db_changes() {
        let mut e = Encoder::default();
        let mut out = Vec::new();
        e.feed(&mut out, 0, &argv(&["SET", "k", "v"]), None);
        e.feed(&mut out, 0, &argv(&["INCR", "n"]), None);
        e.feed(&mut out, NO_DB, &argv(&["MULTI"]), None);
        e.feed(&mut out, 12, &argv(&["DEL", ""]), None);
        e.feed(&mut out, NO_DB, &argv(&["EXEC"]), None);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n\
             *2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$5\r\nMULTI\r\n\
             *2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n*2\r\n$3\r\nDEL\r\n$0\r\n\r\n*1\r\n$4\r\nEXEC\r\n"
        );
    }

    #[test]
    fn timestamps_are_written_when_the_second_changes() {
        let mut e = Encoder::default();
        let mut out = Vec::new();
        e.feed(&mut out, 0, &argv(&["A"]), Some(100));
        e.feed(&mut out, 0, &argv(&["B"]), Some(100));
        e.feed(&mut out, 0, &argv(&["C"]), Some(101));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "#TS:100\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$1\r\nA\r\n*1\r\n$1\r\nB\r\n\
             #TS:101\r\n*1\r\n$1\r\nC\r\n"
        );
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ferrokey-aofw-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn always_writes_and_syncs_everything_fed() {
        let d = tmp("always");
        let p = d.join("a.incr.aof");
        let mut a = Aof {
            state: AofState::On,
            ..Aof::default()
        };
        a.switch_file(open_append(&p).unwrap(), "a".into(), 0)
            .unwrap();
        a.feed(0, &argv(&["SET", "k", "v"]), None);
        let o = FlushOpts {
            policy: FsyncPolicy::Always,
            force: false,
            skip_fsync: false,
        };
        a.flush(o).unwrap();
        assert!(a.buf.is_empty());
        assert_eq!(a.fed, a.written);
        assert_eq!(a.fsynced(), a.written);
        assert_eq!(file_size(&p), a.written);
        assert_eq!(a.last_incr_size, a.written);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn everysec_syncs_in_the_background_and_switching_files_resets_select() {
        let d = tmp("everysec");
        let mut a = Aof {
            state: AofState::On,
            ..Aof::default()
        };
        a.switch_file(open_append(&d.join("1")).unwrap(), "1".into(), 0)
            .unwrap();
        a.last_fsync = Instant::now() - Duration::from_secs(2);
        a.feed(3, &argv(&["SET", "k", "v"]), None);
        let o = FlushOpts {
            policy: FsyncPolicy::Everysec,
            force: false,
            skip_fsync: false,
        };
        a.flush(o).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while a.fsynced() < a.written {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(1));
        }
        a.switch_file(open_append(&d.join("2")).unwrap(), "2".into(), 0)
            .unwrap();
        a.feed(3, &argv(&["DEL", "k"]), None);
        a.flush(FlushOpts { force: true, ..o }).unwrap();
        let second = std::fs::read(d.join("2")).unwrap();
        assert!(second.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_failed_write_keeps_the_buffer_and_refuses_until_solved() {
        let d = tmp("fail");
        let p = d.join("ro");
        std::fs::write(&p, b"").unwrap();
        let mut a = Aof {
            state: AofState::On,
            ..Aof::default()
        };
        // A read-only handle: every write fails with EBADF.
        let ro = File::open(&p).unwrap();
        a.switch_file(ro, "ro".into(), 0).unwrap();
        a.feed(0, &argv(&["SET", "k", "v"]), None);
        let o = FlushOpts {
            policy: FsyncPolicy::Everysec,
            force: true,
            skip_fsync: false,
        };
        a.flush(o).unwrap();
        assert!(a.disk_error().is_some());
        assert!(!a.buf.is_empty());
        assert!(a
            .flush(FlushOpts {
                policy: FsyncPolicy::Always,
                ..o
            })
            .is_err());
        a.switch_file(open_append(&p).unwrap(), "ro".into(), 0)
            .unwrap();
        a.flush(o).unwrap();
        assert!(a.disk_error().is_none());
        assert_eq!(file_size(&p), a.written);
        let _ = std::fs::remove_dir_all(&d);
    }
}
