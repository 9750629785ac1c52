//! Set values: `intset` for small sets of integers, `listpack` for small sets
//! of strings, `hashtable` beyond.
//!
//! The encodings and the moves between them follow Valkey 7.2+ exactly,
//! because `OBJECT ENCODING` shows them and clients and tests look:
//! - a new set is an intset when its first member is an integer and the
//!   number of members given (the "size hint") fits `set-max-intset-entries`,
//!   else a listpack when the hint fits `set-max-listpack-entries`, else a
//!   hashtable;
//! - an intset that grows past its limit becomes a hashtable; one that is
//!   given a string becomes a listpack if the result would still be a valid
//!   small listpack, else a hashtable;
//! - a listpack becomes a hashtable when it would outgrow either limit;
//! - nothing ever converts back (only SPOP's "keep the few" strategy and the
//!   STORE commands build new, small sets).
//!
//! Representations are compact on purpose: the intset keeps its members
//! sorted at the narrowest width (2, 4 or 8 bytes) that holds them all, the
//! listpack is one byte buffer of length-prefixed members in insertion
//! order, and the hashtable is the keyspace `Dict` (so SSCAN has Valkey's
//! reverse-binary cursor guarantee).

use std::borrow::Cow;

use super::dict::Dict;
use super::value::Bytes24;
use crate::util::num::{int_len, parse_i64, push_int};
use crate::util::rng::Rng;

/// Valkey never lets an intset hold more than this, whatever the config.
const INTSET_HARD_MAX: usize = 1 << 30;
/// Valkey's `LISTPACK_MAX_SAFETY_SIZE`: a listpack never grows past 1 GiB.
const LISTPACK_MAX_BYTES: usize = 1 << 30;

/// The conversion thresholds (`set-max-*` config), passed to every change
/// that may convert.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_intset_entries: usize,
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl Limits {
    fn intset_max(&self) -> usize {
        self.max_intset_entries.min(INTSET_HARD_MAX)
    }
}

/// A member as stored: integers of an intset stay integers, so readers
/// reply them with `bulk_int` and never format them twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Member<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl Member<'_> {
    /// The member's bytes (integers in decimal).
    pub fn to_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Member::Int(n) => Cow::Owned(n.to_string().into_bytes()),
            Member::Bytes(b) => Cow::Borrowed(b),
        }
    }

    /// Appends the member's bytes to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Member::Int(n) => push_int(out, *n),
            Member::Bytes(b) => out.extend_from_slice(b),
        }
    }

    /// The integer value, if the member is one (strictly formatted).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Member::Int(n) => Some(*n),
            Member::Bytes(b) => parse_i64(b),
        }
    }

    pub fn to_owned(&self) -> Elem {
        match self {
            Member::Int(n) => Elem::Int(*n),
            Member::Bytes(b) => Elem::Bytes(Bytes24::new(b)),
        }
    }
}

/// An owned member (popped, or collected for a reply); short strings inline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Elem {
    Int(i64),
    Bytes(Bytes24),
}

impl Elem {
    pub fn as_member(&self) -> Member<'_> {
        match self {
            Elem::Int(n) => Member::Int(*n),
            Elem::Bytes(b) => Member::Bytes(b.as_slice()),
        }
    }
}

// ---------------------------------------------------------------------------
// intset: sorted integers at the narrowest width holding them all.

#[derive(Clone, Debug, PartialEq, Eq)]
struct IntSet {
    /// Bytes per member: 2, 4 or 8.
    width: u8,
    /// Little-endian members, ascending.
    data: Vec<u8>,
}

