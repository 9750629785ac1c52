//! Hash values: `listpack` while small (`hash-max-listpack-entries/value`), `hashtable` beyond.
//!
//! A small hash is one exact-size byte buffer of length-prefixed fields and
//! values (field, value, field, value, ... in insertion order), like
//! Valkey's listpack: millions of small hashes cost little more than their
//! bytes, and lookups scan a few cache lines. Once a hash has more entries
//! than `hash-max-listpack-entries`, or a field or value longer than
//! `hash-max-listpack-value`, it becomes a `Dict` (incremental rehashing,
//! reverse-binary SCAN cursors, so HSCAN keeps its full-iteration
//! guarantee). As in Valkey, a hash never converts back.
//!
//! A `hashtable` may also hold field TTLs (`hash_ttl::FieldTtl`, Valkey 9's
//! hash-field expiration): the `*_live` reads take the time and skip fields
//! whose time has passed, which stay stored (and counted by `len`) until
//! the active cycle or an overwrite removes them, as in Valkey. The plain
//! reads see every stored field (persistence, snapshots). `now = i64::MIN`
//! counts nothing as expired (loading).

use super::dict::Dict;
use super::hash_ttl::FieldTtl;
use super::value::Bytes24;
use crate::util::rng::Rng;

/// Valkey refuses to grow a listpack past 1 GiB (`lpSafeToAdd`).
const LISTPACK_SAFE_BYTES: usize = 1 << 30;

/// The two `hash-max-listpack-*` settings, as read at the time of a write.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_entries: u64,
    pub max_value: u64,
}

/// A hash value.
#[derive(Clone, Debug, PartialEq)]
pub struct Hash {
    repr: Repr,
}

enum Repr {
    Listpack(Listpack),
    /// Boxed so a small hash (the common case) stays two words.
    Table(Box<Table>),
}

/// The `hashtable` encoding: the fields, and their TTLs if any has one.
struct Table {
    dict: Dict<Bytes24>,
    ttl: Option<Box<FieldTtl>>,
}

impl Table {
    fn new(dict: Dict<Bytes24>) -> Box<Table> {
        Box::new(Table { dict, ttl: None })
    }

    /// True if `field` has a TTL that passed at `now`.
    #[inline]
    fn expired(&self, field: &[u8], now: i64) -> bool {
        match &self.ttl {
            None => false,
            Some(t) => t.get(field).is_some_and(|w| w <= now),
        }
    }

    fn forget_ttl(&mut self, field: &[u8]) -> Option<i64> {
        let t = self.ttl.as_mut()?;
        let old = t.remove(field);
        if t.is_empty() {
            self.ttl = None;
        }
        old
    }
}

/// What `Hash::put` does to the field's TTL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// No TTL after the write (HSET).
    Clear,
    /// The live field's TTL stays (HSETEX KEEPTTL, HINCRBY).
    Keep,
    /// Expires at this Unix time in ms (HSETEX EX/PX/EXAT/PXAT).
    At(i64),
}

/// What `Hash::put` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Put {
    New,
    Updated,
    /// Overwrote a field whose time had passed: counts as new, and as an
    /// expired field (Valkey's `expired_overwritten`).
    Revived,
}

/// What a TTL change on one field did (HEXPIRE's per-field reply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtlSet {
    /// No such field (-2).
    NoField,
    /// The NX/XX/GT/LT condition failed (0).
    Refused,
    /// Set (1).
    Set,
    /// The time was already past: the field is deleted (2).
    Deleted,
}

/// HEXPIRE's condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    Always,
    Nx,
    Xx,
    Gt,
    Lt,
}

impl Default for Hash {
    fn default() -> Self {
        Hash::new()
    }
}

impl Hash {
    /// An empty hash in the `listpack` encoding.
    pub fn new() -> Self {
        Hash {
            repr: Repr::Listpack(Listpack::default()),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.count(),
            Repr::Table(t) => t.dict.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Listpack(_))
    }

