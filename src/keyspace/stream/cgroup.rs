//! A stream's consumer groups, as Valkey keeps them: the groups by name,
//! each with its last delivered id, its read counter (`entries_read`), its
//! pending entries list (PEL: every delivered, unacknowledged id with its
//! delivery time, delivery count and owner) and its consumers (each with
//! its seen time, active time and its own part of the PEL).
//!
//! Ordering follows Valkey's radix trees: groups and consumers by name as
//! bytes (memcmp, shorter first on a common prefix), the PELs by id. So
//! XINFO GROUPS, XINFO CONSUMERS and XPENDING list in Valkey's order.
//!
//! A pending entry names its owner by a small index into the group's
//! consumer slots rather than by name: reassigning an entry (XCLAIM, a
//! re-delivery after XGROUP SETID) then costs no name copy.
//!
//! The lag arithmetic (`StreamMeta`, `estimate_distance`, `lag`) is
//! Valkey's streamEstimateDistanceFromFirstEverEntry and
//! streamRangeHasTombstones: the read counter is exact only where no
//! deleted entry (tombstone) lies ahead of the group.

use std::collections::{BTreeMap, BTreeSet};

use super::StreamId;

/// `entries_read` when the group's read counter is not known (Valkey's
/// SCG_INVALID_ENTRIES_READ).
pub const INVALID_ENTRIES_READ: i64 = -1;

/// What the lag arithmetic needs to know of the stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamMeta {
    /// Entries in the stream now.
    pub length: u64,
    /// The last id ever added (or set with XSETID).
    pub last_id: StreamId,
    /// The first entry's id, as recorded (0-0 when empty).
    pub first_id: StreamId,
    /// The greatest id ever deleted (0-0: none).
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
}

impl StreamMeta {
    /// The counters of `s`.
    pub fn of(s: &super::Stream) -> StreamMeta {
        StreamMeta {
            length: s.length,
            last_id: s.last_id,
            first_id: s.first_id,
            max_deleted_id: s.max_deleted_entry_id,
            entries_added: s.entries_added,
        }
    }

    /// True when a deleted entry lies within `start..=end` (None: the
    /// open ends), so a read counter cannot be carried across it.
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        // (Valkey 9.1 counts a tombstone trimmed away before the first
        // entry too.)
        if self.length == 0 || self.max_deleted_id == StreamId::MIN {
            return false;
        }
        let start = start.unwrap_or(StreamId::MIN);
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// The logical read counter of `id`: how many entries were added up to
    /// it, when that can be known; `INVALID_ENTRIES_READ` otherwise.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return added;
        }
        // Before the last tombstone: the count is unknown.
        if id != StreamId::MIN && id < self.max_deleted_id {
            return INVALID_ENTRIES_READ;
        }
        if id == self.last_id {
            return added;
        }
        if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        let no_fragmentation =
            self.max_deleted_id == StreamId::MIN || self.max_deleted_id < self.first_id;
        if no_fragmentation {
            if id < self.first_id {
                return added - self.length as i64;
            }
            if id == self.first_id {
                return added - self.length as i64 + 1;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag: entries added that it has not been delivered yet;
    /// None when it cannot be known (XINFO shows a null).
    pub fn lag(&self, group: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        let added = self.entries_added as i64;
        if group.entries_read != INVALID_ENTRIES_READ
            && !self.range_has_tombstones(Some(group.last_id), None)
        {
            return Some(added - group.entries_read);
        }
        match self.estimate_distance(group.last_id) {
            INVALID_ENTRIES_READ => None,
            read => Some(added - read),
        }
    }
}

/// One pending entry: delivered, not acknowledged yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nack {
    /// When it was last delivered, Unix ms.
    pub delivery_time: i64,
    /// How many times it was delivered.
    pub delivery_count: u64,
    /// Its owner: a slot of the group's `consumers`.
    pub consumer: u32,
}

/// A consumer of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    pub name: Box<[u8]>,
    /// Last time it was seen by any command naming it, Unix ms.
    pub seen_time: i64,
    /// Last time it was delivered or claimed something; -1: never.
    pub active_time: i64,
    /// Its pending entries (their details are in the group's PEL).
    pub pel: BTreeSet<StreamId>,
}