fn width_of(v: i64) -> u8 {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

impl IntSet {
    fn new() -> Self {
        IntSet {
            width: 2,
            data: Vec::new(),
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.data.len() / self.width as usize
    }

    #[inline]
    fn get(&self, i: usize) -> i64 {
        let w = self.width as usize;
        let b = &self.data[i * w..i * w + w];
        match w {
            2 => i16::from_le_bytes([b[0], b[1]]) as i64,
            4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            _ => {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                i64::from_le_bytes(a)
            }
        }
    }

    fn encode(v: i64, w: u8) -> ([u8; 8], usize) {
        let b = v.to_le_bytes();
        // Little-endian: the low bytes are the narrow form (sign included,
        // as the value fits the width).
        (b, w as usize)
    }

    fn search(&self, v: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    fn contains(&self, v: i64) -> bool {
        width_of(v) <= self.width && self.search(v).is_ok()
    }

    /// Re-encodes every member at width `w` (only ever wider).
    fn upgrade(&mut self, w: u8) {
        let n = self.len();
        let mut data = Vec::with_capacity((n + 1) * w as usize);
        for i in 0..n {
            let (b, k) = Self::encode(self.get(i), w);
            data.extend_from_slice(&b[..k]);
        }
        self.data = data;
        self.width = w;
    }

    fn insert(&mut self, v: i64) -> bool {
        let w = width_of(v);
        if w > self.width {
            // A value too wide for the current width is outside its range:
            // not present, and it goes first or last.
            self.upgrade(w);
        }
        let pos = match self.search(v) {
            Ok(_) => return false,
            Err(p) => p,
        };
        let (b, k) = Self::encode(v, self.width);
        // Exact growth: small sets are many, spare capacity would add up.
        self.data.reserve_exact(k);
        let at = pos * k;
        self.data.splice(at..at, b[..k].iter().copied());
        true
    }

    fn remove_at(&mut self, i: usize) {
        let w = self.width as usize;
        self.data.drain(i * w..i * w + w);
    }

    fn remove(&mut self, v: i64) -> bool {
        if width_of(v) > self.width {
            return false;
        }
        match self.search(v) {
            Ok(i) => {
                self.remove_at(i);
                true
            }
            Err(_) => false,
        }
    }

    fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Longest decimal form among the members (sign included): only the
    /// extremes can be longest.
    fn max_digits(&self) -> usize {
        let n = self.len();
        if n == 0 {
            return 0;
        }
        int_len(self.get(0)).max(int_len(self.get(n - 1)))
    }
}

// ---------------------------------------------------------------------------
// listpack: members in insertion order, each a LEB128 length and its bytes.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Pack {
    data: Vec<u8>,
    count: u32,
}

/// Reads the entry at `at`: (member, offset of the next entry).
#[inline]
fn entry(data: &[u8], at: usize) -> (&[u8], usize) {
    let mut len = 0usize;
    let mut shift = 0;
    let mut p = at;
    loop {
        let b = data[p];
        p += 1;
        len |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (&data[p..p + len], p + len)
}

fn push_len(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn len_bytes(mut n: usize) -> usize {
    let mut k = 1;
    while n >= 0x80 {
        n >>= 7;
        k += 1;
    }
    k
}

impl Pack {
    fn len(&self) -> usize {
        self.count as usize
    }

    /// (offset, member) of every entry, in order.
    fn iter(&self) -> impl Iterator<Item = (usize, &[u8])> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            if at >= self.data.len() {
                return None;
            }
            let start = at;
            let (m, next) = entry(&self.data, at);
            at = next;
            Some((start, m))
        })
    }

    fn find(&self, m: &[u8]) -> Option<usize> {
        self.iter().find(|(_, x)| *x == m).map(|(at, _)| at)
    }

    fn push(&mut self, m: &[u8]) {
        self.data.reserve_exact(len_bytes(m.len()) + m.len());
        push_len(&mut self.data, m.len());
        self.data.extend_from_slice(m);
        self.count += 1;
    }

    fn remove_at(&mut self, at: usize) {
        let (_, next) = entry(&self.data, at);
        self.data.drain(at..next);
        self.count -= 1;
    }

    fn nth(&self, i: usize) -> Option<(usize, &[u8])> {
        self.iter().nth(i)
    }
}

// ---------------------------------------------------------------------------

enum Enc {
    Ints(IntSet),
    Pack(Pack),
    /// Boxed: the dict is several words, and most sets are small.
    Table(Box<Dict<()>>),
}

/// A set value.
pub struct Set {
    enc: Enc,
}

impl Default for Set {
    fn default() -> Self {
        Set {
            enc: Enc::Ints(IntSet::new()),
        }
    }
}

impl Clone for Set {
    fn clone(&self) -> Self {
        let enc = match &self.enc {
            Enc::Ints(s) => Enc::Ints(s.clone()),
            Enc::Pack(p) => Enc::Pack(p.clone()),
            Enc::Table(d) => {
                let mut n = Dict::new();
                for (k, _) in d.iter() {
                    n.insert_new(k.as_slice(), ());
                }
                Enc::Table(Box::new(n))
            }
        };
        Set { enc }
    }
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_set();
        for m in self.members().take(64) {
            l.entry(&String::from_utf8_lossy(&m.to_bytes()));
        }
        l.finish()
    }
}

