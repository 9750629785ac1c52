//! List values: `listpack` while small (`list-max-listpack-size`), `quicklist` beyond.
//!
//! Elements live packed in nodes, never one allocation per element: each
//! node is a byte buffer laid out entry by entry as a Valkey listpack lays
//! them out (canonical integers as 1..9 byte integers, strings behind a 1, 2
//! or 5 byte length, each entry followed by its length written backwards so
//! the node can be walked from either end). Using the very same entry sizes
//! makes a node's byte count equal to Valkey's `lpBytes`, so the size rules
//! of `list-max-listpack-size` (when a listpack becomes a quicklist, when a
//! quicklist node is full, when a quicklist shrinks back) give the same
//! OBJECT ENCODING transitions as Valkey.
//!
//! A listpack-encoded list is a single node; a quicklist is a deque of nodes.
//! As in Valkey, nodes are not merged on deletion and emptied nodes are
//! dropped, so the "single node, under half the limit" shrink rule applies to
//! the same lists it does there.

use std::collections::VecDeque;

use crate::util::num::{int_len, parse_i64};

/// One element as stored: canonical decimal integers are kept as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl<'a> Elem<'a> {
    /// How `b` is stored (Valkey's `lpStringToInt64`: the strict form only).
    #[inline]
    pub fn of(b: &'a [u8]) -> Elem<'a> {
        match parse_i64(b) {
            Some(n) => Elem::Int(n),
            None => Elem::Bytes(b),
        }
    }

    /// True when the element reads as `b`.
    #[inline]
    pub fn eq_bytes(&self, b: &[u8]) -> bool {
        self == &Elem::of(b)
    }

    /// Owned bytes (decimal for integers).
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            Elem::Int(n) => n.to_string().into_bytes(),
            Elem::Bytes(b) => b.to_vec(),
        }
    }

    /// Bytes a client argument of this element counts for in Valkey's
    /// listpack conversion check (string objects only: integers count 0).
    fn arg_bytes(&self, as_arg: bool) -> usize {
        match self {
            Elem::Bytes(b) => b.len(),
            Elem::Int(n) if as_arg => int_len(*n),
            Elem::Int(_) => 0,
        }
    }
}

// ---- entry encoding (listpack sizes) ----

/// Bytes of the encoding byte(s) plus data.
#[inline]
fn enc_len(e: Elem) -> usize {
    match e {
        Elem::Int(v) => {
            if (0..=127).contains(&v) {
                1
            } else if (-4096..=4095).contains(&v) {
                2
            } else if (-32768..=32767).contains(&v) {
                3
            } else if (-8388608..=8388607).contains(&v) {
                4
            } else if (-2147483648..=2147483647).contains(&v) {
                5
            } else {
                9
            }
        }
        Elem::Bytes(b) => {
            let n = b.len();
            if n < 64 {
                1 + n
            } else if n < 4096 {
                2 + n
            } else if n <= u32::MAX as usize {
                5 + n
            } else {
                // Beyond listpack's 32-bit lengths (only with a raised
                // proto-max-bulk-len): our own 64-bit length form.
                9 + n
            }
        }
    }
}

#[inline]
fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2097151 {
        3
    } else if l < 268435455 {
        4
    } else {
        // 7 bits per byte, at least 5 (Valkey's largest size).
        ((usize::BITS - l.leading_zeros()) as usize)
            .div_ceil(7)
            .max(5)
    }
}

/// Whole entry size in a node.
#[inline]
fn entry_size(e: Elem) -> usize {
    let l = enc_len(e);
    l + backlen_size(l)
}

/// Writes the entry into `out` (exactly `entry_size(e)` bytes).
fn write_entry(out: &mut [u8], e: Elem) {
    let l = match e {
        Elem::Int(v) => {
            let l = enc_len(e);
            match l {
                1 => out[0] = v as u8,
                2 => {
                    let u = (v as u16) & 0x1fff;
                    out[0] = 0xc0 | (u >> 8) as u8;
                    out[1] = u as u8;
                }
                _ => {
                    let (tag, nb) = match l {
                        3 => (0xf1, 2),
                        4 => (0xf2, 3),
                        5 => (0xf3, 4),
                        _ => (0xf4, 8),
                    };
                    out[0] = tag;
                    out[1..1 + nb].copy_from_slice(&v.to_le_bytes()[..nb]);
                }
            }
            l
        }
        Elem::Bytes(b) => {
            let n = b.len();
            let h = if n < 64 {
                out[0] = 0x80 | n as u8;
                1
            } else if n < 4096 {
                out[0] = 0xe0 | (n >> 8) as u8;
                out[1] = n as u8;
                2
            } else if n <= u32::MAX as usize {
                out[0] = 0xf0;
                out[1..5].copy_from_slice(&(n as u32).to_le_bytes());
                5
            } else {
                out[0] = 0xf5;
                out[1..9].copy_from_slice(&(n as u64).to_le_bytes());
                9
            };
            out[h..h + n].copy_from_slice(b);
            h + n
        }
    };
    // Backward length: the last byte holds the low 7 bits, with bit 7 set
    // when more (higher) bytes precede it.
    let bl = backlen_size(l);
    let base = l;
    let mut v = l;
    for i in (0..bl).rev() {
        let more = if i > 0 { 0x80 } else { 0 };
        out[base + i] = (v & 0x7f) as u8 | more;
        v >>= 7;
    }
}