    /// Rough cost of dropping (elements to free), for lazy free. A listpack
    /// is a single allocation, so it is cheap whatever it holds (Valkey
    /// counts it as 1 too).
    pub fn free_effort(&self) -> usize {
        match &self.repr {
            Repr::Listpack(_) => 1,
            Repr::Table(t) => t.dict.len(),
        }
    }

    /// Heap bytes owned, for MEMORY USAGE.
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.data.len(),
            Repr::Table(t) => {
                let d = &t.dict;
                let node = std::mem::size_of::<Bytes24>() * 2 + std::mem::size_of::<usize>();
                let mut n = std::mem::size_of::<Dict<Bytes24>>()
                    + d.buckets() * std::mem::size_of::<usize>()
                    + d.len() * node;
                for (k, v) in d.iter() {
                    n += heap_len(k) + heap_len(v);
                }
                n + t.ttl.as_ref().map_or(0, |t| t.heap_bytes())
            }
        }
    }

    /// The value of `field`, expired or not.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack(lp) => lp.find(field).map(|f| &lp.data[f.value.clone()]),
            Repr::Table(t) => t.dict.get(field).map(|v| v.as_slice()),
        }
    }

    /// The value of `field` unless its TTL passed at `now`.
    #[inline]
    pub fn get_live(&self, field: &[u8], now: i64) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack(lp) => lp.find(field).map(|f| &lp.data[f.value.clone()]),
            Repr::Table(t) if t.expired(field, now) => None,
            Repr::Table(t) => t.dict.get(field).map(|v| v.as_slice()),
        }
    }

    /// True if some field has a TTL (then the encoding is `hashtable`).
    #[inline]
    pub fn has_volatile_fields(&self) -> bool {
        matches!(&self.repr, Repr::Table(t) if t.ttl.is_some())
    }

    /// How many fields have a TTL.
    pub fn volatile_count(&self) -> usize {
        match &self.repr {
            Repr::Table(t) => t.ttl.as_ref().map_or(0, |t| t.len()),
            Repr::Listpack(_) => 0,
        }
    }

    /// The TTL (Unix ms) of a stored field: Some(None) if it has none,
    /// None if there is no such field. Expired fields included.
    pub fn field_expiry(&self, field: &[u8]) -> Option<Option<i64>> {
        match &self.repr {
            Repr::Listpack(lp) => lp.find(field).map(|_| None),
            Repr::Table(t) => {
                t.dict.get(field)?;
                Some(t.ttl.as_ref().and_then(|x| x.get(field)))
            }
        }
    }

    /// `field_expiry` of a live field (an expired one reads as missing).
    pub fn field_expiry_live(&self, field: &[u8], now: i64) -> Option<Option<i64>> {
        match self.field_expiry(field)? {
            Some(w) if w <= now => None,
            x => Some(x),
        }
    }

    /// The soonest field TTL.
    pub fn next_field_expiry(&self) -> Option<i64> {
        match &self.repr {
            Repr::Table(t) => t.ttl.as_ref().and_then(|t| t.next()),
            Repr::Listpack(_) => None,
        }
    }

    /// Every field TTL (field, Unix ms).
    pub fn field_ttls(&self) -> impl Iterator<Item = (&[u8], i64)> {
        let t = match &self.repr {
            Repr::Table(t) => t.ttl.as_deref(),
            Repr::Listpack(_) => None,
        };
        t.into_iter().flat_map(|t| t.iter())
    }

    /// Gives a live `field` the TTL `when` under condition `cond`, or
    /// deletes it when `past` (the time already passed), as Valkey's
    /// hashTypeSetExpire: a listpack field has no TTL, so XX and GT fail
    /// on it; otherwise the hash converts.
    pub fn set_field_expiry(
        &mut self,
        field: &[u8],
        when: i64,
        cond: Cond,
        past: bool,
        now: i64,
    ) -> TtlSet {
        let current = match self.field_expiry_live(field, now) {
            None => return TtlSet::NoField,
            Some(c) => c,
        };
        let refused = match cond {
            Cond::Always => false,
            Cond::Nx => current.is_some(),
            Cond::Xx => current.is_none(),
            Cond::Gt => current.is_none_or(|c| when <= c),
            Cond::Lt => current.is_some_and(|c| when >= c),
        };
        if refused {
            return TtlSet::Refused;
        }
        if past {
            self.remove(field);
            return TtlSet::Deleted;
        }
        self.convert();
        if let Repr::Table(t) = &mut self.repr {
            t.ttl.get_or_insert_with(Box::default).set(field, when);
        }
        TtlSet::Set
    }

    /// Removes the TTL of a live field: Some(true) if it had one,
    /// Some(false) if not, None if there is no such field (HPERSIST).
    pub fn persist_field(&mut self, field: &[u8], now: i64) -> Option<bool> {
        self.field_expiry_live(field, now)?;
        match &mut self.repr {
            Repr::Table(t) => Some(t.forget_ttl(field).is_some()),
            Repr::Listpack(_) => Some(false),
        }
    }

    /// Takes out up to `max` fields whose TTL passed at `now` (the active
    /// cycle); their names, soonest first.
    pub fn remove_due_fields(&mut self, now: i64, max: usize) -> Vec<Box<[u8]>> {
        let Repr::Table(t) = &mut self.repr else {
            return Vec::new();
        };
        let Some(ttl) = t.ttl.as_mut() else {
            return Vec::new();
        };
        if ttl.len() == t.dict.len() && ttl.len() <= max && ttl.last().is_some_and(|w| w <= now) {
            // Every field is due (fields given one TTL together): the hash
            // empties whole, without taking them out one by one.
            let due = ttl.take_all();
            t.ttl = None;
            t.dict = Dict::new();
            return due;
        }
        let due = ttl.pop_due(now, max);
        if ttl.is_empty() {
            t.ttl = None;
        }
        for f in &due {
            t.dict.remove(f);
        }
        due
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts ahead of a multi-field write as Valkey's
    /// `hashTypeTryConversion` does: more pairs in the command than a
    /// listpack may hold (duplicates included), any argument longer than
    /// `max_value`, or a listpack that would pass 1 GiB.
    pub fn prepare_for<'a>(
        &mut self,
        pairs: usize,
        args: impl Iterator<Item = &'a [u8]>,
        lim: Limits,
    ) {
        let Repr::Listpack(lp) = &self.repr else {
            return;
        };
        if pairs as u64 > lim.max_entries {
            self.convert();
            return;
        }
        let mut sum = 0usize;
        for a in args {
            if a.len() as u64 > lim.max_value {
                self.convert();
                return;
            }
            sum = sum.saturating_add(a.len());
        }
        if lp.data.len().saturating_add(sum) > LISTPACK_SAFE_BYTES {
            self.convert();
        }
    }

    /// Sets `field` to `value`; true if the field is new. Converts to a
    /// hashtable when the field or value is too long for a listpack, or
    /// when the listpack would hold too many entries (Valkey's
    /// `hashTypeSet`).
    pub fn set(&mut self, field: &[u8], value: &[u8], lim: Limits) -> bool {
        if self.is_listpack()
            && (field.len() as u64 > lim.max_value || value.len() as u64 > lim.max_value)
        {
            self.convert();
        }
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let new = lp.set(field, value);
                if lp.count() as u64 > lim.max_entries {
                    self.convert();
                }
                new
            }
            Repr::Table(t) => {
                if let Some(v) = t.dict.get_mut(field) {
                    *v = Bytes24::new(value);
                    if t.ttl.is_some() {
                        t.forget_ttl(field);
                    }
                    false
                } else {
                    t.dict.insert_new(field, Bytes24::new(value));
                    true
                }
            }
        }
    }

    /// Sets `field` to `value` with its TTL as `ttl` says, a field whose
    /// time passed at `now` counting as absent (Valkey's hashTypeSet).
    pub fn put(&mut self, field: &[u8], value: &[u8], lim: Limits, now: i64, ttl: Ttl) -> Put {
        if let Ttl::At(_) = ttl {
            self.convert();
        }
        let Repr::Table(t) = &mut self.repr else {
            return if self.set(field, value, lim) {
                Put::New
            } else {
                Put::Updated
            };
        };
        let old = t.ttl.as_ref().and_then(|x| x.get(field));
        let expired = old.is_some_and(|w| w <= now);
        let existed = match t.dict.get_mut(field) {
            Some(v) => {
                *v = Bytes24::new(value);
                true
            }
            None => {
                t.dict.insert_new(field, Bytes24::new(value));
                false
            }
        };
        let new = match ttl {
            Ttl::Clear => None,
            Ttl::Keep if expired => None,
            Ttl::Keep => old,
            Ttl::At(w) => Some(w),
        };
        if new != old {
            match new {
                Some(w) => t.ttl.get_or_insert_with(Box::default).set(field, w),
                None => {
                    t.forget_ttl(field);
                }
            }
        }
        match (existed, expired) {
            (false, _) => Put::New,
            (true, true) => Put::Revived,
            (true, false) => Put::Updated,
        }
    }

    /// Removes `field`, expired or not; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(lp) => lp.remove(field),
            Repr::Table(t) => {
                if t.ttl.is_some() {
                    t.forget_ttl(field);
                }
                t.dict.remove(field).is_some()
            }
        }
    }

    /// Removes a live `field` (an expired one reads as absent and stays).
    pub fn remove_live(&mut self, field: &[u8], now: i64) -> bool {
        if let Repr::Table(t) = &self.repr {
            if t.expired(field, now) {
                return false;
            }
        }
        self.remove(field)
    }

    /// Every (field, value): insertion order for a listpack, bucket order
    /// for a hashtable.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Listpack(lp) => Iter::Listpack(lp.iter()),
            Repr::Table(t) => Iter::Table(Box::new(t.dict.iter())),
        }
    }

    /// `iter` without the fields whose TTL passed at `now`.
    pub fn iter_live(&self, now: i64) -> Iter<'_> {
        match &self.repr {
            Repr::Table(t) if t.ttl.is_some() => Iter::Table(Box::new(
                t.dict
                    .iter()
                    .filter(move |(k, _)| !t.expired(k.as_slice(), now)),
            )),
            _ => self.iter(),
        }
    }

    /// Live fields (O(N) when some field has a TTL).
    pub fn len_live(&self, now: i64) -> usize {
        if self.has_volatile_fields() {
            self.iter_live(now).count()
        } else {
            self.len()
        }
    }

    /// One HSCAN step: calls `f` on the entries at `cursor` and returns the
    /// next cursor. A listpack is returned whole with cursor 0, as Valkey
    /// does (it is small by definition).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match &self.repr {
            Repr::Listpack(lp) => {
                for (k, v) in lp.iter() {
                    f(k, v);
                }
                0
            }
            Repr::Table(t) => t.dict.scan(cursor, |k, v| f(k.as_slice(), v.as_slice())),
        }
    }

    /// `scan` skipping the fields whose TTL passed at `now`.
    pub fn scan_live(&self, cursor: u64, now: i64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match &self.repr {
            Repr::Table(t) if t.ttl.is_some() => t.dict.scan(cursor, |k, v| {
                if !t.expired(k.as_slice(), now) {
                    f(k.as_slice(), v.as_slice())
                }
            }),
            _ => self.scan(cursor, f),
        }
    }

    /// A random entry (None when empty).
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Listpack(lp) => {
                let n = lp.count();
                if n == 0 {
                    return None;
                }
                lp.iter().nth(rng.below(n))
            }
            Repr::Table(t) => t
                .dict
                .random(rng)
                .map(|(k, v)| (k.as_slice(), v.as_slice())),
        }
    }

    /// A random live entry: like Valkey, gives up after 100 expired picks.
    pub fn random_live(&self, rng: &mut Rng, now: i64) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Table(t) if t.ttl.is_some() => {
                for _ in 0..100 {
                    let (k, v) = t.dict.random(rng)?;
                    if !t.expired(k.as_slice(), now) {
                        return Some((k.as_slice(), v.as_slice()));
                    }
                }
                None
            }
            _ => self.random(rng),
        }
    }

    /// Switches to the `hashtable` encoding (no-op if already there).
    pub fn convert(&mut self) {
        if let Repr::Listpack(lp) = &self.repr {
            let mut d = Dict::new();
            for (k, v) in lp.iter() {
                // A listpack never holds a field twice; `insert` keeps that
                // true even if it somehow did.
                d.insert(k, Bytes24::new(v));
            }
            self.repr = Repr::Table(Table::new(d));
        }
    }
}

