//! The keyspace table: cache-line buckets of entries, resized incrementally.
//!
//! Each bucket is one 64-byte cache line: a presence mask, one tag byte per
//! slot (the hash's top byte, so most non-matching keys are rejected without
//! touching their entry), six entry pointers and a link to a child bucket
//! for the rare bucket that overflows. Entries (`entry.rs`) hold the key, so
//! a lookup costs the bucket line plus the matching entry's block; the batch
//! executor prefetches both, one step per key (`bucket_addr`, `entry_addr`).
//!
//! As in Valkey's dict and hashtable: two tables while resizing, each
//! operation (and the cron) moves a few buckets from the old one to the new
//! one, and SCAN walks bucket indexes in reverse-binary order so a key
//! present for the whole scan is returned at least once whatever resizes
//! happen between calls. Tables grow at one entry per slot on average and
//! shrink below one in eight.

use hashbrown::DefaultHashBuilder;
use std::hash::BuildHasher;

use super::dict::scan_step;
use super::entry::Entry;
use crate::util::rng::Rng;

const SLOTS: usize = 6;
const FULL: u8 = (1 << SLOTS) - 1;
/// Old tables at least this large are freed off the main thread.
const RETIRE_OFF_THREAD: usize = 1 << 20;
/// Shrink when fewer than 1/8 of the slots are used.
const MIN_FILL: usize = 8;

#[repr(C, align(64))]
struct Bucket {
    /// Bit i: slot i holds an entry.
    presence: u8,
    tags: [u8; SLOTS],
    _pad: u8,
    slots: [Option<Entry>; SLOTS],
    /// The next bucket of the chain: 1 + its index in the table's child
    /// arena, 0 for none. (In a free arena bucket: the next free one.)
    child: u32,
    _pad2: u32,
}

const _: () = assert!(std::mem::size_of::<Bucket>() == 64);

impl Bucket {
    const fn new() -> Bucket {
        Bucket {
            presence: 0,
            tags: [0; SLOTS],
            _pad: 0,
            slots: [const { None }; SLOTS],
            child: 0,
            _pad2: 0,
        }
    }

    /// Slots whose tag is `tag`, as a bit mask.
    #[inline]
    fn matches(&self, tag: u8) -> u8 {
        // All six tags at once (SWAR): bytes equal to `tag` become zero,
        // and the exact zero-byte test sets the high bit of those bytes.
        let mut t = [0u8; 8];
        t[..SLOTS].copy_from_slice(&self.tags);
        let x = u64::from_le_bytes(t) ^ (tag as u64 * 0x0101_0101_0101_0101);
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        let zero = !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7);
        // Gather each byte's high bit into bit i.
        let bits = ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8;
        bits & self.presence
    }

    /// Puts `e` in a free slot; gives it back if the bucket is full.
    #[inline]
    fn put(&mut self, tag: u8, e: Entry) -> Result<(), Entry> {
        if self.presence == FULL {
            return Err(e);
        }
        let i = (!self.presence).trailing_zeros() as usize;
        self.presence |= 1 << i;
        self.tags[i] = tag;
        self.slots[i] = Some(e);
        Ok(())
    }

    fn take(&mut self, i: usize) -> Option<Entry> {
        self.presence &= !(1 << i);
        self.slots[i].take()
    }
}

#[inline]
fn tag_of(h: u64) -> u8 {
    (h >> 56) as u8
}

/// A bucket of a table: a head (by bucket index) or a chained child (by
/// arena link, 1-based).
#[derive(Clone, Copy)]
enum At {
    Head(usize),
    Child(u32),
}

/// A table's head buckets: `n` zeroed, cache-line aligned buckets.
///
/// Not a `Vec<Bucket>`: Rust's allocator serves alignments above 16 with
/// `posix_memalign` and then writes the zeroes itself, which for a 128 MiB
/// table is a stall of tens of milliseconds in the command that triggers
/// the resize. `calloc` (alignment 16) gets fresh, already-zero pages from
/// the kernel instead, touched only as rehashing fills them; the array
/// starts at the first 64-byte boundary of a block 64 bytes larger.
struct BucketArray {
    base: *mut u8,
    ptr: *mut Bucket,
    len: usize,
}

// SAFETY: a BucketArray owns its block alone, like a Vec<Bucket>, and
// Bucket is Send and Sync.
unsafe impl Send for BucketArray {}
unsafe impl Sync for BucketArray {}

impl BucketArray {
    const fn empty() -> Self {
        BucketArray {
            base: std::ptr::null_mut(),
            ptr: std::ptr::null_mut(),
            len: 0,
        }
    }

    fn layout(len: usize) -> std::alloc::Layout {
        let size = len
            .checked_mul(std::mem::size_of::<Bucket>())
            .and_then(|s| s.checked_add(64));
        match size.and_then(|s| std::alloc::Layout::from_size_align(s, 16).ok()) {
            Some(l) => l,
            None => std::alloc::handle_alloc_error(std::alloc::Layout::new::<Bucket>()),
        }
    }

