//! A chained hash table with incremental rehashing, for the big hashes,
//! sets and sorted sets inside values and for the keys-with-expire index
//! (the keyspace itself is `kvtable`).
//!
//! Why not hashbrown: HSCAN, SSCAN and ZSCAN need cursors that survive
//! growth and shrinking, and growing a 10 M-field hash must not stop the
//! main thread for a whole resize. So, as in Valkey's dict: two tables while resizing, each
//! operation (and the cron) moves a few buckets from the old to the new, and
//! SCAN walks bucket indexes in reverse-binary order so a key present for
//! the whole scan is returned at least once whatever the resizes.

use hashbrown::DefaultHashBuilder;
use std::hash::BuildHasher;

use super::value::Bytes24;
use crate::util::rng::Rng;

type Link<V> = Option<Box<Node<V>>>;

pub struct Node<V> {
    pub key: Bytes24,
    pub value: V,
    next: Link<V>,
}

struct Table<V> {
    buckets: Vec<Link<V>>,
    used: usize,
}

impl<V> Table<V> {
    fn empty() -> Self {
        Table {
            buckets: Vec::new(),
            used: 0,
        }
    }
    /// A table of `n` empty buckets from zeroed memory: the allocator hands
    /// out fresh pages for large tables without writing them, so doubling
    /// a 10 M-key table does not stall the main thread while 128 MB of
    /// `None` are written (pages are touched later, bucket by bucket, as
    /// rehashing fills them).
    fn with_size(n: usize) -> Self {
        let Ok(layout) = std::alloc::Layout::array::<Link<V>>(n) else {
            std::alloc::handle_alloc_error(std::alloc::Layout::new::<Link<V>>())
        };
        if n == 0 || layout.size() == 0 {
            return Table::empty();
        }
        // SAFETY: `Option<Box<T>>` is guaranteed to be a nullable pointer
        // (the null pointer optimisation), so all-zero bytes are `None` for
        // every element; the memory comes from the global allocator with
        // exactly the layout of a Vec of `n` elements, as `from_raw_parts`
        // requires, and length and capacity are both `n`.
        let buckets = unsafe {
            let ptr = std::alloc::alloc_zeroed(layout) as *mut Link<V>;
            if ptr.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            Vec::from_raw_parts(ptr, n, n)
        };
        Table { buckets, used: 0 }
    }
    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }
    #[inline]
    fn size(&self) -> usize {
        self.buckets.len()
    }
}

const INITIAL_SIZE: usize = 4;
/// Shrink when fewer than 1/8 of the buckets are used.
const MIN_FILL: usize = 8;

/// One step of a reverse-binary SCAN cursor, shared by `Dict` and
/// `KvTable`: `visit(in_large, index)` is called for each bucket to emit
/// (the one bucket of a single table, or, while two tables exist, the
/// small table's bucket and every bucket of the large one that it expands
/// to), and the next cursor is returned (0 when the scan is complete).
/// Incrementing the reversed bits is what makes a key present for the
/// whole scan come back at least once whatever resizes happen between
/// steps.
pub(super) fn scan_step(
    cursor: u64,
    small_mask: usize,
    large_mask: Option<usize>,
    mut visit: impl FnMut(bool, usize),
) -> u64 {
    let next = |v: usize, mask: usize| -> usize {
        let v = v | !mask;
        v.reverse_bits().wrapping_add(1).reverse_bits()
    };
    let mut v = cursor as usize;
    visit(false, v & small_mask);
    match large_mask {
        None => v = next(v, small_mask),
        Some(m1) => loop {
            visit(true, v & m1);
            v = next(v, m1);
            if v & (small_mask ^ m1) == 0 {
                break;
            }
        },
    }
    v as u64
}

