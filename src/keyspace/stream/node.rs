//! One stream node: a listpack laid out exactly as Valkey's t_stream.c
//! lays it out, so it is also the node's RDB image.
//!
//! ```text
//! master entry: count | deleted | num-fields | field_1 .. field_N | 0
//! each entry:   flags | ms-diff | seq-diff | num-fields | f1 | v1 .. | lp-count
//!   or, with SAMEFIELDS (the master entry's fields, in order):
//!               flags | ms-diff | seq-diff | v1 .. vN | lp-count
//! ```
//!
//! `count` is the live entries, `deleted` the entries flagged DELETED
//! (they stay in place until their node goes). IDs are stored as
//! differences from the node's master ID (its key in the stream), with
//! wrapping arithmetic as Valkey's unsigned subtraction. `lp-count` is the
//! number of elements of the entry before it, so the node can be walked
//! backwards.

use super::id::StreamId;
use super::listpack as lp;
use crate::keyspace::list::Elem;

pub const FLAG_DELETED: i64 = 1;
pub const FLAG_SAMEFIELDS: i64 = 2;

/// One node's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub lp: Vec<u8>,
}

/// Where the master entry's parts are.
#[derive(Clone, Copy, Debug)]
pub struct Master {
    pub count: i64,
    pub deleted: i64,
    pub num_fields: usize,
    /// Offset of the first master field.
    pub fields_at: usize,
    /// Offset of the first entry (or the end byte).
    pub entries_at: usize,
}

/// An entry read from a node: its ID, flags and where its fields are.
#[derive(Clone, Copy, Debug)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    pub flags: i64,
    lp: &'a [u8],
    /// Offset of the flags element.
    pub at: usize,
    /// Offset just past the entry (its lp-count included).
    pub end: usize,
    num_fields: usize,
    /// Offset of the first field name: the master's for SAMEFIELDS.
    fields_at: usize,
    /// Offset of the first value (SAMEFIELDS) or first field (otherwise).
    values_at: usize,
}

impl<'a> EntryRef<'a> {
    pub fn num_fields(&self) -> usize {
        self.num_fields
    }

    pub fn is_deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }

    /// The field-value pairs, in order.
    pub fn fields(&self) -> Fields<'a> {
        Fields {
            lp: self.lp,
            same: self.flags & FLAG_SAMEFIELDS != 0,
            field: self.fields_at,
            value: self.values_at,
            left: self.num_fields,
        }
    }
}