/// How XCLAIM sets a claimed entry's delivery count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Set to this (RETRYCOUNT).
    Set(u64),
    /// One more delivery.
    Increment,
    /// Left as it is (JUSTID).
    Keep,
}

/// A consumer group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub last_id: StreamId,
    /// Entries read up to `last_id`, or `INVALID_ENTRIES_READ`.
    pub entries_read: i64,
    pel: BTreeMap<StreamId, Nack>,
    /// Consumer slots; a deleted consumer leaves a hole reused later.
    slots: Vec<Option<Consumer>>,
    free: Vec<u32>,
    by_name: BTreeMap<Box<[u8]>, u32>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            ..Group::default()
        }
    }

    // ---- consumers ----

    /// The slot of the consumer `name`.
    #[inline]
    pub fn consumer_slot(&self, name: &[u8]) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// The consumer in `slot` (a slot from this group).
    pub fn consumer(&self, slot: u32) -> Option<&Consumer> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    pub fn consumer_mut(&mut self, slot: u32) -> Option<&mut Consumer> {
        self.slots.get_mut(slot as usize).and_then(Option::as_mut)
    }

    /// The consumer named `name`.
    pub fn consumer_named(&self, name: &[u8]) -> Option<&Consumer> {
        self.consumer(self.consumer_slot(name)?)
    }

    /// Creates the consumer `name` (seen now, never active) unless it
    /// exists; returns its slot and whether it was created.
    pub fn create_consumer(&mut self, name: &[u8], now: i64) -> (u32, bool) {
        if let Some(slot) = self.consumer_slot(name) {
            return (slot, false);
        }
        let c = Consumer {
            name: name.into(),
            seen_time: now,
            active_time: -1,
            pel: BTreeSet::new(),
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(c);
                s
            }
            None => {
                self.slots.push(Some(c));
                (self.slots.len() - 1) as u32
            }
        };
        self.by_name.insert(name.into(), slot);
        (slot, true)
    }

    /// Deletes the consumer `name` with its pending entries; returns how
    /// many it had, or None when there is no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let slot = self.by_name.remove(name)?;
        let c = self.slots.get_mut(slot as usize)?.take()?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        self.free.push(slot);
        Some(c.pel.len())
    }

    /// How many consumers the group has.
    pub fn consumer_count(&self) -> usize {
        self.by_name.len()
    }

    /// The consumers in name order.
    pub fn consumers(&self) -> impl Iterator<Item = &Consumer> + '_ {
        self.by_name
            .values()
            .filter_map(|&s| self.slots.get(s as usize).and_then(Option::as_ref))
    }

    // ---- the pending entries list ----

    pub fn pel_len(&self) -> usize {
        self.pel.len()
    }

    pub fn pending(&self, id: StreamId) -> Option<&Nack> {
        self.pel.get(&id)
    }

    /// The group's pending entries from `start` on, in id order.
    pub fn pel_from(&self, start: StreamId) -> impl Iterator<Item = (&StreamId, &Nack)> + '_ {
        self.pel.range(start..)
    }

    pub fn pel_first(&self) -> Option<StreamId> {
        self.pel.keys().next().copied()
    }

    pub fn pel_last(&self) -> Option<StreamId> {
        self.pel.keys().next_back().copied()
    }

    /// The name of the owner of a pending entry.
    pub fn owner_name(&self, nack: &Nack) -> &[u8] {
        self.consumer(nack.consumer)
            .map_or(&[][..], |c| &c.name[..])
    }

    /// Records a delivery of `id` to `consumer` through `>` (or a read
    /// past the group's last id): a new pending entry, or one that was
    /// pending already (after XGROUP SETID) reassigned with its count
    /// reset to 1. The consumer becomes active.
    pub fn deliver(&mut self, id: StreamId, consumer: u32, now: i64) -> Nack {
        let nack = Nack {
            delivery_time: now,
            delivery_count: 1,
            consumer,
        };
        if let Some(old) = self.pel.insert(id, nack) {
            if let Some(c) = self.consumer_mut(old.consumer) {
                c.pel.remove(&id);
            }
        }
        if let Some(c) = self.consumer_mut(consumer) {
            c.pel.insert(id);
            c.active_time = now;
        }
        nack
    }

    /// A pending entry delivered again from its owner's history: its
    /// delivery time becomes now and its count grows.
    pub fn redeliver(&mut self, id: StreamId, now: i64) {
        if let Some(n) = self.pel.get_mut(&id) {
            n.delivery_time = now;
            n.delivery_count += 1;
        }
    }

    /// Acknowledges `id`: true when it was pending.
    #[inline]
    pub fn ack(&mut self, id: StreamId) -> bool {
        self.remove_pending(id).is_some()
    }

    /// Takes `id` out of the PEL and its owner's (an acknowledgement, or
    /// an entry no longer in the stream).
    pub fn remove_pending(&mut self, id: StreamId) -> Option<Nack> {
        let nack = self.pel.remove(&id)?;
        if let Some(c) = self.consumer_mut(nack.consumer) {
            c.pel.remove(&id);
        }
        Some(nack)
    }

    /// XCLAIM/XAUTOCLAIM of pending `id` by `consumer`: owner, delivery
    /// time and count as given, the consumer active now. With `force`, an
    /// id not pending becomes pending (XCLAIM FORCE); otherwise it is
    /// left alone. `min_idle` (ms, 0: any) skips entries delivered more
    /// recently, except a forced new one. Returns the entry as claimed.
    #[allow(clippy::too_many_arguments)]
    pub fn claim(
        &mut self,
        id: StreamId,
        consumer: u32,
        min_idle: i64,
        delivery_time: i64,
        retry: Retry,
        force: bool,
        now: i64,
    ) -> Option<Nack> {
        let (old_owner, prev_count) = match self.pel.get(&id) {
            Some(n) => {
                if min_idle > 0 && now - n.delivery_time < min_idle {
                    return None;
                }
                (Some(n.consumer), n.delivery_count)
            }
            // A forced entry starts as a fresh delivery (count 1), with
            // no owner, so no idle check applies.
            None if force => (None, 1),
            None => return None,
        };
        let delivery_count = match retry {
            Retry::Set(n) => n,
            Retry::Increment => prev_count + 1,
            Retry::Keep => prev_count,
        };
        let nack = Nack {
            delivery_time,
            delivery_count,
            consumer,
        };
        self.pel.insert(id, nack);
        if let Some(old) = old_owner.filter(|&o| o != consumer) {
            if let Some(c) = self.consumer_mut(old) {
                c.pel.remove(&id);
            }
        }
        if let Some(c) = self.consumer_mut(consumer) {
            c.pel.insert(id);
            c.active_time = now;
        }
        Some(nack)
    }

    /// Moves the group's last delivered id to `id`, an entry just
    /// delivered past it, keeping `entries_read` as Valkey 9.1 does:
    /// counted on while the group is within the stream and no tombstone
    /// lies after its last id, re-estimated otherwise.
    pub fn advance(&mut self, id: StreamId, meta: &StreamMeta) {
        if self.entries_read != INVALID_ENTRIES_READ
            && self.last_id >= meta.first_id
            && !meta.range_has_tombstones(Some(self.last_id), None)
        {
            self.entries_read += 1;
        } else if meta.entries_added != 0 {
            self.entries_read = meta.estimate_distance(id);
        }
        self.last_id = id;
    }

    /// Adds a pending entry as loaded from a file: the owner is given
    /// later (`attach`). Returns false if `id` was there already.
    pub fn load_pending(&mut self, id: StreamId, delivery_time: i64, delivery_count: u64) -> bool {
        if self.pel.contains_key(&id) {
            return false;
        }
        self.pel.insert(
            id,
            Nack {
                delivery_time,
                delivery_count,
                consumer: u32::MAX,
            },
        );
        true
    }

    /// Gives a loaded pending entry to its consumer; false if the group
    /// has no such pending entry or it has an owner already (a corrupt
    /// file).
    pub fn attach(&mut self, id: StreamId, consumer: u32) -> bool {
        match self.pel.get_mut(&id) {
            Some(n) if n.consumer == u32::MAX => n.consumer = consumer,
            _ => return false,
        }
        match self.consumer_mut(consumer) {
            Some(c) => c.pel.insert(id),
            None => false,
        }
    }

    /// True when every pending entry has an owner (a loaded group is
    /// whole).
    pub fn all_owned(&self) -> bool {
        self.pel
            .values()
            .all(|n| self.consumer(n.consumer).is_some())
    }

    /// Heap bytes of the group beyond its `Group` (MEMORY USAGE): the PEL,
    /// the consumer table and name index, and the consumers, the first
    /// `samples` (by name) averaged over all as Valkey samples them. A
    /// pending entry is counted once, in the group's PEL; the consumers'
    /// own PELs hold only its id.
    pub fn memory_usage(&self, samples: usize) -> usize {
        let name_key = std::mem::size_of::<Box<[u8]>>() + std::mem::size_of::<u32>();
        let mut n = btree_bytes(
            self.pel.len(),
            std::mem::size_of::<StreamId>() + std::mem::size_of::<Nack>(),
        );
        n += self.slots.capacity() * std::mem::size_of::<Option<Consumer>>();
        n += self.free.capacity() * std::mem::size_of::<u32>();
        n += btree_bytes(self.by_name.len(), name_key);
        let (mut sum, mut taken) = (0, 0);
        for c in self.consumers().take(samples) {
            // The name twice: in the consumer and in the name index.
            sum += 2 * c.name.len() + btree_bytes(c.pel.len(), std::mem::size_of::<StreamId>());
            taken += 1;
        }
        n += (sum * self.consumer_count())
            .checked_div(taken)
            .unwrap_or(0);
        n
    }
}