/// Decodes the entry at `off`: the element and the offset after it.
fn decode(buf: &[u8], off: usize) -> (Elem<'_>, usize) {
    let b0 = buf[off];
    let (e, l) = if b0 & 0x80 == 0 {
        (Elem::Int(b0 as i64), 1)
    } else if b0 & 0xc0 == 0x80 {
        let n = (b0 & 0x3f) as usize;
        (Elem::Bytes(&buf[off + 1..off + 1 + n]), 1 + n)
    } else if b0 & 0xe0 == 0xc0 {
        let u = (((b0 & 0x1f) as u16) << 8) | buf[off + 1] as u16;
        // Sign-extend the 13-bit value.
        let v = ((u << 3) as i16 >> 3) as i64;
        (Elem::Int(v), 2)
    } else if b0 & 0xf0 == 0xe0 {
        let n = (((b0 & 0x0f) as usize) << 8) | buf[off + 1] as usize;
        (Elem::Bytes(&buf[off + 2..off + 2 + n]), 2 + n)
    } else if b0 == 0xf0 {
        let mut le = [0u8; 4];
        le.copy_from_slice(&buf[off + 1..off + 5]);
        let n = u32::from_le_bytes(le) as usize;
        (Elem::Bytes(&buf[off + 5..off + 5 + n]), 5 + n)
    } else if b0 == 0xf5 {
        let mut le = [0u8; 8];
        le.copy_from_slice(&buf[off + 1..off + 9]);
        let n = u64::from_le_bytes(le) as usize;
        (Elem::Bytes(&buf[off + 9..off + 9 + n]), 9 + n)
    } else {
        let nb = match b0 {
            0xf1 => 2,
            0xf2 => 3,
            0xf3 => 4,
            _ => 8,
        };
        let mut le = [0u8; 8];
        le[..nb].copy_from_slice(&buf[off + 1..off + 1 + nb]);
        // Sign-extend from nb bytes.
        let shift = 64 - 8 * nb as u32;
        let v = (i64::from_le_bytes(le) << shift) >> shift;
        (Elem::Int(v), 1 + nb)
    };
    (e, off + l + backlen_size(l))
}

/// Start of the entry that ends at `end`.
fn prev_start(buf: &[u8], end: usize) -> usize {
    let mut p = end - 1;
    let mut l = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[p];
        l |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        p -= 1;
    }
    end - backlen_size(l) - l
}

// ---- size limits (list-max-listpack-size) ----

/// Valkey's node size classes for negative fills.
const SIZE_CLASSES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// With a count limit, a node may still not grow beyond this many bytes.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Per-entry overhead assumed when deciding whether an entry fits a node.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Quicklist nodes count at most this many entries (Valkey clamps `fill`).
const FILL_MAX: i64 = 1 << 15;
/// Bytes of a listpack with no entries (header and end marker).
const LP_EMPTY: usize = 7;

/// (byte limit, count limit) of a node for `fill`.
fn node_limit(fill: i64) -> (usize, usize) {
    if fill >= 0 {
        (usize::MAX, fill.max(1) as usize)
    } else {
        let i = ((-fill - 1) as usize).min(SIZE_CLASSES.len() - 1);
        (SIZE_CLASSES[i], usize::MAX)
    }
}

fn exceeds_limit(fill: i64, sz: usize, count: usize) -> bool {
    let (sz_limit, count_limit) = node_limit(fill);
    if sz_limit != usize::MAX {
        sz > sz_limit
    } else {
        sz > SIZE_SAFETY_LIMIT || count > count_limit
    }
}

/// An element's size as Valkey measures it for node limits (integers by
/// their decimal form).
fn raw_size(e: Elem) -> usize {
    match e {
        Elem::Bytes(b) => b.len(),
        Elem::Int(n) => int_len(n),
    }
}

/// The bytes of a Valkey listpack holding `elems` (6-byte header, the
/// entries as a list node stores them, the end byte): what an RDB file
/// stores for a listpack-encoded value (DEBUG OBJECT serializedlength).
pub fn listpack_blob<'a>(elems: impl IntoIterator<Item = Elem<'a>>) -> Vec<u8> {
    let mut out = vec![0u8; 6];
    let mut count: usize = 0;
    for e in elems {
        let at = out.len();
        out.resize(at + entry_size(e), 0);
        write_entry(&mut out[at..], e);
        count += 1;
    }
    out.push(0xff);
    let total = u32::try_from(out.len()).unwrap_or(u32::MAX);
    out[..4].copy_from_slice(&total.to_le_bytes());
    // Valkey stores 65535 for "unknown, count them".
    let n = u16::try_from(count).unwrap_or(u16::MAX);
    out[4..6].copy_from_slice(&n.to_le_bytes());
    out
}

/// Valkey's `packed_threshold` default (1 GiB): while it is set, the
/// node limits decide which elements are large.
const PACKED_THRESHOLD_DEFAULT: usize = 1 << 30;

