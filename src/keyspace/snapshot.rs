//! Point-in-time snapshots of the keyspace without fork.
//!
//! A snapshot hands every key that existed when it started, with the value
//! and expire time it had then, exactly once, to a `SnapshotSink`, while
//! the main thread goes on serving writes. It advances in small time-boxed
//! steps (`Snapshot::step`) and never copies the keyspace:
//!
//! - every entry carries a mark bit (`Entry::snap_mark`); a snapshot starts
//!   by flipping each table's `parity`, which makes every entry "not yet in the
//!   snapshot" at once (O(databases));
//! - the step walks each table with a SCAN cursor, which reaches every key
//!   present for the whole walk at least once whatever resizes happen in
//!   between; it emits the entries whose mark differs from the parity and
//!   sets their mark, so a key met twice is emitted once;
//! - a write that would change, remove or rename an entry not yet in the
//!   snapshot first saves its current image (`saved`, moved when the write
//!   removes or replaces the value, copied when it changes it in place) and
//!   marks it; new entries are born marked, so the walk skips them;
//! - a big aggregate is copied over several steps (`BigCopy`) as framed
//!   element bytes straight into the sink's buffer (`frame`), never into a
//!   `Value`, so the main thread makes no allocation per element and the
//!   consumer frees none of its chunks; its entry stays unmarked meanwhile,
//!   so a write to it saves its image through the hooks above and the copy
//!   is dropped (`SnapshotSink::big_dropped`); a big saved image goes in
//!   parts over several steps too;
//! - a flush hands the old table to the snapshot (`orphans`) instead of
//!   freeing it, and SWAPDB swaps the walk's state with the contents, so
//!   each key is still reported under the db it was in at the start.
//!
//! Memory held is the saved images (what was changed during the save), the
//! flushed tables, and whatever the sink buffers. When no snapshot runs the
//! hooks cost one flag test on the write path. See docs/architecture.md.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::db::Db;
use super::entry::Entry;
use super::kvtable::KvTable;
use super::value::Value;

/// One key as it was when the snapshot started.
pub struct Record<'a> {
    /// The db the key was in at the start.
    pub db: usize,
    pub key: &'a [u8],
    pub value: &'a Value,
    /// Absolute Unix ms; 0 for none.
    pub expire_ms: i64,
}

/// The type of a big value copied in parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BigKind {
    List,
    Set,
    Hash,
    ZSet,
}

/// A big value whose parts have all been handed over.
#[derive(Debug, Clone, Copy)]
pub struct BigDone<'a> {
    /// The copy's id, as its parts carried it.
    pub id: u64,
    /// The db the key was in at the start.
    pub db: usize,
    pub key: &'a [u8],
    pub kind: BigKind,
    /// Elements (pairs for a hash) the value held when the copy started:
    /// the parts hold each of them at least once, more only when the
    /// source rehashed while scanned, so a consumer that counts exactly
    /// this many knows there is no duplicate.
    pub len: u64,
    /// Absolute Unix ms; 0 for none.
    pub expire_ms: i64,
}

