//! One numbered database: keys, their values and expire times.
//!
//! Every read or write of a key goes through one `Db::lookup`, whose
//! `Access` says whether it counts a keyspace hit or miss, touches the key's
//! access data, and deletes the key if it has expired; every deletion goes
//! through `Db::delete` (or `take_entry`, which moves the entry out).
//!
//! Expired keys are removed lazily when looked up (and actively by
//! `expire::active_cycle`); while `log_expired` is on, those keys are kept in
//! order for the caller to propagate. Values that are expensive to drop are
//! not dropped here but queued in `garbage` for the caller to free on
//! another thread.
//!
//! Every access ("touch") updates the key's access word: the last access
//! time (OBJECT IDLETIME, LRU) or, under an LFU `maxmemory-policy`, a
//! logarithmic access counter (OBJECT FREQ), as Valkey keeps one or the
//! other in the same 24 bits.

use bytes::Bytes;

use super::dict::Dict;
use super::kvtable::{KvTable, Lookup};
use super::snapshot::DbSnap;
use super::value::{Value, LAZYFREE_THRESHOLD};
use crate::util::rng::Rng;

pub use super::entry::{Entry, View};

/// Access data kept per key: what `maxmemory-policy` asks for, as in
/// Valkey's one 24-bit field.
impl Entry {
    /// The LFU counter after decay, without counting an access (OBJECT FREQ).
    pub fn freq(&self, now: i64) -> u32 {
        lfu_decayed(self.access(), now)
    }

    /// Seconds since the last access (OBJECT IDLETIME).
    pub fn idle_secs(&self, now: i64) -> u64 {
        access_clock(now).saturating_sub(self.access()) as u64
    }

    #[inline]
    fn touch(&mut self, now: i64, rng: &mut Rng, no_touch: bool, lfu: bool) {
        if no_touch {
            return;
        }
        let a = if lfu {
            lfu_touched(self.access(), now, rng)
        } else {
            access_clock(now)
        };
        self.set_access(a);
    }
}

/// The access word of a new object.
#[inline]
fn fresh_access(now: i64, lfu: bool) -> u32 {
    if lfu {
        lfu_minutes(now) << 8 | LFU_INIT_VAL
    } else {
        access_clock(now)
    }
}

/// Seconds clock used for `Entry::access`.
#[inline]
pub fn access_clock(now_ms: i64) -> u32 {
    (now_ms / 1000) as u32
}

/// Counter of a new key: high enough that it is not evicted before it has
/// had a chance to be accessed (Valkey's LFU_INIT_VAL).
const LFU_INIT_VAL: u32 = 5;
/// Valkey's defaults for `lfu-log-factor` and `lfu-decay-time` (minutes).
const LFU_LOG_FACTOR: u64 = 10;
const LFU_DECAY_MINUTES: u32 = 1;

/// The 16-bit minutes clock of the LFU data.
#[inline]
fn lfu_minutes(now: i64) -> u32 {
    ((now / 60_000) as u64 & 0xffff) as u32
}

/// The counter minus one per decay period elapsed since its last decrement.
#[inline]
fn lfu_decayed(lfu: u32, now: i64) -> u32 {
    let last = lfu >> 8;
    let counter = lfu & 0xff;
    let mins = lfu_minutes(now);
    // The clock wraps every 2^16 minutes (about 45 days), as in Valkey.
    let elapsed = if mins >= last {
        mins - last
    } else {
        0xffff - last + mins
    };
    counter.saturating_sub(elapsed / LFU_DECAY_MINUTES)
}

/// The LFU data after one access: decay, then a logarithmic increment (the
/// higher the counter, the less likely an access raises it).
#[inline]
fn lfu_touched(lfu: u32, now: i64, rng: &mut Rng) -> u32 {
    let mut counter = lfu_decayed(lfu, now);
    if counter < 255 {
        let base = counter.saturating_sub(LFU_INIT_VAL) as u64;
        // Probability 1 / (base * factor + 1).
        if base == 0 || rng.next_u64() < u64::MAX / (base * LFU_LOG_FACTOR + 1) {
            counter += 1;
        }
    }
    lfu_minutes(now) << 8 | counter
}

/// What a lookup does besides finding the key: Valkey's `LOOKUP_*` flags,
/// stated positively. Every lookup goes through `Db::lookup` with one of the
/// named sets below, so which commands count, touch or expire is written at
/// the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Count a keyspace hit or miss (INFO `keyspace_hits`/`keyspace_misses`).
    pub count: bool,
    /// Update the key's access word (LRU clock or LFU counter), unless the
    /// db's `no_touch` is set (CLIENT NO-TOUCH).
    pub touch: bool,
    /// Delete the key if its time has passed (counted in `expired_keys`,
    /// logged for propagation). Without it an expired key reads as absent
    /// but stays (Valkey's LOOKUP_NOEXPIRE).
    pub expire: bool,
}

