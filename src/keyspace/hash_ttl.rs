//! Hash-field expiration (Valkey 9): the per-hash index of field TTLs, the
//! per-db set of hashes that have some, and the active cycle that removes
//! expired fields.
//!
//! As in Valkey, a field whose time has passed stays stored until the
//! active cycle (or an overwrite) removes it: reads skip it, HLEN still
//! counts it. Only `hashtable`-encoded hashes hold TTLs (giving a field a
//! TTL converts a listpack, Valkey's rule). A hash's `FieldTtl` is ordered
//! by time, so the cycle pops what is due without scanning the hash.
//!
//! Each db keeps the names of its hashes with TTLs (`VolatileKeys`, walked
//! by cursor like the keys-with-expire table). A name may outlive its hash
//! (deleted, overwritten, renamed away): the cycle drops such names when it
//! meets them; every path that puts a hash with TTLs under a key (commands,
//! RESTORE, loading, RENAME/MOVE/COPY) registers the name.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::db::Db;
use super::dict::Dict;
use super::value::Value;
use bytes::Bytes;

/// The TTLs of one hash's volatile fields.
///
/// Most hashes with TTLs have a few: up to `SMALL_MAX` they sit in one
/// small array (one allocation, scanned), past it in a map for lookups and
/// a tree ordered by time for the cycle. Three allocations a field cost
/// HSETEX on a million small hashes three cache misses a command more than
/// Valkey (its TTL sits in the field's own entry).
#[derive(Clone, Debug)]
pub struct FieldTtl {
    repr: Repr,
}

/// Fields with TTLs a hash keeps in the small form.
const SMALL_MAX: usize = 16;

#[derive(Clone, Debug)]
enum Repr {
    /// (field, time), in no order.
    Small(Vec<(Box<[u8]>, i64)>),
    Large {
        /// Field → absolute expire time (Unix ms).
        when: hashbrown::HashMap<Box<[u8]>, i64>,
        /// (time, field), soonest first.
        order: BTreeSet<(i64, Box<[u8]>)>,
    },
}

impl Default for FieldTtl {
    fn default() -> Self {
        FieldTtl {
            repr: Repr::Small(Vec::new()),
        }
    }
}

/// The same fields with the same times, whichever the form.
impl PartialEq for FieldTtl {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(f, w)| other.get(f) == Some(w))
    }
}

impl FieldTtl {
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(v) => v.len(),
            Repr::Large { when, .. } => when.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The expire time of `field`, if it has one.
    #[inline]
    pub fn get(&self, field: &[u8]) -> Option<i64> {
        match &self.repr {
            Repr::Small(v) => v.iter().find(|(f, _)| &f[..] == field).map(|(_, w)| *w),
            Repr::Large { when, .. } => when.get(field).copied(),
        }
    }

    /// Sets (or moves) the expire time of `field`.
    pub fn set(&mut self, field: &[u8], at: i64) {
        if let Repr::Small(v) = &mut self.repr {
            if let Some(e) = v.iter_mut().find(|(f, _)| &f[..] == field) {
                e.1 = at;
                return;
            }
            if v.len() < SMALL_MAX {
                v.push((field.into(), at));
                return;
            }
            let mut when = hashbrown::HashMap::with_capacity(v.len() + 1);
            let mut order = BTreeSet::new();
            for (f, w) in v.drain(..) {
                order.insert((w, f.clone()));
                when.insert(f, w);
            }
            self.repr = Repr::Large { when, order };
        }
        let Repr::Large { when, order } = &mut self.repr else {
            return;
        };
        if let Some(old) = when.get_mut(field) {
            if *old == at {
                return;
            }
            let f: Box<[u8]> = field.into();
            order.remove(&(*old, f.clone()));
            *old = at;
            order.insert((at, f));
        } else {
            when.insert(field.into(), at);
            order.insert((at, field.into()));
        }
    }

    /// Removes the TTL of `field`; its old time if it had one.
    pub fn remove(&mut self, field: &[u8]) -> Option<i64> {
        match &mut self.repr {
            Repr::Small(v) => {
                let i = v.iter().position(|(f, _)| &f[..] == field)?;
                Some(v.swap_remove(i).1)
            }
            Repr::Large { when, order } => {
                let (k, at) = when.remove_entry(field)?;
                order.remove(&(at, k));
                Some(at)
            }
        }
    }