/// Iterator over an entry's field-value pairs.
pub struct Fields<'a> {
    lp: &'a [u8],
    same: bool,
    field: usize,
    value: usize,
    left: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (Elem<'a>, Elem<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        if self.same {
            let (f, nf) = lp::get(self.lp, self.field);
            let (v, nv) = lp::get(self.lp, self.value);
            self.field = nf;
            self.value = nv;
            Some((f, v))
        } else {
            let (f, nf) = lp::get(self.lp, self.value);
            let (v, nv) = lp::get(self.lp, nf);
            self.value = nv;
            Some((f, v))
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// Valkey's prealloc for a new node (`STREAM_LISTPACK_MAX_PRE_ALLOCATE`).
pub const PREALLOC: usize = 4096;

impl Node {
    /// A node whose master entry takes the fields of its first entry
    /// (`fv` is field, value, field, value...); the entry is added next
    /// by `append`, which counts it.
    pub fn new(fv: &[&[u8]], prealloc: usize) -> Node {
        let mut bytes = lp::new(prealloc);
        let nf = fv.len() / 2;
        lp::append(
            &mut bytes,
            [Elem::Int(0), Elem::Int(0), Elem::Int(nf as i64)],
        );
        lp::append(&mut bytes, fv.iter().step_by(2).map(|f| lp::elem_of(f)));
        lp::append(&mut bytes, [Elem::Int(0)]);
        Node { lp: bytes }
    }

    pub fn master(&self) -> Master {
        let (count, p) = lp::get_int(&self.lp, lp::first());
        let (deleted, p) = lp::get_int(&self.lp, p);
        let (nf, fields_at) = lp::get_int(&self.lp, p);
        let nf = nf.max(0) as usize;
        let mut p = fields_at;
        for _ in 0..nf {
            p = lp::get(&self.lp, p).1;
        }
        // The master terminator.
        let entries_at = lp::get(&self.lp, p).1;
        Master {
            count,
            deleted,
            num_fields: nf,
            fields_at,
            entries_at,
        }
    }

    /// Live plus deleted entries.
    pub fn total_entries(&self) -> i64 {
        let m = self.master_counts();
        m.0 + m.1
    }

    /// `(count, deleted)` without walking the master fields.
    pub fn master_counts(&self) -> (i64, i64) {
        let (count, p) = lp::get_int(&self.lp, lp::first());
        let (deleted, _) = lp::get_int(&self.lp, p);
        (count, deleted)
    }

    /// Appends an entry with ID `id` (the node's master ID is `master_id`),
    /// compressing its fields when they are the master's, and counts it.
    pub fn append(&mut self, master_id: StreamId, id: StreamId, fv: &[&[u8]]) {
        let m = self.master();
        let nf = fv.len() / 2;
        let mut same = nf == m.num_fields;
        if same {
            let mut p = m.fields_at;
            for f in fv.iter().step_by(2) {
                let (e, next) = lp::get(&self.lp, p);
                if e != lp::elem_of(f) {
                    same = false;
                    break;
                }
                p = next;
            }
        }
        lp::replace_int(&mut self.lp, lp::first(), m.count + 1);
        let flags = if same { FLAG_SAMEFIELDS } else { 0 };
        let ms_diff = id.ms.wrapping_sub(master_id.ms) as i64;
        let seq_diff = id.seq.wrapping_sub(master_id.seq) as i64;
        lp::append(
            &mut self.lp,
            [Elem::Int(flags), Elem::Int(ms_diff), Elem::Int(seq_diff)],
        );
        let lp_count = if same {
            lp::append(
                &mut self.lp,
                fv.iter().skip(1).step_by(2).map(|v| lp::elem_of(v)),
            );
            nf + 3
        } else {
            lp::append(&mut self.lp, [Elem::Int(nf as i64)]);
            lp::append(&mut self.lp, fv.iter().map(|x| lp::elem_of(x)));
            nf * 2 + 4
        };
        lp::append(&mut self.lp, [Elem::Int(lp_count as i64)]);
    }

    /// The entry whose flags are at `p` (not the end byte).
    pub fn entry_at(&self, master_id: StreamId, m: &Master, p: usize) -> EntryRef<'_> {
        let (flags, q) = lp::get_int(&self.lp, p);
        let (ms_diff, q) = lp::get_int(&self.lp, q);
        let (seq_diff, q) = lp::get_int(&self.lp, q);
        let id = StreamId::new(
            master_id.ms.wrapping_add(ms_diff as u64),
            master_id.seq.wrapping_add(seq_diff as u64),
        );
        let (num_fields, fields_at, values_at, mut q) = if flags & FLAG_SAMEFIELDS != 0 {
            (m.num_fields, m.fields_at, q, q)
        } else {
            let (nf, q) = lp::get_int(&self.lp, q);
            (nf.max(0) as usize, q, q, q)
        };
        let skip = if flags & FLAG_SAMEFIELDS != 0 {
            num_fields
        } else {
            num_fields * 2
        };
        for _ in 0..skip {
            q = lp::get(&self.lp, q).1;
        }
        // lp-count.
        let end = lp::get(&self.lp, q).1;
        EntryRef {
            id,
            flags,
            lp: &self.lp,
            at: p,
            end,
            num_fields,
            fields_at,
            values_at,
        }
    }

    /// Offset of the flags of the entry that ends just before `end`
    /// (`end` is an entry's flags or the end byte; not the first entry).
    pub fn entry_before(&self, end: usize) -> usize {
        let count_at = lp::prev(&self.lp, end);
        let (n, _) = lp::get_int(&self.lp, count_at);
        let mut p = count_at;
        for _ in 0..n.max(0) {
            p = lp::prev(&self.lp, p);
        }
        p
    }

    /// Offset of the end byte.
    pub fn end(&self) -> usize {
        self.lp.len() - 1
    }

    /// Flags the entry at `at` deleted and updates the master counters.
    /// Returns the live count left.
    pub fn mark_deleted(&mut self, at: usize, flags: i64) -> i64 {
        // Flags are 0..3: one byte whatever the value, so `at` stays put.
        lp::replace_int(&mut self.lp, at, flags | FLAG_DELETED);
        let (count, deleted) = self.master_counts();
        self.set_counts(count - 1, deleted + 1);
        count - 1
    }

    pub fn set_counts(&mut self, count: i64, deleted: i64) {
        let p = lp::replace_int(&mut self.lp, lp::first(), count);
        lp::replace_int(&mut self.lp, p, deleted);
    }

    /// The ID of the first or last entry, deleted or not (Valkey's
    /// `lpGetEdgeStreamID`).
    pub fn edge_id(&self, master_id: StreamId, last: bool) -> Option<StreamId> {
        let m = self.master();
        let at = if last {
            if m.entries_at == self.end() {
                return None;
            }
            self.entry_before(self.end())
        } else {
            m.entries_at
        };
        if lp::is_end(&self.lp, at) {
            return None;
        }
        Some(self.entry_at(master_id, &m, at).id)
    }

    /// Heap bytes (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        self.lp.capacity()
    }
}