impl Access {
    /// A read command's lookup (Valkey's lookupKeyRead): counts, touches,
    /// deletes an expired key.
    pub const READ: Access = Access {
        count: true,
        touch: true,
        expire: true,
    };
    /// A read that leaves the access data alone but counts (LOOKUP_NOTOUCH:
    /// TYPE, EXISTS, TTL).
    pub const READ_NOTOUCH: Access = Access {
        count: true,
        touch: false,
        expire: true,
    };
    /// A write command's lookup (lookupKeyWrite): touches and deletes an
    /// expired key, counts nothing.
    pub const WRITE: Access = Access {
        count: false,
        touch: true,
        expire: true,
    };
    /// A check that is no access at all (does the key exist, what is its
    /// expire): no counting, no touch; an expired key is still deleted.
    pub const PEEK: Access = Access {
        count: false,
        touch: false,
        expire: true,
    };
    /// No side effect whatsoever (LOOKUP_NOEFFECTS): an expired key reads
    /// as absent and is left for someone else to delete.
    pub const NO_EFFECTS: Access = Access {
        count: false,
        touch: false,
        expire: false,
    };
}

/// How `Db::delete` frees the deleted value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Free {
    /// DEL's rule: dropped here, unless freeing it would stall the main
    /// thread (free effort over `LAZYFREE_THRESHOLD`), then queued.
    Sync,
    /// UNLINK's rule: queued for another thread unless it owns next to
    /// nothing (shipping a small int costs more than dropping it, which is
    /// also why Valkey's UNLINK frees small values in place).
    Async,
}

/// `Db::expiry_hold` bits.
const HOLD_PAUSED: u8 = 1;
const HOLD_LOADING: u8 = 2;

#[derive(Default)]
pub struct Db {
    pub id: usize,
    pub(super) table: KvTable,
    /// Keys that have an expire, for active expiry sampling.
    expires: Dict<()>,
    /// Large values removed from this db, waiting to be freed off-thread,
    /// each with whether Valkey would have freed it lazily too (an async
    /// delete over the effort threshold), to be counted in INFO
    /// (`lazyfreed_objects`). One list: the db's size stays as it was.
    pub garbage: Vec<(Value, bool)>,
    pub expired_keys: u64,
    pub hits: u64,
    pub misses: u64,
    /// Where the active expire cycle resumes its scan of `expires`.
    pub(super) expire_cursor: u64,
    /// Running estimate of the average TTL (ms) of keys with one, for INFO.
    pub avg_ttl: i64,
    /// For the probabilistic LFU counter increments.
    rng: Rng,
    /// While set, lookups leave access data alone (CLIENT NO-TOUCH: the
    /// executor sets it around such a client's commands).
    pub no_touch: bool,
    /// Access words hold LFU data (an `*-lfu` maxmemory-policy), not LRU.
    pub lfu: bool,
    /// What holds expiry back, in one byte so that a lookup's fast path
    /// tests one field: `HOLD_PAUSED` (CLIENT PAUSE: reads find expired
    /// keys absent but leave them in place, as Valkey pauses expiry with its
    /// clients), `HOLD_LOADING` (the AOF replays into this db: no key counts
    /// as expired and an expire time already past is kept rather than
    /// deleting the key, Valkey's keyIsExpired and checkAlreadyExpired
    /// while loading).
    expiry_hold: u8,
    /// Keys deleted because they had expired, in order, while someone
    /// propagates them (`log_expired`); None, and free, otherwise. With
    /// `log_misses`, counted lookups that found nothing go in too.
    expired_log: Option<Vec<(Logged, Bytes)>>,
    log_misses: bool,
    /// A running snapshot's state (`snapshot.rs`): every write that
    /// changes, removes or renames an entry passes it the entry first.
    pub(super) snap: DbSnap,
    /// Hashes with field TTLs, for the active field expiry (`hash_ttl.rs`).
    pub hfe: super::hash_ttl::VolatileKeys,
    /// Hash fields removed because their TTL passed (INFO `expired_fields`).
    pub expired_fields: u64,
}

/// Registers a hash with field TTLs put under `key`: one discriminant test
/// for every other value, the rest out of line.
#[inline(always)]
fn note_volatile(hfe: &mut super::hash_ttl::VolatileKeys, key: &[u8], v: &Value) {
    if let Value::Hash(h) = v {
        note_volatile_hash(hfe, key, h);
    }
}

#[cold]
#[inline(never)]
fn note_volatile_hash(hfe: &mut super::hash_ttl::VolatileKeys, key: &[u8], h: &super::hash::Hash) {
    if h.has_volatile_fields() {
        hfe.track(key);
    }
}

/// Appends to a db's log, if on (out of line: the lookup stays small).
#[cold]
#[inline(never)]
fn log_key(log: &mut Option<Vec<(Logged, Bytes)>>, why: Logged, key: &[u8]) {
    if let Some(log) = log {
        log.push((why, Bytes::copy_from_slice(key)));
    }
}