    /// The soonest expire time.
    pub fn next(&self) -> Option<i64> {
        match &self.repr {
            Repr::Small(v) => v.iter().map(|(_, w)| *w).min(),
            Repr::Large { order, .. } => order.first().map(|(w, _)| *w),
        }
    }

    /// The latest expire time.
    pub fn last(&self) -> Option<i64> {
        match &self.repr {
            Repr::Small(v) => v.iter().map(|(_, w)| *w).max(),
            Repr::Large { order, .. } => order.last().map(|(w, _)| *w),
        }
    }

    /// Takes out up to `max` fields due at `now` (their TTLs forgotten),
    /// soonest first.
    pub fn pop_due(&mut self, now: i64, max: usize) -> Vec<Box<[u8]>> {
        let mut out = Vec::new();
        match &mut self.repr {
            Repr::Small(v) => {
                while out.len() < max {
                    // Ties go by field, as in the tree.
                    let soonest = v
                        .iter()
                        .enumerate()
                        .min_by(|(_, (fa, wa)), (_, (fb, wb))| (wa, fa).cmp(&(wb, fb)));
                    match soonest {
                        Some((i, (_, w))) if *w <= now => out.push(v.swap_remove(i).0),
                        _ => break,
                    }
                }
            }
            Repr::Large { when, order } => {
                while out.len() < max {
                    // One walk down the tree per field: the first not due
                    // goes back.
                    let Some((w, f)) = order.pop_first() else {
                        break;
                    };
                    if w > now {
                        order.insert((w, f));
                        break;
                    }
                    when.remove(&f);
                    out.push(f);
                }
            }
        }
        out
    }

    /// Takes out every field (their TTLs forgotten), soonest first.
    pub fn take_all(&mut self) -> Vec<Box<[u8]>> {
        match std::mem::take(self).repr {
            Repr::Small(mut v) => {
                v.sort_by(|(fa, wa), (fb, wb)| (wa, fa).cmp(&(wb, fb)));
                v.into_iter().map(|(f, _)| f).collect()
            }
            Repr::Large { order, .. } => order.into_iter().map(|(_, f)| f).collect(),
        }
    }

    /// Every (field, time), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], i64)> {
        let (small, large) = match &self.repr {
            Repr::Small(v) => (Some(v), None),
            Repr::Large { when, .. } => (None, Some(when)),
        };
        let small = small.into_iter().flatten().map(|(k, w)| (&k[..], *w));
        let large = large.into_iter().flatten().map(|(k, w)| (&k[..], *w));
        small.chain(large)
    }

    /// Heap bytes, roughly (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Small(v) => {
                v.capacity() * std::mem::size_of::<(Box<[u8]>, i64)>()
                    + v.iter().map(|(k, _)| k.len()).sum::<usize>()
            }
            Repr::Large { when, .. } => {
                let per = 2 * (std::mem::size_of::<Box<[u8]>>() + 8) + 16;
                when.keys().map(|k| per + 2 * k.len()).sum()
            }
        }
    }
}

/// The names of a db's hashes that have field TTLs, for the active cycle.
#[derive(Default)]
pub struct VolatileKeys {
    keys: Dict<()>,
    cursor: u64,
    /// Fields the active cycle removed, while someone propagates them
    /// (`log`): (key, fields, whether the hash went away with them).
    log: Option<Vec<ExpiredFields>>,
}

/// One hash's fields removed by the active cycle in one go.
pub struct ExpiredFields {
    pub key: Bytes,
    pub fields: Vec<Box<[u8]>>,
    pub emptied: bool,
}

impl VolatileKeys {
    /// Remembers that `key` holds a hash with field TTLs.
    pub fn track(&mut self, key: &[u8]) {
        if !self.keys.contains_key(key) {
            self.keys.insert_new(key, ());
        }
    }

    pub fn untrack(&mut self, key: &[u8]) {
        self.keys.remove(key);
    }

    /// Names tracked (INFO keyspace `keys_with_volatile_items`; may count a
    /// name whose hash is gone until the cycle meets it).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Forgets every name (FLUSHDB).
    pub fn clear(&mut self) {
        let log = self.log.take();
        *self = VolatileKeys::default();
        self.log = log;
    }

    /// Starts (or stops) keeping what the cycle removes.
    pub fn set_logging(&mut self, on: bool) {
        if on != self.log.is_some() {
            self.log = on.then(Vec::new);
        }
    }