/// Where a snapshot's records go: the RDB writer, a channel to it, a test.
///
/// A big aggregate comes in parts: `big_part` for each run of its elements
/// (framed as `frame` lays them out, appended to `part_buf`), then either
/// `big_done` with the key, or `big_dropped` when a write to the key saved
/// its whole image through `entry` instead.
pub trait SnapshotSink {
    fn entry(&mut self, r: Record<'_>);
    /// The buffer the next part of a big copy is appended to; None when
    /// the sink drops parts (the snapshot then uses a scratch buffer).
    fn part_buf(&mut self) -> Option<&mut Vec<u8>> {
        None
    }
    /// `count` elements of copy `id` were appended to `part_buf` from
    /// `start` on.
    fn big_part(&mut self, id: u64, start: usize, count: u64);
    /// Every part of copy `id` has been handed over.
    fn big_done(&mut self, done: BigDone<'_>);
    /// Copy `id` is abandoned: forget its parts.
    fn big_dropped(&mut self, id: u64);
    /// False while the sink cannot take more now (its buffers are full):
    /// the step ends early and the next one resumes where it stopped.
    fn ready(&mut self) -> bool {
        true
    }
    /// After the last record: true once everything handed over has been
    /// delivered (a channel sink may still hold its last batch).
    fn finish(&mut self) -> bool {
        true
    }
}

/// A sink that drops everything: stepping with it finishes an abandoned
/// snapshot (its marks must be completed before another can start).
pub struct Discard;

impl SnapshotSink for Discard {
    fn entry(&mut self, _: Record<'_>) {}
    fn big_part(&mut self, _: u64, _: usize, _: u64) {}
    fn big_done(&mut self, _: BigDone<'_>) {}
    fn big_dropped(&mut self, _: u64) {}
}

/// How a big copy's elements are laid out in its parts: each string as
/// its length (LEB128) then its bytes; a list element or set member is
/// one string, a hash pair two (field, value), a sorted set member a
/// string then its score (8 bytes, little-endian).
pub mod frame {
    /// Appends one string.
    #[inline]
    pub fn put(out: &mut Vec<u8>, b: &[u8]) {
        let mut n = b.len() as u64;
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out.extend_from_slice(b);
    }

    /// Appends an integer as its decimal string.
    pub fn put_int(out: &mut Vec<u8>, n: i64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut u = n.unsigned_abs();
        loop {
            at -= 1;
            digits[at] = b'0' + (u % 10) as u8;
            u /= 10;
            if u == 0 {
                break;
            }
        }
        let mut tmp = [0u8; 21];
        let mut len = 0;
        if n < 0 {
            tmp[0] = b'-';
            len = 1;
        }
        let d = &digits[at..];
        tmp[len..len + d.len()].copy_from_slice(d);
        put(out, &tmp[..len + d.len()]);
    }

    /// Appends a score.
    #[inline]
    pub fn put_score(out: &mut Vec<u8>, score: f64) {
        out.extend_from_slice(&score.to_le_bytes());
    }

    /// Reads parts back; None at the end (or on a malformed frame).
    pub struct Reader<'a> {
        b: &'a [u8],
    }

    impl<'a> Reader<'a> {
        pub fn new(b: &'a [u8]) -> Self {
            Reader { b }
        }

        pub fn string(&mut self) -> Option<&'a [u8]> {
            let mut n: u64 = 0;
            let mut shift = 0;
            loop {
                let (&byte, rest) = self.b.split_first()?;
                self.b = rest;
                n |= u64::from(byte & 0x7f).checked_shl(shift)?;
                if byte < 0x80 {
                    break;
                }
                shift += 7;
            }
            let n = usize::try_from(n).ok()?;
            if n > self.b.len() {
                return None;
            }
            let (s, rest) = self.b.split_at(n);
            self.b = rest;
            Some(s)
        }

        pub fn score(&mut self) -> Option<f64> {
            let (s, rest) = self.b.split_first_chunk::<8>()?;
            self.b = rest;
            Some(f64::from_le_bytes(*s))
        }
    }
}

/// Rebuilds big values from their parts, for sinks that want `Value`s
/// (tests, the bench's channel); the RDB writer serializes parts instead.
#[derive(Default)]
pub struct Assembler {
    /// Where the next part is appended (`SnapshotSink::part_buf`).
    pub buf: Vec<u8>,
    parts: HashMap<u64, Vec<u8>>,
}

impl Assembler {
    /// The part appended to `buf` from `start` belongs to copy `id`.
    pub fn part(&mut self, id: u64, start: usize) {
        let part = self.buf.get(start..).unwrap_or_default();
        self.parts.entry(id).or_default().extend_from_slice(part);
        self.buf.clear();
    }

    pub fn dropped(&mut self, id: u64) {
        self.parts.remove(&id);
    }

    /// The value copy `d.id` held, in its plain encoding.
    pub fn done(&mut self, d: &BigDone<'_>) -> Value {
        use super::{hash, list, set, zset};
        let bytes = self.parts.remove(&d.id).unwrap_or_default();
        let mut r = frame::Reader::new(&bytes);
        match d.kind {
            BigKind::List => {
                let mut l = list::List::new();
                while let Some(e) = r.string() {
                    l.push_elem(false, list::Elem::of(e), -2);
                }
                Value::List(Box::new(l))
            }
            BigKind::Set => {
                let lim = set::Limits {
                    max_intset_entries: 0,
                    max_listpack_entries: 0,
                    max_listpack_value: 0,
                };
                let mut s = set::Set::new_hashtable();
                while let Some(m) = r.string() {
                    s.add(m, &lim);
                }
                Value::Set(Box::new(s))
            }
            BigKind::Hash => {
                let lim = hash::Limits {
                    max_entries: 0,
                    max_value: 0,
                };
                let mut h = hash::Hash::new();
                while let (Some(f), Some(v)) = (r.string(), r.string()) {
                    h.set(f, v, lim);
                }
                Value::Hash(h)
            }
            BigKind::ZSet => {
                let lim = zset::Limits::new(0, 0);
                let mut z = zset::ZSet::default();
                while let (Some(m), Some(sc)) = (r.string(), r.score()) {
                    z.set(m, sc, lim);
                }
                Value::ZSet(Box::new(z))
            }
        }
    }
}

/// A record owning its data, for a consumer on another thread.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedRecord {
    pub db: usize,
    pub key: Box<[u8]>,
    pub value: Value,
    pub expire_ms: i64,
}

impl OwnedRecord {
    fn of(r: Record<'_>) -> OwnedRecord {
        OwnedRecord {
            db: r.db,
            key: r.key.into(),
            value: r.value.clone(),
            expire_ms: r.expire_ms,
        }
    }