/// SET's replacement of a live key's value (expire and access data stay);
/// returns whether it had an expire, and the old value if it owned heap
/// data. An overwritten key keeps its LFU counter (as Valkey does).
#[inline(always)]
fn replace_for_set(e: &mut Entry, key: &[u8], value: Value) -> (bool, Option<Value>) {
    let had_ttl = e.expire() != 0;
    let mut value = value;
    if had_ttl {
        // Valkey builds the new value with room for the old key's expire,
        // so it stays raw where that room makes it outgrow an embedded
        // string.
        if let Value::Str(s) = &mut value {
            s.created_with_expire(key.len());
        }
    }
    (had_ttl, e.replace_value(value))
}

/// Frees an entry a lookup found expired, unless a running snapshot still
/// needs it (out of line: expiry is rare next to lookups).
#[cold]
#[inline(never)]
fn drop_expired(snap: &mut DbSnap, garbage: &mut Vec<(Value, bool)>, e: Entry) {
    if let Some(e) = snap.keep_removed(e) {
        let v = e.into_value();
        if v.free_effort() > LAZYFREE_THRESHOLD {
            garbage.push((v, false));
        }
    }
}

/// Why a key is in a db's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logged {
    /// Deleted because it had expired.
    Expired,
    /// A read lookup (`Access::count`) found no such key: Valkey's keymiss.
    Missed,
}

impl Db {
    pub fn new(id: usize) -> Self {
        Db {
            id,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    pub fn table(&self) -> &KvTable {
        &self.table
    }

    pub(super) fn expires_dict(&self) -> &Dict<()> {
        &self.expires
    }

    /// Drops `v` here if cheap, else queues it for freeing elsewhere.
    pub fn discard(&mut self, v: Value) {
        if v.free_effort() > LAZYFREE_THRESHOLD {
            self.garbage.push((v, false));
        }
    }

    /// Starts (or stops) logging the keys this db deletes because they
    /// expired, for the caller to propagate as DEL/UNLINK. Stopping drops
    /// what was not taken.
    pub fn log_expired(&mut self, on: bool) {
        if on != self.expired_log.is_some() {
            self.expired_log = on.then(Vec::new);
        }
    }

    /// Also logs read lookups that miss, while the log is on (keyspace
    /// notifications of class `m`).
    pub fn log_misses(&mut self, on: bool) {
        self.log_misses = on;
    }

    /// The keys logged since the last call, oldest first (nothing when
    /// logging is off).
    pub fn take_logged(&mut self) -> impl Iterator<Item = (Logged, Bytes)> + '_ {
        self.expired_log.iter_mut().flat_map(|log| log.drain(..))
    }

    /// `take_logged`'s expired keys (misses are dropped).
    pub fn take_expired(&mut self) -> impl Iterator<Item = Bytes> + '_ {
        self.take_logged()
            .filter_map(|(why, k)| (why == Logged::Expired).then_some(k))
    }

    /// Finds a live key, doing what `how` says on the way (see `Access`):
    /// one search, that also deletes the key instead when it has expired.
    #[inline]
    /// The entry of `key`, expired or not, untouched (Valkey's dbFind:
    /// DEBUG OBJECT looks at a key without expiring it).
    pub fn find(&self, key: &[u8]) -> Option<&Entry> {
        self.table.get(key)
    }

    pub fn lookup(&mut self, key: &[u8], now: i64, how: Access) -> Option<&mut Entry> {
        // A write lookup hands out the entry to be changed: a running
        // snapshot that still needs it gets its image first.
        if how == Access::WRITE && self.snap.walk.active {
            return self.lookup_write_snapshotting(key, now);
        }
        self.lookup_raw(key, now, how)
    }

    #[cold]
    #[inline(never)]
    fn lookup_write_snapshotting(&mut self, key: &[u8], now: i64) -> Option<&mut Entry> {
        if let Some(e) = self.table.get_mut(key) {
            self.snap.before_write(e);
        }
        self.lookup_raw(key, now, Access::WRITE)
    }