/// Equal members, whatever the encodings.
impl PartialEq for Set {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.members().all(|m| other.contains_member(m))
    }
}

impl Set {
    /// An empty intset: what Valkey's STORE commands start from.
    pub fn new_intset() -> Self {
        Set::default()
    }

    /// An empty hashtable-encoded set (an RDB intset or listpack set
    /// loaded past the `set-max-*` limits).
    pub fn new_hashtable() -> Self {
        Set {
            enc: Enc::Table(Box::default()),
        }
    }

    /// An empty listpack (SPOP's rebuilt set).
    pub fn new_listpack() -> Self {
        Set {
            enc: Enc::Pack(Pack::default()),
        }
    }

    /// An empty set for `hint` members starting with `first`, encoded as
    /// Valkey's `setTypeCreate` picks.
    pub fn create(first: &[u8], hint: usize, lim: &Limits) -> Self {
        if hint <= lim.max_intset_entries && parse_i64(first).is_some() {
            Set::new_intset()
        } else if hint <= lim.max_listpack_entries {
            Set::new_listpack()
        } else {
            Set {
                enc: Enc::Table(Box::default()),
            }
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.enc {
            Enc::Ints(s) => s.len(),
            Enc::Pack(p) => p.len(),
            Enc::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match &self.enc {
            Enc::Ints(_) => "intset",
            Enc::Pack(_) => "listpack",
            Enc::Table(_) => "hashtable",
        }
    }

    /// True for the hashtable encoding (SSCAN cursors are real only there).
    pub fn is_hashtable(&self) -> bool {
        matches!(self.enc, Enc::Table(_))
    }

    /// Rough cost of dropping (allocations to free), for lazy free: one
    /// buffer for the compact encodings, one node per member for the table.
    pub fn free_effort(&self) -> usize {
        match &self.enc {
            Enc::Table(d) => d.len(),
            _ => 1,
        }
    }

    /// Heap bytes owned, for MEMORY USAGE. The table part is estimated from
    /// a sample of members, as Valkey's MEMORY USAGE samples too.
    pub fn heap_bytes(&self) -> usize {
        match &self.enc {
            Enc::Ints(s) => s.data.capacity(),
            Enc::Pack(p) => p.data.capacity(),
            Enc::Table(d) => {
                let node = std::mem::size_of::<Bytes24>() + std::mem::size_of::<usize>();
                let mut sampled = 0;
                let mut out_of_line = 0;
                for (k, _) in d.iter().take(16) {
                    sampled += 1;
                    if k.heap_ptr().is_some() {
                        out_of_line += k.as_slice().len();
                    }
                }
                let per_member = node + out_of_line.checked_div(sampled).unwrap_or(0);
                std::mem::size_of::<Dict<()>>()
                    + d.buckets() * std::mem::size_of::<usize>()
                    + d.len() * per_member
            }
        }
    }

    /// Every member, in the encoding's order (intset: ascending; listpack:
    /// insertion order; hashtable: bucket order).
    pub fn members(&self) -> impl Iterator<Item = Member<'_>> + '_ {
        let (ints, pack, table) = match &self.enc {
            Enc::Ints(s) => (Some(s), None, None),
            Enc::Pack(p) => (None, Some(p), None),
            Enc::Table(d) => (None, None, Some(d)),
        };
        ints.into_iter()
            .flat_map(|s| s.iter().map(Member::Int))
            .chain(
                pack.into_iter()
                    .flat_map(|p| p.iter().map(|(_, m)| Member::Bytes(m))),
            )
            .chain(
                table
                    .into_iter()
                    .flat_map(|d| d.iter().map(|(k, _)| Member::Bytes(k.as_slice()))),
            )
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.enc {
            Enc::Ints(s) => parse_i64(m).is_some_and(|v| s.contains(v)),
            Enc::Pack(p) => p.find(m).is_some(),
            Enc::Table(d) => d.contains_key(m),
        }
    }

    /// `contains` for a member taken from another set (integers compare
    /// without formatting when this set is an intset).
    pub fn contains_member(&self, m: Member<'_>) -> bool {
        match (m, &self.enc) {
            (Member::Int(v), Enc::Ints(s)) => s.contains(v),
            (Member::Int(v), _) => {
                let mut buf = Vec::with_capacity(20);
                push_int(&mut buf, v);
                self.contains(&buf)
            }
            (Member::Bytes(b), _) => self.contains(b),
        }
    }

    fn make_table(&mut self) -> &mut Dict<()> {
        if !matches!(self.enc, Enc::Table(_)) {
            let mut d = Dict::new();
            let mut buf = Vec::new();
            for m in self.members() {
                buf.clear();
                m.write_to(&mut buf);
                d.insert_new(&buf, ());
            }
            self.enc = Enc::Table(Box::new(d));
        }
        match &mut self.enc {
            Enc::Table(d) => d,
            _ => unreachable!("just converted to a table"),
        }
    }

    fn ints_to_pack(&mut self) {
        if let Enc::Ints(s) = &self.enc {
            let mut p = Pack::default();
            let mut buf = Vec::with_capacity(20);
            for v in s.iter() {
                buf.clear();
                push_int(&mut buf, v);
                p.push(&buf);
            }
            self.enc = Enc::Pack(p);
        }
    }

    /// Before adding `hint` members (SADD's argument count, duplicates
    /// included): a small encoding that the hint alone outgrows becomes a
    /// hashtable at once, as Valkey's `setTypeMaybeConvert` does, even if
    /// the members turn out to be few or already there.
    pub fn maybe_convert(&mut self, hint: usize, lim: &Limits) {
        let outgrown = match self.enc {
            Enc::Pack(_) => hint > lim.max_listpack_entries,
            Enc::Ints(_) => hint > lim.max_intset_entries,
            Enc::Table(_) => false,
        };
        if outgrown {
            self.make_table();
        }
    }

    /// Adds a member; false if it was already there. Converts as Valkey's
    /// `setTypeAdd` does.
    pub fn add(&mut self, m: &[u8], lim: &Limits) -> bool {
        match parse_i64(m) {
            Some(v) if matches!(self.enc, Enc::Ints(_)) => self.add_int(v, lim),
            _ => self.add_bytes(m, lim),
        }
    }

    /// `add` for a member taken from another set.
    pub fn add_member(&mut self, m: Member<'_>, lim: &Limits) -> bool {
        match m {
            Member::Int(v) if matches!(self.enc, Enc::Ints(_)) => self.add_int(v, lim),
            Member::Int(v) => {
                let mut buf = Vec::with_capacity(20);
                push_int(&mut buf, v);
                self.add_bytes(&buf, lim)
            }
            Member::Bytes(b) => self.add(b, lim),
        }
    }

    fn add_int(&mut self, v: i64, lim: &Limits) -> bool {
        let Enc::Ints(s) = &mut self.enc else {
            return false;
        };
        if !s.insert(v) {
            return false;
        }
        if s.len() > lim.intset_max() {
            self.make_table();
        }
        true
    }

    /// Adds a member that is not an integer or goes to a non-intset set.
    fn add_bytes(&mut self, m: &[u8], lim: &Limits) -> bool {
        if let Enc::Ints(s) = &self.enc {
            // Not an integer, so not a member. Valkey moves to a listpack
            // only if every member, as a string, would fit its limits.
            let n = s.len();
            let longest = s.max_digits();
            let estimate = n * (longest + 1) + len_bytes(m.len()) + m.len();
            if n < lim.max_listpack_entries
                && m.len() <= lim.max_listpack_value
                && longest <= lim.max_listpack_value
                && estimate <= LISTPACK_MAX_BYTES
            {
                self.ints_to_pack();
            } else {
                self.make_table().insert_new(m, ());
                return true;
            }
        }
        match &mut self.enc {
            Enc::Pack(p) => {
                if p.find(m).is_some() {
                    return false;
                }
                if p.len() < lim.max_listpack_entries
                    && m.len() <= lim.max_listpack_value
                    && p.data.len() + len_bytes(m.len()) + m.len() <= LISTPACK_MAX_BYTES
                {
                    p.push(m);
                } else {
                    self.make_table().insert_new(m, ());
                }
                true
            }
            Enc::Table(d) => {
                if d.contains_key(m) {
                    return false;
                }
                d.insert_new(m, ());
                true
            }
            Enc::Ints(_) => false,
        }
    }

    /// Removes a member; false if it was not there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.enc {
            Enc::Ints(s) => parse_i64(m).is_some_and(|v| s.remove(v)),
            Enc::Pack(p) => match p.find(m) {
                Some(at) => {
                    p.remove_at(at);
                    true
                }
                None => false,
            },
            Enc::Table(d) => d.remove(m).is_some(),
        }
    }

