//! The consumer-group commands' view of a stream value: its groups
//! (created on first use), the counters the lag arithmetic reads, and the
//! entries they reply, in Valkey's `[id, [field, value, ...]]` form.

use std::sync::Arc;

use crate::keyspace::list::Elem;
use crate::keyspace::stream::cgroup::{Groups, StreamMeta};
pub use crate::keyspace::stream::Stream;
use crate::keyspace::stream::StreamId;
use crate::keyspace::Value;
use crate::resp::ReplyBuf;

use super::cg_util::reply_id;

#[inline]
pub fn as_stream(v: crate::keyspace::View<'_>) -> Option<&Stream> {
    match v.stored()? {
        Value::Stream(s) => Some(s),
        _ => None,
    }
}

#[inline]
pub fn as_stream_mut(v: &mut Value) -> Option<&mut Stream> {
    match v {
        Value::Stream(s) => Some(s),
        _ => None,
    }
}

/// A new empty stream value (XGROUP CREATE ... MKSTREAM).
pub fn new_stream() -> Value {
    Value::Stream(Box::default())
}

#[inline]
pub fn groups(s: &Stream) -> Option<&Groups> {
    s.groups.as_deref()
}

/// The groups, made if the stream has none yet (copied first if a copy
/// of the stream, a snapshot's image, shares them).
pub fn groups_mut(s: &mut Stream) -> &mut Groups {
    Arc::make_mut(s.groups.get_or_insert_with(Arc::default))
}

#[inline]
pub fn groups_mut_existing(s: &mut Stream) -> Option<&mut Groups> {
    s.groups.as_mut().map(Arc::make_mut)
}

pub fn meta(s: &Stream) -> StreamMeta {
    StreamMeta::of(s)
}

/// The last live entry's id (Valkey's streamLastValidID).
pub fn last_valid_id(s: &Stream) -> Option<StreamId> {
    if s.length == 0 {
        return None;
    }
    s.edge_id(true)
}

pub fn entry_exists(s: &Stream, id: StreamId) -> bool {
    s.lookup(id).is_some()
}

#[inline]
fn reply_elem(out: &mut ReplyBuf, e: Elem<'_>) {
    match e {
        Elem::Bytes(b) => out.bulk(b),
        Elem::Int(n) => out.bulk_int(n),
    }
}

fn reply_entry_ref(out: &mut ReplyBuf, e: &crate::keyspace::stream::EntryRef<'_>) {
    out.array(2);
    reply_id(out, e.id);
    out.array(e.num_fields() * 2);
    for (f, v) in e.fields() {
        reply_elem(out, f);
        reply_elem(out, v);
    }
}

/// Replies the live entry `id`; false (nothing written) if there is none.
pub fn reply_entry(out: &mut ReplyBuf, s: &Stream, id: StreamId) -> bool {
    match s.lookup(id) {
        Some(e) => {
            reply_entry_ref(out, &e);
            true
        }
        None => false,
    }
}

/// Replies (as an array) the live entries from `start` on, at most
/// `count` (0: all), and records their ids in `ids`.
pub fn reply_entries_from(
    out: &mut ReplyBuf,
    s: &Stream,
    start: StreamId,
    count: usize,
    ids: &mut Vec<StreamId>,
) {
    let limit = if count == 0 { usize::MAX } else { count };
    // The length comes first: the entries are found once (references
    // into their nodes), then replied.
    let found: Vec<_> = s.range(start, StreamId::MAX, false).take(limit).collect();
    out.array(found.len());
    for e in &found {
        ids.push(e.id);
        reply_entry_ref(out, e);
    }
}