    /// `lookup` without the snapshot hook, for callers that save the old
    /// image themselves (moving the old value rather than copying it). One
    /// copy, out of line, with the table's search inlined in it.
    #[inline(never)]
    fn lookup_raw(&mut self, key: &[u8], now: i64, how: Access) -> Option<&mut Entry> {
        let found = if self.table.is_empty() {
            None
        } else {
            let h = self.table.hash(key);
            let expired = |e: &Entry| {
                let x = e.expire();
                x != 0 && x <= now
            };
            if how.expire
                && (self.expiry_hold == 0 || (self.expiry_hold == HOLD_PAUSED && !how.count))
            {
                match self.table.lookup_mut(h, key, expired) {
                    Lookup::Found(e) => Some(e),
                    Lookup::Removed(e) => {
                        // Fields one by one: `self.table` is borrowed by
                        // the other arm's result.
                        self.expires.remove(key);
                        drop_expired(&mut self.snap, &mut self.garbage, e);
                        self.expired_keys += 1;
                        if self.expired_log.is_some() {
                            log_key(&mut self.expired_log, Logged::Expired, key);
                        }
                        None
                    }
                    Lookup::Missing => None,
                }
            } else {
                let loading = self.loading();
                match self.table.lookup_mut(h, key, |_| false) {
                    Lookup::Found(e) if loading || !expired(e) => Some(e),
                    _ => None,
                }
            }
        };
        match found {
            None => {
                if how.count {
                    self.misses += 1;
                    if self.log_misses {
                        log_key(&mut self.expired_log, Logged::Missed, key);
                    }
                }
                None
            }
            Some(e) => {
                if how.count {
                    self.hits += 1;
                }
                if how.touch {
                    e.touch(now, &mut self.rng, self.no_touch, self.lfu);
                }
                Some(e)
            }
        }
    }