/// Bytes a `Bytes24` owns out of line.
fn heap_len(b: &Bytes24) -> usize {
    b.heap_ptr().map_or(0, |_| b.as_slice().len())
}

/// Iterator over a hash's (field, value) pairs.
pub enum Iter<'a> {
    Listpack(LpIter<'a>),
    Table(Box<dyn Iterator<Item = (&'a Bytes24, &'a Bytes24)> + 'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(it) => it.next(),
            Iter::Table(it) => it.next().map(|(k, v)| (k.as_slice(), v.as_slice())),
        }
    }
}

impl Clone for Repr {
    fn clone(&self) -> Self {
        match self {
            Repr::Listpack(lp) => Repr::Listpack(lp.clone()),
            Repr::Table(t) => {
                let mut n = Dict::new();
                for (k, v) in t.dict.iter() {
                    n.insert_new(k.as_slice(), v.clone());
                }
                Repr::Table(Box::new(Table {
                    dict: n,
                    ttl: t.ttl.clone(),
                }))
            }
        }
    }
}

impl std::fmt::Debug for Repr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        let entries: Box<dyn Iterator<Item = (&[u8], &[u8])>> = match self {
            Repr::Listpack(lp) => Box::new(lp.iter()),
            Repr::Table(t) => Box::new(t.dict.iter().map(|(k, v)| (k.as_slice(), v.as_slice()))),
        };
        for (k, v) in entries {
            m.entry(
                &String::from_utf8_lossy(k).as_ref(),
                &String::from_utf8_lossy(v).as_ref(),
            );
        }
        m.finish()
    }
}

