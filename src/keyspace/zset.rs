//! Sorted set values: `listpack` while small (`zset-max-listpack-entries/value`), `skiplist` (ordered index + member map) beyond.
//!
//! Elements are ordered by (score, member bytes); scores are never NaN, so
//! the order is total (-0 and 0 compare equal, as C's `<` on doubles does).
//!
//! - `listpack`: a sorted `Vec` of (score, member). Lookups by member are
//!   linear, which is what Valkey's listpack does too, and cheap at the
//!   sizes the thresholds allow.
//! - `skiplist`: the member → score map is a `Dict<f64>` (whose SCAN cursors
//!   give ZSCAN the full-iteration guarantee), and the order is kept by a
//!   counted B+ tree rather than a skiplist: each inner node stores how many
//!   elements each child subtree holds, so rank, select-by-rank and range
//!   bounds are O(log n), and leaves of 64 elements packed in one allocation
//!   cost far fewer pointers per element than skiplist nodes would.
//!
//! The name `skiplist` is kept for `OBJECT ENCODING`, which clients and
//! tests read.

use std::cmp::Ordering;

use super::dict::Dict;
use super::value::Bytes24;

/// One element: its score and its member.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub score: f64,
    pub member: Bytes24,
}

impl Item {
    pub fn new(score: f64, member: &[u8]) -> Self {
        Item {
            score,
            member: Bytes24::new(member),
        }
    }

    #[inline]
    pub fn member(&self) -> &[u8] {
        self.member.as_slice()
    }
}

/// The set order: by score, then by member bytes.
#[inline]
pub fn cmp(score_a: f64, member_a: &[u8], score_b: f64, member_b: &[u8]) -> Ordering {
    match score_a.partial_cmp(&score_b) {
        Some(Ordering::Equal) | None => member_a.cmp(member_b),
        Some(o) => o,
    }
}

#[inline]
fn less(a: &Item, score: f64, member: &[u8]) -> bool {
    cmp(a.score, a.member(), score, member) == Ordering::Less
}

/// Encoding thresholds (`zset-max-listpack-entries`, `-value`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

impl Limits {
    pub fn new(entries: u64, value: u64) -> Self {
        Limits {
            entries: entries.min(usize::MAX as u64) as usize,
            value: value.min(usize::MAX as u64) as usize,
        }
    }
}

// ---------------------------------------------------------------------------
// The counted B+ tree.

/// Most elements in a leaf and children in an inner node.
const CAP: usize = 64;
/// A node with fewer entries than this after a removal is merged with a
/// neighbour (and split again evenly if the two together overflow).
const MIN: usize = CAP / 4;

#[derive(Clone, Debug)]
enum Node {
    Leaf(Vec<Item>),
    Inner(Vec<Child>),
}

#[derive(Clone, Debug)]
struct Child {
    /// Routing key: every element of this child is >= `sep`, and every
    /// element of the previous child is < it. Unused for the first child.
    sep: Item,
    /// Elements in this subtree.
    len: usize,
    node: Box<Node>,
}