    /// Sets `key` to `value`, dropping any expire unless `keep_ttl`.
    /// An overwritten key keeps its LFU counter (as Valkey does).
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool, now: i64) {
        let (snap_on, parity) = (self.snap.walk.active, self.snap.walk.parity);
        match self.lookup_raw(key, now, Access::WRITE) {
            Some(e) => {
                if snap_on && e.snap_mark() != parity {
                    return self.set_saving_old(key, value, keep_ttl);
                }
                // (`add` registers a new key's value itself.)
                let volatile = matches!(&value, Value::Hash(h) if h.has_volatile_fields());
                let (had_ttl, old) = replace_for_set(e, key, value);
                if had_ttl && !keep_ttl {
                    e.set_expire(0);
                    self.expires.remove(key);
                }
                if let Some(old) = old {
                    self.discard(old);
                }
                if volatile {
                    self.hfe.track(key);
                }
            }
            None => self.add(key, value, now),
        }
    }

    /// `set` over a live key a running snapshot still needs: the snapshot
    /// gets the old value itself (moved, not copied) with its expire.
    #[cold]
    #[inline(never)]
    fn set_saving_old(&mut self, key: &[u8], value: Value, keep_ttl: bool) {
        note_volatile(&mut self.hfe, key, &value);
        let Some(e) = self.table.get_mut(key) else {
            return;
        };
        e.set_snap_mark(self.snap.walk.parity);
        let expire = e.expire();
        // An embedded value is rebuilt (no heap); a stored one comes back
        // from the replacement.
        let small = e.value().stored().is_none().then(|| e.value().into_owned());
        let (had_ttl, old) = replace_for_set(e, key, value);
        if had_ttl && !keep_ttl {
            e.set_expire(0);
            self.expires.remove(key);
        }
        if let Some(v) = small.or(old) {
            self.snap.push(key, v, expire);
        }
    }

    /// Adds a key known to be absent (checked by the caller in this command).
    /// Inlined as before field TTLs: the registration test made the
    /// compiler stop inlining it into SET's path (+12 instructions a SET).
    #[inline(always)]
    pub fn add(&mut self, key: &[u8], value: Value, now: i64) {
        note_volatile(&mut self.hfe, key, &value);
        let access = fresh_access(now, self.lfu);
        // Born in the snapshot: one that is running must not report it.
        let e = Entry::new_marked(key, value, 0, access, self.snap.walk.parity);
        self.table.insert_new(e);
    }

    /// Moves a live key's whole entry (value, expire, access data) out of
    /// the db, for RENAME and MOVE: nothing is freed. An expired key is
    /// deleted and counts as absent.
    pub fn take_entry(&mut self, key: &[u8], now: i64) -> Option<Entry> {
        self.lookup(key, now, Access::PEEK)?;
        let mut e = self.remove_entry(key)?;
        // The entry moves on under another key or db: a running snapshot
        // that still needs it gets a copy of it as it is.
        self.snap.before_write(&mut e);
        Some(e)
    }

    /// Inserts an entry (value and expire) under a key known to be absent,
    /// as a new object: its access data starts over, as Valkey's RENAME,
    /// MOVE and COPY create a new object.
    pub fn insert_entry(&mut self, key: &[u8], entry: Entry, now: i64) {
        let mut entry = entry.with_key(key);
        if let Some(v) = entry.value().stored() {
            note_volatile(&mut self.hfe, key, v);
        }
        entry.set_access(fresh_access(now, self.lfu));
        entry.set_snap_mark(self.snap.walk.parity);
        if entry.expire() != 0 {
            self.expires.insert_new(key, ());
        }
        self.table.insert_new(entry);
    }

    /// Deletes a live key, its value freed as `free` says; false if there
    /// was none (an expired key is deleted as expired, and counts as none).
    pub fn delete(&mut self, key: &[u8], now: i64, free: Free) -> bool {
        if self.lookup(key, now, Access::PEEK).is_none() {
            return false;
        }
        if let Some(e) = self
            .remove_entry(key)
            .and_then(|e| self.snap.keep_removed(e))
        {
            let v = e.into_value();
            match free {
                Free::Sync => self.discard(v),
                // Valkey's strings are one allocation: never lazy-freed.
                Free::Async
                    if v.free_effort() > LAZYFREE_THRESHOLD && !matches!(v, Value::Str(_)) =>
                {
                    self.garbage.push((v, true))
                }
                Free::Async if v.free_effort() > 0 => self.garbage.push((v, false)),
                Free::Async => {}
            }
        }
        true
    }

    /// Takes a key's entry out of both tables, expired or not.
    fn remove_entry(&mut self, key: &[u8]) -> Option<Entry> {
        let e = self.table.remove(key)?;
        if e.expire() != 0 {
            self.expires.remove(key);
        }
        if !self.hfe.is_empty() {
            self.hfe.untrack(key);
        }
        Some(e)
    }

    /// Deletes a key found expired outside a lookup (SCAN, RANDOMKEY,
    /// active expiry): counted, logged, its value freed by the lazy-free
    /// rule, as `lookup` does.
    pub(super) fn delete_expired(&mut self, key: &[u8]) {
        if let Some(e) = self
            .remove_entry(key)
            .and_then(|e| self.snap.keep_removed(e))
        {
            self.discard(e.into_value());
        }
        self.expired_keys += 1;
        if let Some(log) = &mut self.expired_log {
            log.push((Logged::Expired, Bytes::copy_from_slice(key)));
        }
    }

    /// Sets the expire time of an existing key; false if there is no such key.
    pub fn set_expire(&mut self, key: &[u8], when_ms: i64) -> bool {
        let Some(e) = self.table.get_mut(key) else {
            return false;
        };
        self.snap.before_write(e);
        let had = e.expire() != 0;
        e.set_expire(when_ms);
        if !had {
            self.expires.insert_new(key, ());
        }
        true
    }

    /// Removes the expire of a key; true if it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        match self.table.get_mut(key) {
            Some(e) if e.expire() != 0 => {
                self.snap.before_write(e);
                e.set_expire(0);
                self.expires.remove(key);
                true
            }
            _ => false,
        }
    }

    /// Empties the db, returning the old contents so they can be dropped elsewhere.
    pub fn flush(&mut self) -> (KvTable, Dict<()>) {
        self.expire_cursor = 0;
        self.avg_ttl = 0;
        self.hfe.clear();
        // A running snapshot keeps the old table until it has walked it.
        let old = self.table.take();
        (self.snap.orphan(old), self.expires.take())
    }

    /// Sizes an empty db for `keys` keys (RDB loading's RESIZEDB hint).
    pub fn reserve(&mut self, keys: usize) {
        self.table.reserve_empty(keys);
    }

    /// DEBUG DICT-RESIZING for the keys and expires tables.
    pub fn set_resize_allowed(&mut self, on: bool) {
        self.table.set_resize_allowed(on);
        self.expires.set_resize_allowed(on);
    }

    /// Valkey's checkAlreadyExpired: an absolute expire time already past
    /// deletes the key at once, except while the AOF loads (`loading`).
    #[inline]
    pub fn already_expired(&self, when: i64, now: i64) -> bool {
        when <= now && !self.loading()
    }

    /// Keys stop (or resume) expiring with a client pause.
    pub fn set_expire_paused(&mut self, on: bool) {
        self.set_hold(HOLD_PAUSED, on);
    }

    /// The AOF replays into this db (or has finished).
    pub fn set_loading(&mut self, on: bool) {
        self.set_hold(HOLD_LOADING, on);
    }

    /// Whether the AOF replays into this db.
    #[inline]
    pub fn loading(&self) -> bool {
        self.expiry_hold & HOLD_LOADING != 0
    }

    fn set_hold(&mut self, bit: u8, on: bool) {
        if on {
            self.expiry_hold |= bit;
        } else {
            self.expiry_hold &= !bit;
        }
    }

    /// Swaps contents with another db (SWAPDB); ids and counters stay.
    pub fn swap_contents(&mut self, other: &mut Db) {
        std::mem::swap(&mut self.table, &mut other.table);
        std::mem::swap(&mut self.expires, &mut other.expires);
        std::mem::swap(&mut self.avg_ttl, &mut other.avg_ttl);
        std::mem::swap(&mut self.hfe, &mut other.hfe);
        // A running snapshot's walk goes with the contents, so their keys
        // are still reported under the db they were in when it started.
        std::mem::swap(&mut self.snap.walk, &mut other.snap.walk);
        std::mem::swap(&mut self.snap.big, &mut other.snap.big);
        self.expire_cursor = 0;
        other.expire_cursor = 0;
    }

    /// One SCAN step over the keys; expired keys met on the way are not
    /// reported and are deleted after the step, as Valkey's SCAN does.
    pub fn scan(&mut self, cursor: u64, now: i64, mut f: impl FnMut(&Entry)) -> u64 {
        let mut expired: Vec<Vec<u8>> = Vec::new();
        let next = self.table.scan(cursor, |e| {
            let expire = e.expire();
            if expire == 0 || expire > now {
                f(e)
            } else {
                expired.push(e.key().to_vec());
            }
        });
        for k in expired {
            self.delete_expired(&k);
        }
        next
    }

    /// A random live key (expired ones met on the way are removed, so the
    /// loop ends: each turn returns or shrinks the db, as in Valkey).
    pub fn random_key(&mut self, rng: &mut Rng, now: i64) -> Option<Vec<u8>> {
        loop {
            let e = self.table.random(rng)?;
            let key = e.key().to_vec();
            let expire = e.expire();
            if expire != 0 && expire <= now {
                self.delete_expired(&key);
                continue;
            }
            return Some(key);
        }
    }

    /// Memory that should be freed off the main thread: old keyspace
    /// tables left by resizes.
    pub fn take_retired(&mut self) -> Option<Vec<super::kvtable::Retired>> {
        self.table.take_retired()
    }

    /// Rehashing work for idle time.
    pub fn rehash_for(&mut self, budget: std::time::Duration) {
        self.table.rehash_for(budget);
        self.expires.rehash_for(budget / 2);
    }

    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.table.hash(key)
    }

    /// Prefetch helpers for the batch executor, one dependent step each:
    /// the bucket line, the entry block, the value's own data.
    #[inline]
    pub fn bucket_addr(&self, hash: u64) -> Option<*const u8> {
        self.table.bucket_addr(hash)
    }
    #[inline]
    pub fn entry_addr(&self, hash: u64) -> Option<*const u8> {
        self.table.entry_addr(hash)
    }
    #[inline]
    pub fn value_addr(&self, hash: u64) -> Option<*const u8> {
        self.table.value_addr(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::Str;

    fn s(v: &str) -> Value {
        Value::Str(Str::from_bytes(v.as_bytes()))
    }

    fn read(db: &mut Db, key: &[u8], now: i64) -> Option<Value> {
        db.lookup(key, now, Access::READ)
            .map(|e| e.value().into_owned())
    }

    fn expire_of(db: &mut Db, key: &[u8], now: i64) -> Option<i64> {
        db.lookup(key, now, Access::PEEK).map(|e| e.expire())
    }

    #[test]
    fn set_get_expire_persist() {
        let mut db = Db::new(0);
        db.set(b"a", s("1"), false, 1000);
        assert_eq!(read(&mut db, b"a", 1000), Some(s("1")));
        assert!(db.set_expire(b"a", 2000));
        assert_eq!(db.expires_len(), 1);
        assert_eq!(expire_of(&mut db, b"a", 1500), Some(2000));
        db.set(b"a", s("2"), true, 1500);
        assert_eq!(expire_of(&mut db, b"a", 1500), Some(2000));
        db.set(b"a", s("3"), false, 1500);
        assert_eq!(expire_of(&mut db, b"a", 1500), Some(0));
        assert_eq!(db.expires_len(), 0);
        db.set_expire(b"a", 2000);
        assert!(db.persist(b"a"));
        assert!(!db.persist(b"a"));
        db.set_expire(b"a", 2000);
        assert!(read(&mut db, b"a", 2000).is_none());
        assert_eq!(db.len(), 0);
        assert_eq!(db.expires_len(), 0);
        assert_eq!(db.expired_keys, 1);
        assert_eq!((db.hits, db.misses), (1, 1));
    }

    #[test]
    fn scan_skips_and_deletes_expired_keys() {
        let mut db = Db::new(0);
        for i in 0..100 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), s("v"), false, 0);
            if i % 2 == 0 {
                db.set_expire(k.as_bytes(), 500);
            }
        }
        let mut seen = 0;
        let mut cursor = 0;
        loop {
            cursor = db.scan(cursor, 1000, |_| seen += 1);
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen, 50);
        assert_eq!(db.len(), 50);
        assert_eq!(db.expires_len(), 0);
        assert_eq!(db.expired_keys, 50);
    }

    #[test]
    fn big_values_go_to_garbage() {
        let mut db = Db::new(0);
        let big = Value::Str(Str::from_bytes(&vec![b'x'; 200 * 1024]));
        db.set(b"k", big.clone(), false, 0);
        db.set(b"k", s("small"), false, 0);
        assert_eq!(db.garbage.len(), 1);
        db.set(b"k", big, false, 0);
        assert!(db.delete(b"k", 0, Free::Sync));
        assert_eq!(db.garbage.len(), 2);
        db.set(b"k", s("x"), false, 0);
        assert!(db.delete(b"k", 0, Free::Async));
        assert_eq!(db.garbage.len(), 2, "a small value is dropped in place");
        db.set(b"k", Value::Str(Str::from_bytes(&[b'y'; 4096])), false, 0);
        assert!(db.delete(b"k", 0, Free::Async));
        assert_eq!(db.garbage.len(), 3);
        assert!(!db.delete(b"k", 0, Free::Async));
    }

    #[test]
    fn async_deletes_valkey_frees_lazily_are_counted_apart() {
        let mut db = Db::new(0);
        let mut set = crate::keyspace::set::Set::new_hashtable();
        let lim = crate::keyspace::set::Limits {
            max_intset_entries: 0,
            max_listpack_entries: 0,
            max_listpack_value: 0,
        };
        for i in 0..100 {
            set.add(format!("m{i}").as_bytes(), &lim);
        }
        db.set(b"k", Value::Set(Box::new(set)), false, 0);
        assert!(db.delete(b"k", 0, Free::Async));
        let counted = |db: &Db| db.garbage.iter().map(|(_, c)| *c).collect::<Vec<_>>();
        assert_eq!(counted(&db), [true]);
        // A big string leaves the main thread too, but Valkey frees its
        // strings in place: not counted.
        db.set(
            b"k",
            Value::Str(Str::from_bytes(&[b'y'; 100 * 1024])),
            false,
            0,
        );
        assert!(db.delete(b"k", 0, Free::Async));
        assert_eq!(counted(&db), [true, false]);
    }

    #[test]
    fn entry_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Entry>(), 8);
    }

    #[test]
    fn take_and_insert_entry_keep_expire_and_access() {
        let mut db = Db::new(0);
        db.set(b"a", s("1"), false, 5000);
        db.set_expire(b"a", 9000);
        let e = db.take_entry(b"a", 6000).unwrap();
        assert_eq!((e.expire(), e.access()), (9000, 5));
        assert_eq!((db.len(), db.expires_len()), (0, 0));
        db.insert_entry(b"b", e, 7000);
        assert_eq!(
            db.lookup(b"b", 7000, Access::PEEK).map(|e| e.access()),
            Some(7)
        );
        assert_eq!((db.len(), db.expires_len()), (1, 1));
        assert_eq!(expire_of(&mut db, b"b", 6000), Some(9000));
        assert!(
            db.take_entry(b"b", 9000).is_none(),
            "expired counts as absent"
        );
        assert_eq!((db.len(), db.expires_len()), (0, 0));
    }

    #[test]
    fn lookups_count_and_touch_as_valkey() {
        let mut db = Db::new(0);
        db.set(b"a", s("1"), false, 1000);
        assert!(db.lookup(b"a", 61_000, Access::READ_NOTOUCH).is_some());
        assert!(db.lookup(b"x", 61_000, Access::READ_NOTOUCH).is_none());
        assert_eq!((db.hits, db.misses), (1, 1));
        assert_eq!(
            db.lookup(b"a", 61_000, Access::PEEK)
                .unwrap()
                .idle_secs(61_000),
            60
        );
        assert!(db.lookup(b"a", 61_000, Access::READ).is_some());
        assert_eq!(
            db.lookup(b"a", 61_000, Access::PEEK)
                .unwrap()
                .idle_secs(61_000),
            0
        );
        assert_eq!((db.hits, db.misses), (2, 1));
    }

    #[test]
    fn each_access_counts_touches_and_expires_as_declared() {
        let cases = [
            (Access::READ, true, true, true),
            (Access::READ_NOTOUCH, true, false, true),
            (Access::WRITE, false, true, true),
            (Access::PEEK, false, false, true),
            (Access::NO_EFFECTS, false, false, false),
        ];
        for (how, counts, touches, expires) in cases {
            let mut db = Db::new(0);
            db.set(b"a", s("1"), false, 1000);
            db.set(b"e", s("1"), false, 1000);
            db.set_expire(b"e", 2000);
            let now = 61_000;
            assert!(db.lookup(b"a", now, how).is_some(), "{how:?}");
            assert!(db.lookup(b"x", now, how).is_none(), "{how:?}");
            assert!(db.lookup(b"e", now, how).is_none(), "{how:?}");
            let n = u64::from(counts);
            assert_eq!((db.hits, db.misses), (n, 2 * n), "{how:?}");
            let idle = db.table().get(b"a").unwrap().idle_secs(now);
            assert_eq!(idle, if touches { 0 } else { 60 }, "{how:?}");
            assert_eq!(db.len(), if expires { 1 } else { 2 }, "{how:?}");
            assert_eq!(db.expires_len(), usize::from(!expires), "{how:?}");
            assert_eq!(db.expired_keys, u64::from(expires), "{how:?}");
        }
    }

    #[test]
    fn no_touch_db_leaves_access_data_alone() {
        let mut db = Db::new(0);
        db.set(b"a", s("1"), false, 1000);
        db.no_touch = true;
        assert!(db.lookup(b"a", 61_000, Access::READ).is_some());
        assert!(db.lookup(b"a", 61_000, Access::WRITE).is_some());
        assert_eq!((db.hits, db.misses), (1, 0), "still counted");
        let e = db.lookup(b"a", 61_000, Access::PEEK).unwrap();
        assert_eq!(e.idle_secs(61_000), 60);
    }

    #[test]
    fn misses_logged_in_order_only_for_counted_lookups_when_asked() {
        let mut db = Db::new(0);
        db.log_expired(true);
        assert!(db.lookup(b"a", 0, Access::READ).is_none());
        assert_eq!(db.take_logged().count(), 0, "misses off by default");
        db.log_misses(true);
        db.set(b"x", s("v"), false, 0);
        db.set_expire(b"x", 100);
        assert!(db.lookup(b"x", 200, Access::READ).is_none());
        assert!(db.lookup(b"w", 200, Access::WRITE).is_none());
        assert!(db.lookup(b"p", 200, Access::PEEK).is_none());
        assert!(db.lookup(b"t", 200, Access::READ_NOTOUCH).is_none());
        let got: Vec<(Logged, Bytes)> = db.take_logged().collect();
        let b = |k: &'static [u8]| Bytes::from_static(k);
        assert_eq!(
            got,
            [
                (Logged::Expired, b(b"x")),
                (Logged::Missed, b(b"x")),
                (Logged::Missed, b(b"t")),
            ]
        );
    }

    #[test]
    fn expired_log_records_deletions_only_when_on() {
        let mut db = Db::new(0);
        let expiring = |db: &mut Db, k: &[u8]| {
            db.set(k, s("v"), false, 0);
            db.set_expire(k, 100);
        };
        expiring(&mut db, b"off");
        assert!(db.lookup(b"off", 200, Access::READ).is_none());
        assert_eq!(db.take_expired().count(), 0, "off by default");

        db.log_expired(true);
        for k in [b"r", b"w", b"p", b"n", b"d", b"t"] {
            expiring(&mut db, k);
        }
        assert!(db.lookup(b"r", 200, Access::READ).is_none());
        assert!(db.lookup(b"w", 200, Access::WRITE).is_none());
        assert!(db.lookup(b"p", 200, Access::PEEK).is_none());
        assert!(db.lookup(b"n", 200, Access::NO_EFFECTS).is_none());
        assert!(!db.delete(b"d", 200, Free::Async));
        assert!(db.take_entry(b"t", 200).is_none());
        assert!(db.lookup(b"live", 200, Access::READ).is_none());
        let got: Vec<Bytes> = db.take_expired().collect();
        assert_eq!(got, [&b"r"[..], b"w", b"p", b"d", b"t"], "not n: kept");
        assert_eq!(db.take_expired().count(), 0, "drained");

        // SCAN and RANDOMKEY delete what they meet expired, and log it.
        let mut cursor = 0;
        loop {
            cursor = db.scan(cursor, 200, |_| {});
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(db.take_expired().collect::<Vec<_>>(), [&b"n"[..]]);
        expiring(&mut db, b"x");
        assert!(db.random_key(&mut Rng::default(), 200).is_none());
        assert_eq!(db.take_expired().collect::<Vec<_>>(), [&b"x"[..]]);
        assert_eq!(db.expired_keys, 8);

        // A deletion that is not an expiry is not logged.
        db.set(b"k", s("v"), false, 0);
        assert!(db.delete(b"k", 200, Free::Sync));
        expiring(&mut db, b"gone");
        db.log_expired(false);
        assert!(db.lookup(b"gone", 200, Access::READ).is_none());
        assert_eq!(db.take_expired().count(), 0);
    }

    #[test]
    fn lfu_counter_grows_slowly_and_decays() {
        let mut db = Db::new(0);
        db.lfu = true;
        let now = 10 * 60_000;
        db.set(b"a", s("1"), false, now);
        assert_eq!(db.lookup(b"a", now, Access::PEEK).unwrap().freq(now), 5);
        db.lookup(b"a", now, Access::READ);
        assert_eq!(db.lookup(b"a", now, Access::PEEK).unwrap().freq(now), 6);
        for _ in 0..1000 {
            db.lookup(b"a", now, Access::READ);
        }
        let f = db.lookup(b"a", now, Access::PEEK).unwrap().freq(now);
        assert!(f > 6 && f < 40, "logarithmic growth, got {f}");
        // One point lost per idle minute.
        assert_eq!(
            db.lookup(b"a", now + 3 * 60_000, Access::PEEK)
                .unwrap()
                .freq(now + 3 * 60_000),
            f - 3
        );
        assert_eq!(
            db.lookup(b"a", now + 300 * 60_000, Access::PEEK)
                .unwrap()
                .freq(now + 300 * 60_000),
            0
        );
    }
}