pub struct Dict<V> {
    t0: Table<V>,
    t1: Table<V>,
    /// Next bucket of `t0` to move into `t1`, while resizing.
    rehash_idx: Option<usize>,
    hasher: DefaultHashBuilder,
    /// False while DEBUG DICT-RESIZING 0 (the expires table): no resize
    /// starts.
    resize_allowed: bool,
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> Dict<V> {
    pub fn new() -> Self {
        Dict {
            t0: Table::empty(),
            t1: Table::empty(),
            rehash_idx: None,
            hasher: DefaultHashBuilder::default(),
            resize_allowed: true,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.t0.used + self.t1.used
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total buckets in both tables (for `DEBUG HTSTATS`-like reporting).
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

    #[inline]
    fn find_in<'a>(t: &'a Table<V>, hash: u64, key: &[u8]) -> Option<&'a Node<V>> {
        if t.size() == 0 {
            return None;
        }
        let mut cur = t.buckets[hash as usize & t.mask()].as_deref();
        while let Some(n) = cur {
            if n.key.as_slice() == key {
                return Some(n);
            }
            cur = n.next.as_deref();
        }
        None
    }

    #[inline]
    fn find_in_mut<'a>(t: &'a mut Table<V>, hash: u64, key: &[u8]) -> Option<&'a mut Node<V>> {
        if t.size() == 0 {
            return None;
        }
        let mask = t.mask();
        let mut cur = t.buckets[hash as usize & mask].as_deref_mut();
        while let Some(n) = cur {
            if n.key.as_slice() == key {
                return Some(n);
            }
            cur = n.next.as_deref_mut();
        }
        None
    }

    pub fn get_hashed(&self, hash: u64, key: &[u8]) -> Option<&V> {
        if let Some(n) = Self::find_in(&self.t0, hash, key) {
            return Some(&n.value);
        }
        if self.rehash_idx.is_some() {
            return Self::find_in(&self.t1, hash, key).map(|n| &n.value);
        }
        None
    }

    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        if self.is_empty() {
            return None;
        }
        self.get_hashed(self.hash(key), key)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.is_empty() {
            return None;
        }
        let h = self.hash(key);
        self.get_mut_hashed(h, key)
    }

    pub fn get_mut_hashed(&mut self, h: u64, key: &[u8]) -> Option<&mut V> {
        self.rehash_step(1);
        if self.rehash_idx.is_some() {
            if let Some(n) = Self::find_in_mut(&mut self.t1, h, key) {
                return Some(&mut n.value);
            }
        }
        Self::find_in_mut(&mut self.t0, h, key).map(|n| &mut n.value)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        if let Some(v) = self.get_mut(key) {
            return Some(std::mem::replace(v, value));
        }
        self.insert_new(key, value);
        None
    }

    /// Inserts a key known to be absent.
    pub fn insert_new(&mut self, key: &[u8], value: V) {
        self.rehash_step(1);
        self.expand_if_needed();
        let h = self.hash(key);
        let t = if self.rehash_idx.is_some() {
            &mut self.t1
        } else {
            &mut self.t0
        };
        let idx = h as usize & t.mask();
        let next = t.buckets[idx].take();
        t.buckets[idx] = Some(Box::new(Node {
            key: Bytes24::new(key),
            value,
            next,
        }));
        t.used += 1;
    }

    fn remove_from(t: &mut Table<V>, hash: u64, key: &[u8]) -> Option<Box<Node<V>>> {
        if t.size() == 0 {
            return None;
        }
        let mask = t.mask();
        let mut cur: &mut Link<V> = &mut t.buckets[hash as usize & mask];
        loop {
            let hit = match cur {
                None => return None,
                Some(n) => n.key.as_slice() == key,
            };
            if hit {
                let mut node = cur.take()?;
                *cur = node.next.take();
                t.used -= 1;
                return Some(node);
            }
            cur = &mut cur.as_mut()?.next;
        }
    }

    /// Removes a key; returns its stored key and value.
    pub fn remove(&mut self, key: &[u8]) -> Option<(Bytes24, V)> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step(1);
        let h = self.hash(key);
        let mut node = Self::remove_from(&mut self.t0, h, key);
        if node.is_none() && self.rehash_idx.is_some() {
            node = Self::remove_from(&mut self.t1, h, key);
        }
        let node = node?;
        self.shrink_if_needed();
        let Node { key, value, .. } = *node;
        Some((key, value))
    }

    fn expand_if_needed(&mut self) {
        if self.rehash_idx.is_some() {
            return;
        }
        if self.t0.size() == 0 {
            self.t0 = Table::with_size(INITIAL_SIZE);
        } else if self.t0.used >= self.t0.size() && self.resize_allowed {
            self.start_resize((self.t0.used + 1).next_power_of_two());
        }
    }

    fn shrink_if_needed(&mut self) {
        if self.rehash_idx.is_some() {
            return;
        }
        let size = self.t0.size();
        if size > INITIAL_SIZE && self.t0.used * MIN_FILL < size && self.resize_allowed {
            self.start_resize(self.t0.used.max(INITIAL_SIZE).next_power_of_two());
        }
    }

    fn start_resize(&mut self, size: usize) {
        if size == self.t0.size() {
            return;
        }
        self.t1 = Table::with_size(size);
        self.rehash_idx = Some(0);
    }

    /// Moves up to `n` non-empty buckets to the new table, visiting at most
    /// `10 * n` empty ones. Returns true while a resize is still under way.
    pub fn rehash_step(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        let mut empty_visits = n * 10;
        let mut left = n;
        let mask1 = self.t1.mask();
        while left > 0 && self.t0.used > 0 {
            while self.t0.buckets[idx].is_none() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    return true;
                }
            }
            let mut chain = self.t0.buckets[idx].take();
            while let Some(mut node) = chain {
                chain = node.next.take();
                let b = self.hasher.hash_one(node.key.as_slice()) as usize & mask1;
                node.next = self.t1.buckets[b].take();
                self.t1.buckets[b] = Some(node);
                self.t0.used -= 1;
                self.t1.used += 1;
            }
            idx += 1;
            left -= 1;
        }
        if self.t0.used == 0 {
            self.t0 = std::mem::replace(&mut self.t1, Table::empty());
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
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&Bytes24, &V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let emit = |t: &Table<V>, idx: usize, f: &mut dyn FnMut(&Bytes24, &V)| {
            let mut cur = t.buckets[idx & t.mask()].as_deref();
            while let Some(n) = cur {
                f(&n.key, &n.value);
                cur = n.next.as_deref();
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

    /// A random entry, every entry alike (SRANDMEMBER, HRANDFIELD, SPOP).
    /// A random bucket and then a random place in its chain would favour
    /// entries alone in their bucket; drawing a bucket and a place below
    /// `FAIR_WINDOW` until the place exists weighs all entries the same
    /// (chains longer than the window are as good as impossible while the
    /// table resizes; after `FAIR_TRIES` misses the old draw is used).
    pub fn random(&self, rng: &mut Rng) -> Option<(&Bytes24, &V)> {
        const FAIR_WINDOW: usize = 8;
        const FAIR_TRIES: usize = 256;
        if self.is_empty() {
            return None;
        }
        for _ in 0..FAIR_TRIES {
            let place = rng.below(FAIR_WINDOW);
            let mut cur = self.random_bucket(rng).as_deref();
            for _ in 0..place {
                cur = cur.and_then(|n| n.next.as_deref());
            }
            if let Some(n) = cur {
                return Some((&n.key, &n.value));
            }
        }
        let head = loop {
            if let Some(n) = self.random_bucket(rng).as_deref() {
                break n;
            }
        };
        let mut len = 0;
        let mut cur = Some(head);
        while let Some(n) = cur {
            len += 1;
            cur = n.next.as_deref();
        }
        let mut n = head;
        for _ in 0..rng.below(len) {
            n = n.next.as_deref()?;
        }
        Some((&n.key, &n.value))
    }

    /// A bucket drawn uniformly (of both tables while rehashing, skipping
    /// the part of the old one already moved).
    fn random_bucket(&self, rng: &mut Rng) -> &Link<V> {
        match self.rehash_idx {
            Some(r) => {
                let s0 = self.t0.size();
                let i = r + rng.below(s0 + self.t1.size() - r);
                if i < s0 {
                    &self.t0.buckets[i]
                } else {
                    &self.t1.buckets[i - s0]
                }
            }
            None => &self.t0.buckets[rng.below(self.t0.size())],
        }
    }

    /// Every entry, in bucket order.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes24, &V)> {
        self.t0
            .buckets
            .iter()
            .chain(self.t1.buckets.iter())
            .flat_map(|link| {
                let mut cur = link.as_deref();
                std::iter::from_fn(move || {
                    let n = cur?;
                    cur = n.next.as_deref();
                    Some((&n.key, &n.value))
                })
            })
    }

    /// Empties the dict, returning the old contents (to be freed elsewhere).
    pub fn take(&mut self) -> Dict<V> {
        let on = self.resize_allowed;
        let t = std::mem::take(self);
        self.resize_allowed = on;
        t
    }

    /// DEBUG DICT-RESIZING: while off, no grow or shrink starts.
    pub fn set_resize_allowed(&mut self, on: bool) {
        self.resize_allowed = on;
    }
}

impl<V> Drop for Dict<V> {
    fn drop(&mut self) {
        // Unlink chains iteratively so a long chain cannot overflow the stack.
        for t in [&mut self.t0, &mut self.t1] {
            for link in t.buckets.iter_mut() {
                let mut cur = link.take();
                while let Some(mut n) = cur {
                    cur = n.next.take();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Chi-square of `draws` random picks over `n` entries.
    fn random_chi_square(n: u32, draws: u32) -> f64 {
        let mut d = Dict::new();
        for i in 0..n {
            d.insert(format!("member:{i}").as_bytes(), i);
        }
        let mut rng = Rng::new(12345);
        let mut counts = vec![0u32; n as usize];
        for _ in 0..draws {
            let (_, v) = d.random(&mut rng).expect("not empty");
            counts[*v as usize] += 1;
        }
        let expect = f64::from(draws) / f64::from(n);
        counts
            .iter()
            .map(|&c| (f64::from(c) - expect).powi(2) / expect)
            .sum()
    }

    #[test]
    fn random_weighs_every_entry_alike() {
        // 999 degrees of freedom: mean 999, deviation 45. A draw that
        // favours entries alone in their bucket gave 22,926.
        let chi = random_chi_square(1000, 100_000);
        assert!(chi < 1300.0, "chi-square {chi}");
        // Small tables too (the Valkey suite's SRANDMEMBER histogram).
        let chi = random_chi_square(10, 10_000);
        assert!(chi < 40.0, "chi-square {chi}");
    }

    #[test]
    fn insert_get_remove_through_resizes() {
        let mut d = Dict::new();
        for i in 0..10_000u32 {
            assert!(d.insert(format!("k{i}").as_bytes(), i).is_none());
        }
        assert_eq!(d.len(), 10_000);
        for i in 0..10_000u32 {
            assert_eq!(d.get(format!("k{i}").as_bytes()), Some(&i));
        }
        assert_eq!(d.insert(b"k5", 55), Some(5));
        for i in 0..9_990u32 {
            assert!(d.remove(format!("k{i}").as_bytes()).is_some(), "k{i}");
        }
        assert_eq!(d.len(), 10);
        assert!(d.remove(b"k1").is_none());
        while d.rehash_step(100) {}
        assert!(d.buckets() <= 64, "shrunk to {}", d.buckets());
        assert_eq!(d.get(b"k9995"), Some(&9995));
    }

    fn full_scan(d: &Dict<u32>) -> HashSet<Vec<u8>> {
        let mut seen = HashSet::new();
        let mut c = 0;
        loop {
            c = d.scan(c, |k, _| {
                seen.insert(k.as_slice().to_vec());
            });
            if c == 0 {
                return seen;
            }
        }
    }

    #[test]
    fn scan_returns_every_key_across_growth_and_shrink() {
        let mut d = Dict::new();
        for i in 0..1000u32 {
            d.insert(format!("a{i}").as_bytes(), i);
        }
        // Grow while scanning: keys present all along must all be seen.
        let mut seen = HashSet::new();
        let mut c = 0;
        let mut added = 0;
        loop {
            c = d.scan(c, |k, _| {
                seen.insert(k.as_slice().to_vec());
            });
            // Growth is bounded: a table that grows forever is never fully scanned.
            for _ in 0..50 {
                if added < 5000 {
                    d.insert(format!("b{added}").as_bytes(), added);
                    added += 1;
                }
            }
            if c == 0 {
                break;
            }
        }
        for i in 0..1000u32 {
            assert!(
                seen.contains(format!("a{i}").as_bytes()),
                "missed a{i} while growing"
            );
        }
        // Shrink while scanning.
        let mut seen = HashSet::new();
        let mut c = 0;
        let mut removed = 0;
        loop {
            c = d.scan(c, |k, _| {
                seen.insert(k.as_slice().to_vec());
            });
            for _ in 0..200 {
                if removed < added {
                    d.remove(format!("b{removed}").as_bytes());
                    removed += 1;
                }
            }
            if c == 0 {
                break;
            }
        }
        for i in 0..1000u32 {
            assert!(
                seen.contains(format!("a{i}").as_bytes()),
                "missed a{i} while shrinking"
            );
        }
        assert_eq!(full_scan(&d).len(), d.len());
    }

    #[test]
    fn random_and_iter_cover_entries() {
        let mut d = Dict::new();
        let mut rng = Rng::new(42);
        assert!(d.random(&mut rng).is_none());
        for i in 0..100u32 {
            d.insert(format!("{i}").as_bytes(), i);
        }
        let mut hit = HashSet::new();
        for _ in 0..5000 {
            let (k, v) = d.random(&mut rng).unwrap();
            assert_eq!(k.as_slice(), v.to_string().as_bytes());
            hit.insert(*v);
        }
        assert!(hit.len() > 90);
        assert_eq!(d.iter().count(), 100);
        let old = d.take();
        assert_eq!(old.len(), 100);
        assert!(d.is_empty());
    }
}