/// Estimated heap bytes of a std B-tree of `len` entries of `entry` bytes:
/// nodes hold up to 11 entries, and entries added in order (as ids are
/// delivered) leave about 7 per leaf, since a full leaf splits 6 | 5; an
/// internal node, one per 7 children, is a leaf plus 12 child pointers.
fn btree_bytes(len: usize, entry: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let leaf = 16 + 11 * entry;
    let leaves = len.div_ceil(7);
    let internal = if leaves > 1 { leaves.div_ceil(6) } else { 0 };
    leaves * leaf + internal * (leaf + 12 * std::mem::size_of::<usize>())
}

/// A stream's groups, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Groups {
    map: BTreeMap<Box<[u8]>, Group>,
}

impl Groups {
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    #[inline]
    pub fn get(&self, name: &[u8]) -> Option<&Group> {
        self.map.get(name)
    }

    #[inline]
    pub fn get_mut(&mut self, name: &[u8]) -> Option<&mut Group> {
        self.map.get_mut(name)
    }

    /// Creates group `name`; false (and nothing changes) if it exists.
    pub fn create(&mut self, name: &[u8], last_id: StreamId, entries_read: i64) -> bool {
        if self.map.contains_key(name) {
            return false;
        }
        self.map
            .insert(name.into(), Group::new(last_id, entries_read));
        true
    }