    /// Approximate bytes held.
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.key.len() + self.value.heap_bytes()
    }
}

/// Hands owned records to another thread in batches over a bounded
/// channel: at most `capacity` batches in flight plus the one being
/// filled, each closed at `batch_bytes` (a single value larger than that
/// is one batch of its own).
pub struct ChannelSink {
    tx: std::sync::mpsc::SyncSender<Vec<OwnedRecord>>,
    big: Assembler,
    batch: Vec<OwnedRecord>,
    batch_bytes: usize,
    limit: usize,
    /// The receiver is gone: records are dropped.
    closed: bool,
}

impl ChannelSink {
    /// A sink and the receiving end for the consumer thread.
    pub fn new(
        capacity: usize,
        batch_bytes: usize,
    ) -> (ChannelSink, std::sync::mpsc::Receiver<Vec<OwnedRecord>>) {
        let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
        let sink = ChannelSink {
            tx,
            big: Assembler::default(),
            batch: Vec::new(),
            batch_bytes: 0,
            limit: batch_bytes.max(1),
            closed: false,
        };
        (sink, rx)
    }

    /// Sends the batch being filled if the channel has room; true if
    /// nothing is left waiting.
    pub fn flush(&mut self) -> bool {
        if self.batch.is_empty() || self.closed {
            self.batch.clear();
            self.batch_bytes = 0;
            return true;
        }
        match self.tx.try_send(std::mem::take(&mut self.batch)) {
            Ok(()) => {
                self.batch_bytes = 0;
                true
            }
            Err(std::sync::mpsc::TrySendError::Full(b)) => {
                self.batch = b;
                false
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                self.closed = true;
                self.batch_bytes = 0;
                true
            }
        }
    }

    /// Bytes waiting in the batch being filled.
    pub fn pending_bytes(&self) -> usize {
        self.batch_bytes
    }
}

impl SnapshotSink for ChannelSink {
    fn part_buf(&mut self) -> Option<&mut Vec<u8>> {
        Some(&mut self.big.buf)
    }

    fn big_part(&mut self, id: u64, start: usize, _: u64) {
        self.big.part(id, start);
    }

    fn big_done(&mut self, d: BigDone<'_>) {
        let value = self.big.done(&d);
        self.entry(Record {
            db: d.db,
            key: d.key,
            value: &value,
            expire_ms: d.expire_ms,
        });
    }

    fn big_dropped(&mut self, id: u64) {
        self.big.dropped(id);
    }