    /// What the cycle removed since the last call.
    pub fn take_log(&mut self) -> Vec<ExpiredFields> {
        match &mut self.log {
            Some(l) => std::mem::take(l),
            None => Vec::new(),
        }
    }
}

/// Keys looked at per sample of the cycle.
const SAMPLE: usize = 20;
/// Stop early when at most this percentage of a sample had fields due.
const ACCEPTABLE_DUE_PCT: usize = 10;
/// Fields one key gives up per visit: the time is checked between visits,
/// so this bounds the work past the budget (about 50 us).
const FIELDS_PER_VISIT: usize = 200;

/// What one run of the cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct CycleRun {
    /// Fields removed.
    pub removed: usize,
    /// It stopped for time while its last sample still had many hashes
    /// with fields due: more are waiting (the caller runs another slice
    /// soon rather than at the next cron tick).
    pub more: bool,
}

/// Removes due fields from `db`'s hashes for at most `budget` (a visit
/// may overrun it by one key's `FIELDS_PER_VISIT`); a hash left empty is
/// deleted.
pub fn active_field_cycle(db: &mut Db, now: i64, budget: Duration) -> CycleRun {
    let start = Instant::now();
    let mut run = CycleRun::default();
    loop {
        if db.hfe.keys.is_empty() {
            db.hfe.cursor = 0;
            return run;
        }
        let mut keys: Vec<Box<[u8]>> = Vec::with_capacity(SAMPLE);
        let before = db.hfe.cursor;
        let mut cursor = before;
        while keys.len() < SAMPLE {
            cursor = db
                .hfe
                .keys
                .scan(cursor, |k, _| keys.push(k.as_slice().into()));
            if cursor == 0 {
                break;
            }
        }
        db.hfe.cursor = cursor;
        let mut hits = 0;
        for k in &keys {
            let n = expire_fields_of(db, k, now);
            hits += (n > 0) as usize;
            run.removed += n;
            if n > 0 && start.elapsed() >= budget {
                // Resume at this sample next time: its other keys may be due.
                db.hfe.cursor = before;
                run.more = true;
                return run;
            }
        }
        // Few keys of the sample had anything due (like the key cycle's
        // stale percentage): done for now. Out of time with many due:
        // the caller comes back soon.
        if hits * 100 <= keys.len() * ACCEPTABLE_DUE_PCT {
            return run;
        }
        if start.elapsed() >= budget {
            run.more = true;
            return run;
        }
    }
}