impl Node {
    /// Entries in this node itself (not the subtree).
    fn width(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(c) => c.len(),
        }
    }

    /// Elements in the subtree.
    fn count(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(c) => c.iter().map(|c| c.len).sum(),
        }
    }

    /// The child an element with this key belongs in.
    fn route(children: &[Child], score: f64, member: &[u8]) -> usize {
        children[1..].partition_point(|c| !less_key(score, member, &c.sep))
    }

    /// Inserts an absent element; returns a new right sibling on split.
    fn insert(&mut self, item: Item) -> Option<(Item, Node)> {
        match self {
            Node::Leaf(v) => {
                let idx = v.partition_point(|x| less(x, item.score, item.member()));
                if v.len() < CAP {
                    v.insert(idx, item);
                    return None;
                }
                // Appending in order (the common bulk load) keeps the left
                // leaf full instead of leaving half-empty leaves behind.
                let mid = if idx == v.len() {
                    v.len()
                } else if idx == 0 {
                    0
                } else {
                    v.len() / 2
                };
                let mut right = Vec::with_capacity(CAP);
                right.extend(v.drain(mid..));
                if idx < mid || (idx == mid && mid == 0) {
                    v.insert(idx, item);
                } else {
                    right.insert(idx - mid, item);
                }
                let sep = right[0].clone();
                Some((sep, Node::Leaf(right)))
            }
            Node::Inner(children) => {
                let i = Self::route(children, item.score, item.member());
                children[i].len += 1;
                let (sep, new) = children[i].node.insert(item)?;
                let new_len = new.count();
                children[i].len -= new_len;
                let child = Child {
                    sep,
                    len: new_len,
                    node: Box::new(new),
                };
                children.insert(i + 1, child);
                if children.len() <= CAP {
                    return None;
                }
                let mid = children.len() / 2;
                let mut right = Vec::with_capacity(CAP + 1);
                right.extend(children.drain(mid..));
                let sep = right[0].sep.clone();
                Some((sep, Node::Inner(right)))
            }
        }
    }

    /// Removes an element; true if it was there.
    fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        match self {
            Node::Leaf(v) => {
                let idx = v.partition_point(|x| less(x, score, member));
                if idx < v.len() && v[idx].member() == member && v[idx].score == score {
                    v.remove(idx);
                    true
                } else {
                    false
                }
            }
            Node::Inner(children) => {
                let i = Self::route(children, score, member);
                if !children[i].node.remove(score, member) {
                    return false;
                }
                children[i].len -= 1;
                if children[i].node.width() < MIN && children.len() > 1 {
                    Self::rebalance(children, i);
                }
                true
            }
        }
    }

    /// Merges the underfull child `i` with a neighbour, splitting the
    /// result evenly again if it does not fit in one node.
    fn rebalance(children: &mut Vec<Child>, i: usize) {
        let l = if i + 1 < children.len() { i } else { i - 1 };
        let right = children.remove(l + 1);
        let right_sep = right.sep;
        let left = &mut children[l];
        left.len += right.len;
        match (&mut *left.node, *right.node) {
            (Node::Leaf(a), Node::Leaf(b)) => {
                a.extend(b);
                if a.len() > CAP {
                    let mid = a.len() / 2;
                    let mut r = Vec::with_capacity(CAP);
                    r.extend(a.drain(mid..));
                    a.shrink_to(CAP);
                    let len = r.len();
                    left.len -= len;
                    let sep = r[0].clone();
                    children.insert(
                        l + 1,
                        Child {
                            sep,
                            len,
                            node: Box::new(Node::Leaf(r)),
                        },
                    );
                }
            }
            (Node::Inner(a), Node::Inner(mut b)) => {
                // The right node's first child inherits the separator that
                // routed to the right node as a whole.
                if let Some(first) = b.first_mut() {
                    first.sep = right_sep;
                }
                a.extend(b);
                if a.len() > CAP {
                    let mid = a.len() / 2;
                    let mut r = Vec::with_capacity(CAP + 1);
                    r.extend(a.drain(mid..));
                    let len: usize = r.iter().map(|c| c.len).sum();
                    left.len -= len;
                    let sep = r[0].sep.clone();
                    children.insert(
                        l + 1,
                        Child {
                            sep,
                            len,
                            node: Box::new(Node::Inner(r)),
                        },
                    );
                }
            }
            // All leaves are at the same depth, so siblings have one kind.
            (_, other) => {
                debug_assert!(false, "siblings of different kinds");
                drop(other);
            }
        }
    }

    /// Elements for which `pred` holds, `pred` being true on a prefix of
    /// the order.
    fn count_before(&self, pred: &dyn Fn(&Item) -> bool) -> usize {
        let mut node = self;
        let mut acc = 0;
        loop {
            match node {
                Node::Leaf(v) => return acc + v.partition_point(pred),
                Node::Inner(children) => {
                    let k = children[1..].partition_point(|c| pred(&c.sep));
                    acc += children[..k].iter().map(|c| c.len).sum::<usize>();
                    node = &children[k].node;
                }
            }
        }
    }

    fn select(&self, mut i: usize) -> Option<&Item> {
        let mut node = self;
        loop {
            match node {
                Node::Leaf(v) => return v.get(i),
                Node::Inner(children) => {
                    let mut next = None;
                    for c in children {
                        if i < c.len {
                            next = Some(&c.node);
                            break;
                        }
                        i -= c.len;
                    }
                    node = next?;
                }
            }
        }
    }

    /// Calls `f` on elements `start..end` (ranks within this subtree), in
    /// order or in reverse.
    fn walk<'a>(&'a self, start: usize, end: usize, rev: bool, f: &mut dyn FnMut(&'a Item)) {
        match self {
            Node::Leaf(v) => {
                let end = end.min(v.len());
                if start >= end {
                    return;
                }
                if rev {
                    v[start..end].iter().rev().for_each(f);
                } else {
                    v[start..end].iter().for_each(f);
                }
            }
            Node::Inner(children) => {
                let mut offsets = Vec::with_capacity(children.len());
                let mut at = 0;
                for c in children {
                    offsets.push(at);
                    at += c.len;
                }
                let visit = |j: usize, f: &mut dyn FnMut(&'a Item)| {
                    let (lo, len) = (offsets[j], children[j].len);
                    if lo + len <= start || lo >= end {
                        return;
                    }
                    let s = start.saturating_sub(lo);
                    let e = (end - lo).min(len);
                    children[j].node.walk(s, e, rev, f);
                };
                if rev {
                    for j in (0..children.len()).rev() {
                        visit(j, f);
                    }
                } else {
                    for j in 0..children.len() {
                        visit(j, f);
                    }
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Node::Leaf(v) => {
                v.capacity() * std::mem::size_of::<Item>()
                    + v.iter()
                        .map(|x| x.member.heap_ptr().map_or(0, |_| x.member().len()))
                        .sum::<usize>()
            }
            Node::Inner(c) => {
                c.capacity() * std::mem::size_of::<Child>()
                    + c.iter()
                        .map(|c| std::mem::size_of::<Node>() + c.node.heap_bytes())
                        .sum::<usize>()
            }
        }
    }
}

#[inline]
fn less_key(score: f64, member: &[u8], b: &Item) -> bool {
    cmp(score, member, b.score, b.member()) == Ordering::Less
}

/// The ordered index of the `skiplist` encoding.
#[derive(Clone, Debug)]
struct Tree {
    root: Node,
    len: usize,
}

impl Tree {
    fn new() -> Self {
        Tree {
            root: Node::Leaf(Vec::with_capacity(CAP)),
            len: 0,
        }
    }

    fn insert(&mut self, item: Item) {
        self.len += 1;
        if let Some((sep, right)) = self.root.insert(item) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            let left_len = left.count();
            let right_len = right.count();
            let mut children = Vec::with_capacity(CAP + 1);
            children.push(Child {
                sep: sep.clone(),
                len: left_len,
                node: Box::new(left),
            });
            children.push(Child {
                sep,
                len: right_len,
                node: Box::new(right),
            });
            self.root = Node::Inner(children);
        }
    }

    fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        if !self.root.remove(score, member) {
            return false;
        }
        self.len -= 1;
        // Shrink the height when the root is down to one child.
        loop {
            let only = match &mut self.root {
                Node::Inner(c) if c.len() == 1 => c.pop(),
                _ => None,
            };
            match only {
                Some(c) => self.root = *c.node,
                None => break,
            }
        }
        true
    }
}