    fn entry(&mut self, r: Record<'_>) {
        if self.closed {
            return;
        }
        let rec = OwnedRecord::of(r);
        self.batch_bytes += rec.bytes();
        self.batch.push(rec);
        if self.batch_bytes >= self.limit {
            self.flush();
        }
    }

    fn ready(&mut self) -> bool {
        self.batch_bytes < self.limit || self.flush()
    }

    fn finish(&mut self) -> bool {
        self.flush()
    }
}

/// A key's image saved by a write that came before the walk reached it.
struct Saved {
    db: usize,
    key: Box<[u8]>,
    value: Value,
    expire: i64,
    /// Bytes held, counted once (a hash's or zset's size walks it).
    bytes: usize,
    /// A big image goes in parts over several steps, as a big value the
    /// walk meets does (its key is this record's; nothing can write it).
    copy: Option<BigCopy>,
}

/// The walk over the contents now in a db (swapped with them by SWAPDB).
#[derive(Default, Clone, Copy)]
pub(super) struct Walk {
    /// Entries of this table may still be missing from the snapshot:
    /// writes must save unmarked ones first.
    pub(super) active: bool,
    /// An entry of this table whose mark equals this is in the running
    /// (or last) snapshot; new entries are born with it. It belongs to the
    /// contents, so SWAPDB moves it with them.
    pub(super) parity: bool,
    /// The db these contents were in when the snapshot started.
    origin: usize,
    /// The scan is over; the walk stays active until the big values it
    /// met are copied (`BigCopy`), so writes still see unmarked entries.
    wrapped: bool,
    cursor: u64,
}

/// Aggregates of this many heap bytes and more are copied over several
/// steps rather than in the step that meets them (one 1 M-member set and
/// one 1 M-element list took a single 422 ms step). Unit tests use a small
/// size so that the randomized snapshot tests go through this path.
const BIG_VALUE: usize = if cfg!(test) { 200 } else { 256 * 1024 };
/// Heap bytes a hash field or sorted-set member takes at the least (its
/// node and bucket slot): from BIG_VALUE / this many elements on, a value
/// is big without adding up its sizes (which walks every element: a
/// 31 ms step for a 1 M-field hash).
const MIN_ELEM_BYTES: usize = 48;
/// List elements copied between two clock reads.
const LIST_CHUNK: usize = 512;

/// Ids of big copies, unique in the process: a consumer tells the parts
/// of copies under way at once apart by them.
static NEXT_BIG_ID: AtomicU64 = AtomicU64::new(1);

/// A big value being copied step by step. Its entry stays unmarked until
/// the copy is complete: a write to it meanwhile goes through the usual
/// hooks, which save its whole image and mark it, and the next step finds
/// it marked (or gone) and drops this copy.
pub(super) struct BigCopy {
    id: u64,
    key: Box<[u8]>,
    expire: i64,
    kind: BigKind,
    /// Elements at the start (the value does not change while copied).
    len: u64,
    /// Where the source's scan (or, for a list, the element index) resumes.
    cursor: u64,
    /// Its table was flushed (the image was saved whole): the next step
    /// drops it.
    abandoned: bool,
}

impl BigCopy {
    fn new(key: Box<[u8]>, expire: i64, kind: BigKind, len: u64) -> BigCopy {
        BigCopy {
            id: NEXT_BIG_ID.fetch_add(1, Ordering::Relaxed),
            key,
            expire,
            kind,
            len,
            cursor: 0,
            abandoned: false,
        }
    }
}

/// Where the next part goes: the sink's buffer, or `scratch` (emptied)
/// when the sink drops parts.
fn part_out<'a>(
    sink: &'a mut (dyn SnapshotSink + '_),
    scratch: &'a mut Vec<u8>,
) -> &'a mut Vec<u8> {
    match sink.part_buf() {
        Some(out) => out,
        None => {
            scratch.clear();
            scratch
        }
    }
}