/// Equal contents, whatever the encodings and orders.
impl PartialEq for Repr {
    fn eq(&self, other: &Self) -> bool {
        let len = |r: &Repr| match r {
            Repr::Listpack(lp) => lp.count(),
            Repr::Table(t) => t.dict.len(),
        };
        let get = |r: &'_ Repr, f: &[u8]| -> Option<Vec<u8>> {
            match r {
                Repr::Listpack(lp) => lp.find(f).map(|x| lp.data[x.value].to_vec()),
                Repr::Table(t) => t.dict.get(f).map(|v| v.as_slice().to_vec()),
            }
        };
        if len(self) != len(other) {
            return false;
        }
        let ttls = |r: &Repr| match r {
            Repr::Table(t) => t.ttl.as_deref().cloned(),
            Repr::Listpack(_) => None,
        };
        if ttls(self) != ttls(other) {
            return false;
        }
        let entries: Box<dyn Iterator<Item = (&[u8], &[u8])>> = match self {
            Repr::Listpack(lp) => Box::new(lp.iter()),
            Repr::Table(t) => Box::new(t.dict.iter().map(|(k, v)| (k.as_slice(), v.as_slice()))),
        };
        for (k, v) in entries {
            if get(other, k).as_deref() != Some(v) {
                return false;
            }
        }
        true
    }
}