/// DEBUG QUICKLIST-PACKED-THRESHOLD: process-wide, as in Valkey.
static PACKED_THRESHOLD: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(PACKED_THRESHOLD_DEFAULT);

/// The threshold `sz` sets (Valkey's `quicklistSetPackedThreshold`): 0
/// restores the default; above 4 GiB less 1 MiB is refused.
pub fn packed_threshold_for(sz: u64) -> Option<usize> {
    if sz > (1u64 << 32) - (1 << 20) {
        None
    } else if sz == 0 {
        Some(PACKED_THRESHOLD_DEFAULT)
    } else {
        usize::try_from(sz).ok()
    }
}

/// Sets the size from which an element gets a plain node of its own.
pub fn set_packed_threshold(sz: usize) {
    PACKED_THRESHOLD.store(sz, std::sync::atomic::Ordering::Relaxed);
}

/// Elements this big get a quicklist node of their own (Valkey's plain
/// nodes): over the node size class, or over the safety limit with a count
/// limit; or, once DEBUG QUICKLIST-PACKED-THRESHOLD set one, from that size.
fn is_large(fill: i64, e: Elem) -> bool {
    let threshold = PACKED_THRESHOLD.load(std::sync::atomic::Ordering::Relaxed);
    if threshold != PACKED_THRESHOLD_DEFAULT {
        return raw_size(e) >= threshold;
    }
    let f = quick_fill(fill);
    let limit = if f >= 0 {
        SIZE_SAFETY_LIMIT
    } else {
        node_limit(f).0
    };
    raw_size(e) > limit
}

/// Normalizes the configured value as a quicklist does for its nodes.
fn quick_fill(fill: i64) -> i64 {
    fill.clamp(-5, FILL_MAX)
}

/// Normalizes the configured value as Valkey's `int` config holds it.
fn conf_fill(fill: i64) -> i64 {
    fill.clamp(-5, i32::MAX as i64)
}

// ---- nodes ----

#[derive(Clone, Debug, Default, PartialEq)]
struct Node {
    buf: Vec<u8>,
    count: u32,
    /// Holds one large element by itself (Valkey's plain node): never
    /// takes another element, never merged.
    plain: bool,
}

impl Node {
    /// Valkey's `lpBytes` for this node.
    #[inline]
    fn lp_bytes(&self) -> usize {
        LP_EMPTY + self.buf.len()
    }

    fn allows_insert(&self, fill: i64, e: Elem) -> bool {
        if self.plain || is_large(fill, e) {
            return false;
        }
        !exceeds_limit(
            quick_fill(fill),
            self.lp_bytes() + raw_size(e) + SIZE_ESTIMATE_OVERHEAD,
            self.count as usize + 1,
        )
    }

    /// Whether `e` may replace an entry in place: Valkey does so in any
    /// packed node unless the new element is large, even past the node's
    /// size limit (seen on Valkey 9: LSET never splits for a small element).
    fn allows_replace(&self, fill: i64, e: Elem) -> bool {
        !self.plain && !is_large(fill, e)
    }

    fn insert(&mut self, off: usize, e: Elem) {
        let n = entry_size(e);
        let old = self.buf.len();
        self.buf.resize(old + n, 0);
        self.buf.copy_within(off..old, off + n);
        write_entry(&mut self.buf[off..off + n], e);
        self.count += 1;
    }

    fn remove(&mut self, start: usize, end: usize, n: u32) {
        self.buf.drain(start..end);
        self.count -= n;
    }

    /// Offset of the `i`th entry (i <= count), from the closer end.
    fn offset_of(&self, i: usize) -> usize {
        let count = self.count as usize;
        if i <= count / 2 {
            let mut off = 0;
            for _ in 0..i {
                off = decode(&self.buf, off).1;
            }
            off
        } else {
            let mut off = self.buf.len();
            for _ in i..count {
                off = prev_start(&self.buf, off);
            }
            off
        }
    }

    fn first(&self) -> Elem<'_> {
        decode(&self.buf, 0).0
    }

    fn last(&self) -> Elem<'_> {
        decode(&self.buf, prev_start(&self.buf, self.buf.len())).0
    }

    /// Gives back spare capacity: a node that stopped growing keeps none.
    fn settle(&mut self) {
        if self.buf.capacity() > self.buf.len() + self.buf.len() / 8 {
            self.buf.shrink_to_fit();
        }
    }

    fn single(e: Elem) -> Node {
        let mut n = Node {
            buf: Vec::with_capacity(entry_size(e)),
            count: 0,
            plain: false,
        };
        n.insert(0, e);
        n
    }

    fn plain(e: Elem) -> Node {
        Node {
            plain: true,
            ..Node::single(e)
        }
    }
}

// ---- the list ----