/// The kind and element count of a big aggregate; None for strings and
/// for values under BIG_VALUE, copied whole when met.
fn big_kind(v: &Value) -> Option<(BigKind, u64)> {
    let by_len = |n: usize| n >= BIG_VALUE / MIN_ELEM_BYTES || v.heap_bytes() >= BIG_VALUE;
    let (kind, n) = match v {
        Value::Str(_) => return None,
        // Both of these add up their sizes in O(nodes) or by sampling.
        Value::List(l) if v.heap_bytes() >= BIG_VALUE => (BigKind::List, l.len()),
        Value::Set(s) if v.heap_bytes() >= BIG_VALUE => (BigKind::Set, s.len()),
        // A hash with field TTLs is copied whole: the parts carry no TTLs.
        Value::Hash(h) if by_len(h.len()) && !h.has_volatile_fields() => (BigKind::Hash, h.len()),
        Value::ZSet(z) if by_len(z.len()) => (BigKind::ZSet, z.len()),
        _ => return None,
    };
    Some((kind, n as u64))
}

/// Appends the next run of `src`'s elements to `out` (`frame`): whether
/// that was the last and how many it appended; None if `src` is not of
/// the copy's kind (never: a write would have marked the entry first).
fn copy_some(src: &Value, b: &mut BigCopy, out: &mut Vec<u8>) -> Option<(bool, u64)> {
    use super::set::Member;
    let cursor = &mut b.cursor;
    let mut n = 0u64;
    let done = match (src, b.kind) {
        (Value::Set(s), BigKind::Set) => {
            *cursor = s.scan(*cursor, |m| {
                match m {
                    Member::Bytes(b) => frame::put(out, b),
                    Member::Int(i) => frame::put_int(out, i),
                }
                n += 1;
            });
            *cursor == 0
        }
        (Value::Hash(h), BigKind::Hash) => {
            *cursor = h.scan(*cursor, |f, v| {
                frame::put(out, f);
                frame::put(out, v);
                n += 1;
            });
            *cursor == 0
        }
        (Value::ZSet(z), BigKind::ZSet) => {
            *cursor = z.scan(*cursor, |m, score| {
                frame::put(out, m);
                frame::put_score(out, score);
                n += 1;
            });
            *cursor == 0
        }
        (Value::List(l), BigKind::List) => {
            let from = *cursor as usize;
            for e in l.iter_from(from).take(LIST_CHUNK) {
                match e {
                    super::list::Elem::Bytes(b) => frame::put(out, b),
                    super::list::Elem::Int(i) => frame::put_int(out, i),
                }
                n += 1;
            }
            *cursor = (from + LIST_CHUNK).min(l.len()) as u64;
            *cursor as usize >= l.len()
        }
        _ => return None,
    };
    Some((done, n))
}

/// A table flushed during a snapshot, walked before it is freed.
struct Orphan {
    origin: usize,
    parity: bool,
    table: KvTable,
    cursor: u64,
}

/// A db's share of the snapshot state.
#[derive(Default)]
pub(super) struct DbSnap {
    pub(super) walk: Walk,
    saved: Vec<Saved>,
    saved_bytes: usize,
    orphans: Vec<Orphan>,
    /// Orphans fully walked, for the caller to free off the main thread.
    spent: Vec<KvTable>,
    /// Big values met by the walk, being copied (they travel with the
    /// contents through SWAPDB, as `walk` does).
    pub(super) big: Vec<BigCopy>,
}

impl DbSnap {
    /// Before `e` changes: saves its image if the snapshot still needs it.
    #[inline(always)]
    pub(super) fn before_write(&mut self, e: &mut Entry) {
        if self.walk.active && e.snap_mark() != self.walk.parity {
            self.save_copy(e);
        }
    }

    #[cold]
    #[inline(never)]
    fn save_copy(&mut self, e: &mut Entry) {
        let value = e.value().into_owned();
        self.push(e.key(), value, e.expire());
        e.set_snap_mark(self.walk.parity);
    }

    /// `e` was taken out of the table: the snapshot keeps it if it still
    /// needs it (None), else it is given back to be freed as usual.
    #[inline(always)]
    pub(super) fn keep_removed(&mut self, e: Entry) -> Option<Entry> {
        if self.walk.active && e.snap_mark() != self.walk.parity {
            self.save_moved(e);
            return None;
        }
        Some(e)
    }