/// Checks a node loaded from RDB or RESTORE against the stream layout
/// (Valkey's `streamValidateListpackIntegrity` deep check): `elems` are
/// its elements as `persist::compact::listpack` parsed them. Checks the
/// master entry, each entry's shape, flags and lp-count, that IDs grow
/// from `master_id` and stay below `next_master` when given, and that the
/// counters match. Returns the live and deleted counts and the last ID.
pub fn validate(elems: &[Elem<'_>], master_id: StreamId) -> Result<(i64, i64, StreamId), String> {
    let int = |i: usize, what: &str| -> Result<i64, String> {
        match elems.get(i) {
            Some(Elem::Int(n)) => Ok(*n),
            Some(Elem::Bytes(_)) => Err(format!("stream node {what} is not an integer")),
            None => Err(format!("stream node ends before its {what}")),
        }
    };
    let count = int(0, "count")?;
    let deleted = int(1, "deleted count")?;
    let nf = int(2, "master field count")?;
    if count < 0 || deleted < 0 || nf < 0 {
        return Err("stream node with a negative counter".into());
    }
    let nf = nf as usize;
    let mut i = 3usize
        .checked_add(nf)
        .filter(|&i| i < elems.len())
        .ok_or("stream node master entry cut short")?;
    if int(i, "master terminator")? != 0 {
        return Err("stream node master entry not terminated by 0".into());
    }
    i += 1;
    let (mut live, mut dead) = (0i64, 0i64);
    let mut last: Option<StreamId> = None;
    while i < elems.len() {
        let start = i;
        let flags = int(i, "entry flags")?;
        if !(0..=3).contains(&flags) {
            return Err(format!("stream entry flags {flags}"));
        }
        let ms = int(i + 1, "entry ms")?;
        let seq = int(i + 2, "entry seq")?;
        let id = StreamId::new(
            master_id.ms.wrapping_add(ms as u64),
            master_id.seq.wrapping_add(seq as u64),
        );
        if id < master_id || last.is_some_and(|l| id <= l) {
            return Err(format!("stream entry ID {id} out of order"));
        }
        last = Some(id);
        i += 3;
        if flags & FLAG_SAMEFIELDS != 0 {
            i += nf;
        } else {
            let n = int(i, "entry field count")?;
            if n < 0 || n as u64 > elems.len() as u64 {
                return Err("stream entry field count out of range".into());
            }
            i += 1 + 2 * n as usize;
        }
        let lp_count = int(i, "entry lp-count")?;
        if lp_count != (i - start) as i64 {
            return Err("stream entry lp-count does not match".into());
        }
        i += 1;
        if flags & FLAG_DELETED != 0 {
            dead += 1;
        } else {
            live += 1;
        }
    }
    if i != elems.len() {
        return Err("stream node entry cut short".into());
    }
    if live != count || dead != deleted {
        return Err("stream node counters do not match its entries".into());
    }
    let last = last.ok_or("stream node without entries")?;
    Ok((live, dead, last))
}
