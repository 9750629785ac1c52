//! The stream type: entries (an ID and field-value pairs) in ID order,
//! packed into listpack nodes laid out byte for byte as Valkey's (see
//! `node`), so a node is its own RDB/DUMP image.
//!
//! Valkey indexes the nodes with a radix tree keyed by each node's master
//! ID in 16-byte big-endian form. Here they sit in a `VecDeque` of
//! (master ID, node) in ID order: `StreamId`'s derived order (ms, then
//! seq) is exactly the order of those big-endian keys. The operations
//! streams use on the tree are "the node holding ID x" (last key <= x, a
//! binary search), ordered walks both ways, appending a node at the end
//! and dropping nodes at the front (trimming), all O(log n) or O(1) here;
//! only removing a node from the middle (XDEL emptying it) moves the
//! others. The deque grows by an eighth at a time, so the index costs
//! about 27 bytes per node (a B-tree map costs ~65, a radix tree more),
//! plus each node's own 40-byte box, which keeps memory per entry at or
//! below Valkey's.
//!
//! Nodes are shared (`Arc`) between copies of a stream, and a write copies
//! only the node it changes (`Arc::make_mut`): a snapshot that saves the
//! image of a stream written during the save (or the walk handing it to
//! the writer) copies node pointers, not the stream's bytes. Consumer
//! groups are shared the same way, as one piece: a group write during a
//! save copies them all.
//!
//! API for commands and consumer groups:
//! - `Stream::new`, `len`, and the public metadata fields (`last_id`,
//!   `first_id`, `max_deleted_entry_id`, `entries_added`) which XINFO and
//!   RDB report exactly as Valkey;
//! - `next_id` / `append` (XADD), `delete` (XDEL), `trim` (XTRIM and XADD's
//!   trimming), `range(start, end, rev)` (XRANGE, XREAD, XCLAIM...) yielding
//!   `EntryRef`s whose `fields()` gives the pairs, `lookup(id)`,
//!   `edge_id`, `range_has_tombstones` (consumer-group lag);
//! - `nodes()` and `insert_node` for persistence;
//! - `groups`: the consumer groups, owned by `cgroup` (None while the
//!   stream has none).

pub mod cgroup;
pub mod id;
pub mod listpack;
pub mod node;

use std::collections::VecDeque;
use std::sync::Arc;

pub use id::{ParsedId, StreamId};
pub use node::{EntryRef, Node};

use crate::keyspace::list::Elem;

/// Node size limits (`stream-node-max-bytes`, `stream-node-max-entries`;
/// 0 means no limit, and bytes are capped at 1 GiB as in Valkey).
#[derive(Clone, Copy, Debug)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: i64,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }
}

/// A node's own allocation: the `Arc`'s two counts and the `Node`.
const NODE_BOX: usize = 2 * std::mem::size_of::<usize>() + std::mem::size_of::<Node>();

/// Valkey's `STREAM_LISTPACK_MAX_SIZE`.
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;

/// How to trim (XADD's and XTRIM's MAXLEN/MINID options).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimStrategy {
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Clone, Copy, Debug)]
pub struct TrimArgs {
    pub strategy: TrimStrategy,
    /// `~`: only whole nodes go.
    pub approx: bool,
    /// Most entries removed (0: no limit).
    pub limit: i64,
}

/// Why XADD's ID cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddError {
    /// Not above the last ID (or the sequence would overflow).
    NotGreater,
    /// Fields and values over `LISTPACK_MAX_SIZE` bytes.
    TooLarge,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    /// Nodes by master ID, shared between copies of the stream (a
    /// snapshot's image): a write copies the one node it changes.
    nodes: VecDeque<(StreamId, Arc<Node>)>,
    /// Live entries.
    pub length: u64,
    /// The last ID ever added (or set by XSETID).
    pub last_id: StreamId,
    /// The first live entry's ID (0-0 when empty).
    pub first_id: StreamId,
    /// The largest ID ever deleted by XDEL (tombstone for lag).
    pub max_deleted_entry_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Consumer groups: the cgroup module's; None while there are none.
    /// Shared between copies as the nodes are; a write copies them whole
    /// (`Arc::make_mut`).
    pub groups: Option<Arc<cgroup::Groups>>,
}

impl Default for Stream {
    fn default() -> Self {
        Self::new()
    }
}