// ---------------------------------------------------------------------------
// The value.

/// A score as the `listpack` encoding keeps it: Valkey writes listpack
/// scores as text where -0 becomes "0", so a negative zero does not
/// survive there (it does in `skiplist`).
#[inline]
fn lp_score(s: f64) -> f64 {
    if s == 0.0 {
        0.0
    } else {
        s
    }
}

struct Big {
    dict: Dict<f64>,
    tree: Tree,
}

impl std::fmt::Debug for Big {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The dict holds the same elements as the tree.
        f.debug_struct("Big").field("tree", &self.tree).finish()
    }
}

impl Clone for Big {
    fn clone(&self) -> Self {
        // The dict is rebuilt from the tree (it has no Clone of its own).
        let mut dict = Dict::new();
        self.tree.root.walk(0, self.tree.len, false, &mut |x| {
            dict.insert_new(x.member(), x.score)
        });
        Big {
            dict,
            tree: self.tree.clone(),
        }
    }
}

#[derive(Clone, Debug)]
enum Repr {
    Listpack(Vec<Item>),
    Skiplist(Box<Big>),
}

/// A zset value.
#[derive(Clone, Debug)]
pub struct ZSet {
    repr: Repr,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet {
            repr: Repr::Listpack(Vec::new()),
        }
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.0 == b.0 && a.1 == b.1)
    }
}

