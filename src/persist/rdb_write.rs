//! Writes RDB files: the version-11 format Valkey 8 writes, from a
//! snapshot's records, on a thread of its own.
//!
//! - `Encoder` lays the file out: `REDIS0011`, the aux fields Valkey writes
//!   (`redis-ver`, `redis-bits`, `ctime`, `used-mem`, `aof-base`), the
//!   function libraries (`Aux::functions`: a `FUNCTION2` and the code each,
//!   as Valkey's rdbSaveFunctions, before any db), then per key an
//!   `EXPIRETIME_MS` when it has one, the type byte, the key and the
//!   value (`object::write_value`), with `SELECTDB` (and, the first time,
//!   `RESIZEDB` with the counts at the start) whenever the db changes: a
//!   snapshot's saved images of any db may come between another db's keys.
//!   Then `EOF` and the CRC-64 of all before it (0 with `rdbchecksum no`).
//! - `spawn` starts the writer thread and returns the `SaveSink` the
//!   snapshot hands records to (flat batches, `save_sink`): serialization,
//!   compression and the file writes all happen there, never on the main
//!   thread. The file is
//!   written as `temp-<pid>.rdb` in `dir`, synced, renamed over the target
//!   and the directory synced, as Valkey's rdbSave; on any error the temp
//!   file is removed and the error logged in Valkey's words.
//! - Memory: records wait in the sink's bounded channel (`CHANNEL_BATCHES`
//!   batches of `BATCH_BYTES`); when the writer lags the sink says it is not
//!   ready, the walk pauses, and `lagging` tells the main loop it may sleep.
//! - `rdb-key-save-delay` (microseconds per key, a test knob) is applied
//!   here, so a slowed save never slows the main thread.
//! - A big aggregate arrives in parts (framed element bytes, see
//!   `keyspace::snapshot`), gathered here until its last, then written in
//!   the plain types Valkey writes: set 2, hash 4, zset 5 (ZSET_2), list
//!   18 (QUICKLIST_2 of listpack nodes of at most 8 KiB, Valkey's default
//!   `list-max-listpack-size -2`). RDB lengths come before the elements:
//!   the count is the value's length at the start of the copy, and when
//!   the parts hold more elements than that (the source rehashed while
//!   scanned) repeats are dropped first.

pub use crate::util::strerror;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::thread::JoinHandle;

use std::collections::{HashMap, HashSet};

use super::codec::{write_binary_double, write_int_string, write_len, write_string};
use super::object::{
    write_value, TYPE_HASH, TYPE_LIST_QUICKLIST_2, TYPE_SET, TYPE_STRING, TYPE_ZSET_2,
};
use super::save_sink::{FlatRecord, FlatSink, FlatSource, FlatValue};
use crate::keyspace::list::{listpack_blob, Elem};
use crate::keyspace::snapshot::{frame, BigDone, BigKind, Record, SnapshotSink};
use crate::util::rng::Rng;

pub const OP_FUNCTION2: u8 = 245;
pub const OP_AUX: u8 = 250;
pub const OP_RESIZEDB: u8 = 251;
pub const OP_EXPIRETIME_MS: u8 = 252;
pub const OP_SELECTDB: u8 = 254;
pub const OP_EOF: u8 = 255;
/// A quicklist node holding a listpack.
const NODE_PACKED: u64 = 2;

/// Batches in flight between the walk and the writer, and the size at
/// which a batch is closed: at most about 4 MiB of records wait.
pub const CHANNEL_BATCHES: usize = 8;
pub const BATCH_BYTES: usize = 512 * 1024;
/// How often a writer waiting for records looks whether it was cancelled.
pub(super) const STOP_POLL: std::time::Duration = std::time::Duration::from_millis(20);
/// Bytes the encoder gathers before a write to the file.
const WRITE_CHUNK: usize = 256 * 1024;

static CRC: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// What the header says about the server that wrote the file.
#[derive(Clone, Debug)]
pub struct Aux {
    /// `redis-ver`: the compat version INFO reports as `redis_version`.
    pub redis_ver: String,
    /// `ctime`: Unix seconds at the start of the save.
    pub ctime: i64,
    /// `used-mem`: bytes in use at the start of the save.
    pub used_mem: u64,
    /// The function libraries' code (`#!lua name=<lib>` first), written
    /// after the aux fields: empty, the file is as without functions.
    pub functions: Vec<bytes::Bytes>,
    /// Write Valkey 9's `VALKEY080` signature instead of `REDIS0011`: the
    /// data has a hash with field TTLs, whose value type (22) a version-11
    /// file may not hold.
    pub valkey_080: bool,
}