/// One key's visit: pops its due fields; returns how many.
fn expire_fields_of(db: &mut Db, key: &[u8], now: i64) -> usize {
    let Some(e) = db.table.get_mut(key) else {
        db.hfe.untrack(key);
        return 0;
    };
    let key_expire = e.expire();
    if key_expire != 0 && key_expire <= now {
        // The key's own expiry deletes it whole: the key cycle's job.
        return 0;
    }
    let due = match e.value().stored() {
        Some(Value::Hash(h)) => match h.next_field_expiry() {
            Some(w) => w <= now,
            None => {
                db.hfe.untrack(key);
                return 0;
            }
        },
        _ => {
            db.hfe.untrack(key);
            return 0;
        }
    };
    if !due {
        return 0;
    }
    db.snap.before_write(e);
    let Value::Hash(h) = e.value_mut() else {
        return 0;
    };
    let fields = h.remove_due_fields(now, FIELDS_PER_VISIT);
    let volatile = h.has_volatile_fields();
    let emptied = h.is_empty();
    let n = fields.len();
    if !volatile {
        db.hfe.untrack(key);
    }
    if emptied {
        db.delete(key, now, super::Free::Sync);
    }
    db.expired_fields += n as u64;
    if let Some(log) = &mut db.hfe.log {
        log.push(ExpiredFields {
            key: Bytes::copy_from_slice(key),
            fields,
            emptied,
        });
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::hash::{Hash, Limits, Ttl};

    const LIM: Limits = Limits {
        max_entries: 128,
        max_value: 64,
    };

    #[test]
    fn field_ttl_orders_and_pops() {
        let mut t = FieldTtl::default();
        t.set(b"a", 30);
        t.set(b"b", 10);
        t.set(b"c", 20);
        t.set(b"a", 5);
        assert_eq!(t.next(), Some(5));
        assert_eq!(t.get(b"c"), Some(20));
        assert_eq!(t.remove(b"c"), Some(20));
        assert_eq!(t.remove(b"c"), None);
        let due = t.pop_due(10, 10);
        assert_eq!(due, vec![Box::from(&b"a"[..]), Box::from(&b"b"[..])]);
        assert!(t.is_empty());
        t.set(b"x", 7);
        t.set(b"y", 3);
        t.set(b"z", 9);
        assert_eq!(t.last(), Some(9));
        // Nothing due at 2; one at 3, the next (7) stays.
        assert!(t.pop_due(2, 10).is_empty());
        assert_eq!(t.pop_due(3, 10), vec![Box::from(&b"y"[..])]);
        assert_eq!((t.len(), t.next(), t.get(b"x")), (2, Some(7), Some(7)));
        let all = t.take_all();
        assert_eq!(all, vec![Box::from(&b"x"[..]), Box::from(&b"z"[..])]);
        assert!(t.is_empty() && t.next().is_none() && t.get(b"x").is_none());
    }

    #[test]
    fn small_and_large_forms_behave_alike() {
        // Random sets, removals and pops against a model, on hashes that
        // cross SMALL_MAX both ways; ties in time are common.
        let mut rng = crate::util::rng::Rng::new(7);
        for round in 0..200 {
            let mut t = FieldTtl::default();
            let mut model: std::collections::BTreeMap<Vec<u8>, i64> = Default::default();
            let fields = 4 + round % 40;
            for _ in 0..300 {
                let f = format!("f{}", rng.next_u64() % fields as u64).into_bytes();
                match rng.next_u64() % 10 {
                    0..=5 => {
                        let w = (rng.next_u64() % 20) as i64;
                        t.set(&f, w);
                        model.insert(f, w);
                    }
                    6 | 7 => assert_eq!(t.remove(&f), model.remove(&f)),
                    8 => {
                        let now = (rng.next_u64() % 20) as i64;
                        let max = (rng.next_u64() % 5) as usize;
                        let mut due: Vec<(i64, Vec<u8>)> = model
                            .iter()
                            .filter(|(_, w)| **w <= now)
                            .map(|(f, w)| (*w, f.clone()))
                            .collect();
                        due.sort();
                        due.truncate(max);
                        for (_, f) in &due {
                            model.remove(f);
                        }
                        let want: Vec<Box<[u8]>> = due.into_iter().map(|(_, f)| f.into()).collect();
                        assert_eq!(t.pop_due(now, max), want);
                    }
                    _ => {
                        assert_eq!(t.get(&f), model.get(&f).copied());
                    }
                }
                assert_eq!(t.len(), model.len());
                assert_eq!(t.next(), model.values().copied().min());
                assert_eq!(t.last(), model.values().copied().max());
                let mut seen: Vec<(Vec<u8>, i64)> =
                    t.iter().map(|(f, w)| (f.to_vec(), w)).collect();
                seen.sort();
                let want: Vec<(Vec<u8>, i64)> =
                    model.iter().map(|(f, w)| (f.clone(), *w)).collect();
                assert_eq!(seen, want);
            }
            let mut all: Vec<(i64, Vec<u8>)> = model.iter().map(|(f, w)| (*w, f.clone())).collect();
            all.sort();
            let want: Vec<Box<[u8]>> = all.into_iter().map(|(_, f)| f.into()).collect();
            let copy = t.clone();
            assert_eq!(copy, t);
            assert_eq!(t.take_all(), want);
            assert!(t.is_empty() && t.next().is_none());
        }
    }

    #[test]
    fn cycle_removes_due_fields_and_empty_hashes() {
        let mut db = Db::new(0);
        db.hfe.set_logging(true);
        for i in 0..50 {
            let mut h = Hash::new();
            h.put(b"keep", b"v", LIM, 0, Ttl::Clear);
            h.put(b"gone", b"v", LIM, 0, Ttl::At(100));
            h.put(b"later", b"v", LIM, 0, Ttl::At(1_000_000));
            db.add(format!("h{i}").as_bytes(), Value::Hash(h), 0);
            let mut only = Hash::new();
            only.put(b"x", b"v", LIM, 0, Ttl::At(100));
            db.add(format!("o{i}").as_bytes(), Value::Hash(only), 0);
        }
        assert_eq!(db.hfe.len(), 100);
        let mut n = 0;
        for _ in 0..100 {
            n += active_field_cycle(&mut db, 200, Duration::from_secs(5)).removed;
        }
        assert_eq!(n, 100);
        assert_eq!(db.len(), 50);
        assert_eq!(db.expired_fields, 100);
        assert_eq!(db.hfe.len(), 50);
        let log = db.hfe.take_log();
        assert_eq!(log.len(), 100);
        assert_eq!(log.iter().filter(|l| l.emptied).count(), 50);
        // Nothing more due.
        let idle = active_field_cycle(&mut db, 200, Duration::from_secs(5));
        assert_eq!(idle, CycleRun::default());
    }

    #[test]
    fn cycle_stops_at_its_budget_and_resumes() {
        let mut db = Db::new(0);
        let mut h = Hash::new();
        for i in 0..5000 {
            h.put(format!("f{i}").as_bytes(), b"v", LIM, 0, Ttl::At(100));
        }
        db.add(b"big", Value::Hash(h), 0);
        // A zero budget still makes progress: one visit.
        let first = active_field_cycle(&mut db, 200, Duration::ZERO);
        assert_eq!(
            first,
            CycleRun {
                removed: FIELDS_PER_VISIT,
                more: true
            }
        );
        let mut total = first.removed;
        while db.len() == 1 {
            total += active_field_cycle(&mut db, 200, Duration::from_millis(1)).removed;
        }
        assert_eq!(total, 5000);
        assert!(db.hfe.is_empty());
        // Nothing is left behind once it is gone.
        let after = active_field_cycle(&mut db, 200, Duration::from_millis(1));
        assert_eq!(after, CycleRun::default());
    }

    #[test]
    fn few_due_fields_leave_nothing_behind() {
        // 5 hashes of 100 have a field due: a sample mostly without
        // anything due ends the run, not the budget.
        let mut db = Db::new(0);
        for i in 0..100 {
            let mut h = Hash::new();
            let at = if i % 20 == 0 { 100 } else { 1_000_000 };
            h.put(b"f", b"v", LIM, 0, Ttl::At(at));
            h.put(b"g", b"v", LIM, 0, Ttl::Clear);
            db.add(format!("h{i}").as_bytes(), Value::Hash(h), 0);
        }
        let mut removed = 0;
        for _ in 0..10 {
            let run = active_field_cycle(&mut db, 200, Duration::from_secs(5));
            assert!(!run.more, "{run:?}");
            removed += run.removed;
        }
        assert_eq!(removed, 5);
        assert_eq!(db.len(), 100);
    }

    #[test]
    fn a_hash_whose_fields_are_all_due_goes_whole() {
        let mut db = Db::new(0);
        db.hfe.set_logging(true);
        let mut all = Hash::new();
        let mut later = Hash::new();
        for f in ["c", "a", "b"] {
            all.put(f.as_bytes(), b"v", LIM, 0, Ttl::At(100));
            let at = if f == "c" { 1_000_000 } else { 100 };
            later.put(f.as_bytes(), b"v", LIM, 0, Ttl::At(at));
        }
        db.add(b"all", Value::Hash(all), 0);
        db.add(b"later", Value::Hash(later), 0);
        let run = active_field_cycle(&mut db, 200, Duration::from_secs(5));
        assert_eq!(run.removed, 5);
        assert_eq!(db.len(), 1);
        assert_eq!(db.expired_fields, 5);
        let left = db
            .table
            .get(&b"later"[..])
            .map(|e| match e.value().stored() {
                Some(Value::Hash(h)) => (h.len(), h.get(b"c").is_some(), h.next_field_expiry()),
                _ => (0, false, None),
            });
        assert_eq!(left, Some((1, true, Some(1_000_000))));
        let mut log = db.hfe.take_log();
        log.sort_by(|x, y| x.key.cmp(&y.key));
        let fields = |x: &ExpiredFields| x.fields.iter().map(|f| f.to_vec()).collect::<Vec<_>>();
        assert_eq!((&log[0].key[..], log[0].emptied), (&b"all"[..], true));
        assert_eq!(
            fields(&log[0]),
            [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
        assert_eq!((&log[1].key[..], log[1].emptied), (&b"later"[..], false));
        assert_eq!(fields(&log[1]), [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(db.hfe.len(), 1);
    }
}