impl Stream {
    pub fn new() -> Self {
        Stream {
            nodes: VecDeque::new(),
            length: 0,
            last_id: StreamId::MIN,
            first_id: StreamId::MIN,
            max_deleted_entry_id: StreamId::MIN,
            entries_added: 0,
            groups: None,
        }
    }

    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Number of nodes (XINFO STREAM radix-tree-nodes is derived from it).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The ID XADD would use: `id` None for `*` (from `now_ms`), else
    /// the parsed argument (`<ms>-*` completes the sequence). Valkey's
    /// `streamAppendItem` ID rules.
    pub fn next_id(&self, id: Option<ParsedId>, now_ms: u64) -> Result<StreamId, AddError> {
        let id = match id {
            None => {
                if now_ms > self.last_id.ms {
                    StreamId::new(now_ms, 0)
                } else {
                    self.last_id.incr().ok_or(AddError::NotGreater)?
                }
            }
            Some(p) if p.seq_given => p.id,
            Some(p) => {
                if p.id.ms == self.last_id.ms {
                    if self.last_id.seq == u64::MAX {
                        return Err(AddError::NotGreater);
                    }
                    StreamId::new(p.id.ms, self.last_id.seq + 1)
                } else {
                    p.id
                }
            }
        };
        if id <= self.last_id {
            return Err(AddError::NotGreater);
        }
        Ok(id)
    }

    /// Appends an entry (`fv`: field, value, field, value...) with `id`,
    /// which `next_id` gave. Starts a new node when the last one is full.
    pub fn append(&mut self, id: StreamId, fv: &[&[u8]], lim: NodeLimits) -> Result<(), AddError> {
        let total: usize = fv.iter().map(|x| x.len()).sum();
        if total > LISTPACK_MAX_SIZE {
            return Err(AddError::TooLarge);
        }
        let max_bytes = if lim.max_bytes == 0 || lim.max_bytes > LISTPACK_MAX_SIZE {
            LISTPACK_MAX_SIZE
        } else {
            lim.max_bytes
        };
        let mut target = None;
        if let Some((master, node)) = self.nodes.back_mut() {
            let master = *master;
            let full = listpack::bytes(&node.lp) + total >= max_bytes
                || (lim.max_entries > 0 && node.total_entries() >= lim.max_entries);
            if full {
                // Valkey shrinks a node's listpack when it is done with it
                // (a shared node is left alone: its copies are exact).
                if let Some(node) = Arc::get_mut(node) {
                    node.lp.shrink_to_fit();
                }
            } else {
                target = Some(master);
            }
        }
        let master = match target {
            Some(m) => m,
            None => {
                let prealloc = if lim.max_bytes > 0 && lim.max_bytes < node::PREALLOC {
                    lim.max_bytes
                } else {
                    node::PREALLOC
                };
                if self.nodes.len() == self.nodes.capacity() {
                    // Grow by an eighth, not double (see the module header).
                    self.nodes.reserve_exact(self.nodes.len() / 8 + 4);
                }
                self.nodes
                    .push_back((id, Arc::new(Node::new(fv, prealloc))));
                id
            }
        };
        if let Some((_, node)) = self.nodes.back_mut() {
            Arc::make_mut(node).append(master, id, fv);
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(())
    }

    /// Entries with `start <= id <= end`, live only, ascending or (`rev`)
    /// descending.
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> Range<'_> {
        let done = start > end;
        let (lo, hi) = if done {
            (0, 0)
        } else if rev {
            (0, self.nodes.partition_point(|(k, _)| *k <= end))
        } else {
            (self.node_at_or_before(start).unwrap_or(0), self.nodes.len())
        };
        Range {
            nodes: &self.nodes,
            lo,
            hi,
            cur: None,
            start,
            end,
            rev,
            done,
        }
    }

    /// Index of the node that would hold `id` (the last master ID <= id).
    fn node_at_or_before(&self, id: StreamId) -> Option<usize> {
        self.nodes.partition_point(|(k, _)| *k <= id).checked_sub(1)
    }

    /// The live entry with this ID.
    pub fn lookup(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.range(id, id, false).next()
    }

    /// The first or last live entry's ID (Valkey's `streamGetEdgeID` with
    /// tombstones skipped); None when empty.
    pub fn edge_id(&self, last: bool) -> Option<StreamId> {
        self.range(StreamId::MIN, StreamId::MAX, last)
            .next()
            .map(|e| e.id)
    }

    /// The first entry's ID, deleted ones included (Valkey's
    /// `streamGetEdgeID` without skipping tombstones); None when empty.
    pub fn first_id_with_tombstones(&self) -> Option<StreamId> {
        let (master, node) = self.nodes.front()?;
        node.edge_id(*master, false)
    }