/// Lays out an RDB file into `W`, keeping the running CRC-64.
pub struct Encoder<W: Write> {
    out: W,
    buf: Vec<u8>,
    scratch: Vec<u8>,
    digest: crc::Digest<'static, u64>,
    compress: bool,
    checksum: bool,
    /// Per db: (keys, keys with a TTL) at the start, for `RESIZEDB`.
    sizes: Vec<(u64, u64)>,
    resized: Vec<bool>,
    db: Option<usize>,
}

impl<W: Write> Encoder<W> {
    pub fn new(out: W, compress: bool, checksum: bool, sizes: Vec<(u64, u64)>) -> Self {
        let resized = vec![false; sizes.len()];
        Encoder {
            out,
            buf: Vec::with_capacity(WRITE_CHUNK + 1024),
            scratch: Vec::new(),
            digest: CRC.digest(),
            compress,
            checksum,
            sizes,
            resized,
            db: None,
        }
    }

    /// The magic, the version and the aux fields, as rdbSaveInfoAuxFields.
    pub fn header(&mut self, aux: &Aux) -> io::Result<()> {
        self.header_with(aux, false)
    }

    /// `header`, with `aof-base 1` for an AOF's BASE (RDB preamble).
    pub fn header_with(&mut self, aux: &Aux, aof_base: bool) -> io::Result<()> {
        let magic = if aux.valkey_080 {
            format!("VALKEY{:03}", super::VALKEY_RDB_VERSION)
        } else {
            format!("REDIS{:04}", super::RDB_VERSION)
        };
        self.buf.extend_from_slice(magic.as_bytes());
        self.aux(b"redis-ver", aux.redis_ver.as_bytes());
        self.aux(b"redis-bits", b"64");
        self.aux(b"ctime", aux.ctime.to_string().as_bytes());
        self.aux(b"used-mem", aux.used_mem.to_string().as_bytes());
        self.aux(b"aof-base", if aof_base { b"1" } else { b"0" });
        for code in &aux.functions {
            self.buf.push(OP_FUNCTION2);
            write_string(&mut self.buf, code, self.compress);
            self.spill(false)?;
        }
        self.spill(false)
    }

    fn aux(&mut self, key: &[u8], value: &[u8]) {
        self.buf.push(OP_AUX);
        write_string(&mut self.buf, key, self.compress);
        write_string(&mut self.buf, value, self.compress);
    }

    /// One key: its db (a `SELECTDB` when it changes), expire, type, key
    /// and value.
    pub fn record(
        &mut self,
        db: usize,
        key: &[u8],
        value: &crate::keyspace::Value,
        expire_ms: i64,
    ) -> io::Result<()> {
        self.record_with(db, key, expire_ms, |out, compress| {
            write_value(out, value, compress)
        })
    }

    /// `record` with the value's type byte and serialization written by
    /// `value(out, compress)`.
    pub fn record_with(
        &mut self,
        db: usize,
        key: &[u8],
        expire_ms: i64,
        value: impl FnOnce(&mut Vec<u8>, bool),
    ) -> io::Result<()> {
        if self.db != Some(db) {
            self.buf.push(OP_SELECTDB);
            write_len(&mut self.buf, db as u64);
            if let Some(done) = self.resized.get_mut(db) {
                if !*done {
                    *done = true;
                    let (keys, expires) = self.sizes[db];
                    self.buf.push(OP_RESIZEDB);
                    write_len(&mut self.buf, keys);
                    write_len(&mut self.buf, expires);
                }
            }
            self.db = Some(db);
        }
        if expire_ms != 0 {
            self.buf.push(OP_EXPIRETIME_MS);
            self.buf.extend_from_slice(&expire_ms.to_le_bytes());
        }
        // The type byte comes before the key, the value after it.
        self.scratch.clear();
        value(&mut self.scratch, self.compress);
        self.buf.push(self.scratch[0]);
        write_string(&mut self.buf, key, self.compress);
        self.buf.extend_from_slice(&self.scratch[1..]);
        if self.scratch.capacity() > 4 * WRITE_CHUNK {
            // One huge value must not pin its buffer for the whole save.
            self.scratch = Vec::new();
        }
        self.spill(false)
    }