    fn zeroed(len: usize) -> Self {
        if len == 0 {
            return Self::empty();
        }
        let layout = Self::layout(len);
        // SAFETY: the layout's size is non-zero. The block is 64 bytes
        // longer than the array, so the array starting at the first 64-byte
        // boundary (at most 48 bytes in, the block being 16-aligned) fits
        // inside it. All-zero bytes are a valid empty Bucket: presence, tags
        // and child link 0, and `Option<Entry>` is a nullable pointer whose
        // null is `None`.
        unsafe {
            let base = std::alloc::alloc_zeroed(layout);
            if base.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            let ptr = base.add(base.align_offset(64)).cast::<Bucket>();
            BucketArray { base, ptr, len }
        }
    }

    /// Frees the block without dropping the buckets: for an array known to
    /// hold no entry.
    fn free_empty(mut self) {
        self.len_to_zero_and_free();
    }

    fn len_to_zero_and_free(&mut self) {
        if !self.base.is_null() {
            // SAFETY: `base` came from `alloc_zeroed` with this layout.
            unsafe { std::alloc::dealloc(self.base, Self::layout(self.len)) };
        }
        // Field by field: assigning a whole BucketArray would drop the old
        // one, which is this.
        self.base = std::ptr::null_mut();
        self.ptr = std::ptr::null_mut();
        self.len = 0;
    }
}