    /// Marks the live entry `id` deleted (its node goes when it was the
    /// last live one there). True if it existed. The caller updates
    /// `first_id` / `max_deleted_entry_id` as XDEL does (see `xdel`).
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some(idx) = self.node_at_or_before(id) else {
            return false;
        };
        let (master, node) = (self.nodes[idx].0, &self.nodes[idx].1);
        let m = node.master();
        let mut p = m.entries_at;
        let mut found = None;
        while p != node.end() {
            let e = node.entry_at(master, &m, p);
            if e.id > id {
                break;
            }
            if e.id == id {
                if !e.is_deleted() {
                    found = Some((p, e.flags));
                }
                break;
            }
            p = e.end;
        }
        let Some((at, flags)) = found else {
            return false;
        };
        let emptied = Arc::make_mut(&mut self.nodes[idx].1).mark_deleted(at, flags) == 0;
        if emptied {
            self.nodes.remove(idx);
        }
        self.length -= 1;
        true
    }

    /// XDEL: deletes each ID, keeping `first_id` and the tombstone mark as
    /// Valkey does. Returns how many were deleted.
    pub fn xdel(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        let mut first_gone = false;
        for &id in ids {
            if self.delete(id) {
                if id == self.first_id {
                    first_gone = true;
                }
                if id > self.max_deleted_entry_id {
                    self.max_deleted_entry_id = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::MIN;
            } else if first_gone {
                self.first_id = self.edge_id(false).unwrap_or(StreamId::MIN);
            }
        }
        deleted
    }

    /// Trims from the oldest end as Valkey's `streamTrim`: whole nodes
    /// first; then, unless approximate, entries of the first remaining
    /// node are flagged deleted. Returns how many entries went.
    pub fn trim(&mut self, args: TrimArgs) -> i64 {
        let mut deleted: i64 = 0;
        loop {
            if let TrimStrategy::MaxLen(max) = args.strategy {
                if self.length <= max {
                    break;
                }
            }
            let Some((master, node)) = self.nodes.front() else {
                break;
            };
            let master = *master;
            let (entries, _) = node.master_counts();
            if args.limit > 0 && deleted + entries > args.limit {
                break;
            }
            let remove_node = match args.strategy {
                TrimStrategy::MaxLen(max) => self.length.saturating_sub(entries as u64) >= max,
                TrimStrategy::MinId(min) => node.edge_id(master, true).is_some_and(|l| l < min),
            };
            if remove_node {
                self.nodes.pop_front();
                self.length -= entries as u64;
                deleted += entries;
                continue;
            }
            if args.approx {
                break;
            }
            // Flag entries of this node until the target is met.
            let mut to_delete = vec![];
            let mut length = self.length;
            {
                let m = node.master();
                let mut p = m.entries_at;
                while p != node.end() {
                    let e = node.entry_at(master, &m, p);
                    let stop = match args.strategy {
                        TrimStrategy::MaxLen(max) => length <= max,
                        TrimStrategy::MinId(min) => e.id >= min,
                    };
                    if stop {
                        break;
                    }
                    if !e.is_deleted() {
                        to_delete.push((p, e.flags));
                        length -= 1;
                    }
                    p = e.end;
                }
            }
            let n = to_delete.len() as i64;
            if let Some((_, node)) = self.nodes.front_mut() {
                let node = Arc::make_mut(node);
                // Flags keep their one-byte size: offsets stay valid.
                for &(at, flags) in &to_delete {
                    listpack::replace_int(&mut node.lp, at, flags | node::FLAG_DELETED);
                }
                let (count, dead) = node.master_counts();
                node.set_counts(count - n, dead + n);
            }
            self.length = length;
            deleted += n;
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else {
            self.first_id = self.edge_id(false).unwrap_or(StreamId::MIN);
        }
        deleted
    }

    /// Whether `start..=end` (None: unbounded) may hold a deleted entry
    /// (Valkey's `streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_entry_id {
            return false;
        }
        let start = start.unwrap_or(StreamId::MIN);
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted_entry_id && self.max_deleted_entry_id <= end
    }

    /// Nodes in order: master ID and listpack bytes (RDB, DUMP).
    pub fn nodes(&self) -> impl DoubleEndedIterator<Item = (StreamId, &[u8])> + '_ {
        self.nodes.iter().map(|(k, n)| (*k, &n.lp[..]))
    }

    /// Adds a node read from RDB; `lp` was checked with `node::validate`,
    /// which gave its live count. The caller sets the metadata fields.
    pub fn insert_node(&mut self, master: StreamId, lp: Vec<u8>) {
        self.nodes.push_back((master, Arc::new(Node { lp })));
    }

    /// The last node's master ID (RDB load checks nodes come in order).
    pub fn last_master(&self) -> Option<StreamId> {
        self.nodes.back().map(|(k, _)| *k)
    }

    /// Heap bytes beyond the `Stream` itself, every node and group
    /// counted (snapshot and save batches size values with it).
    pub fn heap_bytes(&self) -> usize {
        self.memory_usage(usize::MAX)
    }

    /// MEMORY USAGE's figure for the heap beyond the `Stream`, by Valkey's
    /// objectComputeSize rules: the node index, then the sizes of the first
    /// `samples` nodes averaged over every node but the last, whose own
    /// size is added (it is the one still filling, preallocated); then the
    /// consumer groups, sampled likewise (`cgroup::Groups::memory_usage`).
    /// With `samples` at least the node count, every node is counted.
    pub fn memory_usage(&self, samples: usize) -> usize {
        let slot = std::mem::size_of::<(StreamId, Arc<Node>)>();
        let mut n = self.nodes.capacity() * slot;
        let (mut lp, mut taken) = (0, 0);
        for (_, node) in self.nodes.iter().take(samples) {
            lp += NODE_BOX + node.heap_bytes();
            taken += 1;
        }
        if self.nodes.len() <= taken {
            n += lp;
        } else if let Some((_, last)) = self.nodes.back() {
            n += lp * (self.nodes.len() - 1) / taken.max(1) + NODE_BOX + last.heap_bytes();
        }
        if let Some(g) = &self.groups {
            let boxed = 2 * std::mem::size_of::<usize>() + std::mem::size_of::<cgroup::Groups>();
            n += boxed + g.memory_usage(samples);
        }
        n
    }

    /// Cost of dropping, for lazy freeing: Valkey's lazyfreeGetFreeEffort
    /// for streams, one per node (an allocation each), and per group one
    /// plus its PEL's length, the first group's standing for all (so the
    /// estimate costs no walk).
    pub fn free_effort(&self) -> usize {
        let groups = self.groups.as_ref().map_or(0, |g| g.len());
        let pel = self
            .groups
            .as_ref()
            .and_then(|g| g.iter().next())
            .map_or(0, |(_, g)| g.pel_len());
        self.nodes.len() + groups * (1 + pel)
    }

    /// The entries in order, as (ID, pairs of owned bytes): for tests and
    /// AOF rewrite of small streams.
    pub fn entries(&self) -> Vec<(StreamId, Pairs)> {
        self.range(StreamId::MIN, StreamId::MAX, false)
            .map(|e| {
                let pairs = e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
                (e.id, pairs)
            })
            .collect()
    }
}