    /// Writes what is gathered once there is enough of it (or `force`).
    fn spill(&mut self, force: bool) -> io::Result<()> {
        if self.buf.len() >= WRITE_CHUNK || (force && !self.buf.is_empty()) {
            self.digest.update(&self.buf);
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// `EOF`, the checksum, and everything flushed; the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.buf.push(OP_EOF);
        self.spill(true)?;
        let crc = if self.checksum {
            self.digest.finalize()
        } else {
            0
        };
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Everything the writer thread needs to know.
#[derive(Clone, Debug)]
pub struct SaveSpec {
    /// The server's root dir (`dir`): the temp file goes there.
    pub dir: PathBuf,
    /// `dbfilename`, relative to `dir`.
    pub filename: String,
    pub compress: bool,
    pub checksum: bool,
    /// `rdb-key-save-delay` at the start: microseconds per key (negative:
    /// sleep 1 µs once in that many keys, as Valkey's debugDelay).
    pub key_delay_us: i64,
    pub aux: Aux,
    /// Per db at the start: (keys, keys with a TTL).
    pub sizes: Vec<(u64, u64)>,
}

/// How a save that ran to its end went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Saved {
        keys: u64,
        bytes: u64,
    },
    Failed,
    /// Stopped by `SaveJob::cancel` (BGSAVE CANCEL, FLUSHALL, shutdown).
    Cancelled,
}

/// The running writer thread, seen from the main thread.
pub struct SaveJob {
    handle: Option<JoinHandle<Outcome>>,
    shared: Arc<Shared>,
}

pub(super) struct Shared {
    /// Keys written so far (INFO `current_save_keys_processed`).
    pub(super) processed: AtomicU64,
    /// Stop: the records still coming are dropped, the temp file removed.
    pub(super) stop: AtomicBool,
    /// The writer failed: the records still coming are dropped.
    pub(super) failed: AtomicBool,
    /// The sink was last found full: the walk waits for the writer.
    lagging: AtomicBool,
    /// `rdb-key-save-delay`, followed live as Valkey's child reads it.
    pub(super) key_delay_us: AtomicI64,
}

impl SaveJob {
    pub fn processed(&self) -> u64 {
        self.shared.processed.load(Ordering::Relaxed)
    }

    /// The walk is waiting for the writer: nothing to gain by spinning.
    pub fn lagging(&self) -> bool {
        self.shared.lagging.load(Ordering::Relaxed)
    }

    /// Asks the writer to stop and remove its temp file; the snapshot's
    /// remaining records are dropped (it still runs to its end to finish
    /// its marks).
    pub fn cancel(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }

    /// A new `rdb-key-save-delay` (CONFIG SET during the save).
    pub fn set_key_delay(&self, us: i64) {
        self.shared.key_delay_us.store(us, Ordering::Relaxed);
    }

    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(|h| h.is_finished())
    }

    /// Waits until the writer thread has ended (after `cancel`, within
    /// `STOP_POLL` or one key's delay).
    pub fn wait(&self) {
        while !self.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Waits for the writer thread and returns how the save went.
    pub fn join(mut self) -> Outcome {
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(o)) => o,
            _ => Outcome::Failed,
        }
    }
}

/// The snapshot's sink: a `FlatSink` to the writer, dropping records
/// once the save is cancelled or failed.
pub struct SaveSink {
    inner: FlatSink,
    shared: Arc<Shared>,
}

impl SaveSink {
    fn dropping(&self) -> bool {
        self.shared.stop.load(Ordering::Relaxed) || self.shared.failed.load(Ordering::Relaxed)
    }
}

impl SnapshotSink for SaveSink {
    fn entry(&mut self, r: Record<'_>) {
        if !self.dropping() {
            self.inner.entry(r);
        }
    }

    fn part_buf(&mut self) -> Option<&mut Vec<u8>> {
        if self.dropping() {
            return None;
        }
        self.inner.part_buf()
    }

    fn big_part(&mut self, id: u64, start: usize, count: u64) {
        if !self.dropping() {
            self.inner.big_part(id, start, count);
        }
    }

    fn big_done(&mut self, d: BigDone<'_>) {
        if !self.dropping() {
            self.inner.big_done(d);
        }
    }

    fn big_dropped(&mut self, id: u64) {
        if !self.dropping() {
            self.inner.big_dropped(id);
        }
    }

    fn ready(&mut self) -> bool {
        if self.dropping() {
            return true;
        }
        let ready = self.inner.ready();
        self.shared.lagging.store(!ready, Ordering::Relaxed);
        ready
    }