    /// Inserts a whole group (loading); false if the name is taken.
    pub fn insert(&mut self, name: &[u8], g: Group) -> bool {
        if self.map.contains_key(name) {
            return false;
        }
        self.map.insert(name.into(), g);
        true
    }

    pub fn destroy(&mut self, name: &[u8]) -> bool {
        self.map.remove(name).is_some()
    }

    /// The groups in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Group)> + '_ {
        self.map.iter().map(|(k, g)| (&k[..], g))
    }

    /// Heap bytes of the groups (MEMORY USAGE): the name index and, as
    /// Valkey samples them, the first `samples` groups (by name) averaged
    /// over all, each with its name (`Group::memory_usage`).
    pub fn memory_usage(&self, samples: usize) -> usize {
        let entry = std::mem::size_of::<Box<[u8]>>() + std::mem::size_of::<Group>();
        let mut n = btree_bytes(self.map.len(), entry);
        let (mut sum, mut taken) = (0, 0);
        for (name, g) in self.map.iter().take(samples) {
            sum += name.len() + g.memory_usage(samples);
            taken += 1;
        }
        n += (sum * self.map.len()).checked_div(taken).unwrap_or(0);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    fn meta(length: u64, first: u64, last: u64, maxdel: u64, added: u64) -> StreamMeta {
        StreamMeta {
            length,
            first_id: if length == 0 { id(0, 0) } else { id(first, 0) },
            last_id: id(last, 0),
            max_deleted_id: id(maxdel, 0),
            entries_added: added,
        }
    }

    #[test]
    fn groups_and_consumers_in_byte_order() {
        let mut gs = Groups::default();
        for n in [&b"b"[..], b"a", b"ab", b"B"] {
            assert!(gs.create(n, id(0, 0), INVALID_ENTRIES_READ));
        }
        assert!(!gs.create(b"a", id(1, 0), 0));
        let names: Vec<&[u8]> = gs.iter().map(|(n, _)| n).collect();
        assert_eq!(names, [&b"B"[..], b"a", b"ab", b"b"]);
        assert_eq!(gs.get(b"a").unwrap().last_id, id(0, 0));
        let g = gs.get_mut(b"a").unwrap();
        assert_eq!(g.create_consumer(b"zed", 5), (0, true));
        assert_eq!(g.create_consumer(b"al", 6), (1, true));
        assert_eq!(g.create_consumer(b"zed", 7), (0, false));
        let c: Vec<&[u8]> = g.consumers().map(|c| &c.name[..]).collect();
        assert_eq!(c, [&b"al"[..], b"zed"]);
        assert_eq!(g.consumer_named(b"zed").unwrap().seen_time, 5);
        assert_eq!(g.consumer_named(b"zed").unwrap().active_time, -1);
        assert!(gs.destroy(b"a"));
        assert!(!gs.destroy(b"a"));
        assert_eq!(gs.len(), 3);
    }

    #[test]
    fn deliver_ack_and_reassign() {
        let mut g = Group::new(id(0, 0), 0);
        let (a, _) = g.create_consumer(b"a", 1);
        let (b, _) = g.create_consumer(b"b", 1);
        g.deliver(id(1, 0), a, 10);
        g.deliver(id(2, 0), a, 10);
        assert_eq!(g.pel_len(), 2);
        assert_eq!(g.consumer(a).unwrap().pel.len(), 2);
        assert_eq!(g.consumer(a).unwrap().active_time, 10);
        // Delivered again after SETID, to someone else: moved, count 1.
        g.redeliver(id(1, 0), 11);
        assert_eq!(g.pending(id(1, 0)).unwrap().delivery_count, 2);
        g.deliver(id(1, 0), b, 12);
        let n = *g.pending(id(1, 0)).unwrap();
        assert_eq!((n.consumer, n.delivery_count, n.delivery_time), (b, 1, 12));
        assert_eq!(g.owner_name(&n), b"b");
        assert!(!g.consumer(a).unwrap().pel.contains(&id(1, 0)));
        assert!(g.ack(id(1, 0)));
        assert!(!g.ack(id(1, 0)));
        assert!(g.consumer(b).unwrap().pel.is_empty());
        assert_eq!(
            (g.pel_first(), g.pel_last()),
            (Some(id(2, 0)), Some(id(2, 0)))
        );
        // Deleting a consumer drops its entries; its slot is reused.
        assert_eq!(g.delete_consumer(b"a"), Some(1));
        assert_eq!(g.delete_consumer(b"a"), None);
        assert_eq!(g.pel_len(), 0);
        assert_eq!(g.create_consumer(b"c", 3), (a, true));
        assert_eq!(g.consumer_count(), 2);
    }

    #[test]
    fn claim_rules() {
        let mut g = Group::new(id(0, 0), 0);
        let (a, _) = g.create_consumer(b"a", 1);
        let (b, _) = g.create_consumer(b"b", 1);
        g.deliver(id(1, 0), a, 100);
        // Not idle long enough.
        assert_eq!(
            g.claim(id(1, 0), b, 50, 120, Retry::Increment, false, 120),
            None
        );
        let n = g
            .claim(id(1, 0), b, 10, 120, Retry::Increment, false, 120)
            .unwrap();
        assert_eq!((n.consumer, n.delivery_count), (b, 2));
        assert!(g.consumer(a).unwrap().pel.is_empty());
        assert!(g.consumer(b).unwrap().pel.contains(&id(1, 0)));
        assert_eq!(g.consumer(b).unwrap().active_time, 120);
        let n = g
            .claim(id(1, 0), b, 0, 90, Retry::Keep, false, 130)
            .unwrap();
        assert_eq!((n.delivery_count, n.delivery_time), (2, 90));
        let n = g
            .claim(id(1, 0), a, 0, 90, Retry::Set(7), false, 130)
            .unwrap();
        assert_eq!((n.consumer, n.delivery_count), (a, 7));
        // Not pending: only FORCE creates it, ignoring the idle time.
        assert_eq!(g.claim(id(2, 0), a, 0, 1, Retry::Keep, false, 130), None);
        let n = g
            .claim(id(2, 0), a, 1000, 130, Retry::Keep, true, 130)
            .unwrap();
        assert_eq!(n.delivery_count, 1);
        let n = g
            .claim(id(3, 0), a, 0, 130, Retry::Increment, true, 130)
            .unwrap();
        assert_eq!(n.delivery_count, 2);
        assert_eq!(g.consumer(a).unwrap().pel.len(), 3);
    }

    #[test]
    fn loading_attaches_owners() {
        let mut g = Group::new(id(5, 0), 5);
        assert!(g.load_pending(id(1, 0), 10, 2));
        assert!(!g.load_pending(id(1, 0), 10, 2));
        assert!(!g.all_owned());
        let (a, _) = g.create_consumer(b"a", 1);
        assert!(g.attach(id(1, 0), a));
        assert!(!g.attach(id(1, 0), a));
        assert!(!g.attach(id(2, 0), a));
        assert!(g.all_owned());
    }

    #[test]
    fn tombstones_in_range() {
        // 5 entries 1..5, 3 deleted.
        let m = meta(4, 1, 5, 3, 5);
        assert!(m.range_has_tombstones(None, None));
        assert!(m.range_has_tombstones(Some(id(3, 0)), None));
        assert!(!m.range_has_tombstones(Some(id(4, 0)), None));
        assert!(!m.range_has_tombstones(None, Some(id(2, 0))));
        // A tombstone trimmed away before the first entry still counts.
        assert!(meta(2, 4, 5, 3, 5).range_has_tombstones(None, None));
        assert!(!meta(0, 0, 5, 3, 5).range_has_tombstones(None, None));
        assert!(!meta(5, 1, 5, 0, 5).range_has_tombstones(None, None));
    }

    #[test]
    fn distance_estimates() {
        assert_eq!(meta(0, 0, 0, 0, 0).estimate_distance(id(9, 0)), 0);
        // Emptied stream: anything up to the last id has read everything.
        assert_eq!(meta(0, 0, 5, 5, 5).estimate_distance(id(3, 0)), 5);
        assert_eq!(meta(0, 0, 5, 5, 5).estimate_distance(id(6, 0)), -1);
        let m = meta(5, 1, 5, 0, 5);
        assert_eq!(m.estimate_distance(id(5, 0)), 5);
        assert_eq!(m.estimate_distance(id(6, 0)), -1);
        assert_eq!(m.estimate_distance(id(0, 0)), 0);
        assert_eq!(m.estimate_distance(id(1, 0)), 1);
        assert_eq!(m.estimate_distance(id(2, 0)), -1);
        // Trimmed to 3..5 of 5 added.
        let m = meta(3, 3, 5, 0, 5);
        assert_eq!(m.estimate_distance(id(2, 0)), 2);
        assert_eq!(m.estimate_distance(id(3, 0)), 3);
        // A tombstone after the first entry: only the last id is known.
        let m = meta(4, 1, 5, 3, 5);
        assert_eq!(m.estimate_distance(id(0, 0)), -1);
        assert_eq!(m.estimate_distance(id(5, 0)), 5);
        // Trimmed past a tombstone: ids before it are unknown, 0-0 is not.
        let m = meta(1, 5, 5, 4, 5);
        assert_eq!(m.estimate_distance(id(2, 0)), -1);
        assert_eq!(m.estimate_distance(id(0, 0)), 4);
    }

    /// Valkey's "Consumer group lag with XDELs" test, step by step.
    #[test]
    fn lag_with_xdel_as_valkey() {
        let m = meta(4, 1, 5, 3, 5);
        let mut g = Group::new(id(0, 0), INVALID_ENTRIES_READ);
        assert_eq!(m.lag(&g), None);
        for (read, want_read, want_lag) in [(1, -1, None), (2, -1, None), (4, -1, None)] {
            g.advance(id(read, 0), &m);
            assert_eq!((g.entries_read, m.lag(&g)), (want_read, want_lag));
        }
        g.advance(id(5, 0), &m);
        assert_eq!((g.entries_read, m.lag(&g)), (5, Some(0)));
        let m = meta(5, 1, 6, 3, 6);
        assert_eq!(m.lag(&g), Some(1));
        // XTRIM MINID 3: entries 4..6; g2 never read.
        let m = meta(3, 4, 6, 3, 6);
        assert_eq!(m.lag(&g), Some(1));
        let g2 = Group::new(id(0, 0), INVALID_ENTRIES_READ);
        assert_eq!(m.lag(&g2), Some(3));
        let m = meta(2, 5, 6, 3, 6);
        assert_eq!(m.lag(&g2), Some(2));
    }

    /// Cases where Valkey 9.1 differs from later code, checked on the
    /// real server: a tombstone between the group and the entry read,
    /// a group behind a trimmed tombstone, a group below the first entry.
    #[test]
    fn lag_edge_cases_as_valkey_9_1() {
        // 1..5, read 2, XDEL 3, read 4: unknown.
        let m = meta(4, 1, 5, 3, 5);
        let mut g = Group::new(id(2, 0), 2);
        g.advance(id(4, 0), &m);
        assert_eq!((g.entries_read, m.lag(&g)), (-1, None));
        // 1..5, XDEL 4, XTRIM MINID 5; a group at 2-0: unknown lag.
        let m = meta(1, 5, 5, 4, 5);
        assert_eq!(m.lag(&Group::new(id(2, 0), -1)), None);
        // 1..5, XDEL 1 (first is 2); ENTRIESREAD 0 at 0-0: lag 4.
        let m = meta(4, 2, 5, 1, 5);
        assert_eq!(m.lag(&Group::new(id(0, 0), 0)), Some(4));
        // A counter given for a group below the first entry is re-estimated.
        let m = meta(2, 1, 2, 0, 2);
        let mut g = Group::new(id(0, 0), 100);
        g.advance(id(1, 0), &m);
        assert_eq!(g.entries_read, 1);
        let mut g = Group::new(id(1, 0), 100);
        g.advance(id(2, 0), &m);
        assert_eq!(g.entries_read, 101);
    }

    #[test]
    fn lag_sanity_as_valkey() {
        let m = meta(5, 1, 5, 0, 5);
        let mut g = Group::new(id(0, 0), INVALID_ENTRIES_READ);
        assert_eq!(m.lag(&g), Some(5));
        g.advance(id(1, 0), &m);
        assert_eq!((g.entries_read, m.lag(&g)), (1, Some(4)));
        for i in 2..=5 {
            g.advance(id(i, 0), &m);
        }
        assert_eq!((g.entries_read, m.lag(&g)), (5, Some(0)));
        assert_eq!(meta(6, 1, 6, 0, 6).lag(&g), Some(1));
        // Empty stream, then one entry added and deleted.
        let g = Group::new(id(0, 0), INVALID_ENTRIES_READ);
        assert_eq!(meta(0, 0, 0, 0, 0).lag(&g), Some(0));
        assert_eq!(meta(0, 0, 1, 1, 1).lag(&g), Some(0));
    }
}