/// An entry's field-value pairs, owned.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Live entries in an ID range; see `Stream::range`.
pub struct Range<'a> {
    nodes: &'a VecDeque<(StreamId, Arc<Node>)>,
    /// Nodes `lo..hi` are still to walk (from `lo` forward, from `hi`
    /// backward).
    lo: usize,
    hi: usize,
    /// The node being walked: its master ID, the node, its master entry,
    /// and the next offset (forward: the next entry's flags; backward:
    /// just past the next entry to read).
    cur: Option<(StreamId, &'a Node, node::Master, usize)>,
    start: StreamId,
    end: StreamId,
    rev: bool,
    done: bool,
}

impl<'a> Iterator for Range<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        while !self.done {
            let Some((master, node, m, p)) = self.cur else {
                if self.lo >= self.hi {
                    self.done = true;
                    return None;
                }
                let i = if self.rev {
                    self.hi -= 1;
                    self.hi
                } else {
                    self.lo += 1;
                    self.lo - 1
                };
                let (master, node): (StreamId, &Node) = (self.nodes[i].0, &self.nodes[i].1);
                let m = node.master();
                let p = if self.rev { node.end() } else { m.entries_at };
                self.cur = Some((master, node, m, p));
                continue;
            };
            if self.rev {
                if p == m.entries_at {
                    self.cur = None;
                    continue;
                }
                let at = node.entry_before(p);
                let e = node.entry_at(master, &m, at);
                self.cur = Some((master, node, m, at));
                if e.id < self.start {
                    self.done = true;
                    return None;
                }
                if e.is_deleted() || e.id > self.end {
                    continue;
                }
                return Some(e);
            } else {
                if p == node.end() {
                    self.cur = None;
                    continue;
                }
                let e = node.entry_at(master, &m, p);
                self.cur = Some((master, node, m, e.end));
                if e.id > self.end {
                    self.done = true;
                    return None;
                }
                if e.is_deleted() || e.id < self.start {
                    continue;
                }
                return Some(e);
            }
        }
        None
    }
}

/// The bytes of a stored element (decimal for integers).
pub fn elem_bytes(e: Elem<'_>) -> std::borrow::Cow<'_, [u8]> {
    match e {
        Elem::Bytes(b) => std::borrow::Cow::Borrowed(b),
        Elem::Int(n) => std::borrow::Cow::Owned(n.to_string().into_bytes()),
    }
}

#[cfg(test)]
mod tests;