// ---------------------------------------------------------------------------
// The listpack: one exact-size buffer holding the number of pairs, then
// `length, bytes` strings alternating field and value (numbers as LEB128
// varints). An empty hash owns no buffer at all. The count lives in the
// buffer rather than next to it so a `Hash` is two words.

#[derive(Clone, Default)]
struct Listpack {
    data: Box<[u8]>,
}

/// Where one pair sits in the buffer.
struct Found {
    /// Start of the field's length prefix.
    start: usize,
    /// The value's bytes.
    value: std::ops::Range<usize>,
}

/// LEB128 length prefix.
fn put_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn len_size(mut n: usize) -> usize {
    let mut s = 1;
    while n >= 0x80 {
        n >>= 7;
        s += 1;
    }
    s
}

/// Reads a varint at `pos`: its value and where it ends. None past the end
/// (or on a malformed buffer, which we never write: reads stay panic-free).
fn read_varint(data: &[u8], mut pos: usize) -> Option<(usize, usize)> {
    let mut n: usize = 0;
    let mut shift = 0;
    loop {
        let b = *data.get(pos)?;
        pos += 1;
        n |= ((b & 0x7f) as usize).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some((n, pos));
        }
        shift += 7;
        if shift >= usize::BITS {
            return None;
        }
    }
}