    fn finish(&mut self) -> bool {
        self.dropping() || self.inner.finish()
    }
}

/// What a save writes: an RDB file, or an AOF rewrite's BASE (an RDB
/// marked `aof-base`, or commands: `aof_rewrite`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Rdb,
    AofBaseRdb,
    AofBaseCommands { timestamps: bool },
}

/// Starts the writer thread for a save described by `spec`; the sink the
/// snapshot is to feed. The save ends when the sink is dropped (after the
/// snapshot's last record) or cancelled.
pub fn spawn(spec: SaveSpec) -> io::Result<(SaveJob, SaveSink)> {
    spawn_kind(spec, Kind::Rdb)
}

/// `spawn` for a file of `kind`.
pub fn spawn_kind(spec: SaveSpec, kind: Kind) -> io::Result<(SaveJob, SaveSink)> {
    let (inner, src) = FlatSink::new(CHANNEL_BATCHES, BATCH_BYTES);
    let shared = Arc::new(Shared {
        processed: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        failed: AtomicBool::new(false),
        lagging: AtomicBool::new(false),
        key_delay_us: AtomicI64::new(spec.key_delay_us),
    });
    let theirs = shared.clone();
    let handle = std::thread::Builder::new()
        .name("rdb-save".into())
        .spawn(move || write_file(&spec, kind, &src, &theirs))?;
    Ok((
        SaveJob {
            handle: Some(handle),
            shared: shared.clone(),
        },
        SaveSink { inner, shared },
    ))
}

/// The temp file's name, as Valkey's (`temp-<pid>.rdb` in `dir`).
pub fn temp_name() -> String {
    format!("temp-{}.rdb", std::process::id())
}

fn write_file(spec: &SaveSpec, kind: Kind, src: &FlatSource, shared: &Shared) -> Outcome {
    if kind != Kind::Rdb {
        return super::aof_rewrite::write_base(spec, kind, src, shared);
    }
    let tmp_name = temp_name();
    let tmp = spec.dir.join(&tmp_name);
    let root = spec.dir.display();
    let file = match File::create(&tmp) {
        Ok(f) => f,
        Err(e) => {
            shared.failed.store(true, Ordering::Relaxed);
            tracing::warn!(
                "Failed opening the temp RDB file {tmp_name} (in server root dir {root}) for saving: {}",
                strerror(&e)
            );
            return Outcome::Failed;
        }
    };
    let written = match write_records(spec, kind, file, src, shared) {
        Ok(Some(w)) => w,
        Ok(None) => {
            let _ = std::fs::remove_file(&tmp);
            return Outcome::Cancelled;
        }
        Err(e) => {
            shared.failed.store(true, Ordering::Relaxed);
            let _ = std::fs::remove_file(&tmp);
            tracing::warn!("Write error saving DB on disk: {}", strerror(&e));
            return Outcome::Failed;
        }
    };
    let dest = spec.dir.join(&spec.filename);
    if let Err(e) = std::fs::rename(&tmp, &dest) {
        tracing::warn!(
            "Error moving temp DB file {tmp_name} on the final destination {} (in server root dir {root}): {}",
            spec.filename,
            strerror(&e)
        );
        let _ = std::fs::remove_file(&tmp);
        return Outcome::Failed;
    }
    if let Err(e) = fsync_dir(&dest) {
        tracing::warn!(
            "Failed to fsync directory while saving DB: {}",
            strerror(&e)
        );
        return Outcome::Failed;
    }
    tracing::info!("DB saved on disk");
    written
}