/// A list value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
    /// Encoding: false = listpack (at most one node), true = quicklist.
    quick: bool,
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        if self.quick {
            "quicklist"
        } else {
            "listpack"
        }
    }

    /// (nodes, total node size) as Valkey's DEBUG OBJECT reports a
    /// quicklist: a packed node counts its listpack bytes, a plain node its
    /// element's size.
    pub fn node_stats(&self) -> (usize, usize) {
        let sz = self
            .nodes
            .iter()
            .map(|n| {
                if n.plain {
                    raw_size(n.first())
                } else {
                    n.lp_bytes()
                }
            })
            .sum();
        (self.nodes.len(), sz)
    }

    /// What an RDB file holds for each node: (plain, bytes), the element's
    /// bytes for a plain node, the node's listpack for a packed one.
    pub fn rdb_nodes(&self) -> Vec<(bool, Vec<u8>)> {
        self.nodes
            .iter()
            .map(|n| {
                if n.plain {
                    (true, n.first().to_vec())
                } else {
                    let mut blob = Vec::with_capacity(n.lp_bytes());
                    let total = u32::try_from(n.lp_bytes()).unwrap_or(u32::MAX);
                    blob.extend_from_slice(&total.to_le_bytes());
                    let c = u16::try_from(n.count).unwrap_or(u16::MAX);
                    blob.extend_from_slice(&c.to_le_bytes());
                    blob.extend_from_slice(&n.buf);
                    blob.push(0xff);
                    (false, blob)
                }
            })
            .collect()
    }

    /// A list from nodes as an RDB file holds them, boundaries kept (a
    /// plain node's one element; a packed node's elements; empty nodes
    /// skipped); a single packed node within the limits for `fill` is
    /// then a listpack, as Valkey converts a loaded quicklist.
    pub fn from_nodes<'a>(
        nodes: impl IntoIterator<Item = (bool, Vec<Elem<'a>>)>,
        fill: i64,
    ) -> List {
        let mut l = List {
            nodes: VecDeque::new(),
            len: 0,
            quick: true,
        };
        for (plain, elems) in nodes {
            let mut it = elems.into_iter();
            let Some(first) = it.next() else {
                continue;
            };
            let mut n = if plain {
                Node::plain(first)
            } else {
                Node::single(first)
            };
            for e in it {
                let end = n.buf.len();
                n.insert(end, e);
            }
            n.settle();
            l.len += n.count as usize;
            l.nodes.push_back(n);
        }
        if l.nodes.len() == 1 {
            let (sz_limit, count_limit) = node_limit(conf_fill(fill));
            let n = &l.nodes[0];
            if !n.plain && n.lp_bytes() <= sz_limit && l.len <= count_limit {
                l.quick = false;
            }
        }
        l
    }

    /// Rough cost of dropping (allocations to free), for lazy free.
    pub fn free_effort(&self) -> usize {
        if self.quick {
            self.nodes.len()
        } else {
            1
        }
    }

    /// Heap bytes owned, for MEMORY USAGE.
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(|n| n.buf.capacity()).sum::<usize>()
    }

    /// Switches a listpack to a quicklist when adding `add_count` elements
    /// of `add_bytes` would pass the limit (Valkey's growing conversion).
    fn grow_check(&mut self, fill: i64, add_bytes: usize, add_count: usize) {
        if self.quick {
            return;
        }
        let (sz, count) = match self.nodes.front() {
            Some(n) => (n.lp_bytes(), n.count as usize),
            None => (LP_EMPTY, 0),
        };
        if exceeds_limit(conf_fill(fill), sz + add_bytes, count + add_count) {
            self.quick = true;
            if let Some(n) = self.nodes.front_mut() {
                n.settle();
            }
        }
    }

    /// Switches a one-node quicklist back to a listpack when it is under
    /// half the limit (Valkey's shrinking conversion, after removals).
    fn shrink_check(&mut self, fill: i64) {
        if !self.quick || self.nodes.len() != 1 {
            return;
        }
        let (sz_limit, count_limit) = node_limit(conf_fill(fill));
        let n = &self.nodes[0];
        if !n.plain && n.lp_bytes() <= sz_limit / 2 && self.len <= count_limit / 2 {
            self.quick = false;
        }
    }

    /// Adds one element at either end, without conversion checks.
    fn push_raw(&mut self, front: bool, e: Elem, fill: i64) {
        self.len += 1;
        if !self.quick {
            match self.nodes.front_mut() {
                Some(n) => {
                    let off = if front { 0 } else { n.buf.len() };
                    n.insert(off, e);
                }
                None => self.nodes.push_back(Node::single(e)),
            }
            return;
        }
        let end = if front {
            self.nodes.front_mut()
        } else {
            self.nodes.back_mut()
        };
        if is_large(fill, e) {
            if let Some(n) = end {
                n.settle();
            }
            if front {
                self.nodes.push_front(Node::plain(e));
            } else {
                self.nodes.push_back(Node::plain(e));
            }
            return;
        }
        match end {
            Some(n) if n.allows_insert(fill, e) => {
                let off = if front { 0 } else { n.buf.len() };
                n.insert(off, e);
            }
            Some(n) => {
                // The end node is full for good: drop its spare room.
                n.settle();
                if front {
                    self.nodes.push_front(Node::single(e));
                } else {
                    self.nodes.push_back(Node::single(e));
                }
            }
            None => self.nodes.push_back(Node::single(e)),
        }
    }

    /// LPUSH/RPUSH: adds the arguments one by one at an end.
    pub fn push_args<B: AsRef<[u8]>>(&mut self, front: bool, args: &[B], fill: i64) {
        let bytes = args.iter().map(|a| a.as_ref().len()).sum();
        self.grow_check(fill, bytes, args.len());
        for a in args {
            self.push_raw(front, Elem::of(a.as_ref()), fill);
        }
    }

    /// Adds one element popped from a list (LMOVE's destination): integers
    /// count no bytes in the conversion check, as in Valkey.
    pub fn push_elem(&mut self, front: bool, e: Elem, fill: i64) {
        self.grow_check(fill, e.arg_bytes(false), 1);
        self.push_raw(front, e, fill);
    }

    /// Removes the element at one end, handing it to `f` first. The caller
    /// runs `shrink` when done removing (Valkey converts after the command's
    /// pushes and pops, not between them).
    pub fn pop_with<R>(&mut self, front: bool, f: impl FnOnce(Elem) -> R) -> Option<R> {
        self.pop_raw(front, f)
    }

    /// The shrinking conversion check, after removals.
    pub fn shrink(&mut self, fill: i64) {
        self.shrink_check(fill);
    }

    fn pop_raw<R>(&mut self, front: bool, f: impl FnOnce(Elem) -> R) -> Option<R> {
        let n = if front {
            self.nodes.front_mut()?
        } else {
            self.nodes.back_mut()?
        };
        let (start, end) = if front {
            (0, decode(&n.buf, 0).1)
        } else {
            (prev_start(&n.buf, n.buf.len()), n.buf.len())
        };
        let r = f(decode(&n.buf, start).0);
        n.remove(start, end, 1);
        if n.count == 0 {
            if front {
                self.nodes.pop_front();
            } else {
                self.nodes.pop_back();
            }
        }
        self.len -= 1;
        Some(r)
    }

    /// Removes up to `count` elements from one end, handing each to `f`.
    pub fn pop_many(&mut self, front: bool, count: usize, fill: i64, mut f: impl FnMut(Elem)) {
        for _ in 0..count {
            if self.pop_raw(front, &mut f).is_none() {
                break;
            }
        }
        self.shrink_check(fill);
    }

    /// The node holding element `i` (< len) and its index in that node,
    /// walking from the closer end.
    fn locate(&self, i: usize) -> (usize, usize) {
        if i < self.len / 2 {
            let mut i = i;
            for (ni, n) in self.nodes.iter().enumerate() {
                if i < n.count as usize {
                    return (ni, i);
                }
                i -= n.count as usize;
            }
        } else {
            let mut from_end = self.len - i; // >= 1
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                if from_end <= n.count as usize {
                    return (ni, n.count as usize - from_end);
                }
                from_end -= n.count as usize;
            }
        }
        (0, 0)
    }

    /// Element `i`, where `i` counts from the end when negative.
    pub fn get(&self, i: i64) -> Option<Elem<'_>> {
        let i = self.index(i)?;
        let (ni, k) = self.locate(i);
        let n = &self.nodes[ni];
        Some(decode(&n.buf, n.offset_of(k)).0)
    }

    /// A Valkey index (negative from the end) as a position, if in range.
    pub fn index(&self, i: i64) -> Option<usize> {
        let i = if i < 0 { self.len as i64 + i } else { i };
        if i < 0 || i >= self.len as i64 {
            None
        } else {
            Some(i as usize)
        }
    }

    /// LSET: replaces element `i` (negative from the end); false if out of
    /// range.
    pub fn set(&mut self, i: i64, value: &[u8], fill: i64) -> bool {
        // Valkey checks the listpack as if an element were added, before
        // it looks at the index (an out-of-range LSET converts too).
        self.grow_check(fill, value.len(), 1);
        let Some(i) = self.index(i) else {
            return false;
        };
        let e = Elem::of(value);
        let (ni, k) = self.locate(i);
        let n = &mut self.nodes[ni];
        let off = n.offset_of(k);
        let end = decode(&n.buf, off).1;
        if !self.quick || n.allows_replace(fill, e) {
            n.remove(off, end, 1);
            n.insert(off, e);
        } else if n.plain {
            if is_large(fill, e) {
                *n = Node::plain(e);
            } else {
                // A small element leaves its plain node for a packed one.
                self.insert_rel(ni, 0, true, e, fill);
                self.nodes.remove(ni);
                self.len -= 1;
            }
        } else {
            // The node is full or the element is large: the new element
            // gets a node of its own after the old one, which is split
            // after the replaced entry; then the old entry goes.
            let tail = if k + 1 < n.count as usize {
                Some(self.split(ni, k, true))
            } else {
                None
            };
            let new = if is_large(fill, e) {
                Node::plain(e)
            } else {
                Node::single(e)
            };
            self.nodes.insert(ni + 1, new);
            if let Some(t) = tail {
                self.nodes.insert(ni + 2, t);
            }
            let n = &mut self.nodes[ni];
            if n.count == 1 {
                self.nodes.remove(ni);
            } else {
                let last = prev_start(&n.buf, n.buf.len());
                let len = n.buf.len();
                n.remove(last, len, 1);
                self.merge_around(ni + 1, fill);
            }
        }
        self.shrink_check(fill);
        true
    }

    /// Splits node `ni` at entry `k`, returning the part that leaves it:
    /// with `after`, the node keeps entries `..=k` and the rest is returned;
    /// else the node keeps `k..` and entries `..k` are returned.
    fn split(&mut self, ni: usize, k: usize, after: bool) -> Node {
        let n = &mut self.nodes[ni];
        let cut = if after { k + 1 } else { k };
        let off = n.offset_of(cut);
        let out = if after {
            let t = Node {
                buf: n.buf[off..].to_vec(),
                count: n.count - cut as u32,
                plain: false,
            };
            n.buf.truncate(off);
            n.count = cut as u32;
            t
        } else {
            let h = Node {
                buf: n.buf[..off].to_vec(),
                count: cut as u32,
                plain: false,
            };
            n.buf.drain(..off);
            n.count -= cut as u32;
            h
        };
        n.settle();
        out
    }

    /// Valkey's `_quicklistNodeAllowMerge` for nodes `a` and `b`.
    fn allow_merge(&self, a: usize, b: usize, fill: i64) -> bool {
        let (Some(x), Some(y)) = (self.nodes.get(a), self.nodes.get(b)) else {
            return false;
        };
        if x.plain || y.plain {
            return false;
        }
        !exceeds_limit(
            quick_fill(fill),
            x.lp_bytes() + y.lp_bytes() - LP_EMPTY,
            (x.count + y.count) as usize,
        )
    }

    /// Appends node `b` (= a + 1) to node `a`.
    fn merge(&mut self, a: usize) {
        if let Some(b) = self.nodes.remove(a + 1) {
            let n = &mut self.nodes[a];
            n.buf.extend_from_slice(&b.buf);
            n.count += b.count;
            n.settle();
        }
    }

    /// Valkey's `_quicklistMergeNodes` around node `c`: merges the two
    /// nodes before it, the two after it, then it with its neighbours.
    fn merge_around(&mut self, c: usize, fill: i64) {
        let mut c = c;
        if c >= 2 && self.allow_merge(c - 1, c - 2, fill) {
            self.merge(c - 2);
            c -= 1;
        }
        if self.allow_merge(c + 1, c + 2, fill) {
            self.merge(c + 1);
        }
        if c >= 1 && self.allow_merge(c, c - 1, fill) {
            self.merge(c - 1);
            c -= 1;
        }
        if self.allow_merge(c, c + 1, fill) {
            self.merge(c);
        }
    }

    /// Valkey's `_quicklistInsert`: inserts `e` after (or before) entry `k`
    /// of node `ni` in a quicklist.
    fn insert_rel(&mut self, ni: usize, k: usize, after: bool, e: Elem, fill: i64) {
        self.len += 1;
        let count = self.nodes[ni].count as usize;
        let full = !self.nodes[ni].allows_insert(fill, e);
        let at_tail = after && k + 1 == count;
        let at_head = !after && k == 0;
        let avail_next = at_tail
            && self
                .nodes
                .get(ni + 1)
                .is_some_and(|n| n.allows_insert(fill, e));
        let avail_prev = at_head && ni > 0 && self.nodes[ni - 1].allows_insert(fill, e);
        let side = |ni: usize| if after { ni + 1 } else { ni };
        if is_large(fill, e) {
            if self.nodes[ni].plain || at_tail || at_head {
                self.nodes.insert(side(ni), Node::plain(e));
            } else {
                let part = self.split(ni, k, after);
                if after {
                    self.nodes.insert(ni + 1, Node::plain(e));
                    self.nodes.insert(ni + 2, part);
                } else {
                    self.nodes.insert(ni, part);
                    self.nodes.insert(ni + 1, Node::plain(e));
                }
            }
            return;
        }
        if !full {
            let n = &mut self.nodes[ni];
            let off = n.offset_of(if after { k + 1 } else { k });
            n.insert(off, e);
        } else if at_tail && avail_next {
            self.nodes[ni + 1].insert(0, e);
        } else if at_head && avail_prev {
            let p = &mut self.nodes[ni - 1];
            let off = p.buf.len();
            p.insert(off, e);
        } else if at_tail || at_head {
            self.nodes.insert(side(ni), Node::single(e));
        } else {
            let mut part = self.split(ni, k, after);
            if after {
                part.insert(0, e);
                self.nodes.insert(ni + 1, part);
                self.merge_around(ni, fill);
            } else {
                let off = part.buf.len();
                part.insert(off, e);
                self.nodes.insert(ni, part);
                self.merge_around(ni + 1, fill);
            }
        }
    }

    /// LINSERT: inserts `value` before or after the first `pivot`; false
    /// when there is no pivot.
    pub fn insert_by_pivot(&mut self, pivot: &[u8], value: &[u8], after: bool, fill: i64) -> bool {
        // Valkey converts before looking for the pivot, found or not.
        self.grow_check(fill, value.len(), 1);
        let p = Elem::of(pivot);
        let Some(i) = self.iter().position(|e| e == p) else {
            return false;
        };
        let e = Elem::of(value);
        let (ni, k) = self.locate(i);
        if self.quick {
            self.insert_rel(ni, k, after, e, fill);
        } else {
            let n = &mut self.nodes[ni];
            let off = n.offset_of(k + after as usize);
            n.insert(off, e);
            self.len += 1;
        }
        true
    }

    /// Elements front to back.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            list: self,
            node: 0,
            off: 0,
            left: self.len,
        }
    }

    /// Elements front to back, starting at position `start` (< len).
    pub fn iter_from(&self, start: usize) -> Iter<'_> {
        if start >= self.len {
            return Iter {
                list: self,
                node: 0,
                off: 0,
                left: 0,
            };
        }
        let (ni, k) = self.locate(start);
        Iter {
            list: self,
            node: ni,
            off: self.nodes[ni].offset_of(k),
            left: self.len - start,
        }
    }

    /// Elements back to front.
    pub fn iter_rev(&self) -> RevIter<'_> {
        RevIter {
            list: self,
            node: self.nodes.len(),
            off: 0,
            left: self.len,
        }
    }

    /// LREM: removes up to `count` elements equal to `value` (all when 0,
    /// from the tail when negative). Returns how many.
    pub fn remove_matching(&mut self, value: &[u8], count: i64, fill: i64) -> usize {
        let target = Elem::of(value);
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs().min(usize::MAX as u64) as usize
        };
        let from_tail = count < 0;
        let mut removed = 0;
        let order: Vec<usize> = if from_tail {
            (0..self.nodes.len()).rev().collect()
        } else {
            (0..self.nodes.len()).collect()
        };
        let mut matches: Vec<(usize, usize)> = Vec::new();
        for ni in order {
            if removed >= limit {
                break;
            }
            let n = &mut self.nodes[ni];
            matches.clear();
            let mut off = 0;
            while off < n.buf.len() {
                let (e, next) = decode(&n.buf, off);
                if e == target {
                    matches.push((off, next));
                }
                off = next;
            }
            let take = matches.len().min(limit - removed);
            if take == 0 {
                continue;
            }
            let chosen = if from_tail {
                &matches[matches.len() - take..]
            } else {
                &matches[..take]
            };
            // Rebuild the node without the chosen entries in one pass.
            let mut buf = Vec::with_capacity(n.buf.len());
            let mut last = 0;
            for &(s, e) in chosen {
                buf.extend_from_slice(&n.buf[last..s]);
                last = e;
            }
            buf.extend_from_slice(&n.buf[last..]);
            n.buf = buf;
            n.count -= take as u32;
            removed += take;
        }
        self.nodes.retain(|n| n.count > 0);
        self.len -= removed;
        if removed > 0 {
            self.shrink_check(fill);
        }
        removed
    }

    /// LTRIM: keeps positions `start..=end` (already clamped, start <= end
    /// < len); everything else is removed.
    pub fn keep_range(&mut self, start: usize, end: usize, fill: i64) {
        let mut front = start;
        while front > 0 {
            let Some(n) = self.nodes.front_mut() else {
                break;
            };
            if n.count as usize <= front {
                front -= n.count as usize;
                self.nodes.pop_front();
            } else {
                let off = n.offset_of(front);
                n.remove(0, off, front as u32);
                front = 0;
            }
        }
        let mut back = self.len - 1 - end;
        while back > 0 {
            let Some(n) = self.nodes.back_mut() else {
                break;
            };
            if n.count as usize <= back {
                back -= n.count as usize;
                self.nodes.pop_back();
            } else {
                let off = n.offset_of(n.count as usize - back);
                let len = n.buf.len();
                n.remove(off, len, back as u32);
                back = 0;
            }
        }
        let old = self.len;
        self.len = end - start + 1;
        if self.len < old {
            self.shrink_check(fill);
        }
    }

    /// Drops every element (LTRIM to an empty range).
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.len = 0;
    }

    /// First and last element (for tests and quick peeks).
    pub fn ends(&self) -> Option<(Elem<'_>, Elem<'_>)> {
        Some((self.nodes.front()?.first(), self.nodes.back()?.last()))
    }

    #[cfg(test)]
    fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