    /// A random member (None when empty).
    pub fn random(&self, rng: &mut Rng) -> Option<Member<'_>> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        match &self.enc {
            Enc::Ints(s) => Some(Member::Int(s.get(rng.below(n)))),
            Enc::Pack(p) => p.nth(rng.below(n)).map(|(_, m)| Member::Bytes(m)),
            Enc::Table(d) => d.random(rng).map(|(k, _)| Member::Bytes(k.as_slice())),
        }
    }

    /// Removes and returns a random member.
    pub fn pop_random(&mut self, rng: &mut Rng) -> Option<Elem> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        match &mut self.enc {
            Enc::Ints(s) => {
                let i = rng.below(n);
                let v = s.get(i);
                s.remove_at(i);
                Some(Elem::Int(v))
            }
            Enc::Pack(p) => {
                let (at, m) = p.nth(rng.below(n))?;
                let e = Elem::Bytes(Bytes24::new(m));
                p.remove_at(at);
                Some(e)
            }
            Enc::Table(d) => {
                let k = d.random(rng)?.0.clone();
                d.remove(k.as_slice());
                Some(Elem::Bytes(k))
            }
        }
    }

    /// Removes `k` distinct random members (k < len) and returns them. The
    /// compact encodings are walked once (selection sampling), so the cost
    /// is O(len) whatever `k`; the table pops one random member at a time.
    pub fn pop_random_many(&mut self, k: usize, rng: &mut Rng) -> Vec<Elem> {
        let n = self.len();
        let k = k.min(n);
        let mut out = Vec::with_capacity(k);
        match &mut self.enc {
            Enc::Ints(s) => {
                let mut kept = IntSet {
                    width: s.width,
                    data: Vec::with_capacity(s.data.len() - k * s.width as usize),
                };
                for (i, v) in s.iter().enumerate() {
                    if rng.below(n - i) < k - out.len() {
                        out.push(Elem::Int(v));
                    } else {
                        let (b, w) = IntSet::encode(v, kept.width);
                        kept.data.extend_from_slice(&b[..w]);
                    }
                }
                *s = kept;
            }
            Enc::Pack(p) => {
                let mut kept = Pack::default();
                for (i, (_, m)) in p.iter().enumerate() {
                    if rng.below(n - i) < k - out.len() {
                        out.push(Elem::Bytes(Bytes24::new(m)));
                    } else {
                        kept.push(m);
                    }
                }
                *p = kept;
            }
            Enc::Table(_) => {
                for _ in 0..k {
                    match self.pop_random(rng) {
                        Some(e) => out.push(e),
                        None => break,
                    }
                }
            }
        }
        out
    }

    /// `k` distinct random members (k < len), without removing them: one
    /// walk with selection sampling (used when k is a large part of len).
    pub fn sample_distinct(&self, k: usize, rng: &mut Rng) -> Vec<Member<'_>> {
        let n = self.len();
        let k = k.min(n);
        let mut out = Vec::with_capacity(k);
        for (i, m) in self.members().enumerate() {
            if out.len() == k {
                break;
            }
            if rng.below(n - i) < k - out.len() {
                out.push(m);
            }
        }
        out
    }

    /// Members as a vector of slices-or-ints, for many random picks by
    /// index (a listpack has no index of its own).
    pub fn to_vec(&self) -> Vec<Member<'_>> {
        self.members().collect()
    }

    /// One SSCAN step over a hashtable set; compact encodings return all
    /// members and cursor 0, as Valkey does.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(Member<'_>)) -> u64 {
        match &self.enc {
            Enc::Table(d) => d.scan(cursor, |k, _| f(Member::Bytes(k.as_slice()))),
            _ => {
                for m in self.members() {
                    f(m);
                }
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        max_intset_entries: 512,
        max_listpack_entries: 128,
        max_listpack_value: 64,
    };

    fn sorted(s: &Set) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = s.members().map(|m| m.to_bytes().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn intset_widths_and_order() {
        let mut s = Set::create(b"1", 1, &LIM);
        for v in [5i64, -3, 70000, -1 << 40, 5, 0] {
            s.add(v.to_string().as_bytes(), &LIM);
        }
        assert_eq!(s.encoding(), "intset");
        let got: Vec<i64> = s.members().filter_map(|m| m.as_int()).collect();
        assert_eq!(got, vec![-1 << 40, -3, 0, 5, 70000]);
        assert!(s.contains(b"70000"));
        assert!(!s.contains(b"070000"));
        assert!(!s.contains(b"9223372036854775807"));
        assert!(s.remove(b"-1099511627776"));
        assert!(!s.remove(b"x"));
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn conversions() {
        let mut s = Set::create(b"1", 1, &LIM);
        s.add(b"1", &LIM);
        s.add(b"x", &LIM);
        assert_eq!(s.encoding(), "listpack");
        assert_eq!(sorted(&s), vec![b"1".to_vec(), b"x".to_vec()]);
        s.add(&[b'y'; 65], &LIM);
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 3);
        assert!(s.contains(b"1"));

        let small = Limits {
            max_intset_entries: 2,
            ..LIM
        };
        let mut s = Set::create(b"1", 1, &small);
        for v in [b"1", b"2", b"3"] {
            s.add(v, &small);
        }
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"2"));
    }

    #[test]
    fn pops_and_samples() {
        let mut rng = Rng::new(7);
        for first in [&b"1"[..], b"a"] {
            let mut s = Set::create(first, 100, &LIM);
            for i in 0..100 {
                let m = if first == b"1" {
                    format!("{i}")
                } else {
                    format!("m{i}")
                };
                s.add(m.as_bytes(), &LIM);
            }
            let before = sorted(&s);
            let popped = s.pop_random_many(30, &mut rng);
            assert_eq!(popped.len(), 30);
            assert_eq!(s.len(), 70);
            let mut all = sorted(&s);
            all.extend(popped.iter().map(|e| e.as_member().to_bytes().into_owned()));
            all.sort();
            assert_eq!(all, before);
            let sample = s.sample_distinct(10, &mut rng);
            assert_eq!(sample.len(), 10);
            assert!(s.pop_random(&mut rng).is_some());
            assert!(s.random(&mut rng).is_some());
        }
    }

    #[test]
    fn clone_and_eq_across_encodings() {
        let mut a = Set::create(b"a", 1, &LIM);
        let mut b = Set::create(b"a", 1000, &LIM);
        for m in [&b"a"[..], b"b", b"1"] {
            a.add(m, &LIM);
            b.add(m, &LIM);
        }
        assert_eq!(a.encoding(), "listpack");
        assert_eq!(b.encoding(), "hashtable");
        assert_eq!(a, b);
        assert_eq!(b.clone(), a);
    }
}