/// Reads one string at `pos`: its byte range.
fn read_str(data: &[u8], pos: usize) -> Option<std::ops::Range<usize>> {
    let (n, pos) = read_varint(data, pos)?;
    let end = pos.checked_add(n)?;
    if end > data.len() {
        return None;
    }
    Some(pos..end)
}

pub struct LpIter<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for LpIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let f = read_str(self.data, self.pos)?;
        let v = read_str(self.data, f.end)?;
        self.pos = v.end;
        Some((&self.data[f], &self.data[v]))
    }
}

impl Listpack {
    /// Number of pairs (the header).
    fn count(&self) -> usize {
        read_varint(&self.data, 0).map_or(0, |(n, _)| n)
    }

    /// Where the entries start (after the header).
    fn body(&self) -> usize {
        read_varint(&self.data, 0).map_or(0, |(_, end)| end)
    }

    fn iter(&self) -> LpIter<'_> {
        LpIter {
            data: &self.data,
            pos: self.body(),
        }
    }

    fn find(&self, field: &[u8]) -> Option<Found> {
        let mut pos = self.body();
        while pos < self.data.len() {
            let f = read_str(&self.data, pos)?;
            let v = read_str(&self.data, f.end)?;
            if &self.data[f] == field {
                return Some(Found {
                    start: pos,
                    value: v,
                });
            }
            pos = v.end;
        }
        None
    }

    /// Replaces bytes `range` of the entries by `with` and the count by
    /// `count`, into a new buffer of exactly the resulting size (one
    /// allocation, like a listpack realloc; none when it becomes empty).
    fn splice(&mut self, range: std::ops::Range<usize>, with: &[&[u8]], count: usize) {
        if count == 0 {
            self.data = Box::default();
            return;
        }
        let body = self.body();
        let added: usize = with.iter().map(|w| len_size(w.len()) + w.len()).sum();
        let mut v =
            Vec::with_capacity(len_size(count) + self.data.len() - body - range.len() + added);
        put_len(&mut v, count);
        v.extend_from_slice(&self.data[body..range.start]);
        for w in with {
            put_len(&mut v, w.len());
            v.extend_from_slice(w);
        }
        v.extend_from_slice(&self.data[range.end..]);
        self.data = v.into_boxed_slice();
    }

    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.find(field) {
            Some(found) => {
                if found.value.len() == value.len() {
                    // Same length: overwrite in place, no reallocation.
                    self.data[found.value].copy_from_slice(value);
                } else {
                    let at = found.start;
                    self.splice(at..found.value.end, &[field, value], self.count());
                }
                false
            }
            None => {
                let end = self.data.len().max(self.body());
                self.splice(end..end, &[field, value], self.count() + 1);
                true
            }
        }
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        match self.find(field) {
            Some(found) => {
                self.splice(found.start..found.value.end, &[], self.count() - 1);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        max_entries: 128,
        max_value: 64,
    };

    #[test]
    fn listpack_set_get_remove() {
        let mut h = Hash::new();
        assert!(h.is_empty());
        assert!(h.set(b"a", b"1", LIM));
        assert!(h.set(b"b", b"22", LIM));
        assert!(!h.set(b"a", b"3", LIM)); // same length, in place
        assert!(!h.set(b"b", b"", LIM)); // shorter
        assert!(h.set(b"", b"empty", LIM));
        assert_eq!(h.len(), 3);
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.get(b"a"), Some(&b"3"[..]));
        assert_eq!(h.get(b"b"), Some(&b""[..]));
        assert_eq!(h.get(b""), Some(&b"empty"[..]));
        assert_eq!(h.get(b"zz"), None);
        let all: Vec<_> = h.iter().collect();
        assert_eq!(
            all,
            vec![(&b"a"[..], &b"3"[..]), (b"b", b""), (b"", b"empty")]
        );
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert_eq!(h.len(), 2);
        assert_eq!(h.iter().count(), 2);
        // Long strings need multi-byte length prefixes.
        let long = vec![b'x'; 300];
        let lim = Limits {
            max_entries: 128,
            max_value: 1000,
        };
        h.set(&long, &long, lim);
        assert_eq!(h.get(&long), Some(&long[..]));
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn small_and_compact() {
        // Two words: one pointer and length (the count is in the buffer).
        assert_eq!(std::mem::size_of::<Hash>(), 16);
        let mut h = Hash::new();
        assert_eq!(h.heap_bytes(), 0);
        h.set(b"name", b"user1", LIM);
        h.set(b"age", b"42", LIM);
        // count + (1 + 4) + (1 + 5) + (1 + 3) + (1 + 2)
        assert_eq!(h.heap_bytes(), 19);
        h.remove(b"name");
        h.remove(b"age");
        assert!(h.is_empty());
        assert_eq!(h.heap_bytes(), 0);
        let mut big = Hash::new();
        let lim = Limits {
            max_entries: 1000,
            max_value: 64,
        };
        for i in 0..300 {
            big.set(format!("f{i}").as_bytes(), b"v", lim);
        }
        assert_eq!(big.len(), 300);
        assert_eq!(big.get(b"f299"), Some(&b"v"[..]));
        big.remove(b"f0");
        assert_eq!(big.len(), 299);
        assert_eq!(big.iter().count(), 299);
    }

    #[test]
    fn converts_on_size_and_never_back() {
        let lim = Limits {
            max_entries: 2,
            max_value: 4,
        };
        let mut h = Hash::new();
        h.set(b"a", b"1", lim);
        h.set(b"b", b"2", lim);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"c", b"3", lim);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 3);
        h.remove(b"c");
        h.remove(b"b");
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"a"), Some(&b"1"[..]));

        let mut h = Hash::new();
        h.set(b"a", b"12345", lim);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.prepare_for(3, [&b"a"[..]].into_iter(), lim);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn equality_ignores_encoding_and_order() {
        let mut a = Hash::new();
        let mut b = Hash::new();
        a.set(b"x", b"1", LIM);
        a.set(b"y", b"2", LIM);
        b.set(b"y", b"2", LIM);
        b.set(b"x", b"1", LIM);
        assert_eq!(a, b);
        b.convert();
        assert_eq!(a, b.clone());
        b.set(b"x", b"9", LIM);
        assert_ne!(a, b);
    }

    #[test]
    fn scan_and_random_cover_all() {
        let mut h = Hash::new();
        for i in 0..200 {
            h.set(format!("f{i}").as_bytes(), b"v", LIM);
        }
        assert_eq!(h.encoding(), "hashtable");
        let mut seen = std::collections::HashSet::new();
        let mut c = 0;
        loop {
            c = h.scan(c, |k, _| {
                seen.insert(k.to_vec());
            });
            if c == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 200);
        let mut rng = Rng::new(7);
        assert!(h.random(&mut rng).is_some());
        assert!(Hash::new().random(&mut rng).is_none());
        assert!(h.heap_bytes() > 200 * 48);
    }
}