    #[cold]
    #[inline(never)]
    fn save_moved(&mut self, e: Entry) {
        let (key, expire): (Box<[u8]>, i64) = (e.key().into(), e.expire());
        let value = e.into_value();
        self.push_owned(key, value, expire);
    }

    #[cold]
    pub(super) fn push(&mut self, key: &[u8], value: Value, expire: i64) {
        self.push_owned(key.into(), value, expire);
    }

    fn push_owned(&mut self, key: Box<[u8]>, value: Value, expire: i64) {
        let bytes = std::mem::size_of::<Saved>() + key.len() + value.heap_bytes();
        self.saved_bytes += bytes;
        self.saved.push(Saved {
            db: self.walk.origin,
            key,
            value,
            expire,
            bytes,
            copy: None,
        });
    }

    /// The db's table is being emptied (FLUSHDB, FLUSHALL): while the walk
    /// still needs it, the snapshot keeps it and the db gets an empty one.
    pub(super) fn orphan(&mut self, mut table: KvTable) -> KvTable {
        // Big values being copied are saved whole now (the orphan's walk
        // resumes at the cursor and may not meet them again); their copies
        // stay queued, abandoned, for the next step to tell the sink.
        for i in 0..self.big.len() {
            self.big[i].abandoned = true;
            if let Some(e) = table.get_mut(&self.big[i].key) {
                if e.snap_mark() != self.walk.parity {
                    self.save_copy(e);
                }
            }
        }
        if !self.walk.active || table.is_empty() {
            self.walk.active = false;
            return table;
        }
        self.orphans.push(Orphan {
            origin: self.walk.origin,
            parity: self.walk.parity,
            table,
            cursor: self.walk.cursor,
        });
        // The new contents are born marked: nothing left to walk.
        self.walk.active = false;
        KvTable::new()
    }

    fn idle(&self) -> bool {
        !self.walk.active && self.saved.is_empty() && self.orphans.is_empty() && self.big.is_empty()
    }
}

impl Db {
    /// Flushed tables the snapshot has finished with, to be freed off the
    /// main thread.
    pub fn take_snapshot_spent(&mut self) -> Option<Vec<KvTable>> {
        if self.snap.spent.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.snap.spent))
        }
    }

    /// Bytes held for a running snapshot: saved images, plus the keys and
    /// values of flushed tables not yet walked (counted by key).
    pub fn snapshot_held(&self) -> (usize, usize) {
        let orphan_keys = self.snap.orphans.iter().map(|o| o.table.len()).sum();
        (self.snap.saved_bytes, orphan_keys)
    }
}

/// True while a snapshot (possibly abandoned) still has work in `dbs`.
pub fn running(dbs: &[Db]) -> bool {
    dbs.iter().any(|d| !d.snap.idle())
}

/// Entries handed over and the longest step, for INFO and tests.
#[derive(Default, Debug, Clone, Copy)]
pub struct SnapshotStats {
    pub records: u64,
    pub saved_records: u64,
    pub steps: u64,
    pub longest_step: Duration,
    /// Most bytes of saved images held at once.
    pub peak_saved_bytes: usize,
}

/// A running snapshot. Its state lives in the dbs (so writes reach it);
/// this is the handle that advances it.
pub struct Snapshot {
    pub stats: SnapshotStats,
    /// Where big copies' parts go when the sink drops them.
    scratch: Vec<u8>,
}

/// Steps read the clock once per this many buckets (or saved images).
const CLOCK_EVERY: u32 = 8;

/// What a step left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Every record has been handed to the sink.
    Done,
    /// More to do: call `step` again.
    More,
}

impl Snapshot {
    /// Starts a snapshot of `dbs` as they are now, in O(number of dbs).
    /// None while a previous one is still running.
    pub fn start(dbs: &mut [Db]) -> Option<Snapshot> {
        if running(dbs) {
            return None;
        }
        for (i, db) in dbs.iter_mut().enumerate() {
            // Every entry's mark equals the old parity (the last snapshot
            // completed, new entries were born with it): flipping it makes
            // them all "not yet in this one".
            db.snap.walk = Walk {
                active: !db.table.is_empty(),
                parity: !db.snap.walk.parity,
                origin: i,
                cursor: 0,
                wrapped: false,
            };
        }
        Some(Snapshot {
            stats: SnapshotStats::default(),
            scratch: Vec::new(),
        })
    }