/// The file's contents; None when cancelled.
pub(super) fn write_records(
    spec: &SaveSpec,
    kind: Kind,
    file: File,
    src: &FlatSource,
    shared: &Shared,
) -> io::Result<Option<Outcome>> {
    let out = io::BufWriter::with_capacity(64 * 1024, file);
    if let Kind::AofBaseCommands { timestamps } = kind {
        return super::aof_rewrite::write_commands(
            out,
            timestamps,
            &spec.aux.functions,
            src,
            shared,
        );
    }
    let mut enc = Encoder::new(out, spec.compress, spec.checksum, spec.sizes.clone());
    enc.header_with(&spec.aux, kind == Kind::AofBaseRdb)?;
    let keys = each_record(src, shared, |r, key, bytes, big| {
        match (&r.value, big) {
            (FlatValue::Int(n), _) => enc.record_with(r.db, key, r.expire_ms, |out, _| {
                out.push(TYPE_STRING);
                write_int_string(out, *n);
            })?,
            (FlatValue::Bytes(start, end), _) => {
                let v = &bytes[*start..*end];
                enc.record_with(r.db, key, r.expire_ms, |out, compress| {
                    out.push(TYPE_STRING);
                    write_string(out, v, compress);
                })?
            }
            (FlatValue::Other(v), _) => enc.record(r.db, key, v, r.expire_ms)?,
            (FlatValue::BigDone { kind, len, .. }, Some(p)) if p.count > 0 => {
                enc.record_with(r.db, key, r.expire_ms, |out, compress| {
                    write_big(out, *kind, *len, &p, compress)
                })?
            }
            _ => {
                // Never (a big value has elements): an empty one would make
                // the file unloadable.
                tracing::warn!("Big value with no parts skipped in the RDB");
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    if keys.is_none() {
        return Ok(None);
    }
    let out = enc.finish()?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok(Some(Outcome::Saved {
        keys: keys.unwrap_or(0),
        bytes,
    }))
}

/// The writer thread's loop over what the snapshot hands over, whatever
/// it writes: `each` gets every record with its key and the batch's bytes,
/// a big value once all its parts came (their `Partial`), and says whether
/// it wrote a key. Parts of abandoned copies are forgotten, emptied batches
/// go back to the sink, `rdb-key-save-delay` is honoured. The keys
/// written, or None when the save was cancelled.
pub(super) fn each_record(
    src: &FlatSource,
    shared: &Shared,
    mut each: impl FnMut(&FlatRecord, &[u8], &[u8], Option<Partial>) -> io::Result<bool>,
) -> io::Result<Option<u64>> {
    let mut rng = Rng::default();
    let mut keys = 0u64;
    // Big copies under way: their parts so far.
    let mut partial: HashMap<u64, Partial> = HashMap::new();
    // Ends when the sink is dropped: the snapshot handed over everything.
    // A cancelled save stops sending, so the wait wakes to look.
    loop {
        let mut batch = match src.batches.recv_timeout(STOP_POLL) {
            Ok(b) => b,
            Err(RecvTimeoutError::Timeout) if !shared.stop.load(Ordering::Relaxed) => continue,
            Err(RecvTimeoutError::Timeout) => return Ok(None),
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let (bytes, records) = batch.drain();
        for r in records {
            if shared.stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let big = match r.value {
                FlatValue::BigPart {
                    id,
                    start,
                    end,
                    count,
                } => {
                    let p = partial.entry(id).or_default();
                    p.bytes
                        .extend_from_slice(bytes.get(start..end).unwrap_or_default());
                    p.count += count;
                    continue;
                }
                FlatValue::BigDropped { id } => {
                    partial.remove(&id);
                    continue;
                }
                FlatValue::BigDone { id, .. } => Some(partial.remove(&id).unwrap_or_default()),
                _ => None,
            };
            key_delay(shared.key_delay_us.load(Ordering::Relaxed), &mut rng);
            let key = bytes.get(r.key.0..r.key.1).unwrap_or_default();
            if each(&r, key, bytes, big)? {
                keys += 1;
                shared.processed.store(keys, Ordering::Relaxed);
            }
        }
        // The emptied buffers go back to the sink (the main thread).
        batch.clear();
        let _ = src.recycle.send(batch);
    }
    if shared.stop.load(Ordering::Relaxed) {
        return Ok(None);
    }
    Ok(Some(keys))
}

/// One element of a big copy: a string, or a (field, value) or (member,
/// score) pair.
pub(crate) enum Item<'a> {
    One(&'a [u8]),
    Pair(&'a [u8], &'a [u8]),
    Scored(&'a [u8], f64),
}

/// A big copy's elements, each once, in the order received (an AOF
/// rewrite writes them as commands): a list's as they came, a set's,
/// hash's or zset's without the repeats a scan across a rehash may give.
pub(crate) fn big_items(kind: BigKind, len: u64, p: &Partial) -> Vec<Item<'_>> {
    let mut r = frame::Reader::new(&p.bytes);
    let mut out = Vec::with_capacity(len.min(p.count) as usize);
    if kind == BigKind::List || p.count == len {
        while let Some(item) = next_item(&mut r, kind) {
            out.push(item);
        }
        return out;
    }
    let mut seen: HashSet<&[u8]> = HashSet::with_capacity(len.min(p.count) as usize);
    while let Some(item) = next_item(&mut r, kind) {
        let m = match item {
            Item::One(m) | Item::Pair(m, _) | Item::Scored(m, _) => m,
        };
        if seen.insert(m) {
            out.push(item);
        }
    }
    out
}

fn next_item<'a>(r: &mut frame::Reader<'a>, kind: BigKind) -> Option<Item<'a>> {
    Some(match kind {
        BigKind::List | BigKind::Set => Item::One(r.string()?),
        BigKind::Hash => Item::Pair(r.string()?, r.string()?),
        BigKind::ZSet => Item::Scored(r.string()?, r.score()?),
    })
}

/// A big copy's parts received so far.
#[derive(Default)]
pub(crate) struct Partial {
    /// Framed elements (`snapshot::frame`).
    pub(crate) bytes: Vec<u8>,
    /// Elements in `bytes` (pairs for a hash).
    pub(crate) count: u64,
}

/// Bytes of a list node's listpack at which the next element starts a new
/// node: Valkey's default `list-max-listpack-size -2` (8 KiB).
const LIST_NODE_BYTES: usize = 8 * 1024;

/// The type byte and serialization of a big value from its parts; `len`
/// is its length when the copy started.
pub(crate) fn write_big(out: &mut Vec<u8>, kind: BigKind, len: u64, p: &Partial, compress: bool) {
    let mut r = frame::Reader::new(&p.bytes);
    let mut next = || next_item(&mut r, kind);
    if kind == BigKind::List {
        // In order, no repeats: listpack nodes of at most 8 KiB (one
        // element larger than that has a node of its own).
        let mut nodes: Vec<Vec<u8>> = Vec::new();
        let mut run: Vec<&[u8]> = Vec::new();
        let mut run_bytes = 0;
        let close = |run: &mut Vec<&[u8]>, nodes: &mut Vec<Vec<u8>>| {
            if !run.is_empty() {
                nodes.push(listpack_blob(run.drain(..).map(Elem::of)));
            }
        };
        while let Some(Item::One(e)) = next() {
            // An entry's header and back-length take at most 10 bytes.
            let size = e.len() + 10;
            if run_bytes + size > LIST_NODE_BYTES {
                close(&mut run, &mut nodes);
                run_bytes = 0;
            }
            run.push(e);
            run_bytes += size;
        }
        close(&mut run, &mut nodes);
        out.push(TYPE_LIST_QUICKLIST_2);
        write_len(out, nodes.len() as u64);
        for n in &nodes {
            write_len(out, NODE_PACKED);
            write_string(out, n, compress);
        }
        return;
    }
    out.push(match kind {
        BigKind::Set => TYPE_SET,
        BigKind::Hash => TYPE_HASH,
        _ => TYPE_ZSET_2,
    });
    let write = |out: &mut Vec<u8>, item: Item<'_>| match item {
        Item::One(m) => write_string(out, m, compress),
        Item::Pair(f, v) => {
            write_string(out, f, compress);
            write_string(out, v, compress);
        }
        Item::Scored(m, sc) => {
            write_string(out, m, compress);
            write_binary_double(out, sc);
        }
    };
    if p.count == len {
        // The parts hold each of the `len` elements at least once, so
        // exactly once.
        write_len(out, len);
        while let Some(item) = next() {
            write(out, item);
        }
        return;
    }
    // Repeats: the first of each member (a value cannot change while
    // copied, so all are equal).
    let mut seen: HashSet<&[u8]> = HashSet::with_capacity(len.min(p.count) as usize);
    let mut kept = Vec::with_capacity(len.min(p.count) as usize);
    while let Some(item) = next() {
        let m = match item {
            Item::One(m) | Item::Pair(m, _) | Item::Scored(m, _) => m,
        };
        if seen.insert(m) {
            kept.push(item);
        }
    }
    write_len(out, kept.len() as u64);
    for item in kept {
        write(out, item);
    }
}

/// Valkey's debugDelay: sleeps `us` microseconds; a negative value sleeps
/// 1 µs once in `-us` calls on average.
pub(super) fn key_delay(us: i64, rng: &mut Rng) {
    let us = if us < 0 {
        u64::from(rng.below(us.unsigned_abs().min(usize::MAX as u64) as usize) == 0)
    } else {
        us as u64
    };
    if us > 0 {
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}

/// Syncs the directory holding `path`, so the rename survives a crash.
pub(super) fn fsync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
#[path = "rdb_write_tests.rs"]
mod tests;