impl ZSet {
    /// An empty set with the encoding Valkey's `zsetTypeCreate` picks for
    /// `size_hint` elements whose longest member is `value_hint` bytes.
    pub fn with_hint(size_hint: usize, value_hint: usize, limits: Limits) -> Self {
        if size_hint <= limits.entries && value_hint <= limits.value {
            ZSet {
                repr: Repr::Listpack(Vec::with_capacity(size_hint.min(limits.entries))),
            }
        } else {
            ZSet {
                repr: Repr::Skiplist(Box::new(Big {
                    dict: Dict::new(),
                    tree: Tree::new(),
                })),
            }
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(v) => v.len(),
            Repr::Skiplist(b) => b.tree.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Skiplist(_) => "skiplist",
        }
    }

    /// Rough cost of dropping (elements to free), for lazy free.
    pub fn free_effort(&self) -> usize {
        match &self.repr {
            // One allocation, plus long members.
            Repr::Listpack(_) => 1,
            Repr::Skiplist(b) => b.tree.len,
        }
    }

    /// Heap bytes owned, for MEMORY USAGE.
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Listpack(v) => {
                v.capacity() * std::mem::size_of::<Item>()
                    + v.iter()
                        .map(|x| x.member.heap_ptr().map_or(0, |_| x.member().len()))
                        .sum::<usize>()
            }
            Repr::Skiplist(b) => {
                // Dict: a node (key, score, link) per element and a bucket
                // slot per element (the table is kept near full).
                let node = std::mem::size_of::<Bytes24>() + 16;
                std::mem::size_of::<Big>()
                    + b.tree.root.heap_bytes()
                    + b.dict.buckets() * 8
                    + b.tree.len * node
            }
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Listpack(v) => v.iter().find(|x| x.member() == member).map(|x| x.score),
            Repr::Skiplist(b) => b.dict.get(member).copied(),
        }
    }

    /// Converts to `skiplist` (keeping the elements).
    fn convert_to_skiplist(&mut self) {
        if let Repr::Listpack(v) = &mut self.repr {
            let v = std::mem::take(v);
            let mut big = Big {
                dict: Dict::new(),
                tree: Tree::new(),
            };
            for x in v {
                big.dict.insert_new(x.member(), x.score);
                big.tree.insert(x);
            }
            self.repr = Repr::Skiplist(Box::new(big));
        }
    }

    /// Converts a `skiplist` set back to `listpack` when it fits the limits
    /// (Valkey does this for the results of ZUNIONSTORE & co and
    /// ZRANGESTORE, never after removals).
    pub fn shrink_if_fits(&mut self, limits: Limits) {
        if let Repr::Skiplist(b) = &self.repr {
            if b.tree.len > limits.entries {
                return;
            }
            let mut maxlen = 0;
            let mut v = Vec::with_capacity(b.tree.len);
            b.tree.root.walk(0, b.tree.len, false, &mut |x| {
                maxlen = maxlen.max(x.member().len());
                v.push(Item {
                    score: lp_score(x.score),
                    member: x.member.clone(),
                });
            });
            if maxlen <= limits.value {
                self.repr = Repr::Listpack(v);
            }
        }
    }

    /// Converts a `listpack` set to `skiplist` ahead of a write that adds
    /// up to `size_hint` elements with members up to `value_hint` bytes,
    /// as Valkey's ZADD does (the hint alone is compared, not the sum).
    pub fn maybe_convert(&mut self, size_hint: usize, value_hint: usize, limits: Limits) {
        if matches!(self.repr, Repr::Listpack(_))
            && (size_hint > limits.entries || value_hint > limits.value)
        {
            self.convert_to_skiplist();
        }
    }

    /// Adds a member known to be absent, converting to `skiplist` when the
    /// set outgrows the limits.
    pub fn insert_new(&mut self, member: &[u8], score: f64, limits: Limits) {
        if let Repr::Listpack(v) = &self.repr {
            if v.len() + 1 > limits.entries || member.len() > limits.value {
                self.convert_to_skiplist();
            }
        }
        match &mut self.repr {
            Repr::Listpack(v) => {
                let score = lp_score(score);
                let idx = v.partition_point(|x| less(x, score, member));
                v.insert(idx, Item::new(score, member));
            }
            Repr::Skiplist(b) => {
                b.dict.insert_new(member, score);
                b.tree.insert(Item::new(score, member));
            }
        }
    }

    /// Changes the score of a present member from `old` to `new`.
    pub fn update(&mut self, member: &[u8], old: f64, new: f64) {
        match &mut self.repr {
            Repr::Listpack(v) => {
                let Some(i) = v.iter().position(|x| x.member() == member) else {
                    return;
                };
                let mut item = v.remove(i);
                let new = lp_score(new);
                item.score = new;
                let idx = v.partition_point(|x| less(x, new, member));
                v.insert(idx, item);
            }
            Repr::Skiplist(b) => {
                if let Some(s) = b.dict.get_mut(member) {
                    *s = new;
                }
                b.tree.remove(old, member);
                b.tree.insert(Item::new(new, member));
            }
        }
    }

    /// Adds or updates; returns the previous score.
    pub fn set(&mut self, member: &[u8], score: f64, limits: Limits) -> Option<f64> {
        match self.score(member) {
            Some(old) => {
                if old != score || old.to_bits() != score.to_bits() {
                    self.update(member, old, score);
                }
                Some(old)
            }
            None => {
                self.insert_new(member, score, limits);
                None
            }
        }
    }

    /// Removes a member; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.repr {
            Repr::Listpack(v) => {
                let i = v.iter().position(|x| x.member() == member)?;
                Some(v.remove(i).score)
            }
            Repr::Skiplist(b) => {
                let (_, score) = b.dict.remove(member)?;
                b.tree.remove(score, member);
                Some(score)
            }
        }
    }

    /// 0-based rank (ascending) and score of a member.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match &self.repr {
            Repr::Listpack(v) => v
                .iter()
                .position(|x| x.member() == member)
                .map(|i| (i, v[i].score)),
            Repr::Skiplist(b) => {
                let score = *b.dict.get(member)?;
                let r = b.tree.root.count_before(&|x| less(x, score, member));
                Some((r, score))
            }
        }
    }

    /// The element at rank `i` (ascending).
    pub fn get(&self, i: usize) -> Option<(&[u8], f64)> {
        let x = match &self.repr {
            Repr::Listpack(v) => v.get(i)?,
            Repr::Skiplist(b) => b.tree.root.select(i)?,
        };
        Some((x.member(), x.score))
    }

    /// How many elements satisfy `pred(score, member)`, which must hold on
    /// a prefix of the order (a range's lower or upper bound).
    pub fn count_before(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let p = |x: &Item| pred(x.score, x.member());
        match &self.repr {
            Repr::Listpack(v) => v.partition_point(p),
            Repr::Skiplist(b) => b.tree.root.count_before(&p),
        }
    }

    /// Calls `f(member, score)` on ranks `start..end`, ascending, or
    /// descending from `end - 1` when `rev`.
    pub fn for_range<'a>(
        &'a self,
        start: usize,
        end: usize,
        rev: bool,
        mut f: impl FnMut(&'a [u8], f64),
    ) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        let mut g = |x: &'a Item| f(x.member(), x.score);
        match &self.repr {
            Repr::Listpack(v) => {
                if rev {
                    v[start..end].iter().rev().for_each(g);
                } else {
                    v[start..end].iter().for_each(g);
                }
            }
            Repr::Skiplist(b) => b.tree.root.walk(start, end, rev, &mut g),
        }
    }

    /// Owned copies of ranks `start..end` (for commands that then modify).
    pub fn collect_range(&self, start: usize, end: usize, rev: bool) -> Vec<(Vec<u8>, f64)> {
        let mut out = Vec::with_capacity(end.saturating_sub(start).min(self.len()));
        self.for_range(start, end, rev, |m, s| out.push((m.to_vec(), s)));
        out
    }

    /// Every element in order, as (member, score): for SORT and friends.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        let n = self.len();
        let mut i = 0;
        // Leaf-at-a-time would be faster for the tree; select per element
        // keeps this simple and is O(log n) each.
        std::iter::from_fn(move || {
            if i >= n {
                return None;
            }
            i += 1;
            self.get(i - 1)
        })
    }

    /// One ZSCAN step: `skiplist` sets walk the member dict by cursor;
    /// `listpack` sets return everything at once with cursor 0, as Valkey.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Listpack(v) => {
                v.iter().for_each(|x| f(x.member(), x.score));
                0
            }
            Repr::Skiplist(b) => b.dict.scan(cursor, |k, s| f(k.as_slice(), *s)),
        }
    }

    /// Longest member length (for the encoding of derived sets).
    pub fn max_member_len(&self) -> usize {
        let mut m = 0;
        self.for_range(0, self.len(), false, |x, _| m = m.max(x.len()));
        m
    }
}