    /// Advances the snapshot for about `budget` (one bucket at most past
    /// it): hands saved images, then unvisited entries, to `sink`, stopping
    /// early when the sink is not `ready`.
    pub fn step(
        &mut self,
        dbs: &mut [Db],
        sink: &mut dyn SnapshotSink,
        budget: Duration,
    ) -> Progress {
        let start = Instant::now();
        let more = self.work(dbs, sink, start, budget);
        let took = start.elapsed();
        self.stats.steps += 1;
        self.stats.longest_step = self.stats.longest_step.max(took);
        if more {
            Progress::More
        } else {
            Progress::Done
        }
    }

    /// True while work is left.
    fn work(
        &mut self,
        dbs: &mut [Db],
        sink: &mut dyn SnapshotSink,
        start: Instant,
        budget: Duration,
    ) -> bool {
        let mut ticks = 0u32;
        let out_of_time = |ticks: &mut u32| {
            *ticks += 1;
            ticks.is_multiple_of(CLOCK_EVERY) && start.elapsed() >= budget
        };
        let stats = &mut self.stats;
        let scratch = &mut self.scratch;
        for db in dbs.iter_mut() {
            stats.peak_saved_bytes = stats.peak_saved_bytes.max(db.snap.saved_bytes);
            // Saved images first: they are what holds memory.
            while let Some(s) = db.snap.saved.last_mut() {
                if !sink.ready() {
                    return true;
                }
                if s.copy.is_none() {
                    if let Some((kind, len)) = big_kind(&s.value) {
                        s.copy = Some(BigCopy::new(Box::default(), s.expire, kind, len));
                    }
                }
                // Handed over whole, unless all its parts went.
                let mut whole = true;
                if let Some(b) = s.copy.as_mut() {
                    let out = part_out(sink, scratch);
                    let start = out.len();
                    if let Some((done, n)) = copy_some(&s.value, b, out) {
                        sink.big_part(b.id, start, n);
                        if !done {
                            if out_of_time(&mut ticks) {
                                return true;
                            }
                            continue;
                        }
                        whole = false;
                    }
                }
                let Some(s) = db.snap.saved.pop() else { break };
                db.snap.saved_bytes -= s.bytes;
                match &s.copy {
                    Some(b) if !whole => sink.big_done(BigDone {
                        id: b.id,
                        db: s.db,
                        key: &s.key,
                        kind: b.kind,
                        len: b.len,
                        expire_ms: s.expire,
                    }),
                    copy => {
                        if let Some(b) = copy {
                            sink.big_dropped(b.id); // never: not of its kind
                        }
                        sink.entry(Record {
                            db: s.db,
                            key: &s.key,
                            value: &s.value,
                            expire_ms: s.expire,
                        });
                    }
                }
                stats.records += 1;
                stats.saved_records += 1;
                db.discard(s.value);
                if out_of_time(&mut ticks) {
                    return true;
                }
            }
            while let Some(o) = db.snap.orphans.last_mut() {
                loop {
                    if !sink.ready() || out_of_time(&mut ticks) {
                        return true;
                    }
                    let (origin, parity) = (o.origin, o.parity);
                    o.cursor = o.table.scan_mut(o.cursor, |e| {
                        emit(e, origin, parity, sink, stats, None);
                    });
                    if o.cursor == 0 {
                        break;
                    }
                }
                if let Some(o) = db.snap.orphans.pop() {
                    db.snap.spent.push(o.table);
                }
            }
            let (origin, parity) = (db.snap.walk.origin, db.snap.walk.parity);
            while let Some(b) = db.snap.big.last_mut() {
                if !sink.ready() || out_of_time(&mut ticks) {
                    return true;
                }
                let id = b.id;
                if b.abandoned {
                    db.snap.big.pop(); // its key's table was flushed
                    sink.big_dropped(id);
                    continue;
                }
                let Some(e) = db.table.get_mut(&b.key) else {
                    db.snap.big.pop(); // deleted or renamed: saved by the hook
                    sink.big_dropped(id);
                    continue;
                };
                if e.snap_mark() == parity {
                    db.snap.big.pop(); // written: its image was saved whole
                    sink.big_dropped(id);
                    continue;
                }
                let (done, start) = {
                    let out = part_out(sink, scratch);
                    let start = out.len();
                    (copy_some(&e.value(), b, out), start)
                };
                if let Some((_, n)) = done {
                    sink.big_part(id, start, n);
                }
                if matches!(done, Some((false, _))) {
                    continue;
                }
                e.set_snap_mark(parity);
                let Some(b) = db.snap.big.pop() else { break };
                if done.is_none() {
                    sink.big_dropped(id);
                    emit_whole(e, origin, sink);
                } else {
                    sink.big_done(BigDone {
                        id,
                        db: origin,
                        key: &b.key,
                        kind: b.kind,
                        len: b.len,
                        expire_ms: b.expire,
                    });
                }
                stats.records += 1;
            }
            let walk = &mut db.snap.walk;
            let big = &mut db.snap.big;
            while walk.active && !walk.wrapped {
                if !sink.ready() || out_of_time(&mut ticks) {
                    return true;
                }
                walk.cursor = db.table.scan_mut(walk.cursor, |e| {
                    emit(e, origin, parity, sink, stats, Some(&mut *big));
                });
                if walk.cursor == 0 {
                    walk.wrapped = true;
                }
            }
            if walk.active && walk.wrapped && big.is_empty() {
                walk.active = false;
            }
            if !big.is_empty() {
                // Copies started in this step go on in the next.
                return true;
            }
        }
        // Writes during this step may have saved images in a db already
        // passed: they go in the next step.
        dbs.iter().any(|d| !d.snap.idle())
    }
}