/// Front-to-back iterator.
pub struct Iter<'a> {
    list: &'a List,
    node: usize,
    off: usize,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        let mut n = self.list.nodes.get(self.node)?;
        while self.off >= n.buf.len() {
            self.node += 1;
            self.off = 0;
            n = self.list.nodes.get(self.node)?;
        }
        let (e, next) = decode(&n.buf, self.off);
        self.off = next;
        self.left -= 1;
        Some(e)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// Back-to-front iterator.
pub struct RevIter<'a> {
    list: &'a List,
    /// One past the current node; `off` is the end of the next entry.
    node: usize,
    off: usize,
    left: usize,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        while self.off == 0 {
            self.node = self.node.checked_sub(1)?;
            self.off = self.list.nodes.get(self.node)?.buf.len();
        }
        let n = &self.list.nodes[self.node];
        let start = prev_start(&n.buf, self.off);
        self.off = start;
        self.left -= 1;
        Some(decode(&n.buf, start).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(l: &List) -> Vec<Vec<u8>> {
        l.iter().map(|e| e.to_vec()).collect()
    }

    #[test]
    fn entries_round_trip() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let samples: Vec<&[u8]> = vec![
            b"0",
            b"127",
            b"128",
            b"-1",
            b"-4096",
            b"4095",
            b"4096",
            b"-32768",
            b"32767",
            b"8388607",
            b"-8388608",
            b"2147483647",
            b"-2147483648",
            b"2147483648",
            b"9223372036854775807",
            b"-9223372036854775808",
            b"",
            b"abc",
            b"007",
            &mid,
            &long,
        ];
        let mut n = Node::default();
        for s in &samples {
            let off = n.buf.len();
            n.insert(off, Elem::of(s));
        }
        let mut off = 0;
        for s in &samples {
            let (e, next) = decode(&n.buf, off);
            assert_eq!(e.to_vec(), s.to_vec());
            assert_eq!(next - off, entry_size(Elem::of(s)));
            assert_eq!(prev_start(&n.buf, next), off);
            off = next;
        }
        assert_eq!(off, n.buf.len());
    }

    #[test]
    fn backlen_sizes() {
        assert_eq!(backlen_size(127), 1);
        assert_eq!(backlen_size(128), 2);
        assert_eq!(backlen_size(16383), 3);
        assert_eq!(backlen_size(268435455), 5);
        assert_eq!(backlen_size(1 << 35), 6);
        // Written and read back at every size class boundary.
        for l in [1usize, 127, 128, 16382, 16383, 2097151, 268435455, 1 << 40] {
            let bl = backlen_size(l);
            let mut buf = vec![0u8; bl];
            let mut v = l;
            for i in (0..bl).rev() {
                buf[i] = (v & 0x7f) as u8 | if i > 0 { 0x80 } else { 0 };
                v >>= 7;
            }
            let mut back = 0usize;
            let mut shift = 0;
            for &b in buf.iter().rev() {
                back |= ((b & 0x7f) as usize) << shift;
                shift += 7;
            }
            assert_eq!(back, l);
        }
    }

    #[test]
    fn push_pop_and_encodings() {
        let mut l = List::new();
        l.push_args(false, &[b"a", b"b", b"c", b"d"], 4);
        assert_eq!(l.encoding(), "listpack");
        l.push_args(false, &[b"e"], 4);
        assert_eq!(l.encoding(), "quicklist");
        assert_eq!(l.node_count(), 2);
        assert_eq!(l.pop_with(false, |e| e.to_vec()), Some(b"e".to_vec()));
        l.shrink(4);
        assert_eq!(l.encoding(), "quicklist");
        l.pop_many(false, 2, 4, |_| ());
        assert_eq!(l.encoding(), "listpack");
        assert_eq!(collect(&l), vec![b"a".to_vec(), b"b".to_vec()]);
    }

    #[test]
    fn many_elements_index_and_trim() {
        let mut l = List::new();
        let items: Vec<Vec<u8>> = (0..5000).map(|i| format!("item{i}").into_bytes()).collect();
        l.push_args(false, &items, -2);
        assert_eq!(l.encoding(), "quicklist");
        assert!(l.node_count() > 1);
        for i in [0usize, 1, 777, 2500, 4999] {
            assert_eq!(l.get(i as i64).map(|e| e.to_vec()), Some(items[i].clone()));
        }
        assert_eq!(l.get(-1).map(|e| e.to_vec()), Some(items[4999].clone()));
        let rev: Vec<Vec<u8>> = l.iter_rev().map(|e| e.to_vec()).collect();
        assert_eq!(rev.len(), 5000);
        assert_eq!(rev[0], items[4999]);
        let from: Vec<Vec<u8>> = l.iter_from(4998).map(|e| e.to_vec()).collect();
        assert_eq!(from, items[4998..].to_vec());
        l.keep_range(100, 199, -2);
        assert_eq!(collect(&l), items[100..200].to_vec());
        assert_eq!(l.encoding(), "listpack");
    }

    #[test]
    fn insert_set_remove() {
        let mut l = List::new();
        let items: Vec<Vec<u8>> = (0..20).map(|i| format!("{i}").into_bytes()).collect();
        l.push_args(false, &items, 3);
        assert!(l.insert_by_pivot(b"5", b"x", true, 3));
        assert!(l.insert_by_pivot(b"0", b"y", false, 3));
        assert!(!l.insert_by_pivot(b"nope", b"y", false, 3));
        assert_eq!(l.get(0).map(|e| e.to_vec()), Some(b"y".to_vec()));
        assert_eq!(l.get(7).map(|e| e.to_vec()), Some(b"x".to_vec()));
        assert!(l.set(7, b"a-much-longer-value", 3));
        assert_eq!(
            l.get(7).map(|e| e.to_vec()),
            Some(b"a-much-longer-value".to_vec())
        );
        assert_eq!(l.len(), 22);
        l.push_args(false, &[b"5", b"5"], 3);
        assert_eq!(l.remove_matching(b"5", -2, 3), 2);
        assert_eq!(l.iter().filter(|e| e.eq_bytes(b"5")).count(), 1);
        assert_eq!(l.remove_matching(b"5", 0, 3), 1);
        assert_eq!(l.len(), 21);
    }
}