// ---------------------------------------------------------------------------
// Score ranges by value (geo queries): elements with `min <= score < max`
// walked in order without computing ranks or allocating.

impl ZSet {
    /// Calls `f(member, score)` on the elements with `min <= score < max`
    /// in ascending order, until `f` returns false.
    pub fn for_score_range<'a>(
        &'a self,
        min: f64,
        max: f64,
        mut f: impl FnMut(&'a [u8], f64) -> bool,
    ) {
        match &self.repr {
            Repr::Listpack(v) => {
                let start = v.partition_point(|x| x.score < min);
                for x in &v[start..] {
                    if x.score >= max || !f(x.member(), x.score) {
                        return;
                    }
                }
            }
            Repr::Skiplist(b) => {
                b.tree
                    .root
                    .walk_scores(min, max, &mut |x| f(x.member(), x.score));
            }
        }
    }
}

impl Node {
    /// `ZSet::for_score_range` within this subtree; false once the walk
    /// is over (past `max`, or `f` said stop).
    fn walk_scores<'a>(&'a self, min: f64, max: f64, f: &mut dyn FnMut(&'a Item) -> bool) -> bool {
        match self {
            Node::Leaf(v) => {
                let start = v.partition_point(|x| x.score < min);
                for x in &v[start..] {
                    if x.score >= max || !f(x) {
                        return false;
                    }
                }
                true
            }
            Node::Inner(children) => {
                // The last child whose separator is below `min` may still
                // hold elements from `min` on.
                let k = children[1..].partition_point(|c| c.sep.score < min);
                for (j, c) in children.iter().enumerate().skip(k) {
                    if j > k && c.sep.score >= max {
                        return false;
                    }
                    if !c.node.walk_scores(min, max, f) {
                        return false;
                    }
                }
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim(n: usize) -> Limits {
        Limits {
            entries: n,
            value: 64,
        }
    }

    fn check(z: &ZSet) {
        let v: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        assert_eq!(v.len(), z.len());
        for w in v.windows(2) {
            assert_eq!(cmp(w[0].1, &w[0].0, w[1].1, &w[1].0), Ordering::Less);
        }
        for (i, (m, s)) in v.iter().enumerate() {
            assert_eq!(z.rank(m), Some((i, *s)));
            assert_eq!(z.score(m), Some(*s));
        }
        if let Repr::Skiplist(b) = &z.repr {
            assert_eq!(b.dict.len(), b.tree.len);
            assert_eq!(b.tree.root.count(), b.tree.len);
        }
    }

    #[test]
    fn tree_against_model() {
        let mut rng = crate::util::rng::Rng::new(7);
        let mut z = ZSet::with_hint(0, 0, lim(0));
        let mut model: std::collections::BTreeMap<Vec<u8>, f64> = Default::default();
        for step in 0..20_000 {
            let m = format!("m{}", rng.below(3000)).into_bytes();
            let op = rng.below(10);
            if op < 6 {
                let s = (rng.below(500) as f64) - 250.0;
                let old = z.set(&m, s, lim(0));
                assert_eq!(old, model.insert(m.clone(), s));
            } else {
                assert_eq!(z.remove(&m), model.remove(&m));
            }
            if step % 2000 == 0 {
                check(&z);
            }
        }
        check(&z);
        assert_eq!(z.len(), model.len());
        // Range bounds: elements with score < 0.
        let n = model.values().filter(|s| **s < 0.0).count();
        assert_eq!(z.count_before(|s, _| s < 0.0), n);
        let c = z.clone();
        assert_eq!(c, z);
        check(&c);
        // Remove everything: the tree shrinks back to one leaf.
        for m in model.keys() {
            assert!(z.remove(m).is_some());
        }
        assert!(z.is_empty());
        if let Repr::Skiplist(b) = &z.repr {
            assert!(matches!(b.tree.root, Node::Leaf(_)));
        }
    }

    #[test]
    fn ascending_and_descending_loads() {
        for rev in [false, true] {
            let mut z = ZSet::with_hint(0, 0, lim(0));
            for i in 0..5000 {
                let s = if rev { -(i as f64) } else { i as f64 };
                z.insert_new(format!("{i}").as_bytes(), s, lim(0));
            }
            check(&z);
            let mut got = Vec::new();
            z.for_range(10, 20, true, |_, s| got.push(s));
            assert_eq!(got.len(), 10);
            assert!(got.windows(2).all(|w| w[0] > w[1]));
        }
    }

    #[test]
    fn conversions() {
        let mut z = ZSet::with_hint(1, 1, lim(2));
        assert_eq!(z.encoding(), "listpack");
        z.insert_new(b"a", 1.0, lim(2));
        z.insert_new(b"b", 2.0, lim(2));
        assert_eq!(z.encoding(), "listpack");
        z.insert_new(b"c", 3.0, lim(2));
        assert_eq!(z.encoding(), "skiplist");
        check(&z);
        z.remove(b"c");
        z.shrink_if_fits(lim(2));
        assert_eq!(z.encoding(), "listpack");
        check(&z);
    }

    #[test]
    fn score_ranges_by_value() {
        for n in [10usize, 5000] {
            let mut z = ZSet::with_hint(0, 0, lim(if n < 100 { 128 } else { 0 }));
            for i in 0..n {
                z.insert_new(
                    format!("m{i}").as_bytes(),
                    (i / 3) as f64,
                    lim(if n < 100 { 128 } else { 0 }),
                );
            }
            for (min, max) in [
                (0.0, 1.0),
                (2.0, 7.5),
                (-5.0, 0.0),
                (100.0, 1e9),
                (3.0, 3.0),
            ] {
                let mut got = Vec::new();
                z.for_score_range(min, max, |m, s| {
                    got.push((m.to_vec(), s));
                    true
                });
                let want: Vec<(Vec<u8>, f64)> = z
                    .iter()
                    .filter(|(_, s)| *s >= min && *s < max)
                    .map(|(m, s)| (m.to_vec(), s))
                    .collect();
                assert_eq!(got, want, "n {n} range {min}..{max}");
            }
            let mut seen = 0;
            z.for_score_range(0.0, 1e9, |_, _| {
                seen += 1;
                seen < 4
            });
            assert_eq!(seen, 4);
        }
    }
}