/// A running snapshot with its sink, as the main loop drives it.
pub struct Background {
    snap: Snapshot,
    sink: Box<dyn SnapshotSink + Send>,
}

impl Background {
    /// None while another snapshot is still running.
    pub fn start(dbs: &mut [Db], sink: Box<dyn SnapshotSink + Send>) -> Option<Background> {
        Some(Background {
            snap: Snapshot::start(dbs)?,
            sink,
        })
    }

    /// One step; Done once every record is handed over and the sink has
    /// delivered them.
    pub fn step(&mut self, dbs: &mut [Db], budget: Duration) -> Progress {
        match self.snap.step(dbs, self.sink.as_mut(), budget) {
            Progress::Done if self.sink.finish() => Progress::Done,
            _ => Progress::More,
        }
    }

    pub fn stats(&self) -> SnapshotStats {
        self.snap.stats
    }
}

/// Hands `e` to the sink unless it is already in the snapshot, and marks it;
/// with `big`, a big aggregate is left unmarked and queued there instead,
/// to be copied over the next steps.
#[inline]
fn emit(
    e: &mut Entry,
    origin: usize,
    parity: bool,
    sink: &mut dyn SnapshotSink,
    stats: &mut SnapshotStats,
    big: Option<&mut Vec<BigCopy>>,
) {
    if e.snap_mark() == parity {
        return;
    }
    let v = e.value();
    if let Some(big) = big {
        if let Some((kind, len)) = big_kind(&v) {
            // SCAN may meet an entry twice: one copy per key.
            if !big.iter().any(|x| *x.key == *e.key()) {
                big.push(BigCopy::new(e.key().into(), e.expire(), kind, len));
            }
            return;
        }
    }
    sink.entry(Record {
        db: origin,
        key: e.key(),
        value: &v,
        expire_ms: e.expire(),
    });
    drop(v);
    e.set_snap_mark(parity);
    stats.records += 1;
}

fn emit_whole(e: &Entry, origin: usize, sink: &mut dyn SnapshotSink) {
    sink.entry(Record {
        db: origin,
        key: e.key(),
        value: &e.value(),
        expire_ms: e.expire(),
    });
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