impl std::ops::Deref for BucketArray {
    type Target = [Bucket];
    #[inline]
    fn deref(&self) -> &[Bucket] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr` points at `len` initialised buckets owned by self.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl std::ops::DerefMut for BucketArray {
    #[inline]
    fn deref_mut(&mut self) -> &mut [Bucket] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: as in `deref`, with `&mut self` for exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for BucketArray {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: the buckets are initialised and dropped once, here.
            unsafe {
                std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(self.ptr, self.len))
            };
        }
        self.len_to_zero_and_free();
    }
}

/// Child buckets per arena chunk.
const CHUNK: usize = 64;

struct Table {
    buckets: BucketArray,
    /// Child buckets of overflowing chains. An arena rather than a box per
    /// child: children come and go by the thousand while a table fills and
    /// is rehashed, and separate 64-byte-aligned allocations would leave
    /// the heap full of holes too small for entries. It grows by 4 KiB
    /// chunks, so it is never copied. Freed children are linked from
    /// `free` and reused; the arena goes with the table.
    arena: Vec<Box<[Bucket; CHUNK]>>,
    arena_len: usize,
    free: u32,
    /// Children in use (the arena is dropped when none is).
    children: usize,
    used: usize,
}

impl Table {
    fn empty() -> Self {
        Table {
            buckets: BucketArray::empty(),
            arena: Vec::new(),
            arena_len: 0,
            free: 0,
            children: 0,
            used: 0,
        }
    }

    /// `n` empty buckets from zeroed memory: the allocator hands out fresh
    /// pages for large tables without writing them, so doubling a 10 M-key
    /// table does not stall the main thread while it is cleared (pages are
    /// touched later, bucket by bucket, as rehashing fills them).
    fn with_size(n: usize) -> Self {
        Table {
            buckets: BucketArray::zeroed(n),
            ..Table::empty()
        }
    }

    #[inline]
    fn child(&self, c: u32) -> Option<&Bucket> {
        let i = (c as usize).wrapping_sub(1);
        if i >= self.arena_len {
            return None;
        }
        self.arena.get(i / CHUNK).map(|chunk| &chunk[i % CHUNK])
    }

    #[inline]
    fn child_mut(&mut self, c: u32) -> Option<&mut Bucket> {
        let i = (c as usize).wrapping_sub(1);
        if i >= self.arena_len {
            return None;
        }
        self.arena
            .get_mut(i / CHUNK)
            .map(|chunk| &mut chunk[i % CHUNK])
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    #[inline]
    fn size(&self) -> usize {
        self.buckets.len()
    }

    #[inline]
    fn at(&self, at: At) -> Option<&Bucket> {
        match at {
            At::Head(i) => self.buckets.get(i),
            At::Child(c) => self.child(c),
        }
    }

    #[inline]
    fn at_mut(&mut self, at: At) -> Option<&mut Bucket> {
        match at {
            At::Head(i) => self.buckets.get_mut(i),
            At::Child(c) => self.child_mut(c),
        }
    }

    /// The bucket after `b` in its chain.
    #[inline]
    fn next(&self, b: &Bucket) -> Option<&Bucket> {
        if b.child == 0 {
            return None;
        }
        self.child(b.child)
    }

    /// Where the bucket `depth` steps down the chain of head `idx` is.
    #[inline]
    fn locate_bucket(&self, idx: usize, depth: usize) -> Option<At> {
        let mut at = At::Head(idx);
        for _ in 0..depth {
            let c = self.at(at)?.child;
            if c == 0 {
                return None;
            }
            at = At::Child(c);
        }
        Some(at)
    }

    /// A child bucket for a chain: a freed one, or a new one.
    fn new_child(&mut self) -> u32 {
        self.children += 1;
        if self.free != 0 {
            let c = self.free;
            if let Some(b) = self.child_mut(c) {
                let next = b.child;
                b.child = 0;
                self.free = next;
            }
            return c;
        }
        if self.arena_len == self.arena.len() * CHUNK {
            self.arena.push(Box::new([const { Bucket::new() }; CHUNK]));
        }
        self.arena_len += 1;
        // Links are u32: 2^32 children would be 256 GiB of buckets.
        self.arena_len as u32
    }

    fn free_child(&mut self, c: u32) {
        let free = self.free;
        if let Some(b) = self.child_mut(c) {
            b.child = free;
        }
        self.free = c;
        self.children -= 1;
        if self.children == 0 {
            // No chain left: the arena goes back to the allocator.
            self.arena = Vec::new();
            self.arena_len = 0;
            self.free = 0;
        }
    }

    /// Bucket depth and slot of `key`.
    #[inline]
    fn locate(&self, h: u64, key: &[u8]) -> Option<(usize, usize)> {
        if self.buckets.is_empty() {
            return None;
        }
        let tag = tag_of(h);
        let mut b = &self.buckets[h as usize & self.mask()];
        let mut depth = 0;
        loop {
            let mut m = b.matches(tag);
            while m != 0 {
                let i = m.trailing_zeros() as usize;
                if let Some(e) = &b.slots[i] {
                    if e.key() == key {
                        return Some((depth, i));
                    }
                }
                m &= m - 1;
            }
            b = self.next(b)?;
            depth += 1;
        }
    }

    #[inline]
    fn bucket(&self, idx: usize, depth: usize) -> Option<&Bucket> {
        self.at(self.locate_bucket(idx, depth)?)
    }

    #[inline]
    fn bucket_mut(&mut self, idx: usize, depth: usize) -> Option<&mut Bucket> {
        let at = self.locate_bucket(idx, depth)?;
        self.at_mut(at)
    }

    #[inline]
    fn get(&self, h: u64, key: &[u8]) -> Option<&Entry> {
        let (d, i) = self.locate(h, key)?;
        self.bucket(h as usize & self.mask(), d)?.slots[i].as_ref()
    }

    /// Adds an entry whose key is not in the table.
    fn insert(&mut self, h: u64, e: Entry) {
        let tag = tag_of(h);
        let mut at = At::Head(h as usize & self.mask());
        let mut e = e;
        loop {
            let Some(b) = self.at_mut(at) else {
                return;
            };
            match b.put(tag, e) {
                Ok(()) => break,
                Err(back) => e = back,
            }
            let c = b.child;
            at = if c != 0 {
                At::Child(c)
            } else {
                let c = self.new_child();
                if let Some(b) = self.at_mut(at) {
                    b.child = c;
                }
                At::Child(c)
            };
        }
        self.used += 1;
    }

    /// Removes the entry at (bucket `idx`, `depth`, slot `i`) and keeps the
    /// chain compact: the hole is filled from the chain's last bucket, and a
    /// last bucket left empty is freed.
    fn remove_at(&mut self, idx: usize, depth: usize, i: usize) -> Option<Entry> {
        let e = self.bucket_mut(idx, depth)?.take(i)?;
        self.used -= 1;
        let mut last = depth;
        while self.bucket(idx, last + 1).is_some() {
            last += 1;
        }
        if last > depth {
            let tail = self.bucket_mut(idx, last)?;
            let j = tail.presence.trailing_zeros() as usize;
            let tag = tail.tags[j];
            if let Some(moved) = tail.take(j) {
                let hole = self.bucket_mut(idx, depth)?;
                hole.presence |= 1 << i;
                hole.tags[i] = tag;
                hole.slots[i] = Some(moved);
            }
        }
        if last > 0 && self.bucket(idx, last)?.presence == 0 {
            let parent = self.bucket_mut(idx, last - 1)?;
            let c = std::mem::take(&mut parent.child);
            self.free_child(c);
        }
        Some(e)
    }

    fn remove(&mut self, h: u64, key: &[u8]) -> Option<Entry> {
        let (d, i) = self.locate(h, key)?;
        self.remove_at(h as usize & self.mask(), d, i)
    }

    /// Entries of bucket `idx` and its chain.
    fn chain(&self, idx: usize) -> impl Iterator<Item = &Entry> {
        let mut b = self.buckets.get(idx);
        let mut i = 0;
        std::iter::from_fn(move || loop {
            let bk = b?;
            if i == SLOTS {
                b = self.next(bk);
                i = 0;
                continue;
            }
            i += 1;
            if let Some(e) = &bk.slots[i - 1] {
                return Some(e);
            }
        })
    }

    /// Calls `f` on every entry of the chain at head `idx`, lent mutably
    /// (the chain's shape does not change).
    fn for_chain_mut(&mut self, idx: usize, f: &mut dyn FnMut(&mut Entry)) {
        let mut at = At::Head(idx);
        while let Some(b) = self.at_mut(at) {
            for e in b.slots.iter_mut().flatten() {
                f(e);
            }
            if b.child == 0 {
                break;
            }
            at = At::Child(b.child);
        }
    }

    /// Takes every entry of the chain at head `idx` out (rehashing),
    /// freeing its children.
    fn drain_chain(&mut self, idx: usize, mut f: impl FnMut(Entry)) -> usize {
        let mut moved = 0;
        let mut at = At::Head(idx);
        while let Some(b) = self.at_mut(at) {
            for i in 0..SLOTS {
                if let Some(e) = b.take(i) {
                    f(e);
                    moved += 1;
                }
            }
            let c = std::mem::take(&mut b.child);
            if let At::Child(old) = at {
                self.free_child(old);
            }
            if c == 0 {
                break;
            }
            at = At::Child(c);
        }
        self.used -= moved;
        moved
    }
}

/// The memory of a table emptied by a resize, to be freed off the main
/// thread: unmapping a table of millions of buckets takes milliseconds, and
/// dropping it as a `Vec<Bucket>` would also read every bucket to drop
/// entries that are known to be gone.
pub struct Retired {
    buckets: BucketArray,
    arena: Vec<Box<[Bucket; CHUNK]>>,
}

impl Retired {
    fn from_empty(mut t: Table) -> Retired {
        debug_assert_eq!(t.used, 0);
        Retired {
            buckets: std::mem::replace(&mut t.buckets, BucketArray::empty()),
            arena: std::mem::take(&mut t.arena),
        }
    }

    /// Bytes it gives back.
    pub fn bytes(&self) -> usize {
        (self.buckets.len + self.arena.len() * CHUNK) * std::mem::size_of::<Bucket>()
    }
}

impl Drop for Retired {
    fn drop(&mut self) {
        // The table held no entry (`used` was 0): free the block without
        // walking the buckets.
        std::mem::replace(&mut self.buckets, BucketArray::empty()).free_empty();
    }
}

/// The keys of one database and their entries.
pub struct KvTable {
    t0: Table,
    t1: Table,
    /// Next bucket of `t0` to move into `t1`, while resizing.
    rehash_idx: Option<usize>,
    hasher: &'static DefaultHashBuilder,
    /// Old tables of finished resizes, for `take_retired`.
    retired: Vec<Retired>,
    /// False while DEBUG DICT-RESIZING 0: no resize starts (chains grow).
    resize_allowed: bool,
}

impl Default for KvTable {
    fn default() -> Self {
        Self::new()
    }
}

/// One randomly seeded hasher for every keyspace table of the process (as
/// Valkey has one seed per process): a key's hash does not depend on which
/// table it is looked up in, so a hash computed before a batch runs stays
/// right even when a FLUSHDB or SWAPDB earlier in the batch replaced the
/// table.
fn process_hasher() -> &'static DefaultHashBuilder {
    static HASHER: std::sync::OnceLock<DefaultHashBuilder> = std::sync::OnceLock::new();
    HASHER.get_or_init(DefaultHashBuilder::default)
}

/// What `KvTable::lookup_mut` found.
pub enum Lookup<'a, V> {
    Found(&'a mut V),
    /// The key was there but `remove_if` said so: it is gone now.
    Removed(V),
    Missing,
}

/// Buckets for `n` entries at full fill (a power of two, at least one).
fn buckets_for(n: usize) -> usize {
    n.div_ceil(SLOTS).max(1).next_power_of_two()
}

impl KvTable {
    pub fn new() -> Self {
        KvTable {
            t0: Table::empty(),
            t1: Table::empty(),
            rehash_idx: None,
            hasher: process_hasher(),
            retired: Vec::new(),
            resize_allowed: true,
        }
    }

    /// Sizes an empty table for `n` entries at once (an RDB file's size
    /// hint), so that filling it needs no rehashing.
    pub fn reserve_empty(&mut self, n: usize) {
        if self.is_empty() && self.rehash_idx.is_none() && self.resize_allowed {
            self.t0 = Table::with_size(buckets_for(n));
        }
    }

    /// DEBUG DICT-RESIZING: while off, no grow or shrink starts; one
    /// under way finishes.
    pub fn set_resize_allowed(&mut self, on: bool) {
        self.resize_allowed = on;
    }

    /// Old tables left by resizes, for the caller to free elsewhere (large
    /// ones; small ones are freed in place).
    #[inline]
    pub fn take_retired(&mut self) -> Option<Vec<Retired>> {
        if self.retired.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.retired))
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.t0.used + self.t1.used
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total buckets in both tables.
    pub fn buckets(&self) -> usize {
        self.t0.size() + self.t1.size()
    }

    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The table holding `h`'s bucket: `t0` unless that bucket has already
    /// moved to `t1`.
    #[inline]
    fn table_of(&self, h: u64) -> &Table {
        match self.rehash_idx {
            Some(r) if (h as usize & self.t0.mask()) < r => &self.t1,
            _ => &self.t0,
        }
    }

    /// First prefetch step: the bucket line `h` lands in.
    #[inline]
    pub fn bucket_addr(&self, h: u64) -> Option<*const u8> {
        let t = self.table_of(h);
        t.buckets
            .get(h as usize & t.mask())
            .map(|b| b as *const Bucket as *const u8)
    }

    /// Second step (the bucket is in cache by now): the block of the first
    /// entry whose tag matches.
    #[inline]
    pub fn entry_addr(&self, h: u64) -> Option<*const u8> {
        self.likely_entry(h).map(|e| e.addr())
    }

    /// Third step (the entry is in cache by now): the value's own data, if
    /// it has any.
    #[inline]
    pub fn value_addr(&self, h: u64) -> Option<*const u8> {
        self.likely_entry(h)?.value_heap_ptr()
    }

    /// The first entry of `h`'s head bucket whose tag matches: the key's
    /// entry but for a 1-in-256 tag collision, which is good enough for a
    /// prefetch and saves comparing keys.
    #[inline]
    fn likely_entry(&self, h: u64) -> Option<&Entry> {
        let t = self.table_of(h);
        let b = t.buckets.get(h as usize & t.mask())?;
        let m = b.matches(tag_of(h));
        if m == 0 {
            return None;
        }
        b.slots[m.trailing_zeros() as usize].as_ref()
    }

    pub fn get_hashed(&self, h: u64, key: &[u8]) -> Option<&Entry> {
        if let Some(e) = self.t0.get(h, key) {
            return Some(e);
        }
        if self.rehash_idx.is_some() {
            return self.t1.get(h, key);
        }
        None
    }

    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        if self.is_empty() {
            return None;
        }
        self.get_hashed(self.hash(key), key)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        if self.is_empty() {
            return None;
        }
        let h = self.hash(key);
        match self.lookup_mut(h, key, |_| false) {
            Lookup::Found(e) => Some(e),
            _ => None,
        }
    }

    /// One search for "find it, unless it must go": finds `key`, and removes
    /// it instead when `remove_if` holds for it (an expired key).
    pub fn lookup_mut(
        &mut self,
        h: u64,
        key: &[u8],
        remove_if: impl Fn(&Entry) -> bool,
    ) -> Lookup<'_, Entry> {
        if self.is_empty() {
            return Lookup::Missing;
        }
        self.rehash_step(1);
        let (in_t1, (depth, i)) = match self.t0.locate(h, key) {
            Some(p) => (false, p),
            None if self.rehash_idx.is_some() => match self.t1.locate(h, key) {
                Some(p) => (true, p),
                None => return Lookup::Missing,
            },
            None => return Lookup::Missing,
        };
        let t = if in_t1 { &self.t1 } else { &self.t0 };
        let idx = h as usize & t.mask();
        let remove = match t.bucket(idx, depth).and_then(|b| b.slots[i].as_ref()) {
            Some(e) => remove_if(e),
            None => return Lookup::Missing,
        };
        if remove {
            let t = if in_t1 { &mut self.t1 } else { &mut self.t0 };
            let Some(e) = t.remove_at(idx, depth, i) else {
                return Lookup::Missing;
            };
            self.shrink_if_needed();
            return Lookup::Removed(e);
        }
        let t = if in_t1 { &mut self.t1 } else { &mut self.t0 };
        match t.bucket_mut(idx, depth).and_then(|b| b.slots[i].as_mut()) {
            Some(e) => Lookup::Found(e),
            None => Lookup::Missing,
        }
    }

    /// Adds an entry whose key is known to be absent.
    pub fn insert_new(&mut self, e: Entry) {
        self.rehash_step(1);
        self.expand_if_needed();
        let h = self.hash(e.key());
        if self.rehash_idx.is_some() {
            self.t1.insert(h, e);
        } else {
            self.t0.insert(h, e);
        }
    }

    /// Removes a key; returns its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step(1);
        let h = self.hash(key);
        let mut e = self.t0.remove(h, key);
        if e.is_none() && self.rehash_idx.is_some() {
            e = self.t1.remove(h, key);
        }
        let e = e?;
        self.shrink_if_needed();
        Some(e)
    }

    fn expand_if_needed(&mut self) {
        if self.rehash_idx.is_some() {
            return;
        }
        if self.t0.size() == 0 {
            self.t0 = Table::with_size(1);
        } else if self.t0.used >= self.t0.size() * SLOTS && self.resize_allowed {
            self.start_resize(buckets_for(self.t0.used + 1));
        }
    }

    fn shrink_if_needed(&mut self) {
        if self.rehash_idx.is_some() {
            return;
        }
        let size = self.t0.size();
        if size > 1 && self.t0.used * MIN_FILL < size * SLOTS && self.resize_allowed {
            self.start_resize(buckets_for(self.t0.used));
        }
    }

    fn start_resize(&mut self, size: usize) {
        if size == self.t0.size() {
            return;
        }
        self.t1 = Table::with_size(size);
        self.rehash_idx = Some(0);
    }

    /// Moves up to `n` non-empty buckets (with their chains) to the new
    /// table, visiting at most `10 * n` empty ones. Returns true while a
    /// resize is still under way.
    pub fn rehash_step(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        let mut empty_visits = n * 10;
        let mut left = n;
        while left > 0 && self.t0.used > 0 && idx < self.t0.size() {
            if self.t0.buckets[idx].presence == 0 {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    break;
                }
                continue;
            }
            let (t0, t1, hasher) = (&mut self.t0, &mut self.t1, self.hasher);
            t0.drain_chain(idx, |e| {
                let h = hasher.hash_one(e.key());
                t1.insert(h, e);
            });
            idx += 1;
            left -= 1;
        }
        if self.t0.used == 0 {
            let new = std::mem::replace(&mut self.t1, Table::empty());
            let old = Retired::from_empty(std::mem::replace(&mut self.t0, new));
            if old.bytes() >= RETIRE_OFF_THREAD {
                self.retired.push(old);
            }
            self.rehash_idx = None;
            // Deletes during the resize may call for another one.
            self.shrink_if_needed();
            return self.rehash_idx.is_some();
        }
        self.rehash_idx = Some(idx);
        true
    }

    /// Rehashes in steps of 100 buckets until done or `budget` is spent.
    pub fn rehash_for(&mut self, budget: std::time::Duration) {
        let start = std::time::Instant::now();
        while self.rehash_step(100) {
            if start.elapsed() >= budget {
                break;
            }
        }
    }

    /// One SCAN step: calls `f` on every entry of the bucket(s) at `cursor`
    /// and returns the next cursor (0 when the scan is complete).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&Entry)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let emit = |t: &Table, i: usize, f: &mut dyn FnMut(&Entry)| {
            for e in t.chain(i) {
                f(e);
            }
        };
        if self.rehash_idx.is_none() {
            return scan_step(cursor, self.t0.mask(), None, |_, i| {
                emit(&self.t0, i, &mut f)
            });
        }
        let (small, large) = if self.t0.size() <= self.t1.size() {
            (&self.t0, &self.t1)
        } else {
            (&self.t1, &self.t0)
        };
        scan_step(cursor, small.mask(), Some(large.mask()), |in_large, i| {
            emit(if in_large { large } else { small }, i, &mut f)
        })
    }

    /// `scan` with the entries lent mutably (a snapshot marks those it
    /// has taken); no entry moves.
    pub fn scan_mut(&mut self, cursor: u64, mut f: impl FnMut(&mut Entry)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        if self.rehash_idx.is_none() {
            let t0 = &mut self.t0;
            let mask = t0.mask();
            return scan_step(cursor, mask, None, |_, i| t0.for_chain_mut(i, &mut f));
        }
        let (small, large) = if self.t0.size() <= self.t1.size() {
            (&mut self.t0, &mut self.t1)
        } else {
            (&mut self.t1, &mut self.t0)
        };
        let (small_mask, large_mask) = (small.mask(), large.mask());
        scan_step(cursor, small_mask, Some(large_mask), |in_large, i| {
            if in_large {
                large.for_chain_mut(i, &mut f)
            } else {
                small.for_chain_mut(i, &mut f)
            }
        })
    }

    /// A random entry (uniform over non-empty buckets, then over the chain).
    pub fn random(&self, rng: &mut Rng) -> Option<&Entry> {
        if self.is_empty() {
            return None;
        }
        let (t, idx) = loop {
            let (t, i) = match self.rehash_idx {
                Some(r) => {
                    let s0 = self.t0.size();
                    let i = r + rng.below(s0 + self.t1.size() - r);
                    if i < s0 {
                        (&self.t0, i)
                    } else {
                        (&self.t1, i - s0)
                    }
                }
                None => (&self.t0, rng.below(self.t0.size())),
            };
            if t.buckets[i].presence != 0 {
                break (t, i);
            }
        };
        let n = t.chain(idx).count();
        t.chain(idx).nth(rng.below(n))
    }

    /// Every entry, in bucket order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        let (t0, t1) = (&self.t0, &self.t1);
        (0..t0.size())
            .flat_map(move |i| t0.chain(i))
            .chain((0..t1.size()).flat_map(move |i| t1.chain(i)))
    }

    /// Empties the table, returning the old contents (to be freed elsewhere).
    pub fn take(&mut self) -> KvTable {
        let on = self.resize_allowed;
        let t = std::mem::take(self);
        self.resize_allowed = on;
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::{Str, Value};
    use std::collections::HashSet;

    fn entry(k: &str, v: i64) -> Entry {
        Entry::new(k.as_bytes(), Value::Str(Str::Int(v)), 0, 0)
    }

    fn int(e: &Entry) -> i64 {
        match &*e.value() {
            Value::Str(Str::Int(n)) => *n,
            _ => panic!("not an int"),
        }
    }

    #[test]
    fn insert_get_remove_through_resizes() {
        let mut d = KvTable::new();
        for i in 0..20_000 {
            d.insert_new(entry(&format!("k{i}"), i));
        }
        assert_eq!(d.len(), 20_000);
        for i in 0..20_000 {
            assert_eq!(d.get(format!("k{i}").as_bytes()).map(int), Some(i));
        }
        assert!(d.get(b"nope").is_none());
        for i in 0..19_990 {
            assert!(d.remove(format!("k{i}").as_bytes()).is_some(), "k{i}");
        }
        assert!(d.remove(b"k0").is_none());
        while d.rehash_step(100) {}
        assert_eq!(d.len(), 10);
        assert!(d.buckets() <= 8, "shrunk, {} buckets", d.buckets());
        for i in 19_990..20_000 {
            assert_eq!(d.get(format!("k{i}").as_bytes()).map(int), Some(i));
        }
        assert_eq!(d.iter().count(), 10);
    }

    #[test]
    fn chains_stay_correct_when_one_bucket_overflows() {
        // A one-bucket table with many keys: long chains, removals from
        // every depth, compaction.
        let mut t = Table::with_size(1);
        let keys: Vec<String> = (0..40).map(|i| format!("key{i}")).collect();
        for (i, k) in keys.iter().enumerate() {
            t.insert(i as u64 * 0x0100_0000_0000_0000, entry(k, i as i64));
        }
        assert_eq!(t.used, 40);
        for (i, k) in keys.iter().enumerate().step_by(3) {
            let h = i as u64 * 0x0100_0000_0000_0000;
            assert_eq!(t.remove(h, k.as_bytes()).map(|e| int(&e)), Some(i as i64));
        }
        for (i, k) in keys.iter().enumerate() {
            let h = i as u64 * 0x0100_0000_0000_0000;
            assert_eq!(t.get(h, k.as_bytes()).is_some(), i % 3 != 0, "{k}");
        }
        assert_eq!(t.chain(0).count(), t.used);
        // Compact: 26 entries need 5 buckets, no more.
        let mut depth = 0;
        while t.bucket(0, depth + 1).is_some() {
            depth += 1;
        }
        assert_eq!(depth, 26usize.div_ceil(SLOTS) - 1);
    }

    #[test]
    fn tag_matching_is_exact() {
        let mut b = Bucket::new();
        b.tags = [7, 0, 7, 0x80, 0xff, 7];
        b.presence = FULL;
        assert_eq!(b.matches(7), 0b100101);
        assert_eq!(b.matches(0), 0b000010);
        assert_eq!(b.matches(0x80), 0b001000);
        assert_eq!(b.matches(0xff), 0b010000);
        assert_eq!(b.matches(1), 0);
        b.presence = 0b000001;
        assert_eq!(b.matches(7), 0b000001);
        for tag in 0..=255u8 {
            let mut b = Bucket::new();
            b.tags = [tag, tag ^ 1, tag ^ 0x80, tag, tag.wrapping_add(1), tag];
            b.presence = FULL;
            assert_eq!(b.matches(tag), 0b101001, "tag {tag}");
        }
    }

    #[test]
    fn lookup_mut_finds_or_removes() {
        let mut d = KvTable::new();
        for i in 0..100 {
            d.insert_new(entry(&format!("k{i}"), i));
        }
        let h = d.hash(b"k5");
        match d.lookup_mut(h, b"k5", |_| false) {
            Lookup::Found(e) => *e.value_mut() = Value::Str(Str::Int(55)),
            _ => panic!("k5 missing"),
        }
        assert_eq!(d.get(b"k5").map(int), Some(55));
        assert!(matches!(
            d.lookup_mut(h, b"k5", |e| int(e) == 55),
            Lookup::Removed(_)
        ));
        assert!(matches!(d.lookup_mut(h, b"k5", |_| false), Lookup::Missing));
        assert_eq!(d.len(), 99);
    }

    #[test]
    fn scan_returns_every_key_across_growth_and_shrink() {
        let mut d = KvTable::new();
        for i in 0..500 {
            d.insert_new(entry(&format!("k{i}"), i));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = d.scan(cursor, |e| {
                seen.insert(e.key().to_vec());
            });
            step += 1;
            // Grow while scanning, then shrink.
            if step == 5 {
                for i in 500..5_000 {
                    d.insert_new(entry(&format!("k{i}"), i));
                }
            }
            if step == 40 {
                for i in 1_000..5_000 {
                    d.remove(format!("k{i}").as_bytes());
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500 {
            assert!(seen.contains(format!("k{i}").as_bytes()), "k{i} missed");
        }
    }

    #[test]
    fn random_and_rehash_visit_all() {
        let mut d = KvTable::new();
        let mut rng = Rng::new(7);
        assert!(d.random(&mut rng).is_none());
        for i in 0..1_000 {
            d.insert_new(entry(&format!("k{i}"), i));
        }
        let mut seen = HashSet::new();
        for _ in 0..20_000 {
            seen.insert(d.random(&mut rng).map(int));
        }
        assert!(seen.len() > 900, "random covers the keys: {}", seen.len());
        d.rehash_for(std::time::Duration::from_secs(1));
        assert!(!d.is_rehashing());
        let taken = d.take();
        assert_eq!((taken.len(), d.len()), (1_000, 0));
    }

    #[test]
    fn reserve_empty_sizes_for_the_hint() {
        let mut d = KvTable::new();
        d.reserve_empty(10_000);
        let b = d.buckets();
        for i in 0..10_000 {
            d.insert_new(entry(&format!("k{i}"), i));
            assert!(!d.is_rehashing());
        }
        assert_eq!(d.buckets(), b);
        // Only an empty table is resized.
        d.reserve_empty(1 << 20);
        assert_eq!(d.buckets(), b);
    }

    #[test]
    fn prefetch_addresses_point_at_the_key() {
        let mut d = KvTable::new();
        for i in 0..1_000 {
            d.insert_new(entry(&format!("k{i}"), i));
        }
        let h = d.hash(b"k77");
        assert!(d.bucket_addr(h).is_some());
        // The first tag match is almost always the key itself.
        let e = d.get(b"k77").map(|e| e.addr());
        let first = d.entry_addr(h);
        assert!(first.is_some());
        assert!(first == e || d.get(b"k77").is_some());
    }

    #[test]
    fn random_operations_match_a_hashmap() {
        use std::collections::HashMap;
        let mut rng = Rng::new(42);
        let mut d = KvTable::new();
        let mut model: HashMap<Vec<u8>, i64> = HashMap::new();
        for step in 0..60_000i64 {
            let k = format!("key:{}", rng.below(6_000)).into_bytes();
            match rng.below(10) {
                0..=3 => {
                    if let Some(e) = d.get_mut(&k) {
                        e.replace_value(Value::Str(Str::Int(step)));
                    } else {
                        d.insert_new(Entry::new(&k, Value::Str(Str::Int(step)), 0, 0));
                    }
                    model.insert(k, step);
                }
                4..=6 => {
                    assert_eq!(d.remove(&k).map(|e| int(&e)), model.remove(&k));
                }
                7 => {
                    let h = d.hash(&k);
                    let gone = rng.below(2) == 0;
                    match d.lookup_mut(h, &k, |_| gone) {
                        Lookup::Found(e) => assert_eq!(Some(int(e)), model.get(&k).copied()),
                        Lookup::Removed(e) => assert_eq!(Some(int(&e)), model.remove(&k)),
                        Lookup::Missing => assert!(!model.contains_key(&k)),
                    }
                }
                8 => {
                    d.rehash_step(1 + rng.below(4));
                }
                _ => assert_eq!(d.get(&k).map(int), model.get(&k).copied()),
            }
            if step % 5_000 == 0 {
                assert_eq!(d.len(), model.len());
                assert_eq!(d.iter().count(), model.len());
            }
        }
        // A full SCAN returns every key exactly once when nothing changes.
        let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut cursor = 0;
        loop {
            cursor = d.scan(cursor, |e| *seen.entry(e.key().to_vec()).or_default() += 1);
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), model.len());
        assert!(seen.values().all(|&n| n == 1) || d.is_rehashing());
        for (k, v) in &model {
            assert_eq!(d.get(k).map(int), Some(*v));
        }
    }

    #[test]
    fn resizing_can_be_paused() {
        let mut t = KvTable::new();
        for i in 0..100 {
            t.insert_new(entry(&format!("k{i}"), i));
        }
        while t.rehash_step(100) {}
        let buckets = t.buckets();
        t.set_resize_allowed(false);
        for i in 100..5000 {
            t.insert_new(entry(&format!("k{i}"), i));
        }
        // No resize started: the entries went to chains.
        assert_eq!(t.buckets(), buckets);
        assert!(!t.is_rehashing());
        assert_eq!(t.len(), 5000);
        assert!(t.get(b"k4999").is_some() && t.get(b"k0").is_some());
        // The flag survives FLUSHALL's take().
        let old = t.take();
        assert!(old.len() == 5000 && t.is_empty());
        assert!(!t.resize_allowed);
        t.set_resize_allowed(true);
        for i in 0..100 {
            t.insert_new(entry(&format!("k{i}"), i));
        }
        assert!(t.buckets() > 1 || t.is_rehashing());
    }
}
